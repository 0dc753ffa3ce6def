"""Forward-auth through a real nginx (auth_request) and a real Caddy (forward_auth), each started
by the test on a private prefix and port, with the README's snippets, in front of a small upstream
that echoes the headers it receives. Host names under example.test reach 127.0.0.1 without DNS
(see test_forward_auth.py); the proxy serves auth.example.test (Gatehouse) and
app/app2/admin.example.test (the upstream) on one port."""
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest
import requests

from conftest import TOP, Server, csrf_of, free_port
from test_forward_auth import _loopback_for_test_names, _set_base, _with_rules

sys.path.insert(0, os.path.join(TOP, "tests", "mockidp"))
from mockidp_harness import MockIdP, post_form_of  # noqa: E402

RULES = [
    "admin.example.test / roles=owner,admin",
    "app.example.test /finance groups=finance",
    "app.example.test /secure mfa",
    "*.example.test /public bypass",
    "*.example.test /blocked deny",
    "*.example.test / signed_in",
]
STRONG = "Correct-Horse-92"
IDENTITY = ["Remote-User", "Remote-Email", "Remote-Name", "Remote-Groups", "Remote-Role",
            "Remote-Auth-Method"]


class Echo(http.server.BaseHTTPRequestHandler):
    """The application: answers every request with the path and headers it received."""

    def do_GET(self):
        body = json.dumps({"path": self.path,
                           "headers": [[k, v] for k, v in self.headers.items()]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


def start_upstream():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


NGINX_CONF = """
daemon off;
master_process off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
{upstream_block}

    # Gatehouse itself (sign-in pages, SSO).
    server {{
        listen 127.0.0.1:{port};
        server_name auth.example.test;
        location / {{
            proxy_pass http://127.0.0.1:{gatehouse};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_set_header X-Forwarded-Proto $scheme;
        }}
    }}

    # The applications, each request asked of /auth/verify first.
    server {{
        listen 127.0.0.1:{port};
        server_name app.example.test app2.example.test admin.example.test;
{snippet}
        location / {{
{identity}
            proxy_pass http://127.0.0.1:{upstream};
        }}
    }}
}}
"""


def readme_snippet(name):
    """The README's tested snippet between '<!-- NAME -->' markers (fenced code)."""
    with open(os.path.join(TOP, "README.md")) as f:
        text = f.read()
    m = re.search(rf"<!-- {name} -->\s*```[a-z]*\n(.*?)```", text, re.S)
    assert m, f"README has no {name} snippet"
    return m.group(1)


class Nginx:
    name = "nginx"

    def __init__(self, tmp, port, gatehouse, upstream):
        self.prefix = str(tmp / "nginx")
        os.makedirs(os.path.join(self.prefix, "tmp"), exist_ok=True)
        snippet = readme_snippet("nginx-verify")
        block = readme_snippet("nginx-upstream").replace("127.0.0.1:9091", f"127.0.0.1:{gatehouse}")
        identity = readme_snippet("nginx-identity")
        self.conf = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(NGINX_CONF.format(prefix=self.prefix, port=port, gatehouse=gatehouse,
                                      upstream=upstream, snippet=indent(snippet, 8),
                                      upstream_block=indent(block, 4),
                                      identity=indent(identity, 12)))
        self.port = port
        self.cmd = [shutil.which("nginx") or "/usr/sbin/nginx", "-p", self.prefix, "-c", self.conf,
                    "-e", os.path.join(self.prefix, "error.log")]
        self.env = None

    def log(self):
        try:
            return open(os.path.join(self.prefix, "error.log")).read()
        except OSError:
            return ""


CADDYFILE = """
{{
    admin off
    auto_https off
    storage file_system {prefix}/data
}}

http://auth.example.test:{port} {{
    bind 127.0.0.1
    reverse_proxy 127.0.0.1:{gatehouse}
}}

http://app.example.test:{port}, http://app2.example.test:{port}, http://admin.example.test:{port} {{
    bind 127.0.0.1
{snippet}
}}
"""


class Caddy:
    name = "caddy"

    def __init__(self, tmp, port, gatehouse, upstream):
        self.prefix = str(tmp / "caddy")
        os.makedirs(self.prefix, exist_ok=True)
        snippet = (readme_snippet("caddy").replace("127.0.0.1:9091", f"127.0.0.1:{gatehouse}")
                   .replace("127.0.0.1:8000", f"127.0.0.1:{upstream}"))
        self.conf = os.path.join(self.prefix, "Caddyfile")
        with open(self.conf, "w") as f:
            f.write(CADDYFILE.format(prefix=self.prefix, port=port, gatehouse=gatehouse,
                                     snippet=indent(snippet, 4)))
        self.port = port
        self.cmd = [shutil.which("caddy") or "/usr/bin/caddy", "run", "--config", self.conf,
                    "--adapter", "caddyfile"]
        self.env = dict(os.environ, HOME=self.prefix, XDG_DATA_HOME=self.prefix + "/xdg-data",
                        XDG_CONFIG_HOME=self.prefix + "/xdg-config")

    def log(self):
        try:
            return open(os.path.join(self.prefix, "caddy.log")).read()
        except OSError:
            return ""


def indent(text, n):
    return "\n".join((" " * n + ln) if ln.strip() else "" for ln in text.splitlines())


def start_proxy(p):
    logf = open(os.path.join(p.prefix, p.name + ".log"), "ab")
    p.proc = subprocess.Popen(p.cmd, stdout=logf, stderr=logf, env=p.env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if p.proc.poll() is not None:
            raise RuntimeError(f"{p.name} exited at start:\n" + open(logf.name).read() + p.log())
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", p.port)) == 0:
                return p
        time.sleep(0.05)
    raise RuntimeError(f"{p.name} did not listen:\n" + p.log())


class Env:
    """Gatehouse behind the proxy at http://auth.example.test:PORT, the upstream behind it at
    app.example.test, app2.example.test and admin.example.test, and a mock IdP."""

    def __init__(self, tmp, kind):
        self.tmp = tmp
        self.port = free_port()
        (tmp / "gh").mkdir()
        self.gh = Server(tmp / "gh", {"server": {"cookie_domain": "example.test",
                                                  "trusted_proxies": "127.0.0.1/32"}})
        self.public = f"http://auth.example.test:{self.port}"
        _set_base(self.gh, self.public)
        _with_rules(self.gh, "deny", RULES)
        self.gh.start()
        self.upstream = start_upstream()
        cls = Nginx if kind == "nginx" else Caddy
        self.proxy = start_proxy(cls(tmp, self.port, self.gh.port, self.upstream.server_port))
        self.idp = None

    def url(self, host, path):
        return f"http://{host}.example.test:{self.port}{path}"

    def user(self, email, role="member"):
        """A password user who has made their own password (through the proxy)."""
        temp = self.gh.add_user(email, role, name=email.split("@")[0].title())
        s = requests.Session()
        page = s.get(self.public + "/login", timeout=30)
        r = s.post(self.public + "/login", data={"email": email, "password": temp,
                                                 "csrf_token": csrf_of(page.text)},
                   allow_redirects=False, timeout=30)
        assert r.headers["Location"] == "/password/change", r.text
        page = s.get(self.public + "/password/change", timeout=30)
        r = s.post(self.public + "/password/change",
                   data={"current_password": temp, "new_password": STRONG,
                         "confirm_password": STRONG, "csrf_token": csrf_of(page.text)},
                   allow_redirects=False, timeout=30)
        assert r.status_code == 303, r.text

    def mock_idp(self):
        if self.idp is None:
            (self.tmp / "idp").mkdir()
            md = str(self.tmp / "idp" / "sp-metadata.xml")
            with open(md, "w") as f:
                f.write(requests.get(self.public + "/saml/metadata", timeout=30).text)
            users = str(self.tmp / "idp" / "users.json")
            with open(users, "w") as f:
                json.dump([{"email": "sam@sso.example", "name": "Sam Single",
                            "groups": ["staff", "finance"]}], f)
            # The IdP says it used a second factor (REFEDS MFA): the mfa rule lets Sam in.
            self.idp = MockIdP(self.tmp / "idp", md, "--auto-login", "sam@sso.example",
                               "--authn-context", "https://refeds.org/profile/mfa",
                               users=users).start()
            self.gh.ctl("idp", "add", "--metadata", self.idp.metadata_path, "--domain",
                        "sso.example", "--name", "Mock IdP")
        return self.idp

    def stop(self):
        self.proxy.proc.terminate()
        try:
            self.proxy.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proxy.proc.kill()
        self.upstream.shutdown()
        if self.idp is not None:
            self.idp.stop()
        rc = self.gh.stop()
        log = self.gh.read_log()
        assert "AddressSanitizer" not in log and "runtime error:" not in log, log
        assert rc in (0, None), log


@pytest.fixture(scope="module")
def loopback_names():
    """Names under example.test resolve to 127.0.0.1 for the whole module (no DNS needed)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket, "getaddrinfo", _loopback_for_test_names)
        yield


@pytest.fixture(scope="module", params=["nginx", "caddy"])
def env(request, tmp_path_factory, loopback_names):
    e = Env(tmp_path_factory.mktemp(request.param), request.param)
    e.user("mia@example.com")
    e.user("ada@example.com", role="admin")
    yield e
    e.stop()


def echoed(r):
    assert r.status_code == 200, (r.status_code, r.text[:500])
    data = r.json()
    return data["path"], data["headers"]


def header_values(headers, name):
    return [v for k, v in headers if k.lower() == name.lower()]


def sign_in_with_password(env, s, rd_url, email):
    """The browser arrives at rd_url unauthenticated and signs in with a password."""
    r = s.get(rd_url, allow_redirects=False, timeout=30)
    assert r.status_code == 302, (r.status_code, r.text[:300], env.proxy.log()[-2000:])
    login = r.headers["Location"]
    assert login.startswith(env.public + "/login?rd=")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(login).query)["rd"] == [rd_url]
    page = s.get(login, timeout=30)
    assert page.status_code == 200 and 'name="return_to"' in page.text
    r = s.post(env.public + "/login", data={"email": email, "password": STRONG,
                                            "return_to": rd_url,
                                            "csrf_token": csrf_of(page.text)},
               allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    return r


def test_password_sign_in_returns_to_the_original_url_with_remote_user(env):
    s = requests.Session()
    rd = env.url("app", "/docs/page?x=1&y=%C3%A9")
    r = sign_in_with_password(env, s, rd, "mia@example.com")
    assert r.headers["Location"] == rd
    path, headers = echoed(s.get(rd, allow_redirects=False, timeout=30))
    assert path == "/docs/page?x=1&y=%C3%A9"
    assert header_values(headers, "Remote-User") == ["mia@example.com"]
    assert header_values(headers, "Remote-Email") == ["mia@example.com"]
    assert header_values(headers, "Remote-Name") == ["Mia"]
    assert header_values(headers, "Remote-Groups") == ["member"]
    assert header_values(headers, "Remote-Role") == ["member"]
    assert header_values(headers, "Remote-Auth-Method") == ["password"]


def test_sso_sign_in_returns_to_the_original_url_with_the_idp_groups(env):
    idp = env.mock_idp()
    s = requests.Session()
    rd = env.url("app", "/reports")
    r = s.get(rd, allow_redirects=False, timeout=30)
    login = r.headers["Location"]
    page = s.get(login, timeout=30)
    # The sign-in page's SSO form: GET /saml/login with the e-mail and return_to (= rd).
    m = re.search(r'<form method="get" action="/saml/login".*?</form>', page.text, re.S)
    assert m and f'value="{rd}"' in m.group(0).replace("&amp;", "&")
    r = s.get(env.public + "/saml/login", params={"email": "sam@sso.example", "return_to": rd},
              allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"].startswith(idp.base), r.text
    page = requests.get(r.headers["Location"], timeout=30)
    action, fields = post_form_of(page.text)
    assert action == env.public + "/saml/acs"
    r = s.post(action, data=fields, allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == rd, r.text
    _, headers = echoed(s.get(rd, allow_redirects=False, timeout=30))
    assert header_values(headers, "Remote-User") == ["sam@sso.example"]
    assert header_values(headers, "Remote-Auth-Method") == ["saml"]
    assert header_values(headers, "Remote-Groups") == ["member,staff,finance"]
    # groups= and mfa (the IdP's MFA AuthnContext, kept with the session) let Sam in; a
    # password user without TOTP is refused both
    for path in ("/finance/q3", "/secure/x"):
        _, headers = echoed(s.get(env.url("app", path), allow_redirects=False, timeout=30))
        assert header_values(headers, "Remote-User") == ["sam@sso.example"], path
    mia = signed_in(env, "mia@example.com")
    for path in ("/finance/q3", "/secure/x"):
        assert mia.get(env.url("app", path), allow_redirects=False,
                       timeout=30).status_code == 403, path


def signed_in(env, email):
    s = requests.Session()
    r = sign_in_with_password(env, s, env.url("app", "/"), email)
    assert r.status_code == 303
    return s


def test_roles_rule_refuses_a_member_and_lets_an_admin_in(env):
    member, admin = signed_in(env, "mia@example.com"), signed_in(env, "ada@example.com")
    r = member.get(env.url("admin", "/settings"), allow_redirects=False, timeout=30)
    assert r.status_code == 403
    _, headers = echoed(admin.get(env.url("admin", "/settings"), allow_redirects=False,
                                  timeout=30))
    assert header_values(headers, "Remote-Role") == ["admin"]


def test_bypass_needs_no_sign_in_and_deny_refuses_everyone(env):
    path, headers = echoed(requests.get(env.url("app", "/public/logo.png"), timeout=30))
    assert path == "/public/logo.png"
    admin = signed_in(env, "ada@example.com")
    assert admin.get(env.url("app", "/blocked/x"), allow_redirects=False,
                     timeout=30).status_code == 403
    assert requests.get(env.url("app", "/blocked/x"), allow_redirects=False,
                        timeout=30).status_code == 403
    # dot segments cannot walk from a bypass path into a denied one
    r = requests.get(env.url("app", "/public/%2e%2e/blocked/x"), allow_redirects=False,
                     timeout=30)
    assert r.status_code in (400, 403), r.status_code


def test_client_sent_remote_user_never_reaches_the_upstream(env):
    forged = {h: "eve@evil.example" for h in IDENTITY}
    _, headers = echoed(requests.get(env.url("app", "/public/x"), headers=forged, timeout=30))
    for h in IDENTITY:
        assert header_values(headers, h) == [], (h, headers)
    s = signed_in(env, "mia@example.com")
    _, headers = echoed(s.get(env.url("app", "/x"), headers=forged, timeout=30))
    assert header_values(headers, "Remote-User") == ["mia@example.com"]
    assert header_values(headers, "Remote-Groups") == ["member"]


def test_api_request_without_a_session_gets_401_not_a_redirect(env):
    for extra in ({"Accept": "application/json"}, {"X-Requested-With": "XMLHttpRequest"}):
        r = requests.get(env.url("app", "/api/items"), headers=extra, allow_redirects=False,
                         timeout=30)
        assert r.status_code == 401, (extra, r.status_code)
        assert "Location" not in r.headers


EVIL_RD = ["https://evil.example/", "//evil.example/", "http://app.example.test.evil.example/",
           "http://user@app.example.test/", "http://app.example.test:1/",
           "http://app.example.test\\@evil.example/", "javascript:alert(1)",
           "http://evilexample.test/", "/\\evil.example"]


def test_rd_attacks_fall_back_to_the_landing_page(env):
    s = signed_in(env, "mia@example.com")
    for evil in EVIL_RD:
        r = s.get(env.public + "/login", params={"rd": evil}, allow_redirects=False, timeout=30)
        assert r.status_code == 303 and r.headers["Location"] == "/", (evil, r.headers)
    # and a sign-in with a hostile rd ends at "/"
    fresh = requests.Session()
    page = fresh.get(env.public + "/login", params={"rd": "https://evil.example/"}, timeout=30)
    assert "evil.example" not in page.text
    r = fresh.post(env.public + "/login", data={"email": "mia@example.com", "password": STRONG,
                                                "return_to": "https://evil.example/",
                                                "csrf_token": csrf_of(page.text)},
                   allow_redirects=False, timeout=30)
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_one_sign_in_serves_every_host_under_the_cookie_domain(env):
    s = signed_in(env, "mia@example.com")
    cookie = [c for c in s.cookies if c.name == "gatehouse_session"]
    assert len(cookie) == 1 and cookie[0].domain in ("example.test", ".example.test")
    for host in ("app", "app2"):
        _, headers = echoed(s.get(env.url(host, "/home"), allow_redirects=False, timeout=30))
        assert header_values(headers, "Remote-User") == ["mia@example.com"], host
