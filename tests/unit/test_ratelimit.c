/* tests/unit/test_ratelimit.c: the per-address token buckets of refused SAML responses. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>

#include "auth/ratelimit.h"

static void
test_burst_then_refused_with_the_wait(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(6); /* one token every 10 s */
    for (int i = 0; i < 6; i++)
        assert_int_equal(ratelimit_take(rl, "192.0.2.1", 1000), 0);
    long wait = ratelimit_take(rl, "192.0.2.1", 1000);
    assert_int_equal(wait, 11);
    assert_true(ratelimit_take(rl, "192.0.2.1", 1009) > 0);
    assert_int_equal(ratelimit_take(rl, "192.0.2.1", 1010), 0);
    ratelimit_free(rl);
}

static void
test_another_address_is_never_limited(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ratelimit_take(rl, "192.0.2.1", 5), 0);
    assert_true(ratelimit_take(rl, "192.0.2.1", 5) > 0);
    assert_int_equal(ratelimit_take(rl, "192.0.2.2", 5), 0);
    ratelimit_free(rl);
}

static void
test_a_token_given_back_is_usable_again(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(1);
    assert_int_equal(ratelimit_take(rl, "2001:db8::1", 7), 0);
    assert_true(ratelimit_take(rl, "2001:db8::1", 7) > 0);
    ratelimit_give(rl, "2001:db8::1", 7);
    assert_int_equal(ratelimit_take(rl, "2001:db8::1", 7), 0);
    ratelimit_free(rl);
}

/* A configuration reload changes the rate: a new address gets the new burst, and a bucket
 * that was limited refills at the new speed. */
static void
test_a_new_rate_applies_to_every_bucket(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(1);
    assert_int_equal(ratelimit_take(rl, "192.0.2.1", 100), 0);
    assert_int_equal(ratelimit_take(rl, "192.0.2.1", 100), 61);
    ratelimit_set_rate(rl, 60); /* one token a second */
    assert_int_equal(ratelimit_take(rl, "192.0.2.1", 101), 0);
    for (int i = 0; i < 60; i++)
        assert_int_equal(ratelimit_take(rl, "192.0.2.2", 100), 0);
    assert_true(ratelimit_take(rl, "192.0.2.2", 100) > 0);
    ratelimit_free(rl);
}

/* Many addresses: the table stays its size; the limited address in a full table may be evicted
 * (its limit loosened), and every fresh address still gets its full burst. */
static void
test_many_addresses_fit_in_the_fixed_table(void **state)
{
    (void)state;
    struct ratelimit *rl = ratelimit_new(2);
    char key[48];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        assert_int_equal(ratelimit_take(rl, key, 100 + i / 1000), 0);
    }
    assert_int_equal(ratelimit_take(rl, "192.0.2.9", 500), 0);
    assert_int_equal(ratelimit_take(rl, "192.0.2.9", 500), 0);
    assert_true(ratelimit_take(rl, "192.0.2.9", 500) > 0);
    ratelimit_free(rl);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refused_with_the_wait),
        cmocka_unit_test(test_another_address_is_never_limited),
        cmocka_unit_test(test_a_token_given_back_is_usable_again),
        cmocka_unit_test(test_a_new_rate_applies_to_every_bucket),
        cmocka_unit_test(test_many_addresses_fit_in_the_fixed_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
