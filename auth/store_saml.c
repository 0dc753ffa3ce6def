/* auth/store_saml.c: the store's pending AuthnRequests, accepted assertion IDs (replay) and the
 * SAML response log (store.h). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_internal.h"

#define SAML_LOG_COLS                                                                              \
    "id, at, client_addr, issuer, name_id, in_response_to, assertion_id, verdict, reason, "        \
    "detail, user_id, xml_size, xml_kept, skew_seconds, test, node"

/* ---- SAML ---- */

int
store_saml_request_put(struct store *s, const char *id, const char *entity_id,
                       const char *return_to, time_t expires_at)
{
    static const char q[] = "INSERT INTO saml_requests (id, entity_id, return_to, expires_at) "
                            "VALUES (?, ?, ?, ?)";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, entity_id);
    db_bind_text(st, 3, return_to);
    db_bind_int(st, 4, expires_at);
    return db_exec(st);
}

int
store_saml_request_take(struct store *s, const char *id, const char *entity_id, time_t now,
                        char *return_to, size_t len)
{
    /* One statement: of concurrent takes (any nodes) one deletes the row and gets it back. */
    static const char q[] = "DELETE FROM saml_requests WHERE id = ? AND entity_id = ? "
                            "AND expires_at > ? RETURNING return_to";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, id);
    db_bind_text(st, 2, entity_id);
    db_bind_int(st, 3, now);
    int rc = db_one(st);
    if (rc == 0) {
        db_text(st, 0, return_to, len);
        db_reset(st);
    }
    return rc;
}

int
store_saml_assertion_once(struct store *s, const char *assertion_id, const char *entity_id,
                          time_t expires_at)
{
    static const char q[] = "INSERT INTO saml_assertions (assertion_id, entity_id, expires_at) "
                            "VALUES (?, ?, ?) ON CONFLICT DO NOTHING";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, assertion_id);
    db_bind_text(st, 2, entity_id);
    db_bind_int(st, 3, expires_at);
    return db_exec_changed(st);
}

int
store_saml_prune(struct store *s, time_t now, time_t log_before)
{
    static const char q_saml_prune_assertions[] =
        "DELETE FROM saml_assertions WHERE expires_at <= ?";
    static const char q_saml_prune_log[] = "DELETE FROM saml_log WHERE at < ?";
    static const char q_saml_prune_req[] = "DELETE FROM saml_requests WHERE expires_at <= ?";
    static const char q_saml_prune_tests[] = "DELETE FROM saml_tests WHERE expires_at <= ?";
    const char *sql[] = {q_saml_prune_req, q_saml_prune_tests, q_saml_prune_assertions,
                         q_saml_prune_log};
    for (size_t i = 0; i < 4; i++) {
        struct db_stmt *st = db_stmt(s, sql[i]);
        if (st == NULL)
            return -1;
        db_bind_int(st, 1, i == 3 ? log_before : now);
        if (db_exec(st) != 0)
            return -1;
    }
    return 0;
}

int
store_saml_log_append(struct store *s, const struct saml_log_row *r, long long *id_out)
{
    static const char q[] =
        "INSERT INTO saml_log (at, client_addr, issuer, name_id, in_response_to, "
        "assertion_id, verdict, reason, detail, user_id, xml, xml_size, "
        "xml_kept, skew_seconds, test, node) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?) RETURNING id";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, r->at);
    db_bind_text(st, 2, r->client_addr);
    db_bind_text(st, 3, r->issuer);
    db_bind_text(st, 4, r->name_id);
    db_bind_text(st, 5, r->in_response_to);
    db_bind_text(st, 6, r->assertion_id);
    db_bind_text(st, 7, r->verdict);
    db_bind_text(st, 8, r->reason);
    db_bind_text(st, 9, r->detail);
    db_bind_int(st, 10, r->user_id);
    if (r->xml != NULL)
        db_bind_text(st, 11, r->xml);
    else
        db_bind_null(st, 11);
    db_bind_int(st, 12, r->xml_size);
    db_bind_text(st, 13, r->xml_kept[0] ? r->xml_kept : (r->xml ? "full" : "none"));
    if (r->has_skew)
        db_bind_int(st, 14, r->skew_seconds);
    else
        db_bind_null(st, 14);
    db_bind_int(st, 15, r->test != 0);
    db_bind_text(st, 16, s->node);
    int rc = db_step(st);
    if (rc == DB_ROW && id_out != NULL)
        *id_out = db_int(st, 0);
    db_reset(st);
    return rc == DB_ROW ? 0 : -1;
}

static void
read_saml_log(struct db_stmt *st, struct saml_log_row *r)
{
    memset(r, 0, sizeof *r);
    r->id = db_int(st, 0);
    r->at = (time_t)db_int(st, 1);
    db_text(st, 2, r->client_addr, sizeof r->client_addr);
    db_text(st, 3, r->issuer, sizeof r->issuer);
    db_text(st, 4, r->name_id, sizeof r->name_id);
    db_text(st, 5, r->in_response_to, sizeof r->in_response_to);
    db_text(st, 6, r->assertion_id, sizeof r->assertion_id);
    db_text(st, 7, r->verdict, sizeof r->verdict);
    db_text(st, 8, r->reason, sizeof r->reason);
    db_text(st, 9, r->detail, sizeof r->detail);
    r->user_id = db_int(st, 10);
    r->xml_size = db_int(st, 11);
    db_text(st, 12, r->xml_kept, sizeof r->xml_kept);
    r->has_skew = db_str(st, 13) != NULL;
    r->skew_seconds = r->has_skew ? db_int(st, 13) : 0;
    r->test = (int)db_int(st, 14);
    db_text(st, 15, r->node, sizeof r->node);
}

int
store_saml_log_list(struct store *s, int failed_only, const char *issuer, const char *name_id,
                    long long limit, int (*cb)(const struct saml_log_row *, void *), void *ctx)
{
    static const char q[] = "SELECT " SAML_LOG_COLS " FROM saml_log WHERE (? = 0 OR verdict = "
                            "'refused') AND (? = '' OR issuer = ?) AND (? = '' OR name_id = ?) "
                            "ORDER BY id DESC LIMIT ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, failed_only);
    db_bind_text(st, 2, issuer);
    db_bind_text(st, 3, issuer);
    db_bind_text(st, 4, name_id);
    db_bind_text(st, 5, name_id);
    db_bind_int(st, 6, limit);
    struct saml_log_row r;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        read_saml_log(st, &r);
        if (cb(&r, ctx) != 0) {
            rc = DB_DONE;
            break;
        }
    }
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}

int
store_saml_log_get(struct store *s, long long id, struct saml_log_row *out)
{
    static const char q[] = "SELECT " SAML_LOG_COLS ", xml FROM saml_log WHERE id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, id);
    int rc = db_step(st), ret = -1;
    if (rc == DB_ROW) {
        read_saml_log(st, out);
        const char *x = db_str(st, 16);
        out->xml = x ? strdup(x) : NULL;
        ret = 0;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

int
store_saml_log_last(struct store *s, const char *issuer, int accepted, struct saml_log_row *out)
{
    /* saml_log_issuer (issuer, id): read backwards from the issuer's newest row. */
    static const char q[] = "SELECT " SAML_LOG_COLS " FROM saml_log WHERE issuer = ? AND "
                            "verdict = ? ORDER BY id DESC LIMIT 1";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, issuer);
    db_bind_text(st, 2, accepted ? "accepted" : "refused");
    int rc = db_step(st), ret = rc == DB_ROW ? 0 : rc == DB_DONE ? 1 : -1;
    if (rc == DB_ROW)
        read_saml_log(st, out);
    db_reset(st);
    return ret;
}

int
store_saml_log_skews(struct store *s, const char *issuer, int max, long long *out, int *n_out)
{
    static const char q[] = "SELECT skew_seconds FROM saml_log WHERE issuer = ? AND "
                            "skew_seconds IS NOT NULL ORDER BY id DESC LIMIT ?";
    *n_out = 0;
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, issuer);
    db_bind_int(st, 2, max);
    int rc;
    while ((rc = db_step(st)) == DB_ROW && *n_out < max)
        out[(*n_out)++] = db_int(st, 0);
    db_reset(st);
    return rc == DB_ERROR ? -1 : 0;
}

int
store_saml_test_put(struct store *s, const struct saml_test_row *r)
{
    static const char q[] = "INSERT INTO saml_tests (request_id, entity_id, user_id, "
                            "session_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) "
                            "ON CONFLICT DO NOTHING";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, r->request_id);
    db_bind_text(st, 2, r->entity_id);
    db_bind_int(st, 3, r->user_id);
    db_bind_text(st, 4, r->session_hash);
    db_bind_int(st, 5, r->created_at);
    db_bind_int(st, 6, r->expires_at);
    return db_exec_changed(st);
}

int
store_saml_test_get(struct store *s, const char *request_id, struct saml_test_row *out)
{
    static const char q[] = "SELECT request_id, entity_id, user_id, session_hash, created_at, "
                            "expires_at, log_id, result FROM saml_tests WHERE request_id = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, request_id);
    int rc = db_step(st), ret = rc == DB_ROW ? 0 : rc == DB_DONE ? 1 : -1;
    if (rc == DB_ROW) {
        memset(out, 0, sizeof *out);
        db_text(st, 0, out->request_id, sizeof out->request_id);
        db_text(st, 1, out->entity_id, sizeof out->entity_id);
        out->user_id = db_int(st, 2);
        db_text(st, 3, out->session_hash, sizeof out->session_hash);
        out->created_at = (time_t)db_int(st, 4);
        out->expires_at = (time_t)db_int(st, 5);
        out->log_id = db_int(st, 6);
        db_text(st, 7, out->result, sizeof out->result);
    }
    db_reset(st);
    return ret;
}

int
store_saml_test_result(struct store *s, const char *request_id, long long log_id,
                       const char *result)
{
    static const char q[] = "UPDATE saml_tests SET log_id = ?, result = ? WHERE request_id = ? "
                            "AND log_id = 0";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, log_id);
    db_bind_text(st, 2, result);
    db_bind_text(st, 3, request_id);
    return db_exec_changed(st);
}

int
store_saml_log_clear_ids(struct store *s, long long after_id, long long *ids, int max, int *n)
{
    static const char q[] = "SELECT id FROM saml_log WHERE id > ? AND xml IS NOT NULL AND "
                            "substr(xml, 1, 3) <> 's1:' ORDER BY id LIMIT ?";
    struct db_stmt *st = db_stmt(s, q);
    *n = 0;
    if (st == NULL)
        return -1;
    db_bind_int(st, 1, after_id);
    db_bind_int(st, 2, max);
    int rc;
    while ((rc = db_step(st)) == DB_ROW && *n < max)
        ids[(*n)++] = db_int(st, 0);
    db_reset(st);
    return rc == DB_DONE || rc == DB_ROW ? 0 : -1;
}

int
store_saml_log_reseal(struct store *s, long long id, const char *plain, const char *sealed)
{
    static const char q[] = "UPDATE saml_log SET xml = ? WHERE id = ? AND xml = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, sealed);
    db_bind_int(st, 2, id);
    db_bind_text(st, 3, plain);
    return db_exec_changed(st);
}
