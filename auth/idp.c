#include "idp.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "log.h"
#include "sp/sp.h"
#include "store.h"
#include "str.h"

#define IDPS_VERSION_KEY "sp.idps_version"

int
idp_domain_normalize(const char *d, char *out, size_t len)
{
    size_t n = strlen(d);
    if (n < 3 || n > 253 || n >= len || d[0] == '.' || d[0] == '-' || d[n - 1] == '.' ||
        strchr(d, '.') == NULL || strstr(d, ".."))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (!isalnum(c) && c != '-' && c != '.')
            return 0;
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return 1;
}

/* Tells every server process that the registry changed. */
static int
bump_version(struct store *s)
{
    char v[32], old[32] = "0";
    if (store_setting_get(s, IDPS_VERSION_KEY, old, sizeof old) < 0)
        return -1;
    /* A counter, not a time: monotonic even for two changes in one second. */
    const char *e;
    long long prev = str_to_num(old, 0, (long long)1 << 62, &e);
    snprintf(v, sizeof v, "%lld", e ? 1 : prev + 1);
    return store_setting_put(s, IDPS_VERSION_KEY, v, clock_now());
}

static void
describe_certs(const struct sp_idp_meta *m, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < m->n_certs && used < len; i++) {
        char until[32];
        clock_iso(m->certs[i].not_after, until, sizeof until);
        used += (size_t)snprintf(out + used, len - used, "%sSHA256 %.95s (until %s)",
                                 i ? "\n" : "", m->certs[i].sha256, until);
    }
}

enum account_rc
idp_add(struct store *s, const struct actor *who, const char *metadata, size_t len,
        const struct idp_options *o, char *entity_out, size_t entity_len, char *msg,
        size_t msglen)
{
    struct sp_idp_meta m;
    char err[1024];
    if (sp_idp_parse(metadata, len, o->entity_id, &m, err, sizeof err) != 0) {
        snprintf(msg, msglen, "%s", err);
        return ACCOUNT_REFUSED;
    }
    enum account_rc rc = ACCOUNT_ERROR;
    const char *role = o->default_role ? o->default_role : "member";
    if (strcmp(role, "member") != 0 && strcmp(role, "admin") != 0) {
        snprintf(msg, msglen, "the default role of an IdP's users must be member or admin");
        rc = ACCOUNT_REFUSED;
        goto out;
    }
    struct idp_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.entity_id, sizeof r.entity_id, "%s", m.entity_id);
    snprintf(r.name, sizeof r.name, "%s", o->name ? o->name : m.entity_id);
    snprintf(r.sso_redirect, sizeof r.sso_redirect, "%s", m.sso_redirect);
    snprintf(r.sso_post, sizeof r.sso_post, "%s", m.sso_post);
    snprintf(r.slo_redirect, sizeof r.slo_redirect, "%s", m.slo_redirect);
    snprintf(r.slo_post, sizeof r.slo_post, "%s", m.slo_post);
    describe_certs(&m, r.certs, sizeof r.certs);
    r.idp_initiated = o->idp_initiated;
    r.allow_sha1 = o->allow_sha1;
    snprintf(r.default_role, sizeof r.default_role, "%s", role);
    r.created_at = clock_now();
    if (store_begin_write(s) != 0)
        goto out;
    int ins = store_idp_insert(s, &r, m.xml);
    if (ins == 1) {
        snprintf(msg, msglen, "the IdP %s is registered already (remove it first to replace it)",
                 m.entity_id);
        rc = ACCOUNT_REFUSED;
        goto rollback;
    }
    if (ins != 0)
        goto rollback;
    char domains[1024] = "";
    size_t used = 0;
    for (size_t i = 0; i < o->n_domains; i++) {
        char d[256];
        if (!idp_domain_normalize(o->domains[i], d, sizeof d)) {
            snprintf(msg, msglen, "\"%.100s\" is not an e-mail domain", o->domains[i]);
            rc = ACCOUNT_REFUSED;
            goto rollback;
        }
        int dr = store_idp_domain_add(s, d, m.entity_id);
        if (dr == 1) {
            char other[512] = "";
            store_idp_for_domain(s, d, other, sizeof other);
            snprintf(msg, msglen, "the domain %s is routed to %s already", d, other);
            rc = ACCOUNT_REFUSED;
            goto rollback;
        }
        if (dr != 0)
            goto rollback;
        if (used < sizeof domains)
            used += (size_t)snprintf(domains + used, sizeof domains - used, "%s%s",
                                     used ? "," : "", d);
    }
    char detail[1400];
    snprintf(detail, sizeof detail, "name=%.200s domains=%.300s idp_initiated=%s sha1=%s role=%s",
             r.name, domains, r.idp_initiated ? "on" : "off", r.allow_sha1 ? "on" : "off", role);
    if (bump_version(s) != 0 || audit_record(s, who, "idp.add", m.entity_id, NULL, detail) != 0 ||
        store_commit(s) != 0)
        goto rollback;
    snprintf(entity_out, entity_len, "%s", m.entity_id);
    if (m.valid_until != 0 && m.valid_until < clock_now()) {
        char until[32];
        snprintf(msg, msglen, "note: the metadata's validUntil (%s) has passed; imported anyway",
                 clock_iso(m.valid_until, until, sizeof until));
    }
    rc = ACCOUNT_OK;
    goto out;
rollback:
    store_rollback(s);
out:
    sp_idp_meta_free(&m);
    return rc;
}

enum account_rc
idp_remove(struct store *s, const struct actor *who, const char *entity_id, char *msg,
           size_t msglen)
{
    struct idp_row r;
    if (store_begin_write(s) != 0)
        return ACCOUNT_ERROR;
    int g = store_idp_get(s, entity_id, &r);
    if (g != 0) {
        store_rollback(s);
        if (g == 1) {
            snprintf(msg, msglen, "no IdP %.200s", entity_id);
            return ACCOUNT_REFUSED;
        }
        return ACCOUNT_ERROR;
    }
    char domains[1024];
    if (store_idp_domains(s, entity_id, domains, sizeof domains) != 0 ||
        store_idp_delete(s, entity_id) != 0 || bump_version(s) != 0 ||
        audit_record(s, who, "idp.remove", entity_id, domains, NULL) != 0 ||
        store_commit(s) != 0) {
        store_rollback(s);
        return ACCOUNT_ERROR;
    }
    return ACCOUNT_OK;
}
