/* auth/tmpl.h: HTML templates from templates/, loaded once at start-up. Values are HTML-escaped
 * by default; raw output only through the explicit {{raw name}} helper.
 *   {{name}}              escaped value (looked up in the context, then its parents)
 *   {{raw name}}          unescaped: only for HTML this program built itself
 *   {{#name}}..{{/name}}  a list: once per item; a value: once when non-empty and not "0"
 *   {{^name}}..{{/name}}  when the list is empty or the value empty / "0"
 *   {{>name}}             the partial templates/_name.html
 *   {{! comment }}
 * A page is rendered into layout.html as {{raw content}}. */
#ifndef GH_AUTH_TMPL_H
#define GH_AUTH_TMPL_H

#include <stddef.h>

struct arena;
struct tmpl_set;
struct tmpl_ctx;

/* Loads every *.html in dir. NULL with a message in err on failure (unreadable file, or a
 * template whose tags do not balance). */
struct tmpl_set *tmpl_load(const char *dir, char *err, size_t errlen);
void tmpl_free(struct tmpl_set *t);
/* Whether a template called name (file name without .html) exists. */
int tmpl_has(const struct tmpl_set *t, const char *name);

/* A context in the arena; lookups fall back to parent. */
struct tmpl_ctx *tmpl_ctx_new(struct arena *a, struct tmpl_ctx *parent);
/* Sets name to a copy of value (NULL is stored as ""). */
void tmpl_set(struct tmpl_ctx *c, const char *name, const char *value);
void tmpl_setf(struct tmpl_ctx *c, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends an item to the list called name and returns its context (child of c). */
struct tmpl_ctx *tmpl_add(struct tmpl_ctx *c, const char *name);

/* Renders template name with c; the result is in the arena. NULL on error (logged). */
char *tmpl_render(const struct tmpl_set *t, const char *name, struct tmpl_ctx *c);

#endif
