#include "sp.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dlfcn.h>
#include <pthread.h>

#include <lasso/lasso.h>
#include <lasso/logging.h>
#include <libxml/parser.h>
#include <xmlsec/base64.h>

/* lasso's own lasso_log (Debian builds lasso with its debug messages compiled in) formats every
 * message twice and takes the time-zone lock (localtime) before glib drops the debug ones:
 * ~3,000 calls a second under sign-in load, 7 % of the server's CPU, and the lock serialises
 * threads. liblasso calls lasso_log through its PLT, so this definition in the program is the
 * one it runs: debug messages are dropped unless glib would print them (G_MESSAGES_DEBUG, read
 * once at start: glib's own check reads the environment at every call), the others go to glib
 * as lasso sends them (domain "Lasso", same level), without lasso's date. */
static int lasso_debug = -1; /* -1 until sp_global_init */

/* lasso/logging.h declares lasso_log without a format attribute: say it is printf-like, so the
 * compilers check the forwarding below (clang refuses a non-literal format otherwise). */
void lasso_log(GLogLevelFlags level, const char *filename, int line, const char *function,
               const char *format, ...) G_GNUC_PRINTF(5, 6);

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

/* xmlsec decodes base64 a character at a time through a state machine; lasso decodes every
 * SAMLResponse (~6 KB of base64 per sign-in) with it: ~4 % of the server's CPU under sign-in
 * load. liblasso (and libxmlsec1 itself) call xmlSecBase64Decode_ex through their PLT, so this
 * definition in the program is the one they run. Well-formed input (the base64 alphabet, space,
 * tab, CR and LF anywhere, "=" or "==" padding at the end only, a whole number of quanta) is
 * decoded here with a table; anything else, and an output buffer too small, goes to xmlsec's
 * own decoder, so every error and edge case is xmlsec's (tests/unit/test_base64.c compares the
 * two on valid, hostile and random input). */
enum { B64_BAD = -1, B64_SPACE = -2, B64_PAD = -3 };
static signed char b64_table[256];
static int (*xmlsec_decode)(const xmlChar *, xmlSecByte *, xmlSecSize, xmlSecSize *);
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void
b64_init(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(b64_table, B64_BAD, sizeof b64_table);
    for (int i = 0; i < 64; i++)
        b64_table[(unsigned char)alphabet[i]] = (signed char)i;
    b64_table[' '] = b64_table['\t'] = b64_table['\r'] = b64_table['\n'] = B64_SPACE;
    b64_table['='] = B64_PAD;
    xmlsec_decode = (int (*)(const xmlChar *, xmlSecByte *, xmlSecSize, xmlSecSize *))dlsym(
        RTLD_NEXT, "xmlSecBase64Decode_ex");
}

/* 0 and the length when str is well-formed and its bytes fit in out with one to spare (as
 * xmlsec wants); -1 otherwise (nothing promised about out then). Like xmlsec, a NUL follows
 * the bytes when there are two to spare. */
static int
b64_fast(const unsigned char *p, xmlSecByte *out, xmlSecSize out_size, xmlSecSize *written)
{
    pthread_once(&b64_once, b64_init);
    xmlSecSize n = 0;
    unsigned long acc = 0;
    int q = 0, pads = 0;
    for (; *p != '\0'; p++) {
        int v = b64_table[*p];
        if (v == B64_SPACE)
            continue;
        if (v == B64_PAD) {
            if (q < 2 || ++pads > 4 - q)
                return -1;
            continue;
        }
        if (v < 0 || pads > 0)
            return -1;
        acc = acc << 6 | (unsigned long)v;
        if (++q == 4) {
            if (out_size - n < 4)
                return -1;
            out[n++] = (xmlSecByte)(acc >> 16);
            out[n++] = (xmlSecByte)(acc >> 8);
            out[n++] = (xmlSecByte)acc;
            q = 0;
            acc = 0;
        }
    }
    if (q != 0 && pads != 4 - q)
        return -1; /* unpadded or cut short: xmlsec decides */
    if (q > 0) {
        acc <<= 6 * (4 - q);
        if (out_size - n < (xmlSecSize)q)
            return -1;
        out[n++] = (xmlSecByte)(acc >> 16);
        if (q == 3)
            out[n++] = (xmlSecByte)(acc >> 8);
    }
    if (n == 0 || n >= out_size)
        return -1;
    if (n + 1 < out_size)
        out[n] = '\0';
    *written = n;
    return 0;
}

int
sp_base64_fast(const char *str, unsigned char *out, size_t out_size, size_t *written)
{
    xmlSecSize n = 0;
    if (out_size > UINT_MAX || b64_fast((const unsigned char *)str, out, (xmlSecSize)out_size, &n))
        return -1;
    *written = n;
    return 0;
}

int
xmlSecBase64Decode_ex(const xmlChar *str, xmlSecByte *out, xmlSecSize outSize,
                      xmlSecSize *outWritten)
{
    if (str != NULL && out != NULL && outWritten != NULL &&
        b64_fast((const unsigned char *)str, out, outSize, outWritten) == 0)
        return 0;
    pthread_once(&b64_once, b64_init);
    if (xmlsec_decode == NULL)
        return -1;
    return xmlsec_decode(str, out, outSize, outWritten);
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
