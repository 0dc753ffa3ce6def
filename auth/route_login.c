/* auth/route_login.c: the sign-in page, sign-out, and the signed-in landing page. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "audit.h"
#include "clock.h"
#include "http.h"
#include "log.h"
#include "login.h"
#include "policy/expiry.h"
#include "routes.h"
#include "saml_post.h"
#include "session.h"
#include "str.h"
#include "tmpl.h"
#include "web.h"

/* Longest e-mail / password accepted in the form (the policy's cap is checked at change). */
#define LOGIN_EMAIL_MAX 254
#define LOGIN_PASSWORD_MAX 1024

static int
login_page(struct req *r, int status, const char *email, const char *error, int break_glass)
{
    struct web *w = web_of(r);
    struct tmpl_ctx *c = web_ctx(r);
    tmpl_set(c, "return_to", web_return_to(r));
    tmpl_set(c, "email", email ? email : "");
    tmpl_set(c, "error", error);
    int show_password = w->policy.password_login || break_glass;
    tmpl_set(c, "password_form", show_password ? "1" : "");
    tmpl_set(c, "break_glass", !w->policy.password_login && break_glass ? "1" : "");
    tmpl_set(c, "password_off", w->policy.password_login ? "" : "1");
    web_discovery_link(r, c);
    return web_page(r, status, "login", "Sign in", c);
}

int
route_login_get(struct req *r)
{
    struct web *w = web_of(r);
    if (w->signed_in && !w->session.restricted)
        return req_redirect(r, 303, web_return_to(r));
    const char *bg = req_query(r, "break_glass");
    return login_page(r, 200, NULL, NULL, bg != NULL && strcmp(bg, "1") == 0);
}

static int
start_session(struct req *r, const struct login_outcome *o)
{
    if (o->mfa || o->enrol)
        return mfa_pending_start(r, &o->user, (int)o->change, o->enrol);
    struct session_new n = {
        .user_id = o->user.id, .kind = SESSION_WEB, .restricted = (int)o->change};
    if (web_start_session(r, &n, NULL) != 0)
        return -1;
    log_info("sign-in method=password user_id=%lld change=%d client=%s", o->user.id, (int)o->change,
             req_client(r));
    if (o->change != PW_CHANGE_NONE)
        return req_redirect(r, 303, "/password/change");
    return req_redirect(r, 303, web_return_to(r));
}

int
route_login_post(struct req *r)
{
    struct web *w = web_of(r);
    const char *email = req_form(r, "email");
    const char *password = req_form(r, "password");
    int break_glass = req_form(r, "break_glass") != NULL;
    if (email == NULL || password == NULL || email[0] == '\0' || password[0] == '\0')
        return login_page(r, 400, email, "Enter your e-mail address and your password.",
                          break_glass);
    if (strlen(email) > LOGIN_EMAIL_MAX || strlen(password) > LOGIN_PASSWORD_MAX)
        return login_page(r, 400, NULL, "The e-mail address or password is too long.", break_glass);
    struct login_outcome o;
    login_password(w->app, w->store, email, password, req_client(r),
                   break_glass ? LOGIN_VIA_BREAK_GLASS : LOGIN_VIA_FORM, &o);
    if (o.result == LOGIN_OK) {
        /* With a second factor due, the attempt is counted when that step ends. */
        if (!o.mfa && !o.enrol)
            web_signin_event(r, "password", "success");
        if (start_session(r, &o) == 0)
            return 0;
        return login_page(r, 500, email, "Your session could not be created. Try again.", 0);
    }
    const struct login_answer *ans = login_answer(o.result);
    const char *msg = ans->message;
    if (o.result == LOGIN_LOCKED) {
        char until[40], retry[24];
        msg = arena_printf(req_arena(r),
                           "Too many failed attempts: sign-in for this address is locked until "
                           "%s. Try again then, or ask an administrator to unlock it.",
                           clock_format(o.locked_until, until, sizeof until));
        snprintf(retry, sizeof retry, "%lld", (long long)(o.locked_until - w->now));
        req_add_header(r, "Retry-After", retry);
    }
    web_signin_event(r, "password", ans->event);
    return login_page(r, ans->status, email, msg, break_glass);
}

int
route_logout_post(struct req *r)
{
    struct web *w = web_of(r);
    struct sp_out slo = {0};
    int has_slo = 0;
    if (w->signed_in) {
        /* Single logout for a session from an IdP; the session here ends first regardless. */
        has_slo = saml_logout_start(r, &slo) == 0;
        store_session_delete(w->store, w->session_hash);
        log_info("sign-out user_id=%lld slo=%d", w->user.id, has_slo);
    }
    web_clear_session_cookie(r);
    if (!has_slo)
        return req_redirect(r, 303, "/login");
    int rc = saml_send(r, &slo, "SAMLRequest", NULL);
    sp_out_free(&slo);
    return rc;
}

int
route_home_get(struct req *r)
{
    struct web *w = web_of(r);
    if (!w->signed_in)
        return req_redirect(r, 303, "/login");
    struct tmpl_ctx *c = web_ctx(r);
    char buf[40];
    tmpl_set(c, "email", w->user.email);
    tmpl_set(c, "name", w->user.display_name);
    tmpl_set(c, "role", w->user.role);
    tmpl_set(c, "auth_method", w->user.auth_method);
    tmpl_set(c, "is_password", strcmp(w->user.auth_method, "password") == 0 ? "1" : "");
    tmpl_set(c, "last_login",
             w->user.last_login_at ? clock_format(w->user.last_login_at, buf, sizeof buf)
                                   : "never");
    time_t due = expiry_due(&w->policy, w->user.password_changed_at);
    if (due != 0 && strcmp(w->user.auth_method, "password") == 0)
        tmpl_set(c, "password_expires", clock_format(due, buf, sizeof buf));
    return web_page(r, 200, "home", "Signed in", c);
}
