"""[server] log_format: text (the default: TIME LEVEL function: key=value ...) or json (one object
per line with time, level, func, msg and each key=value as a field), hostile request paths
included; an unknown format stops start-up with FILE:LINE."""
import json
import os
import re
import socket
import subprocess

import requests

from conftest import BIN, TOP


def raw_get(server, target):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        while s.recv(4096):
            pass


def test_json_log_lines_are_objects_with_the_message_fields(make_server):
    server = make_server({"server": {"log_format": "json"}})
    assert requests.get(server.url("/healthz"), timeout=10).status_code == 200
    raw_get(server, '/nowhere"%0a\\x?a=%22b')
    server.stop()
    lines = [ln for ln in server.read_log().splitlines() if ln.strip()]
    objs = [json.loads(ln) for ln in lines]  # every line is one JSON object
    assert all({"time", "level", "func", "msg"} <= set(o) for o in objs)
    access = [o for o in objs if o["func"] == "on_completed" and o.get("path") == "/healthz"]
    assert access and access[0]["status"] == "200" and access[0]["method"] == "GET"
    assert access[0]["msg"].startswith("access method=GET")
    hostile = [o for o in objs if o["func"] == "on_completed" and "nowhere" in o.get("path", "")]
    assert hostile and hostile[0]["status"] == "404", objs
    started = [o for o in objs if o["msg"].startswith("gatehouse started")]
    assert started and started[0]["base_url"] == server.base


def test_text_is_the_default(server):
    requests.get(server.url("/healthz"), timeout=10)
    line = [ln for ln in server.read_log().splitlines() if "path=\"/healthz\"" in ln][0]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ info on_completed: access method=GET ", line)


def test_unknown_log_format_is_refused_with_its_line(tmp_path):
    conf = tmp_path / "g.conf"
    conf.write_text("[server]\nlog_level = info\nlog_format = yaml\n")
    p = subprocess.run([os.path.join(BIN, "gatehouse"), "-c", str(conf), "-t"], cwd=TOP,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert f"{conf}:3: log_format: \"yaml\" is not text or json" in p.stderr
