#include "login.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "audit.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "policy/lockout.h"
#include "pwhash.h"
#include "str.h"

static const struct login_answer answers[] = {
    [LOGIN_OK] = {200, "", "Signed in.", "success"},
    [LOGIN_INVALID] = {401, "invalid_credentials", "The e-mail address or password is not correct.",
                       "failure"},
    [LOGIN_LOCKED] = {429, "locked",
                      "Too many failed attempts: sign-in for this address is locked.", "locked"},
    [LOGIN_DISABLED] = {403, "account_disabled",
                        "This account has been disabled. Contact your administrator.", "failure"},
    [LOGIN_PASSWORD_OFF] = {403, "password_login_disabled",
                            "Password sign-in is turned off for this organisation. Sign in with "
                            "your organisation's single sign-on (SSO) instead.",
                            "failure"},
    [LOGIN_ERROR] = {500, "internal", "Sign-in is not available right now. Try again in a moment.",
                     "failure"},
};

const struct login_answer *
login_answer(enum login_result r)
{
    if ((size_t)r >= sizeof answers / sizeof answers[0])
        r = LOGIN_ERROR;
    return &answers[r];
}

/* The key failures are counted under: the normalised address, or for input that is no address
 * the lower-cased input cut to a bounded length (it can never be an account). */
static void
lockout_key(struct arena *ar, const char *email, char *out, size_t len)
{
    char *n = str_email_normalize(ar, email);
    if (n != NULL) {
        snprintf(out, len, "%s", n);
        return;
    }
    size_t i = 0;
    for (; email[i] && i + 1 < len && i < 254; i++)
        out[i] = (email[i] >= 'A' && email[i] <= 'Z') ? (char)(email[i] + 32) : email[i];
    out[i] = '\0';
}

static void
to_state(const struct lockout_row *row, struct lockout_state *st)
{
    st->failures = row->failures;
    st->first_failure = row->first_failure;
    st->locked_until = row->locked_until;
}

/* Counts one failure inside a write transaction, so concurrent failures are all counted. */
static enum login_result
record_failure(struct store *s, const struct policy *p, const char *key, time_t now,
               time_t *locked_until)
{
    struct lockout_row row;
    struct lockout_state st;
    if (store_begin_write(s) != 0)
        return LOGIN_ERROR;
    if (store_lockout_get(s, key, &row) < 0)
        goto fail;
    to_state(&row, &st);
    enum lockout_verdict v = lockout_on_failure(p, &st, now);
    row = (struct lockout_row){st.failures, st.first_failure, st.locked_until};
    if (store_lockout_put(s, key, &row) != 0 || store_commit(s) != 0)
        goto fail;
    if (v == LOCKOUT_LOCKED) {
        metrics_lockout();
        log_info("sign-in locked until=%lld", (long long)st.locked_until);
        *locked_until = st.locked_until;
        return LOGIN_LOCKED;
    }
    return LOGIN_INVALID;
fail:
    store_rollback(s);
    return LOGIN_ERROR;
}

/* A correct password: clears the failures unless a concurrent failure locked the address in the
 * meantime, records the sign-in and upgrades an old hash. */
static enum login_result
record_success(struct app *a, struct store *s, const char *key, const char *password,
               struct login_outcome *out, time_t now)
{
    struct lockout_row row;
    struct lockout_state st;
    char fresh[PWHASH_MAX] = "";
    int rehash = pwhash_needs_rehash(&a->pw, out->user.password_hash) &&
                 pwhash_hash(&a->pw, password, fresh, sizeof fresh) == 0;
    if (store_begin_write(s) != 0)
        return LOGIN_ERROR;
    int r = store_lockout_get(s, key, &row);
    if (r < 0)
        goto fail;
    if (r == 0) {
        to_state(&row, &st);
        if (lockout_check(&st, now) == LOCKOUT_LOCKED) {
            store_rollback(s);
            out->locked_until = st.locked_until;
            return LOGIN_LOCKED;
        }
    }
    if (strcmp(out->user.status, "active") != 0) {
        store_rollback(s);
        return LOGIN_DISABLED;
    }
    /* With TOTP, the count ends only when the code is right too (login_completed). */
    int clear = r == 0 && !out->user.mfa_enabled;
    if ((clear && store_lockout_clear(s, key) != 0) ||
        store_user_set_login(s, out->user.id, now) != 0 ||
        (rehash && store_user_rehash(s, out->user.id, fresh) != 0))
        goto fail;
    if (store_commit(s) != 0)
        goto fail;
    if (rehash)
        log_info("password hash upgraded user_id=%lld", out->user.id);
    return LOGIN_OK;
fail:
    store_rollback(s);
    return LOGIN_ERROR;
}

/* Verifies password against the user's hash when that is to be checked (has_password), else
 * against the dummy hash; 1 only for a checked, matching password, -1 on error. A failure
 * always includes one verification at the configured parameters: a hash made with other
 * (older, cheaper) ones would otherwise answer faster than an unknown address. */
static int
verify(struct app *a, const struct user *u, int checked, const char *password)
{
    const char *hash = checked ? u->password_hash : a->dummy_hash;
    int ok = pwhash_verify(hash, password);
    if (ok < 0)
        return -1;
    if (ok != 1 && checked && pwhash_needs_rehash(&a->pw, hash) &&
        pwhash_verify(a->dummy_hash, password) < 0)
        return -1;
    return ok == 1 && checked;
}

void
login_password(struct app *a, struct store *s, const char *email, const char *password,
               const char *client, enum login_via via, struct login_outcome *out)
{
    memset(out, 0, sizeof *out);
    out->result = LOGIN_ERROR;
    struct policy p;
    app_policy(a, s, &p);
    if (!p.password_login && via != LOGIN_VIA_BREAK_GLASS) {
        /* Nothing checked, nothing counted: the same answer for everyone. */
        out->result = LOGIN_PASSWORD_OFF;
        return;
    }
    struct arena *ar = arena_new();
    if (ar == NULL)
        return;
    char key[STORE_EMAIL_MAX];
    lockout_key(ar, email, key, sizeof key);
    time_t now = clock_now();

    struct lockout_row row;
    int r = store_lockout_get(s, key, &row);
    if (r < 0)
        goto out;
    if (r == 0) {
        struct lockout_state st;
        to_state(&row, &st);
        if (lockout_check(&st, now) == LOCKOUT_LOCKED) {
            out->result = LOGIN_LOCKED;
            out->locked_until = st.locked_until;
            goto out;
        }
    }
    r = store_user_by_email(s, key, &out->user);
    if (r < 0)
        goto out;
    int has_password = r == 0 && strcmp(out->user.auth_method, "password") == 0 &&
                       out->user.password_hash[0] != '\0';
    /* While off (the break-glass form), only an owner's password is checked; anyone else's
     * costs the same, fails and is counted like a wrong one, so neither the answer nor the
     * lockout tells a right password from a wrong one, nor who is an owner. */
    int checked = has_password && (p.password_login || strcmp(out->user.role, "owner") == 0);
    int ok = verify(a, &out->user, checked, password);
    if (ok < 0)
        goto out;
    if (!ok) {
        out->result = record_failure(s, &p, key, now, &out->locked_until);
        if (out->result == LOGIN_INVALID && !p.password_login)
            out->result = LOGIN_PASSWORD_OFF;
        goto out;
    }
    out->result = record_success(a, s, key, password, out, now);
    if (out->result != LOGIN_OK)
        goto out;
    if (!p.password_login) {
        /* Owners keep a break-glass sign-in while password sign-in is off: always audited. */
        char name[STORE_EMAIL_MAX + 8];
        snprintf(name, sizeof name, "user:%s", out->user.email);
        struct actor who = {name, "owner", client, 0};
        out->break_glass = 1;
        audit_record(s, &who, "login.break_glass", out->user.email, NULL,
                     "password sign-in while switched off");
        log_warn("break-glass sign-in user_id=%lld client=%s", out->user.id, client);
    }
    out->change = expiry_change_required(&p, (enum pw_must_change)out->user.must_change,
                                         out->user.password_changed_at, now);
    out->mfa = out->user.mfa_enabled != 0;
    out->enrol = !out->mfa && p.mfa_required;
out:
    arena_free(ar);
}

enum login_result
login_count_failure(struct app *a, struct store *s, const char *email, time_t *locked_until)
{
    struct policy p;
    app_policy(a, s, &p);
    return record_failure(s, &p, email, clock_now(), locked_until);
}

enum login_result
login_lock_state(struct store *s, const char *email, time_t *locked_until)
{
    struct lockout_row row;
    int r = store_lockout_get(s, email, &row);
    if (r < 0)
        return LOGIN_ERROR;
    if (r == 1)
        return LOGIN_OK;
    struct lockout_state st;
    to_state(&row, &st);
    if (lockout_check(&st, clock_now()) != LOCKOUT_LOCKED)
        return LOGIN_OK;
    *locked_until = st.locked_until;
    return LOGIN_LOCKED;
}

struct locked_ctx {
    time_t now;
    long long n;
};

static int
count_locked(const char *email, const struct lockout_row *row, void *ctx)
{
    struct locked_ctx *c = ctx;
    struct lockout_state st;
    (void)email;
    to_state(row, &st);
    if (lockout_check(&st, c->now) == LOCKOUT_LOCKED)
        c->n++;
    return 0;
}

int
login_locked_count(struct store *s, long long *n_out)
{
    struct locked_ctx c = {clock_now(), 0};
    *n_out = 0;
    if (store_lockouts_each(s, count_locked, &c) != 0)
        return -1;
    *n_out = c.n;
    return 0;
}

int
login_completed(struct store *s, const char *email)
{
    return store_lockout_clear(s, email);
}
