/* tests/unit/test_policy_settings.c: the settings table, parsing, messages and formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "policy/settings.h"

#define ERR_MAX 256

/* The contract's "Policy settings" table, in its order. */
static const struct {
    const char *name;
    enum setting_kind kind;
    int def;
} contract[] = {
    {"password.min_length", SETTING_RANGE, 8},
    {"password.require_letter", SETTING_BOOL, 1},
    {"password.require_number", SETTING_BOOL, 1},
    {"password.require_mixed_case", SETTING_BOOL, 1},
    {"password.require_special", SETTING_BOOL, 0},
    {"password.reject_single_char", SETTING_BOOL, 1},
    {"password.max_sequence", SETTING_RANGE, 6},
    {"password.expire_days", SETTING_LIST, 0},
    {"password.history", SETTING_RANGE, 0},
    {"password.changes_per_day", SETTING_RANGE, 3},
    {"password.force_change_first_login", SETTING_BOOL, 1},
    {"lockout.max_failures", SETTING_RANGE, 6},
    {"lockout.minutes", SETTING_RANGE, 30},
    {"session.web_idle_minutes", SETTING_RANGE, 20},
    {"session.client_idle_minutes", SETTING_RANGE, 5},
    {"password_login", SETTING_BOOL, 1},
    {"mfa.required", SETTING_BOOL, 0},
};

/* Parses value for the named setting; returns the rc and leaves the message in err. */
static int
parse(const char *name, const char *value, int *out, char *err)
{
    const struct setting_def *d = settings_find(name);

    assert_non_null(d);
    err[0] = '\0';
    return settings_parse(d, value, out, err, ERR_MAX);
}

static void
test_table_lists_every_contract_key_in_order(void **state)
{
    size_t n = 0;
    const struct setting_def *t = settings_table(&n);

    (void)state;
    assert_int_equal(n, sizeof(contract) / sizeof(contract[0]));
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(t[i].name, contract[i].name);
        assert_int_equal(t[i].kind, contract[i].kind);
        assert_int_equal(t[i].def, contract[i].def);
    }
}

static void
test_every_setting_has_a_one_sentence_description(void **state)
{
    size_t n = 0;
    const struct setting_def *t = settings_table(&n);

    (void)state;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(t[i].description);
        if (len < 10 || t[i].description[len - 1] != '.')
            fail_msg("%s: description \"%s\"", t[i].name, t[i].description);
    }
}

static void
test_defaults_match_the_contract(void **state)
{
    struct policy p;

    (void)state;
    memset(&p, 0x55, sizeof(p));
    policy_defaults(&p);
    assert_int_equal(p.min_length, 8);
    assert_int_equal(p.require_letter, 1);
    assert_int_equal(p.require_number, 1);
    assert_int_equal(p.require_mixed_case, 1);
    assert_int_equal(p.require_special, 0);
    assert_int_equal(p.reject_single_char, 1);
    assert_int_equal(p.max_sequence, 6);
    assert_int_equal(p.expire_days, 0);
    assert_int_equal(p.history, 0);
    assert_int_equal(p.changes_per_day, 3);
    assert_int_equal(p.force_change_first_login, 1);
    assert_int_equal(p.lockout_max_failures, 6);
    assert_int_equal(p.lockout_minutes, 30);
    assert_int_equal(p.web_idle_minutes, 20);
    assert_int_equal(p.client_idle_minutes, 5);
    assert_int_equal(p.password_login, 1);
    assert_int_equal(p.mfa_required, 0);
}

static void
test_find_knows_every_key_and_nothing_else(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(contract) / sizeof(contract[0]); i++) {
        const struct setting_def *d = settings_find(contract[i].name);
        assert_non_null(d);
        assert_string_equal(d->name, contract[i].name);
    }
    assert_null(settings_find("password.MIN_LENGTH"));
    assert_null(settings_find("password"));
    assert_null(settings_find(""));
    assert_null(settings_find(NULL));
}

/* min-1, min, max and max+1 of every range setting, with the exact refusal. */
static const struct {
    const char *name;
    const char *value;
    int ok;
    int want;
    const char *msg;
} range_rows[] = {
    {"password.min_length", "7", 0, 0, "7 is out of range 8-32"},
    {"password.min_length", "8", 1, 8, NULL},
    {"password.min_length", "32", 1, 32, NULL},
    {"password.min_length", "33", 0, 0, "33 is out of range 8-32"},
    {"password.max_sequence", "0", 1, 0, NULL},
    {"password.max_sequence", "2", 0, 0, "2 is out of range: 0 (off) or 3-32"},
    {"password.max_sequence", "3", 1, 3, NULL},
    {"password.max_sequence", "32", 1, 32, NULL},
    {"password.max_sequence", "33", 0, 0, "33 is out of range: 0 (off) or 3-32"},
    {"password.history", "0", 1, 0, NULL},
    {"password.history", "1", 0, 0, "1 is out of range: 0 (off) or 3-12"},
    {"password.history", "2", 0, 0, "2 is out of range: 0 (off) or 3-12"},
    {"password.history", "3", 1, 3, NULL},
    {"password.history", "12", 1, 12, NULL},
    {"password.history", "13", 0, 0, "13 is out of range: 0 (off) or 3-12"},
    {"password.changes_per_day", "0", 0, 0, "0 is out of range 1-8"},
    {"password.changes_per_day", "1", 1, 1, NULL},
    {"password.changes_per_day", "8", 1, 8, NULL},
    {"password.changes_per_day", "9", 0, 0, "9 is out of range 1-8"},
    {"lockout.max_failures", "2", 0, 0, "2 is out of range 3-20"},
    {"lockout.max_failures", "3", 1, 3, NULL},
    {"lockout.max_failures", "20", 1, 20, NULL},
    {"lockout.max_failures", "21", 0, 0, "21 is out of range 3-20"},
    {"lockout.minutes", "4", 0, 0, "4 is out of range 5-1440"},
    {"lockout.minutes", "3", 0, 0, "3 is out of range 5-1440"},
    {"lockout.minutes", "5", 1, 5, NULL},
    {"lockout.minutes", "1440", 1, 1440, NULL},
    {"lockout.minutes", "1441", 0, 0, "1441 is out of range 5-1440"},
    {"lockout.minutes", "0", 0, 0, "0 is out of range 5-1440"},
    {"lockout.minutes", "-1", 0, 0, "-1 is out of range 5-1440"},
    {"session.web_idle_minutes", "9", 0, 0, "9 is out of range 10-120"},
    {"session.web_idle_minutes", "10", 1, 10, NULL},
    {"session.web_idle_minutes", "120", 1, 120, NULL},
    {"session.web_idle_minutes", "121", 0, 0, "121 is out of range 10-120"},
    {"session.client_idle_minutes", "4", 0, 0, "4 is out of range 5-120"},
    {"session.client_idle_minutes", "5", 1, 5, NULL},
    {"session.client_idle_minutes", "120", 1, 120, NULL},
    {"session.client_idle_minutes", "121", 0, 0, "121 is out of range 5-120"},
    /* The allowed list: each member, and its neighbours. */
    {"password.expire_days", "0", 1, 0, NULL},
    {"password.expire_days", "30", 1, 30, NULL},
    {"password.expire_days", "60", 1, 60, NULL},
    {"password.expire_days", "90", 1, 90, NULL},
    {"password.expire_days", "120", 1, 120, NULL},
    {"password.expire_days", "-1", 0, 0, "-1 is not one of 0, 30, 60, 90, 120"},
    {"password.expire_days", "1", 0, 0, "1 is not one of 0, 30, 60, 90, 120"},
    {"password.expire_days", "29", 0, 0, "29 is not one of 0, 30, 60, 90, 120"},
    {"password.expire_days", "31", 0, 0, "31 is not one of 0, 30, 60, 90, 120"},
    {"password.expire_days", "45", 0, 0, "45 is not one of 0, 30, 60, 90, 120"},
    {"password.expire_days", "89", 0, 0, "89 is not one of 0, 30, 60, 90, 120"},
    {"password.expire_days", "91", 0, 0, "91 is not one of 0, 30, 60, 90, 120"},
    {"password.expire_days", "119", 0, 0, "119 is not one of 0, 30, 60, 90, 120"},
    {"password.expire_days", "121", 0, 0, "121 is not one of 0, 30, 60, 90, 120"},
};

static void
test_range_boundaries_accept_min_and_max_and_refuse_beyond(void **state)
{
    char err[ERR_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(range_rows) / sizeof(range_rows[0]); i++) {
        int v = -12345;
        int rc = parse(range_rows[i].name, range_rows[i].value, &v, err);
        if (range_rows[i].ok) {
            if (rc != 0 || v != range_rows[i].want)
                fail_msg("%s=%s: rc %d v %d err \"%s\"", range_rows[i].name, range_rows[i].value,
                         rc, v, err);
        } else {
            if (rc != -1 || strcmp(err, range_rows[i].msg) != 0)
                fail_msg("%s=%s: rc %d err \"%s\", want \"%s\"", range_rows[i].name,
                         range_rows[i].value, rc, err, range_rows[i].msg);
            if (v != -12345)
                fail_msg("%s=%s: refused value was still written", range_rows[i].name,
                         range_rows[i].value);
        }
    }
}

static void
test_integers_with_junk_are_not_numbers(void **state)
{
    static const struct {
        const char *value;
        const char *msg;
    } rows[] = {
        {"12abc", "\"12abc\" is not a number"},   {"", "\"\" is not a number"},
        {" 30", "\" 30\" is not a number"},       {"30 ", "\"30 \" is not a number"},
        {"+30", "\"+30\" is not a number"},       {"--30", "\"--30\" is not a number"},
        {"-", "\"-\" is not a number"},           {"0x1e", "\"0x1e\" is not a number"},
        {"1e3", "\"1e3\" is not a number"},       {"30.0", "\"30.0\" is not a number"},
        {"thirty", "\"thirty\" is not a number"}, {"on", "\"on\" is not a number"},
        {"3\n0", "\"3?0\" is not a number"},
    };
    char err[ERR_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int v = 0;
        int rc = parse("lockout.minutes", rows[i].value, &v, err);
        if (rc != -1 || strcmp(err, rows[i].msg) != 0)
            fail_msg("row %zu: rc %d err \"%s\", want \"%s\"", i, rc, err, rows[i].msg);
    }
}

static void
test_numbers_that_overflow_an_int_are_out_of_range(void **state)
{
    char err[ERR_MAX];
    int v = 0;

    (void)state;
    assert_int_equal(parse("lockout.minutes", "2147483648", &v, err), -1);
    assert_string_equal(err, "2147483648 is out of range 5-1440");
    assert_int_equal(parse("lockout.minutes", "99999999999999999999", &v, err), -1);
    assert_string_equal(err, "99999999999999999999 is out of range 5-1440");
    assert_int_equal(parse("lockout.minutes", "-9223372036854775809", &v, err), -1);
    assert_string_equal(err, "-9223372036854775809 is out of range 5-1440");
    assert_int_equal(parse("password.expire_days", "4294967326", &v, err), -1);
    assert_string_equal(err, "4294967326 is not one of 0, 30, 60, 90, 120");
}

static void
test_leading_zeros_are_still_the_number(void **state)
{
    char err[ERR_MAX];
    int v = 0;

    (void)state;
    assert_int_equal(parse("lockout.minutes", "0030", &v, err), 0);
    assert_int_equal(v, 30);
}

static void
test_booleans_accept_every_spelling_in_any_case(void **state)
{
    static const struct {
        const char *value;
        int want;
    } rows[] = {
        {"on", 1},    {"ON", 1}, {"On", 1},  {"true", 1}, {"TRUE", 1}, {"yes", 1},
        {"Yes", 1},   {"1", 1},  {"off", 0}, {"OFF", 0},  {"oFf", 0},  {"false", 0},
        {"False", 0}, {"no", 0}, {"NO", 0},  {"0", 0},
    };
    char err[ERR_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int v = -1;
        if (parse("mfa.required", rows[i].value, &v, err) != 0 || v != rows[i].want)
            fail_msg("\"%s\": v %d err \"%s\"", rows[i].value, v, err);
    }
}

static void
test_booleans_refuse_anything_else(void **state)
{
    static const char *const rows[] = {"maybe", "", "2", "onn", " on", "on ", "y", "n", "-1", "10"};
    char err[ERR_MAX];
    char want[ERR_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int v = -7;
        snprintf(want, sizeof(want), "\"%s\" is not on or off", rows[i]);
        if (parse("password_login", rows[i], &v, err) != -1 || strcmp(err, want) != 0 || v != -7)
            fail_msg("\"%s\": err \"%s\"", rows[i], err);
    }
    assert_int_equal(parse("password_login", "maybe", NULL, err), -1);
    assert_string_equal(err, "\"maybe\" is not on or off");
}

static void
test_hostile_values_are_cut_to_forty_characters_in_messages(void **state)
{
    char value[200];
    char err[ERR_MAX];

    (void)state;
    memset(value, 'x', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    assert_int_equal(parse("lockout.minutes", value, NULL, err), -1);
    assert_string_equal(err, "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\" is not a number");

    assert_int_equal(parse("mfa.required", value, NULL, err), -1);
    assert_string_equal(err, "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\" is not on or off");

    /* Exactly 40 is shown whole. */
    value[40] = '\0';
    assert_int_equal(parse("lockout.minutes", value, NULL, err), -1);
    assert_string_equal(err, "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" is not a number");
}

static void
test_hostile_values_have_unprintable_bytes_replaced(void **state)
{
    char err[ERR_MAX];

    (void)state;
    assert_int_equal(parse("lockout.minutes", "\x1b[2J\r\nok\x7f\xc3\xa9\"", NULL, err), -1);
    assert_string_equal(err, "\"?[2J??ok???\"\" is not a number");
    assert_int_equal(parse("mfa.required", "o\tn", NULL, err), -1);
    assert_string_equal(err, "\"o?n\" is not on or off");
}

static void
test_messages_fit_small_buffers(void **state)
{
    const struct setting_def *d = settings_find("lockout.minutes");
    char err[8];

    (void)state;
    memset(err, 'Z', sizeof(err));
    assert_int_equal(settings_parse(d, "3", NULL, err, 6), -1);
    assert_string_equal(err, "3 is ");
    assert_int_equal(err[6], 'Z');
    assert_int_equal(settings_parse(d, "3", NULL, NULL, 0), -1);
    assert_int_equal(settings_parse(d, "3", NULL, err, 0), -1);
}

static void
test_null_value_is_not_a_number(void **state)
{
    char err[ERR_MAX];

    (void)state;
    assert_int_equal(parse("lockout.minutes", NULL, NULL, err), -1);
    assert_string_equal(err, "\"\" is not a number");
}

static void
test_set_stores_a_valid_value_in_its_field(void **state)
{
    struct policy p;
    char err[ERR_MAX] = "";

    (void)state;
    policy_defaults(&p);
    assert_int_equal(settings_set(&p, "lockout.minutes", "45", err, sizeof(err)), 0);
    assert_int_equal(p.lockout_minutes, 45);
    assert_int_equal(settings_set(&p, "mfa.required", "yes", err, sizeof(err)), 0);
    assert_int_equal(p.mfa_required, 1);
    assert_int_equal(settings_set(&p, "password.expire_days", "90", err, sizeof(err)), 0);
    assert_int_equal(p.expire_days, 90);
    assert_int_equal(settings_set(&p, "password.history", "0", err, sizeof(err)), 0);
    assert_int_equal(p.history, 0);
}

static void
test_set_refuses_and_keeps_the_old_value(void **state)
{
    struct policy p;
    char err[ERR_MAX] = "";

    (void)state;
    policy_defaults(&p);
    assert_int_equal(settings_set(&p, "lockout.minutes", "3", err, sizeof(err)), -1);
    assert_string_equal(err, "3 is out of range 5-1440");
    assert_int_equal(p.lockout_minutes, 30);
}

static void
test_set_of_an_unknown_key_says_unknown_setting(void **state)
{
    struct policy p, before;
    char err[ERR_MAX] = "";

    (void)state;
    policy_defaults(&p);
    before = p;
    assert_int_equal(settings_set(&p, "lockout.hours", "3", err, sizeof(err)), -1);
    assert_string_equal(err, "unknown setting");
    assert_int_equal(settings_set(&p, NULL, "3", err, sizeof(err)), -1);
    assert_memory_equal(&p, &before, sizeof(p));
}

static void
test_get_and_put_reach_every_field(void **state)
{
    size_t n = 0;
    const struct setting_def *t = settings_table(&n);
    struct policy p;

    (void)state;
    memset(&p, 0, sizeof(p));
    for (size_t i = 0; i < n; i++)
        settings_put(&p, &t[i], (int)i + 100);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(settings_get(&p, &t[i]), (int)i + 100);
    /* Each setting owns its own field. */
    assert_int_equal(p.min_length, 100);
    assert_int_equal(p.mfa_required, 100 + (int)n - 1);
    assert_int_equal(p.lockout_minutes, settings_get(&p, settings_find("lockout.minutes")));
}

static void
test_format_writes_values_the_way_users_type_them(void **state)
{
    char buf[32];

    (void)state;
    settings_format(settings_find("mfa.required"), 1, buf, sizeof(buf));
    assert_string_equal(buf, "on");
    settings_format(settings_find("mfa.required"), 0, buf, sizeof(buf));
    assert_string_equal(buf, "off");
    settings_format(settings_find("lockout.minutes"), 1440, buf, sizeof(buf));
    assert_string_equal(buf, "1440");
    settings_format(settings_find("password.expire_days"), 0, buf, sizeof(buf));
    assert_string_equal(buf, "0");
}

static void
test_format_then_parse_gives_back_every_default(void **state)
{
    size_t n = 0;
    const struct setting_def *t = settings_table(&n);
    char buf[32], err[ERR_MAX];

    (void)state;
    for (size_t i = 0; i < n; i++) {
        int v = -1;
        settings_format(&t[i], t[i].def, buf, sizeof(buf));
        assert_int_equal(settings_parse(&t[i], buf, &v, err, sizeof(err)), 0);
        assert_int_equal(v, t[i].def);
    }
}

static void
test_range_text_describes_each_kind(void **state)
{
    static const struct {
        const char *name;
        const char *want;
    } rows[] = {
        {"mfa.required", "on/off"},
        {"lockout.minutes", "5-1440"},
        {"password.min_length", "8-32"},
        {"password.history", "0 (off) or 3-12"},
        {"password.max_sequence", "0 (off) or 3-32"},
        {"password.expire_days", "0, 30, 60, 90, 120"},
    };
    char buf[64];

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        settings_range_text(settings_find(rows[i].name), buf, sizeof(buf));
        assert_string_equal(buf, rows[i].want);
    }
    settings_range_text(settings_find("password.expire_days"), buf, 8);
    assert_string_equal(buf, "0, 30, ");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_lists_every_contract_key_in_order),
        cmocka_unit_test(test_every_setting_has_a_one_sentence_description),
        cmocka_unit_test(test_defaults_match_the_contract),
        cmocka_unit_test(test_find_knows_every_key_and_nothing_else),
        cmocka_unit_test(test_range_boundaries_accept_min_and_max_and_refuse_beyond),
        cmocka_unit_test(test_integers_with_junk_are_not_numbers),
        cmocka_unit_test(test_numbers_that_overflow_an_int_are_out_of_range),
        cmocka_unit_test(test_leading_zeros_are_still_the_number),
        cmocka_unit_test(test_booleans_accept_every_spelling_in_any_case),
        cmocka_unit_test(test_booleans_refuse_anything_else),
        cmocka_unit_test(test_hostile_values_are_cut_to_forty_characters_in_messages),
        cmocka_unit_test(test_hostile_values_have_unprintable_bytes_replaced),
        cmocka_unit_test(test_messages_fit_small_buffers),
        cmocka_unit_test(test_null_value_is_not_a_number),
        cmocka_unit_test(test_set_stores_a_valid_value_in_its_field),
        cmocka_unit_test(test_set_refuses_and_keeps_the_old_value),
        cmocka_unit_test(test_set_of_an_unknown_key_says_unknown_setting),
        cmocka_unit_test(test_get_and_put_reach_every_field),
        cmocka_unit_test(test_format_writes_values_the_way_users_type_them),
        cmocka_unit_test(test_format_then_parse_gives_back_every_default),
        cmocka_unit_test(test_range_text_describes_each_kind),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
