/* auth/reset.h: self-service password reset. A request for an address (rate-limited per
 * address, answered alike whatever happens) e-mails an active, unlocked password account a link
 * with a single-use 256-bit token, of which only the SHA-256 is stored; the link's checks map to
 * one table of page texts. The new password is set by account_reset_with_token (account.h). */
#ifndef GH_AUTH_RESET_H
#define GH_AUTH_RESET_H

#include <stddef.h>
#include <time.h>

struct app;
struct store;
struct user;

/* A link works for this long after the request. */
#define RESET_TOKEN_SECONDS (30 * 60)
/* Requests per normalised address in any rolling hour; more are answered alike but send nothing. */
#define RESET_MAX_PER_HOUR 3
#define RESET_WINDOW_SECONDS 3600
/* Expired and used tokens are kept this long (the link page can say "used" or "expired"). */
#define RESET_TOKEN_KEEP_SECONDS 86400

enum reset_request_result {
    RESET_REQ_MAILED,       /* a token was made and its e-mail queued */
    RESET_REQ_NO_ACCOUNT,   /* no account, or not an active password account */
    RESET_REQ_LOCKED,       /* sign-in for the address is locked: no link until it ends */
    RESET_REQ_RATE_LIMITED, /* RESET_MAX_PER_HOUR reached for the address */
    RESET_REQ_DISABLED,     /* no [smtp] host, or the mailer is not running */
    RESET_REQ_ERROR,        /* store or RNG failure (logged) */
};

/* Handles a reset request for email (as typed; normalised here) from client: records it for the
 * rate limit, and when the account may reset, stores a new token and queues the e-mail with the
 * link {base_url}/password/reset?token=... The caller answers the same way whatever the result:
 * both paths do the same store work in one write transaction and never wait for the relay. */
enum reset_request_result reset_request(struct app *a, struct store *s, const char *email,
                                        const char *client);

enum reset_link {
    RESET_LINK_OK,
    RESET_LINK_INVALID, /* malformed, or no such token */
    RESET_LINK_EXPIRED,
    RESET_LINK_USED,    /* used, or void because the password changed since */
    RESET_LINK_ACCOUNT, /* the account is gone, disabled, or signs in through SSO */
    RESET_LINK_LOCKED,  /* sign-in for the account is locked: wait, or ask an administrator */
    RESET_LINK_ERROR,   /* store failure (logged) */
};

/* Checks the token of a link at now. RESET_LINK_OK: *u is its account and hash_out (65 bytes)
 * the token's SHA-256 (hex). */
enum reset_link reset_link_check(struct store *s, const char *token, time_t now, struct user *u,
                                 char *hash_out);

/* The HTTP status and the sentence shown for a link that does not work. */
int reset_link_status(enum reset_link v);
const char *reset_link_text(enum reset_link v);

/* The text of the reset e-mail for the link (to_email is the account's address) into a malloc'd
 * string the caller frees; NULL when out of memory. */
char *reset_mail_body(const char *to_email, const char *link, const char *client, time_t now);

#endif
