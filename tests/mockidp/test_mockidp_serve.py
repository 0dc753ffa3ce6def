"""`mock-idp serve`: metadata, SP-initiated SSO over HTTP-Redirect and HTTP-POST with signature
checks, the user picker with per-response faults, IdP-initiated SSO, and single logout in both
directions."""
import base64
import json
import os
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from mockidp_harness import (NS, SP, inflate_param, make_idp, post_form_of,  # noqa: F401
                             verify_redirect_signature, xmlsec_verify)

USERS = [
    {"email": "alice@example.com", "name": "Alice Liddell", "groups": ["staff"]},
    {"email": "bob@example.com", "name": "Bob Builder", "attributes": {"department": "Ops"}},
]


@pytest.fixture
def sp(tmp_path):
    return SP(tmp_path)


@pytest.fixture
def users(tmp_path):
    path = tmp_path / "users.json"
    path.write_text(json.dumps(USERS))
    return str(path)


def response_of(page):
    action, fields = post_form_of(page)
    return action, fields, base64.b64decode(fields["SAMLResponse"])


def sso_redirect(idp, sp, **kw):
    relay = kw.pop("relay_state", "rs-123")
    sign = kw.pop("sign", True)
    key = kw.pop("key", None)
    q = sp.redirect_query(sp.authn_request(idp.url("/sso"), **kw), relay, sign=sign, key=key)
    return requests.get(idp.url("/sso?" + q), timeout=30)


def test_metadata_names_the_endpoints_and_the_signing_certificate(make_idp, sp):
    idp = make_idp(sp.metadata, "--auto-login", "alice@example.com")
    root = ET.fromstring(idp.metadata)
    assert root.get("entityID") == idp.base + "/metadata"
    d = root.find("md:IDPSSODescriptor", NS)
    sso = {s.get("Binding").rsplit(":", 1)[1]: s.get("Location")
           for s in d.findall("md:SingleSignOnService", NS)}
    assert sso == {"HTTP-Redirect": idp.url("/sso"), "HTTP-POST": idp.url("/sso")}
    slo = {s.get("Binding").rsplit(":", 1)[1]: s.get("Location")
           for s in d.findall("md:SingleLogoutService", NS)}
    assert slo == {"HTTP-Redirect": idp.url("/slo"), "HTTP-POST": idp.url("/slo")}
    assert d.find("md:KeyDescriptor[@use='signing']//ds:X509Certificate", NS) is not None
    # The key pair was made at first start, in the state dir, the key readable by its owner only.
    key = os.path.join(idp.state, "idp-key.pem")
    assert os.stat(key).st_mode & 0o077 == 0


def test_given_key_and_certificate_are_used(make_idp, sp, tmp_path):
    from mockidp_harness import make_keypair
    key, cert = make_keypair(str(tmp_path), "given")
    idp = make_idp(sp.metadata, "--key", key, "--cert", cert, "--auto-login", "a@example.com")
    with open(cert) as f:
        body = "".join(l for l in f.read().splitlines() if "-----" not in l)
    assert body in idp.metadata.replace("\n", "")
    r = sso_redirect(idp, sp)
    assert xmlsec_verify(response_of(r.text)[2], cert, str(tmp_path))


def test_sp_initiated_redirect_with_auto_login(make_idp, sp):
    idp = make_idp(sp.metadata, "--auto-login", "alice@example.com")
    r = sso_redirect(idp, sp, request_id="_abc")
    assert r.status_code == 200, r.text
    assert "<noscript>" in r.text and "document.forms[0].submit()" in r.text
    assert "form-action *" in r.headers["Content-Security-Policy"]
    action, fields, xml = response_of(r.text)
    assert action == sp.acs and fields["RelayState"] == "rs-123"
    root = ET.fromstring(xml)
    assert root.get("InResponseTo") == "_abc" and root.get("Destination") == sp.acs
    assert root.find(".//saml:NameID", NS).text == "alice@example.com"
    assert xmlsec_verify(xml, idp.cert, idp.tmp)


def test_a_bad_signature_on_a_redirect_request_is_refused(make_idp, sp, tmp_path):
    from mockidp_harness import make_keypair
    idp = make_idp(sp.metadata, "--auto-login", "alice@example.com")
    other_key, _ = make_keypair(str(tmp_path), "intruder")
    r = sso_redirect(idp, sp, key=other_key)
    assert r.status_code == 400 and "signature does not verify" in r.text
    assert "SAMLResponse" not in r.text
    # A request altered after signing is refused too.
    q = sp.redirect_query(sp.authn_request(idp.url("/sso")), "rs")
    r = requests.get(idp.url("/sso?" + q.replace("RelayState=rs", "RelayState=rx")), timeout=30)
    assert r.status_code == 400


def test_an_unsigned_request_is_refused_when_the_sp_promises_to_sign(make_idp, sp, tmp_path):
    idp = make_idp(sp.metadata, "--auto-login", "alice@example.com")
    r = sso_redirect(idp, sp, sign=False)
    assert r.status_code == 400 and "AuthnRequestsSigned" in r.text
    # An SP that does not promise to sign may send unsigned requests, but not badly signed ones.
    (tmp_path / "lax").mkdir()
    lax = SP(tmp_path / "lax", signs_requests=False)
    idp2 = make_idp(lax.metadata, "--auto-login", "alice@example.com")
    assert sso_redirect(idp2, lax, sign=False).status_code == 200
    assert sso_redirect(idp2, lax, key=sp.key).status_code == 400


def test_requests_from_another_issuer_or_to_an_unknown_acs_are_refused(make_idp, sp):
    idp = make_idp(sp.metadata, "--auto-login", "alice@example.com")
    r = sso_redirect(idp, sp, issuer="https://stranger.example/sp")
    assert r.status_code == 400 and "Issuer" in r.text
    r = sso_redirect(idp, sp, acs="https://evil.example/acs")
    assert r.status_code == 400 and "AssertionConsumerServiceURL" in r.text


def test_a_listed_acs_of_the_request_is_used(make_idp, tmp_path):
    sp2 = SP(tmp_path, extra_acs=["https://sp.test.example/acs2"])
    idp = make_idp(sp2.metadata, "--auto-login", "alice@example.com")
    r = sso_redirect(idp, sp2, acs="https://sp.test.example/acs2")
    action, _, xml = response_of(r.text)
    assert action == "https://sp.test.example/acs2"
    assert ET.fromstring(xml).get("Destination") == "https://sp.test.example/acs2"


def test_sp_initiated_post_binding_checks_the_enveloped_signature(make_idp, sp):
    idp = make_idp(sp.metadata, "--auto-login", "alice@example.com")
    signed = sp.sign_post(sp.authn_request(idp.url("/sso"), request_id="_post1"))
    r = requests.post(idp.url("/sso"), data={
        "SAMLRequest": base64.b64encode(signed.encode()).decode(), "RelayState": "p"}, timeout=30)
    assert r.status_code == 200, r.text
    _, fields, xml = response_of(r.text)
    assert fields["RelayState"] == "p" and ET.fromstring(xml).get("InResponseTo") == "_post1"
    forged = signed.replace('ID="_post1"', 'ID="_post2"')
    r = requests.post(idp.url("/sso"), data={
        "SAMLRequest": base64.b64encode(forged.encode()).decode()}, timeout=30)
    assert r.status_code == 400
    unsigned = sp.authn_request(idp.url("/sso"))
    r = requests.post(idp.url("/sso"), data={
        "SAMLRequest": base64.b64encode(unsigned.encode()).decode()}, timeout=30)
    assert r.status_code == 400


def test_the_subject_hint_signs_in_without_a_page(make_idp, sp, users):
    idp = make_idp(sp.metadata, users=users)
    r = sso_redirect(idp, sp, name_id="bob@example.com")
    _, _, xml = response_of(r.text)
    root = ET.fromstring(xml)
    assert root.find(".//saml:NameID", NS).text == "bob@example.com"
    dept = root.find(".//saml:Attribute[@Name='department']/saml:AttributeValue", NS)
    assert dept.text == "Ops"


def test_the_picker_lists_users_and_applies_per_request_faults(make_idp, sp, users):
    idp = make_idp(sp.metadata, users=users)
    r = sso_redirect(idp, sp, request_id="_pick1")
    assert r.status_code == 200 and 'action="/sso/login"' in r.text
    assert "alice@example.com" in r.text and "bob@example.com" in r.text
    assert 'name="expired"' in r.text and 'name="tamper_after_sign"' in r.text
    r = requests.post(idp.url("/sso/login"), data={
        "request": "_pick1", "user": "bob@example.com", "audience": "https://wrong.example/",
        "status": ""}, timeout=30)
    assert r.status_code == 200, r.text
    action, fields, xml = response_of(r.text)
    root = ET.fromstring(xml)
    assert action == sp.acs and fields["RelayState"] == "rs-123"
    assert root.get("InResponseTo") == "_pick1"
    assert root.find(".//saml:NameID", NS).text == "bob@example.com"
    assert root.find(".//saml:Audience", NS).text == "https://wrong.example/"
    # Another address typed in, and a fault checkbox.
    r = requests.post(idp.url("/sso/login"), data={
        "request": "_pick1", "user": "bob@example.com", "other_user": "carol@example.org",
        "unsigned": "1"}, timeout=30)
    _, _, xml = response_of(r.text)
    assert ET.fromstring(xml).find(".//saml:NameID", NS).text == "carol@example.org"
    assert b"Signature" not in xml
    r = requests.post(idp.url("/sso/login"), data={"request": "_never", "user": "x@example.com"},
                      timeout=30)
    assert r.status_code == 400


def test_serve_applies_default_faults_to_every_response(make_idp, sp):
    idp = make_idp(sp.metadata, "--auto-login", "alice@example.com", "--status", "AuthnFailed",
                   "--profile", "adfs")
    _, _, xml = response_of(sso_redirect(idp, sp).text)
    root = ET.fromstring(xml)
    assert root.find("samlp:Status/samlp:StatusCode/samlp:StatusCode", NS).get("Value") == \
        "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
    assert b'<Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion"' in xml


def test_idp_initiated_start(make_idp, sp, users):
    idp = make_idp(sp.metadata, users=users)
    r = requests.get(idp.url("/start"), params={"user": "alice@example.com",
                                                "relay_state": "/welcome", "expired": "1"},
                     timeout=30)
    assert r.status_code == 200, r.text
    action, fields, xml = response_of(r.text)
    root = ET.fromstring(xml)
    assert action == sp.acs and fields["RelayState"] == "/welcome"
    assert root.get("InResponseTo") is None
    scd = root.find(".//saml:SubjectConfirmationData", NS)
    assert scd.get("InResponseTo") is None and scd.get("Recipient") == sp.acs
    assert xmlsec_verify(xml, idp.cert, idp.tmp)
    assert requests.get(idp.url("/start"), timeout=30).status_code == 400


def session_of(xml):
    root = ET.fromstring(xml)
    return (root.find(".//saml:NameID", NS).text,
            root.find(".//saml:AuthnStatement", NS).get("SessionIndex"))


def test_slo_answers_the_sps_logout_request_with_a_signed_logout_response(make_idp, sp):
    idp = make_idp(sp.metadata, "--auto-login", "alice@example.com")
    name_id, session_index = session_of(response_of(sso_redirect(idp, sp).text)[2])
    q = sp.redirect_query(sp.logout_request(idp.url("/slo"), name_id, session_index,
                                            request_id="_lo1"), "after-logout")
    r = requests.get(idp.url("/slo?" + q), allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    loc = r.headers["Location"]
    assert loc.startswith(sp.slo + "?SAMLResponse=")
    ok, parts = verify_redirect_signature(loc, idp.cert, idp.tmp)
    assert ok
    q = parse_qs(urlparse(loc).query)
    assert q["RelayState"] == ["after-logout"]
    resp = ET.fromstring(inflate_param(q["SAMLResponse"][0]))
    assert resp.tag == "{%s}LogoutResponse" % NS["samlp"]
    assert resp.get("InResponseTo") == "_lo1" and resp.get("Destination") == sp.slo
    assert resp.find("samlp:Status/samlp:StatusCode", NS).get("Value") == \
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    # The session is gone: an IdP-initiated logout finds nothing left.
    r = requests.get(idp.url("/logout-sp"), params={"user": "alice@example.com"},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 404


def test_slo_refuses_a_badly_signed_logout_request(make_idp, sp, tmp_path):
    from mockidp_harness import make_keypair
    idp = make_idp(sp.metadata, "--auto-login", "alice@example.com")
    other_key, _ = make_keypair(str(tmp_path), "intruder")
    q = sp.redirect_query(sp.logout_request(idp.url("/slo"), "alice@example.com", "_s"),
                          key=other_key)
    assert requests.get(idp.url("/slo?" + q), timeout=30).status_code == 400


def test_logout_sp_sends_a_logout_request_for_the_issued_session(make_idp, sp):
    idp = make_idp(sp.metadata, "--auto-login", "alice@example.com")
    name_id, session_index = session_of(response_of(sso_redirect(idp, sp).text)[2])
    r = requests.get(idp.url("/logout-sp"), params={"user": "alice@example.com",
                                                    "relay_state": "bye"},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    loc = r.headers["Location"]
    assert loc.startswith(sp.slo + "?SAMLRequest=")
    ok, _ = verify_redirect_signature(loc, idp.cert, idp.tmp)
    assert ok
    q = parse_qs(urlparse(loc).query)
    req = ET.fromstring(inflate_param(q["SAMLRequest"][0]))
    assert req.tag == "{%s}LogoutRequest" % NS["samlp"]
    assert req.find("saml:NameID", NS).text == name_id
    assert req.find("samlp:SessionIndex", NS).text == session_index
    assert req.find("saml:Issuer", NS).text == idp.entity_id and q["RelayState"] == ["bye"]
    # The SP's LogoutResponse comes back to /slo.
    resp = (f'<samlp:LogoutResponse xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}" '
            f'ID="_lr1" Version="2.0" IssueInstant="2030-01-01T00:00:00Z" '
            f'InResponseTo="{req.get("ID")}"><saml:Issuer>{sp.entity_id}</saml:Issuer>'
            '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>'
            '</samlp:Status></samlp:LogoutResponse>')
    r = requests.get(idp.url("/slo?" + sp.redirect_query(resp, param="SAMLResponse")), timeout=30)
    assert r.status_code == 200 and "status:Success" in r.text


def test_unknown_paths_and_missing_messages(make_idp, sp):
    idp = make_idp(sp.metadata)
    assert requests.get(idp.url("/nope"), timeout=30).status_code == 404
    assert requests.get(idp.url("/sso"), timeout=30).status_code == 400
    assert requests.get(idp.url("/slo"), timeout=30).status_code == 400
    r = requests.get(idp.url("/sso?SAMLRequest=%%%"), timeout=30)
    assert r.status_code == 400


def test_slo_takes_a_signed_logout_request_over_http_post(make_idp, sp):
    idp = make_idp(sp.metadata, "--auto-login", "alice@example.com")
    name_id, session_index = session_of(response_of(sso_redirect(idp, sp).text)[2])
    signed = sp.sign_post(sp.logout_request(idp.url("/slo"), name_id, session_index,
                                            request_id="_lopost"), root="samlp:LogoutRequest")
    r = requests.post(idp.url("/slo"), data={
        "SAMLRequest": base64.b64encode(signed.encode()).decode(), "RelayState": "x"},
        allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    ok, _ = verify_redirect_signature(r.headers["Location"], idp.cert, idp.tmp)
    assert ok
    resp = ET.fromstring(inflate_param(parse_qs(urlparse(r.headers["Location"]).query)
                                       ["SAMLResponse"][0]))
    assert resp.get("InResponseTo") == "_lopost"
    forged = signed.replace(session_index, "_other")
    r = requests.post(idp.url("/slo"), data={
        "SAMLRequest": base64.b64encode(forged.encode()).decode()}, timeout=30)
    assert r.status_code == 400
