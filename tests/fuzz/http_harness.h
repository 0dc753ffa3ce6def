/* tests/fuzz/http_harness.h: the fuzz targets of the request parsers (urlencoded and multipart
 * forms, cookies, query strings) go through the real server, auth/http.c on libmicrohttpd, since
 * libmicrohttpd parses cookies, queries and multipart bodies itself: one request per input, over
 * loopback, to a route whose handler reads every field it can name. */
#ifndef GH_TESTS_FUZZ_HTTP_HARNESS_H
#define GH_TESTS_FUZZ_HTTP_HARNESS_H

#include <stddef.h>

/* Sends the whole request (started on first use: a server on a free loopback port, route
 * POST and GET /f) and reads the answer to the end. Returns its status; fails the run when the
 * server does not answer, answers 5xx, or a value it handed the handler was not clean UTF-8. */
int fuzz_http_send(const char *request, size_t len);

/* Appends bytes to a growing request (aborts when out of memory). */
struct fuzz_reqbuf {
    char *data;
    size_t len, cap;
};
void fuzz_reqbuf_add(struct fuzz_reqbuf *b, const void *data, size_t n);
void fuzz_reqbuf_str(struct fuzz_reqbuf *b, const char *s);

#endif
