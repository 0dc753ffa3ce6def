/* auth/session.h: sessions. A token is 256 bits from OpenSSL's RNG, handed out once (cookie
 * gatehouse_session, or a Bearer token); only its SHA-256 is stored. */
#ifndef GH_AUTH_SESSION_H
#define GH_AUTH_SESSION_H

#include <time.h>

#include "policy/settings.h"
#include "policy/timeout.h"

struct store;
struct session_row;
struct user;

#define SESSION_COOKIE "gatehouse_session"
#define SESSION_TOKEN_LEN 64 /* hex characters */
/* What a new session starts with. */
struct session_new {
    long long user_id;
    enum session_kind kind;
    int restricted; /* enum pw_change_reason: only the password change until done */
    const char *client_addr;
    const char *idp; /* SAML sessions: IdP entity ID, NameID, SessionIndex */
    const char *name_id;
    const char *session_index;
    const char *name_id_format;
    int mfa;                   /* a second factor was used in this sign-in */
    const char *authn_context; /* SAML: the AuthnContextClassRef */
    const char *groups;        /* SAML: the IdP's groups, one per line */
    time_t ends_at; /* SAML: AuthnStatement/@SessionNotOnOrAfter; the session ends then (0 = no
                       end but the timeouts) */
};

/* Creates a session; writes the token (SESSION_TOKEN_LEN + 1 bytes) and its hash (65 bytes). */
int session_create(struct store *s, const struct session_new *n, char *token_out, char *hash_out);

/* Whether token has the shape of our tokens (SESSION_TOKEN_LEN lower-case hex characters). */
int session_token_well_formed(const char *token);
/* A new 256-bit token from OpenSSL's RNG as hex (SESSION_TOKEN_LEN + 1 bytes). */
int session_new_token(char *token_out);

/* SHA-256 of token as hex (65 bytes). */
void session_hash(const char *token, char *hash_out);

/* Finds the live session for token: 0 found (out filled, last_seen refreshed), 1 none or ended
 * by a timeout (then deleted), -1 error. */
int session_lookup(struct store *s, const struct policy *p, long absolute_seconds,
                   const char *token, time_t now, struct session_row *out);

/* session_lookup in two steps, for a caller that needs the policy the timeouts use only once
 * the session is read (the request's hot path: one store read for the session, its user and
 * the settings' version). session_read_user: 0 found (out, user and *settings_version filled),
 * 1 no such session or a malformed token, -1 error. session_check then applies the timeouts:
 * 0 live (last_seen rewritten when due), 1 ended (deleted), -1 error. */
int session_read_user(struct store *s, const char *token, struct session_row *out,
                      struct user *user, long long *settings_version);
int session_check(struct store *s, const struct policy *p, long absolute_seconds, time_t now,
                  struct session_row *row);

#endif
