/* tests/unit/test_idp_source.c: the refresh schedule of IdPs registered from a metadata URL,
 * and the xs:duration reader behind cacheDuration. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "auth/idp_source.h"
#include "sp/sp.h"

#define NOW ((time_t)1800000000)

static void
test_without_hints_the_next_fetch_is_six_hours_on(void **state)
{
    (void)state;
    assert_int_equal(idp_source_next(NOW, -1, 0, 0), NOW + 6 * 3600);
}

static void
test_cache_duration_brings_it_nearer_but_not_under_five_minutes(void **state)
{
    (void)state;
    assert_int_equal(idp_source_next(NOW, 3600, 0, 0), NOW + 3600);
    assert_int_equal(idp_source_next(NOW, 86400, 0, 0), NOW + 6 * 3600);
    assert_int_equal(idp_source_next(NOW, 10, 0, 0), NOW + 300);
    assert_int_equal(idp_source_next(NOW, 0, 0, 0), NOW + 300);
}

static void
test_valid_until_is_met_halfway(void **state)
{
    (void)state;
    assert_int_equal(idp_source_next(NOW, -1, NOW + 4 * 3600, 0), NOW + 2 * 3600);
    assert_int_equal(idp_source_next(NOW, -1, NOW + 100 * 3600, 0), NOW + 6 * 3600);
    assert_int_equal(idp_source_next(NOW, -1, NOW + 60, 0), NOW + 300);
}

static void
test_failures_back_off_from_five_minutes_to_six_hours(void **state)
{
    (void)state;
    assert_int_equal(idp_source_next(NOW, 3600, 0, 1), NOW + 300);
    assert_int_equal(idp_source_next(NOW, 3600, 0, 2), NOW + 600);
    assert_int_equal(idp_source_next(NOW, 3600, 0, 3), NOW + 1200);
    assert_int_equal(idp_source_next(NOW, -1, 0, 7), NOW + 300 * 64);
    assert_int_equal(idp_source_next(NOW, -1, 0, 8), NOW + 6 * 3600);
    assert_int_equal(idp_source_next(NOW, -1, 0, 1000), NOW + 6 * 3600);
}

static void
test_durations(void **state)
{
    (void)state;
    assert_int_equal(sp_duration_seconds("PT6H"), 6 * 3600);
    assert_int_equal(sp_duration_seconds("P1D"), 86400);
    assert_int_equal(sp_duration_seconds("P1DT1H30M15S"), 86400 + 3600 + 1800 + 15);
    assert_int_equal(sp_duration_seconds("PT0.5S"), 0);
    assert_int_equal(sp_duration_seconds("P2W"), 14 * 86400);
    assert_int_equal(sp_duration_seconds("PT1M"), 60);
    assert_int_equal(sp_duration_seconds("P1M"), 30 * 86400);
    assert_int_equal(sp_duration_seconds(""), -1);
    assert_int_equal(sp_duration_seconds("P"), -1);
    assert_int_equal(sp_duration_seconds("6H"), -1);
    assert_int_equal(sp_duration_seconds("PT6"), -1);
    assert_int_equal(sp_duration_seconds("PT-6H"), -1);
    assert_int_equal(sp_duration_seconds("P1H"), -1);
    assert_int_equal(sp_duration_seconds("PT1D"), -1);
    assert_int_equal(sp_duration_seconds("P99999999999Y"), -1);
    assert_int_equal(sp_duration_seconds(NULL), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_without_hints_the_next_fetch_is_six_hours_on),
        cmocka_unit_test(test_cache_duration_brings_it_nearer_but_not_under_five_minutes),
        cmocka_unit_test(test_valid_until_is_met_halfway),
        cmocka_unit_test(test_failures_back_off_from_five_minutes_to_six_hours),
        cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
