/* auth/buf.h: a growable byte buffer capped at birth (curl dynbuf). Appending past the cap fails
 * and marks the buffer as overflowed; the content stays NUL-terminated. */
#ifndef GH_AUTH_BUF_H
#define GH_AUTH_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t cap;
    size_t max;
    int overflow; /* an append went past max, or memory ran out */
};

/* An empty buffer that may grow up to max bytes. */
void buf_init(struct buf *b, size_t max);
/* Frees the content (wiped first). */
void buf_free(struct buf *b);
/* 0 or -1 (overflow). */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with & < > " ' escaped for HTML text and attribute values. */
int buf_html(struct buf *b, const char *s);

#endif
