/* sp/sp_state.c: the SAML state every thread shares: one LassoServer holding our metadata and
 * keys, and the providers of the IdPs in use. An IdP's provider is built when a message first
 * names the IdP, from the metadata the registry gives (sp_set_idp_source), and checked again at
 * its next use after the registry moved (sp_idps_version): the same metadata (SHA-256) keeps
 * the provider, other metadata replaces it, an IdP no longer registered loses it. At most
 * max_idps providers are kept; the least recently used one goes first. Registering a federation
 * of thousands of IdPs thus builds nothing, and a change to one IdP rebuilds only that one.
 *
 * Threads: lasso looks providers up in server->providers without a lock, so every use of the
 * server holds the state's read lock (sp_state_lock .. sp_state_unlock), and adding or dropping
 * a provider takes the write lock (writers first: a new IdP is never starved by a stream of
 * sign-ins). Providers are built and metadata is read outside the lock. */
#include "sp.h"
#include "sp_state.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lasso/lasso.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* What the state knows of one IdP whose provider is in server->providers. */
struct slot {
    unsigned char digest[32];   /* SHA-256 of the metadata the provider was built from */
    _Atomic long long checked;  /* the registry version at which that was last confirmed */
    _Atomic unsigned long used; /* the state's tick at its last use */
    int pinned;                 /* added with sp_add_idp: kept as it is */
};

struct sp_state {
    pthread_rwlock_t lock;
    GHashTable *slots; /* entity ID -> struct slot, beside server->providers */
    sp_idp_metadata_fn metadata;
    void *ctx;
    size_t max_idps;
    _Atomic long long version; /* of the registry, as last announced */
    _Atomic unsigned long tick, built, evicted, checked;
};

struct sp {
    LassoServer *server;
    struct sp_state *st;
};

LassoServer *
sp_lasso_server(const struct sp *sp)
{
    return sp->server;
}

static struct sp_state *
state_new(void)
{
    struct sp_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&st->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    st->slots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free);
    st->max_idps = SP_MAX_IDP_PROVIDERS;
    return st;
}

struct sp *
sp_new(const char *sp_metadata, const char *key_file, const char *cert_file, char *err,
       size_t errlen)
{
    size_t n = 0;
    char *key = sp_read_file(key_file, 64 * 1024, &n, err, errlen);
    char *cert = key ? sp_read_file(cert_file, 64 * 1024, NULL, err, errlen) : NULL;
    struct sp *sp = cert ? sp_new_from_pem(sp_metadata, key, cert, err, errlen) : NULL;
    if (key != NULL)
        OPENSSL_cleanse(key, n);
    free(key);
    free(cert);
    return sp;
}

struct sp *
sp_new_from_pem(const char *sp_metadata, const char *key, const char *cert, char *err,
                size_t errlen)
{
    struct sp *sp = calloc(1, sizeof *sp);
    if (sp == NULL || (sp->st = state_new()) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    sp->server = lasso_server_new_from_buffers(sp_metadata, key, NULL, cert);
    if (sp->server == NULL) {
        snprintf(err, errlen, "the SAML library refused the SP key pair or metadata");
        goto fail;
    }
    sp->server->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
    /* The same key decrypts EncryptedAssertions (the metadata lists its certificate for
     * encryption); lasso does not take it for that role on its own. */
    if (lasso_server_set_encryption_private_key_with_password(sp->server, key, NULL) != 0) {
        snprintf(err, errlen, "the SAML library refused the SP key for decryption");
        goto fail;
    }
    return sp;
fail:
    sp_free(sp);
    return NULL;
}

void
sp_set_idp_source(struct sp *sp, sp_idp_metadata_fn fn, void *ctx, size_t max_idps)
{
    sp->st->metadata = fn;
    sp->st->ctx = ctx;
    if (max_idps > 0)
        sp->st->max_idps = max_idps;
}

void
sp_idps_version(struct sp *sp, long long version)
{
    if (version >= 0)
        atomic_store(&sp->st->version, version);
}

void
sp_idp_stats(const struct sp *sp, struct sp_idp_stats *out)
{
    struct sp_state *st = sp->st;
    pthread_rwlock_rdlock(&st->lock);
    out->loaded = g_hash_table_size(st->slots);
    pthread_rwlock_unlock(&st->lock);
    out->max = st->max_idps;
    out->built = atomic_load(&st->built);
    out->evicted = atomic_load(&st->evicted);
    out->checked = atomic_load(&st->checked);
}

static void
digest_of(const char *xml, unsigned char out[32])
{
    unsigned int n = 0;
    EVP_Digest(xml, strlen(xml), out, &n, EVP_sha256(), NULL);
}

/* Drops the least recently used IdP that is not pinned. Write lock held. */
static void
evict_one(const struct sp *sp)
{
    struct sp_state *st = sp->st;
    GHashTableIter it;
    gpointer key, value;
    const char *victim = NULL;
    unsigned long oldest = 0;
    g_hash_table_iter_init(&it, st->slots);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        struct slot *s = value;
        unsigned long used = atomic_load(&s->used);
        if (!s->pinned && (victim == NULL || used < oldest)) {
            victim = key;
            oldest = used;
        }
    }
    if (victim == NULL)
        return;
    g_hash_table_remove(sp->server->providers, victim);
    g_hash_table_remove(st->slots, victim); /* frees victim: last */
    atomic_fetch_add(&st->evicted, 1);
}

/* Puts provider p (taken) for entity_id in the server, replacing any earlier one, with its
 * metadata's digest. Write lock held. */
static void
install(const struct sp *sp, const char *entity_id, LassoProvider *p,
        const unsigned char digest[32], long long version, int pinned)
{
    struct sp_state *st = sp->st;
    struct slot *s = g_hash_table_lookup(st->slots, entity_id);
    if (s == NULL) {
        while (!pinned && g_hash_table_size(st->slots) >= st->max_idps &&
               g_hash_table_size(st->slots) > 0) {
            guint before = g_hash_table_size(st->slots);
            evict_one(sp);
            if (g_hash_table_size(st->slots) == before)
                break; /* all pinned */
        }
        s = calloc(1, sizeof *s);
        if (s == NULL) {
            g_object_unref(p);
            return;
        }
        g_hash_table_insert(st->slots, g_strdup(entity_id), s);
    }
    memcpy(s->digest, digest, 32);
    atomic_store(&s->checked, version);
    atomic_store(&s->used, atomic_fetch_add(&st->tick, 1) + 1);
    s->pinned = pinned;
    p->role = LASSO_PROVIDER_ROLE_IDP;
    g_hash_table_insert(sp->server->providers, g_strdup(entity_id), p);
}

static void
drop(const struct sp *sp, const char *entity_id)
{
    pthread_rwlock_wrlock(&sp->st->lock);
    struct slot *s = g_hash_table_lookup(sp->st->slots, entity_id);
    if (s != NULL && !s->pinned) {
        g_hash_table_remove(sp->server->providers, entity_id);
        g_hash_table_remove(sp->st->slots, entity_id);
    }
    pthread_rwlock_unlock(&sp->st->lock);
}

/* Reads entity_id's metadata from the registry and builds its provider (*p) unless its digest
 * is had's, outside the lock: 0 (digest filled; *p NULL when had matches), 1 the IdP is not
 * registered (its provider dropped), -1 error. */
static int
fetch(const struct sp *sp, const char *entity_id, const unsigned char *had, LassoProvider **p,
      unsigned char digest[32], char *err, size_t errlen)
{
    struct sp_state *st = sp->st;
    char *xml = NULL;
    *p = NULL;
    int rc = st->metadata(entity_id, &xml, st->ctx);
    if (rc == 1) {
        drop(sp, entity_id);
        return 1;
    }
    if (rc != 0 || xml == NULL) {
        free(xml);
        snprintf(err, errlen, "the IdP's metadata could not be read from the registry");
        return -1;
    }
    atomic_fetch_add(&st->checked, 1);
    digest_of(xml, digest);
    if (had == NULL || memcmp(had, digest, 32) != 0) {
        *p = sp_idp_provider(xml, err, errlen);
        if (*p == NULL) {
            free(xml);
            return -1;
        }
        atomic_fetch_add(&st->built, 1);
    }
    free(xml);
    return 0;
}

/* Puts what fetch found in place: p (taken) installed, or the provider of that digest confirmed
 * at version. Write lock held. 0, or -1 when p is NULL and the provider in place is gone or
 * another (the next round settles it). */
static int
settle(const struct sp *sp, const char *entity_id, LassoProvider *p, const unsigned char digest[32],
       long long version)
{
    if (p != NULL) {
        install(sp, entity_id, p, digest, version, 0);
        return 0;
    }
    struct slot *s = g_hash_table_lookup(sp->st->slots, entity_id);
    if (s == NULL || memcmp(s->digest, digest, 32) != 0)
        return -1;
    atomic_store(&s->checked, version);
    return 0;
}

/* How many times a reader checks, fetches and comes back before the last round, which keeps the
 * write lock from the install to the use (other threads may evict or replace the provider in
 * between: only when more IdPs are in use at once than the bound, or the registry keeps moving). */
#define SHARED_ROUNDS 3

LassoServer *
sp_state_lock(const struct sp *sp, const char *entity_id, int *unknown, char *err, size_t errlen)
{
    struct sp_state *st = sp->st;
    *unknown = 0;
    snprintf(err, errlen, "the IdP's provider could not be made current");
    unsigned char fetched[32];
    int have_fetched = 0;
    for (int round = 0;; round++) {
        pthread_rwlock_rdlock(&st->lock);
        if (entity_id == NULL || entity_id[0] == '\0' || st->metadata == NULL)
            return sp->server;
        struct slot *s = g_hash_table_lookup(st->slots, entity_id);
        long long version = atomic_load(&st->version);
        /* Current: confirmed at this version, or the metadata this thread has just read from
         * the registry (a change committed since is as if it came after this request). */
        if (s != NULL && (s->pinned || atomic_load(&s->checked) == version ||
                          (have_fetched && memcmp(s->digest, fetched, 32) == 0))) {
            atomic_store(&s->used, atomic_fetch_add(&st->tick, 1) + 1);
            return sp->server;
        }
        unsigned char had[32];
        if (s != NULL)
            memcpy(had, s->digest, sizeof had);
        pthread_rwlock_unlock(&st->lock);
        LassoProvider *p = NULL;
        int rc = fetch(sp, entity_id, s != NULL ? had : NULL, &p, fetched, err, errlen);
        if (rc != 0) {
            *unknown = rc > 0;
            return NULL;
        }
        have_fetched = 1;
        pthread_rwlock_wrlock(&st->lock);
        if (round + 1 < SHARED_ROUNDS) {
            settle(sp, entity_id, p, fetched, version);
            pthread_rwlock_unlock(&st->lock);
            continue;
        }
        /* The last round: used under the write lock it was installed under. */
        if (settle(sp, entity_id, p, fetched, version) == 0)
            return sp->server;
        pthread_rwlock_unlock(&st->lock);
        if (round > SHARED_ROUNDS + 2)
            return NULL;
    }
}

void
sp_state_unlock(const struct sp *sp)
{
    pthread_rwlock_unlock(&sp->st->lock);
}

int
sp_add_idp(struct sp *sp, const char *idp_metadata, char *err, size_t errlen)
{
    LassoProvider *p = sp_idp_provider(idp_metadata, err, errlen);
    if (p == NULL)
        return -1;
    unsigned char digest[32];
    digest_of(idp_metadata, digest);
    char *id = g_strdup(p->ProviderID);
    pthread_rwlock_wrlock(&sp->st->lock);
    install(sp, id, p, digest, atomic_load(&sp->st->version), 1);
    pthread_rwlock_unlock(&sp->st->lock);
    g_free(id);
    atomic_fetch_add(&sp->st->built, 1);
    return 0;
}

void
sp_free(struct sp *sp)
{
    if (sp == NULL)
        return;
    if (sp->server != NULL)
        g_object_unref(sp->server);
    if (sp->st != NULL) {
        g_hash_table_destroy(sp->st->slots);
        pthread_rwlock_destroy(&sp->st->lock);
        free(sp->st);
    }
    free(sp);
}
