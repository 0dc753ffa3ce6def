/* tests/unit/test_str.c: the UTF-8 helpers that keep SAML identities whole: str_utf8_clean
 * refuses what is not text, and str_utf8_scrub turns a bounded copy cut inside a character (or
 * any other invalid byte) back into valid UTF-8 for the JSON listings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "auth/str.h"

static void
test_clean_accepts_text_and_refuses_controls_and_bad_bytes(void **state)
{
    (void)state;
    const char *good[] = {"alice", "Ä é ü", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "a\tb"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(str_utf8_clean(good[i], strlen(good[i]), 1));
    const char *bad[] = {
        "\xc3",             /* cut after a lead byte */
        "\xe2\x82",         /* cut inside a three-byte character */
        "\xc0\xaf",         /* overlong */
        "\xed\xa0\x80",     /* surrogate */
        "\xf4\x90\x80\x80", /* beyond U+10FFFF */
        "\xc2\x85",         /* C1 control (NEL) */
        "a\x01",            /* C0 control */
        "\xff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(str_utf8_clean(bad[i], strlen(bad[i]), 1));
    assert_false(str_utf8_clean("a\nb", 3, 0));
}

static void
test_scrub_keeps_valid_text_unchanged(void **state)
{
    (void)state;
    char s[] = "Alice Liddell \xc3\x84 \xe2\x82\xac \xf0\x9f\x98\x80\tend";
    char copy[sizeof s];
    memcpy(copy, s, sizeof s);
    str_utf8_scrub(s);
    assert_string_equal(s, copy);
}

static void
test_scrub_replaces_a_cut_character_and_invalid_bytes(void **state)
{
    (void)state;
    /* "éé" cut to three bytes ends inside the second character. */
    char cut[] = "\xc3\xa9\xc3";
    assert_false(str_utf8_clean(cut, strlen(cut), 1));
    str_utf8_scrub(cut);
    assert_string_equal(cut, "\xc3\xa9?");
    char mixed[] = "a\xff"
                   "b\xe2\x82"
                   "c\xc2\x85"
                   "d";
    str_utf8_scrub(mixed);
    assert_string_equal(mixed, "a?b??c??d");
    assert_true(str_utf8_clean(mixed, strlen(mixed), 1));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_accepts_text_and_refuses_controls_and_bad_bytes),
        cmocka_unit_test(test_scrub_keeps_valid_text_unchanged),
        cmocka_unit_test(test_scrub_replaces_a_cut_character_and_invalid_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
