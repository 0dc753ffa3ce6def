"""SAML single logout over HTTP-Redirect, both directions: POST /logout of a session from an IdP
sends a signed LogoutRequest naming its NameID and SessionIndex; a signed LogoutRequest from the
IdP ends that subject's sessions and is answered with a signed LogoutResponse."""
import base64
import json
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


def refusal(server):
    """The newest SAML log row: a refused logout message is logged with its slo_* reason."""
    e = json.loads(server.ctl("saml-log", "list", "--json", "--limit", "1").stdout)[0]
    assert e["verdict"] == "refused", e
    return e["reason"], e["detail"]


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
    reason, detail = refusal(server)
    assert reason == "slo_bad_signature" and detail.startswith("LogoutRequest: "), detail
    assert re.search(r"reference SAML-\d+", r.text)
    assert alice.whoami().status_code == 200
    # Unsigned, or tampered after signing: refused too.
    q = sign_redirect("SAMLRequest", xml, idp.key)
    unsigned = q.split("&SigAlg=")[0]
    assert requests.get(server.url("/saml/slo?" + unsigned), timeout=30).status_code == 400
    assert refusal(server)[0] == "slo_unsigned"
    _, xml2 = logout_request(idp.entity_id, server.url("/saml/slo"), "bob@example.com")
    forged = sign_redirect("SAMLRequest", xml2, idp.key).split("&SigAlg=")[0] + \
        "&SigAlg=" + q.split("&SigAlg=")[1]
    assert requests.get(server.url("/saml/slo?" + forged), timeout=30).status_code == 400
    assert refusal(server)[0] == "slo_bad_signature"
    # From an issuer nobody registered.
    _, xml3 = logout_request("https://stranger.example/idp", server.url("/saml/slo"),
                             "alice@example.com")
    assert requests.get(server.url("/saml/slo?" + sign_redirect("SAMLRequest", xml3, other.key)),
                        timeout=30).status_code == 400
    e = json.loads(server.ctl("saml-log", "list", "--json", "--limit", "1").stdout)[0]
    assert e["reason"] == "slo_unknown_issuer" and e["issuer"] == "https://stranger.example/idp"
    assert requests.get(server.url("/saml/slo"), timeout=30).status_code == 400
    assert requests.get(server.url("/saml/slo?SAMLRequest=%%%"), timeout=30).status_code == 400
    assert refusal(server)[0] == "slo_malformed"
    assert alice.whoami().status_code == 200


def test_password_sessions_log_out_locally(server):
    from conftest import signed_in_user
    b, _ = signed_in_user(server)
    r = b.s.post(server.url("/logout"), data={"csrf_token": csrf_of(b.get("/").text)},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/login"


# -- single logout exact (SAML core 3.2.1-3.2.2, 3.7.1; bindings 3.4.5.2) ------------------------

def slo_get(server, xml, key):
    return requests.get(server.url("/saml/slo?" + sign_redirect("SAMLRequest", xml, key)),
                        allow_redirects=False, timeout=30)


@pytest.mark.parametrize("name,kw,why,reason", [
    ("another SP's Destination", dict(destination="https://other-sp.example/saml/slo"),
     "Destination is \"https://other-sp.example/saml/slo\"", "slo_destination"),
    ("no Destination", dict(destination=None), "Destination is \"(none)\"", "slo_destination"),
    ("signed a year ago", dict(now_shift=-365 * 86400), "was issued", "slo_expired"),
    ("issued past the skew and the maximum age", dict(now_shift=-(300 + 180 + 5)),
     "max_response_age_seconds 300", "slo_expired"),
    ("issued in the future", dict(now_shift=180 + 5), "in the future", "slo_not_yet_valid"),
    ("past its NotOnOrAfter", dict(not_on_or_after_shift=-(180 + 5)), "NotOnOrAfter passed",
     "slo_expired"),
    ("Version 2.1", dict(edit=lambda x: x.replace('Version="2.0"', 'Version="2.1"')),
     "Version is \"2.1\"", "slo_malformed"),
    ("an Issuer Format other than entity", dict(edit=lambda x: x.replace(
        "<saml:Issuer>", '<saml:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:'
        'emailAddress">')), "not entity", "slo_malformed"),
])
def test_a_logout_request_outside_its_window_or_for_elsewhere_ends_nothing(server, idp, name, kw,
                                                                           why, reason):
    import time
    alice, _ = sign_in(server, idp, "alice@example.com")
    kw = dict(kw)
    now = time.time() + kw.pop("now_shift", 0)
    nooa = kw.pop("not_on_or_after_shift", None)
    dest = kw.pop("destination", server.url("/saml/slo"))
    edit = kw.pop("edit", lambda x: x)
    _, xml = logout_request(idp.entity_id, dest, "alice@example.com", now=now,
                            not_on_or_after=None if nooa is None else time.time() + nooa)
    assert slo_get(server, edit(xml), idp.key).status_code == 400
    assert alice.whoami().status_code == 200
    assert why in server.read_log(), server.read_log()[-2000:]
    got, detail = refusal(server)
    assert got == reason and why in detail, detail
    e = json.loads(server.ctl("saml-log", "list", "--json", "--limit", "1").stdout)[0]
    assert e["issuer"] == idp.entity_id and e["name_id"] == "alice@example.com"


def test_a_logout_request_within_its_window_is_honoured(server, idp):
    import time
    alice, _ = sign_in(server, idp, "alice@example.com")
    _, xml = logout_request(idp.entity_id, server.url("/saml/slo"), "alice@example.com",
                            now=time.time() - 300, not_on_or_after=time.time() + 60)
    assert slo_get(server, xml, idp.key).status_code == 303
    assert alice.whoami().status_code == 401


def test_a_replayed_logout_request_ends_nothing(server, idp):
    alice, _ = sign_in(server, idp, "alice@example.com")
    _, xml = logout_request(idp.entity_id, server.url("/saml/slo"), "alice@example.com")
    q = sign_redirect("SAMLRequest", xml, idp.key)
    assert requests.get(server.url("/saml/slo?" + q), allow_redirects=False,
                        timeout=30).status_code == 303
    assert alice.whoami().status_code == 401
    again, _ = sign_in(server, idp, "alice@example.com")
    r = requests.get(server.url("/saml/slo?" + q), allow_redirects=False, timeout=30)
    assert r.status_code == 400 and "used already" in r.text
    assert again.whoami().status_code == 200
    assert "replay of a LogoutRequest ID" in server.read_log()
    reason, detail = refusal(server)
    assert reason == "slo_replay" and "replay of a LogoutRequest ID" in detail, detail


def logout_and_request_id(server, idp):
    b, _ = sign_in(server, idp, "alice@example.com")
    r = b.s.post(server.url("/logout"), data={"csrf_token": csrf_of(b.get("/").text)},
                 allow_redirects=False, timeout=30)
    xml = redirect_xml(r.headers["Location"])
    return b, re.search(r'\sID="([^"]+)"', xml).group(1)


def test_a_logout_response_must_answer_a_pending_request_of_ours_once(server, idp):
    b, rid = logout_and_request_id(server, idp)
    answer = sign_redirect("SAMLResponse",
                           logout_response(idp.entity_id, server.url("/saml/slo"), "_never_sent"),
                           idp.key)
    r = b.get("/saml/slo?" + answer)
    assert r.status_code == 200 and "did not confirm" in r.text
    assert "names no pending LogoutRequest" in server.read_log()
    reason, detail = refusal(server)
    assert reason == "slo_in_response_to" and detail.startswith("LogoutResponse: "), detail
    answer = sign_redirect("SAMLResponse",
                           logout_response(idp.entity_id, server.url("/saml/slo"), rid), idp.key)
    r = b.get("/saml/slo?" + answer)
    assert r.status_code == 200 and "signed you out too" in r.text
    r = b.get("/saml/slo?" + answer)
    assert r.status_code == 200 and "did not confirm" in r.text
    e = json.loads(server.ctl("saml-log", "list", "--json", "--limit", "1").stdout)[0]
    assert e["reason"] == "slo_in_response_to" and e["in_response_to"] == rid


@pytest.mark.parametrize("kw,why,reason", [
    (dict(destination="https://other-sp.example/saml/slo"), "Destination is", "slo_destination"),
    (dict(now_shift=-3600), "was issued", "slo_expired"),
    (dict(now_shift=3600), "in the future", "slo_not_yet_valid"),
    (dict(status="Responder"), "Status is urn:oasis:names:tc:SAML:2.0:status:Responder",
     "slo_idp_status"),
    (dict(key="other"), "LogoutResponse was refused", "slo_bad_signature"),
    (dict(key="none"), "LogoutResponse is not signed", "slo_unsigned"),
])
def test_a_logout_response_for_elsewhere_or_too_old_is_not_confirmed(server, idp, kw, why,
                                                                     reason):
    import time
    b, rid = logout_and_request_id(server, idp)
    xml = logout_response(idp.entity_id, kw.get("destination", server.url("/saml/slo")), rid,
                          now=time.time() + kw.get("now_shift", 0),
                          status=kw.get("status", "Success"))
    key = MiniIdP(server.tmp, name="other").key if kw.get("key") == "other" else idp.key
    q = sign_redirect("SAMLResponse", xml, key)
    r = b.get("/saml/slo?" + (q.split("&SigAlg=")[0] if kw.get("key") == "none" else q))
    assert r.status_code == 200 and "did not confirm" in r.text
    assert why in server.read_log()
    got, detail = refusal(server)
    assert got == reason and why in detail, detail
    # Refused, the answer leaves our LogoutRequest pending: the IdP's proper answer confirms.
    good = logout_response(idp.entity_id, server.url("/saml/slo"), rid)
    r = b.get("/saml/slo?" + sign_redirect("SAMLResponse", good, idp.key))
    assert r.status_code == 200 and "signed you out too" in r.text


def test_refused_logout_messages_are_shown_on_the_admin_saml_log(server, idp):
    from conftest import signed_in_user
    admin, _ = signed_in_user(server, "admin@example.org", "admin")
    alice, _ = sign_in(server, idp, "alice@example.com")
    _, xml = logout_request(idp.entity_id, "https://other-sp.example/saml/slo",
                            "alice@example.com")
    r = slo_get(server, xml, idp.key)
    assert r.status_code == 400
    ref = re.search(r"SAML-(\d+)", r.text).group(1)
    lst = admin.get("/admin/saml-log?verdict=refused").text
    assert f"SAML-{ref}" in lst and "slo_destination" in lst
    page = admin.get(f"/admin/saml-log/view?id={ref}").text
    assert 'id="reason"><code>slo_destination<' in page
    assert "LogoutRequest: the LogoutRequest&#39;s Destination is" in page or \
        "LogoutRequest: the LogoutRequest's Destination is" in page, page
    assert re.search(r'class="bad">Destination is our SLO URL: <strong>failed', page)
    assert re.search(r'class="ok">Signature valid[^<]*<strong>passed', page)
