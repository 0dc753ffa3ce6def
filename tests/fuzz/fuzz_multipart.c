/* tests/fuzz/fuzz_multipart.c: multipart/form-data bodies (libmicrohttpd's post processor and
 * auth/http.c's parse_multipart) through the server. The input's first line is the Content-Type
 * header's value (CR and NUL dropped), the rest the body of a POST. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http_harness.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (nl == NULL)
        return -1;
    struct fuzz_reqbuf b = {0};
    fuzz_reqbuf_str(&b, "POST /f HTTP/1.1\r\nHost: gh.test\r\nContent-Type: ");
    for (const uint8_t *p = data; p < nl; p++)
        if (*p != '\r' && *p != '\0')
            fuzz_reqbuf_add(&b, p, 1);
    size_t body = size - (size_t)(nl + 1 - data);
    char head[64];
    snprintf(head, sizeof head, "\r\nContent-Length: %zu\r\n\r\n", body);
    fuzz_reqbuf_str(&b, head);
    fuzz_reqbuf_add(&b, nl + 1, body);
    fuzz_http_send(b.data, b.len);
    free(b.data);
    return 0;
}
