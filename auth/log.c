#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Set at start and again by a configuration reload (SIGHUP) while other threads log. */
static _Atomic enum log_level max_level = LOG_LEVEL_INFO;
static _Atomic enum log_format format = LOG_TEXT;

void
log_set_format(enum log_format f)
{
    format = f;
}

/* Appends s (n bytes) to out as the inside of a JSON string. */
static void
json_str(char **o, const char *end, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *o + 7 < end; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            *(*o)++ = '\\';
            *(*o)++ = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            *o += snprintf(*o, 7, "\\u%04x", c);
        } else {
            *(*o)++ = (char)c;
        }
    }
}

static int
is_key_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* The message's key=value pairs (value bare, or "quoted" without inner quotes, as
 * str_log_escape leaves them) as JSON string fields. */
static void
json_fields(char **o, const char *end, const char *msg)
{
    static const char *const reserved[] = {"time", "level", "func", "msg"};
    for (const char *p = msg; *p;) {
        const char *k = p;
        while (is_key_char(*p))
            p++;
        if (p == k || *p != '=') {
            p += strcspn(p, " ");
            p += strspn(p, " ");
            continue;
        }
        size_t kl = (size_t)(p - k);
        const char *v = ++p, *ve;
        if (*v == '"') {
            v++;
            ve = v + strcspn(v, "\"");
            p = *ve ? ve + 1 : ve;
        } else {
            ve = v + strcspn(v, " ");
            p = ve;
        }
        p += strspn(p, " ");
        int skip = 0;
        for (size_t i = 0; i < 4; i++)
            skip |= strlen(reserved[i]) == kl && memcmp(reserved[i], k, kl) == 0;
        if (skip || *o + kl + 8 >= end)
            continue;
        *(*o)++ = ',';
        *(*o)++ = '"';
        json_str(o, end, k, kl);
        memcpy(*o, "\":\"", 3);
        *o += 3;
        json_str(o, end, v, (size_t)(ve - v));
        *(*o)++ = '"';
    }
}

static void
write_json(const char *when, const char *level, const char *func, const char *msg)
{
    char line[8192];
    char *o = line;
    const char *end = line + sizeof line - 4;
    o += snprintf(line, sizeof line, "{\"time\":\"%s\",\"level\":\"%s\",\"func\":\"", when, level);
    json_str(&o, end, func, strlen(func));
    memcpy(o, "\",\"msg\":\"", 9);
    o += 9;
    json_str(&o, end, msg, strlen(msg));
    *o++ = '"';
    json_fields(&o, end, msg);
    *o++ = '}';
    *o = '\0';
    fprintf(stderr, "%s\n", line);
}

void
log_set_level(enum log_level l)
{
    max_level = l;
}

int
log_enabled(enum log_level l)
{
    return l <= max_level;
}

int
log_level_parse(const char *s)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void
log_write(enum log_level l, const char *func, const char *fmt, ...)
{
    static const char *tags[] = {"error", "warn", "info", "debug"};
    int saved = errno;
    if (l > max_level) {
        errno = saved;
        return;
    }
    char line[2048], when[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int n = format == LOG_JSON ? 0 : snprintf(line, sizeof line, "%s %s %s: ", when, tags[l], func);
    if (n < 0 || (size_t)n >= sizeof line)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (format == LOG_JSON) {
        write_json(when, tags[l], func, line);
        errno = saved;
        return;
    }
    /* One write per line so lines from several threads do not interleave. */
    fprintf(stderr, "%s\n", line);
    errno = saved;
}
