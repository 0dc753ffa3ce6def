"""Crash safety, measured: the server is SIGKILLed six times under a mixed load (password sign-ins
with right and wrong passwords on POST /api/login, users created through the admin API by an
owner and through gatehousectl, IdP-initiated SSO sign-ins with responses minted by
bin/mock-idp) and restarted on the same store. After each kill:
- the store passes SQLite's integrity and foreign-key checks (sqlite3 CLI), nothing half-written;
- every request that got a success answer is in the store: each token and SSO session cookie
  still works, each user created (API 201, CLI exit 0) exists, each accepted assertion is known
  (posting it again is refused as a replay);
- lockout counts are exact: an address's stored failure count is at least the number of 401s it
  was answered before the kill, and at most the number of attempts sent."""
import json
import os
import random
import subprocess
import threading
import time

import requests

from conftest import BIN, STRONG, db_rows, signed_in_user

KILLS = 6
WRONG = "Wrong-Horse-17"


class Load:
    """Threads sending requests until stopped; each records what the server acknowledged."""

    def __init__(self, server, owner_token, idp_responses):
        self.server = server
        self.owner_h = {"Authorization": f"Bearer {owner_token}"}
        # One set aside per round for warm_up, the rest for the load thread.
        self.warm = idp_responses[:KILLS]
        self.responses = idp_responses[KILLS:]
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.tokens = []             # right-password sign-ins answered 200
        self.sso = []                # (SAMLResponse, cookie) answered 303 with a session
        self.api_users = []          # created through the admin API, answered 201
        self.cli_users = []          # created through gatehousectl, exit 0
        self.failures = {}           # address -> [sent, answered 401]
        self.seq = 0
        self.sso_statuses = {}       # status -> count, for the failure message

    def _next(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def password_right(self):
        while not self.stop.is_set():
            try:
                r = requests.post(self.server.url("/api/login"), timeout=10,
                                  json={"email": "user@example.com", "password": STRONG})
            except requests.RequestException:
                continue
            if r.status_code == 200:
                with self.lock:
                    self.tokens.append(r.json()["token"])

    def password_wrong(self, round_no):
        # One address per round keeps each under lockout.max_failures (20): every attempt is a
        # plain counted failure answered 401.
        email = f"victim{round_no}@example.com"
        counts = self.failures.setdefault(email, [0, 0])
        while not self.stop.is_set() and counts[0] < 15:
            counts[0] += 1
            try:
                r = requests.post(self.server.url("/api/login"), timeout=10,
                                  json={"email": email, "password": WRONG})
            except requests.RequestException:
                continue
            if r.status_code == 401:
                counts[1] += 1

    def admin_api(self):
        while not self.stop.is_set():
            email = f"api{self._next()}@example.com"
            try:
                r = requests.post(self.server.url("/api/admin/users"), headers=self.owner_h,
                                  json={"email": email}, timeout=10)
            except requests.RequestException:
                continue
            if r.status_code == 201:
                with self.lock:
                    self.api_users.append(email)

    def admin_cli(self):
        while not self.stop.is_set():
            email = f"cli{self._next()}@example.com"
            if self.server.ctl("user", "add", "--email", email, check=False).returncode == 0:
                with self.lock:
                    self.cli_users.append(email)

    def sso_sign_ins(self):
        while not self.stop.is_set() and self.responses:
            with self.lock:
                response = self.responses.pop()
            s = requests.Session()
            try:
                r = s.post(self.server.url("/saml/acs"), data={"SAMLResponse": response},
                           allow_redirects=False, timeout=10)
            except requests.RequestException:
                continue
            with self.lock:
                self.sso_statuses[r.status_code] = self.sso_statuses.get(r.status_code, 0) + 1
            if r.status_code == 303 and s.cookies.get("gatehouse_session"):
                with self.lock:
                    self.sso.append((response, s.cookies.get("gatehouse_session")))

    def warm_up(self):
        """One SSO sign-in before the load: a restarted server builds its SAML state (seconds
        on a loaded machine) at the first one, which would otherwise outlast the round."""
        response = self.warm.pop()
        s = requests.Session()
        r = s.post(self.server.url("/saml/acs"), data={"SAMLResponse": response},
                   allow_redirects=False, timeout=120)
        assert r.status_code == 303, r.text
        self.sso.append((response, s.cookies.get("gatehouse_session")))

    def run(self, round_no, seconds):
        self.warm_up()
        threads = [threading.Thread(target=self.password_right),
                   threading.Thread(target=self.password_wrong, args=(round_no,)),
                   threading.Thread(target=self.admin_api),
                   threading.Thread(target=self.admin_cli),
                   threading.Thread(target=self.sso_sign_ins)]
        for t in threads:
            t.start()
        time.sleep(seconds)
        # SIGKILL while the threads are still sending: some requests are in flight.
        self.server.proc.kill()
        self.server.proc.wait()
        self.stop.set()
        for t in threads:
            t.join()
        self.server.proc = None
        self.server.log.close()
        self.stop.clear()


def sqlite(server, pragma):
    """A pragma's answer on the server's SQLite file (on PostgreSQL, which checks its own pages,
    the answers that mean "nothing wrong")."""
    if server.db is not None:
        return "ok" if pragma.startswith("PRAGMA integrity_check") else ""
    p = subprocess.run(["sqlite3", os.path.join(server.tmp, "gatehouse.db"), pragma],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def mint_responses(server, tmp_path, n):
    state, base = str(tmp_path / "idp"), "https://crash.idp.example"
    sp_md, idp_md = str(tmp_path / "sp.xml"), str(tmp_path / "idp.xml")
    with open(sp_md, "w") as f:
        f.write(requests.get(server.url("/saml/metadata"), timeout=30).text)

    def mock_idp(*args):
        p = subprocess.run([os.path.join(BIN, "mock-idp"), *args], capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        return p.stdout

    with open(idp_md, "w") as f:
        f.write(mock_idp("metadata", "--base-url", base, "--state-dir", state))
    server.ctl("idp", "add", "--metadata", idp_md, "--domain", "sso.example",
               "--idp-initiated", "on")
    return mock_idp("mint", "--sp-metadata", sp_md, "--state-dir", state, "--base-url", base,
                    "--user", "sso@sso.example", "--lifetime", "3600",
                    "--count", str(n)).split()


def test_sigkill_under_mixed_load_loses_nothing_acknowledged(server, tmp_path):
    server.ctl("policy", "set", "lockout.max_failures", "20")
    signed_in_user(server, "user@example.com")
    signed_in_user(server, "owner@example.com", "owner")
    r = requests.post(server.url("/api/login"), timeout=30,
                      json={"email": "owner@example.com", "password": STRONG})
    assert r.status_code == 200, r.text
    load = Load(server, r.json()["token"], mint_responses(server, tmp_path, 600))
    rng = random.Random(14)
    for round_no in range(KILLS):
        load.run(round_no, rng.uniform(0.6, 1.4))
        assert sqlite(server, "PRAGMA integrity_check;") == "ok"
        assert sqlite(server, "PRAGMA foreign_key_check;") == ""
        server.start()
    # Every kind of request was acknowledged at least once, so each check below checks something.
    assert load.tokens and load.sso and load.api_users and load.cli_users, (
        len(load.tokens), len(load.sso), len(load.api_users), len(load.cli_users),
        load.sso_statuses)
    assert sum(a for _, a in load.failures.values()) > 0

    for token in load.tokens:
        r = requests.get(server.url("/api/whoami"), timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, ("an acknowledged sign-in's session was lost", r.text)
    for _, cookie in load.sso:
        r = requests.get(server.url("/api/whoami"), cookies={"gatehouse_session": cookie},
                         timeout=10)
        assert r.status_code == 200 and r.json()["auth_method"] == "saml", r.text
    for response, _ in load.sso:
        r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": response},
                          allow_redirects=False, timeout=10)
        assert r.status_code != 303, "an accepted assertion was forgotten: replayed after restart"
    listed = {u["email"] for u in json.loads(server.ctl("user", "list", "--json").stdout)}
    missing = [e for e in load.api_users + load.cli_users if e not in listed]
    assert not missing, f"acknowledged user creations lost: {missing}"
    for email, (sent, answered) in load.failures.items():
        rows = db_rows(server, "SELECT failures FROM lockouts WHERE email = ?", (email,))
        stored = rows[0][0] if rows else 0
        assert answered <= stored <= sent, (email, sent, answered, stored)
    server.stop()
    assert sqlite(server, "PRAGMA integrity_check;") == "ok"
    assert sqlite(server, "PRAGMA foreign_key_check;") == ""
