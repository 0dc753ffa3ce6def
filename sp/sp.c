#include "sp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lasso/lasso.h>
#include <lasso/logging.h>
#include <libxml/parser.h>

/* lasso's own lasso_log (Debian builds lasso with its debug messages compiled in) formats every
 * message twice and takes the time-zone lock (localtime) before glib drops the debug ones:
 * ~3,000 calls a second under sign-in load, 7 % of the server's CPU, and the lock serialises
 * threads. liblasso calls lasso_log through its PLT, so this definition in the program is the
 * one it runs: debug messages are dropped unless glib would print them (G_MESSAGES_DEBUG, read
 * once at start: glib's own check reads the environment at every call), the others go to glib
 * as lasso sends them (domain "Lasso", same level), without lasso's date. */
static int lasso_debug = -1; /* -1 until sp_global_init */

void
lasso_log(GLogLevelFlags level, const char *filename, int line, const char *function,
          const char *format, ...)
{
    if ((level & G_LOG_LEVEL_DEBUG) &&
        (lasso_debug == 0 ||
         (lasso_debug < 0 && g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, "Lasso"))))
        return;
    char text[1024];
    va_list ap;
    va_start(ap, format);
    g_vsnprintf(text, sizeof text, format, ap);
    va_end(ap);
    g_log("Lasso", level, "%s (%s/%s:%d)", text, filename, function, line);
}

int
sp_global_init(char *err, size_t errlen)
{
    /* LASSO_FLAG=no-verify-signature would turn signature checks off for the whole process. */
    const char *flags = getenv("LASSO_FLAG");
    if (flags != NULL && strstr(flags, "verify-signature") != NULL) {
        snprintf(err, errlen,
                 "LASSO_FLAG=%s is set in the environment: it would disable SAML "
                 "signature verification; unset it",
                 flags);
        return -1;
    }
    lasso_debug = !g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, "Lasso");
    xmlInitParser();
    if (lasso_init() != 0) {
        snprintf(err, errlen, "lasso could not be initialised");
        return -1;
    }
    return 0;
}

void
sp_global_cleanup(void)
{
    lasso_shutdown();
}

char *
sp_read_file(const char *path, size_t max, size_t *len_out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL || bad || n > max) {
        snprintf(err, errlen, "%s: %s", path,
                 buf == NULL ? "out of memory"
                 : bad       ? "read error"
                             : "file too large");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len_out != NULL)
        *len_out = n;
    return buf;
}
