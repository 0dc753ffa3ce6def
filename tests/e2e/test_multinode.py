"""Several bin/gatehouse nodes on one PostgreSQL database behave as one server (issue 16): a
session made on one node works on the others and ends everywhere at sign-out; lockout counts
are exact across nodes; an assertion signs in once however many nodes it is posted to; an
AuthnRequest sent from one node completes at another's ACS; a TOTP code used on one node is
refused on the others; policy, the password switch and the IdP registry changed on one node are
in force on the others within 2 s; SIGKILL of one node under load loses nothing answered; a
PostgreSQL restart under load gives 503 with Retry-After, then recovery without a restart.

The nodes share what a deployment shares: one database (pg.py), one base URL (the load
balancer's), the SP key pair and the master key file. Each is reached on its own port."""
import os
import threading
import time

import pytest
import requests

from conftest import STRONG, Browser, Server, csrf_of, db_rows
from samlidp import MiniIdP, request_id_from_redirect
from test_mfa import enrol, password_step, submit_code, totp

WRONG = "Wrong-Password-77"
ATTRS = {"email": "alice@example.com"}


class Node(Server):
    """A server of a deployment: configured with the shared base URL, reached on its own port."""

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def deployment(tmp_path, pg_database):
    nodes = []

    def make(n=2, overrides=None):
        first = None
        for i in range(n):
            sub = tmp_path / f"node{len(nodes)}"
            sub.mkdir()
            conf = {"server": {"node_name": f"node-{chr(ord('a') + len(nodes))}"}}
            if first is not None:
                conf["sp"] = {"key_file": os.path.join(first.tmp, "sp-key.pem"),
                              "cert_file": os.path.join(first.tmp, "sp-cert.pem")}
                conf["secrets"] = {"key_file": os.path.join(first.tmp, "master.key")}
            for section, values in (overrides or {}).items():
                conf.setdefault(section, {}).update(values)
            node = Node(sub, conf, base_url=first.base if first else None, store=pg_database)
            nodes.append(node)
            node.start()  # the first makes the keys the others read
            first = first or node
        return nodes[-n:]

    yield make
    for node in nodes:
        rc = node.stop()
        assert rc in (0, None), f"{node.tmp}: gatehouse exited {rc}:\n{node.read_log()}"


def parallel(fns):
    results = [None] * len(fns)
    barrier = threading.Barrier(len(fns))

    def run(i):
        barrier.wait()
        results[i] = fns[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def api_login(node, email, password):
    return requests.post(node.url("/api/login"), json={"email": email, "password": password},
                         timeout=60)


def first_sign_in(node, email, role="member"):
    temp = node.add_user(email, role)
    b = Browser(node)
    assert b.login(email, temp).status_code == 303
    assert b.change_password(temp, STRONG).status_code == 303
    return b


def on(node, b):
    """The browser b (its cookies) talking to node."""
    other = Browser(node)
    other.s = b.s
    return other


def eventually(check, seconds=2.0):
    """check() becomes true within seconds (polled); returns how long it took."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds} s")
        time.sleep(0.05)


def test_a_session_made_on_one_node_works_on_the_others_and_ends_everywhere(deployment):
    a, b, c = deployment(3)
    alice = first_sign_in(a, "alice@example.com")
    for node in (a, b, c):
        r = on(node, alice).whoami()
        assert r.status_code == 200 and r.json()["email"] == "alice@example.com", node.port
    token = api_login(b, "alice@example.com", STRONG).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(c.url("/api/whoami"), headers=bearer, timeout=30).status_code == 200
    # Sign-out on B ends the browser session on A and C too.
    page = on(b, alice).get("/")
    r = alice.s.post(b.url("/logout"), data={"csrf_token": csrf_of(page.text)},
                     allow_redirects=False, timeout=30)
    assert r.status_code in (302, 303), r.text
    for node in (a, b, c):
        assert on(node, alice).whoami().status_code == 401, node.port
    r = requests.post(a.url("/api/logout"), headers=bearer, timeout=30)
    assert r.status_code == 204
    assert requests.get(c.url("/api/whoami"), headers=bearer, timeout=30).status_code == 401


def test_failures_spread_over_the_nodes_lock_at_exactly_six(deployment):
    nodes = deployment(3)
    first_sign_in(nodes[0], "user@example.com")
    for i in range(5):
        r = api_login(nodes[i % 3], "user@example.com", WRONG)
        assert r.status_code == 401, (i, r.text)
    assert api_login(nodes[2], "user@example.com", WRONG).status_code == 429
    for node in nodes:
        assert api_login(node, "user@example.com", STRONG).status_code == 429


def test_parallel_failures_over_the_nodes_are_exact(deployment):
    nodes = deployment(3)
    first_sign_in(nodes[0], "user@example.com")
    statuses = parallel([lambda n=nodes[i % 3]: api_login(n, "user@example.com", WRONG).status_code
                         for i in range(12)])
    assert sorted(statuses) == [401] * 5 + [429] * 7, statuses
    assert db_rows(nodes[0], "SELECT failures FROM lockouts WHERE email = ?",
                   ("user@example.com",)) == [(6,)]


@pytest.fixture
def idp(tmp_path):
    return MiniIdP(tmp_path)


def add_idp(node, idp):
    node.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com",
             "--idp-initiated", "on")


def sp(node):
    return node.base + "/saml/metadata", node.base + "/saml/acs"


def post_acs(node, b64, session=None):
    s = session or requests.Session()
    return s.post(node.url("/saml/acs"), data={"SAMLResponse": b64}, allow_redirects=False,
                  timeout=60)


def test_one_assertion_posted_to_every_node_at_once_signs_in_once(deployment, idp):
    nodes = deployment(3)
    add_idp(nodes[0], idp)
    for _ in range(3):
        b64, aid = idp.response(*sp(nodes[0]), "alice@example.com", ATTRS)
        statuses = parallel([lambda n=n: post_acs(n, b64).status_code for n in nodes * 2])
        assert sorted(statuses).count(303) == 1, statuses
        assert all(s == 303 or 400 <= s < 500 for s in statuses), statuses
        assert db_rows(nodes[0], "SELECT count(*) FROM saml_log WHERE assertion_id = ? AND "
                       "reason = 'ok'", (aid,)) == [(1,)]


def test_an_authn_request_sent_from_one_node_completes_at_another(deployment, idp):
    a, b = deployment(2)
    add_idp(a, idp)
    browser = Browser(a)
    r = browser.get(f"/saml/login?idp={idp.entity_id}&return_to=/account")
    assert r.status_code == 303, r.text
    rid, _ = request_id_from_redirect(r.headers["Location"])
    b64, _ = idp.response(*sp(b), "alice@example.com", ATTRS, in_response_to=rid)
    r = post_acs(b, b64, browser.s)
    assert r.status_code == 303 and r.headers["Location"] == "/account", r.text
    assert on(a, browser).whoami().json()["auth_method"] == "saml"
    # The request was used up on B: its answer cannot be used again anywhere.
    b64, _ = idp.response(*sp(b), "alice@example.com", ATTRS, in_response_to=rid)
    assert post_acs(a, b64).status_code == 403


def test_a_totp_code_used_on_one_node_is_refused_on_another(deployment):
    a, b = deployment(2)
    alice = first_sign_in(a, "alice@example.com")
    secret, _ = enrol(alice, a)
    code = totp(secret, a, 1)  # a step of its own: not the one enrolment used
    a.advance(30)
    b.advance(30)
    first = password_step(a, "alice@example.com", STRONG)
    assert submit_code(first, code).status_code == 303
    second = password_step(b, "alice@example.com", STRONG)
    r = submit_code(second, code)
    assert r.status_code != 303 and second.session_cookie() is None, r.status_code


def test_switches_and_policy_set_on_one_node_hold_on_the_others_within_two_seconds(deployment):
    a, b = deployment(2)
    first_sign_in(a, "user@example.com")
    assert api_login(b, "user@example.com", STRONG).status_code == 200
    a.ctl("password-login", "off")
    eventually(lambda: api_login(b, "user@example.com", STRONG).status_code != 200)
    a.ctl("password-login", "on")
    eventually(lambda: api_login(b, "user@example.com", STRONG).status_code == 200)
    # A policy change: three failures lock from now on, on B too.
    a.ctl("policy", "set", "lockout.max_failures", "3")
    time.sleep(2)
    statuses = [api_login(b, "user@example.com", WRONG).status_code for _ in range(3)]
    assert statuses == [401, 401, 429], statuses


def test_an_idp_added_on_one_node_signs_people_in_on_another(deployment, idp):
    a, b = deployment(2)
    b64, _ = idp.response(*sp(b), "alice@example.com", ATTRS)
    assert post_acs(b, b64).status_code >= 400  # not registered yet
    add_idp(a, idp)

    def signs_in():
        fresh, _ = idp.response(*sp(b), "alice@example.com", ATTRS)
        return post_acs(b, fresh).status_code == 303

    eventually(signs_in)
    # And removing it on A ends that on B.
    a.ctl("idp", "remove", idp.entity_id)
    eventually(lambda: not signs_in())


def test_node_names_in_the_logs_and_each_periodic_job_on_one_node(deployment, idp):
    a, b = deployment(2)
    add_idp(a, idp)  # gatehousectl with A's configuration
    b64, _ = idp.response(*sp(b), "alice@example.com", ATTRS)
    assert post_acs(b, b64).status_code == 303
    assert db_rows(a, "SELECT node FROM saml_log") == [("node-b",)]
    assert db_rows(a, "SELECT node FROM audit WHERE action = 'idp.add'") == [("node-a",)]
    # Both pruned at start-up, or tried to: the job ran on exactly one of them.
    runs = [n.read_log().count("periodic job runs on this node job=prune") for n in (a, b)]
    assert sorted(runs) == [0, 1], runs


def test_sigkill_of_one_node_under_load_loses_nothing_answered(deployment):
    a, b = deployment(2)
    for i in range(8):
        first_sign_in(a if i % 2 else b, f"u{i}@example.com")
    answered, stop = [], threading.Event()

    def load(node, i):
        while not stop.is_set():
            try:
                r = api_login(node, f"u{i}@example.com", STRONG)
            except requests.RequestException:
                continue  # the killed node: no answer, nothing promised
            if r.status_code == 200:
                answered.append(r.json()["token"])

    threads = [threading.Thread(target=load, args=(n, i)) for i in range(8) for n in (a, b)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    a.proc.kill()
    a.proc.wait()
    a.proc = None
    a.log.close()
    time.sleep(1.5)
    stop.set()
    for t in threads:
        t.join(60)
    assert len(answered) > 10, len(answered)
    # Every token a node answered works on the node that is left.
    for token in answered:
        r = requests.get(b.url("/api/whoami"), headers={"Authorization": f"Bearer {token}"},
                         timeout=30)
        assert r.status_code == 200, token
    assert requests.get(b.url("/readyz"), timeout=30).status_code == 200


def test_a_postgres_restart_gives_503_with_retry_after_then_recovers(deployment, pg_database):
    a, b = deployment(2)
    first_sign_in(a, "user@example.com")
    token = api_login(b, "user@example.com", STRONG).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    cluster = pg_database.cluster
    cluster.stop()
    try:
        for node in (a, b):
            r = requests.get(node.url("/api/whoami"), headers=bearer, timeout=30)
            assert r.status_code == 503 and int(r.headers["Retry-After"]) > 0, r.text
            r = requests.get(node.url("/readyz"), timeout=30)
            assert r.status_code == 503 and r.json()["checks"]["store_writable"] is False
            r = Browser(node).get("/login")
            assert r.status_code == 503 and "Retry-After" in r.headers
    finally:
        cluster.start()
    # Back: each worker's connection finds the database again (a request on a connection that
    # has not yet may still get a 503 to retry), and then every request is answered.
    for node in (a, b):
        eventually(lambda n=node: requests.get(n.url("/readyz"), timeout=30).status_code == 200,
                   seconds=15)
        eventually(lambda n=node: all(
            requests.get(n.url("/api/whoami"), headers=bearer, timeout=30).status_code == 200
            for _ in range(20)), seconds=20)
        assert node.proc.poll() is None
    for node in (a, b):  # sign-ins (they write) too
        eventually(lambda n=node: all(api_login(n, "user@example.com", STRONG).status_code == 200
                                      for _ in range(4)), seconds=20)
