/* policy/timeout.h: session idle and absolute timeouts. No I/O, no clock. */
#ifndef GH_POLICY_TIMEOUT_H
#define GH_POLICY_TIMEOUT_H

#include <time.h>

#include "settings.h"

enum session_kind {
    SESSION_WEB = 0,    /* browser session, cookie; session.web_idle_minutes */
    SESSION_CLIENT = 1, /* POST /api/login, Bearer token; session.client_idle_minutes */
};

enum timeout_verdict {
    TIMEOUT_NONE = 0,
    TIMEOUT_IDLE,     /* no request for the idle limit */
    TIMEOUT_ABSOLUTE, /* older than the absolute lifetime */
};

/* Idle limit in seconds for sessions of kind k. */
long timeout_idle_seconds(const struct policy *p, enum session_kind k);

/* How stale a session's stored last use may get before a request writes it again: 1/60 of
 * the idle limit, at least 10 s and at most 60 s (5 min -> 10 s, 20 min -> 20 s, 2 h -> 60 s).
 * Requests in between write nothing, so a session idles out between touch - 1 seconds early
 * and on time (never late): within 1/60 of its limit, or 10 s for limits under 10 minutes. */
#define TIMEOUT_TOUCH_MIN_SECONDS 10
#define TIMEOUT_TOUCH_MAX_SECONDS 60
long timeout_touch_seconds(const struct policy *p, enum session_kind k);

/* Whether a session created at `created`, last used at `last_seen`, has ended at `now`.
 * Idle: now - last_seen >= idle limit. Absolute: now - created >= absolute_seconds
 * (absolute_seconds 0 = no absolute limit). */
enum timeout_verdict timeout_check(const struct policy *p, enum session_kind k, time_t created,
                                   time_t last_seen, long absolute_seconds, time_t now);

#endif
