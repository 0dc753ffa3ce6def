"""Gatehouse with a real SimpleSAMLphp IdP (Debian's simplesamlphp 1.19, php, a private Apache on
loopback): SP- and IdP-initiated sign-in of one person yield one user, also when SimpleSAMLphp
names the person `alice` one way and `alice@example.com` the other; the attributes and the groups
arrive; single logout works in both directions."""
import json
import os
import re
import sys
from urllib.parse import urlencode, urlparse

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from conftest import Browser, Server, audit_entries, csrf_of  # noqa: E402

import simplesamlphp  # noqa: E402
from simplesamlphp import EMAIL_FORMAT, SimpleSAMLphp, USERS  # noqa: E402


class Federation:
    def __init__(self, tmp):
        lack = simplesamlphp.missing()
        if lack:
            pytest.fail(f"SimpleSAMLphp on Apache needs the Debian packages {lack}: "
                        "make test-deps installs them")
        (tmp / "gh").mkdir()
        (tmp / "ssp").mkdir()
        self.gh = Server(tmp / "gh").start()
        md = requests.get(self.gh.url("/saml/metadata"), timeout=30).text
        self.sp_entity = re.search(r'entityID="([^"]+)"', md).group(1)
        self.idp = SimpleSAMLphp(tmp / "ssp", md).start()
        self.gh.ctl("idp", "add", "--metadata", self.idp.metadata_path, "--domain",
                    "example.com", "--name", "SimpleSAMLphp", "--idp-initiated", "on",
                    "--group-role", "admins=admin")

    def stop(self):
        self.idp.stop()
        self.gh.stop()

    # -- what a browser does ------------------------------------------------------------------
    def follow_to_acs(self, b, r):
        """Follows the IdP's redirects (and its login form) to the auto-submitting form that
        posts the response to our ACS, posts it, and returns our answer."""
        for _ in range(10):
            if r.status_code in (302, 303, 307):
                r = b.s.get(r.headers["Location"], allow_redirects=False, timeout=60)
                continue
            assert r.status_code == 200, f"{r.status_code} {r.text[:2000]}\n{self.idp.log()}"
            if 'name="password"' in r.text:
                r = self.login_form(b, r)
                continue
            action, fields = post_form_of(r.text)
            assert action == self.gh.url("/saml/acs"), action
            return b.s.post(action, data=fields, allow_redirects=False, timeout=30)
        raise AssertionError("no response form from SimpleSAMLphp")

    def login_form(self, b, page):
        action = re.search(r'<form[^>]*action="([^"]*)"', page.text).group(1)
        fields = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"',
                                 page.text))
        fields.update({"username": "alice", "password": USERS["alice"][0]})
        url = requests.compat.urljoin(page.url, action.replace("&amp;", "&"))
        return b.s.post(url, data=fields, allow_redirects=False, timeout=60)

    def sp_initiated(self, b=None):
        b = b or Browser(self.gh)
        r = b.get(f"/saml/login?idp={self.idp.entity_id}&return_to=/")
        assert r.status_code == 303 and r.headers["Location"].startswith(self.idp.base), r.text
        r = self.follow_to_acs(b, r)
        assert r.status_code == 303, f"{r.text}\n{self.failures()}"
        return b

    def idp_initiated(self, b, name_id_format=None):
        q = {"spentityid": self.sp_entity, "RelayState": "/"}
        if name_id_format:
            q["NameIDFormat"] = name_id_format
        r = b.s.get(f"{self.idp.base}/saml2/idp/SSOService.php?{urlencode(q)}",
                    allow_redirects=False, timeout=60)
        r = self.follow_to_acs(b, r)
        assert r.status_code == 303, f"{r.text}\n{self.failures()}"
        return b

    def failures(self):
        return self.gh.ctl("saml-log", "list", "--failed", "--json").stdout

    def users(self):
        return json.loads(self.gh.ctl("user", "list", "--json").stdout)


def post_form_of(page):
    import html
    action = html.unescape(re.search(r'<form[^>]*method="post"[^>]*action="([^"]*)"', page,
                                     re.I).group(1))
    fields = {html.unescape(n): html.unescape(v) for n, v in
              re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}
    return action, fields


@pytest.fixture
def fed(tmp_path):
    f = Federation(tmp_path)
    yield f
    f.stop()


def test_sp_and_idp_initiated_sign_in_are_one_user_with_attributes_and_groups(fed):
    b = fed.sp_initiated()
    who = b.whoami().json()
    assert who["email"] == "alice@example.com" and who["auth_method"] == "saml"
    assert who["idp"] == fed.idp.entity_id
    assert who["role"] == "admin"  # groups: staff, admins; admins maps to admin
    shown = json.loads(fed.gh.ctl("user", "show", "alice@example.com", "--json").stdout)
    assert shown["name"] == "Alice Liddell"
    # The AuthnRequest asked for no format: SimpleSAMLphp used the first of our metadata's
    # (persistent), and it does the same for an IdP-initiated sign-in: the same NameID.
    again = fed.idp_initiated(b).whoami().json()
    assert again["user_id"] == who["user_id"] and again["name_id"] == who["name_id"]
    assert len(fed.users()) == 1
    assert not [e for e in audit_entries(fed.gh) if e["action"] == "user.rekey"]


def test_alice_and_alice_at_example_com_are_one_person(fed):
    # What locked the person out before: SP-initiated asking for unspecified yields `alice`,
    # IdP-initiated (emailAddress) yields `alice@example.com`.
    fed.gh.ctl("idp", "set", fed.idp.entity_id, "--name-id-format", "unspecified")
    b = fed.sp_initiated()
    first = b.whoami().json()
    assert first["name_id"] == "alice"
    second = fed.idp_initiated(b, EMAIL_FORMAT).whoami().json()
    assert second["user_id"] == first["user_id"]
    assert second["name_id"] == "alice@example.com"
    rekeys = [e for e in audit_entries(fed.gh) if e["action"] == "user.rekey"]
    assert [(e["old"], e["new"]) for e in rekeys] == [
        ("name_id=alice", "name_id=alice@example.com")]
    # And back: still the same person.
    third = fed.sp_initiated(Browser(fed.gh)).whoami().json()
    assert third["user_id"] == first["user_id"] and third["name_id"] == "alice"
    assert len(fed.users()) == 1


def test_single_logout_started_here_ends_the_idp_session_too(fed):
    b = fed.sp_initiated()
    r = b.s.post(fed.gh.url("/logout"), data={"csrf_token": csrf_of(b.get("/").text)},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"].startswith(fed.idp.base), r.text
    assert b.whoami().status_code == 401
    # SimpleSAMLphp checks our signed LogoutRequest, ends its session, and answers.
    r = b.s.get(r.headers["Location"], allow_redirects=False, timeout=60)
    while r.status_code in (302, 303) and not r.headers["Location"].startswith(fed.gh.base):
        r = b.s.get(r.headers["Location"], allow_redirects=False, timeout=60)
    assert r.status_code in (302, 303), f"{r.status_code} {r.text[:1500]}\n{fed.idp.log()}"
    assert r.headers["Location"].startswith(fed.gh.url("/saml/slo?SAMLResponse="))
    r = b.s.get(r.headers["Location"], allow_redirects=False, timeout=30)
    assert r.status_code == 200 and "signed you out too" in r.text, r.text
    # The IdP's session is gone: a new sign-in there asks for the password again.
    r = b.s.get(f"{fed.idp.base}/saml2/idp/SSOService.php?"
                + urlencode({"spentityid": fed.sp_entity}), allow_redirects=True, timeout=60)
    assert 'name="password"' in r.text


def test_single_logout_started_at_the_idp_ends_the_session_here(fed):
    b = fed.sp_initiated()
    assert b.whoami().status_code == 200
    done = f"{fed.idp.base}/module.php/core/loginuserpass.php?done"
    r = b.s.get(f"{fed.idp.base}/saml2/idp/SingleLogoutService.php?"
                + urlencode({"ReturnTo": done}), allow_redirects=False, timeout=60)
    seen_request = False
    for _ in range(10):
        assert r.status_code in (302, 303), f"{r.status_code}\n{fed.gh.read_log()[-3000:]}"
        loc = r.headers["Location"]
        if loc.startswith(fed.gh.url("/saml/slo?SAMLRequest=")):
            seen_request = True
        if loc == done:
            break
        r = b.s.get(loc, allow_redirects=False, timeout=60)
    assert seen_request, "SimpleSAMLphp sent no LogoutRequest to Gatehouse"
    assert urlparse(loc).netloc == urlparse(fed.idp.base).netloc
    assert b.whoami().status_code == 401
    log = fed.gh.read_log()
    assert "saml logout from idp=" + fed.idp.entity_id in log
