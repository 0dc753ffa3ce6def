"""A minimal independent IdP for the ACS tests: responses built here and signed by Debian's
xmlsec1 (not by lasso, which Gatehouse itself uses), with a key made at test time."""
import base64
import os
import subprocess
import time
import uuid
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape, quoteattr

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _sig_template(ref_id, sha1=False):
    sm = ("http://www.w3.org/2000/09/xmldsig#rsa-sha1" if sha1
          else "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    dm = ("http://www.w3.org/2000/09/xmldsig#sha1" if sha1
          else "http://www.w3.org/2001/04/xmlenc#sha256")
    return ('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
            '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
            f'<ds:SignatureMethod Algorithm="{sm}"/><ds:Reference URI="#{ref_id}"><ds:Transforms>'
            '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
            '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
            f'<ds:DigestMethod Algorithm="{dm}"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>'
            '<ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data>'
            '</ds:KeyInfo></ds:Signature>')


class MiniIdP:
    def __init__(self, tmp, entity_id="https://idp.test.example/saml", name="test"):
        self.tmp = str(tmp)
        self.entity_id = entity_id
        self.key = os.path.join(self.tmp, f"{name}-key.pem")
        self.cert = os.path.join(self.tmp, f"{name}-cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        self.key, "-out", self.cert, "-days", "3650", "-subj", f"/CN={name}-idp"],
                       check=True, capture_output=True)
        with open(self.cert) as f:
            pem = f.read()
        self.cert_b64 = "".join(l for l in pem.splitlines() if "-----" not in l)
        self.metadata_path = os.path.join(self.tmp, f"{name}-metadata.xml")
        with open(self.metadata_path, "w") as f:
            f.write(self.metadata())

    def metadata(self):
        sso = "https://idp.test.example/sso"
        return (f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
                f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID={quoteattr(self.entity_id)}>'
                '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
                '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
                f'{self.cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
                '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
                f'Location="{sso}/slo"/>'
                '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
                f'Location="{sso}"/></md:IDPSSODescriptor></md:EntityDescriptor>')

    def response(self, sp_entity, acs, name_id, attrs=None, in_response_to=None, now=None,
                 lifetime=300, audience=None, recipient=None, destination=None, issuer=None,
                 assertion_id=None, sign=True, sha1=False, status="Success",
                 name_id_format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                 extra_condition="", edit=None):
        """A signed (assertion) Response, as base64 for the HTTP-POST binding. edit(xml), when
        given, changes the XML before it is signed (for shapes the arguments cannot make)."""
        now = time.time() if now is None else now
        aid = assertion_id or "_a" + uuid.uuid4().hex
        rid = "_r" + uuid.uuid4().hex
        irt = f' InResponseTo={quoteattr(in_response_to)}' if in_response_to else ""
        issuer = issuer or self.entity_id
        dest = destination or acs
        attr_xml = "".join(
            f'<saml:Attribute Name={quoteattr(k)}>' +
            "".join(f'<saml:AttributeValue>{escape(v)}</saml:AttributeValue>'
                    for v in (vals if isinstance(vals, list) else [vals])) +
            '</saml:Attribute>' for k, vals in (attrs or {}).items())
        sig = _sig_template(aid, sha1) if sign else ""
        attr_stmt = (f'<saml:AttributeStatement>{attr_xml}</saml:AttributeStatement>'
                     if attr_xml else "")
        assertion = (
            f'<saml:Assertion xmlns:saml="{SAML}" ID="{aid}" Version="2.0" '
            f'IssueInstant="{iso(now)}"><saml:Issuer>{escape(issuer)}</saml:Issuer>{sig}'
            f'<saml:Subject><saml:NameID Format="{name_id_format}">{escape(name_id)}</saml:NameID>'
            '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
            f'<saml:SubjectConfirmationData NotOnOrAfter="{iso(now + lifetime)}" '
            f'Recipient={quoteattr(recipient or acs)}{irt}/></saml:SubjectConfirmation></saml:Subject>'
            f'<saml:Conditions NotBefore="{iso(now - 30)}" NotOnOrAfter="{iso(now + lifetime)}">'
            f'<saml:AudienceRestriction><saml:Audience>{escape(audience or sp_entity)}</saml:Audience>'
            f'</saml:AudienceRestriction>{extra_condition}</saml:Conditions>'
            f'<saml:AuthnStatement AuthnInstant="{iso(now)}" SessionIndex="_s{uuid.uuid4().hex}">'
            '<saml:AuthnContext><saml:AuthnContextClassRef>'
            'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport'
            '</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>'
            f'{attr_stmt}</saml:Assertion>')
        xml = (f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{rid}" '
               f'Version="2.0" IssueInstant="{iso(now)}" Destination={quoteattr(dest)}{irt}>'
               f'<saml:Issuer>{escape(issuer)}</saml:Issuer><samlp:Status><samlp:StatusCode '
               f'Value="urn:oasis:names:tc:SAML:2.0:status:{status}"/></samlp:Status>'
               f'{assertion}</samlp:Response>')
        if edit is not None:
            xml = edit(xml)
        if sign:
            xml = self.sign(xml)
        return base64.b64encode(xml.encode()).decode(), aid

    def sign(self, xml, key=None, cert=None):
        src = os.path.join(self.tmp, f"tosign-{uuid.uuid4().hex}.xml")
        with open(src, "w") as f:
            f.write(xml)
        out = subprocess.run(
            ["xmlsec1", "--sign", "--privkey-pem", f"{key or self.key},{cert or self.cert}",
             "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", src],
            check=True, capture_output=True).stdout
        os.unlink(src)
        return out.decode()


def request_id_from_redirect(location):
    """The ID of the AuthnRequest carried in an HTTP-Redirect binding URL."""
    import zlib
    q = parse_qs(urlparse(location).query)
    xml = zlib.decompress(base64.b64decode(q["SAMLRequest"][0]), -15).decode()
    import re
    return re.search(r'\sID="([^"]+)"', xml).group(1), q


def _deflate_b64(xml):
    import zlib
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(c.compress(xml.encode()) + c.flush()).decode()


RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def sign_redirect(kind, xml, key, relay=None):
    """The query string of an HTTP-Redirect binding message (kind SAMLRequest or SAMLResponse),
    signed with key (RSA-SHA256) over its exact encoded bytes, as the binding says."""
    from urllib.parse import quote
    parts = [f"{kind}={quote(_deflate_b64(xml), safe='')}"]
    if relay is not None:
        parts.append(f"RelayState={quote(relay, safe='')}")
    parts.append(f"SigAlg={quote(RSA_SHA256, safe='')}")
    signed = "&".join(parts)
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signed.encode(),
                         capture_output=True, check=True).stdout
    return signed + "&Signature=" + quote(base64.b64encode(sig).decode(), safe="")


def verify_redirect(url, cert_path):
    """Whether the HTTP-Redirect message in url is signed by cert_path's key (over the raw,
    still-encoded query parts, in the binding's order)."""
    import tempfile
    from urllib.parse import unquote
    raw = dict(p.split("=", 1) for p in urlparse(url).query.split("&"))
    kind = "SAMLRequest" if "SAMLRequest" in raw else "SAMLResponse"
    signed = "&".join(f"{k}={raw[k]}" for k in (kind, "RelayState", "SigAlg") if k in raw)
    if unquote(raw.get("SigAlg", "")) != RSA_SHA256:
        return False
    sig = base64.b64decode(unquote(raw["Signature"]))
    with tempfile.TemporaryDirectory() as d:
        pub, sigf = os.path.join(d, "pub.pem"), os.path.join(d, "sig")
        subprocess.run(["openssl", "x509", "-in", cert_path, "-pubkey", "-noout", "-out", pub],
                       check=True, capture_output=True)
        with open(sigf, "wb") as f:
            f.write(sig)
        p = subprocess.run(["openssl", "dgst", "-sha256", "-verify", pub, "-signature", sigf],
                           input=signed.encode(), capture_output=True)
        return p.returncode == 0


def redirect_xml(url):
    """The XML carried by an HTTP-Redirect binding URL."""
    import zlib
    q = parse_qs(urlparse(url).query)
    kind = "SAMLRequest" if "SAMLRequest" in q else "SAMLResponse"
    return zlib.decompress(base64.b64decode(q[kind][0]), -15).decode()


def logout_request(issuer, destination, name_id, session_index=None,
                   name_id_format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
                   now=None, not_on_or_after=None):
    """(ID, XML) of a LogoutRequest; destination None leaves Destination out."""
    rid = "_lr" + uuid.uuid4().hex
    now = time.time() if now is None else now
    si = f"<samlp:SessionIndex>{escape(session_index)}</samlp:SessionIndex>" if session_index else ""
    dest = f" Destination={quoteattr(destination)}" if destination is not None else ""
    nooa = f' NotOnOrAfter="{iso(not_on_or_after)}"' if not_on_or_after is not None else ""
    return rid, (f'<samlp:LogoutRequest xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{rid}" '
                 f'Version="2.0" IssueInstant="{iso(now)}"{dest}{nooa}>'
                 f'<saml:Issuer>{escape(issuer)}</saml:Issuer>'
                 f'<saml:NameID Format="{name_id_format}">{escape(name_id)}</saml:NameID>{si}'
                 '</samlp:LogoutRequest>')


def logout_response(issuer, destination, in_response_to, status="Success", now=None):
    rid = "_lp" + uuid.uuid4().hex
    now = time.time() if now is None else now
    return (f'<samlp:LogoutResponse xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{rid}" '
            f'Version="2.0" IssueInstant="{iso(now)}" Destination={quoteattr(destination)} '
            f'InResponseTo={quoteattr(in_response_to)}><saml:Issuer>{escape(issuer)}</saml:Issuer>'
            f'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:{status}"/>'
            '</samlp:Status></samlp:LogoutResponse>')
