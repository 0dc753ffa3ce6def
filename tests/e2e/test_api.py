"""The JSON API: POST /api/login, GET /api/whoami, their errors."""
import re

import pytest
import requests

from conftest import STRONG, Browser, metric, signed_in_user

JSON = {"Content-Type": "application/json"}


def login(server, body, headers=None):
    h = dict(JSON)
    h.update(headers or {})
    data = body if isinstance(body, (str, bytes)) else None
    kw = {"data": data} if data is not None else {"json": body}
    return requests.post(server.url("/api/login"), headers=h, timeout=30, **kw)


def whoami(server, token):
    return requests.get(server.url("/api/whoami"), headers={"Authorization": f"Bearer {token}"},
                        timeout=30)


def is_json_error(r, status, code=None):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/json", r.headers["Content-Type"]
    body = r.json()
    assert set(body) >= {"error", "message"}, body
    assert isinstance(body["message"], str) and body["message"]
    if code:
        assert body["error"] == code, body
    return body


def test_login_returns_a_token_and_expires_in(server):
    _, pw = signed_in_user(server)
    r = login(server, {"email": "User@Example.com", "password": pw})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"token", "expires_in"}
    assert re.fullmatch(r"[0-9a-f]{64}", body["token"])
    assert body["expires_in"] == 300
    assert "gatehouse_session" not in r.cookies  # a client session is no cookie
    assert whoami(server, body["token"]).status_code == 200


def test_whoami_fields_as_in_the_contract(server):
    _, pw = signed_in_user(server, email="ada@example.com", role="admin")
    token = login(server, {"email": "ada@example.com", "password": pw}).json()["token"]
    r = whoami(server, token)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    who = r.json()
    assert set(who) == {"user_id", "email", "name_id", "idp", "role", "auth_method", "mfa"}
    assert isinstance(who["user_id"], int) and who["user_id"] > 0
    assert who["email"] == "ada@example.com"
    assert who["name_id"] is None and who["idp"] is None
    assert who["role"] == "admin" and who["auth_method"] == "password"
    assert who["mfa"] is False
    # The browser session of the same user answers the same.
    b = Browser(server)
    b.login("ada@example.com", pw)
    assert b.whoami().json() == who


def test_whoami_without_a_session_is_401(server):
    r = requests.get(server.url("/api/whoami"), timeout=30)
    is_json_error(r, 401, "unauthenticated")
    is_json_error(whoami(server, "0" * 64), 401, "unauthenticated")


def test_wrong_password_and_unknown_email_are_identical(server):
    _, pw = signed_in_user(server)
    runs = metric(server, "gatehouse_argon2_runs_total")
    a = login(server, {"email": "user@example.com", "password": "Wrong-Pass-1"})
    runs_a = metric(server, "gatehouse_argon2_runs_total") - runs
    b = login(server, {"email": "nobody@example.com", "password": "Wrong-Pass-1"})
    runs_b = metric(server, "gatehouse_argon2_runs_total") - runs - runs_a
    assert a.status_code == b.status_code == 401
    assert a.content == b.content
    assert a.json()["error"] == "invalid_credentials"
    assert runs_a == runs_b == 1  # an unknown address costs one argon2 verification too
    drop = ("date",)
    assert {k: v for k, v in a.headers.items() if k.lower() not in drop} == \
        {k: v for k, v in b.headers.items() if k.lower() not in drop}


@pytest.mark.parametrize("body", [
    "not json", "{", "[]", '"x"', "null", "", '{"email": "a@b.c"}', '{"password": "x"}',
    '{"email": 1, "password": "x"}', '{"email": "a@b.c", "password": null}',
    '{"email": ["a@b.c"], "password": "x"}', '{"email": "a@b.c", "password": "x"} trailing',
    '{"email": "a@b.c", "email": "d@e.f", "password": "x"}',
    '{"email": "a@b.c", "password": "x\\u0000y"}',
    "[" * 10000,
])
def test_bad_json_is_a_400_json_error(server, body):
    before = metric(server, "gatehouse_argon2_runs_total")
    is_json_error(login(server, body), 400, "bad_request")
    assert metric(server, "gatehouse_argon2_runs_total") == before  # refused before any work


def test_wrong_content_type_is_415(server):
    _, pw = signed_in_user(server)
    body = '{"email": "user@example.com", "password": "%s"}' % pw
    for ct in ("text/plain", "application/x-www-form-urlencoded", "application/jsonx",
               "multipart/form-data; boundary=x"):
        is_json_error(login(server, body, headers={"Content-Type": ct}), 415,
                      "unsupported_media_type")
    r = requests.post(server.url("/api/login"), data=body, timeout=30)  # no Content-Type
    is_json_error(r, 415)
    r = login(server, body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 200


def test_a_user_who_must_change_the_password_gets_no_client_session(server):
    temp = server.add_user("new@example.com")
    body = is_json_error(login(server, {"email": "new@example.com", "password": temp}), 403,
                         "password_change_required")
    assert "token" not in body


def test_a_disabled_user_gets_403_only_with_the_right_password(server):
    server.add_user("owner@example.com", "owner")
    _, pw = signed_in_user(server)
    server.ctl("user", "disable", "user@example.com")
    is_json_error(login(server, {"email": "user@example.com", "password": pw}), 403,
                  "account_disabled")
    is_json_error(login(server, {"email": "user@example.com", "password": "Wrong-Pass-1"}), 401,
                  "invalid_credentials")


def test_locked_address_gets_429_with_the_end_of_the_lock(server):
    _, pw = signed_in_user(server)
    for _ in range(5):
        is_json_error(login(server, {"email": "user@example.com", "password": "Wrong-1a"}), 401)
    body = is_json_error(login(server, {"email": "user@example.com", "password": "Wrong-1a"}),
                         429, "locked")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["locked_until"])
    is_json_error(login(server, {"email": "user@example.com", "password": pw}), 429, "locked")


def test_an_extra_totp_field_is_accepted_when_mfa_is_off(server):
    _, pw = signed_in_user(server)
    r = login(server, {"email": "user@example.com", "password": pw, "totp": "123456"})
    assert r.status_code == 200, r.text


def test_client_and_browser_sessions_are_separate(server):
    b, pw = signed_in_user(server)
    token = login(server, {"email": "user@example.com", "password": pw}).json()["token"]
    assert token != b.session_cookie()
    r = requests.post(server.url("/api/logout"), headers={"Authorization": f"Bearer {token}"},
                      timeout=30)
    assert r.status_code == 204
    assert b.whoami().status_code == 200
    assert whoami(server, token).status_code == 401


def test_api_errors_are_json_for_unknown_routes_and_methods(server):
    is_json_error(requests.get(server.url("/api/nothing"), timeout=30), 404, "not_found")
    is_json_error(requests.get(server.url("/api/login"), timeout=30), 405, "method_not_allowed")
    is_json_error(requests.delete(server.url("/api/whoami"), timeout=30), 405)


def test_healthz_and_metrics(server):
    r = requests.get(server.url("/healthz"), timeout=30)
    assert r.status_code == 200 and r.text == "ok\n"
    _, pw = signed_in_user(server)
    login(server, {"email": "user@example.com", "password": pw})
    login(server, {"email": "user@example.com", "password": "Wrong-Pass-1"})
    text = requests.get(server.url("/metrics"), timeout=30).text
    assert re.search(r'^gatehouse_logins_total\{result="success"\} [1-9]', text, re.M)
    assert re.search(r'^gatehouse_logins_total\{result="failure"\} [1-9]', text, re.M)
    assert "# TYPE process_cpu_seconds_total counter" in text
