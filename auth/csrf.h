/* auth/csrf.h: CSRF tokens. Each visitor gets a random cookie (gatehouse_csrf); the form token is
 * an HMAC of that cookie and of the session (when signed in) under a key kept in the store, so it
 * cannot be forged, is tied to the visitor, and changes when the session does. */
#ifndef GH_AUTH_CSRF_H
#define GH_AUTH_CSRF_H

#include <stddef.h>

#define CSRF_COOKIE "gatehouse_csrf"
#define CSRF_FIELD "csrf_token"
#define CSRF_VISITOR_LEN 32 /* hex characters of the visitor cookie */
#define CSRF_TOKEN_LEN 64   /* hex characters of the token */

/* A fresh visitor value (CSRF_VISITOR_LEN + 1 bytes). 0 or -1. */
int csrf_new_visitor(char *out);

/* Whether v looks like a visitor value we issued. */
int csrf_visitor_ok(const char *v);

/* The token for visitor and session hash (may be ""), into out (CSRF_TOKEN_LEN + 1 bytes). */
void csrf_token(const unsigned char *key, size_t keylen, const char *visitor,
                const char *session_hash, char *out);

/* Whether token is the right one, compared in constant time. */
int csrf_check(const unsigned char *key, size_t keylen, const char *visitor,
               const char *session_hash, const char *token);

#endif
