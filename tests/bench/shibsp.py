"""The peer for the SSO benchmark: Debian's Shibboleth SP 3.4 (shibd and mod_shib in a private
Apache with the event MPM), configured in a temporary folder on a loopback port, with the same
kind of IdP (bin/mock-idp's metadata) and in-memory session and replay caches, as shipped.

Its ACS is /Shibboleth.sso/SAML2/POST: a valid unsolicited response gets a 302 with the session
cookie, a replayed or broken one an error page (wrk counts those as non-2xx/3xx)."""
import os
import signal
import socket
import subprocess
import time
import urllib.request

MODULES = "/usr/lib/apache2/modules"
SHIBD = "/usr/sbin/shibd"
APACHE = "/usr/sbin/apache2"

LOGGER = """log4j.rootCategory=WARN, f
log4j.appender.f=org.apache.log4j.FileAppender
log4j.appender.f.fileName={log}
log4j.appender.f.layout=org.apache.log4j.PatternLayout
log4j.appender.f.layout.ConversionPattern=%d %p %c %x: %m%n
"""

SHIBBOLETH2 = """<SPConfig xmlns="urn:mace:shibboleth:3.0:native:sp:config"
    xmlns:conf="urn:mace:shibboleth:3.0:native:sp:config" clockSkew="180">
  <OutOfProcess logger="{d}/shibd.logger"/>
  <InProcess logger="{d}/native.logger"/>
  <UnixListener address="{d}/shibd.sock"/>
  <StorageService type="Memory" id="mem" cleanupInterval="900"/>
  <SessionCache type="StorageService" StorageService="mem" cacheAssertions="false"
      cacheAllowance="900" inprocTimeout="900" cleanupInterval="900"/>
  <ReplayCache StorageService="mem"/>
  <ArtifactMap artifactTTL="180"/>
  <ApplicationDefaults entityID="{base}/shibboleth" REMOTE_USER="mail">
    <Sessions lifetime="28800" timeout="3600" relayState="ss:mem" checkAddress="false"
        handlerSSL="false" cookieProps="http" redirectLimit="none">
      <SSO entityID="{idp_entity}">SAML2</SSO>
      <Logout>SAML2 Local</Logout>
    </Sessions>
    <Errors supportContact="root@localhost" helpLocation="/about.html"
        styleSheet="/shibboleth-sp/main.css"/>
    <MetadataProvider type="XML" validate="true" path="{d}/idp-metadata.xml"/>
    <AttributeExtractor type="XML" validate="true" reloadChanges="false"
        path="/etc/shibboleth/attribute-map.xml"/>
    <AttributeFilter type="XML" validate="true" path="/etc/shibboleth/attribute-policy.xml"/>
    <CredentialResolver type="File" key="{d}/sp-key.pem" certificate="{d}/sp-cert.pem"/>
  </ApplicationDefaults>
  <SecurityPolicyProvider type="XML" validate="true" path="/etc/shibboleth/security-policy.xml"/>
  <ProtocolProvider type="XML" validate="true" reloadChanges="false"
      path="/etc/shibboleth/protocols.xml"/>
</SPConfig>
"""

SP_METADATA = (
    '<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{base}/shibboleth">'
    '<SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
    '<KeyDescriptor><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>'
    '<ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></KeyDescriptor>'
    '<AssertionConsumerService index="0" isDefault="true" '
    'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
    'Location="{base}/Shibboleth.sso/SAML2/POST"/></SPSSODescriptor></EntityDescriptor>')

# Debian's default event MPM sizing (apache2's mpm_event.conf).
HTTPD = """ServerRoot {d}
LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authn_core_module {m}/mod_authn_core.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule authz_user_module {m}/mod_authz_user.so
LoadModule mime_module {m}/mod_mime.so
LoadModule mod_shib {m}/mod_shib.so
Listen 127.0.0.1:{port}
ServerName 127.0.0.1:{port}
{user}
PidFile {d}/httpd.pid
ErrorLog {d}/error.log
LogLevel warn
Mutex file:{d} default
TypesConfig /etc/mime.types
DocumentRoot {d}/htdocs
ShibConfig {d}/shibboleth2.xml
ShibCompatValidUser Off
StartServers 2
MinSpareThreads 25
MaxSpareThreads 75
ThreadLimit 64
ThreadsPerChild 25
MaxRequestWorkers 150
<Location /Shibboleth.sso>
  AuthType None
  Require all granted
</Location>
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ShibbolethSP:
    def __init__(self, folder, idp_metadata, idp_entity):
        self.dir = folder
        os.makedirs(os.path.join(folder, "htdocs"), exist_ok=True)
        # Apache's workers run as www-data when started as root: they must reach shibd's socket.
        os.chmod(folder, 0o755)
        os.chmod(os.path.dirname(folder), 0o755)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        d = folder
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        f"{d}/sp-key.pem", "-out", f"{d}/sp-cert.pem", "-days", "30", "-subj",
                        "/CN=shibboleth-bench"], check=True, capture_output=True)
        with open(idp_metadata) as src, open(f"{d}/idp-metadata.xml", "w") as dst:
            dst.write(src.read())
        with open(f"{d}/sp-cert.pem") as f:
            cert = "".join(l.strip() for l in f if not l.startswith("-----"))
        self.metadata = f"{d}/sp-metadata.xml"
        files = {
            "shibd.logger": LOGGER.format(log=f"{d}/shibd.log"),
            "native.logger": LOGGER.format(log=f"{d}/native.log"),
            "shibboleth2.xml": SHIBBOLETH2.format(d=d, base=self.base, idp_entity=idp_entity),
            "sp-metadata.xml": SP_METADATA.format(base=self.base, cert=cert),
            "httpd.conf": HTTPD.format(d=d, m=MODULES, port=self.port,
                                       user="User www-data\nGroup www-data"
                                       if os.geteuid() == 0 else ""),
        }
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        self.shibd = self.apache = None

    def start(self):
        d = self.dir
        self.shibd = subprocess.Popen([SHIBD, "-F", "-f", "-c", f"{d}/shibboleth2.xml", "-p",
                                       f"{d}/shibd.pid"], stdout=subprocess.DEVNULL,
                                      stderr=open(f"{d}/shibd.out", "wb"))
        self._wait(lambda: os.path.exists(f"{d}/shibd.sock"), self.shibd, "shibd")
        self.apache = subprocess.Popen([APACHE, "-f", f"{d}/httpd.conf", "-DFOREGROUND"],
                                       stdout=subprocess.DEVNULL,
                                       stderr=open(f"{d}/apache.out", "wb"))

        def answers():
            try:
                urllib.request.urlopen(self.base + "/Shibboleth.sso/Metadata", timeout=1)
            except urllib.error.HTTPError:
                pass
            except OSError:
                return False
            return True

        self._wait(answers, self.apache, "apache2")
        return self

    def _wait(self, ready, proc, name):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited at start; see {self.dir}")
            if ready():
                return
            time.sleep(0.05)
        raise RuntimeError(f"{name} did not start; see {self.dir}")

    def stop(self):
        for p in (self.apache, self.shibd):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
