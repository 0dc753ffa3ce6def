#include "roles.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "authz.h"
#include "clock.h"
#include "log.h"
#include "store.h"
#include "str.h"

/* More roles than anyone manages by hand; the cache and the listings stop here. */
#define ROLES_MAX 256

struct cached_role {
    char name[ROLE_NAME_MAX];
    unsigned perms;
};

struct roles_cache {
    pthread_mutex_t mu;
    long long version; /* of the roles held; -1: none loaded yet */
    size_t n;
    struct cached_role *roles; /* owner, admin, member, then by name */
};

struct roles_cache *
roles_cache_new(void)
{
    struct roles_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    pthread_mutex_init(&c->mu, NULL);
    c->version = -1;
    return c;
}

void
roles_cache_free(struct roles_cache *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c->roles);
    free(c);
}

int
roles_builtin(const char *name)
{
    return name != NULL && (strcmp(name, "owner") == 0 || strcmp(name, "admin") == 0 ||
                            strcmp(name, "member") == 0);
}

int
roles_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= ROLE_NAME_MAX || name[0] < 'a' || name[0] > 'z')
        return 0;
    /* The actors with every power are no role anyone may hold. */
    if (strcmp(name, "cli") == 0 || strcmp(name, "system") == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '.' || name[i] == '_' || name[i] == '-'))
            return 0;
    return 1;
}

/* A stored permission list: names this program does not know (a newer one wrote them, or a
 * permission was retired) are skipped with a warning; owner-only ones never count. */
static unsigned
stored_perms(const struct role_row *r)
{
    if (strcmp(r->name, "owner") == 0)
        return PERM_ALL;
    unsigned all = 0;
    char copy[sizeof r->permissions], bad[80];
    snprintf(copy, sizeof copy, "%s", r->permissions);
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        unsigned one = 0;
        if (authz_perms_parse(tok, &one, bad, sizeof bad) != 0)
            log_warn("role %s: unknown permission %s skipped", r->name, bad);
        all |= one;
    }
    return all & PERM_GRANTABLE;
}

static int
rank(const char *name)
{
    return strcmp(name, "owner") == 0    ? 0
           : strcmp(name, "admin") == 0  ? 1
           : strcmp(name, "member") == 0 ? 2
                                         : 3;
}

static int
by_rank_then_name(const void *a, const void *b)
{
    const struct cached_role *x = a, *y = b;
    int d = rank(x->name) - rank(y->name);
    return d != 0 ? d : strcmp(x->name, y->name);
}

struct load {
    struct cached_role *roles;
    size_t n;
};

static int
load_one(const struct role_row *r, void *ctx)
{
    struct load *l = ctx;
    if (l->n == ROLES_MAX)
        return 1;
    snprintf(l->roles[l->n].name, ROLE_NAME_MAX, "%s", r->name);
    l->roles[l->n++].perms = stored_perms(r);
    return 0;
}

static long long
read_version(struct store *s)
{
    char v[32] = "0";
    int r = store_setting_get(s, ROLES_VERSION, v, sizeof v);
    if (r < 0)
        return -1;
    const char *e;
    long long n = r == 1 ? 0 : str_to_num(v, 0, (long long)1 << 62, &e);
    return r == 1 ? 0 : e ? 0 : n;
}

/* Brings the cache to the store's current version: one settings read, and the roles read
 * again only when they changed. 0 or -1. */
static int
refresh(struct roles_cache *c, struct store *s)
{
    long long v = read_version(s);
    if (v < 0)
        return -1;
    pthread_mutex_lock(&c->mu);
    int current = c->version == v;
    pthread_mutex_unlock(&c->mu);
    if (current)
        return 0;
    struct load l = {calloc(ROLES_MAX, sizeof(struct cached_role)), 0};
    if (l.roles == NULL || store_role_list(s, load_one, &l) != 0) {
        free(l.roles);
        return -1;
    }
    qsort(l.roles, l.n, sizeof l.roles[0], by_rank_then_name);
    pthread_mutex_lock(&c->mu);
    free(c->roles);
    c->roles = l.roles;
    c->n = l.n;
    c->version = v;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int
roles_lookup(struct roles_cache *c, struct store *s, const char *role, unsigned *perms)
{
    *perms = 0;
    if (authz_is_all_powerful(role)) {
        *perms = PERM_ALL;
        return 0;
    }
    if (role == NULL || refresh(c, s) != 0)
        return role == NULL ? 1 : -1;
    int found = 1;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->roles[i].name, role) == 0) {
            *perms = c->roles[i].perms;
            found = 0;
            break;
        }
    pthread_mutex_unlock(&c->mu);
    return found;
}

int
roles_perms(struct roles_cache *c, struct store *s, const char *role, unsigned *perms)
{
    return roles_lookup(c, s, role, perms) < 0 ? -1 : 0;
}

int
roles_each(struct roles_cache *c, struct store *s,
           void (*cb)(const char *name, unsigned perms, void *ctx), void *ctx)
{
    if (refresh(c, s) != 0)
        return -1;
    /* A copy, so that cb runs without the lock. */
    struct cached_role *copy = NULL;
    size_t n;
    pthread_mutex_lock(&c->mu);
    n = c->n;
    copy = n ? malloc(n * sizeof *copy) : NULL;
    if (copy != NULL)
        memcpy(copy, c->roles, n * sizeof *copy);
    pthread_mutex_unlock(&c->mu);
    if (n != 0 && copy == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        cb(copy[i].name, copy[i].perms, ctx);
    free(copy);
    return 0;
}

/* ---- changes ---- */

/* Tells every process sharing the store that the roles changed (inside the change's
 * transaction). */
static int
bump_version(struct store *s)
{
    long long v = read_version(s);
    char text[32];
    if (v < 0)
        return -1;
    snprintf(text, sizeof text, "%lld", v + 1);
    return store_setting_put(s, ROLES_VERSION, text, clock_now());
}

static enum account_rc
finish(struct store *s, enum account_rc rc)
{
    if (rc == ACCOUNT_OK && store_commit(s) == 0)
        return ACCOUNT_OK;
    store_rollback(s);
    return rc == ACCOUNT_OK ? ACCOUNT_ERROR : rc;
}

static enum account_rc
owners_only(const struct actor *who, char *msg, size_t msglen)
{
    const char *why = NULL;
    if (authz_allowed(who, AZ_ROLES, NULL, &why))
        return ACCOUNT_OK;
    snprintf(msg, msglen, "%s", why);
    return ACCOUNT_FORBIDDEN;
}

/* The permission list as the store keeps it; refuses unknown and owner-only permissions. */
static enum account_rc
parse_perms(const char *text, char *out, size_t outlen, char *msg, size_t msglen)
{
    unsigned set;
    char bad[80];
    if (authz_perms_parse(text, &set, bad, sizeof bad) != 0) {
        snprintf(msg, msglen, "unknown permission \"%s\" (see: role list)", bad);
        return ACCOUNT_REFUSED;
    }
    if (set & ~PERM_GRANTABLE) {
        snprintf(msg, msglen,
                 "idps.trust and roles.edit are the owners' alone: no other role holds them");
        return ACCOUNT_REFUSED;
    }
    authz_perms_format(set, out, outlen);
    return ACCOUNT_OK;
}

enum account_rc
roles_add(struct app *a, struct store *s, const struct actor *who, const char *name,
          const char *perms, char *msg, size_t msglen)
{
    (void)a;
    struct role_row r;
    memset(&r, 0, sizeof r);
    enum account_rc rc = owners_only(who, msg, msglen);
    if (rc != ACCOUNT_OK)
        return rc;
    if (!roles_name_valid(name)) {
        snprintf(msg, msglen,
                 "\"%.40s\" is not a role name: 1-15 of a-z 0-9 . _ -, starting with a letter",
                 name ? name : "");
        return ACCOUNT_REFUSED;
    }
    rc = parse_perms(perms, r.permissions, sizeof r.permissions, msg, msglen);
    if (rc != ACCOUNT_OK)
        return rc;
    snprintf(r.name, sizeof r.name, "%s", name);
    r.created_at = r.updated_at = clock_now();
    if (store_begin_write(s) != 0)
        return ACCOUNT_ERROR;
    int ins = store_role_insert(s, &r);
    if (ins == 1) {
        snprintf(msg, msglen, "a role named %s exists already", name);
        return finish(s, ACCOUNT_REFUSED);
    }
    if (ins != 0 || bump_version(s) != 0 ||
        audit_record(s, who, "role.add", name, NULL, r.permissions) != 0)
        return finish(s, ACCOUNT_ERROR);
    return finish(s, ACCOUNT_OK);
}

enum account_rc
roles_set(struct app *a, struct store *s, const struct actor *who, const char *name,
          const char *perms, char *msg, size_t msglen)
{
    (void)a;
    struct role_row old;
    char text[sizeof old.permissions];
    enum account_rc rc = owners_only(who, msg, msglen);
    if (rc != ACCOUNT_OK)
        return rc;
    if (name != NULL && (strcmp(name, "owner") == 0 || strcmp(name, "member") == 0)) {
        snprintf(msg, msglen, "the %s role is fixed: %s", name,
                 name[0] == 'o' ? "owners hold everything" : "members hold no admin permission");
        return ACCOUNT_REFUSED;
    }
    rc = parse_perms(perms, text, sizeof text, msg, msglen);
    if (rc != ACCOUNT_OK)
        return rc;
    if (store_begin_write(s) != 0)
        return ACCOUNT_ERROR;
    int g = store_role_get(s, name ? name : "", &old);
    if (g == 1) {
        snprintf(msg, msglen, "no role %.40s", name ? name : "");
        return finish(s, ACCOUNT_REFUSED);
    }
    if (g != 0 || store_role_set_permissions(s, old.name, text, clock_now()) != 0 ||
        bump_version(s) != 0 ||
        audit_record(s, who, "role.set", old.name, old.permissions, text) != 0)
        return finish(s, ACCOUNT_ERROR);
    return finish(s, ACCOUNT_OK);
}

enum account_rc
roles_remove(struct app *a, struct store *s, const struct actor *who, const char *name, char *msg,
             size_t msglen)
{
    (void)a;
    struct role_row old;
    long long users = 0, idps = 0;
    enum account_rc rc = owners_only(who, msg, msglen);
    if (rc != ACCOUNT_OK)
        return rc;
    if (roles_builtin(name)) {
        snprintf(msg, msglen, "the built-in role %s cannot be removed", name);
        return ACCOUNT_REFUSED;
    }
    if (store_begin_write(s) != 0)
        return ACCOUNT_ERROR;
    int g = store_role_get(s, name ? name : "", &old);
    if (g == 1) {
        snprintf(msg, msglen, "no role %.40s", name ? name : "");
        return finish(s, ACCOUNT_REFUSED);
    }
    if (g != 0 || store_role_usage(s, old.name, &users, &idps) != 0)
        return finish(s, ACCOUNT_ERROR);
    if (users > 0 || idps > 0) {
        snprintf(msg, msglen,
                 "the role %s is in use: %lld user%s hold%s it and %lld IdP%s give%s it; give "
                 "them another role first (user set-role, idp set)",
                 old.name, users, users == 1 ? "" : "s", users == 1 ? "s" : "", idps,
                 idps == 1 ? "" : "s", idps == 1 ? "s" : "");
        return finish(s, ACCOUNT_REFUSED);
    }
    if (store_role_delete(s, old.name) != 0 || bump_version(s) != 0 ||
        audit_record(s, who, "role.remove", old.name, old.permissions, NULL) != 0)
        return finish(s, ACCOUNT_ERROR);
    return finish(s, ACCOUNT_OK);
}

int
roles_idp_may_grant(struct store *s, const char *role, char *msg, size_t msglen)
{
    struct role_row r;
    if (role == NULL || strcmp(role, "owner") == 0) {
        snprintf(msg, msglen, "owner is never granted by an IdP");
        return 0;
    }
    int g = store_role_get(s, role, &r);
    if (g == 1)
        snprintf(msg, msglen, "no role %.40s (see: role list)", role);
    return g == 0 ? 1 : g == 1 ? 0 : -1;
}
