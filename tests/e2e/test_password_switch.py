"""The password sign-in switch: off hides the form and refuses password sign-in with a pointer
to SSO; owners keep an audited break-glass sign-in; every switch is audited."""
import re

import requests

from conftest import (Browser, alert_of, audit_entries, cli_actor, metric, page_shape,
                      signed_in_user)

SSO_MESSAGE = ("Password sign-in is turned off for this organisation. Sign in with your "
               "organisation's single sign-on (SSO) instead.")


def api_login(server, email, password):
    return requests.post(server.url("/api/login"), json={"email": email, "password": password},
                         timeout=30)


def post_login(b, email, password):
    """POST /login as a form would; while the switch is off the only page with a form token is
    the break-glass page (the plain sign-in page has no password form to take one from)."""
    return b.post_form("/login?break_glass=1", "/login", {"email": email, "password": password})


def switch(server, state):
    p = server.ctl("password-login", state)
    assert p.returncode == 0
    return p


def test_off_hides_the_password_form_and_points_at_sso(server):
    b, pw = signed_in_user(server)
    page = Browser(server).get("/login").text
    assert 'name="password"' in page
    switch(server, "off")
    page = Browser(server).get("/login").text
    assert 'name="password"' not in page and 'type="password"' not in page
    assert "Password sign-in is turned off" in page and "single sign-on" in page
    assert 'action="/saml/login"' in page  # the SSO form stays
    assert 'href="/login?break_glass=1"' in page


def test_off_refuses_post_login_with_a_message_pointing_at_sso(server):
    _, pw = signed_in_user(server)
    switch(server, "off")
    b = Browser(server)
    r = post_login(b, "user@example.com", pw)
    assert r.status_code == 403
    assert alert_of(r.text) == SSO_MESSAGE
    assert "gatehouse_session" not in r.cookies
    assert b.whoami().status_code == 401
    # Wrong passwords and unknown addresses get the same answer.
    for email, password in (("user@example.com", "Wrong-Pass-1"), ("nobody@example.com", pw)):
        r2 = post_login(Browser(server), email, password)
        assert r2.status_code == 403 and alert_of(r2.text) == SSO_MESSAGE


def test_off_refuses_api_login(server):
    _, pw = signed_in_user(server)
    switch(server, "off")
    r = api_login(server, "user@example.com", pw)
    assert r.status_code == 403
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["error"] == "password_login_disabled"
    assert "SSO" in body["message"]
    assert "token" not in body


def test_owner_break_glass_signs_in_and_is_audited(server):
    signed_in_user(server, email="owner@example.com", role="owner")
    _, owner_pw = signed_in_user(server, email="owner2@example.com", role="owner")
    switch(server, "off")
    b = Browser(server)
    page = b.get("/login?break_glass=1").text
    assert 'name="password"' in page and 'name="break_glass" value="1"' in page
    assert "recorded in the audit log" in page
    r = b.post_form("/login?break_glass=1", "/login", {
        "email": "owner2@example.com", "password": owner_pw, "break_glass": "1"})
    assert r.status_code == 303 and r.headers["Location"] == "/", r.text
    who = b.whoami()
    assert who.status_code == 200 and who.json()["role"] == "owner"
    entries = [e for e in audit_entries(server) if e["action"] == "login.break_glass"]
    assert len(entries) == 1
    e = entries[0]
    assert e["target"] == "owner2@example.com"
    assert e["actor"] == "user:owner2@example.com" and e["actor_role"] == "owner"
    assert e["client"] == "127.0.0.1"
    # A second one is a second entry.
    Browser(server).post_form("/login?break_glass=1", "/login", {
        "email": "owner2@example.com", "password": owner_pw, "break_glass": "1"})
    assert len([e for e in audit_entries(server) if e["action"] == "login.break_glass"]) == 2


def test_off_refuses_api_login_for_owners_too_and_checks_no_password(server):
    _, owner_pw = signed_in_user(server, email="owner@example.com", role="owner")
    _, pw = signed_in_user(server)
    switch(server, "off")
    runs = metric(server, "gatehouse_argon2_runs_total")
    for email, password in (("owner@example.com", owner_pw), ("owner@example.com", "Wrong-1a"),
                            ("user@example.com", pw), ("nobody@example.com", pw)):
        r = api_login(server, email, password)
        assert r.status_code == 403 and r.json()["error"] == "password_login_disabled", email
        assert "token" not in r.json()
        # The plain form (not break-glass) neither.
        r = post_login(Browser(server), email, password)
        assert r.status_code == 403 and alert_of(r.text) == SSO_MESSAGE, email
    assert metric(server, "gatehouse_argon2_runs_total") == runs  # no password was checked
    assert not [e for e in audit_entries(server) if e["action"] == "login.break_glass"]


def test_off_the_lockout_tells_no_right_password_from_a_wrong_one(server):
    """Before: a wrong password answered 429 after five tries, the right one 403 for ever."""
    signed_in_user(server, email="owner@example.com", role="owner")
    _, pw = signed_in_user(server, email="right@example.com")
    signed_in_user(server, email="wrong@example.com")
    switch(server, "off")

    def answers(email, password, form):
        out = []
        for _ in range(8):
            fields = {"email": email, "password": password}
            if form == "break_glass":
                fields["break_glass"] = "1"
            r = Browser(server).post_form("/login?break_glass=1", "/login", fields)
            shape = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "T", page_shape(r.text, email))
            out.append((r.status_code, shape))
        return out

    for form in ("plain", "break_glass"):
        right = answers("right@example.com", pw, form)
        wrong = answers("wrong@example.com", "Wrong-Pass-1", form)
        assert [s for s, _ in right] == [s for s, _ in wrong], form
        assert right == wrong, form
    # The break-glass form counts every address alike (an owner's too), so it locks at last.
    assert {s for s, _ in answers("nobody@example.com", "x", "break_glass")} == {403, 429}


def test_members_and_admins_cannot_use_break_glass(server):
    signed_in_user(server, email="owner@example.com", role="owner")
    _, admin_pw = signed_in_user(server, email="admin@example.com", role="admin")
    _, member_pw = signed_in_user(server, email="member@example.com", role="member")
    switch(server, "off")

    def break_glass(email, password):
        return Browser(server).post_form("/login?break_glass=1", "/login", {
            "email": email, "password": password, "break_glass": "1"})

    # The answer to an unknown address with a wrong password ...
    baseline = break_glass("nobody@example.com", "Wrong-Pass-1")
    assert baseline.status_code == 403 and alert_of(baseline.text) == SSO_MESSAGE
    # ... is what an admin or a member gets with the right password, and an owner with a
    # wrong one: nothing tells who is an owner.
    for email, password in (("admin@example.com", admin_pw), ("member@example.com", member_pw),
                            ("owner@example.com", "Wrong-Pass-1")):
        r = break_glass(email, password)
        assert r.status_code == 403, email
        assert "gatehouse_session" not in r.cookies
        assert page_shape(r.text, email) == page_shape(baseline.text, "nobody@example.com"), email
    assert api_login(server, "admin@example.com", admin_pw).status_code == 403
    assert not [e for e in audit_entries(server) if e["action"] == "login.break_glass"]


def test_switching_back_on_and_every_switch_is_audited(server):
    _, pw = signed_in_user(server)
    p = switch(server, "off")
    assert "break_glass" in p.stderr
    assert post_login(Browser(server), "user@example.com", pw).status_code == 403
    switch(server, "on")
    page = Browser(server).get("/login").text
    assert 'name="password"' in page and "Password sign-in is turned off" not in page
    r = Browser(server).login("user@example.com", pw)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    assert api_login(server, "user@example.com", pw).status_code == 200
    switch(server, "off")
    switches = [e for e in audit_entries(server)
                if e["action"] == "policy.set" and e["target"] == "password_login"]
    assert [(e["old"], e["new"]) for e in switches] == [("on", "off"), ("off", "on"),
                                                        ("on", "off")]
    for e in switches:
        assert e["actor"] == cli_actor() and e["at"]
    assert server.ctl("policy", "show", "--json").stdout.count('"password_login"') == 1


def test_switch_usage_errors(server):
    p = server.ctl("password-login", "maybe", check=False)
    assert p.returncode == 2 and "usage" in p.stderr
    p = server.ctl("password-login", check=False)
    assert p.returncode == 2
    assert not [e for e in audit_entries(server) if e["target"] == "password_login"]
