/* auth/store_sessions.c: the store's sessions (store.h). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_internal.h"

/* ---- sessions ---- */

int
store_session_insert(struct store *s, const struct session_row *r)
{
    static const char q[] = "INSERT INTO sessions (token_hash, user_id, kind, restricted, "
                            "created_at, last_seen, client_addr, idp, name_id, session_index, "
                            "name_id_format, mfa, authn_context, groups, ends_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, r->token_hash);
    db_bind_int(st, 2, r->user_id);
    db_bind_int(st, 3, r->kind);
    db_bind_int(st, 4, r->restricted);
    db_bind_int(st, 5, r->created_at);
    db_bind_int(st, 6, r->last_seen);
    db_bind_text(st, 7, r->client_addr);
    db_bind_text(st, 8, r->idp);
    db_bind_text(st, 9, r->name_id);
    db_bind_text(st, 10, r->session_index);
    db_bind_text(st, 11, r->name_id_format);
    db_bind_int(st, 12, r->mfa);
    db_bind_text(st, 13, r->authn_context);
    db_bind_text(st, 14, r->groups);
    db_bind_int(st, 15, r->ends_at);
    return db_exec(st);
}

/* The session columns of a row from column `at` on. */
static void
read_session(struct db_stmt *st, int at, struct session_row *out)
{
    memset(out, 0, sizeof *out);
    db_text(st, at, out->token_hash, sizeof out->token_hash);
    out->user_id = db_int(st, at + 1);
    out->kind = db_int(st, at + 2);
    out->restricted = db_int(st, at + 3);
    out->created_at = (time_t)db_int(st, at + 4);
    out->last_seen = (time_t)db_int(st, at + 5);
    db_text(st, at + 6, out->client_addr, sizeof out->client_addr);
    db_text(st, at + 7, out->idp, sizeof out->idp);
    db_text(st, at + 8, out->name_id, sizeof out->name_id);
    db_text(st, at + 9, out->session_index, sizeof out->session_index);
    db_text(st, at + 10, out->name_id_format, sizeof out->name_id_format);
    out->mfa = db_int(st, at + 11);
    db_text(st, at + 12, out->authn_context, sizeof out->authn_context);
    db_text(st, at + 13, out->groups, sizeof out->groups);
    out->ends_at = (time_t)db_int(st, at + 14);
}

int
store_session_user_get(struct store *s, const char *token_hash, struct session_row *sess,
                       struct user *u, long long *settings_version)
{
    /* The settings' version rides along (one statement, one snapshot, one round trip): the
     * server re-reads the settings only when it moved (app_policy_at). */
    static const char q[] =
        "SELECT u.id, u.email, u.display_name, u.role, u.status, u.auth_method, u.password_hash, "
        "u.must_change, u.created_at, u.last_login_at, u.password_changed_at, u.idp, u.name_id, "
        "u.mfa_enabled, s.token_hash, s.user_id, s.kind, s.restricted, s.created_at, s.last_seen, "
        "s.client_addr, s.idp, s.name_id, s.session_index, s.name_id_format, s.mfa, "
        "s.authn_context, s.groups, s.ends_at, "
        "(SELECT CAST(value AS BIGINT) FROM settings WHERE key = '" SETTINGS_VERSION "') "
        "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, token_hash);
    int rc = db_one(st);
    if (rc == 0) {
        store_read_user(st, u);
        read_session(st, 14, sess);
        *settings_version = db_int(st, 29); /* NULL (never bumped): 0 */
        db_reset(st);
    }
    return rc;
}

int
store_session_get(struct store *s, const char *token_hash, struct session_row *out)
{
    static const char q[] = "SELECT token_hash, user_id, kind, restricted, created_at, last_seen, "
                            "client_addr, idp, name_id, session_index, name_id_format, mfa, "
                            "authn_context, groups, ends_at FROM sessions WHERE token_hash = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, token_hash);
    int rc = db_one(st);
    if (rc == 0) {
        read_session(st, 0, out);
        db_reset(st);
    }
    return rc;
}

int
store_session_touch(struct store *s, const char *token_hash, time_t at)
{
    /* Forward only: nodes whose clocks differ a little never move the idle clock back. */
    static const char q[] =
        "UPDATE sessions SET last_seen = ? WHERE token_hash = ? AND last_seen < ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, at);
    db_bind_text(st, 2, token_hash);
    db_bind_int(st, 3, at);
    return db_exec(st);
}

int
store_session_delete(struct store *s, const char *token_hash)
{
    static const char q[] = "DELETE FROM sessions WHERE token_hash = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, token_hash);
    return db_exec(st);
}

int
store_session_delete_user(struct store *s, long long user_id, const char *keep_hash,
                          long long *n_out)
{
    static const char q_session_delete_user[] = "DELETE FROM sessions WHERE user_id = ?";
    static const char q_session_delete_user_keep[] =
        "DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?";
    struct db_stmt *st = db_stmt(s, keep_hash ? q_session_delete_user_keep : q_session_delete_user);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, user_id);
    if (keep_hash != NULL)
        db_bind_text(st, 2, keep_hash);
    if (db_exec(st) != 0)
        return -1;
    if (n_out != NULL)
        *n_out = db_changes(st);
    return 0;
}

int
store_session_delete_saml(struct store *s, const char *idp, const char *name_id,
                          const char *session_index, long long *n_out)
{
    static const char q[] = "DELETE FROM sessions WHERE idp = ? AND name_id = ? "
                            "AND (? = '' OR session_index = ?)";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, idp);
    db_bind_text(st, 2, name_id);
    db_bind_text(st, 3, session_index);
    db_bind_text(st, 4, session_index);
    if (db_exec(st) != 0)
        return -1;
    if (n_out != NULL)
        *n_out = db_changes(st);
    return 0;
}

int
store_session_prune(struct store *s, time_t web_idle_before, time_t client_idle_before,
                    time_t created_before)
{
    static const char q[] = "DELETE FROM sessions WHERE (kind = 0 AND last_seen < ?) "
                            "OR (kind = 1 AND last_seen < ?) OR created_at < ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, web_idle_before);
    db_bind_int(st, 2, client_idle_before);
    db_bind_int(st, 3, created_before);
    return db_exec(st);
}

int
store_session_count_active(struct store *s, time_t web_idle_before, time_t client_idle_before,
                           time_t created_before, long long *web_out, long long *client_out)
{
    static const char q[] = "SELECT kind, COUNT(*) FROM sessions WHERE created_at >= ? AND "
                            "((kind = 0 AND last_seen >= ?) OR (kind = 1 AND last_seen >= ?)) "
                            "GROUP BY kind";
    *web_out = *client_out = 0;
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, created_before);
    db_bind_int(st, 2, web_idle_before);
    db_bind_int(st, 3, client_idle_before);
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        long long kind = db_int(st, 0), n = db_int(st, 1);
        if (kind == 0)
            *web_out = n;
        else if (kind == 1)
            *client_out = n;
    }
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}
