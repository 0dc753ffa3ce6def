/* policy/expiry.h: when a password must be changed. No I/O, no clock. */
#ifndef GH_POLICY_EXPIRY_H
#define GH_POLICY_EXPIRY_H

#include <time.h>

#include "settings.h"

/* Why the account holder must choose a new password before getting a full session. */
enum pw_change_reason {
    PW_CHANGE_NONE = 0,
    PW_CHANGE_FIRST_LOGIN,  /* temporary password from `user add`, when force_change_first_login */
    PW_CHANGE_ADMIN_RESET,  /* temporary password from an admin reset: always */
    PW_CHANGE_EXPIRED,      /* expire_days have passed since the last change */
    PW_CHANGE_ADMIN_FORCED, /* an admin asked for a new password (the current one still works) */
};

/* What the stored account says (users.must_change). */
enum pw_must_change {
    PW_MUST_NONE = 0,
    PW_MUST_FIRST = 1,  /* password set by an admin at creation */
    PW_MUST_RESET = 2,  /* password reset by an admin */
    PW_MUST_FORCED = 3, /* an admin asked for a change at the next sign-in */
};

/* Time the password expires, or 0 when expire_days is 0 (never). */
time_t expiry_due(const struct policy *p, time_t changed_at);

/* Whether the password changed at changed_at has expired at now (now >= due). */
int expiry_is_expired(const struct policy *p, time_t changed_at, time_t now);

/* The reason a change is required at sign-in, or PW_CHANGE_NONE. An admin reset wins over first
 * sign-in, which wins over expiry. */
enum pw_change_reason expiry_change_required(const struct policy *p, enum pw_must_change must,
                                             time_t changed_at, time_t now);

/* A sentence for the change-password page ("Your password has expired."). */
const char *expiry_reason_text(enum pw_change_reason r);

#endif
