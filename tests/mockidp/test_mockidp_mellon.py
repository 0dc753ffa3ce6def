"""Interoperability with an SP nobody here wrote: Debian's Apache with mod_auth_mellon, on a
private configuration on a loopback port, started by the test. SP-initiated and IdP-initiated
sign-in reach a protected page; single logout works in both directions."""
import os
import shutil
import signal
import subprocess
import time

import pytest
import requests

from mockidp_harness import MockIdP, cert_b64, free_port, make_keypair, post_form_of

MODULES = "/usr/lib/apache2/modules"
APACHE = shutil.which("apache2") or "/usr/sbin/apache2"
USER = "alice@example.com"

CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
env | grep -E '^(MELLON_|REMOTE_EMAIL=)' | sort
"""


def mellon_metadata(base, cert):
    c = cert_b64(cert)
    kd = ('<KeyDescriptor use="{}"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
          f'<ds:X509Data><ds:X509Certificate>{c}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>'
          '</KeyDescriptor>')
    return (
        '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" '
        f'entityID="{base}/mellon/metadata"><SPSSODescriptor AuthnRequestsSigned="true" '
        'WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        + kd.format("signing") + kd.format("encryption") +
        '<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        f'Location="{base}/mellon/logout"/>'
        '<NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</NameIDFormat>'
        '<AssertionConsumerService index="0" isDefault="true" '
        'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'Location="{base}/mellon/postResponse"/></SPSSODescriptor></EntityDescriptor>')


def httpd_conf(d, port):
    mods = ["mpm_prefork", "authn_core", "authz_core", "authz_user", "auth_mellon", "cgi", "alias", "mime", "dir"]
    loads = "\n".join(f"LoadModule {m}_module {MODULES}/mod_{m}.so" for m in mods)
    return f"""ServerRoot {d}
{loads}
Listen 127.0.0.1:{port}
ServerName 127.0.0.1:{port}
PidFile {d}/httpd.pid
ErrorLog {d}/error.log
LogLevel info auth_mellon:debug
Mutex file:{d} default
TypesConfig /etc/mime.types
DirectoryIndex index.html
DocumentRoot {d}/htdocs
MellonCacheSize 64
MellonLockFile {d}/mellon.lock
ScriptAlias /secret/env {d}/cgi/env.cgi
<Location />
    MellonEnable info
    MellonEndpointPath /mellon
    MellonSPPrivateKeyFile {d}/mellon-key.pem
    MellonSPCertFile {d}/mellon-cert.pem
    MellonSPMetadataFile {d}/mellon-metadata.xml
    MellonIdPMetadataFile {d}/idp-metadata.xml
    MellonSetEnvNoPrefix REMOTE_EMAIL email
</Location>
<Location /secret>
    AuthType Mellon
    MellonEnable auth
    Require valid-user
</Location>
"""


class Mellon:
    def __init__(self, tmp):
        self.dir = str(tmp)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        os.makedirs(os.path.join(self.dir, "htdocs", "secret"))
        os.makedirs(os.path.join(self.dir, "cgi"))
        with open(os.path.join(self.dir, "htdocs", "secret", "index.html"), "w") as f:
            f.write("<p>the protected page</p>\n")
        cgi = os.path.join(self.dir, "cgi", "env.cgi")
        with open(cgi, "w") as f:
            f.write(CGI)
        os.chmod(cgi, 0o755)
        key, cert = make_keypair(self.dir, "mellon")
        self.metadata = os.path.join(self.dir, "mellon-metadata.xml")
        with open(self.metadata, "w") as f:
            f.write(mellon_metadata(self.base, cert))
        self.conf = os.path.join(self.dir, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write(httpd_conf(self.dir, self.port))
        self.proc = None

    def start(self, idp_metadata):
        shutil.copy(idp_metadata, os.path.join(self.dir, "idp-metadata.xml"))
        self.proc = subprocess.Popen([APACHE, "-f", self.conf, "-X"], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "stderr.log"), "wb"))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("apache2 exited at start:\n" + self.log())
            try:
                requests.get(self.base + "/", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("apache2 did not answer:\n" + self.log())

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
        for name in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    out += f.read()
            except OSError:
                pass
        return out


@pytest.fixture
def mellon_and_idp(tmp_path):
    if not os.path.exists(f"{MODULES}/mod_auth_mellon.so") or not os.path.exists(APACHE):
        pytest.fail("apache2 and libapache2-mod-auth-mellon are needed: make test-deps")
    (tmp_path / "apache").mkdir()
    (tmp_path / "idp").mkdir()
    mellon = Mellon(tmp_path / "apache")
    idp = MockIdP(tmp_path / "idp", mellon.metadata, "--auto-login", USER).start()
    try:
        mellon.start(idp.metadata_path)
        yield mellon, idp
    finally:
        mellon.stop()
        rc = idp.stop()
        assert rc in (0, None), idp.read_log()


def to_idp(s, url, mellon, idp, endpoint):
    """Follows mellon's redirects (e.g. through /mellon/login) until one leads to the IdP."""
    for _ in range(5):
        r = s.get(url, allow_redirects=False, timeout=30)
        assert r.status_code in (302, 303), f"{r.status_code} {r.text}\n{mellon.log()}"
        url = r.headers["Location"]
        if url.startswith(idp.url(endpoint)):
            return url
        assert url.startswith(mellon.base), url
    raise AssertionError("mellon never sent the browser to the IdP")


def follow_post_form(s, page, mellon):
    """What the browser does with the IdP's auto-submitting form."""
    assert page.status_code == 200, page.text
    action, fields = post_form_of(page.text)
    assert action == mellon.base + "/mellon/postResponse"
    r = s.post(action, data=fields, allow_redirects=False, timeout=30)
    assert r.status_code in (302, 303), f"{r.status_code} {r.text}\n{mellon.log()}"
    return r


def assert_signed_in(s, mellon):
    r = s.get(mellon.base + "/secret/", allow_redirects=False, timeout=30)
    assert r.status_code == 200 and "the protected page" in r.text, mellon.log()
    env = s.get(mellon.base + "/secret/env", allow_redirects=False, timeout=30).text
    assert "MELLON_NAME_ID=" + USER in env, env
    # MellonSetEnvNoPrefix maps the email attribute; the others keep the MELLON_ prefix.
    assert "REMOTE_EMAIL=" + USER in env and "MELLON_firstName=Alice" in env, env


def test_sp_initiated_sign_in_at_mod_auth_mellon(mellon_and_idp):
    mellon, idp = mellon_and_idp
    s = requests.Session()
    url = to_idp(s, mellon.base + "/secret/", mellon, idp, "/sso?")
    assert "Signature=" in url  # mellon signs its requests; mock-idp verifies them
    r = follow_post_form(s, s.get(url, timeout=30), mellon)
    assert r.headers["Location"] == mellon.base + "/secret/"
    assert_signed_in(s, mellon)


def test_idp_initiated_sign_in_at_mod_auth_mellon(mellon_and_idp):
    mellon, idp = mellon_and_idp
    s = requests.Session()
    page = s.get(idp.url("/start"), params={"user": USER, "relay_state": mellon.base + "/secret/"},
                 timeout=30)
    r = follow_post_form(s, page, mellon)
    assert r.headers["Location"] == mellon.base + "/secret/"
    assert_signed_in(s, mellon)


def test_mellon_refuses_a_faulty_response(mellon_and_idp):
    mellon, idp = mellon_and_idp
    s = requests.Session()
    page = s.get(idp.url("/start"), params={"user": USER, "relay_state": mellon.base + "/secret/",
                                            "wrong_key": "1"}, timeout=30)
    action, fields = post_form_of(page.text)
    r = s.post(action, data=fields, allow_redirects=False, timeout=30)
    assert r.status_code >= 400
    assert s.get(mellon.base + "/secret/", allow_redirects=False, timeout=30).status_code != 200


def test_single_logout_started_at_mellon(mellon_and_idp):
    mellon, idp = mellon_and_idp
    s = requests.Session()
    url = to_idp(s, mellon.base + "/secret/", mellon, idp, "/sso?")
    follow_post_form(s, s.get(url, timeout=30), mellon)
    assert_signed_in(s, mellon)
    url = to_idp(s, mellon.base + "/mellon/logout?ReturnTo=" + mellon.base + "/bye", mellon, idp,
                 "/slo?")
    r = s.get(url, allow_redirects=False, timeout=30)  # mock-idp answers
    assert r.status_code == 303 and r.headers["Location"].startswith(
        mellon.base + "/mellon/logout?SAMLResponse="), r.text
    r = s.get(r.headers["Location"], allow_redirects=False, timeout=30)
    assert r.status_code in (302, 303) and r.headers["Location"] == mellon.base + "/bye", \
        mellon.log()
    assert s.get(mellon.base + "/secret/", allow_redirects=False, timeout=30).status_code in (302,
                                                                                             303)


def test_single_logout_started_at_the_idp(mellon_and_idp):
    mellon, idp = mellon_and_idp
    s = requests.Session()
    url = to_idp(s, mellon.base + "/secret/", mellon, idp, "/sso?")
    follow_post_form(s, s.get(url, timeout=30), mellon)
    r = s.get(idp.url("/logout-sp"), params={"user": USER}, allow_redirects=False, timeout=30)
    assert r.status_code == 303
    assert r.headers["Location"].startswith(mellon.base + "/mellon/logout?SAMLRequest=")
    r = s.get(r.headers["Location"], allow_redirects=False, timeout=30)  # mellon logs out
    assert r.status_code in (302, 303) and r.headers["Location"].startswith(idp.url("/slo?")), \
        mellon.log()
    r = s.get(r.headers["Location"], timeout=30)  # mellon's LogoutResponse back at the IdP
    assert r.status_code == 200 and "status:Success" in r.text, r.text
    assert s.get(mellon.base + "/secret/", allow_redirects=False, timeout=30).status_code in (302,
                                                                                             303)
