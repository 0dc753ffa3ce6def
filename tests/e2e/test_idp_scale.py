"""A large federation (issue 17 item 4): each IdP's lasso provider is built when a response
first names the IdP, not when the federation loads, and a refresh that changes one IdP rebuilds
that IdP alone. 400 IdPs here (tests/bench/bench_idpscale.py runs 5,000): a sign-in through an
IdP late in the aggregate, its certificate rolled over by a refresh, then its removal."""
import json
import re

import pytest
import requests

from bigfed import Members, aggregate
from conftest import Browser
from mdserver import MetadataServer, Signer
from samlidp import MiniIdP, request_id_from_redirect

N = 400
LATE, EARLY = N - 7, 3  # aggregate positions of the two real IdPs


@pytest.fixture
def mds(tmp_path):
    s = MetadataServer(tmp_path)
    yield s
    s.stop()


def metrics(srv):
    text = requests.get(srv.url("/metrics"), timeout=30).text
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^(gatehouse_saml_idp_\w+) ([\d.]+)$", text, re.M)}


def sign_in(srv, idp, email):
    """SP-initiated sign-in through idp: the ACS status and the SAML log's reason."""
    b = Browser(srv)
    r = b.get(f"/saml/login?idp={idp.entity_id}", allow_redirects=False)
    assert r.status_code == 303, r.text
    rid, q = request_id_from_redirect(r.headers["Location"])
    b64, _ = idp.response(srv.url("/saml/metadata"), srv.url("/saml/acs"), email,
                          {"email": email}, in_response_to=rid)
    r = b.s.post(srv.url("/saml/acs"), data={"SAMLResponse": b64,
                                             "RelayState": q["RelayState"][0]},
                 allow_redirects=False, timeout=30)
    return r.status_code


def post_unsolicited(srv, idp, email):
    b64, _ = idp.response(srv.url("/saml/metadata"), srv.url("/saml/acs"), email,
                          {"email": email})
    return requests.post(srv.url("/saml/acs"), data={"SAMLResponse": b64},
                         allow_redirects=False, timeout=30).status_code


def last_reason(srv):
    rows = json.loads(srv.ctl("saml-log", "list", "--limit", "1", "--json").stdout)
    return rows[0]["reason"]


def test_a_large_federation_builds_each_idp_at_first_use_and_one_at_a_change(
        make_server, mds, tmp_path):
    signer = Signer(tmp_path)
    members = Members(N)
    late = MiniIdP(tmp_path, "https://idp.late.example/saml", name="late")
    early = MiniIdP(tmp_path, "https://idp.early.example/saml", name="early")
    real = {LATE: late.metadata(), EARLY: early.metadata()}
    mds.files["/fed.xml"] = aggregate(signer, members.xml(real=real))
    srv = make_server({"sp": {"metadata_ca_file": mds.ca}})
    url = mds.url("/fed.xml")
    out = srv.ctl("federation", "add", "--url", url, "--cert", signer.cert).stdout
    assert f"{N} IdPs added" in out, out
    # Loading the federation built no provider in the server.
    assert metrics(srv).get("gatehouse_saml_idp_provider_builds_total", 0) == 0

    # A sign-in through an IdP near the end of the aggregate builds that IdP alone.
    assert sign_in(srv, late, "ann@late.example") == 303
    assert sign_in(srv, early, "bob@early.example") == 303
    m = metrics(srv)
    assert m["gatehouse_saml_idp_provider_builds_total"] == 2, m
    assert m["gatehouse_saml_idp_providers"] == 2
    assert sign_in(srv, late, "ann@late.example") == 303
    assert metrics(srv)["gatehouse_saml_idp_provider_builds_total"] == 2

    # A refresh rolls the late IdP's certificate over: the new key signs in, the old one no
    # more, and only that IdP's provider was built again (the early one was checked, unchanged).
    late2 = MiniIdP(tmp_path, "https://idp.late.example/saml", name="late2")
    real[LATE] = late2.metadata()
    mds.files["/fed.xml"] = aggregate(signer, members.xml(real=real))
    out = srv.ctl("federation", "refresh", url).stdout
    assert "1 updated" in out and f"{N - 1} unchanged" in out, out
    srv.ctl("idp", "set", late.entity_id, "--idp-initiated", "on")
    assert post_unsolicited(srv, late, "ann@late.example") == 403
    assert last_reason(srv) == "bad_signature"
    assert post_unsolicited(srv, late2, "ann@late.example") == 303
    assert sign_in(srv, early, "bob@early.example") == 303
    m = metrics(srv)
    assert m["gatehouse_saml_idp_provider_builds_total"] == 3, m

    # Removed from the aggregate: its responses are refused as from an unknown issuer, and its
    # provider is dropped.
    mds.files["/fed.xml"] = aggregate(signer, members.xml(real=real, drop={LATE}))
    out = srv.ctl("federation", "refresh", url).stdout
    assert "1 removed" in out, out
    assert post_unsolicited(srv, late2, "ann@late.example") == 403
    assert last_reason(srv) == "unknown_issuer"
    assert metrics(srv)["gatehouse_saml_idp_providers"] == 1
