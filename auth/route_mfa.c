/* auth/route_mfa.c: the second step of a password sign-in (/login/mfa: a TOTP code or a
 * recovery code, or enrolment first when mfa.required), and the user's own TOTP settings
 * (/account/mfa: enrol, new recovery codes, remove). */
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
#include "mfa.h"
#include "pwhash.h"
#include "routes.h"
#include "session.h"
#include "store.h"
#include "str.h"
#include "tmpl.h"
#include "web.h"

#define MFA_COOKIE "gatehouse_mfa"
#define CODE_MAX 64

/* The person's own actions are audited as "user:EMAIL". */
static struct actor
self_actor(struct req *r, const struct user *u)
{
    char *name = arena_printf(req_arena(r), "user:%s", u->email);
    return (struct actor){name ? name : "user", u->role, req_client(r), 0};
}

/* The code as typed, trimmed; NULL when absent or absurd. */
static const char *
typed_code(struct req *r)
{
    const char *c = req_form(r, "code");
    if (c == NULL)
        return NULL;
    while (*c == ' ' || *c == '\t')
        c++;
    size_t n = strlen(c);
    while (n > 0 && (c[n - 1] == ' ' || c[n - 1] == '\t'))
        n--;
    if (n == 0 || n > CODE_MAX || !str_utf8_clean(c, n, 0))
        return NULL;
    return arena_strndup(req_arena(r), c, n);
}

int
mfa_pending_start(struct req *r, const struct user *u, int change_reason, int enrol)
{
    struct web *w = web_of(r);
    char token[SESSION_TOKEN_LEN + 1];
    struct mfa_pending_row row;
    memset(&row, 0, sizeof row);
    if (session_new_token(token) != 0)
        return -1;
    session_hash(token, row.token_hash);
    row.user_id = u->id;
    row.enrol = enrol;
    row.change_reason = change_reason;
    snprintf(row.return_to, sizeof row.return_to, "%s", web_return_to(r));
    snprintf(row.client_addr, sizeof row.client_addr, "%s", req_client(r));
    row.expires_at = w->now + MFA_PENDING_SECONDS;
    if (store_mfa_pending_put(w->store, &row) != 0)
        return -1;
    /* A new sign-in: whatever session this browser had ends now. */
    if (w->signed_in) {
        store_session_delete(w->store, w->session_hash);
        web_clear_session_cookie(r);
    }
    req_set_cookie(r, MFA_COOKIE, token, MFA_PENDING_SECONDS);
    log_info("sign-in password ok, second step due user_id=%lld enrol=%d client=%s", u->id, enrol,
             req_client(r));
    return req_redirect(r, 303, "/login/mfa");
}

/* The half-signed-in state this browser holds, with its user: 0, or 1 when there is none (or
 * it expired, or the account may no longer sign in). */
static int
pending_of(struct req *r, struct mfa_pending_row *p, struct user *u)
{
    struct web *w = web_of(r);
    const char *token = req_cookie(r, MFA_COOKIE);
    if (token == NULL || strlen(token) != SESSION_TOKEN_LEN)
        return 1;
    char hash[65];
    session_hash(token, hash);
    if (store_mfa_pending_get(w->store, hash, w->now, p) != 0)
        return 1;
    if (store_user_by_id(w->store, p->user_id, u) != 0 || strcmp(u->status, "active") != 0 ||
        strcmp(u->auth_method, "password") != 0)
        return 1;
    return 0;
}

static int
end_pending(struct req *r, const struct mfa_pending_row *p)
{
    store_mfa_pending_delete(web_of(r)->store, p->token_hash);
    return req_set_cookie(r, MFA_COOKIE, "", 0);
}

/* Back to the start of the sign-in, saying why. */
static int
restart(struct req *r, int status, const char *why)
{
    struct web *w = web_of(r);
    struct tmpl_ctx *c = web_ctx(r);
    tmpl_set(c, "return_to", "/");
    tmpl_set(c, "email", "");
    tmpl_set(c, "error", why);
    tmpl_set(c, "password_form", w->policy.password_login ? "1" : "");
    tmpl_set(c, "password_off", w->policy.password_login ? "" : "1");
    return web_page(r, status, "login", "Sign in", c);
}

static int
enrol_page(struct req *r, int status, const struct user *u, const char *action, int required,
           const char *error)
{
    struct web *w = web_of(r);
    struct mfa_enrolment e;
    int rc = mfa_enrolment(w->app, w->store, req_arena(r), u, &e);
    if (rc != 0) {
        web_error(r, 500, "Two-step verification could not be set up. Try again.");
        return 0;
    }
    struct tmpl_ctx *c = web_ctx(r);
    tmpl_set(c, "action", action);
    tmpl_set(c, "required", required ? "1" : "");
    tmpl_set(c, "email", u->email);
    tmpl_set(c, "secret", e.base32);
    tmpl_set(c, "uri", e.uri);
    tmpl_set(c, "qr_svg", e.svg);
    tmpl_set(c, "error", error);
    return web_page(r, status, "mfa_enrol", "Set up two-step verification", c);
}

static int
codes_page(struct req *r, char (*codes)[RECOVERY_CODE_LEN + 1], const char *next)
{
    struct tmpl_ctx *c = web_ctx(r);
    for (size_t i = 0; i < RECOVERY_CODES; i++)
        tmpl_set(tmpl_add(c, "codes"), "code", codes[i]);
    tmpl_set(c, "next", next);
    return web_page(r, 200, "mfa_codes", "Your recovery codes", c);
}

static int
code_page(struct req *r, int status, const struct user *u, const char *error)
{
    struct tmpl_ctx *c = web_ctx(r);
    tmpl_set(c, "email", u->email);
    tmpl_set(c, "error", error);
    return web_page(r, status, "mfa", "Two-step verification", c);
}

/* The second step passed: the failure count restarts and the session begins. */
static int
complete(struct req *r, const struct mfa_pending_row *p, const struct user *u)
{
    struct web *w = web_of(r);
    end_pending(r, p);
    login_completed(w->store, u->email);
    store_user_set_login(w->store, u->id, w->now);
    struct session_new n = {
        .user_id = u->id, .kind = SESSION_WEB, .restricted = p->change_reason, .mfa = 1};
    if (web_start_session(r, &n, NULL) != 0)
        return -1;
    web_signin_event(r, "password", "success");
    log_info("sign-in method=password+totp user_id=%lld change=%d client=%s", u->id,
             p->change_reason, req_client(r));
    return 0;
}

static const char *
locked_text(struct req *r, time_t until)
{
    char buf[40];
    return arena_printf(req_arena(r),
                        "Too many failed attempts: sign-in for this address is locked until %s. "
                        "Try again then, or ask an administrator to unlock it.",
                        clock_format(until, buf, sizeof buf));
}

int
route_login_mfa_get(struct req *r)
{
    struct mfa_pending_row p;
    struct user u;
    if (pending_of(r, &p, &u) != 0)
        return req_redirect(r, 303, "/login");
    if (p.enrol && !u.mfa_enabled)
        return enrol_page(r, 200, &u, "/login/mfa", 1, NULL);
    return code_page(r, 200, &u, NULL);
}

int
route_login_mfa_post(struct req *r)
{
    struct web *w = web_of(r);
    struct mfa_pending_row p;
    struct user u;
    if (pending_of(r, &p, &u) != 0)
        return restart(r, 401,
                       "Your sign-in took too long or was not started in this browser. "
                       "Sign in again.");
    const char *code = typed_code(r);
    if (p.enrol && !u.mfa_enabled) {
        char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
        struct actor who = self_actor(r, &u);
        int rc = code ? mfa_confirm(w->app, w->store, &u, &who, code, codes) : 1;
        if (rc == 1)
            return enrol_page(r, 400, &u, "/login/mfa", 1,
                              "That code is not correct. Check that your phone's clock is right "
                              "and enter the code the app shows now.");
        if (rc != 0 || complete(r, &p, &u) != 0) {
            web_error(r, 500, "Two-step verification could not be set up. Try again.");
            return 0;
        }
        return codes_page(r, codes, p.change_reason ? "/password/change" : p.return_to);
    }
    if (code == NULL)
        return code_page(r, 400, &u, "Enter the 6-digit code from your authenticator app.");
    time_t until = 0;
    int recovery = 0;
    enum mfa_verdict v = mfa_verify(w->app, w->store, &u, code, &until, &recovery);
    switch (v) {
    case MFA_OK:
        if (complete(r, &p, &u) != 0)
            break;
        if (p.change_reason)
            return req_redirect(r, 303, "/password/change");
        return req_redirect(r, 303, recovery ? "/account/mfa?recovery_used=1" : p.return_to);
    case MFA_BAD:
        web_signin_event(r, "password", "failure");
        return code_page(r, 401, &u, "That code is not correct, or it has been used already.");
    case MFA_LOCKED:
        web_signin_event(r, "password", "locked");
        end_pending(r, &p);
        return restart(r, 429, locked_text(r, until));
    case MFA_ERROR:
        break;
    }
    web_error(r, 500, "Sign-in is not available right now. Try again in a moment.");
    return 0;
}

/* ---- /account/mfa ---- */

static int
account_page(struct req *r, int status, const char *error, const char *notice)
{
    struct web *w = web_of(r);
    if (strcmp(w->user.auth_method, "password") == 0 && !w->user.mfa_enabled)
        return enrol_page(r, status, &w->user, "/account/mfa", w->policy.mfa_required, error);
    struct tmpl_ctx *c = web_ctx(r);
    tmpl_set(c, "error", error);
    tmpl_set(c, "notice", notice);
    if (strcmp(w->user.auth_method, "password") != 0) {
        tmpl_set(c, "saml", "1");
    } else {
        tmpl_set(c, "enabled", "1");
        tmpl_setf(c, "recovery_left", "%lld", mfa_recovery_left(w->store, &w->user));
        tmpl_set(c, "required", w->policy.mfa_required ? "1" : "");
    }
    return web_page(r, status, "account_mfa", "Two-step verification", c);
}

int
route_account_mfa_get(struct req *r)
{
    struct web *w = web_of(r);
    if (!w->signed_in)
        return req_redirect(r, 303, "/login?return_to=/account/mfa");
    const char *notice = NULL;
    if (req_query(r, "recovery_used") != NULL)
        notice = "You signed in with a recovery code; it cannot be used again. Make new codes "
                 "if few are left.";
    else if (req_query(r, "removed") != NULL)
        notice = "Two-step verification is off.";
    return account_page(r, 200, NULL, notice);
}

/* A fresh code from a signed-in user: the message to show, or NULL when it is right. */
static const char *
fresh_code_refusal(struct req *r, const char *code, int *status)
{
    struct web *w = web_of(r);
    time_t until = 0;
    int recovery = 0;
    *status = 401;
    if (code == NULL)
        return "Enter a code from your authenticator app.";
    switch (mfa_verify(w->app, w->store, &w->user, code, &until, &recovery)) {
    case MFA_OK:
        login_completed(w->store, w->user.email);
        return NULL;
    case MFA_BAD:
        return "That code is not correct, or it has been used already.";
    case MFA_LOCKED:
        *status = 429;
        return locked_text(r, until);
    case MFA_ERROR:
        break;
    }
    *status = 500;
    return "The code could not be checked. Try again.";
}

static int
account_enrol(struct req *r, const char *code)
{
    struct web *w = web_of(r);
    char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
    struct actor who = self_actor(r, &w->user);
    int rc = code ? mfa_confirm(w->app, w->store, &w->user, &who, code, codes) : 1;
    if (rc == 1)
        return account_page(r, 400,
                            "That code is not correct. Check that your phone's clock is right and "
                            "enter the code the app shows now.",
                            NULL);
    if (rc != 0)
        return account_page(r, 500, "Two-step verification could not be set up. Try again.", NULL);
    return codes_page(r, codes, "/account/mfa");
}

static int
account_regenerate(struct req *r, const char *code)
{
    struct web *w = web_of(r);
    int status;
    const char *why = fresh_code_refusal(r, code, &status);
    if (why != NULL)
        return account_page(r, status, why, NULL);
    char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
    struct actor who = self_actor(r, &w->user);
    if (mfa_regenerate(w->app, w->store, &w->user, &who, codes) != 0)
        return account_page(r, 500, "New recovery codes could not be made. Try again.", NULL);
    return codes_page(r, codes, "/account/mfa");
}

static int
account_remove(struct req *r, const char *code)
{
    struct web *w = web_of(r);
    if (w->policy.mfa_required)
        return account_page(r, 403,
                            "Your organisation requires two-step verification: it cannot be "
                            "turned off. An administrator can reset it if you lose your device.",
                            NULL);
    const char *pw = req_form(r, "current_password");
    if (pw == NULL || pw[0] == '\0' || strlen(pw) > 1024)
        return account_page(r, 400, "Enter your password and a code to turn this off.", NULL);
    time_t until = 0;
    if (login_lock_state(w->store, w->user.email, &until) == LOGIN_LOCKED)
        return account_page(r, 429, locked_text(r, until), NULL);
    int ok = pwhash_verify(w->user.password_hash, pw);
    if (ok < 0)
        return account_page(r, 500, "Your password could not be checked. Try again.", NULL);
    if (ok != 1) {
        enum login_result l = login_count_failure(w->app, w->store, w->user.email, &until);
        return account_page(
            r, l == LOGIN_LOCKED ? 429 : 401,
            l == LOGIN_LOCKED ? locked_text(r, until) : "Your password is not correct.", NULL);
    }
    int status;
    const char *why = fresh_code_refusal(r, code, &status);
    if (why != NULL)
        return account_page(r, status, why, NULL);
    struct actor who = self_actor(r, &w->user);
    if (mfa_remove(w->store, &w->user, &who, "mfa.remove") < 0)
        return account_page(r, 500, "Two-step verification could not be turned off.", NULL);
    w->user.mfa_enabled = 0;
    return req_redirect(r, 303, "/account/mfa?removed=1");
}

int
route_account_mfa_post(struct req *r)
{
    struct web *w = web_of(r);
    if (!w->signed_in)
        return req_redirect(r, 303, "/login?return_to=/account/mfa");
    if (strcmp(w->user.auth_method, "password") != 0)
        return account_page(r, 409, "Your identity provider handles two-step verification.", NULL);
    const char *action = req_form(r, "action");
    const char *code = typed_code(r);
    if (action != NULL && strcmp(action, "enrol") == 0 && !w->user.mfa_enabled)
        return account_enrol(r, code);
    if (action != NULL && strcmp(action, "regenerate") == 0 && w->user.mfa_enabled)
        return account_regenerate(r, code);
    if (action != NULL && strcmp(action, "remove") == 0 && w->user.mfa_enabled)
        return account_remove(r, code);
    return account_page(r, 400, "This form is out of date. Reload the page and try again.", NULL);
}
