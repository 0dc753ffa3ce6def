"""GET /auth/verify spoken to directly with exactly the headers the proxies send: nginx's
auth_request (X-Original-URL/-Method, configured in the README's snippet), Traefik's forwardAuth
and Caddy's forward_auth (X-Forwarded-Proto/-Host/-Uri/-Method, believed only from
[server] trusted_proxies). The same flows through a real nginx and Caddy are in
test_forward_auth_proxies.py."""
import os
import signal
import socket
import time
import urllib.parse

import pytest
import requests

from conftest import db_rows, metric, signed_in_user

_real_getaddrinfo = socket.getaddrinfo


def _loopback_for_test_names(host, *args, **kw):
    """Names under example.test resolve to 127.0.0.1 in this process (no DNS needed), so that
    cookies for Domain=example.test are kept and sent as a browser would."""
    if isinstance(host, str) and (host == "example.test" or host.endswith(".example.test")):
        host = "127.0.0.1"
    return _real_getaddrinfo(host, *args, **kw)


@pytest.fixture(autouse=True)
def example_test_resolves_to_loopback(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_for_test_names)

def fa_server(make_server, extra_rules=(), default="deny", server=None):
    rules = [
        "admin.example.test / roles=owner,admin",
        "*.example.test /public bypass",
        "app.example.test /blocked deny",
        "app.example.test /finance groups=finance",
        "app.example.test /secure mfa",
        *extra_rules,
        "*.example.test / signed_in",
    ]
    conf = dict({"cookie_domain": "example.test", "trusted_proxies": "127.0.0.1/32"},
                **(server or {}))
    return _with_rules(make_server({"server": conf}, start=False), default, rules)


def _with_rules(srv, default, rules):
    with open(srv.conf_path, "a") as f:
        f.write("[access]\n")
        f.write(f"default = {default}\n")
        for r in rules:
            f.write(f"rule = {r}\n")
    return srv


def start_auth_host(make_server, **kw):
    """A server whose base URL is http://auth.example.test:PORT (reached on 127.0.0.1: srv.base
    stays the loopback address the harness talks to)."""
    srv = fa_server(make_server, **kw)
    _set_base(srv, f"http://auth.example.test:{srv.port}")
    return srv.start()


def _set_base(srv, base):
    text = open(srv.conf_path).read().replace(f"base_url = {srv.base}", f"base_url = {base}")
    open(srv.conf_path, "w").write(text)
    srv.public_base = base


def verify(srv, url, method="GET", cookie=None, headers=None, nginx=True, http_method="GET"):
    h = dict(headers or {})
    if nginx:
        h.update({"X-Original-URL": url, "X-Original-Method": method})
    else:
        u = urllib.parse.urlsplit(url)
        h.update({"X-Forwarded-Method": method, "X-Forwarded-Proto": u.scheme,
                  "X-Forwarded-Host": u.netloc,
                  "X-Forwarded-Uri": u.path + ("?" + u.query if u.query else ""),
                  "X-Forwarded-For": "203.0.113.7"})
    cookies = {"gatehouse_session": cookie} if cookie else None
    return requests.request(http_method, f"http://127.0.0.1:{srv.port}/auth/verify", headers=h,
                            cookies=cookies, allow_redirects=False, timeout=10)


def auth_url(srv, path):
    return srv.public_base + path


def login_cookie(srv, email, role="member"):
    """Signs in at the auth host's public name (the cookie is for Domain=example.test)."""
    loopback = srv.base
    srv.base = srv.public_base
    try:
        b, _ = signed_in_user(srv, email, role)
    finally:
        srv.base = loopback
    cookie = b.session_cookie()
    assert cookie, "no session cookie"
    return b, cookie


def test_nginx_unauthenticated_gets_401_with_location_carrying_rd(make_server):
    srv = start_auth_host(make_server)
    port = srv.port
    url = f"http://app.example.test:{port}/docs?page=2"
    r = verify(srv, url)
    assert r.status_code == 401
    loc = r.headers["Location"]
    assert loc.startswith(f"http://auth.example.test:{port}/login?rd=")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["rd"] == [url]


def test_traefik_headers_redirect_302_for_get_and_303_for_post(make_server):
    srv = start_auth_host(make_server)
    url = f"http://app.example.test:{srv.port}/docs"
    r = verify(srv, url, nginx=False)
    assert r.status_code == 302 and "/login?rd=" in r.headers["Location"]
    r = verify(srv, url, method="POST", nginx=False)
    assert r.status_code == 303 and "/login?rd=" in r.headers["Location"]
    r = verify(srv, url, method="HEAD", nginx=False, http_method="HEAD")
    assert r.status_code == 302


def test_forwarded_headers_are_ignored_from_an_untrusted_peer(make_server):
    srv = start_auth_host(make_server, server={"trusted_proxies": "10.9.9.9/32"})
    r = verify(srv, f"http://app.example.test:{srv.port}/public/x", nginx=False)
    assert r.status_code == 400  # without the X-Forwarded-* the original request is unknown
    assert "trusted_proxies" in srv.read_log()


def test_api_clients_get_401_without_location(make_server):
    srv = start_auth_host(make_server)
    url = f"http://app.example.test:{srv.port}/api/items"
    for extra in ({"Accept": "application/json"}, {"X-Requested-With": "XMLHttpRequest"}):
        for nginx in (True, False):
            r = verify(srv, url, headers=extra, nginx=nginx)
            assert r.status_code == 401, (extra, nginx)
            assert "Location" not in r.headers


def test_signed_in_member_gets_identity_headers(make_server):
    srv = start_auth_host(make_server)
    _, cookie = login_cookie(srv, "mia@example.com")
    r = verify(srv, f"http://app.example.test:{srv.port}/docs", cookie=cookie)
    assert r.status_code == 200, r.text
    assert r.headers["Remote-User"] == "mia@example.com"
    assert r.headers["Remote-Email"] == "mia@example.com"
    assert r.headers["Remote-Groups"] == "member"
    assert r.headers["Remote-Role"] == "member"
    assert r.headers["Remote-Auth-Method"] == "password"
    # Traefik's headers give the same answer.
    r = verify(srv, f"http://app.example.test:{srv.port}/docs", cookie=cookie, nginx=False)
    assert r.status_code == 200 and r.headers["Remote-User"] == "mia@example.com"


def test_rules_roles_bypass_deny_groups_mfa_and_default(make_server):
    srv = start_auth_host(make_server)
    _, member = login_cookie(srv, "mia@example.com")
    _, admin = login_cookie(srv, "ada@example.com", role="admin")
    p = srv.port
    assert verify(srv, f"http://admin.example.test:{p}/", cookie=member).status_code == 403
    r = verify(srv, f"http://admin.example.test:{p}/users", cookie=admin)
    assert r.status_code == 200 and r.headers["Remote-Role"] == "admin"
    # bypass needs no session; deny refuses everyone, signed in or not
    assert verify(srv, f"http://app.example.test:{p}/public/logo.png").status_code == 200
    assert verify(srv, f"http://app.example.test:{p}/blocked/x", cookie=admin).status_code == 403
    assert verify(srv, f"http://app.example.test:{p}/blocked").status_code == 403
    # groups= and mfa: a password session without TOTP has neither
    assert verify(srv, f"http://app.example.test:{p}/finance", cookie=admin).status_code == 403
    assert verify(srv, f"http://app.example.test:{p}/secure/", cookie=admin).status_code == 403
    # no rule matches another domain: default = deny
    assert verify(srv, "http://other.test/", cookie=admin).status_code == 403
    # each decision is counted by its result in /metrics
    assert metric(srv, 'gatehouse_verify_total{result="bypass"}') == 1
    assert metric(srv, 'gatehouse_verify_total{result="unauthenticated"}') == 0


def test_dot_segments_and_escapes_cannot_reach_around_a_rule(make_server):
    srv = start_auth_host(make_server)
    p = srv.port
    for sneaky in ("/public/../blocked/x", "/public/%2e%2e/blocked", "//blocked",
                   "/public%2f..%2fblocked", "/./blocked"):
        r = verify(srv, f"http://app.example.test:{p}{sneaky}")
        assert r.status_code == 403, sneaky
    # a prefix matches at a segment boundary only
    r = verify(srv, f"http://app.example.test:{p}/publicity")
    assert r.status_code == 401


def test_bearer_token_works_and_refreshes_the_idle_timer(make_server):
    srv = start_auth_host(make_server)
    login_cookie(srv, "tom@example.com")
    tok = requests.post(srv.url("/api/login"), json={"email": "tom@example.com", "password": "Correct-Horse-92"},
                        timeout=10).json()["token"]
    url = f"http://app.example.test:{srv.port}/docs"
    auth = {"Authorization": f"Bearer {tok}"}
    r = verify(srv, url, headers=auth)
    assert r.status_code == 200 and r.headers["Remote-User"] == "tom@example.com"
    # client sessions idle out after 5 minutes; each verify refreshes the timer
    for _ in range(3):
        srv.advance(4 * 60)
        assert verify(srv, url, headers=auth).status_code == 200
    srv.advance(6 * 60)
    assert verify(srv, url, headers=auth).status_code == 401


def test_sighup_and_config_reload_put_new_rules_in_force(make_server, tmp_path):
    pid_file = str(tmp_path / "gatehouse.pid")
    srv = start_auth_host(make_server, server={"pid_file": pid_file})
    p = srv.port
    assert verify(srv, f"http://app.example.test:{p}/news").status_code == 401
    text = open(srv.conf_path).read().replace(
        "rule = *.example.test /public bypass", "rule = *.example.test /news bypass")
    open(srv.conf_path, "w").write(text)
    out = srv.ctl("config", "reload").stdout
    assert "reload" in out
    deadline = time.monotonic() + 10
    while verify(srv, f"http://app.example.test:{p}/news").status_code != 200:
        assert time.monotonic() < deadline, srv.read_log()
        time.sleep(0.05)
    # a bad rule is refused by the CLI with FILE:LINE, and a SIGHUP keeps the rules in force
    open(srv.conf_path, "a").write("rule = app.example.test /x frobnicate\n")
    bad = srv.ctl("config", "reload", check=False)
    assert bad.returncode == 1 and f"{srv.conf_path}:" in bad.stderr and "frobnicate" in bad.stderr
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "configuration not reloaded" not in srv.read_log():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert verify(srv, f"http://app.example.test:{p}/news").status_code == 200


def test_access_check_explains_which_rule_decides(make_server):
    srv = start_auth_host(make_server)
    srv.add_user("mia@example.com")
    out = srv.ctl("access", "check", f"https://admin.example.test/x", "--user",
                  "mia@example.com").stdout
    assert "deny" in out and "line" in out and "roles=owner,admin" in out
    assert "role member is not one of owner,admin" in out
    out = srv.ctl("access", "check", "https://app.example.test/public/a").stdout
    assert "allow" in out and "bypass" in out
    out = srv.ctl("access", "check", "https://elsewhere.test/").stdout
    assert "deny" in out and "default" in out


def test_bad_rules_stop_start_up_with_file_and_line(make_server):
    for bad, words in (("app.example.test /x frobnicate", "unknown policy"),
                       ("app.example.test noslash signed_in", "normalised path"),
                       ("app.example.test /x", "no policy"),
                       ("app.example.test /x bypass mfa", "stands alone"),
                       ("app.example.test /x roles=", "roles=")):
        srv = make_server(start=False)
        _with_rules(srv, "signed_in", [bad])
        lines = open(srv.conf_path).read().splitlines()
        p = srv.ctl("access", "check", "https://a.test/", check=False)
        assert p.returncode == 1
        assert f"{srv.conf_path}:{len(lines)}:" in p.stderr and words in p.stderr, p.stderr


def test_cookie_domain_is_refused_when_public_or_not_containing_the_base_host(make_server):
    for domain, words in (("com", "single label"), ("co.uk", "public suffix"),
                          ("github.io", "public suffix"), ("example.org", "does not contain")):
        srv = make_server({"server": {"cookie_domain": domain}}, start=False)
        _set_base(srv, "http://auth.example.test:8080")
        p = srv.ctl("user", "list", check=False)
        assert p.returncode == 1 and "cookie_domain" in p.stderr and words in p.stderr, p.stderr


def test_mfa_rule_lets_in_a_session_signed_in_with_totp_only(make_server):
    from test_mfa import enrol, password_step, submit_code, totp
    srv = start_auth_host(make_server)
    b, cookie = login_cookie(srv, "tia@example.com")
    url = f"http://app.example.test:{srv.port}/secure/x"
    assert verify(srv, url, cookie=cookie).status_code == 403  # no second factor used
    loopback, srv.base = srv.base, srv.public_base
    try:
        secret, _ = enrol(b, srv)
        # enrolling does not make this session a two-factor one
        assert verify(srv, url, cookie=cookie).status_code == 403
        b2 = password_step(srv, "tia@example.com", "Correct-Horse-92")
        r = submit_code(b2, totp(secret, srv, 1))
        assert r.status_code == 303, r.text
        mfa_cookie = b2.session_cookie()
    finally:
        srv.base = loopback
    r = verify(srv, url, cookie=mfa_cookie)
    assert r.status_code == 200 and r.headers["Remote-User"] == "tia@example.com"
    # the API's sign-in with a TOTP code counts too (a later step: each is accepted once)
    srv.advance(60)
    tok = requests.post(srv.url("/api/login"), json={
        "email": "tia@example.com", "password": "Correct-Horse-92",
        "totp": totp(secret, srv, 0)}, timeout=10).json()["token"]
    assert verify(srv, url, headers={"Authorization": f"Bearer {tok}"}).status_code == 200


def test_header_names_are_configurable_and_a_restricted_session_is_not_signed_in(make_server):
    srv = fa_server(make_server)
    with open(srv.conf_path, "a") as f:
        f.write("header_user = X-Auth-User\nheader_groups = X-Auth-Groups\n")
    _set_base(srv, f"http://auth.example.test:{srv.port}")
    srv.start()
    _, cookie = login_cookie(srv, "mia@example.com")
    r = verify(srv, f"http://app.example.test:{srv.port}/docs", cookie=cookie)
    assert r.status_code == 200
    assert r.headers["X-Auth-User"] == "mia@example.com" and "Remote-User" not in r.headers
    assert r.headers["X-Auth-Groups"] == "member" and r.headers["Remote-Role"] == "member"
    # a session that must change its password first is no sign-in for applications
    temp = srv.add_user("new@example.com")
    s = requests.Session()
    page = s.get(auth_url(srv, "/login"), timeout=10)
    from conftest import csrf_of
    r = s.post(auth_url(srv, "/login"), data={"email": "new@example.com", "password": temp,
                                              "csrf_token": csrf_of(page.text)},
               allow_redirects=False, timeout=10)
    assert r.headers["Location"] == "/password/change"
    restricted = s.cookies.get("gatehouse_session")
    assert restricted
    r = verify(srv, f"http://app.example.test:{srv.port}/docs", cookie=restricted)
    assert r.status_code == 401 and "Location" in r.headers


def test_long_idle_limits_write_last_use_at_most_once_a_minute(make_server):
    """With a 2-hour idle limit a verify rewrites the session's last use only when it is 60 s
    old (1/60 of the limit; 10 s before): verifies in between cost no write."""
    srv = make_server({"policy": {"session.web_idle_minutes": "120"}})
    b, _ = signed_in_user(srv)
    cookie = b.session_cookie()

    def last_seen():
        return db_rows(srv, "SELECT last_seen FROM sessions")[0][0]

    def ok():
        r = requests.get(srv.url("/auth/verify"), cookies={"gatehouse_session": cookie},
                         headers={"X-Original-URL": srv.url("/app")}, timeout=10)
        assert r.status_code == 200

    ok()
    first = last_seen()
    srv.advance(30)
    ok()
    assert last_seen() == first  # 30 s: not written (it was every 10 s before)
    srv.advance(31)
    ok()
    assert last_seen() >= first + 61


def test_a_policy_change_by_another_process_is_in_force_at_the_next_verify(make_server):
    """The server keeps the stored settings between requests (keyed on their version, read
    with the session): a change made by gatehousectl, another process, is seen at once."""
    srv = make_server()
    b, _ = signed_in_user(srv)
    cookie = b.session_cookie()

    def code():
        return requests.get(srv.url("/auth/verify"), cookies={"gatehouse_session": cookie},
                            headers={"X-Original-URL": srv.url("/app")}, timeout=10).status_code

    assert code() == 200
    srv.advance(11 * 60)
    assert code() == 200  # 11 minutes idle: live under the default 20
    srv.ctl("policy", "set", "session.web_idle_minutes", "10")
    srv.advance(11 * 60)
    assert code() == 401  # the next verify applies the new 10-minute limit
