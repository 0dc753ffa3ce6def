"""Customer-managed keys (issue 18 item 1) with a real PKCS#11 token: Debian's SoftHSM2, a token
initialised by the test in a temporary folder, an AES key made in it with OpenSC's pkcs11-tool.
The data key is wrapped and unwrapped inside the token; TOTP works across restarts; the store
and the configuration without the token reveal no seed; a removed key or a wrong PIN stops
start-up naming the token and key; rotation to a new token key and migration from a key file
keep every secret readable; each unwrap is audited. The other secrets at rest (the SP private key,
the SMTP password, the bodies of the SAML log) are sealed under the same data key: the store and
the configuration folder without the token reveal none of them."""
import base64
import json
import os
import subprocess

import pytest

from conftest import BIN, TOP, signed_in_user
from test_mfa import enrol, password_step, submit_code, totp

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "4711-2342"


class Token:
    def __init__(self, tmp):
        d = str(tmp)
        os.makedirs(os.path.join(d, "tokens"))
        self.conf = os.path.join(d, "softhsm2.conf")
        with open(self.conf, "w") as f:
            f.write(f"directories.tokendir = {d}/tokens\nobjectstore.backend = file\n"
                    "log.level = ERROR\n")
        self.env = dict(os.environ, SOFTHSM2_CONF=self.conf)
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "gatehouse",
                        "--pin", PIN, "--so-pin", "so-" + PIN], env=self.env, check=True,
                       capture_output=True)
        self.pin_file = os.path.join(d, "pin")
        with open(os.open(self.pin_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(PIN + "\n")

    def tool(self, *args):
        return subprocess.run(["pkcs11-tool", "--module", MODULE, "--token-label", "gatehouse",
                               "--login", "--pin", PIN, *args], env=self.env, check=True,
                              capture_output=True, text=True)

    def make_key(self, label):
        self.tool("--keygen", "--key-type", "AES:32", "--label", label)

    def delete_key(self, label):
        self.tool("--delete-object", "--type", "secrkey", "--label", label)


@pytest.fixture
def token(tmp_path, monkeypatch):
    t = Token(tmp_path / "hsm")
    t.make_key("kek-1")
    monkeypatch.setenv("SOFTHSM2_CONF", t.conf)  # the server and the CLI find the token
    return t


def conf_for(token, key_label="kek-1", provider="pkcs11"):
    return {"secrets": {"provider": provider, "pkcs11_module": MODULE,
                        "token_label": "gatehouse", "key_label": key_label,
                        "pin_file": token.pin_file}}


def mfa_sign_in(server, email, password, secret):
    server.advance(30)
    b = password_step(server, email, password)
    r = submit_code(b, totp(secret, server))
    assert r.status_code == 303, r.text
    return b


def audit(server, action):
    return [e for e in json.loads(server.ctl("audit", "list", "--json").stdout)
            if e["action"] == action]


def store_bytes(server):
    if server.db is not None:  # PostgreSQL: every row, as pg_dump writes them
        return server.db.dump()
    data = b""
    for suffix in ("", "-wal", "-shm"):
        p = os.path.join(server.tmp, "gatehouse.db" + suffix)
        if os.path.exists(p):
            with open(p, "rb") as f:
                data += f.read()
    return data


def restart(server, overrides):
    server.stop()
    with open(server.conf_path) as f:
        text = f.read()
    for k, v in overrides.items():
        lines = [l for l in text.splitlines() if not l.startswith(k + " =")]
        i = lines.index("[secrets]") + 1 if "[secrets]" in lines else len(lines)
        if "[secrets]" not in lines:
            lines.append("[secrets]")
            i = len(lines)
        lines.insert(i, f"{k} = {v}")
        text = "\n".join(lines) + "\n"
    with open(server.conf_path, "w") as f:
        f.write(text)
    return server.start()


def test_totp_across_restarts_with_the_key_in_the_token(make_server, token):
    import base64
    server = make_server(conf_for(token))
    b, pw = signed_in_user(server, "alice@example.com")
    secret, codes = enrol(b, server)
    server.stop()
    server.start()
    mfa_sign_in(server, "alice@example.com", pw, secret)
    # Every start unwrapped the data key in the token, and said so in the audit log.
    unwraps = audit(server, "secrets.unwrap")
    assert len(unwraps) == 2 and unwraps[0]["target"] == "pkcs11:gatehouse/kek-1"
    # The store and the configuration hold nothing that opens the seed: no key file, the data
    # key wrapped by the token, no plaintext seed.
    assert not os.path.exists(os.path.join(server.tmp, "master.key"))
    server.stop()
    data = store_bytes(server)
    raw = base64.b32decode(secret + "=" * (-len(secret) % 8))
    assert secret.encode() not in data and raw not in data and raw.hex().encode() not in data
    assert b"p11:kek-1:" in data
    server.start()


def test_start_up_refuses_without_the_key_or_with_a_wrong_pin(make_server, token):
    server = make_server(conf_for(token))
    server.stop()
    token.delete_key("kek-1")
    with pytest.raises(RuntimeError) as e:
        server.start()
    assert 'token "gatehouse" has no AES key labelled "kek-1"' in str(e.value)
    token.make_key("kek-1")  # a new key with the old label is not the key that wrapped it
    with pytest.raises(RuntimeError) as e:
        server.start()
    assert "does not open the store's data key" in str(e.value)
    with open(token.pin_file, "w") as f:
        f.write("0000\n")
    with pytest.raises(RuntimeError) as e:
        server.start()
    assert "wrong PIN" in str(e.value) and '"gatehouse"' in str(e.value)
    os.chmod(token.pin_file, 0o644)
    with pytest.raises(RuntimeError) as e:
        server.start()
    assert "readable only by its owner" in str(e.value)
    server.proc = None


def test_rotation_to_a_new_token_key_keeps_every_secret(make_server, token):
    server = make_server(conf_for(token))
    b, pw = signed_in_user(server, "bob@example.com")
    secret, _ = enrol(b, server)
    token.make_key("kek-2")
    out = server.ctl("secrets", "rotate", "--key-label", "kek-2").stdout
    assert "key_label = kek-2" in out
    server = restart(server, {"key_label": "kek-2"})
    mfa_sign_in(server, "bob@example.com", pw, secret)
    rot = audit(server, "secrets.rotate")[0]
    assert rot["old"] == "pkcs11:gatehouse/kek-1" and rot["new"] == \
        "pkcs11:gatehouse/kek-2"
    # The old key no longer opens the store.
    server.stop()
    restart_conf = conf_for(token, "kek-1")
    with open(server.conf_path) as f:
        text = f.read().replace("key_label = kek-2", "key_label = kek-1")
    with open(server.conf_path, "w") as f:
        f.write(text)
    with pytest.raises(RuntimeError) as e:
        server.start()
    assert 'wrapped by token key "kek-2", not "kek-1"' in str(e.value), restart_conf
    server.proc = None


def test_migration_from_the_key_file_to_the_token(make_server, token):
    server = make_server(conf_for(token, provider="file"))
    b, pw = signed_in_user(server, "carol@example.com")
    secret, _ = enrol(b, server)
    assert audit(server, "secrets.unwrap") == []  # the key file is not the customer's key
    server.stop()
    out = server.ctl("secrets", "migrate", "--to", "pkcs11").stdout
    assert "provider = pkcs11" in out
    server = restart(server, {"provider": "pkcs11"})
    mfa_sign_in(server, "carol@example.com", pw, secret)
    assert audit(server, "secrets.migrate")[0]["new"] == "pkcs11:gatehouse/kek-1"
    assert len(audit(server, "secrets.unwrap")) == 1
    # Once moved, the key file alone no longer opens the store.
    server.stop()
    with open(server.conf_path) as f:
        text = f.read().replace("provider = pkcs11", "provider = file")
    with open(server.conf_path, "w") as f:
        f.write(text)
    with pytest.raises(RuntimeError):
        server.start()
    server.proc = None


# -- every secret at rest sealed under the data key ---------------------------------------------

RELAY_PW = "relay-Pw-5f0c9e1b77"
DEPARTMENT = "Vorpal-Blade-Research-7731"  # an attribute only the logged response carries


def sealed_smtp_password(server, value):
    p = subprocess.run([os.path.join(BIN, "gatehousectl"), "-c", server.conf_path, "secrets",
                        "seal", "smtp.password"], input=value + "\n", capture_output=True,
                       text=True, env=server.env(), cwd=TOP, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def relay():
    from test_password_reset import start_smtp
    from aiosmtpd import smtp as aiosmtpd_smtp
    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append(auth_data.password)
        return aiosmtpd_smtp.AuthResult(success=auth_data.password == RELAY_PW.encode(),
                                        auth_data=auth_data)

    ctl, box, port = start_smtp(auth_required=True, auth_require_tls=False,
                                authenticator=authenticator)
    return ctl, box, port, seen


def mail_goes_out_with_the_password(server, box, seen, n):
    from test_password_reset import request_reset
    request_reset(server, "dora@example.com")
    box.wait(n)
    assert seen[-1] == RELAY_PW.encode()


def saml_sign_in(server, idp):
    from samlidp import verify_redirect
    from test_saml_acs import post_acs, sp, start
    b, rid, q = start(server, idp)
    # The AuthnRequest is signed with the SP key opened from its sealed file.
    assert verify_redirect(b.get(f"/saml/login?idp={idp.entity_id}").headers["Location"],
                           os.path.join(server.tmp, "sp-cert.pem"))
    attrs = {"email": "eve@example.com", "department": DEPARTMENT}
    b64, _ = idp.response(*sp(server), "eve@example.com", attrs, in_response_to=rid)
    assert post_acs(server, b64, q["RelayState"][0], session=b.s).status_code == 303
    return json.loads(server.ctl("saml-log", "list", "--json", "--limit", "1").stdout)[0]["id"]


def logged_body(server, ref):
    return json.loads(server.ctl("saml-log", "show", str(ref), "--json").stdout)["xml"]


def files_bytes(folder):
    """Every file Gatehouse keeps: store, WAL, configuration, certificate, sealed key, log."""
    data = b""
    for root, _, names in os.walk(folder):
        for n in names:
            with open(os.path.join(root, n), "rb") as f:
                data += f.read()
    return data


@pytest.mark.sqlite_only("reads the raw bytes of the SQLite file and its WAL")
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_store_and_config_without_the_token_reveal_no_secret(make_server, token, tmp_path):
    from samlidp import MiniIdP
    import base64
    ctl, box, port, seen = relay()
    try:
        # An older deployment: its SP key a clear PEM file, made before Gatehouse sealed keys.
        server = make_server(conf_for(token), start=False)
        key, cert = (os.path.join(server.tmp, f"sp-{p}.pem") for p in ("key", "cert"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "9",
                        "-subj", "/CN=old-sp", "-keyout", key, "-out", cert], check=True,
                       capture_output=True)
        with open(key) as f:
            key_body = [l for l in f.read().splitlines() if "-----" not in l]
        server.start()
        assert "the SP private key is in clear at" in server.read_log()
        out = server.ctl("secrets", "seal-sp-key").stdout
        assert "sealed in" in out and not os.path.exists(key)
        assert os.path.exists(key + ".sealed")
        assert audit(server, "secrets.seal")[0]["target"] == "sp key"
        # The SMTP password: sealed by the CLI, only the sealed text in the configuration.
        sealed = sealed_smtp_password(server, RELAY_PW)
        assert sealed.startswith("s1:") and RELAY_PW not in sealed
        server.stop()
        with open(server.conf_path, "a") as f:
            f.write(f"[smtp]\nhost = 127.0.0.1\nport = {port}\nfrom = gh@example.com\n"
                    f"starttls = off\nusername = relay\npassword_sealed = {sealed}\n")
        server.start()
        assert "password is in clear" not in server.read_log()
        signed_in_user(server, "dora@example.com")
        mail_goes_out_with_the_password(server, box, seen, 1)
        # SIGHUP: the password in force was opened from password_sealed, not changed in the file.
        from test_config_reload import reload
        log = reload(server, "", "kept_at_start_values=0")
        assert "[smtp] password changed" not in log
        b, pw = signed_in_user(server, "frank@example.com")
        secret, _ = enrol(b, server)
        idp = MiniIdP(tmp_path)
        server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com")
        ref = saml_sign_in(server, idp)
        assert DEPARTMENT in logged_body(server, ref)  # opened for the admin
        # The CLI unwrapped the data key in the token to open it: a use of the customer's key.
        assert audit(server, "secrets.unwrap")[0]["new"] == \
            "data key unwrapped by gatehousectl saml-log show"
        server.stop()

        data = files_bytes(server.tmp)
        raw_seed = base64.b32decode(secret + "=" * (-len(secret) % 8))
        for plain in [secret.encode(), raw_seed, raw_seed.hex().encode(), RELAY_PW.encode(),
                      DEPARTMENT.encode(), *(l.encode() for l in key_body)]:
            assert plain not in data, plain[:40]
        assert b"eve@example.com" in data  # the test can see: the NameID column is not sealed

        # Rotation to a new token key keeps every secret readable.
        token.make_key("kek-2")
        server.ctl("secrets", "rotate", "--key-label", "kek-2")
        server = restart(server, {"key_label": "kek-2"})
        mail_goes_out_with_the_password(server, box, seen, 2)
        mfa_sign_in(server, "frank@example.com", pw, secret)
        assert DEPARTMENT in logged_body(server, ref)
        assert DEPARTMENT in logged_body(server, saml_sign_in(server, idp))
    finally:
        ctl.stop()


def test_a_clear_sp_key_back_beside_the_sealed_one_stops_start_up(make_server, token):
    server = make_server(conf_for(token))
    key = os.path.join(server.tmp, "sp-key.pem")
    assert os.path.exists(key + ".sealed") and not os.path.exists(key)
    with open(key + ".sealed") as f:
        assert f.read().startswith("s1:")
    server.stop()
    with open(os.open(key, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\n")
    with pytest.raises(RuntimeError) as e:
        server.start()
    assert f"{key}: a clear SP private key beside its sealed copy" in str(e.value)
    os.unlink(key)
    server.start()


def test_a_sealed_value_from_another_store_stops_start_up(make_server, token, tmp_path):
    other = make_server(conf_for(token))
    sealed = sealed_smtp_password(other, RELAY_PW)
    other.stop()
    server = make_server({**conf_for(token), "smtp": {
        "host": "127.0.0.1", "port": "25", "from": "gh@example.com", "username": "u",
        "password_sealed": sealed}}, start=False)
    with pytest.raises(RuntimeError) as e:
        server.start()
    assert "password_sealed does not open with this store's data key" in str(e.value)
    server.proc = None


def test_a_body_moved_to_another_row_does_not_open_and_each_view_says_so(make_server):
    """The key file provider (no token needed): a sealed body is bound to its row's time, issuer
    and assertion ID; the admin page, the API and the CLI say it does not open."""
    import requests
    from conftest import db_write
    from test_admin_api import Api, token_for
    server = make_server()
    xml = "<samlp:Response xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol'>" + DEPARTMENT
    r = requests.post(server.url("/saml/acs"), timeout=30, allow_redirects=False,
                      data={"SAMLResponse": base64.b64encode(xml.encode()).decode()})
    assert r.status_code in (400, 403)
    ref = json.loads(server.ctl("saml-log", "list", "--json").stdout)[0]["id"]
    owner = Api(server, token_for(server, "owner@example.com", "owner"))
    assert DEPARTMENT in owner.get(f"saml-log/{ref}").json()["xml"]
    db_write(server, "UPDATE saml_log SET at = at + 1 WHERE id = ?", (ref,))
    body = owner.get(f"saml-log/{ref}").json()
    assert body["xml"] is None and "does not open" in body["xml_error"]
    shown = json.loads(server.ctl("saml-log", "show", str(ref), "--json").stdout)
    assert shown["xml"] is None and "does not open" in shown["xml_error"]
    admin, _ = signed_in_user(server, "admin@example.com", "admin")
    page = admin.get(f"/admin/saml-log/view?id={ref}").text
    assert "is sealed and does not open with this server&#39;s data key" in page or \
        "is sealed and does not open with this server's data key" in page


def test_bodies_logged_before_sealing_are_sealed_by_the_cli(make_server, token, tmp_path):
    """An older deployment's SAML log holds bodies in clear (stood for by writing one back in
    clear); `secrets seal-saml-log` seals them in place, and they still open."""
    from conftest import db_rows, db_write
    from samlidp import MiniIdP
    server = make_server(conf_for(token))
    idp = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com")
    ref = saml_sign_in(server, idp)
    clear = logged_body(server, ref)
    db_write(server, "UPDATE saml_log SET xml = ? WHERE id = ?", (clear, ref))
    assert DEPARTMENT in logged_body(server, ref)  # shown as it is
    out = server.ctl("secrets", "seal-saml-log").stdout
    assert out.startswith("1 SAML log bodies sealed")
    assert audit(server, "secrets.seal")[0]["new"] == "1"
    assert "0 SAML log bodies" in server.ctl("secrets", "seal-saml-log").stdout
    assert logged_body(server, ref) == clear
    (stored,), = db_rows(server, "SELECT xml FROM saml_log WHERE id = ?", (ref,))
    assert stored.startswith("s1:") and DEPARTMENT not in stored


def test_a_test_sign_in_result_is_sealed_at_rest(make_server, tmp_path):
    """The admin's "Test sign-in" keeps what the response said (NameID, attributes) for its result
    page: sealed like the log's bodies, opened for that page only."""
    from conftest import db_rows
    from test_idp_test_signin import answer, register, start_test
    server = make_server()
    idp = register(server, tmp_path)
    b, _ = signed_in_user(server, "adam@example.com", "admin")
    rid, q = start_test(b, idp)
    r, _ = answer(server, idp, rid, q["RelayState"][0])
    assert "<div>Eve Test</div>" in b.get(r.headers["Location"]).text  # opened for the page
    (stored,), = db_rows(server, "SELECT result FROM saml_tests WHERE request_id = ?", (rid,))
    assert stored.startswith("s1:") and "Eve Test" not in stored
