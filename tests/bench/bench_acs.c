/* tests/bench/bench_acs.c: in-process SAML response validation rates on this machine, the floor
 * under POST /saml/acs. Two figures per thread count: lasso alone (a fresh LassoLogin per
 * response on the LassoServer Gatehouse builds, with the IdP's bare keys in front: what lasso
 * verifies), and Gatehouse's sp_acs_process (lasso
 * plus every check of our own: shape, audience, windows, recipient, destination). No store, no
 * HTTP. Prints figures; asserts nothing.
 * usage: bench_acs SP_METADATA SP_KEY SP_CERT IDP_METADATA RESPONSES SECONDS ENTITY_ID ACS_URL */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lasso/lasso.h>

#include "sp/sp.h"
#include "sp/sp_acs.h"

LassoServer *sp_lasso_server(const struct sp *sp);

struct run {
    const struct sp *sp;
    char **responses;
    size_t n;
    size_t first, stride; /* this thread's share: first, first + stride, ... */
    int lasso_only;
    const struct sp_expect *e;
    double seconds;
    unsigned long done, failed;
};

static double
now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *
worker(void *arg)
{
    struct run *r = arg;
    double end = now_s() + r->seconds;
    size_t i = r->first;
    while (now_s() < end) {
        const char *b64 = r->responses[i];
        if (r->lasso_only) {
            LassoLogin *login = lasso_login_new(sp_lasso_server(r->sp));
            char *msg = strdup(b64);
            if (login == NULL || msg == NULL ||
                lasso_login_process_authn_response_msg(login, msg) != 0)
                r->failed++;
            free(msg);
            if (login != NULL)
                g_object_unref(login);
        } else {
            struct sp_verdict v;
            if (sp_acs_process(r->sp, b64, strlen(b64), r->e, &v) != SP_OK)
                r->failed++;
            sp_verdict_free(&v);
        }
        r->done++;
        i += r->stride;
        if (i >= r->n)
            i = r->first;
    }
    return NULL;
}

static void
measure(const char *what, const struct sp *sp, char **responses, size_t n, int threads,
        int lasso_only, const struct sp_expect *e, double seconds)
{
    struct run runs[8];
    pthread_t tids[8];
    for (int t = 0; t < threads; t++) {
        runs[t] = (struct run){sp,         responses, n,       (size_t)t, (size_t)threads,
                               lasso_only, e,         seconds, 0,         0};
        pthread_create(&tids[t], NULL, worker, &runs[t]);
    }
    unsigned long done = 0, failed = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        done += runs[t].done;
        failed += runs[t].failed;
    }
    printf("in-process %-44s %d thread%s: %8.0f/s%s\n", what, threads, threads > 1 ? "s" : " ",
           (double)done / seconds, failed ? "  (some refused: see below)" : "");
    if (failed)
        printf("  %lu of %lu refused\n", failed, done);
}

int
main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: bench_acs SP_METADATA SP_KEY SP_CERT IDP_METADATA RESPONSES "
                        "SECONDS ENTITY_ID ACS_URL\n");
        return 2;
    }
    char err[512];
    if (sp_global_init(err, sizeof err) != 0) {
        fprintf(stderr, "bench_acs: %s\n", err);
        return 1;
    }
    char *sp_md = sp_read_file(argv[1], 1 << 20, NULL, err, sizeof err);
    char *idp_md = sp_md ? sp_read_file(argv[4], 1 << 20, NULL, err, sizeof err) : NULL;
    size_t len = 0;
    char *text = idp_md ? sp_read_file(argv[5], 1 << 30, &len, err, sizeof err) : NULL;
    struct sp *sp = text ? sp_new(sp_md, argv[2], argv[3], err, sizeof err) : NULL;
    if (sp == NULL || sp_add_idp(sp, idp_md, err, sizeof err) != 0) {
        fprintf(stderr, "bench_acs: %s\n", err);
        return 1;
    }
    size_t n = 0, cap = 1024;
    char **responses = malloc(cap * sizeof *responses);
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && responses;
         line = strtok_r(NULL, "\n", &save)) {
        if (n == cap)
            responses = realloc(responses, (cap *= 2) * sizeof *responses);
        if (responses)
            responses[n++] = line;
    }
    if (responses == NULL || n < 2) {
        fprintf(stderr, "bench_acs: %s: need at least two responses, one per line\n", argv[5]);
        return 1;
    }
    double seconds = strtod(argv[6], NULL);
    if (seconds <= 0)
        seconds = 3;
    struct sp_expect e = {argv[7], argv[8], 180, time(NULL), NULL, NULL, 0}; /* 0: no age limit */
    for (int threads = 1; threads <= 2; threads++) {
        measure("lasso_login_process_authn_response_msg", sp, responses, n, threads, 1, &e,
                seconds);
        measure("sp_acs_process (lasso + Gatehouse's checks)", sp, responses, n, threads, 0, &e,
                seconds);
    }
    sp_free(sp);
    free(responses);
    free(text);
    free(idp_md);
    free(sp_md);
    sp_global_cleanup();
    return 0;
}
