#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define ARENA_BLOCK 8192

struct block {
    struct block *next;
    size_t size;
    size_t used;
    max_align_t data[];
};

struct deferred {
    struct deferred *next;
    void (*fn)(void *);
    void *arg;
};

struct arena {
    struct block *head;
    struct deferred *deferred;
};

struct arena *
arena_new(void)
{
    return calloc(1, sizeof(struct arena));
}

void
arena_free(struct arena *a)
{
    if (a == NULL)
        return;
    for (struct deferred *d = a->deferred; d != NULL; d = d->next)
        d->fn(d->arg);
    struct block *b = a->head;
    while (b != NULL) {
        struct block *next = b->next;
        OPENSSL_cleanse(b->data, b->used);
        free(b);
        b = next;
    }
    free(a);
}

void *
arena_alloc(struct arena *a, size_t size)
{
    size_t align = sizeof(max_align_t);
    size = (size + align - 1) / align * align;
    if (size == 0)
        size = align;
    struct block *b = a->head;
    if (b == NULL || b->size - b->used < size) {
        size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        if (cap > SIZE_MAX - sizeof(struct block))
            return NULL;
        b = malloc(sizeof(struct block) + cap);
        if (b == NULL)
            return NULL;
        b->size = cap;
        b->used = 0;
        /* A large block goes behind the head so the head's free space stays usable. */
        if (a->head != NULL && size > ARENA_BLOCK) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    memset(p, 0, size);
    return p;
}

int
arena_defer(struct arena *a, void (*fn)(void *), void *arg)
{
    struct deferred *d = arena_alloc(a, sizeof *d);
    if (d == NULL)
        return -1;
    d->fn = fn;
    d->arg = arg;
    d->next = a->deferred;
    a->deferred = d;
    return 0;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
    if (s == NULL)
        return NULL;
    char *p = arena_alloc(a, n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
    return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}

char *
arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *p = arena_alloc(a, (size_t)n + 1);
    if (p == NULL)
        return NULL;
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}
