"""GET /metrics as an SRE reads it: sign-ins by method and result, lockouts, SAML refusals by IdP
and reason (an unregistered issuer never becomes a label), active sessions, forward-auth
decisions, and latency histograms of the login and ACS routes."""
import os
import re

import requests

from conftest import Browser, metric, signed_in_user
from samlidp import MiniIdP, request_id_from_redirect

WRONG = "Wrong-Password-77"


def scrape(server):
    r = requests.get(server.url("/metrics"), timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    return r.text


def test_signins_lockouts_and_active_sessions(server):
    _, pw = signed_in_user(server, "a@example.com")
    assert metric(server, 'gatehouse_signins_total{method="password",result="success"}') == 1
    b = Browser(server)
    for _ in range(6):
        b.login("a@example.com", WRONG)
    b.login("a@example.com", pw)
    assert metric(server, 'gatehouse_signins_total{method="password",result="failure"}') == 5
    assert metric(server, 'gatehouse_signins_total{method="password",result="locked"}') == 2
    assert metric(server, "gatehouse_lockouts_total") == 1
    # Two browser sessions (the forced change replaces the first) and one API client session.
    _, pw_b = signed_in_user(server, "b@example.com")
    assert metric(server, 'gatehouse_sessions_active{kind="web"}') == 2
    assert metric(server, 'gatehouse_sessions_active{kind="client"}') == 0
    r = requests.post(server.url("/api/login"), json={"email": "b@example.com",
                                                      "password": pw_b}, timeout=30)
    assert r.status_code == 200, r.text
    assert metric(server, 'gatehouse_sessions_active{kind="client"}') == 1
    # Idle past the policy (20 minutes for browsers): no longer active, even before pruning.
    server.advance(21 * 60)
    assert metric(server, 'gatehouse_sessions_active{kind="web"}') == 0


def test_login_latency_histogram(server):
    before = metric(server, 'gatehouse_request_duration_seconds_count{route="login"}')
    signed_in_user(server, "h@example.com")
    Browser(server).login("h@example.com", WRONG)
    text = scrape(server)
    count = metric(server, 'gatehouse_request_duration_seconds_count{route="login"}')
    assert count >= before + 2
    buckets = [(float(le) if le != "+Inf" else float("inf"), float(v)) for le, v in re.findall(
        r'gatehouse_request_duration_seconds_bucket\{route="login",le="([^"]+)"\} (\S+)', text)]
    assert buckets[-1] == (float("inf"), count)
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), buckets
    assert metric(server, 'gatehouse_request_duration_seconds_sum{route="login"}') > 0
    # Every forward-auth result has its counter from the start.
    for result in ("allowed", "bypass", "unauthenticated", "forbidden", "error"):
        assert f'gatehouse_verify_total{{result="{result}"}} ' in text


def test_saml_signins_and_refusals_by_idp_and_reason(server, tmp_path):
    idp = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com")
    sp, acs = server.url("/saml/metadata"), server.url("/saml/acs")

    def post(b64, relay=None):
        data = {"SAMLResponse": b64}
        if relay:
            data["RelayState"] = relay
        return requests.post(acs, data=data, allow_redirects=False, timeout=30)

    b = Browser(server)
    rid, q = request_id_from_redirect(b.get(f"/saml/login?idp={idp.entity_id}")
                                      .headers["Location"])
    ok, _ = idp.response(sp, acs, "s@example.com", {"email": "s@example.com"},
                         in_response_to=rid)
    assert post(ok, q["RelayState"][0]).status_code == 303
    assert metric(server, 'gatehouse_signins_total{method="sso",result="success"}') == 1
    assert metric(server, 'gatehouse_request_duration_seconds_count{route="acs"}') == 1
    # Registered issuer, wrong audience: counted under that IdP and reason.
    bad, _ = idp.response(sp, acs, "s@example.com", audience="https://elsewhere.example/")
    assert post(bad).status_code == 403
    assert metric(server, 'gatehouse_saml_refusals_total{idp="%s",reason="audience_mismatch"}'
                  % idp.entity_id) == 1
    # An issuer nobody registered: "unknown", not the sender's text.
    stranger = MiniIdP(os.path.join(str(tmp_path)), entity_id='https://evil.example/"x', name="x")
    forged, _ = stranger.response(sp, acs, "s@example.com")
    assert post(forged).status_code in (400, 403)
    text = scrape(server)
    assert "evil.example" not in text
    assert re.search(r'gatehouse_saml_refusals_total\{idp="unknown",reason="[a-z_]+"\} 1', text)
    assert metric(server, 'gatehouse_signins_total{method="sso",result="failure"}') == 2


def test_forward_auth_decisions_and_latency(server):
    """GET and HEAD /auth/verify count their decision and land in the verify histogram."""
    before = metric(server, 'gatehouse_request_duration_seconds_count{route="verify"}')
    unauth = metric(server, 'gatehouse_verify_total{result="unauthenticated"}')
    hdrs = {"X-Original-URL": server.url("/app/"), "X-Original-Method": "GET"}
    r = requests.get(server.url("/auth/verify"), headers=hdrs, allow_redirects=False, timeout=10)
    assert r.status_code == 401, r.text
    r = requests.head(server.url("/auth/verify"), headers=hdrs, allow_redirects=False, timeout=10)
    assert r.status_code == 401
    assert metric(server, 'gatehouse_verify_total{result="unauthenticated"}') == unauth + 2
    assert metric(server, 'gatehouse_request_duration_seconds_count{route="verify"}') == before + 2
