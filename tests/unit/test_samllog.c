/* tests/unit/test_samllog.c: what the SAML log keeps of a response: whole when its signature
 * verified, a bounded excerpt cut before a UTF-8 sequence otherwise, nothing when room is low. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth/samllog.h"

static void
test_cut_never_splits_a_sequence(void **state)
{
    (void)state;
    /* "a" then U+00E9 (2 bytes), U+20AC (3 bytes), U+1F600 (4 bytes) */
    const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
    size_t len = sizeof s - 1;
    static const size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 11, 11};
    for (size_t max = 0; max <= len + 1; max++)
        assert_int_equal(samllog_utf8_cut(s, len, max), want[max]);
}

static void
test_unverified_keeps_an_excerpt_of_the_first_bytes(void **state)
{
    (void)state;
    size_t n = 3 * SAML_LOG_EXCERPT_BYTES;
    char *xml = malloc(n + 1);
    assert_non_null(xml);
    for (size_t i = 0; i < n; i += 2)
        memcpy(xml + i, "\xc3\xa9", 2);
    xml[n] = '\0';
    /* Shift by one so that the limit falls inside a character. */
    xml[0] = 'x';
    struct saml_log_row row;
    char buf[SAML_LOG_EXCERPT_BYTES + 1];
    memset(&row, 0, sizeof row);
    samllog_keep(&row, xml, n, 0, 0, buf);
    assert_string_equal(row.xml_kept, "excerpt");
    assert_int_equal(row.xml_size, (long long)n);
    assert_ptr_equal(row.xml, buf);
    assert_true(strlen(row.xml) <= SAML_LOG_EXCERPT_BYTES && strlen(row.xml) >= 4093);
    assert_int_equal(memcmp(row.xml, xml, strlen(row.xml)), 0);
    /* Verified: kept whole. Low room: nothing, but the size is still recorded. */
    samllog_keep(&row, xml, n, 1, 0, buf);
    assert_string_equal(row.xml_kept, "full");
    assert_ptr_equal(row.xml, xml);
    samllog_keep(&row, xml, n, 1, 1, buf);
    assert_string_equal(row.xml_kept, "dropped");
    assert_null(row.xml);
    assert_int_equal(row.xml_size, (long long)n);
    samllog_keep(&row, "<a/>", 4, 0, 0, buf);
    assert_string_equal(row.xml_kept, "full");
    samllog_keep(&row, NULL, 0, 0, 0, buf);
    assert_string_equal(row.xml_kept, "none");
    free(xml);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_never_splits_a_sequence),
        cmocka_unit_test(test_unverified_keeps_an_excerpt_of_the_first_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
