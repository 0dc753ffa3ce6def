/* tests/unit/test_policy_timeout.c: session idle and absolute timeouts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "policy/timeout.h"

#define CREATED ((time_t)1700000000)
#define MINUTE 60L

static struct policy
defaults(void)
{
    struct policy p;

    policy_defaults(&p);
    return p;
}

static void
test_idle_limits_come_from_the_policy(void **state)
{
    struct policy p = defaults();

    (void)state;
    assert_int_equal(timeout_idle_seconds(&p, SESSION_WEB), 20 * MINUTE);
    assert_int_equal(timeout_idle_seconds(&p, SESSION_CLIENT), 5 * MINUTE);
    p.web_idle_minutes = 120;
    p.client_idle_minutes = 120;
    assert_int_equal(timeout_idle_seconds(&p, SESSION_WEB), 120 * MINUTE);
    assert_int_equal(timeout_idle_seconds(&p, SESSION_CLIENT), 120 * MINUTE);
}

/* last_seen is rewritten at most every 1/60 of the idle limit, 10 s to 60 s. */
static void
test_touch_interval_is_a_sixtieth_of_the_idle_limit_within_10_to_60_s(void **state)
{
    static const struct {
        int minutes;
        long touch;
    } golden[] = {{5, 10},  {9, 10},  {10, 10}, {11, 11}, {20, 20},
                  {59, 59}, {60, 60}, {61, 60}, {120, 60}};
    struct policy p = defaults();

    (void)state;
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        p.web_idle_minutes = golden[i].minutes;
        p.client_idle_minutes = golden[i].minutes;
        assert_int_equal(timeout_touch_seconds(&p, SESSION_WEB), golden[i].touch);
        assert_int_equal(timeout_touch_seconds(&p, SESSION_CLIENT), golden[i].touch);
    }
}

static void
test_web_session_idle_19_59_is_valid_and_20_00_has_ended(void **state)
{
    struct policy p = defaults();
    time_t seen = CREATED + 600;

    (void)state;
    assert_int_equal(timeout_check(&p, SESSION_WEB, CREATED, seen, 0, seen), TIMEOUT_NONE);
    assert_int_equal(timeout_check(&p, SESSION_WEB, CREATED, seen, 0, seen + 19 * MINUTE + 59),
                     TIMEOUT_NONE);
    assert_int_equal(timeout_check(&p, SESSION_WEB, CREATED, seen, 0, seen + 20 * MINUTE),
                     TIMEOUT_IDLE);
}

static void
test_client_session_idle_4_59_is_valid_and_5_00_has_ended(void **state)
{
    struct policy p = defaults();
    time_t seen = CREATED + 600;

    (void)state;
    assert_int_equal(timeout_check(&p, SESSION_CLIENT, CREATED, seen, 0, seen + 4 * MINUTE + 59),
                     TIMEOUT_NONE);
    assert_int_equal(timeout_check(&p, SESSION_CLIENT, CREATED, seen, 0, seen + 5 * MINUTE),
                     TIMEOUT_IDLE);
    /* The same gap is fine for a browser session. */
    assert_int_equal(timeout_check(&p, SESSION_WEB, CREATED, seen, 0, seen + 5 * MINUTE),
                     TIMEOUT_NONE);
}

static void
test_activity_keeps_a_session_alive_without_an_absolute_limit(void **state)
{
    struct policy p = defaults();
    time_t now = CREATED + 365L * 86400;

    (void)state;
    assert_int_equal(timeout_check(&p, SESSION_WEB, CREATED, now - 60, 0, now), TIMEOUT_NONE);
}

static void
test_absolute_lifetime_ends_an_active_session(void **state)
{
    struct policy p = defaults();
    long absolute = 12 * 3600;
    time_t end = CREATED + absolute;

    (void)state;
    assert_int_equal(timeout_check(&p, SESSION_WEB, CREATED, end - 2, absolute, end - 1),
                     TIMEOUT_NONE);
    assert_int_equal(timeout_check(&p, SESSION_WEB, CREATED, end - 1, absolute, end),
                     TIMEOUT_ABSOLUTE);
    assert_int_equal(timeout_check(&p, SESSION_CLIENT, CREATED, end - 1, absolute, end + 1),
                     TIMEOUT_ABSOLUTE);
}

static void
test_absolute_wins_when_both_limits_are_reached(void **state)
{
    struct policy p = defaults();

    (void)state;
    assert_int_equal(timeout_check(&p, SESSION_WEB, CREATED, CREATED, 600, CREATED + 3600),
                     TIMEOUT_ABSOLUTE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_limits_come_from_the_policy),
        cmocka_unit_test(test_touch_interval_is_a_sixtieth_of_the_idle_limit_within_10_to_60_s),
        cmocka_unit_test(test_web_session_idle_19_59_is_valid_and_20_00_has_ended),
        cmocka_unit_test(test_client_session_idle_4_59_is_valid_and_5_00_has_ended),
        cmocka_unit_test(test_activity_keeps_a_session_alive_without_an_absolute_limit),
        cmocka_unit_test(test_absolute_lifetime_ends_an_active_session),
        cmocka_unit_test(test_absolute_wins_when_both_limits_are_reached),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
