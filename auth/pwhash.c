#include "pwhash.h"

#include <argon2.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "log.h"
#include "rand.h"
#include "policy/password.h"

#define SALT_BYTES 16
#define HASH_BYTES 32

/* Process-wide counters for /metrics; atomics, so no lock. */
static _Atomic unsigned long stat_runs;
static _Atomic unsigned long long stat_cpu_ns;

static unsigned long long
thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void
account(unsigned long long started)
{
    atomic_fetch_add(&stat_runs, 1);
    atomic_fetch_add(&stat_cpu_ns, thread_cpu_ns() - started);
}

void
pwhash_stats(unsigned long *runs, double *cpu_seconds)
{
    *runs = atomic_load(&stat_runs);
    *cpu_seconds = (double)atomic_load(&stat_cpu_ns) / 1e9;
}

int
pwhash_hash(const struct pwhash_params *p, const char *password, char *out, size_t outlen)
{
    unsigned char salt[SALT_BYTES];
    if (rand_bytes(salt, sizeof salt) != 0)
        return -1;
    size_t need = argon2_encodedlen(p->iterations, p->memory_kib, p->parallelism, SALT_BYTES,
                                    HASH_BYTES, Argon2_id);
    if (need > outlen)
        return -1;
    unsigned long long t0 = thread_cpu_ns();
    int rc = argon2id_hash_encoded(p->iterations, p->memory_kib, p->parallelism, password,
                                   strlen(password), salt, sizeof salt, HASH_BYTES, out, outlen);
    account(t0);
    if (rc != ARGON2_OK) {
        log_error("argon2: %s", argon2_error_message(rc));
        return -1;
    }
    return 0;
}

int
pwhash_verify(const char *encoded, const char *password)
{
    if (encoded == NULL || strncmp(encoded, "$argon2id$", 10) != 0)
        return 0;
    unsigned long long t0 = thread_cpu_ns();
    int rc = argon2id_verify(encoded, password, strlen(password));
    account(t0);
    if (rc == ARGON2_OK)
        return 1;
    if (rc == ARGON2_VERIFY_MISMATCH || rc == ARGON2_DECODING_FAIL)
        return 0;
    log_error("argon2: %s", argon2_error_message(rc));
    return -1;
}

int
pwhash_needs_rehash(const struct pwhash_params *p, const char *encoded)
{
    char want[64];
    snprintf(want, sizeof want, "$argon2id$v=19$m=%u,t=%u,p=%u$", p->memory_kib, p->iterations,
             p->parallelism);
    return strncmp(encoded, want, strlen(want)) != 0;
}

int
pwhash_temporary(const struct policy *p, char *out, size_t len)
{
    /* No look-alike characters (0/O, 1/l/I): the password is read off a screen and typed. */
    static const char lower[] = "abcdefghijkmnopqrstuvwxyz";
    static const char upper[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";
    static const char digits[] = "23456789";
    static const char special[] = "!#%+-=?@";
    static const char *const sets[] = {lower, upper, digits, special};
    const size_t n = 16;
    if (len < n + 1)
        return -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char rnd[32];
        if (rand_bytes(rnd, sizeof rnd) != 0)
            return -1;
        for (size_t i = 0; i < n; i++) {
            /* The first four positions guarantee one of each class; the rest draw from all. */
            const char *set = sets[i < 4 ? i : rnd[16 + i] % 4];
            size_t m = strlen(set);
            out[i] = set[rnd[i] % m];
        }
        out[n] = '\0';
        if (password_check(p, out, NULL, 0) == 0) {
            OPENSSL_cleanse(rnd, sizeof rnd);
            return 0;
        }
    }
    return -1;
}
