#include "samllog.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

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
