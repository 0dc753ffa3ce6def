/* tests/unit/test_store_settings_version.c: what auth/store.h promises of SETTINGS_VERSION,
 * the counter the server keeps its policy on (app_policy_at): every store_setting_put moves it
 * in the same statement, the session read brings the value of its own snapshot, and nobody
 * sets it directly. Checked on the SQLite backend. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth/store.h"

#define NOW ((time_t)1800000000)
#define HASH "abcd0000abcd0000abcd0000abcd0000abcd0000abcd0000abcd0000abcd0000"

struct fixture {
    char dir[64];
    struct store *s;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/gh-store-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/gatehouse.db", f->dir);
    f->s = store_open(path, err, sizeof err);
    if (f->s == NULL) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    struct user u;
    long long id = 0;
    memset(&u, 0, sizeof u);
    snprintf(u.email, sizeof u.email, "v@example.com");
    snprintf(u.role, sizeof u.role, "member");
    snprintf(u.status, sizeof u.status, "active");
    snprintf(u.auth_method, sizeof u.auth_method, "password");
    u.created_at = u.password_changed_at = NOW;
    struct session_row row;
    memset(&row, 0, sizeof row);
    snprintf(row.token_hash, sizeof row.token_hash, "%s", HASH);
    row.created_at = row.last_seen = NOW;
    if (store_user_insert(f->s, &u, &id) != 0)
        return -1;
    row.user_id = id;
    if (store_session_insert(f->s, &row) != 0)
        return -1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char path[160];
    store_close(f->s);
    store_shutdown();
    const char *files[] = {"gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static long long
session_version(struct store *s)
{
    struct session_row row;
    struct user u;
    long long v = -1;
    assert_int_equal(store_session_user_get(s, HASH, &row, &u, &v), 0);
    assert_string_equal(u.email, "v@example.com");
    return v;
}

static long long
stored_version(struct store *s)
{
    char v[32];
    if (store_setting_get(s, SETTINGS_VERSION, v, sizeof v) != 0)
        return 0;
    return strtoll(v, NULL, 10);
}

static void
test_every_put_moves_the_version_the_session_read_brings(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(session_version(f->s), 0);
    assert_int_equal(store_setting_put(f->s, "lockout.minutes", "30", NOW), 0);
    assert_int_equal(session_version(f->s), 1);
    assert_int_equal(stored_version(f->s), 1);
    /* the same value again and another key: each put counts */
    assert_int_equal(store_setting_put(f->s, "lockout.minutes", "30", NOW), 0);
    assert_int_equal(store_setting_put(f->s, "session.web_idle_minutes", "10", NOW), 0);
    assert_int_equal(session_version(f->s), 3);
    char v[32];
    assert_int_equal(store_setting_get(f->s, "session.web_idle_minutes", v, sizeof v), 0);
    assert_string_equal(v, "10");
}

static void
test_the_version_is_not_set_directly(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_setting_put(f->s, "lockout.minutes", "30", NOW), 0);
    assert_int_equal(store_setting_put(f->s, SETTINGS_VERSION, "1", NOW), -1);
    assert_int_equal(session_version(f->s), 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_put_moves_the_version_the_session_read_brings,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_version_is_not_set_directly, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
