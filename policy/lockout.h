/* policy/lockout.h: sign-in lockout after consecutive failures. No I/O, no clock, no malloc.
 * auth/ loads the state for an email address (whether or not an account exists), calls these
 * with `now`, and stores the state back inside one write transaction. */
#ifndef GH_POLICY_LOCKOUT_H
#define GH_POLICY_LOCKOUT_H

#include <time.h>

#include "settings.h"

struct lockout_state {
    int failures;         /* consecutive failures since the last success or expired lock */
    time_t first_failure; /* time of the first of them, 0 when none */
    time_t locked_until;  /* sign-in refused while now < locked_until; 0 when never locked */
};

enum lockout_verdict {
    LOCKOUT_OPEN,   /* sign-in may be attempted */
    LOCKOUT_LOCKED, /* sign-in refused until locked_until */
};

/* Whether s is locked at `now` (now < locked_until). */
enum lockout_verdict lockout_check(const struct lockout_state *s, time_t now);

/* Records one failed attempt. A lock that has expired is forgotten first (the count starts
 * again). The max_failures-th consecutive failure locks for lockout_minutes. Returns the
 * state's verdict after the failure. */
enum lockout_verdict lockout_on_failure(const struct policy *p, struct lockout_state *s,
                                        time_t now);

/* A successful sign-in (or an admin unlock) clears the state. */
void lockout_reset(struct lockout_state *s);

/* Attempts left before the lock, at `now` (max_failures when the state is clear or expired). */
int lockout_remaining(const struct policy *p, const struct lockout_state *s, time_t now);

#endif
