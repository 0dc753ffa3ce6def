"""SP identity (key pair made at first start, GET /saml/metadata) and the IdP registry
(gatehousectl idp add/list/remove) against the real IdP metadata in tests/fixtures/idp-samples."""
import json
import os
import stat
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import TOP

SAMPLES = os.path.join(TOP, "tests", "fixtures", "idp-samples")  # with its README
MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"

# (file, entity ID, expected SSO redirect URL prefix)
SINGLE_IDP_METADATA = [
    ("okta/okta-exkppsa1qwuFV4D7z0h7-metadata.xml", "http://www.okta.com/exkppsa1qwuFV4D7z0h7"),
    ("google/google-C02dfl1r1-metadata.xml", "https://accounts.google.com/o/saml2?idpid=C02dfl1r1"),
    ("onelogin/onelogin-503983-metadata.xml", "https://app.onelogin.com/saml/metadata/503983"),
    ("adfs/adfs-FederationMetadata-anonymised.xml", "http://adfs.server.url/adfs/services/trust"),
    ("adfs/adfs-FederationMetadata-resigned.xml", "http://idp.adfs.example.com/adfs/services/trust"),
    ("shibboleth/testshib-providers-metadata.xml", "https://idp.testshib.org/idp/shibboleth"),
]
AGGREGATE = "shibboleth/rctsaai-edugain-aggregate-metadata.xml"


def sample(name):
    path = os.path.join(SAMPLES, name)
    if not os.path.exists(path):
        pytest.skip(f"tests/fixtures/idp-samples not present at {SAMPLES}")
    return path


def idps(server):
    return {i["entity_id"]: i for i in json.loads(server.ctl("idp", "list", "--json").stdout)}


def test_sp_metadata_is_served_with_a_key_made_at_first_start(server):
    r = requests.get(server.url("/saml/metadata"))
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/samlmetadata+xml"
    root = ET.fromstring(r.content)
    assert root.get("entityID") == server.url("/saml/metadata")
    sp = root.find(f"{MD}SPSSODescriptor")
    assert sp.get("AuthnRequestsSigned") == "true" and sp.get("WantAssertionsSigned") == "true"
    acs = sp.find(f"{MD}AssertionConsumerService")
    assert acs.get("Location") == server.url("/saml/acs")
    assert acs.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
    assert {k.get("use") for k in sp.findall(f"{MD}KeyDescriptor")} == {"signing", "encryption"}
    # The key made at first start is written only sealed under the data key, owner-only.
    key = os.path.join(server.tmp, "sp-key.pem")
    assert not os.path.exists(key)
    assert stat.S_IMODE(os.stat(key + ".sealed").st_mode) == 0o600
    with open(key + ".sealed", "rb") as f:
        assert b"PRIVATE KEY" not in f.read()
    # The same key survives a restart.
    server.stop()
    server.start()
    assert requests.get(server.url("/saml/metadata")).content == r.content


@pytest.mark.parametrize("name,entity_id", SINGLE_IDP_METADATA)
def test_real_idp_metadata_imports(server, name, entity_id):
    p = server.ctl("idp", "add", "--metadata", sample(name), "--domain", "corp.example.com")
    assert f"added IdP {entity_id}" in p.stdout
    i = idps(server)[entity_id]
    assert i["domains"] == "corp.example.com"
    # Google and OneLogin publish only the HTTP-POST binding for SSO.
    assert (i["sso_redirect"] or i["sso_post"]).startswith("https://")
    assert "SHA256 " in i["certs"]
    assert i["idp_initiated"] is False and i["allow_sha1"] is False


def test_adfs_signing_key_comes_from_the_idpssodescriptor(server):
    server.ctl("idp", "add", "--metadata", sample("adfs/adfs-FederationMetadata-anonymised.xml"))
    certs = idps(server)["http://adfs.server.url/adfs/services/trust"]["certs"]
    # The first RoleDescriptor's key is the encryption certificate: it must not be listed.
    assert certs.count("SHA256") == 1


def test_an_aggregate_needs_an_entity_id_and_then_imports_each_idp(server):
    path = sample(AGGREGATE)
    p = server.ctl("idp", "add", "--metadata", path, check=False)
    assert p.returncode == 1
    assert "choose one with --entity-id" in p.stderr and "https://idp.fccn.pt/idp/shibboleth" in p.stderr
    for e in ("https://si-saai.ualg.pt/idp/shibboleth", "https://idp.fccn.pt/idp/shibboleth"):
        server.ctl("idp", "add", "--metadata", path, "--entity-id", e)
    assert set(idps(server)) == {"https://si-saai.ualg.pt/idp/shibboleth",
                                 "https://idp.fccn.pt/idp/shibboleth"}


def test_duplicates_taken_domains_and_bad_domains_are_refused(server):
    okta = sample(SINGLE_IDP_METADATA[0][0])
    google = sample(SINGLE_IDP_METADATA[1][0])
    server.ctl("idp", "add", "--metadata", okta, "--domain", "Example.COM")
    p = server.ctl("idp", "add", "--metadata", okta, check=False)
    assert p.returncode == 1 and "registered already" in p.stderr
    p = server.ctl("idp", "add", "--metadata", google, "--domain", "example.com", check=False)
    assert p.returncode == 1 and "routed to http://www.okta.com/exkppsa1qwuFV4D7z0h7" in p.stderr
    p = server.ctl("idp", "add", "--metadata", google, "--domain", "not a domain", check=False)
    assert p.returncode == 1 and "not an e-mail domain" in p.stderr
    assert list(idps(server)) == ["http://www.okta.com/exkppsa1qwuFV4D7z0h7"]  # nothing half-written


def test_bad_metadata_is_refused_with_a_reason(server, tmp_path):
    cases = {
        "doctype.xml": ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                        '<x>&e;</x>', "DOCTYPE"),
        "broken.xml": ("<md:EntityDescriptor", "not well-formed"),
        "sp-only.xml": ('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
                        'entityID="https://sp.example.com"><md:SPSSODescriptor '
                        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>'
                        '</md:EntityDescriptor>', "no SAML 2.0 identity provider"),
    }
    for name, (text, reason) in cases.items():
        f = tmp_path / name
        f.write_text(text)
        p = server.ctl("idp", "add", "--metadata", str(f), check=False)
        assert p.returncode == 1 and reason in p.stderr, (name, p.stderr)
    p = server.ctl("idp", "add", "--metadata", str(tmp_path / "missing.xml"), check=False)
    assert p.returncode == 1 and "No such file" in p.stderr
    assert idps(server) == {}


def test_remove_and_audit(server):
    server.ctl("idp", "add", "--metadata", sample(SINGLE_IDP_METADATA[0][0]), "--domain",
               "example.com", "--idp-initiated", "on")
    eid = SINGLE_IDP_METADATA[0][1]
    assert idps(server)[eid]["idp_initiated"] is True
    assert "removed" in server.ctl("idp", "remove", eid).stdout
    assert server.ctl("idp", "remove", eid, check=False).returncode == 1
    # The domain is free again.
    server.ctl("idp", "add", "--metadata", sample(SINGLE_IDP_METADATA[1][0]), "--domain", "example.com")
    audit = json.loads(server.ctl("audit", "list", "--json").stdout)
    actions = [(a["action"], a["target"]) for a in audit]
    assert ("idp.add", eid) in actions and ("idp.remove", eid) in actions
    removed = next(a for a in audit if a["action"] == "idp.remove")
    assert removed["old"] == "example.com" and removed["actor"].startswith("cli:")
