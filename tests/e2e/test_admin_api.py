"""The admin JSON API (/api/admin/...): the same operations and authorisation as the CLI and the
admin pages; every change audited with the session's user as actor and old -> new values."""
import json

import pytest
import requests

from conftest import STRONG, signed_in_user
from samlidp import MiniIdP


def token_for(server, email, role):
    signed_in_user(server, email, role)
    r = requests.post(server.url("/api/login"), json={"email": email, "password": STRONG},
                      timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["token"]


class Api:
    def __init__(self, server, token):
        self.server, self.h = server, {"Authorization": f"Bearer {token}"}

    def get(self, path, **params):
        return requests.get(self.server.url("/api/admin/" + path), headers=self.h,
                            params=params, timeout=30)

    def post(self, path, body=None):
        return requests.post(self.server.url("/api/admin/" + path), headers=self.h,
                             json=body if body is not None else {}, timeout=30)


@pytest.fixture
def people(server):
    owner = Api(server, token_for(server, "owner@example.com", "owner"))
    admin = Api(server, token_for(server, "admin@example.com", "admin"))
    member = Api(server, token_for(server, "member@example.com", "member"))
    return owner, admin, member


GETS = ["users", "users/member@example.com", "policy", "idps", "saml-log", "saml-log/1",
        "audit", "stats"]
POSTS = [("users", {"email": "x@example.com"}), ("users/owner@example.com/unlock", {}),
         ("users/owner@example.com/reset-password", {}),
         ("users/owner@example.com/force-change", {}), ("users/owner@example.com/mfa-reset", {}),
         ("users/owner@example.com/disable", {}), ("users/owner@example.com/enable", {}),
         ("users/owner@example.com/role", {"role": "member"}),
         ("users/owner@example.com/delete", {}), ("policy", {"lockout.minutes": 10}),
         ("password-login", {"enabled": False}), ("idps", {"metadata": "<x/>"}),
         ("idps/set", {"entity_id": "x"}), ("idps/remove", {"entity_id": "x"})]


def test_a_member_gets_403_on_every_admin_route_and_nothing_changes(server, people):
    _, _, member = people
    before = json.loads(server.ctl("audit", "list", "--json").stdout)
    for path in GETS:
        r = member.get(path)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", path
    for path, body in POSTS:
        r = member.post(path, body)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", path
    assert json.loads(server.ctl("audit", "list", "--json").stdout) == before
    # Without a session: 401.
    assert requests.get(server.url("/api/admin/users"), timeout=30).status_code == 401


def test_an_admin_cannot_touch_owners_or_admins_nor_grant_roles(server, people):
    owner, admin, _ = people
    for action in ("unlock", "reset-password", "force-change", "disable", "delete"):
        r = admin.post(f"users/owner@example.com/{action}")
        assert r.status_code == 403, (action, r.text)
    assert admin.post("users/owner@example.com/role", {"role": "member"}).status_code == 403
    assert admin.post("users/member@example.com/role", {"role": "owner"}).status_code == 403
    assert admin.post("users/member@example.com/role", {"role": "admin"}).status_code == 403
    assert admin.post("users", {"email": "boss@example.com", "role": "owner"}).status_code == 403
    assert admin.post("password-login", {"enabled": False}).status_code == 403
    me = json.loads(server.ctl("user", "show", "owner@example.com", "--json").stdout)
    assert me["role"] == "owner" and me["status"] == "active"
    # The owner can.
    r = owner.post("users/member@example.com/role", {"role": "admin"})
    assert r.status_code == 200, r.text


def test_admin_operations_on_members_are_audited_with_old_and_new(server, people):
    _, admin, _ = people
    r = admin.post("users", {"email": "new@example.com", "name": "New Person"})
    assert r.status_code == 201 and len(r.json()["temporary_password"]) >= 12
    r = admin.post("users", {"email": "new@example.com"})
    assert r.status_code == 422 and "already exists" in r.json()["message"]
    assert admin.post("users/nobody@example.com/disable").status_code == 404
    for action in ("force-change", "disable", "enable", "unlock"):
        assert admin.post(f"users/member@example.com/{action}").status_code == 200, action
    r = admin.post("users/member@example.com/reset-password")
    assert r.status_code == 200 and r.json()["temporary_password"]
    assert admin.post("users/member@example.com/mfa-reset").status_code == 422
    r = admin.get("users", q="new@")
    assert [u["email"] for u in r.json()["users"]] == ["new@example.com"]
    assert admin.get("users/member@example.com").json()["must_change"] is True
    assert admin.post("users/new@example.com/delete").status_code == 200
    entries = admin.get("audit", actor="user:admin@example.com", limit=50).json()["entries"]
    actions = {e["action"] for e in entries}
    assert {"user.add", "user.force_change", "user.disable", "user.enable", "user.unlock",
            "user.reset_password", "user.delete"} <= actions
    for e in entries:
        if e["action"].startswith("user."):
            assert e["actor_role"] == "admin" and e["client"] == "127.0.0.1", e
    dis = next(e for e in entries if e["action"] == "user.disable")
    assert (dis["old"], dis["new"], dis["target"]) == ("active", "disabled", "member@example.com")
    # The same log from the CLI, filtered, and as JSON lines.
    lines = server.ctl("audit", "list", "--action", "user.disable", "--jsonl").stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["actor"] == "user:admin@example.com"


def test_policy_through_the_api(server, people):
    _, admin, _ = people
    assert {s["key"] for s in admin.get("policy").json()["settings"]} >= {
        "password.min_length", "lockout.max_failures", "mfa.required"}
    r = admin.post("policy", {"password.min_length": 40})
    assert r.status_code == 422 and "8" in r.json()["message"] and "32" in r.json()["message"]
    r = admin.post("policy", {"password.min_length": 12, "lockout.minutes": "oops"})
    assert r.status_code == 422
    assert "12" not in server.ctl("policy", "show").stdout.split("password.min_length")[1][:12]
    r = admin.post("policy", {"password.min_length": 12, "mfa.required": True})
    assert r.status_code == 200, r.text
    assert r.json()["changed"]["password.min_length"] == {"old": "8", "new": "12"}
    entry = admin.get("audit", action="policy.set", target="password.min_length").json()
    assert entry["entries"][0]["old"] == "8" and entry["entries"][0]["new"] == "12"


def test_password_switch_needs_an_owner_and_an_idp(server, people, tmp_path):
    owner, _, _ = people
    r = owner.post("password-login", {"enabled": False})
    assert r.status_code == 409 and r.json()["error"] == "no_idp"
    idp = MiniIdP(tmp_path)
    with open(idp.metadata_path) as f:
        md = f.read()
    r = owner.post("idps", {"metadata": md, "domains": ["example.com"], "name": "Corp",
                            "group_roles": {"ops": "admin"}})
    assert r.status_code == 201, r.text
    assert owner.post("idps", {"metadata": md}).status_code == 422
    assert owner.post("idps", {"metadata": "<not xml"}).status_code == 422
    listed = owner.get("idps").json()["idps"]
    assert listed[0]["domains"] == "example.com" and listed[0]["group_roles"] == "ops=admin"
    r = owner.post("idps/set", {"entity_id": idp.entity_id, "idp_initiated": True})
    assert r.status_code == 200
    assert owner.get("idps").json()["idps"][0]["idp_initiated"] is True
    # New metadata (the IdP's key rolled over): certificates replaced, settings kept.
    certs = owner.get("idps").json()["idps"][0]["certs"]
    rolled = MiniIdP(tmp_path, idp.entity_id, name="rolled")
    with open(rolled.metadata_path) as f:
        r = owner.post("idps/set", {"entity_id": idp.entity_id, "metadata": f.read()})
    assert r.status_code == 200, r.text
    after = owner.get("idps").json()["idps"][0]
    assert after["certs"] != certs and after["domains"] == "example.com"
    assert after["idp_initiated"] is True
    r = owner.post("idps/set", {"entity_id": idp.entity_id, "metadata": "<not xml"})
    assert r.status_code == 422
    r = owner.post("password-login", {"enabled": False})
    assert r.status_code == 200 and r.json() == {"old": "on", "new": "off"}
    assert "password" not in requests.get(server.url("/login"), timeout=30).text.split(
        'action="/login"')[0][-10:]
    assert owner.post("password-login", {"enabled": True}).status_code == 200
    assert owner.post("idps/remove", {"entity_id": idp.entity_id}).status_code == 200
    assert owner.post("idps/remove", {"entity_id": idp.entity_id}).status_code == 404


def test_logs_and_dashboard_counts(server, people):
    _, admin, _ = people
    requests.post(server.url("/api/login"), json={"email": "member@example.com",
                                                  "password": "wrong-Password-1"}, timeout=30)
    stats = admin.get("stats").json()
    total_ok = sum(h.get("password_success", 0) for h in stats["hours"].values())
    total_bad = sum(h.get("password_failure", 0) for h in stats["hours"].values())
    assert total_ok >= 3 and total_bad >= 1 and stats["locked"] == 0
    assert admin.get("saml-log").json()["entries"] == []
    assert admin.get("saml-log/SAML-99").status_code == 404
    assert admin.get("nope").status_code == 404
    r = requests.post(server.url("/api/admin/policy"), headers=admin.h, data="{",
                      timeout=30)
    assert r.status_code in (400, 415)
