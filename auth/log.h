/* auth/log.h: one key=value line per event on stderr, prefixed with time, level and function.
 * The level is set once at start-up. Logging keeps errno. Never log secrets. */
#ifndef GH_AUTH_LOG_H
#define GH_AUTH_LOG_H

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Sets the most verbose level written (default LOG_LEVEL_INFO). */
void log_set_level(enum log_level l);
/* Whether messages of level l are written (to skip preparing a line that would not be). */
int log_enabled(enum log_level l);

/* [server] log_format: LOG_TEXT writes "TIME LEVEL func: key=value ..."; LOG_JSON one JSON
 * object per line: {"time", "level", "func", "msg" (the whole text), and each key=value of the
 * message as a string field}, for log shippers that index fields. */
enum log_format { LOG_TEXT = 0, LOG_JSON };
void log_set_format(enum log_format f);

/* Parses "error", "warn", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *s);

void log_write(enum log_level l, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(...) log_write(LOG_LEVEL_ERROR, __func__, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, __func__, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__)

#endif
