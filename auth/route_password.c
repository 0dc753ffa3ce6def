/* auth/route_password.c: changing one's password (voluntary, or forced after first sign-in, an
 * admin reset or expiry). */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "app.h"
#include "arena.h"
#include "clock.h"
#include "http.h"
#include "log.h"
#include "login.h"
#include "policy/expiry.h"
#include "policy/password.h"
#include "routes.h"
#include "session.h"
#include "tmpl.h"
#include "web.h"

#define MAX_RULES 16

static void
add_lines(struct tmpl_ctx *c, const char *list, const char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tmpl_set(tmpl_add(c, list), "text", lines[i]);
}

static int
change_page(struct req *r, int status, const char *error, unsigned violations)
{
    struct web *w = web_of(r);
    struct tmpl_ctx *c = web_ctx(r);
    const char *lines[MAX_RULES];
    char *storage = arena_alloc(req_arena(r), MAX_RULES * PASSWORD_RULE_TEXT_MAX);
    if (storage == NULL)
        return -1;
    size_t n = password_requirements(&w->policy, lines, MAX_RULES, storage);
    add_lines(c, "requirements", lines, n);
    if (violations != 0) {
        storage = arena_alloc(req_arena(r), MAX_RULES * PASSWORD_RULE_TEXT_MAX);
        if (storage == NULL)
            return -1;
        n = password_explain(&w->policy, violations, lines, MAX_RULES, storage);
        add_lines(c, "violations", lines, n);
    }
    tmpl_set(c, "error", error);
    tmpl_set(c, "reason", expiry_reason_text((enum pw_change_reason)w->session.restricted));
    tmpl_set(c, "forced", w->session.restricted ? "1" : "");
    return web_page(r, status, "password_change", "Change your password", c);
}

int
route_password_change_get(struct req *r)
{
    struct web *w = web_of(r);
    if (!w->signed_in)
        return req_redirect(r, 303, "/login?return_to=/password/change");
    if (strcmp(w->user.auth_method, "password") != 0) {
        web_error(r, 409,
                  "Your account signs in through your organisation's single sign-on; "
                  "it has no password here to change.");
        return 0;
    }
    return change_page(r, 200, NULL, 0);
}

/* 429 with the time the address is unlocked (sign-in and changes alike). */
static int
locked_page(struct req *r, time_t until)
{
    char when[64], retry[24];
    const char *msg = arena_printf(req_arena(r),
                                   "Too many wrong passwords: this account is locked until %s. "
                                   "Try again then, or ask an administrator to unlock it.",
                                   clock_format(until, when, sizeof when));
    snprintf(retry, sizeof retry, "%lld", (long long)(until - web_of(r)->now));
    req_add_header(r, "Retry-After", retry);
    return change_page(r, 429, msg, 0);
}

int
route_password_change_post(struct req *r)
{
    struct web *w = web_of(r);
    if (!w->signed_in)
        return req_redirect(r, 303, "/login?return_to=/password/change");
    const char *current = req_form(r, "current_password");
    const char *fresh = req_form(r, "new_password");
    const char *confirm = req_form(r, "confirm_password");
    if (current == NULL || fresh == NULL || confirm == NULL || !current[0] || !fresh[0])
        return change_page(r, 400, "Fill in your current password and the new one twice.", 0);
    if (strlen(current) > 1024 || strlen(fresh) > 1024 || strlen(confirm) > 1024)
        return change_page(r, 400, "The password is too long.", 0);
    if (strcmp(fresh, confirm) != 0)
        return change_page(r, 400, "The new password and its confirmation do not match.", 0);
    /* Wrong current passwords count with the sign-in failures of the address, so that a held
     * session gives no unlimited guesses; while the address is locked, none is checked. */
    time_t until = 0;
    enum login_result lock = login_lock_state(w->store, w->user.email, &until);
    if (lock == LOGIN_ERROR)
        return change_page(r, 500, "Your password could not be changed. Try again.", 0);
    if (lock == LOGIN_LOCKED)
        return locked_page(r, until);
    unsigned violations = 0;
    char msg[256] = "";
    int forced = w->session.restricted != PW_CHANGE_NONE;
    /* Every session of the user ends, this one included: a fresh token follows below. */
    enum account_rc rc = account_change_password(w->app, w->store, &w->user, current, fresh, forced,
                                                 NULL, &violations, msg, sizeof msg);
    if (rc == ACCOUNT_REFUSED && violations == 0) { /* the current password was wrong */
        if (login_count_failure(w->app, w->store, w->user.email, &until) == LOGIN_LOCKED)
            return locked_page(r, until);
        return change_page(r, 422, msg, violations);
    }
    if (rc == ACCOUNT_REFUSED)
        return change_page(r, 422, msg, violations);
    if (rc != ACCOUNT_OK)
        return change_page(r, 500, "Your password could not be changed. Try again.", 0);
    /* The new session keeps what the sign-in proved (a second factor, the IdP's context). */
    struct session_new n = {.user_id = w->user.id,
                            .kind = SESSION_WEB,
                            .mfa = w->session.mfa,
                            .authn_context = w->session.authn_context,
                            .groups = w->session.groups};
    if (web_start_session(r, &n, NULL) != 0)
        return req_redirect(r, 303, "/login");
    login_completed(w->store, w->user.email);
    log_info("password changed user_id=%lld forced=%d", w->user.id, forced);
    return req_redirect(r, 303, "/?changed=1");
}
