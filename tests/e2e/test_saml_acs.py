"""POST /saml/acs end to end: SP-initiated and IdP-initiated sign-in, just-in-time provisioning,
attribute sync, domain routing, and each refusal with its own reason code in the SAML log."""
import json
import re

import pytest
import requests

from conftest import Browser, audit_entries
from samlidp import MiniIdP, request_id_from_redirect

UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"


@pytest.fixture
def idp(server, tmp_path):
    i = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", i.metadata_path, "--domain", "example.com",
               "--name", "Test IdP")
    return i


def sp(server):
    return server.url("/saml/metadata"), server.url("/saml/acs")


def start(server, idp, b=None, return_to="/"):
    b = b or Browser(server)
    r = b.get(f"/saml/login?idp={idp.entity_id}&return_to={return_to}")
    assert r.status_code == 303, r.text
    assert r.headers["Location"].startswith("https://idp.test.example/sso?")
    rid, q = request_id_from_redirect(r.headers["Location"])
    return b, rid, q


def post_acs(server, b64, relay=None, session=None):
    s = session or requests.Session()  # the IdP's page posts cross-site: no cookie of ours
    data = {"SAMLResponse": b64}
    if relay is not None:
        data["RelayState"] = relay
    return s.post(server.url("/saml/acs"), data=data, allow_redirects=False, timeout=30)


def log(server, *args):
    return json.loads(server.ctl("saml-log", "list", "--json", *args).stdout)


ATTRS = {"email": "alice@example.com", "firstName": "Alice", "lastName": "Liddell",
         "groups": ["staff"]}


def test_sp_initiated_sign_in_provisions_the_user(server, idp):
    b, rid, q = start(server, idp, return_to="/")
    assert q["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
    assert "Signature" in q and re.fullmatch(r"[0-9a-f]{32}", q["RelayState"][0])
    b64, _ = idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)
    r = post_acs(server, b64, q["RelayState"][0], session=b.s)
    assert r.status_code == 303 and r.headers["Location"] == "/"
    who = b.whoami().json()
    assert who["auth_method"] == "saml" and who["email"] == "alice@example.com"
    assert who["idp"] == idp.entity_id and who["name_id"] == "alice@example.com"
    assert who["role"] == "member"
    user = json.loads(server.ctl("user", "show", "alice@example.com", "--json").stdout)
    assert user["name"] == "Alice Liddell" and user["auth_method"] == "saml"
    entry = log(server)[0]
    assert entry["verdict"] == "accepted" and entry["in_response_to"] == rid


def test_the_return_target_is_kept_server_side(server, idp):
    b, rid, q = start(server, idp, return_to="/password/change")
    b64, _ = idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)
    # Even a forged RelayState cannot redirect elsewhere: the target comes from the request.
    r = post_acs(server, b64, "https://evil.example/")
    assert r.status_code == 303 and r.headers["Location"] == "/password/change"


def test_attributes_are_synced_at_the_next_sign_in(server, idp):
    b, rid, _ = start(server, idp)
    post_acs(server, idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)[0])
    b, rid, _ = start(server, idp)
    attrs = dict(ATTRS, firstName="Alicia")
    assert post_acs(server, idp.response(*sp(server), "alice@example.com", attrs,
                                         in_response_to=rid)[0]).status_code == 303
    user = json.loads(server.ctl("user", "show", "alice@example.com", "--json").stdout)
    assert user["name"] == "Alicia Liddell"


def test_in_response_to_is_consumed_once(server, idp):
    b, rid, _ = start(server, idp)
    assert post_acs(server, idp.response(*sp(server), "alice@example.com", ATTRS,
                                         in_response_to=rid)[0]).status_code == 303
    r = post_acs(server, idp.response(*sp(server), "alice@example.com", ATTRS,
                                      in_response_to=rid)[0])
    assert r.status_code == 403 and "SAML-" in r.text
    assert log(server, "--failed")[0]["reason"] == "in_response_to"
    r = post_acs(server, idp.response(*sp(server), "alice@example.com", ATTRS,
                                      in_response_to="_never_sent")[0])
    assert r.status_code == 403


def test_idp_initiated_is_refused_when_off_and_accepted_when_on(server, idp, tmp_path):
    r = post_acs(server, idp.response(*sp(server), "alice@example.com", ATTRS)[0])
    assert r.status_code == 403 and "Start from this service" in r.text
    assert log(server, "--failed")[0]["reason"] == "unsolicited"
    other = MiniIdP(tmp_path, "https://idp2.test.example/saml", name="second")
    server.ctl("idp", "add", "--metadata", other.metadata_path, "--idp-initiated", "on")
    s = requests.Session()
    # (carol's own e-mail: example.com is routed to the first IdP, which alone signs it in)
    carol = dict(ATTRS, email="carol@corp.example")
    r = post_acs(server, other.response(*sp(server), "carol@corp.example", carol)[0], "/password/change", s)
    assert r.status_code == 303 and r.headers["Location"] == "/password/change"
    r = post_acs(server, other.response(*sp(server), "dan@corp.example", {})[0], "//evil.example/")
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_replayed_assertion_is_refused(server, idp, tmp_path):
    other = MiniIdP(tmp_path, "https://idp2.test.example/saml", name="second")
    server.ctl("idp", "add", "--metadata", other.metadata_path, "--idp-initiated", "on")
    b64, aid = other.response(*sp(server), "erin@corp.example", {})
    assert post_acs(server, b64).status_code == 303
    r = post_acs(server, b64)
    assert r.status_code == 403 and "used already" in r.text
    entry = log(server, "--failed")[0]
    assert entry["reason"] == "replay" and entry["assertion_id"] == aid


def test_an_idp_may_only_sign_in_its_domains(server, idp):
    b, rid, _ = start(server, idp)
    r = post_acs(server, idp.response(*sp(server), "mallory@elsewhere.example",
                                      {"email": "mallory@elsewhere.example"}, in_response_to=rid)[0])
    assert r.status_code == 403
    assert log(server, "--failed")[0]["reason"] == "domain_not_allowed"


def test_domain_routing_from_the_sign_in_page(server, idp, tmp_path):
    other = MiniIdP(tmp_path, "https://idp2.test.example/saml", name="second")
    server.ctl("idp", "add", "--metadata", other.metadata_path, "--domain", "corp.example")
    b = Browser(server)
    r = b.get("/saml/login?email=bob@Example.com")
    assert r.status_code == 303
    assert request_id_from_redirect(r.headers["Location"])[0]
    page = b.get("/login").text
    assert 'action="/saml/login"' in page
    r = b.get("/saml/login?email=someone@unknown.example")
    assert r.status_code == 404 and "No single sign-on is set up" in r.text


def test_a_password_account_is_not_merged_with_an_sso_identity(server, idp):
    server.add_user("alice@example.com")
    b, rid, _ = start(server, idp)
    r = post_acs(server, idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)[0])
    assert r.status_code == 403
    entry = log(server, "--failed")[0]
    assert entry["reason"] == "account_conflict" and "not merged" in entry["detail"]


def test_a_saml_user_has_no_password_sign_in(server, idp):
    b, rid, _ = start(server, idp)
    post_acs(server, idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)[0])
    r = Browser(server).login("alice@example.com", "anything-at-all-1A")
    assert r.status_code == 401
    p = server.ctl("user", "reset-password", "alice@example.com", check=False)
    assert p.returncode == 1 and "SSO" in p.stderr


FAULTS = [
    ("expired", dict(now_shift=-3600), "expired", "expired"),
    ("not yet valid", dict(now_shift=3600), "not_yet_valid", "not valid yet"),
    ("audience", dict(audience="https://other-sp.example/"), "audience_mismatch", "another service"),
    ("recipient", dict(recipient="https://other-sp.example/acs"), "recipient_mismatch", "another address"),
    ("destination", dict(destination="https://other-sp.example/acs"), "destination_mismatch", "another address"),
    ("unsigned", dict(sign=False), "unsigned", "not signed"),
    ("sha1", dict(sha1=True), "sha1_refused", "SHA-1"),
    ("status", dict(status="Responder"), "idp_status", "reported an error"),
    ("issuer", dict(issuer="https://unknown-idp.example/"), "unknown_issuer", "does not know"),
    ("condition", dict(extra_condition='<saml:Condition xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="saml:Whatever"/>'),
     "unknown_condition", "does not understand"),
]


@pytest.mark.parametrize("name,kw,reason,text", FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_is_refused_with_its_reason(server, idp, name, kw, reason, text):
    import time
    b, rid, _ = start(server, idp)
    kw = dict(kw)
    shift = kw.pop("now_shift", 0)
    b64, _ = idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid,
                          now=time.time() + shift, **kw)
    r = post_acs(server, b64)
    assert 400 <= r.status_code < 500, r.status_code
    assert text in r.text and "<saml" not in r.text
    assert "gatehouse_session" not in r.headers.get("Set-Cookie", "")
    entry = log(server, "--failed")[0]
    assert entry["reason"] == reason, entry
    m = re.search(r"SAML-(\d+)", r.text)
    assert m and int(m.group(1)) == entry["id"]
    shown = json.loads(server.ctl("saml-log", "show", f"SAML-{entry['id']}", "--json").stdout)
    assert shown["xml"] and shown["xml"].startswith("<")


def test_wrong_key_and_tampering_break_the_signature(server, idp, tmp_path):
    import base64
    impostor = MiniIdP(tmp_path, idp.entity_id, name="impostor")
    b, rid, _ = start(server, idp)
    b64, _ = impostor.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)
    assert post_acs(server, b64).status_code == 403
    assert log(server, "--failed")[0]["reason"] == "bad_signature"
    b, rid, _ = start(server, idp)
    b64, _ = idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)
    xml = base64.b64decode(b64).decode().replace(">alice@example.com<", ">admin@example.com<")
    assert post_acs(server, base64.b64encode(xml.encode()).decode()).status_code == 403
    assert log(server, "--failed")[0]["reason"] == "bad_signature"


def _wrapped(server, idp, arrange):
    """A genuine signed response for alice, rearranged by arrange(xml, signed, forged): forged is
    an unsigned copy of the signed assertion that names the admin instead."""
    import base64
    b, rid, _ = start(server, idp)
    b64, aid = idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)
    xml = base64.b64decode(b64).decode()
    signed = re.search(r"<saml:Assertion .*?</saml:Assertion>", xml, re.S).group(0)
    forged = re.sub(r"<ds:Signature.*?</ds:Signature>", "", signed, flags=re.S)
    forged = forged.replace("alice@example.com", "admin@example.com").replace(aid, aid + "x")
    return base64.b64encode(arrange(xml, signed, forged).encode()).decode()


XSW = [
    # a second assertion beside the signed one
    ("two_assertions", lambda x, s, f: x.replace(s, s + f), "assertion_count"),
    ("forged_first", lambda x, s, f: x.replace(s, f + s), "assertion_count"),
    # the signed assertion hidden in Extensions, the forged one in its place
    ("in_extensions", lambda x, s, f: x.replace(s, f).replace(
        "<samlp:Status>", f"<samlp:Extensions>{s}</samlp:Extensions><samlp:Status>"),
     "signature_wrapping"),
    # the signed assertion hidden in the forged one's Advice
    ("in_advice", lambda x, s, f: x.replace(s, f.replace(
        "<saml:Subject>", f"<saml:Advice>{s}</saml:Advice><saml:Subject>", 1)),
     "signature_wrapping"),
]


@pytest.mark.parametrize("name,arrange,reason", XSW, ids=[x[0] for x in XSW])
def test_signature_wrapping_is_refused(server, idp, name, arrange, reason):
    r = post_acs(server, _wrapped(server, idp, arrange))
    assert r.status_code == 403, r.text
    assert "not in the expected shape" in r.text
    assert "gatehouse_session" not in r.headers.get("Set-Cookie", "")
    assert log(server, "--failed")[0]["reason"] == reason
    assert server.ctl("user", "show", "admin@example.com", check=False).returncode != 0
    # the same response left as the IdP signed it is accepted
    assert post_acs(server, _wrapped(server, idp, lambda x, s, f: x)).status_code == 303


def test_bad_posts_get_clear_errors(server, idp):
    r = requests.post(server.url("/saml/acs"), data={"RelayState": "x"}, allow_redirects=False)
    assert r.status_code == 400
    r = post_acs(server, "%%%not-base64%%%")
    assert r.status_code == 400
    import base64
    dtd = base64.b64encode(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>').decode()
    r = post_acs(server, dtd)
    assert r.status_code == 400
    assert log(server, "--failed")[0]["reason"] == "doctype"
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": "A" * (2 * 1024 * 1024)})
    assert r.status_code == 413
    assert requests.get(server.url("/healthz")).status_code == 200


def _role_after_sign_in(server, idp, name_id, attrs):
    b, rid, _ = start(server, idp)
    r = post_acs(server, idp.response(*sp(server), name_id, attrs, in_response_to=rid)[0],
                 session=b.s)
    assert r.status_code == 303, r.text
    return b.whoami().json()["role"]


def test_group_to_role_mapping_and_attribute_names(server, idp):
    server.ctl("idp", "set", idp.entity_id, "--group-role", "cn=ops,ou=groups,dc=example=admin",
               "--group-role", "staff=member", "--default-role", "member")
    listing = json.loads(server.ctl("idp", "list", "--json").stdout)[0]
    assert listing["group_roles"] == "cn=ops,ou=groups,dc=example=admin;staff=member"
    # Staff only: member; with the ops group (an LDAP DN with '=' inside): admin.
    assert _role_after_sign_in(server, idp, "bob@example.com",
                               {"email": "bob@example.com", "groups": ["staff"]}) == "member"
    assert _role_after_sign_in(server, idp, "bob@example.com", {
        "email": "bob@example.com",
        "groups": ["staff", "cn=ops,ou=groups,dc=example"]}) == "admin"
    # The role follows the groups at each sign-in, and the change is audited.
    assert _role_after_sign_in(server, idp, "bob@example.com",
                               {"email": "bob@example.com", "groups": ["staff"]}) == "member"
    audit = json.loads(server.ctl("audit", "list", "--json").stdout)
    syncs = [(a["old"], a["new"]) for a in audit if a["action"] == "user.role_sync"]
    assert ("member", "admin") in syncs and ("admin", "member") in syncs
    # ADFS/Entra-shaped group claims are recognised without configuration.
    assert _role_after_sign_in(server, idp, "carol@example.com", {
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": "carol@example.com",
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups":
            ["cn=ops,ou=groups,dc=example"]}) == "admin"
    # A custom attribute name for e-mail and groups.
    server.ctl("idp", "set", idp.entity_id, "--attr-email", "corpMail", "--attr-groups", "teams",
               "--attr-first-name", "given")
    b, rid, _ = start(server, idp)
    r = post_acs(server, idp.response(*sp(server), "u-123", name_id_format=UNSPECIFIED, attrs={
        "corpMail": "dave@example.com", "given": "Dave", "email": "wrong@example.com",
        "teams": ["staff", "cn=ops,ou=groups,dc=example"]}, in_response_to=rid)[0], session=b.s)
    assert r.status_code == 303, r.text
    me = b.whoami().json()
    assert me["email"] == "dave@example.com" and me["role"] == "admin"
    # An IdP can never grant owner, and bad pairs are refused with the reason.
    bad = server.ctl("idp", "set", idp.entity_id, "--group-role", "root=owner", check=False)
    assert bad.returncode == 1 and "owner is never granted" in bad.stderr
    assert server.ctl("idp", "set", "https://nope.example/", "--name", "x",
                      check=False).returncode == 1
    assert any(a["action"] == "idp.set" for a in audit)


def test_key_rollover_accepts_each_listed_key_and_nothing_else(server, tmp_path):
    # Metadata listing two signing certificates (the IdP is rolling its key): a response signed
    # with either key is accepted; a key the metadata does not list is refused, even when the
    # response carries that key's certificate in its KeyInfo.
    old = MiniIdP(tmp_path, name="old")
    new = MiniIdP(tmp_path, old.entity_id, name="new")
    md = old.metadata().replace(
        "</md:KeyDescriptor>",
        '</md:KeyDescriptor><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>'
        f"<ds:X509Certificate>{new.cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        "</md:KeyDescriptor>", 1)
    path = tmp_path / "rollover.xml"
    path.write_text(md)
    server.ctl("idp", "add", "--metadata", str(path), "--domain", "example.com")
    for signer in (new, old, new):
        _, rid, _ = start(server, old)
        b64, _ = signer.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)
        r = post_acs(server, b64)
        assert r.status_code == 303, (signer.key, r.text)
    stranger = MiniIdP(tmp_path, old.entity_id, name="stranger")
    _, rid, _ = start(server, old)
    b64, _ = stranger.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)
    assert post_acs(server, b64).status_code == 403
    assert log(server, "--failed")[0]["reason"] == "bad_signature"
    assert [e["verdict"] for e in log(server)].count("accepted") == 3


def test_metadata_reload_rolls_the_signing_key_and_keeps_the_settings(server, tmp_path):
    # The IdP publishes its next key beside the current one, then drops the old one; each step
    # is `idp set ENTITY --metadata FILE`, with the domains and switches kept.
    old = MiniIdP(tmp_path, name="old")
    new = MiniIdP(tmp_path, old.entity_id, name="new")
    server.ctl("idp", "add", "--metadata", old.metadata_path, "--domain", "example.com",
               "--idp-initiated", "on")

    def sign_in(signer):
        b64, _ = signer.response(*sp(server), "alice@example.com", ATTRS)
        return post_acs(server, b64).status_code

    assert sign_in(new) == 403
    assert log(server, "--failed")[0]["reason"] == "bad_signature"
    both = tmp_path / "both.xml"
    both.write_text(old.metadata().replace(
        "</md:KeyDescriptor>",
        '</md:KeyDescriptor><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>'
        f"<ds:X509Certificate>{new.cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        "</md:KeyDescriptor>", 1))
    assert "updated" in server.ctl("idp", "set", old.entity_id, "--metadata", str(both)).stdout
    assert sign_in(new) == 303 and sign_in(old) == 303
    server.ctl("idp", "set", old.entity_id, "--metadata", new.metadata_path)
    assert sign_in(old) == 403 and sign_in(new) == 303
    idp = [i for i in json.loads(server.ctl("idp", "list", "--json").stdout)
           if i["entity_id"] == old.entity_id][0]
    assert idp["domains"] == "example.com" and idp["idp_initiated"]
    assert idp["certs"].count("SHA256") == 1
    entry = [a for a in audit_entries(server) if a["action"] == "idp.set"][0]
    assert "certs=" in entry["old"] and "certs=" in entry["new"] and entry["old"] != entry["new"]
    # Metadata of another entity, or broken, is refused and changes nothing.
    other = MiniIdP(tmp_path, "https://other.example/saml", name="other")
    r = server.ctl("idp", "set", old.entity_id, "--metadata", other.metadata_path, check=False)
    assert r.returncode != 0 and "no identity provider" in r.stderr
    bad = tmp_path / "bad.xml"
    bad.write_text("<md:EntityDescriptor")
    r = server.ctl("idp", "set", old.entity_id, "--metadata", str(bad), check=False)
    assert r.returncode != 0 and "well-formed" in r.stderr
    assert sign_in(new) == 303


def test_lasso_debug_messages_only_when_asked(make_server, tmp_path):
    """lasso's debug messages are dropped unless G_MESSAGES_DEBUG asks for them (at start)."""
    for debug in (False, True):
        srv = make_server(start=False)
        if debug:
            base_env = srv.env
            srv.env = lambda: dict(base_env(), G_MESSAGES_DEBUG="Lasso")
        srv.start()
        (tmp_path / f"idp{int(debug)}").mkdir()
        idp = MiniIdP(tmp_path / f"idp{int(debug)}")
        srv.ctl("idp", "add", "--metadata", idp.metadata_path, "--idp-initiated", "on")
        b64, _ = idp.response(*sp(srv), "alice@example.com", ATTRS)
        assert post_acs(srv, b64).status_code == 303
        srv.stop()
        assert ("Lasso-DEBUG" in srv.read_log()) == debug, srv.read_log()[-2000:]


def test_line_wrapped_base64_is_accepted(server, idp):
    """Some IdPs wrap the base64 of SAMLResponse at 64 or 76 columns."""
    b, rid, _ = start(server, idp)
    b64, _ = idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)
    wrapped = "\r\n".join(b64[i:i + 76] for i in range(0, len(b64), 76)) + "\n"
    assert post_acs(server, wrapped).status_code == 303
    assert log(server)[0]["reason"] == "ok"
    b, rid, _ = start(server, idp)
    b64, _ = idp.response(*sp(server), "alice@example.com", ATTRS, in_response_to=rid)
    r = post_acs(server, b64[:100] + " \t*" + b64[100:])
    assert r.status_code == 400 and log(server, "--failed")[0]["reason"] == "malformed"


def test_concurrent_sign_ins_and_a_replay_race(server, tmp_path):
    """Sign-ins from many clients at once all land (user, session, replay record, log row), a
    CLI change in the middle of them too, and one assertion posted by four clients at the same
    moment signs in exactly one of them."""
    import threading
    idp = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--idp-initiated", "on")
    n_clients, per_client = 6, 15
    responses = [[idp.response(*sp(server), f"user{c}-{i}@example.com",
                               dict(ATTRS, email=f"user{c}-{i}@example.com"))[0]
                  for i in range(per_client)] for c in range(n_clients)]
    statuses, barrier = [], threading.Barrier(n_clients + 1)

    def client(c):
        barrier.wait()
        for b64 in responses[c]:
            statuses.append(post_acs(server, b64).status_code)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(n_clients)]
    for t in threads:
        t.start()
    barrier.wait()
    server.ctl("idp", "set", idp.entity_id, "--name", "Renamed during the load")
    for t in threads:
        t.join()
    assert statuses == [303] * (n_clients * per_client)
    from conftest import db_rows
    assert db_rows(server, "SELECT count(*) FROM saml_log WHERE reason = 'ok'")[0][0] == \
        n_clients * per_client
    assert db_rows(server, "SELECT count(*) FROM sessions")[0][0] == n_clients * per_client
    assert db_rows(server, "SELECT count(*) FROM users WHERE auth_method = 'saml'")[0][0] == \
        n_clients * per_client

    b64, aid = idp.response(*sp(server), "race@example.com", dict(ATTRS, email="race@example.com"))
    race, gate = [], threading.Barrier(4)

    def racer():
        gate.wait()
        race.append(post_acs(server, b64).status_code)

    threads = [threading.Thread(target=racer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(race) == [303, 403, 403, 403]
    reasons = db_rows(server, "SELECT reason FROM saml_log WHERE assertion_id = ?", (aid,))
    assert sorted(r[0] for r in reasons) == ["ok", "replay", "replay", "replay"]
