/* sp/mockidp/mi_http.h: the mock IdP's small HTTP server (libmicrohttpd, one thread). Unlike
 * auth/http.c it lets a page post a form to another origin (the SP's ACS), and it keeps the raw
 * query string, which the HTTP-Redirect binding's signature covers. */
#ifndef GH_SP_MOCKIDP_MI_HTTP_H
#define GH_SP_MOCKIDP_MI_HTTP_H

#include <stddef.h>

#define MI_HTTP_MAX_BODY (1024 * 1024)

struct mi_req;
struct mi_http;

/* Called once per request, with the whole body read. Answers with mi_req_respond. */
typedef void (*mi_handler)(struct mi_req *r, void *ctx);

/* Listens on host:port (an IP address). NULL with a message. */
struct mi_http *mi_http_start(const char *host, int port, mi_handler handler, void *ctx, char *err,
                              size_t errlen);
void mi_http_stop(struct mi_http *h);

/* Borrowed, valid during the handler. */
const char *mi_req_method(const struct mi_req *r);
const char *mi_req_path(const struct mi_req *r);
/* The query string as received, without '?' ("" when none). */
const char *mi_req_raw_query(const struct mi_req *r);
/* A decoded query parameter, or NULL. */
const char *mi_req_query(const struct mi_req *r, const char *name);
/* A decoded field of an application/x-www-form-urlencoded body, or NULL. */
const char *mi_req_form(const struct mi_req *r, const char *name);
/* The query parameter, else the form field. */
const char *mi_req_param(const struct mi_req *r, const char *name);

/* Queues the response (body copied). extra_header/value: one more header (Location,
 * Content-Security-Policy), or NULL. Only the first call counts. */
void mi_req_respond(struct mi_req *r, int status, const char *content_type, const char *body,
                    const char *extra_header, const char *extra_value);

#endif
