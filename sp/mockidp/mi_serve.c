/* sp/mockidp/mi_serve.c: `mock-idp serve`: the IdP's HTTP endpoints. SP-initiated SSO over
 * HTTP-Redirect and HTTP-POST (with a user picker, or headless), IdP-initiated SSO, and single
 * logout in both directions. One server thread: the state below needs no lock. */
#include "mi.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <openssl/evp.h>

#include "mi_http.h"

#define MAX_SESSIONS 256
#define MAX_PENDING 64
#define AUTOSUBMIT_JS "document.forms[0].submit();"
#define HTML "text/html; charset=utf-8"
#define TEXT "text/plain; charset=utf-8"

/* A sign-in we answered: what the LogoutRequest of /logout-sp names. */
struct session {
    char email[320];
    struct mi_issued issued;
};

/* An AuthnRequest waiting for the person at the picker. */
struct pending {
    char id[256];
    char *acs_url;
    char *relay_state;
};

struct server {
    const struct mi_serve_conf *c;
    struct session sessions[MAX_SESSIONS];
    int n_sessions;
    struct pending pending[MAX_PENDING];
    int next_pending;
    char *post_csp; /* allows exactly the auto-submit script, and the post to the ACS */
};

static void
fail(struct mi_req *r, int status, const char *message)
{
    char *body = g_strdup_printf("mock-idp: %s\n", message);
    mi_req_respond(r, status, TEXT, body, NULL, NULL);
    g_free(body);
}

/* ---- responses ---- */

static void
record_session(struct server *s, const char *email, const struct mi_issued *issued)
{
    if (s->n_sessions == MAX_SESSIONS) {
        memmove(&s->sessions[0], &s->sessions[1], sizeof s->sessions[0] * (MAX_SESSIONS - 1));
        s->n_sessions--;
    }
    struct session *x = &s->sessions[s->n_sessions++];
    snprintf(x->email, sizeof x->email, "%s", email);
    x->issued = *issued;
}

/* The auto-submitting form of the HTTP-POST binding (SAML bindings 3.5.4). */
static void
post_form(struct server *s, struct mi_req *r, const char *acs, const char *field, const char *b64,
          const char *relay_state)
{
    GString *page = g_string_new(NULL);
    char *head = g_markup_printf_escaped(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mock-idp: signing in"
        "</title></head>\n<body>\n<form method=\"post\" action=\"%s\">\n"
        "<input type=\"hidden\" name=\"%s\" value=\"%s\">\n",
        acs, field, b64);
    g_string_append(page, head);
    g_free(head);
    if (relay_state != NULL) {
        char *rs = g_markup_printf_escaped(
            "<input type=\"hidden\" name=\"RelayState\" value=\"%s\">\n", relay_state);
        g_string_append(page, rs);
        g_free(rs);
    }
    g_string_append(page, "<noscript><p>JavaScript is off: press Continue to sign in.</p>"
                          "<button type=\"submit\">Continue</button></noscript>\n</form>\n"
                          "<script>" AUTOSUBMIT_JS "</script>\n</body></html>\n");
    mi_req_respond(r, 200, HTML, page->str, "Content-Security-Policy", s->post_csp);
    g_string_free(page, TRUE);
}

/* Request fields override the server's default faults (the picker's checkboxes, /start). */
static int
faults_from(const struct mi_req *r, struct mi_faults *f, char *err, size_t errlen)
{
    static const char *const flags[] = {"expired", "not_yet_valid", "wrong_key",
                                        "tamper_after_sign", "unsigned"};
    int *fields[] = {&f->expired, &f->not_yet_valid, &f->wrong_key, &f->tamper_after_sign,
                     &f->unsigned_};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        const char *v = mi_req_param(r, flags[i]);
        if (v != NULL)
            *fields[i] = strcmp(v, "0") != 0 && strcmp(v, "off") != 0;
    }
    static const char *const texts[] = {"audience", "recipient", "destination", "issuer",
                                        "replay_id"};
    const char **values[] = {&f->audience, &f->recipient, &f->destination, &f->issuer,
                             &f->replay_id};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *v = mi_req_param(r, texts[i]);
        if (v != NULL && v[0] != '\0')
            *values[i] = v;
    }
    const char *st = mi_req_param(r, "status");
    if (st != NULL && st[0] != '\0' && mi_status_parse(st, &f->status) != 0) {
        snprintf(err, errlen, "status must be Success, Requester, Responder or AuthnFailed");
        return -1;
    }
    return 0;
}

/* Signs email in: mints the response to acs and answers with the POST form. */
static void
sign_in(struct server *s, struct mi_req *r, const char *email, const char *acs,
        const char *in_response_to, const char *relay_state)
{
    const struct mi_serve_conf *c = s->c;
    char err[512];
    const struct mi_user *user = mi_users_get(c->users, email, 1);
    if (user == NULL) {
        fail(r, 400, "that is not an e-mail address (or more users than the table holds)");
        return;
    }
    struct mi_mint m = c->defaults;
    m.user = user;
    m.acs_url = acs;
    m.in_response_to = in_response_to;
    m.now = time(NULL);
    if (faults_from(r, &m.faults, err, sizeof err) != 0) {
        fail(r, 400, err);
        return;
    }
    char *b64 = NULL;
    struct mi_issued issued;
    if (mi_mint_response(c->idp, c->sp, &m, &b64, &issued, err, sizeof err) != 0) {
        fail(r, 500, err);
        return;
    }
    if (m.faults.status == MI_STATUS_SUCCESS)
        record_session(s, user->email, &issued);
    fprintf(stderr, "mock-idp: signed in %s name_id=%s session_index=%s\n", user->email,
            issued.name_id, issued.session_index);
    post_form(s, r, acs, "SAMLResponse", b64, relay_state);
    free(b64);
}

/* ---- SP-initiated ---- */

static struct pending *
pending_put(struct server *s, const char *id, const char *acs, const char *relay_state)
{
    struct pending *p = &s->pending[s->next_pending];
    s->next_pending = (s->next_pending + 1) % MAX_PENDING;
    g_free(p->acs_url);
    g_free(p->relay_state);
    snprintf(p->id, sizeof p->id, "%s", id);
    p->acs_url = g_strdup(acs);
    p->relay_state = g_strdup(relay_state);
    return p;
}

static struct pending *
pending_get(struct server *s, const char *id)
{
    for (int i = 0; id != NULL && i < MAX_PENDING; i++)
        if (s->pending[i].acs_url != NULL && strcmp(s->pending[i].id, id) == 0)
            return &s->pending[i];
    return NULL;
}

static void
append_user(GString *page, const struct mi_user *u, int first)
{
    GString *groups = g_string_new(NULL);
    for (int i = 0; i < u->n_groups; i++)
        g_string_append_printf(groups, "%s%s", i ? ", " : "", u->groups[i]);
    char *line = g_markup_printf_escaped(
        "<p><label><input type=\"radio\" name=\"user\" value=\"%s\"%s> %s &lt;%s&gt;%s%s"
        "</label></p>\n",
        u->email, first ? " checked" : "", u->name ? u->name : "", u->email,
        groups->len ? " — groups: " : "", groups->str);
    g_string_append(page, line);
    g_free(line);
    g_string_free(groups, TRUE);
}

static const char PICKER_FAULTS[] =
    "<fieldset><legend>Faults for this response</legend>\n"
    "<p><label><input type=\"checkbox\" name=\"expired\" value=\"1\"> expired</label>\n"
    "<label><input type=\"checkbox\" name=\"not_yet_valid\" value=\"1\"> not yet valid</label>\n"
    "<label><input type=\"checkbox\" name=\"wrong_key\" value=\"1\"> wrong key</label>\n"
    "<label><input type=\"checkbox\" name=\"tamper_after_sign\" value=\"1\"> tamper after "
    "sign</label>\n"
    "<label><input type=\"checkbox\" name=\"unsigned\" value=\"1\"> unsigned</label></p>\n"
    "<p><label>Audience <input name=\"audience\"></label> <label>Recipient "
    "<input name=\"recipient\"></label></p>\n"
    "<p><label>Destination <input name=\"destination\"></label> <label>Issuer "
    "<input name=\"issuer\"></label></p>\n"
    "<p><label>Replay assertion ID <input name=\"replay_id\"></label> <label>Status <select "
    "name=\"status\"><option value=\"\">Success</option><option>Requester</option>"
    "<option>Responder</option><option>AuthnFailed</option></select></label></p>\n"
    "</fieldset>\n";

/* The user picker: one radio button per user, another e-mail, per-response faults. */
static void
picker(struct server *s, struct mi_req *r, const struct pending *p)
{
    GString *page = g_string_new(NULL);
    char *head = g_markup_printf_escaped(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mock-idp: choose a user"
        "</title></head>\n<body>\n<h1>mock-idp</h1>\n<p>Sign in to %s as:</p>\n"
        "<form method=\"post\" action=\"/sso/login\">\n"
        "<input type=\"hidden\" name=\"request\" value=\"%s\">\n",
        mi_sp_entity_id(s->c->sp), p->id);
    g_string_append(page, head);
    g_free(head);
    for (int i = 0; i < s->c->users->n; i++)
        append_user(page, &s->c->users->u[i], i == 0);
    g_string_append(page, "<p><label>Another e-mail address: <input name=\"other_user\" "
                          "type=\"email\"></label></p>\n");
    g_string_append(page, PICKER_FAULTS);
    g_string_append(page, "<p><button type=\"submit\">Sign in</button></p>\n</form>\n"
                          "</body></html>\n");
    mi_req_respond(r, 200, HTML, page->str, NULL, NULL);
    g_string_free(page, TRUE);
}

/* Where the response goes: the request's AssertionConsumerServiceURL when the metadata lists it
 * (anything else would let a forged request send the assertion elsewhere), else the default. */
static const char *
acs_for(const struct server *s, const struct mi_msg *m, char *err, size_t errlen)
{
    if (m->acs_url == NULL)
        return mi_sp_acs_url(s->c->sp);
    if (mi_sp_has_acs(s->c->sp, m->acs_url))
        return m->acs_url;
    snprintf(err, errlen, "AssertionConsumerServiceURL %.300s is not in the SP metadata",
             m->acs_url);
    return NULL;
}

static void
sso(struct server *s, struct mi_req *r)
{
    int is_get = strcmp(mi_req_method(r), "GET") == 0;
    const char *msg = is_get ? mi_req_raw_query(r) : mi_req_form(r, "SAMLRequest");
    const char *relay_state = mi_req_param(r, "RelayState");
    char err[512];
    struct mi_msg m;
    if (msg == NULL || (is_get && mi_req_query(r, "SAMLRequest") == NULL)) {
        fail(r, 400, "no SAMLRequest: this is the SSO endpoint for SP-initiated sign-in");
        return;
    }
    if (mi_sp_receive(s->c->sp, MI_MSG_AUTHN_REQUEST, msg, is_get, &m, err, sizeof err) != 0) {
        fprintf(stderr, "mock-idp: AuthnRequest refused: %s\n", err);
        fail(r, 400, err);
        return;
    }
    const char *acs = acs_for(s, &m, err, sizeof err);
    const char *who = s->c->auto_login ? s->c->auto_login : m.name_id;
    if (acs == NULL)
        fail(r, 400, err);
    else if (who != NULL)
        sign_in(s, r, who, acs, m.id, relay_state);
    else
        picker(s, r, pending_put(s, m.id, acs, relay_state));
    mi_msg_free(&m);
}

/* POST /sso/login: the picker's answer. */
static void
sso_login(struct server *s, struct mi_req *r)
{
    const struct pending *p = pending_get(s, mi_req_form(r, "request"));
    const char *other = mi_req_form(r, "other_user");
    const char *user = (other && other[0]) ? other : mi_req_form(r, "user");
    if (p == NULL) {
        fail(r, 400, "that sign-in request is unknown or too old: start again at the SP");
        return;
    }
    if (user == NULL) {
        fail(r, 400, "choose a user");
        return;
    }
    sign_in(s, r, user, p->acs_url, p->id, p->relay_state);
}

/* GET /start?user=EMAIL&relay_state=...: IdP-initiated (unsolicited) sign-in. */
static void
start(struct server *s, struct mi_req *r)
{
    const char *user = mi_req_query(r, "user");
    if (user == NULL) {
        fail(r, 400, "say who signs in: /start?user=EMAIL[&relay_state=...]");
        return;
    }
    sign_in(s, r, user, mi_sp_acs_url(s->c->sp), NULL, mi_req_query(r, "relay_state"));
}

/* ---- single logout ---- */

/* Forgets the sessions a LogoutRequest names (by NameID, and SessionIndex when given). */
static int
forget_sessions(struct server *s, const char *name_id, const char *session_index)
{
    int n = 0;
    for (int i = 0; i < s->n_sessions;) {
        const struct mi_issued *x = &s->sessions[i].issued;
        if (name_id != NULL && strcmp(x->name_id, name_id) == 0 &&
            (session_index == NULL || strcmp(x->session_index, session_index) == 0)) {
            memmove(&s->sessions[i], &s->sessions[i + 1],
                    sizeof s->sessions[0] * (size_t)(s->n_sessions - i - 1));
            s->n_sessions--;
            n++;
        } else {
            i++;
        }
    }
    return n;
}

/* A LogoutRequest from the SP: forget the session, answer with a signed LogoutResponse. */
static void
slo_request(struct server *s, struct mi_req *r, const char *msg, int is_query)
{
    char err[512];
    struct mi_msg m;
    if (mi_sp_receive(s->c->sp, MI_MSG_LOGOUT_REQUEST, msg, is_query, &m, err, sizeof err) != 0) {
        fail(r, 400, err);
        return;
    }
    int n = forget_sessions(s, m.name_id, m.session_index);
    fprintf(stderr, "mock-idp: LogoutRequest %s name_id=%s: %d session(s) ended\n", m.id,
            m.name_id ? m.name_id : "", n);
    if (s->c->idp->post_only) {
        char *b64 = NULL;
        const char *to = NULL;
        if (mi_slo_response_post(s->c->idp, s->c->sp, m.id, &b64, &to, err, sizeof err) != 0)
            fail(r, 500, err);
        else
            post_form(s, r, to, "SAMLResponse", b64, mi_req_param(r, "RelayState"));
        free(b64);
        mi_msg_free(&m);
        return;
    }
    char *url = mi_slo_response_url(s->c->idp, s->c->sp, m.id, mi_req_param(r, "RelayState"), err,
                                    sizeof err);
    if (url == NULL)
        fail(r, 500, err);
    else
        mi_req_respond(r, 303, TEXT, "", "Location", url);
    free(url);
    mi_msg_free(&m);
}

/* The SP's answer to our LogoutRequest. */
static void
slo_response(struct server *s, struct mi_req *r, const char *msg, int is_query)
{
    char err[512];
    struct mi_msg m;
    if (mi_sp_receive(s->c->sp, MI_MSG_LOGOUT_RESPONSE, msg, is_query, &m, err, sizeof err) != 0) {
        fail(r, 400, err);
        return;
    }
    char *page = g_markup_printf_escaped(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mock-idp: signed out"
        "</title></head>\n<body><h1>mock-idp</h1><p>The SP answered the logout request %s "
        "with status <code id=\"status\">%s</code>.</p></body></html>\n",
        m.in_response_to ? m.in_response_to : "", m.status ? m.status : "");
    mi_req_respond(r, 200, HTML, page, NULL, NULL);
    g_free(page);
    mi_msg_free(&m);
}

static void
slo(struct server *s, struct mi_req *r)
{
    int is_get = strcmp(mi_req_method(r), "GET") == 0;
    const char *field = mi_req_param(r, "SAMLRequest") ? "SAMLRequest" : "SAMLResponse";
    const char *msg = is_get ? mi_req_raw_query(r) : mi_req_form(r, field);
    if (mi_req_param(r, field) == NULL || msg == NULL)
        fail(r, 400, "no SAMLRequest or SAMLResponse: this is the single logout endpoint");
    else if (strcmp(field, "SAMLRequest") == 0)
        slo_request(s, r, msg, is_get);
    else
        slo_response(s, r, msg, is_get);
}

/* GET /logout-sp?user=EMAIL[&relay_state=...]: IdP-initiated logout of the user's latest
 * session at the SP. */
static void
logout_sp(struct server *s, struct mi_req *r)
{
    const char *email = mi_req_query(r, "user");
    const struct session *x = NULL;
    for (int i = s->n_sessions - 1; email != NULL && i >= 0 && x == NULL; i--)
        if (strcasecmp(s->sessions[i].email, email) == 0)
            x = &s->sessions[i];
    if (x == NULL) {
        fail(r, 404, "no session was issued to that user: /logout-sp?user=EMAIL");
        return;
    }
    char err[512], id[MI_ID_LEN];
    if (s->c->idp->post_only) {
        char *b64 = NULL;
        const char *to = NULL;
        if (mi_slo_request_post(s->c->idp, s->c->sp, &x->issued, id, &b64, &to, err, sizeof err) !=
            0) {
            fail(r, 500, err);
        } else {
            fprintf(stderr, "mock-idp: LogoutRequest %s to the SP for %s (POST)\n", id, x->email);
            forget_sessions(s, x->issued.name_id, x->issued.session_index);
            post_form(s, r, to, "SAMLRequest", b64, mi_req_query(r, "relay_state"));
        }
        free(b64);
        return;
    }
    char *url = mi_slo_request_url(s->c->idp, s->c->sp, &x->issued, mi_req_query(r, "relay_state"),
                                   id, err, sizeof err);
    if (url == NULL) {
        fail(r, 500, err);
        return;
    }
    fprintf(stderr, "mock-idp: LogoutRequest %s to the SP for %s\n", id, x->email);
    forget_sessions(s, x->issued.name_id, x->issued.session_index);
    mi_req_respond(r, 303, TEXT, "", "Location", url);
    free(url);
}

/* ---- routes ---- */

static void
metadata(struct server *s, struct mi_req *r)
{
    char *xml = mi_metadata_xml(s->c->idp);
    if (xml == NULL)
        fail(r, 500, "cannot build the metadata");
    else
        mi_req_respond(r, 200, "application/samlmetadata+xml", xml, NULL, NULL);
    free(xml);
}

static void
handle(struct mi_req *r, void *ctx)
{
    struct server *s = ctx;
    const char *path = mi_req_path(r);
    int get = strcmp(mi_req_method(r), "GET") == 0 || strcmp(mi_req_method(r), "HEAD") == 0;
    int post = strcmp(mi_req_method(r), "POST") == 0;
    if (get && strcmp(path, "/metadata") == 0)
        metadata(s, r);
    else if ((get || post) && strcmp(path, "/sso") == 0)
        sso(s, r);
    else if (post && strcmp(path, "/sso/login") == 0)
        sso_login(s, r);
    else if (get && strcmp(path, "/start") == 0)
        start(s, r);
    else if ((get || post) && strcmp(path, "/slo") == 0)
        slo(s, r);
    else if (get && strcmp(path, "/logout-sp") == 0)
        logout_sp(s, r);
    else
        fail(r, 404, "not found: the endpoints are /metadata, /sso, /start, /slo, /logout-sp");
}

/* CSP 'sha256-...' source for the auto-submit script. */
static char *
script_csp(void)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(AUTOSUBMIT_JS, strlen(AUTOSUBMIT_JS), digest, &len, EVP_sha256(), NULL);
    char *b64 = mi_base64(digest, len);
    char *csp = g_strdup_printf("default-src 'none'; script-src 'sha256-%s'; form-action *",
                                b64 ? b64 : "");
    free(b64);
    return csp;
}

int
mi_serve(const struct mi_serve_conf *c, char *err, size_t errlen)
{
    struct server *s = g_new0(struct server, 1);
    s->c = c;
    s->post_csp = script_csp();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    /* Blocked before the server thread starts, so that only sigwait below sees them. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct mi_http *h = mi_http_start(c->host, c->port, handle, s, err, errlen);
    int rc = -1;
    if (h != NULL) {
        fprintf(stderr, "mock-idp: listening on %s:%d, metadata at %s/metadata, SP %s\n", c->host,
                c->port, c->idp->base_url, mi_sp_entity_id(c->sp));
        int sig = 0;
        sigwait(&set, &sig);
        mi_http_stop(h);
        rc = 0;
    }
    for (int i = 0; i < MAX_PENDING; i++) {
        g_free(s->pending[i].acs_url);
        g_free(s->pending[i].relay_state);
    }
    g_free(s->post_csp);
    g_free(s);
    return rc;
}
