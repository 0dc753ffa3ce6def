/* auth/mfa.h: the second factor of password users. Enrolment (a pending seed, confirmed by its
 * first code), checking a code at sign-in (TOTP with each time step accepted once, or a
 * single-use recovery code; failures count toward the sign-in lockout), recovery code
 * regeneration and removal. Seeds are stored sealed (auth/secrets.h) with the user id as
 * associated data; recovery codes as keyed hashes. */
#ifndef GH_AUTH_MFA_H
#define GH_AUTH_MFA_H

#include <stddef.h>
#include <time.h>

#include "totp.h"

struct app;
struct arena;
struct store;
struct user;
struct actor;

#define MFA_ISSUER "Gatehouse"
/* How long the half-signed-in state between password and code lasts. */
#define MFA_PENDING_SECONDS 300
/* A pending (unconfirmed) seed is shown again for this long, then replaced. */
#define MFA_ENROL_SECONDS 3600

/* What the enrolment page shows. */
struct mfa_enrolment {
    char *base32; /* the secret for manual entry */
    char *uri;    /* otpauth:// */
    char *svg;    /* its QR code */
};

/* The pending enrolment of user (made, or made anew when older than MFA_ENROL_SECONDS); 1 when
 * the user has TOTP already; -1 on error. Strings are in the arena. */
int mfa_enrolment(struct app *a, struct store *s, struct arena *ar, const struct user *u,
                  struct mfa_enrolment *out);

/* Confirms the pending seed with its first code: 0 (codes filled with new recovery codes, the
 * user has TOTP from now on, audited), 1 wrong code or nothing pending, -1 error. */
int mfa_confirm(struct app *a, struct store *s, const struct user *u, const struct actor *who,
                const char *code, char (*codes)[RECOVERY_CODE_LEN + 1]);

enum mfa_verdict {
    MFA_OK,
    MFA_BAD,    /* wrong, replayed or used code (one failure counted) */
    MFA_LOCKED, /* locked_until filled: no code is checked while locked */
    MFA_ERROR,
};

/* Checks a TOTP code or a recovery code for a user with TOTP. *recovery_used is set when a
 * recovery code was accepted. */
enum mfa_verdict mfa_verify(struct app *a, struct store *s, const struct user *u, const char *code,
                            time_t *locked_until, int *recovery_used);

/* New recovery codes in place of the old ones (after a fresh code was verified), audited. */
int mfa_regenerate(struct app *a, struct store *s, const struct user *u, const struct actor *who,
                   char (*codes)[RECOVERY_CODE_LEN + 1]);

/* Removes the user's TOTP and recovery codes, audited as action; 1 when there was none. */
int mfa_remove(struct store *s, const struct user *u, const struct actor *who, const char *action);

/* Unused recovery codes left. */
long long mfa_recovery_left(struct store *s, const struct user *u);

#endif
