/* auth/pkcs11.h: a customer-managed key in a PKCS#11 token (an HSM, a cloud KMS proxy,
 * SoftHSM): an AES key that encrypts and decrypts Gatehouse's data key inside the token and
 * never leaves it. auth/pkcs11.c is the only file that speaks PKCS#11 (the module is loaded
 * with dlopen; p11-kit's header describes the interface). */
#ifndef GH_AUTH_PKCS11_H
#define GH_AUTH_PKCS11_H

#include <stddef.h>

struct p11;

#define P11_IV_LEN 12
#define P11_TAG_LEN 16

/* Loads module, finds the token labelled token_label, logs in with the user PIN read from
 * pin_file (which must not be readable by others) and finds the secret key labelled key_label.
 * NULL with a message naming the module, token or key and what is wrong (module not loadable,
 * no such token, wrong PIN, no such key, a key that cannot encrypt). */
struct p11 *p11_open(const char *module, const char *token_label, const char *pin_file,
                     const char *key_label, char *err, size_t errlen);

/* AES-GCM inside the token with the key: out gets n + P11_TAG_LEN bytes (ciphertext | tag). */
int p11_encrypt(struct p11 *p, const unsigned char *iv, const char *aad, const unsigned char *in,
                size_t n, unsigned char *out);
/* The reverse: in is ciphertext | tag (n bytes); out gets n - P11_TAG_LEN. -1 when it does not
 * authenticate under this key. */
int p11_decrypt(struct p11 *p, const unsigned char *iv, const char *aad, const unsigned char *in,
                size_t n, unsigned char *out);

/* Logs out, closes the session and unloads the module. NULL is a no-op. */
void p11_close(struct p11 *p);

#endif
