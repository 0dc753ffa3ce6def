#include "spkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "secrets.h"
#include "sp/sp.h"

#define SEALED_SUFFIX ".sealed"
/* Bound to its use: a sealed SP key does not open as any other sealed secret. */
#define SPKEY_AAD "gatehouse SP private key v1"
#define PEM_MAX (64 * 1024)

void
spkey_sealed_path(const char *key_file, char *out, size_t len)
{
    snprintf(out, len, "%s" SEALED_SUFFIX, key_file);
}

static int
exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void
wipe_free(char *p)
{
    if (p != NULL)
        secrets_free_text(p, strlen(p));
}

/* Whether pem holds a private key OpenSSL reads. */
static int
is_private_key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    EVP_PKEY_free(k);
    BIO_free(b);
    return k != NULL;
}

/* Writes text to path, which must not exist, with mode, flushed to disk; no file on failure. */
static int
write_new(const char *path, const char *text, mode_t mode, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = strlen(text), off = 0;
    while (off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    int saved = errno;
    if (off != n || fsync(fd) != 0 || close(fd) != 0) {
        if (off != n)
            close(fd);
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(off != n ? saved : errno));
        unlink(path);
        return -1;
    }
    return 0;
}

/* Reads a key file that must be readable by its owner only. */
static char *
read_private(const char *path, const char *what, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    /* Whoever reads the SP key can sign requests and decrypt assertions as this SP. */
    if ((st.st_mode & 077) != 0) {
        snprintf(err, errlen, "%s: the %s is readable by other users (mode %03o); run chmod 600 %s",
                 path, what, (unsigned)(st.st_mode & 0777), path);
        return NULL;
    }
    return sp_read_file(path, PEM_MAX, NULL, err, errlen);
}

static char *
open_sealed(const struct secrets *k, const char *sealed_file, char *err, size_t errlen)
{
    char *text = read_private(sealed_file, "sealed SP private key", err, errlen);
    if (text == NULL)
        return NULL;
    text[strcspn(text, "\r\n")] = '\0';
    char *pem = secrets_open_text(k, SPKEY_AAD, text, NULL);
    free(text);
    if (pem == NULL)
        snprintf(err, errlen,
                 "%s: the sealed SP private key does not open with this store's data key (a "
                 "copy from another deployment, or damaged)",
                 sealed_file);
    return pem;
}

/* First start: a new key, sealed before it reaches the disk, and its certificate. */
static char *
make_key(const struct secrets *k, const char *sealed_file, const char *cert_file, const char *cn,
         char *err, size_t errlen)
{
    char *pem = NULL, *cert = NULL, *sealed = NULL;
    if (sp_keys_generate(cn, &pem, &cert, err, errlen) != 0)
        return NULL;
    sealed = secrets_seal_text(k, SPKEY_AAD, pem, strlen(pem));
    int rc = -1;
    if (sealed == NULL)
        snprintf(err, errlen, "cannot seal the new SP private key");
    else if (write_new(sealed_file, sealed, 0600, err, errlen) == 0) {
        rc = write_new(cert_file, cert, 0644, err, errlen);
        if (rc != 0)
            unlink(sealed_file); /* never leave a key without its certificate */
    }
    free(sealed);
    free(cert);
    if (rc != 0) {
        wipe_free(pem);
        return NULL;
    }
    return pem;
}

int
spkey_load(const struct secrets *k, const char *key_file, const char *cert_file, const char *cn,
           char **pem_out, int *clear_out, char *err, size_t errlen)
{
    char sealed_file[4200];
    spkey_sealed_path(key_file, sealed_file, sizeof sealed_file);
    int have_sealed = exists(sealed_file), have_clear = exists(key_file);
    *pem_out = NULL;
    *clear_out = 0;
    if (have_sealed && have_clear) {
        snprintf(err, errlen,
                 "%s: a clear SP private key beside its sealed copy %s; the server uses the "
                 "sealed one only: remove %s (shred it)",
                 key_file, sealed_file, key_file);
        return -1;
    }
    if ((have_sealed || have_clear) && !exists(cert_file)) {
        snprintf(err, errlen, "%s exists but its certificate %s does not",
                 have_sealed ? sealed_file : key_file, cert_file);
        return -1;
    }
    if (have_sealed)
        *pem_out = open_sealed(k, sealed_file, err, errlen);
    else if (have_clear) {
        *pem_out = read_private(key_file, "SP private key", err, errlen);
        *clear_out = *pem_out != NULL;
    } else
        *pem_out = make_key(k, sealed_file, cert_file, cn, err, errlen);
    return *pem_out != NULL ? 0 : -1;
}

/* Overwrites path's bytes with zeros before unlinking it: on a file system that writes in place
 * the clear key does not linger in freed blocks (copy-on-write and SSDs may still keep it). */
static int
wipe_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        static const char zeros[4096];
        for (off_t off = 0; off < st.st_size; off += (off_t)sizeof zeros)
            if (write(fd, zeros, sizeof zeros) < 0)
                break;
        (void)fsync(fd);
    }
    if (fd >= 0)
        close(fd);
    return unlink(path);
}

int
spkey_seal_file(const struct secrets *k, const char *key_file, char *err, size_t errlen)
{
    char sealed_file[4200];
    spkey_sealed_path(key_file, sealed_file, sizeof sealed_file);
    if (exists(sealed_file)) {
        snprintf(err, errlen, "%s exists already: the SP key is sealed%s", sealed_file,
                 exists(key_file) ? "; remove the clear copy by hand" : "");
        return -1;
    }
    char *pem = read_private(key_file, "SP private key", err, errlen);
    if (pem == NULL)
        return -1;
    if (!is_private_key(pem)) {
        wipe_free(pem);
        snprintf(err, errlen, "%s: not a PEM private key", key_file);
        return -1;
    }
    char *sealed = secrets_seal_text(k, SPKEY_AAD, pem, strlen(pem)), *back = NULL;
    int rc = sealed == NULL ? (snprintf(err, errlen, "cannot seal the SP private key"), -1)
                            : write_new(sealed_file, sealed, 0600, err, errlen);
    free(sealed);
    /* Proof before the clear key goes: the sealed file opens to the same key. */
    if (rc == 0 &&
        ((back = open_sealed(k, sealed_file, err, errlen)) == NULL || strcmp(back, pem) != 0)) {
        if (back != NULL)
            snprintf(err, errlen, "%s does not open to the same key; nothing was changed",
                     sealed_file);
        unlink(sealed_file);
        rc = -1;
    }
    wipe_free(back);
    wipe_free(pem);
    if (rc == 0 && wipe_file(key_file) != 0) {
        snprintf(err, errlen, "the key is sealed in %s but %s could not be removed: %s; remove it",
                 sealed_file, key_file, strerror(errno));
        return -1;
    }
    return rc;
}
