"""Isolated work (issue 14 item 3): the ACS body bound and cost bound refuse expensive responses
before any parser runs, and SAML responses wait in their own bounded queue (503 with Retry-After
when it is full) on their own workers, apart from password hashing."""
import base64
import threading

import requests

from conftest import STRONG, signed_in_user
from test_bounded_storage import register, sp, tampered


def last_log(server):
    import json
    return json.loads(server.ctl("saml-log", "list", "--json", "--limit", "1").stdout)[0]


def test_a_response_over_the_acs_bound_is_refused_unparsed(server, tmp_path):
    idp = register(server, tmp_path)
    b64, _ = idp.response(*sp(server), "alice@example.com", {"email": "alice@example.com",
                                                             "note": "NOTE"})
    # 400 KiB of base64: under the old 1 MiB bound, over the ACS's 384 KiB one.
    big = tampered(b64, "x" * (300 * 1024))
    assert 384 * 1024 < len(big) < 512 * 1024
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": big}, timeout=30)
    assert r.status_code == 413
    entry = last_log(server)
    assert entry["reason"] == "too_large" and "limit 393216" in entry["detail"]
    # A whole request body over the form bound is refused before it is read.
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": "A" * (600 * 1024)},
                      timeout=30)
    assert r.status_code == 413


def test_a_response_over_the_cost_bound_is_refused_before_lasso(server, tmp_path):
    idp = register(server, tmp_path)
    b64, _ = idp.response(*sp(server), "alice@example.com", {"email": "alice@example.com",
                                                             "note": "NOTE"})
    many = tampered(b64, "<x/>" * 5000)  # 20 KB: small, but 5,000 elements
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": many}, timeout=30)
    assert r.status_code == 413
    entry = last_log(server)
    assert entry["reason"] == "too_large"
    assert "elements (at most 4000 are accepted)" in entry["detail"], entry
    deep = tampered(b64, "<d>" * 40 + "</d>" * 40)
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": deep}, timeout=30)
    assert r.status_code == 413 and "levels of nesting" in last_log(server)["detail"]


def test_a_full_saml_queue_answers_503_and_password_sign_ins_go_on(make_server, tmp_path):
    server = make_server({"server": {"saml_queue": "1"},
                          "sp": {"acs_refusals_per_minute": "100000"}})
    idp = register(server, tmp_path)
    signed_in_user(server, "pw@example.com")
    b64, _ = idp.response(*sp(server), "alice@example.com", {"email": "alice@example.com",
                                                             "note": "NOTE"})
    # ~270 KB of XML in ~3,000 elements: each costs the workers real time.
    heavy = tampered(b64, "".join(f"<v>{'y' * 80}</v>" for _ in range(3000)))
    results, barrier = [], threading.Barrier(40)

    def post():
        barrier.wait()
        r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": heavy}, timeout=60)
        results.append((r.status_code, r.headers.get("Retry-After")))

    threads = [threading.Thread(target=post) for _ in range(40)]
    for t in threads:
        t.start()
    login = requests.post(server.url("/api/login"),
                          json={"email": "pw@example.com", "password": STRONG}, timeout=60)
    for t in threads:
        t.join()
    assert login.status_code == 200
    statuses = sorted(set(s for s, _ in results))
    assert set(statuses) <= {403, 503}, results
    assert (503, "1") in results, results
    assert any(s == 403 for s, _ in results), results
