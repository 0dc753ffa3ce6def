"""make bench (BENCH_ONLY=idpscale make bench alone): a federation of 5,000 IdPs (issue 17 item
4). Prints, asserts nothing.

The aggregate is generated (tests/e2e/bigfed.py: 5,000 SAML 2.0 IdPs, each with its own X.509
certificate, scope and display name, signed by the federation's key with xmlsec1 as the
federation tests sign theirs) and served over HTTPS on loopback. One real server (real clock,
shipped argon2 defaults) on a fresh store:
  1. mock-idp registered alone: ACS sign-ins/s at 1 and 2 connections (wrk, distinct
     pre-minted IdP-initiated responses, as bench.py's SAML figures);
  2. mock-idp removed, then `gatehousectl federation add` of the aggregate, with mock-idp's
     EntityDescriptor near its end: load time, a refresh with nothing changed, the server's
     resident memory before and after;
  3. the same ACS figures through that federation IdP with 5,000 registered, beside those of
     step 1, with the ratio (target: within 10 %)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
sys.path.insert(0, HERE)

import bigfed  # noqa: E402
import conftest  # noqa: E402
from bench import metrics, mint_file, wrk  # noqa: E402
from mdserver import MetadataServer, Signer  # noqa: E402

N = int(os.environ.get("BENCH_IDPS", "5000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
# Responses minted per second of measurement per connection: above the ACS rate of this machine.
BUDGET = int(os.environ.get("BENCH_IDPSCALE_PER_SECOND", "1500"))
BASE = "http://127.0.0.1:7999"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def acs_round(srv, files, label):
    """ACS sign-ins/s at 1 and 2 connections with the given response files."""
    rates = {}
    for conns in (1, 2):
        env = dict(os.environ, BENCH_ACS_FILES=",".join(files[conns]))
        before = metrics(srv)
        rate, p50, bad = wrk(srv.url("/saml/acs"), conns, conns,
                             ["-s", os.path.join(HERE, "acs.lua")], env)
        cpu = metrics(srv)["process_cpu_seconds_total"] - before["process_cpu_seconds_total"]
        rates[conns] = (rate, p50, bad, 1000 * cpu / max(rate * SECONDS, 1))
        print(f"  {label}, {conns} conn: {rate:8.1f}/s  p50 {p50}  "
              f"server CPU {rates[conns][3]:.2f} ms per sign-in"
              + (f"  ({bad} refused: the pre-minted responses ran out, raise "
                 "BENCH_IDPSCALE_PER_SECOND)" if bad else ""))
    return rates


def mint_all(args, tmp, tag):
    files = {c: [os.path.join(tmp, f"acs-{tag}-{c}-{t}.txt") for t in range(c)] for c in (1, 2)}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(lambda p: mint_file(args, SECONDS * BUDGET, p),
                      [p for c in (1, 2) for p in files[c]]))
    return files


def main():
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is not installed (Debian package wrk)")
    tmp = tempfile.mkdtemp(prefix="gatehouse-bench-idpscale-")
    conftest.TEST_CONF.clear()  # shipped defaults
    mds = MetadataServer(tmp)
    srv = conftest.Server(tmp, {"server": {"access_log": "off", "threads": "0"},
                                "sp": {"metadata_ca_file": mds.ca,
                                       "acs_refusals_per_minute": "100000"}})
    srv.env = lambda: dict(os.environ, TZ="UTC")  # the real clock
    try:
        started = time.monotonic()
        members = bigfed.Members(N)
        signer = Signer(tmp)
        srv.start()
        sp_md = os.path.join(tmp, "sp-metadata.xml")
        with open(sp_md, "w") as f:
            f.write(urllib.request.urlopen(srv.url("/saml/metadata")).read().decode())
        state = os.path.join(tmp, "idp-state")
        idp_md_path = os.path.join(tmp, "idp-metadata.xml")
        idp_md = subprocess.run([os.path.join(TOP, "bin", "mock-idp"), "metadata",
                                 "--state-dir", state, "--base-url", BASE],
                                capture_output=True, text=True, check=True).stdout
        with open(idp_md_path, "w") as f:
            f.write(idp_md)
        entity = re.search(r'entityID="([^"]+)"', idp_md).group(1)
        position = N - 10
        size = bigfed.write_aggregate(os.path.join(tmp, "fed.xml"), signer,
                                      members.xml(real={position: idp_md}))
        with open(os.path.join(tmp, "fed.xml"), "rb") as f:
            mds.files["/fed.xml"] = f.read()
        args = ["--sp-metadata", sp_md, "--state-dir", state, "--base-url", BASE,
                "--user", "sso.bench@example.com", "--lifetime", "3600"]
        one_files = mint_all(args, tmp, "one")
        fed_files = mint_all(args, tmp, "fed")
        print(f"IdP scale ({os.cpu_count()} CPUs, {SECONDS} s per figure, wrk on loopback; "
              f"aggregate of {N} IdPs, {size / 1e6:.1f} MB signed, and "
              f"{6 * SECONDS * BUDGET} responses made in {time.monotonic() - started:.0f} s)")

        srv.ctl("idp", "add", "--metadata", idp_md_path, "--domain", "example.com",
                "--idp-initiated", "on")
        rss_one = rss_kib(srv.proc.pid)
        print(f"with 1 IdP registered (server RSS {rss_one / 1024:.1f} MiB):")
        one = acs_round(srv, one_files, "SSO sign-ins (POST /saml/acs), 1 IdP")
        srv.ctl("idp", "remove", entity)

        rss_before = rss_kib(srv.proc.pid)
        t = time.monotonic()
        out = srv.ctl("federation", "add", "--url", mds.url("/fed.xml"), "--cert",
                      signer.cert).stdout.strip()
        load = time.monotonic() - t
        t = time.monotonic()
        again = srv.ctl("federation", "refresh", mds.url("/fed.xml")).stdout.strip()
        refresh = time.monotonic() - t
        srv.ctl("idp", "set", entity, "--idp-initiated", "on", "--domain", "example.com")
        urllib.request.urlopen(srv.url("/login")).read()  # the server notices the new registry
        rss_loaded = rss_kib(srv.proc.pid)
        print(f"federation add ({N} IdPs): {load:.1f} s  ({out.split(': ', 1)[-1]})")
        print(f"federation refresh, nothing changed: {refresh:.1f} s  "
              f"({again.split(': ', 1)[-1]})")
        print(f"server RSS: {rss_before / 1024:.1f} MiB before the load, "
              f"{rss_loaded / 1024:.1f} MiB with {N} IdPs registered")
        print(f"with {N} IdPs registered (mock-idp's is number {position + 1} of the aggregate):")
        fed = acs_round(srv, fed_files, f"SSO sign-ins (POST /saml/acs), {N} IdPs")
        m = metrics(srv)
        print(f"server RSS after the sign-ins: {rss_kib(srv.proc.pid) / 1024:.1f} MiB; SAML state: "
              f"{m.get('gatehouse_saml_idp_providers', 0):.0f} IdP providers built and kept "
              f"(bound {m.get('gatehouse_saml_idp_providers_max', 0):.0f}), "
              f"{m.get('gatehouse_saml_idp_provider_builds_total', 0):.0f} builds, "
              f"{m.get('gatehouse_saml_idp_registry_reads_total', 0):.0f} registry reads")
        for conns in (1, 2):
            a, b = one[conns][0], fed[conns][0]
            ratio = b / a if a else float("inf")
            print(f"ACS, {conns} conn: 1 IdP {a:8.1f}/s   {N} IdPs {b:8.1f}/s   "
                  f"ratio {ratio:.3f} ({(ratio - 1) * 100:+.1f} %; target within 10 %)")
    finally:
        srv.stop()
        mds.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
