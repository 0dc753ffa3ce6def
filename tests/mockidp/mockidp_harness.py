"""Helpers for the mock IdP's own tests: an SP identity made at test time (key, certificate,
metadata), `mock-idp mint` and `mock-idp serve` runs, HTTP-Redirect encoding and signing as an SP
does it, and xmlsec1 verification. Keys live in pytest's tmp dirs; nothing of this machine is
committed."""
import base64
import os
import re
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
import zlib
from urllib.parse import parse_qs, quote, urlparse

import pytest
import requests

TOP = os.environ.get("GATEHOUSE_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("GATEHOUSE_BIN_DIR") or os.path.join(TOP, "bin")
MOCK_IDP = os.path.join(BIN, "mock-idp")

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "xenc": "http://www.w3.org/2001/04/xmlenc#",
}
SIG_RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_keypair(tmp, name):
    key, cert = os.path.join(tmp, f"{name}-key.pem"), os.path.join(tmp, f"{name}-cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "30", "-subj", f"/CN={name}"],
                   check=True, capture_output=True)
    return key, cert


def cert_b64(cert_path):
    with open(cert_path) as f:
        return "".join(l for l in f.read().splitlines() if "-----" not in l)


class SP:
    """An SP identity for the tests: entity ID, ACS, SLO, a key pair, its metadata file."""

    def __init__(self, tmp, entity_id="https://sp.test.example/metadata",
                 acs="https://sp.test.example/acs", slo="https://sp.test.example/slo",
                 signs_requests=True, extra_acs=None):
        self.tmp = str(tmp)
        self.entity_id, self.acs, self.slo = entity_id, acs, slo
        self.key, self.cert = make_keypair(self.tmp, "sp")
        c = cert_b64(self.cert)
        kd = ('<md:KeyDescriptor use="{}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>' + c +
              '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>')
        acs_xml = "".join(
            f'<md:AssertionConsumerService index="{i}" isDefault="{"true" if i == 0 else "false"}" '
            f'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{u}"/>'
            for i, u in enumerate([acs] + (extra_acs or [])))
        xml = (
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">'
            f'<md:SPSSODescriptor AuthnRequestsSigned="{"true" if signs_requests else "false"}" '
            'WantAssertionsSigned="true" '
            'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            + kd.format("signing") + kd.format("encryption") +
            '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="{slo}"/>' + acs_xml + '</md:SPSSODescriptor></md:EntityDescriptor>')
        self.metadata = os.path.join(self.tmp, "sp-metadata.xml")
        with open(self.metadata, "w") as f:
            f.write(xml)

    # -- what an SP sends -------------------------------------------------------------------
    def authn_request(self, idp_sso, request_id="_req1", name_id=None, acs=None, issuer=None):
        subject = (f'<saml:Subject><saml:NameID>{name_id}</saml:NameID></saml:Subject>'
                   if name_id else "")
        acs_attr = f' AssertionConsumerServiceURL="{acs}"' if acs else ""
        return (f'<samlp:AuthnRequest xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}" '
                f'ID="{request_id}" Version="2.0" IssueInstant="{iso(time.time())}" '
                f'Destination="{idp_sso}" '
                f'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"{acs_attr}>'
                f'<saml:Issuer>{issuer or self.entity_id}</saml:Issuer>{subject}'
                '<samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>')

    def logout_request(self, idp_slo, name_id, session_index, request_id="_logout1"):
        return (f'<samlp:LogoutRequest xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}" '
                f'ID="{request_id}" Version="2.0" IssueInstant="{iso(time.time())}" '
                f'Destination="{idp_slo}"><saml:Issuer>{self.entity_id}</saml:Issuer>'
                f'<saml:NameID>{name_id}</saml:NameID>'
                f'<samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>')

    def redirect_query(self, xml, relay_state=None, sign=True, key=None, param="SAMLRequest"):
        """The HTTP-Redirect binding's query string (SAML bindings 3.4.4.1)."""
        q = f"{param}=" + quote(deflate_b64(xml), safe="")
        if relay_state is not None:
            q += "&RelayState=" + quote(relay_state, safe="")
        if sign:
            q += "&SigAlg=" + quote(SIG_RSA_SHA256, safe="")
            sig = openssl_sign(key or self.key, q.encode())
            q += "&Signature=" + quote(base64.b64encode(sig).decode(), safe="")
        return q

    def sign_post(self, xml, root="samlp:AuthnRequest"):
        """An enveloped signature over the request, as the HTTP-POST binding carries it."""
        ref = re.search(r'ID="([^"]+)"', xml).group(1)
        tmpl = ('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
                '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
                f'<ds:SignatureMethod Algorithm="{SIG_RSA_SHA256}"/><ds:Reference URI="#{ref}">'
                '<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#'
                'enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/'
                'xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/'
                '2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>'
                '<ds:SignatureValue/></ds:Signature>')
        xml = xml.replace("</saml:Issuer>", "</saml:Issuer>" + tmpl, 1)
        src = os.path.join(self.tmp, "tosign.xml")
        with open(src, "w") as f:
            f.write(xml)
        local = root.split(":")[1]
        return subprocess.run(
            ["xmlsec1", "--sign", "--privkey-pem", self.key, "--id-attr:ID",
             f"urn:oasis:names:tc:SAML:2.0:protocol:{local}", src],
            check=True, capture_output=True).stdout.decode()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def deflate_b64(xml):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(c.compress(xml.encode()) + c.flush()).decode()


def inflate_param(value):
    return zlib.decompress(base64.b64decode(value), -15).decode()


def openssl_sign(key, data):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=data,
                          check=True, capture_output=True).stdout


def openssl_verify(cert, data, sig, tmp):
    pub = os.path.join(tmp, "verify-pub.pem")
    with open(pub, "wb") as f:
        f.write(subprocess.run(["openssl", "x509", "-pubkey", "-noout", "-in", cert],
                               check=True, capture_output=True).stdout)
    sig_path = os.path.join(tmp, "verify.sig")
    with open(sig_path, "wb") as f:
        f.write(sig)
    return subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", sig_path],
                          input=data, capture_output=True).returncode == 0


def verify_redirect_signature(location, cert, tmp):
    """Checks the HTTP-Redirect binding signature of a URL we were sent to."""
    raw = urlparse(location).query
    parts = dict(p.split("=", 1) for p in raw.split("&"))
    keep = [p for p in raw.split("&") if p.split("=", 1)[0] in
            ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg")]
    sig = base64.b64decode(parse_qs(raw)["Signature"][0])
    assert parse_qs(raw)["SigAlg"][0] == SIG_RSA_SHA256
    return openssl_verify(cert, "&".join(keep).encode(), sig, tmp), parts


# -- the IdP's side ----------------------------------------------------------------------------

def run_idp(*args, check=True, env=None):
    p = subprocess.run([MOCK_IDP, *args], capture_output=True, text=True, timeout=60, env=env)
    if check and p.returncode != 0:
        raise AssertionError(f"mock-idp {' '.join(args)} failed ({p.returncode}): {p.stderr}")
    return p


def metadata_cert(metadata_xml, tmp):
    """The signing certificate of the IdP's metadata, as a PEM file."""
    root = ET.fromstring(metadata_xml)
    b64 = root.find(".//md:IDPSSODescriptor/md:KeyDescriptor[@use='signing']//ds:X509Certificate",
                    NS).text.strip()
    path = os.path.join(str(tmp), "idp-metadata-cert.pem")
    body = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    with open(path, "w") as f:
        f.write(f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
    return path


def xmlsec_verify(xml, cert, tmp, node_xpath=None):
    """xmlsec1 --verify against cert, with the SAML ID attributes registered. True when valid."""
    path = os.path.join(str(tmp), "to-verify.xml")
    with open(path, "wb") as f:
        f.write(xml if isinstance(xml, bytes) else xml.encode())
    cmd = ["xmlsec1", "--verify", "--pubkey-cert-pem", cert,
           "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
           "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response"]
    if node_xpath:
        cmd += ["--node-xpath", node_xpath]
    return subprocess.run(cmd + [path], capture_output=True).returncode == 0


class MockIdP:
    """`mock-idp serve` on a free loopback port."""

    def __init__(self, tmp, sp_metadata, *args, users=None, port=None):
        self.tmp = str(tmp)
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.state = os.path.join(self.tmp, "idp-state")
        self.args = ["serve", "--listen", f"127.0.0.1:{self.port}", "--base-url", self.base,
                     "--sp-metadata", sp_metadata, "--state-dir", self.state, *args]
        if users:
            self.args += ["--users", users]
        self.log_path = os.path.join(self.tmp, f"mock-idp-{self.port}.log")
        self.proc = None

    @property
    def entity_id(self):
        return self.base + "/metadata"

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([MOCK_IDP, *self.args], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mock-idp exited at start:\n" + self.read_log())
            try:
                r = requests.get(self.base + "/metadata", timeout=1)
                if r.status_code == 200:
                    self.metadata = r.text
                    self.metadata_path = os.path.join(self.tmp, "idp-metadata.xml")
                    with open(self.metadata_path, "w") as f:
                        f.write(r.text)
                    self.cert = metadata_cert(r.text, self.tmp)
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError("mock-idp did not answer /metadata:\n" + self.read_log())

    def stop(self):
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.log.close()
        return rc

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def url(self, path):
        return self.base + path


def post_form_of(page):
    """(action, {name: value}) of the auto-submitting form of the HTTP-POST binding."""
    import html
    action = html.unescape(re.search(r'<form method="post" action="([^"]*)"', page).group(1))
    fields = {html.unescape(n): html.unescape(v) for n, v in
              re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}
    return action, fields


@pytest.fixture
def make_idp(tmp_path):
    idps = []

    def make(sp_metadata, *args, **kw):
        sub = tmp_path / f"idp{len(idps)}"
        sub.mkdir()
        idp = MockIdP(sub, sp_metadata, *args, **kw)
        idps.append(idp)
        return idp.start()

    yield make
    for idp in idps:
        rc = idp.stop()
        log = idp.read_log()
        assert "AddressSanitizer" not in log and "runtime error:" not in log, log
        assert rc in (0, None), f"mock-idp exited {rc}:\n{log}"
