/* policy/settings.h: the one table of policy settings (name, range, default, description).
 * It feeds the config parser, gatehousectl policy set/show, validation messages and the README.
 * Pure: libc only, no I/O, no clock, no allocation. */
#ifndef GH_POLICY_SETTINGS_H
#define GH_POLICY_SETTINGS_H

#include <stddef.h>

/* Effective policy: every field is an int (booleans are 0/1). */
struct policy {
    int min_length;
    int require_letter;
    int require_number;
    int require_mixed_case;
    int require_special;
    int reject_single_char;
    int max_sequence;
    int expire_days;
    int history;
    int changes_per_day;
    int force_change_first_login;
    int lockout_max_failures;
    int lockout_minutes;
    int web_idle_minutes;
    int client_idle_minutes;
    int password_login;
    int mfa_required;
};

enum setting_kind {
    SETTING_BOOL,  /* on/off */
    SETTING_RANGE, /* min..max, and 0 too when allow_zero */
    SETTING_LIST,  /* one of allowed[] */
};

#define SETTING_MAX_ALLOWED 8

struct setting_def {
    const char *name;
    enum setting_kind kind;
    int min;
    int max;
    int allow_zero; /* RANGE: 0 is also accepted (means "off" / "never") */
    int allowed[SETTING_MAX_ALLOWED];
    size_t n_allowed;
    int def;
    size_t offset; /* offsetof(struct policy, field) */
    const char *description;
};

/* The table itself; *n receives its length. */
const struct setting_def *settings_table(size_t *n);

/* The definition named `name`, or NULL. */
const struct setting_def *settings_find(const char *name);

/* Fills p with every setting's built-in default. */
void policy_defaults(struct policy *p);

/* Parses `value` for d into *out. Booleans accept on/off, true/false, yes/no, 1/0.
 * On error returns -1 and writes e.g. "3 is out of range 5-1440" into err. */
int settings_parse(const struct setting_def *d, const char *value, int *out, char *err,
                   size_t errlen);

/* Parses and stores `value` into the field of p named `name`. -1 with a message on error
 * (an unknown name gives "unknown setting"). */
int settings_set(struct policy *p, const char *name, const char *value, char *err, size_t errlen);

/* Reads / writes the field of p described by d. */
int settings_get(const struct policy *p, const struct setting_def *d);
void settings_put(struct policy *p, const struct setting_def *d, int value);

/* Formats a value the way users type it: "on"/"off" for booleans, digits otherwise. */
void settings_format(const struct setting_def *d, int value, char *buf, size_t len);

/* Describes the accepted values: "on/off", "5-1440", "0 (off) or 3-12", "0, 30, 60, 90, 120". */
void settings_range_text(const struct setting_def *d, char *buf, size_t len);

#endif
