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
    METRICS_ROUTE_LOGIN = 0, /* POST /login and POST /api/login */
    METRICS_ROUTE_ACS,       /* POST /saml/acs */
    METRICS_ROUTE_VERIFY,    /* GET/HEAD /auth/verify */
    METRICS_ROUTE_N
};

/* Records one request of route r that took `seconds`. */
void metrics_observe(enum metrics_route r, double seconds);

/* Appends every counter and histogram of this module to b. */
void metrics_print(struct buf *b);

#endif
