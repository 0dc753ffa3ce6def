"""The SAML Core 2.0 / Web Browser SSO profile MUSTs an SP enforces, each refusal with its own
reason (README, "Requirements of the profile"), and the time-window checks at their boundaries:
the clock is frozen (an absolute faketime date) so that one second decides."""
import json
import re
import time

import pytest
import requests

from samlidp import MiniIdP

SKEW = 180  # [sp] clock_skew_seconds, the default
MAX_AGE = 300  # [sp] max_response_age_seconds, the default
X = (int(time.time()) // 60) * 60 + 7  # the IdP's instant: whole seconds, as the XML carries
ATTRS = {"email": "alice@example.com"}


@pytest.fixture
def idp(server, tmp_path):
    i = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", i.metadata_path, "--idp-initiated", "on")
    return i


def freeze(server, t):
    """Stops the server's clock at t (libfaketime's absolute form)."""
    with open(server.time_file, "w") as f:
        f.write(time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + "\n")


def mint(server, idp, **kw):
    kw.setdefault("now", X)
    return idp.response(server.url("/saml/metadata"), server.url("/saml/acs"),
                        "alice@example.com", ATTRS, **kw)[0]


def post(server, b64):
    return requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64},
                         allow_redirects=False, timeout=30)


def last(server):
    return json.loads(server.ctl("saml-log", "list", "--json", "--limit", "1").stdout)[0]


def verdict(server, idp, at, **kw):
    """(reason, detail) of a response minted with kw and posted at the frozen instant at."""
    b64 = mint(server, idp, **kw)
    freeze(server, at)
    r = post(server, b64)
    e = last(server)
    assert (r.status_code == 303) == (e["reason"] == "ok"), (r.status_code, e)
    return e["reason"], e["detail"]


def sub(pattern, repl):
    return lambda xml: re.sub(pattern, repl, xml, count=1)


# -- time windows at skew - 1 s and skew + 1 s (issue 19: a doubled skew must not survive) ------

def not_before_at(t):
    """Conditions NotBefore and both IssueInstants at t."""
    return sub(r'NotBefore="[^"]+"', f'NotBefore="{time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))}"')


def test_conditions_not_before_holds_to_the_second_of_the_skew(server, idp):
    edit = not_before_at(X)
    assert verdict(server, idp, X - SKEW + 1, edit=edit)[0] == "ok"
    reason, detail = verdict(server, idp, X - SKEW - 1, edit=edit)
    assert reason == "not_yet_valid" and detail.startswith("Conditions NotBefore is 181 s"), detail


def test_conditions_not_on_or_after_holds_to_the_second_of_the_skew(server, idp):
    # SubjectConfirmationData ends later, so that the Conditions decide.
    edit = sub(r'(<saml:SubjectConfirmationData NotOnOrAfter=")[^"]+"',
               r'\g<1>' + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(X + 900)) + '"')
    assert verdict(server, idp, X + 300 + SKEW - 1, lifetime=300, edit=edit)[0] == "ok"
    reason, detail = verdict(server, idp, X + 300 + SKEW + 1, lifetime=300, edit=edit)
    assert reason == "expired" and detail.startswith("Conditions NotOnOrAfter passed 181 s"), detail


def test_bearer_not_on_or_after_holds_to_the_second_of_the_skew(server, idp):
    edit = sub(r'(<saml:SubjectConfirmationData NotOnOrAfter=")[^"]+"',
               r'\g<1>' + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(X + 100)) + '"')
    assert verdict(server, idp, X + 100 + SKEW - 1, edit=edit)[0] == "ok"
    reason, detail = verdict(server, idp, X + 100 + SKEW + 1, edit=edit)
    assert reason == "expired"
    assert detail.startswith("SubjectConfirmationData NotOnOrAfter passed 181 s"), detail


def test_issue_instant_in_the_future_holds_to_the_second_of_the_skew(server, idp):
    edit = sub(r'NotBefore="[^"]+"', 'NotBefore="2000-01-01T00:00:00Z"')
    assert verdict(server, idp, X - SKEW + 1, edit=edit)[0] == "ok"
    reason, detail = verdict(server, idp, X - SKEW - 1, edit=edit)
    assert reason == "not_yet_valid"
    assert detail == "the Response's IssueInstant is 181 s in the future (allowed skew 180 s)"


def test_a_response_older_than_the_maximum_age_is_refused(server, idp):
    assert verdict(server, idp, X + MAX_AGE + SKEW, lifetime=3600)[0] == "ok"
    reason, detail = verdict(server, idp, X + MAX_AGE + SKEW + 1, lifetime=3600)
    assert reason == "expired" and "issued 481 s ago (max_response_age_seconds 300" in detail


def test_the_maximum_age_is_configurable(make_server, tmp_path):
    server = make_server({"sp": {"max_response_age_seconds": "3000"}})
    i = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", i.metadata_path, "--idp-initiated", "on")
    assert verdict(server, i, X + 3000 + SKEW, lifetime=7200)[0] == "ok"
    assert verdict(server, i, X + 3000 + SKEW + 1, lifetime=7200)[0] == "expired"


# -- audience (SAML core 2.5.1.4, profiles 4.1.4.2) -------------------------------------------

AR = '<saml:AudienceRestriction>{}</saml:AudienceRestriction>'
AUD = '<saml:Audience>{}</saml:Audience>'


def restrictions(server, *groups):
    """Replaces the AudienceRestriction with one per group of audiences."""
    ours = server.url("/saml/metadata")
    xml = "".join(AR.format("".join(AUD.format(ours if a == "US" else a) for a in g))
                  for g in groups)
    return sub(r'<saml:AudienceRestriction>.*?</saml:AudienceRestriction>', xml)


def test_an_assertion_without_conditions_is_refused(server, idp):
    reason, detail = verdict(server, idp, X, edit=sub(r'<saml:Conditions .*?</saml:Conditions>', ''))
    assert reason == "no_conditions", detail


def test_conditions_without_an_audience_restriction_are_refused(server, idp):
    reason, detail = verdict(server, idp, X, edit=restrictions(server))
    assert reason == "no_audience" and "no AudienceRestriction" in detail


def test_every_audience_restriction_must_name_us(server, idp):
    assert verdict(server, idp, X, edit=restrictions(server, ["US"], ["US"]))[0] == "ok"
    reason, detail = verdict(server, idp, X,
                             edit=restrictions(server, ["US"], ["https://other.example/sp"]))
    assert reason == "audience_mismatch" and "(AudienceRestriction 2)" in detail


def test_one_audience_of_a_restriction_naming_us_is_enough(server, idp):
    assert verdict(server, idp, X,
                   edit=restrictions(server, ["https://other.example/sp", "US"]))[0] == "ok"
    reason, detail = verdict(server, idp, X, edit=restrictions(
        server, ["https://other.example/sp", "https://third.example/sp"]))
    assert reason == "audience_mismatch" and "(and others)" in detail


# -- the other MUSTs -------------------------------------------------------------------------

def test_an_assertion_without_authn_statement_is_refused(server, idp):
    reason, _ = verdict(server, idp, X,
                        edit=sub(r'<saml:AuthnStatement .*?</saml:AuthnStatement>', ''))
    assert reason == "no_authn_statement"


def session_not_on_or_after(t):
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    return sub(r'<saml:AuthnStatement ', f'<saml:AuthnStatement SessionNotOnOrAfter="{iso}" ')


def test_a_session_not_on_or_after_already_passed_is_refused(server, idp):
    assert verdict(server, idp, X, edit=session_not_on_or_after(X + 3600))[0] == "ok"
    reason, detail = verdict(server, idp, X, edit=session_not_on_or_after(X - SKEW - 1))
    assert reason == "session_ended" and "SessionNotOnOrAfter passed 181 s" in detail


def test_the_session_ends_at_session_not_on_or_after(server, idp):
    b64 = mint(server, idp, edit=session_not_on_or_after(X + 600))
    freeze(server, X)
    s = requests.Session()
    assert s.post(server.url("/saml/acs"), data={"SAMLResponse": b64}, allow_redirects=False,
                  timeout=30).status_code == 303
    freeze(server, X + 599)
    assert s.get(server.url("/api/whoami"), timeout=30).status_code == 200
    freeze(server, X + 600)
    assert s.get(server.url("/api/whoami"), timeout=30).status_code == 401
    assert "reason=idp_session_not_on_or_after" in server.read_log()


@pytest.mark.parametrize("where", ["Response", "Assertion"])
def test_version_must_be_2_0(server, idp, where):
    pat = r'(<samlp:Response [^>]*?)Version="2.0"' if where == "Response" else \
          r'(<saml:Assertion [^>]*?)Version="2.0"'
    reason, detail = verdict(server, idp, X, edit=sub(pat, r'\g<1>Version="2.1"'))
    assert reason == "malformed" and detail == f'the {where}\'s Version is "2.1", not 2.0'


@pytest.mark.parametrize("name,edit,why", [
    ("assertion IssueInstant", sub(r'(<saml:Assertion [^>]*?) IssueInstant="[^"]*"', r"\g<1>"),
     "the Assertion's IssueInstant \"\" is missing or not a time"),
    ("response Status", sub(r"<samlp:Status>.*?</samlp:Status>", ""),
     "the Response has no Status/StatusCode"),
    ("AuthnInstant", sub(r' AuthnInstant="[^"]*"', ""), "the AuthnStatement has no AuthnInstant"),
])
def test_a_required_element_missing_is_malformed(server, idp, name, edit, why):
    reason, detail = verdict(server, idp, X, edit=edit)
    assert reason == "malformed" and why in detail, detail


def test_one_time_use_is_honoured_by_the_replay_cache(server, idp):
    b64 = mint(server, idp, extra_condition="<saml:OneTimeUse/>")
    freeze(server, X)
    assert post(server, b64).status_code == 303
    assert post(server, b64).status_code == 403 and last(server)["reason"] == "replay"


def test_an_unknown_condition_is_refused(server, idp):
    cond = ('<saml:Condition xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:x="urn:example" xsi:type="x:Mystery"/>')
    reason, _ = verdict(server, idp, X, extra_condition=cond)
    assert reason == "unknown_condition"


def test_a_signature_elsewhere_than_after_the_issuer_is_malformed(server, idp):
    def move(xml):
        sig = re.search(r'<ds:Signature .*?</ds:Signature>', xml).group(0)
        return xml.replace(sig, "").replace("</saml:Subject>", "</saml:Subject>" + sig)
    reason, detail = verdict(server, idp, X, edit=move)
    assert reason == "malformed" and "Assertion's ds:Signature is its child element 3" in detail


def test_an_assertion_from_another_issuer_than_the_response_is_refused(server, idp):
    edit = sub(r'(<saml:Assertion [^>]*><saml:Issuer>)[^<]+', r'\g<1>https://other.example/idp')
    reason, detail = verdict(server, idp, X, edit=edit)
    assert reason == "issuer_mismatch", detail


def test_a_response_from_an_unregistered_issuer_is_refused(server, idp):
    reason, _ = verdict(server, idp, X, issuer="https://other.example/idp")
    assert reason == "unknown_issuer"


# -- wrapping: the assertion lasso verified is the one read -------------------------------------

def test_a_signed_assertion_hidden_beside_a_forged_one_is_refused(server, idp):
    """A signed response taken apart by hand: the IdP's signed assertion hidden in the forged
    one's Advice, and a forged assertion (other NameID) in plain sight."""
    b64 = mint(server, idp)
    import base64
    xml = base64.b64decode(b64).decode()
    signed = re.search(r'<saml:Assertion .*</saml:Assertion>', xml, re.S).group(0)
    forged = (signed.replace("alice@example.com", "mallory@example.com")
              .replace('ID="_a', 'ID="_forged'))
    forged = re.sub(r'<ds:Signature .*?</ds:Signature>', '', forged, flags=re.S)
    forged = forged.replace("</saml:Assertion>",
                            f"<saml:Advice>{signed}</saml:Advice></saml:Assertion>", 1)
    forged = forged[:forged.rindex("</saml:Assertion>")]
    freeze(server, X)
    r = post(server, base64.b64encode(xml.replace(signed, forged + "</saml:Assertion>")
                                      .encode()).decode())
    e = last(server)
    assert r.status_code == 403 and e["reason"] == "signature_wrapping", e


# -- which keys verify (issue 13 item 2) ----------------------------------------------------------

def metadata_with_roles(idp, other_cert_b64, role):
    """idp's metadata with a second certificate in another role of the same EntityDescriptor."""
    md = idp.metadata()
    key = ('<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
           f'{other_cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>')
    proto = 'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"'
    extra = {
        "AttributeAuthorityDescriptor":
            f'<md:AttributeAuthorityDescriptor {proto}>{key}<md:AttributeService '
            'Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" '
            'Location="https://idp.test.example/aa"/></md:AttributeAuthorityDescriptor>',
        "SPSSODescriptor":
            f'<md:SPSSODescriptor {proto}>{key}<md:AssertionConsumerService index="0" '
            'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
            'Location="https://idp.test.example/acs"/></md:SPSSODescriptor>',
    }[role]
    return md.replace("</md:EntityDescriptor>", extra + "</md:EntityDescriptor>")


@pytest.mark.parametrize("role", ["AttributeAuthorityDescriptor", "SPSSODescriptor"])
def test_only_idpsso_descriptor_keys_verify_sso_responses(server, tmp_path, role):
    idp = MiniIdP(tmp_path)
    other = MiniIdP(tmp_path, idp.entity_id, name="aa")
    md = tmp_path / "md.xml"
    md.write_text(metadata_with_roles(idp, other.cert_b64, role))
    server.ctl("idp", "add", "--metadata", str(md), "--idp-initiated", "on")
    # Signed by the other role's key, under the IdP's name: refused.
    b64 = other.response(server.url("/saml/metadata"), server.url("/saml/acs"),
                         "alice@example.com", ATTRS, now=X)[0]
    freeze(server, X)
    assert post(server, b64).status_code == 403 and last(server)["reason"] == "bad_signature"
    assert verdict(server, idp, X)[0] == "ok"


def test_metadata_with_more_signing_keys_than_stored_is_refused(server, tmp_path):
    idp = MiniIdP(tmp_path)
    md = idp.metadata()
    key = ('<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
           f'{idp.cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>')
    path = tmp_path / "five.xml"
    path.write_text(md.replace('<md:KeyDescriptor use="signing">', key * 4 +
                               '<md:KeyDescriptor use="signing">', 1))
    p = server.ctl("idp", "add", "--metadata", str(path), check=False)
    assert p.returncode == 1
    assert "lists 5 signing certificates" in p.stderr and "at most 4" in p.stderr, p.stderr
    assert json.loads(server.ctl("idp", "list", "--json").stdout) == []


# -- Destination per binding (bindings 3.5.5.2) ---------------------------------------------------

def response_signed_at_response_level(server, idp, tmp_path, destination):
    """A Response signed as a whole (the assertion unsigned), with or without Destination."""
    import base64
    import subprocess
    from samlidp import _sig_template
    b64 = mint(server, idp, sign=False)
    xml = base64.b64decode(b64).decode()
    if not destination:
        xml = re.sub(r' Destination="[^"]*"', "", xml, count=1)
    rid = re.search(r'<samlp:Response [^>]*?ID="([^"]+)"', xml).group(1)
    at = xml.index("</saml:Issuer>") + len("</saml:Issuer>")
    src = tmp_path / "response.xml"
    src.write_text(xml[:at] + _sig_template(rid) + xml[at:])
    out = subprocess.run(["xmlsec1", "--sign", "--privkey-pem", f"{idp.key},{idp.cert}",
                          "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
                          str(src)], check=True, capture_output=True).stdout
    return base64.b64encode(out).decode()


def test_a_signed_response_must_carry_its_destination(server, idp, tmp_path):
    freeze(server, X)
    assert post(server, response_signed_at_response_level(server, idp, tmp_path, True)
                ).status_code == 303
    r = post(server, response_signed_at_response_level(server, idp, tmp_path, False))
    e = last(server)
    assert r.status_code == 403 and e["reason"] == "destination_mismatch", e
    assert "signed but has no Destination" in e["detail"]


# -- NameID formats and qualifiers (SAML core 2.2.2, 8.3) ---------------------------------------

EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
ENTITY = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"


def named(server, idp, value, fmt, qualifiers=""):
    """(reason, detail) of a response naming its subject value in format fmt, the NameID with
    the qualifier attributes given."""
    b64 = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"), value, ATTRS,
                       now=X, name_id_format=fmt,
                       edit=sub(r'<saml:NameID ', f'<saml:NameID {qualifiers} '))[0]
    freeze(server, X)
    r = post(server, b64)
    e = last(server)
    assert (r.status_code == 303) == (e["reason"] == "ok"), (r.status_code, e)
    return e["reason"], e["detail"]


@pytest.mark.parametrize("value", [
    "alice@example.com", " bob@example.com\n", '"carol smith"@example.com', "dave@[192.0.2.1]",
    "erin.o'neil+sso@mail.example.com", "fran\u00e7ois@example.com"])
def test_an_email_nameid_that_is_an_addr_spec_is_accepted(server, idp, value):
    assert named(server, idp, value, EMAIL) == ("ok", "")


@pytest.mark.parametrize("value", [
    "Alice Liddell <alice@example.com>", "alice", "alice@", "@example.com",
    "alice@@example.com", "alice@example..com", ".alice@example.com", "alice (work)@example.com",
    "alice@example.com, bob@example.com"])
def test_an_email_nameid_that_is_no_addr_spec_is_refused(server, idp, value):
    reason, detail = named(server, idp, value, EMAIL)
    assert reason == "nameid_format" and "is not an addr-spec" in detail, detail


@pytest.mark.parametrize("fmt,section", [(PERSISTENT, "8.3.7"), (TRANSIENT, "8.3.8")])
def test_persistent_and_transient_nameids_hold_at_most_256_characters(server, idp, fmt, section):
    # Characters, not bytes: 256 characters of which 200 take two bytes are accepted.
    assert named(server, idp, "\u00e9" * 200 + "a" * 56, fmt)[0] == "ok"
    reason, detail = named(server, idp, "\u00e9" * 200 + "a" * 57, fmt)
    assert reason == "nameid_format", detail
    assert "257 characters long; at most 256 (SAML core " + section in detail, detail


def test_an_entity_format_nameid_names_no_person(server, idp):
    reason, detail = named(server, idp, "https://sp.example/metadata", ENTITY)
    assert reason == "nameid_format" and "8.3.6" in detail, detail


def test_the_qualifiers_name_the_asserting_idp_and_us(server, idp):
    ours, theirs = server.url("/saml/metadata"), idp.entity_id
    good = f'NameQualifier="{theirs}" SPNameQualifier="{ours}"'
    assert named(server, idp, "p-1", PERSISTENT, good)[0] == "ok"
    assert named(server, idp, "t-1", TRANSIENT, good)[0] == "ok"
    reason, detail = named(server, idp, "p-1", PERSISTENT,
                           f'NameQualifier="https://other-idp.example" SPNameQualifier="{ours}"')
    assert reason == "nameid_qualifier" and "NameQualifier is \"https://other-idp" in detail
    reason, detail = named(server, idp, "t-2", TRANSIENT,
                           f'NameQualifier="https://other-idp.example"')
    assert reason == "nameid_qualifier", detail
    reason, detail = named(server, idp, "p-1", PERSISTENT,
                           f'NameQualifier="{theirs}" SPNameQualifier="https://other-sp.example"')
    assert reason == "nameid_qualifier" and "SPNameQualifier is \"https://other-sp" in detail
    # SPNameQualifier names the SP a name is for, whatever the format.
    reason, _ = named(server, idp, "alice@example.com", EMAIL,
                      'SPNameQualifier="https://other-sp.example"')
    assert reason == "nameid_qualifier"
    # For other formats NameQualifier is a security or administrative domain (core 2.2.2).
    assert named(server, idp, "alice@example.com", EMAIL, 'NameQualifier="CORP"')[0] == "ok"


# -- bearer subject confirmation (profiles 4.1.4.2-4.1.4.3) -------------------------------------

HOK = "urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"


def confirmations(server, *scs):
    """Replaces the SubjectConfirmation with one per (method, attributes) pair; attributes
    None leaves out SubjectConfirmationData; "ACS" and "SOON" stand for our ACS URL and X + 60."""
    def scd(attrs):
        if attrs is None:
            return ""
        attrs = (attrs.replace("ACS", server.url("/saml/acs"))
                 .replace("SOON", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(X + 60))))
        return f"<saml:SubjectConfirmationData {attrs}/>"
    xml = "".join(f'<saml:SubjectConfirmation Method="{m}">{scd(a)}</saml:SubjectConfirmation>'
                  for m, a in scs)
    return sub(r'<saml:SubjectConfirmation .*?</saml:SubjectConfirmation>', xml)


def test_several_confirmations_are_refused_as_lasso_cannot_read_them(server, idp):
    # Profiles 4.1.4.2 allows several; lasso 2.8 drops such a Subject (README, Known issues).
    edit = confirmations(server, (HOK, 'Recipient="ACS" NotOnOrAfter="SOON"'),
                         (BEARER, 'Recipient="ACS" NotOnOrAfter="SOON"'))
    reason, detail = verdict(server, idp, X, edit=edit)
    assert reason == "malformed" and "more than one SubjectConfirmation" in detail, detail


@pytest.mark.parametrize("scs,reason,why", [
    ([(HOK, 'Recipient="ACS" NotOnOrAfter="SOON"')], "no_bearer", "no bearer SubjectConfirmation"),
    ([(BEARER, None)], "no_bearer", "no bearer SubjectConfirmation"),
    ([(BEARER, 'Recipient="ACS"')], "no_bearer", "has no NotOnOrAfter"),
    ([(BEARER, 'Recipient="ACS" NotBefore="SOON" NotOnOrAfter="SOON"')], "bearer_not_before",
     "forbids it"),
    ([(BEARER, 'Recipient="https://a.example/acs" NotOnOrAfter="SOON"')], "recipient_mismatch",
     'Recipient is "https://a.example/acs"'),
    ([(BEARER, 'Recipient="ACS" NotOnOrAfter="SOON" InResponseTo="_elsewhere"')],
     "in_response_to", "differ"),
])
def test_a_bearer_confirmation_must_hold(
        server, idp, scs, reason, why):
    got, detail = verdict(server, idp, X, edit=confirmations(server, *scs))
    assert got == reason and why in detail, detail


def test_the_confirmations_in_response_to_is_the_responses(server, idp):
    edit = sub(r'(<saml:SubjectConfirmationData [^>]*InResponseTo=")[^"]+"', r'\g<1>_other"')
    reason, detail = verdict(server, idp, X, in_response_to="_req1", edit=edit)
    assert reason == "in_response_to" and "(_req1)" in detail and "(_other)" in detail, detail


# -- Issuer Format and Status (profiles 4.1.4.2, core 3.2.2.2) ----------------------------------

@pytest.mark.parametrize("where", ["Response", "Assertion"])
def test_an_issuer_format_other_than_entity_is_refused(server, idp, where):
    pat = (r'(<samlp:Response [^>]*><saml:Issuer)' if where == "Response"
           else r'(<saml:Assertion [^>]*><saml:Issuer)')
    assert verdict(server, idp, X, edit=sub(pat, rf'\g<1> Format="{ENTITY}"'))[0] == "ok"
    reason, detail = verdict(server, idp, X, edit=sub(pat, rf'\g<1> Format="{EMAIL}"'))
    assert reason == "malformed" and "Format is not entity" in detail, detail


def test_a_status_other_than_success_names_its_second_level_code(server, idp):
    edit = sub(r'<samlp:StatusCode Value="([^"]+)"/>',
               r'<samlp:StatusCode Value="\g<1>"><samlp:StatusCode '
               r'Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></samlp:StatusCode>')
    reason, detail = verdict(server, idp, X, status="Responder", edit=edit)
    assert reason == "idp_status", detail
    assert detail == ("Status urn:oasis:names:tc:SAML:2.0:status:Responder / "
                      "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"), detail
