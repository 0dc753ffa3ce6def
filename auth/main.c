/* auth/main.c: bin/gatehouse — argv, configuration, wiring, signals. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "clock.h"
#include "federation.h"
#include "http.h"
#include "idp_source.h"
#include "log.h"
#include "mailer.h"
#include "ratelimit.h"
#include "reset.h"
#include "routes.h"
#include "sp/sp.h"
#include "store.h"
#include "tls.h"
#include "web.h"

#define DEFAULT_CONF "conf/gatehouse.conf"
#define PRUNE_SECONDS 60
/* Due metadata fetches are looked for this often (a query on a small table). */
#define TICK_SECONDS 10

static void
usage(void)
{
    fprintf(stderr, "usage: gatehouse [-c FILE] [-t] [-p conf|man|routes|reload]\n"
                    "  -c FILE  configuration file (default " DEFAULT_CONF ")\n"
                    "  -t       check the configuration and exit\n"
                    "  -p conf  print every setting with its default (conf/gatehouse.conf)\n"
                    "  -p man   print the settings section of gatehouse.conf(5)\n"
                    "  -p routes print the admin pages and admin API routes (with the\n"
                    "           permission each API route needs)\n"
                    "  -p reload print which keys SIGHUP reloads (Markdown, README)\n");
}

/* Every admin page and admin API route, one per line: "METHOD PATH [PERMISSION]". */
static int
print_admin_routes(void)
{
    size_t n;
    const struct route *t = routes_table(&n);
    for (size_t i = 0; i < n; i++)
        if (strncmp(t[i].path, "/admin", 6) == 0)
            printf("%s %s\n", t[i].method, t[i].path);
    const char *method, *perm, *pattern;
    for (size_t i = 0; (pattern = admin_api_route(i, &method, &perm)) != NULL; i++)
        printf("%s /api/admin/%s %s\n", method, pattern, perm);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* Whether this node runs the periodic job now: nodes sharing a PostgreSQL store take turns by
 * a lock that the holder keeps while it lives (SQLite: always this node). Logged when the turn
 * comes to this node, so the logs show which node runs what. */
static int
job_turn(struct app *a, struct store *s, const char *job, int *held)
{
    int mine = s != NULL && store_try_job_lock(s, job) == 1;
    if (mine && !*held)
        log_info("periodic job runs on this node job=%s node=%s", job, a->conf.node_name);
    *held = mine;
    return mine;
}

/* Deletes what has outlived its purpose: ended sessions, old SAML state and log rows. */
static void
prune(struct app *a, int *held)
{
    struct store *s = app_store(a);
    if (!job_turn(a, s, "prune", held))
        return;
    struct policy p;
    app_policy(a, s, &p);
    time_t now = clock_now();
    struct app_live *l = app_live_acquire(a);
    store_session_prune(s, now - (time_t)p.web_idle_minutes * 60,
                        now - (time_t)p.client_idle_minutes * 60,
                        now - (time_t)l->conf.session_max_hours * 3600);
    /* Expired requests and assertion IDs, and log rows past their retention. */
    store_saml_prune(s, now, now - (time_t)l->conf.saml_log_days * 86400);
    if (l->conf.audit_days > 0)
        store_audit_prune(s, now - (time_t)l->conf.audit_days * 86400);
    app_live_release(a, l);
    store_mfa_pending_prune(s, now);
    store_signin_prune(s, now - 30 * 86400);
    store_reset_prune(s, now - RESET_WINDOW_SECONDS, now - RESET_TOKEN_KEEP_SECONDS);
}

/* IdPs registered from a metadata URL whose next fetch is due (idp_source.c). A fetch that
 * fails keeps the stored metadata; the IdP works on. */
static void
refresh_metadata(struct app *a, int *held)
{
    struct store *s = app_store(a);
    if (!job_turn(a, s, "metadata", held))
        return;
    struct app_live *l = app_live_acquire(a);
    idp_refresh_due(s, l->conf.sp_metadata_ca_file);
    federation_refresh_due(s, l->conf.sp_metadata_ca_file);
    app_live_release(a, l);
}

/* [server] pid_file: where `gatehousectl config reload` finds the process to send SIGHUP. */
static int
write_pid_file(const char *path)
{
    if (path[0] == '\0')
        return 0;
    FILE *f = fopen(path, "w");
    if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
        fprintf(stderr, "gatehouse: %s: cannot write the pid file: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void
bootstrap_hint(struct app *a)
{
    long long n = 0;
    struct store *s = app_store(a);
    if (s != NULL && store_user_count(s, NULL, &n) == 0 && n == 0)
        log_warn("the store has no users yet: create the first owner with "
                 "`bin/gatehousectl -c %s user add --email YOU@EXAMPLE.COM --role owner`",
                 a->conf.path);
}

int
main(int argc, char **argv)
{
    const char *conf_path = DEFAULT_CONF;
    int test_only = 0, opt;
    while ((opt = getopt(argc, argv, "c:thp:")) != -1) {
        switch (opt) {
        case 'p':
            if (strcmp(optarg, "routes") == 0)
                return print_admin_routes();
            if (strcmp(optarg, "conf") != 0 && strcmp(optarg, "man") != 0 &&
                strcmp(optarg, "reload") != 0) {
                usage();
                return 2;
            }
            conf_print(stdout, strcmp(optarg, "man") == 0      ? CONF_PRINT_MAN
                               : strcmp(optarg, "reload") == 0 ? CONF_PRINT_RELOAD
                                                               : CONF_PRINT_INI);
            return fflush(stdout) == 0 ? 0 : 1;
        case 'c':
            conf_path = optarg;
            break;
        case 't':
            test_only = 1;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (optind != argc) {
        usage();
        return 2;
    }
    /* Block the stop signals in every thread; the main thread waits for them below. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP); /* reload the TLS certificate and the configuration file */
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Past RLIMIT_FSIZE a write fails with EFBIG instead of killing the process: the store
     * reports the error, sign-ins answer 503 and /readyz says why. */
    signal(SIGXFSZ, SIG_IGN);

    static struct app app;
    char err[1024];
    if (sp_global_init(err, sizeof err) != 0) {
        fprintf(stderr, "gatehouse: %s\n", err);
        return 1;
    }
    if (app_init(&app, conf_path,
                 test_only ? APP_TEMPLATES : APP_STORE | APP_SECRETS | APP_TEMPLATES | APP_SP, err,
                 sizeof err) != 0) {
        fprintf(stderr, "gatehouse: %s\n", err);
        app_free(&app);
        return 1;
    }
    if (test_only && app.conf.tls_cert_file[0] != '\0') {
        struct tls *t = tls_from_conf(&app.conf, err, sizeof err);
        tls_free(t);
        if (t == NULL) {
            fprintf(stderr, "gatehouse: %s\n", err);
            app_free(&app);
            return 1;
        }
    }
    if (test_only) {
        printf("gatehouse: %s: configuration OK\n", conf_path);
        app_free(&app);
        return 0;
    }
    /* A corrupt store is found now, not by the first sign-in that reads the bad page. */
    struct store *store = app_store(&app);
    if (store == NULL || store_integrity_check(store, err, sizeof err) != 0) {
        fprintf(stderr, "gatehouse: %s\n", store ? err : "cannot open the store");
        app_free(&app);
        return 1;
    }
    /* Reset e-mails leave from their own thread; none without an [smtp] host. */
    if (app.conf.smtp_host[0] != '\0')
        app.mailer = mailer_start(&app.conf, err, sizeof err);
    if (app.conf.smtp_host[0] != '\0' && app.mailer == NULL) {
        fprintf(stderr, "gatehouse: %s\n", err);
        app_free(&app);
        return 1;
    }
    size_t n_routes;
    const struct route *routes = routes_table(&n_routes);
    app.acs_limit = ratelimit_new(app.conf.acs_refusals_per_minute);
    struct http_hooks hooks = {
        .ctx = &app, .before = web_before, .error = web_error, .admit = web_admit};
    struct http_server *srv = http_start(&app.conf, routes, n_routes, &hooks, err, sizeof err);
    if (srv == NULL) {
        fprintf(stderr, "gatehouse: %s\n", err);
        mailer_stop(app.mailer);
        app_free(&app);
        return 1;
    }
    if (write_pid_file(app.conf.pid_file) != 0) {
        http_stop(srv);
        mailer_stop(app.mailer);
        app_free(&app);
        return 1;
    }
    /* Not the conninfo: it may hold a password. */
    log_info("gatehouse started base_url=%s node=%s store=%s", app.conf.base_url,
             app.conf.node_name,
             strcmp(app.conf.store_driver, "postgres") == 0 ? "postgres" : app.conf.store_path);
    bootstrap_hint(&app);
    unsigned ticks = 0;
    int prune_held = 0, metadata_held = 0; /* this node's turn at each periodic job */
    prune(&app, &prune_held); /* retention applies from the start, not a minute later */
    for (;;) {
        struct timespec ts = {TICK_SECONDS, 0};
        int sig = sigtimedwait(&stop, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            log_info("signal=%d: finishing in-flight requests", sig);
            break;
        }
        if (sig == SIGHUP && http_reload_tls(srv, err, sizeof err) != 0)
            log_error("SIGHUP: TLS certificate not reloaded, the one in use stays: %s", err);
        else if (sig == SIGHUP && app.conf.tls_cert_file[0] != '\0')
            log_info("SIGHUP: TLS certificate reloaded from %s", app.conf.tls_cert_file);
        if (sig == SIGHUP && app_reload(&app, err, sizeof err) != 0) {
            log_error("configuration not reloaded (the configuration in force stays): %s", err);
        } else if (sig == SIGHUP) {
            struct app_live *l = app_live_acquire(&app);
            http_apply_conf(srv, &l->conf);
            app_live_release(&app, l);
        }
        if (sig < 0 && errno == EAGAIN) {
            if (++ticks % (PRUNE_SECONDS / TICK_SECONDS) == 0)
                prune(&app, &prune_held);
            refresh_metadata(&app, &metadata_held);
        }
    }
    if (app.conf.pid_file[0] != '\0')
        unlink(app.conf.pid_file);
    http_stop(srv);
    mailer_stop(app.mailer); /* after the listener: nothing queues mail any more */
    app.mailer = NULL;
    ratelimit_free(app.acs_limit);
    app.acs_limit = NULL;
    app_free(&app);
    sp_global_cleanup();
    log_info("stopped cleanly");
    return 0;
}
