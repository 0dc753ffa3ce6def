"""One rule decides whether an address is locked (issue 14 item 7): the sign-in, the admin
pages (dashboard count, user list and page), the admin API (user, stats) and the CLI agree,
at the lock and at the second it ends (libfaketime moves the clock)."""
import json
import re

import requests

from conftest import STRONG, signed_in_user


def views(server, admin):
    home = admin.get("/admin").text
    users = admin.get("/admin/users").text
    cli = json.loads(server.ctl("user", "show", "member@example.com", "--json").stdout)
    r = requests.post(server.url("/api/login"), json={"email": "member@example.com",
                                                      "password": STRONG}, timeout=30)
    return {"dashboard": int(re.search(r'id="locked-now">(\d+)<', home).group(1)),
            "user list": "locked until" in users, "cli": cli["locked"],
            "sign-in": r.status_code}


def test_every_view_agrees_when_an_address_is_locked_and_when_it_ends(server):
    server.ctl("policy", "set", "session.web_idle_minutes", "120")  # the admin stays signed in
    admin, _ = signed_in_user(server, "admin@example.com", "admin")
    signed_in_user(server, "member@example.com")
    assert views(server, admin) == {"dashboard": 0, "user list": False, "cli": False,
                                    "sign-in": 200}
    for email in ("member@example.com", "nobody@example.com"):  # an unknown address counts too
        for _ in range(6):
            requests.post(server.url("/api/login"), json={"email": email,
                                                          "password": "Wrong-Pass-1"}, timeout=30)
    assert views(server, admin) == {"dashboard": 2, "user list": True, "cli": True,
                                    "sign-in": 429}
    server.advance(30 * 60 - 60)  # lockout.minutes = 30: still locked
    assert views(server, admin)["dashboard"] == 2
    server.advance(120)
    assert views(server, admin) == {"dashboard": 0, "user list": False, "cli": False,
                                    "sign-in": 200}
