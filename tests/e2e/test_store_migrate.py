"""gatehousectl store migrate --from sqlite:PATH --to postgres:CONNINFO (issue 16 item 3): a
single-node deployment moves to PostgreSQL with everything it had: accounts and their
passwords, sessions, TOTP seeds sealed under the data key (which moves wrapped), IdPs, the SAML
and audit logs; counts and checksums are verified; a database that is not empty is refused; and
the server then runs on PostgreSQL, where new rows get ids past the copied ones."""
import os

import requests

from conftest import STRONG, Browser, db_rows, signed_in_user
from samlidp import MiniIdP
from test_mfa import enrol, password_step, submit_code, totp

TABLES = ["users", "sessions", "audit", "idps", "idp_domains", "saml_log", "data_keys", "totp",
          "recovery_codes", "secrets", "settings", "roles"]


def migrate(server, *args):
    return server.ctl("store", "migrate", *args, check=False)


def counts(server):
    return {t: db_rows(server, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}


def test_a_sqlite_deployment_moves_to_postgres_whole(make_server, pg_database, tmp_path):
    server = make_server(store="sqlite")
    alice, _ = signed_in_user(server, "alice@example.com")
    secret, codes = enrol(alice, server)
    bob, _ = signed_in_user(server, "bob@example.com", "admin")
    idp = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com",
               "--idp-initiated", "on")
    b64, _ = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"),
                          "carol@example.com", {"email": "carol@example.com"})
    assert requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64},
                         allow_redirects=False, timeout=30).status_code == 303
    server.ctl("policy", "set", "lockout.max_failures", "4")
    server.ctl("role", "add", "auditor", "--permission", "audit.view")  # beside the seeded three
    before = counts(server)
    assert all(before[t] > 0 for t in TABLES), before
    server.stop()

    path = os.path.join(server.tmp, "gatehouse.db")
    p = migrate(server, "--from", "sqlite:" + path, "--to", pg_database.location)
    assert p.returncode == 0, p.stdout + p.stderr
    for t in TABLES:
        assert f"  {t} " in p.stdout, t
    assert "counts and checksums agree" in p.stdout
    assert "driver = postgres" in p.stdout and f"conninfo = {pg_database.conninfo}" in p.stdout

    # The same rows on the other side.
    server.db = pg_database
    assert counts(server) == before
    assert db_rows(server, "SELECT permissions FROM roles WHERE name = 'auditor'") == \
        [("audit.view",)]
    # A second run finds the target in use and changes nothing.
    p = migrate(server, "--from", "sqlite:" + path, "--to", pg_database.location)
    assert p.returncode == 1 and "not empty" in p.stderr, p.stdout + p.stderr
    assert counts(server) == before

    # The server on PostgreSQL, as the command said, with the same key files.
    with open(server.conf_path) as f:
        lines = [ln for ln in f.read().splitlines() if not ln.startswith("path = ")]
    i = lines.index("[store]") + 1
    lines[i:i] = ["driver = postgres", f"conninfo = {pg_database.conninfo}"]
    with open(server.conf_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    server.start()
    # Sessions, passwords, the sealed TOTP seed, the policy and the IdP all came along.
    assert bob.whoami().json()["email"] == "bob@example.com"
    server.advance(60)
    b = password_step(server, "alice@example.com", STRONG)
    assert submit_code(b, totp(secret, server)).status_code == 303
    assert b.whoami().json()["mfa"] is True
    wrong = [Browser(server).login("bob@example.com", "Wrong-Password-1").status_code
             for _ in range(4)]
    assert wrong == [401, 401, 401, 429], wrong
    b64, _ = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"),
                          "carol@example.com", {"email": "carol@example.com"})
    assert requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64},
                         allow_redirects=False, timeout=30).status_code == 303
    # New rows get new ids: the identities moved past the copied ones.
    server.add_user("dave@example.com")
    ids = [i for (i,) in db_rows(server, "SELECT id FROM users ORDER BY id")]
    assert len(ids) == len(set(ids)) == before["users"] + 1
    actions = [a for (a,) in db_rows(server, "SELECT action FROM audit ORDER BY id")]
    assert actions[-1] == "user.add" and len(actions) > before["audit"]


def test_migrate_refuses_what_it_cannot_do(make_server, pg_database):
    server = make_server(store="sqlite", start=False)
    missing = os.path.join(server.tmp, "nope.db")
    p = migrate(server, "--from", "sqlite:" + missing, "--to", pg_database.location)
    assert p.returncode == 1 and "nope.db: cannot open" in p.stderr
    assert not os.path.exists(missing)
    p = migrate(server, "--from", "sqlite:" + missing, "--to", "sqlite:/tmp/x.db")
    assert p.returncode == 1 and "--to must be postgres:CONNINFO" in p.stderr
    assert migrate(server, "--from", "sqlite:" + missing).returncode == 2
    assert server.ctl("store", "copy", check=False).returncode == 2
