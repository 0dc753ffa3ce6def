"""IdP health for admins (issue 17 item 5): per IdP, the last accepted and the last refused
response (time, reason, the SAML log reference linking to its entry) and when its signing
certificate expires, on the admin IdP page, in the admin API and in `gatehousectl idp show` /
`idp list --json`; a banner on every admin page and a /metrics gauge once a certificate expires
within 30 days."""
import json
import re

import requests

from conftest import STRONG, metric, signed_in_user
from samlidp import MiniIdP

DAY = 86400


def register(server, tmp_path):
    idp = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com",
               "--idp-initiated", "on", "--name", "Test IdP")
    return idp


def post(server, idp, email, **kw):
    b64, _ = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"), email,
                          {"email": email}, **kw)
    return requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64}, timeout=30,
                         allow_redirects=False)


def ref_of(r):
    return int(re.search(r"SAML-(\d+)", r.text).group(1))


def test_last_accepted_and_refused_are_shown_with_their_log_references(server, tmp_path):
    idp = register(server, tmp_path)
    b, _ = signed_in_user(server, "adam@example.com", "admin")
    page = b.get("/admin/idps").text
    assert "none yet" in page
    assert post(server, idp, "eve@example.com").status_code == 303
    accepted = max(e["id"] for e in json.loads(
        server.ctl("saml-log", "list", "--json").stdout) if e["verdict"] == "accepted")
    refused = post(server, idp, "eve@example.com", lifetime=-600)
    assert refused.status_code == 403
    bad = ref_of(refused)
    page = b.get("/admin/idps").text
    acc = re.search(r'<dd class="last-accepted">(.*?)</dd>', page, re.S).group(1)
    ref = re.search(r'<dd class="last-refused">(.*?)</dd>', page, re.S).group(1)
    assert f'href="/admin/saml-log/view?id={accepted}">SAML-{accepted}</a>' in acc
    assert f'href="/admin/saml-log/view?id={bad}">SAML-{bad}</a>' in ref and "expired" in ref
    # The link leads to the entry.
    assert "expired" in b.get(f"/admin/saml-log/view?id={bad}").text
    # The admin API and the CLI say the same.
    tok = requests.post(server.url("/api/login"), json={"email": "adam@example.com",
                                                        "password": STRONG}, timeout=30)
    h = {"Authorization": "Bearer " + tok.json()["token"]}
    health = requests.get(server.url("/api/admin/idps"), headers=h,
                          timeout=30).json()["idps"][0]["health"]
    assert health["last_accepted"]["ref"] == f"SAML-{accepted}"
    assert health["last_refused"]["ref"] == f"SAML-{bad}"
    assert health["last_refused"]["reason"] == "expired"
    shown = json.loads(server.ctl("idp", "show", idp.entity_id, "--json").stdout)["health"]
    assert shown["last_refused"]["log_id"] == bad and shown["last_accepted"]["log_id"] == accepted
    listed = json.loads(server.ctl("idp", "list", "--json").stdout)[0]["health"]
    # (seconds_to_first_expiry moves with the clock between the two runs)
    for h in (listed, shown):
        h["certificates"].pop("seconds_to_first_expiry")
    assert listed == shown
    text = server.ctl("idp", "show", idp.entity_id).stdout
    assert f"last refused: " in text and f"SAML-{bad} expired" in text
    # A later accepted sign-in moves "last accepted" on; "last refused" stays.
    assert post(server, idp, "eve@example.com").status_code == 303
    again = json.loads(server.ctl("idp", "show", idp.entity_id, "--json").stdout)["health"]
    assert again["last_accepted"]["log_id"] > bad and again["last_refused"]["log_id"] == bad


def test_certificate_expiry_warns_thirty_days_ahead_on_pages_and_metrics(server, tmp_path):
    idp = register(server, tmp_path)  # its certificate is valid for 3650 days from now
    signed_in_user(server, "olive@example.com", "owner")
    sel = 'gatehouse_idp_cert_expiry_seconds{idp="https://idp.test.example/saml"}'
    assert metric(server, "gatehouse_idp_certs_expiring") == 0
    left = metric(server, sel)
    assert 3649 * DAY < left <= 3650 * DAY
    b = login(server)
    assert 'id="cert-banner"' not in b.get("/admin").text
    # 31 days before the expiry: still quiet.
    server.set_offset(3650 * DAY - 31 * DAY)
    assert metric(server, "gatehouse_idp_certs_expiring") == 0
    b = login(server)
    assert 'id="cert-banner"' not in b.get("/admin/users").text
    # 29 days before: the banner on every admin page, the gauge, the IdP's own panel.
    server.set_offset(3650 * DAY - 29 * DAY)
    assert metric(server, "gatehouse_idp_certs_expiring") == 1
    assert 28 * DAY < metric(server, sel) <= 29 * DAY
    b = login(server)
    for path in ("/admin", "/admin/users", "/admin/idps", "/admin/federations"):
        page = b.get(path).text
        assert 'id="cert-banner"' in page and "Test IdP" in page, path
    page = b.get("/admin/idps").text
    assert re.search(r'<dd class="cert-expiry error">[^<]*\(in 2[89] days\)', page), page
    health = json.loads(server.ctl("idp", "show", idp.entity_id, "--json").stdout)["health"]
    assert health["certificates"]["expiry_warning"] is True
    # Expired: still warned, the gauge negative.
    server.set_offset(3650 * DAY + 2 * DAY)
    assert metric(server, sel) < 0 and metric(server, "gatehouse_idp_certs_expiring") == 1
    assert "expired" in login(server).get("/admin").text


def login(server):
    from conftest import Browser
    b = Browser(server)
    r = b.login("olive@example.com", STRONG)
    assert r.status_code == 303, r.text
    return b
