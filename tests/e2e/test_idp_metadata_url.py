"""IdP metadata by URL (issue 17 item 2): `gatehousectl idp add --metadata-url URL
[--metadata-cert FILE]` fetched with libcurl from a real local HTTPS server with a private CA
(TLS verified), the signature checked against the given certificate, a refresh that takes a
rolled-over signing certificate (audited old -> new), bad fetches that keep the working metadata
and show the error, the stored copy used when the URL is down at start-up, and the schedule run
by the server itself."""
import json
import time

import pytest
import requests

from mdserver import MetadataServer, Signer
from samlidp import MiniIdP

ENTITY = "https://idp.test.example/saml"


@pytest.fixture
def mds(tmp_path):
    s = MetadataServer(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def srv(make_server, mds):
    return make_server({"sp": {"metadata_ca_file": mds.ca}})


def sign_in(server, idp, email="alice@example.com"):
    b64, _ = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"), email,
                          {"email": email}, now=time.time() + server.offset)
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64},
                      allow_redirects=False, timeout=30)
    return r.status_code


def idp_json(server):
    return json.loads(server.ctl("idp", "list", "--json").stdout)[0]


def test_signed_metadata_is_fetched_checked_and_refreshed_with_a_rolled_key(srv, mds, tmp_path):
    old, new = MiniIdP(tmp_path, ENTITY, name="old"), MiniIdP(tmp_path, ENTITY, name="new")
    signer = Signer(tmp_path)
    mds.files["/md.xml"] = signer.sign(old.metadata())
    srv.ctl("idp", "add", "--metadata-url", mds.url("/md.xml"), "--metadata-cert", signer.cert,
            "--idp-initiated", "on", "--domain", "example.com")
    info = idp_json(srv)
    assert info["metadata_url"] == mds.url("/md.xml") and info["metadata_signed"] is True
    assert info["refresh_error"] == "" and info["last_refresh"] and info["next_refresh"]
    assert sign_in(srv, old) == 303 and sign_in(srv, new, "bob@example.com") == 403

    # The IdP publishes both keys, then only the new one: each refresh takes it, audited.
    both = old.metadata().replace("</md:KeyDescriptor>", "</md:KeyDescriptor>" +
                                  new.metadata().split("<md:IDPSSODescriptor")[1]
                                  .split(">", 1)[1].split("<md:SingleLogoutService")[0], 1)
    mds.files["/md.xml"] = signer.sign(both)
    out = srv.ctl("idp", "refresh", ENTITY).stdout
    assert "updated" in out
    assert sign_in(srv, old, "carol@example.com") == 303
    assert sign_in(srv, new, "dave@example.com") == 303
    mds.files["/md.xml"] = signer.sign(new.metadata())
    srv.ctl("idp", "refresh", ENTITY)
    assert sign_in(srv, old, "erin@example.com") == 403
    assert sign_in(srv, new, "frank@example.com") == 303
    audit = [e for e in json.loads(srv.ctl("audit", "list", "--json").stdout)
             if e["target"] == ENTITY and e["action"] != "idp.add"]
    assert len(audit) == 2, audit
    # Unchanged metadata: a refresh changes nothing and audits nothing.
    assert "unchanged" in srv.ctl("idp", "refresh", ENTITY).stdout
    assert len([e for e in json.loads(srv.ctl("audit", "list", "--json").stdout)
                if e["target"] == ENTITY and e["action"] != "idp.add"]) == 2


@pytest.mark.parametrize("fault,expect", [
    ("garbage", "not"),
    ("unsigned", "not signed"),
    ("other_signer", "does not verify"),
    ("tampered", "does not verify"),
    ("missing", "HTTP 404"),
    ("other_entity", "no identity provider"),
])
def test_a_bad_fetch_keeps_the_working_metadata_and_shows_the_error(srv, mds, tmp_path, fault,
                                                                    expect):
    idp = MiniIdP(tmp_path, ENTITY, name="good")
    signer, other = Signer(tmp_path), Signer(tmp_path, "other")
    mds.files["/md.xml"] = signer.sign(idp.metadata())
    srv.ctl("idp", "add", "--metadata-url", mds.url("/md.xml"), "--metadata-cert", signer.cert,
            "--idp-initiated", "on", "--domain", "example.com")
    rogue = MiniIdP(tmp_path, ENTITY, name="rogue")
    bad = {
        "garbage": b"<html>not metadata</html>",
        "unsigned": rogue.metadata().encode(),
        "other_signer": other.sign(rogue.metadata()),
        "tampered": signer.sign(idp.metadata()).replace(
            idp.cert_b64[:40].encode(), rogue.cert_b64[:40].encode()),
        "other_entity": signer.sign(MiniIdP(tmp_path, "https://else.example/", "else").metadata()),
    }.get(fault)
    if bad is None:
        del mds.files["/md.xml"]
    else:
        mds.files["/md.xml"] = bad
    p = srv.ctl("idp", "refresh", ENTITY, check=False)
    assert p.returncode == 1 and expect in p.stderr, p.stderr
    info = idp_json(srv)
    assert expect in info["refresh_error"]
    assert sign_in(srv, idp) == 303 and sign_in(srv, rogue, "mallory@example.com") == 403
    text = srv.ctl("idp", "list").stdout
    assert "last error: " in text


def test_add_refuses_what_it_cannot_trust_and_stores_nothing(srv, mds, tmp_path):
    idp = MiniIdP(tmp_path, ENTITY, name="good")
    signer, other = Signer(tmp_path), Signer(tmp_path, "other")
    mds.files["/md.xml"] = other.sign(idp.metadata())
    mds.files["/plain.xml"] = idp.metadata().encode()
    cases = [
        (["--metadata-url", mds.url("/md.xml"), "--metadata-cert", signer.cert],
         "does not verify"),
        (["--metadata-url", "javascript:alert(1)"], "absolute http"),
        (["--metadata-url", f"http://127.0.0.1:{mds.port}/plain.xml"], "must be signed"),
        (["--metadata-url", mds.url("/nothing")], "HTTP 404"),
    ]
    for args, msg in cases:
        p = srv.ctl("idp", "add", *args, check=False)
        assert p.returncode == 1 and msg in p.stderr, (args, p.stderr)
    assert json.loads(srv.ctl("idp", "list", "--json").stdout) == []


def test_tls_is_verified(make_server, mds, tmp_path):
    """Without the private CA the server's certificate is not trusted: nothing is added."""
    server = make_server()
    mds.files["/plain.xml"] = MiniIdP(tmp_path, ENTITY).metadata().encode()
    p = server.ctl("idp", "add", "--metadata-url", mds.url("/plain.xml"), check=False)
    assert p.returncode == 1 and "certificate" in p.stderr.lower(), p.stderr
    assert json.loads(server.ctl("idp", "list", "--json").stdout) == []


def test_expired_metadata_is_refused(srv, mds, tmp_path):
    idp = MiniIdP(tmp_path, ENTITY)
    signer = Signer(tmp_path)
    mds.files["/md.xml"] = signer.sign(idp.metadata(),
                                       'validUntil="2001-01-01T00:00:00Z"')
    p = srv.ctl("idp", "add", "--metadata-url", mds.url("/md.xml"), "--metadata-cert",
                signer.cert, check=False)
    assert p.returncode == 1 and "validUntil" in p.stderr


def test_the_stored_copy_serves_when_the_url_is_down_at_start(srv, mds, tmp_path):
    idp = MiniIdP(tmp_path, ENTITY)
    signer = Signer(tmp_path)
    mds.files["/md.xml"] = signer.sign(idp.metadata())
    srv.ctl("idp", "add", "--metadata-url", mds.url("/md.xml"), "--metadata-cert", signer.cert,
            "--idp-initiated", "on", "--domain", "example.com")
    srv.stop()
    mds.stop()
    srv.start()
    assert sign_in(srv, idp) == 303


def test_the_server_refreshes_on_its_schedule_honouring_cache_duration(srv, mds, tmp_path):
    old, new = MiniIdP(tmp_path, ENTITY, name="old"), MiniIdP(tmp_path, ENTITY, name="new")
    signer = Signer(tmp_path)
    # cacheDuration one hour: the next fetch is due an hour later, not six.
    mds.files["/md.xml"] = signer.sign(old.metadata(), 'cacheDuration="PT1H"')
    srv.ctl("idp", "add", "--metadata-url", mds.url("/md.xml"), "--metadata-cert", signer.cert,
            "--idp-initiated", "on", "--domain", "example.com")
    info = idp_json(srv)
    due = time.mktime(time.strptime(info["next_refresh"], "%Y-%m-%dT%H:%M:%SZ")) - time.mktime(
        time.strptime(info["last_refresh"], "%Y-%m-%dT%H:%M:%SZ"))
    assert due == 3600
    mds.files["/md.xml"] = signer.sign(new.metadata(), 'cacheDuration="PT1H"')
    hits = mds.hits
    srv.advance(3601)
    deadline = time.monotonic() + 30  # the server looks for due fetches every 10 s
    while time.monotonic() < deadline and mds.hits == hits:
        time.sleep(0.2)
    assert mds.hits > hits
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sign_in(srv, new, "bob@example.com") != 303:
        time.sleep(0.2)
    assert sign_in(srv, new, "carol@example.com") == 303
    assert any(e["actor"] == "system:metadata-refresh"
               for e in json.loads(srv.ctl("audit", "list", "--json").stdout))


def test_refresh_is_an_owner_decision_and_needs_a_url_source(srv, tmp_path):
    idp = MiniIdP(tmp_path, ENTITY)
    srv.ctl("idp", "add", "--metadata", idp.metadata_path)
    p = srv.ctl("idp", "refresh", ENTITY, check=False)
    assert p.returncode == 1 and "not registered from a metadata URL" in p.stderr


def test_admin_api_and_page_add_and_show_a_metadata_url(srv, mds, tmp_path):
    from conftest import STRONG, signed_in_user
    idp = MiniIdP(tmp_path, ENTITY)
    signer = Signer(tmp_path)
    mds.files["/md.xml"] = signer.sign(idp.metadata())
    with open(signer.cert) as f:
        pem = f.read()
    body = {"metadata_url": mds.url("/md.xml"), "metadata_cert": pem,
            "domains": ["example.com"]}

    def token(email, role):
        signed_in_user(srv, email, role)
        return requests.post(srv.url("/api/login"), json={"email": email, "password": STRONG},
                             timeout=30).json()["token"]

    url = srv.url("/api/admin/idps")
    r = requests.post(url, json=body, timeout=30,
                      headers={"Authorization": f"Bearer {token('admin@example.com', 'admin')}"})
    assert r.status_code == 403 and mds.hits == 0, r.text  # an admin cannot make us fetch
    h = {"Authorization": f"Bearer {token('owner@example.com', 'owner')}"}
    r = requests.post(url, json=body, headers=h, timeout=30)
    assert r.status_code == 201 and r.json()["entity_id"] == ENTITY, r.text
    got = requests.get(url, headers=h, timeout=30).json()["idps"][0]
    assert got["metadata_url"] == mds.url("/md.xml") and got["metadata_signed"] is True
    assert got["last_refresh"] and got["next_refresh"] and got["refresh_error"] == ""
    del mds.files["/md.xml"]
    srv.ctl("idp", "refresh", ENTITY, check=False)
    owner, _ = signed_in_user(srv, "owner2@example.com", "owner")
    page = owner.get("/admin/idps").text
    assert "Metadata URL" in page and mds.url("/md.xml") in page and "HTTP 404" in page
