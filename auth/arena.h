/* auth/arena.h: a per-request arena. Everything allocated from it is freed at once by
 * arena_free (libmicrohttpd's request_completed). Allocation failure returns NULL. */
#ifndef GH_AUTH_ARENA_H
#define GH_AUTH_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

/* A new, empty arena, or NULL when out of memory. */
struct arena *arena_new(void);

/* Frees every block (wiping them first, as they may hold secrets). arena_free(NULL) is a no-op. */
void arena_free(struct arena *a);

/* size bytes, zeroed, aligned for any type; NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t size);

/* Calls fn(arg) when the arena is freed, the latest first (e.g. to release a reference the
 * request holds). 0, or -1 when out of memory (fn is then not called). */
int arena_defer(struct arena *a, void (*fn)(void *), void *arg);

/* Copies of s / of its first n bytes (NUL-terminated); NULL when s is NULL or out of memory. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
