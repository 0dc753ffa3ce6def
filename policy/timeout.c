/* policy/timeout.c: session idle and absolute timeouts. Pure: auth/ supplies `now`. */
#include "timeout.h"

#define SECONDS_PER_MINUTE 60

long
timeout_idle_seconds(const struct policy *p, enum session_kind k)
{
    long web, client;

    if (p == NULL)
        return 0;
    web = (long)p->web_idle_minutes * SECONDS_PER_MINUTE;
    client = (long)p->client_idle_minutes * SECONDS_PER_MINUTE;
    switch (k) {
    case SESSION_WEB:
        return web;
    case SESSION_CLIENT:
        return client;
    }
    /* A kind this code does not know gets the stricter limit rather than the looser one. */
    return web < client ? web : client;
}

long
timeout_touch_seconds(const struct policy *p, enum session_kind k)
{
    long t = timeout_idle_seconds(p, k) / 60;
    if (t < TIMEOUT_TOUCH_MIN_SECONDS)
        return TIMEOUT_TOUCH_MIN_SECONDS;
    return t > TIMEOUT_TOUCH_MAX_SECONDS ? TIMEOUT_TOUCH_MAX_SECONDS : t;
}

enum timeout_verdict
timeout_check(const struct policy *p, enum session_kind k, time_t created, time_t last_seen,
              long absolute_seconds, time_t now)
{
    /* The absolute lifetime is reported first: it ends the session however active it is. */
    if (absolute_seconds > 0 && now - created >= absolute_seconds)
        return TIMEOUT_ABSOLUTE;
    if (now - last_seen >= timeout_idle_seconds(p, k))
        return TIMEOUT_IDLE;
    return TIMEOUT_NONE;
}
