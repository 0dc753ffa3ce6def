"""TOTP two-step verification end to end: enrolment through the HTML pages (the secret read from
the page, the QR code decoded with zbarimg), sign-in with codes computed by oathtool, replay,
lockout, recovery codes, mfa.required, user mfa-reset, the client API, and secrets at rest."""
import html
import json
import os
import re
import subprocess
import time

import pytest
import requests

from conftest import BIN, STRONG, Browser, alert_of, csrf_of, db_write, signed_in_user


def server_now(server):
    return int(time.time()) + server.offset


def totp(secret, server, step_offset=0):
    """The code oathtool computes for the server's current time (+ step_offset steps)."""
    at = server_now(server) + 30 * step_offset
    out = subprocess.run(["oathtool", "--totp", "-b", "--now", f"@{at}", secret],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def wrong_code(secret, server):
    """Six digits that are no code of the window around now."""
    good = {totp(secret, server, k) for k in (-2, -1, 0, 1, 2)}
    for n in range(1000000):
        c = f"{(int(time.time() * 1000) + n * 7919) % 1000000:06d}"
        if c not in good:
            return c
    raise AssertionError("unreachable")


def secret_of(page):
    m = re.search(r'<code id="totp-secret" class="secret">([A-Z2-7]+)</code>', page)
    assert m, "no TOTP secret on the enrolment page"
    return m.group(1)


def codes_of(page):
    block = re.search(r'<ul class="codes" id="recovery-codes">(.*?)</ul>', page, re.S)
    assert block, "no recovery codes on the page"
    return re.findall(r"<code>([0-9a-z-]+)</code>", block.group(1))


def enrol(b, server):
    """Enrols TOTP from /account/mfa like a person: returns (secret, recovery codes)."""
    page = b.get("/account/mfa")
    assert page.status_code == 200, page.text
    secret = secret_of(page.text)
    r = b.s.post(server.url("/account/mfa"), data={
        "csrf_token": csrf_of(page.text), "action": "enrol", "code": totp(secret, server)},
        allow_redirects=False, timeout=30)
    assert r.status_code == 200, r.text
    codes = codes_of(r.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def password_step(server, email, password):
    b = Browser(server)
    r = b.login(email, password)
    assert r.status_code == 303 and r.headers["Location"] == "/login/mfa", r.text
    assert b.session_cookie() is None, "a session before the second step"
    return b


def submit_code(b, code):
    page = b.get("/login/mfa")
    assert page.status_code == 200, page.text
    return b.s.post(b.server.url("/login/mfa"), data={"csrf_token": csrf_of(page.text),
                                                      "code": code},
                    allow_redirects=False, timeout=30)


def mfa_user(server, email="mfa@example.com"):
    b, pw = signed_in_user(server, email)
    secret, codes = enrol(b, server)
    # Enrolment used the current step's code: the tests sign in at the next step.
    server.advance(30)
    return secret, codes, pw


def test_enrolment_page_shows_a_qr_code_that_decodes_to_the_otpauth_uri(server, tmp_path):
    b, _ = signed_in_user(server, "qr@example.com")
    page = b.get("/account/mfa").text
    secret = secret_of(page)
    assert len(secret) == 32  # 160 bits
    svg = re.search(r"(<svg .*?</svg>)", page, re.S).group(1)
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    modules = re.findall(r"M(\d+) (\d+)h1v1h-1z", svg)
    assert modules
    scale = 4
    dark = {(int(x), int(y)) for x, y in modules}
    rows = []
    for y in range(size * scale):
        rows.append(" ".join("1" if (x // scale, y // scale) in dark else "0"
                             for x in range(size * scale)))
    pbm = tmp_path / "qr.pbm"
    pbm.write_text(f"P1\n{size * scale} {size * scale}\n" + "\n".join(rows) + "\n")
    out = subprocess.run(["zbarimg", "--raw", "-q", str(pbm)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    uri = out.stdout.strip()
    assert uri == (f"otpauth://totp/Gatehouse%3Aqr%40example.com?secret={secret}"
                   "&issuer=Gatehouse&algorithm=SHA1&digits=6&period=30")
    # The same link is offered for phones, and the page works without scripts.
    assert html.escape(uri) in page and "<script" not in page
    # Reloading shows the same pending secret (the person may have scanned it already).
    assert secret_of(b.get("/account/mfa").text) == secret


def test_enrolment_needs_a_valid_code(server):
    b, _ = signed_in_user(server, "wrongfirst@example.com")
    page = b.get("/account/mfa").text
    secret = secret_of(page)
    r = b.s.post(server.url("/account/mfa"), data={
        "csrf_token": csrf_of(page), "action": "enrol", "code": wrong_code(secret, server)},
        allow_redirects=False, timeout=30)
    assert r.status_code == 400
    assert "not correct" in alert_of(r.text)
    assert b.whoami().json()["mfa"] is False
    # Without a CSRF token nothing happens.
    r = b.s.post(server.url("/account/mfa"), data={"action": "enrol",
                                                   "code": totp(secret, server)},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 403
    assert b.whoami().json()["mfa"] is False


def test_sign_in_with_totp_and_replay_refused(server):
    secret, _, pw = mfa_user(server)
    b = password_step(server, "mfa@example.com", pw)
    assert b.get("/").status_code == 303  # no session yet
    assert b.whoami().status_code == 401
    code = totp(secret, server, 1)  # the next step's code: inside the ±1 window
    r = submit_code(b, code)
    assert r.status_code == 303 and r.headers["Location"] == "/", r.text
    me = b.whoami().json()
    assert me["mfa"] is True and me["email"] == "mfa@example.com"
    # The same code again, in another browser, inside its window: refused.
    b2 = password_step(server, "mfa@example.com", pw)
    r = submit_code(b2, code)
    assert r.status_code == 401
    assert "used already" in alert_of(r.text)
    assert b2.whoami().status_code == 401
    # An earlier step than the one accepted is refused too; a later one works.
    assert submit_code(b2, totp(secret, server, 0)).status_code == 401
    server.advance(60)
    r = submit_code(b2, totp(secret, server, 0))
    assert r.status_code == 303, r.text


def test_the_second_step_is_bound_to_the_browser_and_short_lived(server):
    secret, _, pw = mfa_user(server)
    b = password_step(server, "mfa@example.com", pw)
    other = Browser(server)
    page = other.get("/login/mfa")
    assert page.status_code == 303 and page.headers["Location"] == "/login"
    assert b.get("/login/mfa").status_code == 200
    server.advance(301)
    r = b.get("/login/mfa")
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    # Posting anyway (an old form) restarts the sign-in.
    r = b.s.post(server.url("/login/mfa"), data={"csrf_token": csrf_of(b.get("/login").text),
                                                 "code": totp(secret, server)},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 401 and "Sign in again" in alert_of(r.text)
    assert b.whoami().status_code == 401


def test_wrong_codes_lock_like_wrong_passwords(server):
    secret, _, pw = mfa_user(server)
    b = password_step(server, "mfa@example.com", pw)
    for _ in range(3):
        assert submit_code(b, wrong_code(secret, server)).status_code == 401
    # A right password does not reset the count while the code is still due.
    b = password_step(server, "mfa@example.com", pw)
    for _ in range(2):
        assert submit_code(b, wrong_code(secret, server)).status_code == 401
    r = submit_code(b, wrong_code(secret, server))
    assert r.status_code == 429, r.text
    assert "locked until" in alert_of(r.text)
    # Locked: the right password and then the right code are both refused.
    b = Browser(server)
    r = b.login("mfa@example.com", pw)
    assert r.status_code == 429
    # 30 minutes later it works again.
    server.advance(30 * 60 + 1)
    b = password_step(server, "mfa@example.com", pw)
    assert submit_code(b, totp(secret, server)).status_code == 303


def test_recovery_code_once(server):
    secret, codes, pw = mfa_user(server)
    b = password_step(server, "mfa@example.com", pw)
    r = submit_code(b, codes[3].upper().replace("-", " "))  # as a person might type it
    assert r.status_code == 303 and r.headers["Location"] == "/account/mfa?recovery_used=1"
    page = b.get("/account/mfa").text
    assert re.search(r'id="recovery-left">9<', page)
    b2 = password_step(server, "mfa@example.com", pw)
    r = submit_code(b2, codes[3])
    assert r.status_code == 401
    assert b2.whoami().status_code == 401
    # New codes (after a fresh code) replace the old ones.
    r = b.s.post(server.url("/account/mfa"), data={
        "csrf_token": csrf_of(page), "action": "regenerate", "code": totp(secret, server, 1)},
        allow_redirects=False, timeout=30)
    assert r.status_code == 200, r.text
    fresh = codes_of(r.text)
    assert not set(fresh) & set(codes)
    b3 = password_step(server, "mfa@example.com", pw)
    assert submit_code(b3, codes[5]).status_code == 401
    b4 = password_step(server, "mfa@example.com", pw)
    assert submit_code(b4, fresh[0]).status_code == 303


def test_mfa_required_enrols_before_any_session(server):
    server.ctl("policy", "set", "mfa.required", "on")
    temp = server.add_user("new@example.com")
    b = Browser(server)
    r = b.login("new@example.com", temp)
    assert r.status_code == 303 and r.headers["Location"] == "/login/mfa"
    page = b.get("/login/mfa").text
    assert "requires a code" in page
    secret = secret_of(page)
    assert b.whoami().status_code == 401
    # The client API refuses until enrolment is done.
    api = requests.post(server.url("/api/login"),
                        json={"email": "new@example.com", "password": temp}, timeout=30)
    assert api.status_code == 403 and api.json()["error"] == "mfa_enrolment_required"
    r = b.s.post(server.url("/login/mfa"), data={"csrf_token": csrf_of(page),
                                                 "code": totp(secret, server)},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 200, r.text
    assert len(codes_of(r.text)) == 10
    # Then the forced password change of a first sign-in.
    assert 'href="/password/change"' in r.text
    assert b.get("/").headers["Location"] == "/password/change"
    assert b.change_password(temp, STRONG).status_code == 303
    assert b.whoami().json()["mfa"] is True
    # Turning it off is refused while required.
    page = b.get("/account/mfa").text
    assert 'value="remove"' not in page
    # SAML users are never asked: covered by the ACS tests signing in without any MFA step.


def test_user_mfa_reset_and_audit(server):
    secret, _, pw = mfa_user(server)
    p = server.ctl("user", "mfa-reset", "mfa@example.com")
    assert p.returncode == 0
    b = Browser(server)
    r = b.login("mfa@example.com", pw)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert b.whoami().json()["mfa"] is False
    again = server.ctl("user", "mfa-reset", "mfa@example.com", check=False)
    assert again.returncode == 1 and "no two-step verification" in again.stderr
    assert server.ctl("user", "mfa-reset", "nobody@example.com", check=False).returncode == 1
    audit = json.loads(server.ctl("audit", "list", "--json").stdout)
    actions = [(a["action"], a["target"], a["actor"]) for a in audit]
    assert any(a == "user.mfa_reset" and t == "mfa@example.com" and who.startswith("cli:")
               for a, t, who in actions), actions
    assert any(a == "mfa.enrol" and who == "user:mfa@example.com" for a, _, who in actions)


def test_user_removes_totp_with_password_and_code(server):
    secret, _, pw = mfa_user(server)
    b = password_step(server, "mfa@example.com", pw)
    assert submit_code(b, totp(secret, server)).status_code == 303
    page = b.get("/account/mfa").text
    r = b.s.post(server.url("/account/mfa"), data={
        "csrf_token": csrf_of(page), "action": "remove", "current_password": "Wrong-Pass-1",
        "code": totp(secret, server, 1)}, allow_redirects=False, timeout=30)
    assert r.status_code == 401 and "password is not correct" in alert_of(r.text)
    assert b.whoami().json()["mfa"] is True
    r = b.s.post(server.url("/account/mfa"), data={
        "csrf_token": csrf_of(page), "action": "remove", "current_password": pw,
        "code": totp(secret, server, 1)}, allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    assert b.whoami().json()["mfa"] is False


def test_client_api_login_takes_totp(server):
    secret, _, pw = mfa_user(server)
    url = server.url("/api/login")
    r = requests.post(url, json={"email": "mfa@example.com", "password": pw}, timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "mfa_required"
    r = requests.post(url, json={"email": "mfa@example.com", "password": pw,
                                 "totp": wrong_code(secret, server)}, timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "invalid_totp"
    code = totp(secret, server)
    r = requests.post(url, json={"email": "mfa@example.com", "password": pw, "totp": code},
                      timeout=30)
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    me = requests.get(server.url("/api/whoami"), headers={"Authorization": f"Bearer {token}"},
                      timeout=30).json()
    assert me["mfa"] is True
    r = requests.post(url, json={"email": "mfa@example.com", "password": pw, "totp": code},
                      timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "invalid_totp"
    # A wrong password with a right code is the ordinary wrong-password answer.
    r = requests.post(url, json={"email": "mfa@example.com", "password": "Nope-Nope-12",
                                 "totp": totp(secret, server, 1)}, timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "invalid_credentials"


def _store_bytes(server):
    data = b""
    for suffix in ("", "-wal", "-shm"):
        path = os.path.join(server.tmp, "gatehouse.db" + suffix)
        if os.path.exists(path):
            with open(path, "rb") as f:
                data += f.read()
    return data


@pytest.mark.sqlite_only("reads the raw bytes of the SQLite file and its WAL")
def test_the_store_holds_no_plaintext_seed(server):
    import base64
    secret, codes, _ = mfa_user(server)
    raw = base64.b32decode(secret + "=" * (-len(secret) % 8))
    server.stop()  # checkpoint the WAL into the file too
    data = _store_bytes(server)
    assert secret.encode() not in data and secret.lower().encode() not in data
    assert raw not in data and raw.hex().encode() not in data
    for c in codes:
        assert c.encode() not in data and c.replace("-", "").encode() not in data
    server.start()


def test_a_seed_copied_to_another_row_does_not_open(server):
    secret, _, _ = mfa_user(server, "a@example.com")
    secret_b, _, pw_b = mfa_user(server, "b@example.com")
    db_write(server, "UPDATE totp SET seed = (SELECT seed FROM totp t JOIN users u ON "
             "u.id = t.user_id WHERE u.email = 'a@example.com') WHERE user_id = "
             "(SELECT id FROM users WHERE email = 'b@example.com')")
    b = password_step(server, "b@example.com", pw_b)
    r = submit_code(b, totp(secret, server))
    assert r.status_code != 303
    assert b.whoami().status_code == 401


def test_master_key_wrong_missing_and_rotated(make_server):
    srv = make_server()
    secret, _, pw = mfa_user(srv)
    key_path = os.path.join(srv.tmp, "master.key")
    with open(key_path) as f:
        original = f.read()
    assert oct(os.stat(key_path).st_mode & 0o777) == "0o600"
    srv.stop()
    # A wrong key stops start-up with a message naming the file.
    os.chmod(key_path, 0o600)
    with open(key_path, "w") as f:
        f.write("ab" * 32 + "\n")
    run = subprocess.run([os.path.join(BIN, "gatehouse"), "-c", srv.conf_path],
                         capture_output=True, text=True, env=srv.env(), timeout=30)
    assert run.returncode != 0
    assert "wrong master key" in run.stderr and key_path in run.stderr
    # A missing key too (a new one would not read the store).
    os.unlink(key_path)
    run = subprocess.run([os.path.join(BIN, "gatehouse"), "-c", srv.conf_path],
                         capture_output=True, text=True, env=srv.env(), timeout=30)
    assert run.returncode != 0 and "master key is missing" in run.stderr
    assert not os.path.exists(key_path)
    # A key readable by others is refused.
    with open(key_path, "w") as f:
        f.write(original)
    os.chmod(key_path, 0o644)
    run = subprocess.run([os.path.join(BIN, "gatehouse"), "-c", srv.conf_path],
                         capture_output=True, text=True, env=srv.env(), timeout=30)
    assert run.returncode != 0 and "chmod 600" in run.stderr
    os.chmod(key_path, 0o600)
    srv.start()
    # Rotation while the server runs: it goes on, and restarts with the new key.
    out = srv.ctl("secrets", "rotate").stdout
    assert "rotated" in out
    with open(key_path) as f:
        rotated = f.read()
    assert rotated != original and oct(os.stat(key_path).st_mode & 0o777) == "0o600"
    b = password_step(srv, "mfa@example.com", pw)
    assert submit_code(b, totp(secret, srv)).status_code == 303
    srv.stop()
    srv.start()
    srv.advance(60)
    b = password_step(srv, "mfa@example.com", pw)
    assert submit_code(b, totp(secret, srv)).status_code == 303
    srv.stop()
    with open(key_path, "w") as f:
        f.write(original)
    run = subprocess.run([os.path.join(BIN, "gatehouse"), "-c", srv.conf_path],
                         capture_output=True, text=True, env=srv.env(), timeout=30)
    assert run.returncode != 0 and "wrong master key" in run.stderr
    with open(key_path, "w") as f:
        f.write(rotated)
    srv.start()
