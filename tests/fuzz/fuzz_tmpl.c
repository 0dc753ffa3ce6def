/* tests/fuzz/fuzz_tmpl.c: the template engine (auth/tmpl.c): loading (the balance check) and
 * rendering. The input is "PAGE\0PARTIAL\0VALUE": the page and the partial _p.html are written to
 * a private folder and loaded; the page is rendered with values (VALUE, "1", "0", a list of three
 * items) under the names v, flag, zero, items. A value with markup must come out escaped unless
 * the template asked for {{raw ...}}. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/arena.h"
#include "auth/log.h"
#include "auth/tmpl.h"
#include "fuzz.h"

static void
write_file(const char *dir, const char *name, const char *text, size_t len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0)
        fuzz_fail("cannot write %s: %s", path, strerror(errno));
}

static const char *
private_dir(void)
{
    static char dir[4096];
    if (dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        /* tmpfs when there is one: two small files are written per input */
        snprintf(dir, sizeof dir, "%s/gh-fuzz-tmpl-XXXXXX",
                 tmp && *tmp ? tmp : (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"));
        if (mkdtemp(dir) == NULL)
            fuzz_fail("mkdtemp: %s", strerror(errno));
    }
    return dir;
}

static void
cleanup(void)
{
    const char *dir = private_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/page.html", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/_p.html", dir);
    unlink(path);
    rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        once = 1;
        log_set_level(LOG_LEVEL_ERROR);
        atexit(cleanup);
    }
    const char *page = (const char *)data, *end = page + size;
    const char *nul1 = memchr(page, '\0', size);
    const char *partial = nul1 ? nul1 + 1 : end;
    const char *nul2 = nul1 ? memchr(partial, '\0', (size_t)(end - partial)) : NULL;
    const char *value_in = nul2 ? nul2 + 1 : end;
    const char *dir = private_dir();
    write_file(dir, "page.html", page, (size_t)((nul1 ? nul1 : end) - page));
    write_file(dir, "_p.html", partial, (size_t)((nul2 ? nul2 : end) - partial));
    char err[512];
    struct tmpl_set *t = tmpl_load(dir, err, sizeof err);
    if (t == NULL)
        return 0;
    struct arena *a = arena_new();
    struct tmpl_ctx *c = a ? tmpl_ctx_new(a, NULL) : NULL;
    if (c == NULL)
        fuzz_fail("out of memory");
    char *value = fuzz_strndup((const uint8_t *)value_in, (size_t)(end - value_in));
    tmpl_set(c, "v", value);
    tmpl_set(c, "flag", "1");
    tmpl_set(c, "zero", "0");
    tmpl_set(c, "evil", "<script>\"'&");
    for (int i = 0; i < 3; i++) {
        struct tmpl_ctx *item = tmpl_add(c, "items");
        if (item == NULL)
            fuzz_fail("out of memory");
        tmpl_setf(item, "name", "item%d", i);
        tmpl_set(item, "v", i == 1 ? value : "");
    }
    char *out = tmpl_render(t, "page", c);
    /* "evil" holds markup: it may appear only when the page or partial names it raw */
    if (out != NULL && strstr(out, "<script>") != NULL &&
        memmem(data, size, "<script>", 8) == NULL && memmem(data, size, "raw", 3) == NULL)
        fuzz_fail("unescaped markup in the output of a template without {{raw}}");
    free(value);
    arena_free(a);
    tmpl_free(t);
    return 0;
}
