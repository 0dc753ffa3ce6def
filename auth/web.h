/* auth/web.h: what every route shares: the per-request state (store, policy, session, user,
 * CSRF token), the middleware that fills it and enforces CSRF and forced password changes, and
 * the page / JSON / error responses. */
#ifndef GH_AUTH_WEB_H
#define GH_AUTH_WEB_H

#include <time.h>

#include "policy/settings.h"
#include "store.h"

struct json_t; /* jansson's; only the .c files that build JSON include it */

struct app;
struct req;
struct route;
struct tmpl_ctx;

struct web {
    struct app *app;
    /* The reloadable configuration for the whole request (held until it completes; NULL on a
     * static file): read the keys a SIGHUP reloads from here, the others from app->conf. */
    struct app_live *live;
    struct store *store;
    struct policy policy;
    long long idps_version; /* of the IdP registry, read with the policy (-1: unknown) */
    time_t now;
    int signed_in; /* a live session was presented */
    struct session_row session;
    struct user user;      /* when signed_in */
    char session_hash[65]; /* when signed_in */
    char visitor[33];      /* CSRF visitor value */
    int visitor_new;       /* visitor was made for this request: the page sets its cookie */
    char csrf_token[65];   /* "" until web_ctx makes it for w->csrf_session */
    char csrf_session[65]; /* the session the form token is bound to ("" = none) */
    int api;               /* path under /api/ : JSON errors */
    unsigned perms;        /* what the user's role holds (auth/authz.h), once perms_known */
    int perms_known;       /* perms was read (web_perms) */
};

/* What sign-ins answer (503, with Retry-After) while the store cannot write. */
#define STORE_FULL_MESSAGE                                                                         \
    "Sign-in is unavailable: the server cannot save anything right now (its storage is full or "   \
    "failing). Nothing was changed. Try again in a minute."
#define STORE_RETRY_AFTER "30"

/* The state of r (set by web_before). */
struct web *web_of(struct req *r);

/* http_hooks.before and .error for the server. */
int web_before(struct req *r, const struct route *route);
void web_error(struct req *r, int status, const char *message);
/* http_hooks.admit: refused SAML responses are rate-limited per client address (429 with
 * Retry-After before any work). */
int web_admit(struct req *r, const struct route *route);
/* The ACS accepted the response: the token web_admit took is given back. */
void web_admit_refund(struct req *r);

/* What the signed-in user's role holds (auth/authz.h; 0 when not signed in), read on first
 * use from the roles as of the store's current version. */
unsigned web_perms(struct req *r);
/* The signed-in user as the actor of an admin operation ("user:EMAIL", role, permissions). */
struct actor;
struct actor web_actor(struct req *r);

/* A new template context pre-filled with the layout's common values. */
struct tmpl_ctx *web_ctx(struct req *r);
/* Renders template `name` inside layout.html with title and answers with status. */
int web_page(struct req *r, int status, const char *name, const char *title, struct tmpl_ctx *ctx);
/* Answers with JSON (steals obj). */
int web_json(struct req *r, int status, struct json_t *obj);
/* {"error": code, "message": message} */
int web_json_error(struct req *r, int status, const char *code, const char *message);

/* Whether target may be redirected to (app_safe_redirect): a same-origin path, or an absolute
 * URL on the cookie domain. The one check for return_to, rd and RelayState. */
int web_safe_redirect(struct req *r, const char *target);

/* return_to (or rd, for forward-auth) from the form or the query when web_safe_redirect allows
 * it, else "/". */
const char *web_return_to(struct req *r);

/* Sets the session cookie for token (a browser session). */
int web_set_session_cookie(struct req *r, const char *token);
/* Deletes the session cookie (with the same Domain: [server] cookie_domain). */
int web_clear_session_cookie(struct req *r);

/* Starts the session n describes: the one way every flow (password, second factor, password
 * change, SSO, API client) begins a session. n->client_addr defaults to r's client. A browser
 * session (SESSION_WEB) ends the session presented with the request (a token planted before
 * sign-in is worthless after it), sets the cookie and rebinds the CSRF token to the new
 * session; a client session's token goes to token_out (SESSION_TOKEN_LEN + 1 bytes; NULL for
 * browser sessions). Runs inside the caller's write transaction, if any. 0 or -1. */
struct session_new;
int web_start_session(struct req *r, const struct session_new *n, char *token_out);

/* Counts a sign-in attempt (method "password" or "sso"; result "success", "failure" or
 * "locked") in /metrics and in the store for the admin dashboard. */
void web_signin_event(struct req *r, const char *method, const char *result);
/* The same in two halves, for a sign-in that writes its event inside its own transaction:
 * the store row (0 or -1), then, once committed, the count in /metrics. */
int web_signin_event_store(struct req *r, const char *method, const char *result);
void web_signin_event_count(struct req *r, const char *method, const char *result);

/* Renames the CSRF binding to a new session after sign-in (the next page gets a new token). */
void web_bind_session(struct req *r, const char *session_hash);

#endif
