"""TLS in Gatehouse itself: [server] tls_cert_file / tls_key_file with a private CA made here by
the openssl CLI. curl and requests verify the chain; HSTS and Secure cookies follow; SIGHUP
reloads the pair for new connections while an open keep-alive connection keeps working; an
unreadable, malformed or mismatched pair stops start-up with FILE:LINE."""
import hashlib
import http.client
import os
import shutil
import signal
import ssl
import subprocess
import time

import pytest
import requests

from conftest import BIN, TOP, Server, csrf_of, free_port
from tlspki import PKI


def fingerprint(pem_path):
    with open(pem_path) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


@pytest.fixture
def pki(tmp_path):
    d = tmp_path / "pki"
    d.mkdir()
    return PKI(d)


@pytest.fixture
def tls_server(tmp_path, pki, monkeypatch):
    cert, key = pki.issue("one")
    live_cert, live_key = os.path.join(pki.dir, "live.pem"), os.path.join(pki.dir, "live.key")
    shutil.copy(cert, live_cert)
    shutil.copy(key, live_key)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", pki.ca)
    port = free_port()
    (tmp_path / "gh").mkdir()
    srv = Server(tmp_path / "gh", {"server": {"listen": f"127.0.0.1:{port}",
                                              "tls_cert_file": live_cert,
                                              "tls_key_file": live_key}},
                 base_url=f"https://127.0.0.1:{port}")
    srv.port = port
    srv.start()
    yield srv
    assert srv.stop() == 0, srv.read_log()


def test_curl_and_requests_over_tls_with_hsts_and_secure_cookies(tls_server, pki):
    url = tls_server.url("/healthz")
    p = subprocess.run(["curl", "-sS", "-D", "-", "--cacert", pki.ca, url], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("HTTP/1.1 200") and p.stdout.endswith("ok\n")
    assert "strict-transport-security: max-age=31536000" in p.stdout.lower()
    # The chain is checked: without the private CA, curl refuses.
    p = subprocess.run(["curl", "-sS", "--capath", "/nonexistent", "--cacert", "/dev/null", url],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    # Plain HTTP on the TLS port gets no page.
    with pytest.raises(requests.RequestException):
        requests.get(f"http://127.0.0.1:{tls_server.port}/healthz", timeout=5)
    # requests (Python's ssl) and a password sign-in: the session cookie is Secure.
    temp = tls_server.add_user("tls@example.com")
    s = requests.Session()
    page = s.get(tls_server.url("/login"), timeout=30)
    r = s.post(tls_server.url("/login"), data={"email": "tls@example.com", "password": temp,
                                               "csrf_token": csrf_of(page.text)},
               allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    cookie = [v for k, v in r.raw.headers.items() if k.lower() == "set-cookie"
              and v.startswith("gatehouse_session=")]
    assert cookie and "; Secure" in cookie[0], cookie


def https_conn(port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    c.connect()
    return c


def peer_fp(conn):
    return hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()


def get(conn, path):
    conn.request("GET", path, headers={"Connection": "keep-alive"})
    r = conn.getresponse()
    return r.status, r.read()


def wait_log(server, text, count):
    deadline = time.monotonic() + 10
    while server.read_log().count(text) < count:
        assert time.monotonic() < deadline, server.read_log()
        time.sleep(0.02)


def test_sighup_reloads_the_pair_for_new_connections_and_keeps_open_ones(tls_server, pki):
    live = os.path.join(pki.dir, "live.pem")
    first = fingerprint(live)
    old = https_conn(tls_server.port, pki.ca)
    assert get(old, "/healthz") == (200, b"ok\n") and peer_fp(old) == first
    cert, key = pki.issue("two")
    shutil.copy(cert, live)
    shutil.copy(key, os.path.join(pki.dir, "live.key"))
    tls_server.proc.send_signal(signal.SIGHUP)
    wait_log(tls_server, "TLS certificate reloaded", 1)
    new = https_conn(tls_server.port, pki.ca)
    assert get(new, "/healthz") == (200, b"ok\n")
    assert peer_fp(new) == fingerprint(cert) != first
    # The connection opened before the reload is still served, on its own handshake.
    assert get(old, "/healthz") == (200, b"ok\n") and peer_fp(old) == first
    # A bad pair on SIGHUP is refused and the current one stays.
    with open(live, "w") as f:
        f.write("not a certificate\n")
    tls_server.proc.send_signal(signal.SIGHUP)
    wait_log(tls_server, "TLS certificate not reloaded", 1)
    third = https_conn(tls_server.port, pki.ca)
    assert get(third, "/healthz") == (200, b"ok\n") and peer_fp(third) == fingerprint(cert)
    for c in (old, new, third):
        c.close()


def check(tmp_path, name, server_keys):
    conf = tmp_path / f"{name}.conf"
    lines = ["[server]", "listen = 127.0.0.1:1", "base_url = https://127.0.0.1:1"]
    lines += [f"{k} = {v}" for k, v in server_keys.items()]
    lines += ["[store]", f"path = {tmp_path}/x.db", "[argon2]", "memory_kib = 1024",
              "iterations = 1"]
    conf.write_text("\n".join(lines) + "\n")
    p = subprocess.run([os.path.join(BIN, "gatehouse"), "-c", str(conf), "-t"], cwd=TOP,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p.stdout
    return str(conf), p.stderr


def test_bad_pairs_stop_start_up_with_file_and_line(tmp_path, pki):
    cert, key = pki.issue("good")
    other_cert, other_key = pki.issue("other")
    junk = str(tmp_path / "junk.pem")
    with open(junk, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    cases = [
        ({"tls_cert_file": str(tmp_path / "absent.pem"), "tls_key_file": key},
         ":4: tls_cert_file: ", "cannot read: No such file or directory"),
        ({"tls_cert_file": junk, "tls_key_file": key}, ":4: tls_cert_file: ",
         "not a PEM certificate"),
        ({"tls_cert_file": cert, "tls_key_file": cert}, ":5: tls_key_file: ",
         "not an unencrypted PEM private key"),
        ({"tls_cert_file": cert, "tls_key_file": other_key}, ":5: tls_key_file: ",
         f"{other_key} is not the key of the certificate in {cert}"),
        ({"tls_key_file": key}, ":4: tls_key_file: ",
         "set tls_cert_file and tls_key_file together"),
    ]
    for i, (keys, where, what) in enumerate(cases):
        conf, err = check(tmp_path, f"bad{i}", keys)
        assert f"gatehouse: {conf}{where}" in err and what in err, (keys, err)
    # The good pair passes the same check.
    conf = tmp_path / "ok.conf"
    conf.write_text(f"[server]\ntls_cert_file = {cert}\ntls_key_file = {key}\n"
                    f"[store]\npath = {tmp_path}/x.db\n")
    p = subprocess.run([os.path.join(BIN, "gatehouse"), "-c", str(conf), "-t"], cwd=TOP,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
