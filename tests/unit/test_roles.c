/* tests/unit/test_roles.c: roles as data on a fresh SQLite store: the seeded built-in roles
 * hold what auth/authz.h says they do, the cache follows the version counter, and the names a
 * role may take. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth/authz.h"
#include "auth/roles.h"
#include "auth/store.h"

struct fixture {
    char dir[64];
    struct store *s;
    struct roles_cache *c;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/gh-roles-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/gatehouse.db", f->dir);
    f->s = store_open(path, err, sizeof err);
    f->c = roles_cache_new();
    if (f->s == NULL || f->c == NULL) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    char path[160];
    roles_cache_free(f->c);
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

static void
test_the_seeded_roles_hold_what_authz_says(void **state)
{
    struct fixture *f = *state;
    unsigned p = 1;
    assert_int_equal(roles_lookup(f->c, f->s, "owner", &p), 0);
    assert_int_equal(p, PERM_ALL);
    assert_int_equal(roles_lookup(f->c, f->s, "admin", &p), 0);
    assert_int_equal(p, PERM_ADMIN_DEFAULT);
    assert_int_equal(roles_lookup(f->c, f->s, "member", &p), 0);
    assert_int_equal(p, 0);
    assert_int_equal(roles_lookup(f->c, f->s, "auditor", &p), 1);
    assert_int_equal(p, 0);
    struct role_row r;
    char want[512];
    assert_int_equal(store_role_get(f->s, "admin", &r), 0);
    assert_string_equal(r.permissions, authz_perms_format(PERM_ADMIN_DEFAULT, want, sizeof want));
    assert_true(r.builtin);
}

static void
test_the_cache_follows_the_version_counter(void **state)
{
    struct fixture *f = *state;
    unsigned p = 0;
    assert_int_equal(roles_lookup(f->c, f->s, "admin", &p), 0);
    /* Written behind the cache's back without a new version: the cache still answers. */
    assert_int_equal(store_role_set_permissions(f->s, "admin", "audit.view", 1), 0);
    assert_int_equal(roles_lookup(f->c, f->s, "admin", &p), 0);
    assert_int_equal(p, PERM_ADMIN_DEFAULT);
    /* A new version: read again. */
    assert_int_equal(store_setting_put(f->s, ROLES_VERSION, "7", 1), 0);
    assert_int_equal(roles_lookup(f->c, f->s, "admin", &p), 0);
    assert_int_equal(p, PERM_BIT(PERM_AUDIT_VIEW));
    /* Owner-only and unknown names stored by hand never count. */
    assert_int_equal(store_role_set_permissions(f->s, "admin", "roles.edit,audit.view,x.y", 1), 0);
    assert_int_equal(store_setting_put(f->s, ROLES_VERSION, "8", 1), 0);
    assert_int_equal(roles_lookup(f->c, f->s, "admin", &p), 0);
    assert_int_equal(p, PERM_BIT(PERM_AUDIT_VIEW));
}

static void
test_role_names(void **state)
{
    (void)state;
    const char *good[] = {"auditor", "a", "help-desk", "saml_log.v", "abcdefghijklmno"};
    const char *bad[] = {"",    "Auditor", "1st", "-x",  "abcdefghijklmnop",
                         "cli", "system",  "a b", "a/b", NULL};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(roles_name_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(roles_name_valid(bad[i]));
    assert_true(roles_builtin("owner") && roles_builtin("admin") && roles_builtin("member"));
    assert_false(roles_builtin("auditor"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_the_seeded_roles_hold_what_authz_says, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_the_cache_follows_the_version_counter, setup,
                                        teardown),
        cmocka_unit_test(test_role_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
