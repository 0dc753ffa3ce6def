"""The TOTP window at its boundary, through the real sign-in: a code one time step (30 s) away
from the server's clock is accepted, a code two steps away is refused, on both sides, in the
browser's second step (/login then /login/mfa) and in the client API (/api/login with "totp").
The unit test of totp_check uses its own window, so only these tests see the product's
TOTP_WINDOW. Codes come from oathtool at the server's (faked) time."""
import time

import requests

from test_mfa import alert_of, mfa_user, password_step, submit_code, totp


def to_mid_step(server):
    """Moves the server's clock forward to about 15 s into a 30 s step, so that a code computed
    now for step k is still for step k when the server checks it (15 s of margin either way)."""
    into = (time.time() + server.offset) % 30
    server.advance(int(45 - into))


def test_web_sign_in_refuses_codes_two_steps_away_and_accepts_one_step(server):
    secret, _, pw = mfa_user(server, "window@example.com")
    to_mid_step(server)
    b = password_step(server, "window@example.com", pw)
    for k in (-2, 2):
        r = submit_code(b, totp(secret, server, k))
        assert r.status_code == 401, f"a code {k:+d} steps away was accepted"
        assert "not correct" in alert_of(r.text)
        assert b.whoami().status_code == 401
    r = submit_code(b, totp(secret, server, -1))
    assert r.status_code == 303 and r.headers["Location"] == "/", r.text
    assert b.whoami().json()["mfa"] is True
    # A new sign-in in the same step: two steps ahead still refused, one step ahead accepted
    # (a later step than the one just used).
    b2 = password_step(server, "window@example.com", pw)
    assert submit_code(b2, totp(secret, server, 2)).status_code == 401
    assert b2.whoami().status_code == 401
    r = submit_code(b2, totp(secret, server, 1))
    assert r.status_code == 303, r.text
    assert b2.whoami().json()["mfa"] is True


def test_api_login_refuses_codes_two_steps_away_and_accepts_one_step(server):
    secret, _, pw = mfa_user(server, "apiwindow@example.com")
    to_mid_step(server)
    url = server.url("/api/login")

    def login(k):
        return requests.post(url, json={"email": "apiwindow@example.com", "password": pw,
                                        "totp": totp(secret, server, k)}, timeout=30)

    for k in (-2, 2):
        r = login(k)
        assert r.status_code == 401, f"a code {k:+d} steps away was accepted: {r.text}"
        assert r.json()["error"] == "invalid_totp"
    for k in (-1, 1):
        r = login(k)
        assert r.status_code == 200, f"a code {k:+d} step away was refused: {r.text}"
        me = requests.get(server.url("/api/whoami"),
                          headers={"Authorization": "Bearer " + r.json()["token"]}, timeout=30)
        assert me.json()["mfa"] is True
