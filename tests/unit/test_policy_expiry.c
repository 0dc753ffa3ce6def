/* tests/unit/test_policy_expiry.c: password expiry and the reasons a change is required. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "policy/expiry.h"

#define CHANGED ((time_t)1700000000)
#define DAY 86400

static struct policy
defaults(void)
{
    struct policy p;

    policy_defaults(&p);
    return p;
}

static void
test_ninety_days_expire_on_day_ninety_not_day_eighty_nine(void **state)
{
    struct policy p = defaults();

    (void)state;
    p.expire_days = 90;
    assert_int_equal(expiry_due(&p, CHANGED), CHANGED + 90 * DAY);
    assert_false(expiry_is_expired(&p, CHANGED, CHANGED + 89 * DAY));
    assert_false(expiry_is_expired(&p, CHANGED, CHANGED + 90 * DAY - 1));
    assert_true(expiry_is_expired(&p, CHANGED, CHANGED + 90 * DAY));
    assert_true(expiry_is_expired(&p, CHANGED, CHANGED + 400 * DAY));
}

static void
test_every_allowed_period_expires_exactly_on_its_day(void **state)
{
    static const int days[] = {30, 60, 90, 120};
    struct policy p = defaults();

    (void)state;
    for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
        time_t due = CHANGED + (time_t)days[i] * DAY;
        p.expire_days = days[i];
        assert_int_equal(expiry_due(&p, CHANGED), due);
        assert_false(expiry_is_expired(&p, CHANGED, due - 1));
        assert_true(expiry_is_expired(&p, CHANGED, due));
    }
}

static void
test_zero_days_never_expire(void **state)
{
    struct policy p = defaults();

    (void)state;
    assert_int_equal(p.expire_days, 0);
    assert_int_equal(expiry_due(&p, CHANGED), 0);
    assert_false(expiry_is_expired(&p, CHANGED, CHANGED + 10000 * DAY));
    assert_int_equal(expiry_change_required(&p, PW_MUST_NONE, CHANGED, CHANGED + 10000 * DAY),
                     PW_CHANGE_NONE);
}

static void
test_an_expired_password_must_be_changed(void **state)
{
    struct policy p = defaults();

    (void)state;
    p.expire_days = 30;
    assert_int_equal(expiry_change_required(&p, PW_MUST_NONE, CHANGED, CHANGED + 30 * DAY - 1),
                     PW_CHANGE_NONE);
    assert_int_equal(expiry_change_required(&p, PW_MUST_NONE, CHANGED, CHANGED + 30 * DAY),
                     PW_CHANGE_EXPIRED);
}

static void
test_first_sign_in_forces_a_change_when_the_policy_says_so(void **state)
{
    struct policy p = defaults();

    (void)state;
    assert_int_equal(expiry_change_required(&p, PW_MUST_FIRST, CHANGED, CHANGED + 1),
                     PW_CHANGE_FIRST_LOGIN);
    p.force_change_first_login = 0;
    assert_int_equal(expiry_change_required(&p, PW_MUST_FIRST, CHANGED, CHANGED + 1),
                     PW_CHANGE_NONE);
}

static void
test_an_admin_reset_always_forces_a_change(void **state)
{
    struct policy p = defaults();

    (void)state;
    p.force_change_first_login = 0;
    assert_int_equal(expiry_change_required(&p, PW_MUST_RESET, CHANGED, CHANGED + 1),
                     PW_CHANGE_ADMIN_RESET);
}

static void
test_reset_wins_over_first_sign_in_which_wins_over_expiry(void **state)
{
    struct policy p = defaults();
    time_t late = CHANGED + 200 * DAY;

    (void)state;
    p.expire_days = 30;
    assert_int_equal(expiry_change_required(&p, PW_MUST_RESET, CHANGED, late),
                     PW_CHANGE_ADMIN_RESET);
    assert_int_equal(expiry_change_required(&p, PW_MUST_FIRST, CHANGED, late),
                     PW_CHANGE_FIRST_LOGIN);
    p.force_change_first_login = 0;
    assert_int_equal(expiry_change_required(&p, PW_MUST_FIRST, CHANGED, late), PW_CHANGE_EXPIRED);
}

static void
test_each_reason_has_a_sentence(void **state)
{
    (void)state;
    assert_string_equal(expiry_reason_text(PW_CHANGE_FIRST_LOGIN),
                        "This is your first sign-in: choose a new password.");
    assert_string_equal(expiry_reason_text(PW_CHANGE_ADMIN_RESET),
                        "An administrator reset your password: choose a new one.");
    assert_string_equal(expiry_reason_text(PW_CHANGE_EXPIRED),
                        "Your password has expired: choose a new one.");
    assert_string_equal(expiry_reason_text(PW_CHANGE_NONE), "");
    assert_string_equal(expiry_reason_text((enum pw_change_reason)99), "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ninety_days_expire_on_day_ninety_not_day_eighty_nine),
        cmocka_unit_test(test_every_allowed_period_expires_exactly_on_its_day),
        cmocka_unit_test(test_zero_days_never_expire),
        cmocka_unit_test(test_an_expired_password_must_be_changed),
        cmocka_unit_test(test_first_sign_in_forces_a_change_when_the_policy_says_so),
        cmocka_unit_test(test_an_admin_reset_always_forces_a_change),
        cmocka_unit_test(test_reset_wins_over_first_sign_in_which_wins_over_expiry),
        cmocka_unit_test(test_each_reason_has_a_sentence),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
