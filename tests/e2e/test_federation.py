"""Federations (issue 17 item 3): `gatehousectl federation add --url URL --cert FILE` loads
every SAML 2.0 IdP of a signed aggregate with its shibmd:Scope values as domains and its
mdui:DisplayName as its name; a refresh adds, updates and removes IdPs while keeping each IdP's
own settings; the discovery page (/login/discovery) finds an institution by name or domain,
without JavaScript, and remembers the choice; a person signs in through a federation IdP."""
import calendar
import html
import json
import os
import re
import time
from xml.sax.saxutils import escape

import pytest
import requests

from conftest import TOP, Browser
from mdserver import MetadataServer, Signer
from samlidp import MiniIdP, request_id_from_redirect

RCTS = os.path.join(TOP, "tests", "fixtures", "idp-samples", "shibboleth",
                    "rctsaai-edugain-aggregate-metadata.xml")


@pytest.fixture
def mds(tmp_path):
    s = MetadataServer(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def srv(make_server, mds):
    return make_server({"sp": {"metadata_ca_file": mds.ca}})


def member(idp, display, scope):
    """idp's EntityDescriptor with the discovery extensions a federation adds."""
    ext = ('<md:Extensions><shibmd:Scope xmlns:shibmd="urn:mace:shibboleth:metadata:1.0" '
           f'regexp="false">{scope}</shibmd:Scope>'
           '<mdui:UIInfo xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui">'
           f'<mdui:DisplayName xml:lang="pt">{escape(display)} (pt)</mdui:DisplayName>'
           f'<mdui:DisplayName xml:lang="en">{escape(display)}</mdui:DisplayName>'
           '</mdui:UIInfo></md:Extensions>')
    md = idp.metadata()
    return md.replace('protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">',
                      'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">' + ext,
                      1)


def aggregate(signer, members, extra=""):
    body = "".join(m.replace(' xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"', "")
                   .replace(' xmlns:ds="http://www.w3.org/2000/09/xmldsig#"', "")
                   for m in members)
    xml = ('<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
           f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Name="urn:test:federation" {extra}>'
           f'{body}</md:EntitiesDescriptor>')
    return signer.sign(xml, root="md:EntitiesDescriptor")


def idps(server):
    return {i["entity_id"]: i for i in json.loads(server.ctl("idp", "list", "--json").stdout)}


def discovery(b, q):
    r = b.get(f"/login/discovery?q={q}")
    assert r.status_code == 200
    return [(html.unescape(href), html.unescape(name))
            for href, name in re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', r.text)]


def test_the_rctsaai_edugain_aggregate_loads_with_scopes_and_names(make_server, tmp_path):
    (tmp_path / "plain").mkdir()
    plain = MetadataServer(tmp_path / "plain", tls=False)
    try:
        with open(RCTS, "rb") as f:
            raw = f.read()
        plain.files["/rcts.xml"] = raw
        cert_b64 = re.search(rb"<ds:X509Certificate>\s*([^<]+?)\s*</ds:X509Certificate>",
                             raw).group(1).decode()
        cert = tmp_path / "rcts-signer.pem"
        cert.write_text("-----BEGIN CERTIFICATE-----\n" + cert_b64.replace(" ", "") +
                        "\n-----END CERTIFICATE-----\n")
        server = make_server()
        # The aggregate was valid until 2017-04-22T12:17:22Z: load it two days before.
        server.set_offset(calendar.timegm((2017, 4, 20, 12, 0, 0)) - time.time())
        out = server.ctl("federation", "add", "--url", plain.url("/rcts.xml"), "--cert",
                         str(cert), "--name", "RCTSaai").stdout
        assert "2 IdPs added" in out, out
        got = idps(server)
        names = {i["name"]: i["domains"] for i in got.values()}
        assert names == {"University of Algarve": "ualg.pt", "FCT|FCCN": "fccn.pt"}, names
        fed = json.loads(server.ctl("federation", "list", "--json").stdout)[0]
        assert fed["name"] == "RCTSaai" and fed["idps"] == 2 and fed["refresh_error"] == ""
        b = Browser(server)
        assert [n for _, n in discovery(b, "algarve")] == ["University of Algarve"]
        assert [n for _, n in discovery(b, "fccn.pt")] == ["FCT|FCCN"]
        # A byte changed inside the signed aggregate: refused, nothing changes.
        plain.files["/rcts.xml"] = raw.replace(b"University of Algarve", b"University of Algarva")
        p = server.ctl("federation", "refresh", plain.url("/rcts.xml"), check=False)
        assert p.returncode == 1 and "does not verify" in p.stderr
        assert "University of Algarve" in {i["name"] for i in idps(server).values()}
        # After its validUntil the aggregate is refused as expired.
        plain.files["/rcts.xml"] = raw
        server.advance(3 * 86400)
        p = server.ctl("federation", "refresh", plain.url("/rcts.xml"), check=False)
        assert p.returncode == 1 and "expired" in p.stderr
    finally:
        plain.stop()


def test_sign_in_through_a_federation_idp_found_on_the_discovery_page(srv, mds, tmp_path):
    signer = Signer(tmp_path)
    alice = MiniIdP(tmp_path, "https://idp.wonderland.example/saml", name="wonderland")
    other = MiniIdP(tmp_path, "https://idp.looking-glass.example/saml", name="glass")
    mds.files["/fed.xml"] = aggregate(signer, [member(alice, "Wonderland University",
                                                      "wonderland.example"),
                                               member(other, "Looking Glass Institute",
                                                      "looking-glass.example")])
    srv.ctl("federation", "add", "--url", mds.url("/fed.xml"), "--cert", signer.cert)
    b = Browser(srv)
    # The sign-in page leads to discovery once a federation is set up.
    assert "/login/discovery" in b.get("/login").text
    r = b.get("/saml/login?email=alice@unknown.example")
    assert r.status_code == 404 and "Find your institution" in r.text
    hits = discovery(b, "wonder")
    assert [n for _, n in hits] == ["Wonderland University"]
    assert discovery(b, "zzz-nothing") == []
    r = b.get(hits[0][0], allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].startswith("/saml/login?idp=")
    assert "gatehouse_idp" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    r = b.get(r.headers["Location"], allow_redirects=False)
    assert r.status_code == 303, r.text
    rid, q = request_id_from_redirect(r.headers["Location"])
    b64, _ = alice.response(srv.url("/saml/metadata"), srv.url("/saml/acs"),
                            "alice@wonderland.example", {"email": "alice@wonderland.example"},
                            in_response_to=rid)
    r = b.s.post(srv.url("/saml/acs"), data={"SAMLResponse": b64,
                                             "RelayState": q["RelayState"][0]},
                 allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    assert b.whoami().json()["idp"] == alice.entity_id
    # The choice is remembered on the next visit.
    page = b.get("/login/discovery").text
    assert "Last time you signed in with <strong>Wonderland University</strong>" in page
    # An unknown IdP in the chooser is refused.
    assert b.get("/login/discovery/choose?idp=https://evil.example/",
                 allow_redirects=False).status_code == 404


def test_refresh_adds_updates_removes_and_keeps_each_idps_settings(srv, mds, tmp_path):
    signer = Signer(tmp_path)
    a = MiniIdP(tmp_path, "https://a.example/idp", name="a")
    b_ = MiniIdP(tmp_path, "https://b.example/idp", name="b")
    c = MiniIdP(tmp_path, "https://c.example/idp", name="c")
    a2 = MiniIdP(tmp_path, "https://a.example/idp", name="a2")  # a's key rolled over
    url = mds.url("/fed.xml")
    mds.files["/fed.xml"] = aggregate(signer, [member(a, "A Uni", "a.example"),
                                               member(b_, "B Uni", "b.example")],
                                      'cacheDuration="PT2H"')
    srv.ctl("federation", "add", "--url", url, "--cert", signer.cert)
    srv.ctl("idp", "set", a.entity_id, "--idp-initiated", "on", "--group-role", "staff=admin")
    mds.files["/fed.xml"] = aggregate(signer, [member(a2, "A Uni", "a.example"),
                                               member(c, "C Uni", "c.example")])
    out = srv.ctl("federation", "refresh", url).stdout
    assert "1 IdPs added, 1 updated, 0 unchanged, 1 removed" in out, out
    got = idps(srv)
    assert set(got) == {a.entity_id, c.entity_id}
    assert got[a.entity_id]["idp_initiated"] is True and "staff=admin" in got[a.entity_id][
        "group_roles"]
    # a's new key signs in, the old one no more (IdP-initiated, as switched on by the owner).
    def post(idp, email):
        b64, _ = idp.response(srv.url("/saml/metadata"), srv.url("/saml/acs"), email,
                              {"email": email})
        return requests.post(srv.url("/saml/acs"), data={"SAMLResponse": b64},
                             allow_redirects=False, timeout=30).status_code
    assert post(a2, "x@a.example") == 303 and post(a, "y@a.example") == 403
    actions = [e["action"] for e in json.loads(srv.ctl("audit", "list", "--json").stdout)]
    assert "federation.add" in actions and "federation.refresh" in actions
    assert "idp.remove" in actions
    # Removing the federation removes its IdPs.
    srv.ctl("federation", "remove", url)
    assert idps(srv) == {} and json.loads(srv.ctl("federation", "list", "--json").stdout) == []


def test_a_federation_must_be_signed_by_its_certificate(srv, mds, tmp_path):
    signer, other = Signer(tmp_path), Signer(tmp_path, "other")
    a = MiniIdP(tmp_path, "https://a.example/idp", name="a")
    mds.files["/fed.xml"] = aggregate(other, [member(a, "A Uni", "a.example")])
    p = srv.ctl("federation", "add", "--url", mds.url("/fed.xml"), "--cert", signer.cert,
                check=False)
    assert p.returncode == 1 and "does not verify" in p.stderr
    assert idps(srv) == {} and json.loads(srv.ctl("federation", "list", "--json").stdout) == []
    assert srv.ctl("federation", "add", "--url", mds.url("/fed.xml"),
                   check=False).returncode == 2
