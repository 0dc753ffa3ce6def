"""Checks that no other test pinned down, found by `make mutate` (tests/mutate/): each test here
fails when the check it names is removed from the product. SAML responses are built by the
independent MiniIdP (xmlsec1-signed) and edited before signing, one element at a time."""
import base64
import json
import re
import subprocess
import threading
import time

import requests

from mdserver import MetadataServer, Signer
from conftest import BIN, Browser, csrf_of, metric, signed_in_user
from samlidp import MiniIdP, _sig_template
from test_admin_api import Api, token_for
from test_mfa import mfa_user, password_step, totp
from test_saml_acs import ATTRS, log, post_acs, sp, start


def add_idp(server, tmp_path, *extra):
    idp = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com",
               "--name", "Test IdP", *extra)
    return idp


def edited_response(server, idp, rid, edit, email="alice@example.com", attrs=ATTRS, now=None):
    """A response like MiniIdP's, with edit(xml) applied to the assertion before it is signed."""
    b64, aid = idp.response(*sp(server), email, attrs, in_response_to=rid, sign=False, now=now)
    xml = edit(base64.b64decode(b64).decode())
    at = xml.index("</saml:Issuer>", xml.index("<saml:Assertion")) + len("</saml:Issuer>")
    xml = xml[:at] + _sig_template(aid) + xml[at:]
    return base64.b64encode(idp.sign(xml).encode()).decode()


def refused_as(server, r, reason):
    assert r.status_code == 403, (r.status_code, r.text[:300])
    assert "gatehouse_session" not in r.headers.get("Set-Cookie", "")
    entry = log(server, "--failed")[0]
    assert entry["reason"] == reason, entry


def accepted(server, idp, b64, b):
    r = post_acs(server, b64, session=b.s)
    assert r.status_code == 303, r.text
    return r


# ---- SAML: what the Web SSO profile requires of the subject -----------------------------------

def test_an_empty_nameid_is_refused(server, tmp_path):
    idp = add_idp(server, tmp_path)
    b, rid, _ = start(server, idp)
    b64 = edited_response(server, idp, rid, lambda x: re.sub(
        r"(<saml:NameID [^>]*>)[^<]*(</saml:NameID>)", r"\1\2", x))
    refused_as(server, post_acs(server, b64), "no_nameid")


def test_a_holder_of_key_confirmation_is_refused(server, tmp_path):
    idp = add_idp(server, tmp_path)
    b, rid, _ = start(server, idp)
    b64 = edited_response(server, idp, rid, lambda x: x.replace(
        "urn:oasis:names:tc:SAML:2.0:cm:bearer", "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"))
    refused_as(server, post_acs(server, b64), "no_bearer")


def test_bearer_data_without_not_on_or_after_is_refused(server, tmp_path):
    idp = add_idp(server, tmp_path)
    b, rid, _ = start(server, idp)
    b64 = edited_response(server, idp, rid, lambda x: re.sub(
        r'(<saml:SubjectConfirmationData) NotOnOrAfter="[^"]*"', r"\1", x))
    refused_as(server, post_acs(server, b64), "no_bearer")


def test_expired_bearer_data_is_refused_even_with_valid_conditions(server, tmp_path):
    idp = add_idp(server, tmp_path)
    b, rid, _ = start(server, idp)
    past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    b64 = edited_response(server, idp, rid, lambda x: re.sub(
        r'(<saml:SubjectConfirmationData NotOnOrAfter=)"[^"]*"', rf'\1"{past}"', x))
    refused_as(server, post_acs(server, b64), "expired")


def test_in_response_to_of_the_bearer_data_must_match_the_response(server, tmp_path):
    idp = add_idp(server, tmp_path)
    b, rid, _ = start(server, idp)
    _, other, _ = start(server, idp)  # a real pending request, but not the one answered
    b64 = edited_response(server, idp, rid, lambda x: re.sub(
        r'(<saml:SubjectConfirmationData [^>]*InResponseTo=)"[^"]*"', rf'\1"{other}"', x))
    refused_as(server, post_acs(server, b64), "in_response_to")


def test_two_assertions_are_refused(server, tmp_path):
    idp = add_idp(server, tmp_path)
    b, rid, _ = start(server, idp)
    b64, _ = idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)
    xml = base64.b64decode(b64).decode()
    m = re.search(r"<saml:Assertion .*</saml:Assertion>", xml, re.S)
    twice = xml[:m.end()] + m.group(0) + xml[m.end():]
    refused_as(server, post_acs(server, base64.b64encode(twice.encode()).decode()),
               "assertion_count")


def test_an_assertion_encrypted_for_another_sp_is_decrypt_failed(server, tmp_path):
    """mock-idp encrypts for the certificate an SP's metadata names: here the right entity ID
    and ACS with someone else's certificate, so Gatehouse's key cannot open it."""
    state = tmp_path / "mock-idp"
    base = "http://127.0.0.1:9"
    md = subprocess.run([f"{BIN}/mock-idp", "metadata", "--base-url", base, "--state-dir",
                         str(state)], capture_output=True, text=True, check=True).stdout
    (tmp_path / "idp.xml").write_text(md)
    server.ctl("idp", "add", "--metadata", str(tmp_path / "idp.xml"), "--domain", "example.com",
               "--idp-initiated", "on")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(tmp_path / "other-key.pem"), "-out", str(tmp_path / "other-cert.pem"),
                    "-days", "30", "-subj", "/CN=another-sp"], check=True, capture_output=True)
    other = "".join(l for l in (tmp_path / "other-cert.pem").read_text().splitlines()
                    if "-----" not in l)
    ours = requests.get(server.url("/saml/metadata"), timeout=30).text
    foreign = re.sub(r"(<(?:ds:)?X509Certificate>)[^<]+(</(?:ds:)?X509Certificate>)",
                     rf"\g<1>{other}\g<2>", ours)
    assert foreign != ours
    (tmp_path / "foreign-sp.xml").write_text(foreign)

    def mint(sp_md, user):
        return subprocess.run([f"{BIN}/mock-idp", "mint", "--sp-metadata", sp_md, "--state-dir",
                               str(state), "--base-url", base, "--user", user, "--encrypt"],
                              capture_output=True, text=True, check=True).stdout.strip()

    refused_as(server, post_acs(server, mint(str(tmp_path / "foreign-sp.xml"),
                                             "alice@example.com")), "decrypt_failed")
    # Encrypted for us, the same IdP's response is accepted: the refusal was the key.
    (tmp_path / "our-sp.xml").write_text(ours)
    assert post_acs(server, mint(str(tmp_path / "our-sp.xml"), "bob@example.com")).status_code == 303


def test_a_response_over_one_mib_is_too_large(server, tmp_path):
    """The ACS form may carry 512 KiB; a SAMLResponse over SP_MAX_RESPONSE_B64 (384 KiB) inside
    it is refused before decoding, and logged as too_large. (The name is from when the bound
    was 1 MiB; the make mutate row names it.)"""
    add_idp(server, tmp_path)
    r = post_acs(server, "A" * (384 * 1024 + 4))
    assert r.status_code == 413, r.status_code
    assert log(server, "--failed")[0]["reason"] == "too_large"


# ---- SAML: requests, domains, accounts --------------------------------------------------------

def test_a_response_to_a_request_older_than_ten_minutes_is_refused(server, tmp_path):
    idp = add_idp(server, tmp_path)
    _, fresh, _ = start(server, idp)
    _, stale, _ = start(server, idp)
    server.advance(9 * 60)
    now = time.time() + server.offset
    b64, _ = idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=fresh, now=now)
    assert post_acs(server, b64).status_code == 303
    server.advance(2 * 60)
    now = time.time() + server.offset
    b64, _ = idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=stale, now=now)
    refused_as(server, post_acs(server, b64), "in_response_to")


def test_a_domain_is_matched_whole_not_as_a_suffix(server, tmp_path):
    idp = add_idp(server, tmp_path)
    for email in ("mallory@evil-example.com", "mallory@sub.example.com"):
        b, rid, _ = start(server, idp)
        r = post_acs(server, idp.response(*sp(server), email, {"email": email},
                                          in_response_to=rid)[0])
        refused_as(server, r, "domain_not_allowed")


def test_a_disabled_saml_user_cannot_sign_in_through_the_idp(server, tmp_path):
    idp = add_idp(server, tmp_path)
    b, rid, _ = start(server, idp)
    accepted(server, idp, idp.response(*sp(server), "alice@example.com", ATTRS,
                                       in_response_to=rid)[0], b)
    server.ctl("user", "disable", "alice@example.com")
    b, rid, _ = start(server, idp)
    r = post_acs(server, idp.response(*sp(server), "alice@example.com", ATTRS,
                                      in_response_to=rid)[0], session=b.s)
    refused_as(server, r, "account_conflict")
    assert b.whoami().status_code == 401


def test_an_owner_signing_in_through_an_idp_with_group_roles_stays_owner(server, tmp_path):
    idp = add_idp(server, tmp_path)
    server.ctl("idp", "set", idp.entity_id, "--group-role", "staff=member")
    b, rid, _ = start(server, idp)
    accepted(server, idp, idp.response(*sp(server), "alice@example.com", ATTRS,
                                       in_response_to=rid)[0], b)
    assert b.whoami().json()["role"] == "member"
    server.ctl("user", "set-role", "alice@example.com", "owner")
    b, rid, _ = start(server, idp)
    accepted(server, idp, idp.response(*sp(server), "alice@example.com", ATTRS,
                                       in_response_to=rid)[0], b)
    assert b.whoami().json()["role"] == "owner"


def test_an_idp_cannot_be_added_with_owner_as_its_default_role(server, tmp_path):
    idp = MiniIdP(tmp_path)
    p = server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com",
                   "--default-role", "owner", check=False)
    assert p.returncode == 1 and "owner is never granted" in p.stderr, p.stderr
    assert server.ctl("idp", "list", "--json").stdout.strip() == "[]"


# ---- TOTP: one code, posted twice at the same moment -------------------------------------------

def test_one_totp_code_posted_twice_at_once_signs_in_once(server):
    """totp_check refuses a step already used; the store's conditional update is what decides
    between two posts that both passed that check at the same moment."""
    secret, _, pw = mfa_user(server, "race@example.com")
    wins_total = 0
    for _ in range(6):
        browsers = [password_step(server, "race@example.com", pw) for _ in range(4)]
        code = totp(secret, server)
        forms = []
        for b in browsers:
            page = b.get("/login/mfa")
            forms.append({"csrf_token": csrf_of(page.text), "code": code})
        barrier = threading.Barrier(len(browsers))
        statuses = [None] * len(browsers)

        def post(i):
            barrier.wait()
            statuses[i] = browsers[i].s.post(server.url("/login/mfa"), data=forms[i],
                                             allow_redirects=False, timeout=30).status_code

        threads = [threading.Thread(target=post, args=(i,)) for i in range(len(browsers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wins = statuses.count(303)
        assert wins == 1 and statuses.count(401) == len(browsers) - 1, statuses
        wins_total += wins
        # The refused posts count as sign-in failures. Whether the winner's success clears a
        # round's failures depends on the order the store serialises them (on PostgreSQL it
        # often does not), so six rounds could reach the lockout: each round starts unlocked.
        server.ctl("user", "unlock", "race@example.com")
        server.advance(30)  # the next round uses the next step
    assert wins_total == 6


# ---- lockout: while locked, no password is even checked ----------------------------------------

def test_no_password_is_verified_while_locked(server):
    b, pw = signed_in_user(server, "locked@example.com")
    for _ in range(6):
        Browser(server).login("locked@example.com", "Wrong-Pass-123")
    runs = metric(server, "gatehouse_argon2_runs_total")
    r = Browser(server).login("locked@example.com", pw)
    assert r.status_code == 429
    r = requests.post(server.url("/api/login"), json={"email": "locked@example.com",
                                                      "password": pw}, timeout=30)
    assert r.status_code == 429
    assert metric(server, "gatehouse_argon2_runs_total") == runs


# ---- CSRF: a token belongs to one visitor and one session --------------------------------------

def test_a_csrf_token_from_before_sign_in_is_refused_in_the_session(server):
    b, _ = signed_in_user(server, "csrf@example.com")
    page_token = csrf_of(b.get("/account/mfa").text)
    # The same visitor cookie without the session: the token a signed-out page would carry.
    signed_out = Browser(server)
    signed_out.s.cookies.set("gatehouse_csrf", b.s.cookies.get("gatehouse_csrf"))
    stale_token = csrf_of(signed_out.get("/login").text)
    assert signed_out.s.cookies.get("gatehouse_csrf") == b.s.cookies.get("gatehouse_csrf")
    r = b.s.post(server.url("/logout"), data={"csrf_token": stale_token},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 403
    assert b.whoami().status_code == 200
    r = b.s.post(server.url("/logout"), data={"csrf_token": page_token},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 303
    assert b.whoami().status_code == 401


# ---- return_to: no backslash anywhere (browsers read it as a slash) ----------------------------

def test_a_backslash_anywhere_in_return_to_is_refused(server):
    _, pw = signed_in_user(server)
    for unsafe in ("/.\\evil.example", "/account\\..\\..\\x", "/a/b\\"):
        b = Browser(server)
        r = b.post_form("/login", "/login", {"email": "user@example.com", "password": pw,
                                              "return_to": unsafe})
        assert r.status_code == 303 and r.headers["Location"] == "/", (unsafe, r.headers)


# ---- roles: an admin manages members only, not other admins -----------------------------------

def test_an_admin_cannot_change_another_admins_account(server):
    Api(server, token_for(server, "owner@example.com", "owner"))
    admin = Api(server, token_for(server, "admin@example.com", "admin"))
    token_for(server, "admin2@example.com", "admin")
    for action in ("unlock", "reset-password", "force-change", "mfa-reset", "disable", "delete"):
        r = admin.post(f"users/admin2@example.com/{action}")
        assert r.status_code == 403, (action, r.text)
    assert admin.post("users/admin2@example.com/role", {"role": "member"}).status_code == 403
    other = json.loads(server.ctl("user", "show", "admin2@example.com", "--json").stdout)
    assert other["role"] == "admin" and other["status"] == "active"


# ---- signed metadata: the signature must cover the whole document ------------------------------

def test_metadata_signed_only_in_part_is_refused(make_server, tmp_path):
    """A signature whose one Reference names a child (the IDPSSODescriptor) leaves the rest of
    the document unsigned: refused, though the signature itself verifies."""
    mds = MetadataServer(tmp_path)
    try:
        srv = make_server({"sp": {"metadata_ca_file": mds.ca}})
        idp = MiniIdP(tmp_path)
        signer = Signer(tmp_path)
        # xml:id: an ID for libxml2 and xmlsec without a schema, so the Reference resolves.
        xml = idp.metadata().replace("<md:IDPSSODescriptor ", '<md:IDPSSODescriptor xml:id="part" ',
                                     1)
        whole = signer.sign(xml)
        part = whole.decode().replace('<ds:Reference URI="">', '<ds:Reference URI="#part">', 1)
        # Re-signed by xmlsec1 with the Reference on the child: a valid signature of a part.
        start = part.index("<ds:Signature")
        end = part.index("</ds:Signature>") + len("</ds:Signature>")
        tmpl = part[:start] + re.sub(
            r"<ds:DigestValue>[^<]*</ds:DigestValue>", "<ds:DigestValue/>", re.sub(
                r"<ds:SignatureValue>[^<]*</ds:SignatureValue>", "<ds:SignatureValue/>",
                part[start:end])) + part[end:]
        tmpl = re.sub(r"<ds:KeyInfo>.*?</ds:KeyInfo>", "", tmpl, flags=re.S)
        (tmp_path / "part.xml").write_text(tmpl)
        signed = subprocess.run(
            ["xmlsec1", "--sign", "--privkey-pem", f"{signer.key},{signer.cert}",
             str(tmp_path / "part.xml")],
            check=True, capture_output=True).stdout
        mds.files["/part.xml"] = signed
        mds.files["/whole.xml"] = whole
        p = srv.ctl("idp", "add", "--metadata-url", mds.url("/part.xml"), "--metadata-cert",
                    signer.cert, check=False)
        assert p.returncode == 1 and "does not cover" in p.stderr, p.stderr
        assert json.loads(srv.ctl("idp", "list", "--json").stdout) == []
        # The same metadata signed over its root is accepted.
        srv.ctl("idp", "add", "--metadata-url", mds.url("/whole.xml"), "--metadata-cert",
                signer.cert)
    finally:
        mds.stop()
