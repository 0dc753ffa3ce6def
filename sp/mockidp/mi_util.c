/* sp/mockidp/mi_util.c: IDs, times, base64. */
#include "mi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

void
mi_new_id(char out[MI_ID_LEN])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1)
        memset(raw, 0, sizeof raw); /* never reached with a working OpenSSL */
    out[0] = '_';
    for (size_t i = 0; i < sizeof raw; i++) {
        out[1 + 2 * i] = hex[raw[i] >> 4];
        out[2 + 2 * i] = hex[raw[i] & 15];
    }
    out[MI_ID_LEN - 1] = '\0';
}

void
mi_time_iso(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *
mi_base64(const void *data, size_t len)
{
    if (len > (size_t)1 << 30)
        return NULL;
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

int
mi_attrs_add(struct mi_attrs *as, const char *name, const char *value)
{
    for (int i = 0; i < as->n; i++) {
        struct mi_attr *a = &as->a[i];
        if (strcmp(a->name, name) == 0) {
            if (a->n_values == MI_MAX_VALUES)
                return -1;
            a->values[a->n_values++] = value;
            return 0;
        }
    }
    if (as->n == MI_MAX_ATTRS)
        return -1;
    struct mi_attr *a = &as->a[as->n++];
    a->name = name;
    a->values[0] = value;
    a->n_values = 1;
    return 0;
}

int
mi_status_parse(const char *s, enum mi_status *out)
{
    static const char *const names[] = {"Success", "Requester", "Responder", "AuthnFailed"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (enum mi_status)i;
            return 0;
        }
    return -1;
}
