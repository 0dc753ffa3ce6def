"""Federations on the admin pages and the admin API (issue 17): the federations page lists each
federation with its last and next refresh, last error and IdP count; adding, refreshing and
removing one are trust decisions (owners only, CSRF-protected), so an admin sees the list and
gets 403 on every change, on the page and at /api/admin/federations."""
import json
import re

import pytest
import requests

from conftest import STRONG, Browser, csrf_of, signed_in_user
from mdserver import MetadataServer, Signer
from samlidp import MiniIdP
from test_federation import aggregate, member


@pytest.fixture
def mds(tmp_path):
    s = MetadataServer(tmp_path)
    yield s
    s.stop()


@pytest.fixture
def fed(make_server, mds, tmp_path):
    """A server and a signed aggregate of two IdPs at mds /fed.xml."""
    srv = make_server({"sp": {"metadata_ca_file": mds.ca}})
    signer = Signer(tmp_path)
    one = MiniIdP(tmp_path, "https://idp.one.example/saml", name="one")
    two = MiniIdP(tmp_path, "https://idp.two.example/saml", name="two")
    mds.files["/fed.xml"] = aggregate(signer, [member(one, "One University", "one.example"),
                                               member(two, "Two College", "two.example")])
    with open(signer.cert) as f:
        cert = f.read()
    return srv, mds.url("/fed.xml"), cert


def token_for(server, email, role):
    signed_in_user(server, email, role)
    r = requests.post(server.url("/api/login"), json={"email": email, "password": STRONG},
                      timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": "Bearer " + r.json()["token"]}


def fed_list(srv):
    return json.loads(srv.ctl("federation", "list", "--json").stdout)


def idp_ids(srv):
    return {i["entity_id"] for i in json.loads(srv.ctl("idp", "list", "--json").stdout)}


def test_an_owner_adds_refreshes_and_removes_a_federation_on_the_page(fed):
    srv, url, cert = fed
    b, _ = signed_in_user(srv, "olive@example.com", "owner")
    r = b.get("/admin/federations")
    assert r.status_code == 200 and "No federation yet." in r.text and 'value="add"' in r.text
    r = b.post_form("/admin/federations", "/admin/federations",
                    {"action": "add", "url": url, "cert": cert, "name": "Test Fed"})
    assert r.status_code == 200, r.text
    assert "2 IdPs added" in r.text and "Test Fed" in r.text
    assert '<td class="n-idps">2</td>' in r.text
    assert idp_ids(srv) == {"https://idp.one.example/saml", "https://idp.two.example/saml"}
    r = b.post_form("/admin/federations", "/admin/federations", {"action": "refresh", "url": url})
    assert r.status_code == 200, r.text
    # Removal needs the box ticked.
    r = b.post_form("/admin/federations", "/admin/federations", {"action": "remove", "url": url})
    assert r.status_code == 400 and fed_list(srv) != []
    r = b.post_form("/admin/federations", "/admin/federations",
                    {"action": "remove", "url": url, "confirm": "1"})
    assert r.status_code == 200 and "2 IdPs removed" in r.text
    assert fed_list(srv) == [] and idp_ids(srv) == set()
    actions = srv.ctl("audit", "list", "--json", "--limit", "100").stdout
    assert "federation.add" in actions and "federation.remove" in actions


def test_the_page_shows_a_failed_refresh_and_keeps_the_idps(fed, mds):
    srv, url, cert = fed
    srv.ctl("federation", "add", "--url", url, "--cert", write(srv, cert), "--name", "F")
    b, _ = signed_in_user(srv, "olive@example.com", "owner")
    mds.files["/fed.xml"] = b"<garbage"
    r = b.post_form("/admin/federations", "/admin/federations", {"action": "refresh", "url": url})
    assert r.status_code == 422, r.text
    page = b.get("/admin/federations").text
    assert re.search(r'<td class="error">[^<]+</td>', page), page  # the last error is shown
    assert '<td class="n-idps">2</td>' in page and len(idp_ids(srv)) == 2


def write(srv, cert):
    import os
    path = os.path.join(srv.tmp, "fed-signer.pem")
    with open(path, "w") as f:
        f.write(cert)
    return path


def test_an_admin_sees_federations_but_every_change_is_refused(fed):
    srv, url, cert = fed
    srv.ctl("federation", "add", "--url", url, "--cert", write(srv, cert), "--name", "F")
    before = fed_list(srv)
    b, _ = signed_in_user(srv, "adam@example.com", "admin")
    r = b.get("/admin/federations")
    assert r.status_code == 200 and url in r.text
    assert 'value="add"' not in r.text and 'value="remove"' not in r.text
    assert 'id="owner-only"' in r.text
    csrf = csrf_of(r.text)
    for fields in ({"action": "add", "url": url + "?x", "cert": cert},
                   {"action": "refresh", "url": url},
                   {"action": "remove", "url": url, "confirm": "1"}):
        r = b.s.post(srv.url("/admin/federations"), data=dict(fields, csrf_token=csrf),
                     timeout=30, allow_redirects=False)
        assert r.status_code == 403, (fields, r.text)
    h = token_for(srv, "adele@example.com", "admin")
    r = requests.get(srv.url("/api/admin/federations"), headers=h, timeout=30)
    assert r.status_code == 200 and r.json()["federations"][0]["url"] == url
    for path, body in (("federations", {"url": url + "?y", "cert": cert}),
                       ("federations/refresh", {"url": url}),
                       ("federations/remove", {"url": url})):
        r = requests.post(srv.url("/api/admin/" + path), headers=h, json=body, timeout=30)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", (path, r.text)
    after = fed_list(srv)
    assert [f["url"] for f in after] == [f["url"] for f in before]
    assert after[0]["last_refresh"] == before[0]["last_refresh"] and len(idp_ids(srv)) == 2


def test_federation_forms_need_the_csrf_token(fed):
    srv, url, cert = fed
    b, _ = signed_in_user(srv, "olive@example.com", "owner")
    r = b.s.post(srv.url("/admin/federations"),
                 data={"action": "add", "url": url, "cert": cert}, timeout=30,
                 allow_redirects=False)
    assert r.status_code == 403 and fed_list(srv) == []


def test_an_owner_manages_federations_through_the_api(fed):
    srv, url, cert = fed
    h = token_for(srv, "olive@example.com", "owner")
    api = srv.url("/api/admin/federations")
    r = requests.post(api, headers=h, json={"url": url, "cert": cert, "name": "API Fed"},
                      timeout=30)
    assert r.status_code == 201 and "2 IdPs added" in r.json()["note"], r.text
    r = requests.get(api, headers=h, timeout=30)
    f = r.json()["federations"][0]
    assert (f["url"], f["name"], f["idps"], f["refresh_error"]) == (url, "API Fed", 2, "")
    assert f["last_refresh"] and f["next_refresh"]
    r = requests.post(api + "/refresh", headers=h, json={"url": url}, timeout=30)
    assert r.status_code == 200, r.text
    r = requests.post(api + "/refresh", headers=h, json={"url": url + "?nope"}, timeout=30)
    assert r.status_code == 404
    r = requests.post(api + "/remove", headers=h, json={"url": url}, timeout=30)
    assert r.status_code == 200 and "2 IdPs removed" in r.json()["note"]
    assert requests.get(api, headers=h, timeout=30).json()["federations"] == []
