"""Headless Chromium against Gatehouse's own TLS (a private CA trusted through the NSS database
of a temporary $HOME, as a managed desktop would), and through the HTTP-POST binding with an IdP
that offers only POST: the auto-submitting pages run under their exact CSP (no violation is
reported) for sign-in and single logout. Screenshots in test-artifacts/browser/FLOW/."""
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


harness = _load("gh_harness_tls", os.path.join(TOP, "tests", "e2e", "conftest.py"))
tls = _load("gh_tlspki", os.path.join(TOP, "tests", "e2e", "tlspki.py"))
ART = os.path.join(TOP, "test-artifacts", "browser")


def run_flow(base, flow, home=None, **env):
    assert (os.path.exists("/usr/bin/chromium") and shutil.which("node") and
            os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core"))), \
        "Debian's chromium, node or playwright-core is missing: `make test-deps` installs them"
    e = dict(os.environ, GH_BASE=base, GH_ART=ART, **env)
    if home:
        e["HOME"] = home
    p = subprocess.run(["node", os.path.join(HERE, "flows.mjs"), flow], env=e, cwd=HERE,
                       capture_output=True, text=True, timeout=120)
    print(p.stdout, p.stderr)
    assert p.returncode == 0, f"browser flow {flow} failed:\n{p.stdout}{p.stderr}"
    assert any(s.endswith(".png") for s in os.listdir(os.path.join(ART, flow)))


def test_chromium_over_gatehouse_tls_with_a_private_ca(tmp_path, monkeypatch):
    (tmp_path / "pki").mkdir()
    pki = tls.PKI(tmp_path / "pki")
    cert, key = pki.issue("srv")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki.ca)
    port = harness.free_port()
    (tmp_path / "gh").mkdir()
    srv = harness.Server(tmp_path / "gh", {"server": {"listen": f"127.0.0.1:{port}",
                                                      "tls_cert_file": cert,
                                                      "tls_key_file": key}},
                         base_url=f"https://127.0.0.1:{port}")
    try:
        srv.start()
        harness.signed_in_user(srv, "tia@example.com")
        home = tmp_path / "home"
        nssdb = home / ".pki" / "nssdb"
        nssdb.mkdir(parents=True)
        subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True,
                       capture_output=True)
        subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-A", "-n", "gatehouse-test-ca", "-t",
                        "C,,", "-i", pki.ca], check=True, capture_output=True)
        run_flow(srv.base, "tls", home=str(home), GH_EMAIL="tia@example.com",
                 GH_PASSWORD=harness.STRONG, GH_CA_NAME="Gatehouse test CA")
    finally:
        rc = srv.stop()
    assert rc == 0, srv.read_log()


def test_chromium_sso_and_logout_through_the_post_binding(tmp_path):
    sys.path.insert(0, os.path.join(TOP, "tests", "mockidp"))
    from mockidp_harness import MockIdP
    (tmp_path / "gh").mkdir()
    srv = harness.Server(tmp_path / "gh")
    sp_md = str(tmp_path / "sp-metadata.xml")
    users = str(tmp_path / "users.json")
    with open(users, "w") as f:
        f.write('[{"email": "pia@example.com", "name": "Pia Post"}]')
    (tmp_path / "idp").mkdir()
    idp = MockIdP(tmp_path / "idp", sp_md, "--post-only", users=users)
    try:
        srv.start()
        with open(sp_md, "w") as f:
            f.write(requests.get(srv.url("/saml/metadata"), timeout=30).text)
        idp.start()
        srv.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com")
        run_flow(srv.base, "sso", GH_EMAIL="pia@example.com", GH_NO_CSP_VIOLATIONS="1")
        log = srv.read_log()
        assert "binding=post" in log and "saml logout confirmed" in log, log
    finally:
        rc_idp, rc_srv = idp.stop(), srv.stop()
    assert rc_idp in (0, None), idp.read_log()
    assert rc_srv == 0, srv.read_log()


def test_post_binding_without_javascript(tmp_path):
    """JavaScript off: the person presses Continue on Gatehouse's page and on the IdP's, and
    lands signed in."""
    sys.path.insert(0, os.path.join(TOP, "tests", "mockidp"))
    from mockidp_harness import MockIdP
    (tmp_path / "gh").mkdir()
    srv = harness.Server(tmp_path / "gh")
    sp_md = str(tmp_path / "sp-metadata.xml")
    (tmp_path / "idp").mkdir()
    idp = MockIdP(tmp_path / "idp", sp_md, "--post-only", "--auto-login", "noa@example.com")
    try:
        srv.start()
        with open(sp_md, "w") as f:
            f.write(requests.get(srv.url("/saml/metadata"), timeout=30).text)
        idp.start()
        srv.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com")
        run_flow(srv.base, "postnojs", GH_IDP=idp.entity_id, GH_EMAIL="noa@example.com")
    finally:
        rc_idp, rc_srv = idp.stop(), srv.stop()
    assert rc_idp in (0, None), idp.read_log()
    assert rc_srv == 0, srv.read_log()
