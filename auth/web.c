#include "web.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "app.h"
#include "audit.h"
#include "authz.h"
#include "arena.h"
#include "clock.h"
#include "csrf.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "policy/expiry.h"
#include "ratelimit.h"
#include "roles.h"
#include "routes.h"
#include "storage.h"
#include "session.h"
#include "str.h"
#include "tmpl.h"

struct web *
web_of(struct req *r)
{
    return req_state(r);
}

struct live_hold {
    struct app *app;
    struct app_live *live;
};

static void
release_live(void *p)
{
    struct live_hold *h = p;
    app_live_release(h->app, h->live);
}

/* w->live for the whole request: released when its arena is freed. */
static int
hold_live(struct req *r, struct web *w)
{
    struct live_hold *h = arena_alloc(req_arena(r), sizeof *h);
    if (h == NULL)
        return -1;
    h->app = w->app;
    h->live = app_live_acquire(w->app);
    if (arena_defer(req_arena(r), release_live, h) != 0) {
        app_live_release(w->app, h->live);
        return -1;
    }
    w->live = h->live;
    return 0;
}

static int
starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Paths a restricted session (a password change is required) may use. */
static int
allowed_while_restricted(const char *path)
{
    return !strcmp(path, "/password/change") || !strcmp(path, "/password/reset") ||
           !strcmp(path, "/logout") || !strcmp(path, "/api/logout") || !strcmp(path, "/healthz") ||
           !strcmp(path, "/auth/verify") || !strcmp(path, "/readyz") ||
           starts_with(path, "/static/");
}

/* The request's session, when it has a live one: 0 (signed in or not), -1 when the store could
 * not be read. */
static int
load_session(struct req *r, struct web *w)
{
    const char *token = NULL;
    /* API clients and forward-auth (a proxy passes the client's Authorization on). */
    if (w->api || strcmp(req_path(r), "/auth/verify") == 0) {
        const char *auth = req_header(r, "Authorization");
        if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0)
            token = auth + 7;
    }
    if (token == NULL)
        token = req_cookie(r, SESSION_COOKIE);
    /* One store read brings the session, its user and the settings' version: the policy then
     * comes from the process's cache when no setting changed since (app_policy_at). */
    long long version = -1;
    int rc = token ? session_read_user(w->store, token, &w->session, &w->user, &version) : 1;
    if (rc < 0)
        return -1;
    app_policy_at(w->app, w->store, w->live, rc == 0 ? version : -1, &w->policy, &w->idps_version);
    if (w->idps_version < 0)
        return -1; /* the settings could not be read */
    if (rc == 0) {
        long absolute = (long)w->live->conf.session_max_hours * 3600;
        rc = session_check(w->store, &w->policy, absolute, w->now, &w->session);
    }
    if (rc != 0) {
        memset(&w->user, 0, sizeof w->user); /* an ended session names nobody */
        return rc < 0 ? -1 : 0;
    }
    if (strcmp(w->user.status, "active") != 0)
        return 0;
    w->signed_in = 1;
    memcpy(w->session_hash, w->session.token_hash, sizeof w->session_hash);
    return 0;
}

/* 503 with Retry-After: the store cannot be reached or read (PostgreSQL away or restarting). A
 * later request tries again; nothing is decided on half the facts. */
static int
store_away(struct req *r)
{
    req_add_header(r, "Retry-After", STORE_RETRY_AFTER);
    web_error(r, 503, "The store is not available. Try again in a moment.");
    return 1;
}

void
web_bind_session(struct req *r, const char *session_hash)
{
    struct web *w = web_of(r);
    /* The token itself (an HMAC) is made by the first page that needs it (web_ctx): most
     * requests (forward-auth, APIs, redirects) render no form. */
    snprintf(w->csrf_session, sizeof w->csrf_session, "%s", session_hash ? session_hash : "");
    w->csrf_token[0] = '\0';
}

int
web_before(struct req *r, const struct route *route)
{
    struct app *app = req_ctx(r);
    struct web *w = arena_alloc(req_arena(r), sizeof *w);
    if (w == NULL) {
        web_error(r, 500, "Out of memory.");
        return 1;
    }
    req_set_state(r, w);
    w->app = app;
    w->now = clock_now();
    w->api = starts_with(req_path(r), "/api/") || strcmp(req_path(r), "/readyz") == 0;
    if (route->flags & ROUTE_STATIC)
        return 0;
    if (hold_live(r, w) != 0) {
        web_error(r, 500, "Out of memory.");
        return 1;
    }
    w->store = app_store(app);
    if (w->store == NULL && strcmp(req_path(r), "/readyz") == 0) {
        route_readyz_no_store(r);
        return 1;
    }
    if (w->store == NULL)
        return store_away(r); /* no connection: the next request tries again */
    /* Sign-ins fail closed while the store cannot write (disk full): the free space and one
     * probe write decide, and end that state by itself once there is room again. */
    char why[256];
    if ((route->flags & ROUTE_SIGNIN) && store_writes_failing(NULL, 0) &&
        !storage_writable(&w->live->conf, w->store, (long long)w->now, why, sizeof why)) {
        web_error(r, 503, STORE_FULL_MESSAGE);
        return 1;
    }
    /* The settings (and, with a token, the session) are each request's first read: when it
     * fails, so would the rest (/readyz says so in its own words, with the policy alone). */
    if (strcmp(req_path(r), "/readyz") == 0)
        app_policy_and_idps(app, w->store, &w->policy, &w->idps_version);
    else if (load_session(r, w) != 0) /* and the policy */
        return store_away(r);

    const char *v = req_cookie(r, CSRF_COOKIE);
    if (csrf_visitor_ok(v)) {
        memcpy(w->visitor, v, CSRF_VISITOR_LEN + 1);
    } else if (!w->api && strcmp(req_path(r), "/auth/verify") != 0) {
        if (csrf_new_visitor(w->visitor) != 0) {
            web_error(r, 500, "Out of randomness.");
            return 1;
        }
        w->visitor_new = 1;
    }
    web_bind_session(r, w->signed_in ? w->session_hash : "");

    if ((route->flags & ROUTE_FORM) && !(route->flags & ROUTE_NO_CSRF) &&
        strcmp(req_method(r), "POST") == 0 &&
        !csrf_check(app->csrf_key, sizeof app->csrf_key, v, w->signed_in ? w->session_hash : "",
                    req_form(r, CSRF_FIELD))) {
        log_info("csrf refused path=%s client=%s", str_log_escape(req_arena(r), req_path(r), 100),
                 req_client(r));
        web_error(r, 403,
                  "This form has expired or did not come from this site. Go back, "
                  "reload the page and try again. Nothing was changed.");
        return 1;
    }
    if (w->signed_in && w->session.restricted && !allowed_while_restricted(req_path(r))) {
        if (w->api)
            web_json_error(r, 403, "password_change_required",
                           "Change your password in the browser before using this session.");
        else
            req_redirect(r, 303, "/password/change");
        return 1;
    }
    return 0;
}

int
web_admit(struct req *r, const struct route *route)
{
    struct app *app = req_ctx(r);
    if (!(route->flags & ROUTE_SAML) || app->acs_limit == NULL)
        return 0;
    /* Each response takes a token of its address; an accepted sign-in gives it back, so only
     * refusals count, and a flood of them waits here, before any parsing. */
    long wait = ratelimit_take(app->acs_limit, req_client(r), clock_now());
    if (wait == 0)
        return 0;
    char retry[24];
    snprintf(retry, sizeof retry, "%ld", wait);
    req_add_header(r, "Retry-After", retry);
    log_info("saml response rate-limited client=%s retry_after=%ld", req_client(r), wait);
    web_error(r, 429,
              "Too many refused sign-in responses came from your address. Wait a moment and "
              "sign in again.");
    return 1;
}

void
web_admit_refund(struct req *r)
{
    struct web *w = web_of(r);
    if (w->app->acs_limit != NULL)
        ratelimit_give(w->app->acs_limit, req_client(r), w->now);
}

/* The first admin page the permissions open ("" when none): the layout's Admin link. */
static const char *
admin_home(unsigned perms)
{
    static const struct {
        enum authz_perm perm;
        const char *path;
    } pages[] = {
        {PERM_DASHBOARD_VIEW, "/admin"},         {PERM_USERS_VIEW, "/admin/users"},
        {PERM_POLICY_VIEW, "/admin/policy"},     {PERM_IDPS_VIEW, "/admin/idps"},
        {PERM_SAML_LOG_VIEW, "/admin/saml-log"}, {PERM_AUDIT_VIEW, "/admin/audit"},
        {PERM_ROLES_VIEW, "/admin/roles"},
    };
    for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
        if (perms & PERM_BIT(pages[i].perm))
            return pages[i].path;
    return "";
}

unsigned
web_perms(struct req *r)
{
    struct web *w = web_of(r);
    if (w == NULL || !w->signed_in)
        return 0;
    if (!w->perms_known) {
        roles_perms(w->app->roles, w->store, w->user.role, &w->perms);
        w->perms_known = 1;
    }
    return w->perms;
}

struct actor
web_actor(struct req *r)
{
    struct web *w = web_of(r);
    char *name = arena_printf(req_arena(r), "user:%s", w->user.email);
    return (struct actor){name ? name : "user", w->user.role, req_client(r), web_perms(r)};
}

struct tmpl_ctx *
web_ctx(struct req *r)
{
    struct web *w = web_of(r);
    struct tmpl_ctx *c = tmpl_ctx_new(req_arena(r), NULL);
    if (w != NULL && w->csrf_token[0] == '\0')
        csrf_token(w->app->csrf_key, sizeof w->app->csrf_key, w->visitor, w->csrf_session,
                   w->csrf_token);
    tmpl_set(c, "csrf_token", w ? w->csrf_token : "");
    /* The visitor cookie goes out with the first page that carries a form token. */
    if (w != NULL && w->visitor_new) {
        req_set_cookie(r, CSRF_COOKIE, w->visitor, -1);
        w->visitor_new = 0;
    }
    if (w != NULL && w->signed_in && !w->session.restricted) {
        tmpl_set(c, "me_email", w->user.email);
        tmpl_set(c, "me_name", w->user.display_name[0] ? w->user.display_name : w->user.email);
        tmpl_set(c, "me_role", w->user.role);
        tmpl_set(c, "me_admin", admin_home(web_perms(r)));
        /* SSO accounts have no password or second step here: their IdP handles both. */
        tmpl_set(c, "me_password", strcmp(w->user.auth_method, "password") == 0 ? "1" : "");
    }
    if (w != NULL && w->signed_in)
        tmpl_set(c, "signed_in", "1");
    return c;
}

/* With a cookie domain, a sign-in form ends in a redirect to rd=, on any host under it: the
 * CSP's form-action names them (CSP3: form-action applies to the redirects after a submission). */
static const char *
cookie_domain_origins(struct req *r, const struct app *a)
{
    if (a->conf.cookie_domain[0] == '\0')
        return NULL;
    const char *d = a->conf.cookie_domain;
    if (strcmp(a->base_scheme, "https") == 0 && a->base_port == 443)
        return arena_printf(req_arena(r), "https://%s https://*.%s", d, d);
    /* https is always allowed; base_scheme on the base URL's port too. */
    return arena_printf(req_arena(r), "https://%s https://*.%s %s://%s:%d %s://*.%s:%d", d, d,
                        a->base_scheme, d, a->base_port, a->base_scheme, d, a->base_port);
}

/* A failure while the store cannot write becomes 503 with Retry-After and says why (a page
 * that says "try again" then means it: the state ends by itself once there is space). */
static int
store_unavailable(struct req *r, int status)
{
    if (status < 500 || !store_writes_failing(NULL, 0))
        return 0;
    req_add_header(r, "Retry-After", STORE_RETRY_AFTER);
    return 1;
}

int
web_page(struct req *r, int status, const char *name, const char *title, struct tmpl_ctx *ctx)
{
    struct web *w = web_of(r);
    if (strcmp(name, "error") != 0 && store_unavailable(r, status)) {
        ctx = web_ctx(r);
        tmpl_set(ctx, "status", "503");
        tmpl_set(ctx, "heading", "Temporarily unavailable");
        tmpl_set(ctx, "message", STORE_FULL_MESSAGE);
        name = "error";
        title = "Temporarily unavailable";
        status = 503;
    }
    const struct tmpl_set *t = w ? w->app->tmpl : NULL;
    char *body = t ? tmpl_render(t, name, ctx) : NULL;
    if (body != NULL) {
        tmpl_set(ctx, "content", body);
        tmpl_set(ctx, "title", title);
        body = tmpl_render(t, "layout", ctx);
    }
    /* Sign-in (SSO) and sign-out (SLO) forms end in a redirect to an IdP. The registry is read
     * afresh (-1): this very request may have changed it. */
    struct sp_ref *ref = (body && w && w->store) ? app_sp_acquire(w->app, w->store, -1) : NULL;
    const char *targets = w ? cookie_domain_origins(r, w->app) : NULL;
    const char *idp_origins = ref != NULL ? app_sp_origins(w->app, w->store, ref) : NULL;
    if (idp_origins != NULL)
        targets = targets ? arena_printf(req_arena(r), "%s %s", targets, idp_origins) : idp_origins;
    req_allow_form_targets(r, targets);
    if (ref != NULL)
        app_sp_release(w->app, ref);
    if (body == NULL) {
        static const char msg[] = "The page could not be rendered.";
        return req_respond(r, 500, "text/plain; charset=utf-8", msg, sizeof msg - 1);
    }
    return req_respond(r, status, "text/html; charset=utf-8", body, strlen(body));
}

int
web_json(struct req *r, int status, json_t *obj)
{
    char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (s == NULL) {
        static const char fallback[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";
        return req_respond(r, 500, "application/json", fallback, sizeof fallback - 1);
    }
    int rc = req_respond(r, status, "application/json", s, strlen(s));
    free(s);
    return rc;
}

int
web_json_error(struct req *r, int status, const char *code, const char *message)
{
    if (store_unavailable(r, status)) {
        status = 503;
        code = "unavailable";
        message = STORE_FULL_MESSAGE;
    }
    return web_json(r, status, json_pack("{s:s, s:s}", "error", code, "message", message));
}

static const char *
status_code_name(int status)
{
    switch (status) {
    case 400:
        return "bad_request";
    case 401:
        return "unauthenticated";
    case 403:
        return "forbidden";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
    case 413:
        return "too_large";
    case 415:
        return "unsupported_media_type";
    case 429:
        return "rate_limited";
    case 503:
        return "unavailable";
    default:
        return status >= 500 ? "internal" : "error";
    }
}

static const char *
status_title(int status)
{
    switch (status) {
    case 400:
        return "The request could not be read";
    case 403:
        return "Not allowed";
    case 404:
        return "Page not found";
    case 405:
        return "Method not allowed";
    case 413:
        return "Request too large";
    case 415:
        return "Unsupported request";
    case 429:
        return "Too many requests";
    case 503:
        return "Temporarily unavailable";
    default:
        return status >= 500 ? "Something went wrong" : "Error";
    }
}

void
web_error(struct req *r, int status, const char *message)
{
    struct web *w = web_of(r);
    int api = w ? w->api : starts_with(req_path(r), "/api/");
    if (api) {
        web_json_error(r, status, status_code_name(status), message);
        return;
    }
    if (store_unavailable(r, status)) {
        status = 503;
        message = STORE_FULL_MESSAGE;
    }
    if (w == NULL || w->app == NULL) {
        /* Before the middleware ran (404, 413...): the server's templates via the hooks ctx. */
        struct app *app = req_ctx(r);
        struct web *fresh = arena_alloc(req_arena(r), sizeof *fresh);
        if (fresh == NULL || app == NULL)
            return;
        fresh->app = app;
        req_set_state(r, fresh);
    }
    struct tmpl_ctx *c = web_ctx(r);
    tmpl_setf(c, "status", "%d", status);
    tmpl_set(c, "heading", status_title(status));
    tmpl_set(c, "message", message);
    web_page(r, status, "error", status_title(status), c);
}

int
web_safe_redirect(struct req *r, const char *target)
{
    return app_safe_redirect(web_of(r)->app, target);
}

const char *
web_return_to(struct req *r)
{
    const char *names[] = {"return_to", "rd"};
    for (size_t i = 0; i < 2; i++) {
        const char *rt = req_form(r, names[i]);
        if (rt == NULL)
            rt = req_query(r, names[i]);
        if (rt != NULL)
            return web_safe_redirect(r, rt) ? rt : "/";
    }
    return "/";
}

int
web_set_session_cookie(struct req *r, const char *token)
{
    return req_set_cookie_domain(r, SESSION_COOKIE, token, -1, web_of(r)->app->conf.cookie_domain);
}

int
web_clear_session_cookie(struct req *r)
{
    return req_set_cookie_domain(r, SESSION_COOKIE, "", 0, web_of(r)->app->conf.cookie_domain);
}

int
web_start_session(struct req *r, const struct session_new *n, char *token_out)
{
    struct web *w = web_of(r);
    struct session_new copy = *n;
    if (copy.client_addr == NULL)
        copy.client_addr = req_client(r);
    int browser = copy.kind == SESSION_WEB;
    if (browser && w->signed_in)
        store_session_delete(w->store, w->session_hash);
    char token[SESSION_TOKEN_LEN + 1], hash[65];
    if (session_create(w->store, &copy, token, hash) != 0)
        return -1;
    if (browser) {
        web_set_session_cookie(r, token);
        web_bind_session(r, hash);
    } else if (token_out != NULL) {
        memcpy(token_out, token, sizeof token);
    }
    OPENSSL_cleanse(token, sizeof token);
    return 0;
}

void
web_signin_event_count(struct req *r, const char *method, const char *result)
{
    metrics_signin(method, result);
    struct metrics *m = &web_of(r)->app->metrics;
    if (strcmp(result, "success") == 0)
        atomic_fetch_add(&m->login_success, 1);
    else if (strcmp(result, "locked") == 0)
        atomic_fetch_add(&m->login_locked, 1);
    else
        atomic_fetch_add(&m->login_failure, 1);
}

int
web_signin_event_store(struct req *r, const char *method, const char *result)
{
    struct web *w = web_of(r);
    return store_signin_event(w->store, w->now, method, result);
}

void
web_signin_event(struct req *r, const char *method, const char *result)
{
    web_signin_event_count(r, method, result);
    if (web_signin_event_store(r, method, result) != 0)
        log_warn("sign-in event not recorded");
}
