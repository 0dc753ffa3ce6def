/* policy/password.c: password rules. Pure: the caller supplies the policy, the candidate, the facts
 * it gathered from the store and the time. */
#include "password.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SECONDS_PER_DAY 86400

/* Stands for a byte that is not part of valid UTF-8: above U+10FFFF, so it equals no real code
 * point, and each bad byte still counts as one character for the length rules. */
#define BAD_BYTE_BASE 0x110000u

/* What one pass over the candidate learns; every rule is decided from this. */
struct pw_scan {
    long chars;      /* code points (a bad byte counts as one) */
    int invalid;     /* bad UTF-8 or a control character */
    int letter;      /* ASCII letter, or any non-ASCII code point */
    int upper;       /* ASCII upper case */
    int lower;       /* ASCII lower case */
    int digit;       /* ASCII digit */
    int special;     /* ASCII punctuation or space */
    int same;        /* every code point equals the first */
    int longest_run; /* longest run of ASCII characters stepping by +1 or by -1 */
};

/* Decodes one UTF-8 sequence (RFC 3629 section 4) at s into *cp. Returns its length in bytes, or
 * 0 when it is not the shortest encoding of a scalar value (overlong, surrogate, > U+10FFFF,
 * truncated). Never reads past a NUL, since NUL is not a continuation byte. */
static size_t
utf8_decode(const unsigned char *s, uint32_t *cp)
{
    unsigned char b = s[0];
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;
    uint32_t v;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xc2 && b <= 0xdf) {
        n = 2;
        v = b & 0x1fu;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        v = b & 0x0fu;
        if (b == 0xe0)
            lo = 0xa0; /* overlong below U+0800 */
        else if (b == 0xed)
            hi = 0x9f; /* U+D800..U+DFFF are surrogates, not characters */
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        v = b & 0x07u;
        if (b == 0xf0)
            lo = 0x90; /* overlong below U+10000 */
        else if (b == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0; /* stray continuation byte, C0/C1 overlong lead, or F5..FF */
    }
    for (size_t i = 1; i < n; i++) {
        unsigned char c = s[i];
        if (c < lo || c > hi)
            return 0;
        lo = 0x80;
        hi = 0xbf;
        v = (v << 6) | (c & 0x3fu);
    }
    *cp = v;
    return n;
}

/* C0 controls, DEL, and the C1 controls U+0080..U+009F: none can be typed on purpose, and they
 * break forms and logs. */
static int
is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Letters compare case-insensitively in sequences, so "aBcDeF" is a run like "abcdef". */
static uint32_t
fold(uint32_t cp)
{
    return (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
}

static void
classify(uint32_t cp, struct pw_scan *sc)
{
    if (cp >= 'A' && cp <= 'Z') {
        sc->letter = sc->upper = 1;
    } else if (cp >= 'a' && cp <= 'z') {
        sc->letter = sc->lower = 1;
    } else if (cp >= '0' && cp <= '9') {
        sc->digit = 1;
    } else if (cp >= 0x20 && cp < 0x7f) {
        sc->special = 1;
    } else if (cp >= 0x80 && cp < BAD_BYTE_BASE) {
        /* Telling letters from symbols outside ASCII needs Unicode tables or a locale, which a
         * libc-only module run under the C locale lacks. Counting every non-ASCII character as
         * a letter errs towards accepting passphrases in other scripts ("пароль" has letters).
         * Such characters count as neither case, nor as special. */
        sc->letter = 1;
    }
}

/* Walks s once, best-effort past bad bytes, so every rule can still be reported. */
static void
scan(const char *s, struct pw_scan *sc)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t first = 0, prev = 0, cp = 0;
    int run = 0, dir = 0;

    memset(sc, 0, sizeof(*sc));
    sc->same = 1;
    while (*u != '\0') {
        size_t n = utf8_decode(u, &cp);
        if (n == 0) {
            cp = BAD_BYTE_BASE + *u;
            n = 1;
            sc->invalid = 1;
        } else if (is_control(cp)) {
            sc->invalid = 1;
        }
        u += n;
        classify(cp, sc);
        if (sc->chars == 0)
            first = cp;
        else if (cp != first)
            sc->same = 0;

        /* Sequences are judged on ASCII code points only. */
        int step = 0;
        if (sc->chars > 0 && cp < 0x80 && prev < 0x80) {
            uint32_t a = fold(prev), b = fold(cp);
            step = (b == a + 1) ? 1 : (a == b + 1) ? -1 : 0;
        }
        if (step != 0 && step == dir) {
            run++;
        } else if (step != 0) {
            run = 2;
            dir = step;
        } else {
            run = 1;
            dir = 0;
        }
        if (run > sc->longest_run)
            sc->longest_run = run;
        prev = cp;
        sc->chars++;
    }
}

/* Changes at or before now and less than 24 hours old: a change exactly 86400 s ago has left the
 * rolling window. */
static size_t
recent_changes(const struct password_facts *f, time_t now)
{
    size_t count = 0;

    if (f->changes == NULL)
        return 0;
    for (size_t i = 0; i < f->n_changes; i++) {
        time_t t = f->changes[i];
        if (t <= now && t > now - SECONDS_PER_DAY)
            count++;
    }
    return count;
}

unsigned
password_check(const struct policy *p, const char *candidate, const struct password_facts *facts,
               time_t now)
{
    struct policy defaults;
    struct pw_scan sc;
    unsigned mask = 0;

    if (p == NULL) {
        policy_defaults(&defaults);
        p = &defaults;
    }
    if (candidate == NULL)
        candidate = "";
    scan(candidate, &sc);

    if (sc.chars < p->min_length)
        mask |= PW_TOO_SHORT;
    if (strlen(candidate) > PASSWORD_MAX_BYTES)
        mask |= PW_TOO_LONG;
    if (p->require_letter && !sc.letter)
        mask |= PW_NO_LETTER;
    if (p->require_number && !sc.digit)
        mask |= PW_NO_NUMBER;
    if (p->require_mixed_case && !(sc.upper && sc.lower))
        mask |= PW_NO_MIXED_CASE;
    if (p->require_special && !sc.special)
        mask |= PW_NO_SPECIAL;
    if (p->reject_single_char && sc.chars >= 1 && sc.same)
        mask |= PW_SINGLE_CHAR;
    if (p->max_sequence > 0 && sc.longest_run >= p->max_sequence)
        mask |= PW_SEQUENCE;
    if (sc.invalid)
        mask |= PW_INVALID_CHARS;
    if (facts != NULL) {
        /* A forced change replaces a password that expired or that someone else has seen:
         * keeping the current one is never a change, whatever the history setting. */
        int pos = facts->reused_position;
        if (pos >= 1 && (pos <= p->history || (facts->forced && pos == 1)))
            mask |= PW_REUSED;
        if (!facts->forced && p->changes_per_day > 0 &&
            recent_changes(facts, now) >= (size_t)p->changes_per_day)
            mask |= PW_TOO_MANY_CHANGES;
    }
    return mask;
}

/* The example run for the sequence rule: digits while they last, then letters; none when even the
 * alphabet is too short. */
static void
sequence_text(int n, char *buf, size_t len)
{
    static const char digits[] = "123456789";
    static const char letters[] = "abcdefghijklmnopqrstuvwxyz";

    if (n >= 1 && n <= (int)(sizeof(digits) - 1))
        snprintf(buf, len,
                 "Don't use a run of %d or more consecutive characters, like %.*s or %.*s.", n, n,
                 digits, n, letters);
    else if (n >= 1 && n <= (int)(sizeof(letters) - 1))
        snprintf(buf, len, "Don't use a run of %d or more consecutive characters, like %.*s.", n, n,
                 letters);
    else
        snprintf(buf, len, "Don't use a run of %d or more consecutive characters.", n);
}

const char *
password_rule_text(const struct policy *p, enum password_rule rule, char *buf, size_t len)
{
    struct policy defaults;

    if (buf == NULL || len == 0)
        return "";
    if (p == NULL) {
        policy_defaults(&defaults);
        p = &defaults;
    }
    buf[0] = '\0';
    switch (rule) {
    case PW_TOO_SHORT:
        snprintf(buf, len, "Use at least %d characters.", p->min_length);
        break;
    case PW_TOO_LONG:
        snprintf(buf, len, "Use no more than %d characters.", PASSWORD_MAX_BYTES);
        break;
    case PW_NO_LETTER:
        snprintf(buf, len, "Include at least one letter.");
        break;
    case PW_NO_NUMBER:
        snprintf(buf, len, "Include at least one number.");
        break;
    case PW_NO_MIXED_CASE:
        snprintf(buf, len, "Include both upper-case and lower-case letters.");
        break;
    case PW_NO_SPECIAL:
        snprintf(buf, len, "Include at least one special character, such as ! or #.");
        break;
    case PW_SINGLE_CHAR:
        snprintf(buf, len, "Don't use the same character over and over.");
        break;
    case PW_SEQUENCE:
        sequence_text(p->max_sequence, buf, len);
        break;
    case PW_REUSED:
        if (p->history <= 1)
            snprintf(buf, len, "Choose a password different from your current one.");
        else
            snprintf(buf, len, "Don't reuse any of your last %d passwords.", p->history);
        break;
    case PW_TOO_MANY_CHANGES:
        if (p->changes_per_day == 1)
            snprintf(buf, len,
                     "You have already changed your password once in the last 24 hours; try "
                     "again later.");
        else
            snprintf(buf, len,
                     "You have already changed your password %d times in the last 24 hours; try "
                     "again later.",
                     p->changes_per_day);
        break;
    case PW_INVALID_CHARS:
        snprintf(buf, len, "Use only printable characters.");
        break;
    }
    return buf;
}

size_t
password_explain(const struct policy *p, unsigned mask, const char **out, size_t max, char *storage)
{
    size_t n = 0;

    if (out == NULL || storage == NULL)
        return 0;
    /* Bit order is the stable order: length first, then content, then history and rate. */
    for (unsigned bit = PW_TOO_SHORT; bit <= PW_INVALID_CHARS && n < max; bit <<= 1) {
        if (!(mask & bit))
            continue;
        char *slot = storage + n * PASSWORD_RULE_TEXT_MAX;
        out[n++] = password_rule_text(p, (enum password_rule)bit, slot, PASSWORD_RULE_TEXT_MAX);
    }
    return n;
}

size_t
password_requirements(const struct policy *p, const char **out, size_t max, char *storage)
{
    struct policy defaults;
    unsigned mask = PW_TOO_SHORT | PW_TOO_LONG | PW_INVALID_CHARS;

    if (p == NULL) {
        policy_defaults(&defaults);
        p = &defaults;
    }
    if (p->require_letter)
        mask |= PW_NO_LETTER;
    if (p->require_number)
        mask |= PW_NO_NUMBER;
    if (p->require_mixed_case)
        mask |= PW_NO_MIXED_CASE;
    if (p->require_special)
        mask |= PW_NO_SPECIAL;
    if (p->reject_single_char)
        mask |= PW_SINGLE_CHAR;
    if (p->max_sequence > 0)
        mask |= PW_SEQUENCE;
    if (p->history > 0)
        mask |= PW_REUSED;
    /* The changes-per-day cap is a limit on the user, not on the password: it is shown only
     * when it refuses a change. */
    return password_explain(p, mask, out, max, storage);
}

long
password_utf8_length(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    long n = 0;

    if (s == NULL)
        return -1;
    while (*u != '\0') {
        size_t len = utf8_decode(u, &cp);
        if (len == 0)
            return -1;
        u += len;
        n++;
    }
    return n;
}
