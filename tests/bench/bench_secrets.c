/* tests/bench/bench_secrets.c: what sealing costs. The start-up unwrap of the data key inside a
 * PKCS#11 token (module loaded, session, login, key found, AES-GCM decrypt in the token, module
 * finalised: what each start of the server does once), and the per-request seal of a SAML log
 * body (AES-256-GCM under the data key, base64) on a real decoded response, with its opening
 * (an admin viewing the entry). Prints figures; asserts nothing.
 * usage: bench_secrets STORE MODULE TOKEN_LABEL KEY_LABEL PIN_FILE RESPONSE_XML SECONDS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/log.h"
#include "auth/secrets.h"
#include "auth/store.h"
#include "sp/sp.h"

static double
now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
unwraps(struct store *s, const struct secrets_token *t, double seconds)
{
    char err[1200];
    struct secrets k;
    if (secrets_load_token(&k, s, t, err, sizeof err) != 0) { /* the first makes the data key */
        fprintf(stderr, "bench_secrets: %s\n", err);
        return -1;
    }
    secrets_clear(&k);
    unsigned long n = 0;
    double start = now_s(), end = start + seconds;
    while (now_s() < end || n < 3) {
        if (secrets_load_token(&k, s, t, err, sizeof err) != 0) {
            fprintf(stderr, "bench_secrets: %s\n", err);
            return -1;
        }
        secrets_clear(&k);
        n++;
    }
    printf("PKCS#11 unwrap of the data key at start-up (SoftHSM2, module load to finalise): "
           "%.2f ms\n",
           1000 * (now_s() - start) / (double)n);
    return 0;
}

static void
seals(const struct secrets *k, const char *xml, size_t len, double seconds)
{
    unsigned long n = 0;
    size_t sealed_len = 0;
    double start = now_s(), end = start + seconds;
    while (now_s() < end) {
        char *s = secrets_seal_text(k, "bench", xml, len);
        sealed_len = s ? strlen(s) : 0;
        free(s);
        n++;
    }
    double seal_us = 1e6 * (now_s() - start) / (double)n;
    char *s = secrets_seal_text(k, "bench", xml, len);
    n = 0;
    start = now_s();
    end = start + seconds;
    while (now_s() < end) {
        size_t m = 0;
        char *p = secrets_open_text(k, "bench", s, &m);
        secrets_free_text(p, m);
        n++;
    }
    free(s);
    printf("SAML log body seal per ACS request (%zu-byte response -> %zu bytes stored): %.1f us; "
           "open (admin view): %.1f us\n",
           len, sealed_len, seal_us, 1e6 * (now_s() - start) / (double)n);
}

int
main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: bench_secrets STORE MODULE TOKEN_LABEL KEY_LABEL PIN_FILE "
                        "RESPONSE_XML SECONDS\n");
        return 2;
    }
    char err[1200];
    log_set_level(LOG_LEVEL_WARN);
    double seconds = strtod(argv[7], NULL);
    struct secrets_token t = {argv[2], argv[3], argv[4], argv[5]};
    size_t len = 0;
    char *xml = sp_read_file(argv[6], 1 << 24, &len, err, sizeof err);
    struct store *s = xml ? store_open(argv[1], err, sizeof err) : NULL;
    if (s == NULL) {
        fprintf(stderr, "bench_secrets: %s\n", err);
        return 1;
    }
    struct secrets k;
    int rc = unwraps(s, &t, seconds > 0 ? seconds : 2);
    if (rc == 0 && secrets_load_token(&k, s, &t, err, sizeof err) == 0) {
        seals(&k, xml, len, seconds > 0 ? seconds : 2);
        secrets_clear(&k);
    }
    store_close(s);
    free(xml);
    return rc == 0 ? 0 : 1;
}
