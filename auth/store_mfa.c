/* auth/store_mfa.c: the store's TOTP seeds and steps, recovery codes, and the half-signed-in state
 * between factors (store.h). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_internal.h"

int
store_totp_get(struct store *s, long long user_id, struct totp_row *out)
{
    static const char q[] =
        "SELECT seed, confirmed, last_step, created_at FROM totp WHERE user_id = ?";
    memset(out, 0, sizeof *out);
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, user_id);
    int rc = db_step(st), ret = -1;
    if (rc == DB_ROW) {
        db_text(st, 0, out->seed, sizeof out->seed);
        out->confirmed = db_int(st, 1);
        out->last_step = db_int(st, 2);
        out->created_at = (time_t)db_int(st, 3);
        ret = 0;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

int
store_totp_put_pending(struct store *s, long long user_id, const char *seed, time_t at)
{
    static const char q[] = "INSERT INTO totp (user_id, seed, confirmed, last_step, created_at) "
                            "VALUES (?, ?, 0, 0, ?) ON CONFLICT (user_id) DO UPDATE SET "
                            "seed = excluded.seed, last_step = 0, created_at = excluded.created_at "
                            "WHERE totp.confirmed = 0";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, user_id);
    db_bind_text(st, 2, seed);
    db_bind_int(st, 3, at);
    return db_exec_changed(st);
}

static int
set_mfa(struct store *s, long long user_id, int on)
{
    static const char q[] = "UPDATE users SET mfa_enabled = ? WHERE id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, on);
    db_bind_int(st, 2, user_id);
    return db_exec(st);
}

int
store_totp_confirm(struct store *s, long long user_id, long long step)
{
    static const char q[] = "UPDATE totp SET confirmed = 1, last_step = ? WHERE user_id = ? "
                            "AND confirmed = 0";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, step);
    db_bind_int(st, 2, user_id);
    int r = db_exec_changed(st);
    return r != 0 ? r : set_mfa(s, user_id, 1);
}

int
store_totp_use_step(struct store *s, long long user_id, long long step)
{
    static const char q[] = "UPDATE totp SET last_step = ? WHERE user_id = ? AND confirmed = 1 "
                            "AND last_step < ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, step);
    db_bind_int(st, 2, user_id);
    db_bind_int(st, 3, step);
    return db_exec_changed(st);
}

int
store_totp_delete(struct store *s, long long user_id)
{
    static const char q_recovery_delete[] = "DELETE FROM recovery_codes WHERE user_id = ?";
    static const char q_totp_delete[] = "DELETE FROM totp WHERE user_id = ?";
    struct db_stmt *st = db_stmt(s, q_totp_delete);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, user_id);
    int r = db_exec_changed(st);
    if (r < 0)
        return -1;
    st = db_stmt(s, q_recovery_delete);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, user_id);
    if (db_exec(st) != 0 || set_mfa(s, user_id, 0) != 0)
        return -1;
    return r;
}

int
store_recovery_replace(struct store *s, long long user_id, const char (*hashes)[65], size_t n,
                       time_t at)
{
    static const char q_recovery_delete[] = "DELETE FROM recovery_codes WHERE user_id = ?";
    static const char q_recovery_insert[] =
        "INSERT INTO recovery_codes (user_id, code_hash, used_at, created_at) "
        "VALUES (?, ?, 0, ?)";
    struct db_stmt *st = db_stmt(s, q_recovery_delete);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, user_id);
    if (db_exec(st) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        st = db_stmt(s, q_recovery_insert);
        if (st == NULL)
            return -1;
        db_bind_int(st, 1, user_id);
        db_bind_text(st, 2, hashes[i]);
        db_bind_int(st, 3, at);
        if (db_exec(st) != 0)
            return -1;
    }
    return 0;
}

int
store_recovery_use(struct store *s, long long user_id, const char *hash, time_t at)
{
    static const char q[] = "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? "
                            "AND code_hash = ? AND used_at = 0";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, at);
    db_bind_int(st, 2, user_id);
    db_bind_text(st, 3, hash);
    return db_exec_changed(st);
}

int
store_recovery_remaining(struct store *s, long long user_id, long long *n_out)
{
    static const char q[] = "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? "
                            "AND used_at = 0";
    *n_out = 0;
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, user_id);
    int rc = db_step(st);
    if (rc == DB_ROW)
        *n_out = db_int(st, 0);
    db_reset(st);
    return rc == DB_ROW ? 0 : -1;
}

int
store_mfa_pending_put(struct store *s, const struct mfa_pending_row *r)
{
    static const char q[] = "INSERT INTO mfa_pending (token_hash, user_id, enrol, change_reason, "
                            "return_to, client_addr, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, r->token_hash);
    db_bind_int(st, 2, r->user_id);
    db_bind_int(st, 3, r->enrol);
    db_bind_int(st, 4, r->change_reason);
    db_bind_text(st, 5, r->return_to);
    db_bind_text(st, 6, r->client_addr);
    db_bind_int(st, 7, r->expires_at);
    return db_exec(st);
}

int
store_mfa_pending_get(struct store *s, const char *token_hash, time_t now,
                      struct mfa_pending_row *out)
{
    static const char q[] = "SELECT token_hash, user_id, enrol, change_reason, return_to, "
                            "client_addr, expires_at FROM mfa_pending WHERE token_hash = ? "
                            "AND expires_at > ?";
    memset(out, 0, sizeof *out);
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, token_hash);
    db_bind_int(st, 2, now);
    int rc = db_step(st), ret = -1;
    if (rc == DB_ROW) {
        db_text(st, 0, out->token_hash, sizeof out->token_hash);
        out->user_id = db_int(st, 1);
        out->enrol = db_int(st, 2);
        out->change_reason = db_int(st, 3);
        db_text(st, 4, out->return_to, sizeof out->return_to);
        db_text(st, 5, out->client_addr, sizeof out->client_addr);
        out->expires_at = (time_t)db_int(st, 6);
        ret = 0;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

int
store_mfa_pending_delete(struct store *s, const char *token_hash)
{
    static const char q[] = "DELETE FROM mfa_pending WHERE token_hash = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, token_hash);
    return db_exec(st);
}

int
store_mfa_pending_prune(struct store *s, time_t now)
{
    static const char q[] = "DELETE FROM mfa_pending WHERE expires_at <= ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, now);
    return db_exec(st);
}
