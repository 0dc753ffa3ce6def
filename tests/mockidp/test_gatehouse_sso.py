"""Gatehouse's SAML SP end to end with two `bin/mock-idp serve` instances as its IdPs: IdP-initiated
sign-in, just-in-time creation and attribute sync, routing by e-mail domain, a user outside an
IdP's domains, InResponseTo used twice, IdP-initiated sign-in refused when off, encrypted
assertions, single logout in both directions, and the name, e-mail and groups of every profile."""
import base64
import json
import os
import re
import sys
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from mockidp_harness import TOP, MockIdP, inflate_param, post_form_of, run_idp

sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
from conftest import Browser, Server, csrf_of  # noqa: E402

USERS = [
    {"email": "alice@example.com", "name": "Alice Liddell", "groups": ["staff", "admins"]},
    {"email": "bob@corp.example", "name": "Bob Builder", "groups": ["staff"]},
]


class Two:
    """Gatehouse with IdP A (example.com, IdP-initiated on) and IdP B (corp.example, off)."""

    def __init__(self, tmp):
        for d in ("gh", "a", "b"):
            (tmp / d).mkdir()
        self.tmp = tmp
        self.gh = Server(tmp / "gh").start()
        self.sp_metadata = str(tmp / "gh" / "sp-metadata.xml")
        with open(self.sp_metadata, "w") as f:
            f.write(requests.get(self.gh.url("/saml/metadata"), timeout=30).text)
        self.users = str(tmp / "users.json")
        self.write_users(self.users, USERS)
        self.a = MockIdP(tmp / "a", self.sp_metadata, "--auto-login", "alice@example.com",
                         users=self.users).start()
        self.b = MockIdP(tmp / "b", self.sp_metadata, "--auto-login", "bob@corp.example",
                         users=self.users).start()
        self.gh.ctl("idp", "add", "--metadata", self.a.metadata_path, "--domain", "example.com",
                    "--name", "IdP A", "--idp-initiated", "on",
                    "--group-role", "admins=admin", "--group-role", "staff=member")
        self.gh.ctl("idp", "add", "--metadata", self.b.metadata_path, "--domain", "corp.example",
                    "--name", "IdP B")

    @staticmethod
    def write_users(path, users):
        with open(path, "w") as f:
            json.dump(users, f)

    def mint(self, idp, user, *args):
        return run_idp("mint", "--sp-metadata", self.sp_metadata, "--state-dir", idp.state,
                       "--base-url", idp.base, "--user", user, *args).stdout.strip()

    def acs(self, b64, session=None, relay=None):
        data = {"SAMLResponse": b64}
        if relay is not None:
            data["RelayState"] = relay
        return (session or requests.Session()).post(self.gh.url("/saml/acs"), data=data,
                                                    allow_redirects=False, timeout=30)

    def last_failure(self):
        return json.loads(self.gh.ctl("saml-log", "list", "--failed", "--json").stdout)[0]

    def user(self, email):
        return json.loads(self.gh.ctl("user", "show", email, "--json").stdout)

    def sign_in(self, idp, b=None, return_to="/"):
        """SP-initiated through the mock IdP's /sso (auto-login), as a browser does it."""
        b = b or Browser(self.gh)
        r = b.get(f"/saml/login?idp={idp.entity_id}&return_to={return_to}")
        assert r.status_code == 303 and r.headers["Location"].startswith(idp.url("/sso?")), r.text
        page = requests.get(r.headers["Location"], timeout=30)
        assert page.status_code == 200, page.text
        action, fields = post_form_of(page.text)
        r = b.s.post(action, data=fields, allow_redirects=False, timeout=30)
        assert r.status_code == 303, r.text
        return b, r

    def stop(self):
        rcs = [self.a.stop(), self.b.stop(), self.gh.stop()]
        for proc, rc in zip((self.a, self.b, self.gh), rcs):
            log = proc.read_log()
            assert "AddressSanitizer" not in log and "runtime error:" not in log, log
            assert rc in (0, None), log


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    t = Two(tmp_path_factory.mktemp("two-idps"))
    yield t
    t.stop()


def request_id(location):
    xml = inflate_param(parse_qs(urlparse(location).query)["SAMLRequest"][0])
    return re.search(r'\sID="([^"]+)"', xml).group(1)


def test_idp_initiated_sign_in_creates_the_user_and_keeps_the_relay_state(two):
    r = requests.get(two.a.url("/start"), params={"user": "alice@example.com",
                                                  "relay_state": "/password/change"}, timeout=30)
    assert r.status_code == 200, r.text
    action, fields = post_form_of(r.text)
    assert action == two.gh.url("/saml/acs")
    b = Browser(two.gh)
    r = b.s.post(action, data=fields, allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/password/change", r.text
    me = b.whoami().json()
    assert me["email"] == "alice@example.com" and me["auth_method"] == "saml"
    assert me["idp"] == two.a.entity_id
    home = b.get("/").text  # an SSO account: no password or second-step links
    assert "Alice Liddell" in home and 'href="/password/change"' not in home
    assert 'href="/account/mfa"' not in home
    user = two.user("alice@example.com")
    assert user["name"] == "Alice Liddell" and user["role"] == "admin"  # groups: admins
    entry = json.loads(two.gh.ctl("saml-log", "list", "--json").stdout)[0]
    assert entry["reason"] == "ok" and entry["issuer"] == two.a.entity_id


def test_idp_initiated_is_refused_for_an_idp_that_has_it_off(two):
    r = requests.get(two.b.url("/start"), params={"user": "bob@corp.example"}, timeout=30)
    action, fields = post_form_of(r.text)
    r = requests.post(action, data=fields, allow_redirects=False, timeout=30)
    assert r.status_code == 403 and "Start from this service" in r.text
    assert two.last_failure()["reason"] == "unsolicited"


def test_jit_creation_then_attribute_sync_at_the_next_sign_in(two):
    email = "carol@example.com"
    assert two.gh.ctl("user", "show", email, check=False).returncode != 0
    first = str(two.tmp / "carol-1.json")
    two.write_users(first, [{"email": email, "name": "Carol Ann", "groups": ["staff"]}])
    assert two.acs(two.mint(two.a, email, "--users", first)).status_code == 303
    user = two.user(email)
    assert (user["name"], user["role"], user["auth_method"]) == ("Carol Ann", "member", "saml")
    # She married and was promoted at the IdP: the next sign-in brings both.
    second = str(two.tmp / "carol-2.json")
    two.write_users(second, [{"email": email, "name": "Carol Kingsley",
                              "groups": ["staff", "admins"]}])
    assert two.acs(two.mint(two.a, email, "--users", second)).status_code == 303
    user = two.user(email)
    assert (user["name"], user["role"]) == ("Carol Kingsley", "admin")
    assert len([u for u in json.loads(two.gh.ctl("user", "list", "--json").stdout)
                if u["email"] == email]) == 1


def test_the_sign_in_page_routes_each_domain_to_its_own_idp(two):
    b = Browser(two.gh)
    r = b.get("/saml/login?email=Bob@Corp.Example")
    assert r.status_code == 303 and r.headers["Location"].startswith(two.b.url("/sso?"))
    page = requests.get(r.headers["Location"], timeout=30)
    action, fields = post_form_of(page.text)
    assert b.s.post(action, data=fields, allow_redirects=False, timeout=30).status_code == 303
    me = b.whoami().json()
    assert me["email"] == "bob@corp.example" and me["idp"] == two.b.entity_id
    r = Browser(two.gh).get("/saml/login?email=someone@example.com")
    assert r.status_code == 303 and r.headers["Location"].startswith(two.a.url("/sso?"))


def test_an_idp_asserting_a_user_outside_its_domains_is_refused(two):
    # IdP B is trusted for corp.example only; it may not sign in an example.com address.
    b = Browser(two.gh)
    rid = request_id(b.get(f"/saml/login?idp={two.b.entity_id}").headers["Location"])
    r = two.acs(two.mint(two.b, "mallory@example.com", "--in-response-to", rid), b.s)
    assert r.status_code == 403
    entry = two.last_failure()
    assert entry["reason"] == "domain_not_allowed" and entry["issuer"] == two.b.entity_id
    assert b.whoami().status_code == 401


def test_in_response_to_is_good_for_one_response_only(two):
    b = Browser(two.gh)
    rid = request_id(b.get(f"/saml/login?idp={two.a.entity_id}").headers["Location"])
    assert two.acs(two.mint(two.a, "dan@example.com", "--in-response-to", rid), b.s)\
        .status_code == 303
    # A second, otherwise valid response (new assertion ID) to the same request.
    r = two.acs(two.mint(two.a, "dan@example.com", "--in-response-to", rid))
    assert r.status_code == 403
    assert two.last_failure()["reason"] == "in_response_to"
    # And an ID this SP never issued.
    r = two.acs(two.mint(two.a, "dan@example.com", "--in-response-to", "_never-issued"))
    assert r.status_code == 403 and two.last_failure()["reason"] == "in_response_to"


@pytest.mark.parametrize("sign", ["assertion", "response", "both"])
def test_encrypted_assertions_are_decrypted_and_accepted(two, sign):
    email = f"enc.{sign}@example.com"
    b = Browser(two.gh)
    rid = request_id(b.get(f"/saml/login?idp={two.a.entity_id}").headers["Location"])
    b64 = two.mint(two.a, email, "--encrypt", "--sign", sign, "--in-response-to", rid)
    xml = base64.b64decode(b64).decode()
    assert "EncryptedAssertion" in xml and email not in xml
    r = two.acs(b64, b.s)
    assert r.status_code == 303, r.text
    assert b.whoami().json()["email"] == email
    # Tampered before encryption: the signature inside still fails.
    r = two.acs(two.mint(two.a, email, "--encrypt", "--tamper-after-sign"))
    assert r.status_code == 403 and two.last_failure()["reason"] == "bad_signature"


def test_sp_initiated_single_logout_through_the_mock_idp(two):
    b, _ = two.sign_in(two.a)
    r = b.s.post(two.gh.url("/logout"), data={"csrf_token": csrf_of(b.get("/").text)},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"].startswith(two.a.url("/slo?"))
    assert b.whoami().status_code == 401  # ended here at once
    # The IdP verifies our signed LogoutRequest, ends its session and answers Success.
    r = requests.get(r.headers["Location"], allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    back = r.headers["Location"]
    assert back.startswith(two.gh.url("/saml/slo?SAMLResponse="))
    r = b.s.get(back, allow_redirects=False, timeout=30)
    assert r.status_code == 200 and "signed you out too" in r.text


def test_idp_initiated_single_logout_ends_the_gatehouse_session(two):
    b, _ = two.sign_in(two.a)
    other, _ = two.sign_in(two.b)
    assert b.whoami().status_code == 200
    r = requests.get(two.a.url("/logout-sp"), params={"user": "alice@example.com",
                                                      "relay_state": "bye"},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"].startswith(
        two.gh.url("/saml/slo?SAMLRequest="))
    r = requests.get(r.headers["Location"], allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    answer = r.headers["Location"]
    assert answer.startswith(two.a.url("/slo?SAMLResponse=")) and "RelayState=bye" in answer
    r = requests.get(answer, timeout=30)  # the mock IdP checks our signed LogoutResponse
    assert r.status_code == 200 and "status:Success" in r.text, r.text
    assert b.whoami().status_code == 401
    assert other.whoami().status_code == 200  # bob's session at IdP B is untouched


PROFILE_NAMES = {"okta": "Olivia Okta", "adfs": "Adam Adfs", "entra": "Erin Entra",
                 "google": "Gina Google", "shibboleth": "Sam Shibboleth", "plain": "Pat Plain"}


@pytest.mark.parametrize("profile", sorted(PROFILE_NAMES))
def test_each_profile_yields_the_email_the_name_and_the_groups(two, profile):
    email = f"{profile}.person@example.com"
    users = str(two.tmp / f"{profile}.json")
    two.write_users(users, [{"email": email, "name": PROFILE_NAMES[profile],
                             "groups": ["admins"]}])
    b = Browser(two.gh)
    rid = request_id(b.get(f"/saml/login?idp={two.a.entity_id}").headers["Location"])
    r = two.acs(two.mint(two.a, email, "--profile", profile, "--users", users,
                         "--in-response-to", rid), b.s)
    assert r.status_code == 303, r.text
    me = b.whoami().json()
    assert me["email"] == email
    user = two.user(email)
    assert user["name"] == PROFILE_NAMES[profile]
    assert user["role"] == "admin", f"the groups of the {profile} profile were not read"


def test_pages_let_their_forms_reach_the_idps_and_nothing_else(two):
    # Browsers apply CSP form-action to the redirect after a submission: the SSO form (to an
    # IdP's SSO URL) and the sign-out form (to its SLO URL) need the IdPs' origins; no others.
    csp = requests.get(two.gh.url("/login"), timeout=30).headers["Content-Security-Policy"]
    form_action = re.search(r"form-action ([^;]*)", csp).group(1).split()
    assert sorted(form_action) == sorted(["'self'", two.a.base, two.b.base]), csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    # JSON answers keep the plain policy.
    csp = requests.get(two.gh.url("/api/whoami"), timeout=30).headers["Content-Security-Policy"]
    assert re.search(r"form-action 'self';", csp), csp
