/* auth/clock.h: the only place that reads the wall clock, so faketime moves every rule. */
#ifndef GH_AUTH_CLOCK_H
#define GH_AUTH_CLOCK_H

#include <time.h>

/* Seconds since the epoch. */
time_t clock_now(void);

/* Formats t as "2026-11-23 14:05 UTC" into buf (at least 32 bytes); returns buf. */
const char *clock_format(time_t t, char *buf, size_t len);

/* Formats t as RFC 3339 "2026-11-23T14:05:09Z" into buf (at least 32 bytes); returns buf. */
const char *clock_iso(time_t t, char *buf, size_t len);

/* Parses "YYYY-MM-DDTHH:MM:SS[Z]" or "YYYY-MM-DD" (UTC); -1 when it is neither. */
int clock_parse_iso(const char *s, time_t *out);

#endif
