/* auth/http.h: the HTTP server on libmicrohttpd (the only file that includes microhttpd.h).
 * A route table, bounded request bodies (413), urlencoded forms, cookies, security headers on
 * every response, an access log line per request, graceful shutdown.
 * struct req lives from the first byte of a request to request_completed; it owns an arena. */
#ifndef GH_AUTH_HTTP_H
#define GH_AUTH_HTTP_H

#include <stddef.h>

struct arena;
struct conf;
struct req;
struct http_server;

enum route_flags {
    ROUTE_FORM = 1u << 0,      /* the body is application/x-www-form-urlencoded (400 otherwise) */
    ROUTE_JSON = 1u << 1,      /* the body is application/json (415 otherwise) */
    ROUTE_PREFIX = 1u << 2,    /* path matches as a prefix ("/admin/") */
    ROUTE_STATIC = 1u << 3,    /* cacheable (no Cache-Control: no-store) */
    ROUTE_BLOCKING = 1u << 4,  /* runs on the hashing pool (argon2), not an epoll thread */
    ROUTE_NO_CSRF = 1u << 5,   /* a cross-site POST by design (the SAML ACS): no CSRF token */
    ROUTE_MULTIPART = 1u << 6, /* with ROUTE_FORM: multipart/form-data too (a file upload) */
    ROUTE_SIGNIN = 1u << 7,    /* a sign-in: fails closed (503) while the store cannot write */
    ROUTE_SAML = 1u << 8,      /* runs on the SAML worker pool (the ACS), apart from hashing */
};

struct route {
    const char *method; /* "GET", "POST" */
    const char *path;
    int (*handler)(struct req *r);
    unsigned flags;
    size_t max_body; /* 0 = the server default */
};

struct http_hooks {
    void *ctx; /* handed back by req_ctx() */
    /* Runs before each handler; returns 0 to go on, non-zero when it has answered itself. */
    int (*before)(struct req *r, const struct route *route);
    /* Answers with an error page or JSON error for status and a human message. */
    void (*error)(struct req *r, int status, const char *message);
    /* Runs on the connection's thread before a pooled route is queued (ROUTE_BLOCKING,
     * ROUTE_SAML): 0 to go on, non-zero when it has answered itself (e.g. 429). */
    int (*admit)(struct req *r, const struct route *route);
};

/* Starts listening on conf's address with a thread pool (epoll). NULL with a message. */
struct http_server *http_start(const struct conf *conf, const struct route *routes, size_t n_routes,
                               const struct http_hooks *hooks, char *err, size_t errlen);
/* Stops accepting, lets in-flight requests finish (up to a few seconds), then stops. */
void http_stop(struct http_server *s);
/* Puts a reloaded configuration's access_log, max_body_bytes and trusted_proxies in force
 * (requests that started before keep what they began with). */
void http_apply_conf(struct http_server *s, const struct conf *conf);
/* Re-reads the TLS certificate and key (SIGHUP); new connections get the new pair, open ones
 * keep theirs. 0 (also without TLS), or -1 with a message: the pair in use stays. */
int http_reload_tls(struct http_server *s, char *err, size_t errlen);

/* Request data: borrowed, valid until the request completes. */
const char *req_method(const struct req *r);
const char *req_path(const struct req *r);
const char *req_query(struct req *r, const char *name);
/* The query string as received (undecoded, without '?'); "" when none. */
const char *req_raw_query(const struct req *r);
const char *req_form(struct req *r, const char *name); /* NULL when absent */
const char *req_cookie(struct req *r, const char *name);
const char *req_header(struct req *r, const char *name);
const char *req_body(const struct req *r, size_t *len);
const char *req_client(const struct req *r); /* client address (proxy-aware) */
struct arena *req_arena(struct req *r);
void *req_ctx(const struct req *r);
/* A slot for the auth layer's per-request state. */
void *req_state(const struct req *r);
void req_set_state(struct req *r, void *state);
/* Whether the connection's peer is one of [server] trusted_proxies (its X-Forwarded-* headers
 * may be believed). */
int req_peer_trusted(const struct req *r);
/* Whether the connection / public URL is HTTPS (cookies then get Secure). */
int req_secure(const struct req *r);

/* Response. Headers and cookies accumulate until req_respond. */
int req_add_header(struct req *r, const char *name, const char *value);
/* The response is read by a program, never shown by a browser (forward-auth's empty 200 to the
 * proxy, which copies only the identity headers it names): it goes without the browser
 * security headers (CSP, X-Frame-Options, ...), keeping Cache-Control: no-store. */
void req_for_machine(struct req *r);
/* Lets this response's forms submit to (and be redirected to) these space-separated origins
 * besides our own: the CSP form-action of a page whose forms lead to an IdP. */
void req_allow_form_targets(struct req *r, const char *origins);
/* The CSP of a page that posts itself to another site (SAML HTTP-POST binding): its one inline
 * script allowed by hash (base64 SHA-256), its form by origin, and nothing else. */
void req_allow_autopost(struct req *r, const char *script_sha256, const char *form_origin);
/* Set-Cookie with HttpOnly, SameSite=Lax, Path=/, Secure when HTTPS. max_age < 0: a session
 * cookie; 0: delete it. */
int req_set_cookie(struct req *r, const char *name, const char *value, long max_age);
/* The same with "; Domain=domain" when domain is not NULL or "" (one cookie for every host under
 * it). */
int req_set_cookie_domain(struct req *r, const char *name, const char *value, long max_age,
                          const char *domain);
/* Builds the response (the body is copied); it is sent when the handler returns. Only the first
 * call counts. */
int req_respond(struct req *r, int status, const char *content_type, const char *body, size_t len);
/* 303 (or status) to location, which must be a path or our own URL. */
int req_redirect(struct req *r, int status, const char *location);
/* Whether a response has been queued. */
int req_responded(const struct req *r);
int req_status(const struct req *r);

#endif
