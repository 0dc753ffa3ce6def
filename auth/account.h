/* auth/account.h: operations on accounts shared by the server, the admin CLI and (later) the
 * admin API: create, password change and reset, unlock, role, status, delete. Each change is
 * audited with its actor. Messages written to msg are fit to show to the person who asked. */
#ifndef GH_AUTH_ACCOUNT_H
#define GH_AUTH_ACCOUNT_H

#include <stddef.h>

#include "policy/password.h"

struct app;
struct store;
struct user;
struct actor;

enum account_rc {
    ACCOUNT_OK = 0,
    ACCOUNT_REFUSED = 1,   /* msg says why: invalid input, not found, duplicate, last owner... */
    ACCOUNT_ERROR = -1,    /* store or crypto failure (logged) */
    ACCOUNT_FORBIDDEN = 2, /* the actor's role may not do this (auth/authz.h); msg says so */
};

#define ACCOUNT_TEMP_MAX 32

/* Creates a password user with a temporary password (written to temp_out). */
enum account_rc account_create(struct app *a, struct store *s, const struct actor *who,
                               const char *email, const char *name, const char *role,
                               char *temp_out, char *msg, size_t msglen);

/* Sets a new temporary password that must be changed at the next sign-in; ends any lock and
 * every session of the user. */
enum account_rc account_reset_password(struct app *a, struct store *s, const struct actor *who,
                                       const char *email, char *temp_out, char *msg, size_t msglen);

/* Ends a sign-in lock for the address. */
enum account_rc account_unlock(struct app *a, struct store *s, const struct actor *who,
                               const char *email, char *msg, size_t msglen);

enum account_rc account_set_role(struct app *a, struct store *s, const struct actor *who,
                                 const char *email, const char *role, char *msg, size_t msglen);

/* status: "active" or "disabled". Disabling ends the user's sessions. */
enum account_rc account_set_status(struct app *a, struct store *s, const struct actor *who,
                                   const char *email, const char *status, char *msg, size_t msglen);

/* Removes the user's TOTP and recovery codes (lost device): the next sign-in asks for none, or
 * for enrolment when mfa.required. */
enum account_rc account_mfa_reset(struct app *a, struct store *s, const struct actor *who,
                                  const char *email, char *msg, size_t msglen);

/* The user must choose a new password at the next sign-in (the current one still signs in). */
enum account_rc account_force_change(struct app *a, struct store *s, const struct actor *who,
                                     const char *email, char *msg, size_t msglen);

enum account_rc account_delete(struct app *a, struct store *s, const struct actor *who,
                               const char *email, char *msg, size_t msglen);

/* The user's own change: current (always required) must be right and new_password must pass
 * the whole policy (history; the daily cap unless forced). On
 * ACCOUNT_REFUSED, *violations holds the broken rules (0 when the current password was wrong,
 * then msg says so). keep_hash: the session that stays; every other session of the user ends. */
enum account_rc account_change_password(struct app *a, struct store *s, const struct user *u,
                                        const char *current, const char *new_password, int forced,
                                        const char *keep_hash, unsigned *violations, char *msg,
                                        size_t msglen);

/* Self-service reset through an e-mailed link, for u as found by reset_link_check (reset.h)
 * with the link's token_hash. new_password must pass the whole policy as the user's own change
 * (rules, history, the changes-per-day cap). Then, in one transaction: the token is used up
 * (atomically: of two concurrent calls one wins), every other token of the user becomes void,
 * must_change clears, every session ends, the failure count restarts; audited as
 * user.password_reset_self. ACCOUNT_REFUSED: *violations holds the broken rules (the token stays
 * usable), or is 0 when the link stopped working meanwhile (msg says why). */
enum account_rc account_reset_with_token(struct app *a, struct store *s, const struct user *u,
                                         const char *token_hash, const char *new_password,
                                         const char *client, unsigned *violations, char *msg,
                                         size_t msglen);

#endif
