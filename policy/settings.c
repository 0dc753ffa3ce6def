/* policy/settings.c: the one table of policy settings, and parsing/formatting of their values.
 * Everything that names, validates or documents a setting reads this table. */
#include "settings.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Quoted user input in messages is cut here: values may come from hostile API callers. */
#define SETTINGS_QUOTE_MAX 40

/* Longest digit string worth handing to strtol; anything longer overflows an int anyway. */
#define SETTINGS_DIGITS_MAX 32

#define BOOL_SETTING(key, field, d, desc)                                                          \
    {                                                                                              \
        .name = (key), .kind = SETTING_BOOL, .min = 0, .max = 1, .def = (d),                       \
        .offset = offsetof(struct policy, field), .description = (desc)                            \
    }
#define RANGE_SETTING(key, field, lo, hi, zero, d, desc)                                           \
    {                                                                                              \
        .name = (key), .kind = SETTING_RANGE, .min = (lo), .max = (hi), .allow_zero = (zero),      \
        .def = (d), .offset = offsetof(struct policy, field), .description = (desc)                \
    }

/* Order and values follow the "Policy settings" table of the contract. */
static const struct setting_def settings[] = {
    RANGE_SETTING("password.min_length", min_length, 8, 32, 0, 8,
                  "Shortest password accepted, in characters."),
    BOOL_SETTING("password.require_letter", require_letter, 1,
                 "Passwords must contain at least one letter."),
    BOOL_SETTING("password.require_number", require_number, 1,
                 "Passwords must contain at least one digit."),
    BOOL_SETTING("password.require_mixed_case", require_mixed_case, 1,
                 "Passwords must contain both an upper-case and a lower-case letter."),
    BOOL_SETTING("password.require_special", require_special, 0,
                 "Passwords must contain a character that is neither a letter nor a digit."),
    BOOL_SETTING("password.reject_single_char", reject_single_char, 1,
                 "Passwords made of one repeated character, such as aaaaaaaa, are refused."),
    RANGE_SETTING("password.max_sequence", max_sequence, 3, 32, 1, 6,
                  "Passwords containing a run of this many consecutive characters, such as 123456 "
                  "or fedcba, are refused (0 turns the check off)."),
    {
        .name = "password.expire_days",
        .kind = SETTING_LIST,
        .allowed = {0, 30, 60, 90, 120},
        .n_allowed = 5,
        .min = 0,
        .max = 120,
        .def = 0,
        .offset = offsetof(struct policy, expire_days),
        .description = "Days after which a password must be changed (0 means never).",
    },
    RANGE_SETTING("password.history", history, 3, 12, 1, 0,
                  "Number of previous passwords that may not be reused (0 turns the check off)."),
    RANGE_SETTING("password.changes_per_day", changes_per_day, 1, 8, 0, 3,
                  "Most password changes a user may make in any 24 hours."),
    BOOL_SETTING("password.force_change_first_login", force_change_first_login, 1,
                 "New users must replace their temporary password at their first sign-in."),
    RANGE_SETTING("lockout.max_failures", lockout_max_failures, 3, 20, 0, 6,
                  "Consecutive failed sign-ins that lock the account."),
    RANGE_SETTING("lockout.minutes", lockout_minutes, 5, 1440, 0, 30,
                  "Minutes a locked account stays locked."),
    RANGE_SETTING("session.web_idle_minutes", web_idle_minutes, 10, 120, 0, 20,
                  "Minutes without a request after which a browser session ends."),
    RANGE_SETTING("session.client_idle_minutes", client_idle_minutes, 5, 120, 0, 5,
                  "Minutes without a request after which an API client session ends."),
    BOOL_SETTING("password_login", password_login, 1,
                 "Users may sign in with an email address and password."),
    BOOL_SETTING("mfa.required", mfa_required, 0, "Password sign-ins must also give a TOTP code."),
};

static const size_t n_settings = sizeof(settings) / sizeof(settings[0]);

const struct setting_def *
settings_table(size_t *n)
{
    if (n != NULL)
        *n = n_settings;
    return settings;
}

const struct setting_def *
settings_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < n_settings; i++) {
        if (strcmp(settings[i].name, name) == 0)
            return &settings[i];
    }
    return NULL;
}

void
policy_defaults(struct policy *p)
{
    if (p == NULL)
        return;
    memset(p, 0, sizeof(*p));
    for (size_t i = 0; i < n_settings; i++)
        settings_put(p, &settings[i], settings[i].def);
}

int
settings_get(const struct policy *p, const struct setting_def *d)
{
    int v = 0;

    if (p == NULL || d == NULL || d->offset + sizeof(int) > sizeof(*p))
        return 0;
    /* memcpy rather than a cast: the offset comes from a table, keep aliasing rules out of it. */
    memcpy(&v, (const char *)p + d->offset, sizeof(v));
    return v;
}

void
settings_put(struct policy *p, const struct setting_def *d, int value)
{
    if (p == NULL || d == NULL || d->offset + sizeof(int) > sizeof(*p))
        return;
    memcpy((char *)p + d->offset, &value, sizeof(value));
}

/* snprintf that tolerates a missing buffer (callers may not want the message). */
__attribute__((format(printf, 3, 4))) static void
put_msg(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (buf == NULL || len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* Copies at most SETTINGS_QUOTE_MAX bytes of s into out, '?' for anything not printable ASCII,
 * so a hostile value cannot inject terminal escapes or newlines into messages and logs. */
static void
sanitize(const char *s, char *out, size_t outlen)
{
    size_t i = 0;

    if (outlen == 0)
        return;
    for (; s[i] != '\0' && i < SETTINGS_QUOTE_MAX && i + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[i] = '\0';
    if (s[i] != '\0' && i + 4 <= outlen) {
        memcpy(out + i, "...", 4);
    }
}

/* Whole-string decimal integer: an optional '-' then digits only, nothing else. Returns 0 when
 * it is a number (*overflow set when it does not fit an int), -1 when it is not a number. */
static int
parse_int(const char *s, int *out, int *overflow)
{
    const char *q = s;
    char *end = NULL;
    long v;

    *overflow = 0;
    if (*q == '-')
        q++;
    if (*q == '\0')
        return -1;
    for (const char *c = q; *c != '\0'; c++) {
        if (*c < '0' || *c > '9')
            return -1;
    }
    /* strtol also takes spaces, '+' and "0x"; the loop above has already refused those. */
    if (strlen(s) > SETTINGS_DIGITS_MAX) {
        *overflow = 1;
        return 0;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end != '\0')
        return -1;
    if (errno == ERANGE || v < INT_MIN || v > INT_MAX) {
        *overflow = 1;
        return 0;
    }
    *out = (int)v;
    return 0;
}

static int
parse_bool(const char *value, int *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"};
    static const char *const no[] = {"off", "false", "no", "0"};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(value, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(value, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static int
value_allowed(const struct setting_def *d, int v)
{
    size_t i;

    switch (d->kind) {
    case SETTING_BOOL:
        return v == 0 || v == 1;
    case SETTING_RANGE:
        return (v >= d->min && v <= d->max) || (d->allow_zero && v == 0);
    case SETTING_LIST:
        for (i = 0; i < d->n_allowed && i < SETTING_MAX_ALLOWED; i++) {
            if (d->allowed[i] == v)
                return 1;
        }
        return 0;
    }
    return 0;
}

int
settings_parse(const struct setting_def *d, const char *value, int *out, char *err, size_t errlen)
{
    char shown[SETTINGS_QUOTE_MAX + 4];
    char range[96];
    int v = 0;
    int overflow = 0;
    int rc = -1;

    if (value == NULL)
        value = "";
    sanitize(value, shown, sizeof(shown));
    if (d == NULL) {
        put_msg(err, errlen, "unknown setting");
        goto out;
    }
    settings_range_text(d, range, sizeof(range));
    if (d->kind == SETTING_BOOL) {
        if (parse_bool(value, &v) != 0) {
            put_msg(err, errlen, "\"%s\" is not on or off", shown);
            goto out;
        }
    } else {
        if (parse_int(value, &v, &overflow) != 0) {
            put_msg(err, errlen, "\"%s\" is not a number", shown);
            goto out;
        }
        if (overflow || !value_allowed(d, v)) {
            if (d->kind == SETTING_LIST)
                put_msg(err, errlen, "%s is not one of %s", shown, range);
            else if (d->allow_zero)
                put_msg(err, errlen, "%s is out of range: %s", shown, range);
            else
                put_msg(err, errlen, "%s is out of range %s", shown, range);
            goto out;
        }
    }
    if (out != NULL)
        *out = v;
    rc = 0;
out:
    return rc;
}

int
settings_set(struct policy *p, const char *name, const char *value, char *err, size_t errlen)
{
    const struct setting_def *d = settings_find(name);
    int v = 0;

    if (d == NULL) {
        put_msg(err, errlen, "unknown setting");
        return -1;
    }
    if (settings_parse(d, value, &v, err, errlen) != 0)
        return -1;
    settings_put(p, d, v);
    return 0;
}

void
settings_format(const struct setting_def *d, int value, char *buf, size_t len)
{
    if (d != NULL && d->kind == SETTING_BOOL)
        put_msg(buf, len, "%s", value ? "on" : "off");
    else
        put_msg(buf, len, "%d", value);
}

void
settings_range_text(const struct setting_def *d, char *buf, size_t len)
{
    size_t used = 0;

    if (buf == NULL || len == 0)
        return;
    buf[0] = '\0';
    if (d == NULL)
        return;
    switch (d->kind) {
    case SETTING_BOOL:
        put_msg(buf, len, "on/off");
        break;
    case SETTING_RANGE:
        if (d->allow_zero)
            put_msg(buf, len, "0 (off) or %d-%d", d->min, d->max);
        else
            put_msg(buf, len, "%d-%d", d->min, d->max);
        break;
    case SETTING_LIST:
        for (size_t i = 0; i < d->n_allowed && i < SETTING_MAX_ALLOWED && used < len; i++) {
            put_msg(buf + used, len - used, "%s%d", i > 0 ? ", " : "", d->allowed[i]);
            used += strlen(buf + used);
        }
        break;
    }
}
