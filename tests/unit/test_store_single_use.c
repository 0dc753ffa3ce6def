/* tests/unit/test_store_single_use.c: what auth/store.h promises of its single-use operations,
 * checked on the SQLite backend without the HTTP layer in front (whose own checks hide the
 * store's): each token, code, step and ID is taken once; a second take is refused. */
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

struct fixture {
    char dir[64];
    struct store *s;
    long long user_id;
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
    memset(&u, 0, sizeof u);
    snprintf(u.email, sizeof u.email, "once@example.com");
    snprintf(u.role, sizeof u.role, "member");
    snprintf(u.status, sizeof u.status, "active");
    snprintf(u.auth_method, sizeof u.auth_method, "password");
    snprintf(u.password_hash, sizeof u.password_hash, "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA");
    u.created_at = u.password_changed_at = NOW;
    if (store_user_insert(f->s, &u, &f->user_id) != 0)
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

static void
test_a_reset_token_is_used_once_and_not_after_it_expires(void **state)
{
    struct fixture *f = *state;
    const char *a = "aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000aaaa0000";
    const char *b = "bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000bbbb0000";
    assert_int_equal(store_reset_token_put(f->s, a, f->user_id, NOW, NOW + 1800), 0);
    assert_int_equal(store_reset_token_put(f->s, b, f->user_id, NOW, NOW + 1800), 0);
    assert_int_equal(store_reset_token_use(f->s, a, NOW + 10), 0);
    assert_int_equal(store_reset_token_use(f->s, a, NOW + 11), 1);
    assert_int_equal(store_reset_token_use(f->s, b, NOW + 1800), 1); /* expired */
    assert_int_equal(store_reset_token_use(f->s, "0000", NOW), 1);   /* unknown */
}

static void
test_a_totp_step_is_used_once_and_never_an_earlier_one(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_totp_put_pending(f->s, f->user_id, "sealed-seed", NOW), 0);
    assert_int_equal(store_totp_confirm(f->s, f->user_id, 100), 0);
    assert_int_equal(store_totp_use_step(f->s, f->user_id, 100), 1); /* the confirming step */
    assert_int_equal(store_totp_use_step(f->s, f->user_id, 101), 0);
    assert_int_equal(store_totp_use_step(f->s, f->user_id, 101), 1);
    assert_int_equal(store_totp_use_step(f->s, f->user_id, 100), 1);
    assert_int_equal(store_totp_use_step(f->s, f->user_id, 102), 0);
}

static void
test_a_recovery_code_is_used_once(void **state)
{
    struct fixture *f = *state;
    char hashes[2][65];
    memset(hashes, 'c', sizeof hashes);
    hashes[0][64] = hashes[1][64] = '\0';
    hashes[1][0] = 'd';
    assert_int_equal(store_recovery_replace(f->s, f->user_id, (const char(*)[65])hashes, 2, NOW),
                     0);
    assert_int_equal(store_recovery_use(f->s, f->user_id, hashes[0], NOW), 0);
    assert_int_equal(store_recovery_use(f->s, f->user_id, hashes[0], NOW + 1), 1);
    assert_int_equal(store_recovery_use(f->s, f->user_id, hashes[1], NOW + 2), 0);
    long long left = -1;
    assert_int_equal(store_recovery_remaining(f->s, f->user_id, &left), 0);
    assert_int_equal(left, 0);
}

static void
test_an_authn_request_is_taken_once_by_its_idp_while_live(void **state)
{
    struct fixture *f = *state;
    char rt[64];
    const char *idp = "https://idp.example/", *other = "https://other.example/";
    assert_int_equal(store_saml_request_put(f->s, "_r1", idp, "/back", NOW + 600), 0);
    assert_int_equal(store_saml_request_put(f->s, "_r2", idp, "/", NOW + 600), 0);
    assert_int_equal(store_saml_request_take(f->s, "_r1", other, NOW, rt, sizeof rt), 1);
    assert_int_equal(store_saml_request_take(f->s, "_r1", idp, NOW, rt, sizeof rt), 0);
    assert_string_equal(rt, "/back");
    assert_int_equal(store_saml_request_take(f->s, "_r1", idp, NOW, rt, sizeof rt), 1);
    assert_int_equal(store_saml_request_take(f->s, "_r2", idp, NOW + 600, rt, sizeof rt), 1);
}

static void
test_an_assertion_id_is_accepted_once(void **state)
{
    struct fixture *f = *state;
    const char *idp = "https://idp.example/";
    assert_int_equal(store_saml_assertion_once(f->s, "_a1", idp, NOW + 300), 0);
    assert_int_equal(store_saml_assertion_once(f->s, "_a1", idp, NOW + 300), 1);
    assert_int_equal(store_saml_assertion_once(f->s, "_a2", idp, NOW + 300), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_reset_token_is_used_once_and_not_after_it_expires,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_totp_step_is_used_once_and_never_an_earlier_one,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_recovery_code_is_used_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_authn_request_is_taken_once_by_its_idp_while_live,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_an_assertion_id_is_accepted_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
