/* auth/store_copy.c: store_copy, which moves a whole store into an empty PostgreSQL database
 * (gatehousectl store migrate). The tables and their columns are read from the target's
 * catalog, so a table or column a later migration adds is copied without a change here; the
 * order of creation (pg_class oids) puts each table after the ones its foreign keys name.
 * The statements are made at run time: each text stays allocated until store_copy returns,
 * so the drivers' statement caches (keyed by the text's address) never see an address twice. */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "store_internal.h"

#define COPY_MAX_TABLES 128
#define COPY_MAX_SQL 8192

/* Tables that are not data: the drivers' schema bookkeeping and the readiness probe's row (a
 * BLOB of padding that every /readyz rewrites). */
static int
skipped(const char *table)
{
    return strcmp(table, "schema_version") == 0 || strcmp(table, "store_probe") == 0;
}

/* The statement texts made for one copy, freed together at its end. */
struct texts {
    char *items[COPY_MAX_TABLES * 5];
    size_t n;
};

static const char *
textf(struct texts *t, const char *fmt, ...)
{
    if (t->n == sizeof t->items / sizeof t->items[0])
        return NULL;
    char *sql = malloc(COPY_MAX_SQL);
    if (sql == NULL)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sql, COPY_MAX_SQL, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= COPY_MAX_SQL) {
        free(sql);
        return NULL;
    }
    t->items[t->n++] = sql;
    return sql;
}

static void
texts_free(struct texts *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->items[i]);
    t->n = 0;
}

struct table {
    char name[64];
    char cols[COPY_MAX_SQL / 4];   /* "\"a\", \"b\"" */
    char params[COPY_MAX_SQL / 8]; /* "?, ?" */
    char identity[64];             /* the identity column, or "" */
    int ncols;
};

/* The columns of t, in order, from the target's catalog. */
static int
read_columns(struct store *to, struct table *t)
{
    static const char q[] =
        "SELECT column_name, is_identity FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position";
    struct db_stmt *st = db_stmt(to, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, t->name);
    size_t cl = 0, pl = 0;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *col = db_str(st, 0), *ident = db_str(st, 1);
        if (col == NULL || strchr(col, '"') != NULL || cl + strlen(col) + 4 >= sizeof t->cols ||
            pl + 3 >= sizeof t->params) {
            rc = DB_ERROR;
            break;
        }
        cl += (size_t)snprintf(t->cols + cl, sizeof t->cols - cl, "%s\"%s\"", t->ncols ? ", " : "",
                               col);
        pl += (size_t)snprintf(t->params + pl, sizeof t->params - pl, "%s?", t->ncols ? ", " : "");
        if (ident != NULL && strcmp(ident, "YES") == 0)
            snprintf(t->identity, sizeof t->identity, "%s", col);
        t->ncols++;
    }
    db_reset(st);
    return rc == DB_DONE && t->ncols > 0 ? 0 : -1;
}

/* The target's tables in creation order, each with its columns. */
static int
read_catalog(struct store *to, struct table *tables, int *n)
{
    static const char q[] =
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.oid";
    struct db_stmt *st = db_stmt(to, q);
    if (st == NULL)
        return -1;
    *n = 0;
    int rc;
    while ((rc = db_step(st)) == DB_ROW) {
        const char *name = db_str(st, 0);
        if (name == NULL || skipped(name))
            continue;
        if (*n == COPY_MAX_TABLES || strlen(name) >= sizeof tables[0].name ||
            strchr(name, '"') != NULL) {
            rc = DB_ERROR;
            break;
        }
        memset(&tables[*n], 0, sizeof tables[*n]);
        snprintf(tables[(*n)++].name, sizeof tables[0].name, "%s", name);
    }
    db_reset(st);
    if (rc != DB_DONE)
        return -1;
    for (int i = 0; i < *n; i++)
        if (read_columns(to, &tables[i]) != 0)
            return -1;
    return 0;
}

/* Row count and an order-free checksum of one table as its store reads it: the XOR of each
 * row's SHA-256 over its columns, each written as its length and text, or N for NULL. */
static int
checksum(struct store *s, const char *select, int ncols, long long *rows, unsigned char sum[32])
{
    struct db_stmt *st = db_stmt(s, select);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    memset(sum, 0, 32);
    *rows = 0;
    int rc = DB_ERROR;
    while (st != NULL && md != NULL && (rc = db_step(st)) == DB_ROW) {
        unsigned char h[32];
        unsigned int hl = 0;
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        for (int c = 0; c < ncols; c++) {
            const char *v = db_str(st, c);
            char len[32] = "N";
            size_t ll = v ? (size_t)snprintf(len, sizeof len, "%zu:", strlen(v)) : 1;
            EVP_DigestUpdate(md, len, ll);
            if (v != NULL)
                EVP_DigestUpdate(md, v, strlen(v));
        }
        EVP_DigestFinal_ex(md, h, &hl);
        for (int k = 0; k < 32; k++)
            sum[k] ^= h[k];
        (*rows)++;
    }
    if (st != NULL)
        db_reset(st);
    EVP_MD_CTX_free(md);
    return rc == DB_DONE ? 0 : -1;
}

static int
copy_rows(struct store *from, struct store *to, const char *select, const char *insert, int ncols)
{
    struct db_stmt *src = db_stmt(from, select);
    if (src == NULL)
        return -1;
    int rc;
    while ((rc = db_step(src)) == DB_ROW) {
        struct db_stmt *dst = db_stmt(to, insert);
        if (dst == NULL) {
            rc = DB_ERROR;
            break;
        }
        for (int c = 0; c < ncols; c++) {
            const char *v = db_str(src, c);
            if (v == NULL)
                db_bind_null(dst, c + 1);
            else
                db_bind_text(dst, c + 1, v);
        }
        if (db_exec(dst) != 0) {
            rc = DB_ERROR;
            break;
        }
    }
    db_reset(src);
    return rc == DB_DONE ? 0 : -1;
}

static int
one_int(struct store *s, const char *sql, long long *n)
{
    struct db_stmt *st = sql ? db_stmt(s, sql) : NULL;
    if (st == NULL || db_one(st) != 0)
        return -1;
    *n = db_int(st, 0);
    db_reset(st);
    return 0;
}

/* Tables whose rows say the target is in use: every Gatehouse process that opened a store wrote
 * its CSRF key into secrets, and people and changes are in users and audit. Other tables may hold
 * the rows a migration seeds (the built-in roles): those are replaced by the source's. */
static int
marks_use(const char *table)
{
    return strcmp(table, "secrets") == 0 || strcmp(table, "users") == 0 ||
           strcmp(table, "audit") == 0;
}

/* One table: refused when it shows the target in use; emptied of seeded rows; copied; its
 * identity moved past the copied ids; compared. 0, 1 (in use), -1 with err. */
static int
copy_table(struct store *from, struct store *to, struct texts *tx, const struct table *t,
           struct store_copy_table *out, char *err, size_t errlen)
{
    /* Two texts of one SELECT: each connection caches its own statement by address. */
    const char *sel_from = textf(tx, "SELECT %s FROM \"%s\"", t->cols, t->name);
    const char *sel_to = textf(tx, "SELECT %s FROM \"%s\"", t->cols, t->name);
    const char *count = textf(tx, "SELECT count(*) FROM \"%s\"", t->name);
    const char *clear = textf(tx, "DELETE FROM \"%s\"", t->name);
    const char *insert =
        textf(tx, "INSERT INTO \"%s\" (%s) VALUES (%s)", t->name, t->cols, t->params);
    const char *advance = t->identity[0] == '\0'
                              ? ""
                              : textf(tx,
                                      "SELECT setval(pg_get_serial_sequence('\"%s\"', '%s'), "
                                      "GREATEST((SELECT COALESCE(MAX(\"%s\"), 0) FROM \"%s\"), 1))",
                                      t->name, t->identity, t->identity, t->name);
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", t->name);
    long long n = 0;
    if (sel_from == NULL || sel_to == NULL || insert == NULL || advance == NULL || clear == NULL ||
        one_int(to, count, &n) != 0) {
        snprintf(err, errlen, "%s: the target cannot be read", t->name);
        return -1;
    }
    if (n > 0 && marks_use(t->name)) {
        snprintf(err, errlen, "the target is not empty: its table %s has %lld rows", t->name, n);
        return 1;
    }
    struct db_stmt *st = n > 0 ? db_stmt(to, clear) : NULL;
    if (n > 0 && (st == NULL || db_exec(st) != 0)) {
        snprintf(err, errlen, "%s: the rows its migration seeded could not be replaced", t->name);
        return -1;
    }
    if (copy_rows(from, to, sel_from, insert, t->ncols) != 0) {
        snprintf(err, errlen, "%s: a row could not be copied", t->name);
        return -1;
    }
    if (advance[0] != '\0' && one_int(to, advance, &n) != 0) {
        snprintf(err, errlen, "%s: its id sequence could not be moved on", t->name);
        return -1;
    }
    unsigned char a[32], b[32];
    if (checksum(from, sel_from, t->ncols, &out->rows, a) != 0 ||
        checksum(to, sel_to, t->ncols, &out->rows_copied, b) != 0) {
        snprintf(err, errlen, "%s: the checksums could not be computed", t->name);
        return -1;
    }
    for (int k = 0; k < 32; k++)
        snprintf(out->sha256 + 2 * k, 3, "%02x", a[k]);
    out->same = out->rows == out->rows_copied && memcmp(a, b, sizeof a) == 0;
    if (!out->same) {
        snprintf(err, errlen, "%s: the copy differs (%lld rows read, %lld in the target)", t->name,
                 out->rows, out->rows_copied);
        return -1;
    }
    return 0;
}

int
store_copy(struct store *from, struct store *to,
           int (*each)(const struct store_copy_table *, void *), void *ctx, char *err,
           size_t errlen)
{
    if (strcmp(store_driver_name(to), "postgres") != 0) {
        snprintf(err, errlen, "the target must be a PostgreSQL store");
        return -1;
    }
    if (store_schema_version(from) != store_schema_version(to)) {
        snprintf(err, errlen, "schema versions differ (%d and %d)", store_schema_version(from),
                 store_schema_version(to));
        return -1;
    }
    static struct table tables[COPY_MAX_TABLES];
    struct texts tx = {.n = 0};
    int n = 0, rc = -1;
    /* The source's write turn: its server's writes wait (seconds), so every table is copied
     * from one state and the checksums compare like with like. */
    if (store_begin_write(from) != 0) {
        snprintf(err, errlen, "the source store is busy or cannot be read");
        return -1;
    }
    if (store_begin_write(to) != 0) {
        store_rollback(from);
        snprintf(err, errlen, "the target store cannot start a transaction");
        return -1;
    }
    if (read_catalog(to, tables, &n) != 0 || n == 0) {
        snprintf(err, errlen, "the target's tables cannot be read");
        goto out;
    }
    for (int i = 0; i < n; i++) {
        struct store_copy_table t;
        int r = copy_table(from, to, &tx, &tables[i], &t, err, errlen);
        if (r != 0) {
            rc = r;
            goto out;
        }
        if (each != NULL && each(&t, ctx) != 0) {
            snprintf(err, errlen, "stopped");
            goto out;
        }
    }
    rc = 0;
out:
    if (rc == 0 && store_commit(to) != 0) {
        snprintf(err, errlen, "the target did not commit the copy");
        rc = -1;
    } else if (rc != 0) {
        store_rollback(to);
    }
    store_rollback(from); /* nothing written there */
    texts_free(&tx);
    return rc;
}
