/* tests/fuzz/fuzz_cookie.c: the Cookie header (libmicrohttpd's cookie parser, then auth/http.c's
 * UTF-8 check in req_cookie) through the server. The input is the header's value; CR, LF and NUL,
 * which would end the header, are dropped. */
#include <stdlib.h>

#include "fuzz.h"
#include "http_harness.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reqbuf b = {0};
    fuzz_reqbuf_str(&b, "GET /f?a=1 HTTP/1.1\r\nHost: gh.test\r\nCookie: ");
    for (size_t i = 0; i < size; i++)
        if (data[i] != '\r' && data[i] != '\n' && data[i] != '\0')
            fuzz_reqbuf_add(&b, &data[i], 1);
    fuzz_reqbuf_str(&b, "\r\n\r\n");
    fuzz_http_send(b.data, b.len);
    free(b.data);
    return 0;
}
