"""Sessions: the cookie's attributes, token replacement, idle and absolute timeouts, server-side
logout, and a store that keeps only SHA-256 of the tokens."""
import glob
import hashlib
import os
import re

import pytest
import requests

from conftest import STRONG, Browser, csrf_of, db_rows, signed_in_user

MIN = 60


def set_cookies(r):
    """The raw Set-Cookie headers of a response, by cookie name."""
    out = {}
    for h in r.raw.headers.getlist("Set-Cookie"):
        out[h.split("=", 1)[0]] = h
    return out


def attributes(header):
    parts = [p.strip() for p in header.split(";")]
    return parts[0].split("=", 1)[1], {p.split("=")[0].lower(): p for p in parts[1:]}


def whoami_with(server, token=None, bearer=None):
    headers = {}
    if token is not None:
        headers["Cookie"] = f"gatehouse_session={token}"
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    return requests.get(server.url("/api/whoami"), headers=headers, timeout=30)


def api_login(server, email, password):
    r = requests.post(server.url("/api/login"), json={"email": email, "password": password},
                      timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_session_cookie_is_httponly_samesite_lax_and_not_secure_on_http(server):
    temp = server.add_user("user@example.com")
    b = Browser(server)
    r = b.login("user@example.com", temp)
    cookie = set_cookies(r)["gatehouse_session"]
    value, attrs = attributes(cookie)
    assert re.fullmatch(r"[0-9a-f]{64}", value), cookie  # 256 bits
    assert "httponly" in attrs and attrs["samesite"].lower() == "samesite=lax", cookie
    assert attrs.get("path") == "Path=/"
    assert "secure" not in attrs, cookie
    assert "max-age" not in attrs and "expires" not in attrs, cookie  # a browser-session cookie
    r = b.change_password(temp, STRONG)
    _, attrs = attributes(set_cookies(r)["gatehouse_session"])
    assert "httponly" in attrs and "secure" not in attrs
    csrf = set_cookies(Browser(server).get("/login"))["gatehouse_csrf"]
    assert "HttpOnly" in csrf and "Secure" not in csrf


def test_session_cookie_is_secure_when_base_url_is_https(make_server):
    # Still served over plain HTTP on loopback, as behind a TLS-terminating proxy.
    server = make_server({"server": {"base_url": "https://gatehouse.example"}})
    temp = server.add_user("user@example.com")
    page = requests.get(server.url("/login"), timeout=30)
    csrf_cookie = set_cookies(page)["gatehouse_csrf"]
    assert "; Secure" in csrf_cookie
    assert page.headers.get("Strict-Transport-Security", "").startswith("max-age=")
    visitor = attributes(csrf_cookie)[0]
    # A browser sends Secure cookies only over HTTPS; send this one by hand.
    r = requests.post(server.url("/login"), timeout=30, allow_redirects=False,
                      headers={"Cookie": f"gatehouse_csrf={visitor}"},
                      data={"email": "user@example.com", "password": temp,
                            "csrf_token": csrf_of(page.text)})
    assert r.status_code == 303, r.text
    value, attrs = attributes(set_cookies(r)["gatehouse_session"])
    assert "secure" in attrs and "httponly" in attrs
    assert attrs["samesite"].lower() == "samesite=lax"
    assert whoami_with(server, value).status_code == 403  # restricted: change first
    # Logging out clears it with the same attributes.
    r = requests.post(server.url("/logout"), timeout=30, allow_redirects=False,
                      headers={"Cookie": f"gatehouse_csrf={visitor}; gatehouse_session={value}"},
                      data={"csrf_token": csrf_of(requests.get(
                          server.url("/password/change"), timeout=30,
                          headers={"Cookie": f"gatehouse_csrf={visitor}; "
                                             f"gatehouse_session={value}"}).text)})
    assert r.status_code == 303
    cleared = set_cookies(r)["gatehouse_session"]
    assert "Max-Age=0" in cleared and "Secure" in cleared
    assert whoami_with(server, value).status_code == 401


def test_a_planted_token_is_not_reused_at_sign_in(server):
    _, pw = signed_in_user(server)
    b = Browser(server)
    planted = "ab" * 32
    b.s.cookies.set("gatehouse_session", planted, domain="127.0.0.1", path="/")
    r = b.login("user@example.com", pw)
    assert r.status_code == 303
    fresh = set_cookies(r)["gatehouse_session"]
    assert planted not in fresh
    assert b.session_cookie() != planted
    assert whoami_with(server, planted).status_code == 401
    assert b.whoami().status_code == 200


def test_signing_in_again_replaces_and_revokes_the_old_token(server):
    b, pw = signed_in_user(server)
    old = b.session_cookie()
    assert whoami_with(server, old).status_code == 200
    # POST /login while signed in (the form token comes from the page the browser is on).
    r = b.post_form("/", "/login", {"email": "user@example.com", "password": pw})
    assert r.status_code == 303, r.text
    new = b.session_cookie()
    assert new != old
    assert whoami_with(server, old).status_code == 401
    assert whoami_with(server, new).status_code == 200


def test_token_replaced_after_the_forced_change(server):
    temp = server.add_user("user@example.com")
    b = Browser(server)
    b.login("user@example.com", temp)
    restricted = b.session_cookie()
    assert whoami_with(server, restricted).status_code == 403
    assert b.change_password(temp, STRONG).status_code == 303
    full = b.session_cookie()
    assert full != restricted
    assert whoami_with(server, restricted).status_code == 401
    assert whoami_with(server, full).status_code == 200


def test_web_session_idles_out_after_20_minutes(server):
    b, _ = signed_in_user(server)
    token = b.session_cookie()
    server.advance(19 * MIN)
    assert b.whoami().status_code == 200
    server.advance(19 * MIN)  # activity keeps it alive
    assert b.get("/").status_code == 200
    server.advance(20 * MIN)
    assert b.whoami().status_code == 401
    assert b.get("/").headers["Location"] == "/login"
    sha = hashlib.sha256(token.encode()).hexdigest()
    assert db_rows(server, "SELECT 1 FROM sessions WHERE token_hash = ?", (sha,)) == []
    # Going back in time does not bring it back.
    server.advance(-20 * MIN)
    assert whoami_with(server, token).status_code == 401


def test_web_idle_boundary_without_activity(server):
    b, _ = signed_in_user(server)
    other, _ = signed_in_user(server, email="other@example.com")
    server.advance(19 * MIN + 50)
    assert b.whoami().status_code == 200
    server.advance(20)  # 20 min 10 s after other's last request
    assert other.whoami().status_code == 401


def test_web_idle_setting_from_policy_set(server):
    server.ctl("policy", "set", "session.web_idle_minutes", "60")
    b, _ = signed_in_user(server)
    server.advance(59 * MIN)
    assert b.whoami().status_code == 200
    server.advance(60 * MIN)
    assert b.whoami().status_code == 401


def test_client_session_idles_out_after_5_minutes(server):
    _, pw = signed_in_user(server)
    out = api_login(server, "user@example.com", pw)
    assert out["expires_in"] == 300
    token = out["token"]
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert whoami_with(server, bearer=token).status_code == 200
    server.advance(4 * MIN)
    assert whoami_with(server, bearer=token).status_code == 200
    server.advance(4 * MIN + 50)
    assert whoami_with(server, bearer=token).status_code == 200
    server.advance(5 * MIN)
    assert whoami_with(server, bearer=token).status_code == 401


def test_client_idle_from_policy_set_and_web_sessions_unaffected(server):
    b, pw = signed_in_user(server)
    server.ctl("policy", "set", "session.client_idle_minutes", "10")
    out = api_login(server, "user@example.com", pw)
    assert out["expires_in"] == 600
    server.advance(9 * MIN)
    assert whoami_with(server, bearer=out["token"]).status_code == 200
    assert b.whoami().status_code == 200
    server.advance(10 * MIN)
    assert whoami_with(server, bearer=out["token"]).status_code == 401
    assert b.whoami().status_code == 200  # 10 min idle is fine for the browser (20)


def test_absolute_lifetime_ends_an_active_session(make_server):
    server = make_server({"server": {"session_max_hours": "1"}})
    b, pw = signed_in_user(server)
    server.ctl("policy", "set", "session.client_idle_minutes", "30")
    client = api_login(server, "user@example.com", pw)["token"]
    for _ in range(3):
        server.advance(15 * MIN)
        assert b.whoami().status_code == 200
        assert whoami_with(server, bearer=client).status_code == 200
    server.advance(14 * MIN)
    assert b.whoami().status_code == 200
    server.advance(1 * MIN)  # one hour after sign-in, however active
    assert b.whoami().status_code == 401
    assert whoami_with(server, bearer=client).status_code == 401


def test_default_absolute_lifetime_is_12_hours(server):
    server.ctl("policy", "set", "session.web_idle_minutes", "120")
    b, _ = signed_in_user(server)
    for _ in range(6):
        server.advance(110 * MIN)  # 11 h
        assert b.whoami().status_code == 200
    server.advance(59 * MIN)
    assert b.whoami().status_code == 200
    server.advance(1 * MIN)
    assert b.whoami().status_code == 401


def test_logout_revokes_the_session_server_side(server):
    b, _ = signed_in_user(server)
    token = b.session_cookie()
    r = b.post_form("/", "/logout", {})
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert "Max-Age=0" in set_cookies(r)["gatehouse_session"]
    # Replaying the old cookie gets nothing.
    assert whoami_with(server, token).status_code == 401
    assert requests.get(server.url("/"), headers={"Cookie": f"gatehouse_session={token}"},
                        allow_redirects=False, timeout=30).headers["Location"] == "/login"


def test_api_logout_revokes_a_bearer_token(server):
    _, pw = signed_in_user(server)
    token = api_login(server, "user@example.com", pw)["token"]
    r = requests.post(server.url("/api/logout"), headers={"Authorization": f"Bearer {token}"},
                      timeout=30)
    assert r.status_code == 204
    assert whoami_with(server, bearer=token).status_code == 401
    r = requests.post(server.url("/api/logout"), headers={"Authorization": f"Bearer {token}"},
                      timeout=30)
    assert r.status_code == 401


def store_bytes(server):
    data = b""
    for path in glob.glob(os.path.join(server.tmp, "gatehouse.db*")):
        with open(path, "rb") as f:
            data += f.read()
    return data


@pytest.mark.sqlite_only("reads the raw bytes of the SQLite file and its WAL")
def test_the_store_keeps_only_the_sha256_of_tokens(server):
    b, pw = signed_in_user(server)
    web = b.session_cookie()
    client = api_login(server, "user@example.com", pw)["token"]
    assert web != client
    raw = store_bytes(server)
    assert raw, "no store files"
    stored = {h for (h,) in db_rows(server, "SELECT token_hash FROM sessions")}
    for token in (web, client):
        assert token.encode() not in raw, "a raw token is in the store"
        assert token.upper().encode() not in raw
        assert hashlib.sha256(token.encode()).hexdigest() in stored
    # Also after a checkpoint folds the WAL into the main file.
    import sqlite3
    con = sqlite3.connect(os.path.join(server.tmp, "gatehouse.db"), timeout=10)
    con.execute("PRAGMA wal_checkpoint(FULL)")
    con.close()
    raw = store_bytes(server)
    assert web.encode() not in raw and client.encode() not in raw


def test_tokens_are_unpredictable(server):
    _, pw = signed_in_user(server)
    tokens = {api_login(server, "user@example.com", pw)["token"] for _ in range(20)}
    assert len(tokens) == 20
    # No shared prefix beyond what chance gives.
    assert len({t[:8] for t in tokens}) == 20


def test_a_disabled_users_sessions_end(server):
    b, pw = signed_in_user(server)
    client = api_login(server, "user@example.com", pw)["token"]
    server.ctl("user", "disable", "user@example.com")
    assert b.whoami().status_code == 401
    assert whoami_with(server, bearer=client).status_code == 401
    server.ctl("user", "enable", "user@example.com")
    assert b.whoami().status_code == 401  # ended, not suspended
