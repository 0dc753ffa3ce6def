"""The HTTP-POST binding for IdPs that offer only POST (OneLogin's sample metadata lists only a
POST SingleSignOnService): the AuthnRequest and the LogoutRequest leave in an auto-submitting form
signed with an enveloped XML signature, under a CSP that allows exactly the page's one inline
script (by hash) and a post to the IdP's origin; a Continue button serves browsers without
JavaScript. LogoutRequests and LogoutResponses are accepted by POST at /saml/slo. The IdP is
`mock-idp serve --post-only`, which verifies the signatures of what it receives."""
import base64
import hashlib
import os
import re
import subprocess
import sys

import pytest
import requests

from mockidp_harness import TOP, MockIdP, post_form_of

sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
from conftest import Browser, Server, csrf_of  # noqa: E402

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SIGNATURE = re.compile(rb'<(ds:)?Signature xmlns(:ds)?="http://www.w3.org/2000/09/xmldsig#"')


@pytest.fixture
def pair(tmp_path):
    (tmp_path / "gh").mkdir()
    (tmp_path / "idp").mkdir()
    gh = Server(tmp_path / "gh")
    md = str(tmp_path / "gh" / "sp-metadata.xml")
    idp = MockIdP(tmp_path / "idp", md, "--post-only", "--auto-login", "alice@example.com")
    try:  # both stopped even when one fails to start
        gh.start()
        with open(md, "w") as f:
            f.write(requests.get(gh.url("/saml/metadata"), timeout=30).text)
        idp.start()
        gh.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com")
        yield gh, idp
    finally:
        rc = idp.stop()
        gh.stop()
    assert rc in (0, None), idp.read_log()


def csp_of(r):
    return dict(d.strip().split(" ", 1) for d in r.headers["Content-Security-Policy"].split(";"))


def check_autopost_page(r, action_origin):
    """The page posts itself to action_origin; the CSP allows exactly that and its one script."""
    assert r.status_code == 200, r.text
    scripts = re.findall(r"<script>(.*?)</script>", r.text, re.S)
    assert len(scripts) == 1 and "submit()" in scripts[0]
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    csp = csp_of(r)
    assert csp["script-src"] == f"'sha256-{digest}'"
    assert "unsafe-inline" not in r.headers["Content-Security-Policy"]
    assert csp["form-action"] == action_origin
    assert csp["default-src"] == "'none'"
    # Without JavaScript: a visible Continue button submits the same form.
    assert re.search(r'<button type="submit">Continue</button>', r.text)
    return post_form_of(r.text)


def verify_enveloped(xml, cert, tmp, element):
    path = os.path.join(str(tmp), "msg.xml")
    with open(path, "wb") as f:
        f.write(xml)
    return subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", cert,
                           "--id-attr:ID", f"{SAMLP}:{element}", path],
                          capture_output=True).returncode == 0


def sign_in(gh, idp):
    b = Browser(gh)
    r = b.get(f"/saml/login?idp={idp.entity_id}")
    action, fields = check_autopost_page(r, idp.base)
    r = requests.post(action, data=fields, timeout=30)
    assert r.status_code == 200, r.text
    action, fields = post_form_of(r.text)
    r = b.s.post(action, data=fields, allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    assert b.whoami().json()["email"] == "alice@example.com"
    return b


def test_post_only_idp_gets_a_signed_authn_request_by_form(pair, tmp_path):
    gh, idp = pair
    r = Browser(gh).get(f"/saml/login?idp={idp.entity_id}")
    action, fields = check_autopost_page(r, idp.base)
    assert action == idp.url("/sso")
    assert set(fields) == {"SAMLRequest", "RelayState"}
    xml = base64.b64decode(fields["SAMLRequest"])
    assert b"AuthnRequest" in xml and SIGNATURE.search(xml), xml.decode()
    assert b"http://www.w3.org/2000/09/xmldsig#enveloped-signature" in xml
    cert = os.path.join(gh.tmp, "sp-cert.pem")
    assert verify_enveloped(xml, cert, tmp_path, "AuthnRequest")
    # The IdP verifies it: the same request altered after signing is refused there.
    forged = xml.replace(b'ForceAuthn="false"', b'ForceAuthn="true"') \
        if b'ForceAuthn="false"' in xml else xml.replace(b"Version=\"2.0\"", b"Version=\"2.0\" "
                                                         b"ForceAuthn=\"true\"", 1)
    assert not verify_enveloped(forged, cert, tmp_path, "AuthnRequest")
    r = requests.post(action, data={**fields, "SAMLRequest": base64.b64encode(forged).decode()},
                      timeout=30)
    assert r.status_code == 400 and "signature" in r.text, r.text
    assert "AuthnRequest refused" in idp.read_log()


def test_sign_in_through_the_form_then_single_logout_by_post(pair, tmp_path):
    gh, idp = pair
    b = sign_in(gh, idp)
    token = b.session_cookie()
    r = b.s.post(gh.url("/logout"), data={"csrf_token": csrf_of(b.get("/").text)},
                 allow_redirects=False, timeout=30)
    action, fields = check_autopost_page(r, idp.base)
    assert action == idp.url("/slo") and set(fields) == {"SAMLRequest"}
    xml = base64.b64decode(fields["SAMLRequest"])
    assert b"LogoutRequest" in xml and b">alice@example.com</saml:NameID>" in xml
    assert verify_enveloped(xml, os.path.join(gh.tmp, "sp-cert.pem"), tmp_path, "LogoutRequest")
    s = requests.Session()
    s.cookies.set("gatehouse_session", token)
    assert s.get(gh.url("/api/whoami"), timeout=30).status_code == 401
    # The IdP (POST only) verifies the request and answers with a signed LogoutResponse by POST.
    r = requests.post(action, data=fields, timeout=30)
    assert r.status_code == 200, r.text
    assert "1 session(s) ended" in idp.read_log()
    action, fields = post_form_of(r.text)
    assert action == gh.url("/saml/slo") and "SAMLResponse" in fields
    r = requests.post(action, data=fields, timeout=30)
    assert r.status_code == 200 and "signed you out too" in r.text, r.text
    # A LogoutResponse altered after signing is not taken as a confirmation.
    bad = base64.b64decode(fields["SAMLResponse"]).replace(b"status:Success", b"status:Requester")
    r = requests.post(action, data={"SAMLResponse": base64.b64encode(bad).decode()}, timeout=30)
    assert r.status_code == 200 and "did not confirm" in r.text


def test_idp_initiated_logout_by_post(pair, tmp_path):
    gh, idp = pair
    b = sign_in(gh, idp)
    r = requests.get(idp.url("/logout-sp?user=alice@example.com&relay_state=xyz"), timeout=30)
    assert r.status_code == 200, r.text
    action, fields = post_form_of(r.text)
    assert action == gh.url("/saml/slo") and set(fields) == {"SAMLRequest", "RelayState"}
    # A forged request (another subject after signing) ends nothing.
    bad = base64.b64decode(fields["SAMLRequest"]).replace(b"alice@example.com", b"bob@example.com")
    r = requests.post(action, data={"SAMLRequest": base64.b64encode(bad).decode()}, timeout=30)
    assert r.status_code == 400
    assert b.whoami().status_code == 200
    # The IdP's page posts from its own site: no session cookie comes with it (SameSite=Lax).
    r = requests.post(action, data=fields, timeout=30)
    action2, answer = check_autopost_page(r, idp.base)
    assert b.whoami().status_code == 401
    assert action2 == idp.url("/slo") and answer["RelayState"] == "xyz"
    xml = base64.b64decode(answer["SAMLResponse"])
    assert b"LogoutResponse" in xml and b"status:Success" in xml
    assert verify_enveloped(xml, os.path.join(gh.tmp, "sp-cert.pem"), tmp_path, "LogoutResponse")
    r = requests.post(action2, data=answer, timeout=30)
    assert r.status_code == 200 and 'id="status">urn:oasis:names:tc:SAML:2.0:status:Success' \
        in r.text, r.text


def test_onelogin_sample_metadata_gets_the_post_binding(tmp_path):
    gh = Server(tmp_path)
    try:
        gh.start()
        md = os.path.join(TOP, "tests", "fixtures", "idp-samples", "onelogin",
                          "onelogin-503983-metadata.xml")
        gh.ctl("idp", "add", "--metadata", md)
        entity = re.search(r'entityID="([^"]+)"', open(md).read()).group(1)
        r = Browser(gh).get(f"/saml/login?idp={entity}")
        action, fields = check_autopost_page(r, "https://app.onelogin.com")
        assert action == "https://app.onelogin.com/trust/saml2/http-post/sso/503983"
        assert SIGNATURE.search(base64.b64decode(fields["SAMLRequest"]))
    finally:
        gh.stop()
