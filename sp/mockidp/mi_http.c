/* sp/mockidp/mi_http.c: see mi_http.h. The only file of the mock IdP that includes
 * microhttpd.h. */
#include "mi_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <glib.h>
#include <microhttpd.h>

/* Pages of our own: no scripts, inline styles, forms to ourselves only. */
#define DEFAULT_CSP "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"

struct mi_http {
    struct MHD_Daemon *daemon;
    mi_handler handler;
    void *ctx;
};

struct mi_req {
    struct MHD_Connection *conn;
    char *uri; /* as received, with the query */
    const char *method;
    char *path;
    const char *raw_query;
    GString *body;
    int too_large;
    GHashTable *query, *form;
    struct MHD_Response *response;
    unsigned status;
};

static GHashTable *
parse_params(const char *s, size_t len)
{
    GHashTable *t = g_uri_parse_params(s, (gssize)len, "&", G_URI_PARAMS_WWW_FORM, NULL);
    return t ? t : g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

const char *
mi_req_method(const struct mi_req *r)
{
    return r->method;
}

const char *
mi_req_path(const struct mi_req *r)
{
    return r->path;
}

const char *
mi_req_raw_query(const struct mi_req *r)
{
    return r->raw_query;
}

const char *
mi_req_query(const struct mi_req *r, const char *name)
{
    return g_hash_table_lookup(r->query, name);
}

const char *
mi_req_form(const struct mi_req *r, const char *name)
{
    return r->form ? g_hash_table_lookup(r->form, name) : NULL;
}

const char *
mi_req_param(const struct mi_req *r, const char *name)
{
    const char *v = mi_req_query(r, name);
    return v ? v : mi_req_form(r, name);
}

void
mi_req_respond(struct mi_req *r, int status, const char *content_type, const char *body,
               const char *extra_header, const char *extra_value)
{
    if (r->response != NULL)
        return;
    r->response = MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body,
                                                  MHD_RESPMEM_MUST_COPY);
    if (r->response == NULL)
        return;
    r->status = (unsigned)status;
    MHD_add_response_header(r->response, "Content-Type", content_type);
    MHD_add_response_header(r->response, "Cache-Control", "no-store");
    MHD_add_response_header(r->response, "X-Content-Type-Options", "nosniff");
    if (extra_header != NULL && strpbrk(extra_value, "\r\n") == NULL)
        MHD_add_response_header(r->response, extra_header, extra_value);
    if (extra_header == NULL || strcmp(extra_header, "Content-Security-Policy") != 0)
        MHD_add_response_header(r->response, "Content-Security-Policy", DEFAULT_CSP);
}

/* MHD_OPTION_URI_LOG_CALLBACK: the first sight of a request, with its URI still raw. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    struct mi_req *r = g_new0(struct mi_req, 1);
    r->conn = conn;
    r->uri = g_strdup(uri);
    char *q = strchr(r->uri, '?');
    r->path = g_strndup(r->uri, q ? (size_t)(q - r->uri) : strlen(r->uri));
    r->raw_query = q ? q + 1 : "";
    r->query = parse_params(r->raw_query, strlen(r->raw_query));
    r->body = g_string_new(NULL);
    return r;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct mi_req *r = *req_cls;
    if (r == NULL)
        return;
    g_free(r->uri);
    g_free(r->path);
    g_string_free(r->body, TRUE);
    g_hash_table_destroy(r->query);
    if (r->form != NULL)
        g_hash_table_destroy(r->form);
    if (r->response != NULL)
        MHD_destroy_response(r->response);
    g_free(r);
    *req_cls = NULL;
}

static void
dispatch(struct mi_http *h, struct mi_req *r)
{
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
    if (ct != NULL && strncmp(ct, "application/x-www-form-urlencoded", 33) == 0)
        r->form = parse_params(r->body->str, r->body->len);
    if (r->too_large)
        mi_req_respond(r, 413, "text/plain; charset=utf-8", "request body too large\n", NULL, NULL);
    else
        h->handler(r, h->ctx);
    if (r->response == NULL)
        mi_req_respond(r, 500, "text/plain; charset=utf-8", "internal error\n", NULL, NULL);
    fprintf(stderr, "mock-idp: %s %s %u\n", r->method, r->path, r->status);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    (void)url;
    (void)version;
    struct mi_http *h = cls;
    struct mi_req *r = *req_cls;
    if (r == NULL)
        return MHD_NO;
    if (r->method == NULL) {
        r->method = method;
        return MHD_YES; /* the body, if any, comes in the next calls */
    }
    if (*upload_data_size > 0) {
        if (r->body->len + *upload_data_size > MI_HTTP_MAX_BODY)
            r->too_large = 1;
        else
            g_string_append_len(r->body, upload_data, (gssize)*upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->response == NULL)
        dispatch(h, r);
    return r->response ? MHD_queue_response(conn, r->status, r->response) : MHD_NO;
}

struct mi_http *
mi_http_start(const char *host, int port, mi_handler handler, void *ctx, char *err, size_t errlen)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "--listen: %s is not an IPv4 address", host);
        return NULL;
    }
    struct mi_http *h = g_new0(struct mi_http, 1);
    h->handler = handler;
    h->ctx = ctx;
    h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                 (uint16_t)port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                                 (struct sockaddr *)&sa, MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (h->daemon == NULL) {
        snprintf(err, errlen, "cannot listen on %s:%d", host, port);
        g_free(h);
        return NULL;
    }
    return h;
}

void
mi_http_stop(struct mi_http *h)
{
    if (h == NULL)
        return;
    MHD_stop_daemon(h->daemon);
    g_free(h);
}
