#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const verify_names[METRICS_VERIFY_N] = {
    [METRICS_VERIFY_ALLOWED] = "allowed",
    [METRICS_VERIFY_BYPASS] = "bypass",
    [METRICS_VERIFY_UNAUTHENTICATED] = "unauthenticated",
    [METRICS_VERIFY_FORBIDDEN] = "forbidden",
    [METRICS_VERIFY_ERROR] = "error",
};

static const char *const route_names[METRICS_ROUTE_N] = {
    [METRICS_ROUTE_NONE] = "",
    [METRICS_ROUTE_LOGIN] = "login",
    [METRICS_ROUTE_ACS] = "acs",
    [METRICS_ROUTE_VERIFY] = "verify",
};

/* Upper bounds of the latency buckets, in seconds: forward-auth answers in well under a
 * millisecond, a password sign-in spends ~20-100 ms in argon2, a signed assertion a few ms. */
static const double bucket_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                   0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define N_BUCKETS (sizeof bucket_le / sizeof bucket_le[0])

/* Process-wide, like pwhash.c's counters: atomics, so no lock. */
static _Atomic unsigned long verify_count[METRICS_VERIFY_N];
static _Atomic unsigned long route_bucket[METRICS_ROUTE_N][N_BUCKETS];
static _Atomic unsigned long route_count[METRICS_ROUTE_N];
static _Atomic unsigned long long route_sum_ns[METRICS_ROUTE_N];

static const char *const signin_methods[] = {"password", "sso"};
static const char *const signin_results[] = {"success", "failure", "locked"};
#define N_METHODS (sizeof signin_methods / sizeof signin_methods[0])
#define N_RESULTS (sizeof signin_results / sizeof signin_results[0])
static _Atomic unsigned long signin_count[N_METHODS][N_RESULTS];
static _Atomic unsigned long lockout_count;

/* SAML refusals by IdP and reason: a small table under a lock (refusals are rare). */
struct refusal_row {
    char idp[512];
    const char *reason; /* static: sp_reason_info's code */
    unsigned long n;
};
static pthread_mutex_t refusal_mu = PTHREAD_MUTEX_INITIALIZER;
static struct refusal_row refusals[METRICS_MAX_REFUSAL_ROWS];
static size_t n_refusals;

static int
index_of(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return -1;
}

void
metrics_signin(const char *method, const char *result)
{
    int m = index_of(signin_methods, N_METHODS, method);
    int r = index_of(signin_results, N_RESULTS, result);
    if (m >= 0 && r >= 0)
        atomic_fetch_add(&signin_count[m][r], 1);
}

void
metrics_lockout(void)
{
    atomic_fetch_add(&lockout_count, 1);
}

void
metrics_saml_refusal(const char *idp, const char *reason)
{
    pthread_mutex_lock(&refusal_mu);
    size_t i = 0;
    for (; i < n_refusals; i++)
        if (refusals[i].reason == reason && strcmp(refusals[i].idp, idp) == 0)
            break;
    if (i == n_refusals && n_refusals < METRICS_MAX_REFUSAL_ROWS - 1) {
        snprintf(refusals[i].idp, sizeof refusals[i].idp, "%s", idp);
        refusals[i].reason = reason;
        n_refusals++;
    } else if (i == n_refusals) {
        /* Full: the last row counts everything else. */
        i = METRICS_MAX_REFUSAL_ROWS - 1;
        snprintf(refusals[i].idp, sizeof refusals[i].idp, "other");
        refusals[i].reason = "other";
    }
    refusals[i].n++;
    pthread_mutex_unlock(&refusal_mu);
}

/* A label value in the text format: backslash, double quote and newline escaped. */
static void
put_label(struct buf *b, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == '"')
            buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            buf_puts(b, "\\n");
        else
            buf_append(b, p, 1);
    }
}

static void
print_refusals(struct buf *b)
{
    buf_puts(b, "# HELP gatehouse_saml_refusals_total Refused SAML responses by IdP and reason.\n"
                "# TYPE gatehouse_saml_refusals_total counter\n");
    pthread_mutex_lock(&refusal_mu);
    for (size_t i = 0; i < METRICS_MAX_REFUSAL_ROWS; i++) {
        if (refusals[i].n == 0)
            continue;
        buf_puts(b, "gatehouse_saml_refusals_total{idp=\"");
        put_label(b, refusals[i].idp);
        buf_printf(b, "\",reason=\"%s\"} %lu\n", refusals[i].reason, refusals[i].n);
    }
    pthread_mutex_unlock(&refusal_mu);
}

static void
print_signins(struct buf *b)
{
    buf_puts(b, "# HELP gatehouse_signins_total Sign-in attempts by method and result.\n"
                "# TYPE gatehouse_signins_total counter\n");
    for (size_t m = 0; m < N_METHODS; m++)
        for (size_t r = 0; r < N_RESULTS; r++)
            buf_printf(b, "gatehouse_signins_total{method=\"%s\",result=\"%s\"} %lu\n",
                       signin_methods[m], signin_results[r], atomic_load(&signin_count[m][r]));
    buf_printf(b,
               "# HELP gatehouse_lockouts_total Accounts locked by consecutive failed sign-ins.\n"
               "# TYPE gatehouse_lockouts_total counter\n"
               "gatehouse_lockouts_total %lu\n",
               atomic_load(&lockout_count));
}

void
metrics_verify(enum metrics_verify_result r)
{
    if ((unsigned)r < METRICS_VERIFY_N)
        atomic_fetch_add(&verify_count[r], 1);
}

enum metrics_route
metrics_route_of(const char *method, const char *path)
{
    static const struct {
        const char *method, *path;
        enum metrics_route r;
    } measured[] = {
        {"POST", "/login", METRICS_ROUTE_LOGIN},
        {"POST", "/login/mfa", METRICS_ROUTE_LOGIN},
        {"POST", "/api/login", METRICS_ROUTE_LOGIN},
        {"POST", "/saml/acs", METRICS_ROUTE_ACS},
        {"GET", "/auth/verify", METRICS_ROUTE_VERIFY},
        {"HEAD", "/auth/verify", METRICS_ROUTE_VERIFY},
    };
    for (size_t i = 0; i < sizeof measured / sizeof measured[0]; i++)
        if (strcmp(measured[i].path, path) == 0 && strcmp(measured[i].method, method) == 0)
            return measured[i].r;
    return METRICS_ROUTE_NONE;
}

void
metrics_observe(enum metrics_route r, double seconds)
{
    if (r == METRICS_ROUTE_NONE || (unsigned)r >= METRICS_ROUTE_N || !(seconds >= 0))
        return;
    /* Buckets are not cumulative here; metrics_print adds them up. */
    size_t i = 0;
    while (i < N_BUCKETS && seconds > bucket_le[i])
        i++;
    if (i < N_BUCKETS)
        atomic_fetch_add(&route_bucket[r][i], 1);
    atomic_fetch_add(&route_count[r], 1);
    atomic_fetch_add(&route_sum_ns[r], (unsigned long long)(seconds * 1e9));
}

static void
print_histograms(struct buf *b)
{
    buf_puts(b, "# HELP gatehouse_request_duration_seconds Time to answer, by route.\n"
                "# TYPE gatehouse_request_duration_seconds histogram\n");
    for (size_t r = METRICS_ROUTE_NONE + 1; r < METRICS_ROUTE_N; r++) {
        unsigned long cum = 0;
        for (size_t i = 0; i < N_BUCKETS; i++) {
            cum += atomic_load(&route_bucket[r][i]);
            buf_printf(b, "gatehouse_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lu\n",
                       route_names[r], bucket_le[i], cum);
        }
        unsigned long n = atomic_load(&route_count[r]);
        buf_printf(b,
                   "gatehouse_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lu\n"
                   "gatehouse_request_duration_seconds_sum{route=\"%s\"} %.9f\n"
                   "gatehouse_request_duration_seconds_count{route=\"%s\"} %lu\n",
                   route_names[r], n, route_names[r], (double)atomic_load(&route_sum_ns[r]) / 1e9,
                   route_names[r], n);
    }
}

void
metrics_print(struct buf *b, const struct metrics_gauges *g)
{
    print_signins(b);
    print_refusals(b);
    if (g->sessions_ok)
        buf_printf(b,
                   "# HELP gatehouse_sessions_active Sessions neither idle past the policy nor "
                   "past their lifetime.\n"
                   "# TYPE gatehouse_sessions_active gauge\n"
                   "gatehouse_sessions_active{kind=\"web\"} %lld\n"
                   "gatehouse_sessions_active{kind=\"client\"} %lld\n",
                   g->sessions_web, g->sessions_client);
    buf_puts(b, "# HELP gatehouse_verify_total Forward-auth decisions (GET /auth/verify) by "
                "result.\n"
                "# TYPE gatehouse_verify_total counter\n");
    for (size_t i = 0; i < METRICS_VERIFY_N; i++)
        buf_printf(b, "gatehouse_verify_total{result=\"%s\"} %lu\n", verify_names[i],
                   atomic_load(&verify_count[i]));
    print_histograms(b);
}

static int
cmp_cert(const void *a, const void *b)
{
    const struct metrics_idp_cert *x = a, *y = b;
    if (x->seconds != y->seconds)
        return x->seconds < y->seconds ? -1 : 1;
    return strcmp(x->idp, y->idp);
}

void
metrics_print_idp_certs(struct buf *b, struct metrics_idp_cert *rows, size_t n_rows,
                        long long expiring, int warn_days)
{
    if (n_rows > 0)
        qsort(rows, n_rows, sizeof rows[0], cmp_cert);
    buf_puts(b, "# HELP gatehouse_idp_cert_expiry_seconds Seconds until the IdP's earliest "
                "signing certificate expires (negative: expired); the soonest IdPs only.\n"
                "# TYPE gatehouse_idp_cert_expiry_seconds gauge\n");
    for (size_t i = 0; i < n_rows && i < METRICS_MAX_IDP_CERT_ROWS; i++) {
        buf_puts(b, "gatehouse_idp_cert_expiry_seconds{idp=\"");
        put_label(b, rows[i].idp);
        buf_printf(b, "\"} %lld\n", rows[i].seconds);
    }
    buf_printf(b,
               "# HELP gatehouse_idp_certs_expiring IdPs with a signing certificate that expires "
               "within %d days or has expired.\n"
               "# TYPE gatehouse_idp_certs_expiring gauge\n"
               "gatehouse_idp_certs_expiring %lld\n",
               warn_days, expiring);
}
