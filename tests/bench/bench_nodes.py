"""make bench, scale-out figures (issue 16): SSO sign-ins/s (POST /saml/acs), password sign-ins/s
(POST /api/login) and session checks/s (GET /api/whoami) on SQLite with one node, and on
PostgreSQL (tests/e2e/pg.py's private cluster on this machine) with one node and with two nodes
on one database, driven by wrk on loopback; on PostgreSQL also the statements each SSO sign-in
runs (pg_stat_statements calls, BEGIN and COMMIT included: one libpq round trip each). Prints,
asserts nothing. Everything shares the machine: the nodes, PostgreSQL, wrk and mock-idp.

BENCH_SECONDS (default 5) per figure. The shipped argon2 parameters (m=19 MiB, t=2, p=1)."""
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
sys.path.insert(0, HERE)

import conftest  # noqa: E402  (the e2e harness)
import pg  # noqa: E402  (the private PostgreSQL)
from bench import wrk  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ACS_PER_SECOND = int(os.environ.get("BENCH_ACS_PER_SECOND", "1200"))  # minted per s per conn
EMAIL = "bench@example.com"
PASSWORD = "Correct-Horse-92"
BASE = "http://gatehouse.bench.example"  # the base URL of every node (the load balancer's)


class Node(conftest.Server):
    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def env(self):
        return dict(os.environ, TZ="UTC")  # the real clock


def deployment(tmp, n, store, keys):
    nodes = []
    for i in range(n):
        sub = os.path.join(tmp, f"node{i}")
        os.makedirs(sub)
        conf = {"server": {"access_log": "off", "threads": "0", "node_name": f"n{i}"},
                "sp": {"acs_refusals_per_minute": "100000", "key_file": keys[0],
                       "cert_file": keys[1]},
                "secrets": {"key_file": keys[2]},
                "policy": {"session.client_idle_minutes": "120"}}
        nodes.append(Node(sub, conf, base_url=BASE,
                          store="sqlite" if store == "sqlite" else store).start())
    return nodes


def mint(tmp, sp_md, idp_args, files):
    def one(path):
        out = subprocess.run([os.path.join(TOP, "bin", "mock-idp"), "mint", *idp_args,
                              "--sp-metadata", sp_md, "--user", "sso.bench@example.com",
                              "--lifetime", "3600", "--count", str(SECONDS * ACS_PER_SECOND)],
                             capture_output=True, text=True, check=True).stdout.split()
        with open(path, "w") as f:
            f.write("".join("SAMLResponse=" + urllib.parse.quote(b, safe="") + "\n"
                            for b in out))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(one, files))


def parallel_wrk(jobs):
    """Runs wrk jobs [(url, conns, extra, env)] at once; the sum of their rates, and the worst
    non-2xx count."""
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(lambda j: wrk(j[0], j[1], j[1], j[2], j[3]), jobs))
    return sum(r[0] for r in results), sum(r[2] for r in results)


def statements(db):
    if db is None:
        return None
    (n,), = db.rows("SELECT COALESCE(SUM(calls), 0)::bigint FROM pg_stat_statements s JOIN "
                    "pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()")
    return n


def run(label, tmp, store, nodes_n, idp_md, idp_args):
    db = None
    if store == "postgres":
        db = pg.session_cluster().create_database()
        db.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    # The SP key is sealed under the store's data key: each deployment makes its own.
    keys = [os.path.join(tmp, n) for n in ("sp-key.pem", "sp-cert.pem", "master.key")]
    nodes = deployment(tmp, nodes_n, db or "sqlite", keys)
    try:
        first = nodes[0]
        sp_md = os.path.join(tmp, "sp-metadata.xml")
        with open(sp_md, "w") as f:
            import urllib.request
            f.write(urllib.request.urlopen(first.url("/saml/metadata")).read().decode())
        acs_files = [os.path.join(tmp, f"acs-{c}.txt") for c in range(2)]
        mint(tmp, sp_md, idp_args, acs_files)
        temp = first.add_user(EMAIL, "member")
        b = conftest.Browser(first)
        b.login(EMAIL, temp)
        b.change_password(temp, PASSWORD)
        cookie = b.session_cookie()
        first.ctl("idp", "add", "--metadata", idp_md, "--domain", "example.com",
                  "--idp-initiated", "on")
        acs = os.path.join(HERE, "acs.lua")
        # SSO: two connections in all, over the nodes.
        per_node = 2 // nodes_n
        jobs, k = [], 0
        for node in nodes:
            env = dict(os.environ, BENCH_ACS_FILES=",".join(acs_files[k:k + per_node]))
            k += per_node
            jobs.append((node.url("/saml/acs"), per_node, ["-s", acs], env))
        s0 = statements(db)
        ok0 = conftest.db_rows(first, "SELECT count(*) FROM saml_log WHERE reason = 'ok'")[0][0]
        acs_rate, acs_bad = parallel_wrk(jobs)
        ok = conftest.db_rows(first, "SELECT count(*) FROM saml_log WHERE reason = 'ok'")[0][0] - ok0
        per_signin = (statements(db) - s0) / ok if db is not None and ok else None
        env = dict(os.environ, BENCH_EMAIL=EMAIL, BENCH_PASSWORD=PASSWORD)
        login = ["-s", os.path.join(HERE, "login.lua")]
        pw_rate, pw_bad = parallel_wrk([(n.url("/api/login"), 2 // nodes_n, login, env)
                                        for n in nodes])
        hdr = ["-H", f"Cookie: gatehouse_session={cookie}"]
        who_rate, who_bad = parallel_wrk([(n.url("/api/whoami"), 8 // nodes_n, hdr, None)
                                          for n in nodes])
        bad = acs_bad + pw_bad + who_bad
        print(f"{label:22} ACS {acs_rate:7.1f}/s ({ok} accepted)  password {pw_rate:6.1f}/s  "
              f"session checks {who_rate:7.0f}/s"
              + (f"  statements per SSO sign-in {per_signin:.1f}" if per_signin else "")
              + (f"  non-2xx {bad}" if bad else ""))
        return acs_rate
    finally:
        for node in nodes:
            node.stop()
        if db is not None:
            db.drop()


def main():
    if shutil.which("wrk") is None:
        sys.exit("bench_nodes: wrk is not installed (Debian package wrk)")
    pg.SETTINGS["shared_preload_libraries"] = "'pg_stat_statements'"
    conftest.TEST_CONF.clear()  # the shipped argon2 parameters
    tmp = tempfile.mkdtemp(prefix="gatehouse-bench-nodes-")
    try:
        state, idp_base = os.path.join(tmp, "idp-state"), "http://127.0.0.1:7999"
        idp_md = os.path.join(tmp, "idp-metadata.xml")
        with open(idp_md, "w") as f:
            f.write(subprocess.run([os.path.join(TOP, "bin", "mock-idp"), "metadata",
                                    "--state-dir", state, "--base-url", idp_base],
                                   capture_output=True, text=True, check=True).stdout)
        idp_args = ["--state-dir", state, "--base-url", idp_base]
        runs = [("SQLite, 1 node", "sqlite", 1), ("PostgreSQL, 1 node", "postgres", 1),
                ("PostgreSQL, 2 nodes", "postgres", 2)]
        print(f"Scale-out ({os.cpu_count()} CPUs shared by the nodes, PostgreSQL, wrk and "
              f"mock-idp; {SECONDS} s per figure; SSO 2 conns, password 2 conns, session checks "
              f"8 conns, split over the nodes)")
        rates = {}
        for i, (label, store, n) in enumerate(runs):
            rates[label] = run(label, os.path.join(tmp, f"run{i}"), store, n, idp_md, idp_args)
        sq, p1, p2 = (rates[r[0]] for r in runs)
        print(f"ACS: PostgreSQL 1 node = {100 * p1 / sq:.0f} % of SQLite (target >= 70 %); "
              f"2 nodes = {100 * p2 / p1:.0f} % of 1 node (target >= 100 %)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
