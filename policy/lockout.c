/* policy/lockout.c: sign-in lockout after consecutive failures. Pure: auth/ loads and stores the
 * state and supplies `now`. */
#include "lockout.h"

#include <limits.h>
#include <string.h>

#define SECONDS_PER_MINUTE 60

/* A lock that has run out is history: the next attempt starts a fresh count. */
static int
lock_expired(const struct lockout_state *s, time_t now)
{
    return s->locked_until != 0 && now >= s->locked_until;
}

enum lockout_verdict
lockout_check(const struct lockout_state *s, time_t now)
{
    if (s == NULL)
        return LOCKOUT_OPEN;
    return now < s->locked_until ? LOCKOUT_LOCKED : LOCKOUT_OPEN;
}

enum lockout_verdict
lockout_on_failure(const struct policy *p, struct lockout_state *s, time_t now)
{
    if (p == NULL || s == NULL)
        return LOCKOUT_OPEN;
    if (lock_expired(s, now))
        lockout_reset(s);
    /* Callers should not try a password while locked; if one does, the attempt neither extends
     * the lock nor counts towards the next one. */
    if (lockout_check(s, now) == LOCKOUT_LOCKED)
        return LOCKOUT_LOCKED;
    if (s->failures == 0)
        s->first_failure = now;
    if (s->failures < INT_MAX)
        s->failures++;
    if (s->failures >= p->lockout_max_failures)
        s->locked_until = now + (time_t)p->lockout_minutes * SECONDS_PER_MINUTE;
    return lockout_check(s, now);
}

void
lockout_reset(struct lockout_state *s)
{
    if (s == NULL)
        return;
    memset(s, 0, sizeof(*s));
}

int
lockout_remaining(const struct policy *p, const struct lockout_state *s, time_t now)
{
    int left;

    if (p == NULL)
        return 0;
    if (s == NULL || lock_expired(s, now))
        return p->lockout_max_failures;
    if (lockout_check(s, now) == LOCKOUT_LOCKED)
        return 0;
    left = p->lockout_max_failures - s->failures;
    return left > 0 ? left : 0;
}
