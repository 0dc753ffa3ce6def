"""The programs themselves: `gatehouse -t` and start-up errors (FILE:LINE), SIGTERM with a request
in flight, a port already taken, and every `gatehousectl` command with its exit codes and its
audit entry."""
import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest
import requests

from conftest import BIN, TOP, Browser, audit_entries, cli_actor, signed_in_user


def gatehouse(server, *args, conf=None, timeout=30):
    return subprocess.run([os.path.join(BIN, "gatehouse"), "-c", conf or server.conf_path, *args],
                          capture_output=True, text=True, env=server.env(), cwd=TOP,
                          timeout=timeout)


def conf_with(server, name, edit):
    """A copy of the server's config, changed by edit(lines) -> lines; returns its path."""
    with open(server.conf_path) as f:
        lines = f.read().splitlines()
    path = os.path.join(server.tmp, name)
    with open(path, "w") as f:
        f.write("\n".join(edit(lines)) + "\n")
    return path


def insert_after(section, *new):
    def edit(lines):
        i = lines.index(f"[{section}]") + 1
        return lines[:i] + list(new) + lines[i:]
    return edit


def replace_key(key, value):
    def edit(lines):
        return [f"{key} = {value}" if ln.split(" = ")[0] == key else ln for ln in lines]
    return edit


def line_of(path, text):
    with open(path) as f:
        for n, ln in enumerate(f, 1):
            if ln.startswith(text):
                return n
    raise AssertionError(f"{text} not in {path}")


# -- configuration -----------------------------------------------------------------------------

def test_check_of_a_good_config(make_server):
    server = make_server(start=False)
    p = gatehouse(server, "-t")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"gatehouse: {server.conf_path}: configuration OK"
    assert not os.path.exists(os.path.join(server.tmp, "gatehouse.db")), "-t created the store"


CONF_ERRORS = [
    # (name, edit, the line that is wrong, message)
    ("unknown key", insert_after("server", "listne = 127.0.0.1:1"), "listne",
     'listne: unknown key "listne" in [server]'),
    ("unknown section", lambda ls: ls + ["[sever]", "listen = 127.0.0.1:1"], "listen = 127.0.0.1:1",
     "unknown section [sever]"),
    ("bad listen", replace_key("listen", "localhost:http"), "listen",
     'listen: "localhost:http" is not host:port'),
    ("bad port", replace_key("listen", "127.0.0.1:70000"), "listen", "port 1-65535"),
    ("bad base_url", replace_key("base_url", "ftp://example.com"), "base_url",
     'base_url: "ftp://example.com" is not an http:// or https:// URL'),
    ("bad number", insert_after("server", "threads = many"), "threads",
     'threads: "many" is not a number'),
    ("bad switch", insert_after("server", "access_log = maybe"), "access_log",
     'access_log: "maybe" is not on or off'),
    ("number out of range", insert_after("server", "session_max_hours = 0"), "session_max_hours",
     "session_max_hours"),
    ("policy out of range", lambda ls: ls + ["[policy]", "lockout.minutes = 3"],
     "lockout.minutes", "lockout.minutes: 3 is out of range 5-1440"),
    ("policy not allowed", lambda ls: ls + ["[policy]", "password.expire_days = 45"],
     "password.expire_days", "password.expire_days"),
    ("policy unknown", lambda ls: ls + ["[policy]", "lockout.max_failure = 6"],
     "lockout.max_failure", 'unknown key "lockout.max_failure" in [policy]'),
    ("policy bad switch", lambda ls: ls + ["[policy]", "password.require_special = sometimes"],
     "password.require_special", "password.require_special"),
    ("no equals sign", insert_after("store", "this is not ini"), "this is not ini",
     "syntax error"),
    ("postgres without conninfo", insert_after("store", "driver = postgres"),
     "driver = postgres", "driver: postgres needs [store] conninfo (a libpq connection string"),
    ("conninfo without postgres", insert_after("store", "conninfo = host=/tmp dbname=gh"),
     "conninfo = host", "conninfo: only read with driver = postgres"),
    ("unknown driver", insert_after("store", "driver = mysql"), "driver = mysql",
     'driver: "mysql" is not sqlite or postgres'),
    ("bad node name", insert_after("server", "node_name = node a"), "node_name",
     'node_name: "node a" is not a node name'),
    ("overlong line", insert_after("server", "templates = " + "t" * 5000), "templates",
     "longer than"),
]


@pytest.mark.parametrize("name,edit,bad_line,message", CONF_ERRORS, ids=[c[0] for c in CONF_ERRORS])
def test_config_errors_name_file_and_line(make_server, name, edit, bad_line, message):
    server = make_server(start=False, store="sqlite")  # the parser's errors, on the base file
    path = conf_with(server, "bad.conf", edit)
    line = line_of(path, bad_line)
    for args in (["-t"], []):
        p = gatehouse(server, *args, conf=path)
        assert p.returncode == 1, (args, p.returncode, p.stdout, p.stderr)
        first = p.stderr.strip().splitlines()[0]
        assert first.startswith(f"gatehouse: {path}:{line}: "), first
        assert message in first, first


def test_missing_config_file(make_server):
    server = make_server(start=False)
    missing = os.path.join(server.tmp, "nope.conf")
    for args in (["-t"], []):
        p = gatehouse(server, *args, conf=missing)
        assert p.returncode == 1
        assert p.stderr.strip() == (f"gatehouse: {missing}: cannot read: "
                                    "No such file or directory")
    p = subprocess.run([os.path.join(BIN, "gatehousectl"), "-c", missing, "user", "list"],
                       capture_output=True, text=True, env=server.env(), cwd=TOP, timeout=30)
    assert p.returncode == 1 and missing in p.stderr


def test_a_folder_as_config_file(make_server):
    server = make_server(start=False)
    p = gatehouse(server, "-t", conf=server.tmp)
    assert p.returncode == 1
    assert p.stderr.strip() == f"gatehouse: {server.tmp}: cannot read: Is a directory"


@pytest.mark.parametrize("seed", range(5))
def test_corrupted_config_file(make_server, seed):
    import random
    rnd = random.Random(seed)
    server = make_server(start=False)
    with open(server.conf_path, "rb") as f:
        good = f.read()
    garbage = bytes(rnd.randrange(256) for _ in range(4096))
    variants = [garbage, good[:200] + garbage, good + b"\x00\xff\xfe" + garbage[:100],
                b"[server\n" + garbage[:50]]
    for i, data in enumerate(variants):
        path = os.path.join(server.tmp, f"garbage{i}.conf")
        with open(path, "wb") as f:
            f.write(data)
        p = subprocess.run([os.path.join(BIN, "gatehouse"), "-c", path, "-t"],
                           capture_output=True, env=server.env(), cwd=TOP, timeout=30)
        assert p.returncode == 1, (i, p.returncode, p.stderr)  # not a crash (negative = signal)
        err = p.stderr.decode("utf-8")  # the message itself is text, whatever the file holds
        assert re.match(rf"gatehouse: {re.escape(path)}:\d+: ", err), (i, err)


# -- the process -------------------------------------------------------------------------------

def wait_exit(server, timeout=20):
    rc = server.proc.wait(timeout=timeout)
    server.proc = None
    server.log.close()
    return rc


def test_sigterm_lets_an_in_flight_request_finish_then_exits_0(make_server):
    server = make_server()
    body = json.dumps({"email": "nobody@example.com", "password": "Wrong-Pass-1"}).encode()
    s = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    s.sendall(b"POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" +
              body[:10])
    time.sleep(0.3)  # the server has the headers: the request is in flight
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert server.proc.poll() is None, "exited with a request in flight"
    # New connections are no longer accepted.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()
    s.sendall(body[10:])
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    assert out.startswith(b"HTTP/1.1 401 "), out[:200]
    assert b'"invalid_credentials"' in out
    assert wait_exit(server) == 0
    log = server.read_log()
    assert "finishing in-flight requests" in log and "stopped cleanly" in log


def test_sigint_also_stops_cleanly(make_server):
    server = make_server()
    server.proc.send_signal(signal.SIGINT)
    assert wait_exit(server) == 0
    assert "stopped cleanly" in server.read_log()


def test_port_already_in_use_is_a_clear_error(make_server):
    first = make_server()
    second = make_server({"server": {"listen": f"127.0.0.1:{first.port}"}}, start=False)
    p = gatehouse(second)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert f"cannot listen on 127.0.0.1:{first.port}" in p.stderr, p.stderr
    assert "in use" in p.stderr, p.stderr
    assert requests.get(first.url("/healthz"), timeout=10).status_code == 200


def test_usage_errors_of_the_server(make_server):
    server = make_server(start=False)
    p = gatehouse(server, "-x")
    assert p.returncode == 2 and "usage" in p.stderr
    p = gatehouse(server, "extra")
    assert p.returncode == 2


# -- gatehousectl ------------------------------------------------------------------------------

def ctl(server, *args):
    return server.ctl(*args, check=False)


def last_audit(server):
    return audit_entries(server, 1)[0]


def test_user_add_prints_the_temporary_password_alone_on_the_last_line(server):
    p = ctl(server, "user", "add", "--email", "Ada@Example.com", "--role", "admin",
            "--name", "Ada Lovelace")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    temp = lines[-1]
    assert temp == temp.strip() and " " not in temp and len(temp) >= 12, lines
    assert p.stdout.endswith(temp + "\n")
    r = Browser(server).login("ada@example.com", temp)
    assert r.status_code == 303 and r.headers["Location"] == "/password/change"
    e = last_audit(server)
    assert (e["action"], e["target"], e["actor"]) == ("user.add", "ada@example.com", cli_actor())
    assert e["actor_role"] == "cli" and "role=admin" in e["new"]
    assert temp not in json.dumps(audit_entries(server))
    shown = json.loads(ctl(server, "user", "show", "ada@example.com", "--json").stdout)
    assert shown["name"] == "Ada Lovelace" and shown["role"] == "admin"
    assert shown["must_change"] is True and shown["status"] == "active"


def test_user_add_refusals_and_usage(server):
    server.add_user("ada@example.com")
    n = len(audit_entries(server))
    for args, code, msg in (
            (["--email", "ADA@example.com"], 1, "already exists"),
            (["--email", "not-an-address"], 1, "not a valid e-mail address"),
            (["--email", "x@example.com", "--role", "king"], 1, "role must be"),
            (["--email", "x@example.com", "--name", "a\x01b"], 1, "control characters"),
            ([], 2, "usage"),
            (["--email"], 2, "usage"),
            (["--email", "x@example.com", "extra"], 2, "usage"),
            (["--bogus", "x"], 2, "usage")):
        p = ctl(server, "user", "add", *args)
        assert p.returncode == code, (args, p.returncode, p.stderr)
        assert msg in p.stderr, (args, p.stderr)
        assert p.stdout == "" or code == 2, (args, p.stdout)
    assert len(audit_entries(server)) == n


def test_user_list_and_show(server):
    server.add_user("b@example.com", "admin", name="Bea")
    server.add_user("a@example.com")
    p = ctl(server, "user", "list")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0].split()[:3] == ["EMAIL", "ROLE", "STATUS"]
    assert [ln.split()[0] for ln in lines[1:]] == ["a@example.com", "b@example.com"]
    users = json.loads(ctl(server, "user", "list", "--json").stdout)
    assert [u["email"] for u in users] == ["a@example.com", "b@example.com"]
    for key in ("id", "email", "name", "role", "status", "auth_method", "must_change", "locked",
                "created_at", "last_login_at", "password_changed_at", "mfa"):
        assert key in users[0], key
    p = ctl(server, "user", "show", "B@example.com")
    assert p.returncode == 0 and "Bea" in p.stdout and "admin" in p.stdout
    p = ctl(server, "user", "show", "nobody@example.com")
    assert p.returncode == 1 and "no user" in p.stderr
    assert ctl(server, "user", "show").returncode == 2
    assert ctl(server, "user", "list", "extra").returncode == 2


def test_user_unlock_and_reset_password(server):
    _, pw = signed_in_user(server)
    b = Browser(server)
    for _ in range(6):
        b.login("user@example.com", "Wrong-Pass-1")
    assert json.loads(ctl(server, "user", "show", "user@example.com", "--json").stdout)["locked"]
    assert ctl(server, "user", "unlock", "user@example.com").returncode == 0
    e = last_audit(server)
    assert (e["action"], e["target"], e["actor"]) == ("user.unlock", "user@example.com",
                                                     cli_actor())
    assert not json.loads(ctl(server, "user", "show", "user@example.com", "--json").stdout)[
        "locked"]
    p = ctl(server, "user", "reset-password", "user@example.com")
    assert p.returncode == 0
    temp = p.stdout.splitlines()[-1]
    assert " " not in temp
    e = last_audit(server)
    assert (e["action"], e["target"], e["actor"]) == ("user.reset_password", "user@example.com",
                                                     cli_actor())
    assert Browser(server).login("user@example.com", pw).status_code == 401
    assert Browser(server).login("user@example.com", temp).headers["Location"] == \
        "/password/change"
    assert ctl(server, "user", "reset-password", "nobody@example.com").returncode == 1
    assert ctl(server, "user", "unlock", "not an address").returncode == 1
    assert ctl(server, "user", "unlock").returncode == 2


def test_user_set_role_disable_enable_delete(server):
    server.add_user("owner@example.com", "owner")
    b, pw = signed_in_user(server)
    assert ctl(server, "user", "set-role", "user@example.com", "admin").returncode == 0
    e = last_audit(server)
    assert (e["action"], e["old"], e["new"], e["actor"]) == ("user.set_role", "member", "admin",
                                                            cli_actor())
    assert b.whoami().json()["role"] == "admin"
    p = ctl(server, "user", "set-role", "user@example.com", "king")
    assert p.returncode == 1 and "role must be" in p.stderr
    assert ctl(server, "user", "set-role", "user@example.com").returncode == 2
    assert ctl(server, "user", "set-role", "nobody@example.com", "admin").returncode == 1

    assert ctl(server, "user", "disable", "user@example.com").returncode == 0
    e = last_audit(server)
    assert (e["action"], e["old"], e["new"]) == ("user.disable", "active", "disabled")
    assert b.whoami().status_code == 401
    r = Browser(server).login("user@example.com", pw)
    assert r.status_code == 403 and "disabled" in r.text
    assert ctl(server, "user", "enable", "user@example.com").returncode == 0
    e = last_audit(server)
    assert (e["action"], e["old"], e["new"]) == ("user.enable", "disabled", "active")
    assert Browser(server).login("user@example.com", pw).status_code == 303

    assert ctl(server, "user", "delete", "user@example.com").returncode == 0
    e = last_audit(server)
    assert (e["action"], e["target"], e["actor"]) == ("user.delete", "user@example.com",
                                                     cli_actor())
    assert ctl(server, "user", "show", "user@example.com").returncode == 1
    assert Browser(server).login("user@example.com", pw).status_code == 401
    assert ctl(server, "user", "delete", "user@example.com").returncode == 1
    assert ctl(server, "user", "frobnicate", "user@example.com").returncode == 2


def test_the_last_owner_cannot_be_demoted_deleted_or_disabled(server):
    server.add_user("owner@example.com", "owner")
    n = len(audit_entries(server))
    for args in (["set-role", "owner@example.com", "admin"],
                 ["set-role", "owner@example.com", "member"],
                 ["delete", "owner@example.com"], ["disable", "owner@example.com"]):
        p = ctl(server, "user", *args)
        assert p.returncode == 1, args
        assert "only owner" in p.stderr, p.stderr
    assert len(audit_entries(server)) == n
    shown = json.loads(ctl(server, "user", "show", "owner@example.com", "--json").stdout)
    assert (shown["role"], shown["status"]) == ("owner", "active")
    # With a second owner, the first may step down.
    server.add_user("second@example.com", "owner")
    assert ctl(server, "user", "set-role", "owner@example.com", "admin").returncode == 0
    assert ctl(server, "user", "delete", "second@example.com").returncode == 1


def test_a_disabled_owner_does_not_count_as_the_remaining_owner(server):
    server.add_user("a@example.com", "owner")
    server.add_user("b@example.com", "owner")
    assert ctl(server, "user", "disable", "a@example.com").returncode == 0
    # b is now the only owner who can sign in.
    for args in (["disable", "b@example.com"], ["delete", "b@example.com"],
                 ["set-role", "b@example.com", "admin"]):
        p = ctl(server, "user", *args)
        assert p.returncode == 1, (args, p.stdout)
        assert "only owner" in p.stderr
    # Enabling a brings back a second active owner.
    assert ctl(server, "user", "enable", "a@example.com").returncode == 0
    assert ctl(server, "user", "disable", "b@example.com").returncode == 0


POLICY_REFUSALS = [
    ("password.min_length", "7"), ("password.min_length", "33"),
    ("password.require_letter", "maybe"), ("password.require_special", "2"),
    ("password.max_sequence", "2"), ("password.max_sequence", "33"),
    ("password.max_sequence", "-1"), ("password.expire_days", "45"),
    ("password.expire_days", "121"), ("password.history", "2"), ("password.history", "13"),
    ("password.changes_per_day", "0"), ("password.changes_per_day", "9"),
    ("lockout.max_failures", "2"), ("lockout.max_failures", "21"),
    ("lockout.minutes", "4"), ("lockout.minutes", "1441"),
    ("session.web_idle_minutes", "9"), ("session.web_idle_minutes", "121"),
    ("session.client_idle_minutes", "4"), ("session.client_idle_minutes", "121"),
    ("lockout.minutes", "30x"), ("lockout.minutes", ""), ("lockout.minutes", " 30"),
    ("lockout.minutes", "99999999999999999999999"),
]


def test_policy_set_refuses_out_of_range_values_with_the_range(server):
    before = json.loads(ctl(server, "policy", "show", "--json").stdout)
    n = len(audit_entries(server))
    for key, value in POLICY_REFUSALS:
        p = ctl(server, "policy", "set", key, value)
        assert p.returncode == 1, (key, value, p.stdout)
        assert p.stderr.startswith(f"gatehousectl: {key}: "), p.stderr
        rng = next(x["range"] for x in before if x["key"] == key)
        if value.isdigit() and key != "password.require_special":
            assert rng in p.stderr, (key, value, p.stderr)
    assert json.loads(ctl(server, "policy", "show", "--json").stdout) == before
    assert len(audit_entries(server)) == n
    p = ctl(server, "policy", "set", "lockout.minute", "30")
    assert p.returncode == 1 and "unknown policy setting" in p.stderr
    assert ctl(server, "policy", "set", "lockout.minutes").returncode == 2
    assert ctl(server, "policy").returncode == 2
    assert ctl(server, "policy", "unset", "lockout.minutes").returncode == 2


def test_policy_set_at_the_bounds_is_accepted_and_audited(server):
    ok = [("password.min_length", "8"), ("password.min_length", "32"),
          ("password.max_sequence", "0"), ("password.max_sequence", "3"),
          ("password.expire_days", "120"), ("password.history", "12"),
          ("password.changes_per_day", "1"), ("lockout.max_failures", "20"),
          ("lockout.minutes", "1440"), ("session.web_idle_minutes", "10"),
          ("session.client_idle_minutes", "120"), ("password.require_special", "on"),
          ("mfa.required", "off")]
    for key, value in ok:
        p = ctl(server, "policy", "set", key, value)
        assert p.returncode == 0, (key, value, p.stderr)
        e = last_audit(server)
        assert (e["action"], e["target"], e["new"], e["actor"]) == ("policy.set", key, value,
                                                                    cli_actor())
    shown = {x["key"]: x["value"] for x in json.loads(ctl(server, "policy", "show",
                                                          "--json").stdout)}
    for key, value in dict(ok).items():  # the last value set for each key
        assert shown[key] == value, key
    text = ctl(server, "policy", "show").stdout
    assert re.search(r"^lockout\.minutes\s+1440\s", text, re.M), text


def test_audit_list_limit_and_json(server):
    for i in range(5):
        server.add_user(f"u{i}@example.com")
    entries = json.loads(ctl(server, "audit", "list", "--json", "--limit", "3").stdout)
    assert [e["target"] for e in entries] == ["u4@example.com", "u3@example.com",
                                              "u2@example.com"]
    for key in ("id", "at", "actor", "actor_role", "action", "target", "old", "new", "client"):
        assert key in entries[0], key
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entries[0]["at"])
    assert entries[0]["id"] > entries[1]["id"] > entries[2]["id"]
    p = ctl(server, "audit", "list", "--limit", "2")
    assert p.returncode == 0 and len(p.stdout.splitlines()) == 2
    assert "user.add" in p.stdout and cli_actor() in p.stdout
    for bad in ("0", "-1", "x", ""):
        p = ctl(server, "audit", "list", "--limit", bad)
        assert p.returncode == 1 and "--limit" in p.stderr, bad
    assert ctl(server, "audit", "list", "--limit").returncode == 2
    assert ctl(server, "audit").returncode == 2
    assert ctl(server, "audit", "show").returncode == 2


def test_the_audit_log_is_append_only(server):
    server.add_user("a@example.com")
    from conftest import StoreRefused, db_write
    for sql in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit"):
        with pytest.raises(StoreRefused, match="append-only"):
            db_write(server, sql)


def test_every_cli_change_is_audited_with_the_cli_actor(server):
    steps = [
        (["user", "add", "--email", "o@example.com", "--role", "owner"], "user.add"),
        (["user", "add", "--email", "m@example.com"], "user.add"),
        (["user", "unlock", "m@example.com"], "user.unlock"),
        (["user", "reset-password", "m@example.com"], "user.reset_password"),
        (["user", "set-role", "m@example.com", "admin"], "user.set_role"),
        (["user", "disable", "m@example.com"], "user.disable"),
        (["user", "enable", "m@example.com"], "user.enable"),
        (["policy", "set", "lockout.minutes", "60"], "policy.set"),
        (["password-login", "off"], "policy.set"),
        (["password-login", "on"], "policy.set"),
        (["user", "delete", "m@example.com"], "user.delete"),
    ]
    for args, _ in steps:
        assert ctl(server, *args).returncode == 0, args
    # Reads change nothing.
    for args in (["user", "list"], ["user", "show", "o@example.com"], ["policy", "show"],
                 ["audit", "list"]):
        assert ctl(server, *args).returncode == 0
    entries = list(reversed(audit_entries(server)))
    assert [e["action"] for e in entries] == [a for _, a in steps]
    for e in entries:
        assert e["actor"] == cli_actor() and e["actor_role"] == "cli" and e["client"] == "local"


def test_cli_usage(server):
    for args in ([], ["frobnicate"], ["user"], ["-h"], ["--help"]):
        p = ctl(server, *args)
        assert p.returncode == 2, args
        assert "usage: gatehousectl" in p.stderr


def test_one_access_log_line_per_request_with_attacker_data_escaped(server):
    requests.get(server.url("/healthz"), timeout=10)
    requests.get(server.url('/x%0aFAKE%20line%22'), timeout=10)
    time.sleep(0.2)
    log = server.read_log()
    assert re.search(r'access method=GET path="/healthz" status=200 bytes=3 ms=[\d.]+ '
                     r'client=127\.0\.0\.1', log), log
    assert not any(line.startswith("FAKE") for line in log.splitlines())
    assert re.search(r'access method=GET path="/x\\x0aFAKE\\x20line\\x22" status=404', log), log
