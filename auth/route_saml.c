/* auth/route_saml.c: the SAML routes: metadata, SP-initiated SSO, the ACS and single logout.
 * The ACS only reads the form and answers: sso.c verifies and accepts the response. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "http.h"
#include "idp.h"
#include "log.h"
#include "metrics.h"
#include "rand.h"
#include "routes.h"
#include "saml_post.h"
#include "samllog.h"
#include "session.h"
#include "sso.h"
#include "sp/sp.h"
#include "store.h"
#include "str.h"
#include "tmpl.h"
#include "web.h"

/* How long an SP-initiated request waits for its response. */
#define SAML_REQUEST_SECONDS (10 * 60)

int
route_saml_metadata(struct req *r)
{
    struct web *w = web_of(r);
    const char *md = w->app->sp_metadata;
    return req_respond(r, 200, "application/samlmetadata+xml", md, strlen(md));
}

/* ---- SP-initiated SSO ---- */

static int
saml_error_page(struct req *r, int status, const char *headline, const char *reference)
{
    struct tmpl_ctx *c = web_ctx(r);
    tmpl_set(c, "headline", headline);
    tmpl_set(c, "reference", reference);
    return web_page(r, status, "saml_error", "Single sign-on failed", c);
}

/* How long the result of a test sign-in stays readable. */
#define SAML_TEST_SECONDS (60 * 60)

/* Marks the pending request id as a test sign-in of the admin's session. */
static int
test_put(struct req *r, const char *entity, const char *id)
{
    struct web *w = web_of(r);
    struct saml_test_row *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -1;
    snprintf(t->request_id, sizeof t->request_id, "%s", id);
    snprintf(t->entity_id, sizeof t->entity_id, "%s", entity);
    t->user_id = w->user.id;
    snprintf(t->session_hash, sizeof t->session_hash, "%s", w->session_hash);
    t->created_at = w->now;
    t->expires_at = w->now + SAML_TEST_SECONDS;
    int rc = store_saml_test_put(w->store, t);
    free(t);
    return rc == 0 ? 0 : -1;
}

/* The signed AuthnRequest to the IdP of row, remembered as pending (return_to: where the
 * accepted response leads); a test sign-in also marks it as a test of this admin's session. */
static int
authn_send(struct req *r, const struct idp_row *row, const char *return_to, int test)
{
    struct web *w = web_of(r);
    const char *entity = row->entity_id;
    struct sp_ref *ref = app_sp_acquire(w->app, w->store, w->idps_version);
    if (ref == NULL) {
        web_error(r, 503, "Single sign-on is not available right now.");
        return 0;
    }
    /* RelayState is an opaque random handle; the return path stays on the server. */
    unsigned char raw[16];
    char handle[33], id[256], err[512];
    struct sp_out msg = {0};
    if (rand_bytes(raw, sizeof raw) != 0) {
        app_sp_release(w->app, ref);
        web_error(r, 500, "The sign-in request could not be prepared.");
        return 0;
    }
    str_hex(raw, sizeof raw, handle);
    /* HTTP-Redirect when the IdP offers it; HTTP-POST for IdPs that offer only POST. */
    int post = row->sso_redirect[0] == '\0' && row->sso_post[0] != '\0';
    const char *format = NULL;
    if (idp_name_id_format(row->name_id_format, &format) != 0)
        format = NULL; /* an unknown stored value asks for nothing */
    int rc = sp_authn_request(ref->sp, entity, handle, format, post, &msg, id, sizeof id, err,
                              sizeof err);
    app_sp_release(w->app, ref);
    if (rc != 0 || (test && test_put(r, entity, id) != 0) ||
        store_saml_request_put(w->store, id, entity, return_to, w->now + SAML_REQUEST_SECONDS) !=
            0) {
        log_error("authn request failed idp=%s: %s", entity, rc ? err : "store");
        sp_out_free(&msg);
        web_error(r, 500, "The sign-in request could not be prepared.");
        return 0;
    }
    log_info("saml authn request idp=%s id=%s binding=%s%s", entity, id, post ? "post" : "redirect",
             test ? " test=1" : "");
    int out = saml_send(r, &msg, "SAMLRequest", handle);
    sp_out_free(&msg);
    return out;
}

int
route_saml_login(struct req *r)
{
    struct web *w = web_of(r);
    const char *idp = req_query(r, "idp");
    const char *email = req_query(r, "email");
    char entity[512] = "";
    if (idp != NULL && idp[0] != '\0') {
        snprintf(entity, sizeof entity, "%s", idp);
    } else if (email != NULL) {
        const char *at = strrchr(email, '@');
        char domain[256];
        if (at == NULL || !idp_domain_normalize(at + 1, domain, sizeof domain) ||
            store_idp_for_domain(w->store, domain, entity, sizeof entity) != 0) {
            struct tmpl_ctx *c = web_ctx(r);
            tmpl_set(c, "email", email);
            tmpl_set(c, "return_to", web_return_to(r));
            tmpl_set(c, "error",
                     "No single sign-on is set up for that e-mail address. Check "
                     "it, or sign in with your password.");
            tmpl_set(c, "password_form", w->policy.password_login ? "1" : "");
            tmpl_set(c, "password_off", w->policy.password_login ? "" : "1");
            web_discovery_link(r, c);
            return web_page(r, 404, "login", "Sign in", c);
        }
    } else {
        web_error(r, 400, "Say which identity provider to use (idp=) or give your e-mail.");
        return 0;
    }
    struct idp_row row;
    if (store_idp_get(w->store, entity, &row) != 0) {
        web_error(r, 404, "That identity provider is not set up here.");
        return 0;
    }
    return authn_send(r, &row, web_return_to(r), 0);
}

int
saml_test_start(struct req *r, const struct idp_row *row)
{
    return authn_send(r, row, "/admin/idps", 1);
}

/* ---- ACS ---- */

struct acs_session {
    struct req *r;
    int started;
};

static int
acs_start_session(void *ctx, const struct session_new *n)
{
    struct acs_session *as = ctx;
    int rc = web_start_session(as->r, n, NULL);
    as->started = rc == 0;
    return rc;
}

int
route_saml_acs(struct req *r)
{
    struct web *w = web_of(r);
    struct sso_outcome *o = arena_alloc(req_arena(r), sizeof *o);
    if (o == NULL)
        return -1;
    struct acs_session as = {r, 0};
    struct sso_request in = {req_form(r, "SAMLResponse"),
                             req_form(r, "RelayState"),
                             req_client(r),
                             w->now,
                             w->idps_version,
                             acs_start_session,
                             &as};
    enum sp_reason verdict = sso_acs(w->app, w->store, &in, o);
    if (o->test) {
        /* A test sign-in: no session, no sign-in counted; its result page shows the entry
         * (to the admin who started it only). */
        if (verdict == SP_OK)
            web_admit_refund(r); /* an accepted response is no refusal to rate-limit */
        log_info("saml test sign-in answered ref=%lld verdict=%s", o->log_id,
                 sp_reason_info(verdict)->code);
        char *to = arena_printf(req_arena(r), "/admin/idps/test?id=%s",
                                str_url_encode(req_arena(r), o->test_id));
        sso_outcome_free(o);
        return req_redirect(r, 303, to ? to : "/admin/idps");
    }
    if (verdict == SP_OK) {
        web_admit_refund(r);
        web_signin_event_count(r, "sso", "success");
        log_info("sign-in method=saml user_id=%lld idp=%s", o->user_id, o->idp.entity_id);
        sso_outcome_free(o);
        return req_redirect(r, 303, web_safe_redirect(r, o->return_to) ? o->return_to : "/");
    }
    if (as.started) { /* started, then rolled back: the cookie would name no session */
        web_clear_session_cookie(r);
        web_bind_session(r, "");
    }
    web_signin_event(r, "sso", "failure");
    const struct sp_reason_info *ri = sp_reason_info(o->v.reason);
    /* By IdP only when the issuer is registered: anything else is the sender's own text. */
    struct idp_row known;
    const char *idp_label = o->idp.entity_id[0] ? o->idp.entity_id
                            : o->v.issuer[0] && store_idp_get(w->store, o->v.issuer, &known) == 0
                                ? o->v.issuer
                                : "unknown";
    metrics_saml_refusal(idp_label, ri->code);
    sso_outcome_free(o);
    char reference[32];
    snprintf(reference, sizeof reference, "SAML-%lld", o->log_id);
    return saml_error_page(r, ri->http_status, ri->headline, reference);
}

/* ---- single logout ---- */

/* The LogoutRequests we send are kept as pending requests (consumed once by the IdP's
 * LogoutResponse), the ones we receive as used IDs (a replay is refused): prefixed so that
 * neither can pass for the other or for an AuthnRequest's ID, which have no space. */
#define SLO_SENT "slo-sent "
#define SLO_SEEN "slo-seen "

static void
slo_expect(struct web *w, char *url, size_t len, struct sp_slo_expect *e)
{
    snprintf(url, len, "%s/saml/slo", w->app->conf.base_url);
    e->slo_url = url;
    e->skew_seconds = w->live->conf.sp_clock_skew_seconds;
    e->max_age_seconds = w->live->conf.sp_max_response_age_seconds;
    e->now = w->now;
}

int
saml_logout_start(struct req *r, struct sp_out *out)
{
    struct web *w = web_of(r);
    struct idp_row row;
    memset(out, 0, sizeof *out);
    if (w->session.idp[0] == '\0' || store_idp_get(w->store, w->session.idp, &row) != 0 ||
        (row.slo_redirect[0] == '\0' && row.slo_post[0] == '\0'))
        return -1;
    struct sp_ref *ref = app_sp_acquire(w->app, w->store, w->idps_version);
    if (ref == NULL)
        return -1;
    struct sp_logout l = {w->session.idp, w->session.name_id, w->session.name_id_format,
                          w->session.session_index, NULL};
    char id[256], err[512];
    /* HTTP-Redirect when the IdP offers it; HTTP-POST for IdPs that offer only POST. */
    int post = row.slo_redirect[0] == '\0';
    int rc = sp_logout_request(ref->sp, &l, post, out, id, sizeof id, err, sizeof err);
    char key[300];
    snprintf(key, sizeof key, SLO_SENT "%s", id);
    if (rc == 0 && store_saml_request_put(w->store, key, w->session.idp, "/",
                                          w->now + SAML_REQUEST_SECONDS) != 0) {
        snprintf(err, sizeof err, "the request could not be stored");
        sp_out_free(out);
        rc = -1;
    }
    if (rc != 0)
        log_warn("single logout not started idp=%s: %s", w->session.idp, err);
    else
        log_info("saml logout request idp=%s id=%s user_id=%lld binding=%s", w->session.idp, id,
                 w->user.id, post ? "post" : "redirect");
    app_sp_release(w->app, ref);
    return rc;
}

/* A refused logout message goes to the SAML log beside the ACS's verdicts, with its own reason
 * (slo_*, sp_acs.h) and what it claimed: the admin's SAML log shows it. The reference. */
static long long
slo_refused(struct req *r, enum sp_slo_reason why, const char *kind, const char *idp,
            const char *name_id, const char *irt, const char *detail)
{
    struct web *w = web_of(r);
    struct saml_log_row row;
    memset(&row, 0, sizeof row);
    row.at = w->now;
    snprintf(row.client_addr, sizeof row.client_addr, "%s", req_client(r));
    snprintf(row.issuer, sizeof row.issuer, "%s", idp ? idp : "");
    snprintf(row.name_id, sizeof row.name_id, "%s", name_id ? name_id : "");
    snprintf(row.in_response_to, sizeof row.in_response_to, "%s", irt ? irt : "");
    snprintf(row.verdict, sizeof row.verdict, "refused");
    snprintf(row.reason, sizeof row.reason, "%s", sp_slo_reason_code(why));
    snprintf(row.detail, sizeof row.detail, "%s: %s", kind, detail);
    /* What a message claims is the sender's text: the log stays UTF-8 for its JSON listings. */
    char *text[] = {row.issuer, row.name_id, row.in_response_to, row.detail};
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        str_utf8_scrub(text[i]);
    samllog_keep(&row, NULL, 0, 0, 0, NULL);
    long long id = 0;
    if (store_saml_log_append(w->store, &row, &id) != 0)
        log_error("saml log append failed");
    log_warn("saml %s refused client=%s idp=%s reason=%s ref=SAML-%lld: %s", kind, req_client(r),
             row.issuer, row.reason, id, detail);
    return id;
}

static int
signed_out_page(struct req *r, int status, const char *note)
{
    struct tmpl_ctx *c = web_ctx(r);
    tmpl_set(c, "note", note);
    return web_page(r, status, "signed_out", "Signed out", c);
}

/* A LogoutRequest from the IdP: the subject's sessions end, and a signed LogoutResponse goes
 * back. An unverifiable request ends nothing. */
static int
slo_request(struct req *r, struct sp_ref *ref, const char *msg, const char *relay_state)
{
    struct web *w = web_of(r);
    struct sp_logout_in in;
    struct sp_slo_expect e;
    char err[512], url[700], key[300];
    slo_expect(w, url, sizeof url, &e);
    enum sp_slo_reason why = sp_logout_request_in(ref->sp, msg, &e, &in, err, sizeof err);
    if (why != SP_SLO_OK) {
        app_sp_release(w->app, ref);
        long long ref_id = slo_refused(r, why, "LogoutRequest", in.idp, in.name_id, NULL, err);
        web_error(r, 400,
                  arena_printf(req_arena(r),
                               "This sign-out request could not be verified; nothing was changed "
                               "(reference SAML-%lld).",
                               ref_id));
        return 0;
    }
    app_sp_release(w->app, ref);
    /* SAML core 3.2.1: an ID is used once; kept until the request would be too old anyway. */
    snprintf(key, sizeof key, SLO_SEEN "%s", in.id);
    int once = store_saml_assertion_once(w->store, key, in.idp, in.keep_until);
    if (once != 0) {
        free(in.response_url);
        free(in.response_body);
        snprintf(err, sizeof err,
                 once > 0 ? "replay of a LogoutRequest ID seen before (%.200s; SAML core 3.2.1)"
                          : "the store could not record the LogoutRequest ID %.200s",
                 in.id);
        slo_refused(r, once > 0 ? SP_SLO_REPLAY : SP_SLO_INTERNAL, "LogoutRequest", in.idp,
                    in.name_id, NULL, err);
        web_error(r, once > 0 ? 400 : 500,
                  once > 0 ? "This sign-out request was used already; nothing was changed."
                           : "The sign-out could not be completed. Try again.");
        return 0;
    }
    long long n = 0;
    if (store_session_delete_saml(w->store, in.idp, in.name_id, in.session_index, &n) != 0) {
        free(in.response_url);
        free(in.response_body);
        web_error(r, 500, "The sign-out could not be completed. Try again.");
        return 0;
    }
    log_info("saml logout from idp=%s sessions_ended=%lld", in.idp, n);
    if (w->signed_in && strcmp(w->session.idp, in.idp) == 0 &&
        strcmp(w->session.name_id, in.name_id) == 0)
        web_clear_session_cookie(r);
    struct sp_out answer = {in.response_body != NULL, in.response_url, in.response_body};
    int rc = saml_send(r, &answer, "SAMLResponse", relay_state);
    sp_out_free(&answer);
    return rc;
}

int
route_saml_slo(struct req *r)
{
    struct web *w = web_of(r);
    /* HTTP-Redirect: the signed query string as received. HTTP-POST: the base64 field, whose
     * XML signature lasso verifies; RelayState goes back with the answer. */
    int post = strcmp(req_method(r), "POST") == 0;
    const char *req_field = post ? req_form(r, "SAMLRequest") : req_query(r, "SAMLRequest");
    const char *resp_field = post ? req_form(r, "SAMLResponse") : req_query(r, "SAMLResponse");
    int is_request = req_field != NULL;
    if (!is_request && resp_field == NULL) {
        web_error(r, 400,
                  "This address takes SAML logout messages (HTTP-Redirect or HTTP-POST binding).");
        return 0;
    }
    const char *msg = !post ? req_raw_query(r) : is_request ? req_field : resp_field;
    const char *relay = post ? req_form(r, "RelayState") : NULL;
    struct sp_ref *ref = app_sp_acquire(w->app, w->store, w->idps_version);
    if (ref == NULL) {
        web_error(r, 503, "Single sign-on is not available right now.");
        return 0;
    }
    if (is_request)
        return slo_request(r, ref, msg, relay);
    char idp[512], err[512], irt[256], url[700], key[300], ignored[8];
    struct sp_slo_expect e;
    slo_expect(w, url, sizeof url, &e);
    enum sp_slo_reason why =
        sp_logout_response_in(ref->sp, msg, &e, idp, sizeof idp, irt, sizeof irt, err, sizeof err);
    app_sp_release(w->app, ref);
    /* Its InResponseTo must name a LogoutRequest we sent to that IdP, still pending: each is
     * consumed by the first answer. */
    snprintf(key, sizeof key, SLO_SENT "%s", irt);
    int taken = why == SP_SLO_OK
                    ? store_saml_request_take(w->store, key, idp, w->now, ignored, sizeof ignored)
                    : 0;
    if (taken != 0) {
        snprintf(err, sizeof err,
                 "InResponseTo \"%.100s\" names no pending LogoutRequest of ours to this IdP", irt);
        why = taken < 0 ? SP_SLO_INTERNAL : SP_SLO_IN_RESPONSE_TO;
    }
    if (why != SP_SLO_OK) {
        slo_refused(r, why, "LogoutResponse", idp, NULL, irt, err);
        log_warn("saml logout response not confirmed idp=%s: %s", idp, err);
        return signed_out_page(r, 200,
                               "Your identity provider did not confirm that it signed you out "
                               "there too. Close the browser to be sure.");
    }
    log_info("saml logout confirmed idp=%s", idp);
    return signed_out_page(r, 200, "Your identity provider signed you out too.");
}
