#include "rand.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "log.h"

int
rand_bytes(void *buf, size_t len)
{
    if (len > INT_MAX || RAND_bytes(buf, (int)len) != 1) {
        unsigned long e = ERR_get_error();
        char why[256] = "length out of range";
        if (e != 0)
            ERR_error_string_n(e, why, sizeof why);
        log_error("random generator failed len=%zu: %s", len, why);
        OPENSSL_cleanse(buf, len > INT_MAX ? 0 : len);
        return -1;
    }
    return 0;
}

int
ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen)
        return 0;
    return CRYPTO_memcmp(a, b, alen) == 0;
}
