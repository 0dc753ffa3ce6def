"""Endpoint URLs read from IdP metadata must be absolute http(s) URLs without control
characters or spaces (issue 14 item 4): before, a Location with CR/LF was stored (the CLI printed
the injected line, SP-initiated sign-in answered 500) and javascript: was accepted."""
import json

from samlidp import MiniIdP

GOOD = "https://idp.test.example/sso"


def metadata(idp, sso=GOOD, slo="https://idp.test.example/slo", slo_response=None):
    resp = f' ResponseLocation="{slo_response}"' if slo_response else ""
    return (f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{idp.entity_id}">'
            '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
            f'{idp.cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
            '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="{slo}"{resp}/>'
            '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="{sso}"/></md:IDPSSODescriptor></md:EntityDescriptor>')


BAD = [
    ({"sso": "https://idp.test.example/sso&#13;&#10;Set-Cookie: x=1"}, "Set-Cookie"),
    ({"sso": "javascript:alert(1)"}, "javascript:alert(1)"),
    ({"sso": "/relative/sso"}, "/relative/sso"),
    ({"sso": "https:///no-host"}, "https:///no-host"),
    ({"sso": "ftp://idp.test.example/sso"}, "ftp://"),
    ({"slo": "https://idp.test.example/slo&#9;x"}, "slo"),
    ({"slo_response": "javascript:alert(2)"}, "ResponseLocation"),
]


def test_bad_endpoint_urls_are_refused_at_import_with_a_clear_message(server, tmp_path):
    idp = MiniIdP(tmp_path)
    for i, (kw, shown) in enumerate(BAD):
        path = tmp_path / f"bad{i}.xml"
        path.write_text(metadata(idp, **kw))
        p = server.ctl("idp", "add", "--metadata", str(path), check=False)
        assert p.returncode == 1, (kw, p.stdout, p.stderr)
        assert "endpoint URL" in p.stderr and "http" in p.stderr, p.stderr
        assert shown in p.stderr, (shown, p.stderr)
        # Exactly one line: no CR/LF of the metadata reaches the terminal.
        assert p.stderr.count("\n") == 1 and "\r" not in p.stderr, repr(p.stderr)
    assert json.loads(server.ctl("idp", "list", "--json").stdout) == []
    # A registered IdP's metadata reload is checked the same way.
    good = tmp_path / "good.xml"
    good.write_text(metadata(idp))
    server.ctl("idp", "add", "--metadata", str(good))
    bad = tmp_path / "bad.xml"
    bad.write_text(metadata(idp, sso="javascript:alert(1)"))
    p = server.ctl("idp", "set", idp.entity_id, "--metadata", str(bad), check=False)
    assert p.returncode == 1 and "endpoint URL" in p.stderr
    assert json.loads(server.ctl("idp", "list", "--json").stdout)[0]["sso_redirect"] == GOOD
