"""Roles with permissions: every admin page and admin API route needs one permission, and a
user gets exactly the routes their role's permissions open. The route list comes from the
server itself (`gatehouse -p routes`), so a route added later is covered without editing this
file."""
import json
import os
import subprocess

import pytest
import requests

from conftest import BIN, STRONG, TOP, cli_actor, csrf_of, signed_in_user
# Names under example.test resolve to loopback (forward-auth's cookie domain).
from test_forward_auth import example_test_resolves_to_loopback  # noqa: F401

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


# -- roles as data -----------------------------------------------------------------------------

SAML_LOG_ROUTES = {("GET", "/admin/saml-log"), ("GET", "/admin/saml-log/view"),
                   ("GET", "/api/admin/saml-log"), ("GET", "/api/admin/saml-log/*")}


def a_refused_saml_response(server):
    """One entry in the SAML log (id 1): a response that is not XML, refused and logged."""
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": "PG5vdCB4bWw+"},
                      allow_redirects=False, timeout=30)
    assert r.status_code >= 400


def test_a_saml_log_viewer_sees_the_saml_log_and_gets_403_everywhere_else(server):
    server.ctl("role", "add", "samlviewer", "--permissions", "saml_log.view")
    server.add_user("member@example.com")
    a_refused_saml_response(server)
    b, _ = signed_in_user(server, "viewer@example.com", "samlviewer")
    h = api_token(server, "viewer@example.com")
    seen = statuses(server, b, h)
    for (method, path), st in seen.items():
        if (method, path) in SAML_LOG_ROUTES:
            assert st == 200, (method, path, st)
        else:
            assert st == 403, (method, path, st)
    entries = requests.get(server.url("/api/admin/saml-log"), headers=h, timeout=30).json()
    assert len(entries["entries"]) == 1
    # The Admin link leads to the one page the role opens; the navigation shows only it.
    home = b.get("/").text
    assert 'href="/admin/saml-log">Admin</a>' in home
    page = b.get("/admin/saml-log").text
    assert 'href="/admin/saml-log"' in page and 'href="/admin/users"' not in page
    assert 'href="/admin/audit"' not in page


def test_changing_the_admin_roles_permissions_takes_effect_at_once(server):
    b, _ = signed_in_user(server, "admin@example.com", "admin")
    h = api_token(server, "admin@example.com")
    assert requests.get(server.url("/api/admin/audit"), headers=h, timeout=30).status_code == 200
    assert b.get("/admin/audit").status_code == 200
    # Another process (the CLI) takes audit.view away: the server's next request sees it.
    before = [p for p in requests.get(server.url("/api/admin/roles"), headers=h, timeout=30)
              .json()["roles"] if p["name"] == "admin"][0]["permissions"]
    without = [p for p in before if p != "audit.view"]
    server.ctl("role", "set", "admin", "--permissions", ",".join(without))
    assert requests.get(server.url("/api/admin/audit"), headers=h, timeout=30).status_code == 403
    assert b.get("/admin/audit").status_code == 403
    assert 'href="/admin/audit"' not in b.get("/admin/users").text
    # An owner gives it back through the API; the change is audited old -> new.
    _, _ = signed_in_user(server, "owner@example.com", "owner")
    o = api_token(server, "owner@example.com")
    r = requests.post(server.url("/api/admin/roles/admin"), headers=o,
                      json={"permissions": before}, timeout=30)
    assert r.status_code == 200, r.text
    assert requests.get(server.url("/api/admin/audit"), headers=h, timeout=30).status_code == 200
    rows = [e for e in json.loads(server.ctl("audit", "list", "--json").stdout)
            if e["action"] == "role.set"]
    assert len(rows) == 2
    assert {(e["old"], e["new"]) for e in rows} == {(",".join(before), ",".join(without)),
                                                     (",".join(without), ",".join(before))}
    assert {e["actor"] for e in rows} == {cli_actor(), "user:owner@example.com"}


def test_an_admin_cannot_create_roles_nor_grant_more_than_they_hold(server):
    server.ctl("role", "add", "samlviewer", "--permissions", "saml_log.view")
    server.ctl("role", "add", "switcher", "--permissions", "saml_log.view,password_login.edit")
    server.add_user("member@example.com")
    b, _ = signed_in_user(server, "admin@example.com", "admin")
    h = api_token(server, "admin@example.com")

    def post(path, body):
        return requests.post(server.url("/api/admin/" + path), headers=h, json=body, timeout=30)

    assert post("roles", {"name": "mine", "permissions": ["saml_log.view"]}).status_code == 403
    assert post("roles/admin", {"permissions": ["password_login.edit"]}).status_code == 403
    assert post("roles/samlviewer/remove", {}).status_code == 403
    r = b.post_form("/admin/roles", "/admin/roles", {"action": "add", "name": "mine"})
    assert r.status_code == 403
    # Granting: never owner, never a peer (admin), never a role holding what admin lacks.
    for role in ("owner", "admin", "switcher"):
        r = post("users/member@example.com/role", {"role": role})
        assert r.status_code == 403, (role, r.text)
        r = post("users/admin@example.com/role", {"role": role})
        assert r.status_code == 403, (role, r.text)
    # A role holding less than admin's is the admin's to give, and to take back.
    assert post("users/member@example.com/role", {"role": "samlviewer"}).status_code == 200
    assert post("users/member@example.com/role", {"role": "member"}).status_code == 200
    r = post("users", {"email": "new@example.com", "role": "samlviewer"})
    assert r.status_code == 201, r.text
    assert post("users", {"email": "n2@example.com", "role": "switcher"}).status_code == 403
    # The user page offers only the roles the admin may give.
    page = b.get("/admin/users/view?email=member@example.com").text
    assert '<option value="samlviewer"' in page and '<option value="switcher"' not in page
    assert '<option value="admin"' not in page and '<option value="owner"' not in page
    assert json.loads(server.ctl("user", "show", "member@example.com", "--json")
                      .stdout)["role"] == "member"


def test_owner_and_member_are_fixed_and_a_role_in_use_is_not_removed(server):
    def refused(*args):
        p = server.ctl("role", *args, check=False)
        assert p.returncode == 1, (args, p.stdout, p.stderr)
        return p.stderr

    assert "fixed" in refused("set", "owner", "--permissions", "users.view")
    assert "fixed" in refused("set", "member", "--permissions", "users.view")
    assert "built-in" in refused("remove", "admin")
    assert "owners' alone" in refused("add", "trusty", "--permissions", "idps.trust")
    assert "owners' alone" in refused("set", "admin", "--permissions", "roles.edit")
    assert "unknown permission" in refused("add", "typo", "--permissions", "users.veiw")
    assert "not a role name" in refused("add", "cli", "--permissions", "users.view")
    assert "not a role name" in refused("add", "Big", "--permissions", "users.view")
    server.ctl("role", "add", "auditor", "--permission", "audit.view", "--permission",
               "saml_log.view")
    assert "exists already" in refused("add", "auditor", "--permissions", "audit.view")
    server.add_user("ann@example.com", "auditor")
    err = refused("remove", "auditor")
    assert "in use" in err and "1 user holds it" in err
    listed = {r["name"]: r for r in json.loads(server.ctl("role", "list", "--json").stdout)}
    assert listed["auditor"]["permissions"] == ["saml_log.view", "audit.view"]
    assert listed["owner"]["builtin"] and not listed["auditor"]["builtin"]
    server.ctl("user", "set-role", "ann@example.com", "member")
    server.ctl("role", "remove", "auditor")
    p = server.ctl("user", "set-role", "ann@example.com", "auditor", check=False)
    assert p.returncode == 1 and "no role" in p.stderr
    actions = [(e["action"], e["target"], e["old"], e["new"])
               for e in json.loads(server.ctl("audit", "list", "--json").stdout)
               if e["action"].startswith("role.")]
    assert ("role.add", "auditor", "", "saml_log.view,audit.view") in actions
    assert ("role.remove", "auditor", "saml_log.view,audit.view", "") in actions


def test_an_idp_maps_groups_and_its_default_to_custom_roles_never_to_owner(server, tmp_path):
    from samlidp import MiniIdP
    from test_saml_acs import _role_after_sign_in
    server.ctl("role", "add", "auditor", "--permissions", "audit.view")
    server.ctl("role", "add", "helpdesk", "--permissions", "users.view,users.edit,audit.view")
    idp = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com",
               "--default-role", "auditor", "--group-role", "support=helpdesk",
               "--group-role", "staff=member")
    for bad in (["--group-role", "root=owner"], ["--default-role", "owner"],
                ["--group-role", "x=nosuchrole"], ["--default-role", "nosuchrole"]):
        p = server.ctl("idp", "set", idp.entity_id, *bad, check=False)
        assert p.returncode == 1, bad
    assert "owner is never granted" in server.ctl("idp", "set", idp.entity_id, "--group-role",
                                                  "root=owner", check=False).stderr
    # No mapped group: the default role; the role holding most wins among mapped groups.
    assert _role_after_sign_in(server, idp, "a@example.com",
                               {"email": "a@example.com", "groups": ["other"]}) == "auditor"
    assert _role_after_sign_in(server, idp, "b@example.com",
                               {"email": "b@example.com",
                                "groups": ["staff", "support"]}) == "helpdesk"
    # A role an IdP gives is in use.
    p = server.ctl("role", "remove", "helpdesk", check=False)
    assert p.returncode == 1 and "in use" in p.stderr
    # Only an owner sets what an IdP grants: an admin is refused, even for a custom role.
    signed_in_user(server, "admin@example.com", "admin")
    h = api_token(server, "admin@example.com")
    r = requests.post(server.url("/api/admin/idps/set"), headers=h, timeout=30,
                      json={"entity_id": idp.entity_id, "group_roles": {"x": "auditor"}})
    assert r.status_code == 403, r.text


def test_forward_auth_rules_and_headers_carry_custom_role_names(make_server):
    from test_forward_auth import fa_server, _set_base, login_cookie, verify
    srv = fa_server(make_server, extra_rules=("app.example.test /audit roles=auditor,owner",))
    _set_base(srv, f"http://auth.example.test:{srv.port}")
    srv.start()
    srv.ctl("role", "add", "auditor", "--permissions", "audit.view")
    _, aud = login_cookie(srv, "aud@example.com", role="auditor")
    _, mem = login_cookie(srv, "mem@example.com")
    url = f"http://app.example.test:{srv.port}/audit/report"
    r = verify(srv, url, cookie=aud)
    assert r.status_code == 200, r.text
    assert r.headers["Remote-Role"] == "auditor" and r.headers["Remote-Groups"] == "auditor"
    assert verify(srv, url, cookie=mem).status_code == 403
    out = srv.ctl("access", "check", url, "--user", "aud@example.com").stdout
    assert "allow" in out


@pytest.mark.sqlite_only("a SQLite store file of the release before roles, migrated in place")
def test_the_migration_keeps_ids_sessions_and_foreign_keys(make_server):
    """A store written by the release before roles (schema 12, made by
    tests/fixtures/store/make_v12.py) opens with this one: the users table is rebuilt without
    its CHECK on role, keeping every id and every row that points at a user."""
    import shutil
    import sqlite3
    srv = make_server(start=False)
    db = os.path.join(srv.tmp, "gatehouse.db")
    shutil.copy(os.path.join(TOP, "tests", "fixtures", "store", "gatehouse-v12.db"), db)
    os.chmod(db, 0o600)

    def rows(sql):
        con = sqlite3.connect(db)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    users = rows("SELECT id, email, role FROM users ORDER BY id")
    sessions = rows("SELECT token_hash, user_id FROM sessions ORDER BY token_hash")
    history = rows("SELECT id, user_id FROM password_history ORDER BY id")
    groups = rows("SELECT * FROM idp_group_roles ORDER BY group_name")
    assert len(users) == 3 and len(sessions) == 3 and groups
    srv.ctl("role", "add", "auditor", "--permissions", "audit.view")
    assert rows("SELECT id, email, role FROM users ORDER BY id") == users
    assert rows("SELECT token_hash, user_id FROM sessions ORDER BY token_hash") == sessions
    assert rows("SELECT id, user_id FROM password_history ORDER BY id") == history
    assert rows("SELECT * FROM idp_group_roles ORDER BY group_name") == groups
    assert rows("PRAGMA foreign_key_check") == []
    assert rows("PRAGMA integrity_check") == [("ok",)]
    assert "CHECK (role" not in rows("SELECT sql FROM sqlite_master WHERE name = 'users'")[0][0]
    # Deleting a user still cascades to what points at it; custom roles are accepted.
    srv.ctl("user", "set-role", "member@example.com", "auditor")
    entity = groups[0][0]
    srv.ctl("idp", "set", entity, "--group-role", "staff=auditor", "--default-role", "auditor")
    srv.ctl("user", "delete", "admin@example.com")
    assert rows("SELECT COUNT(*) FROM sessions WHERE user_id = 2") == [(0,)]
    assert rows("SELECT role FROM users WHERE id = 3") == [("auditor",)]
    assert rows("SELECT name FROM roles ORDER BY name") == [("admin",), ("auditor",),
                                                           ("member",), ("owner",)]
