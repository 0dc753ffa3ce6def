/* auth/route_api.c: the JSON API (whoami, client sign-in), health, metrics, static files. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "app.h"
#include "arena.h"
#include "buf.h"
#include "idp_health.h"
#include "clock.h"
#include "http.h"
#include "log.h"
#include "login.h"
#include "metrics.h"
#include "sp/sp.h"
#include "mfa.h"
#include "pwhash.h"
#include "routes.h"
#include "session.h"
#include "store.h"
#include "str.h"
#include "web.h"

int
route_api_whoami(struct req *r)
{
    struct web *w = web_of(r);
    if (!w->signed_in)
        return web_json_error(r, 401, "unauthenticated", "Sign in first.");
    const struct user *u = &w->user;
    int saml = strcmp(u->auth_method, "saml") == 0;
    json_t *o =
        json_pack("{s:I, s:s, s:s?, s:s?, s:s, s:s, s:b}", "user_id", (json_int_t)u->id, "email",
                  u->email, "name_id", saml ? u->name_id : NULL, "idp", saml ? u->idp : NULL,
                  "role", u->role, "auth_method", u->auth_method, "mfa", u->mfa_enabled);
    return web_json(r, 200, o);
}

/* The TOTP (or recovery) code of a client sign-in: 0 when right, else the error is answered. */
static int
api_second_factor(struct req *r, const struct user *u, const char *code)
{
    struct web *w = web_of(r);
    if (code[0] == '\0') {
        web_json_error(r, 401, "mfa_required",
                       "Two-step verification is on: send the code as \"totp\".");
        return -1;
    }
    time_t until = 0;
    int recovery = 0;
    char buf[40];
    switch (mfa_verify(w->app, w->store, u, code, &until, &recovery)) {
    case MFA_OK:
        login_completed(w->store, u->email);
        store_user_set_login(w->store, u->id, w->now);
        return 0;
    case MFA_BAD:
        web_signin_event(r, "password", "failure");
        web_json_error(r, 401, "invalid_totp", "The code is not correct or has been used.");
        return -1;
    case MFA_LOCKED:
        web_signin_event(r, "password", "locked");
        web_json(r, 429,
                 json_pack("{s:s, s:s, s:s}", "error", "locked", "message",
                           "Too many failed attempts: sign-in for this address is locked.",
                           "locked_until", clock_iso(until, buf, sizeof buf)));
        return -1;
    case MFA_ERROR:
        break;
    }
    web_json_error(r, 500, "internal", "Sign-in is not available right now.");
    return -1;
}

int
route_api_login(struct req *r)
{
    struct web *w = web_of(r);
    size_t len;
    const char *body = req_body(r, &len);
    json_error_t jerr;
    json_t *in = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *email = NULL, *password = NULL, *totp = NULL;
    if (in == NULL ||
        json_unpack(in, "{s:s, s:s, s?:s}", "email", &email, "password", &password, "totp",
                    &totp) != 0 ||
        strlen(email) > 254 || strlen(password) > 1024 ||
        !str_utf8_clean(password, strlen(password), 0) || (totp != NULL && strlen(totp) > 64)) {
        json_decref(in);
        return web_json_error(r, 400, "bad_request",
                              "Send {\"email\": \"...\", \"password\": \"...\"} as JSON, with "
                              "\"totp\": \"123456\" when two-step verification is on.");
    }
    struct login_outcome o;
    login_password(w->app, w->store, email, password, req_client(r), LOGIN_VIA_API, &o);
    char code[65];
    snprintf(code, sizeof code, "%s", totp ? totp : "");
    json_decref(in);
    if (o.result != LOGIN_OK) {
        const struct login_answer *ans = login_answer(o.result);
        web_signin_event(r, "password", ans->event);
        if (o.result != LOGIN_LOCKED)
            return web_json_error(r, ans->status, ans->code, ans->message);
        char until[40], retry[24];
        snprintf(retry, sizeof retry, "%lld", (long long)(o.locked_until - w->now));
        req_add_header(r, "Retry-After", retry);
        return web_json(r, ans->status,
                        json_pack("{s:s, s:s, s:s}", "error", ans->code, "message", ans->message,
                                  "locked_until", clock_iso(o.locked_until, until, sizeof until)));
    }
    if (o.enrol)
        return web_json_error(r, 403, "mfa_enrolment_required",
                              "Two-step verification is required: sign in through the browser "
                              "and set it up first.");
    if (o.mfa) {
        int rc = api_second_factor(r, &o.user, code);
        OPENSSL_cleanse(code, sizeof code);
        if (rc != 0)
            return 0;
    }
    web_signin_event(r, "password", "success");
    if (o.change != PW_CHANGE_NONE)
        return web_json_error(r, 403, "password_change_required",
                              "Sign in through the browser and change your password first.");
    struct session_new n = {.user_id = o.user.id, .kind = SESSION_CLIENT, .mfa = o.mfa};
    char token[SESSION_TOKEN_LEN + 1];
    if (web_start_session(r, &n, token) != 0)
        return web_json_error(r, 500, "internal", "The session could not be created.");
    log_info("sign-in method=password kind=client user_id=%lld client=%s", o.user.id,
             req_client(r));
    return web_json(r, 200,
                    json_pack("{s:s, s:I}", "token", token, "expires_in",
                              (json_int_t)timeout_idle_seconds(&w->policy, SESSION_CLIENT)));
}

int
route_api_logout(struct req *r)
{
    struct web *w = web_of(r);
    if (!w->signed_in)
        return web_json_error(r, 401, "unauthenticated", "No session.");
    store_session_delete(w->store, w->session_hash);
    return req_respond(r, 204, NULL, "", 0);
}

int
route_healthz(struct req *r)
{
    struct web *w = web_of(r);
    if (store_health(w->store) != 0)
        return req_respond(r, 503, "text/plain; charset=utf-8", "store unavailable\n", 18);
    return req_respond(r, 200, "text/plain; charset=utf-8", "ok\n", 3);
}

int
route_metrics(struct req *r)
{
    struct web *w = web_of(r);
    const struct metrics *m = &w->app->metrics;
    struct buf b;
    /* The refusal table and the IdP certificate rows are bounded: see metrics.h. */
    buf_init(&b, 256 * 1024);
    buf_printf(&b,
               "# HELP gatehouse_logins_total Sign-in attempts (any method) by result.\n"
               "# TYPE gatehouse_logins_total counter\n"
               "gatehouse_logins_total{result=\"success\"} %lu\n"
               "gatehouse_logins_total{result=\"failure\"} %lu\n"
               "gatehouse_logins_total{result=\"locked\"} %lu\n",
               atomic_load(&m->login_success), atomic_load(&m->login_failure),
               atomic_load(&m->login_locked));
    unsigned long runs;
    double argon2_cpu;
    pwhash_stats(&runs, &argon2_cpu);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    buf_printf(&b,
               "# HELP gatehouse_argon2_runs_total Password hashes and verifications.\n"
               "# TYPE gatehouse_argon2_runs_total counter\n"
               "gatehouse_argon2_runs_total %lu\n"
               "# HELP gatehouse_argon2_cpu_seconds_total CPU time spent inside argon2.\n"
               "# TYPE gatehouse_argon2_cpu_seconds_total counter\n"
               "gatehouse_argon2_cpu_seconds_total %.6f\n"
               "# HELP process_cpu_seconds_total User and system CPU time of the server.\n"
               "# TYPE process_cpu_seconds_total counter\n"
               "process_cpu_seconds_total %.6f\n",
               runs, argon2_cpu, cpu);
    struct sp_idp_stats st;
    if (app_sp_stats(w->app, &st) == 0)
        buf_printf(&b,
                   "# HELP gatehouse_saml_idp_providers IdP providers built and kept in the SAML "
                   "state (each built at the IdP's first use; at most _max, least recently "
                   "used dropped first).\n"
                   "# TYPE gatehouse_saml_idp_providers gauge\n"
                   "gatehouse_saml_idp_providers %zu\n"
                   "# TYPE gatehouse_saml_idp_providers_max gauge\n"
                   "gatehouse_saml_idp_providers_max %zu\n"
                   "# HELP gatehouse_saml_idp_provider_builds_total IdP providers built (first "
                   "use, or metadata changed).\n"
                   "# TYPE gatehouse_saml_idp_provider_builds_total counter\n"
                   "gatehouse_saml_idp_provider_builds_total %lu\n"
                   "# TYPE gatehouse_saml_idp_provider_evictions_total counter\n"
                   "gatehouse_saml_idp_provider_evictions_total %lu\n"
                   "# HELP gatehouse_saml_idp_registry_reads_total IdP metadata read from the "
                   "registry by the SAML state (first uses, checks after a registry change).\n"
                   "# TYPE gatehouse_saml_idp_registry_reads_total counter\n"
                   "gatehouse_saml_idp_registry_reads_total %lu\n",
                   st.loaded, st.max, st.built, st.evicted, st.checked);
    struct metrics_gauges g = {0};
    time_t now = w->now;
    g.sessions_ok =
        store_session_count_active(w->store, now - (time_t)w->policy.web_idle_minutes * 60,
                                   now - (time_t)w->policy.client_idle_minutes * 60,
                                   now - (time_t)w->live->conf.session_max_hours * 3600,
                                   &g.sessions_web, &g.sessions_client) == 0;
    metrics_print(&b, &g);
    idp_health_metrics(w->store, now, &b);
    int rc = req_respond(r, 200, "text/plain; version=0.0.4", b.data ? b.data : "", b.len);
    buf_free(&b);
    return rc;
}

int
route_static(struct req *r)
{
    struct web *w = web_of(r);
    const char *name = req_path(r) + strlen("/static/");
    /* One flat folder of known files: no path separators, no dot files. */
    if (strcmp(name, "gatehouse.css") != 0) {
        web_error(r, 404, "There is no file at this address.");
        return 0;
    }
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", w->app->conf.templates_dir, name);
    FILE *f = fopen(path, "r");
    char data[64 * 1024];
    size_t n = f ? fread(data, 1, sizeof data, f) : 0;
    if (f != NULL)
        fclose(f);
    if (n == 0) {
        web_error(r, 404, "There is no file at this address.");
        return 0;
    }
    return req_respond(r, 200, "text/css; charset=utf-8", data, n);
}
