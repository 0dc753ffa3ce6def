#include "idp_health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "clock.h"
#include "metrics.h"
#include "store.h"

int
idp_health_cert_expiry(const char *certs, int *n, time_t *first, time_t *last)
{
    *n = 0;
    *first = *last = 0;
    /* idp.c writes one "SHA256 <hex> (until 2027-01-01T00:00:00Z)" per certificate. */
    for (const char *p = certs; (p = strstr(p, "(until ")) != NULL;) {
        p += strlen("(until ");
        char iso[32];
        size_t k = strcspn(p, ")\n");
        time_t t;
        if (k == 0 || k >= sizeof iso)
            continue;
        memcpy(iso, p, k);
        iso[k] = '\0';
        if (clock_parse_iso(iso, &t) != 0)
            continue;
        if (*n == 0 || t < *first)
            *first = t;
        if (*n == 0 || t > *last)
            *last = t;
        ++*n;
    }
    return 0;
}

static void
take_event(struct idp_health_event *e, const struct saml_log_row *row)
{
    e->at = row->at;
    e->log_id = row->id;
    snprintf(e->reason, sizeof e->reason, "%s", row->reason);
    snprintf(e->detail, sizeof e->detail, "%s", row->detail);
}

static int
cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

void
idp_health_skew_summary(long long *v, int n, long long *median, long long *max)
{
    *median = *max = 0;
    if (n <= 0)
        return;
    for (int i = 0; i < n; i++)
        if (llabs(v[i]) > llabs(*max))
            *max = v[i];
    qsort(v, (size_t)n, sizeof v[0], cmp_ll);
    *median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
idp_health_get(struct store *s, const struct idp_row *row, time_t now, struct idp_health *out)
{
    memset(out, 0, sizeof *out);
    idp_health_cert_expiry(row->certs, &out->n_certs, &out->cert_first_expiry,
                           &out->cert_last_expiry);
    out->cert_warning =
        out->n_certs > 0 && out->cert_first_expiry - now <= (time_t)IDP_HEALTH_WARN_DAYS * 86400;
    struct saml_log_row last;
    for (int accepted = 0; accepted <= 1; accepted++) {
        int rc = store_saml_log_last(s, row->entity_id, accepted, &last);
        if (rc < 0)
            return -1;
        if (rc == 0)
            take_event(accepted ? &out->last_accepted : &out->last_refused, &last);
    }
    long long skews[IDP_HEALTH_SKEW_ROWS];
    if (store_saml_log_skews(s, row->entity_id, IDP_HEALTH_SKEW_ROWS, skews, &out->skew_n) != 0)
        return -1;
    if (out->skew_n > 0)
        out->skew_last = skews[0];
    idp_health_skew_summary(skews, out->skew_n, &out->skew_median, &out->skew_max);
    return 0;
}

static json_t *
event_json(const struct idp_health_event *e)
{
    char at[32], ref[32];
    if (e->at == 0)
        return json_null();
    snprintf(ref, sizeof ref, "SAML-%lld", e->log_id);
    return json_pack("{s:s, s:s, s:I, s:s, s:s}", "at", clock_iso(e->at, at, sizeof at), "ref", ref,
                     "log_id", (json_int_t)e->log_id, "reason", e->reason, "detail", e->detail);
}

json_t *
idp_health_json(const struct idp_health *h, time_t now)
{
    char first[32] = "", last[32] = "";
    if (h->n_certs > 0) {
        clock_iso(h->cert_first_expiry, first, sizeof first);
        clock_iso(h->cert_last_expiry, last, sizeof last);
    }
    json_t *skew = h->skew_n == 0 ? json_null()
                                  : json_pack("{s:i, s:I, s:I, s:I}", "responses", h->skew_n,
                                              "median_seconds", (json_int_t)h->skew_median,
                                              "max_seconds", (json_int_t)h->skew_max,
                                              "last_seconds", (json_int_t)h->skew_last);
    return json_pack("{s:o, s:o, s:o, s:{s:i, s:s, s:s, s:I, s:b}}", "last_accepted",
                     event_json(&h->last_accepted), "last_refused", event_json(&h->last_refused),
                     "clock_skew", skew, "certificates", "count", h->n_certs, "first_expiry", first,
                     "last_expiry", last, "seconds_to_first_expiry",
                     (json_int_t)(h->n_certs ? h->cert_first_expiry - now : 0), "expiry_warning",
                     h->cert_warning);
}

struct expiring {
    time_t now;
    int max, n;
    void (*cb)(const struct idp_row *, time_t, void *);
    void *ctx;
};

static int
expiring_one(const struct idp_row *row, void *ctx)
{
    struct expiring *e = ctx;
    int n;
    time_t first, last;
    idp_health_cert_expiry(row->certs, &n, &first, &last);
    if (n == 0 || first - e->now > (time_t)IDP_HEALTH_WARN_DAYS * 86400)
        return 0;
    if (e->n++ < e->max && e->cb != NULL)
        e->cb(row, first, e->ctx);
    return 0;
}

int
idp_health_expiring(struct store *s, time_t now, int max,
                    void (*cb)(const struct idp_row *row, time_t expiry, void *ctx), void *ctx,
                    int *n_out)
{
    struct expiring e = {now, max, 0, cb, ctx};
    int rc = store_idp_list(s, expiring_one, &e);
    *n_out = e.n;
    return rc;
}

struct cert_rows {
    struct arena *ar;
    time_t now;
    struct metrics_idp_cert *rows;
    size_t n, cap;
    long long expiring;
    int failed;
};

static int
cert_row(const struct idp_row *row, void *ctx)
{
    struct cert_rows *c = ctx;
    int n;
    time_t first, last;
    idp_health_cert_expiry(row->certs, &n, &first, &last);
    if (n == 0)
        return 0;
    if (first - c->now <= (time_t)IDP_HEALTH_WARN_DAYS * 86400)
        c->expiring++;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct metrics_idp_cert *more = realloc(c->rows, cap * sizeof *more);
        if (more == NULL) {
            c->failed = 1;
            return 1;
        }
        c->rows = more;
        c->cap = cap;
    }
    const char *idp = arena_strdup(c->ar, row->entity_id);
    if (idp == NULL) {
        c->failed = 1;
        return 1;
    }
    c->rows[c->n++] = (struct metrics_idp_cert){idp, (long long)(first - c->now)};
    return 0;
}

int
idp_health_metrics(struct store *s, time_t now, struct buf *b)
{
    struct cert_rows c = {arena_new(), now, NULL, 0, 0, 0, 0};
    int rc = -1;
    if (c.ar != NULL && store_idp_list(s, cert_row, &c) == 0 && !c.failed) {
        metrics_print_idp_certs(b, c.rows, c.n, c.expiring, IDP_HEALTH_WARN_DAYS);
        rc = 0;
    }
    free(c.rows);
    arena_free(c.ar);
    return rc;
}
