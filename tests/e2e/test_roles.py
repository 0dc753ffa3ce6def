"""Roles with permissions: every admin page and admin API route needs one permission, and a
user gets exactly the routes their role's permissions open. The route list comes from the
server itself (`gatehouse -p routes`), so a route added later is covered without editing this
file."""
import os
import subprocess

import requests

from conftest import BIN, STRONG, TOP, csrf_of, signed_in_user

SAMPLES = {"users": "member@example.com", "saml-log": "1", "roles": "admin"}
ACTIONS = {"users": "unlock"}


def admin_routes():
    out = subprocess.run([os.path.join(BIN, "gatehouse"), "-p", "routes"], capture_output=True,
                         text=True, check=True, timeout=30).stdout
    routes = []
    for line in out.splitlines():
        method, path, *perm = line.split()
        routes.append((method, path, perm[0] if perm else None))
    return routes


def concrete(path):
    """The route's pattern with a sample value for each "*" segment."""
    parts, out = path.split("/"), []
    for i, p in enumerate(parts):
        if p == "*":
            prev = parts[i - 1]
            out.append(SAMPLES.get(prev, ACTIONS.get(parts[i - 2], "x")) if prev != "*"
                       else ACTIONS.get(parts[i - 2], "x"))
        else:
            out.append(p)
    return "/".join(out)


def api_token(server, email):
    r = requests.post(server.url("/api/login"), json={"email": email, "password": STRONG},
                      timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def statuses(server, browser, headers):
    """Each admin route's status for the user (pages through the browser, API with the token)."""
    token = csrf_of(browser.get("/").text)
    seen = {}
    for method, path, _ in admin_routes():
        if path.startswith("/api/admin/"):
            url = server.url(concrete(path))
            r = (requests.get(url, headers=headers, timeout=30) if method == "GET" else
                 requests.post(url, headers=headers, json={}, timeout=30))
        elif method == "GET":
            r = browser.get(path + "?email=member@example.com&id=1")
        else:
            r = browser.s.post(server.url(path), data={"csrf_token": token, "action": "unlock",
                                                       "email": "member@example.com"},
                               allow_redirects=False, timeout=30)
        seen[(method, path)] = r.status_code
    return seen


def test_the_route_list_has_every_admin_page_and_api_route():
    routes = admin_routes()
    paths = {(m, p) for m, p, _ in routes}
    for want in [("GET", "/admin"), ("GET", "/admin/saml-log"), ("POST", "/admin/users/action"),
                 ("GET", "/admin/roles"), ("GET", "/api/admin/saml-log/*"),
                 ("POST", "/api/admin/users/*/*"), ("GET", "/api/admin/roles")]:
        assert want in paths, want
    # Every API route names the permission it needs.
    assert all(perm for _, p, perm in routes if p.startswith("/api/admin/"))
    # The page table in the source has no admin page the list lacks.
    with open(os.path.join(TOP, "auth", "routes.c")) as f:
        src = f.read()
    import re
    for m, p in re.findall(r'\{"(GET|POST)", "(/admin[^"]*)"', src):
        assert (m, p) in paths, (m, p)


def test_a_member_gets_403_on_every_admin_route(server):
    server.add_user("member@example.com")
    b, _ = signed_in_user(server, "plain@example.com", "member")
    seen = statuses(server, b, api_token(server, "plain@example.com"))
    assert seen and all(st == 403 for st in seen.values()), seen


def test_the_admin_role_opens_every_page_but_holds_no_owner_only_permission(server):
    server.add_user("member@example.com")
    b, _ = signed_in_user(server, "admin@example.com", "admin")
    h = api_token(server, "admin@example.com")
    r = requests.get(server.url("/api/admin/roles"), headers=h, timeout=30)
    assert r.status_code == 200, r.text
    roles = {x["name"]: x for x in r.json()["roles"]}
    assert set(roles) >= {"owner", "admin", "member"}
    assert roles["member"]["permissions"] == []
    assert "idps.trust" not in roles["admin"]["permissions"]
    assert "roles.edit" not in roles["admin"]["permissions"]
    assert "password_login.edit" not in roles["admin"]["permissions"]
    assert "saml_log.view" in roles["admin"]["permissions"]
    owner_only = {p["name"] for p in r.json()["permissions"] if p["owner_only"]}
    assert owner_only == {"idps.trust", "roles.edit"}
    page = b.get("/admin/roles")
    assert page.status_code == 200 and 'id="role-admin"' in page.text
    for method, path, _ in admin_routes():
        if method == "GET" and not path.startswith("/api/"):
            assert b.get(path + "?email=member@example.com").status_code != 403, path
