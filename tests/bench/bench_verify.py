"""make bench, forward-auth: GET /auth/verify decisions per second with a session, beside
GET /healthz, directly and through a real nginx (auth_request, the README's snippet), and the same
nginx passing the same upstream on with no auth at all. The upstream is an nginx `return 200`, so
that the figure is nginx + Gatehouse, not a slow application. Prints, asserts nothing; the
target is: through nginx >= 80 % of nginx without auth."""
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))

import conftest  # noqa: E402
from bench import wrk  # noqa: E402
from test_forward_auth_proxies import indent, readme_snippet  # noqa: E402

CONNS = int(os.environ.get("BENCH_VERIFY_CONNS", "16"))

NGINX = """
daemon off;
user root;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    upstream app {{ server 127.0.0.1:{upstream}; keepalive 32; }}
    upstream gatehouse {{ server 127.0.0.1:{gatehouse}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
        server_name app.example.test;
{snippet}
        location / {{
{identity}
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }}
    }}
    server {{
        listen 127.0.0.1:{port};
        server_name noauth.example.test;
        location / {{
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://app;
        }}
    }}
    server {{
        listen 127.0.0.1:{upstream};
        location / {{ return 200 "ok\\n"; }}
    }}
}}
"""


def start_nginx(tmp, gatehouse):
    prefix = os.path.join(tmp, "nginx")
    os.makedirs(os.path.join(prefix, "tmp"))
    port, upstream = conftest.free_port(), conftest.free_port()
    snippet = readme_snippet("nginx-verify")
    if os.environ.get("BENCH_VERIFY_KEEPALIVE", "1") == "1":
        # The README's keep-alive variant: one upstream block, HTTP/1.1 to Gatehouse.
        snippet = snippet.replace("proxy_pass http://127.0.0.1:9091/auth/verify;",
                                  "proxy_pass http://gatehouse/auth/verify;\n"
                                  "    proxy_http_version 1.1;\n"
                                  "    proxy_set_header Connection \"\";")
    snippet = snippet.replace("127.0.0.1:9091", f"127.0.0.1:{gatehouse}")
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX.format(prefix=prefix, port=port, upstream=upstream, gatehouse=gatehouse,
                             workers=os.cpu_count() or 2, snippet=indent(snippet, 8),
                             identity=indent(readme_snippet("nginx-identity"), 12)))
    proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-p", prefix, "-c", conf,
                             "-e", os.path.join(prefix, "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, port


def cpu_seconds(pids):
    """utime + stime of the processes, in seconds (/proc/PID/stat fields 14 and 15)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except OSError:
                pass
    return out


def wrk_cpu(url, extra, procs):
    """wrk's figures, and the CPU per request (us) of each named process group and of wrk."""
    before = {name: cpu_seconds(pids) for name, pids in procs.items()}
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_before = ru.ru_utime + ru.ru_stime
    t0 = time.monotonic()
    rate, p50, bad = wrk(url, CONNS, min(CONNS, 2), extra)
    wall = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    n = rate * wall
    cpu = {name: (cpu_seconds(pids) - before[name]) * 1e6 / n for name, pids in procs.items()}
    cpu["wrk"] = (ru.ru_utime + ru.ru_stime - wrk_before) * 1e6 / n
    cpu["idle/other"] = max(0.0, (os.cpu_count() or 1) * wall * 1e6 / n - sum(cpu.values()))
    return rate, p50, bad, cpu


def sign_in(srv):
    """A session: the user signs in and makes their password (cookie for example.test, read
    from the Set-Cookie header since the harness talks to 127.0.0.1)."""
    import requests
    temp = srv.add_user("bench@example.com")
    s = requests.Session()
    page = s.get(srv.url("/login"), timeout=30)
    r = s.post(srv.url("/login"), data={"email": "bench@example.com", "password": temp,
                                        "csrf_token": conftest.csrf_of(page.text)},
               allow_redirects=False, timeout=30)
    token = re.search(r"gatehouse_session=([0-9a-f]{64})", r.headers["Set-Cookie"]).group(1)
    s.cookies.set("gatehouse_session", token)
    page = s.get(srv.url("/password/change"), timeout=30)
    r = s.post(srv.url("/password/change"), data={
        "current_password": temp, "new_password": "Correct-Horse-92",
        "confirm_password": "Correct-Horse-92", "csrf_token": conftest.csrf_of(page.text)},
        allow_redirects=False, timeout=30)
    return re.search(r"gatehouse_session=([0-9a-f]{64})", r.headers["Set-Cookie"]).group(1)


def measure(bin_dir, label):
    """The four figures and the CPU breakdown for the gatehouse of bin_dir; prints them and
    returns the ratio through nginx with auth / without."""
    conftest.BIN = bin_dir
    tmp = tempfile.mkdtemp(prefix="gatehouse-bench-verify-")
    srv = conftest.Server(tmp, {"server": {"access_log": "off", "threads": "0",
                                           "cookie_domain": "example.test"},
                                "policy": {"session.web_idle_minutes": "120"}})
    srv.env = lambda: dict(os.environ, TZ="UTC")
    with open(srv.conf_path) as f:
        text = f.read().replace(f"base_url = {srv.base}", "base_url = http://auth.example.test")
    with open(srv.conf_path, "w") as f:
        f.write(text + "[access]\nrule = *.example.test / signed_in\n")
    srv.start()
    nginx = None
    try:
        cookie = ["-H", f"Cookie: gatehouse_session={sign_in(srv)}"]
        threads = str(min(CONNS, 2))
        rows = []
        rate, p50, bad = wrk(srv.url("/healthz"), CONNS, threads)
        rows.append(("GET /healthz, direct", rate, p50, bad))
        rate, p50, bad = wrk(srv.url("/auth/verify"), CONNS, threads,
                             cookie + ["-H", "X-Original-URL: http://app.example.test/x"])
        rows.append(("GET /auth/verify with a session, direct", rate, p50, bad))
        nginx, port = start_nginx(tmp, srv.port)
        procs = {"gatehouse": [srv.proc.pid], "nginx": [nginx.pid] + children(nginx.pid)}
        base = f"http://127.0.0.1:{port}/x"
        perf = None
        if os.environ.get("BENCH_VERIFY_PERF"):
            # perf record of the server under the through-nginx load (see README, Benchmarks).
            perf = subprocess.Popen(["perf", "record", "-g", "-o", os.environ["BENCH_VERIFY_PERF"],
                                     "-p", str(srv.proc.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rate, p50, bad, cpu_auth = wrk_cpu(base, cookie + ["-H", "Host: app.example.test"], procs)
        if perf is not None:
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=60)
        rows.append(("through nginx with /auth/verify", rate, p50, bad))
        through = rate
        rate, p50, bad, cpu_noauth = wrk_cpu(base, ["-H", "Host: noauth.example.test"], procs)
        rows.append(("through nginx, no auth", rate, p50, bad))
        noauth = rate
        print(f"forward-auth, {label}, {CONNS} connections, {os.cpu_count()} CPUs:")
        for name, rate, p50, bad in rows:
            print(f"  {name:42s} {rate:9.0f}/s  p50 {p50:>8s}" + (f"  non-2xx {bad}" if bad else ""))
        ratio = 100 * through / noauth
        print(f"  through nginx with auth / without: {ratio:.0f} % (target >= 80 %)")
        print("  CPU per request (us):  " + "  ".join(f"{k:>10s}" for k in cpu_auth))
        for name, cpu in (("with /auth/verify", cpu_auth), ("no auth", cpu_noauth)):
            print(f"    {name:20s}" + "  ".join(f"{v:10.1f}" for v in cpu.values()))
        # The ratio the CPU alone allows (every core busy with these three programs, none idle
        # or lent to others), and what it would be if Gatehouse's decision cost nothing: the
        # rest is nginx's own work for the auth_request subrequest.
        busy = [sum(v for k, v in c.items() if k != "idle/other") for c in (cpu_auth, cpu_noauth)]
        free = busy[0] - cpu_auth["gatehouse"]
        print(f"  CPU-bound ratio {100 * busy[1] / busy[0]:.0f} %; with a Gatehouse that cost "
              f"nothing {100 * busy[1] / free:.0f} %")
        print(f"  per core: Gatehouse {1e6 / cpu_auth['gatehouse']:,.0f} decisions/s; nginx "
              f"{1e6 / cpu_noauth['nginx']:,.0f} requests/s without auth, "
              f"{1e6 / cpu_auth['nginx']:,.0f}/s with auth_request")
        return ratio
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if shutil.which("wrk") is None or shutil.which("nginx") is None:
        sys.exit("bench_verify: wrk and nginx are needed (Debian packages wrk, nginx)")
    conftest.TEST_CONF["argon2"] = {"memory_kib": "1024", "iterations": "1", "parallelism": "1"}
    # BENCH_VERIFY_BASELINE=DIR: the bin/ of another build (e.g. main's) measured first in the
    # same run, so that before and after share the machine's load.
    baseline = os.environ.get("BENCH_VERIFY_BASELINE")
    if baseline:
        before = measure(os.path.abspath(baseline), f"baseline {baseline}")
    after = measure(conftest.BIN, "this build")
    if baseline:
        print(f"  before -> after: {before:.0f} % -> {after:.0f} % of nginx without auth")


if __name__ == "__main__":
    main()
