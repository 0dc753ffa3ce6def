/* auth/store_idps.c: the store's SAML identity providers: their domains and group roles, metadata
 * sources, federations (store.h). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_internal.h"

#define FED_COLS                                                                                   \
    "url, name, signer_cert, created_at, last_ok, last_try, next_at, failures, last_error, n_idps"

#define IDP_COLS                                                                                   \
    "entity_id, name, sso_redirect, sso_post, slo_redirect, slo_post, certs, idp_initiated, "      \
    "allow_sha1, default_role, attr_email, attr_first_name, attr_last_name, attr_groups, "         \
    "created_at, name_id_format"

/* ---- identity providers ---- */

int
store_idp_insert(struct store *s, const struct idp_row *r, const char *metadata)
{
    static const char q[] =
        "INSERT INTO idps (entity_id, name, metadata, sso_redirect, sso_post, "
        "slo_redirect, slo_post, certs, idp_initiated, allow_sha1, default_role, "
        "attr_email, attr_first_name, attr_last_name, attr_groups, created_at, "
        "name_id_format) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO "
        "NOTHING";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, r->entity_id);
    db_bind_text(st, 2, r->name);
    db_bind_text(st, 3, metadata);
    db_bind_text(st, 4, r->sso_redirect);
    db_bind_text(st, 5, r->sso_post);
    db_bind_text(st, 6, r->slo_redirect);
    db_bind_text(st, 7, r->slo_post);
    db_bind_text(st, 8, r->certs);
    db_bind_int(st, 9, r->idp_initiated);
    db_bind_int(st, 10, r->allow_sha1);
    db_bind_text(st, 11, r->default_role[0] ? r->default_role : "member");
    db_bind_text(st, 12, r->attr_email);
    db_bind_text(st, 13, r->attr_first_name);
    db_bind_text(st, 14, r->attr_last_name);
    db_bind_text(st, 15, r->attr_groups);
    db_bind_int(st, 16, r->created_at);
    db_bind_text(st, 17, r->name_id_format[0] ? r->name_id_format : "none");
    return db_exec_changed(st);
}

static void
read_idp(struct db_stmt *st, struct idp_row *r)
{
    memset(r, 0, sizeof *r);
    db_text(st, 0, r->entity_id, sizeof r->entity_id);
    db_text(st, 1, r->name, sizeof r->name);
    db_text(st, 2, r->sso_redirect, sizeof r->sso_redirect);
    db_text(st, 3, r->sso_post, sizeof r->sso_post);
    db_text(st, 4, r->slo_redirect, sizeof r->slo_redirect);
    db_text(st, 5, r->slo_post, sizeof r->slo_post);
    db_text(st, 6, r->certs, sizeof r->certs);
    r->idp_initiated = db_int(st, 7);
    r->allow_sha1 = db_int(st, 8);
    db_text(st, 9, r->default_role, sizeof r->default_role);
    db_text(st, 10, r->attr_email, sizeof r->attr_email);
    db_text(st, 11, r->attr_first_name, sizeof r->attr_first_name);
    db_text(st, 12, r->attr_last_name, sizeof r->attr_last_name);
    db_text(st, 13, r->attr_groups, sizeof r->attr_groups);
    r->created_at = (time_t)db_int(st, 14);
    db_text(st, 15, r->name_id_format, sizeof r->name_id_format);
}

int
store_idp_get(struct store *s, const char *entity_id, struct idp_row *out)
{
    static const char q[] = "SELECT " IDP_COLS " FROM idps WHERE entity_id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, entity_id);
    int rc = db_step(st), ret = -1;
    if (rc == DB_ROW) {
        read_idp(st, out);
        ret = 0;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

int
store_idp_delete(struct store *s, const char *entity_id)
{
    static const char q[] = "DELETE FROM idps WHERE entity_id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, entity_id);
    if (db_exec(st) != 0)
        return -1;
    return db_changes(st) == 0 ? 1 : 0;
}

int
store_idp_list(struct store *s, int (*cb)(const struct idp_row *, void *), void *ctx)
{
    static const char q[] = "SELECT " IDP_COLS " FROM idps ORDER BY entity_id";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    struct idp_row r;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        read_idp(st, &r);
        if (cb(&r, ctx) != 0) {
            rc = DB_DONE;
            break;
        }
    }
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}

int
store_idp_metadata_each(struct store *s, int (*cb)(const char *, const char *, void *), void *ctx)
{
    static const char q[] = "SELECT entity_id, metadata FROM idps ORDER BY entity_id";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        if (cb(db_str(st, 0), db_str(st, 1), ctx) != 0) {
            rc = DB_DONE;
            break;
        }
    }
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}

int
store_idp_metadata_get(struct store *s, const char *entity_id, char **xml_out)
{
    static const char q[] = "SELECT metadata FROM idps WHERE entity_id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, entity_id);
    int rc = db_step(st), ret = -1;
    *xml_out = NULL;
    if (rc == DB_ROW) {
        const char *xml = db_str(st, 0);
        *xml_out = strdup(xml ? xml : "");
        ret = *xml_out ? 0 : -1;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

int
store_idp_domain_add(struct store *s, const char *domain, const char *entity_id)
{
    static const char q[] =
        "INSERT INTO idp_domains (domain, entity_id) VALUES (?, ?) ON CONFLICT DO NOTHING";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, domain);
    db_bind_text(st, 2, entity_id);
    return db_exec_changed(st);
}

int
store_idp_domain_each(struct store *s, const char *entity_id, int (*cb)(const char *domain, void *),
                      void *ctx)
{
    static const char q[] = "SELECT domain FROM idp_domains WHERE entity_id = ? ORDER BY domain";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, entity_id);
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        if (cb(db_str(st, 0), ctx) != 0) {
            rc = DB_DONE;
            break;
        }
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}

int
store_idp_for_domain(struct store *s, const char *domain, char *entity_id, size_t len)
{
    static const char q[] = "SELECT entity_id FROM idp_domains WHERE domain = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, domain);
    int rc = db_step(st), ret = -1;
    if (rc == DB_ROW) {
        db_text(st, 0, entity_id, len);
        ret = 0;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

int
store_idp_update(struct store *s, const struct idp_row *r)
{
    static const char q[] = "UPDATE idps SET name = ?, idp_initiated = ?, allow_sha1 = ?, "
                            "default_role = ?, attr_email = ?, attr_first_name = ?, "
                            "attr_last_name = ?, attr_groups = ?, name_id_format = ? "
                            "WHERE entity_id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, r->name);
    db_bind_int(st, 2, r->idp_initiated);
    db_bind_int(st, 3, r->allow_sha1);
    db_bind_text(st, 4, r->default_role);
    db_bind_text(st, 5, r->attr_email);
    db_bind_text(st, 6, r->attr_first_name);
    db_bind_text(st, 7, r->attr_last_name);
    db_bind_text(st, 8, r->attr_groups);
    db_bind_text(st, 9, r->name_id_format[0] ? r->name_id_format : "none");
    db_bind_text(st, 10, r->entity_id);
    return db_exec_changed(st);
}

int
store_idp_set_metadata(struct store *s, const struct idp_row *r, const char *metadata)
{
    static const char q[] = "UPDATE idps SET metadata = ?, sso_redirect = ?, sso_post = ?, "
                            "slo_redirect = ?, slo_post = ?, certs = ? WHERE entity_id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, metadata);
    db_bind_text(st, 2, r->sso_redirect);
    db_bind_text(st, 3, r->sso_post);
    db_bind_text(st, 4, r->slo_redirect);
    db_bind_text(st, 5, r->slo_post);
    db_bind_text(st, 6, r->certs);
    db_bind_text(st, 7, r->entity_id);
    return db_exec_changed(st);
}

static int
by_entity(struct store *s, const char *sql, const char *entity_id)
{
    struct db_stmt *st = db_stmt(s, sql);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, entity_id);
    return db_exec(st);
}

int
store_idp_domains_clear(struct store *s, const char *entity_id)
{
    static const char q[] = "DELETE FROM idp_domains WHERE entity_id = ?";
    return by_entity(s, q, entity_id);
}

int
store_idp_group_roles_clear(struct store *s, const char *entity_id)
{
    static const char q[] = "DELETE FROM idp_group_roles WHERE entity_id = ?";
    return by_entity(s, q, entity_id);
}

int
store_idp_group_role_add(struct store *s, const char *entity_id, const char *group,
                         const char *role)
{
    static const char q[] = "INSERT INTO idp_group_roles (entity_id, group_name, role) "
                            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, entity_id);
    db_bind_text(st, 2, group);
    db_bind_text(st, 3, role);
    return db_exec_changed(st);
}

int
store_idp_group_roles(struct store *s, const char *entity_id,
                      int (*cb)(const char *group, const char *role, void *), void *ctx)
{
    static const char q[] = "SELECT group_name, role FROM idp_group_roles WHERE entity_id = ? "
                            "ORDER BY group_name";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, entity_id);
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        if (cb(db_str(st, 0), db_str(st, 1), ctx) != 0)
            break;
    db_reset(st);
    return (rc == DB_DONE || rc == DB_ROW) ? 0 : -1;
}

int
store_idp_role_for_group(struct store *s, const char *entity_id, const char *group, char *role,
                         size_t len)
{
    static const char q[] = "SELECT role FROM idp_group_roles WHERE entity_id = ? "
                            "AND group_name = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, entity_id);
    db_bind_text(st, 2, group);
    int rc = db_step(st), ret = -1;
    if (rc == DB_ROW) {
        db_text(st, 0, role, len);
        ret = 0;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

/* ---- IdP metadata sources (metadata by URL) ---- */

int
store_idp_source_put(struct store *s, const struct idp_source *src)
{
    static const char q[] =
        "INSERT INTO idp_sources (entity_id, url, signer_cert, last_ok, last_try, "
        "next_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (entity_id) DO UPDATE "
        "SET url = excluded.url, signer_cert = excluded.signer_cert, "
        "last_ok = excluded.last_ok, last_try = excluded.last_try, "
        "next_at = excluded.next_at, failures = 0, last_error = ''";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, src->entity_id);
    db_bind_text(st, 2, src->url);
    db_bind_text(st, 3, src->signer_cert);
    db_bind_int(st, 4, (long long)src->last_ok);
    db_bind_int(st, 5, (long long)src->last_try);
    db_bind_int(st, 6, (long long)src->next_at);
    int rc = db_step(st);
    db_reset(st);
    if (rc != DB_DONE)
        return -1;
    return 0;
}

int
store_idp_source_get(struct store *s, const char *entity_id, struct idp_source *out)
{
    static const char q[] = "SELECT entity_id, url, signer_cert, last_ok, last_try, next_at, "
                            "failures, last_error FROM idp_sources WHERE entity_id = ?";
    memset(out, 0, sizeof *out);
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, entity_id);
    int rc = db_step(st), ret = -1;
    if (rc == DB_ROW) {
        db_text(st, 0, out->entity_id, sizeof out->entity_id);
        db_text(st, 1, out->url, sizeof out->url);
        db_text(st, 2, out->signer_cert, sizeof out->signer_cert);
        out->last_ok = (time_t)db_int(st, 3);
        out->last_try = (time_t)db_int(st, 4);
        out->next_at = (time_t)db_int(st, 5);
        out->failures = db_int(st, 6);
        db_text(st, 7, out->last_error, sizeof out->last_error);
        ret = 0;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

int
store_idp_source_result(struct store *s, const struct idp_source *src, int ok)
{
    static const char q[] = "UPDATE idp_sources SET last_ok = CASE WHEN ? THEN ? ELSE last_ok END, "
                            "last_try = ?, next_at = ?, failures = ?, last_error = ? "
                            "WHERE entity_id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, ok);
    db_bind_int(st, 2, (long long)src->last_ok);
    db_bind_int(st, 3, (long long)src->last_try);
    db_bind_int(st, 4, (long long)src->next_at);
    db_bind_int(st, 5, src->failures);
    db_bind_text(st, 6, src->last_error);
    db_bind_text(st, 7, src->entity_id);
    int rc = db_step(st);
    db_reset(st);
    if (rc != DB_DONE)
        return -1;
    return db_changes(st) == 1 ? 0 : 1;
}

int
store_idp_sources_due(struct store *s, time_t now, int max,
                      int (*cb)(const char *entity_id, void *), void *ctx)
{
    static const char q[] = "SELECT entity_id FROM idp_sources WHERE next_at <= ? "
                            "ORDER BY next_at LIMIT ?";
    /* Collected first: the callback refreshes, which writes through this same connection. */
    char(*ids)[512] = calloc((size_t)max, sizeof *ids);
    if (ids == NULL)
        return -1;
    struct db_stmt *st = db_stmt(s, q);
    int n = 0, rc = -1;
    if (st == NULL)
        goto out;
    db_bind_int(st, 1, (long long)now);
    db_bind_int(st, 2, max);
    while ((rc = db_step(st)) == DB_ROW && n < max)
        db_text(st, 0, ids[n++], sizeof ids[0]);
    db_reset(st);
    if (rc != DB_DONE && rc != DB_ROW) {
        rc = -1;
        goto out;
    }
    rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = cb(ids[i], ctx) != 0 ? 1 : 0;
    rc = 0;
out:
    free(ids);
    return rc;
}

/* ---- federations ---- */

int
store_federation_insert(struct store *s, const struct federation_row *f)
{
    static const char q[] =
        "INSERT INTO federations (url, name, signer_cert, created_at, last_ok, "
        "last_try, next_at, n_idps) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, f->url);
    db_bind_text(st, 2, f->name);
    db_bind_text(st, 3, f->signer_cert);
    db_bind_int(st, 4, (long long)f->created_at);
    db_bind_int(st, 5, (long long)f->last_ok);
    db_bind_int(st, 6, (long long)f->last_try);
    db_bind_int(st, 7, (long long)f->next_at);
    db_bind_int(st, 8, f->n_idps);
    return db_exec_changed(st);
}

static void
fed_from(struct db_stmt *st, struct federation_row *f)
{
    memset(f, 0, sizeof *f);
    db_text(st, 0, f->url, sizeof f->url);
    db_text(st, 1, f->name, sizeof f->name);
    db_text(st, 2, f->signer_cert, sizeof f->signer_cert);
    f->created_at = (time_t)db_int(st, 3);
    f->last_ok = (time_t)db_int(st, 4);
    f->last_try = (time_t)db_int(st, 5);
    f->next_at = (time_t)db_int(st, 6);
    f->failures = db_int(st, 7);
    db_text(st, 8, f->last_error, sizeof f->last_error);
    f->n_idps = db_int(st, 9);
}

int
store_federation_get(struct store *s, const char *url, struct federation_row *out)
{
    static const char q[] = "SELECT " FED_COLS " FROM federations WHERE url = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, url);
    int rc = db_step(st), ret = -1;
    if (rc == DB_ROW) {
        fed_from(st, out);
        ret = 0;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

int
store_federation_list(struct store *s, int (*cb)(const struct federation_row *, void *), void *ctx)
{
    static const char q[] = "SELECT " FED_COLS " FROM federations ORDER BY name, url";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    struct federation_row *f = malloc(sizeof *f);
    int rc = f ? DB_ROW : DB_ERROR;
    while (f != NULL && (rc = db_step(st)) == DB_ROW) {
        fed_from(st, f);
        if (cb(f, ctx) != 0) {
            rc = DB_DONE;
            break;
        }
    }
    db_reset(st);
    free(f);
    return rc == DB_DONE ? 0 : -1;
}

int
store_federation_delete(struct store *s, const char *url)
{
    static const char q[] = "DELETE FROM federations WHERE url = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, url);
    int rc = db_step(st);
    db_reset(st);
    if (rc != DB_DONE)
        return -1;
    return db_changes(st) == 1 ? 0 : 1;
}

int
store_federation_result(struct store *s, const struct federation_row *f, int ok)
{
    static const char q[] = "UPDATE federations SET last_ok = CASE WHEN ? THEN ? ELSE last_ok END, "
                            "last_try = ?, next_at = ?, failures = ?, last_error = ?, "
                            "n_idps = CASE WHEN ? THEN ? ELSE n_idps END WHERE url = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, ok);
    db_bind_int(st, 2, (long long)f->last_ok);
    db_bind_int(st, 3, (long long)f->last_try);
    db_bind_int(st, 4, (long long)f->next_at);
    db_bind_int(st, 5, f->failures);
    db_bind_text(st, 6, f->last_error);
    db_bind_int(st, 7, ok);
    db_bind_int(st, 8, f->n_idps);
    db_bind_text(st, 9, f->url);
    int rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}

int
store_federations_due(struct store *s, time_t now, int max, int (*cb)(const char *url, void *),
                      void *ctx)
{
    static const char q[] =
        "SELECT url FROM federations WHERE next_at <= ? ORDER BY next_at LIMIT ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, (long long)now);
    db_bind_int(st, 2, max);
    char(*urls)[1024] = NULL;
    int n = 0, rc = db_collect_texts(st, max, &urls, &n);
    for (int i = 0; rc == 0 && i < n; i++)
        if (cb(urls[i], ctx) != 0)
            break;
    free(urls);
    return rc;
}

int
store_federation_member_add(struct store *s, const char *entity_id, const char *url)
{
    static const char q[] = "INSERT INTO federation_members (entity_id, federation) VALUES (?, ?) "
                            "ON CONFLICT (entity_id) DO NOTHING";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, entity_id);
    db_bind_text(st, 2, url);
    int rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}

int
store_federation_members(struct store *s, const char *url, int max, char (**ids)[1024], int *n)
{
    static const char q[] = "SELECT entity_id FROM federation_members WHERE federation = ? "
                            "ORDER BY entity_id";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, url);
    return db_collect_texts(st, max, ids, n);
}
