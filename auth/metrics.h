/* auth/metrics.h: process-wide counters and histograms for GET /metrics (Prometheus text format).
 * Atomics, so any thread counts without a lock (as pwhash.c's argon2 counters); the page is
 * written by metrics_print. Nothing here reads the store: gauges are given by the caller. */
#ifndef GH_AUTH_METRICS_H
#define GH_AUTH_METRICS_H

#include "buf.h"

/* The answer of GET /auth/verify (forward-auth), one counter each. */
enum metrics_verify_result {
    METRICS_VERIFY_ALLOWED = 0,     /* 200: signed in and the rule allows */
    METRICS_VERIFY_BYPASS,          /* 200: a bypass rule, no session needed */
    METRICS_VERIFY_UNAUTHENTICATED, /* 401 or a redirect to the sign-in page */
    METRICS_VERIFY_FORBIDDEN,       /* 403: signed in, refused by a rule */
    METRICS_VERIFY_ERROR,           /* 4xx/5xx: bad request, store unavailable */
    METRICS_VERIFY_N
};

/* Counts one forward-auth decision. */
void metrics_verify(enum metrics_verify_result r);

/* Routes whose latency is measured (a histogram each). */
enum metrics_route {
    METRICS_ROUTE_NONE = 0,
    METRICS_ROUTE_LOGIN,  /* POST /login, POST /login/mfa and POST /api/login */
    METRICS_ROUTE_ACS,    /* POST /saml/acs */
    METRICS_ROUTE_VERIFY, /* GET/HEAD /auth/verify */
    METRICS_ROUTE_N
};

/* The histogram of a route (its method and path as in the route table), or NONE. */
enum metrics_route metrics_route_of(const char *method, const char *path);

/* Records one request of route r that took `seconds` (NONE: nothing). */
void metrics_observe(enum metrics_route r, double seconds);

/* Counts one sign-in attempt: method "password" or "sso", result "success", "failure" or
 * "locked" (others are not counted: labels stay bounded). */
void metrics_signin(const char *method, const char *result);

/* Counts one account locked by failed sign-ins (the failure that locks it). */
void metrics_lockout(void);

/* Counts one refused SAML response: idp is a registered entity ID, or "unknown" for issuers
 * not in the registry (never attacker-chosen text); reason its code ("signature_invalid"). At
 * most METRICS_MAX_REFUSAL_ROWS idp/reason pairs are kept; later ones count under idp="other". */
#define METRICS_MAX_REFUSAL_ROWS 256
void metrics_saml_refusal(const char *idp, const char *reason);

/* What the store says at scrape time. */
struct metrics_gauges {
    int sessions_ok; /* 0: the store could not be read, the gauge is left out */
    long long sessions_web, sessions_client;
};

/* The IdPs' signing certificates, read from the store by the caller at scrape time: per IdP the
 * seconds to its earliest certificate expiry (negative once expired), soonest first; only the
 * first METRICS_MAX_IDP_CERT_ROWS are printed (a federation brings thousands), and the count of
 * IdPs whose earliest expiry is within warn_days. */
#define METRICS_MAX_IDP_CERT_ROWS 256
struct metrics_idp_cert {
    const char *idp; /* a registered entity ID */
    long long seconds;
};
/* Sorts rows (soonest first) and appends the gauges. n_rows 0: the gauge has no samples. */
void metrics_print_idp_certs(struct buf *b, struct metrics_idp_cert *rows, size_t n_rows,
                             long long expiring, int warn_days);

/* Appends every counter and histogram of this module, and the gauges, to b. */
void metrics_print(struct buf *b, const struct metrics_gauges *g);

#endif
