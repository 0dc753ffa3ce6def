/* auth/federation.c: federations' aggregates: fetch, check, sync their IdPs, schedule. */
#include "federation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "authz.h"
#include "clock.h"
#include "fetch.h"
#include "idp.h"
#include "idp_source.h"
#include "log.h"
#include "sp/sp.h"
#include "store.h"

struct sync {
    struct store *s;
    const struct actor *who;
    const char *url;
    char (*members)[1024]; /* this federation's IdPs before the sync, sorted */
    int n_members;
    char *seen; /* members[i] still in the aggregate */
    const struct sp_federation_info *info;
    int expired;
    int added, updated, kept, separate, refused, removed;
    char first_refusal[640];
};

static int
cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int
member_index(const struct sync *y, const char *entity_id)
{
    const char(*hit)[1024] =
        bsearch(entity_id, y->members, (size_t)y->n_members, sizeof y->members[0], cmp_id);
    return hit ? (int)(hit - y->members) : -1;
}

/* The IdP's scopes as domains, less those another IdP routes already. */
static void
free_domains(struct store *s, const struct sp_fed_idp *f, struct idp_options *o)
{
    for (int i = 0; i < f->n_scopes && o->n_domains < IDP_MAX_DOMAINS; i++) {
        char d[256], owner[512];
        if (!idp_domain_normalize(f->scopes[i], d, sizeof d) ||
            store_idp_for_domain(s, d, owner, sizeof owner) != 1)
            continue;
        o->domains[o->n_domains++] = f->scopes[i];
    }
    o->set_domains = 1;
}

static int
sync_one(const struct sp_fed_idp *f, void *ctx)
{
    struct sync *y = ctx;
    const char *id = f->meta.entity_id;
    /* The aggregate's validUntil is read before its first IdP: an expired one changes nothing. */
    if (y->info->valid_until != 0 && y->info->valid_until <= clock_now()) {
        y->expired = 1;
        return 1;
    }
    char msg[1024] = "", entity[SP_ENTITY_MAX];
    int i = member_index(y, id);
    if (i >= 0) {
        y->seen[i] = 1;
        enum account_rc rc = idp_metadata_apply(y->s, y->who, id, f->meta.xml, msg, sizeof msg);
        if (rc == ACCOUNT_OK && strcmp(msg, "unchanged") == 0)
            y->kept++;
        else if (rc == ACCOUNT_OK)
            y->updated++;
        else
            y->refused++;
        return 0;
    }
    struct idp_row existing;
    if (store_idp_get(y->s, id, &existing) == 0) {
        y->separate++; /* registered on its own: an owner's settings win over the aggregate */
        return 0;
    }
    struct idp_options o;
    memset(&o, 0, sizeof o);
    o.name = f->display_name[0] ? f->display_name : NULL;
    free_domains(y->s, f, &o);
    enum account_rc rc =
        idp_add_parsed(y->s, y->who, &f->meta, &o, entity, sizeof entity, msg, sizeof msg);
    if (rc == ACCOUNT_OK && store_federation_member_add(y->s, entity, y->url) == 0) {
        y->added++;
    } else {
        if (y->refused++ == 0)
            snprintf(y->first_refusal, sizeof y->first_refusal, "%.200s: %.400s", id, msg);
    }
    return 0;
}

/* Fetches and checks the aggregate; the body (caller frees) or NULL with msg. */
static char *
fetch_aggregate(const char *ca_file, const char *url, const char *cert, size_t *len, char *msg,
                size_t msglen)
{
    char *xml =
        fetch_url(url, ca_file, FEDERATION_MAX_BYTES, FEDERATION_FETCH_SECONDS, len, msg, msglen);
    if (xml != NULL && sp_metadata_verify(xml, *len, cert, msg, msglen) != 0) {
        free(xml);
        return NULL;
    }
    return xml;
}

/* Brings the federation's IdPs in line with the aggregate xml. */
static enum account_rc
sync_all(struct store *s, const struct actor *who, const char *url, const char *xml, size_t len,
         struct sp_federation_info *info, struct sync *y, char *msg, size_t msglen)
{
    memset(y, 0, sizeof *y);
    y->s = s;
    y->who = who;
    y->url = url;
    y->info = info;
    if (store_federation_members(s, url, FEDERATION_MAX_IDPS, &y->members, &y->n_members) != 0)
        return ACCOUNT_ERROR;
    qsort(y->members, (size_t)y->n_members, sizeof y->members[0], cmp_id);
    y->seen = calloc((size_t)y->n_members + 1, 1);
    enum account_rc rc = ACCOUNT_ERROR;
    if (y->seen == NULL)
        goto out;
    if (sp_federation_each(xml, len, sync_one, y, info, msg, msglen) != 0) {
        rc = ACCOUNT_REFUSED;
        goto out;
    }
    if (y->expired || (info->valid_until != 0 && info->valid_until <= clock_now())) {
        snprintf(msg, msglen, "the aggregate at %.300s has expired (validUntil)", url);
        rc = ACCOUNT_REFUSED;
        goto out;
    }
    for (int i = 0; i < y->n_members; i++) {
        char ignored[256];
        if (!y->seen[i] && idp_remove(s, who, y->members[i], ignored, sizeof ignored) == ACCOUNT_OK)
            y->removed++;
    }
    snprintf(msg, msglen,
             "%d IdPs added, %d updated, %d unchanged, %d removed, %d registered separately, %d "
             "refused%s%s",
             y->added, y->updated, y->kept, y->removed, y->separate, y->refused + info->n_skipped,
             y->first_refusal[0] || info->n_skipped ? "; first: " : "",
             y->first_refusal[0] ? y->first_refusal : info->first_skipped);
    rc = ACCOUNT_OK;
out:
    free(y->members);
    free(y->seen);
    return rc;
}

static enum account_rc
may(const struct actor *who, char *msg, size_t msglen)
{
    const char *why = NULL;
    if (authz_allowed(who, AZ_IDP_TRUST, NULL, &why))
        return ACCOUNT_OK;
    snprintf(msg, msglen, "%s", why);
    return ACCOUNT_FORBIDDEN;
}

enum account_rc
federation_add(struct store *s, const struct actor *who, const char *ca_file, const char *url,
               const char *cert_pem, const char *name, char *msg, size_t msglen)
{
    if (may(who, msg, msglen) != ACCOUNT_OK)
        return ACCOUNT_FORBIDDEN;
    if (!sp_url_is_endpoint(url)) {
        snprintf(msg, msglen, "the federation URL must be an absolute http:// or https:// URL");
        return ACCOUNT_REFUSED;
    }
    struct federation_row f;
    memset(&f, 0, sizeof f);
    if (cert_pem == NULL || cert_pem[0] == '\0' || strlen(cert_pem) >= sizeof f.signer_cert) {
        snprintf(msg, msglen, "a federation's aggregate must be signed: give its certificate");
        return ACCOUNT_REFUSED;
    }
    size_t len = 0;
    char *xml = fetch_aggregate(ca_file, url, cert_pem, &len, msg, msglen);
    if (xml == NULL)
        return ACCOUNT_REFUSED;
    struct sp_federation_info info;
    struct sync y;
    snprintf(f.url, sizeof f.url, "%s", url);
    snprintf(f.signer_cert, sizeof f.signer_cert, "%s", cert_pem);
    f.created_at = f.last_ok = f.last_try = clock_now();
    /* Registered first (empty), so that its IdPs can name it; not due before this load has had
     * its time, or a server's refresh schedule would load the same IdPs beside it. */
    f.next_at = f.created_at + FEDERATION_FETCH_SECONDS;
    /* Registered first (empty), so that its IdPs can name it. */
    snprintf(f.name, sizeof f.name, "%s", name && name[0] ? name : url);
    int ins = store_federation_insert(s, &f);
    enum account_rc rc = ACCOUNT_ERROR;
    if (ins == 1) {
        snprintf(msg, msglen, "the federation %.300s is added already", url);
        rc = ACCOUNT_REFUSED;
    } else if (ins == 0) {
        rc = sync_all(s, who, url, xml, len, &info, &y, msg, msglen);
        if (rc != ACCOUNT_OK) {
            store_federation_delete(s, url);
        } else {
            f.n_idps = y.added;
            f.next_at = idp_source_next(f.last_ok, info.cache_seconds, info.valid_until, 0);
            store_federation_result(s, &f, 1);
            audit_record(s, who, "federation.add", url, NULL, msg);
        }
    }
    free(xml);
    return rc;
}

enum account_rc
federation_refresh(struct store *s, const struct actor *who, const char *ca_file, const char *url,
                   char *msg, size_t msglen)
{
    if (may(who, msg, msglen) != ACCOUNT_OK)
        return ACCOUNT_FORBIDDEN;
    struct federation_row *f = malloc(sizeof *f);
    if (f == NULL)
        return ACCOUNT_ERROR;
    enum account_rc rc = ACCOUNT_ERROR;
    int g = store_federation_get(s, url, f);
    if (g != 0) {
        if (g == 1)
            snprintf(msg, msglen, "no federation %.300s", url);
        rc = g == 1 ? ACCOUNT_REFUSED : ACCOUNT_ERROR;
        goto out;
    }
    time_t now = clock_now();
    f->last_try = now;
    size_t len = 0;
    char *xml = fetch_aggregate(ca_file, url, f->signer_cert, &len, msg, msglen);
    struct sp_federation_info info;
    struct sync y;
    rc = xml ? sync_all(s, who, url, xml, len, &info, &y, msg, msglen) : ACCOUNT_REFUSED;
    free(xml);
    if (rc == ACCOUNT_OK) {
        f->last_ok = now;
        f->failures = 0;
        f->last_error[0] = '\0';
        f->n_idps = y.n_members + y.added - y.removed;
        f->next_at = idp_source_next(now, info.cache_seconds, info.valid_until, 0);
        if (y.added || y.updated || y.removed)
            audit_record(s, who, "federation.refresh", url, NULL, msg);
    } else {
        f->failures++;
        snprintf(f->last_error, sizeof f->last_error, "%s", msg);
        f->next_at = idp_source_next(now, -1, 0, f->failures);
        log_warn("federation refresh failed url=%s failures=%d: %s", url, f->failures, msg);
    }
    if (store_federation_result(s, f, rc == ACCOUNT_OK) != 0)
        rc = ACCOUNT_ERROR;
out:
    free(f);
    return rc;
}

enum account_rc
federation_remove(struct store *s, const struct actor *who, const char *url, char *msg,
                  size_t msglen)
{
    if (may(who, msg, msglen) != ACCOUNT_OK)
        return ACCOUNT_FORBIDDEN;
    char(*ids)[1024] = NULL;
    int n = 0;
    if (store_federation_members(s, url, FEDERATION_MAX_IDPS, &ids, &n) != 0) {
        free(ids);
        return ACCOUNT_ERROR;
    }
    int removed = 0;
    for (int i = 0; i < n; i++) {
        char ignored[256];
        if (idp_remove(s, who, ids[i], ignored, sizeof ignored) == ACCOUNT_OK)
            removed++;
    }
    free(ids);
    int d = store_federation_delete(s, url);
    if (d == 1) {
        snprintf(msg, msglen, "no federation %.300s", url);
        return ACCOUNT_REFUSED;
    }
    if (d != 0)
        return ACCOUNT_ERROR;
    snprintf(msg, msglen, "%d IdPs removed", removed);
    audit_record(s, who, "federation.remove", url, NULL, msg);
    return ACCOUNT_OK;
}

struct due {
    struct store *s;
    const char *ca_file;
    int n;
};

static int
refresh_one(const char *url, void *ctx)
{
    struct due *d = ctx;
    struct actor sys = {"system:metadata-refresh", "system", "", 0};
    char msg[1024] = "";
    if (federation_refresh(d->s, &sys, d->ca_file, url, msg, sizeof msg) == ACCOUNT_OK)
        log_info("federation refreshed url=%s: %s", url, msg);
    d->n++;
    return 0;
}

int
federation_refresh_due(struct store *s, const char *ca_file)
{
    struct due d = {s, ca_file, 0};
    store_federations_due(s, clock_now(), 4, refresh_one, &d);
    return d.n;
}
