/* tests/unit/test_totp.c: TOTP against RFC 6238's test vectors, the ±1 step window, the rule
 * that a step is accepted once, recovery codes, and the envelope encryption of secrets. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <liboath/oath.h>

#include "auth/arena.h"
#include "auth/secrets.h"
#include "auth/totp.h"

/* RFC 6238 appendix B: the seeds are ASCII "1234567890" repeated to the hash's length. */
static const char seed_sha1[] = "12345678901234567890";
static const char seed_sha256[] = "12345678901234567890123456789012";
static const char seed_sha512[] =
    "1234567890123456789012345678901234567890123456789012345678901234";

struct vector {
    time_t at;
    const char *sha1, *sha256, *sha512;
};

static const struct vector vectors[] = {
    {59, "94287082", "46119246", "90693936"},
    {1111111109, "07081804", "68084774", "25091201"},
    {1111111111, "14050471", "67062674", "99943326"},
    {1234567890, "89005924", "91819424", "93441116"},
    {2000000000, "69279037", "90698825", "38618901"},
    {20000000000, "65353130", "77737706", "47863826"},
};

static enum totp_result
check(enum totp_alg alg, const char *seed, time_t now, long long last, const char *code,
      long long *step)
{
    struct totp_params p = {alg, 8, 30, 1};
    return totp_check(&p, (const unsigned char *)seed, strlen(seed), now, last, code, step);
}

static void
test_rfc6238_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct vector *v = &vectors[i];
        long long step = -1;
        assert_int_equal(check(TOTP_SHA1, seed_sha1, v->at, 0, v->sha1, &step), TOTP_OK);
        assert_int_equal(step, (long long)(v->at / 30));
        assert_int_equal(check(TOTP_SHA256, seed_sha256, v->at, 0, v->sha256, &step), TOTP_OK);
        assert_int_equal(check(TOTP_SHA512, seed_sha512, v->at, 0, v->sha512, &step), TOTP_OK);
        /* The SHA-1 code is not the SHA-256 one. */
        assert_int_equal(check(TOTP_SHA256, seed_sha256, v->at, 0, v->sha1, &step), TOTP_BAD);
    }
}

static void
test_window_is_one_step_each_side(void **state)
{
    (void)state;
    long long step = 0;
    /* 1111111109 is step 37037036; its code is accepted during steps 37037035..37037037. */
    const time_t t = 1111111109, step_start = 37037036LL * 30;
    assert_int_equal(check(TOTP_SHA1, seed_sha1, step_start - 30, 0, "07081804", &step), TOTP_OK);
    assert_int_equal(check(TOTP_SHA1, seed_sha1, step_start + 59, 0, "07081804", &step), TOTP_OK);
    assert_int_equal(step, t / 30);
    assert_int_equal(check(TOTP_SHA1, seed_sha1, step_start - 31, 0, "07081804", &step), TOTP_BAD);
    assert_int_equal(check(TOTP_SHA1, seed_sha1, step_start + 60, 0, "07081804", &step), TOTP_BAD);
}

static void
test_a_step_is_accepted_once(void **state)
{
    (void)state;
    long long step = 0;
    const time_t t = 1234567890;
    assert_int_equal(check(TOTP_SHA1, seed_sha1, t, 0, "89005924", &step), TOTP_OK);
    /* Replayed within its window: refused, also from the next step's point of view. */
    assert_int_equal(check(TOTP_SHA1, seed_sha1, t, step, "89005924", &step), TOTP_REPLAYED);
    assert_int_equal(check(TOTP_SHA1, seed_sha1, t + 30, step, "89005924", &step), TOTP_REPLAYED);
    /* Once a later step was used, an earlier one is refused as well. */
    assert_int_equal(check(TOTP_SHA1, seed_sha1, t, step + 1, "89005924", &step), TOTP_REPLAYED);
    assert_int_equal(check(TOTP_SHA1, seed_sha1, t, step - 1, "89005924", &step), TOTP_OK);
}

static void
test_malformed_codes_are_refused(void **state)
{
    (void)state;
    long long step = 0;
    const unsigned char *s = (const unsigned char *)seed_sha1;
    const char *bad[] = {"", "8900592", "890059245", "8900592a", " 89005924", "-89005924"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(totp_check(&(struct totp_params){TOTP_SHA1, 8, 30, 1}, s, 20, 1234567890,
                                    0, bad[i], &step),
                         TOTP_BAD);
    assert_int_equal(totp_check(&totp_default, s, 20, 1234567890, 0, NULL, &step), TOTP_BAD);
    /* The product's parameters: 6 digits (the last six of the 8-digit vector). */
    assert_int_equal(totp_check(&totp_default, s, 20, 1234567890, 0, "005924", &step), TOTP_OK);
}

static void
test_base32_and_uri(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    char *b32 = totp_base32(a, (const unsigned char *)seed_sha1, 20);
    assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    char *uri = totp_uri(a, "Gatehouse", "ann+x@example.com", b32);
    assert_string_equal(uri, "otpauth://totp/Gatehouse%3Aann%2Bx%40example.com?secret="
                             "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Gatehouse&algorithm=SHA1"
                             "&digits=6&period=30");
    char *svg = totp_qr_svg(a, uri);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "<svg "));
    assert_null(strstr(svg, "style="));
    arena_free(a);
}

static void
test_recovery_codes(void **state)
{
    (void)state;
    char codes[RECOVERY_CODES][RECOVERY_CODE_LEN + 1];
    unsigned char key[32] = {1, 2, 3};
    assert_int_equal(recovery_new(codes, RECOVERY_CODES), 0);
    char h1[65], h2[65];
    for (size_t i = 0; i < RECOVERY_CODES; i++) {
        assert_int_equal(strlen(codes[i]), RECOVERY_CODE_LEN);
        assert_int_equal(codes[i][5], '-');
        for (size_t k = i + 1; k < RECOVERY_CODES; k++)
            assert_string_not_equal(codes[i], codes[k]);
    }
    /* Typed back in capitals, without the dash, with I/L for 1 and O for 0: the same hash. */
    assert_int_equal(recovery_hash(key, sizeof key, "ab1c0-defgh", h1), 0);
    assert_int_equal(recovery_hash(key, sizeof key, "AbIcO DEFGH", h2), 0);
    assert_string_equal(h1, h2);
    assert_int_equal(recovery_hash(key, sizeof key, "ablco-defgh", h2), 0);
    assert_string_equal(h1, h2);
    /* Another key, another hash; not a code at all: refused. */
    key[0] = 9;
    assert_int_equal(recovery_hash(key, sizeof key, "ab1c0-defgh", h2), 0);
    assert_string_not_equal(h1, h2);
    assert_int_equal(recovery_hash(key, sizeof key, "ab1c0-defg", h2), -1);
    assert_int_equal(recovery_hash(key, sizeof key, "ab1c0-defghj", h2), -1);
    assert_int_equal(recovery_hash(key, sizeof key, "ab1c0-defg%", h2), -1);
}

static void
test_sealed_secrets_are_bound_to_their_row(void **state)
{
    (void)state;
    struct secrets k = {.ready = 1};
    memset(k.data_key, 7, sizeof k.data_key);
    const unsigned char seed[20] = "abcdefghijklmnopqrst";
    char sealed[SECRETS_SEALED_MAX(20)], again[SECRETS_SEALED_MAX(20)];
    unsigned char out[20];
    size_t n = 0;
    assert_int_equal(secrets_seal(&k, "totp-seed:user:1", seed, 20, sealed, sizeof sealed), 0);
    assert_int_equal(secrets_seal(&k, "totp-seed:user:1", seed, 20, again, sizeof again), 0);
    assert_string_not_equal(sealed, again); /* a fresh nonce each time */
    assert_null(strstr(sealed, "abcdefghij"));
    assert_int_equal(secrets_open(&k, "totp-seed:user:1", sealed, out, sizeof out, &n), 0);
    assert_int_equal(n, 20);
    assert_memory_equal(out, seed, 20);
    /* Another row, another key, a flipped bit: none opens. */
    assert_int_equal(secrets_open(&k, "totp-seed:user:2", sealed, out, sizeof out, &n), -1);
    sealed[10] = sealed[10] == '0' ? '1' : '0';
    assert_int_equal(secrets_open(&k, "totp-seed:user:1", sealed, out, sizeof out, &n), -1);
    sealed[10] = again[10];
    k.data_key[0] = 8;
    assert_int_equal(secrets_open(&k, "totp-seed:user:1", again, out, sizeof out, &n), -1);
    assert_int_equal(secrets_open(&k, "totp-seed:user:1", "v1:zz", out, sizeof out, &n), -1);
    assert_int_equal(secrets_open(&k, "totp-seed:user:1", "", out, sizeof out, &n), -1);
}

int
main(void)
{
    oath_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6238_vectors),
        cmocka_unit_test(test_window_is_one_step_each_side),
        cmocka_unit_test(test_a_step_is_accepted_once),
        cmocka_unit_test(test_malformed_codes_are_refused),
        cmocka_unit_test(test_base32_and_uri),
        cmocka_unit_test(test_recovery_codes),
        cmocka_unit_test(test_sealed_secrets_are_bound_to_their_row),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    oath_done();
    return rc;
}
