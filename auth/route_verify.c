/* auth/route_verify.c: GET/HEAD /auth/verify, the forward-auth decision a reverse proxy asks
 * for each request (nginx auth_request, Caddy forward_auth, Traefik forwardAuth). The original
 * request comes from X-Original-URL/-Method (nginx) or, from [server] trusted_proxies only,
 * X-Forwarded-Proto/-Host/-Uri/-Method (Caddy, Traefik); auth/access.c decides. The session was
 * loaded (and its idle timer refreshed) by web_before, from the cookie or a Bearer token. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "access.h"
#include "app.h"
#include "arena.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "str.h"
#include "web.h"

/* The original request, as the proxy reports it. */
struct original {
    const char *url; /* absolute */
    const char *method;
    int nginx; /* X-Original-URL: nginx wants 401 + Location, not a redirect */
    struct str_url u;
    char path[ACCESS_PATH_MAX];
};

static int
read_original(struct req *r, struct original *o)
{
    const char *url = req_header(r, "X-Original-URL");
    const char *method = req_header(r, "X-Original-Method");
    o->nginx = url != NULL;
    if (url == NULL && req_peer_trusted(r)) {
        const char *proto = req_header(r, "X-Forwarded-Proto");
        const char *host = req_header(r, "X-Forwarded-Host");
        const char *uri = req_header(r, "X-Forwarded-Uri");
        method = req_header(r, "X-Forwarded-Method");
        if (host != NULL && (proto == NULL || !strcmp(proto, "http") || !strcmp(proto, "https")))
            url = arena_printf(req_arena(r), "%s://%s%s", proto ? proto : "https", host,
                               uri && uri[0] == '/' ? uri : "/");
    }
    o->url = url;
    o->method = method && method[0] ? method : "GET";
    if (url == NULL || str_url_split(url, &o->u) != 0)
        return -1;
    return access_path_normalize(o->u.rest[0] == '/' ? o->u.rest : "/", o->path, sizeof o->path);
}

/* APIs are not redirected: a client that asked for JSON or sent X-Requested-With gets 401. */
static int
wants_api_answer(struct req *r)
{
    const char *accept = req_header(r, "Accept");
    return req_header(r, "X-Requested-With") != NULL ||
           (accept != NULL && strcasestr(accept, "application/json") != NULL &&
            strcasestr(accept, "text/html") == NULL);
}

static int
sign_in(struct req *r, const struct original *o)
{
    struct web *w = web_of(r);
    if (wants_api_answer(r)) {
        req_add_header(r, "WWW-Authenticate", "Bearer");
        return web_json_error(r, 401, "unauthenticated", "Sign in first.");
    }
    /* rd only where the sign-in may send the person back; else the sign-in ends at "/". */
    const char *login = web_safe_redirect(r, o->url)
                            ? arena_printf(req_arena(r), "%s/login?rd=%s", w->app->conf.base_url,
                                           str_url_encode(req_arena(r), o->url))
                            : arena_printf(req_arena(r), "%s/login", w->app->conf.base_url);
    if (login == NULL)
        return -1;
    if (o->nginx) {
        /* nginx's auth_request passes only 401 and 403 on: error_page 401 uses the Location. */
        req_add_header(r, "Location", login);
        return web_json_error(r, 401, "unauthenticated", "Sign in first.");
    }
    int get = !strcmp(o->method, "GET") || !strcmp(o->method, "HEAD");
    return req_redirect(r, get ? 302 : 303, login);
}

/* 200, with the person's identity in the configured headers when signed in (on a bypass path
 * too); none without a session. */
static int
allow(struct req *r)
{
    struct web *w = web_of(r);
    const struct conf *c = &w->live->conf;
    if (w->signed_in && !w->session.restricted) {
        char *groups = arena_strdup(req_arena(r), w->user.role);
        if (w->session.groups[0] != '\0')
            groups = arena_printf(req_arena(r), "%s,%s", w->user.role, w->session.groups);
        for (char *p = groups; p && *p; p++)
            if (*p == '\n')
                *p = ',';
        req_add_header(r, c->header_user, w->user.email);
        req_add_header(r, c->header_email, w->user.email);
        req_add_header(r, c->header_name, w->user.display_name);
        req_add_header(r, c->header_groups, groups ? groups : w->user.role);
        req_add_header(r, c->header_role, w->user.role);
        req_add_header(r, c->header_auth_method, w->user.auth_method);
    }
    /* Only the proxy reads a 200 (nginx's auth_request, Caddy's and Traefik's forward auth pass
     * the request on and copy the named headers); 302, 401 and 403 may reach a browser. */
    req_for_machine(r);
    return req_respond(r, 200, "text/plain; charset=utf-8", "", 0);
}

int
route_auth_verify(struct req *r)
{
    struct web *w = web_of(r);
    struct original *o = arena_alloc(req_arena(r), sizeof *o);
    if (o == NULL)
        return -1;
    if (read_original(r, o) != 0) {
        metrics_verify(METRICS_VERIFY_ERROR);
        log_warn("verify without a usable original URL client=%s: send X-Original-URL (nginx), "
                 "or X-Forwarded-Host/-Uri from an address in [server] trusted_proxies",
                 req_client(r));
        web_json_error(r, 400, "bad_request",
                       "The original request is not known: the proxy must send X-Original-URL, "
                       "or X-Forwarded-Proto/-Host/-Uri from a trusted proxy.");
        return 0;
    }
    /* A session restricted to a password change is not signed in for applications. */
    int signed_in = w->signed_in && !w->session.restricted;
    struct access_subject s = {signed_in, w->user.role, w->session.groups, w->session.idp,
                               w->session.mfa};
    struct access_decision d;
    access_decide(w->live->rules, o->u.host, o->path, &s, &d);
    /* The hottest path: nothing is escaped for a line that is not written. */
    if (log_enabled(LOG_LEVEL_DEBUG))
        log_debug("verify host=%s path=%s user_id=%lld verdict=%d why=\"%s\"", o->u.host,
                  str_log_escape(req_arena(r), o->path, 200), signed_in ? w->user.id : 0,
                  (int)d.verdict, str_log_escape(req_arena(r), d.why, 400));
    switch (d.verdict) {
    case ACCESS_ALLOW:
        metrics_verify(d.bypass ? METRICS_VERIFY_BYPASS : METRICS_VERIFY_ALLOWED);
        return allow(r);
    case ACCESS_SIGN_IN:
        metrics_verify(METRICS_VERIFY_UNAUTHENTICATED);
        return sign_in(r, o);
    case ACCESS_FORBID:
        metrics_verify(METRICS_VERIFY_FORBIDDEN);
        break;
    }
    if (wants_api_answer(r))
        return web_json_error(r, 403, "forbidden", "You may not use this address.");
    web_error(r, 403, "You are signed in, but you may not use this address.");
    return 0;
}
