#include "tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "conf.h"

#define TLS_MAX_CHAIN 8
#define TLS_MAX_FILE (1024 * 1024)

/* One certificate chain and its key, as handed to GnuTLS at a handshake. */
struct tls_pair {
    gnutls_pcert_st chain[TLS_MAX_CHAIN];
    unsigned n_chain;
    gnutls_privkey_t key;
    struct tls_pair *older; /* kept until tls_free: a connection may still use it */
};

struct tls {
    _Atomic(struct tls_pair *) cur;
    pthread_mutex_t mu; /* serialises reloads */
};

/* GnuTLS's retrieve callback has no context argument: the configuration it serves. */
static _Atomic(struct tls *) tls_current;

static void
pair_free(struct tls_pair *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i < p->n_chain; i++)
        gnutls_pcert_deinit(&p->chain[i]);
    gnutls_privkey_deinit(p->key);
    free(p);
}

static int
read_file(const char *path, gnutls_datum_t *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    out->data = NULL;
    out->size = 0;
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    unsigned char *buf = malloc(TLS_MAX_FILE + 1);
    size_t n = buf ? fread(buf, 1, TLS_MAX_FILE + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL || bad || n == 0 || n > TLS_MAX_FILE) {
        snprintf(err, errlen, "%s: cannot read: %s", path,
                 bad      ? strerror(errno)
                 : n == 0 ? "empty file"
                          : "larger than 1 MiB");
        free(buf);
        return -1;
    }
    out->data = buf;
    out->size = (unsigned)n;
    return 0;
}

/* The key is the certificate's when their public keys have the same key ID. */
static int
pair_matches(struct tls_pair *p)
{
    gnutls_pubkey_t pub = NULL;
    unsigned char a[64], b[64];
    size_t la = sizeof a, lb = sizeof b;
    int ok = gnutls_pubkey_init(&pub) == 0 &&
             gnutls_pubkey_import_privkey(pub, p->key, 0, 0) == 0 &&
             gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a, &la) == 0 &&
             gnutls_pubkey_get_key_id(p->chain[0].pubkey, GNUTLS_KEYID_USE_SHA256, b, &lb) == 0 &&
             la == lb && memcmp(a, b, la) == 0;
    gnutls_pubkey_deinit(pub);
    return ok;
}

/* *key_at_fault tells which file the error is about (the key, or the certificate). */
static struct tls_pair *
pair_load(const char *cert_file, const char *key_file, int *key_at_fault, char *err, size_t errlen)
{
    gnutls_datum_t cert = {NULL, 0}, key = {NULL, 0};
    struct tls_pair *p = calloc(1, sizeof *p);
    int rc;
    *key_at_fault = 0;
    if (p == NULL || read_file(cert_file, &cert, err, errlen) != 0)
        goto fail;
    *key_at_fault = 1;
    if (read_file(key_file, &key, err, errlen) != 0)
        goto fail;
    *key_at_fault = 0;
    p->n_chain = TLS_MAX_CHAIN;
    rc = gnutls_pcert_list_import_x509_raw(p->chain, &p->n_chain, &cert, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0 || p->n_chain == 0) {
        p->n_chain = 0;
        snprintf(err, errlen, "%s: not a PEM certificate (chain of at most %d): %s", cert_file,
                 TLS_MAX_CHAIN, gnutls_strerror(rc));
        goto fail;
    }
    *key_at_fault = 1;
    rc = gnutls_privkey_init(&p->key);
    if (rc == 0)
        rc = gnutls_privkey_import_x509_raw(p->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc < 0) {
        snprintf(err, errlen, "%s: not an unencrypted PEM private key: %s", key_file,
                 gnutls_strerror(rc));
        goto fail;
    }
    if (!pair_matches(p)) {
        snprintf(err, errlen, "%s is not the key of the certificate in %s", key_file, cert_file);
        goto fail;
    }
    free(cert.data);
    gnutls_memset(key.data, 0, key.size);
    free(key.data);
    return p;
fail:
    free(cert.data);
    if (key.data != NULL)
        gnutls_memset(key.data, 0, key.size);
    free(key.data);
    pair_free(p);
    return NULL;
}

int
tls_reload(struct tls *t, const char *cert_file, const char *key_file, char *err, size_t errlen)
{
    int key_at_fault;
    struct tls_pair *p = pair_load(cert_file, key_file, &key_at_fault, err, errlen);
    if (p == NULL)
        return -1;
    pthread_mutex_lock(&t->mu);
    p->older = atomic_load(&t->cur);
    atomic_store(&t->cur, p);
    pthread_mutex_unlock(&t->mu);
    return 0;
}

void
tls_free(struct tls *t)
{
    if (t == NULL)
        return;
    struct tls *self = t;
    atomic_compare_exchange_strong(&tls_current, &self, NULL);
    for (struct tls_pair *p = atomic_load(&t->cur), *next; p != NULL; p = next) {
        next = p->older;
        pair_free(p);
    }
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* GnuTLS asks for the server's certificate at each handshake: the pair current now. */
static int
retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
         const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
         unsigned int *pcert_length, gnutls_privkey_t *privkey)
{
    (void)session;
    (void)req_ca_rdn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    struct tls *t = atomic_load(&tls_current);
    struct tls_pair *p = t ? atomic_load(&t->cur) : NULL;
    if (p == NULL)
        return -1;
    *pcert = p->chain;
    *pcert_length = p->n_chain;
    *privkey = p->key;
    return 0;
}

tls_fn
tls_mhd_callback(struct tls *t)
{
    atomic_store(&tls_current, t);
    gnutls_certificate_retrieve_function2 *f = retrieve;
    return (tls_fn)f;
}

struct tls *
tls_from_conf(const struct conf *c, char *err, size_t errlen)
{
    char msg[700];
    int key_at_fault;
    struct tls_pair *p =
        pair_load(c->tls_cert_file, c->tls_key_file, &key_at_fault, msg, sizeof msg);
    if (p == NULL) {
        snprintf(err, errlen, "%s:%d: %s: %s", c->path,
                 key_at_fault ? c->tls_key_line : c->tls_cert_line,
                 key_at_fault ? "tls_key_file" : "tls_cert_file", msg);
        return NULL;
    }
    struct tls *t = calloc(1, sizeof *t);
    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        pair_free(p);
        return NULL;
    }
    atomic_init(&t->cur, p);
    pthread_mutex_init(&t->mu, NULL);
    return t;
}
