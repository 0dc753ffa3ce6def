"""Real responses from real IdPs (tests/fixtures/idp-samples) pass every
stateless ACS check at their own instant (the clock moved with faketime), and each check refuses
them when its condition is broken. Driven through `gatehousectl saml check`, which runs the same
sp_acs_process as POST /saml/acs."""
import calendar
import json
import os
import time

import pytest

from conftest import TOP

S = os.path.join(TOP, "tests", "fixtures", "idp-samples")
NGROK_AUD = "https://29ee6d2e.ngrok.io/saml/metadata"
NGROK_ACS = "https://29ee6d2e.ngrok.io/saml/acs"

# metadata, response, instant inside its window, audience, recipient, extra idp add args,
# expected NameID
CASES = {
    "google": ("google/google-C02dfl1r1-metadata.xml", "google/google-C02dfl1r1-response.xml",
               "2016-01-05T16:55:45Z", NGROK_AUD, NGROK_ACS, [], "ross@octolabs.io"),
    "onelogin-sha1": ("onelogin/onelogin-503983-metadata.xml",
                      "onelogin/onelogin-503983-response.xml", "2016-01-05T17:53:20Z", NGROK_AUD,
                      NGROK_ACS, ["--allow-sha1", "on"], "ross@kndr.org"),
    "shibboleth": ("shibboleth/testshib-providers-metadata.xml",
                   "shibboleth/testshib-response-DERIVED-decrypted.xml", "2014-06-02T17:49:00Z",
                   "http://subspacesw.com", "http://localhost/browserSamlLogin", [],
                   "_32990a6fe34e615a7657a8fe2056d885"),
}


def at(server, iso):
    server.set_offset(calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")) - time.time())


def check(server, response, audience, recipient, path=None):
    p = server.ctl("saml", "check", "--response", path or os.path.join(S, response),
                   "--audience", audience, "--recipient", recipient, "--json", check=False)
    return p.returncode, json.loads(p.stdout)


def register(server, case):
    md, _, _, _, _, extra, _ = CASES[case]
    server.ctl("idp", "add", "--metadata", os.path.join(S, md), *extra)


@pytest.mark.parametrize("case", sorted(CASES))
def test_real_response_is_accepted_at_its_instant(server, case):
    md, resp, when, aud, rcpt, extra, name_id = CASES[case]
    register(server, case)
    at(server, when)
    rc, v = check(server, resp, aud, rcpt)
    assert rc == 0 and v["verdict"] == "accepted", v
    assert v["name_id"] == name_id and v["assertion_id"]


def test_google_attributes_are_read(server):
    register(server, "google")
    at(server, CASES["google"][2])
    _, v = check(server, *CASES["google"][1:2], NGROK_AUD, NGROK_ACS)
    assert v["attributes"]["firstName"] == ["Ross"] and v["attributes"]["lastName"] == ["Kinder"]


@pytest.mark.parametrize("shift,reason", [(3600, "expired"), (-3600, "not_yet_valid")])
def test_outside_its_window_the_response_is_refused_with_the_skew(server, shift, reason):
    register(server, "google")
    at(server, CASES["google"][2])
    server.advance(shift)
    rc, v = check(server, CASES["google"][1], NGROK_AUD, NGROK_ACS)
    assert rc == 1 and v["reason"] == reason
    assert "allowed skew 180 s" in v["detail"]


def test_audience_and_recipient_are_compared_exactly(server):
    register(server, "google")
    at(server, CASES["google"][2])
    _, v = check(server, CASES["google"][1], NGROK_AUD + "/", NGROK_ACS)
    assert v["reason"] == "audience_mismatch"
    _, v = check(server, CASES["google"][1], NGROK_AUD, NGROK_ACS + "x")
    assert v["reason"] in ("recipient_mismatch", "destination_mismatch")


def test_sha1_is_refused_unless_enabled_for_the_idp(server):
    md, resp, when, aud, rcpt, _, _ = CASES["onelogin-sha1"]
    server.ctl("idp", "add", "--metadata", os.path.join(S, md))
    at(server, when)
    rc, v = check(server, resp, aud, rcpt)
    assert rc == 1 and v["reason"] == "sha1_refused"


def test_an_unknown_issuer_is_refused(server):
    at(server, CASES["google"][2])
    _, v = check(server, CASES["google"][1], NGROK_AUD, NGROK_ACS)
    assert v["reason"] == "unknown_issuer"


def test_a_tampered_response_fails_its_signature(server, tmp_path):
    register(server, "google")
    at(server, CASES["google"][2])
    with open(os.path.join(S, CASES["google"][1])) as f:
        xml = f.read()
    forged = tmp_path / "forged.xml"
    forged.write_text(xml.replace("ross@octolabs.io", "admin@octolabs.io"))
    rc, v = check(server, None, NGROK_AUD, NGROK_ACS, path=str(forged))
    assert rc == 1 and v["reason"] == "bad_signature", v


def test_a_doctype_and_garbage_are_refused(server, tmp_path):
    register(server, "google")
    f = tmp_path / "dtd.xml"
    f.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>')
    _, v = check(server, None, NGROK_AUD, NGROK_ACS, path=str(f))
    assert v["reason"] == "doctype"
    g = tmp_path / "garbage.b64"
    g.write_text("%%%not base64%%%")
    _, v = check(server, None, NGROK_AUD, NGROK_ACS, path=str(g))
    assert v["reason"] == "malformed"
