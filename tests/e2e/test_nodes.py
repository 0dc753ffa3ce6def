"""What a node says about itself ([server] node_name, by default the host name): its name in
/readyz and its start-up line, and on each SAML log and audit row it writes."""
import json
import socket

import requests

from conftest import db_rows


def test_readyz_and_the_start_line_name_the_node(make_server):
    named = make_server({"server": {"node_name": "gh-a.example_1"}})
    body = requests.get(named.url("/readyz"), timeout=30).json()
    assert body["ready"] is True and body["node"] == "gh-a.example_1"
    assert "node=gh-a.example_1 " in named.read_log()
    plain = make_server()
    assert requests.get(plain.url("/readyz"), timeout=30).json()["node"] == socket.gethostname()


def test_saml_log_and_audit_rows_carry_the_node_that_wrote_them(make_server, tmp_path):
    from samlidp import MiniIdP
    server = make_server({"server": {"node_name": "node-7"}})
    idp = MiniIdP(tmp_path)
    server.ctl("idp", "add", "--metadata", idp.metadata_path, "--domain", "example.com",
               "--idp-initiated", "on")
    b64, _ = idp.response(server.url("/saml/metadata"), server.url("/saml/acs"),
                          "alice@example.com", {"email": "alice@example.com"})
    assert requests.post(server.url("/saml/acs"), data={"SAMLResponse": b64},
                         allow_redirects=False, timeout=30).status_code == 303
    (entry,) = json.loads(server.ctl("saml-log", "list", "--json").stdout)
    assert entry["node"] == "node-7"
    assert json.loads(server.ctl("saml-log", "show", str(entry["id"]), "--json").stdout)[
        "node"] == "node-7"
    # The CLI writes as the node its configuration names.
    (row,) = json.loads(server.ctl("audit", "list", "--json", "--action", "idp.add").stdout)
    assert row["node"] == "node-7"
    assert db_rows(server, "SELECT DISTINCT node FROM saml_log") == [("node-7",)]
