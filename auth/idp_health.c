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

struct scan {
    struct idp_health *h;
    int want_accepted;
};

static void
take_event(struct idp_health_event *e, const struct saml_log_row *row)
{
    e->at = row->at;
    e->log_id = row->id;
    snprintf(e->reason, sizeof e->reason, "%s", row->reason);
    snprintf(e->detail, sizeof e->detail, "%s", row->detail);
}

static int
scan_row(const struct saml_log_row *row, void *ctx)
{
    struct scan *sc = ctx;
    int accepted = strcmp(row->verdict, "accepted") == 0;
    if (sc->want_accepted && !accepted)
        return 0;
    take_event(accepted ? &sc->h->last_accepted : &sc->h->last_refused, row);
    return 1; /* newest first: the first one found is the last one */
}

int
idp_health_get(struct store *s, const struct idp_row *row, time_t now, struct idp_health *out)
{
    memset(out, 0, sizeof *out);
    idp_health_cert_expiry(row->certs, &out->n_certs, &out->cert_first_expiry,
                           &out->cert_last_expiry);
    out->cert_warning =
        out->n_certs > 0 && out->cert_first_expiry - now <= (time_t)IDP_HEALTH_WARN_DAYS * 86400;
    struct scan refused = {out, 0}, accepted = {out, 1};
    if (store_saml_log_list(s, 1, row->entity_id, NULL, 1, scan_row, &refused) != 0 ||
        store_saml_log_list(s, 0, row->entity_id, NULL, IDP_HEALTH_SCAN_ROWS, scan_row,
                            &accepted) != 0)
        return -1;
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
    return json_pack("{s:o, s:o, s:{s:i, s:s, s:s, s:I, s:b}}", "last_accepted",
                     event_json(&h->last_accepted), "last_refused", event_json(&h->last_refused),
                     "certificates", "count", h->n_certs, "first_expiry", first, "last_expiry",
                     last, "seconds_to_first_expiry",
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
