"""Bad input over HTTP: CSRF, oversized and malformed bodies, invalid UTF-8, overlong fields, SQL
metacharacters, wrong content types and methods, security headers, open redirects. After each
test the server still answers /healthz (and exits cleanly at the end: see make_server)."""
import socket

import pytest
import requests

from conftest import (Browser, alert_of, csrf_of, db_rows, page_shape, signed_in_user)

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CSRF_REFUSED = "Nothing was changed."


@pytest.fixture(autouse=True)
def still_healthy(server):
    yield
    assert server.proc.poll() is None, "gatehouse died:\n" + server.read_log()
    assert requests.get(server.url("/healthz"), timeout=10).status_code == 200


def raw_post(b, path, body, headers=None, with_csrf=True):
    """POSTs body (str or bytes) as it is, with the browser's cookies; a valid form token is
    prepended unless with_csrf is False."""
    if with_csrf:
        token = csrf_of(b.get("/login" if path == "/login" else "/", allow_redirects=True).text)
        prefix = f"csrf_token={token}&"
        body = (prefix.encode() + body) if isinstance(body, bytes) else prefix + body
    h = dict(FORM)
    h.update(headers or {})
    return b.s.post(b.server.url(path), data=body, headers=h, allow_redirects=False, timeout=30)


def lockout_rows(server):
    return db_rows(server, "SELECT email, failures FROM lockouts")


# -- CSRF ------------------------------------------------------------------------------------

def test_login_without_or_with_a_wrong_csrf_token_is_refused_and_counts_nothing(server):
    server.add_user("user@example.com")
    b = Browser(server)
    b.get("/login")  # the visitor cookie
    for extra in ({}, {"csrf_token": ""}, {"csrf_token": "0" * 64}, {"csrf_token": "zz"},
                  {"csrf_token": "a" * 10000}):
        r = b.s.post(server.url("/login"), allow_redirects=False, timeout=30,
                     data={"email": "user@example.com", "password": "Wrong-Pass-1", **extra})
        assert r.status_code == 403, extra
        assert CSRF_REFUSED in r.text
        assert "gatehouse_session" not in r.cookies
    assert lockout_rows(server) == []


def test_csrf_token_of_another_visitor_is_refused(server):
    server.add_user("user@example.com")
    a, b = Browser(server), Browser(server)
    token_a = csrf_of(a.get("/login").text)
    b.get("/login")
    r = b.s.post(server.url("/login"), allow_redirects=False, timeout=30, data={
        "email": "user@example.com", "password": "Wrong-Pass-1", "csrf_token": token_a})
    assert r.status_code == 403
    # Without any visitor cookie at all.
    r = requests.post(server.url("/login"), allow_redirects=False, timeout=30, data={
        "email": "user@example.com", "password": "Wrong-Pass-1", "csrf_token": token_a})
    assert r.status_code == 403
    assert lockout_rows(server) == []


def test_password_change_without_csrf_changes_nothing(server):
    b, pw = signed_in_user(server)
    fields = {"current_password": pw, "new_password": "Changed-Pass-2",
              "confirm_password": "Changed-Pass-2"}
    r = b.s.post(server.url("/password/change"), data=fields, allow_redirects=False, timeout=30)
    assert r.status_code == 403 and CSRF_REFUSED in r.text
    # A token minted before sign-in is bound to the anonymous visitor, not to this session.
    anon = Browser(server)
    stale = csrf_of(anon.get("/login").text)
    anon.login("user@example.com", pw)
    r = anon.s.post(server.url("/password/change"), data={**fields, "csrf_token": stale},
                    allow_redirects=False, timeout=30)
    assert r.status_code == 403
    assert b.whoami().status_code == 200 and anon.whoami().status_code == 200
    assert Browser(server).login("user@example.com", pw).status_code == 303
    assert Browser(server).login("user@example.com", "Changed-Pass-2").status_code == 401


def test_logout_without_csrf_keeps_the_session(server):
    b, _ = signed_in_user(server)
    r = b.s.post(server.url("/logout"), allow_redirects=False, timeout=30)
    assert r.status_code == 403
    assert b.whoami().status_code == 200


# -- bodies ----------------------------------------------------------------------------------

def test_oversized_bodies_get_413(server):
    server.add_user("user@example.com")
    b = Browser(server)
    b.get("/login")
    big = "email=" + "a" * 20000 + "@example.com&password=x"
    r = raw_post(b, "/login", big)
    assert r.status_code == 413
    assert "too large" in r.text
    # Without a Content-Length (chunked), the limit holds while reading.
    r = b.s.post(server.url("/login"), data=iter([big[i:i + 1000].encode()
                                                  for i in range(0, len(big), 1000)]),
                 headers=FORM, allow_redirects=False, timeout=30)
    assert r.status_code == 413
    r = requests.post(server.url("/api/login"), timeout=30,
                      json={"email": "user@example.com", "password": "x" * 20000})
    assert r.status_code == 413
    assert r.json()["error"] == "too_large"
    assert lockout_rows(server) == []


def test_a_100_kb_email_gets_a_clear_error(server):
    b = Browser(server)
    r = b.login("a" * 100000 + "@example.com", "Whatever-1")
    assert r.status_code == 413 and "The request is too large." in r.text
    r = requests.post(server.url("/api/login"), timeout=30,
                      json={"email": "a" * 100000 + "@example.com", "password": "Whatever-1"})
    assert r.status_code == 413


def test_overlong_fields_within_the_body_limit_get_a_form_error(server):
    server.add_user("user@example.com")
    b = Browser(server)
    r = b.login("a" * 300 + "@example.com", "Whatever-1")
    assert r.status_code == 400
    assert alert_of(r.text) == "The e-mail address or password is too long."
    r = b.login("user@example.com", "P" * 5000)
    assert r.status_code == 400
    assert alert_of(r.text) == "The e-mail address or password is too long."
    r = requests.post(server.url("/api/login"), timeout=30,
                      json={"email": "a" * 300 + "@example.com", "password": "Whatever-1"})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert lockout_rows(server) == []


def test_overlong_new_password_is_refused_with_the_rule(server):
    b, pw = signed_in_user(server)
    r = b.change_password(pw, "Aa1-" * 100)  # 400 bytes: over the 256-byte cap
    assert r.status_code == 422
    assert "Use no more than 256 characters." in r.text
    r = b.change_password(pw, "Aa1-" * 1000)  # 4000 bytes
    assert r.status_code == 400 and alert_of(r.text) == "The password is too long."
    assert Browser(server).login("user@example.com", pw).status_code == 303


@pytest.mark.parametrize("body", [
    "email=%zz&password=x",
    "email=user%40example.com&password=%2",
    "email=user%40example.com&password=%",
    "email=user%00@example.com&password=x",
    "em%zzail=x&password=y",
])
def test_malformed_urlencoding_gets_400(server, body):
    b = Browser(server)
    r = raw_post(b, "/login", body)
    assert r.status_code == 400, r.text
    assert "could not be read" in r.text
    assert lockout_rows(server) == []


@pytest.mark.parametrize("value", [
    b"%ff%fe",            # not UTF-8 at all
    b"%c0%af",            # overlong "/"
    b"%ed%a0%80",         # a surrogate
    b"%f4%90%80%80",      # beyond U+10FFFF
    b"abc%e2%82",         # truncated sequence
    b"\xff\xfe",          # raw bytes, not escaped
    b"%c2%85",            # a C1 control
    b"%01",               # a C0 control
])
def test_invalid_utf8_or_control_characters_get_400(server, value):
    b = Browser(server)
    for body in (b"email=" + value + b"&password=Whatever-1",
                 b"email=user%40example.com&password=" + value):
        r = raw_post(b, "/login", body)
        assert r.status_code == 400, (body, r.status_code)
    assert lockout_rows(server) == []


def test_invalid_utf8_in_json_gets_400(server):
    r = requests.post(server.url("/api/login"), timeout=30,
                      headers={"Content-Type": "application/json"},
                      data=b'{"email": "user@example.com", "password": "\xff\xfe"}')
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    r = requests.post(server.url("/api/login"), timeout=30,
                      json={"email": "user@example.com", "password": "Ok-pass\u0001"})
    assert r.status_code == 400


def test_too_many_fields_get_400(server):
    b = Browser(server)
    body = "&".join(f"f{i}=x" for i in range(100)) + "&email=a%40b.c&password=x"
    assert raw_post(b, "/login", body).status_code == 400


def test_sql_metacharacters_are_an_ordinary_failure(server):
    _, pw = signed_in_user(server)
    baseline = Browser(server).login("nobody@example.com", "Wrong-Pass-1")
    assert baseline.status_code == 401
    for email, password in (("' OR 1=1 --", "x"), ("user@example.com' --", "x"),
                            ("user@example.com", "' OR '1'='1"),
                            ("\" OR \"\"=\"", "' OR 1=1 --"),
                            ("user@example.com'; DROP TABLE users; --", "x"),
                            ("%' OR email LIKE '%", "x")):
        r = Browser(server).login(email, password)
        assert r.status_code == 401, (email, password)
        assert alert_of(r.text) == "The e-mail address or password is not correct."
        assert page_shape(r.text, email) == page_shape(baseline.text, "nobody@example.com")
        r = requests.post(server.url("/api/login"), json={"email": email, "password": password},
                          timeout=30)
        assert r.status_code == 401, (email, password)
    assert db_rows(server, "SELECT COUNT(*) FROM users") == [(1,)]
    assert Browser(server).login("user@example.com", pw).status_code == 303


def test_an_address_with_an_apostrophe_works(server):
    temp = server.add_user("o'brien@example.com")
    b = Browser(server)
    r = b.login("O'Brien@example.com", temp)
    assert r.status_code == 303 and r.headers["Location"] == "/password/change"
    assert "o'brien@example.com" in server.ctl("user", "list").stdout


# -- content types and routes -----------------------------------------------------------------

def test_wrong_content_type_gets_415(server):
    b = Browser(server)
    token = csrf_of(b.get("/login").text)
    body = f"csrf_token={token}&email=a%40b.c&password=x"
    for ct in ("text/plain", "multipart/form-data; boundary=x", "application/json",
               "application/x-www-form-urlencodedX"):
        r = b.s.post(server.url("/login"), data=body, headers={"Content-Type": ct},
                     allow_redirects=False, timeout=30)
        assert r.status_code == 415, ct
    # Parameters after the type are fine.
    r = b.s.post(server.url("/login"), data=body, allow_redirects=False, timeout=30,
                 headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
    assert r.status_code == 401
    for ct in (None, "text/plain", "application/x-www-form-urlencoded"):
        headers = {"Content-Type": ct} if ct else {}
        r = requests.post(server.url("/api/login"), timeout=30, headers=headers,
                          data='{"email": "a@b.c", "password": "x"}')
        assert r.status_code == 415, ct
        assert r.json()["error"] == "unsupported_media_type"


def test_unknown_route_404_and_wrong_method_405(server):
    r = requests.get(server.url("/nope"), timeout=30)
    assert r.status_code == 404 and "Page not found" in r.text
    r = requests.get(server.url("/api/nope"), timeout=30)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = requests.get(server.url("/static/../conf/gatehouse.conf"), timeout=30)
    assert r.status_code == 404
    for method, path in (("GET", "/logout"), ("PUT", "/login"), ("DELETE", "/login"),
                         ("GET", "/api/login"), ("POST", "/api/whoami"),
                         ("PATCH", "/password/change"), ("POST", "/healthz")):
        r = requests.request(method, server.url(path), timeout=30, allow_redirects=False)
        assert r.status_code == 405, (method, path, r.status_code)


def every_kind_of_response(server):
    b, pw = signed_in_user(server)
    anon = Browser(server)
    yield "login", anon.get("/login")
    yield "login 401", anon.login("user@example.com", "Wrong-Pass-1")
    yield "home", b.get("/")
    yield "change", b.get("/password/change")
    yield "whoami", b.whoami()
    yield "whoami 401", anon.whoami()
    yield "404", anon.get("/nope")
    yield "405", anon.get("/logout")
    yield "403 csrf", anon.s.post(server.url("/login"), data={"email": "x"}, timeout=30)
    yield "413", anon.s.post(server.url("/login"), data="x" * 20000, headers=FORM, timeout=30)
    yield "415", anon.s.post(server.url("/login"), data="x=1", timeout=30,
                             headers={"Content-Type": "text/plain"})
    yield "healthz", anon.get("/healthz")
    yield "metrics", anon.get("/metrics")
    yield "metadata", anon.get("/saml/metadata")
    yield "redirect", anon.get("/")
    yield "api login", requests.post(server.url("/api/login"), timeout=30,
                                     json={"email": "user@example.com", "password": pw})


def test_security_headers_on_every_response(server):
    for name, r in every_kind_of_response(server):
        h = r.headers
        csp = h.get("Content-Security-Policy", "")
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, name
        assert "script-src" not in csp, name  # no scripts at all
        assert h.get("X-Frame-Options") == "DENY", name
        assert h.get("Referrer-Policy") == "no-referrer", name
        assert h.get("X-Content-Type-Options") == "nosniff", name
        assert h.get("Cache-Control") == "no-store", name
    css = requests.get(server.url("/static/gatehouse.css"), timeout=30)
    assert css.status_code == 200
    assert css.headers.get("X-Frame-Options") == "DENY"
    assert "no-store" not in css.headers.get("Cache-Control", "")


# -- redirects -------------------------------------------------------------------------------

EVIL = ["//evil.com", "https://evil.com", "/\\evil.com", "\\/evil.com", "/\\/evil.com",
        "//evil.com/%2F..", "http:evil.com", "javascript:alert(1)", " //evil.com", "/\t/evil.com",
        "/\r\nLocation: https://evil.com", "///evil.com", "https:/evil.com", "evil.com",
        "/\u3002evil.com", ""]


def test_return_to_open_redirects_are_refused_at_sign_in(server):
    _, pw = signed_in_user(server)
    for evil in EVIL:
        b = Browser(server)
        r = b.post_form("/login", "/login", {"email": "user@example.com", "password": pw,
                                              "return_to": evil})
        assert r.status_code == 303, (evil, r.status_code)
        assert r.headers["Location"] == "/", (evil, r.headers["Location"])
    # A same-origin path is followed.
    b = Browser(server)
    r = b.post_form("/login", "/login", {"email": "user@example.com", "password": pw,
                                          "return_to": "/password/change?x=1"})
    assert r.headers["Location"] == "/password/change?x=1"


def test_return_to_open_redirects_are_refused_when_already_signed_in(server):
    b, _ = signed_in_user(server)
    for evil in EVIL:
        r = b.get("/login", params={"return_to": evil})
        assert r.status_code == 303 and r.headers["Location"] == "/", evil


def test_return_to_is_not_echoed_into_the_page_when_unsafe(server):
    r = Browser(server).get("/login", params={"return_to": '//evil.com/"><b>x</b>'})
    assert "evil.com" not in r.text and "<b>x</b>" not in r.text
    assert 'name="return_to" value="/"' in r.text


# -- the connection level --------------------------------------------------------------------

def raw_exchange(server, data, timeout=5):
    """Sends data, then reads the answer; the server may answer and close before it has read
    everything (then sending or reading fails with a reset, which is fine)."""
    out = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except OSError:  # a timeout or a reset
            pass
    return out


def test_garbage_requests_do_not_hurt_the_server(server):
    for data in (b"GARBAGE\r\n\r\n", b"\x00\x01\x02\xff" * 100 + b"\r\n\r\n",
                 b"GET / HTTP/9.9\r\n\r\n", b"GET " + b"/a" * 40000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                 b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 100000 + b"\r\n\r\n",
                 b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                 b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
                 b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                 b"GET /%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n"):
        out = raw_exchange(server, data)
        if out:
            status = int(out.split(b" ", 2)[1])
            assert 400 <= status <= 505, (data[:40], out[:80])
        assert requests.get(server.url("/healthz"), timeout=10).status_code == 200


def test_cookie_garbage_is_ignored(server):
    b, _ = signed_in_user(server)
    for cookie in ("gatehouse_session=" + "z" * 64, "gatehouse_session=%ff%fe",
                   "gatehouse_session=" + "a" * 5000, "gatehouse_csrf=\x01; gatehouse_session=",
                   "gatehouse_session=' OR 1=1 --"):
        r = requests.get(server.url("/api/whoami"), headers={"Cookie": cookie}, timeout=30)
        assert r.status_code == 401, cookie
    for auth in ("Bearer", "Bearer ", "Bearer " + "f" * 64, "Basic dXNlcjpwYXNz",
                 "Bearer " + b.session_cookie() + "x"):
        r = requests.get(server.url("/api/whoami"), headers={"Authorization": auth}, timeout=30)
        assert r.status_code == 401, auth
