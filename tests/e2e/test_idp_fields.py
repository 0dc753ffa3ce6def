"""IdPs registered without metadata (issue 17 item 1): the entity ID, the sign-in URL and its
binding, the signing certificate (PEM or the bare base64 that setup pages show) and an optional
logout URL, through `gatehousectl idp add --entity-id --sso-url --cert`, the admin page and the
admin API. The real samples whose IdPs ship no metadata are registered this way and their
responses checked at their own instant."""
import calendar
import html
import json
import os
import time

import pytest
import requests

from conftest import STRONG, alert_of, csrf_of, signed_in_user, TOP

S = os.path.join(TOP, "tests", "fixtures", "idp-samples")
SSO = "https://idp.example.com/sso"

# response, certificate, issuer, instant, audience, recipient, extra, expected (verdict, reason)
SAMPLES = {
    "adfs-spstest2": ("adfs/adfs-fs.spstest2.com-response.xml",
                      "adfs/adfs-fs.spstest2.com-signing-cert.pem",
                      "http://fs.spstest2.com/adfs/services/trust", "2017-09-21T23:27:06Z",
                      "https://saml.test.nope/session/sso/saml/spentityid/dknhyszjl7",
                      "https://saml.test.nope/session/sso/saml/acs/dknhyszjl7", [],
                      ("accepted", "ok")),
    "ping-01": ("ping/pingfederate-response-01-response-signed.xml",
                "ping/pingfederate-signing-cert.pem", "https://saml.test.nope:9031/eid/sxpmrhbkzn",
                "2017-09-02T00:12:06Z",
                "https://saml.test.nope/session/sso/saml/spentityid/hp24dqnpvq",
                "https://saml.test.nope/session/sso/saml/acs/hp24dqnpvq", [], ("accepted", "ok")),
    "onelogin-634027": ("onelogin/onelogin-634027-response.xml",
                        "onelogin/onelogin-634027-signing-cert.pem",
                        "https://app.onelogin.com/saml/metadata/634027", "2017-03-08T07:53:39Z",
                        "{audience}",
                        "http://884d40bf.ngrok.io/api/sso/saml2/acs/58af624473d4f375b8e70d81",
                        ["--allow-sha1", "on"], ("accepted", "ok")),
    # Okta's test app sent the literal audience "123" with its quotes: the profile requires an
    # exact match with our entity ID, so no SP configuration can accept it.
    "okta-exk659": ("okta/okta-exk659aytfMeNI49v0h7-response.xml",
                    "okta/okta-exk659aytfMeNI49v0h7-signing-cert.pem",
                    "http://www.okta.com/exk659aytfMeNI49v0h7", "2016-07-25T23:20:14Z", "123",
                    "http://localhost:8080/v1/_saml_callback", [],
                    ("refused", "audience_mismatch")),
}


def at(server, iso):
    server.set_offset(calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")) - time.time())


def check(server, response, audience, recipient):
    p = server.ctl("saml", "check", "--response", os.path.join(S, response), "--audience",
                   audience, "--recipient", recipient, "--json", check=False)
    return json.loads(p.stdout)


def bare_base64(pem_path):
    with open(pem_path) as f:
        pem = f.read()
    return "".join(l for l in pem.splitlines() if l and not l.startswith("-----"))


@pytest.mark.parametrize("case", sorted(SAMPLES))
def test_sample_idp_without_metadata_is_registered_from_its_fields(server, case):
    resp, cert, issuer, when, aud, rcpt, extra, (verdict, reason) = SAMPLES[case]
    p = server.ctl("idp", "add", "--entity-id", issuer, "--sso-url", SSO, "--cert",
                   os.path.join(S, cert), "--name", case, *extra)
    assert p.stdout.strip() == f"added IdP {issuer}"
    at(server, when)
    v = check(server, resp, aud, rcpt)
    assert (v["verdict"], v["reason"]) == (verdict, reason), v
    idp = json.loads(server.ctl("idp", "list", "--json").stdout)[0]
    assert idp["entity_id"] == issuer and idp["sso_redirect"] == SSO and idp["sso_post"] == ""
    assert idp["name"] == case and "SHA256" in idp["certs"]


def test_bare_base64_certificate_post_binding_and_logout_url(server, tmp_path):
    resp, cert, issuer, when, aud, rcpt, _, _ = SAMPLES["adfs-spstest2"]
    b64 = tmp_path / "cert.txt"
    b64.write_text(bare_base64(os.path.join(S, cert)) + "\n")
    server.ctl("idp", "add", "--entity-id", issuer, "--sso-url", SSO, "--sso-binding", "post",
               "--slo-url", "https://idp.example.com/slo", "--cert", str(b64),
               "--domain", "spstest2.com")
    idp = json.loads(server.ctl("idp", "list", "--json").stdout)[0]
    assert idp["sso_post"] == SSO and idp["sso_redirect"] == ""
    assert idp["slo_post"] == "https://idp.example.com/slo"
    assert idp["domains"] == "spstest2.com"
    at(server, when)
    assert check(server, resp, aud, rcpt)["verdict"] == "accepted"
    # The audit names the IdP and its certificate, as for metadata.
    audit = server.ctl("audit", "list", "--json").stdout
    assert "idp.add" in audit and issuer in audit


def test_two_certificates_for_rollover(server):
    _, cert, issuer, when, aud, rcpt, _, _ = SAMPLES["ping-01"]
    other = os.path.join(S, "adfs/adfs-fs.spstest2.com-signing-cert.pem")
    server.ctl("idp", "add", "--entity-id", issuer, "--sso-url", SSO, "--cert", other,
               "--cert", os.path.join(S, cert))
    at(server, when)
    v = check(server, SAMPLES["ping-01"][0], aud, rcpt)
    assert v["verdict"] == "accepted", v
    assert json.loads(server.ctl("idp", "list", "--json").stdout)[0]["certs"].count("SHA256") == 2


def test_a_certificate_that_did_not_sign_is_refused(server):
    resp, _, issuer, when, aud, rcpt, _, _ = SAMPLES["ping-01"]
    wrong = os.path.join(S, "adfs/adfs-fs.spstest2.com-signing-cert.pem")
    server.ctl("idp", "add", "--entity-id", issuer, "--sso-url", SSO, "--cert", wrong)
    at(server, when)
    assert check(server, resp, aud, rcpt)["reason"] == "bad_signature"


@pytest.mark.parametrize("args,message", [
    (["--sso-url", SSO, "--cert", "CERT"], "--entity-id"),
    (["--entity-id", "urn:x", "--cert", "CERT"], "--sso-url"),
    (["--entity-id", "urn:x", "--sso-url", SSO], "--cert"),
    (["--entity-id", "urn:x", "--sso-url", "javascript:alert(1)", "--cert", "CERT"],
     "absolute http"),
    (["--entity-id", "urn:x", "--sso-url", "https://idp.example.com/\r\nX: y", "--cert", "CERT"],
     "absolute http"),
    (["--entity-id", "urn:x", "--sso-url", "https:///nohost", "--cert", "CERT"], "absolute http"),
    (["--entity-id", "urn:x", "--sso-url", SSO, "--slo-url", "ftp://x/", "--cert", "CERT"],
     "logout URL"),
    (["--entity-id", "urn:x y", "--sso-url", SSO, "--cert", "CERT"], "entity ID"),
    (["--entity-id", "urn:x", "--sso-url", SSO, "--cert", "GARBAGE"], "not an X.509"),
    (["--entity-id", "urn:x", "--sso-url", SSO, "--cert", "/nonexistent.pem"], "nonexistent"),
])
def test_bad_fields_are_refused_with_the_reason_and_nothing_is_stored(server, tmp_path, args,
                                                                      message):
    cert = os.path.join(S, "ping/pingfederate-signing-cert.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    args = [{"CERT": cert, "GARBAGE": str(garbage)}.get(a, a) for a in args]
    p = server.ctl("idp", "add", *args, check=False)
    assert p.returncode == 1 and message in p.stderr, p.stderr
    assert json.loads(server.ctl("idp", "list", "--json").stdout) == []


def test_usage_errors(server):
    cert = os.path.join(S, "ping/pingfederate-signing-cert.pem")
    md = os.path.join(S, "google/google-C02dfl1r1-metadata.xml")
    for args in (["--entity-id", "urn:x", "--sso-url", SSO, "--cert", cert, "--sso-binding", "x"],
                 ["--metadata", md, "--sso-url", SSO, "--cert", cert],
                 ["--entity-id", "urn:x", "--sso-url", SSO] + ["--cert", cert] * 6):
        assert server.ctl("idp", "add", *args, check=False).returncode == 2


def test_admin_api_registers_an_idp_from_fields(server):
    signed_in_user(server, "owner@example.com", "owner")
    tok = requests.post(server.url("/api/login"),
                        json={"email": "owner@example.com", "password": STRONG},
                        timeout=30).json()["token"]
    h = {"Authorization": f"Bearer {tok}"}
    _, cert, issuer, _, _, _, _, _ = SAMPLES["ping-01"]
    with open(os.path.join(S, cert)) as f:
        pem = f.read()
    url = server.url("/api/admin/idps")
    # Registering an IdP is a trust decision: an admin may not, with or without metadata.
    signed_in_user(server, "admin@example.com", "admin")
    atok = requests.post(server.url("/api/login"),
                         json={"email": "admin@example.com", "password": STRONG},
                         timeout=30).json()["token"]
    r = requests.post(url, headers={"Authorization": f"Bearer {atok}"},
                      json={"entity_id": issuer, "sso_url": SSO, "certs": [pem]}, timeout=30)
    assert r.status_code == 403, r.text
    r = requests.post(url, headers=h, json={"entity_id": issuer, "sso_url": "javascript:x",
                                            "certs": [pem]}, timeout=30)
    assert r.status_code == 422 and "absolute http" in r.json()["message"], r.text
    r = requests.post(url, headers=h, json={"entity_id": issuer, "sso_url": SSO,
                                            "certs": pem}, timeout=30)
    assert r.status_code == 400
    r = requests.post(url, headers=h, json={"entity_id": issuer, "sso_url": SSO,
                                            "sso_binding": "post", "certs": [pem],
                                            "domains": ["saml.test.nope"]}, timeout=30)
    assert r.status_code == 201 and r.json()["entity_id"] == issuer, r.text
    idps = requests.get(url, headers=h, timeout=30).json()["idps"]
    assert idps[0]["sso_post"] == SSO and idps[0]["domains"] == "saml.test.nope"
    assert any(e["action"] == "idp.add" and e["target"] == issuer
               for e in json.loads(server.ctl("audit", "list", "--json").stdout))


def test_admin_page_registers_an_idp_from_fields_with_an_uploaded_certificate(server):
    owner, _ = signed_in_user(server, "owner@example.com", "owner")
    page = owner.get("/admin/idps").text
    assert 'name="sso_url"' in page and 'name="cert_file"' in page
    _, cert, issuer, _, _, _, _, _ = SAMPLES["ping-01"]
    with open(os.path.join(S, cert), "rb") as f:
        pem = f.read()

    def submit(fields, files=None):
        token = csrf_of(owner.get("/admin/idps").text)
        return owner.s.post(server.url("/admin/idps"),
                            data={"csrf_token": token, "action": "add_fields", **fields},
                            files=files or {"x": ("", b"")}, allow_redirects=False, timeout=30)

    r = submit({"entity_id": issuer, "sso_url": SSO})
    assert r.status_code == 400 and "signing certificate" in alert_of(r.text)
    r = submit({"entity_id": issuer, "sso_url": SSO},
               {"cert_file": ("idp.pem", b"not a certificate", "application/x-pem-file")})
    assert r.status_code == 422 and "X.509" in alert_of(r.text)
    r = submit({"entity_id": issuer, "sso_url": SSO, "name": "Ping"},
               {"cert_file": ("idp.pem", pem, "application/x-pem-file")})
    assert r.status_code == 200 and f"Added {issuer}" in html.unescape(r.text)
    idp = json.loads(server.ctl("idp", "list", "--json").stdout)[0]
    assert idp["entity_id"] == issuer and idp["name"] == "Ping" and idp["sso_redirect"] == SSO
    # Pasted base64 works too.
    server.ctl("idp", "remove", issuer)
    r = submit({"entity_id": issuer, "sso_url": SSO,
                "cert": bare_base64(os.path.join(S, cert))})
    assert r.status_code == 200 and f"Added {issuer}" in html.unescape(r.text), alert_of(r.text)
