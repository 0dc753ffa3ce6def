/* auth/route_reset.c: self-service password reset (/password/reset). Without a token: the
 * request form, answered alike whatever the address (auth/reset.h). With a token (the e-mailed
 * link): the new-password form, under the whole policy (account_reset_with_token). */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "app.h"
#include "arena.h"
#include "http.h"
#include "log.h"
#include "policy/password.h"
#include "reset.h"
#include "routes.h"
#include "session.h"
#include "store.h"
#include "str.h"
#include "tmpl.h"
#include "web.h"

#define MAX_RULES 16
#define RESET_EMAIL_MAX 254
#define RESET_TOKEN_MAX 128
#define RESET_PASSWORD_MAX 1024

static const char UNAVAILABLE[] = "Password reset by e-mail is not available here. Ask an "
                                  "administrator to reset your password.";
static const char PASSWORD_OFF[] = "Password sign-in is turned off for this organisation, so "
                                   "there is no password to reset. Sign in with your "
                                   "organisation's single sign-on (SSO).";

/* Why requests cannot be made at all (the same for every address), or NULL. */
static const char *
unavailable_reason(struct web *w)
{
    if (!w->policy.password_login)
        return PASSWORD_OFF;
    if (w->app->conf.smtp_host[0] == '\0' || w->app->mailer == NULL)
        return UNAVAILABLE;
    return NULL;
}

/* The request form; sent: the answer given to every request. */
static int
request_page(struct req *r, int status, const char *error, int sent)
{
    struct web *w = web_of(r);
    struct tmpl_ctx *c = web_ctx(r);
    const char *why = unavailable_reason(w);
    tmpl_set(c, "error", error);
    tmpl_set(c, "unavailable", why);
    tmpl_set(c, "sent", sent ? "1" : "");
    tmpl_set(c, "form", why == NULL && !sent ? "1" : "");
    return web_page(r, status, "password_reset", "Reset your password", c);
}

static int
link_error_page(struct req *r, int status, const char *message)
{
    struct tmpl_ctx *c = web_ctx(r);
    tmpl_set(c, "message", message);
    return web_page(r, status, "password_reset_invalid", "Reset link not valid", c);
}

static void
add_lines(struct tmpl_ctx *c, const char *list, const char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tmpl_set(tmpl_add(c, list), "text", lines[i]);
}

/* The new-password form for the link's token, with the rules in force and those broken. */
static int
choose_page(struct req *r, int status, const char *token, const struct user *u, const char *error,
            unsigned violations)
{
    struct web *w = web_of(r);
    struct tmpl_ctx *c = web_ctx(r);
    const char *lines[MAX_RULES];
    char *storage = arena_alloc(req_arena(r), 2 * MAX_RULES * PASSWORD_RULE_TEXT_MAX);
    if (storage == NULL)
        return -1;
    size_t n = password_requirements(&w->policy, lines, MAX_RULES, storage);
    add_lines(c, "requirements", lines, n);
    n = password_explain(&w->policy, violations, lines, MAX_RULES,
                         storage + MAX_RULES * PASSWORD_RULE_TEXT_MAX);
    add_lines(c, "violations", lines, n);
    tmpl_set(c, "error", error);
    tmpl_set(c, "token", token);
    tmpl_set(c, "email", u->email);
    return web_page(r, status, "password_reset_choose", "Choose a new password", c);
}

/* The token of the request (query for GET, form for POST) within bounds, or "" (invalid). */
static const char *
token_of(const char *t)
{
    return t != NULL && strlen(t) <= RESET_TOKEN_MAX ? t : "";
}

int
route_password_reset_get(struct req *r)
{
    struct web *w = web_of(r);
    const char *token = req_query(r, "token");
    if (token == NULL)
        return request_page(r, 200, NULL, 0);
    token = token_of(token);
    struct user u;
    char hash[65];
    enum reset_link v = reset_link_check(w->store, token, w->now, &u, hash);
    if (v != RESET_LINK_OK)
        return link_error_page(r, reset_link_status(v), reset_link_text(v));
    return choose_page(r, 200, token, &u, NULL, 0);
}

static int
post_request(struct req *r)
{
    struct web *w = web_of(r);
    const char *email = req_form(r, "email");
    if (unavailable_reason(w) != NULL)
        return request_page(r, w->policy.password_login ? 503 : 403, NULL, 0);
    if (email == NULL || email[0] == '\0' || strlen(email) > RESET_EMAIL_MAX)
        return request_page(r, 400, "Enter the e-mail address you sign in with.", 0);
    char *norm = str_email_normalize(req_arena(r), email);
    if (norm == NULL)
        return request_page(r, 400, "Enter a valid e-mail address.", 0);
    /* Whatever the outcome (sent, no account, locked, rate-limited, even a store failure, all
     * logged), the answer is the same page with the same status. */
    reset_request(w->app, w->store, norm, req_client(r));
    return request_page(r, 200, NULL, 1);
}

static int
post_new_password(struct req *r, const char *token)
{
    struct web *w = web_of(r);
    struct user u;
    char hash[65];
    token = token_of(token);
    enum reset_link v = reset_link_check(w->store, token, w->now, &u, hash);
    if (v != RESET_LINK_OK)
        return link_error_page(r, reset_link_status(v), reset_link_text(v));
    const char *fresh = req_form(r, "new_password");
    const char *confirm = req_form(r, "confirm_password");
    if (fresh == NULL || confirm == NULL || fresh[0] == '\0')
        return choose_page(r, 400, token, &u, "Enter the new password twice.", 0);
    if (strlen(fresh) > RESET_PASSWORD_MAX || strlen(confirm) > RESET_PASSWORD_MAX)
        return choose_page(r, 400, token, &u, "The password is too long.", 0);
    if (strcmp(fresh, confirm) != 0)
        return choose_page(r, 400, token, &u, "The new password and its confirmation do not match.",
                           0);
    unsigned violations = 0;
    char msg[256] = "";
    enum account_rc rc = account_reset_with_token(w->app, w->store, &u, hash, fresh, req_client(r),
                                                  &violations, msg, sizeof msg);
    if (rc == ACCOUNT_REFUSED && violations != 0)
        return choose_page(r, 422, token, &u, msg, violations);
    if (rc == ACCOUNT_REFUSED)
        return link_error_page(r, 410, msg);
    if (rc != ACCOUNT_OK)
        return choose_page(r, 500, token, &u, "Your password could not be changed. Try again.", 0);
    log_info("password reset by e-mail link user_id=%lld client=%s", u.id, req_client(r));
    /* Every session of the user has ended, this browser's included. */
    if (w->signed_in) {
        w->signed_in = 0;
        web_bind_session(r, "");
    }
    web_clear_session_cookie(r);
    return web_page(r, 200, "password_reset_done", "Password changed", web_ctx(r));
}

int
route_password_reset_post(struct req *r)
{
    const char *token = req_form(r, "token");
    if (token != NULL)
        return post_new_password(r, token);
    return post_request(r);
}
