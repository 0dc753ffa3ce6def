"""The store conformance suite (tests/unit/test_store_conformance.c, cmocka) against PostgreSQL:
make test runs it on SQLite as a unit program; here the same program runs with GATEHOUSE_TEST_PG
naming a fresh database of the private cluster (pg.py), so both drivers keep the same contract."""
import os
import subprocess

from conftest import BIN, TOP


def unit_dir():
    parent = os.path.dirname(BIN)
    if os.path.basename(parent).startswith("build"):
        return os.path.join(parent, "unit")  # build-asan/bin -> build-asan/unit
    return os.path.join(TOP, "build", "unit")


def test_the_conformance_suite_passes_on_postgres(pg_database):
    prog = os.path.join(unit_dir(), "test_store_conformance")
    assert os.access(prog, os.X_OK), f"{prog} is missing: make unit-bins"
    p = subprocess.run([prog], capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, GATEHOUSE_TEST_PG=pg_database.conninfo,
                                CMOCKA_MESSAGE_OUTPUT="stdout"))
    assert p.returncode == 0, p.stdout[-6000:] + p.stderr[-2000:]
    assert "[  PASSED  ]" in p.stdout + p.stderr, p.stdout[-2000:]
    # It ran on this database: the schema is there.
    tables = {t for (t,) in pg_database.rows(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
    assert {"users", "sessions", "saml_assertions"} <= tables, tables
