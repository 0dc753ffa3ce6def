/* sp/sp_keys.c: the SP's own key and certificate, made at first start when absent (in memory:
 * auth/spkey.c seals the key before it reaches the disk). */
#include "sp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define KEY_BITS 2048
#define CERT_DAYS 3650

static X509 *
self_signed(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    if (x == NULL)
        return NULL;
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    if (RAND_bytes(serial, sizeof serial) != 1)
        goto fail;
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
        goto fail;
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), (long)CERT_DAYS * 86400);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, key, EVP_sha256()) == 0)
        goto fail;
    BN_free(bn);
    return x;
fail:
    BN_free(bn);
    X509_free(x);
    return NULL;
}

/* The PEM text of what write() puts into a memory BIO; NULL on failure. */
static char *
pem_of(EVP_PKEY *key, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL, *out = NULL;
    int ok = b != NULL && (key ? PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)
                               : PEM_write_bio_X509(b, x)) == 1;
    long n = ok ? BIO_get_mem_data(b, &data) : 0;
    if (n > 0 && (out = malloc((size_t)n + 1)) != NULL) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
    }
    if (b != NULL) {
        if (n > 0)
            OPENSSL_cleanse(data, (size_t)n);
        BIO_free(b);
    }
    return out;
}

int
sp_keys_generate(const char *cn, char **key_pem, char **cert_pem, char *err, size_t errlen)
{
    EVP_PKEY *key = EVP_RSA_gen(KEY_BITS);
    X509 *x = key ? self_signed(key, cn) : NULL;
    *key_pem = x ? pem_of(key, NULL) : NULL;
    *cert_pem = *key_pem ? pem_of(NULL, x) : NULL;
    X509_free(x);
    EVP_PKEY_free(key);
    if (*cert_pem == NULL) {
        if (*key_pem != NULL)
            OPENSSL_cleanse(*key_pem, strlen(*key_pem));
        free(*key_pem);
        *key_pem = NULL;
        snprintf(err, errlen, "cannot generate the SP key and certificate");
        return -1;
    }
    return 0;
}

/* Writes text to a new file with mode. */
static int
write_new(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int
sp_keys_ensure(const char *key_file, const char *cert_file, const char *cn, char *err,
               size_t errlen)
{
    struct stat st;
    if (stat(key_file, &st) == 0)
        return 0;
    char *key = NULL, *cert = NULL;
    if (sp_keys_generate(cn, &key, &cert, err, errlen) != 0)
        return -1;
    int rc = write_new(key_file, key, 0600) == 0 && write_new(cert_file, cert, 0644) == 0 ? 0 : -1;
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s or %s: %s", key_file, cert_file, strerror(errno));
        unlink(key_file); /* never leave a key without its certificate */
        unlink(cert_file);
    }
    OPENSSL_cleanse(key, strlen(key));
    free(key);
    free(cert);
    return rc;
}
