/* auth/idp_health.h: how each registered IdP is doing, for its admins (the admin IdP page, the
 * admin API, gatehousectl idp show/list --json and /metrics): its last accepted and last
 * refused response (with the SAML log reference), the clock skew of its recent responses, and
 * when its signing certificates expire,
 * with a warning IDP_HEALTH_WARN_DAYS ahead. Read from the store; no clock of its own. */
#ifndef GH_AUTH_IDP_HEALTH_H
#define GH_AUTH_IDP_HEALTH_H

#include <stddef.h>
#include <time.h>

struct json_t; /* jansson's; only the .c files that build JSON include it */
struct buf;
struct store;
struct idp_row;

/* A certificate expiring within this many days warns (admin banner, metric). */
#define IDP_HEALTH_WARN_DAYS 30
/* The clock skew is summed up over the IdP's latest this many verified responses. */
#define IDP_HEALTH_SKEW_ROWS 50

/* One SAML log row of the IdP: when, the log reference (SAML-id), reason and detail. */
struct idp_health_event {
    time_t at; /* 0 = none */
    long long log_id;
    char reason[48];
    char detail[600];
};

struct idp_health {
    struct idp_health_event last_accepted;
    struct idp_health_event last_refused;
    int n_certs;
    time_t cert_first_expiry; /* the earliest not-after of its signing certificates (0: none) */
    time_t cert_last_expiry;  /* the latest: when it has no valid certificate left */
    int cert_warning;         /* a certificate expires within IDP_HEALTH_WARN_DAYS (or has) */
    /* IssueInstant minus our clock at receipt over the latest verified responses (+: the IdP's
     * clock is ahead; a response's trip through the browser makes it a little negative). */
    int skew_n;            /* responses measured (0: none yet) */
    long long skew_median; /* their median */
    long long skew_max;    /* the one farthest from zero */
    long long skew_last;   /* the latest */
};

/* The median and the value farthest from zero of n skews (sorts v). */
void idp_health_skew_summary(long long *v, int n, long long *median, long long *max);

/* Reads the expiries out of an idp_row's certs text ("SHA256 ... (until ISO)" per line): 0 and
 * the count, earliest and latest not-after; 0 with *n 0 when it names none. */
int idp_health_cert_expiry(const char *certs, int *n, time_t *first, time_t *last);

/* The health of IdP row at now into out (indexed reads of the SAML log). 0, or -1 when the
 * store could not be read. */
int idp_health_get(struct store *s, const struct idp_row *row, time_t now, struct idp_health *out);

/* The health as JSON (a new reference; NULL on out of memory), times RFC 3339 ("" = never). */
struct json_t *idp_health_json(const struct idp_health *h, time_t now);

/* Calls cb for each IdP whose signing certificates expire within IDP_HEALTH_WARN_DAYS of now
 * (or have expired), with the earliest such not-after; at most max calls; the count (all of
 * them) into *n_out. 0, or -1 when the store could not be read. */
int idp_health_expiring(struct store *s, time_t now, int max,
                        void (*cb)(const struct idp_row *row, time_t expiry, void *ctx), void *ctx,
                        int *n_out);

/* Appends the certificate-expiry gauges of every IdP to b (metrics_print_idp_certs). 0, or -1
 * when the store could not be read (nothing appended). */
int idp_health_metrics(struct store *s, time_t now, struct buf *b);

#endif
