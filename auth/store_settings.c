/* auth/store_settings.c: the store's run-time settings, named secrets and the wrapped data key
 * (store.h). */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rand.h"
#include "store_internal.h"

/* ---- settings and secrets ---- */

int
store_setting_get(struct store *s, const char *key, char *value, size_t len)
{
    static const char q[] = "SELECT value FROM settings WHERE key = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, key);
    int rc = db_step(st), ret = -1;
    if (rc == DB_ROW) {
        db_text(st, 0, value, len);
        ret = 0;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

int
store_setting_put(struct store *s, const char *key, const char *value, time_t at)
{
    /* The setting and SETTINGS_VERSION + 1 in one statement: no reader sees the one without the
     * other, on any driver or node. */
    static const char q[] =
        "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?), "
        "('" SETTINGS_VERSION "', '1', ?) ON CONFLICT (key) DO UPDATE SET "
        "value = CASE WHEN settings.key = '" SETTINGS_VERSION "' "
        "THEN CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT) ELSE excluded.value END, "
        "updated_at = excluded.updated_at";
    if (strcmp(key, SETTINGS_VERSION) == 0) {
        log_error("%s is the store's own counter: not set directly", key);
        return -1;
    }
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, key);
    db_bind_text(st, 2, value);
    db_bind_int(st, 3, at);
    db_bind_int(st, 4, at);
    return db_exec(st);
}

int
store_setting_each(struct store *s, void (*cb)(const char *, const char *, void *), void *ctx)
{
    static const char q[] = "SELECT key, value FROM settings";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    int rc;
    while ((rc = db_step(st)) == DB_ROW)
        cb(db_str(st, 0), db_str(st, 1), ctx);
    db_reset(st);
    return rc == DB_DONE ? 0 : -1;
}

static int
hex_to_bytes(const char *hex, unsigned char *out, size_t n)
{
    if (hex == NULL || strlen(hex) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else
                return -1;
        }
        out[i] = (unsigned char)v;
    }
    return 0;
}

int
store_secret(struct store *s, const char *name, unsigned char *out, size_t n)
{
    static const char q_secret_get[] = "SELECT value FROM secrets WHERE name = ?";
    static const char q_secret_insert[] = "INSERT INTO secrets (name, value) VALUES (?, ?) "
                                          "ON CONFLICT (name) DO NOTHING";
    if (n > 64)
        return -1;
    for (int attempt = 0; attempt < 2; attempt++) {
        struct db_stmt *st = db_stmt(s, q_secret_get);
        if (st == NULL)
            return -1;
        db_bind_text(st, 1, name);
        int rc = db_step(st), ok = -1;
        if (rc == DB_ROW)
            ok = hex_to_bytes(db_str(st, 0), out, n);
        db_reset(st);
        if (rc == DB_ROW)
            return ok;
        if (rc != DB_DONE || attempt == 1)
            return -1;
        /* Absent: create it. Another process may win the race; then we read theirs. */
        unsigned char fresh[64];
        char hex[129];
        if (rand_bytes(fresh, n) != 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            snprintf(hex + 2 * i, 3, "%02x", fresh[i]);
        st = db_stmt(s, q_secret_insert);
        if (st == NULL)
            return -1;
        db_bind_text(st, 1, name);
        db_bind_text(st, 2, hex);
        if (db_exec(st) != 0)
            return -1;
    }
    return -1;
}

/* ---- secrets at rest, TOTP, recovery codes ---- */

int
store_data_key_get(struct store *s, char *wrapped, size_t len)
{
    static const char q[] = "SELECT wrapped FROM data_keys WHERE id = 1";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    int rc = db_step(st), ret = -1;
    if (rc == DB_ROW) {
        db_text(st, 0, wrapped, len);
        ret = 0;
    } else if (rc == DB_DONE) {
        ret = 1;
    }
    db_reset(st);
    return ret;
}

int
store_data_key_put(struct store *s, const char *wrapped, time_t at)
{
    static const char q[] = "INSERT INTO data_keys (id, wrapped, created_at) VALUES (1, ?, ?) "
                            "ON CONFLICT (id) DO NOTHING";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, wrapped);
    db_bind_int(st, 2, at);
    return db_exec_changed(st);
}

int
store_data_key_replace(struct store *s, const char *old_wrapped, const char *new_wrapped)
{
    static const char q[] = "UPDATE data_keys SET wrapped = ? WHERE id = 1 AND wrapped = ?";
    struct db_stmt *st = db_stmt(s, q);
    if (st == NULL)
        return -1;
    db_bind_text(st, 1, new_wrapped);
    db_bind_text(st, 2, old_wrapped);
    return db_exec_changed(st);
}
