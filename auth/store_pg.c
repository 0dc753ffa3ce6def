/* auth/store_pg.c: the PostgreSQL driver of the store (store_internal.h), on libpq: one
 * connection per struct store (per worker thread), statements prepared once per connection
 * (? becomes $n), migrations under an advisory lock, write transactions serialised across
 * nodes by a transaction-level advisory lock, and bounded reconnection. The only file that
 * includes libpq-fe.h. */
#include "store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "log.h"
#include "store_internal.h"

/* Advisory lock keys (bigint space): 0x4748 ("GH") << 48 | what for. Job locks use the
 * two-int4 space (0x47480003, hashtext(job)), which never meets these. */
#define MIGRATE_KEY "5136355375016050689"
#define WRITE_KEY "5136355375016050690"
#define JOB_KEY "1195900931"

/* A lost connection is tried again at most this often (each try waits up to CONNECT_TIMEOUT). */
#define RECONNECT_MS 500
#define CONNECT_TIMEOUT "5"

struct pg_stmt {
    struct db_stmt base;
    struct pgc *c;
    const char *sql;   /* the cache key: the caller's literal */
    char name[16];     /* the server-side prepared statement */
    unsigned prepared; /* the connection generation it was prepared on (0 = never) */
    int nparams;
    char **text;        /* owned copies of text parameters */
    char (*num)[24];    /* integer parameters */
    const char **value; /* what PQexecPrepared sends: NULL = SQL NULL */
    PGresult *res;
    int row, nrows;
    long long changes;
};

struct pgc {
    PGconn *conn;
    char *conninfo;
    unsigned gen;  /* bumped at each (re)connection: statements are prepared again */
    int in_tx;     /* a write transaction is open */
    int tx_broken; /* the connection was lost inside it: only rollback helps */
    struct timespec last_try;
    unsigned next_name;
    struct pg_stmt **slot;
    size_t cap, n;
};

static struct pgc *
pgc_of(struct store *s)
{
    return s->impl;
}

static long long
now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---- connections ---- */

/* The first line of libpq's message, for logs and readiness. */
static const char *
pg_error(PGconn *conn, char *buf, size_t len)
{
    snprintf(buf, len, "%s", conn ? PQerrorMessage(conn) : "no connection");
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

static void
lost(struct pgc *c, const char *what)
{
    char why[300], msg[400];
    snprintf(msg, sizeof msg, "PostgreSQL: %s: %s", what, pg_error(c->conn, why, sizeof why));
    store_writes_failed(msg);
    if (c->in_tx)
        c->tx_broken = 1;
}

/* Opens the connection: a connect timeout unless the conninfo sets one, and the server's
 * notices silenced (migrations' IF NOT EXISTS). */
static int
connect_now(struct pgc *c, char *err, size_t errlen)
{
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {CONNECT_TIMEOUT, "gatehouse", c->conninfo, NULL};
    if (c->conn != NULL)
        PQfinish(c->conn);
    clock_gettime(CLOCK_MONOTONIC, &c->last_try);
    c->conn = PQconnectdbParams(keys, vals, 1);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        char why[300];
        snprintf(err, errlen, "PostgreSQL: cannot connect: %s", pg_error(c->conn, why, sizeof why));
        return -1;
    }
    PGresult *r = PQexec(c->conn, "SET client_min_messages = warning");
    PQclear(r);
    c->gen++;
    return 0;
}

/* A usable connection for the next statement: a lost one is opened again, at most once per
 * RECONNECT_MS; never inside a transaction (its work is gone: the caller rolls back). */
static int
ensure(struct pgc *c)
{
    if (c->tx_broken)
        return -1;
    if (c->conn != NULL && PQstatus(c->conn) == CONNECTION_OK)
        return 0;
    if (c->in_tx) {
        c->tx_broken = 1;
        return -1;
    }
    long long since =
        now_ms() - ((long long)c->last_try.tv_sec * 1000 + c->last_try.tv_nsec / 1000000);
    if (c->conn != NULL && since < RECONNECT_MS)
        return -1;
    char err[400];
    if (connect_now(c, err, sizeof err) != 0) {
        store_writes_failed(err);
        log_error("%s", err);
        return -1;
    }
    log_info("PostgreSQL connection re-opened");
    return 0;
}

/* ---- statements ---- */

static size_t
slot_of(const char *sql, size_t cap)
{
    uintptr_t h = (uintptr_t)sql;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 7) & (cap - 1);
}

static int
cache_grow(struct pgc *c)
{
    size_t cap = c->cap ? c->cap * 2 : 256;
    struct pg_stmt **slot = calloc(cap, sizeof *slot);
    if (slot == NULL)
        return -1;
    for (size_t i = 0; i < c->cap; i++) {
        if (c->slot[i] == NULL)
            continue;
        size_t j = slot_of(c->slot[i]->sql, cap);
        while (slot[j] != NULL)
            j = (j + 1) & (cap - 1);
        slot[j] = c->slot[i];
    }
    free(c->slot);
    c->slot = slot;
    c->cap = cap;
    return 0;
}

/* The SQL with each ? outside quotes as $1, $2...; how many into *n. Caller frees. */
static char *
dollar_params(const char *sql, int *n)
{
    size_t len = strlen(sql);
    char *out = malloc(len * 4 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    int quoted = 0;
    *n = 0;
    for (const char *p = sql; *p; p++) {
        if (*p == '\'')
            quoted = !quoted;
        if (*p == '?' && !quoted)
            o += (size_t)snprintf(out + o, 12, "$%d", ++*n);
        else
            out[o++] = *p;
    }
    out[o] = '\0';
    return out;
}

static void
clear_params(struct pg_stmt *x)
{
    for (int i = 0; i < x->nparams; i++) {
        free(x->text[i]);
        x->text[i] = NULL;
        x->value[i] = NULL;
    }
}

static void
stmt_free(struct pg_stmt *x)
{
    clear_params(x);
    PQclear(x->res);
    free(x->text);
    free(x->num);
    free(x->value);
    free(x);
}

static struct pg_stmt *
stmt_new(struct pgc *c, const char *sql)
{
    struct pg_stmt *x = calloc(1, sizeof *x);
    if (x == NULL)
        return NULL;
    for (const char *p = sql; *p; p++)
        x->nparams += *p == '?';
    size_t n = (size_t)(x->nparams > 0 ? x->nparams : 1);
    x->text = calloc(n, sizeof *x->text);
    x->num = calloc(n, sizeof *x->num);
    x->value = calloc(n, sizeof *x->value);
    if (x->text == NULL || x->num == NULL || x->value == NULL) {
        stmt_free(x);
        return NULL;
    }
    x->base.drv = &store_pg_driver;
    x->c = c;
    x->sql = sql;
    x->row = -1;
    snprintf(x->name, sizeof x->name, "g%u", ++c->next_name);
    return x;
}

/* Prepares x on the current connection when it is not yet. */
static int
prepare_on_server(struct pg_stmt *x)
{
    struct pgc *c = x->c;
    if (x->prepared == c->gen)
        return 0;
    int n = 0;
    char *q = dollar_params(x->sql, &n);
    if (q == NULL)
        return -1;
    PGresult *r = PQprepare(c->conn, x->name, q, 0, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        char why[300];
        if (PQstatus(c->conn) != CONNECTION_OK)
            lost(c, "prepare");
        else
            log_error("prepare failed: %s: %.80s", pg_error(c->conn, why, sizeof why), x->sql);
    }
    PQclear(r);
    free(q);
    if (!ok)
        return -1;
    x->prepared = c->gen;
    return 0;
}

static struct db_stmt *
pg_prepare(struct store *s, const char *sql)
{
    struct pgc *c = pgc_of(s);
    if (ensure(c) != 0)
        return NULL;
    if (c->n * 2 >= c->cap && cache_grow(c) != 0)
        return NULL;
    size_t j = slot_of(sql, c->cap);
    while (c->slot[j] != NULL && c->slot[j]->sql != sql)
        j = (j + 1) & (c->cap - 1);
    struct pg_stmt *x = c->slot[j];
    if (x == NULL) {
        x = stmt_new(c, sql);
        if (x == NULL)
            return NULL;
        c->slot[j] = x;
        c->n++;
    }
    PQclear(x->res);
    x->res = NULL;
    x->row = -1;
    x->changes = 0;
    clear_params(x);
    if (prepare_on_server(x) != 0)
        return NULL;
    return &x->base;
}

static struct pg_stmt *
pgs(struct db_stmt *st)
{
    return (struct pg_stmt *)st;
}

static void
pg_bind_int(struct db_stmt *st, int i, long long v)
{
    struct pg_stmt *x = pgs(st);
    if (i < 1 || i > x->nparams)
        return;
    snprintf(x->num[i - 1], sizeof x->num[0], "%lld", v);
    free(x->text[i - 1]);
    x->text[i - 1] = NULL;
    x->value[i - 1] = x->num[i - 1];
}

static void
pg_bind_text(struct db_stmt *st, int i, const char *v)
{
    struct pg_stmt *x = pgs(st);
    if (i < 1 || i > x->nparams)
        return;
    free(x->text[i - 1]);
    x->text[i - 1] = strdup(v);
    x->value[i - 1] = x->text[i - 1];
}

static void
pg_bind_null(struct db_stmt *st, int i)
{
    struct pg_stmt *x = pgs(st);
    if (i < 1 || i > x->nparams)
        return;
    free(x->text[i - 1]);
    x->text[i - 1] = NULL;
    x->value[i - 1] = NULL;
}

/* A statement that writes (anything but a SELECT): its success outside a transaction is a
 * commit, which clears the write failure state. */
static int
writes(const char *sql)
{
    return strncmp(sql, "SELECT", 6) != 0;
}

static int
run(struct pg_stmt *x)
{
    struct pgc *c = x->c;
    x->res = PQexecPrepared(c->conn, x->name, x->nparams, x->value, NULL, NULL, 0);
    ExecStatusType status = PQresultStatus(x->res);
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
        x->nrows = status == PGRES_TUPLES_OK ? PQntuples(x->res) : 0;
        const char *n = PQcmdTuples(x->res);
        x->changes = n[0] ? strtoll(n, NULL, 10) : x->nrows;
        x->row = 0;
        if (!c->in_tx && writes(x->sql))
            store_writes_succeeded();
        return x->nrows > 0 ? DB_ROW : DB_DONE;
    }
    const char *state = PQresultErrorField(x->res, PG_DIAG_SQLSTATE);
    if (state != NULL && strcmp(state, "23505") == 0) /* unique_violation */
        return DB_DUP;
    char why[300];
    if (PQstatus(c->conn) != CONNECTION_OK) {
        lost(c, "statement");
        log_error("PostgreSQL connection lost: %.80s", x->sql);
    } else {
        log_error("step failed: %s: %.80s", pg_error(c->conn, why, sizeof why), x->sql);
    }
    return DB_ERROR;
}

static int
pg_step(struct db_stmt *st)
{
    struct pg_stmt *x = pgs(st);
    if (x->res == NULL)
        return run(x);
    if (PQresultStatus(x->res) != PGRES_TUPLES_OK && PQresultStatus(x->res) != PGRES_COMMAND_OK)
        return DB_ERROR;
    x->row++;
    return x->row < x->nrows ? DB_ROW : DB_DONE;
}

static long long
pg_col_int(struct db_stmt *st, int i)
{
    struct pg_stmt *x = pgs(st);
    if (x->res == NULL || x->row >= x->nrows || PQgetisnull(x->res, x->row, i))
        return 0;
    const char *v = PQgetvalue(x->res, x->row, i);
    if (v[0] == 't' || v[0] == 'f') /* a boolean column */
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

static const char *
pg_col_str(struct db_stmt *st, int i)
{
    struct pg_stmt *x = pgs(st);
    if (x->res == NULL || x->row >= x->nrows || PQgetisnull(x->res, x->row, i))
        return NULL;
    return PQgetvalue(x->res, x->row, i);
}

static long long
pg_changes(struct db_stmt *st)
{
    return pgs(st)->changes;
}

static void
pg_reset(struct db_stmt *st)
{
    struct pg_stmt *x = pgs(st);
    PQclear(x->res);
    x->res = NULL;
    x->row = -1;
}

/* ---- one-off commands ---- */

/* Runs sql (no parameters; several statements allowed); 0, or -1 with the message in err. */
static int
command(struct pgc *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    if (rc != 0) {
        char why[300];
        snprintf(err, errlen, "%s", pg_error(c->conn, why, sizeof why));
        if (PQstatus(c->conn) != CONNECTION_OK)
            lost(c, "command");
    }
    PQclear(r);
    return rc;
}

/* One row, one column of a parameterless query, as an integer; -1 on error. */
static long long
query_int(struct pgc *c, const char *sql)
{
    PGresult *r = PQexec(c->conn, sql);
    long long v = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else if (PQstatus(c->conn) != CONNECTION_OK)
        lost(c, "query");
    PQclear(r);
    return v;
}

/* ---- migrations ---- */

/* The portable migration text in PostgreSQL's types: "id INTEGER PRIMARY KEY" (a generated
 * id) -> an identity column, INTEGER -> BIGINT, BLOB -> BYTEA. Caller frees. */
static char *
pg_types(const char *sql)
{
    static const struct {
        const char *from, *to;
    } map[] = {
        {"id INTEGER PRIMARY KEY", "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
        {"INTEGER", "BIGINT"},
        {"BLOB", "BYTEA"},
    };
    size_t len = strlen(sql);
    char *out = malloc(len * 3 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        int done = 0;
        int word_start =
            i == 0 || !(sql[i - 1] == '_' || (sql[i - 1] >= 'a' && sql[i - 1] <= 'z') ||
                        (sql[i - 1] >= 'A' && sql[i - 1] <= 'Z'));
        for (size_t k = 0; word_start && !done && k < sizeof map / sizeof map[0]; k++) {
            size_t fl = strlen(map[k].from);
            if (strncmp(sql + i, map[k].from, fl) == 0) {
                memcpy(out + o, map[k].to, strlen(map[k].to));
                o += strlen(map[k].to);
                i += fl;
                done = 1;
            }
        }
        if (!done)
            out[o++] = sql[i++];
    }
    out[o] = '\0';
    return out;
}

static int
apply(struct pgc *c, const struct store_migration *m, size_t v, char *err, size_t errlen)
{
    char *sql = pg_types(m->sql);
    char bump[96];
    if (sql == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(bump, sizeof bump, "INSERT INTO schema_version (version) VALUES (%zu)", v + 1);
    char why[300] = "";
    int rc = command(c, sql, why, sizeof why) == 0 &&
                     (m->pg == NULL || command(c, m->pg, why, sizeof why) == 0) &&
                     command(c, bump, why, sizeof why) == 0
                 ? 0
                 : -1;
    free(sql);
    if (rc != 0)
        snprintf(err, errlen, "migration to schema version %zu failed: %s", v + 1, why);
    else
        log_info("store migrated to schema version %zu", v + 1);
    return rc;
}

/* Nodes starting together migrate once: the first takes the lock and migrates, the others
 * wait for it, then find the schema current. DDL is transactional: a failed migration leaves
 * the schema as it was. */
static int
migrate(struct store *s, char *err, size_t errlen)
{
    struct pgc *c = pgc_of(s);
    char why[300];
    size_t n = store_n_migrations;
    if (command(c, "SELECT pg_advisory_lock(" MIGRATE_KEY ")", why, sizeof why) != 0) {
        snprintf(err, errlen, "PostgreSQL: cannot take the migration lock: %s", why);
        return -1;
    }
    int rc = -1;
    if (command(c, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL); BEGIN",
                why, sizeof why) != 0) {
        snprintf(err, errlen, "PostgreSQL: cannot prepare the schema: %s", why);
        goto unlock;
    }
    long long version = query_int(c, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (version < 0 || version > (long long)n) {
        snprintf(err, errlen,
                 version < 0 ? "PostgreSQL: cannot read the schema version"
                             : "the store has schema version %lld, newer than this program (%zu)",
                 version, n);
        command(c, "ROLLBACK", why, sizeof why);
        goto unlock;
    }
    for (size_t v = (size_t)version; v < n; v++) {
        if (apply(c, &store_migrations[v], v, err, errlen) != 0) {
            command(c, "ROLLBACK", why, sizeof why);
            goto unlock;
        }
    }
    if (command(c, "COMMIT", why, sizeof why) != 0) {
        snprintf(err, errlen, "PostgreSQL: migration commit failed: %s", why);
        goto unlock;
    }
    s->version = (int)n;
    rc = 0;
unlock:
    command(c, "SELECT pg_advisory_unlock(" MIGRATE_KEY ")", why, sizeof why);
    return rc;
}

static int
pg_open(struct store *s, const char *conninfo, char *err, size_t errlen)
{
    struct pgc *c = calloc(1, sizeof *c);
    s->impl = c;
    if (c == NULL || (c->conninfo = strdup(conninfo)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (connect_now(c, err, errlen) != 0)
        return -1;
    return migrate(s, err, errlen);
}

static void
pg_close(struct store *s)
{
    struct pgc *c = pgc_of(s);
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->cap; i++)
        if (c->slot[i] != NULL)
            stmt_free(c->slot[i]);
    free(c->slot);
    if (c->conn != NULL)
        PQfinish(c->conn);
    free(c->conninfo);
    free(c);
    s->impl = NULL;
}

/* ---- write transactions ---- */

/* Every write transaction of every node takes one transaction-level advisory lock first, so
 * they run one at a time as SQLite's do, and a read-modify-write inside one is exact (READ
 * COMMITTED: each statement after the lock sees every earlier commit). One round trip. */
static int
pg_begin(struct store *s)
{
    struct pgc *c = pgc_of(s);
    char why[300];
    if (c->in_tx) {
        log_error("a write transaction was begun inside another");
        return -1;
    }
    if (ensure(c) != 0)
        return -1;
    if (command(c, "BEGIN; SELECT pg_advisory_xact_lock(" WRITE_KEY ")", why, sizeof why) != 0) {
        log_error("PostgreSQL: begin: %s", why);
        if (PQstatus(c->conn) == CONNECTION_OK)
            command(c, "ROLLBACK", why, sizeof why);
        return -1;
    }
    c->in_tx = 1;
    c->tx_broken = 0;
    return 0;
}

static void
end_tx(struct pgc *c)
{
    c->in_tx = 0;
    c->tx_broken = 0;
}

/* A transaction that met an error is rolled back by PostgreSQL at COMMIT, which then answers
 * "ROLLBACK": that is a failed commit. */
static int
pg_commit(struct store *s)
{
    struct pgc *c = pgc_of(s);
    if (!c->in_tx)
        return -1;
    if (c->tx_broken || PQstatus(c->conn) != CONNECTION_OK) {
        end_tx(c);
        return -1;
    }
    PGresult *r = PQexec(c->conn, "COMMIT");
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
    if (!ok) {
        char why[300];
        if (PQstatus(c->conn) != CONNECTION_OK)
            lost(c, "commit");
        else
            log_error("PostgreSQL: commit failed: %s", pg_error(c->conn, why, sizeof why));
    }
    PQclear(r);
    end_tx(c);
    if (ok)
        store_writes_succeeded();
    return ok ? 0 : -1;
}

static void
pg_rollback(struct store *s)
{
    struct pgc *c = pgc_of(s);
    char why[300];
    if (c->in_tx && !c->tx_broken && PQstatus(c->conn) == CONNECTION_OK)
        command(c, "ROLLBACK", why, sizeof why);
    end_tx(c);
}

/* ---- health ---- */

static int
pg_ping(struct store *s)
{
    struct pgc *c = pgc_of(s);
    if (ensure(c) != 0)
        return -1;
    return query_int(c, "SELECT 1") == 1 ? 0 : -1;
}

/* Every table of the schema readable: its first row read. */
static int
tables_readable(struct pgc *c, char *err, size_t errlen)
{
    PGresult *r = PQexec(c->conn, "SELECT tablename FROM pg_tables WHERE schemaname = "
                                  "current_schema() ORDER BY tablename");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        char why[300];
        snprintf(err, errlen, "PostgreSQL: %s", pg_error(c->conn, why, sizeof why));
        PQclear(r);
        return -1;
    }
    int rc = PQntuples(r) > 0 ? 0 : -1;
    if (rc != 0)
        snprintf(err, errlen, "PostgreSQL: the schema has no tables");
    for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
        char *name = PQescapeIdentifier(c->conn, PQgetvalue(r, i, 0), strlen(PQgetvalue(r, i, 0)));
        char q[300], why[300];
        snprintf(q, sizeof q, "SELECT 1 FROM %s LIMIT 1", name ? name : "\"?\"");
        PQfreemem(name);
        if (command(c, q, why, sizeof why) != 0) {
            snprintf(err, errlen, "PostgreSQL: table %s unreadable: %s", PQgetvalue(r, i, 0), why);
            rc = -1;
        }
    }
    PQclear(r);
    return rc;
}

static int
pg_health(struct store *s)
{
    struct pgc *c = pgc_of(s);
    char err[512];
    if (ensure(c) != 0)
        return -1;
    if (tables_readable(c, err, sizeof err) != 0) {
        log_error("store health: %s", err);
        return -1;
    }
    return 0;
}

static int
pg_integrity(struct store *s, char *err, size_t errlen)
{
    struct pgc *c = pgc_of(s);
    if (ensure(c) != 0) {
        snprintf(err, errlen, "PostgreSQL: no connection");
        return -1;
    }
    return tables_readable(c, err, errlen);
}

static int
pg_probe_write(struct store *s, time_t at)
{
    static const char q[] = "INSERT INTO store_probe (id, at) VALUES (1, ?) "
                            "ON CONFLICT (id) DO UPDATE SET at = excluded.at";
    if (pg_begin(s) != 0)
        return -1;
    struct db_stmt *st = pg_prepare(s, q);
    if (st == NULL) {
        pg_rollback(s);
        return -1;
    }
    pg_bind_int(st, 1, (long long)at);
    int rc = pg_step(st);
    pg_reset(st);
    if (rc != DB_DONE) {
        pg_rollback(s);
        return -1;
    }
    return pg_commit(s);
}

/* A session-level advisory lock: held until this connection closes (or is lost), so another
 * node takes the job over when this one dies. */
static int
pg_try_job_lock(struct store *s, const char *job)
{
    static const char q[] = "SELECT pg_try_advisory_lock(" JOB_KEY ", hashtext(?))";
    struct db_stmt *st = pg_prepare(s, q);
    if (st == NULL)
        return -1;
    pg_bind_text(st, 1, job);
    int rc = pg_step(st) == DB_ROW ? (int)pg_col_int(st, 0) : -1;
    pg_reset(st);
    return rc;
}

const struct store_driver store_pg_driver = {
    .name = "postgres",
    .open = pg_open,
    .close = pg_close,
    .shutdown = NULL,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .prepare = pg_prepare,
    .bind_int = pg_bind_int,
    .bind_text = pg_bind_text,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_int = pg_col_int,
    .col_str = pg_col_str,
    .changes = pg_changes,
    .reset = pg_reset,
    .ping = pg_ping,
    .health = pg_health,
    .integrity = pg_integrity,
    .probe_write = pg_probe_write,
    .try_job_lock = pg_try_job_lock,
};
