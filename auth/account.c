#include "account.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "arena.h"
#include "audit.h"
#include "authz.h"
#include "mfa.h"
#include "clock.h"
#include "log.h"
#include "policy/expiry.h"
#include "pwhash.h"
#include "roles.h"
#include "store.h"
#include "str.h"

#define MAX_RECENT_CHANGES 16

/* ACCOUNT_REFUSED unless role is one the store holds (built-in or created by an owner). */
static enum account_rc
known_role(struct app *a, struct store *s, const char *role, char *msg, size_t msglen)
{
    unsigned perms;
    /* cli and system are actors, never a user's role. */
    int r = role && roles_name_valid(role) ? roles_lookup(a->roles, s, role, &perms) : 1;
    if (r == 1)
        snprintf(msg, msglen,
                 "role must be owner, admin, member or one of role list: no role \"%.40s\"",
                 role ? role : "");
    return r == 0 ? ACCOUNT_OK : r == 1 ? ACCOUNT_REFUSED : ACCOUNT_ERROR;
}

/* Normalises email into out; ACCOUNT_REFUSED with a message when malformed. */
static enum account_rc
normalize(const char *email, char *out, size_t outlen, char *msg, size_t msglen)
{
    struct arena *ar = arena_new();
    char *n = ar ? str_email_normalize(ar, email) : NULL;
    enum account_rc rc = ACCOUNT_REFUSED;
    if (n != NULL && strlen(n) < outlen) {
        snprintf(out, outlen, "%s", n);
        rc = ACCOUNT_OK;
    } else {
        snprintf(msg, msglen, "\"%.80s\" is not a valid e-mail address", email ? email : "");
    }
    arena_free(ar);
    return rc;
}

/* Loads the user by (raw) email; ACCOUNT_REFUSED "no such user" when absent. */
static enum account_rc
find(struct store *s, const char *email, struct user *u, char *msg, size_t msglen)
{
    char norm[STORE_EMAIL_MAX];
    enum account_rc rc = normalize(email, norm, sizeof norm, msg, msglen);
    if (rc != ACCOUNT_OK)
        return rc;
    int r = store_user_by_email(s, norm, u);
    if (r == 1) {
        snprintf(msg, msglen, "no user %s", norm);
        return ACCOUNT_REFUSED;
    }
    return r == 0 ? ACCOUNT_OK : ACCOUNT_ERROR;
}

/* ACCOUNT_FORBIDDEN with the reason unless who may do op on target_role (auth/authz.h), as
 * the role holds now. */
static enum account_rc
allow(struct app *a, struct store *s, const struct actor *who, enum authz_op op,
      const char *target_role, char *msg, size_t msglen)
{
    const char *why = NULL;
    struct authz_role target = {target_role, 0};
    if (!authz_is_all_powerful(who->role) && target_role != NULL &&
        roles_perms(a->roles, s, target_role, &target.perms) != 0)
        return ACCOUNT_ERROR;
    if (authz_allowed(who, op, &target, &why))
        return ACCOUNT_OK;
    snprintf(msg, msglen, "%s", why ? why : "Not allowed.");
    return ACCOUNT_FORBIDDEN;
}

/* Loads the user and checks who may change that account. */
static enum account_rc
find_allowed(struct app *a, struct store *s, const struct actor *who, const char *email,
             struct user *u, char *msg, size_t msglen)
{
    enum account_rc rc = find(s, email, u, msg, msglen);
    return rc == ACCOUNT_OK ? allow(a, s, who, AZ_USER, u->role, msg, msglen) : rc;
}

/* Refuses a change that would leave no active owner. A disabled owner cannot sign in, so only
 * active owners count, and changing a disabled one takes none away. */
static enum account_rc
keep_an_owner(struct store *s, const struct user *u, char *msg, size_t msglen)
{
    long long owners = 0;
    if (strcmp(u->role, "owner") != 0 || strcmp(u->status, "active") != 0)
        return ACCOUNT_OK;
    if (store_user_count_active(s, "owner", &owners) != 0)
        return ACCOUNT_ERROR;
    if (owners <= 1) {
        snprintf(msg, msglen, "%s is the only owner: make another user owner first", u->email);
        return ACCOUNT_REFUSED;
    }
    return ACCOUNT_OK;
}

static enum account_rc
finish(struct store *s, enum account_rc rc)
{
    if (rc == ACCOUNT_OK && store_commit(s) == 0)
        return ACCOUNT_OK;
    store_rollback(s);
    return rc == ACCOUNT_OK ? ACCOUNT_ERROR : rc;
}

enum account_rc
account_create(struct app *a, struct store *s, const struct actor *who, const char *email,
               const char *name, const char *role, char *temp_out, char *msg, size_t msglen)
{
    struct user u;
    memset(&u, 0, sizeof u);
    enum account_rc rc = normalize(email, u.email, sizeof u.email, msg, msglen);
    if (rc != ACCOUNT_OK)
        return rc;
    rc = known_role(a, s, role, msg, msglen);
    if (rc == ACCOUNT_OK)
        rc = allow(a, s, who, AZ_GRANT, role, msg, msglen);
    if (rc != ACCOUNT_OK)
        return rc;
    if (name != NULL &&
        (strlen(name) >= sizeof u.display_name || !str_utf8_clean(name, strlen(name), 0))) {
        snprintf(msg, msglen, "the name is too long or has control characters");
        return ACCOUNT_REFUSED;
    }
    struct policy p;
    app_policy(a, s, &p);
    if (pwhash_temporary(&p, temp_out, ACCOUNT_TEMP_MAX) != 0 ||
        pwhash_hash(&a->pw, temp_out, u.password_hash, sizeof u.password_hash) != 0)
        return ACCOUNT_ERROR;
    snprintf(u.display_name, sizeof u.display_name, "%s", name ? name : "");
    snprintf(u.role, sizeof u.role, "%s", role);
    snprintf(u.status, sizeof u.status, "active");
    snprintf(u.auth_method, sizeof u.auth_method, "password");
    u.must_change = PW_MUST_FIRST;
    u.created_at = u.password_changed_at = clock_now();
    if (store_begin_write(s) != 0)
        return ACCOUNT_ERROR;
    long long id = 0;
    int r = store_user_insert(s, &u, &id);
    if (r == 1) {
        snprintf(msg, msglen, "a user with e-mail %s already exists", u.email);
        return finish(s, ACCOUNT_REFUSED);
    }
    if (r != 0 || store_user_set_password(s, id, u.password_hash, PW_MUST_FIRST, u.created_at,
                                          "initial") != 0)
        return finish(s, ACCOUNT_ERROR);
    char detail[64];
    snprintf(detail, sizeof detail, "role=%s method=password", role);
    if (audit_record(s, who, "user.add", u.email, NULL, detail) != 0)
        return finish(s, ACCOUNT_ERROR);
    return finish(s, ACCOUNT_OK);
}

enum account_rc
account_reset_password(struct app *a, struct store *s, const struct actor *who, const char *email,
                       char *temp_out, char *msg, size_t msglen)
{
    struct user u;
    enum account_rc rc = find_allowed(a, s, who, email, &u, msg, msglen);
    if (rc != ACCOUNT_OK)
        return rc;
    if (strcmp(u.auth_method, "password") != 0) {
        snprintf(msg, msglen, "%s signs in through SSO and has no password to reset", u.email);
        return ACCOUNT_REFUSED;
    }
    struct policy p;
    char hash[PWHASH_MAX];
    app_policy(a, s, &p);
    if (pwhash_temporary(&p, temp_out, ACCOUNT_TEMP_MAX) != 0 ||
        pwhash_hash(&a->pw, temp_out, hash, sizeof hash) != 0)
        return ACCOUNT_ERROR;
    if (store_begin_write(s) != 0)
        return ACCOUNT_ERROR;
    if (store_user_set_password(s, u.id, hash, PW_MUST_RESET, clock_now(), "reset") != 0 ||
        store_reset_token_void_user(s, u.id, clock_now()) != 0 ||
        store_lockout_clear(s, u.email) != 0 || store_session_delete_user(s, u.id, NULL, NULL) ||
        audit_record(s, who, "user.reset_password", u.email, NULL, "temporary password") != 0)
        return finish(s, ACCOUNT_ERROR);
    return finish(s, ACCOUNT_OK);
}

enum account_rc
account_unlock(struct app *a, struct store *s, const struct actor *who, const char *email,
               char *msg, size_t msglen)
{
    (void)a;
    char norm[STORE_EMAIL_MAX];
    enum account_rc rc = normalize(email, norm, sizeof norm, msg, msglen);
    if (rc != ACCOUNT_OK)
        return rc;
    /* The lock is per address, account or not: an existing account's role decides. */
    struct user u;
    int r0 = store_user_by_email(s, norm, &u);
    if (r0 < 0)
        return ACCOUNT_ERROR;
    rc = allow(a, s, who, AZ_USER, r0 == 0 ? u.role : "member", msg, msglen);
    if (rc != ACCOUNT_OK)
        return rc;
    struct lockout_row row;
    if (store_begin_write(s) != 0)
        return ACCOUNT_ERROR;
    int r = store_lockout_get(s, norm, &row);
    if (r < 0)
        return finish(s, ACCOUNT_ERROR);
    char old[64];
    snprintf(old, sizeof old, "failures=%d locked_until=%lld", r == 0 ? row.failures : 0,
             r == 0 ? (long long)row.locked_until : 0LL);
    if (store_lockout_clear(s, norm) != 0 ||
        audit_record(s, who, "user.unlock", norm, old, "failures=0") != 0)
        return finish(s, ACCOUNT_ERROR);
    return finish(s, ACCOUNT_OK);
}

enum account_rc
account_set_role(struct app *a, struct store *s, const struct actor *who, const char *email,
                 const char *role, char *msg, size_t msglen)
{
    struct user u;
    if (store_begin_write(s) != 0)
        return ACCOUNT_ERROR;
    enum account_rc rc = known_role(a, s, role, msg, msglen);
    if (rc == ACCOUNT_OK)
        rc = find_allowed(a, s, who, email, &u, msg, msglen);
    if (rc == ACCOUNT_OK)
        rc = allow(a, s, who, AZ_GRANT, role, msg, msglen);
    if (rc == ACCOUNT_OK && strcmp(role, "owner") != 0)
        rc = keep_an_owner(s, &u, msg, msglen);
    if (rc != ACCOUNT_OK)
        return finish(s, rc);
    if (store_user_set_role(s, u.id, role) != 0 ||
        audit_record(s, who, "user.set_role", u.email, u.role, role) != 0)
        return finish(s, ACCOUNT_ERROR);
    return finish(s, ACCOUNT_OK);
}

enum account_rc
account_set_status(struct app *a, struct store *s, const struct actor *who, const char *email,
                   const char *status, char *msg, size_t msglen)
{
    (void)a;
    int disable = strcmp(status, "disabled") == 0;
    struct user u;
    if (store_begin_write(s) != 0)
        return ACCOUNT_ERROR;
    enum account_rc rc = find_allowed(a, s, who, email, &u, msg, msglen);
    if (rc == ACCOUNT_OK && disable)
        rc = keep_an_owner(s, &u, msg, msglen);
    if (rc != ACCOUNT_OK)
        return finish(s, rc);
    if (store_user_set_disabled(s, u.id, disable) != 0 ||
        (disable && store_session_delete_user(s, u.id, NULL, NULL) != 0) ||
        audit_record(s, who, disable ? "user.disable" : "user.enable", u.email, u.status,
                     disable ? "disabled" : "active") != 0)
        return finish(s, ACCOUNT_ERROR);
    return finish(s, ACCOUNT_OK);
}

enum account_rc
account_delete(struct app *a, struct store *s, const struct actor *who, const char *email,
               char *msg, size_t msglen)
{
    (void)a;
    struct user u;
    if (store_begin_write(s) != 0)
        return ACCOUNT_ERROR;
    enum account_rc rc = find_allowed(a, s, who, email, &u, msg, msglen);
    if (rc == ACCOUNT_OK)
        rc = keep_an_owner(s, &u, msg, msglen);
    if (rc != ACCOUNT_OK)
        return finish(s, rc);
    char old[64];
    snprintf(old, sizeof old, "role=%s method=%s", u.role, u.auth_method);
    if (store_user_delete(s, u.id) != 0 ||
        audit_record(s, who, "user.delete", u.email, old, NULL) != 0)
        return finish(s, ACCOUNT_ERROR);
    return finish(s, ACCOUNT_OK);
}

/* 1-based position of the newest of the last `history` stored hashes that new_password
 * matches, 0 for none. */
static int
reuse_position(struct store *s, const struct user *u, int history, const char *new_password)
{
    char hashes[12][STORE_HASH_MAX];
    size_t n = 0;
    if (history <= 0)
        return 0;
    if (store_password_history(s, u->id, hashes, (size_t)history, &n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (pwhash_verify(hashes[i], new_password) == 1)
            return (int)i + 1;
    return 0;
}

enum account_rc
account_change_password(struct app *a, struct store *s, const struct user *u, const char *current,
                        const char *new_password, int forced, const char *keep_hash,
                        unsigned *violations, char *msg, size_t msglen)
{
    *violations = 0;
    if (strcmp(u->auth_method, "password") != 0) {
        snprintf(msg, msglen, "Your account signs in through your organisation's SSO.");
        return ACCOUNT_REFUSED;
    }
    if (current == NULL || pwhash_verify(u->password_hash, current) != 1) {
        snprintf(msg, msglen, "Your current password is not correct.");
        return ACCOUNT_REFUSED;
    }
    struct policy p;
    app_policy(a, s, &p);
    time_t now = clock_now(), changes[MAX_RECENT_CHANGES];
    size_t n_changes = 0;
    if (store_password_changes_since(s, u->id, now - 86400, changes, MAX_RECENT_CHANGES,
                                     &n_changes) != 0)
        return ACCOUNT_ERROR;
    /* A forced change is checked against the current password at least (position 1). */
    int pos = reuse_position(s, u, p.history > 0 ? p.history : forced ? 1 : 0, new_password);
    if (pos < 0)
        return ACCOUNT_ERROR;
    struct password_facts f = {
        .reused_position = pos, .changes = changes, .n_changes = n_changes, .forced = forced};
    *violations = password_check(&p, new_password, &f, now);
    if (*violations != 0) {
        snprintf(msg, msglen, "Choose another password.");
        return ACCOUNT_REFUSED;
    }
    char hash[PWHASH_MAX];
    if (pwhash_hash(&a->pw, new_password, hash, sizeof hash) != 0)
        return ACCOUNT_ERROR;
    if (store_begin_write(s) != 0)
        return ACCOUNT_ERROR;
    struct actor self = {.role = u->role};
    char name[STORE_EMAIL_MAX + 8];
    snprintf(name, sizeof name, "user:%s", u->email);
    self.name = name;
    if (store_user_set_password(s, u->id, hash, PW_MUST_NONE, now, "user") != 0 ||
        store_reset_token_void_user(s, u->id, now) != 0 ||
        store_session_delete_user(s, u->id, keep_hash, NULL) != 0 ||
        audit_record(s, &self, "password.change", u->email, NULL, forced ? "forced" : "voluntary"))
        return finish(s, ACCOUNT_ERROR);
    OPENSSL_cleanse(hash, sizeof hash);
    return finish(s, ACCOUNT_OK);
}

enum account_rc
account_mfa_reset(struct app *a, struct store *s, const struct actor *who, const char *email,
                  char *msg, size_t msglen)
{
    (void)a;
    struct user u;
    enum account_rc rc = find_allowed(a, s, who, email, &u, msg, msglen);
    if (rc != ACCOUNT_OK)
        return rc;
    int r = mfa_remove(s, &u, who, "user.mfa_reset");
    if (r == 1) {
        snprintf(msg, msglen, "%s has no two-step verification to reset", u.email);
        return ACCOUNT_REFUSED;
    }
    return r == 0 ? ACCOUNT_OK : ACCOUNT_ERROR;
}

enum account_rc
account_force_change(struct app *a, struct store *s, const struct actor *who, const char *email,
                     char *msg, size_t msglen)
{
    (void)a;
    struct user u;
    if (store_begin_write(s) != 0)
        return ACCOUNT_ERROR;
    enum account_rc rc = find_allowed(a, s, who, email, &u, msg, msglen);
    if (rc == ACCOUNT_OK && strcmp(u.auth_method, "password") != 0) {
        snprintf(msg, msglen, "%s signs in through SSO and has no password here", u.email);
        rc = ACCOUNT_REFUSED;
    }
    if (rc != ACCOUNT_OK)
        return finish(s, rc);
    char old[16];
    snprintf(old, sizeof old, "must_change=%d", u.must_change);
    if (store_user_set_must_change(s, u.id, PW_MUST_FORCED) != 0 ||
        audit_record(s, who, "user.force_change", u.email, old, "must_change=3") != 0)
        return finish(s, ACCOUNT_ERROR);
    return finish(s, ACCOUNT_OK);
}

/* The rules new_password breaks as the user's own (unforced) change of u at now. 0 or -1. */
static int
own_change_violations(struct app *a, struct store *s, const struct user *u,
                      const char *new_password, time_t now, unsigned *violations)
{
    struct policy p;
    app_policy(a, s, &p);
    time_t changes[MAX_RECENT_CHANGES];
    size_t n_changes = 0;
    if (store_password_changes_since(s, u->id, now - 86400, changes, MAX_RECENT_CHANGES,
                                     &n_changes) != 0)
        return -1;
    int pos = reuse_position(s, u, p.history, new_password);
    if (pos < 0)
        return -1;
    struct password_facts f = {
        .reused_position = pos, .changes = changes, .n_changes = n_changes, .forced = 0};
    *violations = password_check(&p, new_password, &f, now);
    return 0;
}

/* Inside the write transaction: the token is consumed and the account may still reset. */
static enum account_rc
take_token(struct store *s, const struct user *u, const char *token_hash, time_t now, char *msg,
           size_t msglen)
{
    struct user cur;
    int r = store_reset_token_use(s, token_hash, now);
    if (r != 0) {
        if (r == 1)
            snprintf(msg, msglen,
                     "This password reset link has been used already or has "
                     "expired. Ask for a new one if you still need it.");
        return r == 1 ? ACCOUNT_REFUSED : ACCOUNT_ERROR;
    }
    r = store_user_by_id(s, u->id, &cur);
    if (r < 0)
        return ACCOUNT_ERROR;
    if (r == 1 || strcmp(cur.status, "active") != 0 || strcmp(cur.auth_method, "password") != 0) {
        snprintf(msg, msglen,
                 "This account cannot reset its password here. Ask an "
                 "administrator.");
        return ACCOUNT_REFUSED;
    }
    return ACCOUNT_OK;
}

enum account_rc
account_reset_with_token(struct app *a, struct store *s, const struct user *u,
                         const char *token_hash, const char *new_password, const char *client,
                         unsigned *violations, char *msg, size_t msglen)
{
    *violations = 0;
    time_t now = clock_now();
    if (own_change_violations(a, s, u, new_password, now, violations) != 0)
        return ACCOUNT_ERROR;
    if (*violations != 0) {
        snprintf(msg, msglen, "Choose another password.");
        return ACCOUNT_REFUSED;
    }
    char hash[PWHASH_MAX];
    if (pwhash_hash(&a->pw, new_password, hash, sizeof hash) != 0)
        return ACCOUNT_ERROR;
    char name[STORE_EMAIL_MAX + 8];
    snprintf(name, sizeof name, "user:%s", u->email);
    struct actor self = {.name = name, .role = u->role, .client_addr = client};
    enum account_rc rc = ACCOUNT_ERROR;
    if (store_begin_write(s) != 0)
        goto out;
    rc = take_token(s, u, token_hash, now, msg, msglen);
    if (rc != ACCOUNT_OK)
        goto out;
    rc = ACCOUNT_ERROR;
    if (store_user_set_password(s, u->id, hash, PW_MUST_NONE, now, "self_reset") != 0 ||
        store_reset_token_void_user(s, u->id, now) != 0 ||
        store_session_delete_user(s, u->id, NULL, NULL) != 0 ||
        store_lockout_clear(s, u->email) != 0 ||
        audit_record(s, &self, "user.password_reset_self", u->email, NULL, "e-mailed link") != 0)
        goto out;
    rc = ACCOUNT_OK;
out:
    OPENSSL_cleanse(hash, sizeof hash);
    return finish(s, rc);
}
