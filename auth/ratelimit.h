/* auth/ratelimit.h: a token bucket per client address in a fixed-size table, so that a flood
 * from many addresses cannot grow memory. An address not in the table has a full bucket; when
 * the table is full the entry that has been idle longest in its set gives way, which can only
 * loosen a limit (its bucket starts full again), never delay another address. Thread-safe. */
#ifndef GH_AUTH_RATELIMIT_H
#define GH_AUTH_RATELIMIT_H

#include <stddef.h>
#include <time.h>

/* Slots in the table (~72 bytes each). */
#define RATELIMIT_SLOTS 4096

struct ratelimit;

/* A limiter of per_minute tokens per address, refilled continuously, burst per_minute. NULL when
 * out of memory. */
struct ratelimit *ratelimit_new(long per_minute);
void ratelimit_free(struct ratelimit *rl);
/* A new rate (a configuration reload): buckets keep their tokens, capped at the new burst when
 * they are next brought up to date. */
void ratelimit_set_rate(struct ratelimit *rl, long per_minute);

/* Takes a token of key's bucket at now: 0 when taken, else the whole seconds (>= 1) until one
 * is there (nothing taken). */
long ratelimit_take(struct ratelimit *rl, const char *key, time_t now);
/* Gives a token back (the request it was taken for turned out not to count). */
void ratelimit_give(struct ratelimit *rl, const char *key, time_t now);

#endif
