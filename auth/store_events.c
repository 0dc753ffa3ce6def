/* auth/store_events.c: the store's the audit log and sign-in events (store.h). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_internal.h"

/* ---- audit ---- */

int
store_audit_append(struct store *s, const struct audit_row *r)
{
    static const char q[] = "INSERT INTO audit (at, actor, actor_role, action, target, old_value, "
                            "new_value, client_addr, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, r->at);
    db_bind_text(st, 2, r->actor);
    db_bind_text(st, 3, r->actor_role);
    db_bind_text(st, 4, r->action);
    db_bind_text(st, 5, r->target);
    db_bind_text(st, 6, r->old_value);
    db_bind_text(st, 7, r->new_value);
    db_bind_text(st, 8, r->client_addr);
    db_bind_text(st, 9, s->node);
    return db_exec(st);
}

int
store_audit_list(struct store *s, const struct audit_filter *f,
                 int (*cb)(const struct audit_row *, void *), void *ctx)
{
    static const char q[] =
        "SELECT id, at, actor, actor_role, action, target, old_value, new_value, "
        "client_addr, node FROM audit WHERE (? = '' OR action = ?) AND "
        "(? = '' OR actor = ?) AND (? = '' OR target = ?) AND at >= ? "
        "ORDER BY id DESC LIMIT ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    const char *v[3] = {f->action, f->actor, f->target};
    for (int i = 0; i < 3; i++) {
        db_bind_text(st, 2 * i + 1, v[i]);
        db_bind_text(st, 2 * i + 2, v[i]);
    }
    db_bind_int(st, 7, f->since);
    db_bind_int(st, 8, f->limit);
    struct audit_row r;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        memset(&r, 0, sizeof r);
        r.id = db_int(st, 0);
        r.at = (time_t)db_int(st, 1);
        db_text(st, 2, r.actor, sizeof r.actor);
        db_text(st, 3, r.actor_role, sizeof r.actor_role);
        db_text(st, 4, r.action, sizeof r.action);
        db_text(st, 5, r.target, sizeof r.target);
        db_text(st, 6, r.old_value, sizeof r.old_value);
        db_text(st, 7, r.new_value, sizeof r.new_value);
        db_text(st, 8, r.client_addr, sizeof r.client_addr);
        db_text(st, 9, r.node, sizeof r.node);
        if (cb(&r, ctx) != 0) {
            rc = DB_DONE;
            break;
        }
    }
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}

int
store_signin_event(struct store *s, time_t at, const char *method, const char *result)
{
    static const char q[] = "INSERT INTO signin_events (at, method, result) VALUES (?, ?, ?)";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, at);
    db_bind_text(st, 2, method);
    db_bind_text(st, 3, result);
    return db_exec(st);
}

int
store_signin_hourly(struct store *s, time_t since,
                    void (*cb)(time_t hour, const char *method, const char *result, long long n,
                               void *),
                    void *ctx)
{
    static const char q[] = "SELECT (at / 3600) * 3600 AS hour, method, result, COUNT(*) "
                            "FROM signin_events WHERE at >= ? GROUP BY hour, method, result "
                            "ORDER BY hour";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, since);
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        cb((time_t)db_int(st, 0), db_str(st, 1), db_str(st, 2), db_int(st, 3), ctx);
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}

int
store_signin_prune(struct store *s, time_t before)
{
    static const char q[] = "DELETE FROM signin_events WHERE at < ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, before);
    return db_exec(st);
}

int
store_audit_prune(struct store *s, time_t before)
{
    /* The trigger lets rows older than the recorded bound go, and no others. */
    static const char q_bound[] = "INSERT INTO audit_retention (id, before_at) VALUES (1, ?) "
                                  "ON CONFLICT (id) DO UPDATE SET before_at = excluded.before_at";
    static const char q_delete[] = "DELETE FROM audit WHERE at < ?";
    if (store_begin_write(s) != 0)
        return -1;
    struct db_stmt *st = db_stmt(s, q_bound);
    if (st == NULL)
        goto fail;
    db_bind_int(st, 1, (long long)before);
    if (db_exec(st) != 0)
        goto fail;
    st = db_stmt(s, q_delete);
    if (st == NULL)
        goto fail;
    db_bind_int(st, 1, (long long)before);
    if (db_exec(st) != 0)
        goto fail;
    return store_commit(s);
fail:
    store_rollback(s);
    return -1;
}
