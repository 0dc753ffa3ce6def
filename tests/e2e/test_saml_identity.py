"""One person, one user: NameIDs and stored attribute values are refused over their bound (never
cut), emailAddress NameIDs compare case-insensitively without surrounding whitespace, the same
IdP's user is re-keyed to a new NameID (audited), password accounts and other IdPs' users are
never taken over, and an e-mail domain belongs to at most one IdP. Responses are minted by
`bin/mock-idp mint`, each IdP with its own key."""
import json
import os
import subprocess

import pytest
import requests

from conftest import STRONG, Browser, audit_entries, csrf_of, signed_in_user

BIN = os.environ.get("GATEHOUSE_BIN_DIR") or os.path.join(os.path.dirname(__file__), "..", "..",
                                                          "bin")
UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


class Idp:
    """A mock IdP that only mints (no server): its own key, metadata and entity ID."""

    def __init__(self, server, tmp, name):
        self.server = server
        self.state = str(tmp / name)
        self.base = f"https://{name}.idp.example"
        self.entity_id = self.base + "/metadata"
        self.metadata_path = str(tmp / f"{name}-metadata.xml")
        md = self.run("metadata", "--base-url", self.base, "--state-dir", self.state)
        with open(self.metadata_path, "w") as f:
            f.write(md)
        self.sp_metadata = str(tmp / f"{name}-sp.xml")
        with open(self.sp_metadata, "w") as f:
            f.write(requests.get(server.url("/saml/metadata"), timeout=30).text)
        self.users = str(tmp / f"{name}-users.json")

    @staticmethod
    def run(*args):
        p = subprocess.run([os.path.join(BIN, "mock-idp"), *args], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout

    def add(self, *args):
        self.server.ctl("idp", "add", "--metadata", self.metadata_path, "--idp-initiated", "on",
                        *args)
        return self

    def mint(self, email, name_id=None, fmt=None, name=None):
        args = ["mint", "--sp-metadata", self.sp_metadata, "--state-dir", self.state,
                "--base-url", self.base, "--user", email]
        if name is not None:
            with open(self.users, "w") as f:
                json.dump([{"email": email, "name": name}], f)
            args += ["--users", self.users]
        if name_id is not None:
            args += ["--name-id", name_id]
        if fmt is not None:
            args += ["--name-id-format", fmt]
        return self.run(*args).strip()

    def sign_in(self, email, **kw):
        """IdP-initiated: the response posted by a browser with no cookie of ours."""
        b = Browser(self.server)
        r = b.s.post(self.server.url("/saml/acs"), data={"SAMLResponse": self.mint(email, **kw)},
                     allow_redirects=False, timeout=30)
        return b, r


def failures(server):
    return json.loads(server.ctl("saml-log", "list", "--failed", "--json").stdout)


def users(server):
    return json.loads(server.ctl("user", "list", "--json").stdout)


@pytest.fixture
def idp(server, tmp_path):
    return Idp(server, tmp_path, "a").add("--domain", "example.com")


@pytest.mark.parametrize("size, accepted", [(511, True), (512, False), (1500, False)])
def test_a_nameid_over_the_stored_bound_is_refused_never_cut(server, idp, size, accepted):
    # Two-byte characters: a cut at 511 bytes would fall inside one.
    name_id = ("x" if size % 2 else "") + "é" * (size // 2)
    assert len(name_id.encode()) == size
    b, r = idp.sign_in("alice@example.com", name_id=name_id, fmt=PERSISTENT)
    if accepted:
        assert r.status_code == 303, r.text
        who = b.whoami()
        assert who.status_code == 200 and who.json()["name_id"] == name_id
        return
    assert r.status_code == 403 and "too long" in r.text
    entry = failures(server)[0]
    assert entry["reason"] == "identity_refused" and f"{size} bytes" in entry["detail"]
    assert users(server) == []


def test_two_nameids_sharing_a_long_prefix_never_become_one_user(server, idp):
    prefix = "é" * 256  # 512 bytes
    for tail, email in (("1", "alice@example.com"), ("2", "bob@example.com")):
        _, r = idp.sign_in(email, name_id=prefix + tail, fmt=PERSISTENT)
        assert r.status_code == 403
    assert users(server) == []
    # The refusals are in every listing of the log, as UTF-8 (the CLI's JSON and the API's).
    assert [e["reason"] for e in failures(server)] == ["identity_refused"] * 2
    b, _ = signed_in_user(server, "owner@example.com", "owner")
    r = requests.post(server.url("/api/login"), json={"email": "owner@example.com",
                                                      "password": STRONG}, timeout=30)
    h = {"Authorization": "Bearer " + r.json()["token"]}
    api = requests.get(server.url("/api/admin/saml-log"), headers=h, timeout=30)
    assert api.status_code == 200, api.text
    assert [e["reason"] for e in api.json()["entries"]][:2] == ["identity_refused"] * 2


def test_a_nameid_with_a_control_character_is_refused(server, idp):
    _, r = idp.sign_in("alice@example.com", name_id="alice\u0085x", fmt=PERSISTENT)
    assert r.status_code == 403
    entry = failures(server)[0]
    assert entry["reason"] == "identity_refused" and "UTF-8 text" in entry["detail"]


def test_a_name_over_the_stored_bound_is_refused_not_cut(server, idp):
    _, r = idp.sign_in("alice@example.com", name="Ä" * 128)  # 256 bytes
    assert r.status_code == 403
    entry = failures(server)[0]
    assert entry["reason"] == "identity_refused"
    assert "name attribute is 256 bytes long; at most 255" in entry["detail"]
    b, r = idp.sign_in("alice@example.com", name="Ä" * 127 + "x")  # 255 bytes: stored whole
    assert r.status_code == 303
    shown = json.loads(server.ctl("user", "show", "alice@example.com", "--json").stdout)
    assert shown["name"] == "Ä" * 127 + "x"


def test_email_nameids_compare_without_case_or_surrounding_whitespace(server, idp):
    b, r = idp.sign_in("alice@example.com", name_id="alice@example.com")
    assert r.status_code == 303
    first = b.whoami().json()
    b, r = idp.sign_in("alice@example.com", name_id="\n  Alice@EXAMPLE.com \t")
    assert r.status_code == 303, r.text
    again = b.whoami().json()
    assert again["user_id"] == first["user_id"] and again["name_id"] == "alice@example.com"
    assert len(users(server)) == 1
    assert not [e for e in audit_entries(server) if e["action"] == "user.rekey"]


def test_other_formats_stay_exact(server, idp):
    idp.sign_in("alice@example.com", name_id="Alice", fmt=PERSISTENT)
    b, r = idp.sign_in("alice@example.com", name_id="alice", fmt=PERSISTENT)
    # A different persistent NameID with the same e-mail: the same IdP re-keys its user.
    assert r.status_code == 303 and b.whoami().json()["name_id"] == "alice"
    assert [e["action"] for e in audit_entries(server)].count("user.rekey") == 1


def test_the_same_idps_user_is_rekeyed_to_a_new_nameid(server, idp):
    # SimpleSAMLphp's pattern: `alice` when asked for unspecified, the address IdP-initiated.
    b, r = idp.sign_in("alice@example.com", name_id="alice", fmt=UNSPECIFIED)
    assert r.status_code == 303
    first = b.whoami().json()
    assert first["name_id"] == "alice"
    b, r = idp.sign_in("alice@example.com")  # NameID alice@example.com, emailAddress
    assert r.status_code == 303, r.text
    who = b.whoami().json()
    assert who["user_id"] == first["user_id"] and who["name_id"] == "alice@example.com"
    rekeys = [e for e in audit_entries(server) if e["action"] == "user.rekey"]
    assert len(rekeys) == 1
    assert rekeys[0]["target"] == "alice@example.com"
    assert rekeys[0]["old"] == "name_id=alice"
    assert rekeys[0]["new"] == "name_id=alice@example.com"
    assert rekeys[0]["actor"] == "idp:" + idp.entity_id
    assert len(users(server)) == 1


def test_a_password_account_is_never_taken_over(server, idp):
    server.add_user("alice@example.com")
    _, r = idp.sign_in("alice@example.com")
    assert r.status_code == 403
    entry = failures(server)[0]
    assert entry["reason"] == "account_conflict"
    assert "a password account has this e-mail" in entry["detail"]
    shown = json.loads(server.ctl("user", "show", "alice@example.com", "--json").stdout)
    assert shown["auth_method"] == "password"


TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"


def test_a_transient_nameid_is_no_key_the_person_is_found_by_email(server, tmp_path):
    a = Idp(server, tmp_path, "ta").add()
    b, r = a.sign_in("carol@unrouted.example", name_id="_t" + "1" * 40, fmt=TRANSIENT)
    assert r.status_code == 303, r.text
    first = b.whoami().json()
    b, r = a.sign_in("carol@unrouted.example", name_id="_t" + "2" * 40, fmt=TRANSIENT)
    assert r.status_code == 303, r.text
    again = b.whoami().json()
    # One user, found by e-mail, not re-keyed at every sign-in.
    assert again["user_id"] == first["user_id"]
    assert len(users(server)) == 1
    assert not [e for e in audit_entries(server) if e["action"] == "user.rekey"]
    # A transient value names nobody for long: the IdP may give it to someone else later, who
    # is then himself, not carol (and is provisioned: carol's user is keyed by her address).
    shown = json.loads(server.ctl("user", "show", "carol@unrouted.example", "--json").stdout)
    assert shown["name_id"] == "carol@unrouted.example"
    b, r = a.sign_in("dave@unrouted.example", name_id="_t" + "1" * 40, fmt=TRANSIENT)
    assert r.status_code == 303, r.text
    assert b.whoami().json()["user_id"] != first["user_id"]
    assert sorted(u["email"] for u in users(server)) == ["carol@unrouted.example",
                                                        "dave@unrouted.example"]
    # Another IdP's user is not taken over through a transient NameID either.
    other = Idp(server, tmp_path, "tb").add()
    _, r = other.sign_in("carol@unrouted.example", name_id="_t" + "3" * 40, fmt=TRANSIENT)
    assert r.status_code == 403
    entry = failures(server)[0]
    assert entry["reason"] == "account_conflict" and "another identity provider" in entry["detail"]


def test_another_idps_user_is_never_taken_over(server, tmp_path):
    a = Idp(server, tmp_path, "a").add()
    b = Idp(server, tmp_path, "b").add()
    assert a.sign_in("carol@unrouted.example", name_id="carol-a", fmt=PERSISTENT)[1]\
        .status_code == 303
    _, r = b.sign_in("carol@unrouted.example", name_id="carol-b", fmt=PERSISTENT)
    assert r.status_code == 403
    entry = failures(server)[0]
    assert entry["reason"] == "account_conflict"
    assert f"signs in through another identity provider ({a.entity_id})" in entry["detail"]
    shown = json.loads(server.ctl("user", "show", "carol@unrouted.example", "--json").stdout)
    assert shown["idp"] == a.entity_id and shown["name_id"] == "carol-a"


def test_no_idp_signs_in_an_address_of_a_domain_routed_to_another(server, tmp_path):
    a = Idp(server, tmp_path, "a").add("--domain", "example.com")
    b = Idp(server, tmp_path, "b").add()  # no domains of its own
    _, r = b.sign_in("alice@example.com")
    assert r.status_code == 403
    entry = failures(server)[0]
    assert entry["reason"] == "domain_not_allowed"
    assert f"the domain example.com is routed to another identity provider ({a.entity_id})" \
        in entry["detail"]
    assert users(server) == []
    # The real owner of the address then signs in normally; B still signs in other domains.
    assert a.sign_in("alice@example.com")[1].status_code == 303
    assert b.sign_in("dave@unrouted.example")[1].status_code == 303


def test_an_idp_with_domains_signs_in_only_those(server, idp):
    _, r = idp.sign_in("mallory@unrouted.example")
    assert r.status_code == 403
    entry = failures(server)[0]
    assert entry["reason"] == "domain_not_allowed" and "outside the IdP's domains" in entry["detail"]


def test_a_domain_is_routed_to_at_most_one_idp(server, tmp_path):
    a = Idp(server, tmp_path, "a").add("--domain", "example.com")
    b = Idp(server, tmp_path, "b")
    p = server.ctl("idp", "add", "--metadata", b.metadata_path, "--domain", "Example.COM",
                   check=False)
    assert p.returncode == 1
    assert f"the domain example.com is routed to {a.entity_id} already" in p.stderr
    b.add("--domain", "corp.example")
    p = server.ctl("idp", "set", b.entity_id, "--domain", "example.com", check=False)
    assert p.returncode == 1 and "routed to" in p.stderr
    # The admin API and the admin page refuse it too.
    browser, _ = signed_in_user(server, "admin@corp.example", "admin")
    r = requests.post(server.url("/api/login"), json={"email": "admin@corp.example",
                                                      "password": STRONG}, timeout=30)
    h = {"Authorization": "Bearer " + r.json()["token"]}
    r = requests.post(server.url("/api/admin/idps/set"), headers=h, timeout=30,
                      json={"entity_id": b.entity_id, "domains": ["example.com"]})
    assert r.status_code == 422 and "routed to" in r.json()["message"]
    token = csrf_of(browser.get("/admin/idps").text)
    r = browser.s.post(server.url("/admin/idps"), timeout=30, allow_redirects=False,
                       data={"csrf_token": token, "action": "set", "entity_id": b.entity_id,
                             "domains": "example.com"})
    assert r.status_code == 422 and "routed to" in r.text
    idps = {i["entity_id"]: i["domains"] for i in
            json.loads(server.ctl("idp", "list", "--json").stdout)}
    assert idps == {a.entity_id: "example.com", b.entity_id: "corp.example"}


# -- NameID policy per IdP ----------------------------------------------------------------------

FORMAT_URI = {
    "emailAddress": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "persistent": PERSISTENT,
    "transient": "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    "unspecified": UNSPECIFIED,
}


def name_id_policy(server, entity_id):
    """The NameIDPolicy element of the AuthnRequest /saml/login sends to the IdP."""
    import re
    from samlidp import redirect_xml
    r = Browser(server).get(f"/saml/login?idp={entity_id}")
    assert r.status_code == 303, r.text
    return re.search(r"<samlp:NameIDPolicy[^>]*>", redirect_xml(r.headers["Location"])).group(0)


def idp_json(server, entity_id):
    return {i["entity_id"]: i for i in
            json.loads(server.ctl("idp", "list", "--json").stdout)}[entity_id]


def test_by_default_the_authn_request_asks_for_no_format(server, tmp_path):
    from samlidp import MiniIdP
    i = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", i.metadata_path)
    policy = name_id_policy(server, i.entity_id)
    assert 'AllowCreate="true"' in policy and "Format" not in policy
    assert idp_json(server, i.entity_id)["name_id_format"] == "none"


@pytest.mark.parametrize("name", ["emailAddress", "persistent", "transient", "unspecified"])
def test_the_cli_sets_the_format_the_authn_request_asks_for(server, tmp_path, name):
    from samlidp import MiniIdP
    i = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", i.metadata_path)
    server.ctl("idp", "set", i.entity_id, "--name-id-format", name)
    policy = name_id_policy(server, i.entity_id)
    assert f'Format="{FORMAT_URI[name]}"' in policy and 'AllowCreate="true"' in policy
    assert idp_json(server, i.entity_id)["name_id_format"] == name
    entry = [e for e in audit_entries(server) if e["action"] == "idp.set"][0]
    assert "name_id_format=none" in entry["old"] and f"name_id_format={name}" in entry["new"]
    server.ctl("idp", "set", i.entity_id, "--name-id-format", "none")
    assert "Format" not in name_id_policy(server, i.entity_id)


def test_an_unknown_format_is_refused(server, tmp_path):
    from samlidp import MiniIdP
    i = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", i.metadata_path)
    p = server.ctl("idp", "set", i.entity_id, "--name-id-format", "email", check=False)
    assert p.returncode == 1 and "not one of emailAddress, persistent" in p.stderr
    assert idp_json(server, i.entity_id)["name_id_format"] == "none"


def test_the_api_and_the_admin_page_set_the_format(server, tmp_path):
    from samlidp import MiniIdP
    i = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", i.metadata_path)
    browser, _ = signed_in_user(server, "admin@example.com", "admin")
    r = requests.post(server.url("/api/login"), json={"email": "admin@example.com",
                                                      "password": STRONG}, timeout=30)
    h = {"Authorization": "Bearer " + r.json()["token"]}
    r = requests.post(server.url("/api/admin/idps/set"), headers=h, timeout=30,
                      json={"entity_id": i.entity_id, "name_id_format": "persistent"})
    assert r.status_code == 200, r.text
    listed = requests.get(server.url("/api/admin/idps"), headers=h, timeout=30).json()["idps"]
    assert listed[0]["name_id_format"] == "persistent"
    assert f'Format="{PERSISTENT}"' in name_id_policy(server, i.entity_id)
    r = requests.post(server.url("/api/admin/idps/set"), headers=h, timeout=30,
                      json={"entity_id": i.entity_id, "name_id_format": "bogus"})
    assert r.status_code == 422 and "NameID format" in r.json()["message"]
    page = browser.get("/admin/idps").text
    assert '<option value="persistent" selected>' in page
    r = browser.s.post(server.url("/admin/idps"), timeout=30, allow_redirects=False,
                       data={"csrf_token": csrf_of(page), "action": "set",
                             "entity_id": i.entity_id, "name": "Test IdP",
                             "name_id_format": "emailAddress"})
    assert r.status_code == 200, r.text
    assert '<option value="emailAddress" selected>' in r.text
    assert idp_json(server, i.entity_id)["name_id_format"] == "emailAddress"


def test_the_sp_metadata_lists_the_formats_in_our_order(server):
    import re
    md = requests.get(server.url("/saml/metadata"), timeout=30).text
    assert re.findall(r"<md:NameIDFormat>([^<]+)</md:NameIDFormat>", md) == [
        PERSISTENT, FORMAT_URI["emailAddress"], UNSPECIFIED, FORMAT_URI["transient"]]


@pytest.mark.parametrize("size, accepted", [(255, True), (256, False)])
def test_a_session_index_over_the_stored_bound_is_refused_never_cut(server, tmp_path, size,
                                                                   accepted):
    import re
    from samlidp import MiniIdP
    i = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", i.metadata_path, "--idp-initiated", "on")
    index = "_" + "s" * (size - 1)
    b64, _ = i.response(server.url("/saml/metadata"), server.url("/saml/acs"),
                        "alice@example.com", {"email": "alice@example.com"},
                        edit=lambda x: re.sub(r'SessionIndex="[^"]*"', f'SessionIndex="{index}"', x))
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64},
                      allow_redirects=False, timeout=30)
    if accepted:
        assert r.status_code == 303, r.text
        return
    assert r.status_code == 403
    entry = failures(server)[0]
    assert entry["reason"] == "identity_refused"
    assert f"SessionIndex is {size} bytes long; at most 255" in entry["detail"]
