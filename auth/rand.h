/* auth/rand.h: the one door in auth/ to OpenSSL's random generator and constant-time compare
 * (sp/ has its own layer). Every random byte the server hands out (session, CSRF, reset and
 * MFA tokens, salts, keys, RelayState handles) comes from rand_bytes, whose result cannot be
 * ignored: a generator failure fails the operation, never a predictable value. */
#ifndef GH_AUTH_RAND_H
#define GH_AUTH_RAND_H

#include <stddef.h>

/* Fills buf with len bytes from OpenSSL's CSPRNG. 0, or -1 (logged; buf wiped) on failure. */
__attribute__((warn_unused_result)) int rand_bytes(void *buf, size_t len);

/* Whether a and b hold the same bytes, in time independent of where they differ (lengths are
 * compared first: they are not secret). */
int ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
