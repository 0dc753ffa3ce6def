"""Test helpers for metadata served from a URL: a real HTTPS server on loopback with a private CA
(MetadataServer), and a federation operator's key that signs metadata with Debian's xmlsec1
(Signer)."""
import http.server
import os
import ssl
import subprocess
import threading


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class MetadataServer:
    """An HTTPS server on loopback serving whatever self.files holds, with a certificate from a
    private CA made here (Gatehouse trusts it through [sp] metadata_ca_file)."""

    def __init__(self, tmp, tls=True):
        d = str(tmp)
        self.scheme = "https" if tls else "http"
        self.ca = os.path.join(d, "ca.pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                os.path.join(d, "ca-key.pem"), "-out", self.ca, "-days", "30", "-subj",
                "/CN=Metadata Test CA")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", os.path.join(d, "tls-key.pem"),
                "-out", os.path.join(d, "tls.csr"), "-subj", "/CN=127.0.0.1")
        ext = os.path.join(d, "ext.cnf")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", os.path.join(d, "tls.csr"), "-CA", self.ca, "-CAkey",
                os.path.join(d, "ca-key.pem"), "-CAcreateserial", "-out",
                os.path.join(d, "tls.pem"), "-days", "30", "-extfile", ext)
        self.files = {}
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                body = outer.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/samlmetadata+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(d, "tls.pem"), os.path.join(d, "tls-key.pem"))
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Signer:
    """The federation operator's key: signs metadata with Debian's xmlsec1."""

    def __init__(self, tmp, name="signer"):
        self.key = os.path.join(str(tmp), f"{name}-key.pem")
        self.cert = os.path.join(str(tmp), f"{name}-cert.pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.key, "-out",
                self.cert, "-days", "30", "-subj", f"/CN={name}")
        self.tmp = str(tmp)

    def sign(self, xml, extra_root_attrs="", root="md:EntityDescriptor"):
        """xml with an enveloped RSA-SHA256 signature over its root element (Reference URI="")."""
        tmpl = xml.replace(f"<{root} ", f"<{root} {extra_root_attrs} ", 1)
        head_end = tmpl.index(">", tmpl.index(f"<{root}")) + 1
        sig = ('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
               '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
               '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
               '<ds:Reference URI=""><ds:Transforms>'
               '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
               '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
               '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
               '<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>'
               '</ds:Signature>')
        tmpl = tmpl[:head_end] + sig + tmpl[head_end:]
        path = os.path.join(self.tmp, "tmpl.xml")
        with open(path, "w") as f:
            f.write(tmpl)
        return subprocess.run(["xmlsec1", "--sign", "--privkey-pem", f"{self.key},{self.cert}",
                               path], check=True, capture_output=True).stdout
