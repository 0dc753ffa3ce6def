#include "samllog.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secrets.h"

size_t
samllog_utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    /* s[n] is the first byte left out: while it continues a sequence, that sequence started
     * inside the prefix and leaves with it. */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

void
samllog_keep(struct saml_log_row *row, const char *xml, size_t size, int verified, int room_low,
             char *buf)
{
    row->xml_size = (long long)size;
    row->xml = NULL;
    if (xml == NULL) {
        snprintf(row->xml_kept, sizeof row->xml_kept, "none");
        return;
    }
    if (room_low) {
        snprintf(row->xml_kept, sizeof row->xml_kept, "dropped");
        return;
    }
    size_t have = strlen(xml); /* the verdict may hold less than the whole document */
    if (verified) {
        row->xml = (char *)(uintptr_t)xml;
        snprintf(row->xml_kept, sizeof row->xml_kept, "%s", have < size ? "excerpt" : "full");
        return;
    }
    size_t n = samllog_utf8_cut(xml, have, SAML_LOG_EXCERPT_BYTES);
    memcpy(buf, xml, n);
    buf[n] = '\0';
    row->xml = buf;
    snprintf(row->xml_kept, sizeof row->xml_kept, "%s", n < size ? "excerpt" : "full");
}

/* The row's fields the body is bound to: a sealed body moved to another row does not open. */
static void
body_aad(const struct saml_log_row *row, char *out, size_t len)
{
    snprintf(out, len, "gatehouse saml log v1|%lld|%s|%s", (long long)row->at, row->issuer,
             row->assertion_id);
}

int
samllog_seal(struct saml_log_row *row, const struct secrets *k)
{
    if (row->xml == NULL)
        return 0;
    char aad[1200];
    body_aad(row, aad, sizeof aad);
    char *sealed = secrets_seal_text(k, aad, row->xml, strlen(row->xml));
    row->xml = sealed;
    if (sealed == NULL) {
        /* Never the body in clear: the row keeps its verdict and size only. */
        snprintf(row->xml_kept, sizeof row->xml_kept, "dropped");
        return -1;
    }
    return 0;
}

int
samllog_open(struct saml_log_row *row, const struct secrets *k)
{
    if (row->xml == NULL || !secrets_is_sealed_text(row->xml))
        return 0; /* none kept, or written before bodies were sealed */
    char aad[1200];
    body_aad(row, aad, sizeof aad);
    char *plain = secrets_open_text(k, aad, row->xml, NULL);
    free(row->xml);
    row->xml = plain;
    return plain == NULL ? -1 : 0;
}

int
samllog_seal_clear_rows(struct store *s, const struct secrets *k, long long *count)
{
    enum { BATCH = 100 };
    long long ids[BATCH], after = 0;
    int n = 0;
    *count = 0;
    do {
        if (store_saml_log_clear_ids(s, after, ids, BATCH, &n) != 0)
            return -1;
        for (int i = 0; i < n; i++) {
            after = ids[i];
            struct saml_log_row row;
            int got = store_saml_log_get(s, ids[i], &row);
            if (got != 0) {
                if (got < 0)
                    return -1;
                continue; /* pruned meanwhile */
            }
            char *plain = row.xml;
            int rc = plain == NULL || secrets_is_sealed_text(plain) ? 1
                     : samllog_seal(&row, k) != 0
                         ? -1
                         : store_saml_log_reseal(s, ids[i], plain, row.xml);
            if (row.xml != plain)
                free(row.xml);
            free(plain);
            if (rc < 0)
                return -1;
            if (rc == 0)
                (*count)++;
        }
    } while (n == BATCH);
    return 0;
}
