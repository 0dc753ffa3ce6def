"""SAML single logout over HTTP-Redirect, both directions: POST /logout of a session from an IdP
sends a signed LogoutRequest naming its NameID and SessionIndex; a signed LogoutRequest from the
IdP ends that subject's sessions and is answered with a signed LogoutResponse."""
import base64
import os
import re
import subprocess

import pytest
import requests

from conftest import Browser, csrf_of
from samlidp import (MiniIdP, logout_request, logout_response, redirect_xml,
                     request_id_from_redirect, sign_redirect, verify_redirect)

IDP_SLO = "https://idp.test.example/sso/slo"


@pytest.fixture
def idp(server, tmp_path):
    i = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", i.metadata_path, "--domain", "example.com")
    return i


def sign_in(server, idp, email):
    """An SP-initiated SAML sign-in; returns (browser, SessionIndex)."""
    b = Browser(server)
    r = b.get(f"/saml/login?idp={idp.entity_id}")
    rid, q = request_id_from_redirect(r.headers["Location"])
    b64, _ = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"), email,
                          {"email": email}, in_response_to=rid)
    xml = base64.b64decode(b64).decode()
    index = re.search(r'SessionIndex="([^"]+)"', xml).group(1)
    r = b.s.post(server.url("/saml/acs"), data={"SAMLResponse": b64,
                                                "RelayState": q["RelayState"][0]},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    assert b.whoami().status_code == 200
    return b, index


def sp_cert(server):
    return os.path.join(server.tmp, "sp-cert.pem")


def test_logout_of_an_sso_session_sends_a_signed_logout_request(server, idp):
    b, index = sign_in(server, idp, "alice@example.com")
    token = b.session_cookie()
    r = b.s.post(server.url("/logout"), data={"csrf_token": csrf_of(b.get("/").text)},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 303
    loc = r.headers["Location"]
    assert loc.startswith(IDP_SLO + "?")
    assert verify_redirect(loc, sp_cert(server))
    xml = redirect_xml(loc)
    assert "<samlp:LogoutRequest" in xml or "LogoutRequest" in xml
    assert re.search(r"<saml:NameID[^>]*Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:"
                     r"emailAddress\"[^>]*>alice@example.com</saml:NameID>", xml), xml
    assert f">{index}</samlp:SessionIndex>" in xml
    assert f'Destination="{IDP_SLO}"' in xml
    rid = re.search(r'\sID="([^"]+)"', xml).group(1)
    # The session here ended at once, whatever the IdP does.
    s = requests.Session()
    s.cookies.set("gatehouse_session", token)
    assert s.get(server.url("/api/whoami"), timeout=30).status_code == 401
    # The IdP's signed LogoutResponse is confirmed; one signed by another key is not.
    q = sign_redirect("SAMLResponse", logout_response(idp.entity_id, server.url("/saml/slo"), rid),
                      idp.key)
    r = b.get("/saml/slo?" + q)
    assert r.status_code == 200 and "signed you out too" in r.text
    other = MiniIdP(os.path.join(server.tmp), name="other")
    q = sign_redirect("SAMLResponse", logout_response(idp.entity_id, server.url("/saml/slo"), rid),
                      other.key)
    r = b.get("/saml/slo?" + q)
    assert r.status_code == 200 and "did not confirm" in r.text
    unsigned = q.split("&SigAlg=")[0]
    r = b.get("/saml/slo?" + unsigned)
    assert r.status_code == 200 and "did not confirm" in r.text


def test_a_logout_request_from_the_idp_ends_that_subjects_sessions(server, idp):
    a1, index1 = sign_in(server, idp, "alice@example.com")
    a2, index2 = sign_in(server, idp, "alice@example.com")
    bob, _ = sign_in(server, idp, "bob@example.com")
    # With a SessionIndex: only that session ends.
    rid, xml = logout_request(idp.entity_id, server.url("/saml/slo"), "alice@example.com", index1)
    r = a1.get("/saml/slo?" + sign_redirect("SAMLRequest", xml, idp.key, relay="rs-1"))
    assert r.status_code == 303, r.text
    loc = r.headers["Location"]
    assert loc.startswith(IDP_SLO + "?") and "RelayState=rs-1" in loc
    assert verify_redirect(loc, sp_cert(server))
    resp = redirect_xml(loc)
    assert f'InResponseTo="{rid}"' in resp
    assert "urn:oasis:names:tc:SAML:2.0:status:Success" in resp
    assert a1.whoami().status_code == 401
    assert a2.whoami().status_code == 200 and bob.whoami().status_code == 200
    # Without one: every session of the subject.
    a3, _ = sign_in(server, idp, "alice@example.com")
    rid, xml = logout_request(idp.entity_id, server.url("/saml/slo"), "alice@example.com")
    r = requests.get(server.url("/saml/slo?" + sign_redirect("SAMLRequest", xml, idp.key)),
                     allow_redirects=False, timeout=30)
    assert r.status_code == 303
    assert a2.whoami().status_code == 401 and a3.whoami().status_code == 401
    assert bob.whoami().status_code == 200


def test_an_unverifiable_logout_request_ends_nothing(server, idp, tmp_path):
    alice, _ = sign_in(server, idp, "alice@example.com")
    other = MiniIdP(tmp_path, name="rogue")
    _, xml = logout_request(idp.entity_id, server.url("/saml/slo"), "alice@example.com")
    r = requests.get(server.url("/saml/slo?" + sign_redirect("SAMLRequest", xml, other.key)),
                     allow_redirects=False, timeout=30)
    assert r.status_code == 400
    assert alice.whoami().status_code == 200
    # Unsigned, or tampered after signing: refused too.
    q = sign_redirect("SAMLRequest", xml, idp.key)
    unsigned = q.split("&SigAlg=")[0]
    assert requests.get(server.url("/saml/slo?" + unsigned), timeout=30).status_code == 400
    _, xml2 = logout_request(idp.entity_id, server.url("/saml/slo"), "bob@example.com")
    forged = sign_redirect("SAMLRequest", xml2, idp.key).split("&SigAlg=")[0] + \
        "&SigAlg=" + q.split("&SigAlg=")[1]
    assert requests.get(server.url("/saml/slo?" + forged), timeout=30).status_code == 400
    assert requests.get(server.url("/saml/slo"), timeout=30).status_code == 400
    assert requests.get(server.url("/saml/slo?SAMLRequest=%%%"), timeout=30).status_code == 400
    assert alice.whoami().status_code == 200


def test_password_sessions_log_out_locally(server):
    from conftest import signed_in_user
    b, _ = signed_in_user(server)
    r = b.s.post(server.url("/logout"), data={"csrf_token": csrf_of(b.get("/").text)},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/login"
