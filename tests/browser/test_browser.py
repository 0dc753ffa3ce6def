"""Browser tests: each flow of flows.mjs in Debian's headless Chromium (playwright-core from
npm) against the real bin/gatehouse, started by the e2e harness. Screenshots of every step go to
test-artifacts/browser/FLOW/."""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
_spec = importlib.util.spec_from_file_location("gh_harness",
                                               os.path.join(TOP, "tests", "e2e", "conftest.py"))
harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(harness)
_spec2 = importlib.util.spec_from_file_location("gh_samlidp",
                                                os.path.join(TOP, "tests", "e2e", "samlidp.py"))
samlidp = importlib.util.module_from_spec(_spec2)
_spec2.loader.exec_module(samlidp)

ART = os.path.join(TOP, "test-artifacts", "browser")
STRONG = harness.STRONG


def _ready():
    return (os.path.exists("/usr/bin/chromium") and shutil.which("node") and
            os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")))


@pytest.fixture
def server(tmp_path):
    assert _ready(), ("Debian's chromium, node or playwright-core is missing: `make test-deps` "
                      "installs them")
    srv = harness.Server(tmp_path).start()
    yield srv
    rc = srv.stop()
    assert rc in (0, None), srv.read_log()


def run_flow(server, flow, **env):
    e = dict(os.environ, GH_BASE=server.base, GH_ART=ART, **env)
    p = subprocess.run(["node", os.path.join(HERE, "flows.mjs"), flow], env=e, cwd=HERE,
                       capture_output=True, text=True, timeout=120)
    print(p.stdout, p.stderr)
    assert p.returncode == 0, f"browser flow {flow} failed:\n{p.stdout}{p.stderr}"
    shots = os.listdir(os.path.join(ART, flow))
    assert any(s.endswith(".png") for s in shots)
    return p.stdout


def user_with_password(server, email, role="member"):
    """A user who has done the first-login change already (through HTTP)."""
    harness.signed_in_user(server, email, role)
    return STRONG


def test_sign_in_and_forced_password_change(server):
    temp = server.add_user("ann@example.com")
    run_flow(server, "password", GH_EMAIL="ann@example.com", GH_PASSWORD=temp,
             GH_NEW_PASSWORD="Brand-New-Secret-42")
    r = requests.post(server.url("/api/login"), json={"email": "ann@example.com",
                                                      "password": "Brand-New-Secret-42"},
                      timeout=30)
    assert r.status_code == 200


def test_totp_enrolment_by_qr_page(server):
    pw = user_with_password(server, "tom@example.com")
    run_flow(server, "totp", GH_EMAIL="tom@example.com", GH_PASSWORD=pw)
    assert requests.post(server.url("/api/login"), json={
        "email": "tom@example.com", "password": pw}, timeout=30).json()["error"] == "mfa_required"


def test_password_sign_in_off_changes_the_sign_in_page(server, tmp_path):
    idp = samlidp.MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com")
    pw = user_with_password(server, "olive@example.com", "owner")
    run_flow(server, "switch", GH_EMAIL="olive@example.com", GH_PASSWORD=pw)
    assert "password_login" in server.ctl("audit", "list", "--action", "policy.set").stdout


def test_saml_log_detail_view(server, tmp_path):
    idp = samlidp.MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com",
               "--idp-initiated", "on")
    b64, _ = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"),
                          "eve@example.com", {"email": "eve@example.com"}, lifetime=-600)
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64}, timeout=30)
    assert r.status_code == 403 and re.search(r"SAML-\d+", r.text)
    pw = user_with_password(server, "adam@example.com", "admin")
    run_flow(server, "samllog", GH_EMAIL="adam@example.com", GH_PASSWORD=pw)


def test_sso_sign_in_through_mock_idp(server, tmp_path):
    """The person types a work e-mail on the sign-in page, picks themself on bin/mock-idp's
    page (no --auto-login: the real picker), and lands signed in through SSO."""
    sys.path.insert(0, os.path.join(TOP, "tests", "mockidp"))
    from mockidp_harness import MockIdP
    sp_md = str(tmp_path / "sp-metadata.xml")
    with open(sp_md, "w") as f:
        f.write(requests.get(server.url("/saml/metadata"), timeout=30).text)
    users = str(tmp_path / "users.json")
    with open(users, "w") as f:
        f.write('[{"email": "sara@example.com", "name": "Sara Lane", "groups": ["staff"]},'
                ' {"email": "tim@example.com", "name": "Tim Holt"}]')
    (tmp_path / "idp").mkdir()
    idp = MockIdP(tmp_path / "idp", sp_md, users=users).start()
    try:
        server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com",
                   "--name", "mock-idp")
        run_flow(server, "sso", GH_EMAIL="sara@example.com")
    finally:
        rc = idp.stop()
    assert rc in (0, None), idp.read_log()
    user = json.loads(server.ctl("user", "show", "sara@example.com", "--json").stdout)
    assert user["auth_method"] == "saml" and user["name"] == "Sara Lane"


def test_forward_auth_through_nginx(tmp_path):
    """An application behind a real nginx (auth_request): Chromium opens it, is sent to the
    sign-in page on auth.example.test, signs in, is back at the application (the CSP lets the
    form's redirect reach another host under the cookie domain), and a second host under the
    domain is served by the same session."""
    assert _ready(), ("Debian's chromium, node or playwright-core is missing: `make test-deps` "
                      "installs them")
    import socket
    sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
    import test_forward_auth_proxies as proxies
    from test_forward_auth import _loopback_for_test_names
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket, "getaddrinfo", _loopback_for_test_names)
        env = proxies.Env(tmp_path, "nginx")
        try:
            env.user("mia@example.com")
            run_flow(env.gh, "forward_auth", GH_APP_URL=env.url("app", "/docs?x=1"),
                     GH_EMAIL="mia@example.com", GH_PASSWORD=proxies.STRONG,
                     GH_RESOLVE="MAP *.example.test 127.0.0.1", GH_NO_CSP_VIOLATIONS="1")
        finally:
            env.stop()


def test_idp_health_and_test_sign_in_through_mock_idp(server, tmp_path):
    """The admin IdP page in Chromium: the health panel, the banner for a signing certificate
    that expires in 20 days, and "Test sign-in" against bin/mock-idp (its real picker), whose
    result page shows the verdict, the e-mail and the attributes; no user is created."""
    sys.path.insert(0, os.path.join(TOP, "tests", "mockidp"))
    from mockidp_harness import MockIdP
    sp_md = str(tmp_path / "sp-metadata.xml")
    with open(sp_md, "w") as f:
        f.write(requests.get(server.url("/saml/metadata"), timeout=30).text)
    users = str(tmp_path / "users.json")
    with open(users, "w") as f:
        f.write('[{"email": "sara@example.com", "name": "Sara Lane", "groups": ["staff"]}]')
    (tmp_path / "idp").mkdir()
    key, cert = str(tmp_path / "idp-key.pem"), str(tmp_path / "idp-cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "20", "-subj", "/CN=mock-idp"], check=True,
                   capture_output=True)
    idp = MockIdP(tmp_path / "idp", sp_md, "--key", key, "--cert", cert, users=users).start()
    try:
        server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com",
                   "--name", "mock-idp")
        pw = user_with_password(server, "owen@example.com", "owner")
        run_flow(server, "idptest", GH_EMAIL="owen@example.com", GH_PASSWORD=pw,
                 GH_IDP_NAME="mock-idp", GH_TEST_USER="sara@example.com")
    finally:
        rc = idp.stop()
    assert rc in (0, None), idp.read_log()
    emails = {u["email"] for u in json.loads(server.ctl("user", "list", "--json").stdout)}
    assert "sara@example.com" not in emails
    shots = os.listdir(os.path.join(ART, "idptest"))
    for name in ("idp-health-and-banner", "mock-idp-picker", "test-result"):
        assert any(name in s for s in shots), (name, shots)
