/* tests/fuzz/common.c: helpers shared by the fuzz targets (see fuzz.h). */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        fuzz_fail("out of memory");
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

const char *
fuzz_fixture(const char *name)
{
    static char path[4096];
    const char *top = getenv("GATEHOUSE_TOP");
    snprintf(path, sizeof path, "%s/tests/fuzz/fixtures/%s", top && *top ? top : ".", name);
    return path;
}

char *
fuzz_read_fixture(const char *name, size_t *len_out)
{
    const char *path = fuzz_fixture(name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fuzz_fail("cannot read fixture %s (run from the top of the tree or set GATEHOUSE_TOP)",
                  path);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *grown = realloc(buf, (cap *= 2) + 1);
            if (grown == NULL)
                free(buf);
            buf = grown;
        }
    }
    fclose(f);
    if (buf == NULL)
        fuzz_fail("out of memory reading %s", path);
    buf[n] = '\0';
    if (len_out != NULL)
        *len_out = n;
    return buf;
}

void
fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}
