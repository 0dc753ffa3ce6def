#include "tmpl.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "log.h"

#define TMPL_MAX 64
#define TMPL_MAX_BYTES (256 * 1024)
#define TMPL_OUT_MAX (4 * 1024 * 1024)
#define TMPL_MAX_DEPTH 12

struct tmpl_file {
    char name[64];
    char *text;
};

struct tmpl_set {
    struct tmpl_file files[TMPL_MAX];
    size_t n;
};

struct tmpl_var {
    struct tmpl_var *next;
    const char *name;
    const char *value;       /* a value, or NULL for a list */
    struct tmpl_ctx **items; /* a list */
    size_t n_items, cap_items;
};

struct tmpl_ctx {
    struct arena *arena;
    struct tmpl_ctx *parent;
    struct tmpl_var *vars;
};

static const char *
find_text(const struct tmpl_set *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->files[i].name, name) == 0)
            return t->files[i].text;
    return NULL;
}

int
tmpl_has(const struct tmpl_set *t, const char *name)
{
    return find_text(t, name) != NULL;
}

/* Checks that sections open and close in order; -1 with a message otherwise. */
static int
check_balance(const char *text, char *err, size_t errlen)
{
    const char *stack[TMPL_MAX_DEPTH];
    size_t lens[TMPL_MAX_DEPTH];
    int depth = 0;
    for (const char *p = strstr(text, "{{"); p; p = strstr(p, "{{")) {
        const char *end = strstr(p, "}}");
        if (end == NULL) {
            snprintf(err, errlen, "unterminated {{ tag");
            return -1;
        }
        const char *name = p + 3;
        size_t len = (size_t)(end - name);
        if (p[2] == '#' || p[2] == '^') {
            if (depth == TMPL_MAX_DEPTH) {
                snprintf(err, errlen, "sections nested too deep");
                return -1;
            }
            stack[depth] = name;
            lens[depth++] = len;
        } else if (p[2] == '/') {
            if (depth == 0 || lens[depth - 1] != len || memcmp(stack[depth - 1], name, len)) {
                snprintf(err, errlen, "{{/%.*s}} closes nothing open", (int)len, name);
                return -1;
            }
            depth--;
        }
        p = end + 2;
    }
    if (depth != 0) {
        snprintf(err, errlen, "{{#%.*s}} is never closed", (int)lens[depth - 1], stack[depth - 1]);
        return -1;
    }
    return 0;
}

static char *
read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(TMPL_MAX_BYTES + 1);
    size_t n = text ? fread(text, 1, TMPL_MAX_BYTES + 1, f) : 0;
    int bad = ferror(f) || n > TMPL_MAX_BYTES;
    fclose(f);
    if (text == NULL || bad) {
        snprintf(err, errlen, "%s: unreadable or larger than %d bytes", path, TMPL_MAX_BYTES);
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

struct tmpl_set *
tmpl_load(const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "%s: cannot open the templates folder: %s", dir, strerror(errno));
        return NULL;
    }
    struct tmpl_set *t = calloc(1, sizeof *t);
    struct dirent *e;
    while (t != NULL && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".html") != 0 || e->d_name[0] == '.')
            continue;
        if (t->n == TMPL_MAX || n - 5 >= sizeof t->files[0].name) {
            snprintf(err, errlen, "%s: too many templates or a name too long", dir);
            goto fail;
        }
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *text = read_file(path, err, errlen);
        if (text == NULL)
            goto fail;
        char why[256];
        if (check_balance(text, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s: %s", path, why);
            free(text);
            goto fail;
        }
        struct tmpl_file *f = &t->files[t->n++];
        memcpy(f->name, e->d_name, n - 5);
        f->name[n - 5] = '\0';
        f->text = text;
    }
    closedir(d);
    if (t == NULL)
        snprintf(err, errlen, "out of memory");
    return t;
fail:
    closedir(d);
    tmpl_free(t);
    return NULL;
}

void
tmpl_free(struct tmpl_set *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->files[i].text);
    free(t);
}

struct tmpl_ctx *
tmpl_ctx_new(struct arena *a, struct tmpl_ctx *parent)
{
    struct tmpl_ctx *c = arena_alloc(a, sizeof *c);
    if (c != NULL) {
        c->arena = a;
        c->parent = parent;
    }
    return c;
}

static struct tmpl_var *
own_var(struct tmpl_ctx *c, const char *name)
{
    for (struct tmpl_var *v = c->vars; v; v = v->next)
        if (strcmp(v->name, name) == 0)
            return v;
    struct tmpl_var *v = arena_alloc(c->arena, sizeof *v);
    if (v == NULL)
        return NULL;
    v->name = arena_strdup(c->arena, name);
    v->next = c->vars;
    c->vars = v;
    return v;
}

void
tmpl_set(struct tmpl_ctx *c, const char *name, const char *value)
{
    if (c == NULL)
        return;
    struct tmpl_var *v = own_var(c, name);
    if (v != NULL)
        v->value = arena_strdup(c->arena, value ? value : "");
}

void
tmpl_setf(struct tmpl_ctx *c, const char *name, const char *fmt, ...)
{
    if (c == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = arena_vprintf(c->arena, fmt, ap);
    va_end(ap);
    struct tmpl_var *v = own_var(c, name);
    if (v != NULL)
        v->value = s ? s : "";
}

struct tmpl_ctx *
tmpl_add(struct tmpl_ctx *c, const char *name)
{
    if (c == NULL)
        return NULL;
    struct tmpl_var *v = own_var(c, name);
    if (v == NULL)
        return NULL;
    v->value = NULL;
    if (v->n_items == v->cap_items) {
        size_t cap = v->cap_items ? v->cap_items * 2 : 8;
        struct tmpl_ctx **items = arena_alloc(c->arena, cap * sizeof *items);
        if (items == NULL)
            return NULL;
        if (v->n_items)
            memcpy(items, v->items, v->n_items * sizeof *items);
        v->items = items;
        v->cap_items = cap;
    }
    struct tmpl_ctx *item = tmpl_ctx_new(c->arena, c);
    if (item != NULL)
        v->items[v->n_items++] = item;
    return item;
}

static const struct tmpl_var *
lookup(const struct tmpl_ctx *c, const char *name, size_t len)
{
    for (; c; c = c->parent)
        for (const struct tmpl_var *v = c->vars; v; v = v->next)
            if (strlen(v->name) == len && memcmp(v->name, name, len) == 0)
                return v;
    return NULL;
}

static int
truthy(const struct tmpl_var *v)
{
    if (v == NULL)
        return 0;
    if (v->value == NULL)
        return v->n_items > 0;
    return v->value[0] != '\0' && strcmp(v->value, "0") != 0;
}

/* The matching {{/name}} for a section whose body starts at p; NULL when absent. */
static const char *
section_end(const char *p, const char *name, size_t len, const char **after)
{
    int depth = 1;
    for (const char *q = strstr(p, "{{"); q; q = strstr(q + 2, "{{")) {
        const char *e = strstr(q, "}}");
        if (e == NULL)
            return NULL;
        if ((q[2] == '#' || q[2] == '^' || q[2] == '/') && (size_t)(e - q - 3) == len &&
            memcmp(q + 3, name, len) == 0) {
            depth += q[2] == '/' ? -1 : 1;
            if (depth == 0) {
                *after = e + 2;
                return q;
            }
        }
    }
    return NULL;
}

static int render(const struct tmpl_set *t, const char *text, size_t n, const struct tmpl_ctx *c,
                  struct buf *out, int depth);

static int
render_tag(const struct tmpl_set *t, const char **pp, const char *end, const struct tmpl_ctx *c,
           struct buf *out, int depth)
{
    const char *p = *pp;
    const char *close = strstr(p, "}}");
    if (close == NULL || close > end)
        return -1;
    const char *name = p + 2;
    size_t len = (size_t)(close - name);
    *pp = close + 2;
    switch (name[0]) {
    case '!':
        return 0;
    case '>': {
        char part[80];
        snprintf(part, sizeof part, "_%.*s", (int)(len - 1), name + 1);
        const char *text = find_text(t, part);
        if (text == NULL) {
            log_error("template partial %s is missing", part);
            return -1;
        }
        return render(t, text, strlen(text), c, out, depth + 1);
    }
    case '#':
    case '^': {
        const char *after = NULL;
        const char *body_end = section_end(*pp, name + 1, len - 1, &after);
        if (body_end == NULL || body_end > end)
            return -1;
        const struct tmpl_var *v = lookup(c, name + 1, len - 1);
        size_t blen = (size_t)(body_end - *pp);
        int rc = 0;
        if (name[0] == '^') {
            if (!truthy(v))
                rc = render(t, *pp, blen, c, out, depth + 1);
        } else if (v != NULL && v->value == NULL) {
            for (size_t i = 0; i < v->n_items && rc == 0; i++)
                rc = render(t, *pp, blen, v->items[i], out, depth + 1);
        } else if (truthy(v)) {
            rc = render(t, *pp, blen, c, out, depth + 1);
        }
        *pp = after;
        return rc;
    }
    default:
        break;
    }
    int raw = len > 4 && memcmp(name, "raw ", 4) == 0;
    if (raw) {
        name += 4;
        len -= 4;
    }
    const struct tmpl_var *v = lookup(c, name, len);
    if (v == NULL || v->value == NULL)
        return 0;
    return raw ? buf_puts(out, v->value) : buf_html(out, v->value);
}

static int
render(const struct tmpl_set *t, const char *text, size_t n, const struct tmpl_ctx *c,
       struct buf *out, int depth)
{
    if (depth > TMPL_MAX_DEPTH)
        return -1;
    const char *p = text, *end = text + n;
    while (p < end) {
        const char *tag = strstr(p, "{{");
        if (tag == NULL || tag >= end) {
            return buf_append(out, p, (size_t)(end - p));
        }
        if (buf_append(out, p, (size_t)(tag - p)) != 0)
            return -1;
        p = tag;
        if (render_tag(t, &p, end, c, out, depth) != 0)
            return -1;
    }
    return 0;
}

char *
tmpl_render(const struct tmpl_set *t, const char *name, struct tmpl_ctx *c)
{
    const char *text = find_text(t, name);
    if (text == NULL) {
        log_error("template %s is missing", name);
        return NULL;
    }
    struct buf out;
    buf_init(&out, TMPL_OUT_MAX);
    char *result = NULL;
    if (render(t, text, strlen(text), c, &out, 0) == 0)
        result = arena_strndup(c->arena, out.data ? out.data : "", out.len);
    else
        log_error("template %s failed to render", name);
    buf_free(&out);
    return result;
}
