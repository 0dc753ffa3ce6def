"""The "Test sign-in" button of the admin IdP page (issue 17 item 5), as Okta's and Auth0's "test
connection": an SP-initiated sign-in whose pending AuthnRequest is marked as a test of the admin's
session; the ACS validates and logs the response, then stops: no session, no user. The result
page (verdict, reason, NameID, attributes as received, the e-mail and role a sign-in would use,
the SAML log entry) is only for the admin who started it, in that session. Also the clock skew
recorded per response and summed up on the IdP's health."""
import json
import re
import time

import requests

from conftest import Browser, csrf_of, db_rows, signed_in_user
from samlidp import MiniIdP, request_id_from_redirect


def register(server, tmp_path):
    idp = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com",
               "--name", "Test IdP", "--group-role", "ops=admin")
    return idp


def start_test(b, idp):
    page = b.get("/admin/idps").text
    assert 'class="test-signin"' in page
    r = b.s.post(b.server.url("/admin/idps/test"),
                 data={"csrf_token": csrf_of(page), "entity_id": idp.entity_id},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"].startswith("https://idp.test.example/sso")
    return request_id_from_redirect(r.headers["Location"])


def answer(server, idp, rid, relay, email="eve@example.com", **kw):
    """The IdP's answer, posted as the IdP's page does: from another site, so without the
    admin's cookies."""
    b64, _ = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"), email,
                          {"email": email, "displayName": "Eve Test", "groups": ["ops", "x"]},
                          in_response_to=rid, **kw)
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64, "RelayState": relay},
                      allow_redirects=False, timeout=30)
    return r, b64


def users(server):
    return {u["email"] for u in json.loads(server.ctl("user", "list", "--json").stdout)}


def test_a_test_sign_in_shows_the_result_without_a_session_or_a_user(server, tmp_path):
    idp = register(server, tmp_path)
    b, _ = signed_in_user(server, "adam@example.com", "admin")
    before = users(server)
    rid, q = start_test(b, idp)
    r, b64 = answer(server, idp, rid, q["RelayState"][0])
    assert r.status_code == 303, r.text
    assert r.headers["Location"].startswith("/admin/idps/test?id=")
    assert "gatehouse_session" not in r.headers.get("Set-Cookie", "")
    assert users(server) == before  # nobody provisioned
    page = b.get(r.headers["Location"]).text
    assert 'id="test-result"' in page, page
    assert '<span class="ok">accepted</span>' in page
    assert '<dd class="mapped-email">eve@example.com</dd>' in page
    assert '<dd class="mapped-role">admin</dd>' in page  # ops=admin
    assert "a new user eve@example.com would be created with role admin" in page
    assert "<code>eve@example.com</code>" in page and "<div>Eve Test</div>" in page
    log_id = int(re.search(r'id="test-log-link">SAML-(\d+)<', page).group(1))
    assert db_rows(server, "SELECT verdict, test FROM saml_log WHERE id = ?", (log_id,)) == \
        [("accepted", 1)]
    entry = b.get(f"/admin/saml-log/view?id={log_id}").text
    assert '<dd id="test">yes' in entry and '<dd id="skew">' in entry
    # No sign-in was counted, no session exists for anyone but the admin.
    assert db_rows(server, "SELECT COUNT(*) FROM sessions")[0][0] == 1
    # The test's response is spent: posted again it is refused, and signs nobody in.
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64}, timeout=30,
                      allow_redirects=False)
    assert "gatehouse_session" not in r.headers.get("Set-Cookie", "")
    assert users(server) == before
    assert db_rows(server, "SELECT verdict, reason, test FROM saml_log ORDER BY id DESC "
                   "LIMIT 1") == [("refused", "in_response_to", 1)]
    # The result page still shows the first answer.
    assert f'id="test-log-link">SAML-{log_id}<' in b.get(r.headers["Location"]).text


def test_a_refused_test_response_shows_why_on_the_result_page(server, tmp_path):
    idp = register(server, tmp_path)
    b, _ = signed_in_user(server, "adam@example.com", "admin")
    rid, q = start_test(b, idp)
    r, _ = answer(server, idp, rid, q["RelayState"][0], lifetime=-600)
    assert r.status_code == 303 and r.headers["Location"].startswith("/admin/idps/test?id=")
    page = b.get(r.headers["Location"]).text
    assert '<span class="error">refused</span>: <code>expired</code>' in page, page


def test_only_the_admin_who_started_it_in_that_session_sees_the_result(server, tmp_path):
    idp = register(server, tmp_path)
    b, pw = signed_in_user(server, "adam@example.com", "admin")
    rid, q = start_test(b, idp)
    r, _ = answer(server, idp, rid, q["RelayState"][0])
    where = r.headers["Location"]
    assert b.get(where).status_code == 200
    other, _ = signed_in_user(server, "olive@example.com", "owner")
    assert other.get(where).status_code == 404
    again = Browser(server)  # the same admin, another session
    assert again.login("adam@example.com", pw).status_code == 303
    assert again.get(where).status_code == 404
    # Before the IdP answers, the page says it is waiting.
    rid2, _ = start_test(b, idp)
    page = b.get("/admin/idps/test?id=" + requests.utils.quote(rid2)).text
    assert 'id="test-waiting"' in page


def test_members_cannot_start_a_test_and_the_form_needs_its_csrf_token(server, tmp_path):
    idp = register(server, tmp_path)
    m, _ = signed_in_user(server, "mel@example.com", "member")
    page = m.get("/").text
    r = m.s.post(server.url("/admin/idps/test"), data={"csrf_token": csrf_of(page),
                                                       "entity_id": idp.entity_id},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 403
    b, _ = signed_in_user(server, "adam@example.com", "admin")
    r = b.s.post(server.url("/admin/idps/test"), data={"entity_id": idp.entity_id},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 403
    assert db_rows(server, "SELECT COUNT(*) FROM saml_tests")[0][0] == 0


def test_the_clock_skew_of_each_response_is_recorded_and_summed_up(server, tmp_path):
    idp = register(server, tmp_path)
    server.ctl("idp", "set", idp.entity_id, "--idp-initiated", "on")
    for ahead in (40, 42, 44):  # the IdP's clock runs ~42 s ahead
        b64, _ = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"),
                              "eve@example.com", {"email": "eve@example.com"},
                              now=time.time() + ahead)
        r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64}, timeout=30,
                          allow_redirects=False)
        assert r.status_code == 303, r.text
    skews = [s for (s,) in db_rows(server, "SELECT skew_seconds FROM saml_log ORDER BY id")]
    assert len(skews) == 3 and all(38 <= s <= 44 for s in skews), skews
    health = json.loads(server.ctl("idp", "show", idp.entity_id, "--json").stdout)["health"]
    sk = health["clock_skew"]
    assert sk["responses"] == 3 and 40 <= sk["median_seconds"] <= 42, sk
    assert sk["max_seconds"] == max(skews)
    assert re.search(r"clock skew: median \+4[0-2] s", server.ctl("idp", "show",
                                                                  idp.entity_id).stdout)
    b, _ = signed_in_user(server, "adam@example.com", "admin")
    page = b.get("/admin/idps").text
    assert re.search(r'<dd class="clock-skew">median \+4[0-2] s', page), page
    # An unsigned response records no skew (anyone may post an IssueInstant).
    b64, _ = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"),
                          "eve@example.com", {"email": "eve@example.com"},
                          now=time.time() - 100, sign=False)
    requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64}, timeout=30)
    assert db_rows(server, "SELECT skew_seconds FROM saml_log ORDER BY id DESC LIMIT 1") == \
        [(None,)]


def test_accepted_test_responses_take_nothing_from_the_refusal_budget(make_server, tmp_path):
    server = make_server({"sp": {"acs_refusals_per_minute": "2"}})
    idp = register(server, tmp_path)
    b, _ = signed_in_user(server, "adam@example.com", "admin")
    for _ in range(4):
        rid, q = start_test(b, idp)
        r, _ = answer(server, idp, rid, q["RelayState"][0])
        assert r.status_code == 303 and "/admin/idps/test?id=" in r.headers["Location"], r.text
