/* tests/fuzz/fuzz_query.c: query strings (libmicrohttpd's argument parser and unescaping, then
 * req_query's UTF-8 check and the raw query kept for signed SAML messages) through the server.
 * The input is everything after "?"; the bytes that would end the request target (controls,
 * space, DEL, "#", non-ASCII) are sent percent-encoded, as a browser would. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "http_harness.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reqbuf b = {0};
    fuzz_reqbuf_str(&b, "GET /f?");
    for (size_t i = 0; i < size; i++) {
        if (data[i] <= 0x20 || data[i] >= 0x7f || data[i] == '#') {
            char esc[4];
            snprintf(esc, sizeof esc, "%%%02X", data[i]);
            fuzz_reqbuf_str(&b, esc);
        } else {
            fuzz_reqbuf_add(&b, &data[i], 1);
        }
    }
    fuzz_reqbuf_str(&b, " HTTP/1.1\r\nHost: gh.test\r\n\r\n");
    fuzz_http_send(b.data, b.len);
    free(b.data);
    return 0;
}
