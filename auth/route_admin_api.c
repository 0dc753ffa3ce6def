/* auth/route_admin_api.c: the admin JSON API under /api/admin/, for automation. The same
 * operations as gatehousectl and the admin pages (account.c, idp.c, admin.c), with the same
 * authorisation (auth/authz.h) and audit records; the actor is the session's user. Answers are
 * JSON; errors {"error", "message"} with 400 (bad input), 401, 403 (role), 404, 409, 422
 * (refused by a rule) or 500. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "account.h"
#include "admin.h"
#include "app.h"
#include "arena.h"
#include "audit.h"
#include "authz.h"
#include "clock.h"
#include "federation.h"
#include "http.h"
#include "idp.h"
#include "idp_health.h"
#include "login.h"
#include "idp_source.h"
#include "policy/settings.h"
#include "roles.h"
#include "routes.h"
#include "sp/sp.h"
#include "store.h"
#include "samllog.h"
#include "str.h"
#include "web.h"

#define API_LIST_MAX 1000

struct api {
    struct req *r;
    struct web *w;
    struct actor who;
    const char *path; /* after /api/admin/ */
    json_t *body;     /* POST: the parsed object */
};

static int
err(struct api *a, int status, const char *code, const char *message)
{
    return web_json_error(a->r, status, code, message);
}

/* Maps an operation's result to an answer; ok is sent (stolen) on success. */
static int
answer(struct api *a, enum account_rc rc, const char *msg, json_t *ok)
{
    switch (rc) {
    case ACCOUNT_OK:
        return web_json(a->r, 200, ok ? ok : json_pack("{s:b}", "ok", 1));
    case ACCOUNT_FORBIDDEN:
        json_decref(ok);
        return err(a, 403, "forbidden", msg);
    case ACCOUNT_REFUSED:
        json_decref(ok);
        return err(a, strncmp(msg, "no user", 7) == 0 || strncmp(msg, "no IdP", 6) == 0 ? 404 : 422,
                   "refused", msg);
    case ACCOUNT_ERROR:
        break;
    }
    json_decref(ok);
    return err(a, 500, "internal", "The store could not complete the change.");
}

static const char *
str_field(struct api *a, const char *key)
{
    json_t *v = a->body ? json_object_get(a->body, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- users ---- */

struct users_ctx {
    struct store *s;
    json_t *arr;
    const char *q;
};

static int
add_user(const struct user *u, void *ctx)
{
    struct users_ctx *c = ctx;
    if (c->q != NULL && c->q[0] != '\0' && strcasestr(u->email, c->q) == NULL &&
        strcasestr(u->display_name, c->q) == NULL)
        return 0;
    json_array_append_new(c->arr, admin_user_json(c->s, u));
    return json_array_size(c->arr) >= API_LIST_MAX;
}

static int
users_get(struct api *a, const char *email)
{
    struct store *s = a->w->store;
    if (email == NULL) {
        struct users_ctx c = {s, json_array(), req_query(a->r, "q")};
        if (store_user_list(s, add_user, &c) != 0) {
            json_decref(c.arr);
            return err(a, 500, "internal", "Cannot read the users.");
        }
        return web_json(a->r, 200, json_pack("{s:o}", "users", c.arr));
    }
    struct arena *ar = req_arena(a->r);
    char *norm = str_email_normalize(ar, email);
    struct user u;
    if (norm == NULL || store_user_by_email(s, norm, &u) != 0)
        return err(a, 404, "not_found", "No such user.");
    return web_json(a->r, 200, admin_user_json(s, &u));
}

static int
users_create(struct api *a)
{
    const char *email = str_field(a, "email"), *role = str_field(a, "role");
    const char *name = str_field(a, "name");
    if (email == NULL)
        return err(a, 400, "bad_request",
                   "Send {\"email\": \"...\", \"role\": \"member\", \"name\": \"...\"}.");
    char temp[ACCOUNT_TEMP_MAX], msg[256] = "";
    enum account_rc rc = account_create(a->w->app, a->w->store, &a->who, email, name,
                                        role ? role : "member", temp, msg, sizeof msg);
    json_t *ok = rc == ACCOUNT_OK
                     ? json_pack("{s:s, s:s}", "email", email, "temporary_password", temp)
                     : NULL;
    OPENSSL_cleanse(temp, sizeof temp);
    if (rc == ACCOUNT_OK)
        return web_json(a->r, 201, ok);
    return answer(a, rc, msg, NULL);
}

static int
users_action(struct api *a, const char *email, const char *action)
{
    struct app *app = a->w->app;
    struct store *s = a->w->store;
    char msg[256] = "", temp[ACCOUNT_TEMP_MAX];
    enum account_rc rc;
    if (strcmp(action, "unlock") == 0) {
        rc = account_unlock(app, s, &a->who, email, msg, sizeof msg);
    } else if (strcmp(action, "reset-password") == 0) {
        rc = account_reset_password(app, s, &a->who, email, temp, msg, sizeof msg);
        json_t *ok = rc == ACCOUNT_OK ? json_pack("{s:s}", "temporary_password", temp) : NULL;
        OPENSSL_cleanse(temp, sizeof temp);
        return answer(a, rc, msg, ok);
    } else if (strcmp(action, "force-change") == 0) {
        rc = account_force_change(app, s, &a->who, email, msg, sizeof msg);
    } else if (strcmp(action, "mfa-reset") == 0) {
        rc = account_mfa_reset(app, s, &a->who, email, msg, sizeof msg);
    } else if (strcmp(action, "disable") == 0 || strcmp(action, "enable") == 0) {
        rc = account_set_status(app, s, &a->who, email, action[0] == 'd' ? "disabled" : "active",
                                msg, sizeof msg);
    } else if (strcmp(action, "role") == 0) {
        const char *role = str_field(a, "role");
        if (role == NULL)
            return err(a, 400, "bad_request", "Send {\"role\": \"member|admin|owner\"}.");
        rc = account_set_role(app, s, &a->who, email, role, msg, sizeof msg);
    } else if (strcmp(action, "delete") == 0) {
        rc = account_delete(app, s, &a->who, email, msg, sizeof msg);
    } else {
        return err(a, 404, "not_found", "No such user action.");
    }
    return answer(a, rc, msg, NULL);
}

/* ---- policy and the password switch ---- */

static int
policy_get(struct api *a)
{
    struct policy p;
    app_policy(a->w->app, a->w->store, &p);
    size_t n;
    const struct setting_def *t = settings_table(&n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char val[32], def[32], range[96];
        settings_format(&t[i], settings_get(&p, &t[i]), val, sizeof val);
        settings_format(&t[i], t[i].def, def, sizeof def);
        settings_range_text(&t[i], range, sizeof range);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "key", t[i].name, "value",
                                             val, "default", def, "range", range, "description",
                                             t[i].description));
    }
    return web_json(a->r, 200, json_pack("{s:o}", "settings", arr));
}

static const char *
value_text(struct req *r, json_t *v)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_boolean(v))
        return json_is_true(v) ? "on" : "off";
    if (json_is_integer(v))
        return arena_printf(req_arena(r), "%lld", (long long)json_integer_value(v));
    return NULL;
}

/* {"key": value, ...}: every value is checked before any is stored. */
static int
policy_set(struct api *a)
{
    const char *key;
    json_t *v;
    char msg[300];
    if (a->body == NULL || json_object_size(a->body) == 0)
        return err(a, 400, "bad_request", "Send {\"setting.name\": value, ...}.");
    json_object_foreach(a->body, key, v)
    {
        const struct setting_def *d = settings_find(key);
        const char *text = value_text(a->r, v);
        int parsed;
        char why[200];
        if (d == NULL || strcmp(key, "password_login") == 0) {
            snprintf(msg, sizeof msg, "unknown policy setting \"%.64s\"%s", key,
                     d ? " (use password-login)" : "");
            return err(a, 422, "refused", msg);
        }
        if (text == NULL || settings_parse(d, text, &parsed, why, sizeof why) != 0) {
            snprintf(msg, sizeof msg, "%s: %s", key, text ? why : "give a string or a number");
            return err(a, 422, "refused", msg);
        }
    }
    json_t *changes = json_object();
    json_object_foreach(a->body, key, v)
    {
        char oldv[32], newv[32];
        enum account_rc rc = admin_set_setting(a->w->app, a->w->store, &a->who, key,
                                               value_text(a->r, v), oldv, newv, msg, sizeof msg);
        if (rc != ACCOUNT_OK) {
            json_decref(changes);
            return answer(a, rc, msg, NULL);
        }
        json_object_set_new(changes, key, json_pack("{s:s, s:s}", "old", oldv, "new", newv));
    }
    return web_json(a->r, 200, json_pack("{s:o}", "changed", changes));
}

static int
count_idp(const struct idp_row *r, void *ctx)
{
    (void)r;
    ++*(int *)ctx;
    return 0;
}

int
admin_idp_count(struct store *s)
{
    int n = 0;
    return store_idp_list(s, count_idp, &n) == 0 ? n : -1;
}

static int
password_switch(struct api *a)
{
    json_t *v = a->body ? json_object_get(a->body, "enabled") : NULL;
    const char *why = NULL;
    if (!authz_allowed(&a->who, AZ_PASSWORD_SWITCH, NULL, &why))
        return err(a, 403, "forbidden", why);
    if (!json_is_boolean(v))
        return err(a, 400, "bad_request", "Send {\"enabled\": true|false}.");
    if (json_is_false(v) && admin_idp_count(a->w->store) == 0)
        return err(a, 409, "no_idp",
                   "Set up an identity provider first: with password sign-in off and no SSO, "
                   "only owners could still sign in.");
    char oldv[32], newv[32], msg[300];
    enum account_rc rc =
        admin_set_setting(a->w->app, a->w->store, &a->who, "password_login",
                          json_is_true(v) ? "on" : "off", oldv, newv, msg, sizeof msg);
    return answer(a, rc, msg, json_pack("{s:s, s:s}", "old", oldv, "new", newv));
}

/* ---- IdPs ---- */

struct idps_ctx {
    struct store *s;
    json_t *arr;
    time_t now;
};

static int
add_idp(const struct idp_row *r, void *ctx)
{
    struct idps_ctx *c = ctx;
    char domains[1024], groups[1024];
    idp_domains_text(c->s, r->entity_id, domains, sizeof domains);
    idp_group_roles_text(c->s, r->entity_id, groups, sizeof groups);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:s, "
        "s:{s:s, s:s, s:s, s:s}, s:s, s:s}",
        "entity_id", r->entity_id, "name", r->name, "domains", domains, "sso_redirect",
        r->sso_redirect, "sso_post", r->sso_post, "slo_redirect", r->slo_redirect, "slo_post",
        r->slo_post, "certs", r->certs, "idp_initiated", r->idp_initiated, "allow_sha1",
        r->allow_sha1, "default_role", r->default_role, "attributes", "email", r->attr_email,
        "first_name", r->attr_first_name, "last_name", r->attr_last_name, "groups", r->attr_groups,
        "group_roles", groups, "name_id_format", r->name_id_format);
    struct idp_source src;
    if (o != NULL && store_idp_source_get(c->s, r->entity_id, &src) == 0) {
        char last[32], next[32];
        clock_iso(src.last_ok, last, sizeof last);
        clock_iso(src.next_at, next, sizeof next);
        json_object_set_new(o, "metadata_url", json_string(src.url));
        json_object_set_new(o, "metadata_signed", json_boolean(src.signer_cert[0] != '\0'));
        json_object_set_new(o, "last_refresh", json_string(src.last_ok ? last : ""));
        json_object_set_new(o, "next_refresh", json_string(next));
        json_object_set_new(o, "refresh_error", json_string(src.last_error));
    }
    struct idp_health h;
    if (o != NULL && idp_health_get(c->s, r, c->now, &h) == 0)
        json_object_set_new(o, "health", idp_health_json(&h, c->now));
    json_array_append_new(c->arr, o);
    return 0;
}

static int
idps_get(struct api *a)
{
    struct idps_ctx c = {a->w->store, json_array(), a->w->now};
    if (store_idp_list(a->w->store, add_idp, &c) != 0) {
        json_decref(c.arr);
        return err(a, 500, "internal", "Cannot read the IdPs.");
    }
    return web_json(a->r, 200, json_pack("{s:o}", "idps", c.arr));
}

/* The options of an add or set from the body; for set, absent fields stay unchanged. */
static int
idp_options_from(struct api *a, struct idp_options *o, int set)
{
    memset(o, 0, sizeof *o);
    o->idp_initiated = o->allow_sha1 = set ? -1 : 0;
    o->name = str_field(a, "name");
    o->default_role = str_field(a, "default_role");
    json_t *v = json_object_get(a->body, "idp_initiated");
    if (json_is_boolean(v))
        o->idp_initiated = json_is_true(v);
    v = json_object_get(a->body, "allow_sha1");
    if (json_is_boolean(v))
        o->allow_sha1 = json_is_true(v);
    v = json_object_get(a->body, "name_id_format");
    if (json_is_string(v))
        o->name_id_format = json_string_value(v);
    json_t *attrs = json_object_get(a->body, "attributes");
    if (json_is_object(attrs)) {
        json_t *x;
        if (json_is_string(x = json_object_get(attrs, "email")))
            o->attr_email = json_string_value(x);
        if (json_is_string(x = json_object_get(attrs, "first_name")))
            o->attr_first_name = json_string_value(x);
        if (json_is_string(x = json_object_get(attrs, "last_name")))
            o->attr_last_name = json_string_value(x);
        if (json_is_string(x = json_object_get(attrs, "groups")))
            o->attr_groups = json_string_value(x);
    }
    json_t *list = json_object_get(a->body, "domains");
    if (json_is_array(list)) {
        o->set_domains = 1;
        size_t i;
        json_t *d;
        json_array_foreach(list, i, d)
        {
            if (!json_is_string(d) || o->n_domains == IDP_MAX_DOMAINS)
                return -1;
            o->domains[o->n_domains++] = json_string_value(d);
        }
    }
    list = json_object_get(a->body, "group_roles");
    if (json_is_object(list)) {
        o->set_group_roles = 1;
        const char *g;
        json_t *role;
        json_object_foreach(list, g, role)
        {
            if (!json_is_string(role) || o->n_group_roles == IDP_MAX_GROUP_ROLES)
                return -1;
            o->group_roles[o->n_group_roles++] =
                arena_printf(req_arena(a->r), "%s=%s", g, json_string_value(role));
        }
    }
    return 0;
}

/* An IdP without metadata: entity_id, sso_url, sso_binding (default redirect), certs (a list of
 * PEM or base64 strings), slo_url. -1 when a field is missing or of the wrong type. */
static int
idp_fields_from(struct api *a, struct sp_idp_fields *f)
{
    memset(f, 0, sizeof *f);
    f->entity_id = str_field(a, "entity_id");
    f->sso_url = str_field(a, "sso_url");
    f->slo_url = str_field(a, "slo_url");
    const char *binding = str_field(a, "sso_binding");
    if (binding != NULL && strcmp(binding, "redirect") != 0 && strcmp(binding, "post") != 0)
        return -1;
    f->post_binding = binding != NULL && strcmp(binding, "post") == 0;
    json_t *certs = json_object_get(a->body, "certs"), *v;
    size_t i;
    if (!json_is_array(certs) || json_array_size(certs) > SP_MAX_CERTS + 1)
        return -1;
    json_array_foreach(certs, i, v)
    {
        if (!json_is_string(v))
            return -1;
        f->certs[f->n_certs++] = json_string_value(v);
    }
    return f->entity_id == NULL || f->sso_url == NULL ? -1 : 0;
}

static int
idps_remove(struct api *a, const char *const *arg)
{
    (void)arg;
    char msg[1024] = "";
    const char *e = str_field(a, "entity_id");
    if (e == NULL)
        return err(a, 400, "bad_request", "Send {\"entity_id\": \"...\"}.");
    return answer(a, idp_remove(a->w->store, &a->who, e, msg, sizeof msg), msg, NULL);
}

static int
idps_set(struct api *a, const char *const *arg)
{
    (void)arg;
    struct idp_options o;
    char msg[1024] = "";
    if (idp_options_from(a, &o, 1) != 0)
        return err(a, 400, "bad_request",
                   "domains must be a list of strings and group_roles an object of roles.");
    const char *e = str_field(a, "entity_id");
    if (e == NULL)
        return err(a, 400, "bad_request", "Send {\"entity_id\": \"...\", ...changes}.");
    o.metadata = str_field(a, "metadata"); /* reloads endpoints and certificates */
    o.metadata_len = o.metadata ? strlen(o.metadata) : 0;
    return answer(a, idp_set(a->w->store, &a->who, e, &o, msg, sizeof msg), msg, NULL);
}

static int
idps_add(struct api *a, const char *const *arg)
{
    (void)arg;
    struct idp_options o;
    char msg[1024] = "";
    if (idp_options_from(a, &o, 0) != 0)
        return err(a, 400, "bad_request",
                   "domains must be a list of strings and group_roles an object of roles.");
    const char *md = str_field(a, "metadata");
    o.entity_id = str_field(a, "entity_id");
    char entity[SP_ENTITY_MAX];
    enum account_rc rc;
    const char *url = str_field(a, "metadata_url");
    if (md != NULL) {
        rc = idp_add(a->w->store, &a->who, md, strlen(md), &o, entity, sizeof entity, msg,
                     sizeof msg);
    } else if (url != NULL) {
        rc = idp_add_from_url(a->w->store, &a->who, a->w->live->conf.sp_metadata_ca_file, url,
                              str_field(a, "metadata_cert"), &o, entity, sizeof entity, msg,
                              sizeof msg);
    } else {
        struct sp_idp_fields f;
        if (idp_fields_from(a, &f) != 0)
            return err(a, 400, "bad_request",
                       "Send {\"metadata\": \"<EntityDescriptor ...>\"}, or {\"entity_id\", "
                       "\"sso_url\", \"sso_binding\": \"redirect\"|\"post\", \"certs\": "
                       "[\"PEM or base64\"], \"slo_url\"?}.");
        rc = idp_add_from_fields(a->w->store, &a->who, &f, &o, entity, sizeof entity, msg,
                                 sizeof msg);
    }
    if (rc == ACCOUNT_OK)
        return web_json(a->r, 201, json_pack("{s:s, s:s}", "entity_id", entity, "note", msg));
    return answer(a, rc, msg, NULL);
}

/* ---- federations ---- */

static int
add_federation(const struct federation_row *f, void *ctx)
{
    json_array_append_new(ctx, admin_federation_json(f));
    return 0;
}

/* GET federations; POST federations {url, cert, name?}, federations/refresh {url},
 * federations/remove {url}. Reading is an admin's; every change is a trust decision
 * (AZ_IDP_TRUST: owners), refused by federation.c with 403 for anyone else. */
static int
federations(struct api *a, const char *rest, int post)
{
    struct store *s = a->w->store;
    char msg[1024] = "";
    if (!post) {
        if (rest[0] != '\0')
            return err(a, 404, "not_found", "No such resource.");
        json_t *arr = json_array();
        if (store_federation_list(s, add_federation, arr) != 0) {
            json_decref(arr);
            return err(a, 500, "internal", "Cannot read the federations.");
        }
        return web_json(a->r, 200, json_pack("{s:o}", "federations", arr));
    }
    const char *url = str_field(a, "url");
    const char *ca = a->w->app->conf.sp_metadata_ca_file;
    if (url == NULL)
        return err(a, 400, "bad_request", "Send {\"url\": \"...\"}.");
    if (rest[0] == '\0') {
        const char *cert = str_field(a, "cert");
        enum account_rc rc =
            federation_add(s, &a->who, ca, url, cert, str_field(a, "name"), msg, sizeof msg);
        if (rc == ACCOUNT_OK)
            return web_json(a->r, 201, json_pack("{s:s, s:s}", "url", url, "note", msg));
        return answer(a, rc, msg, NULL);
    }
    enum account_rc rc;
    if (strcmp(rest, "refresh") == 0)
        rc = federation_refresh(s, &a->who, ca, url, msg, sizeof msg);
    else if (strcmp(rest, "remove") == 0)
        rc = federation_remove(s, &a->who, url, msg, sizeof msg);
    else
        return err(a, 404, "not_found", "No such federation action.");
    if (rc == ACCOUNT_REFUSED && strncmp(msg, "no federation", 13) == 0)
        return err(a, 404, "not_found", msg);
    return answer(a, rc, msg, rc == ACCOUNT_OK ? json_pack("{s:s}", "note", msg) : NULL);
}

/* ---- logs and the dashboard ---- */

static int
add_saml_row(const struct saml_log_row *r, void *ctx)
{
    json_array_append_new(ctx, admin_saml_log_json(r));
    return 0;
}

static long long
limit_param(struct req *r)
{
    const char *l = req_query(r, "limit"), *e;
    long long n = l ? str_to_num(l, 1, API_LIST_MAX, &e) : 100;
    return (l && e) ? 100 : n;
}

static int
saml_log(struct api *a, const char *rest)
{
    if (rest[0] != '\0') {
        const char *e;
        long long id =
            str_to_num(strncmp(rest, "SAML-", 5) == 0 ? rest + 5 : rest, 1, (long long)1 << 62, &e);
        struct saml_log_row row;
        if (e != NULL || store_saml_log_get(a->w->store, id, &row) != 0)
            return err(a, 404, "not_found", "No such SAML log entry.");
        int shut = samllog_open(&row, &a->w->app->secrets) != 0;
        json_t *o = admin_saml_log_json(&row);
        json_object_set_new(o, "xml", row.xml ? json_string(row.xml) : json_null());
        if (shut)
            json_object_set_new(o, "xml_error",
                                json_string("sealed; does not open with this data key"));
        free(row.xml);
        return web_json(a->r, 200, o);
    }
    const char *failed = req_query(a->r, "failed");
    json_t *arr = json_array();
    if (store_saml_log_list(a->w->store, failed && strcmp(failed, "0") != 0, req_query(a->r, "idp"),
                            req_query(a->r, "user"), limit_param(a->r), add_saml_row, arr) != 0) {
        json_decref(arr);
        return err(a, 500, "internal", "Cannot read the SAML log.");
    }
    return web_json(a->r, 200, json_pack("{s:o}", "entries", arr));
}

static int
add_audit_row(const struct audit_row *r, void *ctx)
{
    json_array_append_new(ctx, admin_audit_json(r));
    return 0;
}

static int
audit(struct api *a)
{
    struct audit_filter f = {.limit = limit_param(a->r),
                             .action = req_query(a->r, "action"),
                             .actor = req_query(a->r, "actor"),
                             .target = req_query(a->r, "target")};
    const char *since = req_query(a->r, "since");
    if (since != NULL && clock_parse_iso(since, &f.since) != 0)
        return err(a, 400, "bad_request", "since must be a time like 2026-11-23T09:00:00Z.");
    json_t *arr = json_array();
    if (store_audit_list(a->w->store, &f, add_audit_row, arr) != 0) {
        json_decref(arr);
        return err(a, 500, "internal", "Cannot read the audit log.");
    }
    return web_json(a->r, 200, json_pack("{s:o}", "entries", arr));
}

static void
add_hour(time_t hour, const char *method, const char *result, long long n, void *ctx)
{
    char at[32], key[48];
    json_t *hours = ctx, *h = json_object_get(hours, clock_iso(hour, at, sizeof at));
    if (h == NULL) {
        h = json_object();
        json_object_set_new(hours, at, h);
    }
    snprintf(key, sizeof key, "%s_%s", method, result);
    json_object_set_new(h, key, json_integer((json_int_t)n));
}

static int
stats(struct api *a)
{
    time_t now = a->w->now, since = (now / 3600 - 23) * 3600;
    json_t *hours = json_object();
    long long locked = 0;
    if (store_signin_hourly(a->w->store, since, add_hour, hours) != 0 ||
        login_locked_count(a->w->store, &locked) != 0) {
        json_decref(hours);
        return err(a, 500, "internal", "Cannot read the sign-in counts.");
    }
    return web_json(a->r, 200,
                    json_pack("{s:o, s:I}", "hours", hours, "locked", (json_int_t)locked));
}

/* ---- roles ---- */

static void
perm_names(json_t *arr, unsigned perms)
{
    const struct authz_perm_def *d = authz_perms();
    for (int i = 0; i < PERM_COUNT; i++)
        if (perms & PERM_BIT(i))
            json_array_append_new(arr, json_string(d[i].name));
}

static void
add_role(const char *name, unsigned perms, void *ctx)
{
    json_t *o = json_pack("{s:s, s:o, s:b}", "name", name, "permissions", json_array(), "builtin",
                          roles_builtin(name));
    perm_names(json_object_get(o, "permissions"), perms);
    json_array_append_new(ctx, o);
}

static int
roles_get(struct api *a, const char *const *arg)
{
    (void)arg;
    json_t *arr = json_array(), *list = json_array();
    if (roles_each(a->w->app->roles, a->w->store, add_role, arr) != 0) {
        json_decref(arr);
        json_decref(list);
        return err(a, 500, "internal", "Cannot read the roles.");
    }
    const struct authz_perm_def *d = authz_perms();
    for (int i = 0; i < PERM_COUNT; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:b}", "name", d[i].name, "label",
                                              d[i].label, "owner_only", d[i].owner_only));
    return web_json(a->r, 200, json_pack("{s:o, s:o}", "roles", arr, "permissions", list));
}

struct one_role {
    const char *name;
    json_t *found;
};

static void
find_role(const char *name, unsigned perms, void *ctx)
{
    struct one_role *o = ctx;
    if (o->found == NULL && strcmp(name, o->name) == 0) {
        json_t *arr = json_array();
        add_role(name, perms, arr);
        o->found = json_incref(json_array_get(arr, 0));
        json_decref(arr);
    }
}

static int
role_get(struct api *a, const char *const *arg)
{
    struct one_role o = {arg[0], NULL};
    if (roles_each(a->w->app->roles, a->w->store, find_role, &o) != 0)
        return err(a, 500, "internal", "Cannot read the roles.");
    if (o.found == NULL)
        return err(a, 404, "not_found", "No such role.");
    return web_json(a->r, 200, o.found);
}

/* {"permissions": ["users.view", ...]} as one comma-separated list (in the arena); NULL when
 * it is not a list of strings. */
static const char *
perms_field(struct api *a)
{
    json_t *list = a->body ? json_object_get(a->body, "permissions") : NULL, *v;
    size_t i, len = 1;
    if (!json_is_array(list))
        return NULL;
    json_array_foreach(list, i, v)
    {
        if (!json_is_string(v))
            return NULL;
        len += strlen(json_string_value(v)) + 1;
    }
    char *out = arena_alloc(req_arena(a->r), len);
    if (out == NULL)
        return NULL;
    size_t used = 0;
    out[0] = '\0';
    json_array_foreach(list, i, v)
    {
        int w = snprintf(out + used, len - used, "%s%s", i ? "," : "", json_string_value(v));
        if (w < 0 || (size_t)w >= len - used)
            return NULL;
        used += (size_t)w;
    }
    return out;
}

static int
role_add(struct api *a, const char *const *arg)
{
    (void)arg;
    const char *name = str_field(a, "name"), *perms = perms_field(a);
    char msg[512] = "";
    if (name == NULL || perms == NULL)
        return err(a, 400, "bad_request",
                   "Send {\"name\": \"...\", \"permissions\": [\"saml_log.view\", ...]}.");
    enum account_rc rc = roles_add(a->w->app, a->w->store, &a->who, name, perms, msg, sizeof msg);
    if (rc == ACCOUNT_OK)
        return web_json(a->r, 201, json_pack("{s:s}", "name", name));
    return answer(a, rc, msg, NULL);
}

static int
role_set(struct api *a, const char *const *arg)
{
    const char *perms = perms_field(a);
    char msg[512] = "";
    if (perms == NULL)
        return err(a, 400, "bad_request", "Send {\"permissions\": [\"saml_log.view\", ...]}.");
    enum account_rc rc = roles_set(a->w->app, a->w->store, &a->who, arg[0], perms, msg, sizeof msg);
    if (rc == ACCOUNT_REFUSED && strncmp(msg, "no role", 7) == 0)
        return err(a, 404, "not_found", msg);
    return answer(a, rc, msg, NULL);
}

static int
role_remove(struct api *a, const char *const *arg)
{
    char msg[512] = "";
    enum account_rc rc = roles_remove(a->w->app, a->w->store, &a->who, arg[0], msg, sizeof msg);
    if (rc == ACCOUNT_REFUSED && strncmp(msg, "no role", 7) == 0)
        return err(a, 404, "not_found", msg);
    if (rc == ACCOUNT_REFUSED && strstr(msg, "in use") != NULL)
        return err(a, 409, "in_use", msg);
    return answer(a, rc, msg, NULL);
}

/* ---- dispatch ---- */

static int
users_list_h(struct api *a, const char *const *arg)
{
    (void)arg;
    return users_get(a, NULL);
}

static int
user_get_h(struct api *a, const char *const *arg)
{
    return users_get(a, arg[0]);
}

static int
users_create_h(struct api *a, const char *const *arg)
{
    (void)arg;
    return users_create(a);
}

static int
users_action_h(struct api *a, const char *const *arg)
{
    return users_action(a, arg[0], arg[1]);
}

static int
policy_get_h(struct api *a, const char *const *arg)
{
    (void)arg;
    return policy_get(a);
}

static int
policy_set_h(struct api *a, const char *const *arg)
{
    (void)arg;
    return policy_set(a);
}

static int
password_switch_h(struct api *a, const char *const *arg)
{
    (void)arg;
    return password_switch(a);
}

static int
idps_get_h(struct api *a, const char *const *arg)
{
    (void)arg;
    return idps_get(a);
}

static int
federations_get_h(struct api *a, const char *const *arg)
{
    (void)arg;
    return federations(a, "", 0);
}

static int
federations_add_h(struct api *a, const char *const *arg)
{
    (void)arg;
    return federations(a, "", 1);
}

static int
federations_action_h(struct api *a, const char *const *arg)
{
    return federations(a, arg[0], 1);
}

static int
saml_log_list_h(struct api *a, const char *const *arg)
{
    (void)arg;
    return saml_log(a, "");
}

static int
saml_log_entry_h(struct api *a, const char *const *arg)
{
    return saml_log(a, arg[0]);
}

static int
audit_h(struct api *a, const char *const *arg)
{
    (void)arg;
    return audit(a);
}

static int
stats_h(struct api *a, const char *const *arg)
{
    (void)arg;
    return stats(a);
}

/* Every admin API route with the permission it needs: the one list dispatch goes through
 * (a resource not here does not exist) and `gatehouse -p routes` prints. In a pattern, "*"
 * is one path segment, handed to the handler in order. Finer checks (whose account, which
 * role, a trust decision) are the operations' own (auth/authz.h). */
static const struct api_route {
    const char *method;
    const char *pattern;
    enum authz_perm perm;
    int (*fn)(struct api *a, const char *const *arg);
} api_routes[] = {
    {"GET", "users", PERM_USERS_VIEW, users_list_h},
    {"POST", "users", PERM_USERS_EDIT, users_create_h},
    {"GET", "users/*", PERM_USERS_VIEW, user_get_h},
    {"POST", "users/*/*", PERM_USERS_EDIT, users_action_h},
    {"GET", "policy", PERM_POLICY_VIEW, policy_get_h},
    {"POST", "policy", PERM_POLICY_EDIT, policy_set_h},
    {"POST", "password-login", PERM_PASSWORD_LOGIN, password_switch_h},
    {"GET", "idps", PERM_IDPS_VIEW, idps_get_h},
    {"POST", "idps", PERM_IDPS_EDIT, idps_add},
    {"POST", "idps/set", PERM_IDPS_EDIT, idps_set},
    {"POST", "idps/remove", PERM_IDPS_EDIT, idps_remove},
    {"GET", "federations", PERM_IDPS_VIEW, federations_get_h},
    {"POST", "federations", PERM_IDPS_EDIT, federations_add_h},
    {"POST", "federations/*", PERM_IDPS_EDIT, federations_action_h},
    {"GET", "saml-log", PERM_SAML_LOG_VIEW, saml_log_list_h},
    {"GET", "saml-log/*", PERM_SAML_LOG_VIEW, saml_log_entry_h},
    {"GET", "audit", PERM_AUDIT_VIEW, audit_h},
    {"GET", "stats", PERM_DASHBOARD_VIEW, stats_h},
    {"GET", "roles", PERM_ROLES_VIEW, roles_get},
    {"GET", "roles/*", PERM_ROLES_VIEW, role_get},
    {"POST", "roles", PERM_ROLES_EDIT, role_add},
    {"POST", "roles/*", PERM_ROLES_EDIT, role_set},
    {"POST", "roles/*/remove", PERM_ROLES_EDIT, role_remove},
};

#define API_MAX_ARGS 2
#define API_SEGMENT_MAX 320

/* Whether path matches pattern; the segments "*" stood for go to arg (in the arena). */
static int
match(struct req *r, const char *pattern, const char *path, const char **arg)
{
    size_t n = 0;
    while (*pattern != '\0') {
        size_t seg = strcspn(path, "/");
        if (*pattern == '*') {
            if (seg == 0 || n == API_MAX_ARGS)
                return 0;
            arg[n++] = arena_strndup(req_arena(r), path, seg);
            pattern++;
        } else {
            size_t lit = strcspn(pattern, "/");
            if (lit != seg || strncmp(pattern, path, seg) != 0)
                return 0;
            pattern += lit;
        }
        path += seg;
        if (*pattern != *path)
            return 0;
        if (*pattern == '/') {
            pattern++;
            path++;
        }
    }
    return *path == '\0';
}

const char *
admin_api_route(size_t i, const char **method, const char **perm)
{
    if (i >= sizeof api_routes / sizeof api_routes[0])
        return NULL;
    *method = api_routes[i].method;
    *perm = authz_perms()[api_routes[i].perm].name;
    return api_routes[i].pattern;
}

static int
dispatch(struct api *a, int post)
{
    const char *method = post ? "POST" : "GET";
    if ((a->who.perms & PERM_ALL) == 0 && !authz_is_all_powerful(a->who.role))
        return err(a, 403, "forbidden", "Your role holds no admin permission.");
    if (strlen(a->path) > 2 * API_SEGMENT_MAX)
        return err(a, 400, "bad_request", "The path is too long.");
    for (size_t i = 0; i < sizeof api_routes / sizeof api_routes[0]; i++) {
        const struct api_route *rt = &api_routes[i];
        const char *arg[API_MAX_ARGS] = {NULL, NULL};
        if (strcmp(rt->method, method) != 0 || !match(a->r, rt->pattern, a->path, arg))
            continue;
        if (!authz_holds(&a->who, rt->perm)) {
            char why[160];
            snprintf(why, sizeof why, "Your role (%s) may not do this: it needs the %s permission.",
                     a->who.role, authz_perms()[rt->perm].name);
            return err(a, 403, "forbidden", why);
        }
        for (size_t k = 0; k < API_MAX_ARGS; k++)
            if (arg[k] != NULL && strlen(arg[k]) > API_SEGMENT_MAX)
                return err(a, 400, "bad_request", "A path segment is too long.");
        return rt->fn(a, arg);
    }
    return err(a, 404, "not_found", "No such admin API resource.");
}

static int
start(struct req *r, int post)
{
    struct web *w = web_of(r);
    if (!w->signed_in)
        return web_json_error(r, 401, "unauthenticated", "Sign in first.");
    struct api a = {r, w, web_actor(r), req_path(r) + strlen("/api/admin/"), NULL};
    if (post) {
        size_t len;
        const char *body = req_body(r, &len);
        json_error_t jerr;
        a.body = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(a.body)) {
            json_decref(a.body);
            return web_json_error(r, 400, "bad_request", "The body must be a JSON object.");
        }
    }
    int rc = dispatch(&a, post);
    json_decref(a.body);
    return rc;
}

int
route_admin_api_get(struct req *r)
{
    return start(r, 0);
}

int
route_admin_api_post(struct req *r)
{
    return start(r, 1);
}
