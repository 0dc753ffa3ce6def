/* tests/fuzz/fuzz_form.c: the application/x-www-form-urlencoded body parser (auth/http.c's
 * parse_form and str_url_decode) through the server: the input is the body of a POST. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "http_harness.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_reqbuf b = {0};
    char head[256];
    snprintf(head, sizeof head,
             "POST /f HTTP/1.1\r\nHost: gh.test\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n",
             size);
    fuzz_reqbuf_str(&b, head);
    fuzz_reqbuf_add(&b, data, size);
    fuzz_http_send(b.data, b.len);
    free(b.data);
    return 0;
}
