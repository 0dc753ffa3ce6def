"""mock-idp against Gatehouse itself: a serve-mode SP-initiated sign-in through /saml/login with
--auto-login, minted responses accepted at the ACS, and each fault refused with its own reason in
Gatehouse's SAML log."""
import json
import os
import re
import sys
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from mockidp_harness import TOP, MockIdP, inflate_param, post_form_of, run_idp

sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
from conftest import Browser, Server  # noqa: E402  (the e2e harness: bin/gatehouse on a free port)


class Setup:
    def __init__(self, tmp):
        (tmp / "gh").mkdir()
        (tmp / "idp").mkdir()
        self.gh = Server(tmp / "gh").start()
        self.sp_metadata = str(tmp / "gh" / "sp-metadata.xml")
        with open(self.sp_metadata, "w") as f:
            f.write(requests.get(self.gh.url("/saml/metadata"), timeout=30).text)
        self.idp = MockIdP(tmp / "idp", self.sp_metadata, "--auto-login",
                           "alice@example.com").start()
        self.gh.ctl("idp", "add", "--metadata", self.idp.metadata_path, "--domain",
                    "example.com", "--name", "mock-idp", "--idp-initiated", "on")

    def mint(self, *args, user="bob@example.com"):
        return run_idp("mint", "--sp-metadata", self.sp_metadata, "--state-dir", self.idp.state,
                       "--base-url", self.idp.base, "--user", user, *args).stdout.strip()

    def post_acs(self, b64, session=None):
        return (session or requests.Session()).post(
            self.gh.url("/saml/acs"), data={"SAMLResponse": b64}, allow_redirects=False,
            timeout=30)

    def last_failure(self):
        return json.loads(self.gh.ctl("saml-log", "list", "--failed", "--json").stdout)[0]

    def stop(self):
        rc_idp, rc_gh = self.idp.stop(), self.gh.stop()
        assert rc_idp in (0, None), self.idp.read_log()
        assert rc_gh in (0, None), self.gh.read_log()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    s = Setup(tmp_path_factory.mktemp("gatehouse"))
    yield s
    s.stop()


def test_sp_initiated_sign_in_through_gatehouse_with_auto_login(setup):
    b = Browser(setup.gh)
    r = b.get(f"/saml/login?idp={setup.idp.entity_id}&return_to=/password/change")
    assert r.status_code == 303 and r.headers["Location"].startswith(setup.idp.url("/sso?"))
    page = requests.get(r.headers["Location"], timeout=30)  # signed AuthnRequest, verified
    assert page.status_code == 200, page.text
    action, fields = post_form_of(page.text)
    assert action == setup.gh.url("/saml/acs")
    r = b.s.post(action, data=fields, allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/password/change", r.text
    who = b.whoami().json()
    assert who["email"] == "alice@example.com" and who["auth_method"] == "saml"
    assert who["idp"] == setup.idp.entity_id


def test_a_minted_response_is_accepted(setup):
    b = Browser(setup.gh)
    r = b.get(f"/saml/login?idp={setup.idp.entity_id}")
    xml = inflate_param(parse_qs(urlparse(r.headers["Location"]).query)["SAMLRequest"][0])
    rid = re.search(r'\sID="([^"]+)"', xml).group(1)
    r = setup.post_acs(setup.mint("--in-response-to", rid, "--profile", "okta"), b.s)
    assert r.status_code == 303, r.text
    assert b.whoami().json()["email"] == "bob@example.com"
    user = json.loads(setup.gh.ctl("user", "show", "bob@example.com", "--json").stdout)
    assert user["name"] == "Bob"


@pytest.mark.parametrize("profile", ["adfs", "entra", "google", "plain", "shibboleth"])
def test_gatehouse_reads_the_email_of_every_profile(setup, profile):
    email = f"{profile}.user@example.com"
    r = setup.post_acs(setup.mint("--profile", profile, user=email))
    assert r.status_code == 303, r.text
    user = json.loads(setup.gh.ctl("user", "show", email, "--json").stdout)
    assert user["email"] == email


FAULTS = [
    (["--expired"], "expired"),
    (["--not-yet-valid"], "not_yet_valid"),
    (["--audience", "https://other.example/sp"], "audience_mismatch"),
    (["--recipient", "https://other.example/acs"], "recipient_mismatch"),
    (["--destination", "https://other.example/acs"], "destination_mismatch"),
    (["--issuer", "https://stranger.example/idp"], "unknown_issuer"),
    (["--status", "AuthnFailed"], "idp_status"),
    (["--wrong-key"], "bad_signature"),
    (["--tamper-after-sign"], "bad_signature"),
    (["--unsigned"], "unsigned"),
    (["--sig-alg", "rsa-sha1"], "sha1_refused"),
]


@pytest.mark.parametrize("args,reason", FAULTS, ids=[f[1] + ":" + f[0][0] for f in FAULTS])
def test_each_fault_is_refused_by_gatehouse_for_its_reason(setup, args, reason):
    r = setup.post_acs(setup.mint(*args))
    assert r.status_code in (403, 400), r.text
    assert setup.last_failure()["reason"] == reason


def test_a_replayed_assertion_id_is_refused(setup):
    assert setup.post_acs(setup.mint("--replay-id", "_mock-replayed-1")).status_code == 303
    r = setup.post_acs(setup.mint("--replay-id", "_mock-replayed-1"))
    assert r.status_code == 403
    entry = setup.last_failure()
    assert entry["reason"] == "replay" and entry["assertion_id"] == "_mock-replayed-1"
