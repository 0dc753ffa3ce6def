/* tests/unit/test_idp_health.c: the certificate expiries read back from an IdP's certs text (as
 * auth/idp.c writes it): earliest and latest, a line without a date skipped, none at all; the
 * clock skew's median and farthest value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <time.h>
#include <cmocka.h>

#include "auth/clock.h"
#include "auth/idp_health.h"

static void
test_two_certificates_give_earliest_and_latest(void **state)
{
    (void)state;
    int n;
    time_t first, last, a, b;
    clock_parse_iso("2027-03-01T00:00:00Z", &a);
    clock_parse_iso("2031-12-31T23:59:59Z", &b);
    idp_health_cert_expiry("SHA256 ab:cd (until 2031-12-31T23:59:59Z)\n"
                           "SHA256 ef:01 (until 2027-03-01T00:00:00Z)",
                           &n, &first, &last);
    assert_int_equal(n, 2);
    assert_true(first == a);
    assert_true(last == b);
}

static void
test_lines_without_a_date_are_skipped(void **state)
{
    (void)state;
    int n;
    time_t first, last;
    idp_health_cert_expiry("SHA256 ab:cd (until soon)\nSHA256 ef (until 2027-03-01T00:00:00Z)", &n,
                           &first, &last);
    assert_int_equal(n, 1);
    assert_true(first == last);
    idp_health_cert_expiry("", &n, &first, &last);
    assert_int_equal(n, 0);
    assert_true(first == 0 && last == 0);
}

static void
test_skew_summary_is_the_median_and_the_farthest_from_zero(void **state)
{
    (void)state;
    long long odd[] = {3, -40, 5, 1, 2}, even[] = {10, 2, 4, 8}, none[1] = {0};
    long long median, max;
    idp_health_skew_summary(odd, 5, &median, &max);
    assert_int_equal(median, 2);
    assert_int_equal(max, -40); /* farthest from zero, with its sign */
    idp_health_skew_summary(even, 4, &median, &max);
    assert_int_equal(median, 6);
    assert_int_equal(max, 10);
    idp_health_skew_summary(none, 0, &median, &max);
    assert_int_equal(median, 0);
    assert_int_equal(max, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_certificates_give_earliest_and_latest),
        cmocka_unit_test(test_lines_without_a_date_are_skipped),
        cmocka_unit_test(test_skew_summary_is_the_median_and_the_farthest_from_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
