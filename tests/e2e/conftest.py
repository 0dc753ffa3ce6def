"""End-to-end harness: each test gets its own bin/gatehouse on a free loopback port, with a fresh
store in a temporary folder, under libfaketime so that tests move the server's clock (and the
CLI's) by writing to a file instead of sleeping."""
import glob
import html
import os
import re
import signal
import socket
import subprocess
import time

import sys

import pytest
import requests

# pg.py sits beside this file, which other suites load by path (tests/browser).
if os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pg  # noqa: E402

# GATEHOUSE_TEST_STORE=postgres (make test-postgres): every server the harness makes stores in a
# fresh database of one private PostgreSQL cluster per session (pg.py) instead of a SQLite file.
STORE = os.environ.get("GATEHOUSE_TEST_STORE", "sqlite")
if STORE not in ("sqlite", "postgres"):
    raise RuntimeError(f"GATEHOUSE_TEST_STORE={STORE}: not sqlite or postgres")

TOP = os.environ.get("GATEHOUSE_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("GATEHOUSE_BIN_DIR") or os.path.join(TOP, "bin")


def _faketime_lib():
    for pattern in ("/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1"):
        found = glob.glob(pattern)
        if found:
            return found[0]
    raise RuntimeError("libfaketime is not installed (Debian package: faketime)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Cheap argon2 for tests only (the shipped defaults stay at OWASP's m=19 MiB t=2 p=1).
TEST_CONF = {
    "argon2": {"memory_kib": "1024", "iterations": "1", "parallelism": "1"},
}


class Server:
    """store: None (the session's choice, GATEHOUSE_TEST_STORE), "sqlite", "postgres" (a fresh
    database), or a pg.Database shared with other servers (nodes of one deployment)."""

    def __init__(self, tmp, overrides=None, base_url=None, store=None):
        self.tmp = str(tmp)
        store = store or STORE
        self.owns_db = store == "postgres"
        self.db = pg.session_cluster().create_database() if store == "postgres" else (
            None if store == "sqlite" else store)
        self.port = free_port()
        self.base = base_url or f"http://127.0.0.1:{self.port}"
        self.conf_path = os.path.join(self.tmp, "gatehouse.conf")
        self.time_file = os.path.join(self.tmp, "faketime")
        self.log_path = os.path.join(self.tmp, "server.log")
        self.proc = None
        self.offset = 0
        conf = {
            "server": {"listen": f"127.0.0.1:{self.port}", "base_url": self.base,
                       "templates": os.path.join(TOP, "templates"), "threads": "4"},
            "store": ({"driver": "postgres", "conninfo": self.db.conninfo} if self.db else
                      {"path": os.path.join(self.tmp, "gatehouse.db")}),
            "sp": {"key_file": os.path.join(self.tmp, "sp-key.pem"),
                   "cert_file": os.path.join(self.tmp, "sp-cert.pem")},
            "secrets": {"key_file": os.path.join(self.tmp, "master.key")},
        }
        for section, values in list(TEST_CONF.items()) + list((overrides or {}).items()):
            conf.setdefault(section, {}).update(values)
        with open(self.conf_path, "w") as f:
            for section, values in conf.items():
                f.write(f"[{section}]\n")
                for k, v in values.items():
                    f.write(f"{k} = {v}\n")
        self.set_offset(0)

    # -- clock ---------------------------------------------------------------------------
    def set_offset(self, seconds):
        """Moves the clock of the server and of later CLI runs to real time + seconds."""
        self.offset = int(seconds)
        with open(self.time_file, "w") as f:
            f.write(f"{self.offset:+d}\n")

    def advance(self, seconds):
        self.set_offset(self.offset + int(seconds))

    def env(self):
        env = dict(os.environ)
        env.update({
            "LD_PRELOAD": _faketime_lib(),
            "FAKETIME_TIMESTAMP_FILE": self.time_file,
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "ASAN_OPTIONS": env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0",
            "TZ": "UTC",
        })
        return env

    # -- process -------------------------------------------------------------------------
    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([os.path.join(BIN, "gatehouse"), "-c", self.conf_path],
                                     stdout=self.log, stderr=self.log, env=self.env(), cwd=TOP)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gatehouse exited at start:\n" + self.read_log())
            try:
                if requests.get(self.url("/healthz"), timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.02)
        raise RuntimeError("gatehouse did not answer /healthz:\n" + self.read_log())

    def stop(self):
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self.log.close()
        return rc

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def url(self, path):
        return self.base + path

    # -- CLI -----------------------------------------------------------------------------
    def ctl(self, *args, check=True):
        p = subprocess.run([os.path.join(BIN, "gatehousectl"), "-c", self.conf_path, *args],
                           capture_output=True, text=True, env=self.env(), cwd=TOP, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"gatehousectl {' '.join(args)} failed ({p.returncode}): "
                                 f"{p.stdout}{p.stderr}")
        return p

    def add_user(self, email, role="member", name=None):
        args = ["user", "add", "--email", email, "--role", role]
        if name:
            args += ["--name", name]
        out = self.ctl(*args).stdout
        return out.strip().splitlines()[-1]


def csrf_of(page):
    m = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert m, "no csrf_token on the page"
    return m.group(1)


def alert_of(page):
    m = re.search(r'<div class="alert" role="alert"><p>(.*?)</p>', page, re.S)
    return html.unescape(m.group(1)) if m else None


class Browser:
    """A requests.Session that fills CSRF tokens the way a browser submits a rendered form."""

    def __init__(self, server):
        self.server = server
        self.s = requests.Session()

    def get(self, path, **kw):
        kw.setdefault("allow_redirects", False)
        return self.s.get(self.server.url(path), timeout=30, **kw)

    def post_form(self, page_path, action, fields, **kw):
        page = self.get(page_path, allow_redirects=True)
        data = dict(fields)
        data.setdefault("csrf_token", csrf_of(page.text))
        kw.setdefault("allow_redirects", False)
        return self.s.post(self.server.url(action), data=data, timeout=30, **kw)

    def login(self, email, password, return_to=None):
        path = "/login" + (f"?return_to={return_to}" if return_to else "")
        fields = {"email": email, "password": password}
        if return_to:
            fields["return_to"] = return_to
        return self.post_form(path, "/login", fields)

    def change_password(self, current, new, confirm=None):
        return self.post_form("/password/change", "/password/change", {
            "current_password": current, "new_password": new,
            "confirm_password": new if confirm is None else confirm})

    def whoami(self):
        return self.get("/api/whoami")

    def session_cookie(self):
        return self.s.cookies.get("gatehouse_session")


@pytest.fixture
def make_server(tmp_path):
    servers = []

    def make(overrides=None, start=True, **kw):
        sub = tmp_path / f"srv{len(servers)}"
        sub.mkdir()
        srv = Server(sub, overrides, **kw)
        servers.append(srv)
        return srv.start() if start else srv

    yield make
    for srv in servers:
        rc = srv.stop()
        if srv.owns_db:
            srv.db.drop()
        log = srv.read_log()
        assert "AddressSanitizer" not in log and "runtime error:" not in log, log
        assert rc in (0, None), f"gatehouse exited {rc}:\n{log}"


@pytest.fixture
def pg_cluster():
    """The session's private PostgreSQL (started on first use; pg.py)."""
    return pg.session_cluster()


@pytest.fixture
def pg_database(pg_cluster):
    """A fresh database of the session's cluster, dropped after the test; give it to several
    make_server(store=...) calls for nodes of one deployment."""
    db = pg_cluster.create_database()
    yield db
    db.drop()


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(reason): the test is about SQLite itself "
                            "(its files, WAL, pragmas); skipped, with the reason, under "
                            "GATEHOUSE_TEST_STORE=postgres")


def pytest_collection_modifyitems(config, items):
    if STORE != "postgres":
        return
    for item in items:
        m = item.get_closest_marker("sqlite_only")
        if m is not None:
            item.add_marker(pytest.mark.skip(reason="SQLite only: " + m.args[0]))


@pytest.fixture
def server(make_server):
    return make_server()


@pytest.fixture
def browser(server):
    return Browser(server)


STRONG = "Correct-Horse-92"


def signed_in_user(server, email="user@example.com", role="member", password=STRONG):
    """Creates a user, signs in with the temporary password, completes the forced change, and
    returns (browser, password)."""
    temp = server.add_user(email, role)
    b = Browser(server)
    r = b.login(email, temp)
    assert r.status_code == 303 and r.headers["Location"] == "/password/change", r.text
    r = b.change_password(temp, password)
    assert r.status_code == 303, r.text
    return b, password


# -- helpers shared by the foundation's end-to-end tests ---------------------------------------

def db_rows(server, sql, params=()):
    """Rows of a read-only query on the server's store: its SQLite file (WAL: sees committed
    data) or its PostgreSQL database (pg.py; ? placeholders work on both)."""
    if server.db is not None:
        return server.db.rows(sql, params)
    import sqlite3
    path = os.path.join(server.tmp, "gatehouse.db")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


class StoreRefused(Exception):
    """The store refused a statement (e.g. the audit log's append-only trigger)."""


def db_write(server, sql, params=()):
    """Runs one statement that changes the server's store (SQLite or PostgreSQL), committed;
    raises StoreRefused with the database's message when it refuses."""
    if server.db is not None:
        try:
            server.db.execute(pg.bind(sql, params))
        except RuntimeError as e:
            raise StoreRefused(str(e)) from None
        return
    import sqlite3
    con = sqlite3.connect(os.path.join(server.tmp, "gatehouse.db"), timeout=10)
    try:
        with con:
            con.execute(sql, params)
    except sqlite3.DatabaseError as e:
        raise StoreRefused(str(e)) from None
    finally:
        con.close()


def audit_entries(server, limit=1000):
    import json
    return json.loads(server.ctl("audit", "list", "--json", "--limit", str(limit)).stdout)


def cli_actor():
    import pwd
    return "cli:" + pwd.getpwuid(os.geteuid()).pw_name


def metric(server, name):
    """The value of one sample line of /metrics (name may include labels)."""
    text = requests.get(server.url("/metrics"), timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"no metric {name} in:\n{text}")


_TOKEN_VALUE = re.compile(r'value="[0-9a-f]{64}"')


def page_shape(text, *replace):
    """A page with its per-visitor tokens and the given strings blanked, for comparing the pages
    two visitors got."""
    for s in replace:
        escaped = html.escape(s).replace("&#x27;", "&#39;")  # as the templates escape
        text = text.replace(escaped, "X").replace(s, "X")
    return _TOKEN_VALUE.sub('value="T"', text)
