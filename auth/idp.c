#include "idp.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "authz.h"
#include "clock.h"
#include "log.h"
#include "roles.h"
#include "sp/sp.h"
#include "store.h"
#include "str.h"

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
    if (store_setting_get(s, IDPS_VERSION, old, sizeof old) < 0)
        return -1;
    /* A counter, not a time: monotonic even for two changes in one second. */
    const char *e;
    long long prev = str_to_num(old, 0, (long long)1 << 62, &e);
    snprintf(v, sizeof v, "%lld", e ? 1 : prev + 1);
    return store_setting_put(s, IDPS_VERSION, v, clock_now());
}

static void
describe_certs(const struct sp_idp_meta *m, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < m->n_certs && used < len; i++) {
        char until[32];
        clock_iso(m->certs[i].not_after, until, sizeof until);
        used += (size_t)snprintf(out + used, len - used, "%sSHA256 %.95s (until %s)", i ? "\n" : "",
                                 m->certs[i].sha256, until);
    }
}

/* Routes the options' domains to entity_id; their list into out. */
static enum account_rc
add_domains(struct store *s, const char *entity_id, const struct idp_options *o, char *out,
            size_t outlen, char *msg, size_t msglen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < o->n_domains; i++) {
        char d[256];
        if (!idp_domain_normalize(o->domains[i], d, sizeof d)) {
            snprintf(msg, msglen, "\"%.100s\" is not an e-mail domain", o->domains[i]);
            return ACCOUNT_REFUSED;
        }
        int dr = store_idp_domain_add(s, d, entity_id);
        if (dr == 1) {
            char other[512] = "";
            store_idp_for_domain(s, d, other, sizeof other);
            snprintf(msg, msglen, "the domain %s is routed to %s already", d, other);
            return ACCOUNT_REFUSED;
        }
        if (dr != 0)
            return ACCOUNT_ERROR;
        if (used < outlen)
            used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? "," : "", d);
    }
    return ACCOUNT_OK;
}

/* Stores the options' "GROUP=ROLE" pairs for entity_id; their list into out. */
static enum account_rc
add_group_roles(struct store *s, const char *entity_id, const struct idp_options *o, char *out,
                size_t outlen, char *msg, size_t msglen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < o->n_group_roles; i++) {
        const char *pair = o->group_roles[i], *eq = strrchr(pair, '=');
        char group[512];
        if (eq == NULL || eq == pair || (size_t)(eq - pair) >= sizeof group ||
            !str_utf8_clean(pair, strlen(pair), 0)) {
            snprintf(msg, msglen,
                     "\"%.100s\" is not GROUP=ROLE with ROLE member, admin or a role of role "
                     "list (owner is never granted by an IdP)",
                     pair);
            return ACCOUNT_REFUSED;
        }
        char why[160];
        int ok = roles_idp_may_grant(s, eq + 1, why, sizeof why);
        if (ok != 1) {
            snprintf(msg, msglen, "\"%.100s\": %s", pair, why);
            return ok == 0 ? ACCOUNT_REFUSED : ACCOUNT_ERROR;
        }
        snprintf(group, sizeof group, "%.*s", (int)(eq - pair), pair);
        int gr = store_idp_group_role_add(s, entity_id, group, eq + 1);
        if (gr == 1) {
            snprintf(msg, msglen, "the group \"%.200s\" is mapped twice", group);
            return ACCOUNT_REFUSED;
        }
        if (gr != 0)
            return ACCOUNT_ERROR;
        if (used < outlen)
            used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? ";" : "", pair);
    }
    return ACCOUNT_OK;
}

/* The NameID formats an AuthnRequest may ask for, by their short names. */
static const struct {
    const char *name, *uri;
} NAME_ID_FORMATS[] = {
    {"emailAddress", "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"},
    {"persistent", "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"},
    {"transient", "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"},
    {"unspecified", "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"},
    {"none", NULL},
};

int
idp_name_id_format(const char *name, const char **uri_out)
{
    for (size_t i = 0; i < sizeof NAME_ID_FORMATS / sizeof NAME_ID_FORMATS[0]; i++) {
        if (name != NULL && strcmp(name, NAME_ID_FORMATS[i].name) == 0) {
            *uri_out = NAME_ID_FORMATS[i].uri;
            return 0;
        }
    }
    return -1;
}

/* Copies the attribute names and the NameID policy the options set into r; -1 with a message on
 * a bad one. */
static int
set_attrs(struct idp_row *r, const struct idp_options *o, char *msg, size_t msglen)
{
    const char *uri;
    if (o->name_id_format != NULL) {
        if (idp_name_id_format(o->name_id_format, &uri) != 0) {
            snprintf(msg, msglen,
                     "the NameID format \"%.40s\" is not one of emailAddress, persistent, "
                     "transient, unspecified, none",
                     o->name_id_format);
            return -1;
        }
        snprintf(r->name_id_format, sizeof r->name_id_format, "%s", o->name_id_format);
    }
    struct {
        const char *v;
        char *dst;
        size_t len;
    } f[] = {{o->attr_email, r->attr_email, sizeof r->attr_email},
             {o->attr_first_name, r->attr_first_name, sizeof r->attr_first_name},
             {o->attr_last_name, r->attr_last_name, sizeof r->attr_last_name},
             {o->attr_groups, r->attr_groups, sizeof r->attr_groups}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].v == NULL)
            continue;
        if (strlen(f[i].v) >= f[i].len || !str_utf8_clean(f[i].v, strlen(f[i].v), 0)) {
            snprintf(msg, msglen, "the attribute name \"%.80s\" is too long or not text", f[i].v);
            return -1;
        }
        snprintf(f[i].dst, f[i].len, "%s", f[i].v);
    }
    return 0;
}

static void
describe_settings(const struct idp_row *r, const char *domains, const char *groups, char *out,
                  size_t len)
{
    snprintf(out, len,
             "name=%.200s domains=%.300s idp_initiated=%s sha1=%s role=%s attr_email=%.100s "
             "attr_first_name=%.100s attr_last_name=%.100s attr_groups=%.100s "
             "group_roles=%.600s name_id_format=%s",
             r->name, domains, r->idp_initiated ? "on" : "off", r->allow_sha1 ? "on" : "off",
             r->default_role, r->attr_email, r->attr_first_name, r->attr_last_name, r->attr_groups,
             groups, r->name_id_format);
}

/* What the registry keeps from the metadata: endpoints and signing certificates. */
static void
row_from_metadata(struct idp_row *r, const struct sp_idp_meta *m)
{
    snprintf(r->sso_redirect, sizeof r->sso_redirect, "%s", m->sso_redirect);
    snprintf(r->sso_post, sizeof r->sso_post, "%s", m->sso_post);
    snprintf(r->slo_redirect, sizeof r->slo_redirect, "%s", m->slo_redirect);
    snprintf(r->slo_post, sizeof r->slo_post, "%s", m->slo_post);
    describe_certs(m, r->certs, sizeof r->certs);
}

/* A note for the admin when the imported metadata's validUntil has passed. */
static void
note_valid_until(const struct sp_idp_meta *m, char *msg, size_t msglen)
{
    if (m->valid_until != 0 && m->valid_until < clock_now()) {
        char until[32];
        snprintf(msg, msglen, "note: the metadata's validUntil (%s) has passed; imported anyway",
                 clock_iso(m->valid_until, until, sizeof until));
    }
}

/* Appends what was read from the metadata (endpoints, certificates) to a settings description. */
static void
describe_metadata(const struct idp_row *r, char *out, size_t len)
{
    size_t n = strlen(out);
    snprintf(out + n, len - n, " sso=%.300s slo=%.300s certs=%.600s",
             r->sso_redirect[0] ? r->sso_redirect : r->sso_post,
             r->slo_redirect[0] ? r->slo_redirect : r->slo_post, r->certs);
}

struct groups_ctx {
    char *out;
    size_t len, used;
};

static int
join_group(const char *group, const char *role, void *ctx)
{
    struct groups_ctx *g = ctx;
    if (g->used < g->len)
        g->used += (size_t)snprintf(g->out + g->used, g->len - g->used, "%s%s=%s",
                                    g->used ? ";" : "", group, role);
    return 0;
}

static int
join_domain(const char *domain, void *ctx)
{
    struct groups_ctx *g = ctx;
    if (g->used < g->len)
        g->used += (size_t)snprintf(g->out + g->used, g->len - g->used, "%s%s", g->used ? "," : "",
                                    domain);
    return 0;
}

int
idp_domains_text(struct store *s, const char *entity_id, char *out, size_t len)
{
    struct groups_ctx g = {out, len, 0};
    out[0] = '\0';
    return store_idp_domain_each(s, entity_id, join_domain, &g);
}

int
idp_group_roles_text(struct store *s, const char *entity_id, char *out, size_t len)
{
    struct groups_ctx g = {out, len, 0};
    out[0] = '\0';
    return store_idp_group_roles(s, entity_id, join_group, &g);
}

/* ACCOUNT_FORBIDDEN unless who may do op (AZ_IDP or AZ_IDP_TRUST). */
static enum account_rc
may(const struct actor *who, enum authz_op op, char *msg, size_t msglen)
{
    const char *why = NULL;
    if (authz_allowed(who, op, NULL, &why))
        return ACCOUNT_OK;
    snprintf(msg, msglen, "%s", why);
    return ACCOUNT_FORBIDDEN;
}

/* Whether a change from old to new touches what the IdP is trusted with (AZ_IDP_TRUST): the
 * domains it may assert, the roles it grants and from which attribute, its switches. Lowering
 * the default role to member is not: it grants less. */
static int
trust_changed(const struct idp_row *old, const struct idp_row *new, const char *old_domains,
              const char *domains, const char *old_groups, const char *groups)
{
    return old->idp_initiated != new->idp_initiated || old->allow_sha1 != new->allow_sha1 ||
           (strcmp(old->default_role, new->default_role) != 0 &&
            strcmp(new->default_role, "member") != 0) ||
           strcmp(old->attr_groups, new->attr_groups) != 0 || strcmp(old_domains, domains) != 0 ||
           strcmp(old_groups, groups) != 0;
}

enum account_rc
idp_add(struct store *s, const struct actor *who, const char *metadata, size_t len,
        const struct idp_options *o, char *entity_out, size_t entity_len, char *msg, size_t msglen)
{
    if (may(who, AZ_IDP_TRUST, msg, msglen) != ACCOUNT_OK)
        return ACCOUNT_FORBIDDEN;
    struct sp_idp_meta m;
    char err[1024];
    if (sp_idp_parse(metadata, len, o->entity_id, &m, err, sizeof err) != 0) {
        snprintf(msg, msglen, "%s", err);
        return ACCOUNT_REFUSED;
    }
    enum account_rc rc = idp_add_parsed(s, who, &m, o, entity_out, entity_len, msg, msglen);
    sp_idp_meta_free(&m);
    return rc;
}

enum account_rc
idp_add_parsed(struct store *s, const struct actor *who, const struct sp_idp_meta *mp,
               const struct idp_options *o, char *entity_out, size_t entity_len, char *msg,
               size_t msglen)
{
    if (may(who, AZ_IDP_TRUST, msg, msglen) != ACCOUNT_OK)
        return ACCOUNT_FORBIDDEN;
    const struct sp_idp_meta m = *mp;
    enum account_rc rc = ACCOUNT_ERROR;
    const char *role = o->default_role ? o->default_role : "member";
    char why[160];
    int ok = roles_idp_may_grant(s, role, why, sizeof why);
    if (ok != 1) {
        snprintf(msg, msglen, "the default role of an IdP's users: %s", why);
        rc = ok == 0 ? ACCOUNT_REFUSED : ACCOUNT_ERROR;
        goto out;
    }
    struct idp_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.entity_id, sizeof r.entity_id, "%s", m.entity_id);
    snprintf(r.name, sizeof r.name, "%s", o->name ? o->name : m.entity_id);
    row_from_metadata(&r, &m);
    r.idp_initiated = o->idp_initiated == 1;
    r.allow_sha1 = o->allow_sha1 == 1;
    snprintf(r.default_role, sizeof r.default_role, "%s", role);
    snprintf(r.name_id_format, sizeof r.name_id_format, "none");
    if (set_attrs(&r, o, msg, msglen) != 0) {
        rc = ACCOUNT_REFUSED;
        goto out;
    }
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
    char domains[1024] = "", groups[1024] = "";
    rc = add_domains(s, m.entity_id, o, domains, sizeof domains, msg, msglen);
    if (rc == ACCOUNT_OK)
        rc = add_group_roles(s, m.entity_id, o, groups, sizeof groups, msg, msglen);
    if (rc != ACCOUNT_OK)
        goto rollback;
    rc = ACCOUNT_ERROR;
    char detail[2048];
    describe_settings(&r, domains, groups, detail, sizeof detail);
    if (bump_version(s) != 0 || audit_record(s, who, "idp.add", m.entity_id, NULL, detail) != 0 ||
        store_commit(s) != 0)
        goto rollback;
    snprintf(entity_out, entity_len, "%s", m.entity_id);
    note_valid_until(&m, msg, msglen);
    rc = ACCOUNT_OK;
    goto out;
rollback:
    store_rollback(s);
out:
    return rc;
}

enum account_rc
idp_add_from_fields(struct store *s, const struct actor *who, const struct sp_idp_fields *f,
                    const struct idp_options *o, char *entity_out, size_t entity_len, char *msg,
                    size_t msglen)
{
    if (may(who, AZ_IDP_TRUST, msg, msglen) != ACCOUNT_OK)
        return ACCOUNT_FORBIDDEN;
    char *xml = sp_idp_metadata_from_fields(f, msg, msglen);
    if (xml == NULL)
        return ACCOUNT_REFUSED;
    struct idp_options only = *o;
    only.entity_id = NULL; /* the document describes this one IdP */
    enum account_rc rc =
        idp_add(s, who, xml, strlen(xml), &only, entity_out, entity_len, msg, msglen);
    free(xml);
    return rc;
}

enum account_rc
idp_remove(struct store *s, const struct actor *who, const char *entity_id, char *msg,
           size_t msglen)
{
    if (may(who, AZ_IDP_TRUST, msg, msglen) != ACCOUNT_OK)
        return ACCOUNT_FORBIDDEN;
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
    if (idp_domains_text(s, entity_id, domains, sizeof domains) != 0 ||
        store_idp_delete(s, entity_id) != 0 || bump_version(s) != 0 ||
        audit_record(s, who, "idp.remove", entity_id, domains, NULL) != 0 || store_commit(s) != 0) {
        store_rollback(s);
        return ACCOUNT_ERROR;
    }
    return ACCOUNT_OK;
}

enum account_rc
idp_set(struct store *s, const struct actor *who, const char *entity_id,
        const struct idp_options *o, char *msg, size_t msglen)
{
    if (may(who, AZ_IDP, msg, msglen) != ACCOUNT_OK)
        return ACCOUNT_FORBIDDEN;
    /* New metadata brings new signing keys: whoever holds them can sign in as anyone the IdP
     * may assert, so a reload is the owner's, whatever else changes. */
    if (o->metadata != NULL && may(who, AZ_IDP_TRUST, msg, msglen) != ACCOUNT_OK)
        return ACCOUNT_FORBIDDEN;
    if (o->default_role != NULL) {
        char why[160];
        int ok = roles_idp_may_grant(s, o->default_role, why, sizeof why);
        if (ok != 1) {
            snprintf(msg, msglen, "the default role of an IdP's users: %s", why);
            return ok == 0 ? ACCOUNT_REFUSED : ACCOUNT_ERROR;
        }
    }
    struct sp_idp_meta m;
    memset(&m, 0, sizeof m);
    if (o->metadata != NULL) {
        char err[1024];
        if (sp_idp_parse(o->metadata, o->metadata_len, entity_id, &m, err, sizeof err) != 0) {
            snprintf(msg, msglen, "%s", err);
            return ACCOUNT_REFUSED;
        }
    }
    enum account_rc rc = ACCOUNT_ERROR;
    if (store_begin_write(s) != 0) {
        sp_idp_meta_free(&m);
        return ACCOUNT_ERROR;
    }
    struct idp_row r;
    int g = store_idp_get(s, entity_id, &r);
    if (g == 1) {
        snprintf(msg, msglen, "no IdP %.200s", entity_id);
        rc = ACCOUNT_REFUSED;
    }
    if (g != 0)
        goto rollback;
    char old_domains[1024], old_groups[1024], domains[1024], groups[1024];
    char before[2048], after[2048];
    if (idp_domains_text(s, entity_id, old_domains, sizeof old_domains) != 0 ||
        idp_group_roles_text(s, entity_id, old_groups, sizeof old_groups) != 0)
        goto rollback;
    describe_settings(&r, old_domains, old_groups, before, sizeof before);
    struct idp_row old = r;
    if (o->metadata != NULL) {
        describe_metadata(&r, before, sizeof before);
        row_from_metadata(&r, &m);
        if (store_idp_set_metadata(s, &r, m.xml) != 0)
            goto rollback;
    }
    if (o->name != NULL)
        snprintf(r.name, sizeof r.name, "%s", o->name);
    if (o->idp_initiated >= 0)
        r.idp_initiated = o->idp_initiated;
    if (o->allow_sha1 >= 0)
        r.allow_sha1 = o->allow_sha1;
    if (o->default_role != NULL)
        snprintf(r.default_role, sizeof r.default_role, "%s", o->default_role);
    if (set_attrs(&r, o, msg, msglen) != 0) {
        rc = ACCOUNT_REFUSED;
        goto rollback;
    }
    if (store_idp_update(s, &r) != 0)
        goto rollback;
    snprintf(domains, sizeof domains, "%s", old_domains);
    snprintf(groups, sizeof groups, "%s", old_groups);
    if (o->set_domains) {
        if (store_idp_domains_clear(s, entity_id) != 0)
            goto rollback;
        rc = add_domains(s, entity_id, o, domains, sizeof domains, msg, msglen);
        if (rc != ACCOUNT_OK)
            goto rollback;
    }
    if (o->set_group_roles) {
        if (store_idp_group_roles_clear(s, entity_id) != 0)
            goto rollback;
        rc = add_group_roles(s, entity_id, o, groups, sizeof groups, msg, msglen);
        if (rc != ACCOUNT_OK)
            goto rollback;
    }
    rc = ACCOUNT_ERROR;
    /* Read back as stored (normalised, in order) to compare with what was there. */
    if (idp_domains_text(s, entity_id, domains, sizeof domains) != 0 ||
        idp_group_roles_text(s, entity_id, groups, sizeof groups) != 0)
        goto rollback;
    if (trust_changed(&old, &r, old_domains, domains, old_groups, groups)) {
        rc = may(who, AZ_IDP_TRUST, msg, msglen);
        if (rc != ACCOUNT_OK)
            goto rollback;
        rc = ACCOUNT_ERROR;
    }
    describe_settings(&r, domains, groups, after, sizeof after);
    if (o->metadata != NULL)
        describe_metadata(&r, after, sizeof after);
    if (strcmp(before, after) == 0 && o->metadata == NULL) {
        store_rollback(s);
        snprintf(msg, msglen, "nothing to change");
        return ACCOUNT_OK;
    }
    if (bump_version(s) != 0 || audit_record(s, who, "idp.set", entity_id, before, after) != 0 ||
        store_commit(s) != 0)
        goto rollback;
    note_valid_until(&m, msg, msglen);
    sp_idp_meta_free(&m);
    return ACCOUNT_OK;
rollback:
    store_rollback(s);
    sp_idp_meta_free(&m);
    return rc;
}

int
idp_metadata(struct store *s, const char *entity_id, char **xml_out)
{
    return store_idp_metadata_get(s, entity_id, xml_out);
}
