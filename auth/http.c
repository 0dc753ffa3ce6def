#include "http.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "arena.h"
#include "buf.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "str.h"
#include "tls.h"

#define MAX_FORM_FIELDS 64
#define MAX_HEADERS 16
#define CONNECTION_TIMEOUT_SECONDS 30
#define SHUTDOWN_GRACE_MS 10000
#define JOB_THREADS_MAX 16
/* libmicrohttpd's per-connection pool (the request line and headers, the read and write
 * buffers; bodies stream through it into struct req). It zeroes the whole pool between two
 * requests of a keep-alive connection: 64 KiB took ~5 % of a forward-auth decision. 32 KiB is
 * libmicrohttpd's own default and holds headers far beyond a browser's (nginx: 4 x 8 KiB). */
#define CONNECTION_MEMORY (32 * 1024)

/* Every response carries these. CSP: no scripts at all; styles from our own origin only. Forms
 * submit to this origin, plus the IdPs' origins on pages whose forms end in a redirect to an
 * IdP (browsers apply form-action to the redirects that follow a submission too). */
#define CSP_HEAD "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'"
#define CSP_TAIL "; frame-ancestors 'none'; base-uri 'none'"
static const char CSP[] = CSP_HEAD CSP_TAIL;

/* Handlers that block for long run on a pool while their connection is suspended, so the epoll
 * threads keep serving other connections. Two pools, each with its own threads and a bounded
 * queue, so one kind of work cannot starve the other: password hashing (argon2 takes ~20-30 ms)
 * and SAML responses (lasso; a large hostile one costs milliseconds). A full queue ([server]
 * hash_queue, saml_queue) answers 503 with Retry-After at once instead of letting waits grow
 * without bound. */
/* The SAML workers run at a lower CPU priority (nice +SAML_NICE): a flood of responses then
 * yields the cores to password hashing, while SSO alone still uses every core. */
#define SAML_NICE 10
#define POOL_RETRY_AFTER "1"

struct job_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct req *head, *tail;
    unsigned queued, max_queued;
    int stop;
    int nice; /* added to the workers' nice value */
    pthread_t threads[JOB_THREADS_MAX];
    unsigned n_threads;
};

struct http_server {
    struct MHD_Daemon *daemon;
    struct job_pool jobs;      /* ROUTE_BLOCKING: password hashing */
    struct job_pool saml_jobs; /* ROUTE_SAML: the ACS */
    const struct conf *conf;
    const struct route *routes;
    size_t n_routes;
    struct http_hooks hooks;
    struct tls *tls;        /* NULL: plain HTTP */
    _Atomic long in_flight; /* requests between their first byte and request_completed */
    /* What a configuration reload changes (http_apply_conf); conf's own copies stay as at start. */
    _Atomic int access_log;
    _Atomic long max_body_bytes;
    pthread_rwlock_t proxies_mu;
    struct cidr proxies[CONF_MAX_PROXIES];
    size_t n_proxies;
};

struct pair {
    const char *name;
    const char *value;
};

struct req {
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct arena *arena;
    const char *method;
    const char *path;
    const char *raw_query; /* as received, undecoded ("" when none): signed SAML queries */
    int started;           /* on_request has set the request up */
    const struct route *route;
    int method_mismatch;
    struct buf body;
    long long content_length;
    int too_large;
    int form_parsed;
    int form_error;
    struct pair form[MAX_FORM_FIELDS];
    size_t n_form;
    char client[64];
    int peer_trusted; /* the peer (not X-Forwarded-For) is in [server] trusted_proxies */
    struct timespec start;
    void *state;
    /* response: built by req_respond (on any thread), queued by the MHD thread */
    struct pair headers[MAX_HEADERS];
    size_t n_headers;
    int status;
    size_t bytes;
    int responded;
    struct MHD_Response *response;
    const char *csp; /* NULL: CSP */
    int for_machine; /* req_for_machine: no headers that only a browser reads */
    /* blocking handlers */
    struct req *next_job;
    _Atomic int job; /* JOB_NONE, JOB_RUNNING, JOB_DONE */
};

enum { JOB_NONE, JOB_RUNNING, JOB_DONE };

/* ---- request accessors ---- */

const char *
req_method(const struct req *r)
{
    return r->method;
}

const char *
req_path(const struct req *r)
{
    return r->path;
}

const char *
req_raw_query(const struct req *r)
{
    return r->raw_query ? r->raw_query : "";
}

static const char *
clean(const char *v)
{
    return (v != NULL && str_utf8_clean(v, strlen(v), 1)) ? v : NULL;
}

const char *
req_query(struct req *r, const char *name)
{
    return clean(MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name));
}

const char *
req_cookie(struct req *r, const char *name)
{
    return clean(MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name));
}

const char *
req_header(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *
req_body(const struct req *r, size_t *len)
{
    *len = r->body.len;
    return r->body.data ? r->body.data : "";
}

const char *
req_client(const struct req *r)
{
    return r->client;
}

struct arena *
req_arena(struct req *r)
{
    return r->arena;
}

void *
req_ctx(const struct req *r)
{
    return r->srv->hooks.ctx;
}

void *
req_state(const struct req *r)
{
    return r->state;
}

void
req_set_state(struct req *r, void *state)
{
    r->state = state;
}

int
req_secure(const struct req *r)
{
    return r->srv->conf->base_https || r->srv->tls != NULL;
}

int
req_responded(const struct req *r)
{
    return r->responded;
}

int
req_status(const struct req *r)
{
    return r->status;
}

/* Parses the urlencoded body once. Sets form_error on a malformed escape, invalid UTF-8 or
 * too many fields; the first occurrence of a repeated name wins. */
static void
parse_form(struct req *r)
{
    if (r->form_parsed)
        return;
    r->form_parsed = 1;
    if (r->body.len == 0)
        return;
    char *copy = arena_strndup(r->arena, r->body.data, r->body.len);
    if (copy == NULL || strlen(copy) != r->body.len) {
        r->form_error = 1;
        return;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(tok, '=');
        char *value = eq ? eq + 1 : tok + strlen(tok);
        if (eq)
            *eq = '\0';
        long nl = str_url_decode(tok), vl = str_url_decode(value);
        if (nl < 0 || vl < 0 || (size_t)nl != strlen(tok) || (size_t)vl != strlen(value) ||
            !str_utf8_clean(tok, (size_t)nl, 0) || !str_utf8_clean(value, (size_t)vl, 1) ||
            r->n_form == MAX_FORM_FIELDS) {
            /* A %00 shortens the string: refused like any other malformed field. */
            r->form_error = 1;
            return;
        }
        int seen = 0;
        for (size_t i = 0; i < r->n_form; i++)
            seen |= strcmp(r->form[i].name, tok) == 0;
        if (!seen)
            r->form[r->n_form++] = (struct pair){tok, value};
    }
}

/* multipart/form-data, decoded by libmicrohttpd's post processor over the buffered body. */
struct mp_field {
    char *name;
    char *data;
    size_t len;
};

struct mp_state {
    struct mp_field fields[MAX_FORM_FIELDS];
    size_t n;
    int error;
};

static enum MHD_Result
mp_iterate(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
           const char *content_type, const char *transfer_encoding, const char *data, uint64_t off,
           size_t size)
{
    (void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
    struct mp_state *st = cls;
    if (key == NULL || st->error)
        return MHD_NO;
    struct mp_field *f = NULL;
    for (size_t i = 0; i < st->n && f == NULL; i++)
        if (strcmp(st->fields[i].name, key) == 0)
            f = &st->fields[i];
    if (f == NULL) {
        if (st->n == MAX_FORM_FIELDS || (f = &st->fields[st->n], !(f->name = strdup(key)))) {
            st->error = 1;
            return MHD_NO;
        }
        st->n++;
    }
    if (off != f->len) /* a repeated name: the first occurrence wins */
        return MHD_YES;
    char *grown = realloc(f->data, f->len + size + 1);
    if (grown == NULL) {
        st->error = 1;
        return MHD_NO;
    }
    memcpy(grown + f->len, data, size);
    f->data = grown;
    f->len += size;
    f->data[f->len] = '\0';
    return MHD_YES;
}

/* Fills r->form from a multipart body, under the same rules as the urlencoded one (UTF-8, no
 * NUL, at most MAX_FORM_FIELDS fields). */
static void
parse_multipart(struct req *r)
{
    r->form_parsed = 1;
    struct mp_state *st = calloc(1, sizeof *st);
    struct MHD_PostProcessor *pp =
        st ? MHD_create_post_processor(r->conn, 16 * 1024, mp_iterate, st) : NULL;
    if (pp == NULL || MHD_post_process(pp, r->body.data, r->body.len) != MHD_YES || st->error)
        r->form_error = 1;
    if (pp != NULL && MHD_destroy_post_processor(pp) != MHD_YES)
        r->form_error = 1;
    for (size_t i = 0; st != NULL && i < st->n; i++) {
        struct mp_field *f = &st->fields[i];
        const char *v = f->data ? f->data : "";
        if (!r->form_error &&
            (strlen(v) != f->len || !str_utf8_clean(f->name, strlen(f->name), 0) ||
             !str_utf8_clean(v, f->len, 1)))
            r->form_error = 1;
        if (!r->form_error) {
            char *name = arena_strdup(r->arena, f->name), *value = arena_strdup(r->arena, v);
            if (name == NULL || value == NULL)
                r->form_error = 1;
            else
                r->form[r->n_form++] = (struct pair){name, value};
        }
        free(f->name);
        free(f->data);
    }
    free(st);
}

const char *
req_form(struct req *r, const char *name)
{
    parse_form(r);
    if (r->form_error)
        return NULL;
    for (size_t i = 0; i < r->n_form; i++)
        if (strcmp(r->form[i].name, name) == 0)
            return r->form[i].value;
    return NULL;
}

/* ---- responses ---- */

int
req_add_header(struct req *r, const char *name, const char *value)
{
    if (r->n_headers == MAX_HEADERS || strpbrk(value, "\r\n") != NULL)
        return -1;
    r->headers[r->n_headers++] =
        (struct pair){arena_strdup(r->arena, name), arena_strdup(r->arena, value)};
    return 0;
}

int
req_set_cookie(struct req *r, const char *name, const char *value, long max_age)
{
    return req_set_cookie_domain(r, name, value, max_age, NULL);
}

int
req_set_cookie_domain(struct req *r, const char *name, const char *value, long max_age,
                      const char *domain)
{
    char age[48] = "";
    if (max_age >= 0)
        snprintf(age, sizeof age, "; Max-Age=%ld", max_age);
    int dom = domain != NULL && domain[0] != '\0';
    const char *v = arena_printf(r->arena, "%s=%s; Path=/%s%s; HttpOnly; SameSite=Lax%s%s", name,
                                 max_age == 0 ? "" : value, dom ? "; Domain=" : "",
                                 dom ? domain : "", age, req_secure(r) ? "; Secure" : "");
    return v ? req_add_header(r, "Set-Cookie", v) : -1;
}

int
req_peer_trusted(const struct req *r)
{
    return r->peer_trusted;
}

void
req_allow_form_targets(struct req *r, const char *origins)
{
    if (origins != NULL && origins[0] != '\0')
        r->csp = arena_printf(r->arena, "%s %s%s", CSP_HEAD, origins, CSP_TAIL);
}

void
req_allow_autopost(struct req *r, const char *script_sha256, const char *form_origin)
{
    r->csp = arena_printf(r->arena,
                          "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                          "script-src 'sha256-%s'; form-action %s" CSP_TAIL,
                          script_sha256, form_origin);
}

void
req_for_machine(struct req *r)
{
    r->for_machine = 1;
}

static void
add_security_headers(struct req *r, struct MHD_Response *resp)
{
    if (r->for_machine) {
        MHD_add_response_header(resp, "Cache-Control", "no-store");
        return;
    }
    MHD_add_response_header(resp, "Content-Security-Policy", r->csp ? r->csp : CSP);
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    if (r->route == NULL || !(r->route->flags & ROUTE_STATIC))
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    else
        MHD_add_response_header(resp, "Cache-Control", "public, max-age=3600");
    if (req_secure(r))
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

int
req_respond(struct req *r, int status, const char *content_type, const char *body, size_t len)
{
    if (r->responded)
        return 0;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return -1;
    add_security_headers(r, resp);
    if (content_type != NULL)
        MHD_add_response_header(resp, "Content-Type", content_type);
    for (size_t i = 0; i < r->n_headers; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    r->response = resp;
    r->responded = 1;
    r->status = status;
    r->bytes = len;
    return 0;
}

int
req_redirect(struct req *r, int status, const char *location)
{
    if (req_add_header(r, "Location", location) != 0)
        return -1;
    return req_respond(r, status, "text/plain; charset=utf-8", "", 0);
}

/* ---- dispatch ---- */

static const struct route *
find_route(struct http_server *s, const char *method, const char *path, int *mismatch)
{
    *mismatch = 0;
    for (size_t i = 0; i < s->n_routes; i++) {
        const struct route *rt = &s->routes[i];
        int match = (rt->flags & ROUTE_PREFIX) ? strncmp(path, rt->path, strlen(rt->path)) == 0
                                               : strcmp(path, rt->path) == 0;
        if (!match)
            continue;
        if (strcmp(rt->method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0))
            return rt;
        *mismatch = 1;
    }
    return NULL;
}

static void
fail(struct req *r, int status, const char *message)
{
    if (r->srv->hooks.error != NULL)
        r->srv->hooks.error(r, status, message);
    if (!r->responded)
        req_respond(r, status, "text/plain; charset=utf-8", message, strlen(message));
}

static int
content_type_is(struct req *r, const char *want)
{
    const char *ct = req_header(r, "Content-Type");
    size_t n = strlen(want);
    return ct != NULL && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';');
}

static void
run_handler(struct req *r)
{
    const struct route *rt = r->route;
    if (r->srv->hooks.before == NULL || r->srv->hooks.before(r, rt) == 0) {
        if (!r->responded)
            rt->handler(r);
    }
    if (!r->responded)
        fail(r, 500, "The server could not answer this request.");
}

/* Reserves a place in the queue: 0, or -1 when it is full. */
static int
job_reserve(struct job_pool *p)
{
    pthread_mutex_lock(&p->mu);
    int ok = p->queued < p->max_queued;
    if (ok)
        p->queued++;
    pthread_mutex_unlock(&p->mu);
    return ok ? 0 : -1;
}

/* Queues r in the place job_reserve kept for it. */
static void
job_submit(struct job_pool *p, struct req *r)
{
    atomic_store(&r->job, JOB_RUNNING);
    pthread_mutex_lock(&p->mu);
    r->next_job = NULL;
    if (p->tail != NULL)
        p->tail->next_job = r;
    else
        p->head = r;
    p->tail = r;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *
job_worker(void *arg)
{
    struct job_pool *p = arg;
    /* Linux keeps a nice value per thread: this lowers this worker's priority only. */
    if (p->nice != 0 && setpriority(PRIO_PROCESS, (id_t)gettid(), p->nice) != 0)
        log_warn("the SAML workers keep the default CPU priority: %s", strerror(errno));
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        struct req *r = p->head;
        if (r == NULL) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        p->head = r->next_job;
        if (p->head == NULL)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        run_handler(r);
        atomic_store(&r->job, JOB_DONE);
        MHD_resume_connection(r->conn);
    }
}

static int
jobs_start(struct job_pool *p, unsigned n, unsigned max_queued, int nice)
{
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (n > JOB_THREADS_MAX)
        n = JOB_THREADS_MAX;
    p->max_queued = max_queued;
    p->nice = nice;
    for (; p->n_threads < n; p->n_threads++)
        if (pthread_create(&p->threads[p->n_threads], NULL, job_worker, p) != 0)
            return -1;
    return 0;
}

static void
jobs_stop(struct job_pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    p->n_threads = 0;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
}

/* Hands a built response to libmicrohttpd (on its own thread). */
static void
queue_response(struct req *r)
{
    if (r->response == NULL)
        return;
    /* The route's latency is taken here, before the answer leaves: once the client has it, it
     * may read /metrics at once, before on_completed runs on this server's thread. */
    if (r->route != NULL) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        metrics_observe(metrics_route_of(r->route->method, r->route->path),
                        (double)(now.tv_sec - r->start.tv_sec) +
                            (double)(now.tv_nsec - r->start.tv_nsec) / 1e9);
    }
    MHD_queue_response(r->conn, (unsigned)r->status, r->response);
    MHD_destroy_response(r->response);
    r->response = NULL;
}

static void
dispatch(struct req *r)
{
    const struct route *rt = r->route;
    if (rt == NULL) {
        fail(r, r->method_mismatch ? 405 : 404,
             r->method_mismatch ? "This address does not accept that method."
                                : "There is no page at this address.");
        return;
    }
    if (r->too_large) {
        fail(r, 413, "The request is too large.");
        return;
    }
    if ((rt->flags & ROUTE_FORM) && r->body.len > 0) {
        int multipart = (rt->flags & ROUTE_MULTIPART) && content_type_is(r, "multipart/form-data");
        if (!multipart && !content_type_is(r, "application/x-www-form-urlencoded")) {
            fail(r, 415,
                 (rt->flags & ROUTE_MULTIPART)
                     ? "The form must be sent as application/x-www-form-urlencoded or "
                       "multipart/form-data."
                     : "The form must be sent as application/x-www-form-urlencoded.");
            return;
        }
        if (multipart)
            parse_multipart(r);
        else
            parse_form(r);
        if (r->form_error) {
            fail(r, 400,
                 "The form could not be read: it has a malformed field, invalid "
                 "characters or too many fields.");
            return;
        }
    }
    if ((rt->flags & ROUTE_JSON) && !content_type_is(r, "application/json")) {
        fail(r, 415, "The request body must be application/json.");
        return;
    }
    struct job_pool *pool = (rt->flags & ROUTE_SAML)       ? &r->srv->saml_jobs
                            : (rt->flags & ROUTE_BLOCKING) ? &r->srv->jobs
                                                           : NULL;
    if (pool != NULL && pool->n_threads > 0) {
        if (job_reserve(pool) != 0) {
            req_add_header(r, "Retry-After", POOL_RETRY_AFTER);
            fail(r, 503, "The server is busy. Try again in a moment.");
            return;
        }
        if (r->srv->hooks.admit != NULL && r->srv->hooks.admit(r, rt) != 0) {
            pthread_mutex_lock(&pool->mu);
            pool->queued--;
            pthread_mutex_unlock(&pool->mu);
            return;
        }
        /* Resumed by the job pool once the handler has built its response. */
        MHD_suspend_connection(r->conn);
        job_submit(pool, r);
        return;
    }
    run_handler(r);
}

static int
trusted_proxy(struct http_server *s, int family, const unsigned char *addr)
{
    pthread_rwlock_rdlock(&s->proxies_mu);
    int yes = conf_cidr_match(s->proxies, s->n_proxies, family, addr);
    pthread_rwlock_unlock(&s->proxies_mu);
    return yes;
}

void
http_apply_conf(struct http_server *s, const struct conf *conf)
{
    s->access_log = conf->access_log;
    s->max_body_bytes = conf->max_body_bytes;
    pthread_rwlock_wrlock(&s->proxies_mu);
    memcpy(s->proxies, conf->trusted_proxies, sizeof s->proxies);
    s->n_proxies = conf->n_trusted_proxies;
    pthread_rwlock_unlock(&s->proxies_mu);
}

static void
set_client(struct req *r)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(r->client, sizeof r->client, "-");
    if (ci == NULL || ci->client_addr == NULL)
        return;
    const struct sockaddr *sa = ci->client_addr;
    unsigned char raw[16];
    int family = sa->sa_family;
    if (family == AF_INET) {
        memcpy(raw, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (family == AF_INET6) {
        memcpy(raw, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
    } else {
        return;
    }
    inet_ntop(family, raw, r->client, sizeof r->client);
    if (!trusted_proxy(r->srv, family, raw))
        return;
    r->peer_trusted = 1;
    /* Behind a trusted proxy: the right-most X-Forwarded-For entry that is not a trusted proxy. */
    const char *xff = req_header(r, "X-Forwarded-For");
    if (xff == NULL || strlen(xff) > 1024)
        return;
    char *copy = arena_strdup(r->arena, xff);
    char *entries[32];
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, ", ", &save); t && n < 32; t = strtok_r(NULL, ", ", &save))
        entries[n++] = t;
    while (n > 0) {
        const char *e = entries[--n];
        unsigned char a[16];
        int fam = strchr(e, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(fam, e, a) != 1)
            return;
        snprintf(r->client, sizeof r->client, "%s", e);
        if (!trusted_proxy(r->srv, fam, a))
            return;
    }
}

/* MHD's URI log callback: the first sight of a request, with its URI as received. The request
 * starts here so that the undecoded query string is kept (a signed HTTP-Redirect binding message
 * is verified over its exact bytes). */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)conn;
    struct arena *a = arena_new();
    struct req *r = a ? arena_alloc(a, sizeof *r) : NULL;
    if (r == NULL) {
        arena_free(a);
        return NULL;
    }
    r->arena = a;
    const char *q = uri ? strchr(uri, '?') : NULL;
    r->raw_query = arena_strdup(a, q ? q + 1 : "");
    return r;
}

static struct req *
req_start(struct req *r, struct http_server *s, struct MHD_Connection *conn, const char *url,
          const char *method)
{
    struct arena *a = r->arena;
    r->started = 1;
    r->srv = s;
    r->conn = conn;
    r->arena = a;
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    r->method = arena_strdup(a, method);
    r->path = arena_strdup(a, url);
    r->content_length = -1;
    buf_init(&r->body, 0);
    set_client(r);
    r->route = find_route(s, r->method, r->path, &r->method_mismatch);
    size_t max = (r->route && r->route->max_body) ? r->route->max_body : (size_t)s->max_body_bytes;
    /* Routes without a body type take none. */
    if (r->route != NULL && !(r->route->flags & (ROUTE_FORM | ROUTE_JSON)))
        max = 0;
    r->body.max = max;
    const char *cl = req_header(r, "Content-Length");
    if (cl != NULL) {
        const char *e;
        long long n = str_to_num(cl, 0, (long long)1 << 40, &e);
        if (e != NULL || (size_t)n > max)
            r->too_large = 1;
    }
    return r;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct req *r = *req_cls;
    if (r == NULL)
        return MHD_NO; /* out of memory in on_uri */
    if (!r->started) {
        req_start(r, s, conn, url, method);
        atomic_fetch_add(&s->in_flight, 1);
        if (r->too_large) {
            /* Answer before reading the body: MHD then closes the connection. */
            dispatch(r);
            queue_response(r);
        }
        return MHD_YES;
    }
    if (atomic_load(&r->job) == JOB_RUNNING)
        return MHD_YES;
    if (*upload_data_size > 0) {
        if (!r->too_large && buf_append(&r->body, upload_data, *upload_data_size) != 0)
            r->too_large = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!r->responded)
        dispatch(r);
    queue_response(r);
    return MHD_YES;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    struct http_server *s = cls;
    struct req *r = *req_cls;
    if (r == NULL)
        return;
    if (!r->started) {
        /* Closed before its headers were complete. */
        arena_free(r->arena);
        *req_cls = NULL;
        return;
    }
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double ms = (double)(end.tv_sec - r->start.tv_sec) * 1e3 +
                (double)(end.tv_nsec - r->start.tv_nsec) / 1e6;
    if (s->access_log) {
        log_info("access method=%s path=\"%s\" status=%d bytes=%zu ms=%.1f client=%s%s",
                 str_log_escape(r->arena, r->method, 16), str_log_escape(r->arena, r->path, 200),
                 r->status, r->bytes, ms, r->client,
                 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
    }
    if (r->response != NULL)
        MHD_destroy_response(r->response);
    buf_free(&r->body);
    arena_free(r->arena);
    *req_cls = NULL;
    atomic_fetch_sub(&s->in_flight, 1);
}

struct http_server *
http_start(const struct conf *conf, const struct route *routes, size_t n_routes,
           const struct http_hooks *hooks, char *err, size_t errlen)
{
    struct http_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->conf = conf;
    pthread_rwlock_init(&s->proxies_mu, NULL);
    http_apply_conf(s, conf);
    s->routes = routes;
    s->n_routes = n_routes;
    s->hooks = *hooks;

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, conf->listen_host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)conf->listen_port);
    } else if (inet_pton(AF_INET6, conf->listen_host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)conf->listen_port);
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "listen: %s is not an IP address", conf->listen_host);
        free(s);
        return NULL;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads =
        conf->threads > 0 ? (unsigned)conf->threads : (unsigned)(cpus > 0 ? cpus : 2);
    /* One worker per core in each pool: argon2 and lasso are CPU-bound. */
    unsigned per_core = (unsigned)(cpus > 0 ? cpus : 2);
    if (jobs_start(&s->jobs, per_core, (unsigned)conf->hash_queue, 0) != 0 ||
        jobs_start(&s->saml_jobs, per_core, (unsigned)conf->saml_queue, SAML_NICE) != 0) {
        snprintf(err, errlen, "cannot start worker threads");
        jobs_stop(&s->jobs);
        jobs_stop(&s->saml_jobs);
        free(s);
        return NULL;
    }
    /* TLS: GnuTLS asks tls.c for the certificate at each handshake, so a reload on SIGHUP
     * reaches new connections while open ones keep theirs. */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}, {MHD_OPTION_END, 0, NULL}};
    if (conf->tls_cert_file[0] != '\0') {
        s->tls = tls_from_conf(conf, err, errlen);
        if (s->tls == NULL) {
            jobs_stop(&s->jobs);
            free(s);
            return NULL;
        }
        flags |= MHD_USE_TLS;
        tls_opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
                                              (void *)(uintptr_t)tls_mhd_callback(s->tls)};
        tls_opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                              (void *)(uintptr_t)TLS_PRIORITIES};
    }
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)conf->listen_port, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, tls_opts,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_SECONDS,
        MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY, MHD_OPTION_END);
    if (s->daemon == NULL) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", conf->listen_host, conf->listen_port,
                 errno ? strerror(errno) : "libmicrohttpd refused to start");
        jobs_stop(&s->jobs);
        jobs_stop(&s->saml_jobs);
        tls_free(s->tls);
        free(s);
        return NULL;
    }
    log_info("listening addr=%s:%d threads=%u tls=%s", conf->listen_host, conf->listen_port,
             threads, s->tls ? "on" : "off");
    return s;
}

void
http_stop(struct http_server *s)
{
    if (s == NULL)
        return;
    /* Stop accepting, then wait for in-flight requests before tearing down. Not with
     * MHD_quiesce_daemon(): in libmicrohttpd 0.9.75 with epoll and a thread pool it races the
     * workers, which remove the same listen FD from epoll and abort the process on ENOENT
     * (MHD_PANIC "Failed to remove listen FD from epoll set", seen under ASan). Instead the
     * listening socket is swapped, under the same descriptor number, for an unbound socket:
     * closing the last reference drops it from every epoll set at once (so the workers never
     * see it again), new connections are refused by the kernel, and MHD_stop_daemon later
     * closes the placeholder as if it were its own. */
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    int placeholder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (info != NULL && info->listen_fd != MHD_INVALID_SOCKET && placeholder >= 0)
        dup2(placeholder, info->listen_fd);
    if (placeholder >= 0)
        close(placeholder);
    for (int waited = 0; waited < SHUTDOWN_GRACE_MS; waited += 50) {
        if (atomic_load(&s->in_flight) == 0)
            break;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->daemon);
    jobs_stop(&s->jobs);
    jobs_stop(&s->saml_jobs);
    tls_free(s->tls);
    pthread_rwlock_destroy(&s->proxies_mu);
    free(s);
}

int
http_reload_tls(struct http_server *s, char *err, size_t errlen)
{
    if (s->tls == NULL)
        return 0;
    return tls_reload(s->tls, s->conf->tls_cert_file, s->conf->tls_key_file, err, errlen);
}
