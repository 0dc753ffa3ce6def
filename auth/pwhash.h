/* auth/pwhash.h: password hashing with argon2id (libargon2), PHC strings, parameter upgrade,
 * and generation of temporary passwords. Only this file includes argon2.h. */
#ifndef GH_AUTH_PWHASH_H
#define GH_AUTH_PWHASH_H

#include <stddef.h>

#include "policy/settings.h"

#define PWHASH_MAX 256

struct pwhash_params {
    unsigned memory_kib;
    unsigned iterations;
    unsigned parallelism;
};

/* Hashes password with a fresh 16-byte salt into out (a PHC string "$argon2id$v=19$m=..,t=..,
 * p=..$salt$hash"). 0 or -1. */
int pwhash_hash(const struct pwhash_params *p, const char *password, char *out, size_t outlen);

/* 1 when password matches encoded, 0 when not (or encoded is not an argon2id string),
 * -1 on error. Always does the full argon2 work for a well-formed encoded string. */
int pwhash_verify(const char *encoded, const char *password);

/* Whether encoded uses other parameters than p (so it is upgraded at the next sign-in). */
int pwhash_needs_rehash(const struct pwhash_params *p, const char *encoded);

/* Totals since start: argon2 runs and the CPU time they took (for GET /metrics). */
void pwhash_stats(unsigned long *runs, double *cpu_seconds);

/* A random temporary password of 16 characters that satisfies policy p's character rules,
 * into out (at least 17 bytes). 0 or -1. */
int pwhash_temporary(const struct policy *p, char *out, size_t len);

#endif
