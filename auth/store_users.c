/* auth/store_users.c: the store's users, their password history, SAML users and the failed sign-in
 * state (lockouts) (store.h). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_internal.h"

#define USER_COLS                                                                                  \
    "id, email, display_name, role, status, auth_method, password_hash, must_change, created_at, " \
    "last_login_at, password_changed_at, idp, name_id, mfa_enabled"

/* ---- users ---- */

void
store_read_user(struct db_stmt *st, struct user *u)
{
    memset(u, 0, sizeof *u);
    u->id = db_int(st, 0);
    db_text(st, 1, u->email, sizeof u->email);
    db_text(st, 2, u->display_name, sizeof u->display_name);
    db_text(st, 3, u->role, sizeof u->role);
    db_text(st, 4, u->status, sizeof u->status);
    db_text(st, 5, u->auth_method, sizeof u->auth_method);
    db_text(st, 6, u->password_hash, sizeof u->password_hash);
    u->must_change = db_int(st, 7);
    u->created_at = (time_t)db_int(st, 8);
    u->last_login_at = (time_t)db_int(st, 9);
    u->password_changed_at = (time_t)db_int(st, 10);
    db_text(st, 11, u->idp, sizeof u->idp);
    db_text(st, 12, u->name_id, sizeof u->name_id);
    u->mfa_enabled = db_int(st, 13);
}

/* Steps a one-row query into out; 0 found, 1 none, -1 error. */
static int
one_user(struct db_stmt *st, struct user *out)
{
    int rc = db_one(st);
    if (rc == 0) {
        store_read_user(st, out);
        db_reset(st);
    }
    return rc;
}

int
store_user_by_email(struct store *s, const char *email, struct user *out)
{
    static const char q[] = "SELECT " USER_COLS " FROM users WHERE email = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, email);
    return one_user(st, out);
}

int
store_user_by_id(struct store *s, long long id, struct user *out)
{
    static const char q[] = "SELECT " USER_COLS " FROM users WHERE id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, id);
    return one_user(st, out);
}

int
store_user_insert(struct store *s, const struct user *u, long long *id_out)
{
    static const char q[] =
        "INSERT INTO users (email, display_name, role, status, auth_method, "
        "password_hash, must_change, created_at, last_login_at, "
        "password_changed_at, idp, name_id, mfa_enabled) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, u->email);
    db_bind_text(st, 2, u->display_name);
    db_bind_text(st, 3, u->role);
    db_bind_text(st, 4, u->status[0] ? u->status : "active");
    db_bind_text(st, 5, u->auth_method);
    db_bind_text(st, 6, u->password_hash);
    db_bind_int(st, 7, u->must_change);
    db_bind_int(st, 8, u->created_at);
    db_bind_int(st, 9, u->last_login_at);
    db_bind_int(st, 10, u->password_changed_at);
    db_bind_text(st, 11, u->idp);
    db_bind_text(st, 12, u->name_id);
    db_bind_int(st, 13, u->mfa_enabled);
    int rc = db_step(st);
    if (rc == DB_ROW && id_out != NULL)
        *id_out = db_int(st, 0);
    db_reset(st);
    if (rc == DB_DONE) /* nothing returned: the e-mail address (or SAML subject) exists */
        return 1;
    return rc == DB_ROW ? 0 : -1;
}

static int
count_users(struct store *s, const char *sql, const char *role, long long *n_out)
{
    struct db_stmt *st = db_stmt(s, sql);
    if (st == NULL)
        return -1;
    if (role != NULL)
        db_bind_text(st, 1, role);
    int rc = db_step(st);
    if (rc == DB_ROW)
        *n_out = db_int(st, 0);
    db_reset(st);
    return rc == DB_ROW ? 0 : -1;
}

int
store_user_count(struct store *s, const char *role, long long *n_out)
{
    static const char q_user_count[] = "SELECT COUNT(*) FROM users";
    static const char q_user_count_role[] = "SELECT COUNT(*) FROM users WHERE role = ?";
    return count_users(s, role ? q_user_count_role : q_user_count, role, n_out);
}

int
store_user_count_active(struct store *s, const char *role, long long *n_out)
{
    static const char q[] = "SELECT COUNT(*) FROM users WHERE role = ? AND status = 'active'";
    return count_users(s, q, role, n_out);
}

int
store_user_list(struct store *s, int (*cb)(const struct user *, void *), void *ctx)
{
    static const char q[] = "SELECT " USER_COLS " FROM users ORDER BY email";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    struct user u;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        store_read_user(st, &u);
        if (cb(&u, ctx) != 0) {
            rc = DB_DONE;
            break;
        }
    }
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}

int
store_user_set_password(struct store *s, long long id, const char *hash, int must_change, time_t at,
                        const char *kind)
{
    static const char q_history_insert[] =
        "INSERT INTO password_history (user_id, hash, kind, created_at) "
        "VALUES (?, ?, ?, ?)";
    static const char q_user_set_password[] =
        "UPDATE users SET password_hash = ?, must_change = ?, "
        "password_changed_at = ? WHERE id = ?";
    struct db_stmt *st = db_stmt(s, q_user_set_password);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, hash);
    db_bind_int(st, 2, must_change);
    db_bind_int(st, 3, at);
    db_bind_int(st, 4, id);
    if (db_exec(st) != 0)
        return -1;
    st = db_stmt(s, q_history_insert);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, id);
    db_bind_text(st, 2, hash);
    db_bind_text(st, 3, kind);
    db_bind_int(st, 4, at);
    return db_exec(st);
}

int
store_user_rehash(struct store *s, long long id, const char *hash)
{
    static const char q[] = "UPDATE users SET password_hash = ? WHERE id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, hash);
    db_bind_int(st, 2, id);
    return db_exec(st);
}

int
store_user_set_login(struct store *s, long long id, time_t at)
{
    static const char q[] = "UPDATE users SET last_login_at = ? WHERE id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, at);
    db_bind_int(st, 2, id);
    return db_exec(st);
}

/* The three setters of one text column. */
static int
set_text(struct store *s, const char *sql, long long id, const char *value)
{
    struct db_stmt *st = db_stmt(s, sql);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, value);
    db_bind_int(st, 2, id);
    return db_exec_changed(st);
}

int
store_user_set_name(struct store *s, long long id, const char *name)
{
    static const char q[] = "UPDATE users SET display_name = ? WHERE id = ?";
    return set_text(s, q, id, name);
}

int
store_user_set_role(struct store *s, long long id, const char *role)
{
    static const char q[] = "UPDATE users SET role = ? WHERE id = ?";
    return set_text(s, q, id, role);
}

int
store_user_set_disabled(struct store *s, long long id, int disabled)
{
    static const char q[] = "UPDATE users SET status = ? WHERE id = ?";
    return set_text(s, q, id, disabled ? "disabled" : "active");
}

int
store_user_set_must_change(struct store *s, long long id, int must_change)
{
    static const char q[] = "UPDATE users SET must_change = ? WHERE id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, must_change);
    db_bind_int(st, 2, id);
    return db_exec(st);
}

int
store_user_delete(struct store *s, long long id)
{
    static const char q[] = "DELETE FROM users WHERE id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, id);
    return db_exec(st);
}

int
store_password_history(struct store *s, long long user_id, char (*hashes)[STORE_HASH_MAX],
                       size_t max, size_t *n_out)
{
    static const char q[] = "SELECT hash FROM password_history WHERE user_id = ? "
                            "ORDER BY created_at DESC, id DESC LIMIT ?";
    *n_out = 0;
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, user_id);
    db_bind_int(st, 2, (long long)max);
    int rc;
    while ((rc = db_step(st)) == DB_ROW && *n_out < max)
        db_text(st, 0, hashes[(*n_out)++], STORE_HASH_MAX);
    db_reset(st);
    return (rc == DB_DONE || rc == DB_ROW) ? 0 : -1;
}

int
store_password_changes_since(struct store *s, long long user_id, time_t since, time_t *times,
                             size_t max, size_t *n_out)
{
    static const char q[] = "SELECT created_at FROM password_history WHERE user_id = ? "
                            "AND kind IN ('user', 'self_reset') AND created_at >= ? "
                            "ORDER BY created_at DESC, id DESC LIMIT ?";
    *n_out = 0;
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, user_id);
    db_bind_int(st, 2, since);
    db_bind_int(st, 3, (long long)max);
    int rc;
    while ((rc = db_step(st)) == DB_ROW && *n_out < max)
        times[(*n_out)++] = (time_t)db_int(st, 0);
    db_reset(st);
    return (rc == DB_DONE || rc == DB_ROW) ? 0 : -1;
}

int
store_user_by_saml(struct store *s, const char *idp, const char *name_id, struct user *out)
{
    static const char q[] =
        "SELECT " USER_COLS " FROM users WHERE auth_method = 'saml' AND idp = ? "
        "AND name_id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, idp);
    db_bind_text(st, 2, name_id);
    return one_user(st, out);
}

int
store_user_saml_sync(struct store *s, long long id, const char *email, const char *name,
                     const char *role)
{
    /* Another account's e-mail is refused by the WHERE, not by a failing UNIQUE constraint,
     * which would abort the caller's transaction on PostgreSQL. */
    static const char q[] = "UPDATE users SET email = ?, display_name = ?, role = ? WHERE id = ? "
                            "AND NOT EXISTS (SELECT 1 FROM users WHERE email = ? AND id <> ?)";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, email);
    db_bind_text(st, 2, name);
    db_bind_text(st, 3, role);
    db_bind_int(st, 4, id);
    db_bind_text(st, 5, email);
    db_bind_int(st, 6, id);
    int rc = db_step(st);
    long long changed = db_changes(st);
    db_reset(st);
    if (rc == DB_DUP || (rc == DB_DONE && changed == 0))
        return 1;
    return rc == DB_DONE ? 0 : -1;
}

int
store_user_rekey(struct store *s, long long id, const char *idp, const char *name_id)
{
    /* A NameID another user of the IdP has is refused by the WHERE (see store_user_saml_sync);
     * the second statement tells that from "no SAML user of idp". */
    static const char q[] = "UPDATE users SET name_id = ? WHERE id = ? AND auth_method = 'saml' "
                            "AND idp = ? AND NOT EXISTS (SELECT 1 FROM users WHERE "
                            "auth_method = 'saml' AND idp = ? AND name_id = ? AND id <> ?)";
    static const char q_taken[] = "SELECT COUNT(*) FROM users WHERE auth_method = 'saml' "
                                  "AND idp = ? AND name_id = ? AND id <> ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, name_id);
    db_bind_int(st, 2, id);
    db_bind_text(st, 3, idp);
    db_bind_text(st, 4, idp);
    db_bind_text(st, 5, name_id);
    db_bind_int(st, 6, id);
    int rc = db_step(st);
    long long changed = db_changes(st);
    db_reset(st);
    if (rc == DB_DUP)
        return 1;
    if (rc != DB_DONE)
        return -1;
    if (changed == 1)
        return 0;
    st = db_stmt(s, q_taken);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, idp);
    db_bind_text(st, 2, name_id);
    db_bind_int(st, 3, id);
    if (db_one(st) != 0)
        return -1;
    long long taken = db_int(st, 0);
    db_reset(st);
    return taken > 0 ? 1 : -1;
}

/* ---- lockout ---- */

int
store_lockout_get(struct store *s, const char *email, struct lockout_row *out)
{
    static const char q[] =
        "SELECT failures, first_failure, locked_until FROM lockouts WHERE email = ?";
    memset(out, 0, sizeof *out);
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, email);
    int rc = db_step(st), ret = -1;
    if (rc == DB_ROW) {
        out->failures = db_int(st, 0);
        out->first_failure = (time_t)db_int(st, 1);
        out->locked_until = (time_t)db_int(st, 2);
        ret = 0;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

int
store_lockout_put(struct store *s, const char *email, const struct lockout_row *row)
{
    static const char q[] = "INSERT INTO lockouts (email, failures, first_failure, locked_until) "
                            "VALUES (?, ?, ?, ?) ON CONFLICT (email) DO UPDATE SET "
                            "failures = excluded.failures, first_failure = excluded.first_failure, "
                            "locked_until = excluded.locked_until";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, email);
    db_bind_int(st, 2, row->failures);
    db_bind_int(st, 3, row->first_failure);
    db_bind_int(st, 4, row->locked_until);
    return db_exec(st);
}

int
store_lockout_clear(struct store *s, const char *email)
{
    static const char q[] = "DELETE FROM lockouts WHERE email = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, email);
    return db_exec(st);
}

int
store_lockouts_each(struct store *s,
                    int (*cb)(const char *email, const struct lockout_row *row, void *ctx),
                    void *ctx)
{
    static const char q[] = "SELECT email, failures, first_failure, locked_until FROM lockouts "
                            "WHERE locked_until <> 0";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        struct lockout_row row = {db_int(st, 1), (time_t)db_int(st, 2), (time_t)db_int(st, 3)};
        if (cb(db_str(st, 0), &row, ctx) != 0) {
            rc = DB_DONE;
            break;
        }
    }
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}
