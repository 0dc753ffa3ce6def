/* policy/password.h: password rules as a pure function of (policy, candidate, facts, now).
 * No I/O, no clock, no allocation: auth/ gathers the facts (which recent hash matched, when the
 * user changed their password lately) and stores the outcome. */
#ifndef GH_POLICY_PASSWORD_H
#define GH_POLICY_PASSWORD_H

#include <stddef.h>
#include <time.h>

#include "settings.h"

/* Longest password accepted, in bytes (bounds hashing work; NIST asks for at least 64). */
#define PASSWORD_MAX_BYTES 256

/* One bit per broken rule; password_check returns their OR (0 = acceptable). */
enum password_rule {
    PW_TOO_SHORT = 1u << 0,     /* fewer than min_length characters */
    PW_TOO_LONG = 1u << 1,      /* more than PASSWORD_MAX_BYTES bytes */
    PW_NO_LETTER = 1u << 2,     /* require_letter */
    PW_NO_NUMBER = 1u << 3,     /* require_number */
    PW_NO_MIXED_CASE = 1u << 4, /* require_mixed_case: both an upper and a lower case letter */
    PW_NO_SPECIAL = 1u << 5,    /* require_special: a character that is not a letter or digit */
    PW_SINGLE_CHAR = 1u << 6,   /* reject_single_char: the same character throughout */
    PW_SEQUENCE = 1u << 7,      /* a run of max_sequence consecutive characters (123456, fedcba) */
    PW_REUSED = 1u << 8,        /* one of the last `history` passwords */
    PW_TOO_MANY_CHANGES = 1u << 9, /* changes_per_day reached in the rolling 24 hours */
    PW_INVALID_CHARS = 1u << 10,   /* not valid UTF-8, or contains control characters */
};

/* Facts about the account that auth/ gathers before asking. */
struct password_facts {
    /* 1-based position of the most recent stored password the candidate matches (1 = the
     * current password, 2 = the one before, ...), or 0 when it matches none checked. */
    int reused_position;
    /* Times of the user's recent password changes (any order); only those within 24 h of `now`
     * count. NULL when n_changes is 0. */
    const time_t *changes;
    size_t n_changes;
    /* Non-zero when the change is forced on the user (first sign-in, admin reset, expiry): the
     * changes-per-day cap does not stop a forced change, and a forced change may not keep the
     * current password (reused_position 1) even when the history check is off. */
    int forced;
};

/* Every rule the candidate breaks, as a mask of enum password_rule. facts may be NULL for a
 * check of the characters alone (e.g. a generated temporary password). */
unsigned password_check(const struct policy *p, const char *candidate,
                        const struct password_facts *facts, time_t now);

/* Writes the user-facing sentence for one rule bit into buf (e.g. "Use at least 8 characters.").
 * Returns buf. */
const char *password_rule_text(const struct policy *p, enum password_rule rule, char *buf,
                               size_t len);

/* Human sentences for every bit in mask, in a stable order: fills out[0..max) with pointers
 * into storage (max * PASSWORD_RULE_TEXT_MAX bytes) and returns how many were written. */
#define PASSWORD_RULE_TEXT_MAX 160
size_t password_explain(const struct policy *p, unsigned mask, const char **out, size_t max,
                        char *storage);

/* The rules in force, as sentences for the change-password page ("At least 8 characters", ...).
 * Same calling convention as password_explain. */
size_t password_requirements(const struct policy *p, const char **out, size_t max, char *storage);

/* Length in characters (UTF-8 code points) of s, or -1 when s is not valid UTF-8. */
long password_utf8_length(const char *s);

#endif
