"""`make install` into a temporary DESTDIR: programs, templates with the stylesheet, man pages,
the configuration with the installed paths (kept when it exists), the sandboxed systemd unit and
the gatehouse system user; the installed tree runs, and the unit passes systemd's own review."""
import os
import re
import stat
import subprocess
import time

import requests

from conftest import BIN, TOP, free_port


def install(dest):
    # The build under test (bin/ or build-asan/bin), not whatever `make all` would rebuild.
    p = subprocess.run(["make", "--no-print-directory", "-C", TOP, "install", f"DESTDIR={dest}",
                        "PREFIX=/usr", f"INSTALL_BIN={BIN}"], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    return p


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_make_install_into_destdir(tmp_path):
    dest = str(tmp_path / "root")
    install(dest)
    d = lambda p: dest + p  # noqa: E731
    for prog in ("gatehouse", "gatehousectl"):
        assert mode(d(f"/usr/bin/{prog}")) == 0o755
    for f in ("login.html", "layout.html", "saml_post.html", "gatehouse.css"):
        assert os.path.isfile(d(f"/usr/share/gatehouse/templates/{f}")), f
    conf = d("/etc/gatehouse/gatehouse.conf")
    assert mode(conf) == 0o640
    text = open(conf).read()
    assert "\ntemplates = /usr/share/gatehouse/templates\n" in text
    assert "\npath = /var/lib/gatehouse/gatehouse.db\n" in text
    assert "\nkey_file = /var/lib/gatehouse/master.key\n" in text
    assert "= var/" not in text
    assert open(d("/usr/lib/sysusers.d/gatehouse.conf")).read().splitlines()[-1].startswith(
        "u gatehouse - ")

    unit = d("/usr/lib/systemd/system/gatehouse.service")
    u = open(unit).read()
    for line in ("User=gatehouse", "ExecStart=/usr/bin/gatehouse -c /etc/gatehouse/gatehouse.conf",
                 "ProtectSystem=strict", "NoNewPrivileges=yes", "PrivateTmp=yes",
                 "ReadWritePaths=/var/lib/gatehouse", "StateDirectory=gatehouse",
                 "ExecReload=/bin/kill -HUP $MAINPID"):
        assert f"\n{line}\n" in u, line
    p = subprocess.run(["systemd-analyze", "security", "--offline=true", f"--root={dest}",
                        "--no-pager", unit], capture_output=True, text=True, timeout=60)
    assert "Unknown key" not in p.stderr and "Unknown section" not in p.stderr, p.stderr
    level = re.search(r"Overall exposure level for gatehouse.service: ([0-9.]+) (\w+)", p.stdout)
    assert level and float(level.group(1)) <= 2.0 and level.group(2) == "OK", p.stdout[-500:]

    # Man pages: no groff warnings, whatis lines, every setting in gatehouse.conf(5).
    pages = {"man8/gatehouse.8": "gatehouse - ", "man8/gatehousectl.8": "gatehousectl - ",
             "man5/gatehouse.conf.5": "gatehouse.conf - "}
    for page, name in pages.items():
        path = d(f"/usr/share/man/{page}")
        g = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", path], capture_output=True,
                           text=True, env={**os.environ, "LC_ALL": "C.UTF-8"})
        assert g.returncode == 0 and g.stderr == "", (page, g.stderr)
        w = subprocess.run(["lexgrog", path], capture_output=True, text=True)
        assert f'"{name}' in w.stdout, w.stdout
    rendered = subprocess.run(["man", "-l", d("/usr/share/man/man5/gatehouse.conf.5")],
                              capture_output=True, text=True,
                              env={**os.environ, "MANWIDTH": "200", "MAN_KEEP_FORMATTING": ""})
    for line in text.splitlines():
        if line and line[0] not in ";[":
            assert "\n       " + line.split(" =")[0] + " =" in rendered.stdout, line
    ctl = open(d("/usr/share/man/man8/gatehousectl.8")).read()
    assert "user add \\-\\-email E" in ctl and "@USAGE@" not in ctl

    # The installed tree runs: its configuration, pointed into DESTDIR, passes and serves.
    port = free_port()
    state = tmp_path / "state"
    state.mkdir()
    live = (text.replace("= /usr/share/", f"= {dest}/usr/share/")
            .replace("= /var/lib/gatehouse/", f"= {state}/")
            .replace("listen = 127.0.0.1:8080", f"listen = 127.0.0.1:{port}")
            .replace("memory_kib = 19456", "memory_kib = 1024"))
    live_conf = tmp_path / "live.conf"
    live_conf.write_text(live)
    gh = d("/usr/bin/gatehouse")
    p = subprocess.run([gh, "-c", str(live_conf), "-t"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    proc = subprocess.Popen([gh, "-c", str(live_conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=str(tmp_path))
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "the installed gatehouse did not answer"
                time.sleep(0.05)
        assert requests.get(base + "/login", timeout=10).status_code == 200
        css = requests.get(base + "/static/gatehouse.css", timeout=10)
        assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0

    # A second install keeps the configuration an admin edited.
    with open(conf, "a") as f:
        f.write("; edited by the admin\n")
    out = install(dest).stdout
    assert "kept " in out and open(conf).read().endswith("; edited by the admin\n")
