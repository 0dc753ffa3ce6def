"""`mock-idp mint`: responses verify with xmlsec1 against the certificate of the IdP's metadata;
each fault flag changes exactly the element it names (compared with a clean response minted at the
same frozen instant); profiles send the shapes of the IdPs they imitate."""
import base64
import glob
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from mockidp_harness import NS, SP, metadata_cert, run_idp, xmlsec_verify

FROZEN = "2030-01-01 00:00:00"  # libfaketime: an absolute date without '@' stops the clock
USER = "alice.liddell@example.com"
RANDOM_ID = re.compile(r"^_[0-9a-f]{32}$")
DS_SIG = "{http://www.w3.org/2000/09/xmldsig#}Signature"
ASSERTION_SIG = "//*[local-name()='Assertion']/*[local-name()='Signature']"


def faketime_env():
    libs = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    assert libs, "libfaketime is not installed (Debian package: faketime)"
    env = dict(os.environ)
    env.update({"LD_PRELOAD": libs[0], "FAKETIME": FROZEN, "TZ": "UTC",
                "ASAN_OPTIONS": env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"})
    return env


class Minter:
    def __init__(self, tmp):
        self.tmp = str(tmp)
        self.sp = SP(self.tmp)
        self.state = os.path.join(self.tmp, "idp-state")
        self.base = ["--sp-metadata", self.sp.metadata, "--state-dir", self.state,
                     "--base-url", "http://127.0.0.1:7000"]
        md = run_idp("metadata", "--state-dir", self.state, "--base-url",
                     "http://127.0.0.1:7000").stdout
        self.cert = metadata_cert(md, self.tmp)

    def mint(self, *args, user=USER, frozen=False, check=True):
        p = run_idp("mint", *self.base, "--user", user, *args,
                    env=faketime_env() if frozen else None, check=check)
        return base64.b64decode(p.stdout) if check else p

    def verify(self, xml, node_xpath=None):
        return xmlsec_verify(xml, self.cert, self.tmp, node_xpath)


@pytest.fixture
def minter(tmp_path):
    return Minter(tmp_path)


# -- signatures --------------------------------------------------------------------------------

SIG_ALGS = {
    "rsa-sha1": ("http://www.w3.org/2000/09/xmldsig#rsa-sha1",
                 "http://www.w3.org/2000/09/xmldsig#sha1"),
    "rsa-sha256": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                   "http://www.w3.org/2001/04/xmlenc#sha256"),
    "rsa-sha512": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
                   "http://www.w3.org/2001/04/xmlenc#sha512"),
}


@pytest.mark.parametrize("alg", sorted(SIG_ALGS))
@pytest.mark.parametrize("sign", ["assertion", "response", "both"])
def test_signed_responses_verify_against_the_metadata_certificate(minter, sign, alg):
    xml = minter.mint("--sign", sign, "--sig-alg", alg)
    root = ET.fromstring(xml)
    assertion = root.find("saml:Assertion", NS)
    on_response = root.find("ds:Signature", NS) is not None
    on_assertion = assertion.find("ds:Signature", NS) is not None
    assert (on_response, on_assertion) == {"assertion": (False, True), "response": (True, False),
                                           "both": (True, True)}[sign]
    assert minter.verify(xml)  # the first signature in document order
    if on_assertion:
        assert minter.verify(xml, ASSERTION_SIG)
    for sm in root.iter("{http://www.w3.org/2000/09/xmldsig#}SignatureMethod"):
        assert sm.get("Algorithm") == SIG_ALGS[alg][0]
    for dm in root.iter("{http://www.w3.org/2000/09/xmldsig#}DigestMethod"):
        assert dm.get("Algorithm") == SIG_ALGS[alg][1]


@pytest.mark.parametrize("args", [["--unsigned"], ["--sign", "none"]])
def test_unsigned_responses_carry_no_signature_and_do_not_verify(minter, args):
    xml = minter.mint(*args)
    assert b"Signature" not in xml
    assert not minter.verify(xml)


@pytest.mark.parametrize("sign", ["assertion", "response", "both"])
def test_wrong_key_signs_validly_with_a_key_the_metadata_does_not_have(minter, sign, tmp_path):
    xml = minter.mint("--wrong-key", "--sign", sign)
    assert not minter.verify(xml)
    # It is a real signature, by the certificate it carries in KeyInfo: only the key is wrong.
    b64 = ET.fromstring(xml).find(".//ds:X509Certificate", NS).text.replace("\n", "")
    body = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    other = tmp_path / "keyinfo-cert.pem"
    other.write_text(f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
    assert xmlsec_verify(xml, str(other), str(tmp_path))


@pytest.mark.parametrize("sign", ["assertion", "response", "both"])
def test_tamper_after_sign_alters_the_signed_name_id(minter, sign):
    xml = minter.mint("--tamper-after-sign", "--sign", sign)
    name_id = ET.fromstring(xml).find("saml:Assertion/saml:Subject/saml:NameID", NS).text
    assert name_id == "mallory@example.com"
    assert not minter.verify(xml)
    if sign == "both":
        assert not minter.verify(xml, ASSERTION_SIG)


def test_encrypted_assertion_decrypts_with_the_sp_key_and_its_signature_verifies(minter, tmp_path):
    xml = minter.mint("--encrypt")
    root = ET.fromstring(xml)
    assert root.find("saml:Assertion", NS) is None
    enc = root.find("saml:EncryptedAssertion/xenc:EncryptedData", NS)
    assert enc.find("xenc:EncryptionMethod", NS).get("Algorithm") == \
        "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
    assert enc.find(".//xenc:EncryptedKey/xenc:EncryptionMethod", NS).get("Algorithm") == \
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
    src = tmp_path / "encrypted.xml"
    src.write_bytes(xml)
    plain = subprocess.run(["xmlsec1", "--decrypt", "--privkey-pem", minter.sp.key, str(src)],
                           check=True, capture_output=True).stdout
    assertion = ET.fromstring(plain).find("saml:EncryptedAssertion/saml:Assertion", NS)
    assert assertion.find("saml:Subject/saml:NameID", NS).text == USER
    assert minter.verify(plain)


# -- faults: each changes exactly its element --------------------------------------------------

def flatten(xml):
    """{(path, what): value} for every attribute and text, signatures left out, random IDs
    (response and assertion IDs, session index) replaced by a placeholder."""
    root = ET.fromstring(xml)
    out = {}

    def walk(el, path):
        for k, v in el.attrib.items():
            out[(path, "@" + k.split("}")[-1])] = "<random>" if RANDOM_ID.match(v) else v
        if el.text and el.text.strip():
            out[(path, "text")] = el.text
        seen = {}
        for c in el:
            if c.tag == DS_SIG:
                continue
            name = c.tag.split("}")[-1]
            seen[name] = seen.get(name, 0) + 1
            walk(c, f"{path}/{name}[{seen[name]}]")

    walk(root, "Response")
    return out


A = "Response/Assertion[1]"
SCD = A + "/Subject[1]/SubjectConfirmation[1]/SubjectConfirmationData[1]"
STATUS = "Response/Status[1]/StatusCode[1]"
AUTHN_FAILED = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"

FAULTS = {
    "expired": (["--expired"], {(A + "/Conditions[1]", "@NotOnOrAfter"): "2029-12-31T23:00:00Z",
                                (SCD, "@NotOnOrAfter"): "2029-12-31T23:00:00Z"}),
    "not-yet-valid": (["--not-yet-valid"],
                      {(A + "/Conditions[1]", "@NotBefore"): "2030-01-01T01:00:00Z"}),
    "audience": (["--audience", "https://other.example/sp"],
                 {(A + "/Conditions[1]/AudienceRestriction[1]/Audience[1]", "text"):
                  "https://other.example/sp"}),
    "recipient": (["--recipient", "https://other.example/acs"],
                  {(SCD, "@Recipient"): "https://other.example/acs"}),
    "destination": (["--destination", "https://other.example/acs"],
                    {("Response", "@Destination"): "https://other.example/acs"}),
    "issuer": (["--issuer", "https://evil.example/idp"],
               {("Response/Issuer[1]", "text"): "https://evil.example/idp",
                (A + "/Issuer[1]", "text"): "https://evil.example/idp"}),
    "status-requester": (["--status", "Requester"],
                         {(STATUS, "@Value"): "urn:oasis:names:tc:SAML:2.0:status:Requester"}),
    "status-responder": (["--status", "Responder"],
                         {(STATUS, "@Value"): "urn:oasis:names:tc:SAML:2.0:status:Responder"}),
    "status-authn-failed": (["--status", "AuthnFailed"],
                            {(STATUS, "@Value"): "urn:oasis:names:tc:SAML:2.0:status:Responder",
                             (STATUS + "/StatusCode[1]", "@Value"): AUTHN_FAILED}),
    "replay-id": (["--replay-id", "_replayed-assertion"], {(A, "@ID"): "_replayed-assertion"}),
    "tamper-after-sign": (["--tamper-after-sign"],
                          {(A + "/Subject[1]/NameID[1]", "text"): "mallory@example.com"}),
    "wrong-key": (["--wrong-key"], {}),
    "unsigned": (["--unsigned"], {}),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_changes_exactly_its_element(minter, fault):
    args, expected = FAULTS[fault]
    common = ["--session-index", "_fixed-session"]
    clean = flatten(minter.mint(*common, frozen=True))
    faulty = flatten(minter.mint(*common, *args, frozen=True))
    changed = {k: faulty.get(k) for k in set(clean) | set(faulty) if clean.get(k) != faulty.get(k)}
    assert changed == expected


def test_fault_signatures_differ_as_named(minter):
    clean = ET.fromstring(minter.mint())
    wrong = ET.fromstring(minter.mint("--wrong-key"))
    cert = ".//ds:X509Certificate"
    assert clean.find(cert, NS).text != wrong.find(cert, NS).text
    assert ET.fromstring(minter.mint("--unsigned")).find(".//ds:Signature", NS) is None


def test_options_set_their_elements(minter):
    xml = minter.mint("--in-response-to", "_req42", "--session-index", "_sess7",
                      "--name-id-format", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                      "--attr", "department=R&D", "--attr", "department=Ops", "--lifetime", "60")
    root = ET.fromstring(xml)
    a = root.find("saml:Assertion", NS)
    assert root.get("InResponseTo") == "_req42"
    assert a.find("saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData",
                  NS).get("InResponseTo") == "_req42"
    assert a.find("saml:AuthnStatement", NS).get("SessionIndex") == "_sess7"
    assert a.find("saml:Subject/saml:NameID", NS).get("Format") == \
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    dept = a.find("saml:AttributeStatement/saml:Attribute[@Name='department']", NS)
    assert [v.text for v in dept] == ["R&D", "Ops"]
    cond = a.find("saml:Conditions", NS)
    from datetime import datetime
    t = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    assert (t(cond.get("NotOnOrAfter")) - t(root.get("IssueInstant"))).total_seconds() == 60
    assert minter.verify(xml)


def test_bad_arguments_are_usage_errors(minter):
    for args in (["--sign", "sometimes"], ["--sig-alg", "md5"], ["--status", "Maybe"],
                 ["--profile", "acme"], ["--lifetime", "0"], ["--attr", "novalue"]):
        p = minter.mint(*args, check=False)
        assert p.returncode == 2 and "usage:" in p.stderr, args
    p = minter.mint(user="not-an-email", check=False)
    assert p.returncode == 2


# -- profiles ----------------------------------------------------------------------------------

CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
# profile: (NameID Format, {Name: (NameFormat, FriendlyName)}, assertion prefix)
PROFILES = {
    "okta": ("urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
             {n: ("urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified", None)
              for n in ("email", "firstName", "lastName", "groups")}, "saml2"),
    "google": (None, {n: (None, None) for n in ("email", "firstName", "lastName", "groups")},
               "saml2"),
    "adfs": ("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
             {CLAIMS + "emailaddress": (None, None), CLAIMS + "givenname": (None, None),
              CLAIMS + "surname": (None, None), CLAIMS + "upn": (None, None),
              "http://schemas.microsoft.com/ws/2008/06/identity/claims/role": (None, None)}, ""),
    "entra": ("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
              {CLAIMS + "emailaddress": (None, None), CLAIMS + "givenname": (None, None),
               CLAIMS + "surname": (None, None), CLAIMS + "name": (None, None),
               "http://schemas.microsoft.com/identity/claims/displayname": (None, None),
               "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups": (None, None)},
              ""),
    "shibboleth": ("urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
                   {"urn:oid:0.9.2342.19200300.100.1.3": (URI, "mail"),
                    "urn:oid:2.5.4.42": (URI, "givenName"), "urn:oid:2.5.4.4": (URI, "sn"),
                    "urn:oid:2.16.840.1.113730.3.1.241": (URI, "displayName"),
                    "urn:oid:1.3.6.1.4.1.5923.1.5.1.1": (URI, "isMemberOf"),
                    "urn:oid:1.3.6.1.4.1.5923.1.1.1.6": (URI, "eduPersonPrincipalName")}, "saml2"),
    "plain": ("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
              {n: ("urn:oasis:names:tc:SAML:2.0:attrname-format:basic", None)
               for n in ("email", "firstName", "lastName", "displayName", "groups")}, "saml"),
}


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_profiles_send_the_shapes_of_their_idp(minter, profile, tmp_path):
    users = tmp_path / "users.json"
    users.write_text(json.dumps([{"email": USER, "name": "Alice Liddell",
                                  "groups": ["staff", "admins"]}]))
    xml = minter.mint("--profile", profile, "--users", str(users))
    fmt, attrs, prefix = PROFILES[profile]
    text = xml.decode()
    assert (f"<{prefix}:Assertion " if prefix else '<Assertion xmlns="') in text
    root = ET.fromstring(xml)
    name_id = root.find("saml:Assertion/saml:Subject/saml:NameID", NS)
    assert name_id.get("Format") == fmt
    if profile == "shibboleth":
        assert RANDOM_ID.match(name_id.text)
    else:
        assert name_id.text == USER
    got = {a.get("Name"): a for a in root.iter("{%s}Attribute" % NS["saml"])}
    assert set(got) == set(attrs)
    for name, (name_format, friendly) in attrs.items():
        assert got[name].get("NameFormat") == name_format, name
        assert got[name].get("FriendlyName") == friendly, name
    values = {n: [v.text for v in a] for n, a in got.items()}
    group_attr = [n for n in attrs if re.search(r"groups|role|1\.5\.1\.1", n)][0]
    assert values[group_attr] == ["staff", "admins"]
    assert minter.verify(xml)


def test_the_readme_documents_every_flag_and_profile():
    from mockidp_harness import TOP
    with open(os.path.join(TOP, "README.md")) as f:
        readme = f.read()
    section = readme[readme.index("## Testing your SSO with mock-idp"):]
    section = section[:section.index("\n## ", 5)]
    usage = run_idp("mint", "--help").stdout
    for flag in sorted(set(re.findall(r"--[a-z][a-z-]+", usage))):
        assert re.search(re.escape(flag) + r"(?![a-z-])", section), flag
    for profile in PROFILES:
        assert f"| `{profile}`" in section, profile


def test_count_mints_that_many_responses_each_with_its_own_ids(minter):
    p = run_idp("mint", *minter.base, "--user", USER, "--count", "3")
    lines = p.stdout.split()
    assert len(lines) == 3
    docs = [base64.b64decode(line) for line in lines]
    ids = set()
    for xml in docs:
        assert minter.verify(xml, ASSERTION_SIG)
        root = ET.fromstring(xml)
        a = root.find("saml:Assertion", NS)
        ids |= {root.get("ID"), a.get("ID"),
                a.find("saml:AuthnStatement", NS).get("SessionIndex")}
    assert len(ids) == 9
    assert run_idp("mint", *minter.base, "--user", USER, "--count", "0",
                   check=False).returncode == 2
