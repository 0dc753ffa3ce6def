"""SIGHUP (and `gatehousectl config reload`) re-reads the configuration file: the keys a running
server can take (conf.c's reloadable_keys, [access], [policy]) take effect at once; a changed key
that is read at start only is logged and keeps its value; a broken file changes nothing and is
reported with FILE:LINE."""
import signal
import time

import requests

from conftest import signed_in_user


def verify(srv, cookie, headers=None):
    h = {"X-Original-URL": f"http://127.0.0.1:{srv.port}/app", **(headers or {})}
    return requests.get(srv.url("/auth/verify"), headers=h, allow_redirects=False, timeout=10,
                        cookies={"gatehouse_session": cookie} if cookie else None)


def forwarded(srv):
    """A Traefik/Caddy-style verify without a session: believed only from a trusted proxy."""
    h = {"X-Forwarded-Proto": "http", "X-Forwarded-Host": f"127.0.0.1:{srv.port}",
         "X-Forwarded-Uri": "/app", "X-Forwarded-Method": "GET"}
    return requests.get(srv.url("/auth/verify"), headers=h, allow_redirects=False, timeout=10)


def reload(srv, appended, marker):
    """Appends to the file, sends SIGHUP and waits for the marker to appear once more in the
    log (a new line, not an old one)."""
    before = srv.read_log().count(marker)
    with open(srv.conf_path, "a") as f:
        f.write(appended)
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while srv.read_log().count(marker) <= before:
        assert time.monotonic() < deadline, srv.read_log()
        time.sleep(0.05)
    return srv.read_log()


def test_sighup_puts_reloadable_keys_in_force(server):
    b, _ = signed_in_user(server)
    cookie = b.session_cookie()
    r = verify(server, cookie)
    assert r.status_code == 200 and r.headers["Remote-User"] == "user@example.com"
    assert "X-Auth-User" not in r.headers
    assert forwarded(server).status_code == 400  # 127.0.0.1 is not a trusted proxy yet
    verify(server, cookie)
    assert "verify host=" not in server.read_log()  # log_level info: no debug lines
    log = reload(server, "[access]\nheader_user = X-Auth-User\n"
                 "[server]\nlog_level = debug\ntrusted_proxies = 127.0.0.1/32\n",
                 "configuration reloaded")
    assert "changed in" not in log  # nothing read at start only was touched
    r = verify(server, cookie)
    assert r.status_code == 200 and r.headers["X-Auth-User"] == "user@example.com"
    assert "Remote-User" not in r.headers
    assert "verify host=" in server.read_log()
    r = forwarded(server)
    assert r.status_code == 302 and "/login?rd=" in r.headers["Location"]


def test_a_key_read_at_start_only_is_logged_and_keeps_its_value(server):
    b, _ = signed_in_user(server)
    cookie = b.session_cookie()
    old_listen = f"127.0.0.1:{server.port}"
    log = reload(server, "[server]\nlisten = 127.0.0.1:1\nthreads = 3\n"
                 "[access]\nheader_user = X-Auth-User\n", "configuration reloaded")
    assert (f"reload: [server] listen changed in {server.conf_path} but is read at start only"
            in log)
    assert f'in_force="{old_listen}" in_file="127.0.0.1:1"' in log
    assert "reload: [server] threads changed" in log
    assert "kept_at_start_values=2" in log
    # still serving where it was, and the reloadable key of the same file is in force
    r = verify(server, cookie)
    assert r.status_code == 200 and r.headers["X-Auth-User"] == "user@example.com"


def test_a_broken_file_keeps_the_configuration_in_force(server):
    b, _ = signed_in_user(server)
    cookie = b.session_cookie()
    reload(server, "[access]\nheader_user = X-Auth-User\n", "configuration reloaded")
    with open(server.conf_path) as f:
        bad_line = len(f.read().splitlines()) + 4
    log = reload(server, "[access]\nheader_user = X-Other\n[server]\nthreads = lots\n",
                 "configuration not reloaded")
    assert f"{server.conf_path}:{bad_line}: threads:" in log, log
    r = verify(server, cookie)
    assert r.status_code == 200 and r.headers["X-Auth-User"] == "user@example.com"
    assert "X-Other" not in r.headers


def test_sighup_puts_a_new_policy_default_in_force(server):
    b, _ = signed_in_user(server)
    cookie = b.session_cookie()
    assert verify(server, cookie).status_code == 200
    reload(server, "[policy]\nsession.web_idle_minutes = 10\n", "configuration reloaded")
    server.advance(11 * 60)
    assert verify(server, cookie).status_code == 401
