#include "totp.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <qrencode.h>

#include "arena.h"
#include "rand.h"
#include "str.h"

const struct totp_params totp_default = {TOTP_SHA1, 6, 30, TOTP_WINDOW};

/* Recovery code alphabet: Crockford's base32 (no i, l, o, u; read back leniently). */
static const char recovery_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

struct ct_code {
    const char *code;
};

int
totp_global_init(void)
{
    return oath_init() == OATH_OK ? 0 : -1;
}

/* liboath's comparison callback: constant time in the digits. */
static int
ct_compare(void *handle, const char *test_otp)
{
    const struct ct_code *c = handle;
    size_t n = strlen(c->code);
    return ct_equal(c->code, n, test_otp, strlen(test_otp)) ? 0 : 1;
}

static int
all_digits(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

long long
totp_step(const struct totp_params *p, time_t now)
{
    return now < 0 ? 0 : (long long)(now / (time_t)p->step_seconds);
}

enum totp_result
totp_check(const struct totp_params *p, const unsigned char *secret, size_t len, time_t now,
           long long last_step, const char *code, long long *step_out)
{
    if (code == NULL || !all_digits(code, p->digits))
        return TOTP_BAD;
    int flags = p->alg == TOTP_SHA256   ? OATH_TOTP_HMAC_SHA256
                : p->alg == TOTP_SHA512 ? OATH_TOTP_HMAC_SHA512
                                        : 0;
    struct ct_code c = {code};
    int pos = 0;
    uint64_t counter = 0;
    int rc =
        oath_totp_validate4_callback((const char *)secret, len, now, p->step_seconds, 0, p->digits,
                                     (size_t)p->window, &pos, &counter, flags, ct_compare, &c);
    if (rc == OATH_INVALID_OTP)
        return TOTP_BAD;
    if (rc < 0)
        return TOTP_ERROR;
    if ((long long)counter <= last_step)
        return TOTP_REPLAYED;
    *step_out = (long long)counter;
    return TOTP_OK;
}

int
totp_new_secret(unsigned char secret[TOTP_SECRET_LEN])
{
    return rand_bytes(secret, TOTP_SECRET_LEN) == 0 ? 0 : -1;
}

char *
totp_base32(struct arena *a, const unsigned char *secret, size_t len)
{
    char *out = NULL;
    size_t outlen = 0;
    if (oath_base32_encode((const char *)secret, len, &out, &outlen) != OATH_OK)
        return NULL;
    while (outlen > 0 && out[outlen - 1] == '=')
        outlen--;
    char *copy = arena_strndup(a, out, outlen);
    explicit_bzero(out, strlen(out));
    free(out);
    return copy;
}

char *
totp_uri(struct arena *a, const char *issuer, const char *email, const char *base32)
{
    char *label = arena_printf(a, "%s:%s", issuer, email);
    if (label == NULL)
        return NULL;
    char *enc_label = str_url_encode(a, label), *enc_issuer = str_url_encode(a, issuer);
    if (enc_label == NULL || enc_issuer == NULL)
        return NULL;
    return arena_printf(a,
                        "otpauth://totp/%s?secret=%s&issuer=%s&algorithm=SHA1&digits=6&period=30",
                        enc_label, base32, enc_issuer);
}

char *
totp_qr_svg(struct arena *a, const char *text)
{
    QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (q == NULL)
        return NULL;
    const int quiet = 4, size = q->width + 2 * quiet;
    /* One path of unit squares: small, and no style attributes (the CSP allows none). */
    size_t cap = (size_t)q->width * (size_t)q->width * 24 + 512;
    char *svg = arena_alloc(a, cap);
    if (svg == NULL) {
        QRcode_free(q);
        return NULL;
    }
    size_t n =
        (size_t)snprintf(svg, cap,
                         "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                         "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\" "
                         "role=\"img\" aria-label=\"QR code for your authenticator app\">"
                         "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
                         size, size, size * 6, size * 6, size, size);
    for (int y = 0; y < q->width; y++)
        for (int x = 0; x < q->width; x++)
            if (q->data[y * q->width + x] & 1)
                n += (size_t)snprintf(svg + n, cap - n, "M%d %dh1v1h-1z", x + quiet, y + quiet);
    snprintf(svg + n, cap - n, "\"/></svg>");
    QRcode_free(q);
    return svg;
}

int
recovery_new(char (*codes)[RECOVERY_CODE_LEN + 1], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char r[10];
        if (rand_bytes(r, sizeof r) != 0)
            return -1;
        for (size_t k = 0, o = 0; k < 10; k++) {
            if (k == 5)
                codes[i][o++] = '-';
            codes[i][o++] = recovery_alphabet[r[k] & 31];
        }
        codes[i][RECOVERY_CODE_LEN] = '\0';
        explicit_bzero(r, sizeof r);
    }
    return 0;
}

int
recovery_hash(const unsigned char *key, size_t keylen, const char *typed, char *hash_out)
{
    char norm[16];
    size_t n = 0;
    for (const char *p = typed; *p; p++) {
        char c = *p;
        if (c == '-' || c == ' ')
            continue;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c == 'i' || c == 'l')
            c = '1';
        else if (c == 'o')
            c = '0';
        if (strchr(recovery_alphabet, c) == NULL || c == '\0' || n >= 10)
            return -1;
        norm[n++] = c;
    }
    if (n != 10)
        return -1;
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)norm, n, md, &mdlen) == NULL)
        return -1;
    str_hex(md, mdlen, hash_out);
    explicit_bzero(norm, sizeof norm);
    return 0;
}
