#include "mfa.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "app.h"
#include "arena.h"
#include "audit.h"
#include "clock.h"
#include "log.h"
#include "login.h"
#include "secrets.h"
#include "store.h"

/* Associated data of a user's sealed seed: a seed copied to another row does not open. */
static void
seed_aad(const struct user *u, char *out, size_t len)
{
    snprintf(out, len, "totp-seed:user:%lld", u->id);
}

static int
seal_seed(struct app *a, const struct user *u, const unsigned char *seed, char *out, size_t len)
{
    char aad[64];
    seed_aad(u, aad, sizeof aad);
    return secrets_seal(&a->secrets, aad, seed, TOTP_SECRET_LEN, out, len);
}

static int
open_seed(struct app *a, const struct user *u, const char *sealed, unsigned char *seed)
{
    char aad[64];
    size_t n = 0;
    seed_aad(u, aad, sizeof aad);
    if (secrets_open(&a->secrets, aad, sealed, seed, TOTP_SECRET_LEN, &n) != 0 ||
        n != TOTP_SECRET_LEN) {
        log_error("the TOTP seed of user_id=%lld does not open with the data key", u->id);
        return -1;
    }
    return 0;
}

static int
describe(struct arena *ar, const struct user *u, const unsigned char *seed,
         struct mfa_enrolment *out)
{
    out->base32 = totp_base32(ar, seed, TOTP_SECRET_LEN);
    out->uri = out->base32 ? totp_uri(ar, MFA_ISSUER, u->email, out->base32) : NULL;
    out->svg = out->uri ? totp_qr_svg(ar, out->uri) : NULL;
    return out->svg ? 0 : -1;
}

int
mfa_enrolment(struct app *a, struct store *s, struct arena *ar, const struct user *u,
              struct mfa_enrolment *out)
{
    struct totp_row row;
    unsigned char seed[TOTP_SECRET_LEN];
    int r = store_totp_get(s, u->id, &row), rc = -1;
    if (r < 0)
        return -1;
    if (r == 0 && row.confirmed)
        return 1;
    time_t now = clock_now();
    if (r == 0 && now - row.created_at < MFA_ENROL_SECONDS && now >= row.created_at) {
        if (open_seed(a, u, row.seed, seed) == 0)
            rc = describe(ar, u, seed, out);
        OPENSSL_cleanse(seed, sizeof seed);
        return rc;
    }
    char sealed[SECRETS_SEALED_MAX(TOTP_SECRET_LEN)];
    if (totp_new_secret(seed) != 0 || seal_seed(a, u, seed, sealed, sizeof sealed) != 0)
        goto out;
    r = store_totp_put_pending(s, u->id, sealed, now);
    if (r == 1)
        rc = 1; /* confirmed meanwhile (another tab) */
    else if (r == 0)
        rc = describe(ar, u, seed, out);
out:
    OPENSSL_cleanse(seed, sizeof seed);
    return rc;
}

static int
fresh_codes(struct app *a, struct store *s, const struct user *u,
            char (*codes)[RECOVERY_CODE_LEN + 1])
{
    char hashes[RECOVERY_CODES][65];
    if (recovery_new(codes, RECOVERY_CODES) != 0)
        return -1;
    for (size_t i = 0; i < RECOVERY_CODES; i++)
        if (recovery_hash(a->recovery_key, sizeof a->recovery_key, codes[i], hashes[i]) != 0)
            return -1;
    return store_recovery_replace(s, u->id, (const char(*)[65])hashes, RECOVERY_CODES, clock_now());
}

int
mfa_confirm(struct app *a, struct store *s, const struct user *u, const struct actor *who,
            const char *code, char (*codes)[RECOVERY_CODE_LEN + 1])
{
    struct totp_row row;
    unsigned char seed[TOTP_SECRET_LEN];
    int r = store_totp_get(s, u->id, &row);
    if (r != 0)
        return r;
    if (row.confirmed)
        return 1;
    if (open_seed(a, u, row.seed, seed) != 0)
        return -1;
    long long step = 0;
    enum totp_result t =
        totp_check(&totp_default, seed, TOTP_SECRET_LEN, clock_now(), 0, code, &step);
    OPENSSL_cleanse(seed, sizeof seed);
    if (t == TOTP_ERROR)
        return -1;
    if (t != TOTP_OK)
        return 1;
    if (store_begin_write(s) != 0)
        return -1;
    r = store_totp_confirm(s, u->id, step);
    if (r != 0) {
        store_rollback(s);
        return r;
    }
    if (fresh_codes(a, s, u, codes) != 0 ||
        audit_record(s, who, "mfa.enrol", u->email, "mfa=off", "mfa=totp") != 0 ||
        store_commit(s) != 0) {
        store_rollback(s);
        return -1;
    }
    log_info("mfa enrolled user_id=%lld", u->id);
    return 0;
}

/* A recovery code: the hash of what was typed, used once. */
static enum mfa_verdict
try_recovery(struct app *a, struct store *s, const struct user *u, const char *code)
{
    char hash[65];
    if (recovery_hash(a->recovery_key, sizeof a->recovery_key, code, hash) != 0)
        return MFA_BAD;
    int r = store_recovery_use(s, u->id, hash, clock_now());
    return r == 0 ? MFA_OK : r == 1 ? MFA_BAD : MFA_ERROR;
}

static enum mfa_verdict
try_totp(struct app *a, struct store *s, const struct user *u, const char *code)
{
    struct totp_row row;
    unsigned char seed[TOTP_SECRET_LEN];
    int r = store_totp_get(s, u->id, &row);
    if (r < 0)
        return MFA_ERROR;
    if (r == 1 || !row.confirmed)
        return MFA_BAD;
    if (open_seed(a, u, row.seed, seed) != 0)
        return MFA_ERROR;
    long long step = 0;
    enum totp_result t =
        totp_check(&totp_default, seed, TOTP_SECRET_LEN, clock_now(), row.last_step, code, &step);
    OPENSSL_cleanse(seed, sizeof seed);
    if (t == TOTP_ERROR)
        return MFA_ERROR;
    if (t == TOTP_REPLAYED)
        log_info("mfa code replayed user_id=%lld", u->id);
    if (t != TOTP_OK)
        return MFA_BAD;
    /* Atomic: of two requests with the same code, one wins. */
    r = store_totp_use_step(s, u->id, step);
    if (r == 1)
        log_info("mfa code replayed user_id=%lld", u->id);
    return r == 0 ? MFA_OK : r == 1 ? MFA_BAD : MFA_ERROR;
}

enum mfa_verdict
mfa_verify(struct app *a, struct store *s, const struct user *u, const char *code,
           time_t *locked_until, int *recovery_used)
{
    *recovery_used = 0;
    enum login_result l = login_lock_state(s, u->email, locked_until);
    if (l == LOGIN_LOCKED)
        return MFA_LOCKED;
    if (l == LOGIN_ERROR)
        return MFA_ERROR;
    /* Six digits are a TOTP code; anything else may be a recovery code. */
    size_t n = code ? strlen(code) : 0;
    int digits = n == totp_default.digits && strspn(code, "0123456789") == n;
    enum mfa_verdict v = n == 0 || n > 64 ? MFA_BAD
                         : digits         ? try_totp(a, s, u, code)
                                          : try_recovery(a, s, u, code);
    if (v == MFA_OK) {
        *recovery_used = !digits;
        if (!digits)
            log_info("mfa recovery code used user_id=%lld", u->id);
        return MFA_OK;
    }
    if (v == MFA_ERROR)
        return MFA_ERROR;
    l = login_count_failure(a, s, u->email, locked_until);
    return l == LOGIN_LOCKED ? MFA_LOCKED : l == LOGIN_ERROR ? MFA_ERROR : MFA_BAD;
}

int
mfa_regenerate(struct app *a, struct store *s, const struct user *u, const struct actor *who,
               char (*codes)[RECOVERY_CODE_LEN + 1])
{
    if (store_begin_write(s) != 0)
        return -1;
    if (fresh_codes(a, s, u, codes) != 0 ||
        audit_record(s, who, "mfa.recovery_codes", u->email, NULL, "regenerated") != 0 ||
        store_commit(s) != 0) {
        store_rollback(s);
        return -1;
    }
    return 0;
}

int
mfa_remove(struct store *s, const struct user *u, const struct actor *who, const char *action)
{
    if (store_begin_write(s) != 0)
        return -1;
    int r = store_totp_delete(s, u->id);
    if (r != 0 || audit_record(s, who, action, u->email, "mfa=totp", "mfa=off") != 0 ||
        store_commit(s) != 0) {
        store_rollback(s);
        return r == 1 ? 1 : -1;
    }
    log_info("mfa removed user_id=%lld action=%s", u->id, action);
    return 0;
}

long long
mfa_recovery_left(struct store *s, const struct user *u)
{
    long long n = 0;
    store_recovery_remaining(s, u->id, &n);
    return n;
}
