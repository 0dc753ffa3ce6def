#include "csrf.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "rand.h"
#include "str.h"

int
csrf_new_visitor(char *out)
{
    unsigned char raw[CSRF_VISITOR_LEN / 2];
    if (rand_bytes(raw, sizeof raw) != 0)
        return -1;
    str_hex(raw, sizeof raw, out);
    return 0;
}

int
csrf_visitor_ok(const char *v)
{
    if (v == NULL || strlen(v) != CSRF_VISITOR_LEN)
        return 0;
    for (; *v; v++)
        if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'f')))
            return 0;
    return 1;
}

void
csrf_token(const unsigned char *key, size_t keylen, const char *visitor, const char *session_hash,
           char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    char msg[256];
    size_t n = 0;
    /* "csrf|visitor|session": fixed-length parts, so no two inputs share a message. */
    const char *parts[] = {"csrf|", visitor, "|", session_hash ? session_hash : ""};
    for (size_t i = 0; i < 4; i++) {
        size_t l = strnlen(parts[i], 100);
        memcpy(msg + n, parts[i], l);
        n += l;
    }
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, n, md, &mdlen);
    str_hex(md, 32, out);
}

int
csrf_check(const unsigned char *key, size_t keylen, const char *visitor, const char *session_hash,
           const char *token)
{
    if (!csrf_visitor_ok(visitor) || token == NULL || strlen(token) != CSRF_TOKEN_LEN)
        return 0;
    char want[CSRF_TOKEN_LEN + 1];
    csrf_token(key, keylen, visitor, session_hash, want);
    return ct_equal(want, CSRF_TOKEN_LEN, token, CSRF_TOKEN_LEN);
}
