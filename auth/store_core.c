/* auth/store_core.c: the store's core: store_open picks the driver, transactions and health
 * go through it, and the helpers every area file uses.
 *
 * Layout. store.h is the contract (what each operation guarantees). The SQL sits in one file
 * per area, each statement inside the function that runs it:
 *   store_users.c     users, password history, lockouts, SAML users
 *   store_sessions.c  sessions
 *   store_settings.c  settings, named secrets, the wrapped data key
 *   store_idps.c      IdPs, their domains and group roles, metadata sources, federations
 *   store_saml.c      pending AuthnRequests, assertion IDs (replay), the SAML response log
 *   store_mfa.c       TOTP, recovery codes, the half-signed-in state
 *   store_reset.c     password reset tokens and requests
 *   store_events.c    audit, sign-in events
 *   store_roles.c     roles and their permissions
 *   store_schema.c    the migrations (one list, both databases)
 * Drivers: store_sqlite.c and store_pg.c, the only files that include their library. The area
 * files never do: they use the statement API of store_internal.h.
 *
 * Adding a function:
 *   1. Declare it in store.h with its contract: the return values (0 done, 1 not found /
 *      duplicate / already used, -1 error) and what it guarantees under concurrency, on every
 *      driver and across nodes (atomic single use, exact counter, read-your-writes).
 *   2. Define it in the area file that fits (or a new auth/store_<area>.c), with its SQL as a
 *      string literal beside it: the drivers cache prepared statements by the literal's address.
 *        static const char q[] = "UPDATE totp SET last_step = ? WHERE user_id = ? AND ...";
 *        struct db_stmt *st = db_stmt(s, q);
 *        if (st == NULL) return -1;
 *        db_bind_int(st, 1, step); ...
 *        return db_exec_changed(st);
 *      Write portable SQL: ? parameters, INTEGER/TEXT, ON CONFLICT, RETURNING for new ids
 *      (never last-insert-id), no SQLite- or PostgreSQL-only functions. A single-use or counted
 *      thing is one statement whose WHERE/ON CONFLICT decides (UPDATE ... WHERE used_at = 0,
 *      INSERT ... ON CONFLICT DO NOTHING, UPDATE ... RETURNING the new count), not a read then
 *      a write.
 *   3. Add its contract to tests/unit/test_store_conformance.c (runs on SQLite, and on
 *      PostgreSQL when GATEHOUSE_TEST_PG is set).
 * Adding a migration: append one entry to store_migrations in store_schema.c (never edit an
 * applied one); its version is its position. Portable text in .sql; what differs (triggers) in
 * .sqlite and .pg. */
#include "store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_internal.h"

/* "postgres:CONNINFO", "sqlite:PATH", or a bare path (SQLite). */
static const struct store_driver *
pick_driver(const char *where, const char **rest)
{
    if (strncmp(where, "sqlite:", 7) == 0) {
        *rest = where + 7;
        return &store_sqlite_driver;
    }
    if (strncmp(where, "postgres:", 9) == 0) {
        *rest = where + 9;
        return &store_pg_driver;
    }
    *rest = where;
    return &store_sqlite_driver;
}

struct store *
store_open(const char *where, char *err, size_t errlen)
{
    const char *rest = NULL;
    const struct store_driver *drv = pick_driver(where, &rest);
    struct store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->drv = drv;
    if (drv->open(s, rest, err, errlen) != 0) {
        drv->close(s);
        free(s);
        return NULL;
    }
    return s;
}

void
store_close(struct store *s)
{
    if (s == NULL)
        return;
    s->drv->close(s);
    free(s);
}

void
store_shutdown(void)
{
    if (store_sqlite_driver.shutdown != NULL)
        store_sqlite_driver.shutdown();
    if (store_pg_driver.shutdown != NULL)
        store_pg_driver.shutdown();
}

const char *
store_driver_name(const struct store *s)
{
    return s->drv->name;
}

void
store_set_node(struct store *s, const char *node)
{
    snprintf(s->node, sizeof s->node, "%s", node ? node : "");
}

int
store_schema_version(struct store *s)
{
    return s->version;
}

int
store_begin_write(struct store *s)
{
    return s->drv->begin(s);
}

int
store_commit(struct store *s)
{
    return s->drv->commit(s);
}

void
store_rollback(struct store *s)
{
    s->drv->rollback(s);
}

int
store_ping(struct store *s)
{
    return s->drv->ping(s);
}

int
store_integrity_check(struct store *s, char *err, size_t errlen)
{
    return s->drv->integrity(s, err, errlen);
}

int
store_health(struct store *s)
{
    return s->drv->health(s);
}

int
store_probe_write(struct store *s, time_t at)
{
    return s->drv->probe_write(s, at);
}

int
store_try_job_lock(struct store *s, const char *job)
{
    return s->drv->try_job_lock(s, job);
}

/* ---- the process's write failure state ---- */

/* Whether the process's last write failed for want of space, of the disk or of the database
 * server (SQLITE_FULL, an I/O error, a read-only file, a lost PostgreSQL connection), until a
 * write commits again. The server fails sign-ins closed while it is set. */
static _Atomic int writes_failing;
static pthread_mutex_t write_error_mu = PTHREAD_MUTEX_INITIALIZER;
static char write_error[256]; /* guarded by write_error_mu */

void
store_writes_failed(const char *why)
{
    pthread_mutex_lock(&write_error_mu);
    snprintf(write_error, sizeof write_error, "%s", why ? why : "unknown error");
    pthread_mutex_unlock(&write_error_mu);
    if (!atomic_exchange(&writes_failing, 1))
        log_error("store writes fail: %s", why ? why : "unknown error");
}

void
store_writes_succeeded(void)
{
    if (atomic_load(&writes_failing) && atomic_exchange(&writes_failing, 0))
        log_info("store writes succeed again");
}

int
store_writes_failing(char *why, size_t len)
{
    if (!atomic_load(&writes_failing))
        return 0;
    if (why != NULL) {
        pthread_mutex_lock(&write_error_mu);
        snprintf(why, len, "%s", write_error);
        pthread_mutex_unlock(&write_error_mu);
    }
    return 1;
}

/* ---- helpers of the area files ---- */

void
db_text(struct db_stmt *st, int i, char *out, size_t len)
{
    const char *t = db_str(st, i);
    snprintf(out, len, "%s", t ? t : "");
}

int
db_exec(struct db_stmt *st)
{
    int rc = db_step(st);
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}

int
db_exec_changed(struct db_stmt *st)
{
    int rc = db_step(st);
    long long n = rc == DB_DONE ? db_changes(st) : 0;
    db_reset(st);
    if (rc != DB_DONE)
        return -1;
    return n > 0 ? 0 : 1;
}

int
db_exec_insert(struct db_stmt *st)
{
    int rc = db_step(st);
    db_reset(st);
    if (rc == DB_DUP)
        return 1;
    return rc == DB_DONE ? 0 : -1;
}

int
db_one(struct db_stmt *st)
{
    int rc = db_step(st);
    if (rc == DB_ROW)
        return 0;
    db_reset(st);
    return rc == DB_DONE ? 1 : -1;
}

int
db_collect_texts(struct db_stmt *st, int max, char (**out)[1024], int *n)
{
    *n = 0;
    *out = calloc((size_t)(max > 0 ? max : 1), sizeof **out);
    if (*out == NULL) {
        db_reset(st);
        return -1;
    }
    int rc = DB_DONE;
    while (*n < max && (rc = db_step(st)) == DB_ROW)
        db_text(st, 0, (*out)[(*n)++], sizeof **out);
    if (*n == max)
        rc = DB_DONE;
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}
