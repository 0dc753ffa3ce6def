/* sp/sp_keys.c: the SP's own key and certificate, made at first start when absent. */
#include "sp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define KEY_BITS 2048
#define CERT_DAYS 3650

/* Opens path for writing with mode, creating it exclusively. */
static FILE *
create_file(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    return fd < 0 ? NULL : fdopen(fd, "w");
}

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

int
sp_keys_ensure(const char *key_file, const char *cert_file, const char *cn, char *err,
               size_t errlen)
{
    struct stat st;
    if (stat(key_file, &st) == 0) {
        /* Whoever reads the SP key can sign requests and decrypt assertions as this SP. */
        if ((st.st_mode & 077) != 0) {
            snprintf(err, errlen,
                     "%s: the SP private key is readable by other users (mode %03o); run "
                     "chmod 600 %s",
                     key_file, (unsigned)(st.st_mode & 0777), key_file);
            return -1;
        }
        if (stat(cert_file, &st) != 0) {
            snprintf(err, errlen, "%s exists but its certificate %s does not: %s", key_file,
                     cert_file, strerror(errno));
            return -1;
        }
        return 0;
    }
    int rc = -1;
    EVP_PKEY *key = EVP_RSA_gen(KEY_BITS);
    X509 *x = key ? self_signed(key, cn) : NULL;
    FILE *kf = NULL, *cf = NULL;
    if (x == NULL) {
        snprintf(err, errlen, "cannot generate the SP key and certificate");
        goto out;
    }
    kf = create_file(key_file, 0600);
    cf = kf ? create_file(cert_file, 0644) : NULL;
    if (kf == NULL || cf == NULL) {
        snprintf(err, errlen, "cannot create %s: %s", kf ? cert_file : key_file, strerror(errno));
        goto out;
    }
    if (PEM_write_PrivateKey(kf, key, NULL, NULL, 0, NULL, NULL) != 1 ||
        PEM_write_X509(cf, x) != 1) {
        snprintf(err, errlen, "cannot write the SP key or certificate");
        goto out;
    }
    rc = 0;
out:
    if (kf != NULL && fclose(kf) != 0)
        rc = -1;
    if (cf != NULL && fclose(cf) != 0)
        rc = -1;
    if (rc != 0 && kf != NULL) {
        unlink(key_file); /* never leave a key without its certificate */
        unlink(cert_file);
    }
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}
