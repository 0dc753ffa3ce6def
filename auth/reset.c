#include "reset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "arena.h"
#include "buf.h"
#include "clock.h"
#include "log.h"
#include "login.h"
#include "mailer.h"
#include "session.h"
#include "store.h"
#include "str.h"

#define RESET_SUBJECT "Reset your Gatehouse password"
#define RESET_MAIL_MAX 4096

/* What the request found out, decided inside the write transaction. */
static enum reset_request_result
decide(struct store *s, const char *email, time_t now, struct user *u)
{
    long long recent = 0;
    if (store_reset_request_count(s, email, now - RESET_WINDOW_SECONDS, &recent) != 0)
        return RESET_REQ_ERROR;
    /* Refused requests are not recorded: a flood cannot push the window forward. */
    if (recent >= RESET_MAX_PER_HOUR)
        return RESET_REQ_RATE_LIMITED;
    if (store_reset_request_add(s, email, now) != 0)
        return RESET_REQ_ERROR;
    /* The same queries whether or not the account exists. */
    time_t until = 0;
    int r = store_user_by_email(s, email, u);
    enum login_result lock = login_lock_state(s, email, &until);
    if (r < 0 || lock == LOGIN_ERROR)
        return RESET_REQ_ERROR;
    if (r == 1 || strcmp(u->status, "active") != 0 || strcmp(u->auth_method, "password") != 0 ||
        u->password_hash[0] == '\0')
        return RESET_REQ_NO_ACCOUNT;
    return lock == LOGIN_LOCKED ? RESET_REQ_LOCKED : RESET_REQ_MAILED;
}

static const char *
request_result_name(enum reset_request_result v)
{
    switch (v) {
    case RESET_REQ_MAILED:
        return "mailed";
    case RESET_REQ_NO_ACCOUNT:
        return "no_account";
    case RESET_REQ_LOCKED:
        return "locked";
    case RESET_REQ_RATE_LIMITED:
        return "rate_limited";
    case RESET_REQ_DISABLED:
        return "disabled";
    case RESET_REQ_ERROR:
        break;
    }
    return "error";
}

/* Queues the e-mail carrying token for u. */
static int
send_link(struct app *a, const struct user *u, const char *token, const char *client, time_t now)
{
    char ref[64];
    char *link = NULL, *body = NULL;
    int rc = -1;
    size_t n = strlen(a->conf.base_url) + sizeof "/password/reset?token=" + strlen(token);
    link = malloc(n);
    if (link == NULL)
        goto out;
    snprintf(link, n, "%s/password/reset?token=%s", a->conf.base_url, token);
    body = reset_mail_body(u->email, link, client, now);
    if (body == NULL)
        goto out;
    snprintf(ref, sizeof ref, "kind=reset user_id=%lld", u->id);
    rc = mailer_submit(a->mailer, u->email, RESET_SUBJECT, body, ref);
out:
    if (link != NULL) {
        OPENSSL_cleanse(link, strlen(link));
        free(link);
    }
    if (body != NULL) {
        OPENSSL_cleanse(body, strlen(body));
        free(body);
    }
    return rc;
}

enum reset_request_result
reset_request(struct app *a, struct store *s, const char *email, const char *client)
{
    if (a->mailer == NULL)
        return RESET_REQ_DISABLED;
    struct arena *ar = arena_new();
    char *norm = ar ? str_email_normalize(ar, email) : NULL;
    enum reset_request_result v = RESET_REQ_ERROR;
    char token[SESSION_TOKEN_LEN + 1] = "", hash[65];
    struct user u;
    time_t now = clock_now();
    /* The token is made whether or not it is needed: both answers cost the same. */
    if (norm == NULL || session_new_token(token) != 0)
        goto out;
    session_hash(token, hash);
    if (store_begin_write(s) != 0)
        goto out;
    v = decide(s, norm, now, &u);
    if (v == RESET_REQ_MAILED &&
        store_reset_token_put(s, hash, u.id, now, now + RESET_TOKEN_SECONDS) != 0)
        v = RESET_REQ_ERROR;
    if (v == RESET_REQ_ERROR || store_commit(s) != 0) {
        store_rollback(s);
        v = RESET_REQ_ERROR;
        goto out;
    }
    if (v == RESET_REQ_MAILED && send_link(a, &u, token, client, now) != 0)
        v = RESET_REQ_ERROR;
out:
    if (v == RESET_REQ_MAILED)
        log_info("password reset requested result=mailed user_id=%lld client=%s", u.id, client);
    else
        log_info("password reset requested result=%s client=%s", request_result_name(v), client);
    OPENSSL_cleanse(token, sizeof token);
    arena_free(ar);
    return v;
}

enum reset_link
reset_link_check(struct store *s, const char *token, time_t now, struct user *u, char *hash_out)
{
    struct reset_token_row row;
    if (!session_token_well_formed(token))
        return RESET_LINK_INVALID;
    session_hash(token, hash_out);
    int r = store_reset_token_get(s, hash_out, &row);
    if (r != 0)
        return r == 1 ? RESET_LINK_INVALID : RESET_LINK_ERROR;
    if (row.used_at != 0)
        return RESET_LINK_USED;
    if (now >= row.expires_at)
        return RESET_LINK_EXPIRED;
    r = store_user_by_id(s, row.user_id, u);
    if (r != 0)
        return r == 1 ? RESET_LINK_ACCOUNT : RESET_LINK_ERROR;
    if (strcmp(u->status, "active") != 0 || strcmp(u->auth_method, "password") != 0)
        return RESET_LINK_ACCOUNT;
    time_t until = 0;
    enum login_result lock = login_lock_state(s, u->email, &until);
    if (lock == LOGIN_ERROR)
        return RESET_LINK_ERROR;
    return lock == LOGIN_LOCKED ? RESET_LINK_LOCKED : RESET_LINK_OK;
}

/* One row per verdict: the status and the sentence of the page. */
static const struct {
    enum reset_link v;
    int status;
    const char *text;
} link_texts[] = {
    {RESET_LINK_INVALID, 400,
     "This password reset link is not valid. Copy the whole link from the e-mail, or ask for a "
     "new one."},
    {RESET_LINK_EXPIRED, 410,
     "This password reset link has expired: links work for 30 minutes. Ask for a new one."},
    {RESET_LINK_USED, 410,
     "This password reset link has been used already, or your password has changed since it "
     "was sent. Ask for a new one if you still need it."},
    {RESET_LINK_ACCOUNT, 400, "This account cannot reset its password here. Ask an administrator."},
    {RESET_LINK_LOCKED, 429,
     "Sign-in for this account is locked after too many failed attempts. Wait until the lock "
     "ends and use the link again while it is valid, or ask an administrator."},
    {RESET_LINK_ERROR, 500, "Your password cannot be reset right now. Try again in a moment."},
};

int
reset_link_status(enum reset_link v)
{
    for (size_t i = 0; i < sizeof link_texts / sizeof link_texts[0]; i++)
        if (link_texts[i].v == v)
            return link_texts[i].status;
    return 200;
}

const char *
reset_link_text(enum reset_link v)
{
    for (size_t i = 0; i < sizeof link_texts / sizeof link_texts[0]; i++)
        if (link_texts[i].v == v)
            return link_texts[i].text;
    return "";
}

char *
reset_mail_body(const char *to_email, const char *link, const char *client, time_t now)
{
    char when[40];
    struct buf b;
    buf_init(&b, RESET_MAIL_MAX);
    buf_printf(&b,
               "Hello,\n\n"
               "someone asked to reset the password of the Gatehouse account %s.\n\n"
               "To choose a new password, open this link within 30 minutes. It works once:\n\n"
               "%s\n\n"
               "Afterwards you will be signed out everywhere, and you sign in again with the new "
               "password.\n\n"
               "If you did not ask for this, you can ignore this e-mail: your password stays as "
               "it is.\n\n"
               "(Requested from %s at %s.)\n",
               to_email, link, client ? client : "?", clock_format(now, when, sizeof when));
    if (b.overflow) {
        buf_free(&b);
        return NULL;
    }
    return b.data;
}
