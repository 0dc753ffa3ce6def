"""A real SimpleSAMLphp IdP (Debian's simplesamlphp 1.19 with php) on a private Apache on a
loopback port, started by the tests as the mellon tests start Apache: its own configuration
directory (SIMPLESAMLPHP_CONFIG_DIR, set by Apache's SetEnv), its own key, users from
exampleauth:UserPass, Gatehouse's SP metadata read from the XML Gatehouse serves."""
import glob
import os
import shutil
import signal
import socket
import subprocess
import time

import requests

SSP = "/usr/share/simplesamlphp"
MODULES = "/usr/lib/apache2/modules"
APACHE = shutil.which("apache2") or "/usr/sbin/apache2"

EMAIL_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
UNSPECIFIED_FORMAT = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"

USERS = {
    # password, attributes
    "alice": ("alice-pass", {"uid": ["alice"], "email": ["alice@example.com"],
                             "displayName": ["Alice Liddell"], "groups": ["staff", "admins"]}),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def missing():
    """The Debian packages this machine lacks to run the IdP (TEST_DEBS; make test-deps
    installs them), or None. SimpleSAMLphp needs php's DOM, which Debian ships in php-xml (the
    simplesamlphp package does not depend on it)."""
    need = {"apache2": [APACHE], "simplesamlphp": [f"{SSP}/www/saml2/idp/SSOService.php"],
            "libapache2-mod-php": [php_module()],
            "php-xml": glob.glob("/etc/php/*/mods-available/dom.ini")}
    gone = [pkg for pkg, paths in need.items()
            if not paths or not all(p and os.path.exists(p) for p in paths)]
    return " ".join(gone) or None


def php_module():
    found = sorted(glob.glob(f"{MODULES}/libphp*.so"))
    return found[-1] if found else None


def php_array(value, indent=""):
    """value as PHP source (dicts, lists, strings, numbers, booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    inner = indent + "    "
    if isinstance(value, dict):
        items = [f"{inner}{php_array(k)} => {php_array(v, inner)}," for k, v in value.items()]
    else:
        items = [f"{inner}{php_array(v, inner)}," for v in value]
    return "[\n" + "\n".join(items) + f"\n{indent}]"


class SimpleSAMLphp:
    def __init__(self, tmp, sp_metadata_xml):
        self.dir = str(tmp)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}/simplesaml"
        self.entity_id = f"{self.base}/saml2/idp/metadata.php"
        for d in ("config", "metadata", "cert", "log", "data", "tmp", "sessions"):
            os.makedirs(os.path.join(self.dir, d))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        self.path("cert", "idp.key"), "-out", self.path("cert", "idp.crt"),
                        "-days", "30", "-subj", "/CN=simplesamlphp-idp"],
                       check=True, capture_output=True)
        with open(self.path("gatehouse-sp.xml"), "w") as f:
            f.write(sp_metadata_xml)
        self.write_php("config", "config.php", "config", self.config())
        self.write_php("config", "authsources.php", "config", self.authsources())
        self.write_php("metadata", "saml20-idp-hosted.php", "metadata",
                       {"__DYNAMIC:1__": self.idp_hosted()})
        with open(self.path("httpd.conf"), "w") as f:
            f.write(self.httpd_conf())
        self.proc = None

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write_php(self, sub, name, var, value):
        body = "\n".join(f"${var}[{php_array(k)}] = {php_array(v)};" for k, v in value.items())
        with open(self.path(sub, name), "w") as f:
            f.write(f"<?php\n${var} = [];\n{body}\n")

    def config(self):
        return {
            "baseurlpath": self.base + "/",
            "certdir": self.path("cert") + "/",
            "loggingdir": self.path("log") + "/",
            "datadir": self.path("data") + "/",
            "tempdir": self.path("tmp"),
            "metadatadir": self.path("metadata") + "/",
            "attributenamemapdir": "/etc/simplesamlphp/attributemap/",
            "technicalcontact_name": "Gatehouse tests",
            "technicalcontact_email": "tests@example.com",
            "timezone": "UTC",
            "secretsalt": "gatehouse-interop-test-salt",
            "auth.adminpassword": "gatehouse-interop-admin",
            "admin.protectindexpage": False,
            "admin.protectmetadata": False,
            "admin.checkforupdates": False,
            "logging.level": 7,  # SimpleSAML\Logger::DEBUG
            "logging.handler": "file",
            "logging.logfile": "simplesamlphp.log",
            "enable.saml20-idp": True,
            "module.enable": {"exampleauth": True, "core": True, "saml": True},
            "store.type": "phpsession",
            "session.phpsession.savepath": self.path("sessions"),
            "session.cookie.secure": False,
            "language.cookie.secure": False,
            "production": False,
            "metadata.sources": [{"type": "flatfile"},
                                 {"type": "xml", "file": self.path("gatehouse-sp.xml")}],
        }

    def authsources(self):
        users = {f"{name}:{pw}": attrs for name, (pw, attrs) in USERS.items()}
        return {"admin": ["core:AdminPassword"],
                "example-userpass": dict({0: "exampleauth:UserPass"}, **users)}

    def idp_hosted(self):
        return {
            "host": "__DEFAULT__",
            "privatekey": "idp.key",
            "certificate": "idp.crt",
            "auth": "example-userpass",
            "userid.attribute": "uid",
            "sign.logout": True,
            "redirect.sign": True,
            "signature.algorithm": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            # How SimpleSAMLphp names the person per format: the uid when asked for
            # unspecified, the address for emailAddress; persistent is its hash of the uid.
            "authproc": {
                10: {"class": "saml:AttributeNameID", "Format": UNSPECIFIED_FORMAT,
                     "attribute": "uid"},
                11: {"class": "saml:AttributeNameID", "Format": EMAIL_FORMAT,
                     "attribute": "email"},
            },
        }

    def httpd_conf(self):
        mods = ["mpm_prefork", "authz_core", "alias", "mime", "dir", "env"]
        loads = "\n".join(f"LoadModule {m}_module {MODULES}/mod_{m}.so" for m in mods)
        d = self.dir
        return f"""ServerRoot {d}
{loads}
LoadModule php_module {php_module()}
Listen 127.0.0.1:{self.port}
ServerName 127.0.0.1:{self.port}
PidFile {d}/httpd.pid
ErrorLog {d}/error.log
LogLevel info
Mutex file:{d} default
TypesConfig /etc/mime.types
DocumentRoot {d}/htdocs
DirectoryIndex index.php
Alias /simplesaml {SSP}/www
<Directory {SSP}/www>
    Require all granted
    SetEnv SIMPLESAMLPHP_CONFIG_DIR {d}/config
    <FilesMatch "\\.php$">
        SetHandler application/x-httpd-php
    </FilesMatch>
</Directory>
php_admin_value session.save_path {d}/sessions
php_admin_value upload_tmp_dir {d}/tmp
php_admin_value sys_temp_dir {d}/tmp
"""

    def start(self):
        os.makedirs(self.path("htdocs"), exist_ok=True)
        self.proc = subprocess.Popen([APACHE, "-f", self.path("httpd.conf"), "-X"],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.path("stderr.log"), "wb"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("apache2 exited at start:\n" + self.log())
            try:
                r = requests.get(self.entity_id, timeout=20)
                if r.status_code == 200 and "IDPSSODescriptor" in r.text:
                    self.metadata = r.text
                    with open(self.path("idp-metadata.xml"), "w") as f:
                        f.write(r.text)
                    self.metadata_path = self.path("idp-metadata.xml")
                    return self
                if r.status_code >= 500:
                    raise RuntimeError(f"SimpleSAMLphp answered {r.status_code}:\n{r.text}\n"
                                       + self.log())
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("SimpleSAMLphp did not answer:\n" + self.log())

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def log(self):
        out = ""
        for name in ("stderr.log", "error.log", os.path.join("log", "simplesamlphp.log")):
            try:
                with open(self.path(name)) as f:
                    out += f"--- {name}\n" + f.read()[-6000:]
            except OSError:
                pass
        return out
