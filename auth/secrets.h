/* auth/secrets.h: secrets at rest by envelope encryption. A random 256-bit data key encrypts
 * each secret (TOTP seeds) with AES-256-GCM, the row it belongs to bound as associated data; the
 * data key is stored in the store only wrapped (AES-256-GCM) by the master key of
 * [secrets] key_file, which never enters the store. Rotating the master key re-wraps the data
 * key: the sealed secrets and running servers are untouched. */
#ifndef GH_AUTH_SECRETS_H
#define GH_AUTH_SECRETS_H

#include <stddef.h>

struct store;

#define SECRETS_KEY_LEN 32
/* Upper bound of a sealed blob's text for a plaintext of n bytes. */
#define SECRETS_SEALED_MAX(n) (8 + 2 * (12 + (n) + 16) + 1)

struct secrets {
    unsigned char data_key[SECRETS_KEY_LEN];
    int ready;
};

/* Loads the master key from key_file and unwraps the store's data key. On a first start (no
 * key file and no data key in the store) both are made. A missing key file while the store holds
 * a wrapped data key, a key file that is not a key, one readable by others, or a key that does not
 * unwrap the data key: -1 with a message naming the file and what to do. */
int secrets_load(struct secrets *out, struct store *s, const char *key_file, char *err,
                 size_t errlen);

/* Seals n bytes bound to aad into text ("v1:" + hex of nonce | ciphertext | tag). */
int secrets_seal(const struct secrets *k, const char *aad, const unsigned char *plain, size_t n,
                 char *out, size_t outlen);
/* Opens a sealed text bound to aad into plain (cap bytes); -1 when it does not authenticate. */
int secrets_open(const struct secrets *k, const char *aad, const char *sealed, unsigned char *plain,
                 size_t cap, size_t *n_out);

/* Secrets of any size (the SP private key, the SMTP password, SAML log bodies): n bytes bound to
 * aad, sealed into a new string "s1:" + base64(nonce | ciphertext | tag) (free it); NULL when
 * the data key is not loaded or memory runs out. */
char *secrets_seal_text(const struct secrets *k, const char *aad, const void *plain, size_t n);
/* Opens a secrets_seal_text string into a new NUL-terminated buffer (*n_out bytes, may be NULL);
 * NULL when it is not one or does not authenticate under this data key and aad. Release it with
 * secrets_free_text, which wipes it. */
char *secrets_open_text(const struct secrets *k, const char *aad, const char *sealed,
                        size_t *n_out);
void secrets_free_text(char *plain, size_t n);
/* What a sealed configuration value is bound to (gatehousectl secrets seal NAME). */
#define SECRETS_AAD_SMTP_PASSWORD "gatehouse config v1 smtp.password"
/* Whether s has the form secrets_seal_text makes ("s1:..."). */
int secrets_is_sealed_text(const char *s);

/* Makes a new master key, re-wraps the data key under it in the store, then moves the new key
 * into key_file (the old key is overwritten). fingerprint_out (17 bytes) gets the new key's. */
int secrets_rotate(struct store *s, const char *key_file, char *fingerprint_out, char *err,
                   size_t errlen);

/* The customer-managed key: an AES key in a PKCS#11 token that wraps the data key inside the
 * token ([secrets] provider = pkcs11). */
struct secrets_token {
    const char *module, *token_label, *key_label, *pin_file;
};

/* As secrets_load, with the token's key instead of the key file: the store's data key (wrapped
 * "p11:KEYLABEL:...") is unwrapped inside the token; on a first start one is made and wrapped
 * there. -1 with a message naming the module, token or key (not loadable, no such token, wrong
 * PIN, key removed or not the one that wrapped the data key, a store still on the key file). */
int secrets_load_token(struct secrets *out, struct store *s, const struct secrets_token *t,
                       char *err, size_t errlen);

/* Moves a key-file deployment to the token: the data key, unwrapped with key_file, is wrapped
 * by the token key t->key_label and replaces the stored one (sealed secrets untouched). */
int secrets_migrate_to_token(struct store *s, const char *key_file, const struct secrets_token *t,
                             char *err, size_t errlen);

/* Re-wraps the data key from the token key t->key_label to new_label (same token). */
int secrets_rotate_token(struct store *s, const struct secrets_token *t, const char *new_label,
                         char *err, size_t errlen);

/* Wipes the key material. */
void secrets_clear(struct secrets *k);

#endif
