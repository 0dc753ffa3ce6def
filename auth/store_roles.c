/* auth/store_roles.c: roles and the permissions each holds (store.h; auth/roles.h gives them
 * meaning). */
#include "store.h"

#include <stdio.h>
#include <string.h>

#include "store_internal.h"

#define ROLE_COLS "name, permissions, builtin, created_at, updated_at"

static void
read_role(struct db_stmt *st, struct role_row *r)
{
    memset(r, 0, sizeof *r);
    db_text(st, 0, r->name, sizeof r->name);
    db_text(st, 1, r->permissions, sizeof r->permissions);
    r->builtin = (int)db_int(st, 2);
    r->created_at = (time_t)db_int(st, 3);
    r->updated_at = (time_t)db_int(st, 4);
}

int
store_role_list(struct store *s, int (*cb)(const struct role_row *r, void *ctx), void *ctx)
{
    static const char q[] = "SELECT " ROLE_COLS " FROM roles ORDER BY name";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        struct role_row r;
        read_role(st, &r);
        if (cb(&r, ctx) != 0) {
            rc = DB_DONE;
            break;
        }
    }
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}

int
store_role_get(struct store *s, const char *name, struct role_row *out)
{
    static const char q[] = "SELECT " ROLE_COLS " FROM roles WHERE name = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, name);
    int rc = db_step(st), ret = rc == DB_ROW ? 0 : rc == DB_DONE ? 1 : -1;
    if (rc == DB_ROW)
        read_role(st, out);
    db_reset(st);
    return ret;
}

int
store_role_insert(struct store *s, const struct role_row *r)
{
    static const char q[] = "INSERT INTO roles (" ROLE_COLS ") VALUES (?, ?, 0, ?, ?)";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, r->name);
    db_bind_text(st, 2, r->permissions);
    db_bind_int(st, 3, r->created_at);
    db_bind_int(st, 4, r->updated_at);
    return db_exec_insert(st);
}

int
store_role_set_permissions(struct store *s, const char *name, const char *permissions, time_t at)
{
    static const char q[] = "UPDATE roles SET permissions = ?, updated_at = ? WHERE name = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, permissions);
    db_bind_int(st, 2, at);
    db_bind_text(st, 3, name);
    return db_exec_changed(st);
}

int
store_role_delete(struct store *s, const char *name)
{
    static const char q[] = "DELETE FROM roles WHERE name = ? AND builtin = 0";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, name);
    return db_exec_changed(st);
}

static int
count(struct store *s, const char *q, int nbind, const char *name, long long *n)
{
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    for (int i = 1; i <= nbind; i++)
        db_bind_text(st, i, name);
    int rc = db_step(st);
    if (rc == DB_ROW)
        *n = db_int(st, 0);
    db_reset(st);
    return rc == DB_ROW ? 0 : -1;
}

int
store_role_usage(struct store *s, const char *name, long long *users, long long *idps)
{
    static const char q_users[] = "SELECT COUNT(*) FROM users WHERE role = ?";
    static const char q_idps[] = "SELECT COUNT(*) FROM idps WHERE default_role = ? OR entity_id IN "
                                 "(SELECT entity_id FROM idp_group_roles WHERE role = ?)";
    *users = *idps = 0;
    return count(s, q_users, 1, name, users) == 0 && count(s, q_idps, 2, name, idps) == 0 ? 0 : -1;
}
