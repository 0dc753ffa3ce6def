#include "secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "clock.h"
#include "log.h"
#include "pkcs11.h"
#include "rand.h"
#include "str.h"
#include "store.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define WRAP_AAD "gatehouse data key v1"
#define WRAPPED_MAX 256
#define FP_HEX 16

/* The first 8 bytes of SHA-256(key), as 16 hex characters: names a master key in messages and
 * in the wrapped data key without revealing it. */
static void
fingerprint(const unsigned char *key, char *out)
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(key, SECRETS_KEY_LEN, md, &n, EVP_sha256(), NULL);
    str_hex(md, FP_HEX / 2, out);
}

/* AES-256-GCM: nonce | ciphertext | tag into out (n + 28 bytes). */
static int
gcm_seal(const unsigned char *key, const char *aad, const unsigned char *in, size_t n,
         unsigned char *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0,
        ok = c != NULL && rand_bytes(out, NONCE_LEN) == 0 &&
             EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, out) == 1 &&
             EVP_EncryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
             EVP_EncryptUpdate(c, out + NONCE_LEN, &len, in, (int)n) == 1 &&
             EVP_EncryptFinal_ex(c, out + NONCE_LEN + len, &len) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + NONCE_LEN + n) == 1;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

/* Opens nonce | ciphertext | tag (n bytes) into out (n - 28 bytes); -1 when it fails to
 * authenticate. */
static int
gcm_open(const unsigned char *key, const char *aad, const unsigned char *in, size_t n,
         unsigned char *out)
{
    if (n < NONCE_LEN + TAG_LEN)
        return -1;
    size_t clen = n - NONCE_LEN - TAG_LEN;
    unsigned char tag[TAG_LEN];
    memcpy(tag, in + NONCE_LEN + clen, TAG_LEN);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0,
        ok = c != NULL && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, in) == 1 &&
             EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
             EVP_DecryptUpdate(c, out, &len, in + NONCE_LEN, (int)clen) == 1 &&
             EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1 &&
             EVP_DecryptFinal_ex(c, out + len, &len) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok)
        OPENSSL_cleanse(out, clen);
    return ok ? 0 : -1;
}

int
secrets_seal(const struct secrets *k, const char *aad, const unsigned char *plain, size_t n,
             char *out, size_t outlen)
{
    unsigned char raw[NONCE_LEN + 256 + TAG_LEN];
    if (!k->ready || n > 256 || outlen < SECRETS_SEALED_MAX(n))
        return -1;
    if (gcm_seal(k->data_key, aad, plain, n, raw) != 0)
        return -1;
    memcpy(out, "v1:", 3);
    str_hex(raw, NONCE_LEN + n + TAG_LEN, out + 3);
    return 0;
}

int
secrets_open(const struct secrets *k, const char *aad, const char *sealed, unsigned char *plain,
             size_t cap, size_t *n_out)
{
    unsigned char raw[NONCE_LEN + 256 + TAG_LEN];
    size_t hexlen = sealed ? strlen(sealed) : 0;
    if (!k->ready || hexlen < 3 || strncmp(sealed, "v1:", 3) != 0)
        return -1;
    hexlen -= 3;
    size_t n = hexlen / 2;
    if (n > sizeof raw || n < NONCE_LEN + TAG_LEN || n - NONCE_LEN - TAG_LEN > cap ||
        str_unhex(sealed + 3, raw, n) != 0)
        return -1;
    if (gcm_open(k->data_key, aad, raw, n, plain) != 0)
        return -1;
    *n_out = n - NONCE_LEN - TAG_LEN;
    return 0;
}

/* ---- secrets of any size: "s1:" + base64(nonce | ciphertext | tag) ---- */

#define TEXT_PREFIX "s1:"
#define TEXT_PREFIX_LEN 3
/* Larger than the ACS accepts (384 KiB of base64) and any PEM key: a bound, not a size. */
#define TEXT_MAX (64u * 1024 * 1024)

int
secrets_is_sealed_text(const char *s)
{
    return s != NULL && strncmp(s, TEXT_PREFIX, TEXT_PREFIX_LEN) == 0;
}

char *
secrets_seal_text(const struct secrets *k, const char *aad, const void *plain, size_t n)
{
    if (!k->ready || n > TEXT_MAX)
        return NULL;
    size_t raw_len = NONCE_LEN + n + TAG_LEN, b64_len = 4 * ((raw_len + 2) / 3);
    unsigned char *raw = malloc(raw_len);
    char *out = malloc(TEXT_PREFIX_LEN + b64_len + 1);
    if (raw == NULL || out == NULL || gcm_seal(k->data_key, aad, plain, n, raw) != 0) {
        free(raw);
        free(out);
        return NULL;
    }
    memcpy(out, TEXT_PREFIX, TEXT_PREFIX_LEN);
    EVP_EncodeBlock((unsigned char *)out + TEXT_PREFIX_LEN, raw, (int)raw_len);
    free(raw); /* ciphertext only: nothing to wipe */
    return out;
}

char *
secrets_open_text(const struct secrets *k, const char *aad, const char *sealed, size_t *n_out)
{
    if (!k->ready || !secrets_is_sealed_text(sealed))
        return NULL;
    const char *b64 = sealed + TEXT_PREFIX_LEN;
    size_t b64_len = strlen(b64);
    if (b64_len % 4 != 0 || b64_len / 4 * 3 > TEXT_MAX + NONCE_LEN + TAG_LEN + 3)
        return NULL;
    size_t pad = b64_len >= 1 && b64[b64_len - 1] == '='
                     ? (b64_len >= 2 && b64[b64_len - 2] == '=' ? 2 : 1)
                     : 0;
    unsigned char *raw = malloc(b64_len / 4 * 3 + 1);
    int dec = raw ? EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)b64_len) : -1;
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    size_t raw_len = dec < 0 || (size_t)dec < pad ? 0 : (size_t)dec - pad;
    char *plain = NULL;
    if (raw_len >= NONCE_LEN + TAG_LEN) {
        size_t n = raw_len - NONCE_LEN - TAG_LEN;
        plain = malloc(n + 1);
        if (plain != NULL &&
            gcm_open(k->data_key, aad, raw, raw_len, (unsigned char *)plain) == 0) {
            plain[n] = '\0';
            if (n_out != NULL)
                *n_out = n;
        } else {
            free(plain);
            plain = NULL;
        }
    }
    free(raw);
    return plain;
}

void
secrets_free_text(char *plain, size_t n)
{
    if (plain != NULL)
        OPENSSL_cleanse(plain, n);
    free(plain);
}

/* "v1:FINGERPRINT:hex(nonce | wrapped data key | tag)" */
static int
wrap(const unsigned char *master, const unsigned char *data_key, char *out, size_t outlen)
{
    unsigned char raw[NONCE_LEN + SECRETS_KEY_LEN + TAG_LEN];
    char fp[FP_HEX + 1];
    if (outlen < 3 + FP_HEX + 1 + 2 * sizeof raw + 1 ||
        gcm_seal(master, WRAP_AAD, data_key, SECRETS_KEY_LEN, raw) != 0)
        return -1;
    fingerprint(master, fp);
    snprintf(out, outlen, "v1:%s:", fp);
    str_hex(raw, sizeof raw, out + 3 + FP_HEX + 1);
    return 0;
}

/* 0 unwrapped; -1 the master key does not open it (or it is malformed). */
static int
unwrap(const unsigned char *master, const char *wrapped, unsigned char *data_key)
{
    unsigned char raw[NONCE_LEN + SECRETS_KEY_LEN + TAG_LEN];
    size_t len = strlen(wrapped), head = 3 + FP_HEX + 1;
    if (len != head + 2 * sizeof raw || strncmp(wrapped, "v1:", 3) != 0 ||
        str_unhex(wrapped + head, raw, sizeof raw) != 0)
        return -1;
    return gcm_open(master, WRAP_AAD, raw, sizeof raw, data_key);
}

/* The fingerprint recorded in a wrapped data key ("?" when malformed). */
static void
wrapped_fingerprint(const char *wrapped, char *out)
{
    if (strlen(wrapped) > 3 + FP_HEX && strncmp(wrapped, "v1:", 3) == 0)
        snprintf(out, FP_HEX + 1, "%s", wrapped + 3);
    else
        snprintf(out, FP_HEX + 1, "?");
}

/* Reads a master key file: 0 read, 1 absent, -1 unusable (message in err). */
static int
read_key_file(const char *path, unsigned char *key, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(err, errlen, "%s: cannot read the master key: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    char text[130];
    ssize_t n = -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s: the master key is not a regular file", path);
        return -1;
    }
    if ((st.st_mode & 077) != 0) {
        close(fd);
        snprintf(err, errlen,
                 "%s: the master key is readable by other users (mode %03o); run chmod 600 %s",
                 path, (unsigned)(st.st_mode & 0777), path);
        return -1;
    }
    n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "%s: cannot read the master key: %s", path, strerror(errno));
        return -1;
    }
    text[n] = '\0';
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        text[--n] = '\0';
    if (n != 2 * SECRETS_KEY_LEN || str_unhex(text, key, SECRETS_KEY_LEN) != 0) {
        OPENSSL_cleanse(text, sizeof text);
        snprintf(err, errlen, "%s: not a master key (expected %d hexadecimal characters)", path,
                 2 * SECRETS_KEY_LEN);
        return -1;
    }
    OPENSSL_cleanse(text, sizeof text);
    return 0;
}

/* Writes key to path, which must not exist, with mode 0600, flushed to disk. */
static int
write_key_file(const char *path, const unsigned char *key, char *err, size_t errlen)
{
    char text[2 * SECRETS_KEY_LEN + 2];
    str_hex(key, SECRETS_KEY_LEN, text);
    text[2 * SECRETS_KEY_LEN] = '\n';
    text[2 * SECRETS_KEY_LEN + 1] = '\0';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create the master key: %s", path, strerror(errno));
        OPENSSL_cleanse(text, sizeof text);
        return -1;
    }
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    OPENSSL_cleanse(text, sizeof text);
    if (!ok) {
        unlink(path);
        snprintf(err, errlen, "%s: cannot write the master key: %s", path, strerror(saved));
        return -1;
    }
    return 0;
}

/* First start: a new master key file and a new data key wrapped in the store. */
static int
first_start(struct secrets *out, struct store *s, const char *key_file, char *err, size_t errlen)
{
    unsigned char master[SECRETS_KEY_LEN];
    char wrapped[WRAPPED_MAX];
    if (rand_bytes(master, sizeof master) != 0 || rand_bytes(out->data_key, SECRETS_KEY_LEN) != 0 ||
        wrap(master, out->data_key, wrapped, sizeof wrapped) != 0) {
        snprintf(err, errlen, "cannot make the master key: no randomness");
        return -1;
    }
    int rc = write_key_file(key_file, master, err, errlen);
    if (rc == 0 && store_data_key_put(s, wrapped, clock_now()) != 0) {
        unlink(key_file);
        snprintf(err, errlen, "cannot store the data key");
        rc = -1;
    }
    OPENSSL_cleanse(master, sizeof master);
    if (rc == 0)
        log_info("made the master key %s and a data key for secrets at rest", key_file);
    return rc;
}

int
secrets_load(struct secrets *out, struct store *s, const char *key_file, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char wrapped[WRAPPED_MAX];
    int have = store_data_key_get(s, wrapped, sizeof wrapped);
    if (have < 0) {
        snprintf(err, errlen, "cannot read the data key from the store");
        return -1;
    }
    unsigned char master[SECRETS_KEY_LEN];
    int rc = read_key_file(key_file, master, err, errlen);
    if (rc < 0)
        return -1;
    if (rc == 1 && have == 1) {
        if (first_start(out, s, key_file, err, errlen) != 0)
            return -1;
        out->ready = 1;
        return 0;
    }
    char fp[FP_HEX + 1];
    if (rc == 1) {
        wrapped_fingerprint(wrapped, fp);
        snprintf(err, errlen,
                 "%s: the master key is missing, but the store holds secrets encrypted under "
                 "master key %s; restore that key file (a new key cannot read them)",
                 key_file, fp);
        return -1;
    }
    if (have == 1) {
        /* A key file but nothing wrapped yet (a store created before secrets existed, or a
         * restored empty store): wrap a new data key under it. */
        if (rand_bytes(out->data_key, SECRETS_KEY_LEN) != 0 ||
            wrap(master, out->data_key, wrapped, sizeof wrapped) != 0 ||
            store_data_key_put(s, wrapped, clock_now()) < 0) {
            OPENSSL_cleanse(master, sizeof master);
            snprintf(err, errlen, "cannot store a new data key");
            return -1;
        }
        if (store_data_key_get(s, wrapped, sizeof wrapped) != 0) {
            OPENSSL_cleanse(master, sizeof master);
            snprintf(err, errlen, "cannot read the data key from the store");
            return -1;
        }
    }
    rc = unwrap(master, wrapped, out->data_key);
    char mine[FP_HEX + 1];
    fingerprint(master, mine);
    OPENSSL_cleanse(master, sizeof master);
    if (rc != 0) {
        wrapped_fingerprint(wrapped, fp);
        char pending[1100];
        snprintf(pending, sizeof pending, "%s.new", key_file);
        snprintf(err, errlen,
                 "%s: wrong master key (%s) for this store, whose secrets are encrypted under "
                 "master key %s%s",
                 key_file, mine, fp,
                 access(pending, F_OK) == 0
                     ? "; an interrupted rotation left the new key in .new: move it over the key "
                       "file"
                     : "");
        return -1;
    }
    out->ready = 1;
    return 0;
}

int
secrets_rotate(struct store *s, const char *key_file, char *fingerprint_out, char *err,
               size_t errlen)
{
    struct secrets cur;
    if (secrets_load(&cur, s, key_file, err, errlen) != 0)
        return -1;
    char pending[1100], old_wrapped[WRAPPED_MAX], new_wrapped[WRAPPED_MAX];
    snprintf(pending, sizeof pending, "%s.new", key_file);
    unsigned char master[SECRETS_KEY_LEN];
    int rc = -1;
    if (store_data_key_get(s, old_wrapped, sizeof old_wrapped) != 0) {
        snprintf(err, errlen, "cannot read the data key from the store");
        goto out;
    }
    if (rand_bytes(master, sizeof master) != 0 ||
        wrap(master, cur.data_key, new_wrapped, sizeof new_wrapped) != 0) {
        snprintf(err, errlen, "cannot make a new master key: no randomness");
        goto out;
    }
    if (write_key_file(pending, master, err, errlen) != 0)
        goto out;
    /* The store switches first: from here the key in .new is the one that opens it. */
    int r = store_data_key_replace(s, old_wrapped, new_wrapped);
    if (r != 0) {
        unlink(pending);
        snprintf(err, errlen,
                 r == 1 ? "the data key changed meanwhile (another rotation?); "
                          "nothing was changed"
                        : "cannot store the re-wrapped data key; nothing was changed");
        goto out;
    }
    if (rename(pending, key_file) != 0) {
        snprintf(err, errlen,
                 "the store now uses the new master key in %s, but it could not be moved to %s "
                 "(%s): move it there before the next start",
                 pending, key_file, strerror(errno));
        goto out;
    }
    fingerprint(master, fingerprint_out);
    rc = 0;
out:
    OPENSSL_cleanse(master, sizeof master);
    secrets_clear(&cur);
    return rc;
}

void
secrets_clear(struct secrets *k)
{
    OPENSSL_cleanse(k, sizeof *k);
}

/* ---- the customer-managed key in a PKCS#11 token ---- */

#define P11_PREFIX "p11:"

static int
token_label_ok(const char *label, char *err, size_t errlen)
{
    if (label == NULL || label[0] == '\0' || strlen(label) > 64 || strchr(label, ':') != NULL) {
        snprintf(err, errlen, "[secrets] key_label must be 1-64 characters without ':'");
        return 0;
    }
    return 1;
}

/* "p11:KEYLABEL:hex(iv | data key encrypted in the token | tag)" */
static int
token_wrap(struct p11 *p, const char *key_label, const unsigned char *data_key, char *out,
           size_t outlen)
{
    unsigned char raw[P11_IV_LEN + SECRETS_KEY_LEN + P11_TAG_LEN];
    int n = snprintf(out, outlen, P11_PREFIX "%s:", key_label);
    if (n < 0 || (size_t)n + 2 * sizeof raw + 1 > outlen || rand_bytes(raw, P11_IV_LEN) != 0 ||
        p11_encrypt(p, raw, WRAP_AAD, data_key, SECRETS_KEY_LEN, raw + P11_IV_LEN) != 0)
        return -1;
    str_hex(raw, sizeof raw, out + n);
    return 0;
}

/* The key label a token-wrapped data key names, or "" when it is not one. */
static void
token_wrapped_label(const char *wrapped, char *out, size_t len)
{
    out[0] = '\0';
    if (strncmp(wrapped, P11_PREFIX, strlen(P11_PREFIX)) != 0)
        return;
    const char *l = wrapped + strlen(P11_PREFIX), *colon = strchr(l, ':');
    if (colon != NULL)
        snprintf(out, len, "%.*s", (int)(colon - l), l);
}

static int
token_unwrap(struct p11 *p, const char *wrapped, unsigned char *data_key)
{
    unsigned char raw[P11_IV_LEN + SECRETS_KEY_LEN + P11_TAG_LEN];
    const char *colon = strncmp(wrapped, P11_PREFIX, strlen(P11_PREFIX)) == 0
                            ? strchr(wrapped + strlen(P11_PREFIX), ':')
                            : NULL;
    if (colon == NULL || strlen(colon + 1) != 2 * sizeof raw ||
        str_unhex(colon + 1, raw, sizeof raw) != 0)
        return -1;
    return p11_decrypt(p, raw, WRAP_AAD, raw + P11_IV_LEN, SECRETS_KEY_LEN + P11_TAG_LEN, data_key);
}

static struct p11 *
token_open(const struct secrets_token *t, const char *key_label, char *err, size_t errlen)
{
    if (t->module == NULL || t->module[0] == '\0' || t->token_label == NULL ||
        t->token_label[0] == '\0' || t->pin_file == NULL || t->pin_file[0] == '\0') {
        snprintf(err, errlen,
                 "[secrets] pkcs11 needs pkcs11_module, token_label, key_label and pin_file");
        return NULL;
    }
    if (!token_label_ok(key_label, err, errlen))
        return NULL;
    return p11_open(t->module, t->token_label, t->pin_file, key_label, err, errlen);
}

int
secrets_load_token(struct secrets *out, struct store *s, const struct secrets_token *t, char *err,
                   size_t errlen)
{
    memset(out, 0, sizeof *out);
    char wrapped[WRAPPED_MAX];
    int have = store_data_key_get(s, wrapped, sizeof wrapped);
    if (have < 0) {
        snprintf(err, errlen, "cannot read the data key from the store");
        return -1;
    }
    if (have == 0 && strncmp(wrapped, P11_PREFIX, strlen(P11_PREFIX)) != 0) {
        snprintf(err, errlen,
                 "the store's data key is wrapped by the master key file, not a PKCS#11 token: "
                 "run `gatehousectl secrets migrate --to pkcs11` first, or set provider = file");
        return -1;
    }
    struct p11 *p = token_open(t, t->key_label, err, errlen);
    if (p == NULL)
        return -1;
    int rc = -1;
    if (have == 1) {
        /* First start on this token: a new data key, wrapped inside the token. */
        if (rand_bytes(out->data_key, SECRETS_KEY_LEN) != 0 ||
            token_wrap(p, t->key_label, out->data_key, wrapped, sizeof wrapped) != 0 ||
            store_data_key_put(s, wrapped, clock_now()) < 0)
            snprintf(err, errlen, "cannot make and store a data key wrapped by the token");
        else
            rc = 0;
    } else {
        char named[80];
        token_wrapped_label(wrapped, named, sizeof named);
        if (strcmp(named, t->key_label) != 0)
            snprintf(err, errlen,
                     "the store's data key is wrapped by token key \"%s\", not \"%s\" "
                     "([secrets] key_label)",
                     named, t->key_label);
        else if (token_unwrap(p, wrapped, out->data_key) != 0)
            snprintf(err, errlen,
                     "PKCS#11 token \"%s\": key \"%s\" does not open the store's data key (a "
                     "different key with the same label?)",
                     t->token_label, t->key_label);
        else
            rc = 0;
    }
    p11_close(p);
    if (rc == 0)
        out->ready = 1;
    else
        secrets_clear(out);
    return rc;
}

/* Re-wraps the data key (already unwrapped into cur) with the token key new_label. */
static int
rewrap_to_token(struct store *s, const unsigned char *data_key, const struct secrets_token *t,
                const char *new_label, char *err, size_t errlen)
{
    char old_wrapped[WRAPPED_MAX], new_wrapped[WRAPPED_MAX];
    if (store_data_key_get(s, old_wrapped, sizeof old_wrapped) != 0) {
        snprintf(err, errlen, "cannot read the data key from the store");
        return -1;
    }
    struct p11 *p = token_open(t, new_label, err, errlen);
    if (p == NULL)
        return -1;
    int rc = token_wrap(p, new_label, data_key, new_wrapped, sizeof new_wrapped);
    /* Proof before the switch: the new wrapping opens inside the token. */
    unsigned char check[SECRETS_KEY_LEN];
    if (rc == 0 && (token_unwrap(p, new_wrapped, check) != 0 ||
                    !ct_equal(check, SECRETS_KEY_LEN, data_key, SECRETS_KEY_LEN)))
        rc = -1;
    OPENSSL_cleanse(check, sizeof check);
    p11_close(p);
    if (rc != 0) {
        snprintf(err, errlen, "the token could not wrap the data key with key \"%s\"", new_label);
        return -1;
    }
    int r = store_data_key_replace(s, old_wrapped, new_wrapped);
    if (r != 0) {
        snprintf(err, errlen,
                 r == 1 ? "the data key changed meanwhile; nothing was changed"
                        : "cannot store the re-wrapped data key; nothing was changed");
        return -1;
    }
    return 0;
}

int
secrets_migrate_to_token(struct store *s, const char *key_file, const struct secrets_token *t,
                         char *err, size_t errlen)
{
    struct secrets cur;
    if (secrets_load(&cur, s, key_file, err, errlen) != 0)
        return -1;
    int rc = rewrap_to_token(s, cur.data_key, t, t->key_label, err, errlen);
    secrets_clear(&cur);
    return rc;
}

int
secrets_rotate_token(struct store *s, const struct secrets_token *t, const char *new_label,
                     char *err, size_t errlen)
{
    struct secrets cur;
    if (secrets_load_token(&cur, s, t, err, errlen) != 0)
        return -1;
    int rc =
        strcmp(new_label, t->key_label) == 0
            ? (snprintf(err, errlen, "the data key is wrapped by \"%s\" already", new_label), -1)
            : rewrap_to_token(s, cur.data_key, t, new_label, err, errlen);
    secrets_clear(&cur);
    return rc;
}
