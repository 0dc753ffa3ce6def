/* auth/store_sqlite.c: the SQLite driver of the store (store_internal.h): connections, the
 * process's write turn, WAL and pragmas, the statement cache, migrations, integrity and
 * health. The only file that includes sqlite3.h; it holds no SQL of the areas. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <sqlite3.h>

#include "log.h"
#include "store_internal.h"

/* A statement of one connection, found again by the address of its SQL text. */
struct sq_stmt {
    struct db_stmt base;
    sqlite3_stmt *st;
    struct conn *c;
    const char *sql;
    long long changes;
};

/* A connection to the database and its prepared statements (an open-addressed table keyed by
 * the SQL text's address). */
struct conn {
    sqlite3 *db;
    struct sq_stmt **slot;
    size_t cap, n;
};

struct sq {
    struct conn own; /* this thread's connection */
    struct conn *c;  /* the one in use: own, or the shared writer during a write transaction */
    char *path;
    int write_turn; /* holds the process's write turn (begin .. commit/rollback) */
};

/* The threads of this process take turns for SQLite's write lock here, blocking on a mutex that
 * wakes the next one the moment a transaction ends. Left to SQLite's busy handler (below) they
 * would poll in sleeps that last 60 us or more (timer slack), and under sign-in load two threads
 * meet at almost every transaction. Other processes (gatehousectl) still meet the busy handler.
 *
 * Write transactions run on one connection shared by the threads that hold the turn in order.
 * SQLite drops a connection's whole page cache when another connection has written since its
 * last transaction: with a connection per thread, every sign-in re-read the pages of the
 * tables it writes (~15 % of its store time); the writer's cache stays warm. Reads outside
 * transactions stay on each thread's own connection, in parallel. */
static pthread_mutex_t write_turn = PTHREAD_MUTEX_INITIALIZER;
static struct conn writer; /* guarded by write_turn */
static char *writer_path;  /* the database it is open on */
static int writer_state;   /* 0 not tried, 1 open, -1 could not be opened (own used) */

static struct sq *
sq_of(struct store *s)
{
    return s->impl;
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
cache_grow(struct conn *c)
{
    size_t cap = c->cap ? c->cap * 2 : 256;
    struct sq_stmt **slot = calloc(cap, sizeof *slot);
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

static struct sq_stmt *
conn_stmt(struct conn *c, const char *sql)
{
    if (c->n * 2 >= c->cap && cache_grow(c) != 0)
        return NULL;
    size_t j = slot_of(sql, c->cap);
    while (c->slot[j] != NULL && c->slot[j]->sql != sql)
        j = (j + 1) & (c->cap - 1);
    struct sq_stmt *x = c->slot[j];
    if (x != NULL) {
        sqlite3_reset(x->st);
        sqlite3_clear_bindings(x->st);
        x->changes = 0;
        return x;
    }
    x = calloc(1, sizeof *x);
    if (x == NULL)
        return NULL;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &x->st, NULL) != SQLITE_OK) {
        log_error("prepare failed: %s: %.80s", sqlite3_errmsg(c->db), sql);
        sqlite3_finalize(x->st);
        free(x);
        return NULL;
    }
    x->base.drv = &store_sqlite_driver;
    x->c = c;
    x->sql = sql;
    c->slot[j] = x;
    c->n++;
    return x;
}

static struct db_stmt *
sq_prepare(struct store *s, const char *sql)
{
    struct sq_stmt *x = conn_stmt(sq_of(s)->c, sql);
    return x ? &x->base : NULL;
}

static struct sq_stmt *
sq(struct db_stmt *st)
{
    return (struct sq_stmt *)st;
}

static void
sq_bind_int(struct db_stmt *st, int i, long long v)
{
    sqlite3_bind_int64(sq(st)->st, i, v);
}

static void
sq_bind_text(struct db_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(sq(st)->st, i, v, -1, SQLITE_TRANSIENT);
}

static void
sq_bind_null(struct db_stmt *st, int i)
{
    sqlite3_bind_null(sq(st)->st, i);
}

/* Reports a write's outcome to the process's write failure state: failures for want of space or
 * of the disk (SQLITE_FULL, an I/O error such as ENOSPC or EFBIG, a read-only file) set it; a
 * write that committed (outside a transaction each statement commits by itself) clears it. */
static void
note_write(struct conn *c, int rc, int committed)
{
    int primary = rc & 0xff;
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        if (committed)
            store_writes_succeeded();
        return;
    }
    if (primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_READONLY ||
        primary == SQLITE_CANTOPEN)
        store_writes_failed(sqlite3_errmsg(c->db));
}

static int
sq_step(struct db_stmt *st)
{
    struct sq_stmt *x = sq(st);
    int rc = sqlite3_step(x->st);
    if (!sqlite3_stmt_readonly(x->st))
        note_write(x->c, rc, sqlite3_get_autocommit(x->c->db));
    if (rc == SQLITE_ROW)
        return DB_ROW;
    if (rc == SQLITE_DONE) {
        x->changes = sqlite3_changes(x->c->db);
        return DB_DONE;
    }
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return DB_DUP;
    log_error("step failed: %s: %.80s", sqlite3_errmsg(x->c->db), x->sql);
    return DB_ERROR;
}

static long long
sq_col_int(struct db_stmt *st, int i)
{
    return sqlite3_column_int64(sq(st)->st, i);
}

static const char *
sq_col_str(struct db_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(sq(st)->st, i);
}

static long long
sq_changes(struct db_stmt *st)
{
    return sq(st)->changes;
}

static void
sq_reset(struct db_stmt *st)
{
    sqlite3_reset(sq(st)->st);
}

/* ---- connections ---- */

/* The store is locked by another writer: another process (gatehousectl), or a thread of ours
 * writing outside a transaction (those take no write turn), for a fraction of a millisecond.
 * SQLite's own busy timeout sleeps 1 ms, then 2, 5, 10... Short waits first, then 1 ms ones;
 * after ~5 s in all the statement fails with SQLITE_BUSY. */
static int
busy_wait(void *arg, int n)
{
    (void)arg;
    if (n >= 200 + 4800)
        return 0;
    struct timespec t = {0, n < 100 ? 10000 : n < 200 ? 100000 : 1000000};
    nanosleep(&t, NULL);
    return 1;
}

/* Opens c on path with the store's settings. */
static int
open_conn(struct conn *c, const char *path, char *err, size_t errlen)
{
    int rc = sqlite3_open_v2(
        path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open the store: %s", path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        return -1;
    }
    sqlite3_busy_handler(c->db, busy_wait, NULL);
    sqlite3_extended_result_codes(c->db, 1);
    char *msg = NULL;
    /* A sign-in writes ~14 pages to the WAL. With SQLite's default checkpoint every 1,000 pages
     * (~70 sign-ins) the committing request copies them into the database and syncs both files,
     * ~5 % of the server's CPU under load; every 8,192 pages (32 MiB): ~1.7 % (perf, make bench),
     * and the WAL file is truncated back to 64 MiB at most after each checkpoint. */
    if (sqlite3_exec(c->db,
                     "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; "
                     "PRAGMA synchronous = NORMAL; PRAGMA trusted_schema = OFF; "
                     "PRAGMA wal_autocheckpoint = 8192; PRAGMA journal_size_limit = 67108864",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(c->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static void
close_conn(struct conn *c)
{
    for (size_t i = 0; i < c->cap; i++) {
        if (c->slot[i] == NULL)
            continue;
        sqlite3_finalize(c->slot[i]->st);
        free(c->slot[i]);
    }
    free(c->slot);
    c->slot = NULL;
    c->cap = c->n = 0;
    if (c->db != NULL && sqlite3_close(c->db) != SQLITE_OK)
        log_warn("close: %s", sqlite3_errmsg(c->db));
    c->db = NULL;
}

/* The store holds password hashes, sealed secrets and the SAML log's personal data. Its file is
 * created 0600 before SQLite opens it (SQLite gives the -wal and -shm files the database's mode),
 * and a store whose files other users may read is refused, as the master key is. */
static int
private_files(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
        close(fd);
    else if (errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the store: %s", path, strerror(errno));
        return -1;
    }
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        char name[4096];
        struct stat st;
        snprintf(name, sizeof name, "%s%s", path, suffix[i]);
        if (stat(name, &st) != 0)
            continue; /* -wal and -shm come and go */
        if ((st.st_mode & 077) != 0) {
            snprintf(err, errlen,
                     "%s: the store is readable by other users (mode %03o); run chmod 600 %s "
                     "(and its -wal and -shm files)",
                     name, (unsigned)(st.st_mode & 0777), name);
            return -1;
        }
    }
    return 0;
}

static int
exec_script(sqlite3 *db, const char *script)
{
    char *msg = NULL;
    if (sqlite3_exec(db, script, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int migrate_tx(struct store *s, sqlite3 *db, char *err, size_t errlen);

/* Whether every foreign key holds (PRAGMA foreign_key_check finds no row). */
static int
foreign_keys_hold(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    return ok;
}

/* Applies the pending migrations in one immediate transaction: processes starting together
 * migrate once (the others wait, then find the schema current). Foreign keys are off while
 * they run, as SQLite's procedure for rebuilding a table asks (a DROP TABLE would otherwise
 * cascade to the rows pointing at it), and checked all at once before the commit. */
static int
migrate(struct store *s, char *err, size_t errlen)
{
    sqlite3 *db = sq_of(s)->own.db;
    int rc = migrate_tx(s, db, err, errlen);
    /* Outside any transaction, where the pragma takes effect. */
    if (exec_script(db, "PRAGMA foreign_keys = ON") && rc == 0) {
        snprintf(err, errlen, "cannot turn foreign keys back on: %s", sqlite3_errmsg(db));
        return -1;
    }
    return rc;
}

static int
migrate_tx(struct store *s, sqlite3 *db, char *err, size_t errlen)
{
    size_t n = store_n_migrations;
    if (exec_script(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"))
        goto fail;
    if (exec_script(db, "PRAGMA foreign_keys = OFF") || exec_script(db, "BEGIN IMMEDIATE"))
        goto fail;
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (sqlite3_prepare_v2(db, "SELECT MAX(version) FROM schema_version", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > (int)n) {
        exec_script(db, "ROLLBACK");
        snprintf(err, errlen, "the store has schema version %d, newer than this program (%zu)",
                 version, n);
        return -1;
    }
    for (size_t v = (size_t)version; v < n; v++) {
        const struct store_migration *m = &store_migrations[v];
        char bump[96];
        snprintf(bump, sizeof bump, "INSERT INTO schema_version (version) VALUES (%zu)", v + 1);
        if (exec_script(db, m->sql) || (m->sqlite != NULL && exec_script(db, m->sqlite)) ||
            exec_script(db, bump)) {
            snprintf(err, errlen, "migration to schema version %zu failed: %s", v + 1,
                     sqlite3_errmsg(db));
            exec_script(db, "ROLLBACK");
            return -1;
        }
        log_info("store migrated to schema version %zu", v + 1);
    }
    if ((size_t)version < n && !foreign_keys_hold(db)) {
        exec_script(db, "ROLLBACK");
        snprintf(err, errlen, "migration to schema version %zu left a foreign key broken", n);
        return -1;
    }
    if (exec_script(db, "COMMIT"))
        goto fail;
    s->version = (int)n;
    return 0;
fail:
    snprintf(err, errlen, "cannot prepare the schema: %s", sqlite3_errmsg(db));
    return -1;
}

static int
sq_open(struct store *s, const char *path, char *err, size_t errlen)
{
    struct sq *q = calloc(1, sizeof *q);
    s->impl = q;
    if (q == NULL || (q->path = strdup(path)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    q->c = &q->own;
    if (private_files(path, err, errlen) != 0 || open_conn(&q->own, path, err, errlen) != 0)
        return -1;
    return migrate(s, err, errlen);
}

static void
sq_close(struct store *s)
{
    struct sq *q = sq_of(s);
    if (q == NULL)
        return;
    close_conn(&q->own);
    free(q->path);
    free(q);
    s->impl = NULL;
}

static void
sq_shutdown(void)
{
    pthread_mutex_lock(&write_turn);
    if (writer_state == 1)
        close_conn(&writer);
    free(writer_path);
    writer_path = NULL;
    writer_state = 0;
    pthread_mutex_unlock(&write_turn);
}

/* ---- write transactions ---- */

/* Gives the turn back once the transaction is over. A transaction that could not even be
 * rolled back gives it back too: the next thread then meets SQLite's lock and its busy
 * handler's time limit, an error rather than a hang. */
static void
end_write_turn(struct sq *q)
{
    if (q->write_turn) {
        q->write_turn = 0;
        q->c = &q->own;
        pthread_mutex_unlock(&write_turn);
    }
}

/* The connection for s's write transaction (the turn held): the shared writer when it is open
 * on s's database, else s's own. */
static struct conn *
writer_for(struct sq *q)
{
    if (writer_state == 0) {
        char err[512];
        writer_path = strdup(q->path);
        writer_state = writer_path && open_conn(&writer, q->path, err, sizeof err) == 0 ? 1 : -1;
        if (writer_state < 0) {
            log_warn("no shared writer connection (each thread writes on its own): %s",
                     writer_path ? err : "out of memory");
            close_conn(&writer);
        }
    }
    return writer_state == 1 && strcmp(writer_path, q->path) == 0 ? &writer : &q->own;
}

/* Runs a transaction-control statement on q's current connection; its SQLite code. */
static int
control(struct sq *q, const char *sql)
{
    struct sq_stmt *x = conn_stmt(q->c, sql);
    if (x == NULL)
        return SQLITE_ERROR;
    int rc = sqlite3_step(x->st);
    sqlite3_reset(x->st);
    if (rc != SQLITE_DONE)
        log_error("%s: %s", sql, sqlite3_errmsg(q->c->db));
    return rc;
}

static const char sql_begin[] = "BEGIN IMMEDIATE";
static const char sql_commit[] = "COMMIT";
static const char sql_rollback[] = "ROLLBACK";

static int
sq_begin(struct store *s)
{
    struct sq *q = sq_of(s);
    if (q->write_turn) { /* a transaction in a transaction: refused, as SQLite would */
        log_error("a write transaction was begun inside another");
        return -1;
    }
    pthread_mutex_lock(&write_turn);
    q->write_turn = 1;
    q->c = writer_for(q);
    int rc = control(q, sql_begin);
    if (rc != SQLITE_DONE) {
        note_write(q->c, rc, 0);
        end_write_turn(q);
        return -1;
    }
    return 0;
}

/* A commit that fails leaves nothing half-done: the transaction is rolled back here. */
static int
sq_commit(struct store *s)
{
    struct sq *q = sq_of(s);
    int rc = control(q, sql_commit);
    note_write(q->c, rc, rc == SQLITE_DONE);
    if (rc != SQLITE_DONE && sqlite3_get_autocommit(q->c->db) == 0)
        control(q, sql_rollback);
    end_write_turn(q);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void
sq_rollback(struct store *s)
{
    struct sq *q = sq_of(s);
    if (sqlite3_get_autocommit(q->c->db) == 0)
        control(q, sql_rollback);
    end_write_turn(q);
}

/* ---- health ---- */

/* What the readiness probe writes: about what a sign-in writes (~14 pages), so that a store
 * with room for the probe has room for sign-ins. */
#define PROBE_BYTES (64 * 1024)

static int
sq_probe_write(struct store *s, time_t at)
{
    static const char q[] = "INSERT INTO store_probe (id, at, pad) VALUES (1, ?, ?) "
                            "ON CONFLICT (id) DO UPDATE SET at = excluded.at, pad = excluded.pad";
    if (sq_begin(s) != 0)
        return -1;
    struct sq_stmt *x = conn_stmt(sq_of(s)->c, q);
    if (x == NULL) {
        sq_rollback(s);
        return -1;
    }
    sqlite3_bind_int64(x->st, 1, (long long)at);
    sqlite3_bind_zeroblob(x->st, 2, PROBE_BYTES);
    if (sq_step(&x->base) != DB_DONE) {
        sqlite3_reset(x->st);
        sq_rollback(s);
        return -1;
    }
    sqlite3_reset(x->st);
    return sq_commit(s);
}

static int
sq_integrity(struct store *s, char *err, size_t errlen)
{
    struct sq *q = sq_of(s);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(q->c->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", q->path, sqlite3_errmsg(q->c->db));
        return -1;
    }
    int step = sqlite3_step(st);
    const unsigned char *v = step == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    if (v != NULL && strcmp((const char *)v, "ok") == 0)
        rc = 0;
    else
        snprintf(err, errlen, "%s: the store is corrupt (%.300s); restore it from a backup",
                 q->path, v ? (const char *)v : sqlite3_errmsg(q->c->db));
    sqlite3_finalize(st);
    return rc;
}

/* Reads the first row of table on db from the table itself (an index would answer "SELECT 1"
 * without touching it); -1 when SQLite cannot (a corrupt page). */
static int
read_first_row(sqlite3 *db, const char *table)
{
    char *q = sqlite3_mprintf("SELECT 1 FROM \"%w\" NOT INDEXED LIMIT 1", table);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (q != NULL && sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK) {
        int step = sqlite3_step(st);
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    sqlite3_free(q);
    return rc;
}

/* A fresh read-only connection reads the schema and the first row of every table: the others'
 * page caches may hold a page the file no longer has. */
static int
sq_health(struct store *s)
{
    struct sq *q = sq_of(s);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_open_v2(q->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table'", -1, &st,
                           NULL) != SQLITE_OK)
        goto out;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *name = sqlite3_column_text(st, 0);
        if (name == NULL || read_first_row(db, (const char *)name) != 0) {
            log_error("store health: table %s unreadable: %s", name ? (const char *)name : "?",
                      sqlite3_errmsg(db));
            goto out;
        }
    }
    rc = step == SQLITE_DONE ? 0 : -1;
out:
    if (rc != 0 && db != NULL)
        log_error("store health: %s: %s", q->path, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

static int
sq_ping(struct store *s)
{
    static const char q[] = "SELECT 1";
    struct sq_stmt *x = conn_stmt(sq_of(s)->c, q);
    if (x == NULL)
        return -1;
    int rc = sqlite3_step(x->st) == SQLITE_ROW ? 0 : -1;
    sqlite3_reset(x->st);
    return rc;
}

/* One node: every job is this process's. */
static int
sq_try_job_lock(struct store *s, const char *job)
{
    (void)s;
    (void)job;
    return 1;
}

const struct store_driver store_sqlite_driver = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .shutdown = sq_shutdown,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .prepare = sq_prepare,
    .bind_int = sq_bind_int,
    .bind_text = sq_bind_text,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .col_int = sq_col_int,
    .col_str = sq_col_str,
    .changes = sq_changes,
    .reset = sq_reset,
    .ping = sq_ping,
    .health = sq_health,
    .integrity = sq_integrity,
    .probe_write = sq_probe_write,
    .try_job_lock = sq_try_job_lock,
};
