"""Lockout: lockout.max_failures consecutive failures for one address lock sign-in for that address
for lockout.minutes, whether or not an account exists; the count is exact under concurrency."""
import threading
import time

import requests

from conftest import (STRONG, Browser, alert_of, audit_entries, cli_actor, db_rows, metric,
                      page_shape, signed_in_user)

WRONG = "Wrong-Password-77"


def fmt_minute(t):
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))


def expected_until(server, minutes, before, after):
    """The 'locked until' texts possible for a lock taken between two real instants."""
    return {fmt_minute(t + server.offset + minutes * 60) for t in (before, after)}


def lock(server, email, n=6):
    """n wrong attempts from one browser; returns the last response."""
    b = Browser(server)
    r = None
    for _ in range(n):
        r = b.login(email, WRONG)
    return r


def test_sixth_failure_locks_seventh_right_password_refused_and_lock_ends_after_30_minutes(server):
    _, pw = signed_in_user(server)
    b = Browser(server)
    for i in range(5):
        r = b.login("user@example.com", WRONG)
        assert r.status_code == 401, (i, r.text)
        assert alert_of(r.text) == "The e-mail address or password is not correct."
    before = time.time()
    r = b.login("user@example.com", WRONG)
    after = time.time()
    assert r.status_code == 429, r.text
    msg = alert_of(r.text)
    assert "locked" in msg, msg
    assert any(f"locked until {u}" in msg for u in expected_until(server, 30, before, after)), msg
    assert 1795 <= int(r.headers["Retry-After"]) <= 1800

    # The 7th attempt, with the right password, is refused without a password check.
    runs = metric(server, "gatehouse_argon2_runs_total")
    r = Browser(server).login("user@example.com", pw)
    assert r.status_code == 429 and "locked until" in alert_of(r.text)
    assert "gatehouse_session" not in r.cookies
    assert metric(server, "gatehouse_argon2_runs_total") == runs, "a locked address ran argon2"

    server.advance(29 * 60)
    assert Browser(server).login("user@example.com", pw).status_code == 429
    server.advance(61)
    r = Browser(server).login("user@example.com", pw)
    assert r.status_code == 303 and r.headers["Location"] == "/", r.text


def test_lock_after_it_ends_starts_a_fresh_count(server):
    signed_in_user(server)
    assert lock(server, "user@example.com").status_code == 429
    server.advance(30 * 60 + 1)
    b = Browser(server)
    for _ in range(5):
        assert b.login("user@example.com", WRONG).status_code == 401
    assert b.login("user@example.com", WRONG).status_code == 429


def test_unknown_address_gets_the_same_answers_at_every_step(server):
    _, pw = signed_in_user(server, email="known@example.com")
    known, unknown = Browser(server), Browser(server)
    steps = [WRONG] * 6 + [pw]  # 5 failures, the locking one, then the right password
    for i, password in enumerate(steps):
        runs = metric(server, "gatehouse_argon2_runs_total")
        a = known.login("known@example.com", password)
        runs_known = metric(server, "gatehouse_argon2_runs_total") - runs
        runs = metric(server, "gatehouse_argon2_runs_total")
        b = unknown.login("nobody@example.com", password)
        runs_unknown = metric(server, "gatehouse_argon2_runs_total") - runs
        assert a.status_code == b.status_code, (i, a.status_code, b.status_code)
        assert a.status_code == (401 if i < 5 else 429), (i, a.status_code)
        assert runs_known == runs_unknown == (1 if i < 6 else 0), (i, runs_known, runs_unknown)
        assert sorted(k for k in a.headers if k.lower() not in ("date", "content-length")) == \
            sorted(k for k in b.headers if k.lower() not in ("date", "content-length"))
        assert abs(int(a.headers.get("Retry-After", 0)) - int(b.headers.get("Retry-After", 0))) <= 2
        # Same page but for the address typed in (and the minute the lock ends, which may tick).
        import re
        minute = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
        assert minute.sub("M", page_shape(a.text, "known@example.com")) == \
            minute.sub("M", page_shape(b.text, "nobody@example.com")), i
    # The lock is per address: another address, known or not, is unaffected.
    _, pw2 = signed_in_user(server, email="other@example.com")
    assert Browser(server).login("other@example.com", pw2).status_code == 303


def test_lock_is_per_address_whatever_its_spelling(server):
    _, pw = signed_in_user(server)
    b = Browser(server)
    for spelling in ["user@example.com", "USER@example.com", " User@Example.COM ",
                     "user@EXAMPLE.com", "uSer@example.com"]:
        assert b.login(spelling, WRONG).status_code == 401
    assert b.login("User@Example.com", WRONG).status_code == 429
    assert Browser(server).login("user@example.com", pw).status_code == 429


def test_successful_sign_in_resets_the_count(server):
    _, pw = signed_in_user(server)
    b = Browser(server)
    for _ in range(5):
        assert b.login("user@example.com", WRONG).status_code == 401
    assert Browser(server).login("user@example.com", pw).status_code == 303
    assert db_rows(server, "SELECT failures FROM lockouts WHERE email = ?",
                   ("user@example.com",)) == []
    for _ in range(5):
        assert b.login("user@example.com", WRONG).status_code == 401
    assert b.login("user@example.com", WRONG).status_code == 429


def test_gatehousectl_user_unlock_ends_the_lock(server):
    _, pw = signed_in_user(server)
    assert lock(server, "user@example.com").status_code == 429
    p = server.ctl("user", "unlock", "user@example.com")
    assert p.returncode == 0
    r = Browser(server).login("user@example.com", pw)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    entry = audit_entries(server)[0]
    assert entry["action"] == "user.unlock" and entry["target"] == "user@example.com"
    assert entry["actor"] == cli_actor()
    assert "failures=6" in entry["old"]


def test_unlock_also_ends_the_lock_of_an_address_without_an_account(server):
    assert lock(server, "ghost@example.com").status_code == 429
    server.ctl("user", "unlock", "ghost@example.com")
    assert Browser(server).login("ghost@example.com", WRONG).status_code == 401


def test_admin_password_reset_ends_the_lock(server):
    signed_in_user(server)
    assert lock(server, "user@example.com").status_code == 429
    out = server.ctl("user", "reset-password", "user@example.com").stdout
    temp = out.strip().splitlines()[-1]
    r = Browser(server).login("user@example.com", temp)
    assert r.status_code == 303 and r.headers["Location"] == "/password/change", r.text


def parallel(n, fn):
    results = [None] * n
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def api_login(server, email, password):
    return requests.post(server.url("/api/login"), json={"email": email, "password": password},
                         timeout=60).status_code


def test_parallel_failures_are_all_counted(server):
    _, pw = signed_in_user(server)
    statuses = parallel(5, lambda i: api_login(server, "user@example.com", WRONG))
    assert statuses == [401] * 5
    assert db_rows(server, "SELECT failures FROM lockouts WHERE email = ?",
                   ("user@example.com",)) == [(5,)]
    # One more makes six: locked.
    assert api_login(server, "user@example.com", WRONG) == 429
    assert api_login(server, "user@example.com", pw) == 429


def test_twelve_parallel_failures_lock_after_exactly_max_failures(server):
    _, pw = signed_in_user(server)
    statuses = parallel(12, lambda i: api_login(server, "user@example.com", WRONG))
    # Exactly max_failures - 1 plain failures; the 6th locks; the rest find the lock.
    assert sorted(statuses) == [401] * 5 + [429] * 7, statuses
    (failures, locked_until), = db_rows(
        server, "SELECT failures, locked_until FROM lockouts WHERE email = ?",
        ("user@example.com",))
    assert failures == 6
    assert locked_until > time.time() + server.offset + 29 * 60
    assert api_login(server, "user@example.com", pw) == 429


def test_parallel_browser_failures_are_all_counted(server):
    signed_in_user(server)

    def attempt(i):
        return Browser(server).login("user@example.com", WRONG).status_code

    statuses = parallel(8, attempt)
    assert sorted(statuses) == [401] * 5 + [429] * 3, statuses


def test_lockout_settings_changed_with_policy_set_take_effect(server):
    _, pw = signed_in_user(server)
    server.ctl("policy", "set", "lockout.max_failures", "3")
    server.ctl("policy", "set", "lockout.minutes", "5")
    b = Browser(server)
    assert b.login("user@example.com", WRONG).status_code == 401
    assert b.login("user@example.com", WRONG).status_code == 401
    before = time.time()
    r = b.login("user@example.com", WRONG)
    after = time.time()
    assert r.status_code == 429
    assert any(f"locked until {u}" in alert_of(r.text)
               for u in expected_until(server, 5, before, after)), alert_of(r.text)
    assert 295 <= int(r.headers["Retry-After"]) <= 300
    server.advance(4 * 60)
    assert Browser(server).login("user@example.com", pw).status_code == 429
    server.advance(61)
    assert Browser(server).login("user@example.com", pw).status_code == 303
    # Raising the limit again also applies at once.
    server.ctl("policy", "set", "lockout.max_failures", "10")
    for _ in range(9):
        assert b.login("user@example.com", WRONG).status_code == 401
    assert b.login("user@example.com", WRONG).status_code == 429


def test_lockout_settings_from_the_config_file(make_server):
    server = make_server({"policy": {"lockout.max_failures": "4", "lockout.minutes": "10"}})
    signed_in_user(server)
    r = lock(server, "user@example.com", n=4)
    assert r.status_code == 429
    assert 595 <= int(r.headers["Retry-After"]) <= 600


def test_api_login_shares_the_count_with_the_page(server):
    _, pw = signed_in_user(server)
    b = Browser(server)
    for i in range(6):
        if i % 2:
            assert b.login("user@example.com", WRONG).status_code in (401, 429)
        else:
            assert api_login(server, "user@example.com", WRONG) in (401, 429)
    r = requests.post(server.url("/api/login"), json={"email": "user@example.com", "password": pw},
                      timeout=30)
    assert r.status_code == 429
    body = r.json()
    assert body["error"] == "locked" and body["locked_until"].endswith("Z")


def test_many_parallel_failures_below_the_limit_are_each_counted_once(server):
    server.ctl("policy", "set", "lockout.max_failures", "20")
    signed_in_user(server)
    for round_ in range(3):
        statuses = parallel(6, lambda i: api_login(server, "user@example.com", WRONG))
        assert statuses == [401] * 6
        assert db_rows(server, "SELECT failures FROM lockouts WHERE email = ?",
                       ("user@example.com",)) == [(6 * (round_ + 1),)]
    assert api_login(server, "user@example.com", WRONG) == 401  # the 19th
    assert api_login(server, "user@example.com", WRONG) == 429  # the 20th locks


def test_wrong_current_passwords_on_the_change_page_count_towards_the_lock(server):
    # A held session gives no unlimited guesses at the password behind it.
    b, pw = signed_in_user(server)
    new = "Another-Strong-Pass-93"
    for i in range(5):
        r = b.change_password(WRONG, new)
        assert r.status_code == 422 and "current password is not correct" in r.text, (i, r.text)
    r = b.change_password(WRONG, new)
    assert r.status_code == 429 and "locked until" in alert_of(r.text), r.text
    assert 1795 <= int(r.headers["Retry-After"]) <= 1800
    # Locked: the right current password is not even checked, and sign-in is locked too.
    runs = metric(server, "gatehouse_argon2_runs_total")
    assert b.change_password(pw, new).status_code == 429
    assert metric(server, "gatehouse_argon2_runs_total") == runs
    assert Browser(server).login("user@example.com", pw).status_code == 429
    server.advance(30 * 60 + 1)  # the web session idled out meanwhile: sign in again
    b = Browser(server)
    assert b.login("user@example.com", pw).status_code == 303
    r = b.change_password(pw, new)
    assert r.status_code == 303 and r.headers["Location"] == "/?changed=1", r.text
    # Success restarts the count: five more wrong ones do not lock.
    for _ in range(5):
        r = b.change_password(WRONG, "Yet-Another-Pass-47")
        assert r.status_code == 422, (r.headers.get("Location"), r.text[:300])
    assert Browser(server).login("user@example.com", new).status_code == 303
