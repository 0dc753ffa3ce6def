#include "clock.h"

#include <stdio.h>
#include <string.h>

time_t
clock_now(void)
{
    return time(NULL);
}

const char *
clock_format(time_t t, char *buf, size_t len)
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(buf, len, "%lld", (long long)t);
    return buf;
}

const char *
clock_iso(time_t t, char *buf, size_t len)
{
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "%lld", (long long)t);
    return buf;
}

int
clock_parse_iso(const char *s, time_t *out)
{
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (end == NULL) {
        memset(&tm, 0, sizeof tm);
        end = s ? strptime(s, "%Y-%m-%d", &tm) : NULL;
    }
    if (end == NULL || (*end != '\0' && strcmp(end, "Z") != 0))
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = t;
    return 0;
}
