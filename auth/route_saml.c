/* auth/route_saml.c: the SAML routes: metadata, SP-initiated SSO, the ACS with just-in-time
 * provisioning, and the response log. sp/ decides whether a response is valid; this file does
 * what needs the store: InResponseTo bookkeeping, replay, provisioning, sessions, the log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "app.h"
#include "arena.h"
#include "audit.h"
#include "clock.h"
#include "http.h"
#include "idp.h"
#include "log.h"
#include "routes.h"
#include "session.h"
#include "sp/sp.h"
#include "store.h"
#include "str.h"
#include "tmpl.h"
#include "web.h"

/* How long an SP-initiated request waits for its response. */
#define SAML_REQUEST_SECONDS (10 * 60)

/* Attribute names that carry each fact in the shapes IdPs really send: plain (Okta, Google,
 * OneLogin), urn:oid (Shibboleth, eduPerson), claim URIs (ADFS, Entra ID). */
static const char *const EMAIL_ATTRS[] = {
    "email",
    "mail",
    "emailAddress",
    "Email",
    "EmailAddress",
    "User.email",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    NULL};
static const char *const FIRST_ATTRS[] = {
    "firstName",
    "givenName",
    "given_name",
    "first_name",
    "FirstName",
    "User.FirstName",
    "urn:oid:2.5.4.42",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    NULL};
static const char *const LAST_ATTRS[] = {
    "lastName",
    "sn",
    "surname",
    "family_name",
    "last_name",
    "LastName",
    "User.LastName",
    "urn:oid:2.5.4.4",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    NULL};
static const char *const DISPLAY_ATTRS[] = {
    "displayName", "urn:oid:2.16.840.1.113730.3.1.241",
    "http://schemas.microsoft.com/identity/claims/displayname", NULL};

static const char *const GROUP_ATTRS[] = {
    "groups",
    "group",
    "Groups",
    "memberOf",
    "isMemberOf",
    "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
    "urn:oid:1.2.840.113556.1.2.102",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    "http://schemas.xmlsoap.org/claims/Group",
    NULL};

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
    struct sp_ref *ref = app_sp_acquire(w->app, w->store, w->idps_version);
    if (ref == NULL) {
        web_error(r, 503, "Single sign-on is not available right now.");
        return 0;
    }
    /* RelayState is an opaque random handle; the return path stays on the server. */
    unsigned char raw[16];
    char handle[33], id[256], err[512];
    char *url = NULL;
    RAND_bytes(raw, sizeof raw);
    str_hex(raw, sizeof raw, handle);
    int rc = sp_authn_redirect(ref->sp, entity, handle, &url, id, sizeof id, err, sizeof err);
    app_sp_release(w->app, ref);
    if (rc != 0 || store_saml_request_put(w->store, id, entity, web_return_to(r),
                                          w->now + SAML_REQUEST_SECONDS) != 0) {
        log_error("authn request failed idp=%s: %s", entity, rc ? err : "store");
        free(url);
        web_error(r, 500, "The sign-in request could not be prepared.");
        return 0;
    }
    log_info("saml authn request idp=%s id=%s", entity, id);
    int out = req_redirect(r, 303, url);
    free(url);
    return out;
}

/* ---- ACS ---- */

struct acs {
    struct req *r;
    struct web *w;
    struct sp_verdict v;
    struct idp_row idp;
    char return_to[1100];
    char email[STORE_EMAIL_MAX];
    char name[STORE_NAME_MAX];
    char role[16];     /* from the group mapping, else the IdP's default role */
    int groups_mapped; /* the IdP maps groups to roles: the role follows them at each sign-in */
    long long user_id;
};

static int
sha1_allowed(const char *issuer, void *ctx)
{
    struct acs *a = ctx;
    struct idp_row row;
    return store_idp_get(a->w->store, issuer, &row) == 0 && row.allow_sha1;
}

static enum sp_reason
refuse(struct acs *a, enum sp_reason reason, const char *detail)
{
    a->v.reason = reason;
    snprintf(a->v.detail, sizeof a->v.detail, "%.500s", detail);
    return reason;
}

static int
count_mapping(const char *group, const char *role, void *ctx)
{
    (void)group;
    (void)role;
    ++*(int *)ctx;
    return 1;
}

static int
attr_named(const struct sp_attr *at, const char *const *names)
{
    for (size_t i = 0; names[i] != NULL; i++)
        if ((at->name && strcmp(at->name, names[i]) == 0) ||
            (at->friendly_name && strcmp(at->friendly_name, names[i]) == 0))
            return 1;
    return 0;
}

/* The role from the IdP's group -> role mapping: admin when any group maps to admin, member
 * when one maps to member, else the IdP's default role. Owner is never granted by an IdP. */
static enum sp_reason
map_role(struct acs *a)
{
    snprintf(a->role, sizeof a->role, "%s", a->idp.default_role);
    int n = 0;
    if (store_idp_group_roles(a->w->store, a->idp.entity_id, count_mapping, &n) != 0)
        return refuse(a, SP_ERR_INTERNAL, "cannot read the IdP's group mapping");
    a->groups_mapped = n > 0;
    if (!a->groups_mapped)
        return SP_OK;
    const char *const custom[] = {a->idp.attr_groups, NULL};
    const char *const *names = a->idp.attr_groups[0] ? custom : GROUP_ATTRS;
    int best = 0; /* 1 member, 2 admin */
    for (int i = 0; i < a->v.n_attrs; i++) {
        const struct sp_attr *at = &a->v.attrs[i];
        if (!attr_named(at, names))
            continue;
        for (int k = 0; k < at->n_values; k++) {
            char role[16];
            int r = at->values[k] ? store_idp_role_for_group(a->w->store, a->idp.entity_id,
                                                             at->values[k], role, sizeof role)
                                  : 1;
            if (r < 0)
                return refuse(a, SP_ERR_INTERNAL, "cannot read the IdP's group mapping");
            if (r == 0 && strcmp(role, "admin") == 0)
                best = 2;
            else if (r == 0 && best == 0)
                best = 1;
        }
    }
    if (best != 0)
        snprintf(a->role, sizeof a->role, "%s", best == 2 ? "admin" : "member");
    return SP_OK;
}

/* E-mail and display name from the attributes (or an e-mail-shaped NameID). */
static enum sp_reason
map_identity(struct acs *a)
{
    const char *const custom[] = {a->idp.attr_email, NULL};
    const char *email = sp_verdict_attr(&a->v, a->idp.attr_email[0] ? custom : EMAIL_ATTRS);
    if (email == NULL && strchr(a->v.name_id, '@') != NULL)
        email = a->v.name_id;
    struct arena *ar = req_arena(a->r);
    char *norm = email ? str_email_normalize(ar, email) : NULL;
    if (norm == NULL || strlen(norm) >= sizeof a->email)
        return refuse(a, SP_ERR_ACCOUNT,
                      "the assertion carries no usable e-mail address "
                      "(attribute or NameID)");
    snprintf(a->email, sizeof a->email, "%s", norm);
    const char *display = sp_verdict_attr(&a->v, DISPLAY_ATTRS);
    const char *const cf[] = {a->idp.attr_first_name, NULL};
    const char *const cl[] = {a->idp.attr_last_name, NULL};
    const char *first = sp_verdict_attr(&a->v, a->idp.attr_first_name[0] ? cf : FIRST_ATTRS);
    const char *last = sp_verdict_attr(&a->v, a->idp.attr_last_name[0] ? cl : LAST_ATTRS);
    if (display != NULL)
        snprintf(a->name, sizeof a->name, "%s", display);
    else
        snprintf(a->name, sizeof a->name, "%s%s%s", first ? first : "", first && last ? " " : "",
                 last ? last : "");
    if (!str_utf8_clean(a->name, strlen(a->name), 0))
        a->name[0] = '\0';
    /* An IdP with domains signs in only users of those domains. */
    char domains[1024];
    if (store_idp_domains(a->w->store, a->idp.entity_id, domains, sizeof domains) != 0)
        return refuse(a, SP_ERR_INTERNAL, "cannot read the IdP's domains");
    if (domains[0] != '\0') {
        const char *dom = strrchr(a->email, '@') + 1;
        size_t dl = strlen(dom);
        int ok = 0;
        for (const char *p = domains; *p;) {
            const char *comma = strchr(p, ',');
            size_t n = comma ? (size_t)(comma - p) : strlen(p);
            ok |= n == dl && strncmp(p, dom, n) == 0;
            p += n + (comma ? 1 : 0);
        }
        if (!ok) {
            char d[400];
            snprintf(d, sizeof d, "%.200s is outside the IdP's domains (%.150s)", a->email,
                     domains);
            return refuse(a, SP_ERR_DOMAIN, d);
        }
    }
    return map_role(a);
}

/* Finds or creates the user (just-in-time provisioning), syncing attributes. */
static enum sp_reason
provision(struct acs *a)
{
    struct store *s = a->w->store;
    struct user u;
    int found = store_user_by_saml(s, a->idp.entity_id, a->v.name_id, &u);
    if (found < 0)
        return refuse(a, SP_ERR_INTERNAL, "store error");
    char name[STORE_EMAIL_MAX + 8];
    snprintf(name, sizeof name, "idp:%.250s", a->idp.entity_id);
    struct actor who = {name, "system", req_client(a->r)};
    if (found == 1) {
        /* Never merged silently with an account of the same e-mail (see README). */
        struct user other;
        int clash = store_user_by_email(s, a->email, &other);
        if (clash == 0)
            return refuse(a, SP_ERR_ACCOUNT,
                          strcmp(other.auth_method, "password") == 0
                              ? "a password account with this e-mail exists; it is not merged "
                                "with the SSO identity"
                              : "another identity provider's user has this e-mail");
        memset(&u, 0, sizeof u);
        snprintf(u.email, sizeof u.email, "%s", a->email);
        snprintf(u.display_name, sizeof u.display_name, "%s", a->name);
        snprintf(u.role, sizeof u.role, "%s", a->role);
        snprintf(u.status, sizeof u.status, "active");
        snprintf(u.auth_method, sizeof u.auth_method, "saml");
        snprintf(u.idp, sizeof u.idp, "%s", a->idp.entity_id);
        snprintf(u.name_id, sizeof u.name_id, "%s", a->v.name_id);
        u.created_at = u.last_login_at = a->w->now;
        if (store_user_insert(s, &u, &a->user_id) != 0)
            return refuse(a, SP_ERR_INTERNAL, "the user could not be created");
        char detail[128];
        snprintf(detail, sizeof detail, "role=%s method=saml", u.role);
        if (audit_record(s, &who, "user.provision", u.email, NULL, detail) != 0)
            return refuse(a, SP_ERR_INTERNAL, "audit failed");
        log_info("saml user provisioned user_id=%lld idp=%s", a->user_id, a->idp.entity_id);
        return SP_OK;
    }
    if (strcmp(u.status, "active") != 0)
        return refuse(a, SP_ERR_ACCOUNT, "the account is disabled");
    a->user_id = u.id;
    /* With a group mapping the role follows the groups (an owner stays owner). */
    const char *role = a->groups_mapped && strcmp(u.role, "owner") != 0 ? a->role : u.role;
    if (strcmp(u.role, role) != 0) {
        if (audit_record(s, &who, "user.role_sync", u.email, u.role, role) != 0)
            return refuse(a, SP_ERR_INTERNAL, "audit failed");
    }
    if (strcmp(u.email, a->email) != 0 || strcmp(u.display_name, a->name) != 0 ||
        strcmp(u.role, role) != 0) {
        int rc =
            store_user_saml_sync(s, u.id, a->email, a->name[0] ? a->name : u.display_name, role);
        if (rc == 1)
            return refuse(a, SP_ERR_ACCOUNT,
                          "the new e-mail from the IdP belongs to another "
                          "account");
        if (rc != 0 || audit_record(s, &who, "user.sync", u.email, u.email, a->email) != 0)
            return refuse(a, SP_ERR_INTERNAL, "the user could not be updated");
    }
    if (store_user_set_login(s, u.id, a->w->now) != 0)
        return refuse(a, SP_ERR_INTERNAL, "store error");
    return SP_OK;
}

/* The store's part of the verdict, all in one transaction: InResponseTo, replay, user. */
static enum sp_reason
accept_in_store(struct acs *a, const char *relay_state)
{
    struct store *s = a->w->store;
    long skew = a->w->app->conf.sp_clock_skew_seconds;
    if (store_idp_get(s, a->v.issuer, &a->idp) != 0)
        return refuse(a, SP_ERR_UNKNOWN_ISSUER, "the issuer is not registered");
    if (a->v.in_response_to[0] != '\0') {
        int t = store_saml_request_take(s, a->v.in_response_to, a->idp.entity_id, a->w->now,
                                        a->return_to, sizeof a->return_to);
        if (t != 0)
            return refuse(a, t < 0 ? SP_ERR_INTERNAL : SP_ERR_IN_RESPONSE_TO,
                          "InResponseTo names no pending request of ours for this IdP (unknown, "
                          "expired or used already)");
    } else {
        if (!a->idp.idp_initiated)
            return refuse(a, SP_ERR_UNSOLICITED,
                          "unsolicited response (no InResponseTo) and "
                          "IdP-initiated sign-in is off for this IdP");
        /* IdP-initiated: RelayState is honoured only as a same-origin path. */
        snprintf(a->return_to, sizeof a->return_to, "%s",
                 str_safe_return_to(relay_state) ? relay_state : "/");
    }
    time_t keep = a->v.not_on_or_after ? a->v.not_on_or_after + skew : a->w->now + 3600;
    int once = store_saml_assertion_once(s, a->v.assertion_id, a->idp.entity_id, keep);
    if (once != 0)
        return refuse(a, once < 0 ? SP_ERR_INTERNAL : SP_ERR_REPLAY,
                      "this assertion ID was accepted before");
    enum sp_reason rc = map_identity(a);
    return rc == SP_OK ? provision(a) : rc;
}

static long long
write_log(struct acs *a)
{
    const struct sp_reason_info *ri = sp_reason_info(a->v.reason);
    struct saml_log_row row;
    memset(&row, 0, sizeof row);
    row.at = a->w->now;
    snprintf(row.client_addr, sizeof row.client_addr, "%s", req_client(a->r));
    snprintf(row.issuer, sizeof row.issuer, "%s", a->v.issuer);
    snprintf(row.name_id, sizeof row.name_id, "%s", a->v.name_id);
    snprintf(row.in_response_to, sizeof row.in_response_to, "%s", a->v.in_response_to);
    snprintf(row.assertion_id, sizeof row.assertion_id, "%s", a->v.assertion_id);
    snprintf(row.verdict, sizeof row.verdict, "%s", a->v.reason == SP_OK ? "accepted" : "refused");
    snprintf(row.reason, sizeof row.reason, "%s", ri->code);
    snprintf(row.detail, sizeof row.detail, "%s", a->v.detail);
    row.user_id = a->v.reason == SP_OK ? a->user_id : 0;
    row.xml = a->v.xml;
    long long id = 0;
    if (store_saml_log_append(a->w->store, &row, &id) != 0)
        log_error("saml log append failed");
    return id;
}

int
route_saml_acs(struct req *r)
{
    struct web *w = web_of(r);
    struct acs *a = arena_alloc(req_arena(r), sizeof *a);
    if (a == NULL)
        return -1;
    a->r = r;
    a->w = w;
    const char *b64 = req_form(r, "SAMLResponse");
    const char *relay = req_form(r, "RelayState");
    struct sp_ref *ref = NULL;
    if (b64 == NULL || b64[0] == '\0') {
        refuse(a, SP_ERR_MALFORMED, "the POST has no SAMLResponse field");
    } else if ((ref = app_sp_acquire(w->app, w->store, w->idps_version)) == NULL) {
        refuse(a, SP_ERR_INTERNAL, "the SAML state could not be built");
    } else {
        struct sp_expect e = {w->app->sp_entity_id,
                              w->app->sp_acs_url,
                              w->app->conf.sp_clock_skew_seconds,
                              w->now,
                              sha1_allowed,
                              a};
        sp_acs_process(ref->sp, b64, strlen(b64), &e, &a->v);
        app_sp_release(w->app, ref);
    }
    char token[SESSION_TOKEN_LEN + 1], hash[65];
    if (a->v.reason == SP_OK) {
        if (store_begin_write(w->store) != 0) {
            refuse(a, SP_ERR_INTERNAL, "store busy");
        } else if (accept_in_store(a, relay) == SP_OK) {
            struct session_new n = {.user_id = a->user_id,
                                    .kind = SESSION_WEB,
                                    .client_addr = req_client(r),
                                    .idp = a->idp.entity_id,
                                    .name_id = a->v.name_id,
                                    .session_index = a->v.session_index,
                                    .name_id_format = a->v.name_id_format};
            if (session_create(w->store, &n, token, hash) != 0)
                refuse(a, SP_ERR_INTERNAL, "the session could not be created");
        }
        if (a->v.reason == SP_OK) {
            write_log(a);
            if (web_signin_event_store(r, "sso", "success") != 0)
                log_warn("sign-in event not recorded");
            if (store_commit(w->store) != 0) {
                store_rollback(w->store);
                refuse(a, SP_ERR_INTERNAL, "the sign-in could not be saved");
            }
        } else {
            store_rollback(w->store);
        }
    }
    if (a->v.reason == SP_OK) {
        if (w->signed_in)
            store_session_delete(w->store, w->session_hash);
        web_set_session_cookie(r, token);
        web_signin_event_count(r, "success");
        log_info("sign-in method=saml user_id=%lld idp=%s", a->user_id, a->idp.entity_id);
        sp_verdict_free(&a->v);
        return req_redirect(r, 303, str_safe_return_to(a->return_to) ? a->return_to : "/");
    }
    long long ref_id = write_log(a);
    web_signin_event(r, "sso", "failure");
    const struct sp_reason_info *ri = sp_reason_info(a->v.reason);
    log_info("saml response refused reason=%s ref=%lld issuer=%s detail=\"%s\"", ri->code, ref_id,
             str_log_escape(req_arena(r), a->v.issuer, 200),
             str_log_escape(req_arena(r), a->v.detail, 300));
    sp_verdict_free(&a->v);
    char reference[32];
    snprintf(reference, sizeof reference, "SAML-%lld", ref_id);
    return saml_error_page(r, ri->http_status, ri->headline, reference);
}

/* ---- single logout ---- */

char *
saml_logout_start(struct req *r)
{
    struct web *w = web_of(r);
    struct idp_row row;
    if (w->session.idp[0] == '\0' || store_idp_get(w->store, w->session.idp, &row) != 0 ||
        row.slo_redirect[0] == '\0')
        return NULL;
    struct sp_ref *ref = app_sp_acquire(w->app, w->store, w->idps_version);
    if (ref == NULL)
        return NULL;
    struct sp_logout l = {w->session.idp, w->session.name_id, w->session.name_id_format,
                          w->session.session_index, NULL};
    char id[256], err[512];
    char *url = NULL;
    if (sp_logout_redirect(ref->sp, &l, &url, id, sizeof id, err, sizeof err) != 0)
        log_warn("single logout not started idp=%s: %s", w->session.idp, err);
    else
        log_info("saml logout request idp=%s id=%s user_id=%lld", w->session.idp, id, w->user.id);
    app_sp_release(w->app, ref);
    char *copy = url ? arena_strdup(req_arena(r), url) : NULL;
    free(url);
    return copy;
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
slo_request(struct req *r, struct sp_ref *ref)
{
    struct web *w = web_of(r);
    struct sp_logout_in in;
    char err[512];
    if (sp_logout_request_in(ref->sp, req_raw_query(r), &in, err, sizeof err) != 0) {
        app_sp_release(w->app, ref);
        log_warn("saml logout request refused client=%s: %s", req_client(r), err);
        web_error(r, 400, "This sign-out request could not be verified; nothing was changed.");
        return 0;
    }
    app_sp_release(w->app, ref);
    long long n = 0;
    if (store_session_delete_saml(w->store, in.idp, in.name_id, in.session_index, &n) != 0) {
        free(in.response_url);
        web_error(r, 500, "The sign-out could not be completed. Try again.");
        return 0;
    }
    log_info("saml logout from idp=%s sessions_ended=%lld", in.idp, n);
    if (w->signed_in && strcmp(w->session.idp, in.idp) == 0 &&
        strcmp(w->session.name_id, in.name_id) == 0)
        req_set_cookie(r, SESSION_COOKIE, "", 0);
    int rc = req_redirect(r, 303, in.response_url);
    free(in.response_url);
    return rc;
}

int
route_saml_slo(struct req *r)
{
    struct web *w = web_of(r);
    int is_request = req_query(r, "SAMLRequest") != NULL;
    if (!is_request && req_query(r, "SAMLResponse") == NULL) {
        web_error(r, 400, "This address takes SAML logout messages (HTTP-Redirect binding).");
        return 0;
    }
    struct sp_ref *ref = app_sp_acquire(w->app, w->store, w->idps_version);
    if (ref == NULL) {
        web_error(r, 503, "Single sign-on is not available right now.");
        return 0;
    }
    if (is_request)
        return slo_request(r, ref);
    char idp[512], err[512];
    int rc = sp_logout_response_in(ref->sp, req_raw_query(r), idp, sizeof idp, err, sizeof err);
    app_sp_release(w->app, ref);
    if (rc != 0) {
        log_warn("saml logout response not confirmed idp=%s: %s", idp, err);
        return signed_out_page(r, 200,
                               "Your identity provider did not confirm that it signed you out "
                               "there too. Close the browser to be sure.");
    }
    log_info("saml logout confirmed idp=%s", idp);
    return signed_out_page(r, 200, "Your identity provider signed you out too.");
}
