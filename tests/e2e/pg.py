"""A private PostgreSQL for the tests: Debian's PostgreSQL 15 (`initdb`, `pg_ctl`) in a temporary
folder, on a free loopback port, with its socket in that folder, as a system user of its own when
the tests run as root (PostgreSQL refuses to run as root; CI runs as root). One cluster per test
session (about a second to start); each server gets a fresh database made from template0.

Used by conftest.py (GATEHOUSE_TEST_STORE=postgres, the multi-node tests) and on its own:

    python3 tests/e2e/pg.py run -- CMD ARGS...

starts a cluster, makes a database, runs CMD with GATEHOUSE_TEST_PG set to its conninfo (libpq),
stops the cluster and exits with CMD's status (make test-store-pg runs the store conformance
suite this way)."""
import atexit
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

PG_BIN = os.environ.get("GATEHOUSE_PG_BIN", "/usr/lib/postgresql/15/bin")
# The system user the cluster runs as when we are root (made once, idempotently).
PG_OS_USER = "gatehouse-pg"
# The cluster's superuser, the role the servers connect as.
DB_USER = "gatehouse"
# Speed-ups a throw-away cluster can afford: no fsync (the OS still has every write, so a
# pg_ctl stop -m immediate loses no committed row: the fault tests count on that).
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "300",
    "shared_buffers": "32MB",
    "fsync": "off",
    "full_page_writes": "off",
    "log_min_messages": "warning",
    "log_min_error_statement": "panic",
    "timezone": "'UTC'",
}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing():
    for tool in ("initdb", "pg_ctl", "psql"):
        if not os.access(os.path.join(PG_BIN, tool), os.X_OK):
            return os.path.join(PG_BIN, tool)
    return None


def _os_user():
    """(uid, gid) the cluster runs as: ours, or, as root, PG_OS_USER (created when absent)."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    try:
        pw = pwd.getpwnam(PG_OS_USER)
    except KeyError:
        p = subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                            "--shell", "/usr/sbin/nologin", "--user-group", PG_OS_USER],
                           capture_output=True, text=True)
        # 9: made meanwhile by another run (useradd's "username already in use")
        if p.returncode not in (0, 9):
            raise RuntimeError(f"useradd {PG_OS_USER} failed: {p.stderr.strip()}")
        pw = pwd.getpwnam(PG_OS_USER)
    return pw.pw_uid, pw.pw_gid


PREFIX = "gatehouse-pg-"


def reap_orphans():
    """Stops and removes the clusters of test runs that were killed before their atexit ran
    (their owner.pid names a process that is gone)."""
    import glob
    for d in glob.glob(os.path.join(tempfile.gettempdir(), PREFIX + "*")):
        try:
            with open(os.path.join(d, "owner.pid")) as f:
                owner = int(f.read().strip())
            os.kill(owner, 0)
            continue  # its run is alive
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue  # not ours to judge (unreadable, or being made right now)
        c = Cluster()
        c.dir, c.running = d, True
        c.proc_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": d, "TZ": "UTC"}
        if os.path.exists(os.path.join(d, "data", "postmaster.pid")):
            c.stop()
        shutil.rmtree(d, ignore_errors=True)


def quote(v):
    """v as an SQL literal (tests' own values only; not a general-purpose escaper)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (bytes, bytearray)):
        return "'\\x" + bytes(v).hex() + "'::bytea"
    return "'" + str(v).replace("'", "''") + "'"


def bind(sql, params=()):
    """sql with each ? replaced by the next parameter as a literal (as sqlite3 binds them)."""
    parts = sql.split("?")
    if len(parts) - 1 != len(params):
        raise ValueError(f"{len(parts) - 1} placeholders, {len(params)} parameters: {sql}")
    out = parts[0]
    for value, rest in zip(params, parts[1:]):
        out += quote(value) + rest
    return out


class Cluster:
    def __init__(self):
        self.dir = None
        self.port = None
        self.proc_env = None
        self.running = False
        self._serial = 0
        self._lock = threading.Lock()

    # -- the cluster --------------------------------------------------------------------------
    @property
    def data(self):
        return os.path.join(self.dir, "data")

    @property
    def log_path(self):
        return os.path.join(self.dir, "postgres.log")

    def _as_pg(self, args, check=True, timeout=120):
        uid, gid = _os_user()
        kw = {}
        if os.geteuid() == 0:
            kw = {"user": uid, "group": gid, "extra_groups": []}
        p = subprocess.run(args, capture_output=True, text=True, cwd=self.dir, env=self.proc_env,
                           timeout=timeout, **kw)
        if check and p.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout}{p.stderr}"
                               f"\n{self.read_log()}")
        return p

    def init(self):
        """initdb in a fresh private folder (not started yet)."""
        missing = _missing()
        if missing:
            raise RuntimeError(f"{missing} is missing (Debian package: postgresql)")
        reap_orphans()
        uid, gid = _os_user()
        self.dir = tempfile.mkdtemp(prefix=PREFIX)
        # Whose cluster this is: a later run stops it if this process died without doing so.
        with open(os.path.join(self.dir, "owner.pid"), "w") as f:
            f.write(f"{os.getpid()}\n")
        os.chmod(self.dir, 0o700)
        os.chown(self.dir, uid, gid)
        # No faketime, no sanitizer preloads: PostgreSQL runs on the real clock.
        self.proc_env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": self.dir,
                         "TZ": "UTC"}
        self._as_pg([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", DB_USER,
                     "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"])
        return self

    def _write_settings(self):
        lines = [f"{k} = {v}" for k, v in SETTINGS.items()]
        lines += [f"port = {self.port}", f"unix_socket_directories = '{self.dir}'"]
        with open(os.path.join(self.data, "postgresql.auto.conf"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        """Starts the cluster (initdb first when new); waits until it accepts connections. On
        a restart it keeps its port, so the servers' conninfo stays right."""
        if self.dir is None:
            self.init()
        tries = 1 if self.port else 5
        for attempt in range(tries):
            if self.port is None or attempt > 0:
                self.port = _free_port()  # a race with another listener: try the next one
                self._write_settings()
            p = self._as_pg([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-l",
                             self.log_path, "-w", "-t", "60", "start"], check=False)
            if p.returncode == 0:
                self.running = True
                return self
        raise RuntimeError(f"pg_ctl start failed:\n{p.stdout}{p.stderr}\n{self.read_log()}")

    def stop(self, mode="immediate"):
        """pg_ctl stop (immediate: no shutdown checkpoint; the test data is thrown away)."""
        if self.running:
            self._as_pg([os.path.join(PG_BIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w",
                         "stop"], check=False)
            self.running = False

    def destroy(self):
        self.stop()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def read_log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-4000:]
        except (OSError, TypeError):
            return ""

    # -- databases ----------------------------------------------------------------------------
    def conninfo(self, dbname):
        return f"host={self.dir} port={self.port} user={DB_USER} dbname={dbname}"

    def psql(self, sql, dbname="postgres", check=True):
        p = subprocess.run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t",
                            "-v", "ON_ERROR_STOP=1", "-d", self.conninfo(dbname), "-c", sql],
                           capture_output=True, text=True, timeout=120,
                           env={"PATH": "/usr/bin:/bin", "PGCONNECT_TIMEOUT": "10"})
        if check and p.returncode != 0:
            raise RuntimeError(f"psql: {p.stderr.strip()}\nin: {sql}")
        return p

    def create_database(self):
        with self._lock:
            self._serial += 1
            name = f"gh_{os.getpid()}_{self._serial}"
        self.psql(f"CREATE DATABASE {name} TEMPLATE template0")
        return Database(self, name)

    def rows(self, dbname, sql, params=()):
        """The rows of a query as tuples, each value as JSON gives it (int, str, bool, None;
        bytea as '\\x...' text)."""
        wrapped = f"SELECT row_to_json(q) FROM ({bind(sql, params)}) q"
        out = self.psql(wrapped, dbname).stdout
        return [json.loads(line, object_pairs_hook=lambda pairs: tuple(v for _, v in pairs))
                for line in out.splitlines() if line]


class Database:
    """One database of the cluster: what a server (or several, one per node) is configured with."""

    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name
        self.dropped = False

    @property
    def conninfo(self):
        return self.cluster.conninfo(self.name)

    @property
    def location(self):
        return "postgres:" + self.conninfo

    def rows(self, sql, params=()):
        return self.cluster.rows(self.name, sql, params)

    def execute(self, sql):
        return self.cluster.psql(sql, self.name)

    def dump(self):
        """pg_dump's text of every row (bytes)."""
        return subprocess.run([os.path.join(PG_BIN, "pg_dump"), "--data-only", "-d",
                               self.conninfo], capture_output=True, check=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin"}).stdout

    def drop(self):
        if not self.dropped and self.cluster.running:
            self.cluster.psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)", check=False)
        self.dropped = True


_session = None


def session_cluster():
    """The test session's cluster, started on first use and stopped when the process exits."""
    global _session
    if _session is None:
        c = Cluster()
        try:
            c.start()
        except Exception:
            c.destroy()
            raise
        _session = c
        atexit.register(c.destroy)
    elif not _session.running:
        _session.start()  # a fault test left it stopped
    return _session


def _main(argv):
    if len(argv) < 3 or argv[1] != "run" or argv[2] != "--" or len(argv) < 4:
        sys.stderr.write("usage: pg.py run -- CMD ARGS...\n")
        return 2
    c = Cluster()
    try:
        c.start()
        db = c.create_database()
        env = dict(os.environ, GATEHOUSE_TEST_PG=db.conninfo)
        sys.stderr.write(f"pg.py: PostgreSQL on port {c.port}, GATEHOUSE_TEST_PG={db.conninfo}\n")
        return subprocess.run(argv[3:], env=env).returncode
    finally:
        c.destroy()


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
