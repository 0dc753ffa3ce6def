/* tests/unit/test_samllog.c: what the SAML log keeps of a response: whole when its signature
 * verified, a bounded excerpt cut before a UTF-8 sequence otherwise, nothing when room is low;
 * the body sealed under the data key, bound to its row. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth/samllog.h"
#include "auth/secrets.h"

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

static void
test_the_body_is_sealed_and_opens_only_in_its_row(void **state)
{
    (void)state;
    struct secrets k = {.ready = 1}, other = {.ready = 1};
    for (int i = 0; i < SECRETS_KEY_LEN; i++) {
        k.data_key[i] = (unsigned char)i;
        other.data_key[i] = (unsigned char)(i + 1);
    }
    const char *xml = "<samlp:Response><a>Vorpal</a></samlp:Response>";
    struct saml_log_row row;
    memset(&row, 0, sizeof row);
    row.at = 1700000000;
    strcpy(row.issuer, "https://idp.example/");
    strcpy(row.assertion_id, "_a1");
    row.xml = (char *)(uintptr_t)xml;
    assert_int_equal(samllog_seal(&row, &k), 0);
    char *sealed = row.xml;
    assert_true(secrets_is_sealed_text(sealed) && strstr(sealed, "Vorpal") == NULL);
    /* Opens in its row with its key. */
    row.xml = strdup(sealed);
    assert_int_equal(samllog_open(&row, &k), 0);
    assert_string_equal(row.xml, xml);
    free(row.xml);
    /* Not with another data key, nor moved to another row, nor altered. */
    row.xml = strdup(sealed);
    assert_int_equal(samllog_open(&row, &other), -1);
    assert_null(row.xml);
    row.xml = strdup(sealed);
    row.at++;
    assert_int_equal(samllog_open(&row, &k), -1);
    row.at--;
    row.xml = strdup(sealed);
    row.xml[10] = row.xml[10] == 'A' ? 'B' : 'A';
    assert_int_equal(samllog_open(&row, &k), -1);
    /* A body written before bodies were sealed is shown as it is. */
    row.xml = strdup(xml);
    assert_int_equal(samllog_open(&row, &k), 0);
    assert_string_equal(row.xml, xml);
    free(row.xml);
    /* Without the data key nothing is kept in clear. */
    struct secrets none = {.ready = 0};
    row.xml = (char *)(uintptr_t)xml;
    assert_int_equal(samllog_seal(&row, &none), -1);
    assert_null(row.xml);
    assert_string_equal(row.xml_kept, "dropped");
    free(sealed);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_never_splits_a_sequence),
        cmocka_unit_test(test_unverified_keeps_an_excerpt_of_the_first_bytes),
        cmocka_unit_test(test_the_body_is_sealed_and_opens_only_in_its_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
