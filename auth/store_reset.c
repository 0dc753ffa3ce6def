/* auth/store_reset.c: the store's self-service password reset tokens and the requests per address
 * (store.h). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_internal.h"

/* ---- self-service password reset ---- */

int
store_reset_token_put(struct store *s, const char *token_hash, long long user_id, time_t created_at,
                      time_t expires_at)
{
    static const char q[] =
        "INSERT INTO reset_tokens (token_hash, user_id, created_at, expires_at, "
        "used_at) VALUES (?, ?, ?, ?, 0)";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, token_hash);
    db_bind_int(st, 2, user_id);
    db_bind_int(st, 3, created_at);
    db_bind_int(st, 4, expires_at);
    return db_exec(st);
}

int
store_reset_token_get(struct store *s, const char *token_hash, struct reset_token_row *out)
{
    static const char q[] = "SELECT user_id, created_at, expires_at, used_at FROM reset_tokens "
                            "WHERE token_hash = ?";
    memset(out, 0, sizeof *out);
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, token_hash);
    int rc = db_step(st), ret = -1;
    if (rc == DB_ROW) {
        out->user_id = db_int(st, 0);
        out->created_at = (time_t)db_int(st, 1);
        out->expires_at = (time_t)db_int(st, 2);
        out->used_at = (time_t)db_int(st, 3);
        ret = 0;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

int
store_reset_token_use(struct store *s, const char *token_hash, time_t now)
{
    static const char q[] = "UPDATE reset_tokens SET used_at = ? WHERE token_hash = ? "
                            "AND used_at = 0 AND expires_at > ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, now);
    db_bind_text(st, 2, token_hash);
    db_bind_int(st, 3, now);
    return db_exec_changed(st);
}

int
store_reset_token_void_user(struct store *s, long long user_id, time_t at)
{
    static const char q[] = "UPDATE reset_tokens SET used_at = ? WHERE user_id = ? "
                            "AND used_at = 0";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, at);
    db_bind_int(st, 2, user_id);
    return db_exec(st);
}

int
store_reset_request_count(struct store *s, const char *email, time_t since, long long *n_out)
{
    static const char q[] = "SELECT COUNT(*) FROM reset_requests WHERE email = ? AND at >= ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, email);
    db_bind_int(st, 2, since);
    int rc = db_step(st);
    if (rc == DB_ROW)
        *n_out = db_int(st, 0);
    db_reset(st);
    return rc == DB_ROW ? 0 : -1;
}

int
store_reset_request_add(struct store *s, const char *email, time_t at)
{
    static const char q[] = "INSERT INTO reset_requests (email, at) VALUES (?, ?)";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, email);
    db_bind_int(st, 2, at);
    return db_exec(st);
}

int
store_reset_prune(struct store *s, time_t requests_before, time_t tokens_before)
{
    static const char q_reset_prune_req[] = "DELETE FROM reset_requests WHERE at < ?";
    static const char q_reset_prune_tokens[] = "DELETE FROM reset_tokens WHERE expires_at < ?";
    struct db_stmt *st = db_stmt(s, q_reset_prune_req);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, requests_before);
    if (db_exec(st) != 0)
        return -1;
    st = db_stmt(s, q_reset_prune_tokens);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, tokens_before);
    return db_exec(st);
}
