/* tests/unit/test_policy_password.c: every password rule, its boundaries and its sentence. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "policy/password.h"

#define NOW ((time_t)1700000000)
#define DAY 86400

/* Passes every default character rule. */
#define GOOD "Gatehouse42"

static struct policy
defaults(void)
{
    struct policy p;

    policy_defaults(&p);
    return p;
}

/* Only the characters: no facts. */
static unsigned
check(const struct policy *p, const char *pw)
{
    return password_check(p, pw, NULL, NOW);
}

/* A password of exactly n characters that breaks no default rule ("Aa1" then xyxy...). */
static void
make_password(char *buf, size_t n)
{
    static const char head[] = "Aa1";

    for (size_t i = 0; i < n; i++)
        buf[i] = i < 3 ? head[i] : ((i % 2) ? 'x' : 'y');
    buf[n] = '\0';
}

static void
test_a_good_password_passes_the_default_policy(void **state)
{
    struct policy p = defaults();
    struct password_facts f = {0};

    (void)state;
    assert_int_equal(check(&p, GOOD), 0);
    assert_int_equal(password_check(&p, GOOD, &f, NOW), 0);
}

static void
test_seven_characters_are_too_short_and_eight_are_enough(void **state)
{
    struct policy p = defaults();

    (void)state;
    assert_int_equal(check(&p, "Passw0r"), PW_TOO_SHORT);
    assert_int_equal(check(&p, "Passw0rd"), 0);
}

static void
test_min_length_32_refuses_31_and_accepts_32_and_33(void **state)
{
    struct policy p = defaults();
    char pw[64];

    (void)state;
    p.min_length = 32;
    make_password(pw, 31);
    assert_int_equal(check(&p, pw), PW_TOO_SHORT);
    make_password(pw, 32);
    assert_int_equal(check(&p, pw), 0);
    make_password(pw, 33);
    assert_int_equal(check(&p, pw), 0);
}

static void
test_length_counts_characters_not_bytes(void **state)
{
    struct policy p = defaults();

    (void)state;
    /* 7 characters in 11 bytes, then 8 in 13. */
    assert_int_equal(check(&p, "A1\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9z"), PW_TOO_SHORT);
    assert_int_equal(check(&p, "Aa1\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9z"), 0);
    assert_int_equal(password_utf8_length("Aa1\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9z"), 8);
}

static void
test_256_bytes_are_accepted_and_257_are_too_long(void **state)
{
    struct policy p = defaults();
    char pw[PASSWORD_MAX_BYTES + 2];

    (void)state;
    make_password(pw, PASSWORD_MAX_BYTES);
    assert_int_equal(check(&p, pw), 0);
    make_password(pw, PASSWORD_MAX_BYTES + 1);
    assert_int_equal(check(&p, pw), PW_TOO_LONG);
}

static void
test_the_byte_limit_applies_to_multibyte_characters(void **state)
{
    struct policy p = defaults();
    char pw[3 + 2 * 127 + 1];

    (void)state;
    /* "Aa1" + 127 two-byte characters = 130 characters but 257 bytes. */
    memcpy(pw, "Aa1", 3);
    for (size_t i = 0; i < 127; i++)
        memcpy(pw + 3 + 2 * i, "\xc3\xa9", 2);
    pw[sizeof(pw) - 1] = '\0';
    assert_int_equal(strlen(pw), 257);
    assert_int_equal(check(&p, pw), PW_TOO_LONG);
}

static void
test_each_character_rule_is_enforced_when_on(void **state)
{
    static const struct {
        const char *pw;
        unsigned want;
    } rows[] = {
        {"12345!78", PW_NO_LETTER | PW_NO_MIXED_CASE},
        {"Gatehouse", PW_NO_NUMBER},
        {"gatehouse42", PW_NO_MIXED_CASE},
        {"GATEHOUSE42", PW_NO_MIXED_CASE},
        {"Gate house42", 0},
    };
    struct policy p = defaults();

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned got = check(&p, rows[i].pw);
        if (got != rows[i].want)
            fail_msg("\"%s\": got 0x%x want 0x%x", rows[i].pw, got, rows[i].want);
    }
}

static void
test_character_rules_that_are_off_are_not_enforced(void **state)
{
    struct policy p = defaults();

    (void)state;
    p.require_letter = 0;
    p.require_number = 0;
    p.require_mixed_case = 0;
    p.reject_single_char = 0;
    p.max_sequence = 0;
    assert_int_equal(check(&p, "98765432"), 0);
    assert_int_equal(check(&p, "gatehouse"), 0);
    assert_int_equal(check(&p, "aaaaaaaa"), 0);
}

static void
test_special_characters_include_punctuation_and_space(void **state)
{
    static const struct {
        const char *pw;
        unsigned want;
    } rows[] = {
        {"Gatehouse42", PW_NO_SPECIAL},
        {"Gatehouse#42", 0},
        {"Gatehouse!42", 0},
        {"Gate house42", 0},
        {"Gatehouse~42", 0},
        {"Gatehouseé42", PW_NO_SPECIAL},
        {"Gatehouse€42", PW_NO_SPECIAL},
    };
    struct policy p = defaults();

    (void)state;
    p.require_special = 1;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned got = check(&p, rows[i].pw);
        if (got != rows[i].want)
            fail_msg("\"%s\": got 0x%x want 0x%x", rows[i].pw, got, rows[i].want);
    }
}

static void
test_non_ascii_characters_count_as_letters_but_not_as_a_case(void **state)
{
    struct policy p = defaults();

    (void)state;
    /* Cyrillic letters satisfy require_letter... */
    assert_int_equal(check(&p, "пароль2024"), PW_NO_MIXED_CASE);
    /* ...but not mixed case, even with an upper-case Cyrillic letter. */
    assert_int_equal(check(&p, "Пароль2024"), PW_NO_MIXED_CASE);
    p.require_mixed_case = 0;
    assert_int_equal(check(&p, "Пароль2024"), 0);
}

static void
test_the_same_character_throughout_is_refused(void **state)
{
    struct policy p = defaults();

    (void)state;
    assert_int_equal(check(&p, "aaaaaaaa"), PW_SINGLE_CHAR | PW_NO_NUMBER | PW_NO_MIXED_CASE);
    assert_int_equal(check(&p, "11111111"), PW_SINGLE_CHAR | PW_NO_LETTER | PW_NO_MIXED_CASE);
    p.require_letter = p.require_number = p.require_mixed_case = 0;
    assert_int_equal(check(&p, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"),
                     PW_SINGLE_CHAR);
    assert_int_equal(check(&p, "aaaaaaab"), 0);
    assert_int_equal(check(&p, "aaaaaaaA"), 0);
    p.reject_single_char = 0;
    assert_int_equal(check(&p, "aaaaaaaa"), 0);
}

static void
test_an_empty_password_is_too_short_but_not_a_single_character(void **state)
{
    struct policy p = defaults();

    (void)state;
    assert_int_equal(check(&p, ""), PW_TOO_SHORT | PW_NO_LETTER | PW_NO_NUMBER | PW_NO_MIXED_CASE);
    assert_int_equal(check(&p, NULL), check(&p, ""));
}

/* With max_sequence 6: runs of 6 are refused, runs of 5 pass, in every direction and case. */
static const struct {
    const char *pw;
    int refused;
} sequence_rows[] = {
    {"Qz!123456", 1},    {"Qz!12345", 0},    {"Qz!654321", 1}, {"Qz!54321", 0},  {"Q9!abcdef", 1},
    {"Q9!abcde", 0},     {"Q9!fedcba", 1},   {"Q9!edcba", 0},  {"Q9!aBcDeF", 1}, {"Q9!AbCdE", 0},
    {"Q9!FeDcBa", 1},    {"Q9!uvwxyz", 1},   {"x234567Ab", 1}, {"Ab1234590", 0}, {"Ab123210z", 0},
    {"Ab12345x6789", 0}, {"9876Ab54321", 0},
};

static void
test_a_run_of_six_is_refused_and_a_run_of_five_passes(void **state)
{
    struct policy p = defaults();

    (void)state;
    assert_int_equal(p.max_sequence, 6);
    for (size_t i = 0; i < sizeof(sequence_rows) / sizeof(sequence_rows[0]); i++) {
        unsigned got = check(&p, sequence_rows[i].pw);
        unsigned want = sequence_rows[i].refused ? PW_SEQUENCE : 0;
        if (got != want)
            fail_msg("\"%s\": got 0x%x want 0x%x", sequence_rows[i].pw, got, want);
    }
}

static void
test_max_sequence_zero_allows_any_run(void **state)
{
    struct policy p = defaults();

    (void)state;
    p.max_sequence = 0;
    for (size_t i = 0; i < sizeof(sequence_rows) / sizeof(sequence_rows[0]); i++)
        assert_int_equal(check(&p, sequence_rows[i].pw), 0);
    assert_int_equal(check(&p, "Aa0123456789"), 0);
}

static void
test_max_sequence_three_refuses_abc(void **state)
{
    struct policy p = defaults();

    (void)state;
    p.max_sequence = 3;
    assert_int_equal(check(&p, "Gatehouse12"), 0);
    assert_int_equal(check(&p, "Gatehouse123"), PW_SEQUENCE);
    assert_int_equal(check(&p, "Gatehouse321"), PW_SEQUENCE);
    assert_int_equal(check(&p, "Xyz-house42"), PW_SEQUENCE);
}

static void
test_a_run_broken_by_a_non_ascii_character_is_not_a_sequence(void **state)
{
    struct policy p = defaults();

    (void)state;
    assert_int_equal(check(&p, "Ab123é456"), 0);
}

static void
test_a_password_breaking_several_rules_lists_them_all(void **state)
{
    struct policy p = defaults();
    const char *out[16];
    char storage[16 * PASSWORD_RULE_TEXT_MAX];
    unsigned mask;

    (void)state;
    mask = check(&p, "aaa");
    assert_int_equal(mask, PW_TOO_SHORT | PW_NO_NUMBER | PW_NO_MIXED_CASE | PW_SINGLE_CHAR);
    assert_int_equal(password_explain(&p, mask, out, 16, storage), 4);
    assert_string_equal(out[0], "Use at least 8 characters.");
    assert_string_equal(out[1], "Include at least one number.");
    assert_string_equal(out[2], "Include both upper-case and lower-case letters.");
    assert_string_equal(out[3], "Don't use the same character over and over.");
}

static void
test_invalid_utf8_and_control_characters_are_refused(void **state)
{
    static const char *const rows[] = {
        "Gatehouse42\xc0\xaf",         /* overlong '/' */
        "Gatehouse42\xe0\x80\xaf",     /* overlong, 3 bytes */
        "Gatehouse42\xf0\x80\x80\xaf", /* overlong, 4 bytes */
        "Gatehouse42\xed\xa0\x80",     /* surrogate U+D800 */
        "Gatehouse42\xed\xbf\xbf",     /* surrogate U+DFFF */
        "Gatehouse42\xf4\x90\x80\x80", /* above U+10FFFF */
        "Gatehouse42\xf5\x80\x80\x80", /* lead byte F5 */
        "Gatehouse42\xff",
        "Gatehouse42\x80",      /* stray continuation */
        "Gatehouse42\xe2\x82",  /* truncated */
        "Gatehouse42\xe2\x82x", /* truncated mid-string */
        "Gatehouse42\t",
        "Gatehouse42\n",
        "Gatehouse42\x01",
        "Gatehouse42\x1f",
        "Gatehouse42\x7f",
        "Gatehouse42\x1b[0m",
        "Gatehouse42\xc2\x85", /* C1 control U+0085 */
    };
    struct policy p = defaults();

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned got = check(&p, rows[i]);
        if (got != PW_INVALID_CHARS)
            fail_msg("row %zu: got 0x%x", i, got);
    }
}

static void
test_valid_utf8_at_the_edges_is_accepted(void **state)
{
    static const struct {
        const char *pw;
        long chars;
    } rows[] = {
        {"Gatehouse42\xc2\xa0", 12},         /* U+00A0, first after C1 */
        {"Gatehouse42\xdf\xbf", 12},         /* U+07FF */
        {"Gatehouse42\xe0\xa0\x80", 12},     /* U+0800 */
        {"Gatehouse42\xed\x9f\xbf", 12},     /* U+D7FF */
        {"Gatehouse42\xee\x80\x80", 12},     /* U+E000 */
        {"Gatehouse42\xef\xbf\xbd", 12},     /* U+FFFD */
        {"Gatehouse42\xf0\x90\x80\x80", 12}, /* U+10000 */
        {"Gatehouse42\xf0\x9f\x98\x80", 12}, /* emoji */
        {"Gatehouse42\xf4\x8f\xbf\xbf", 12}, /* U+10FFFF */
    };
    struct policy p = defaults();

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unsigned got = check(&p, rows[i].pw);
        if (got != 0)
            fail_msg("row %zu: got 0x%x", i, got);
        assert_int_equal(password_utf8_length(rows[i].pw), rows[i].chars);
    }
}

static void
test_other_rules_are_still_reported_beside_invalid_characters(void **state)
{
    struct policy p = defaults();

    (void)state;
    assert_int_equal(check(&p, "ab\x01"),
                     PW_INVALID_CHARS | PW_TOO_SHORT | PW_NO_NUMBER | PW_NO_MIXED_CASE);
    /* Each bad byte still counts as a character. */
    assert_int_equal(check(&p, "Aa1\xff\xff\xff\xff\xff"), PW_INVALID_CHARS);
}

static void
test_utf8_length_is_minus_one_for_invalid_utf8(void **state)
{
    (void)state;
    assert_int_equal(password_utf8_length(""), 0);
    assert_int_equal(password_utf8_length("abc"), 3);
    assert_int_equal(password_utf8_length("\xe2\x82\xac\xf0\x9f\x98\x80"), 2);
    assert_int_equal(password_utf8_length("a\tb"), 3);
    assert_int_equal(password_utf8_length("\xc0\x80"), -1);
    assert_int_equal(password_utf8_length("\xed\xa0\x80"), -1);
    assert_int_equal(password_utf8_length("ab\xe2\x82"), -1);
    assert_int_equal(password_utf8_length(NULL), -1);
}

static void
test_reuse_within_history_three_refuses_position_three_and_allows_four(void **state)
{
    static const struct {
        int history;
        int position;
        int refused;
    } rows[] = {
        {3, 0, 0},   {3, 1, 1},   {3, 2, 1}, {3, 3, 1}, {3, 4, 0},
        {12, 12, 1}, {12, 13, 0}, {0, 1, 0}, {0, 2, 0}, {3, -1, 0},
    };
    struct policy p = defaults();

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct password_facts f = {.reused_position = rows[i].position};
        p.history = rows[i].history;
        unsigned got = password_check(&p, GOOD, &f, NOW);
        unsigned want = rows[i].refused ? PW_REUSED : 0;
        if (got != want)
            fail_msg("history %d position %d: got 0x%x", rows[i].history, rows[i].position, got);
    }
}

static void
test_without_facts_history_and_changes_are_not_checked(void **state)
{
    struct policy p = defaults();

    (void)state;
    p.history = 3;
    assert_int_equal(password_check(&p, GOOD, NULL, NOW), 0);
}

static void
test_third_change_in_a_day_is_allowed_and_fourth_refused(void **state)
{
    struct policy p = defaults();
    time_t two[] = {NOW - 3600, NOW - 60};
    time_t three[] = {NOW - 3600, NOW - 60, NOW - 7200};
    struct password_facts f = {.changes = two, .n_changes = 2};

    (void)state;
    assert_int_equal(p.changes_per_day, 3);
    assert_int_equal(password_check(&p, GOOD, &f, NOW), 0);
    f.changes = three;
    f.n_changes = 3;
    assert_int_equal(password_check(&p, GOOD, &f, NOW), PW_TOO_MANY_CHANGES);
}

static void
test_a_change_exactly_a_day_ago_no_longer_counts(void **state)
{
    struct policy p = defaults();
    time_t old[] = {NOW - DAY, NOW - 60, NOW - 120};
    time_t recent[] = {NOW - DAY + 1, NOW - 60, NOW - 120};
    struct password_facts f = {.changes = old, .n_changes = 3};

    (void)state;
    assert_int_equal(password_check(&p, GOOD, &f, NOW), 0);
    f.changes = recent;
    assert_int_equal(password_check(&p, GOOD, &f, NOW), PW_TOO_MANY_CHANGES);
}

static void
test_changes_in_the_future_do_not_count(void **state)
{
    struct policy p = defaults();
    time_t t[] = {NOW + 1, NOW - 60, NOW - 120};
    struct password_facts f = {.changes = t, .n_changes = 3};

    (void)state;
    assert_int_equal(password_check(&p, GOOD, &f, NOW), 0);
    t[0] = NOW;
    assert_int_equal(password_check(&p, GOOD, &f, NOW), PW_TOO_MANY_CHANGES);
}

static void
test_a_forced_change_bypasses_the_daily_cap(void **state)
{
    struct policy p = defaults();
    time_t t[] = {NOW - 1, NOW - 2, NOW - 3, NOW - 4};
    struct password_facts f = {.changes = t, .n_changes = 4, .forced = 1};

    (void)state;
    assert_int_equal(password_check(&p, GOOD, &f, NOW), 0);
    /* A forced change still may not reuse a password. */
    p.history = 3;
    f.reused_position = 1;
    assert_int_equal(password_check(&p, GOOD, &f, NOW), PW_REUSED);
}

static void
test_a_forced_change_may_not_keep_the_current_password(void **state)
{
    struct policy p = defaults();
    struct password_facts f = {.reused_position = 1, .forced = 1};
    char buf[PASSWORD_RULE_TEXT_MAX];

    (void)state;
    assert_int_equal(p.history, 0);
    assert_int_equal(password_check(&p, GOOD, &f, NOW), PW_REUSED);
    assert_string_equal(password_rule_text(&p, PW_REUSED, buf, sizeof(buf)),
                        "Choose a password different from your current one.");
    /* Only the current one: older passwords stay allowed, and voluntary changes are free. */
    f.reused_position = 2;
    assert_int_equal(password_check(&p, GOOD, &f, NOW), 0);
    f.reused_position = 1;
    f.forced = 0;
    assert_int_equal(password_check(&p, GOOD, &f, NOW), 0);
}

static void
test_cap_of_one_refuses_a_second_change(void **state)
{
    struct policy p = defaults();
    time_t t[] = {NOW - 100};
    struct password_facts f = {.changes = t, .n_changes = 1};

    (void)state;
    p.changes_per_day = 1;
    assert_int_equal(password_check(&p, GOOD, &f, NOW), PW_TOO_MANY_CHANGES);
    f.n_changes = 0;
    assert_int_equal(password_check(&p, GOOD, &f, NOW), 0);
}

static void
test_missing_change_list_counts_as_none(void **state)
{
    struct policy p = defaults();
    struct password_facts f = {.changes = NULL, .n_changes = 5};

    (void)state;
    assert_int_equal(password_check(&p, GOOD, &f, NOW), 0);
}

static void
test_each_rule_has_a_friendly_sentence(void **state)
{
    static const struct {
        enum password_rule rule;
        const char *want;
    } rows[] = {
        {PW_TOO_SHORT, "Use at least 8 characters."},
        {PW_TOO_LONG, "Use no more than 256 characters."},
        {PW_NO_LETTER, "Include at least one letter."},
        {PW_NO_NUMBER, "Include at least one number."},
        {PW_NO_MIXED_CASE, "Include both upper-case and lower-case letters."},
        {PW_NO_SPECIAL, "Include at least one special character, such as ! or #."},
        {PW_SINGLE_CHAR, "Don't use the same character over and over."},
        {PW_SEQUENCE,
         "Don't use a run of 6 or more consecutive characters, like 123456 or abcdef."},
        {PW_REUSED, "Don't reuse any of your last 3 passwords."},
        {PW_TOO_MANY_CHANGES,
         "You have already changed your password 3 times in the last 24 hours; try again later."},
        {PW_INVALID_CHARS, "Use only printable characters."},
    };
    struct policy p = defaults();
    char buf[PASSWORD_RULE_TEXT_MAX];

    (void)state;
    p.history = 3;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *got = password_rule_text(&p, rows[i].rule, buf, sizeof(buf));
        assert_ptr_equal(got, buf);
        assert_string_equal(got, rows[i].want);
    }
}

static void
test_sentences_name_the_configured_numbers(void **state)
{
    struct policy p = defaults();
    char buf[PASSWORD_RULE_TEXT_MAX];

    (void)state;
    p.min_length = 32;
    p.max_sequence = 3;
    p.history = 12;
    p.changes_per_day = 8;
    assert_string_equal(password_rule_text(&p, PW_TOO_SHORT, buf, sizeof(buf)),
                        "Use at least 32 characters.");
    assert_string_equal(password_rule_text(&p, PW_SEQUENCE, buf, sizeof(buf)),
                        "Don't use a run of 3 or more consecutive characters, like 123 or abc.");
    assert_string_equal(password_rule_text(&p, PW_REUSED, buf, sizeof(buf)),
                        "Don't reuse any of your last 12 passwords.");
    assert_string_equal(
        password_rule_text(&p, PW_TOO_MANY_CHANGES, buf, sizeof(buf)),
        "You have already changed your password 8 times in the last 24 hours; try again later.");
    p.max_sequence = 12;
    assert_string_equal(password_rule_text(&p, PW_SEQUENCE, buf, sizeof(buf)),
                        "Don't use a run of 12 or more consecutive characters, like abcdefghijkl.");
    p.max_sequence = 32;
    assert_string_equal(password_rule_text(&p, PW_SEQUENCE, buf, sizeof(buf)),
                        "Don't use a run of 32 or more consecutive characters.");
}

static void
test_every_sentence_fits_the_rule_text_limit(void **state)
{
    struct policy p = defaults();
    char buf[PASSWORD_RULE_TEXT_MAX + 64];

    (void)state;
    p.min_length = 32;
    p.history = 12;
    p.changes_per_day = 8;
    for (int seq = 3; seq <= 32; seq++) {
        p.max_sequence = seq;
        for (unsigned bit = PW_TOO_SHORT; bit <= PW_INVALID_CHARS; bit <<= 1) {
            password_rule_text(&p, (enum password_rule)bit, buf, sizeof(buf));
            assert_true(strlen(buf) > 0);
            assert_true(strlen(buf) < PASSWORD_RULE_TEXT_MAX);
        }
    }
}

static void
test_rule_text_truncates_to_a_small_buffer(void **state)
{
    struct policy p = defaults();
    char buf[8];

    (void)state;
    assert_string_equal(password_rule_text(&p, PW_TOO_SHORT, buf, sizeof(buf)), "Use at ");
    assert_string_equal(password_rule_text(&p, PW_TOO_SHORT, NULL, 0), "");
}

static void
test_explain_stops_at_max_and_points_into_storage(void **state)
{
    struct policy p = defaults();
    const char *out[2];
    char storage[2 * PASSWORD_RULE_TEXT_MAX];
    unsigned mask = PW_TOO_SHORT | PW_NO_NUMBER | PW_INVALID_CHARS;

    (void)state;
    assert_int_equal(password_explain(&p, mask, out, 2, storage), 2);
    assert_ptr_equal(out[0], storage);
    assert_ptr_equal(out[1], storage + PASSWORD_RULE_TEXT_MAX);
    assert_string_equal(out[1], "Include at least one number.");
    assert_int_equal(password_explain(&p, 0, out, 2, storage), 0);
    assert_int_equal(password_explain(&p, mask, out, 0, storage), 0);
}

static void
test_requirements_list_the_rules_in_force(void **state)
{
    struct policy p = defaults();
    const char *out[16];
    char storage[16 * PASSWORD_RULE_TEXT_MAX];
    size_t n;

    (void)state;
    n = password_requirements(&p, out, 16, storage);
    assert_int_equal(n, 8);
    assert_string_equal(out[0], "Use at least 8 characters.");
    assert_string_equal(out[1], "Use no more than 256 characters.");
    assert_string_equal(out[2], "Include at least one letter.");
    assert_string_equal(out[3], "Include at least one number.");
    assert_string_equal(out[4], "Include both upper-case and lower-case letters.");
    assert_string_equal(out[5], "Don't use the same character over and over.");
    assert_string_equal(
        out[6], "Don't use a run of 6 or more consecutive characters, like 123456 or abcdef.");
    assert_string_equal(out[7], "Use only printable characters.");

    p.require_letter = p.require_number = p.require_mixed_case = p.reject_single_char = 0;
    p.max_sequence = 0;
    p.require_special = 1;
    p.history = 5;
    n = password_requirements(&p, out, 16, storage);
    assert_int_equal(n, 5);
    assert_string_equal(out[2], "Include at least one special character, such as ! or #.");
    assert_string_equal(out[3], "Don't reuse any of your last 5 passwords.");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_good_password_passes_the_default_policy),
        cmocka_unit_test(test_seven_characters_are_too_short_and_eight_are_enough),
        cmocka_unit_test(test_min_length_32_refuses_31_and_accepts_32_and_33),
        cmocka_unit_test(test_length_counts_characters_not_bytes),
        cmocka_unit_test(test_256_bytes_are_accepted_and_257_are_too_long),
        cmocka_unit_test(test_the_byte_limit_applies_to_multibyte_characters),
        cmocka_unit_test(test_each_character_rule_is_enforced_when_on),
        cmocka_unit_test(test_character_rules_that_are_off_are_not_enforced),
        cmocka_unit_test(test_special_characters_include_punctuation_and_space),
        cmocka_unit_test(test_non_ascii_characters_count_as_letters_but_not_as_a_case),
        cmocka_unit_test(test_the_same_character_throughout_is_refused),
        cmocka_unit_test(test_an_empty_password_is_too_short_but_not_a_single_character),
        cmocka_unit_test(test_a_run_of_six_is_refused_and_a_run_of_five_passes),
        cmocka_unit_test(test_max_sequence_zero_allows_any_run),
        cmocka_unit_test(test_max_sequence_three_refuses_abc),
        cmocka_unit_test(test_a_run_broken_by_a_non_ascii_character_is_not_a_sequence),
        cmocka_unit_test(test_a_password_breaking_several_rules_lists_them_all),
        cmocka_unit_test(test_invalid_utf8_and_control_characters_are_refused),
        cmocka_unit_test(test_valid_utf8_at_the_edges_is_accepted),
        cmocka_unit_test(test_other_rules_are_still_reported_beside_invalid_characters),
        cmocka_unit_test(test_utf8_length_is_minus_one_for_invalid_utf8),
        cmocka_unit_test(test_reuse_within_history_three_refuses_position_three_and_allows_four),
        cmocka_unit_test(test_without_facts_history_and_changes_are_not_checked),
        cmocka_unit_test(test_third_change_in_a_day_is_allowed_and_fourth_refused),
        cmocka_unit_test(test_a_change_exactly_a_day_ago_no_longer_counts),
        cmocka_unit_test(test_changes_in_the_future_do_not_count),
        cmocka_unit_test(test_a_forced_change_bypasses_the_daily_cap),
        cmocka_unit_test(test_a_forced_change_may_not_keep_the_current_password),
        cmocka_unit_test(test_cap_of_one_refuses_a_second_change),
        cmocka_unit_test(test_missing_change_list_counts_as_none),
        cmocka_unit_test(test_each_rule_has_a_friendly_sentence),
        cmocka_unit_test(test_sentences_name_the_configured_numbers),
        cmocka_unit_test(test_every_sentence_fits_the_rule_text_limit),
        cmocka_unit_test(test_rule_text_truncates_to_a_small_buffer),
        cmocka_unit_test(test_explain_stops_at_max_and_points_into_storage),
        cmocka_unit_test(test_requirements_list_the_rules_in_force),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
