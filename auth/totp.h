/* auth/totp.h: TOTP (RFC 6238) on liboath, the otpauth URI with its QR code (libqrencode, as
 * inline SVG), and recovery codes. No I/O: the store keeps the state (last accepted step, hashes
 * of recovery codes); these functions only compute. */
#ifndef GH_AUTH_TOTP_H
#define GH_AUTH_TOTP_H

#include <stddef.h>
#include <time.h>

struct arena;

#define TOTP_SECRET_LEN 20 /* 160 bits, RFC 4226's recommendation */
#define TOTP_BASE32_MAX 64
#define TOTP_WINDOW 1 /* steps accepted before and after the current one */
#define RECOVERY_CODES 10
#define RECOVERY_CODE_LEN 11 /* "xxxxx-xxxxx" */

enum totp_alg { TOTP_SHA1, TOTP_SHA256, TOTP_SHA512 };

/* What authenticator apps use: SHA-1, 6 digits, 30 s steps from the Unix epoch. */
struct totp_params {
    enum totp_alg alg;
    unsigned digits;
    unsigned step_seconds;
    int window;
};
extern const struct totp_params totp_default;

/* liboath's one-time set-up, at start before any thread. 0, or -1 when it fails. */
int totp_global_init(void);

enum totp_result {
    TOTP_OK,       /* *step_out is the step the code belongs to */
    TOTP_BAD,      /* not a code of this secret inside the window (or malformed) */
    TOTP_REPLAYED, /* a code of a step at or before last_step: each step is accepted once */
    TOTP_ERROR,
};

/* Checks code (exactly p->digits digits) against secret at now: steps within ±window are
 * accepted, except those at or before last_step (the last step accepted for this user). The code
 * is compared in constant time. */
enum totp_result totp_check(const struct totp_params *p, const unsigned char *secret, size_t len,
                            time_t now, long long last_step, const char *code, long long *step_out);

/* The time step of now. */
long long totp_step(const struct totp_params *p, time_t now);

/* A new secret from OpenSSL's RNG. */
int totp_new_secret(unsigned char secret[TOTP_SECRET_LEN]);

/* RFC 4648 base32 without padding (what authenticator apps take), in the arena. */
char *totp_base32(struct arena *a, const unsigned char *secret, size_t len);

/* otpauth://totp/ISSUER:EMAIL?secret=...&issuer=ISSUER&algorithm=SHA1&digits=6&period=30 */
char *totp_uri(struct arena *a, const char *issuer, const char *email, const char *base32);

/* The QR code of text as an SVG element (black modules on white, with a quiet zone), or NULL. */
char *totp_qr_svg(struct arena *a, const char *text);

/* n new recovery codes "xxxxx-xxxxx" (50 bits each, Crockford's base32: I and L are read as 1,
 * O as 0): codes[i] has RECOVERY_CODE_LEN + 1 bytes. */
int recovery_new(char (*codes)[RECOVERY_CODE_LEN + 1], size_t n);

/* The keyed hash (HMAC-SHA256 under key, hex, 65 bytes) of a code as typed: case, spaces and
 * dashes ignored. -1 when it cannot be a recovery code. */
int recovery_hash(const unsigned char *key, size_t keylen, const char *typed, char *hash_out);

#endif
