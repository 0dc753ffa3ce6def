/* tests/fuzz/http_harness.c: see http_harness.h. */
#include "http_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "auth/conf.h"
#include "auth/http.h"
#include "auth/log.h"
#include "auth/str.h"
#include "fuzz.h"

/* Names the handler asks for; the fuzzer learns them from the comparisons. */
static const char *const NAMES[] = {"a",
                                    "b",
                                    "email",
                                    "password",
                                    "csrf_token",
                                    "return_to",
                                    "SAMLResponse",
                                    "RelayState",
                                    "file",
                                    "gatehouse_session"};

static void
check_clean(const char *what, const char *name, const char *v)
{
    if (v != NULL && !str_utf8_clean(v, strlen(v), 1))
        fuzz_fail("%s \"%s\" was handed over with bytes that are not clean UTF-8", what, name);
}

static int
handler(struct req *r)
{
    size_t total = 0;
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++) {
        const char *f = strcmp(req_method(r), "POST") == 0 ? req_form(r, NAMES[i]) : NULL;
        const char *c = req_cookie(r, NAMES[i]);
        const char *q = req_query(r, NAMES[i]);
        check_clean("form field", NAMES[i], f);
        check_clean("cookie", NAMES[i], c);
        check_clean("query parameter", NAMES[i], q);
        total += (f ? strlen(f) : 0) + (c ? strlen(c) : 0) + (q ? strlen(q) : 0);
    }
    total += strlen(req_raw_query(r));
    char body[64];
    int n = snprintf(body, sizeof body, "%zu\n", total);
    return req_respond(r, 200, "text/plain", body, (size_t)n);
}

static const struct route ROUTES[] = {
    {"POST", "/f", handler, ROUTE_FORM | ROUTE_MULTIPART, 0},
    {"GET", "/f", handler, 0, 0},
};

static int port;
static pthread_once_t started = PTHREAD_ONCE_INIT;

static int
free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(s, (struct sockaddr *)&a, &len) != 0)
        fuzz_fail("no free loopback port: %s", strerror(errno));
    close(s);
    return ntohs(a.sin_port);
}

static void
start(void)
{
    static struct conf conf;
    static struct http_hooks hooks;
    log_set_level(LOG_LEVEL_ERROR);
    conf_defaults(&conf);
    conf.threads = 1;
    conf.access_log = 0;
    conf.max_body_bytes = 64 * 1024;
    char err[256];
    for (int tries = 0; tries < 5; tries++) {
        conf.listen_port = port = free_port();
        if (http_start(&conf, ROUTES, sizeof ROUTES / sizeof ROUTES[0], &hooks, err, sizeof err))
            return; /* runs until the process ends */
    }
    fuzz_fail("cannot start the server: %s", err);
}

/* The length of the whole answer once its head is in buf[0..n): head plus Content-Length; 0
 * while the head is incomplete. */
static size_t
answer_length(const char *buf, size_t n)
{
    const char *end = memmem(buf, n, "\r\n\r\n", 4);
    if (end == NULL)
        return 0;
    size_t head = (size_t)(end - buf) + 4, body = 0;
    for (const char *p = buf; p < end; p++)
        if ((p == buf || p[-1] == '\n') && strncasecmp(p, "Content-Length:", 15) == 0)
            body = (size_t)strtoul(p + 15, NULL, 10);
    return head + body;
}

/* One exchange on a fresh connection that this side closes with a reset once the answer is
 * complete: with "Connection: close" the server would close first, and tens of thousands of its
 * TIME_WAIT sockets make the kernel reset new connections that reuse a client port. The status
 * line's first bytes go to head; 0, or -1 with errno when no byte of answer came. */
static int
exchange(const char *request, size_t len, char *head, size_t headlen)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {10, 0};
    struct linger reset = {1, 0};
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
        setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof reset) != 0 ||
        connect(s, (struct sockaddr *)&a, sizeof a) != 0)
        fuzz_fail("cannot connect to the server: %s", strerror(errno));
    for (size_t off = 0; off < len;) {
        ssize_t n = send(s, request + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may answer (413, 400) before reading it all */
        off += (size_t)n;
    }
    static _Thread_local char buf[256 * 1024];
    size_t got = 0, want = 0;
    int err = 0;
    while (got < sizeof buf && (want == 0 || got < want)) {
        ssize_t n = recv(s, buf + got, sizeof buf - got, 0);
        if (n < 0 && errno == EAGAIN)
            fuzz_fail("the server did not answer within 10 s");
        if (n < 0)
            err = errno;
        if (n <= 0)
            break;
        got += (size_t)n;
        want = answer_length(buf, got);
    }
    size_t keep = got < headlen - 1 ? got : headlen - 1;
    memcpy(head, buf, keep);
    head[keep] = '\0';
    close(s);
    errno = err;
    return got > 0 ? 0 : -1;
}

int
fuzz_http_send(const char *request, size_t len)
{
    pthread_once(&started, start);
    char head[16] = "";
    /* An exchange without an answer is tried again (twice) before it counts as a failure. */
    int tries = 0, err = 0;
    while (exchange(request, len, head, sizeof head) != 0 && ++tries < 3)
        err = errno;
    int status = 0;
    if (strncmp(head, "HTTP/1.1 ", 9) != 0 || (status = (int)strtol(head + 9, NULL, 10)) < 100)
        fuzz_fail("no HTTP answer in %d tries (got \"%s\", %s)", tries, head, strerror(err));
    if (status >= 500)
        fuzz_fail("the server answered %d", status);
    return status;
}

void
fuzz_reqbuf_add(struct fuzz_reqbuf *b, const void *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->data, cap);
        if (grown == NULL)
            fuzz_fail("out of memory");
        b->data = grown;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
fuzz_reqbuf_str(struct fuzz_reqbuf *b, const char *s)
{
    fuzz_reqbuf_add(b, s, strlen(s));
}
