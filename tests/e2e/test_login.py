"""Password sign-in: the happy path, wrong passwords, unknown addresses, forced change."""
from conftest import STRONG, Browser, alert_of, signed_in_user


def test_first_sign_in_forces_a_password_change_then_signs_in(server):
    temp = server.add_user("ada@example.com", "member", name="Ada")
    b = Browser(server)
    r = b.login("Ada@Example.com", temp)
    assert r.status_code == 303
    assert r.headers["Location"] == "/password/change"
    # A restricted session reaches nothing else.
    assert b.get("/").headers["Location"] == "/password/change"
    assert b.whoami().status_code == 403
    old_cookie = b.session_cookie()
    r = b.change_password(temp, STRONG)
    assert r.status_code == 303
    assert b.session_cookie() != old_cookie  # the token is replaced when privilege changes
    who = b.whoami().json()
    assert who["email"] == "ada@example.com" and who["auth_method"] == "password"
    assert who["role"] == "member" and who["mfa"] is False


def test_wrong_password_and_unknown_email_are_indistinguishable(server):
    server.add_user("known@example.com")
    a = Browser(server).login("known@example.com", "Wrong-Password-1")
    b = Browser(server).login("nobody@example.com", "Wrong-Password-1")
    assert a.status_code == b.status_code == 401
    assert alert_of(a.text) == alert_of(b.text) == "The e-mail address or password is not correct."
    strip = lambda t: t.replace("known@example.com", "X").replace("nobody@example.com", "X")
    import re
    tok = re.compile(r'value="[0-9a-f]{64}"')
    assert tok.sub("", strip(a.text)) == tok.sub("", strip(b.text))


def test_return_to_is_followed_only_when_same_origin(server):
    b, pw = signed_in_user(server)
    b.get("/logout")
    b2 = Browser(server)
    r = b2.login("user@example.com", pw, return_to="/password/change")
    assert r.headers["Location"] == "/password/change"
    b3 = Browser(server)
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"):
        r = b3.login("user@example.com", pw, return_to=evil)
        assert r.status_code == 303 and r.headers["Location"] == "/", evil


def test_a_hash_with_older_parameters_is_upgraded_at_the_next_sign_in(make_server, tmp_path):
    from conftest import db_rows
    server = make_server()
    _, pw = signed_in_user(server)
    (old,), = db_rows(server, "SELECT password_hash FROM users")
    assert old.startswith("$argon2id$v=19$m=1024,t=1,p=1$"), old
    server.stop()
    # The same store, restarted with stronger parameters.
    with open(server.conf_path) as f:
        conf = f.read().replace("memory_kib = 1024", "memory_kib = 2048").replace(
            "iterations = 1", "iterations = 2")
    with open(server.conf_path, "w") as f:
        f.write(conf)
    server.start()
    # A failed sign-in changes nothing; a successful one rehashes.
    assert Browser(server).login("user@example.com", "Wrong-Password-1").status_code == 401
    assert db_rows(server, "SELECT password_hash FROM users") == [(old,)]
    assert Browser(server).login("user@example.com", pw).status_code == 303
    (new,), = db_rows(server, "SELECT password_hash FROM users")
    assert new.startswith("$argon2id$v=19$m=2048,t=2,p=1$"), new
    assert Browser(server).login("user@example.com", pw).status_code == 303
