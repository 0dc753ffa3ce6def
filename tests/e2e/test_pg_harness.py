"""The private PostgreSQL the tests run on (pg.py): not root, loopback only, its socket in its own
folder, a fresh database per server, and a stop/start that keeps the address the servers were
given (the fault tests stop and start it under running servers)."""
import os
import pwd
import socket
import subprocess

import pytest

import pg


def postmaster(cluster):
    with open(os.path.join(cluster.data, "postmaster.pid")) as f:
        return int(f.readline())


def test_the_cluster_runs_as_an_unprivileged_user_in_a_private_folder(pg_cluster):
    pid = postmaster(pg_cluster)
    user = subprocess.run(["ps", "-o", "user=", "-p", str(pid)], capture_output=True,
                          text=True).stdout.strip()
    if os.geteuid() == 0:
        assert user == pg.PG_OS_USER
        assert pwd.getpwnam(pg.PG_OS_USER).pw_uid != 0
    else:
        assert user == pwd.getpwuid(os.geteuid()).pw_name
    st = os.stat(pg_cluster.dir)
    assert st.st_mode & 0o077 == 0 and st.st_uid == pwd.getpwnam(user).pw_uid
    assert os.path.exists(os.path.join(pg_cluster.dir, f".s.PGSQL.{pg_cluster.port}"))
    # Loopback only.
    assert pg_cluster.rows("postgres", "SELECT current_setting('listen_addresses')") == [("127.0.0.1",)]
    with socket.create_connection(("127.0.0.1", pg_cluster.port), timeout=5):
        pass


def test_each_database_is_fresh_and_its_own(pg_cluster):
    a, b = pg_cluster.create_database(), pg_cluster.create_database()
    try:
        assert a.name != b.name
        a.execute("CREATE TABLE t (id bigint PRIMARY KEY, name text, ok boolean, raw bytea)")
        a.execute(pg.bind("INSERT INTO t VALUES (?, ?, ?, ?)", (7, "O'Brien?", True, b"\x00\xff")))
        assert a.rows("SELECT id, name, ok, raw FROM t WHERE name = ?", ("O'Brien?",)) == \
            [(7, "O'Brien?", True, "\\x00ff")]
        assert b.rows("SELECT count(*) FROM pg_tables WHERE tablename = 't'") == [(0,)]
        with pytest.raises(ValueError):
            pg.bind("SELECT ?, ?", (1,))
    finally:
        a.drop()
        b.drop()
    assert pg_cluster.rows("postgres", "SELECT count(*) FROM pg_database WHERE datname = ?",
                           (a.name,)) == [(0,)]


def test_stop_and_start_keep_the_address_and_the_data(pg_database):
    c = pg_database.cluster
    pg_database.execute("CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
    port = c.port
    c.stop()
    with pytest.raises(RuntimeError):
        pg_database.rows("SELECT 1")
    c.start()
    assert c.port == port
    assert pg_database.rows("SELECT v FROM kept") == [(42,)]


def test_pg_py_runs_a_command_with_gatehouse_test_pg_set():
    here = os.path.dirname(os.path.abspath(__file__))
    p = subprocess.run(["/usr/bin/python3", os.path.join(here, "pg.py"), "run", "--", "sh", "-c",
                        'psql -X -At -d "$GATEHOUSE_TEST_PG" -c "SELECT current_database()"; '
                        'exit 3'], capture_output=True, text=True, timeout=120)
    assert p.returncode == 3, p.stderr
    assert p.stdout.strip().startswith("gh_"), p.stdout + p.stderr
