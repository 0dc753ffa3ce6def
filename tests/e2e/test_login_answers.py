"""POST /login and POST /api/login answer each sign-in result from one table (issue 14 item 7):
the same status and words for a wrong password, a disabled account, a lock and password
sign-in switched off."""
import requests

from conftest import STRONG, Browser, alert_of, signed_in_user


def both(server, email, password):
    page = Browser(server).post_form("/login?break_glass=1", "/login",
                                     {"email": email, "password": password})
    api = requests.post(server.url("/api/login"), json={"email": email, "password": password},
                        timeout=30)
    if page.status_code == 429:  # both say when to come back
        assert page.headers["Retry-After"] == api.headers["Retry-After"] or abs(
            int(page.headers["Retry-After"]) - int(api.headers["Retry-After"])) <= 2
    return (page.status_code, alert_of(page.text)), (api.status_code, api.json()["message"])


def test_the_page_and_the_api_give_the_same_answer_for_each_result(server):
    signed_in_user(server, "member@example.com")
    signed_in_user(server, "gone@example.com")
    server.ctl("user", "disable", "gone@example.com")
    web, api = both(server, "member@example.com", "Wrong-Pass-1")
    assert web == api and web[0] == 401, (web, api)
    web, api = both(server, "gone@example.com", STRONG)
    assert web == api and web[0] == 403 and "disabled" in web[1], (web, api)
    for _ in range(6):
        both(server, "locked@example.com", "Wrong-Pass-1")
    web, api = both(server, "locked@example.com", "Wrong-Pass-1")
    assert web[0] == api[0] == 429
    assert web[1].startswith(api[1].rstrip(".")), (web, api)
    server.ctl("password-login", "off")
    web, api = both(server, "member@example.com", STRONG)
    assert web == api and web[0] == 403 and "single sign-on" in web[1], (web, api)
