/* auth/idp_source.c: metadata by URL — fetch, check, register or refresh, schedule. */
#include "idp_source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "authz.h"
#include "clock.h"
#include "fetch.h"
#include "idp.h"
#include "log.h"
#include "sp/sp.h"
#include "store.h"

time_t
idp_source_next(time_t now, long cache_seconds, time_t valid_until, int failures)
{
    long wait = IDP_REFRESH_DEFAULT_SECONDS;
    if (failures > 0) {
        wait = IDP_REFRESH_MIN_SECONDS;
        for (int i = 1; i < failures && wait < IDP_REFRESH_DEFAULT_SECONDS; i++)
            wait *= 2;
        if (wait > IDP_REFRESH_DEFAULT_SECONDS)
            wait = IDP_REFRESH_DEFAULT_SECONDS;
        return now + wait;
    }
    if (cache_seconds >= 0 && cache_seconds < wait)
        wait = cache_seconds;
    /* SAML metadata 2.3: fetch again well before the copy we hold stops being valid. */
    if (valid_until > now && (valid_until - now) / 2 < wait)
        wait = (long)((valid_until - now) / 2);
    if (wait < IDP_REFRESH_MIN_SECONDS)
        wait = IDP_REFRESH_MIN_SECONDS;
    return now + wait;
}

/* Fetches and checks the metadata of entity_id (NULL: the only IdP in it): TLS, signature,
 * validUntil. Fills m (the caller frees it) and returns 0, or -1 with msg. */
static int
fetch_checked(const char *ca_file, const char *url, const char *signer_cert, const char *entity_id,
              struct sp_idp_meta *m, char *msg, size_t msglen)
{
    memset(m, 0, sizeof *m);
    size_t len = 0;
    char *xml = fetch_url(url, ca_file, SP_METADATA_MAX_BYTES, IDP_FETCH_TIMEOUT_SECONDS, &len, msg,
                          msglen);
    if (xml == NULL)
        return -1;
    int rc = -1;
    if (signer_cert != NULL && signer_cert[0] != '\0' &&
        sp_metadata_verify(xml, len, signer_cert, msg, msglen) != 0)
        goto out;
    if (sp_idp_parse(xml, len, entity_id, m, msg, msglen) != 0)
        goto out;
    if (m->valid_until != 0 && m->valid_until <= clock_now()) {
        char when[32];
        clock_iso(m->valid_until, when, sizeof when);
        snprintf(msg, msglen, "the metadata at %.300s expired at %s (validUntil)", url, when);
        sp_idp_meta_free(m);
        goto out;
    }
    rc = 0;
out:
    free(xml);
    return rc;
}

static int
url_allowed(const char *url, const char *signer_cert, char *msg, size_t msglen)
{
    if (!sp_url_is_endpoint(url)) {
        snprintf(msg, msglen,
                 "the metadata URL must be an absolute http:// or https:// URL without spaces or "
                 "control characters");
        return 0;
    }
    if (strncmp(url, "http://", 7) == 0 && (signer_cert == NULL || signer_cert[0] == '\0')) {
        snprintf(msg, msglen,
                 "metadata from an http:// URL must be signed: give its signing certificate "
                 "(--metadata-cert), or use https://");
        return 0;
    }
    return 1;
}

enum account_rc
idp_add_from_url(struct store *s, const struct actor *who, const char *ca_file, const char *url,
                 const char *signer_cert, const struct idp_options *o, char *entity_out,
                 size_t entity_len, char *msg, size_t msglen)
{
    const char *why = NULL;
    if (!authz_allowed(who, AZ_IDP_TRUST, NULL, &why)) {
        snprintf(msg, msglen, "%s", why);
        return ACCOUNT_FORBIDDEN;
    }
    if (!url_allowed(url, signer_cert, msg, msglen))
        return ACCOUNT_REFUSED;
    if (signer_cert != NULL && strlen(signer_cert) >= sizeof((struct idp_source *)0)->signer_cert) {
        snprintf(msg, msglen, "the metadata signing certificate is too large");
        return ACCOUNT_REFUSED;
    }
    struct sp_idp_meta m;
    if (fetch_checked(ca_file, url, signer_cert, o->entity_id, &m, msg, msglen) != 0)
        return ACCOUNT_REFUSED;
    struct idp_options only = *o;
    only.entity_id = NULL; /* m.xml is that one IdP's EntityDescriptor */
    enum account_rc rc =
        idp_add(s, who, m.xml, strlen(m.xml), &only, entity_out, entity_len, msg, msglen);
    if (rc == ACCOUNT_OK) {
        struct idp_source src;
        memset(&src, 0, sizeof src);
        snprintf(src.entity_id, sizeof src.entity_id, "%s", entity_out);
        snprintf(src.url, sizeof src.url, "%s", url);
        snprintf(src.signer_cert, sizeof src.signer_cert, "%s", signer_cert ? signer_cert : "");
        src.last_ok = src.last_try = clock_now();
        src.next_at = idp_source_next(src.last_ok, m.cache_seconds, m.valid_until, 0);
        if (store_idp_source_put(s, &src) != 0) {
            char ignored[256];
            idp_remove(s, who, entity_out, ignored, sizeof ignored);
            rc = ACCOUNT_ERROR;
        }
    }
    sp_idp_meta_free(&m);
    return rc;
}

enum account_rc
idp_metadata_apply(struct store *s, const struct actor *who, const char *entity_id, const char *xml,
                   char *msg, size_t msglen)
{
    char *stored = NULL;
    int same = idp_metadata(s, entity_id, &stored) == 0 && strcmp(stored, xml) == 0;
    free(stored);
    if (same) {
        snprintf(msg, msglen, "unchanged");
        return ACCOUNT_OK;
    }
    struct idp_options o;
    memset(&o, 0, sizeof o);
    o.idp_initiated = o.allow_sha1 = -1;
    o.metadata = xml;
    o.metadata_len = strlen(xml);
    enum account_rc rc = idp_set(s, who, entity_id, &o, msg, msglen);
    if (rc == ACCOUNT_OK && (msg[0] == '\0' || strncmp(msg, "note:", 5) != 0))
        snprintf(msg, msglen, "updated from its metadata URL");
    return rc;
}

enum account_rc
idp_refresh(struct store *s, const struct actor *who, const char *ca_file, const char *entity_id,
            char *msg, size_t msglen)
{
    const char *why = NULL;
    if (!authz_allowed(who, AZ_IDP_TRUST, NULL, &why)) {
        snprintf(msg, msglen, "%s", why);
        return ACCOUNT_FORBIDDEN;
    }
    struct idp_source src;
    int g = store_idp_source_get(s, entity_id, &src);
    if (g != 0) {
        if (g == 1)
            snprintf(msg, msglen, "the IdP %.200s is not registered from a metadata URL",
                     entity_id);
        return g == 1 ? ACCOUNT_REFUSED : ACCOUNT_ERROR;
    }
    struct sp_idp_meta m;
    time_t now = clock_now();
    src.last_try = now;
    enum account_rc rc = ACCOUNT_REFUSED;
    if (fetch_checked(ca_file, src.url, src.signer_cert, entity_id, &m, msg, msglen) == 0) {
        rc = idp_metadata_apply(s, who, entity_id, m.xml, msg, msglen);
        if (rc == ACCOUNT_OK) {
            src.last_ok = now;
            src.failures = 0;
            src.last_error[0] = '\0';
            src.next_at = idp_source_next(now, m.cache_seconds, m.valid_until, 0);
        }
        sp_idp_meta_free(&m);
    }
    if (rc != ACCOUNT_OK) {
        src.failures++;
        snprintf(src.last_error, sizeof src.last_error, "%s",
                 rc == ACCOUNT_ERROR ? "the store could not take the new metadata" : msg);
        src.next_at = idp_source_next(now, -1, 0, src.failures);
        log_warn("metadata refresh failed idp=%s failures=%d: %s", entity_id, src.failures,
                 src.last_error);
    }
    if (store_idp_source_result(s, &src, rc == ACCOUNT_OK) < 0)
        return ACCOUNT_ERROR;
    return rc;
}

struct due_ctx {
    struct store *s;
    const char *ca_file;
    int n;
};

static int
refresh_one(const char *entity_id, void *ctx)
{
    struct due_ctx *d = ctx;
    struct actor sys = {"system:metadata-refresh", "system", "", 0};
    char msg[1024] = "";
    enum account_rc rc = idp_refresh(d->s, &sys, d->ca_file, entity_id, msg, sizeof msg);
    if (rc == ACCOUNT_OK && strcmp(msg, "unchanged") != 0)
        log_info("metadata refreshed idp=%s: %s", entity_id, msg);
    d->n++;
    return 0;
}

int
idp_refresh_due(struct store *s, const char *ca_file)
{
    struct due_ctx d = {s, ca_file, 0};
    store_idp_sources_due(s, clock_now(), 16, refresh_one, &d);
    return d.n;
}
