"""A private CA and server certificates for 127.0.0.1, made with the openssl CLI (EC P-256:
quick to make), for the TLS tests of tests/e2e and tests/browser."""
import os
import subprocess


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class PKI:
    """A private CA and server certificates for 127.0.0.1 (EC P-256: quick to make)."""

    def __init__(self, tmp):
        self.dir = str(tmp)
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj",
                "/CN=Gatehouse test CA", cwd=self.dir)
        self.ca = os.path.join(self.dir, "ca.pem")
        with open(os.path.join(self.dir, "san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")

    def issue(self, name):
        """(cert, key) paths of a new server certificate signed by the CA."""
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=127.0.0.1",
                cwd=self.dir)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "30", "-extfile", "san.ext",
                cwd=self.dir)
        return os.path.join(self.dir, f"{name}.pem"), os.path.join(self.dir, f"{name}.key")
