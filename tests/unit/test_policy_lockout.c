/* tests/unit/test_policy_lockout.c: lockout after consecutive failures, its expiry and reset. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "policy/lockout.h"

#define T0 ((time_t)1700000000)
#define MINUTE 60

static struct policy
defaults(void)
{
    struct policy p;

    policy_defaults(&p);
    return p;
}

/* n failures, one second apart from T0; returns the verdict of the last. */
static enum lockout_verdict
fail_times(const struct policy *p, struct lockout_state *s, int n)
{
    enum lockout_verdict v = LOCKOUT_OPEN;

    for (int i = 0; i < n; i++)
        v = lockout_on_failure(p, s, T0 + i);
    return v;
}

static void
test_a_clear_state_is_open(void **state)
{
    struct lockout_state s = {0};
    struct policy p = defaults();

    (void)state;
    assert_int_equal(lockout_check(&s, T0), LOCKOUT_OPEN);
    assert_int_equal(lockout_remaining(&p, &s, T0), 6);
}

static void
test_five_failures_leave_sign_in_open(void **state)
{
    struct lockout_state s = {0};
    struct policy p = defaults();

    (void)state;
    assert_int_equal(fail_times(&p, &s, 5), LOCKOUT_OPEN);
    assert_int_equal(s.failures, 5);
    assert_int_equal(s.first_failure, T0);
    assert_int_equal(s.locked_until, 0);
    assert_int_equal(lockout_check(&s, T0 + 5), LOCKOUT_OPEN);
    assert_int_equal(lockout_remaining(&p, &s, T0 + 5), 1);
}

static void
test_each_failure_counts_down_the_attempts_left(void **state)
{
    struct lockout_state s = {0};
    struct policy p = defaults();

    (void)state;
    for (int i = 1; i <= 5; i++) {
        lockout_on_failure(&p, &s, T0 + i);
        assert_int_equal(lockout_remaining(&p, &s, T0 + i), 6 - i);
        assert_int_equal(s.first_failure, T0 + 1);
    }
}

static void
test_sixth_failure_locks_for_thirty_minutes(void **state)
{
    struct lockout_state s = {0};
    struct policy p = defaults();
    time_t sixth = T0 + 5;

    (void)state;
    assert_int_equal(fail_times(&p, &s, 6), LOCKOUT_LOCKED);
    assert_int_equal(s.failures, 6);
    assert_int_equal(s.locked_until, sixth + 30 * MINUTE);
    assert_int_equal(lockout_remaining(&p, &s, sixth), 0);
}

static void
test_lock_holds_at_29_59_and_opens_at_30_00(void **state)
{
    struct lockout_state s = {0};
    struct policy p = defaults();
    time_t sixth = T0 + 5;

    (void)state;
    fail_times(&p, &s, 6);
    assert_int_equal(lockout_check(&s, sixth), LOCKOUT_LOCKED);
    assert_int_equal(lockout_check(&s, sixth + 29 * MINUTE + 59), LOCKOUT_LOCKED);
    assert_int_equal(lockout_check(&s, sixth + 30 * MINUTE), LOCKOUT_OPEN);
    assert_int_equal(lockout_remaining(&p, &s, sixth + 29 * MINUTE + 59), 0);
    assert_int_equal(lockout_remaining(&p, &s, sixth + 30 * MINUTE), 6);
}

static void
test_count_restarts_after_the_lock_expires(void **state)
{
    struct lockout_state s = {0};
    struct policy p = defaults();
    time_t open = T0 + 5 + 30 * MINUTE;

    (void)state;
    fail_times(&p, &s, 6);
    assert_int_equal(lockout_on_failure(&p, &s, open), LOCKOUT_OPEN);
    assert_int_equal(s.failures, 1);
    assert_int_equal(s.first_failure, open);
    assert_int_equal(s.locked_until, 0);
    for (int i = 1; i < 5; i++)
        assert_int_equal(lockout_on_failure(&p, &s, open + i), LOCKOUT_OPEN);
    assert_int_equal(lockout_on_failure(&p, &s, open + 5), LOCKOUT_LOCKED);
    assert_int_equal(s.locked_until, open + 5 + 30 * MINUTE);
}

static void
test_a_failure_while_locked_does_not_extend_the_lock(void **state)
{
    struct lockout_state s = {0};
    struct policy p = defaults();
    struct lockout_state before;

    (void)state;
    fail_times(&p, &s, 6);
    before = s;
    assert_int_equal(lockout_on_failure(&p, &s, T0 + 20 * MINUTE), LOCKOUT_LOCKED);
    assert_memory_equal(&s, &before, sizeof(s));
}

static void
test_reset_clears_failures_and_lock(void **state)
{
    struct lockout_state s = {0};
    struct policy p = defaults();

    (void)state;
    fail_times(&p, &s, 6);
    lockout_reset(&s);
    assert_int_equal(s.failures, 0);
    assert_int_equal(s.first_failure, 0);
    assert_int_equal(s.locked_until, 0);
    assert_int_equal(lockout_check(&s, T0 + 10), LOCKOUT_OPEN);
    assert_int_equal(lockout_remaining(&p, &s, T0 + 10), 6);
    lockout_reset(NULL);
}

static void
test_a_success_between_failures_starts_the_count_again(void **state)
{
    struct lockout_state s = {0};
    struct policy p = defaults();

    (void)state;
    fail_times(&p, &s, 5);
    lockout_reset(&s);
    assert_int_equal(fail_times(&p, &s, 5), LOCKOUT_OPEN);
    assert_int_equal(lockout_on_failure(&p, &s, T0 + 100), LOCKOUT_LOCKED);
}

static void
test_limits_follow_the_policy(void **state)
{
    static const struct {
        int max_failures;
        int minutes;
    } rows[] = {{3, 5}, {3, 1440}, {20, 5}, {20, 1440}, {6, 30}};
    struct policy p = defaults();

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct lockout_state s = {0};
        p.lockout_max_failures = rows[i].max_failures;
        p.lockout_minutes = rows[i].minutes;
        assert_int_equal(fail_times(&p, &s, rows[i].max_failures - 1), LOCKOUT_OPEN);
        time_t last = T0 + rows[i].max_failures - 1;
        assert_int_equal(lockout_on_failure(&p, &s, last), LOCKOUT_LOCKED);
        assert_int_equal(s.locked_until, last + (time_t)rows[i].minutes * MINUTE);
        assert_int_equal(lockout_check(&s, s.locked_until - 1), LOCKOUT_LOCKED);
        assert_int_equal(lockout_check(&s, s.locked_until), LOCKOUT_OPEN);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_clear_state_is_open),
        cmocka_unit_test(test_five_failures_leave_sign_in_open),
        cmocka_unit_test(test_each_failure_counts_down_the_attempts_left),
        cmocka_unit_test(test_sixth_failure_locks_for_thirty_minutes),
        cmocka_unit_test(test_lock_holds_at_29_59_and_opens_at_30_00),
        cmocka_unit_test(test_count_restarts_after_the_lock_expires),
        cmocka_unit_test(test_a_failure_while_locked_does_not_extend_the_lock),
        cmocka_unit_test(test_reset_clears_failures_and_lock),
        cmocka_unit_test(test_a_success_between_failures_starts_the_count_again),
        cmocka_unit_test(test_limits_follow_the_policy),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
