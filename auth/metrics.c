#include "metrics.h"

#include <stdatomic.h>

static const char *const verify_names[METRICS_VERIFY_N] = {
    [METRICS_VERIFY_ALLOWED] = "allowed",
    [METRICS_VERIFY_BYPASS] = "bypass",
    [METRICS_VERIFY_UNAUTHENTICATED] = "unauthenticated",
    [METRICS_VERIFY_FORBIDDEN] = "forbidden",
    [METRICS_VERIFY_ERROR] = "error",
};

static const char *const route_names[METRICS_ROUTE_N] = {
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

void
metrics_verify(enum metrics_verify_result r)
{
    if ((unsigned)r < METRICS_VERIFY_N)
        atomic_fetch_add(&verify_count[r], 1);
}

void
metrics_observe(enum metrics_route r, double seconds)
{
    if ((unsigned)r >= METRICS_ROUTE_N || !(seconds >= 0))
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
    for (size_t r = 0; r < METRICS_ROUTE_N; r++) {
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
metrics_print(struct buf *b)
{
    buf_puts(b, "# HELP gatehouse_verify_total Forward-auth decisions (GET /auth/verify) by "
                "result.\n"
                "# TYPE gatehouse_verify_total counter\n");
    for (size_t i = 0; i < METRICS_VERIFY_N; i++)
        buf_printf(b, "gatehouse_verify_total{result=\"%s\"} %lu\n", verify_names[i],
                   atomic_load(&verify_count[i]));
    print_histograms(b);
}
