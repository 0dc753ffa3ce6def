"""The admin pages under /admin: roles enforced (403 for members), every action through the same
operations as the CLI and API (audited with the admin as actor), policy with inline errors, the
password sign-in switch with its confirmation and IdP requirement, IdPs by pasted metadata, the
SAML log with its detail view, the audit log, and the dashboard chart."""
import html
import json
import re

import pytest
import requests

from conftest import Browser, alert_of, audit_entries, csrf_of, signed_in_user
from samlidp import MiniIdP

PAGES = ["/admin", "/admin/users", "/admin/users/view?email=owner@example.com", "/admin/policy",
         "/admin/password-login", "/admin/idps", "/admin/saml-log",
         "/admin/saml-log/view?id=1", "/admin/audit"]
FORMS = [("/admin/users/add", {"email": "x@example.com"}),
         ("/admin/users/action", {"email": "owner@example.com", "action": "disable"}),
         ("/admin/policy", {"lockout.minutes": "10"}),
         ("/admin/password-login", {"password_login": "off", "confirm": "1"}),
         ("/admin/idps", {"action": "add", "metadata": "<x/>"})]


@pytest.fixture
def staff(server):
    owner, _ = signed_in_user(server, "owner@example.com", "owner")
    admin, _ = signed_in_user(server, "admin@example.com", "admin")
    member, _ = signed_in_user(server, "member@example.com", "member")
    return owner, admin, member


def post(b, page, action, fields):
    data = dict(fields)
    data["csrf_token"] = csrf_of(b.get(page, allow_redirects=True).text)
    return b.s.post(b.server.url(action), data=data, allow_redirects=False, timeout=30)


def test_members_get_403_everywhere_and_change_nothing(server, staff):
    _, _, member = staff
    before = server.ctl("audit", "list", "--json").stdout
    for path in PAGES:
        r = member.get(path)
        assert r.status_code == 403, path
        assert "<form" not in r.text.split("<main")[1] or "/logout" in r.text
    for action, fields in FORMS:
        data = dict(fields, csrf_token=csrf_of(member.get("/").text))
        r = member.s.post(server.url(action), data=data, allow_redirects=False, timeout=30)
        assert r.status_code == 403, action
    assert server.ctl("audit", "list", "--json").stdout == before
    # Signed out: sent to sign in, and back afterwards.
    r = Browser(server).get("/admin/users")
    assert r.status_code == 303 and r.headers["Location"].startswith("/login?return_to=")
    # The layout links the admin area only for admins.
    assert 'href="/admin"' not in member.get("/").text
    assert 'href="/admin"' in staff[1].get("/").text


def test_admin_pages_render_for_an_admin(server, staff):
    _, admin, _ = staff
    for path in PAGES[:-2] + ["/admin/audit"]:
        r = admin.get(path)
        assert r.status_code == 200, path
        assert "<script" not in r.text
    assert admin.get("/admin/saml-log/view?id=99").status_code == 404


def test_user_actions_from_the_pages_are_audited(server, staff):
    _, admin, _ = staff
    page = "/admin/users/view?email=member@example.com"
    r = post(admin, page, "/admin/users/action", {"email": "member@example.com",
                                                  "action": "disable"})
    assert r.status_code == 200 and "Disabled" in r.text
    assert 'id="user-state">disabled<' in r.text
    r = post(admin, page, "/admin/users/action", {"email": "member@example.com",
                                                  "action": "enable"})
    assert r.status_code == 200
    r = post(admin, page, "/admin/users/action", {"email": "member@example.com",
                                                  "action": "reset_password"})
    temp = html.unescape(re.search(r'id="temp-password">([^<]+)<', r.text).group(1))
    b = Browser(server)
    assert b.login("member@example.com", temp).headers["Location"] == "/password/change"
    r = post(admin, "/admin/users", "/admin/users/add", {"email": "new@example.com",
                                                         "name": "New", "role": "member"})
    assert r.status_code == 200 and re.search(r'id="temp-password">', r.text)
    r = post(admin, "/admin/users", "/admin/users/add", {"email": "boss@example.com",
                                                         "role": "owner"})
    assert r.status_code == 403 and "owner" in alert_of(r.text).lower()
    r = post(admin, page, "/admin/users/action", {"email": "new@example.com",
                                                  "action": "delete"})
    assert r.status_code == 400 and "confirm" in alert_of(r.text)
    r = post(admin, page, "/admin/users/action", {"email": "new@example.com",
                                                  "action": "delete", "confirm": "1"})
    assert r.status_code == 200 and "Deleted" in r.text
    # An admin cannot demote or delete an owner, nor grant owner.
    opage = "/admin/users/view?email=owner@example.com"
    assert "Only an owner can change" in admin.get(opage).text
    for fields in ({"action": "set_role", "role": "member"},
                   {"action": "delete", "confirm": "1"}, {"action": "disable"}):
        r = post(admin, opage, "/admin/users/action", dict(fields, email="owner@example.com"))
        assert r.status_code == 403, fields
    r = post(admin, page, "/admin/users/action", {"email": "member@example.com",
                                                  "action": "set_role", "role": "owner"})
    assert r.status_code == 403
    audit = json.loads(server.ctl("audit", "list", "--json", "--actor",
                                  "user:admin@example.com").stdout)
    got = {(a["action"], a["target"]) for a in audit}
    assert {("user.disable", "member@example.com"), ("user.enable", "member@example.com"),
            ("user.reset_password", "member@example.com"), ("user.add", "new@example.com"),
            ("user.delete", "new@example.com")} <= got
    assert all(a["client"] == "127.0.0.1" and a["actor_role"] == "admin" for a in audit
               if a["action"].startswith("user."))
    # The audit page shows them, filtered.
    r = admin.get("/admin/audit?action=user.disable")
    assert "member@example.com" in r.text and "active → disabled" in html.unescape(r.text)


def test_policy_form_with_inline_errors(server, staff):
    _, admin, _ = staff
    r = post(admin, "/admin/policy", "/admin/policy", {"password.min_length": "40",
                                                       "lockout.minutes": "10"})
    assert r.status_code == 422
    assert 'aria-invalid="true"' in r.text and "Nothing was saved" in alert_of(r.text)
    assert re.search(r'class="field-error">[^<]*32', r.text)
    policy = json.loads(server.ctl("policy", "show", "--json").stdout)
    assert {p["key"]: p["value"] for p in policy}["lockout.minutes"] == "30"
    r = post(admin, "/admin/policy", "/admin/policy", {"password.min_length": "12",
                                                       "lockout.minutes": "10"})
    assert r.status_code == 200 and "Saved 2 changes" in r.text
    policy = {p["key"]: p["value"] for p in json.loads(server.ctl("policy", "show",
                                                                  "--json").stdout)}
    assert policy["password.min_length"] == "12" and policy["lockout.minutes"] == "10"


def test_password_switch_page(server, staff, tmp_path):
    owner, admin, _ = staff
    assert "Only an owner" in admin.get("/admin/password-login").text
    r = post(admin, "/admin/password-login", "/admin/password-login",
             {"password_login": "off", "confirm": "1"})
    assert r.status_code == 403
    r = post(owner, "/admin/password-login", "/admin/password-login",
             {"password_login": "off", "confirm": "1"})
    assert r.status_code == 409 and "identity provider" in alert_of(r.text)
    idp = MiniIdP(tmp_path)
    with open(idp.metadata_path) as f:
        md = f.read()
    r = post(owner, "/admin/idps", "/admin/idps", {"action": "add", "metadata": md,
                                                   "domains": "example.com, corp.example",
                                                   "name": "Corp IdP",
                                                   "group_roles": "ops=admin\nstaff=member"})
    assert r.status_code == 200 and "Added" in r.text, r.text
    r = post(owner, "/admin/idps", "/admin/idps", {"action": "add", "metadata": "<nope"})
    assert r.status_code == 422 and alert_of(r.text)
    r = post(owner, "/admin/password-login", "/admin/password-login", {"password_login": "off"})
    assert r.status_code == 400 and "confirm" in alert_of(r.text)
    r = post(owner, "/admin/password-login", "/admin/password-login",
             {"password_login": "off", "confirm": "1"})
    assert r.status_code == 200 and 'id="switch-state">off<' in r.text
    # The sign-in page no longer offers the password form.
    assert 'id="password"' not in requests.get(server.url("/login"), timeout=30).text
    r = post(owner, "/admin/password-login", "/admin/password-login", {"password_login": "on"})
    assert 'id="switch-state">on<' in r.text
    idps = json.loads(server.ctl("idp", "list", "--json").stdout)
    assert idps[0]["domains"] == "corp.example,example.com"
    assert idps[0]["group_roles"] == "ops=admin;staff=member"


def test_saml_log_detail_view(server, staff, tmp_path):
    _, admin, _ = staff
    idp = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com")
    b64, _ = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"),
                          "alice@example.com", {"email": "alice@example.com"},
                          audience="https://other.example/")
    server.ctl("idp", "set", idp.entity_id, "--idp-initiated", "on")
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64}, timeout=30,
                      allow_redirects=False)
    assert r.status_code == 403
    ref = re.search(r"SAML-(\d+)", r.text).group(1)
    lst = admin.get("/admin/saml-log?verdict=refused")
    assert f"SAML-{ref}" in lst.text and "audience_mismatch" in lst.text
    page = admin.get(f"/admin/saml-log/view?id={ref}").text
    assert 'id="reason"><code>audience_mismatch<' in page
    assert re.search(r'class="bad">Conditions: audience[^<]*<strong>failed', page)
    assert re.search(r'class="ok">Signature valid[^<]*<strong>passed', page)
    assert "not reached" in page
    xml = html.unescape(re.search(r'<pre class="xml" id="xml">(.*?)</pre>', page, re.S).group(1))
    assert "\n  <saml:Assertion" in xml or "\n  <saml:Issuer" in xml  # indented
    assert "https://other.example/" in xml


def test_dashboard_chart(server, staff):
    _, admin, _ = staff
    requests.post(server.url("/api/login"), json={"email": "member@example.com",
                                                  "password": "Wrong-password-9"}, timeout=30)
    page = admin.get("/admin").text
    assert "<svg" in page and "Sign-ins per hour" in page
    ok = int(re.search(r"Password, succeeded: (\d+)", page).group(1))
    bad = int(re.search(r"Password, failed: (\d+)", page).group(1))
    assert ok >= 3 and bad >= 1
    assert 'id="locked-now">0<' in page


def test_idp_metadata_can_be_uploaded_as_a_file(server, staff, tmp_path):
    owner, admin, member = staff
    idp = MiniIdP(tmp_path)
    with open(idp.metadata_path, "rb") as f:
        md = f.read()
    page = owner.get("/admin/idps").text
    assert 'enctype="multipart/form-data"' in page and 'type="file"' in page
    # An admin may not add IdPs: the page has no form for it.
    page = admin.get("/admin/idps").text
    assert 'type="file"' not in page and 'id="owner-only"' in page

    def upload(b, fields, files):
        token = csrf_of(b.get("/admin/idps").text)
        return b.s.post(server.url("/admin/idps"), data={"csrf_token": token, **fields},
                        files=files, allow_redirects=False, timeout=30)

    # No CSRF token: refused like any form.
    r = admin.s.post(server.url("/admin/idps"), data={"action": "add"},
                     files={"metadata_file": ("idp.xml", md, "text/xml")}, timeout=30)
    assert r.status_code == 403
    r = upload(member, {"action": "add"}, {"metadata_file": ("idp.xml", md, "text/xml")})
    assert r.status_code == 403
    r = upload(admin, {"action": "add"}, {"metadata_file": ("idp.xml", md, "text/xml")})
    assert r.status_code == 403 and "Only an owner" in alert_of(r.text)
    r = upload(owner, {"action": "add", "metadata": md.decode()},
               {"metadata_file": ("idp.xml", md, "text/xml")})
    assert r.status_code == 400 and "not both" in alert_of(r.text)
    r = upload(owner, {"action": "add"}, {"metadata_file": ("idp.xml", b"<x>\x00</x>", "text/xml")})
    assert r.status_code == 400, r.text
    r = upload(owner, {"action": "add"}, {"metadata_file": ("idp.xml", b"\xff\xfe<x/>", "text/xml")})
    assert r.status_code == 400, r.text
    r = upload(owner, {"action": "add", "domains": "example.com", "name": "Uploaded IdP"},
               {"metadata_file": ("idp.xml", md, "text/xml")})
    assert r.status_code == 200 and "Added" in r.text, r.text
    listed = json.loads(server.ctl("idp", "list", "--json").stdout)
    assert [(i["entity_id"], i["name"]) for i in listed] == [(idp.entity_id, "Uploaded IdP")]
    # Other forms still take urlencoded bodies only.
    r = admin.s.post(server.url("/admin/policy"), files={"x": ("a", b"b")}, timeout=30)
    assert r.status_code == 415
    # A registered IdP's metadata is reloaded from a new file: its key has rolled over.
    rolled = MiniIdP(tmp_path, idp.entity_id, name="rolled")
    with open(rolled.metadata_path, "rb") as f:
        md2 = f.read()
    fields = {"action": "metadata", "entity_id": idp.entity_id}
    certs_before = listed[0]["certs"]
    r = upload(member, fields, {"metadata_file": ("idp.xml", md2, "text/xml")})
    assert r.status_code == 403
    r = upload(admin, fields, {"metadata_file": ("idp.xml", md2, "text/xml")})
    assert r.status_code == 403 and "Only an owner" in alert_of(r.text)
    r = upload(owner, fields, {"metadata_file": ("idp.xml", b"", "text/xml")})
    assert r.status_code == 400 and "metadata file" in alert_of(r.text)
    other = MiniIdP(tmp_path, "https://other.example/saml", name="other")
    with open(other.metadata_path, "rb") as f:
        r = upload(owner, fields, {"metadata_file": ("idp.xml", f.read(), "text/xml")})
    assert r.status_code in (400, 422) and "no identity provider" in alert_of(r.text)
    r = upload(owner, fields, {"metadata_file": ("idp.xml", md2, "text/xml")})
    assert r.status_code == 200 and "Metadata reloaded" in r.text, r.text
    listed = json.loads(server.ctl("idp", "list", "--json").stdout)
    assert listed[0]["name"] == "Uploaded IdP" and listed[0]["domains"] == "example.com"
    assert listed[0]["certs"] != certs_before and listed[0]["certs"].count("SHA256") == 1
    assert any(a["action"] == "idp.set" and "certs=" in (a["new"] or "")
               for a in audit_entries(server))
