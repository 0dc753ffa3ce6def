"""The password policy at the change page: every rule refused with every broken rule listed,
expiry, history, the changes-per-day cap, forced changes, and sessions ended by a change."""
import html
import re

import requests

from conftest import STRONG, Browser, alert_of, audit_entries, signed_in_user

DAY = 86400

SHORT = "Use at least 8 characters."
LONG = "Use no more than 256 characters."
LETTER = "Include at least one letter."
NUMBER = "Include at least one number."
MIXED = "Include both upper-case and lower-case letters."
SPECIAL = "Include at least one special character, such as ! or #."
SINGLE = "Don't use the same character over and over."
SEQUENCE6 = "Don't use a run of 6 or more consecutive characters, like 123456 or abcdef."
INVALID = "Use only printable characters."
KEEP = "Choose a password different from your current one."


def violations(page):
    """The rules listed as broken in the page's alert, in order."""
    m = re.search(r'<div class="alert" role="alert"><p>.*?</p><ul>(.*?)</ul></div>', page, re.S)
    assert m, "no alert with a list of rules on the page"
    return [html.unescape(x) for x in re.findall(r"<li>(.*?)</li>", m.group(1), re.S)]


def refused(b, current, candidate, expected):
    r = b.change_password(current, candidate)
    assert r.status_code == 422, (candidate, r.status_code, r.text)
    assert alert_of(r.text) == "Choose another password.", alert_of(r.text)
    assert violations(r.text) == expected, (candidate, violations(r.text))


def accepted(b, current, candidate):
    r = b.change_password(current, candidate)
    assert r.status_code == 303 and r.headers["Location"] == "/?changed=1", (candidate, r.text)
    return candidate


def can_sign_in(server, email, password):
    return Browser(server).login(email, password).status_code == 303


LOTS_OF_CHANGES = {"policy": {"password.changes_per_day": "8"}}


def test_length_7_refused_8_accepted(make_server):
    server = make_server(LOTS_OF_CHANGES)
    b, pw = signed_in_user(server)
    refused(b, pw, "Xy3kP9q", [SHORT])
    pw = accepted(b, pw, "Xy3kP9qz")
    assert can_sign_in(server, "user@example.com", pw)


def test_min_length_setting_32_and_the_256_byte_cap(make_server):
    server = make_server(LOTS_OF_CHANGES)
    b, pw = signed_in_user(server)
    server.ctl("policy", "set", "password.min_length", "32")
    candidate = "Xy3kP9qz" * 4
    refused(b, pw, candidate[:31], ["Use at least 32 characters."])
    pw = accepted(b, pw, candidate)
    refused(b, pw, "Xy3kP9qz" * 32 + "A", [LONG])


def test_single_repeated_character_lists_every_broken_rule(make_server):
    server = make_server(LOTS_OF_CHANGES)
    b, pw = signed_in_user(server)
    refused(b, pw, "aaaaaaaa", [NUMBER, MIXED, SINGLE])
    refused(b, pw, "aaaaaaa", [SHORT, NUMBER, MIXED, SINGLE])
    refused(b, pw, "11111111", [LETTER, MIXED, SINGLE])


def test_sequence_of_6_refused_5_accepted(make_server):
    server = make_server(LOTS_OF_CHANGES)
    b, pw = signed_in_user(server)
    refused(b, pw, "Pw123456x", [SEQUENCE6])
    refused(b, pw, "Pwfedcba9", [SEQUENCE6])
    refused(b, pw, "9aBcDeFx", [SEQUENCE6])
    pw = accepted(b, pw, "Pw12345xy")
    pw = accepted(b, pw, "Zabcde9Q")
    # The setting moves the boundary; 0 turns it off.
    server.ctl("policy", "set", "password.max_sequence", "4")
    refused(b, pw, "Pw1234xy", ["Don't use a run of 4 or more consecutive characters, "
                                "like 1234 or abcd."])
    pw = accepted(b, pw, "Pw123xyQ")
    server.ctl("policy", "set", "password.max_sequence", "0")
    accepted(b, pw, "Pw123456789x")


def test_mixed_case_digit_letter_rules(make_server):
    server = make_server(LOTS_OF_CHANGES)
    b, pw = signed_in_user(server)
    refused(b, pw, "lowercase9x", [MIXED])
    refused(b, pw, "UPPERCASE9X", [MIXED])
    refused(b, pw, "NoDigitsHere", [NUMBER])
    refused(b, pw, "13579246", [LETTER, MIXED])
    refused(b, pw, "short", [SHORT, NUMBER, MIXED])
    # Each rule turned off stops being checked (and listed).
    server.ctl("policy", "set", "password.require_mixed_case", "off")
    server.ctl("policy", "set", "password.require_number", "off")
    pw = accepted(b, pw, "nodigitsatall")
    r = b.get("/password/change")
    assert NUMBER not in r.text and MIXED not in r.text


def test_special_character_rule_when_on(make_server):
    server = make_server(LOTS_OF_CHANGES)
    b, pw = signed_in_user(server)
    r = b.get("/password/change")
    assert SPECIAL not in r.text  # off by default: not even listed as a requirement
    pw = accepted(b, pw, "NoSpecial12")
    server.ctl("policy", "set", "password.require_special", "on")
    assert SPECIAL in b.get("/password/change").text
    refused(b, pw, "NoSpecial34", [SPECIAL])
    refused(b, pw, "nospecial", [NUMBER, MIXED, SPECIAL])
    pw = accepted(b, pw, "Special-34x")
    assert can_sign_in(server, "user@example.com", pw)


def test_requirements_are_listed_on_the_page(server):
    b, _ = signed_in_user(server)
    page = html.unescape(b.get("/password/change").text)
    for rule in (SHORT, LONG, LETTER, NUMBER, MIXED, SINGLE, SEQUENCE6):
        assert f"<li>{rule}</li>" in page, rule


def test_control_characters_are_refused_and_change_nothing(make_server):
    server = make_server(LOTS_OF_CHANGES)
    b, pw = signed_in_user(server)
    for bad in ("Good-Pass9\x7f", "Good-Pass9\x01", "Good-Pass9\u0085", "Good\x00Pass9"):
        r = b.change_password(pw, bad)
        # The form layer refuses them before the policy sees them (400), or the policy does.
        assert r.status_code in (400, 422), (bad, r.status_code)
        if r.status_code == 422:
            assert violations(r.text) == [INVALID]
    assert b.whoami().status_code == 200
    assert can_sign_in(server, "user@example.com", pw)


def test_wrong_current_password_or_mismatched_confirmation(server):
    b, pw = signed_in_user(server)
    r = b.change_password("Not-The-Password-1", "Another-Good-9")
    assert r.status_code == 422 and alert_of(r.text) == "Your current password is not correct."
    r = b.change_password(pw, "Another-Good-9", confirm="Another-Good-8")
    assert r.status_code == 400
    assert alert_of(r.text) == "The new password and its confirmation do not match."
    r = b.post_form("/password/change", "/password/change",
                    {"current_password": pw, "new_password": "", "confirm_password": ""})
    assert r.status_code == 400
    assert can_sign_in(server, "user@example.com", pw)


def test_expiry_90_days_day_89_signs_in_day_90_forces_a_change(make_server):
    server = make_server({"policy": {"password.expire_days": "90"}})
    _, pw = signed_in_user(server)
    server.advance(89 * DAY)
    b = Browser(server)
    r = b.login("user@example.com", pw)
    assert r.status_code == 303 and r.headers["Location"] == "/", r.text
    assert b.whoami().status_code == 200
    home = b.get("/").text
    assert "Password expires" in home

    server.advance(DAY)  # day 90
    b = Browser(server)
    r = b.login("user@example.com", pw)
    assert r.status_code == 303 and r.headers["Location"] == "/password/change"
    assert b.whoami().status_code == 403
    assert b.get("/").headers["Location"] == "/password/change"
    page = b.get("/password/change").text
    assert "Your password has expired" in page
    # The old password may not come back, and the forced change is never blocked by the cap.
    server.ctl("policy", "set", "password.changes_per_day", "1")
    refused(b, pw, pw, [KEEP])
    r = b.change_password(pw, "Renewed-Pass-90")
    assert r.status_code == 303, r.text
    assert b.whoami().status_code == 200
    # The clock restarts at the change.
    server.advance(89 * DAY)
    assert Browser(server).login("user@example.com", "Renewed-Pass-90").headers["Location"] == "/"


def test_expiry_set_at_run_time_applies_to_old_passwords(server):
    _, pw = signed_in_user(server)
    server.advance(61 * DAY)
    assert Browser(server).login("user@example.com", pw).headers["Location"] == "/"
    server.ctl("policy", "set", "password.expire_days", "60")
    assert Browser(server).login("user@example.com", pw).headers["Location"] == "/password/change"


def test_history_3_refuses_the_3rd_previous_and_accepts_the_4th(make_server):
    # "The last 3 passwords" count the current one: with current D after A, B, C, D,
    # D (1st), C (2nd) and B (3rd) are refused, A (4th) is accepted.
    server = make_server({"policy": {"password.history": "3", "password.changes_per_day": "8"}})
    b, a = signed_in_user(server, password="Alpha-Pass-1")
    bb = accepted(b, a, "Bravo-Pass-2")
    c = accepted(b, bb, "Charlie-Pass-3")
    d = accepted(b, c, "Delta-Pass-4")
    reused = "Don't reuse any of your last 3 passwords."
    refused(b, d, d, [reused])
    refused(b, d, c, [reused])
    refused(b, d, bb, [reused])
    accepted(b, d, a)


def test_history_off_allows_reuse(make_server):
    server = make_server(LOTS_OF_CHANGES)
    b, pw = signed_in_user(server)
    other = accepted(b, pw, "Other-Pass-5")
    accepted(b, other, pw)


def signed_in(server, password, email="user@example.com"):
    b = Browser(server)
    r = b.login(email, password)
    assert r.status_code == 303 and r.headers["Location"] == "/", r.text
    return b


def test_changes_per_day_3_fourth_refused_until_24_hours_later(server):
    b, pw = signed_in_user(server)
    server.advance(DAY + 60)  # the forced first change leaves the window
    for new in ("Change-One-1", "Change-Two-2", "Change-Three-3"):
        pw = accepted(signed_in(server, pw), pw, new)
        server.advance(3600)
    # The 4th change inside 24 h of the first.
    too_many = ("You have already changed your password 3 times in the last 24 hours; "
                "try again later.")
    refused(signed_in(server, pw), pw, "Change-Four-4", [too_many])
    # Still refused a minute before the first change is 24 h old ...
    server.advance(DAY - 3 * 3600 - 60)
    refused(signed_in(server, pw), pw, "Change-Four-4", [too_many])
    # ... accepted once it has left the rolling window, and then the cap is full again.
    server.advance(61)
    b = signed_in(server, pw)
    pw = accepted(b, pw, "Change-Four-4")
    refused(b, pw, "Change-Five-5", [too_many])


def test_changes_per_day_counts_the_forced_first_change(server):
    server.ctl("policy", "set", "password.changes_per_day", "1")
    b, pw = signed_in_user(server)
    refused(b, pw, "Too-Soon-Pass-1",
            ["You have already changed your password once in the last 24 hours; try again later."])


def test_forced_change_after_admin_reset_is_not_blocked_by_the_cap(server):
    server.ctl("policy", "set", "password.changes_per_day", "1")
    b, pw = signed_in_user(server)
    temp = server.ctl("user", "reset-password", "user@example.com").stdout.strip().splitlines()[-1]
    b = Browser(server)
    assert b.login("user@example.com", temp).headers["Location"] == "/password/change"
    accepted(b, temp, "After-Reset-9")


def test_forced_change_at_first_sign_in(server):
    temp = server.add_user("new@example.com")
    b = Browser(server)
    r = b.login("new@example.com", temp)
    assert r.status_code == 303 and r.headers["Location"] == "/password/change"
    page = b.get("/password/change").text
    assert "This is your first sign-in: choose a new password." in page
    for path in ("/", "/api/whoami"):
        r = b.get(path)
        assert r.status_code in (303, 403), path
    # The temporary password may not be kept (even with the history check off).
    refused(b, temp, temp, [KEEP])
    r = b.change_password(temp, STRONG)
    assert r.status_code == 303
    assert b.whoami().status_code == 200
    # The temporary password is finished.
    assert Browser(server).login("new@example.com", temp).status_code == 401
    assert Browser(server).login("new@example.com", STRONG).headers["Location"] == "/"


def test_forced_change_after_admin_reset_ends_sessions(server):
    b, pw = signed_in_user(server)
    client = requests.post(server.url("/api/login"),
                           json={"email": "user@example.com", "password": pw}, timeout=30).json()
    temp = server.ctl("user", "reset-password", "user@example.com").stdout.strip().splitlines()[-1]
    assert b.whoami().status_code == 401
    assert requests.get(server.url("/api/whoami"), timeout=30,
                        headers={"Authorization": "Bearer " + client["token"]}).status_code == 401
    assert Browser(server).login("user@example.com", pw).status_code == 401
    b = Browser(server)
    assert b.login("user@example.com", temp).headers["Location"] == "/password/change"
    assert "An administrator reset your password" in b.get("/password/change").text
    refused(b, temp, temp, [KEEP])
    accepted(b, temp, "Fresh-Pass-77")
    assert b.whoami().status_code == 200


def test_no_forced_change_at_first_sign_in_when_turned_off(make_server):
    server = make_server({"policy": {"password.force_change_first_login": "off"}})
    temp = server.add_user("new@example.com")
    r = Browser(server).login("new@example.com", temp)
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_password_change_ends_the_users_other_sessions(server):
    b, pw = signed_in_user(server)
    other = Browser(server)
    assert other.login("user@example.com", pw).status_code == 303
    client = requests.post(server.url("/api/login"),
                           json={"email": "user@example.com", "password": pw}, timeout=30).json()
    bearer = {"Authorization": "Bearer " + client["token"]}
    # Someone else's session survives.
    someone, _ = signed_in_user(server, email="someone@example.com")
    old = b.session_cookie()
    accepted(b, pw, "Brand-New-Pass-3")
    assert b.whoami().status_code == 200          # this browser got a fresh token
    assert b.session_cookie() != old
    assert other.whoami().status_code == 401      # the other browser is signed out
    assert requests.get(server.url("/api/whoami"), headers=bearer,
                        timeout=30).status_code == 401
    assert someone.whoami().status_code == 200
    entry = [e for e in audit_entries(server) if e["action"] == "password.change"][0]
    assert entry["target"] == "user@example.com"
