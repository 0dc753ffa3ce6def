#include "sp_cost.h"

#include <stdio.h>
#include <string.h>

/* The local name of the tag whose name starts at p (after any prefix), and its length. */
static const char *
local_name(const char *p, const char *end, size_t *n)
{
    const char *start = p, *colon = NULL;
    while (p < end && strchr(" \t\r\n/>", *p) == NULL) {
        if (*p == ':')
            colon = p;
        p++;
    }
    const char *local = colon ? colon + 1 : start;
    *n = (size_t)(p - local);
    return local;
}

static int
is(const char *name, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(name, want, n) == 0;
}

/* Skips to just past the end marker at or after p; end when absent. */
static const char *
past(const char *p, const char *end, const char *marker)
{
    size_t m = strlen(marker);
    for (; p + m <= end; p++)
        if (memcmp(p, marker, m) == 0)
            return p + m;
    return end;
}

/* Scans one start tag from p (just after its name) to its '>': quoted values may hold '>'.
 * Returns the position after '>', with *empty set for "/>". */
static const char *
tag_end(const char *p, const char *end, int *empty)
{
    char quote = 0;
    for (; p < end; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '"' || *p == '\'') {
            quote = *p;
        } else if (*p == '>') {
            *empty = p[-1] == '/';
            return p + 1;
        }
    }
    *empty = 1;
    return end;
}

static void
count(struct sp_cost *c, const char *name, size_t n)
{
    c->elements++;
    c->signatures += is(name, n, "Signature");
    c->references += is(name, n, "Reference");
    c->transforms += is(name, n, "Transform");
}

int
sp_cost_check(const char *xml, size_t len, struct sp_cost *out, char *why, size_t whylen)
{
    struct sp_cost c = {0, 0, 0, 0, 0};
    size_t depth = 0;
    const char *p = xml, *end = xml + len;
    while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
        if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
            p = past(p + 4, end, "-->");
        } else if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
            p = past(p + 9, end, "]]>");
        } else if (end - p >= 2 && (p[1] == '?' || p[1] == '!')) {
            p = past(p + 2, end, ">");
        } else if (end - p >= 2 && p[1] == '/') {
            depth -= depth > 0;
            p = past(p + 2, end, ">");
        } else {
            size_t n;
            const char *name = local_name(p + 1, end, &n);
            count(&c, name, n);
            int empty;
            p = tag_end(name + n, end, &empty);
            if (!empty && ++depth > c.depth)
                c.depth = depth;
        }
    }
    if (out != NULL)
        *out = c;
    const struct {
        size_t have, limit;
        const char *what;
    } bounds[] = {
        {c.elements, SP_COST_MAX_ELEMENTS, "elements"},
        {c.depth, SP_COST_MAX_DEPTH, "levels of nesting"},
        {c.signatures, SP_COST_MAX_SIGNATURES, "signatures"},
        {c.references, SP_COST_MAX_REFERENCES, "signed references"},
        {c.transforms, SP_COST_MAX_TRANSFORMS, "transforms"},
    };
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++)
        if (bounds[i].have > bounds[i].limit) {
            snprintf(why, whylen, "the response has %zu %s (at most %zu are accepted)",
                     bounds[i].have, bounds[i].what, bounds[i].limit);
            return -1;
        }
    return 0;
}
