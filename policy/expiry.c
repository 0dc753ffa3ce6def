/* policy/expiry.c: when a password must be changed. Pure: auth/ supplies `now`. */
#include "expiry.h"

#define SECONDS_PER_DAY 86400

time_t
expiry_due(const struct policy *p, time_t changed_at)
{
    if (p == NULL || p->expire_days <= 0)
        return 0;
    return changed_at + (time_t)p->expire_days * SECONDS_PER_DAY;
}

int
expiry_is_expired(const struct policy *p, time_t changed_at, time_t now)
{
    time_t due = expiry_due(p, changed_at);

    return due != 0 && now >= due;
}

enum pw_change_reason
expiry_change_required(const struct policy *p, enum pw_must_change must, time_t changed_at,
                       time_t now)
{
    /* An admin reset hands out a password someone else has seen: it is always replaced. */
    if (must == PW_MUST_RESET)
        return PW_CHANGE_ADMIN_RESET;
    if (must == PW_MUST_FORCED)
        return PW_CHANGE_ADMIN_FORCED;
    if (must == PW_MUST_FIRST && p != NULL && p->force_change_first_login)
        return PW_CHANGE_FIRST_LOGIN;
    if (expiry_is_expired(p, changed_at, now))
        return PW_CHANGE_EXPIRED;
    return PW_CHANGE_NONE;
}

const char *
expiry_reason_text(enum pw_change_reason r)
{
    switch (r) {
    case PW_CHANGE_FIRST_LOGIN:
        return "This is your first sign-in: choose a new password.";
    case PW_CHANGE_ADMIN_RESET:
        return "An administrator reset your password: choose a new one.";
    case PW_CHANGE_EXPIRED:
        return "Your password has expired: choose a new one.";
    case PW_CHANGE_ADMIN_FORCED:
        return "An administrator asked you to choose a new password.";
    case PW_CHANGE_NONE:
        break;
    }
    return "";
}
