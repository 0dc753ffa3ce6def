/* auth/login.h: password sign-in, shared by POST /login and POST /api/login. Failures are counted
 * per e-mail address whether or not an account exists, an unknown address costs one argon2
 * verification like a wrong password, and a locked address gets no password check at all.
 * While password sign-in is off the lockout is no oracle: the same count and answers for a right
 * and a wrong password of anyone but an owner. */
#ifndef GH_AUTH_LOGIN_H
#define GH_AUTH_LOGIN_H

#include <time.h>

#include "policy/expiry.h"
#include "store.h"

struct app;

enum login_result {
    LOGIN_OK,
    LOGIN_INVALID,      /* wrong e-mail or password (indistinguishable) */
    LOGIN_LOCKED,       /* locked_until says until when */
    LOGIN_DISABLED,     /* right password, account disabled by an admin */
    LOGIN_PASSWORD_OFF, /* password sign-in is switched off (and this is no owner break-glass) */
    LOGIN_ERROR,        /* store or crypto failure */
};

struct login_outcome {
    enum login_result result;
    struct user user;             /* LOGIN_OK */
    enum pw_change_reason change; /* LOGIN_OK: a change is required before a full session */
    time_t locked_until;          /* LOGIN_LOCKED */
    int break_glass;              /* LOGIN_OK: an owner while password sign-in is off */
    int mfa;   /* LOGIN_OK: the user has TOTP: no session before a valid code (the failure count
                  is kept until then, so a known password gives no free guesses at codes) */
    int enrol; /* LOGIN_OK: mfa.required and no TOTP yet: enrolment before any session */
};

/* How a result is answered: the one table POST /login and POST /api/login share (as the SAML
 * refusals' reason table). */
struct login_answer {
    int status;          /* HTTP status */
    const char *code;    /* the API's "error" */
    const char *message; /* for the person; the page adds when a lock ends */
    const char *event;   /* the sign-in event's result: "success", "failure" or "locked" */
};
const struct login_answer *login_answer(enum login_result r);

/* Where a password sign-in comes from: while password sign-in is off, only the break-glass
 * form checks a password, and only an owner's; the others answer LOGIN_PASSWORD_OFF at once. */
enum login_via {
    LOGIN_VIA_FORM,        /* POST /login */
    LOGIN_VIA_BREAK_GLASS, /* POST /login from /login?break_glass=1 */
    LOGIN_VIA_API,         /* POST /api/login: refused for everyone while off */
};

/* Runs the whole check for email/password from client. Always fills out->result. A failure
 * costs at least one argon2 verification at the configured parameters, whether the account
 * exists, has a password, or has a hash made with other parameters. */
void login_password(struct app *a, struct store *s, const char *email, const char *password,
                    const char *client, enum login_via via, struct login_outcome *out);

/* The second factor failed for email: counted with the password failures. LOGIN_INVALID,
 * LOGIN_LOCKED (locked_until filled) or LOGIN_ERROR. */
enum login_result login_count_failure(struct app *a, struct store *s, const char *email,
                                      time_t *locked_until);
/* Whether email is locked: the one place that decides it (sign-in, the password-change and MFA
 * pages, reset links, the admin pages, API and CLI all ask here; policy/lockout.c holds the
 * rule). LOGIN_LOCKED (locked_until filled) while locked, LOGIN_OK when not, LOGIN_ERROR. */
enum login_result login_lock_state(struct store *s, const char *email, time_t *locked_until);
/* How many addresses are locked now, by the same rule. 0 or -1. */
int login_locked_count(struct store *s, long long *n_out);
/* The whole sign-in (password and second factor) succeeded: the failure count restarts. */
int login_completed(struct store *s, const char *email);

#endif
