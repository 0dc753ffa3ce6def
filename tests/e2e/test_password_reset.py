"""Self-service password reset over SMTP: a real SMTP server (Debian's python3-aiosmtpd) on a free
loopback port receives the e-mail; its link works once, under the whole policy, and ends every
session. Requests are answered alike whatever the address; locked accounts get no mail; links
expire after 30 minutes (the clock moves with faketime, never sleep)."""
import email
import email.policy
import hashlib
import os
import re
import ssl
import subprocess
import threading
import time

import aiosmtpd.controller as aiosmtpd_controller  # Debian: python3-aiosmtpd (TEST_DEBS)
import aiosmtpd.smtp as aiosmtpd_smtp
import pytest
import requests

from conftest import (BIN, STRONG, TOP, Browser, alert_of, csrf_of, db_rows, db_write, free_port,
                      signed_in_user)

SENT = "If an account with a password exists for that address, we've sent it an e-mail"
NEW = "Brand-New-Pass-73"
LINK_RE = re.compile(r"(https?://\S+/password/reset\?token=([0-9a-f]{64}))")


class Mailbox:
    """aiosmtpd handler: keeps every message, with the session it came in."""

    def __init__(self):
        self.messages = []
        self.cv = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        with self.cv:
            self.messages.append({
                "from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                "raw": envelope.content, "tls": session.ssl is not None,
                "login": getattr(session.auth_data, "login", None),
            })
            self.cv.notify_all()
        return "250 OK"

    def wait(self, n, timeout=15):
        """Waits until n messages have arrived and returns them all."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                assert left > 0, f"{len(self.messages)} of {n} e-mails arrived"
                self.cv.wait(left)
            return list(self.messages)


def start_smtp(**kw):
    box = Mailbox()
    port = free_port()
    ctl = aiosmtpd_controller.Controller(box, hostname="127.0.0.1", port=port, **kw)
    ctl.start()
    return ctl, box, port


@pytest.fixture
def smtp():
    ctl, box, port = start_smtp()
    box.port = port
    yield box
    ctl.stop()


def smtp_conf(port, **extra):
    conf = {"host": "127.0.0.1", "port": str(port), "from": "gatehouse@example.com",
            "starttls": "off", "timeout_seconds": "5"}
    conf.update(extra)
    return {"smtp": conf}


@pytest.fixture
def server(make_server, smtp):
    return make_server(smtp_conf(smtp.port))


def request_reset(server, address, browser=None, page="/password/reset"):
    b = browser or Browser(server)
    return b.post_form(page, "/password/reset", {"email": address})


def parse(msg):
    return email.message_from_bytes(msg["raw"], policy=email.policy.default)


def link_of(msg):
    body = parse(msg).get_content()
    m = LINK_RE.search(body)
    assert m, body
    return m.group(1), m.group(2)


def path_of(server, link):
    assert link.startswith(server.base + "/password/reset?token="), link
    return link[len(server.base):]


def use_link(server, link, new, confirm=None, browser=None):
    """Posts the link's form as a browser would: the CSRF token from the link's page, or when
    that page is an error, from the request form (the token is per visitor, not per page)."""
    b = browser or Browser(server)
    page = b.get(path_of(server, link))
    if 'name="csrf_token"' not in page.text:
        page = b.get("/password/reset")
    return b.s.post(server.url("/password/reset"), data={
        "csrf_token": csrf_of(page.text), "token": link.rsplit("=", 1)[1], "new_password": new,
        "confirm_password": new if confirm is None else confirm}, allow_redirects=False,
        timeout=30)


def db(server, sql, params=(), write=False):
    if write:
        return db_write(server, sql, params)
    return db_rows(server, sql, params)


def login_status(server, address, password):
    return Browser(server).login(address, password).status_code


def lock(server, address):
    for _ in range(6):
        r = Browser(server).login(address, "Wrong-Password-1")
    assert r.status_code == 429, r.status_code


def healthy(server):
    return requests.get(server.url("/healthz"), timeout=5).status_code == 200


# -- the whole journey ----------------------------------------------------------------------------

def test_mail_arrives_and_its_link_works_once_ending_every_session(server, smtp):
    b1, pw = signed_in_user(server, "ada@example.com")
    b2 = Browser(server)
    assert b2.login("ada@example.com", pw).status_code == 303
    api = requests.post(server.url("/api/login"), json={"email": "ada@example.com",
                                                          "password": pw}, timeout=10)
    bearer = {"Authorization": "Bearer " + api.json()["token"]}
    assert b1.whoami().status_code == b2.whoami().status_code == 200

    r = request_reset(server, "Ada@Example.com ")
    assert r.status_code == 200 and SENT in r.text
    (msg,) = smtp.wait(1)
    assert msg["from"] == "gatehouse@example.com" and msg["to"] == ["ada@example.com"]
    assert not msg["tls"]
    m = parse(msg)
    assert [a.addr_spec for a in m["To"].addresses] == ["ada@example.com"]
    assert [a.addr_spec for a in m["From"].addresses] == ["gatehouse@example.com"]
    assert m["Subject"] == "Reset your Gatehouse password"
    assert m["Date"].datetime is not None and re.match(r"^<[^@>]+@example\.com>$", m["Message-ID"])
    assert m["MIME-Version"] == "1.0"
    assert m.get_content_type() == "text/plain" and m.get_content_charset() == "utf-8"
    assert b"\r\n" in msg["raw"] and b"\n" not in msg["raw"].replace(b"\r\n", b"")
    link, token = link_of(msg)
    assert "ada@example.com" in m.get_content() and "30 minutes" in m.get_content()

    # Only the token's SHA-256 is stored; it lives 30 minutes.
    rows = db(server, "SELECT token_hash, expires_at - created_at, used_at FROM reset_tokens")
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(), 1800, 0)]
    if server.db is None:  # nor in the SQLite file's bytes
        assert token not in open(os.path.join(server.tmp, "gatehouse.db"), "rb").read().decode(
            "latin-1")

    page = Browser(server).get(path_of(server, link))
    assert page.status_code == 200 and f'name="token" value="{token}"' in page.text
    assert "ada@example.com" in page.text and "Use at least 8 characters." in page.text

    r = use_link(server, link, NEW)  # from the mail client's browser, signed in nowhere
    assert r.status_code == 200 and "Password changed" in r.text, r.text
    assert "gatehouse_session=;" in r.headers.get("Set-Cookie", "")
    # Every session ended, server-side: both browsers (cookies kept) and the API client.
    assert b1.whoami().status_code == 401 and b2.whoami().status_code == 401
    assert requests.get(server.url("/api/whoami"), headers=bearer, timeout=5).status_code == 401

    # Once only.
    again = Browser(server).get(path_of(server, link))
    assert again.status_code == 410 and "used already" in alert_of(again.text)
    r = use_link(server, link, "Another-Pass-84")
    assert r.status_code == 410 and "used already" in alert_of(r.text)
    assert login_status(server, "ada@example.com", "Another-Pass-84") == 401
    assert login_status(server, "ada@example.com", pw) == 401
    b3 = Browser(server)
    r = b3.login("ada@example.com", NEW)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert b3.whoami().json()["email"] == "ada@example.com"

    audit = server.ctl("audit", "list", "--json").stdout
    assert "user.password_reset_self" in audit and "ada@example.com" in audit
    assert "password reset requested result=mailed" in server.read_log()
    assert token not in server.read_log()
    assert healthy(server)


def test_reset_clears_a_forced_change_and_the_failure_count(server, smtp):
    server.add_user("new@example.com")  # temporary password: must change at first sign-in
    for _ in range(3):
        assert login_status(server, "new@example.com", "Wrong-Password-1") == 401
    request_reset(server, "new@example.com")
    link, _ = link_of(smtp.wait(1)[0])
    assert use_link(server, link, NEW).status_code == 200
    # No forced change left, and the three failures no longer count toward a lock.
    for _ in range(5):
        assert login_status(server, "new@example.com", "Wrong-Password-1") == 401
    r = Browser(server).login("new@example.com", NEW)
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_a_later_password_change_voids_outstanding_links(server, smtp):
    b, pw = signed_in_user(server, "bo@example.com")
    request_reset(server, "bo@example.com")
    request_reset(server, "bo@example.com")
    first, second = (link_of(m)[0] for m in smtp.wait(2))
    assert first != second
    assert use_link(server, second, NEW).status_code == 200
    r = Browser(server).get(path_of(server, first))
    assert r.status_code == 410 and "used already" in alert_of(r.text)

    # A change on the change page, or an admin reset, voids them too.
    request_reset(server, "bo@example.com")
    third = link_of(smtp.wait(3)[2])[0]
    b2 = Browser(server)
    b2.login("bo@example.com", NEW)
    assert b2.change_password(NEW, "Third-Password-5").status_code == 303
    assert Browser(server).get(path_of(server, third)).status_code == 410
    server.advance(3601)  # the rate limit (3 an hour) allows a new request
    request_reset(server, "bo@example.com")
    fourth = link_of(smtp.wait(4)[3])[0]
    server.ctl("user", "reset-password", "bo@example.com")
    assert Browser(server).get(path_of(server, fourth)).status_code == 410


# -- answered alike, mailed only when allowed -------------------------------------------------------

def test_unknown_sso_disabled_and_locked_addresses_get_the_same_answer_and_no_mail(server, smtp):
    signed_in_user(server, "known@example.com")
    server.add_user("off@example.com")
    server.ctl("user", "disable", "off@example.com")
    server.add_user("locked@example.com")
    lock(server, "locked@example.com")
    # A SAML user (no password): written as the ACS's provisioning would.
    db(server, "INSERT INTO users (email, role, status, auth_method, created_at, idp, name_id) "
               "VALUES ('sso@example.com', 'member', 'active', 'saml', 0, 'https://idp.example', "
               "'n-1')", write=True)
    b = Browser(server)
    answers = [request_reset(server, a, b) for a in (
        "nobody@example.com", "sso@example.com", "off@example.com", "locked@example.com",
        "known@example.com")]
    assert {r.status_code for r in answers} == {200}
    assert len({r.text for r in answers}) == 1, "the pages differ"
    assert SENT in answers[0].text
    # One sending thread, first in first out: once the last request's mail is in, any mail for
    # the earlier ones would be in too.
    msgs = smtp.wait(1)
    assert [m["to"] for m in smtp.messages] == [["known@example.com"]], msgs
    log = server.read_log()
    for result in ("no_account", "locked", "mailed"):
        assert f"result={result}" in log
    assert "nobody@example.com" not in log


def test_a_locked_account_gets_no_mail_and_its_link_waits_for_the_lock(server, smtp):
    signed_in_user(server, "lo@example.com")
    lock(server, "lo@example.com")
    r = request_reset(server, "lo@example.com")
    assert r.status_code == 200 and SENT in r.text
    server.ctl("user", "unlock", "lo@example.com")
    request_reset(server, "lo@example.com")
    (msg,) = smtp.wait(1)  # the mail of the second request only
    assert len(smtp.messages) == 1
    link, _ = link_of(msg)

    # Locked again before the link is used: it waits for the lock (or an administrator).
    lock(server, "lo@example.com")
    r = Browser(server).get(path_of(server, link))
    assert r.status_code == 429 and "locked" in alert_of(r.text)
    r = use_link(server, link, NEW)
    assert r.status_code == 429
    server.ctl("user", "unlock", "lo@example.com")
    assert use_link(server, link, NEW).status_code == 200
    assert login_status(server, "lo@example.com", NEW) == 303


def test_requests_are_rate_limited_per_address(server, smtp):
    signed_in_user(server, "rl@example.com")
    signed_in_user(server, "other@example.com")
    b = Browser(server)
    answers = [request_reset(server, a, b) for a in (
        "rl@example.com", "RL@example.com", " rl@EXAMPLE.com", "rl@example.com")]
    assert {r.status_code for r in answers} == {200} and len({r.text for r in answers}) == 1
    request_reset(server, "other@example.com", b)
    msgs = smtp.wait(4)
    assert [m["to"][0] for m in smtp.messages] == ["rl@example.com"] * 3 + ["other@example.com"]
    assert "result=rate_limited" in server.read_log()

    # Unknown addresses are counted the same way (refused requests are not recorded).
    for _ in range(5):
        request_reset(server, "ghost@example.com", b)
    assert db(server, "SELECT COUNT(*) FROM reset_requests WHERE email = 'ghost@example.com'") \
        == [(3,)]

    # An hour later the address may ask again.
    server.advance(3601)
    request_reset(server, "rl@example.com", b)
    assert smtp.wait(5)[4]["to"] == ["rl@example.com"]


# -- the link -------------------------------------------------------------------------------------

def test_link_expires_after_30_minutes(server, smtp):
    signed_in_user(server, "ex@example.com")
    request_reset(server, "ex@example.com")
    link, _ = link_of(smtp.wait(1)[0])
    server.advance(29 * 60)
    assert Browser(server).get(path_of(server, link)).status_code == 200
    server.advance(2 * 60)
    r = Browser(server).get(path_of(server, link))
    assert r.status_code == 410 and "expired" in alert_of(r.text)
    r = use_link(server, link, NEW)
    assert r.status_code == 410 and "expired" in alert_of(r.text)
    assert login_status(server, "ex@example.com", NEW) == 401
    assert login_status(server, "ex@example.com", STRONG) == 303


def test_policy_refusals_are_listed_and_the_link_stays_usable(server, smtp):
    server.ctl("policy", "set", "password.history", "3")
    signed_in_user(server, "po@example.com")
    request_reset(server, "po@example.com")
    link, _ = link_of(smtp.wait(1)[0])

    r = use_link(server, link, STRONG)
    assert r.status_code == 422, r.text
    assert alert_of(r.text) == "Choose another password."
    assert "Don&#39;t reuse any of your last 3 passwords." in r.text
    r = use_link(server, link, "aB1")
    assert r.status_code == 422 and "Use at least 8 characters." in r.text
    r = use_link(server, link, "alllowercase")
    assert "Include at least one number." in r.text
    assert "Include both upper-case and lower-case letters." in r.text
    r = use_link(server, link, NEW, confirm=NEW + "x")
    assert r.status_code == 400 and "do not match" in alert_of(r.text)
    r = use_link(server, link, "")
    assert r.status_code == 400

    assert use_link(server, link, NEW).status_code == 200
    assert login_status(server, "po@example.com", NEW) == 303


def test_the_daily_change_cap_applies_to_a_reset(server, smtp):
    server.ctl("policy", "set", "password.changes_per_day", "1")
    signed_in_user(server, "cap@example.com")  # the first change counts
    request_reset(server, "cap@example.com")
    link, _ = link_of(smtp.wait(1)[0])
    r = use_link(server, link, NEW)
    assert r.status_code == 422
    assert "already changed your password once in the last 24 hours" in r.text
    server.advance(86400 + 60)  # the link has expired by then: ask again
    request_reset(server, "cap@example.com")
    link, _ = link_of(smtp.wait(2)[1])
    assert use_link(server, link, NEW).status_code == 200
    # The reset counts as the user's own change for the next 24 hours.
    b = Browser(server)
    b.login("cap@example.com", NEW)
    r = b.change_password(NEW, "Yet-Another-Pass-6")
    assert r.status_code == 422


def test_two_concurrent_posts_of_one_link_one_wins(server, smtp):
    signed_in_user(server, "race@example.com")
    request_reset(server, "race@example.com")
    link, token = link_of(smtp.wait(1)[0])
    browsers = [Browser(server), Browser(server)]
    tokens = [csrf_of(b.get(path_of(server, link)).text) for b in browsers]
    passwords = ["Racer-One-Pass-1", "Racer-Two-Pass-2"]
    barrier = threading.Barrier(2)
    results = [None, None]

    def post(i):
        barrier.wait()
        results[i] = browsers[i].s.post(server.url("/password/reset"), data={
            "csrf_token": tokens[i], "token": token, "new_password": passwords[i],
            "confirm_password": passwords[i]}, allow_redirects=False, timeout=30)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 410], statuses
    winner = passwords[[r.status_code for r in results].index(200)]
    loser = passwords[1 - passwords.index(winner)]
    assert login_status(server, "race@example.com", winner) == 303
    assert login_status(server, "race@example.com", loser) == 401
    assert db(server, "SELECT COUNT(*) FROM password_history WHERE kind = 'self_reset'") == [(1,)]


@pytest.mark.parametrize("token", [
    "", "abc", "z" * 64, "A" * 64, "0" * 64, "0" * 63, "0" * 65, "0" * 5000, "%00" * 10,
    "\u00e9" * 32, "../../etc/passwd", "' OR 1=1 --", "0" * 64 + "\n"])
def test_bad_tokens_get_a_clear_error_and_no_crash(server, token):
    b = Browser(server)
    r = b.get("/password/reset", params={"token": token})
    assert r.status_code == 400 and "not valid" in alert_of(r.text)
    r = b.post_form("/password/reset", "/password/reset", {
        "token": token, "new_password": NEW, "confirm_password": NEW})
    assert r.status_code == 400 and "not valid" in alert_of(r.text)
    assert healthy(server)


def test_a_session_token_is_no_reset_token(server, smtp):
    b, _ = signed_in_user(server, "kind@example.com")
    session = b.session_cookie()  # a real 256-bit token, but a session's
    r = Browser(server).get("/password/reset", params={"token": session})
    assert r.status_code == 400
    assert b.whoami().status_code == 200


# -- CSRF, configuration, availability ------------------------------------------------------------

def test_forms_without_the_csrf_token_are_refused_and_change_nothing(server, smtp):
    signed_in_user(server, "cs@example.com")
    r = requests.post(server.url("/password/reset"), data={"email": "cs@example.com"},
                      allow_redirects=False, timeout=10)
    assert r.status_code == 403
    b = Browser(server)
    b.get("/password/reset")
    r = b.s.post(server.url("/password/reset"), data={"email": "cs@example.com",
                                                      "csrf_token": "0" * 64}, timeout=10)
    assert r.status_code == 403
    request_reset(server, "cs@example.com")
    (msg,) = smtp.wait(1)
    assert len(smtp.messages) == 1  # the two refused requests sent nothing
    link, token = link_of(msg)
    r = requests.post(server.url("/password/reset"), data={
        "token": token, "new_password": NEW, "confirm_password": NEW}, timeout=10)
    assert r.status_code == 403
    assert login_status(server, "cs@example.com", STRONG) == 303
    assert use_link(server, link, NEW).status_code == 200  # still usable


def test_without_an_smtp_host_the_page_sends_people_to_an_administrator(make_server):
    server = make_server()
    login = Browser(server).get("/login").text
    assert 'href="/password/reset"' in login and "Forgot your password?" in login
    r = Browser(server).get("/password/reset")
    assert r.status_code == 200 and "Ask an administrator" in r.text
    assert 'name="email"' not in r.text
    r = request_reset(server, "who@example.com", page="/login")
    assert r.status_code == 503 and "Ask an administrator" in r.text
    assert healthy(server)


def test_with_password_sign_in_off_there_is_no_link_and_no_reset(server, smtp):
    server.add_user("own@example.com", "owner")
    server.ctl("password-login", "off")
    assert "/password/reset" not in Browser(server).get("/login").text
    r = Browser(server).get("/password/reset")
    assert r.status_code == 200 and "turned off" in r.text and 'name="email"' not in r.text
    r = request_reset(server, "own@example.com", page="/login?break_glass=1")
    assert r.status_code == 403 and "turned off" in r.text


def test_starttls_on_refuses_a_relay_without_starttls(make_server, smtp):
    server = make_server(smtp_conf(smtp.port, starttls="on"))
    signed_in_user(server, "tls@example.com")
    r = request_reset(server, "tls@example.com")
    assert r.status_code == 200 and SENT in r.text
    deadline = time.monotonic() + 15
    while "mail not sent" not in server.read_log():
        assert time.monotonic() < deadline, server.read_log()
        time.sleep(0.05)
    assert smtp.messages == []
    assert "token=" not in server.read_log()


def test_starttls_with_a_private_ca_and_smtp_auth(make_server, tmp_path):
    key, cert = str(tmp_path / "relay-key.pem"), str(tmp_path / "relay-cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((mechanism, auth_data.login, auth_data.password))
        ok = auth_data.login == b"relay-user" and auth_data.password == b"relay-secret"
        return aiosmtpd_smtp.AuthResult(success=ok, auth_data=auth_data)

    ctl, box, port = start_smtp(tls_context=ctx, require_starttls=True, auth_required=True,
                                authenticator=authenticator)
    try:
        server = make_server(smtp_conf(port, starttls="on", ca_file=cert,
                                       username="relay-user", password="relay-secret"))
        signed_in_user(server, "tls@example.com")
        request_reset(server, "tls@example.com")
        (msg,) = box.wait(1)
        assert msg["tls"] and msg["login"] == b"relay-user"
        assert seen and seen[0][1:] == (b"relay-user", b"relay-secret")
        link, _ = link_of(msg)
        assert use_link(server, link, NEW).status_code == 200
        assert "relay-secret" not in server.read_log()
    finally:
        ctl.stop()


def check_conf(tmp_path, smtp_lines):
    path = tmp_path / "gh.conf"
    path.write_text("[server]\nlisten = 127.0.0.1:1\n[smtp]\n" + smtp_lines)
    return subprocess.run([os.path.join(BIN, "gatehouse"), "-c", str(path), "-t"], cwd=TOP,
                          capture_output=True, text=True)


@pytest.mark.parametrize("lines, message", [
    ("host = 127.0.0.1\nfrom = a@example.com\nport = 0\n", ":6: port: \"0\" is too small"),
    ("host = 127.0.0.1\nfrom = a@example.com\nport = 70000\n", ":6: port: \"70000\" is too large"),
    ("starttls = maybe\n", ":4: starttls: \"maybe\" is not on, off or implicit"),
    ("host = smtp server.example\n", ":4: host: \"smtp server.example\" is not a host name"),
    ("from = not-an-address\n", ":4: from: \"not-an-address\" is not an e-mail address"),
    ("timeout_seconds = 0\n", ":4: timeout_seconds:"),
    ("ca_file = /nonexistent/ca.pem\n", ":4: ca_file: /nonexistent/ca.pem: cannot read"),
    ("sender = a@example.com\n", ":4: sender: unknown key \"sender\" in [smtp]"),
    ("port = 25\nhost = relay.example.com\n", ":5: host: [smtp] from must be set too"),
])
def test_smtp_settings_are_checked_with_file_and_line(tmp_path, lines, message):
    p = check_conf(tmp_path, lines)
    assert p.returncode == 1 and message in p.stderr, p.stderr


def test_good_smtp_settings_pass_the_check(tmp_path):
    p = check_conf(tmp_path, "host = mail.example.com\nport = 465\nfrom = gh@example.com\n"
                             "starttls = implicit\nusername = u\npassword = p w\n"
                             "timeout_seconds = 300\nca_file = /etc/ssl/certs/ca-certificates.crt\n")
    assert p.returncode == 0, p.stderr
    p = check_conf(tmp_path, "host = ::1\nfrom = gh@example.com\nstarttls = off\n")
    assert p.returncode == 0, p.stderr
