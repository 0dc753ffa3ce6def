"""What the fuzzers found (tests/fuzz/, README "Fuzzing"), attacked over HTTP against the real
server: each answered with a refusal, the server still up."""
import base64
import os
import subprocess
import zlib
from urllib.parse import quote

import requests

from conftest import BIN

LOGOUT_WITHOUT_SUBJECT = (
    '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
    'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_x" Version="2.0" '
    'IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>{issuer}</saml:Issuer>'
    '</samlp:LogoutRequest>')


def add_idp(server, tmp_path):
    base = "https://fuzz.idp.example"
    md = subprocess.run([os.path.join(BIN, "mock-idp"), "metadata", "--base-url", base,
                         "--state-dir", str(tmp_path / "idp")], capture_output=True, text=True,
                        check=True, timeout=60).stdout
    path = tmp_path / "idp.xml"
    path.write_text(md)
    server.ctl("idp", "add", "--metadata", str(path))
    return base + "/metadata"


def test_an_unsigned_logout_request_naming_nobody_does_not_stop_the_server(server, tmp_path):
    # lasso 2.8 aborts the process (g_error) on a LogoutRequest without NameID, BaseID or
    # EncryptedID, before checking any signature: one GET stopped the server.
    issuer = add_idp(server, tmp_path)
    xml = LOGOUT_WITHOUT_SUBJECT.format(issuer=issuer).encode()
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = z.compress(xml) + z.flush()
    query = "SAMLRequest=" + quote(base64.b64encode(deflated).decode(), safe="")
    r = requests.get(server.url("/saml/slo?" + query), timeout=30)
    assert r.status_code == 400, r.text
    r = requests.post(server.url("/saml/slo"), timeout=30,
                      data={"SAMLRequest": base64.b64encode(xml).decode()})
    assert r.status_code == 400, r.text
    assert server.proc.poll() is None
    assert requests.get(server.url("/healthz"), timeout=10).status_code == 200
