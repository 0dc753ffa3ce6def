"""A large federation aggregate for the scale test and benchmark (issue 17 item 4): n SAML 2.0
IdPs in one EntitiesDescriptor, signed by the federation operator's key with Debian's xmlsec1
(mdserver.Signer, as the federation tests sign theirs). Each synthetic IdP has its own X.509
certificate (distinct serial, subject and signature; the public keys come from a small pool,
as generating thousands of RSA keys would take minutes), its own endpoints, a shibmd:Scope and
an mdui:DisplayName. Real IdPs (MiniIdP, mock-idp) are placed at given positions in the list."""
import base64
import datetime
from xml.sax.saxutils import quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
KEY_POOL = 8


def _certs(n, seed_keys=KEY_POOL):
    """n base64 DER certificates, each distinct, RSA-2048 keys from a pool of seed_keys."""
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048)
            for _ in range(seed_keys)]
    now = datetime.datetime.now(datetime.timezone.utc)
    out = []
    for i in range(n):
        k = keys[i % len(keys)]
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"idp{i}.fed.example")])
        c = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
             .public_key(k.public_key()).serial_number(1000 + i)
             .not_valid_before(now - datetime.timedelta(days=1))
             .not_valid_after(now + datetime.timedelta(days=3650))
             .sign(k, hashes.SHA256()))
        out.append(base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode())
    return out


def synthetic_entity_id(i):
    return f"https://idp{i}.fed.example/idp/shibboleth"


def _synthetic(i, cert_b64):
    host = f"idp{i}.fed.example"
    return (f'<md:EntityDescriptor entityID={quoteattr(synthetic_entity_id(i))}>'
            '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            '<md:Extensions><shibmd:Scope xmlns:shibmd="urn:mace:shibboleth:metadata:1.0" '
            f'regexp="false">uni{i}.fed.example</shibmd:Scope>'
            '<mdui:UIInfo xmlns:mdui="urn:oasis:names:tc:SAML:metadata:ui">'
            f'<mdui:DisplayName xml:lang="en">University {i}</mdui:DisplayName>'
            '</mdui:UIInfo></md:Extensions>'
            '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
            f'{cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>'
            '<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="https://{host}/idp/profile/SAML2/Redirect/SLO"/>'
            '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="https://{host}/idp/profile/SAML2/Redirect/SSO"/>'
            '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
            f'Location="https://{host}/idp/profile/SAML2/POST/SSO"/>'
            '</md:IDPSSODescriptor></md:EntityDescriptor>')


def _bare(entity_xml):
    """An EntityDescriptor document made a child: its XML declaration and the namespace
    declarations the aggregate's root makes dropped."""
    x = entity_xml.strip()
    if x.startswith("<?xml"):
        x = x[x.index("?>") + 2:].lstrip()
    return (x.replace(f' xmlns:md="{MD}"', "").replace(f' xmlns:ds="{DS}"', ""))


class Members:
    """The synthetic part of an aggregate: n certificates made once, so that the same federation
    can be published again with one IdP changed (a new certificate) or gone."""

    def __init__(self, n):
        self.n = n
        self.certs = _certs(n)

    def xml(self, real=None, drop=(), recert=None):
        """The members' EntityDescriptors: real maps a position to a real IdP's metadata (that
        synthetic one is replaced), drop lists positions left out, recert maps a position to a
        new base64 certificate."""
        real, recert = real or {}, recert or {}
        parts = []
        for i in range(self.n):
            if i in drop:
                continue
            if i in real:
                parts.append(_bare(real[i]))
            else:
                parts.append(_synthetic(i, recert.get(i, self.certs[i])))
        return "".join(parts)


def new_cert():
    return _certs(1, 1)[0]


def aggregate(signer, members_xml, name="urn:test:big-federation", extra=""):
    """The signed EntitiesDescriptor (bytes) around members_xml."""
    xml = (f'<md:EntitiesDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" Name={quoteattr(name)} '
           f'{extra}>{members_xml}</md:EntitiesDescriptor>')
    return signer.sign(xml, root="md:EntitiesDescriptor")


def write_aggregate(path, signer, members_xml, **kw):
    data = aggregate(signer, members_xml, **kw)
    with open(path, "wb") as f:
        f.write(data)
    return len(data)

