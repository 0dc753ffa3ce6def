#include "session.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "clock.h"
#include "log.h"
#include "rand.h"
#include "store.h"
#include "str.h"

/* OpenSSL 3 looks SHA-256 up in its provider table at each SHA256() call (a lock and a hash
 * lookup: ~5 % of a forward-auth decision); fetched once, the digest is reused. Set once, then
 * read-only. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void
fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void
session_hash(const char *token, char *hash_out)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    pthread_once(&sha256_once, fetch_sha256);
    if (sha256_md == NULL || EVP_Digest(token, strlen(token), md, NULL, sha256_md, NULL) != 1)
        SHA256((const unsigned char *)token, strlen(token), md);
    str_hex(md, sizeof md, hash_out);
}

int
session_new_token(char *token_out)
{
    unsigned char raw[32];
    if (rand_bytes(raw, sizeof raw) != 0)
        return -1;
    str_hex(raw, sizeof raw, token_out);
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

int
session_create(struct store *s, const struct session_new *n, char *token_out, char *hash_out)
{
    if (session_new_token(token_out) != 0)
        return -1;
    struct session_row row;
    memset(&row, 0, sizeof row);
    session_hash(token_out, row.token_hash);
    row.user_id = n->user_id;
    row.kind = n->kind;
    row.restricted = n->restricted;
    row.created_at = row.last_seen = clock_now();
    snprintf(row.client_addr, sizeof row.client_addr, "%s", n->client_addr ? n->client_addr : "");
    snprintf(row.idp, sizeof row.idp, "%s", n->idp ? n->idp : "");
    snprintf(row.name_id, sizeof row.name_id, "%s", n->name_id ? n->name_id : "");
    snprintf(row.session_index, sizeof row.session_index, "%s",
             n->session_index ? n->session_index : "");
    snprintf(row.name_id_format, sizeof row.name_id_format, "%s",
             n->name_id_format ? n->name_id_format : "");
    row.mfa = n->mfa;
    snprintf(row.authn_context, sizeof row.authn_context, "%s",
             n->authn_context ? n->authn_context : "");
    snprintf(row.groups, sizeof row.groups, "%s", n->groups ? n->groups : "");
    row.ends_at = n->ends_at;
    if (store_session_insert(s, &row) != 0)
        return -1;
    memcpy(hash_out, row.token_hash, sizeof row.token_hash);
    return 0;
}

int
session_token_well_formed(const char *token)
{
    if (token == NULL || strlen(token) != SESSION_TOKEN_LEN)
        return 0;
    for (const char *p = token; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* The timeouts of a session read from the store: 0 live (last_seen refreshed when due), 1 ended
 * (deleted), -1 error. */
static int
still_live(struct store *s, const struct policy *p, long absolute_seconds, const char *hash,
           time_t now, struct session_row *out)
{
    enum timeout_verdict v = timeout_check(p, (enum session_kind)out->kind, out->created_at,
                                           out->last_seen, absolute_seconds, now);
    /* SAML core 2.7.2: the IdP's SessionNotOnOrAfter ends the session (no skew: the IdP's end
     * is honoured as given). */
    int idp_end = v == TIMEOUT_NONE && out->ends_at != 0 && now >= out->ends_at;
    if (v != TIMEOUT_NONE || idp_end) {
        log_info("session ended reason=%s user_id=%lld",
                 idp_end             ? "idp_session_not_on_or_after"
                 : v == TIMEOUT_IDLE ? "idle"
                                     : "absolute",
                 out->user_id);
        store_session_delete(s, hash);
        return 1;
    }
    if (now - out->last_seen >= timeout_touch_seconds(p, (enum session_kind)out->kind)) {
        if (store_session_touch(s, hash, now) != 0)
            return -1;
        out->last_seen = now;
    }
    return 0;
}

int
session_lookup(struct store *s, const struct policy *p, long absolute_seconds, const char *token,
               time_t now, struct session_row *out)
{
    if (!session_token_well_formed(token))
        return 1;
    char hash[65];
    session_hash(token, hash);
    int rc = store_session_get(s, hash, out);
    if (rc != 0)
        return rc;
    return still_live(s, p, absolute_seconds, hash, now, out);
}

int
session_read_user(struct store *s, const char *token, struct session_row *out, struct user *user,
                  long long *settings_version)
{
    if (!session_token_well_formed(token))
        return 1;
    char hash[65];
    session_hash(token, hash);
    return store_session_user_get(s, hash, out, user, settings_version);
}

int
session_check(struct store *s, const struct policy *p, long absolute_seconds, time_t now,
              struct session_row *row)
{
    char hash[65];
    memcpy(hash, row->token_hash, sizeof hash);
    return still_live(s, p, absolute_seconds, hash, now, row);
}
