// tests/browser/flows.mjs: one browser flow against a running Gatehouse, in Debian's headless
// Chromium driven by playwright-core. Run by tests/browser/test_browser.py, which starts the
// server (and the mock IdP) and passes what the flow needs in the environment:
//   node flows.mjs FLOW      FLOW: password | totp | sso | switch | samllog | tls | postnojs | forward_auth
//                                  | idptest
//   GH_NO_CSP_VIOLATIONS=1   fail when the console reports a Content-Security-Policy violation
//   GH_BASE  the server's URL        GH_EMAIL / GH_PASSWORD  the account
//   GH_NEW_PASSWORD                  GH_ART  where screenshots go (one per step)
// Exits 0 when every step's expectation held, 1 with the failing step otherwise.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const flow = process.argv[2];
const env = process.env;
const base = env.GH_BASE;
const art = join(env.GH_ART || 'test-artifacts/browser', flow || 'none');
mkdirSync(art, { recursive: true });
let step = 0;

function expect(cond, what) {
  if (!cond) throw new Error(`expectation failed: ${what}`);
}

async function shot(page, name) {
  step += 1;
  const file = join(art, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`step ${step}: ${name} (${file})`);
}

function totp(secret, offsetSteps = 0) {
  const at = Math.floor(Date.now() / 1000) + 30 * offsetSteps;
  return execFileSync('oathtool', ['--totp', '-b', '--now', `@${at}`, secret]).toString().trim();
}

async function signIn(page, email, password) {
  await page.goto(`${base}/login`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForLoadState('load'), page.click('form[action="/login"] button')]);
}

const flows = {
  // Sign-in with the temporary password, the forced change, the landing page.
  async password(page) {
    await page.goto(`${base}/login`);
    await shot(page, 'sign-in-page');
    await signIn(page, env.GH_EMAIL, env.GH_PASSWORD);
    expect(page.url().endsWith('/password/change'), 'sent to the forced password change');
    await shot(page, 'forced-change');
    await page.fill('#current_password', env.GH_PASSWORD);
    await page.fill('#new_password', 'short');
    await page.fill('#confirm_password', 'short');
    await page.click('form[action="/password/change"] button');
    expect(await page.isVisible('.alert'), 'a too-short password is refused with its rules');
    await shot(page, 'change-refused');
    await page.fill('#current_password', env.GH_PASSWORD);
    await page.fill('#new_password', env.GH_NEW_PASSWORD);
    await page.fill('#confirm_password', env.GH_NEW_PASSWORD);
    await page.click('form[action="/password/change"] button');
    await page.waitForURL(`${base}/?changed=1`);
    expect((await page.textContent('h1')).includes('You are signed in'), 'landing page');
    await shot(page, 'signed-in');
  },

  // TOTP enrolment from the QR page, then a sign-in with a code.
  async totp(page) {
    await signIn(page, env.GH_EMAIL, env.GH_PASSWORD);
    await page.goto(`${base}/account/mfa`);
    expect(await page.isVisible('.qr svg'), 'the QR code is on the page');
    await shot(page, 'enrolment-qr');
    const secret = (await page.textContent('#totp-secret')).trim();
    await page.fill('#code', totp(secret));
    await page.click('form[action="/account/mfa"] button');
    const codes = await page.$$eval('#recovery-codes code', (els) => els.map((e) => e.textContent));
    expect(codes.length === 10, 'ten recovery codes shown');
    await shot(page, 'recovery-codes');
    await page.click('header form[action="/logout"] button');
    await signIn(page, env.GH_EMAIL, env.GH_PASSWORD);
    expect(page.url().endsWith('/login/mfa'), 'the second step is asked');
    await shot(page, 'code-step');
    await page.fill('#code', totp(secret, 1));
    await page.click('form[action="/login/mfa"] button');
    await page.waitForURL(`${base}/`);
    await shot(page, 'signed-in-with-totp');
  },

  // The admin IdP page: the health panel and the certificate banner, then "Test sign-in"
  // through bin/mock-idp, whose result page shows the SAML log entry; nobody is signed in.
  async idptest(page) {
    await signIn(page, env.GH_EMAIL, env.GH_PASSWORD);
    await page.goto(`${base}/admin/idps`);
    expect(await page.isVisible('#cert-banner'), 'the certificate expiry banner is shown');
    expect((await page.textContent('#cert-banner')).includes(env.GH_IDP_NAME),
      'the banner names the IdP whose certificate expires');
    expect(await page.isVisible('section.health'), 'the health panel is shown');
    expect((await page.textContent('.last-accepted')).includes('none yet'),
      'no accepted sign-in yet');
    expect(await page.isVisible('.cert-expiry.error'), 'the IdP marks its expiring certificate');
    await shot(page, 'idp-health-and-banner');
    await Promise.all([
      page.waitForURL((u) => u.origin !== new URL(base).origin),
      page.click('button.test-signin'),
    ]);
    await page.waitForSelector('form[action="/sso/login"]');
    await shot(page, 'mock-idp-picker');
    await page.check(`input[name=user][value="${env.GH_TEST_USER}"]`);
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/admin/idps/test'),
      page.click('form[action="/sso/login"] button[type=submit]'),
    ]);
    await page.waitForSelector('#test-result');
    expect((await page.textContent('.verdict')).includes('accepted'), 'the response was accepted');
    expect((await page.textContent('.mapped-email')).trim() === env.GH_TEST_USER,
      'the e-mail a sign-in would use');
    expect(await page.isVisible('#test-attributes'), 'the attributes as received');
    expect((await page.textContent('#test-attributes')).includes(env.GH_TEST_USER),
      'the attributes hold the e-mail');
    await shot(page, 'test-result');
    // Still the admin who started it: the test signed nobody in.
    const who = await (await page.context().request.get(`${base}/api/whoami`)).json();
    expect(who.email === env.GH_EMAIL, `still signed in as the admin: ${JSON.stringify(who)}`);
    await page.click('#test-log-link');
    expect((await page.textContent('#test')).includes('no session'), 'the log entry is a test');
    await shot(page, 'saml-log-entry');
    await page.goto(`${base}/admin/idps`);
    expect((await page.textContent('.last-accepted')).includes('SAML-'),
      'the health panel shows the accepted test response');
    await shot(page, 'idp-health-after-test');
  },

  // SSO through bin/mock-idp: the person types a work e-mail; the IdP signs them in.
  async sso(page) {
    const origin = new URL(base).origin;
    const home = (u) => u.origin === origin && !u.pathname.startsWith('/saml/') &&
      u.pathname !== '/login';
    await page.goto(`${base}/login`);
    await page.fill('#sso_email', env.GH_EMAIL);
    await shot(page, 'sso-email');
    await Promise.all([
      page.waitForURL((u) => u.origin !== origin || u.pathname !== '/login'),
      page.click('form.sso button'),
    ]);
    // The mock IdP shows its user picker (or signs in at once with --auto-login or a hint).
    const picker = await Promise.race([
      page.waitForSelector('form[action="/sso/login"]').then(() => true),
      page.waitForURL(home).then(() => false),
    ]);
    if (picker) {
      await shot(page, 'mock-idp-picker');
      await page.check(`input[name=user][value="${env.GH_EMAIL}"]`);
      await page.click('form[action="/sso/login"] button[type=submit]');
    }
    await page.waitForURL(home);
    await page.waitForLoadState('load');
    // The page's CSP allows no fetch(): ask with the browser context's cookies instead.
    const whoami = async () => page.context().request.get(`${base}/api/whoami`);
    const who = await (await whoami()).json();
    expect(who.auth_method === 'saml' && who.email === env.GH_EMAIL.toLowerCase(),
      `signed in through SSO as ${env.GH_EMAIL}: ${JSON.stringify(who)}`);
    await shot(page, 'signed-in-with-sso');
    // Sign out: a LogoutRequest to the IdP, whose LogoutResponse brings the browser back.
    await page.click('form[action="/logout"] button');
    await page.waitForURL((u) => u.origin === origin && u.pathname === '/saml/slo');
    expect((await page.textContent('main')).includes('signed you out too'),
      'the IdP confirmed the single logout');
    expect((await whoami()).status() === 401, 'the session has ended');
    await shot(page, 'signed-out-everywhere');
  },

  // Gatehouse's own TLS, trusted through a private CA in the NSS database of $HOME: the chain,
  // HSTS, and a Secure session cookie after a password sign-in.
  async tls(page) {
    const resp = await page.goto(`${base}/login`);
    expect(resp.status() === 200, 'the sign-in page over HTTPS');
    const sec = await resp.securityDetails();
    expect(sec && /^TLS 1\.[23]$/.test(sec.protocol), `TLS 1.2 or 1.3: ${sec && sec.protocol}`);
    expect(sec.issuer === env.GH_CA_NAME, `issued by the private CA: ${sec.issuer}`);
    expect(resp.headers()['strict-transport-security'] === 'max-age=31536000', 'HSTS');
    await shot(page, 'tls-sign-in-page');
    await signIn(page, env.GH_EMAIL, env.GH_PASSWORD);
    expect(new URL(page.url()).pathname === '/', `signed in: ${page.url()}`);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'gatehouse_session');
    expect(cookie && cookie.secure && cookie.httpOnly, 'the session cookie is Secure and HttpOnly');
    await shot(page, 'tls-signed-in');
  },

  // The HTTP-POST binding with JavaScript off: each auto-submitting page waits for its button
  // (Gatehouse's Continue; mock-idp's under <noscript>), and the person still lands signed in.
  async postnojs(page, browser) {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    const p = await ctx.newPage();
    p.setDefaultTimeout(15000);
    const origin = new URL(base).origin;
    await p.goto(`${base}/saml/login?idp=${encodeURIComponent(env.GH_IDP)}`);
    expect(new URL(p.url()).pathname === '/saml/login', 'without JavaScript the page stays');
    expect(await p.isVisible('#saml-post button'), 'its Continue button is shown');
    await shot(p, 'post-binding-no-js');
    await Promise.all([p.waitForURL((u) => u.origin !== origin), p.click('#saml-post button')]);
    expect(await p.isVisible('form button[type=submit]'), "the IdP's <noscript> button");
    await shot(p, 'idp-form-no-js');
    await Promise.all([
      p.waitForURL((u) => u.origin === origin && u.pathname === '/'),
      p.click('form button[type=submit]'),
    ]);
    const who = await (await ctx.request.get(`${base}/api/whoami`)).json();
    expect(who.auth_method === 'saml' && who.email === env.GH_EMAIL,
      `signed in through SSO without JavaScript: ${JSON.stringify(who)}`);
    await shot(p, 'signed-in-no-js');
    await ctx.close();
  },

  // An owner turns password sign-in off; the sign-in page changes.
  async switch(page, browser) {
    await signIn(page, env.GH_EMAIL, env.GH_PASSWORD);
    await page.goto(`${base}/admin/password-login`);
    await shot(page, 'switch-on');
    await page.check('input[name=confirm]');
    await page.click('form[action="/admin/password-login"] button');
    expect((await page.textContent('#switch-state')).trim() === 'off', 'the switch is off');
    await shot(page, 'switch-off');
    const other = await browser.newPage();
    await other.goto(`${base}/login`);
    expect(!(await other.isVisible('#password')), 'no password field on the sign-in page');
    expect(await other.isVisible('#sso_email'), 'the SSO form remains');
    await shot(other, 'sign-in-page-sso-only');
  },

  // An admin reads a refused SSO response in the SAML log.
  async samllog(page) {
    await signIn(page, env.GH_EMAIL, env.GH_PASSWORD);
    await page.goto(`${base}/admin/saml-log`);
    await shot(page, 'saml-log');
    await page.click('table a[href^="/admin/saml-log/view"]');
    expect(await page.isVisible('#reason'), 'the detail view shows the reason');
    expect(await page.isVisible('ol.checks li.bad'), 'the failed check is marked');
    expect(await page.isVisible('#xml'), 'the response XML is shown');
    await shot(page, 'saml-log-entry');
  },
  // Forward-auth through nginx: the application's URL leads to the sign-in page (on another host
  // under the cookie domain), and the sign-in back to the application, which sees Remote-User.
  // GH_APP_URL: the application's URL; GH_RESOLVE: Chromium's host resolver rules.
  async forward_auth(page) {
    await page.goto(env.GH_APP_URL);
    expect(page.url().includes('/login?rd='), 'sent to the sign-in page with rd');
    await shot(page, 'sign-in-page-with-rd');
    await page.fill('#email', env.GH_EMAIL);
    await page.fill('#password', env.GH_PASSWORD);
    await Promise.all([
      page.waitForURL(env.GH_APP_URL),
      page.click('form[action="/login"] button'),
    ]);
    const body = await page.textContent('body');
    expect(body.includes(`"Remote-User", "${env.GH_EMAIL}"`), 'the application sees Remote-User');
    await shot(page, 'back-at-the-application');
    await page.goto(env.GH_APP_URL.replace('//app.', '//app2.'));
    const other = await page.textContent('body');
    expect(other.includes(`"Remote-User", "${env.GH_EMAIL}"`), 'one sign-in serves app2 too');
    await shot(page, 'second-host-same-session');
  },
};

async function main() {
  if (!flows[flow]) {
    console.error(`usage: node flows.mjs ${Object.keys(flows).join('|')}`);
    return 2;
  }
  const browser = await chromium.launch({
    executablePath: env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', ...(env.GH_RESOLVE ? [`--host-resolver-rules=${env.GH_RESOLVE}`] : [])],
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  const cspViolations = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  try {
    await flows[flow](page, browser);
    if (env.GH_NO_CSP_VIOLATIONS)
      expect(cspViolations.length === 0, `no CSP violation: ${cspViolations.join(' | ')}`);
    console.log(`flow ${flow}: ok (${step} steps)`);
    return 0;
  } catch (e) {
    await shot(page, 'failure').catch(() => {});
    console.error(`flow ${flow} failed at step ${step + 1}: ${e.message}`);
    return 1;
  } finally {
    await browser.close();
  }
}

process.exit(await main());
