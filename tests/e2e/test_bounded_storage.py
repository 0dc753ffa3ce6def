"""Bounded storage under attack (issue 14 item 2): what the SAML log keeps of unverified
responses, per-address rate limits on refusals, retention, /readyz, and a real full disk (a small
tmpfs mounted by the test) and a real file-size limit (RLIMIT_FSIZE): sign-ins fail closed with
503 and recover by themselves once there is room again; nothing crashes."""
import base64
import http.client
import json
import os
import resource
import subprocess
import urllib.parse

import pytest
import requests

from conftest import Browser, STRONG, StoreRefused, db_rows, db_write, signed_in_user
from samlidp import MiniIdP

EXCERPT = 4096


@pytest.fixture
def idp(server, tmp_path):
    return register(server, tmp_path)


def register(server, tmp_path):
    i = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", i.metadata_path, "--domain", "example.com",
               "--idp-initiated", "on")
    return i


def sp(server):
    return server.url("/saml/metadata"), server.url("/saml/acs")


def tampered(b64, note=None):
    """The same signed response with its NameID changed after signing: bad_signature. note
    replaces the text NOTE (raw UTF-8: the signer would have escaped it)."""
    xml = base64.b64decode(b64).decode().replace(">alice@example.com<", ">mallory@example.com<")
    if note is not None:
        xml = xml.replace(">NOTE<", f">{note}<")
    return base64.b64encode(xml.encode()).decode()


def post_from(server, source, fields):
    """POSTs the ACS form from a given loopback source address (127.0.0.0/8 is all ours)."""
    port = int(server.base.rsplit(":", 1)[1])
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        c.request("POST", "/saml/acs", urllib.parse.urlencode(fields),
                  {"Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode("utf-8", "replace")
    finally:
        c.close()


def log_show(server, ref):
    return json.loads(server.ctl("saml-log", "show", ref, "--json").stdout)


def last_log(server):
    rows = json.loads(server.ctl("saml-log", "list", "--json", "--limit", "1").stdout)
    return log_show(server, str(rows[0]["id"]))


def readyz(server):
    r = requests.get(server.url("/readyz"), timeout=30)
    return r.status_code, r.json(), r.headers


def test_readyz_reports_each_check_and_healthz_stays_liveness(server):
    status, body, _ = readyz(server)
    assert status == 200, body
    assert body["ready"] is True and body["reason"] is None
    assert body["checks"] == {"store_writable": True, "keys_loaded": True, "idp_registry": True}
    assert body["storage"]["bodies_dropped"] is False
    # The SQLite file's size; PostgreSQL's disk is the database server's, not measured here.
    assert body["storage"]["size_bytes"] > 0 if server.db is None else \
        body["storage"]["size_bytes"] == 0
    assert requests.get(server.url("/healthz"), timeout=30).text == "ok\n"


def test_an_unverified_response_leaves_a_bounded_excerpt_cut_on_utf8(server, idp):
    # ~120 KB of two-byte characters: byte 4096 falls inside the attribute value.
    attrs = {"email": "alice@example.com", "note": "NOTE"}
    b64, _ = idp.response(*sp(server), "alice@example.com", attrs)
    start = base64.b64decode(tampered(b64)).index(b">NOTE<") + 1
    # An odd distance puts byte 4096 in the middle of a character: the cut must back off.
    prefix = "" if (EXCERPT - start) % 2 else "a"
    bad = tampered(b64, prefix + "\u00e9" * 60000)
    whole = base64.b64decode(bad)
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": bad}, timeout=30,
                      allow_redirects=False)
    assert r.status_code == 403, r.text
    entry = last_log(server)
    assert entry["reason"] == "bad_signature"
    assert entry["xml_kept"] == "excerpt" and entry["xml_size"] == len(whole)
    kept = entry["xml"].encode()
    assert len(kept) == EXCERPT - 1 and whole.startswith(kept)
    # The CLI's text view says so too, and the store holds no more than the excerpt, sealed:
    # "s1:" + base64 of nonce (12) | excerpt | tag (16).
    out = server.ctl("saml-log", "show", str(entry["id"])).stdout
    assert "xml_kept        excerpt" in out and f"xml_size        {len(whole)}" in out
    size = "length(CAST(xml AS BLOB))" if server.db is None else "octet_length(xml)"
    (n,), = db_rows(server, f"SELECT {size} FROM saml_log WHERE id = ?", (entry["id"],))
    assert n == 3 + 4 * -(-(len(kept) + 28) // 3)
    # And the admin page's detail view.
    admin, _ = signed_in_user(server, "admin@example.com", "admin")
    page = admin.get(f"/admin/saml-log/view?id={entry['id']}").text
    assert f"An excerpt: the first {len(kept)} bytes of a response of {len(whole)} bytes" in page
    # A response whose signature verified (refused later: audience) is kept whole.
    b64, _ = idp.response(*sp(server), "alice@example.com", attrs={"email": "alice@example.com"},
                          audience="https://other.example/")
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64}, timeout=30)
    entry = last_log(server)
    assert entry["reason"] == "audience_mismatch" and entry["xml_kept"] == "full"
    assert entry["xml"].encode() == base64.b64decode(b64)


def test_refusals_are_rate_limited_per_address_never_a_valid_sign_in_elsewhere(make_server,
                                                                               tmp_path):
    server = make_server({"sp": {"acs_refusals_per_minute": "5"}})
    idp = register(server, tmp_path)
    garbage = {"SAMLResponse": base64.b64encode(b"<not-saml/>").decode()}
    for _ in range(5):
        status, _, _ = post_from(server, "127.0.0.1", garbage)
        assert status == 400
    status, headers, body = post_from(server, "127.0.0.1", garbage)
    assert status == 429 and int(headers["Retry-After"]) >= 1, body
    assert "Too many refused sign-in responses" in body
    rows_before = len(db_rows(server, "SELECT id FROM saml_log"))
    # Another address signs in at once; accepted sign-ins take nothing from its budget.
    for _ in range(7):
        b64, _ = idp.response(*sp(server), "alice@example.com", {"email": "alice@example.com"})
        status, headers, body = post_from(server, "127.0.0.2", {"SAMLResponse": b64})
        assert status == 303, body
    # The limited address is answered before any work: no log row for the 429s.
    assert post_from(server, "127.0.0.1", garbage)[0] == 429
    assert len(db_rows(server, "SELECT id FROM saml_log")) == rows_before + 7
    # A minute later its bucket has refilled.
    server.advance(60)
    assert post_from(server, "127.0.0.1", garbage)[0] == 400


def test_audit_retention_deletes_only_rows_past_audit_days(make_server):
    server = make_server({"store": {"audit_days": "1"}})
    server.add_user("old@example.com")
    server.stop()
    server.advance(2 * 86400)
    server.start()
    server.add_user("new@example.com")
    targets = [t for (t,) in db_rows(server, "SELECT target FROM audit")]
    assert "new@example.com" in targets and "old@example.com" not in targets
    # Rows inside the retention window stay append-only.
    with pytest.raises(StoreRefused, match="append-only"):
        db_write(server, "DELETE FROM audit")


# -- a real full disk ----------------------------------------------------------------------------

@pytest.fixture
def tmpfs(tmp_path):
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mnt)],
                   check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(path, leave_bytes=0):
    """Writes a filler file until the disk has at most leave_bytes free (ENOSPC stops it)."""
    st = os.statvfs(path.parent)
    want = st.f_bavail * st.f_frsize - leave_bytes
    chunk = b"\0" * 65536
    with open(path, "ab") as f:
        try:
            while want > 0:
                n = f.write(chunk[:min(len(chunk), want)])
                want -= n
                f.flush()
        except OSError:
            pass


def api_login(server, email, password):
    return requests.post(server.url("/api/login"), json={"email": email, "password": password},
                         timeout=30)


@pytest.mark.sqlite_only("the SQLite file on a small tmpfs; PostgreSQL's disk is its own")
def test_full_disk_fails_sign_ins_closed_and_recovers_by_itself(make_server, tmpfs, tmp_path):
    server = make_server({"store": {"path": str(tmpfs / "gatehouse.db"), "min_free_mb": "2"}})
    server.db_path = str(tmpfs / "gatehouse.db")
    idp = register(server, tmp_path)
    b, _ = signed_in_user(server, "pw@example.com")
    assert api_login(server, "pw@example.com", STRONG).status_code == 200
    filler = tmpfs / "filler"

    # Nearly full: the log keeps counting refusals but drops their bodies.
    fill(filler, leave_bytes=1536 * 1024)  # under min_free_mb, above the 1 MiB reserve
    b64, _ = idp.response(*sp(server), "alice@example.com", {"email": "alice@example.com"})
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": tampered(b64)}, timeout=30)
    assert r.status_code == 403
    entry = last_log(server)
    assert entry["reason"] == "bad_signature" and entry["xml_kept"] == "dropped"
    assert entry["xml"] is None and entry["xml_size"] > 0
    status, body, _ = readyz(server)
    assert status == 200 and body["storage"]["bodies_dropped"] is True

    # Full: every sign-in fails closed with 503 and Retry-After; /readyz says why.
    fill(filler)
    r = api_login(server, "pw@example.com", STRONG)
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "unavailable" and int(r.headers["Retry-After"]) > 0
    r = Browser(server).login("pw@example.com", STRONG)
    assert r.status_code == 503 and "storage is full" in r.text
    assert "gatehouse_session" not in r.headers.get("Set-Cookie", "")
    b64, _ = idp.response(*sp(server), "alice@example.com", {"email": "alice@example.com"})
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64}, timeout=30,
                      allow_redirects=False)
    assert r.status_code == 503 and "Retry-After" in r.headers, r.text
    status, body, headers = readyz(server)
    assert status == 503 and body["ready"] is False and "Retry-After" in headers
    assert body["checks"]["store_writable"] is False
    assert body["reason"].startswith("store_writable:") and "full" in body["reason"]
    assert requests.get(server.url("/healthz"), timeout=30).status_code == 200

    # Space is back: everything works again without a restart.
    filler.unlink()
    status, body, _ = readyz(server)
    assert status == 200 and body["ready"] is True, body
    assert api_login(server, "pw@example.com", STRONG).status_code == 200
    b64, _ = idp.response(*sp(server), "alice@example.com", {"email": "alice@example.com"})
    r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64}, timeout=30,
                      allow_redirects=False)
    assert r.status_code == 303, r.text
    assert "store writes fail" in server.read_log()
    assert "store writes succeed again" in server.read_log()


@pytest.mark.sqlite_only("max_size_mb measures the SQLite file and its WAL")
def test_above_the_store_ceiling_the_log_keeps_rows_without_bodies(make_server, tmp_path):
    server = make_server({"store": {"max_size_mb": "1"},
                          "sp": {"acs_refusals_per_minute": "100000"}})
    idp = register(server, tmp_path)
    b64, _ = idp.response(*sp(server), "alice@example.com", {"email": "alice@example.com"})
    bad = tampered(b64)
    kept = []
    for _ in range(400):
        r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": bad}, timeout=30)
        assert r.status_code == 403
        (k,), = db_rows(server, "SELECT xml_kept FROM saml_log ORDER BY id DESC LIMIT 1")
        kept.append(k)
        if kept[-1] == "dropped":
            break
    assert kept[-1] == "dropped", kept[-5:]
    status, body, _ = readyz(server)
    assert status == 200 and body["storage"]["bodies_dropped"] is True
    assert body["storage"]["size_bytes"] >= 1024 * 1024
    # Every refusal still has its row.
    assert len(db_rows(server, "SELECT id FROM saml_log")) == len(kept)


@pytest.mark.sqlite_only("RLIMIT_FSIZE limits the server's writes to its SQLite file")
def test_a_file_size_limit_is_an_error_never_a_crash(make_server, tmp_path):
    server = make_server({"sp": {"acs_refusals_per_minute": "100000"}})
    idp = register(server, tmp_path)
    server.add_user("pw@example.com")
    db = os.path.join(server.tmp, "gatehouse.db")
    limit = max(os.path.getsize(db), os.path.getsize(db + "-wal")) + 128 * 1024
    # RLIMIT_FSIZE (ulimit -f) on the running server: past it, write() raises SIGXFSZ.
    resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    big = {"email": "alice@example.com", "note": "x" * 60000}
    b64, _ = idp.response(*sp(server), "alice@example.com", big, audience="https://other/")
    statuses = []
    for _ in range(20):
        r = requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64}, timeout=30)
        statuses.append(r.status_code)
        if r.status_code == 503:
            break
    assert server.proc.poll() is None, "the server died:\n" + server.read_log()
    assert statuses[-1] == 503, statuses
    status, body, _ = readyz(server)
    assert status == 503 and body["checks"]["store_writable"] is False
    assert api_login(server, "pw@example.com", "whatever-it-is").status_code == 503
    resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE,
                     (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert readyz(server)[0] == 200
    assert api_login(server, "pw@example.com", "wrong-password-1").status_code == 401
