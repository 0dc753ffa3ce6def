"""Trust decisions about IdPs are the owner's (issue 14 item 1). An admin who could reload an
IdP's metadata with their own certificate could sign an assertion for the owner's NameID and
become owner; one who could add an IdP with default_role=admin could mint admins. Admins may
read IdPs and rename them (and set the e-mail and name attribute names); everything else is
refused with 403 on the API, the admin pages and the rules table the CLI shares, and an IdP
never grants owner, whoever asks."""
import json

import pytest
import requests

from conftest import STRONG, Browser, alert_of, audit_entries, csrf_of, signed_in_user
from samlidp import MiniIdP, request_id_from_redirect


def token_for(server, email, role):
    signed_in_user(server, email, role)
    r = requests.post(server.url("/api/login"), json={"email": email, "password": STRONG},
                      timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["token"]


class Api:
    def __init__(self, server, token):
        self.server, self.h = server, {"Authorization": f"Bearer {token}"}

    def get(self, path):
        return requests.get(self.server.url("/api/admin/" + path), headers=self.h, timeout=30)

    def post(self, path, body):
        return requests.post(self.server.url("/api/admin/" + path), headers=self.h, json=body,
                             timeout=30)


def idps(server):
    return {i["entity_id"]: i for i in json.loads(server.ctl("idp", "list", "--json").stdout)}


def sso_sign_in(server, idp, name_id, attrs):
    """SP-initiated sign-in answered by idp (whoever holds its key); the ACS answer."""
    b = Browser(server)
    r = b.get(f"/saml/login?idp={idp.entity_id}&return_to=/")
    assert r.status_code == 303, r.text
    rid, q = request_id_from_redirect(r.headers["Location"])
    b64, _ = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"), name_id, attrs,
                          in_response_to=rid)
    r = b.s.post(server.url("/saml/acs"), data={"SAMLResponse": b64,
                                                "RelayState": q["RelayState"][0]},
                 allow_redirects=False, timeout=30)
    return r, b


@pytest.fixture
def corp(server, tmp_path):
    """IdP A, registered by the owner, and the owner's own SSO account on it."""
    idp = MiniIdP(tmp_path, name="corp")
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com",
               "--name", "Corp")
    r, _ = sso_sign_in(server, idp, "boss@example.com", {"email": "boss@example.com"})
    assert r.status_code == 303, r.text
    server.ctl("user", "set-role", "boss@example.com", "owner")
    return idp


def test_an_admin_cannot_swap_an_idps_key_and_sign_in_as_the_owner(server, corp, tmp_path):
    admin = Api(server, token_for(server, "admin@example.com", "admin"))
    certs = idps(server)[corp.entity_id]["certs"]
    before = len(audit_entries(server))
    # The admin's own key pair, published as IdP A's metadata.
    evil = MiniIdP(tmp_path, corp.entity_id, name="evil")
    with open(evil.metadata_path) as f:
        r = admin.post("idps/set", {"entity_id": corp.entity_id, "metadata": f.read()})
    assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    assert "Only an owner" in r.json()["message"]
    assert idps(server)[corp.entity_id]["certs"] == certs
    assert len(audit_entries(server)) == before
    # So the forged assertion for the owner's NameID, signed with the admin's key, is refused.
    r, b = sso_sign_in(server, evil, "boss@example.com", {"email": "boss@example.com"})
    assert r.status_code == 403 and "gatehouse_session" not in r.cookies
    assert b.whoami().status_code == 401
    log = json.loads(server.ctl("saml-log", "list", "--json", "--limit", "1").stdout)[0]
    assert log["reason"] == "bad_signature", log
    # The same reload from the admin page is refused too.
    page = Browser(server)
    assert page.login("admin@example.com", STRONG).status_code == 303
    token = csrf_of(page.get("/admin/idps").text)
    with open(evil.metadata_path, "rb") as f:
        r = page.s.post(server.url("/admin/idps"),
                        data={"csrf_token": token, "action": "metadata",
                              "entity_id": corp.entity_id},
                        files={"metadata_file": ("idp.xml", f.read(), "text/xml")},
                        allow_redirects=False, timeout=30)
    assert r.status_code == 403 and "Only an owner" in alert_of(r.text)
    assert idps(server)[corp.entity_id]["certs"] == certs
    # The owner still can (the IdP rolled its key).
    owner = Api(server, token_for(server, "owner@example.com", "owner"))
    with open(evil.metadata_path) as f:
        r = owner.post("idps/set", {"entity_id": corp.entity_id, "metadata": f.read()})
    assert r.status_code == 200, r.text
    assert idps(server)[corp.entity_id]["certs"] != certs


def test_an_admin_cannot_add_an_idp_that_mints_admins_nor_change_trust(server, corp, tmp_path):
    admin = Api(server, token_for(server, "admin@example.com", "admin"))
    mine = MiniIdP(tmp_path, "https://mine.example/saml", name="mine")
    with open(mine.metadata_path) as f:
        md = f.read()
    r = admin.post("idps", {"metadata": md, "default_role": "admin", "domains": ["mine.example"]})
    assert r.status_code == 403 and r.json()["error"] == "forbidden", r.text
    assert admin.post("idps", {"metadata": md}).status_code == 403
    assert set(idps(server)) == {corp.entity_id}
    e = corp.entity_id
    refused = [{"default_role": "admin"}, {"domains": ["example.com", "mine.example"]},
               {"domains": []}, {"group_roles": {"ops": "admin"}}, {"idp_initiated": True},
               {"allow_sha1": True}, {"attributes": {"groups": "description"}},
               {"name": "Renamed", "default_role": "admin"}]
    for change in refused:
        r = admin.post("idps/set", dict(change, entity_id=e))
        assert r.status_code == 403 and r.json()["error"] == "forbidden", (change, r.text)
    assert admin.post("idps/remove", {"entity_id": e}).status_code == 403
    listed = idps(server)[e]
    assert (listed["name"], listed["default_role"], listed["domains"]) == (
        "Corp", "member", "example.com")
    assert not listed["idp_initiated"] and not listed["allow_sha1"]
    assert not any(a["action"].startswith("idp.") and a["actor"] == "user:admin@example.com"
                   for a in audit_entries(server))
    # Reading, renaming, the e-mail and name attributes, and values sent unchanged: allowed.
    assert admin.get("idps").status_code == 200
    r = admin.post("idps/set", {"entity_id": e, "name": "Corp SSO", "default_role": "member",
                                "domains": ["example.com"], "idp_initiated": False,
                                "attributes": {"email": "mail", "first_name": "givenName"}})
    assert r.status_code == 200, r.text
    listed = idps(server)[e]
    assert listed["name"] == "Corp SSO" and listed["domains"] == "example.com"
    entry = [a for a in audit_entries(server) if a["action"] == "idp.set"][0]
    assert entry["actor"] == "user:admin@example.com" and "name=Corp SSO" in entry["new"]
    # The owner may make each trust decision, and lowering the default role is an admin's too.
    owner = Api(server, token_for(server, "owner@example.com", "owner"))
    r = owner.post("idps/set", {"entity_id": e, "default_role": "admin",
                                "group_roles": {"ops": "admin"}, "idp_initiated": True})
    assert r.status_code == 200, r.text
    assert admin.post("idps/set", {"entity_id": e, "default_role": "member"}).status_code == 200
    assert idps(server)[e]["default_role"] == "member"
    r = owner.post("idps", {"metadata": md, "default_role": "admin"})
    assert r.status_code == 201, r.text


def test_an_idp_never_grants_owner(server, corp):
    owner = Api(server, token_for(server, "owner@example.com", "owner"))
    e = corp.entity_id
    for change in ({"default_role": "owner"}, {"group_roles": {"ops": "owner"}}):
        r = owner.post("idps/set", dict(change, entity_id=e))
        assert r.status_code == 422, (change, r.text)
    for args in (["--default-role", "owner"], ["--group-role", "ops=owner"]):
        p = server.ctl("idp", "set", e, *args, check=False)
        assert p.returncode == 1 and "owner" in p.stderr, p.stderr
    assert idps(server)[e]["default_role"] == "member" and idps(server)[e]["group_roles"] == ""
    # A mapped user in every group still gets admin at most.
    server.ctl("idp", "set", e, "--group-role", "ops=admin", "--default-role", "admin")
    r, b = sso_sign_in(server, corp, "carol@example.com",
                       {"email": "carol@example.com", "groups": ["ops", "owner", "owners"]})
    assert r.status_code == 303, r.text
    assert b.whoami().json()["role"] == "admin"


def test_the_idp_page_shows_an_admin_only_what_they_may_change(server, corp):
    admin, _ = signed_in_user(server, "admin@example.com", "admin")
    owner, _ = signed_in_user(server, "owner@example.com", "owner")
    page = owner.get("/admin/idps").text
    for control in ('name="domains"', 'name="group_roles"', 'name="idp_initiated"',
                    'name="default_role"', 'name="attr_groups"', 'value="metadata"',
                    'value="remove"', 'value="add"'):
        assert control in page, control
    page = admin.get("/admin/idps").text
    for control in ('name="domains"', 'name="group_roles"', 'name="idp_initiated"',
                    'name="default_role"', 'name="attr_groups"', 'value="metadata"',
                    'value="remove"', 'value="add"'):
        assert control not in page, control
    assert 'name="name"' in page and 'name="attr_email"' in page and 'id="owner-only"' in page
    assert "example.com" in page  # the trust settings are shown read-only

    def post(b, fields):
        token = csrf_of(b.get("/admin/idps").text)
        return b.s.post(server.url("/admin/idps"), data={"csrf_token": token, **fields},
                        allow_redirects=False, timeout=30)

    # The admin's form: only the name and attribute names; saved, trust settings untouched.
    r = post(admin, {"action": "set", "entity_id": corp.entity_id, "name": "Corp SSO",
                     "attr_email": "mail"})
    assert r.status_code == 200 and "Saved" in r.text, r.text
    # The owner's full form, crafted by the admin: refused when it changes a trust setting.
    full = {"action": "set", "entity_id": corp.entity_id, "name": "Corp SSO",
            "domains": "example.com", "default_role": "member", "group_roles": ""}
    r = post(admin, dict(full, domains="example.com, evil.example"))
    assert r.status_code == 403 and "Only an owner" in alert_of(r.text)
    r = post(admin, dict(full, idp_initiated="1"))
    assert r.status_code == 403
    r = post(admin, {"action": "add", "metadata": "<x/>"})
    assert r.status_code == 403
    r = post(admin, {"action": "remove", "entity_id": corp.entity_id, "confirm": "1"})
    assert r.status_code == 403
    listed = idps(server)[corp.entity_id]
    assert listed["name"] == "Corp SSO" and listed["domains"] == "example.com"
    assert not listed["idp_initiated"]
    r = post(owner, dict(full, domains="example.com, corp.example"))
    assert r.status_code == 200, r.text
    assert idps(server)[corp.entity_id]["domains"] == "corp.example,example.com"
