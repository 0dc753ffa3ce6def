"""Real responses from real IdPs (tests/fixtures/idp-samples) through POST /saml/acs, each at its
own instant (the clock moved with faketime), with an SP configured as the one the IdP answered:
its entity ID (the Audience), its ACS URL (Recipient, Destination), its pending request (the
InResponseTo) and, for the encrypted ones, its decryption key. Every sample signs a person in,
except where the SAML profile requires a refusal; each such refusal is asserted with its reason
(README, "Real IdP samples"). Where an IdP ships no metadata, minimal metadata is written from its
signing certificate."""
import base64
import calendar
import json
import os
import shutil
import time

import pytest
import requests

from conftest import TOP, db_rows, db_write
from samlidp import MiniIdP

S = os.path.join(TOP, "tests", "fixtures", "idp-samples")
KEYS = os.path.join(S, "keys")
NGROK_AUD = "https://29ee6d2e.ngrok.io/saml/metadata"
NGROK_ACS = "https://29ee6d2e.ngrok.io/saml/acs"
PING_AUD = "https://saml.test.nope/session/sso/saml/spentityid/hp24dqnpvq"
PING_ACS = "https://saml.test.nope/session/sso/saml/acs/hp24dqnpvq"
PING_ISSUER = "https://saml.test.nope:9031/eid/sxpmrhbkzn"
PING_CERT = "ping/pingfederate-signing-cert.pem"
# TestShib signed in 2014 with its 2006 key; the metadata kept here is from after its 2016
# rollover, where the 2006 key is left only in the AttributeAuthorityDescriptor (which vouches for
# no SSO response): the IdP's key at that instant is given as minimal metadata.
TESTSHIB = dict(cert="shibboleth/testshib-signing-cert-2006.pem",
                issuer="https://idp.testshib.org/idp/shibboleth",
                instant="2014-06-02T17:49:00Z", audience="http://subspacesw.com",
                acs="http://localhost/browserSamlLogin",
                idp_args=["--attr-email", "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"],
                name_id="_32990a6fe34e615a7657a8fe2056d885", email="myself@testshib.org",
                # Its NameID is transient (SAML core 8.3.8): it names nobody for long, so the
                # user is keyed by the address, never by that value.
                user_key="myself@testshib.org")


def sample(response, instant, audience, acs, **kw):
    d = dict(response=response, instant=instant, audience=audience, acs=acs, idp_args=[],
             sp_key=None, metadata=None, cert=None, issuer=None, reason="ok")
    d.update(kw)
    return d


ACCEPTED = {
    "google": sample("google/google-C02dfl1r1-response.xml", "2016-01-05T16:55:45Z", NGROK_AUD,
                     NGROK_ACS, metadata="google/google-C02dfl1r1-metadata.xml",
                     name_id="ross@octolabs.io", email="ross@octolabs.io"),
    "okta-encrypted": sample(
        "okta/okta-exkppsa1qwuFV4D7z0h7-response-encrypted-assertion.xml", "2020-03-03T19:24:40Z",
        "http://localhost:8000/saml/metadata", "http://localhost:8000/saml/acs",
        metadata="okta/okta-exkppsa1qwuFV4D7z0h7-metadata.xml", sp_key="crewjam-sp",
        name_id="testuser@testrsc.com", email="testuser@testrsc.com"),
    "adfs": sample("adfs/adfs-fs.spstest2.com-response.xml", "2017-09-21T23:27:30Z",
                   "https://saml.test.nope/session/sso/saml/spentityid/dknhyszjl7",
                   "https://saml.test.nope/session/sso/saml/acs/dknhyszjl7",
                   cert="adfs/adfs-fs.spstest2.com-signing-cert.pem",
                   issuer="http://fs.spstest2.com/adfs/services/trust",
                   name_id="paul@spstest2.com", email="paul@spstest2.com"),
    "shibboleth-encrypted": sample("shibboleth/testshib-response-encrypted-assertion.xml",
                                   sp_key="testshib-enc", **TESTSHIB),
    "shibboleth-derived": sample("shibboleth/testshib-response-DERIVED-decrypted.xml",
                                 **TESTSHIB),
    "ping-response-signed": sample(
        "ping/pingfederate-response-01-response-signed.xml", "2017-09-02T00:12:20Z", PING_AUD,
        PING_ACS, cert=PING_CERT, issuer=PING_ISSUER, name_id="firstlast@saml.test.nope",
        email="firstlast@saml.test.nope"),
    "ping-assertion-signed-keyinfo": sample(
        "ping/pingfederate-response-02-assertion-signed-keyinfo.xml", "2017-09-02T23:50:20Z",
        PING_AUD, PING_ACS, cert=PING_CERT, issuer=PING_ISSUER,
        name_id="firstlast@saml.test.nope", email="firstlast@saml.test.nope"),
    "ping-assertion-signed-no-keyinfo": sample(
        "ping/pingfederate-response-03-assertion-signed-no-keyinfo.xml", "2017-09-01T21:25:00Z",
        PING_AUD, PING_ACS, cert=PING_CERT, issuer=PING_ISSUER,
        name_id="firstlast@saml.test.nope", email="firstlast@saml.test.nope"),
    "onelogin-sha1-allowed": sample(
        "onelogin/onelogin-503983-response.xml", "2016-01-05T17:53:20Z", NGROK_AUD, NGROK_ACS,
        metadata="onelogin/onelogin-503983-metadata.xml", idp_args=["--allow-sha1", "on"],
        name_id="ross@kndr.org", email="ross@kndr.org"),
}

# The refusals the profile requires of these samples (README, "Real IdP samples").
REFUSED = {
    # Okta signed an assertion whose Audience is the five characters "123" with the quotes: no
    # entity ID (a URI) can be that, and SAML core 2.5.1.4 admits only exact matches.
    "okta-audience-quoted-123": sample(
        "okta/okta-exk659aytfMeNI49v0h7-response.xml", "2016-07-25T23:20:20Z",
        "http://localhost:8080/v1/_saml_metadata", "http://localhost:8080/v1/_saml_callback",
        cert="okta/okta-exk659aytfMeNI49v0h7-signing-cert.pem",
        issuer="http://www.okta.com/exk659aytfMeNI49v0h7", reason="audience_mismatch",
        detail='Audience is ""123""'),
    # OneLogin signed "{audience}" (the app's audience was never set): the same.
    "onelogin-audience-placeholder": sample(
        "onelogin/onelogin-634027-response.xml", "2017-03-08T07:53:45Z",
        "http://884d40bf.ngrok.io/api/sso/saml2/metadata",
        "http://884d40bf.ngrok.io/api/sso/saml2/acs/58af624473d4f375b8e70d81",
        cert="onelogin/onelogin-634027-signing-cert.pem",
        issuer="https://app.onelogin.com/saml/metadata/634027",
        idp_args=["--allow-sha1", "on", "--idp-initiated", "on"], reason="audience_mismatch",
        detail='Audience is "{audience}"'),
    # Auth0 put the Response's ds:Signature after the Assertion, as its last child: outside the
    # schema (SAML core 3.2.2 puts it right after the Issuer), whatever the audience.
    "auth0-signature-last": sample(
        "auth0/auth0-scaleft-test-response.xml", "2016-07-25T18:29:30Z",
        "urn:scaleft-test.auth0.com", "http://localhost:8080/v1/_saml_callback",
        cert="auth0/auth0-scaleft-test-signing-cert.pem", issuer="urn:scaleft-test.auth0.com",
        idp_args=["--allow-sha1", "on"], reason="malformed",
        detail="the Response's ds:Signature is its child element 4"),
    # The 2016 TestShib metadata lists the 2006 key that signed this 2014 response only in its
    # AttributeAuthorityDescriptor: only IDPSSODescriptor keys verify SSO responses.
    "shibboleth-key-only-in-attribute-authority": sample(
        "shibboleth/testshib-response-DERIVED-decrypted.xml",
        metadata="shibboleth/testshib-providers-metadata.xml", reason="bad_signature",
        detail="no key of the IdP verifies the signature",
        **{k: v for k, v in TESTSHIB.items() if k not in ("cert", "issuer")}),
    # SHA-1 stays refused unless an admin allows it for the IdP.
    "onelogin-sha1-not-allowed": sample(
        "onelogin/onelogin-503983-response.xml", "2016-01-05T17:53:20Z", NGROK_AUD, NGROK_ACS,
        metadata="onelogin/onelogin-503983-metadata.xml", reason="sha1_refused"),
}


def epoch(iso):
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def minimal_metadata(path, entity_id, cert_path):
    """An IDPSSODescriptor with the certificate as its signing key: what an admin writes for an
    IdP that ships no metadata file."""
    with open(cert_path) as f:
        b64 = "".join(l for l in f.read().splitlines() if "-----" not in l)
    with open(path, "w") as f:
        f.write('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
                f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">'
                '<md:IDPSSODescriptor '
                'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
                '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
                f'{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
                '<md:SingleSignOnService '
                'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
                'Location="https://idp.invalid/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>')
    return path


def response_facts(path):
    """(issuer, InResponseTo) of a sample, read the way a test reads them: by text."""
    import re
    with open(path) as f:
        xml = f.read()
    irt = re.search(r'<(?:\w+:)?Response[^>]*?InResponseTo="([^"]+)"', xml)
    return irt.group(1) if irt else None


def sp_for(make_server, case, sp_key=None):
    """A server configured as the SP the sample was made for, with the IdP registered."""
    srv = make_server({"sp": {"entity_id": case["audience"], "acs_url": case["acs"]}}, start=False)
    key = sp_key if sp_key is not None else case["sp_key"]
    if key:
        for part in ("key", "cert"):
            dst = os.path.join(srv.tmp, f"sp-{part}.pem")
            shutil.copy(os.path.join(KEYS, f"{key}-{part}.pem"), dst)
            os.chmod(dst, 0o600)
    srv.start()
    md = (os.path.join(S, case["metadata"]) if case["metadata"] else
          minimal_metadata(os.path.join(srv.tmp, "idp-metadata.xml"), case["issuer"],
                           os.path.join(S, case["cert"])))
    out = srv.ctl("idp", "add", "--metadata", md, *case["idp_args"]).stdout
    issuer = case["issuer"] or out.split("added IdP ", 1)[1].strip()
    srv.set_offset(epoch(case["instant"]) - time.time())
    return srv, issuer


def pending_request(srv, request_id, issuer, now):
    """The AuthnRequest the IdP answered, as Gatehouse would have stored it when it sent it."""
    db_write(srv, "INSERT INTO saml_requests (id, entity_id, return_to, expires_at) "
             "VALUES (?, ?, '/', ?)", (request_id, issuer, now + 600))


def post(srv, case_response, session=None):
    with open(os.path.join(S, case_response), "rb") as f:
        b64 = base64.b64encode(f.read()).decode()
    s = session or requests.Session()
    return s.post(f"http://127.0.0.1:{srv.port}/saml/acs", data={"SAMLResponse": b64},
                  allow_redirects=False, timeout=30)


def last_log(srv):
    return json.loads(srv.ctl("saml-log", "list", "--json", "--limit", "1").stdout)[0]


def run_sample(make_server, case, sp_key=None):
    srv, issuer = sp_for(make_server, case, sp_key)
    irt = response_facts(os.path.join(S, case["response"]))
    if irt:
        pending_request(srv, irt, issuer, epoch(case["instant"]))
    s = requests.Session()
    r = post(srv, case["response"], s)
    return srv, s, r


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_real_response_signs_in_through_the_acs_at_its_instant(make_server, name):
    case = ACCEPTED[name]
    srv, s, r = run_sample(make_server, case)
    entry = last_log(srv)
    assert r.status_code == 303 and r.headers["Location"] == "/", (entry, r.text[:300])
    assert entry["verdict"] == "accepted" and entry["name_id"] == case["name_id"]
    who = s.get(f"http://127.0.0.1:{srv.port}/api/whoami", timeout=10).json()
    assert who["auth_method"] == "saml"
    assert who["name_id"] == case.get("user_key", case["name_id"])
    assert who["email"] == case["email"]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_real_response_is_refused_where_the_profile_requires(make_server, name):
    case = REFUSED[name]
    srv, s, r = run_sample(make_server, case)
    entry = last_log(srv)
    assert r.status_code == 403 if case["reason"] != "malformed" else r.status_code == 400
    assert entry["verdict"] == "refused" and entry["reason"] == case["reason"], entry
    assert case.get("detail", "") in entry["detail"], entry
    assert "gatehouse_session" not in s.cookies


def test_encrypted_responses_need_no_sha1_permission(make_server):
    """Okta's and TestShib's key transport (RSA-OAEP) carries a SHA-1 ds:DigestMethod inside
    xenc:EncryptedKey; it is no signature algorithm. Neither IdP is allowed SHA-1 here."""
    for name in ("okta-encrypted", "shibboleth-encrypted"):
        case = ACCEPTED[name]
        with open(os.path.join(S, case["response"])) as f:
            assert "xmldsig#sha1" in f.read()
        assert "--allow-sha1" not in case["idp_args"]
        srv, _, r = run_sample(make_server, case)
        assert r.status_code == 303, last_log(srv)
        idp = json.loads(srv.ctl("idp", "list", "--json").stdout)[0]
        assert not idp.get("allow_sha1"), idp


def test_an_encrypted_assertion_our_key_cannot_open_is_decrypt_failed(make_server):
    # The server's own generated key, not the one Okta encrypted to.
    srv, _, r = run_sample(make_server, ACCEPTED["okta-encrypted"], sp_key="")
    entry = last_log(srv)
    assert r.status_code == 403 and entry["reason"] == "decrypt_failed", entry
    assert "could not be decrypted" in entry["detail"]


def test_a_sha1_signature_inside_an_encrypted_assertion_is_refused(make_server, tmp_path):
    """The SHA-1 policy also reads the signature that was hidden inside the EncryptedAssertion."""
    srv = make_server()
    mock = os.path.join(os.environ.get("GATEHOUSE_BIN_DIR") or os.path.join(TOP, "bin"),
                        "mock-idp")
    import subprocess
    sp_md = tmp_path / "sp.xml"
    sp_md.write_text(requests.get(srv.url("/saml/metadata"), timeout=10).text)
    state = tmp_path / "idp"
    md = subprocess.run([mock, "metadata", "--state-dir", str(state)], check=True,
                        capture_output=True, text=True).stdout
    (tmp_path / "idp.xml").write_text(md)
    srv.ctl("idp", "add", "--metadata", str(tmp_path / "idp.xml"), "--idp-initiated", "on")
    for alg, reason in (("rsa-sha1", "sha1_refused"), ("rsa-sha256", "ok")):
        b64 = subprocess.run([mock, "mint", "--sp-metadata", str(sp_md), "--state-dir", str(state),
                              "--user", "alice@example.com", "--encrypt", "--sign", "assertion",
                              "--sig-alg", alg], check=True, capture_output=True,
                             text=True, env=srv.env()).stdout.strip()
        r = requests.post(srv.url("/saml/acs"), data={"SAMLResponse": b64},
                          allow_redirects=False, timeout=30)
        entry = last_log(srv)
        assert entry["reason"] == reason, entry
        assert r.status_code == (303 if reason == "ok" else 403)


# -- the stateless checks on a real response, through `gatehousectl saml check` -----------------

GOOGLE = ACCEPTED["google"]


def check(server, audience=NGROK_AUD, recipient=NGROK_ACS, path=None):
    p = server.ctl("saml", "check", "--response", path or os.path.join(S, GOOGLE["response"]),
                   "--audience", audience, "--recipient", recipient, "--json", check=False)
    return p.returncode, json.loads(p.stdout)


def google(server):
    server.ctl("idp", "add", "--metadata", os.path.join(S, GOOGLE["metadata"]))
    server.set_offset(epoch(GOOGLE["instant"]) - time.time())


def test_google_attributes_are_read(server):
    google(server)
    _, v = check(server)
    assert v["attributes"]["firstName"] == ["Ross"] and v["attributes"]["lastName"] == ["Kinder"]


@pytest.mark.parametrize("shift,reason", [(3600, "expired"), (-3600, "not_yet_valid")])
def test_outside_its_window_the_response_is_refused_with_the_skew(server, shift, reason):
    google(server)
    server.advance(shift)
    rc, v = check(server)
    assert rc == 1 and v["reason"] == reason
    assert "allowed skew 180 s" in v["detail"]


def test_audience_and_recipient_are_compared_exactly(server):
    google(server)
    _, v = check(server, audience=NGROK_AUD + "/")
    assert v["reason"] == "audience_mismatch"
    _, v = check(server, recipient=NGROK_ACS + "x")
    assert v["reason"] in ("recipient_mismatch", "destination_mismatch")


def test_an_unknown_issuer_is_refused(server):
    server.set_offset(epoch(GOOGLE["instant"]) - time.time())
    _, v = check(server)
    assert v["reason"] == "unknown_issuer"


def test_a_tampered_response_fails_its_signature(server, tmp_path):
    google(server)
    with open(os.path.join(S, GOOGLE["response"])) as f:
        xml = f.read()
    forged = tmp_path / "forged.xml"
    forged.write_text(xml.replace("ross@octolabs.io", "admin@octolabs.io"))
    rc, v = check(server, path=str(forged))
    assert rc == 1 and v["reason"] == "bad_signature", v


def test_a_doctype_and_garbage_are_refused(server, tmp_path):
    google(server)
    f = tmp_path / "dtd.xml"
    f.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>')
    _, v = check(server, path=str(f))
    assert v["reason"] == "doctype"
    g = tmp_path / "garbage.b64"
    g.write_text("%%%not base64%%%")
    _, v = check(server, path=str(g))
    assert v["reason"] == "malformed"
