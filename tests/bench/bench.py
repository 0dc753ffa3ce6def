"""make bench: figures for the real bin/gatehouse on loopback, driven by wrk. Prints, asserts
nothing. The server runs with the shipped argon2 defaults (m=19 MiB, t=2, p=1).

SAML: distinct responses pre-minted by bin/mock-idp (`mint --count`), posted to /saml/acs by wrk
at 1 and 2 connections, each sign-in running every check and writing its replay record, its
SAML log row and its session; beside them, the in-process validation rates of the same machine
(build/bench/bench_acs: lasso alone, and lasso with Gatehouse's own checks); and the peer,
Debian's Shibboleth SP 3.4 (tests/bench/shibsp.py), on the same kind of responses in the same
run."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))

import conftest  # noqa: E402  (the e2e harness: Server, Browser)

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
# BENCH_ONLY=saml runs the SAML figures alone (e.g. while profiling the server with perf);
# BENCH_ONLY=seal the ACS rate beside what sealing costs (PKCS#11 unwrap, SAML log body seal)
ACS_BUDGET = int(os.environ.get("BENCH_ACS_PER_SECOND", "2500"))  # responses minted per s per conn
# Shibboleth SP's ACS is far slower: fewer responses need minting for it.
SHIB_PER_SECOND = int(os.environ.get("BENCH_SHIB_PER_SECOND", "600"))
EMAIL = "bench@example.com"
PASSWORD = "Correct-Horse-92"


def wrk(url, conns, threads, extra=(), env=None, seconds=None, p99=False):
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds or SECONDS}s",
                          "--latency", *extra, url], capture_output=True, text=True, env=env,
                         check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result = (rate, p50.group(1) if p50 else "?", int(non2xx.group(1)) if non2xx else 0)
    if p99:
        m = re.search(r"99%\s+([\d.]+\w+)", out)
        result += (m.group(1) if m else "?",)
    return result


def metrics(srv):
    import urllib.request
    text = urllib.request.urlopen(srv.url("/metrics")).read().decode()
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^(\w+) ([\d.]+)$", text, re.M)}


def main():
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is not installed (Debian package wrk)")
    tmp = tempfile.mkdtemp(prefix="gatehouse-bench-")
    conftest.TEST_CONF.clear()  # shipped argon2 defaults, not the cheap test ones
    # The flood figure stands for many attacking addresses: the per-address limit is lifted.
    srv = conftest.Server(tmp, {"server": {"access_log": "off", "threads": "0"},
                                "sp": {"acs_refusals_per_minute": "100000"},
                                "policy": {"session.client_idle_minutes": "120"}})
    srv.env = lambda: dict(os.environ, TZ="UTC")  # the real clock: no libfaketime in the way
    # build/bench/bench_acs loads the SP key in-process from a clear PEM file, so the server
    # starts on one (an older deployment's form, with a warning); where the key rests costs
    # nothing per request: the server holds it in memory either way.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                    "-subj", "/CN=bench-sp", "-keyout", os.path.join(tmp, "sp-key.pem"),
                    "-out", os.path.join(tmp, "sp-cert.pem")], check=True, capture_output=True)
    srv.start()
    try:
        temp = srv.add_user(EMAIL, "member")
        if os.environ.get("BENCH_ONLY") in ("saml", "seal"):
            saml_bench(srv, tmp, shibboleth=os.environ.get("BENCH_ONLY") == "saml")
            return
        b = conftest.Browser(srv)
        b.login(EMAIL, temp)
        b.change_password(temp, PASSWORD)
        cookie = b.session_cookie()
        assert cookie, "bench: could not sign in"
        if os.environ.get("BENCH_ONLY") == "flood":
            flood_bench(srv, tmp)
            return

        argon2_ms = float(subprocess.run(
            [os.path.join(TOP, "build", "bench", "bench_argon2"), "19456", "2", "1", "3"],
            capture_output=True, text=True, check=True).stdout)
        env = dict(os.environ, BENCH_EMAIL=EMAIL, BENCH_PASSWORD=PASSWORD)
        lua = ["-s", os.path.join(HERE, "login.lua")]
        print(f"Gatehouse benchmarks ({os.cpu_count()} CPUs, {SECONDS} s per figure, wrk on loopback)")
        print()
        print(f"argon2id verify in-process (m=19456 KiB t=2 p=1): {argon2_ms:.1f} ms "
              f"= {1000 / argon2_ms:.1f}/s per core")
        for conns, threads in ((1, 1), (2, 2)):
            before = metrics(srv)
            rate, p50, bad = wrk(srv.url("/api/login"), conns, threads, lua, env)
            after = metrics(srv)
            cpu = after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"]
            a2 = (after["gatehouse_argon2_cpu_seconds_total"]
                  - before["gatehouse_argon2_cpu_seconds_total"])
            share = 100.0 * a2 / cpu if cpu else 0
            print(f"password sign-ins (POST /api/login), {conns} conn: {rate:8.1f}/s  p50 {p50}"
                  f"  server CPU inside argon2 {share:5.1f}% "
                  f"(rest of the server {100 - share:4.1f}%)"
                  + (f"  non-2xx {bad}" if bad else ""))
        print()
        hdr = ["-H", f"Cookie: gatehouse_session={cookie}"]
        for conns, threads in ((1, 1), (8, 2)):
            who, p50w, badw = wrk(srv.url("/api/whoami"), conns, threads, hdr)
            hz, p50h, _ = wrk(srv.url("/healthz"), conns, threads)
            cost = (1e6 / who - 1e6 / hz) * min(conns, os.cpu_count() or 1) if who and hz else 0
            print(f"GET /api/whoami with a session, {conns} conn: {who:9.0f}/s  p50 {p50w}"
                  + (f"  non-2xx {badw}" if badw else ""))
            print(f"GET /healthz,                   {conns} conn: {hz:9.0f}/s  p50 {p50h}"
                  f"   -> session check costs ~{cost:.0f} us of CPU per request")
        print()
        saml_bench(srv, tmp)
        print()
        flood_bench(srv, tmp)
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def mint_file(idp_args, n, path):
    """n distinct responses, urlencoded as POST bodies, one per line."""
    out = subprocess.run([os.path.join(TOP, "bin", "mock-idp"), "mint", *idp_args,
                          "--count", str(n)], capture_output=True, text=True, check=True).stdout
    lines = out.split()
    with open(path, "w") as f:
        for b64 in lines:
            f.write("SAMLResponse=" + urllib.parse.quote(b64, safe="") + "\n")
    with open(path + ".b64", "w") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


def register_idp(srv, tmp):
    """Registers mock-idp (IdP-initiated on); the arguments that mint its responses."""
    import urllib.request
    sp_md = os.path.join(tmp, "sp-metadata.xml")
    state = os.path.join(tmp, "idp-state")
    base = "http://127.0.0.1:7999"
    idp_md = os.path.join(tmp, "idp-metadata.xml")
    if not os.path.exists(idp_md):
        with open(sp_md, "w") as f:
            f.write(urllib.request.urlopen(srv.url("/saml/metadata")).read().decode())
        with open(idp_md, "w") as f:
            f.write(subprocess.run([os.path.join(TOP, "bin", "mock-idp"), "metadata",
                                    "--state-dir", state, "--base-url", base],
                                   capture_output=True, text=True, check=True).stdout)
        srv.ctl("idp", "add", "--metadata", idp_md, "--domain", "example.com",
                "--idp-initiated", "on")
    return ["--sp-metadata", sp_md, "--state-dir", state, "--base-url", base]


def flood_bench(srv, tmp):
    """Password sign-in latency, quiet and beside a flood of large tampered SAML responses (4
    connections posting as fast as the server answers), each from wrk on this machine."""
    import base64
    args = register_idp(srv, tmp)
    # Near the ACS bounds: ~270 KB of XML in ~720 attribute values inside the signed assertion,
    # added after signing (so every post is refused as bad_signature after full validation).
    b64 = subprocess.run([os.path.join(TOP, "bin", "mock-idp"), "mint", *args, "--user",
                          "flood@example.com", "--lifetime", "3600"],
                         capture_output=True, text=True, check=True).stdout.strip()
    bulk = "".join(f'<saml:Attribute Name="bulk{i % 4}"><saml:AttributeValue>{"x" * 300}'
                   "</saml:AttributeValue></saml:Attribute>" for i in range(720))
    xml = base64.b64decode(b64).decode()
    assert "</saml:AttributeStatement>" in xml, "bench: mock-idp's response shape changed"
    xml = xml.replace("</saml:AttributeStatement>", bulk + "</saml:AttributeStatement>", 1).encode()
    body = "SAMLResponse=" + urllib.parse.quote(base64.b64encode(xml).decode(), safe="")
    flood_file = os.path.join(tmp, "flood.txt")
    with open(flood_file, "w") as f:
        f.write(body)
    secs = min(SECONDS, 4)
    env = dict(os.environ, BENCH_EMAIL=EMAIL, BENCH_PASSWORD=PASSWORD,
               BENCH_FLOOD_FILE=flood_file)
    login = ["-s", os.path.join(HERE, "login.lua")]
    quiet = wrk(srv.url("/api/login"), 1, 1, login, env, secs, p99=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        flood = pool.submit(wrk, srv.url("/saml/acs"), 4, 1,
                            ["-s", os.path.join(HERE, "flood.lua")], env, secs + 2, True)
        time.sleep(1)
        busy = pool.submit(wrk, srv.url("/api/login"), 1, 1, login, env, secs, True).result()
        flood = flood.result()
    print(f"password sign-in latency beside a flood of tampered SAML responses "
          f"({len(xml) // 1024} KiB of XML, {len(body) // 1024} KiB posted; "
          f"the per-address limit lifted)")
    print(f"POST /api/login, 1 conn, quiet:                 {quiet[0]:6.1f}/s  "
          f"p50 {quiet[1]:>8}  p99 {quiet[3]:>8}")
    print(f"POST /api/login, 1 conn, beside 4 flooding conns: {busy[0]:6.1f}/s  "
          f"p50 {busy[1]:>8}  p99 {busy[3]:>8}")
    reasons = conftest.db_rows(srv, "SELECT reason, count(*) FROM saml_log WHERE reason <> 'ok' "
                                    "GROUP BY reason ORDER BY 2 DESC")
    print(f"the flood meanwhile: {flood[0]:.1f} responses/s refused, p50 {flood[1]}, "
          f"p99 {flood[3]} (logged: " + ", ".join(f"{n} {r}" for r, n in reasons) + ")")


def saml_bench(srv, tmp, shibboleth=True):
    import urllib.request
    sp_md = os.path.join(tmp, "sp-metadata.xml")
    with open(sp_md, "w") as f:
        f.write(urllib.request.urlopen(srv.url("/saml/metadata")).read().decode())
    state = os.path.join(tmp, "idp-state")
    base = "http://127.0.0.1:7999"
    idp_md = os.path.join(tmp, "idp-metadata.xml")
    with open(idp_md, "w") as f:
        f.write(subprocess.run([os.path.join(TOP, "bin", "mock-idp"), "metadata", "--state-dir",
                                state, "--base-url", base], capture_output=True, text=True,
                               check=True).stdout)
    srv.ctl("idp", "add", "--metadata", idp_md, "--domain", "example.com", "--idp-initiated", "on")
    # IdP-initiated (unsolicited) responses: no request to match, every other check the same.
    args = ["--sp-metadata", sp_md, "--state-dir", state, "--base-url", base,
            "--user", "sso.bench@example.com", "--lifetime", "3600"]
    per_conn = SECONDS * ACS_BUDGET
    files = {c: [os.path.join(tmp, f"acs-{c}-{t}.txt") for t in range(c)] for c in (1, 2)}
    jobs = [p for c in (1, 2) for p in files[c]]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        counts = list(pool.map(lambda p: mint_file(args, per_conn, p), jobs))
    print(f"SAML ACS ({sum(counts)} distinct signed responses pre-minted by mock-idp in "
          f"{time.monotonic() - started:.0f} s; RSA-2048, RSA-SHA256, assertion signed)")
    out = subprocess.run([os.path.join(TOP, "build", "bench", "bench_acs"), sp_md,
                          os.path.join(tmp, "sp-key.pem"), os.path.join(tmp, "sp-cert.pem"),
                          idp_md, files[1][0] + ".b64", "3", srv.url("/saml/metadata"),
                          srv.url("/saml/acs")], capture_output=True, text=True,
                         env=dict(os.environ, TZ="UTC"))
    print(out.stdout.rstrip() or out.stderr.rstrip())
    rates = {}
    for conns in (1, 2):
        before = metrics(srv)
        accepted0 = conftest.db_rows(srv, "SELECT count(*) FROM saml_log WHERE reason = 'ok'")[0][0]
        env = dict(os.environ, BENCH_ACS_FILES=",".join(files[conns]))
        rate, p50, bad = wrk(srv.url("/saml/acs"), conns, conns,
                             ["-s", os.path.join(HERE, "acs.lua")], env)
        after = metrics(srv)
        cpu = after["process_cpu_seconds_total"] - before["process_cpu_seconds_total"]
        accepted = conftest.db_rows(
            srv, "SELECT count(*) FROM saml_log WHERE reason = 'ok'")[0][0] - accepted0
        rates[conns] = rate
        print(f"SSO sign-ins (POST /saml/acs), {conns} conn: {rate:8.1f}/s  p50 {p50}  "
              f"server CPU {1000 * cpu / max(rate * SECONDS, 1):.2f} ms per request  "
              f"({accepted} accepted and logged"
              + (f"; {bad} refused: the pre-minted responses ran out, raise "
                 f"BENCH_ACS_PER_SECOND" if bad else "") + ")")
    rows = conftest.db_rows(srv, "SELECT (SELECT count(*) FROM saml_assertions), "
                                 "(SELECT count(*) FROM saml_log), "
                                 "(SELECT count(*) FROM sessions)")[0]
    print(f"store after the runs: {rows[0]} replay records, {rows[1]} SAML log rows, "
          f"{rows[2]} sessions")
    seal_bench(tmp, files[1][0] + ".b64", rates)
    if shibboleth:
        shibboleth_bench(tmp, state, base, idp_md, rates)


def seal_bench(tmp, responses, rates):
    """The PKCS#11 unwrap each start makes (SoftHSM2 token made here) and the SAML log body seal
    each POST /saml/acs makes, beside the ACS rates just measured (which include the seal)."""
    import base64
    d = os.path.join(tmp, "hsm")
    os.makedirs(os.path.join(d, "tokens"))
    conf = os.path.join(d, "softhsm2.conf")
    with open(conf, "w") as f:
        f.write(f"directories.tokendir = {d}/tokens\nobjectstore.backend = file\n"
                "log.level = ERROR\n")
    env = dict(os.environ, SOFTHSM2_CONF=conf)
    module = "/usr/lib/softhsm/libsofthsm2.so"
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin",
                    "1234", "--so-pin", "5678"], env=env, check=True, capture_output=True)
    subprocess.run(["pkcs11-tool", "--module", module, "--token-label", "bench", "--login",
                    "--pin", "1234", "--keygen", "--key-type", "AES:32", "--label", "kek"],
                   env=env, check=True, capture_output=True)
    pin = os.path.join(d, "pin")
    with open(os.open(pin, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("1234\n")
    xml = os.path.join(d, "response.xml")
    with open(responses) as f, open(xml, "wb") as out:
        out.write(base64.b64decode(f.readline().strip()))
    out = subprocess.run([os.path.join(TOP, "build", "bench", "bench_secrets"),
                          os.path.join(d, "store.db"), module, "bench", "kek", pin, xml, "2"],
                         capture_output=True, text=True, env=env)
    print(out.stdout.rstrip() or out.stderr.rstrip())
    m = re.search(r"per ACS request .*?: ([\d.]+) us", out.stdout)
    if m and rates.get(1):
        seal_us, per_req_us = float(m.group(1)), 1e6 / rates[1]
        print(f"  -> at 1 conn the seal is {100 * seal_us / per_req_us:.2f}% of a sign-in's "
              f"{per_req_us:.0f} us: ~{1e6 / (per_req_us - seal_us):.1f}/s without it "
              f"(measured {rates[1]:.1f}/s with it)")


def shibboleth_bench(tmp, state, base, idp_md, gatehouse_rates):
    """The same kind of responses (mock-idp, RSA-2048, RSA-SHA256, assertion signed, distinct,
    unsolicited) posted by wrk in the same way to Debian's Shibboleth SP 3.4 in this run."""
    from shibsp import ShibbolethSP
    folder = os.path.join(tmp, "shibboleth")
    os.makedirs(folder)
    shib = ShibbolethSP(folder, idp_md, base + "/metadata").start()
    try:
        args = ["--sp-metadata", shib.metadata, "--state-dir", state, "--base-url", base,
                "--user", "sso.bench@example.com", "--lifetime", "3600"]
        per_conn = SECONDS * SHIB_PER_SECOND
        files = {c: [os.path.join(folder, f"acs-{c}-{t}.txt") for t in range(c)] for c in (1, 2)}
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(lambda p: mint_file(args, per_conn, p), [p for c in (1, 2)
                                                                   for p in files[c]]))
        print("Shibboleth SP 3.4 (Debian's shibd + mod_shib, Apache event MPM, in-memory "
              "session and replay caches), the same kind of responses:")
        for conns in (1, 2):
            env = dict(os.environ, BENCH_ACS_FILES=",".join(files[conns]),
                       BENCH_ACS_PATH="/Shibboleth.sso/SAML2/POST")
            rate, p50, bad = wrk(shib.base + "/", conns, conns,
                                 ["-s", os.path.join(HERE, "acs.lua")], env)
            ratio = gatehouse_rates[conns] / rate if rate else float("inf")
            print(f"SSO sign-ins (POST /Shibboleth.sso/SAML2/POST), {conns} conn: {rate:8.1f}/s  "
                  f"p50 {p50}" + (f"  ({bad} refused)" if bad else "")
                  + f"   Gatehouse/Shibboleth: {ratio:.1f}x"
                  + ("  (target >= 3x)" if conns == 2 else ""))
    finally:
        shib.stop()


if __name__ == "__main__":
    main()
