/* tests/unit/test_base64.c: Gatehouse's xmlSecBase64Decode_ex (sp/sp.c), which liblasso and
 * libxmlsec1 call in place of xmlsec's own, gives the same answer as xmlsec's: same return
 * code, and on success the same bytes, for valid, hostile and random input. */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <xmlsec/base64.h>

#include "sp/sp.h"

typedef int (*decode_fn)(const xmlChar *, xmlSecByte *, xmlSecSize, xmlSecSize *);

static decode_fn
xmlsec_own(void)
{
    decode_fn f = (decode_fn)dlsym(RTLD_NEXT, "xmlSecBase64Decode_ex");
    assert_non_null(f);
    assert_true(f != xmlSecBase64Decode_ex); /* ours is the one the libraries see */
    return f;
}

/* The fast path takes str (and agrees with xmlsec, below). */
static void
fast(const char *str, size_t out_size)
{
    unsigned char *out = malloc(out_size + 1);
    size_t n = 0;
    assert_non_null(out);
    assert_int_equal(sp_base64_fast(str, out, out_size, &n), 0);
    free(out);
}

/* Both decoders on str with an output buffer of out_size; fails the test when they differ.
 * Returns our return code. */
static int
same(const char *str, xmlSecSize out_size)
{
    xmlSecByte *a = malloc(out_size + 1), *b = malloc(out_size + 1);
    xmlSecSize na = 12345, nb = 12345;
    assert_non_null(a);
    assert_non_null(b);
    memset(a, 0xAA, out_size + 1);
    memset(b, 0xAA, out_size + 1);
    int ra = xmlSecBase64Decode_ex((const xmlChar *)str, a, out_size, &na);
    int rb = xmlsec_own()((const xmlChar *)str, b, out_size, &nb);
    size_t cmp = ra == 0 && na + 1 < out_size ? na + 1 : na; /* with the NUL xmlsec adds */
    if (ra != rb || (ra == 0 && (na != nb || memcmp(a, b, cmp) != 0)))
        fail_msg("differ on \"%.80s\" (size %u): ours %d/%u, xmlsec %d/%u", str, (unsigned)out_size,
                 ra, (unsigned)na, rb, (unsigned)nb);
    free(a);
    free(b);
    return ra;
}

static void
test_valid_input_decodes_like_xmlsec(void **state)
{
    (void)state;
    unsigned char raw[700];
    char enc[1000], spaced[2000];
    srand(42);
    for (int len = 1; len <= 600; len++) {
        for (int i = 0; i < len; i++)
            raw[i] = (unsigned char)rand();
        int n = EVP_EncodeBlock((unsigned char *)enc, raw, len);
        /* xmlsec wants a byte to spare */
        fast(enc, (size_t)len + 1);
        assert_int_equal(same(enc, (xmlSecSize)len + 1), 0);
        assert_int_equal(same(enc, (xmlSecSize)len + 7), 0);
        /* wrapped at 64 and 76 columns, CRLF or LF, and stray spaces and tabs */
        size_t k = 0;
        for (int i = 0; i < n; i++) {
            if (i > 0 && i % (len % 2 ? 64 : 76) == 0)
                k += (size_t)snprintf(spaced + k, sizeof spaced - k, len % 3 ? "\r\n" : "\n");
            if (rand() % 23 == 0)
                spaced[k++] = rand() % 2 ? ' ' : '\t';
            spaced[k++] = enc[i];
        }
        spaced[k++] = '\n';
        spaced[k] = '\0';
        fast(spaced, (size_t)len + 2);
        assert_int_equal(same(spaced, (xmlSecSize)len + 2), 0);
        /* output buffers too small: xmlsec's answer */
        same(enc, (xmlSecSize)len);
        same(enc, (xmlSecSize)len - 1);
    }
}

static void
test_hostile_input_gets_xmlsec_answer(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "",           " ",         "\n\n",   "=",       "==",           "====",      "A",
        "AA",         "AAA",       "A===",   "AA=",     "AA==",         "AAA=",      "AA==AA==",
        "QQ==",       "QR==",      "QUI=",   "QUJ=",    "QUJD",         "QUJD=",     "QUJD====",
        "QU=JD",      "QUJD\x01",  "QUJD*",  "QU JD",   "QUJD\x80\x80", "-_-_",      "QUJD\v",
        "QUJD\f",     "=QUJD",     "QUJDRA", "QUJDRA=", "QUJDRA==",     "QUJDRA===", "QUJDRA= =",
        "QUJDRA==\n", "QUJDRA==x",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (xmlSecSize size = 0; size <= 8; size++)
            same(cases[i], size);
}

static void
test_random_strings_get_xmlsec_answer(void **state)
{
    (void)state;
    static const char pool[] = "ABCDQRSTabcz0189+/=== \n\r\t*-";
    char s[64];
    srand(7);
    for (int round = 0; round < 200000; round++) {
        int len = rand() % 20;
        for (int i = 0; i < len; i++)
            s[i] = pool[rand() % (int)(sizeof pool - 1)];
        s[len] = '\0';
        same(s, (xmlSecSize)(rand() % 20));
    }
}

int
main(void)
{
    char err[256];
    if (sp_global_init(err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_input_decodes_like_xmlsec),
        cmocka_unit_test(test_hostile_input_gets_xmlsec_answer),
        cmocka_unit_test(test_random_strings_get_xmlsec_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
