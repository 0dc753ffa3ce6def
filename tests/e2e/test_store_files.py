"""The store and key files (issue 14 item 4): created 0600 whatever the umask, refused at start
when other users may read them (naming the file), and /healthz says 503 when a store page is
corrupt instead of 200; a corrupt store does not start at all."""
import os
import stat

import pytest
import requests

from conftest import db_rows

pytestmark = pytest.mark.sqlite_only("the modes of the SQLite file and its WAL, and a corrupt "
                                     "SQLite page")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)  # what a shell usually has: files 0644 unless made private
    yield
    os.umask(old)


def start_fails(server):
    with pytest.raises(RuntimeError) as e:
        server.start()
    server.proc = None
    server.log.close()
    return str(e.value)


def test_store_wal_and_key_files_are_made_0600(make_server, loose_umask):
    server = make_server()
    server.add_user("someone@example.com")
    files = ["gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm", "master.key",
             "sp-key.pem.sealed"]
    for name in files:
        path = os.path.join(server.tmp, name)
        assert os.path.exists(path), name
        assert mode(path) == 0o600, (name, oct(mode(path)))
    assert mode(os.path.join(server.tmp, "sp-cert.pem")) == 0o644  # public


@pytest.mark.parametrize("name,what", [("sp-key.pem.sealed", "sealed SP private key"),
                                       ("master.key", "master key"),
                                       ("gatehouse.db", "store")])
def test_a_file_others_can_read_stops_start_up_naming_it(make_server, name, what):
    server = make_server()
    server.stop()
    path = os.path.join(server.tmp, name)
    os.chmod(path, 0o640)
    log = start_fails(server)
    assert f"{path}: the {what} is readable by other users (mode 640)" in log, log
    assert f"chmod 600 {path}" in log
    if name == "gatehouse.db":  # the CLI, on the same store, refuses too
        p = server.ctl("user", "list", check=False)
        assert p.returncode == 1 and "readable by other users" in p.stderr
    os.chmod(path, 0o600)
    server.start()


def corrupt_root_page(server, table):
    path = os.path.join(server.tmp, "gatehouse.db")
    page_size = db_rows(server, "PRAGMA page_size")[0][0]
    root = db_rows(server, "SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,))[0][0]
    assert root > 1
    with open(path, "r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * page_size)


def test_healthz_answers_503_with_a_corrupt_page_and_start_up_refuses(server):
    import sqlite3
    server.add_user("someone@example.com")
    server.stop()
    con = sqlite3.connect(os.path.join(server.tmp, "gatehouse.db"))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
    con.close()
    server.start()
    assert requests.get(server.url("/healthz"), timeout=10).status_code == 200
    corrupt_root_page(server, "users")
    r = requests.get(server.url("/healthz"), timeout=10)
    assert r.status_code == 503 and "store" in r.text
    assert "store health" in server.read_log()
    server.stop()
    log = start_fails(server)
    assert "the store is corrupt" in log and "restore it from a backup" in log, log
