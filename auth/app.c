#include "app.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "access.h"
#include "audit.h"
#include "idp.h"
#include "log.h"
#include "ratelimit.h"
#include "rand.h"
#include "roles.h"
#include "sp/sp.h"
#include "spkey.h"
#include "store.h"
#include "str.h"
#include "tmpl.h"
#include "totp.h"

static void
close_store(void *p)
{
    store_close(p);
}

struct store *
app_store(struct app *a)
{
    struct store *s = pthread_getspecific(a->store_key);
    if (s != NULL)
        return s;
    char err[512], loc[CONF_PATH_MAX + 16];
    s = store_open(conf_store_location(&a->conf, loc, sizeof loc), err, sizeof err);
    if (s == NULL) {
        log_error("%s", err);
        return NULL;
    }
    store_set_node(s, a->conf.node_name);
    pthread_setspecific(a->store_key, s);
    return s;
}

struct overlay_ctx {
    struct policy *p;
    long long idps_version;
    long long settings_version;
};

static void
overlay(const char *key, const char *value, void *ctx)
{
    struct overlay_ctx *o = ctx;
    char err[160];
    if (strcmp(key, IDPS_VERSION) == 0)
        o->idps_version = strtoll(value, NULL, 10);
    if (strcmp(key, SETTINGS_VERSION) == 0)
        o->settings_version = strtoll(value, NULL, 10);
    if (settings_find(key) == NULL)
        return; /* other run-time settings share the table */
    if (settings_set(o->p, key, value, err, sizeof err) != 0)
        log_warn("stored setting ignored key=%s: %s", key, err);
}

/* The policy of live's [policy] under the stored settings, read now (one statement: the rows
 * and their version are one snapshot), and kept in a->settings for the requests that find the
 * same version. */
static void
read_settings(struct app *a, struct store *s, const struct app_live *live, struct policy *out,
              long long *idps_version)
{
    *out = live->conf.policy;
    struct overlay_ctx o = {out, 0, 0};
    if (s == NULL || store_setting_each(s, overlay, &o) != 0) {
        log_warn("could not read stored settings; using the configured policy");
        *idps_version = -1;
        return;
    }
    *idps_version = o.idps_version;
    pthread_mutex_lock(&a->settings.mu);
    a->settings.valid = 1;
    a->settings.generation = live->generation;
    a->settings.version = o.settings_version;
    a->settings.policy = *out;
    a->settings.idps_version = o.idps_version;
    pthread_mutex_unlock(&a->settings.mu);
}

void
app_policy_at(struct app *a, struct store *s, const struct app_live *live,
              long long settings_version, struct policy *out, long long *idps_version)
{
    if (settings_version >= 0) {
        pthread_mutex_lock(&a->settings.mu);
        int hit = a->settings.valid && a->settings.generation == live->generation &&
                  a->settings.version == settings_version;
        if (hit) {
            *out = a->settings.policy;
            *idps_version = a->settings.idps_version;
        }
        pthread_mutex_unlock(&a->settings.mu);
        if (hit)
            return;
    }
    read_settings(a, s, live, out, idps_version);
}

void
app_policy_and_idps(struct app *a, struct store *s, struct policy *out, long long *idps_version)
{
    long long idps;
    struct app_live *l = app_live_acquire(a);
    read_settings(a, s, l, out, &idps);
    app_live_release(a, l);
    if (idps_version != NULL)
        *idps_version = idps;
}

void
app_policy(struct app *a, struct store *s, struct policy *out)
{
    app_policy_and_idps(a, s, out, NULL);
}

/* Creates the folder holding path when it is missing (one level, mode 0700). */
static int
make_parent(const char *path, char *err, size_t errlen)
{
    char dir[CONF_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir)
        return 0;
    *slash = '\0';
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return 0;
    snprintf(err, errlen, "%s: cannot create the folder: %s", dir, strerror(errno));
    return -1;
}

/* The SP's key pair (made at first start, the key sealed) and the metadata built from it. */
int
app_load_sp(struct app *a, char *err, size_t errlen)
{
    if (a->sp_metadata != NULL)
        return 0;
    if (!a->secrets.ready) {
        snprintf(err, errlen, "the SP key is sealed: the data key is not loaded");
        return -1;
    }
    int clear = 0;
    if (make_parent(a->conf.sp_key_file, err, errlen) != 0 ||
        make_parent(a->conf.sp_cert_file, err, errlen) != 0 ||
        spkey_load(&a->secrets, a->conf.sp_key_file, a->conf.sp_cert_file, a->sp_entity_id,
                   &a->sp_key_pem, &clear, err, errlen) != 0)
        return -1;
    if (clear)
        log_warn("the SP private key is in clear at %s: run `gatehousectl secrets seal-sp-key` "
                 "to seal it under the data key",
                 a->conf.sp_key_file);
    a->sp_cert_pem = sp_read_file(a->conf.sp_cert_file, 64 * 1024, NULL, err, errlen);
    if (a->sp_cert_pem == NULL)
        return -1;
    a->sp_metadata =
        sp_metadata_xml(a->sp_entity_id, a->conf.base_url, a->sp_acs_url, a->sp_cert_pem);
    if (a->sp_metadata == NULL) {
        snprintf(err, errlen, "%s: not a PEM certificate", a->conf.sp_cert_file);
        return -1;
    }
    return 0;
}

static void
sp_ref_drop(struct app *a, struct sp_ref *r)
{
    pthread_mutex_lock(&a->sp_mu);
    int last = --r->refs == 0;
    pthread_mutex_unlock(&a->sp_mu);
    if (last) {
        free(r->idp_origins);
        free(r); /* r->sp is the app's */
    }
}

/* Appends the origin (scheme://host[:port]) of url to the space-separated list, once. Only
 * http(s) origins made of host characters: anything else stays out of the CSP header. */
struct origins {
    char list[4096];
    size_t len;
};

static void
add_origin(struct origins *o, const char *url)
{
    size_t scheme = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
    if (scheme == 0)
        return;
    size_t n = scheme + strcspn(url + scheme, "/?#");
    if (n == scheme || n > 300)
        return;
    for (size_t i = scheme; i < n; i++)
        if (!isalnum((unsigned char)url[i]) && strchr(".-:[]", url[i]) == NULL)
            return;
    char origin[310];
    snprintf(origin, sizeof origin, "%.*s", (int)n, url);
    for (const char *p = strstr(o->list, origin); p != NULL; p = strstr(p + 1, origin))
        if ((p == o->list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return;
    if (o->len + n + 2 > sizeof o->list)
        return; /* some hundred IdPs: the rest keep 'self' only */
    o->len += (size_t)snprintf(o->list + o->len, sizeof o->list - o->len, "%s%s", o->len ? " " : "",
                               origin);
}

static int
collect_origins(const struct idp_row *row, void *ctx)
{
    add_origin(ctx, row->sso_redirect);
    add_origin(ctx, row->slo_redirect);
    return 0;
}

/* The SAML state's source of IdP metadata (sp_set_idp_source): the calling thread's store. */
static int
registry_metadata(const char *entity_id, char **xml_out, void *ctx)
{
    struct store *s = app_store(ctx);
    return s != NULL ? idp_metadata(s, entity_id, xml_out) : -1;
}

/* The SAML state, built at first use (~60-250 ms) and kept: IdPs come and go inside it. */
static struct sp *
sp_state(struct app *a)
{
    pthread_mutex_lock(&a->sp_mu);
    if (a->sp_state == NULL) {
        char err[512];
        a->sp_state =
            sp_new_from_pem(a->sp_metadata, a->sp_key_pem, a->sp_cert_pem, err, sizeof err);
        if (a->sp_state == NULL)
            log_error("SAML state not built: %s", err);
        else
            sp_set_idp_source(a->sp_state, registry_metadata, a, 0);
    }
    struct sp *sp = a->sp_state;
    pthread_mutex_unlock(&a->sp_mu);
    return sp;
}

struct sp_ref *
app_sp_acquire(struct app *a, struct store *s, long long version)
{
    if (version < 0) {
        char v[32] = "0";
        if (store_setting_get(s, IDPS_VERSION, v, sizeof v) < 0)
            return NULL;
        version = strtoll(v, NULL, 10);
    }
    struct sp *sp = sp_state(a);
    if (sp == NULL)
        return NULL;
    /* Only the IdPs whose metadata changed are rebuilt, at their next use (sp/sp_state.c). */
    sp_idps_version(sp, version);
    pthread_mutex_lock(&a->sp_mu);
    struct sp_ref *cur = a->sp_cur;
    if (cur != NULL && cur->version == version) {
        cur->refs++;
        pthread_mutex_unlock(&a->sp_mu);
        return cur;
    }
    pthread_mutex_unlock(&a->sp_mu);
    struct sp_ref *fresh = calloc(1, sizeof *fresh);
    if (fresh == NULL)
        return NULL;
    fresh->sp = sp;
    fresh->version = version;
    fresh->refs = 2; /* the app's and the caller's */
    pthread_mutex_lock(&a->sp_mu);
    struct sp_ref *old = a->sp_cur;
    a->sp_cur = fresh;
    pthread_mutex_unlock(&a->sp_mu);
    if (old != NULL)
        sp_ref_drop(a, old);
    return fresh;
}

const char *
app_sp_origins(struct app *a, struct store *s, struct sp_ref *r)
{
    pthread_mutex_lock(&a->sp_mu);
    int done = r->origins_done;
    pthread_mutex_unlock(&a->sp_mu);
    if (done)
        return r->idp_origins;
    struct origins o = {.len = 0};
    char *list = store_idp_list(s, collect_origins, &o) == 0 && o.len > 0 ? strdup(o.list) : NULL;
    pthread_mutex_lock(&a->sp_mu);
    if (!r->origins_done) {
        r->idp_origins = list;
        r->origins_done = 1;
        list = NULL;
    }
    pthread_mutex_unlock(&a->sp_mu);
    free(list);
    return r->idp_origins;
}

int
app_sp_stats(struct app *a, struct sp_idp_stats *out)
{
    pthread_mutex_lock(&a->sp_mu);
    struct sp *sp = a->sp_state;
    pthread_mutex_unlock(&a->sp_mu);
    if (sp == NULL)
        return -1;
    sp_idp_stats(sp, out);
    return 0;
}

void
app_sp_release(struct app *a, struct sp_ref *r)
{
    if (r != NULL)
        sp_ref_drop(a, r);
}

/* The master key and the data key (stopping start-up when they do not match the store), and the
 * key recovery codes are hashed under, derived from the data key so it is not in the store. */
/* The data key unwrapped inside the customer's PKCS#11 token. Each unwrap is a use of the
 * customer's key: it is written to the audit log, where the customer sees every one. */
static int
load_token_secrets(struct app *a, struct store *s, const char *why, char *err, size_t errlen)
{
    struct secrets_token t = {a->conf.secrets_pkcs11_module, a->conf.secrets_token_label,
                              a->conf.secrets_key_label, a->conf.secrets_pin_file};
    if (secrets_load_token(&a->secrets, s, &t, err, errlen) != 0)
        return -1;
    char target[256], host[128] = "";
    gethostname(host, sizeof host - 1);
    snprintf(target, sizeof target, "pkcs11:%s/%s", a->conf.secrets_token_label,
             a->conf.secrets_key_label);
    struct actor sys = {"system", "system", host, 0};
    if (audit_record(s, &sys, "secrets.unwrap", target, NULL, why) != 0) {
        snprintf(err, errlen,
                 "the data key was unwrapped but the audit record could not be "
                 "written: refusing to start without it");
        secrets_clear(&a->secrets);
        return -1;
    }
    return 0;
}

/* [smtp] password_sealed, opened into smtp_password; a clear password is warned about. */
static int
open_smtp_password(struct app *a, char *err, size_t errlen)
{
    struct conf *c = &a->conf;
    if (c->smtp_password[0] != '\0' && c->smtp_host[0] != '\0')
        log_warn("[smtp] password is in clear in %s: replace it with password_sealed "
                 "(gatehousectl secrets seal smtp.password)",
                 c->path);
    if (c->smtp_password_sealed[0] == '\0')
        return 0;
    size_t n = 0;
    char *pw =
        secrets_open_text(&a->secrets, SECRETS_AAD_SMTP_PASSWORD, c->smtp_password_sealed, &n);
    if (pw == NULL || n >= sizeof c->smtp_password) {
        secrets_free_text(pw, n);
        snprintf(err, errlen,
                 "%s: [smtp] password_sealed does not open with this store's data key (sealed "
                 "for another deployment, or damaged): seal it again with `gatehousectl secrets "
                 "seal smtp.password`",
                 c->path);
        return -1;
    }
    memcpy(c->smtp_password, pw, n + 1);
    secrets_free_text(pw, n);
    return 0;
}

int
app_load_secrets(struct app *a, const char *why, char *err, size_t errlen)
{
    if (a->secrets.ready)
        return 0;
    struct store *s = app_store(a);
    if (s == NULL) {
        snprintf(err, errlen, "the store cannot be opened");
        return -1;
    }
    if (strcmp(a->conf.secrets_provider, "pkcs11") == 0) {
        if (load_token_secrets(a, s, why, err, errlen) != 0)
            return -1;
    } else if (make_parent(a->conf.secrets_key_file, err, errlen) != 0 ||
               secrets_load(&a->secrets, s, a->conf.secrets_key_file, err, errlen) != 0) {
        return -1;
    }
    static const char label[] = "gatehouse recovery codes v1";
    unsigned int n = 0;
    if (HMAC(EVP_sha256(), a->secrets.data_key, sizeof a->secrets.data_key,
             (const unsigned char *)label, sizeof label - 1, a->recovery_key, &n) == NULL) {
        snprintf(err, errlen, "cannot derive the recovery code key");
        return -1;
    }
    if (totp_global_init() != 0) {
        snprintf(err, errlen, "liboath failed to initialise");
        return -1;
    }
    return 0;
}

/* Takes what c holds (its access rules too: c->access is NULL afterwards). NULL when out of
 * memory (c then still owns its rules). */
static struct app_live *
live_new(struct conf *c, long long generation)
{
    struct app_live *l = calloc(1, sizeof *l);
    struct access_rules *empty = c->access ? NULL : access_rules_new();
    if (l == NULL || (c->access == NULL && empty == NULL)) {
        free(l);
        access_rules_free(empty);
        return NULL;
    }
    l->conf = *c;
    c->access = NULL;
    l->empty = empty;
    l->rules = l->conf.access ? l->conf.access : empty;
    l->generation = generation;
    l->refs = 1;
    return l;
}

static void
live_drop(struct app_live *l)
{
    conf_free(&l->conf);
    access_rules_free(l->empty);
    free(l);
}

struct app_live *
app_live_acquire(struct app *a)
{
    pthread_mutex_lock(&a->live_mu);
    struct app_live *l = a->live_cur;
    l->refs++;
    pthread_mutex_unlock(&a->live_mu);
    return l;
}

void
app_live_release(struct app *a, struct app_live *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&a->live_mu);
    int last = --l->refs == 0;
    pthread_mutex_unlock(&a->live_mu);
    if (last)
        live_drop(l);
}

int
app_reload(struct app *a, char *err, size_t errlen)
{
    struct conf *fresh = malloc(sizeof *fresh);
    if (fresh == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    conf_defaults(fresh);
    struct app_live *next = NULL;
    int rc = conf_load(fresh, a->conf.path, err, errlen);
    int kept = rc == 0 ? conf_keep_fixed(fresh, &a->conf) : 0;
    if (rc == 0) {
        next = live_new(fresh, a->live_cur->generation + 1);
        if (next == NULL) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    if (rc == 0) {
        pthread_mutex_lock(&a->live_mu);
        struct app_live *old = a->live_cur;
        a->live_cur = next;
        int last = --old->refs == 0;
        pthread_mutex_unlock(&a->live_mu);
        if (last)
            live_drop(old);
        log_set_level((enum log_level)next->conf.log_level);
        log_set_format((enum log_format)next->conf.log_format);
        if (a->acs_limit != NULL)
            ratelimit_set_rate(a->acs_limit, next->conf.acs_refusals_per_minute);
        log_info("configuration reloaded path=%s access_rules=%zu kept_at_start_values=%d",
                 a->conf.path, next->rules->n, kept);
    }
    conf_free(fresh);
    free(fresh);
    return rc;
}

/* Where rd= may lead (str_safe_redirect): the base URL's scheme and port, and the cookie domain
 * or else the base URL's host. */
static void
set_redirect_scope(struct app *a)
{
    snprintf(a->base_scheme, sizeof a->base_scheme, "%s", a->conf.base_https ? "https" : "http");
    struct str_url u;
    char url[600];
    snprintf(url, sizeof url, "%s/", a->conf.base_url);
    a->base_port = str_url_split(url, &u) == 0 ? u.port : (a->conf.base_https ? 443 : 80);
    if (a->conf.cookie_domain[0] != '\0')
        snprintf(a->redirect_domain, sizeof a->redirect_domain, "%s", a->conf.cookie_domain);
    else
        conf_base_host(&a->conf, a->redirect_domain, sizeof a->redirect_domain);
}

int
app_safe_redirect(const struct app *a, const char *target)
{
    struct str_redirect_scope scope = {a->base_scheme, a->base_port, a->redirect_domain};
    return str_safe_redirect(target, &scope);
}

int
app_init(struct app *a, const char *conf_path, unsigned parts, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->sp_mu, NULL);
    pthread_mutex_init(&a->live_mu, NULL);
    pthread_mutex_init(&a->settings.mu, NULL);
    conf_defaults(&a->conf);
    if (conf_load(&a->conf, conf_path, err, errlen) != 0)
        return -1;
    /* The reloadable part starts as a copy of the file (the access rules move there). */
    struct conf copy = a->conf;
    a->conf.access = NULL;
    a->live_cur = live_new(&copy, 1);
    if (a->live_cur == NULL) {
        conf_free(&copy);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    set_redirect_scope(a);
    a->roles = roles_cache_new();
    if (a->roles == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    log_set_level((enum log_level)a->conf.log_level);
    log_set_format((enum log_format)a->conf.log_format);
    a->pw.memory_kib = (unsigned)a->conf.argon2_memory_kib;
    a->pw.iterations = (unsigned)a->conf.argon2_iterations;
    a->pw.parallelism = (unsigned)a->conf.argon2_parallelism;
    if (pthread_key_create(&a->store_key, close_store) != 0) {
        snprintf(err, errlen, "cannot create a thread key");
        return -1;
    }
    a->store_key_made = 1;
    if (parts & APP_STORE) {
        int sqlite = strcmp(a->conf.store_driver, "postgres") != 0;
        if (sqlite && make_parent(a->conf.store_path, err, errlen) != 0)
            return -1;
        char loc[CONF_PATH_MAX + 16];
        struct store *s = store_open(conf_store_location(&a->conf, loc, sizeof loc), err, errlen);
        if (s == NULL)
            return -1;
        store_set_node(s, a->conf.node_name);
        pthread_setspecific(a->store_key, s);
        if (store_secret(s, "csrf_key", a->csrf_key, sizeof a->csrf_key) != 0) {
            snprintf(err, errlen, "%s: cannot read or create the CSRF key",
                     sqlite ? a->conf.store_path : "the PostgreSQL store");
            return -1;
        }
    }
    /* The server's SMTP password only: gatehousectl must still seal a new one when the file
     * holds one that no longer opens. */
    if ((parts & APP_SECRETS) &&
        (app_load_secrets(a, "data key unwrapped at start-up", err, errlen) != 0 ||
         open_smtp_password(a, err, errlen) != 0))
        return -1;
    if (a->conf.sp_entity_id[0] != '\0')
        snprintf(a->sp_entity_id, sizeof a->sp_entity_id, "%s", a->conf.sp_entity_id);
    else
        snprintf(a->sp_entity_id, sizeof a->sp_entity_id, "%s/saml/metadata", a->conf.base_url);
    if (a->conf.sp_acs_url[0] != '\0')
        snprintf(a->sp_acs_url, sizeof a->sp_acs_url, "%s", a->conf.sp_acs_url);
    else
        snprintf(a->sp_acs_url, sizeof a->sp_acs_url, "%s/saml/acs", a->conf.base_url);
    if ((parts & APP_SP) && app_load_sp(a, err, errlen) != 0)
        return -1;
    if (parts & APP_TEMPLATES) {
        a->tmpl = tmpl_load(a->conf.templates_dir, err, errlen);
        if (a->tmpl == NULL)
            return -1;
        unsigned char rnd[24];
        char pw[49];
        if (rand_bytes(rnd, sizeof rnd) != 0)
            return -1;
        for (size_t i = 0; i < sizeof rnd; i++)
            snprintf(pw + 2 * i, 3, "%02x", rnd[i]);
        int rc = pwhash_hash(&a->pw, pw, a->dummy_hash, sizeof a->dummy_hash);
        OPENSSL_cleanse(pw, sizeof pw);
        if (rc != 0) {
            snprintf(err, errlen, "argon2 with m=%u t=%u p=%u failed (out of memory?)",
                     a->pw.memory_kib, a->pw.iterations, a->pw.parallelism);
            return -1;
        }
    }
    return 0;
}

void
app_free(struct app *a)
{
    tmpl_free(a->tmpl);
    a->tmpl = NULL;
    free(a->sp_metadata);
    a->sp_metadata = NULL;
    if (a->sp_key_pem != NULL)
        secrets_free_text(a->sp_key_pem, strlen(a->sp_key_pem));
    a->sp_key_pem = NULL;
    free(a->sp_cert_pem);
    a->sp_cert_pem = NULL;
    if (a->sp_cur != NULL) {
        sp_ref_drop(a, a->sp_cur);
        a->sp_cur = NULL;
    }
    sp_free(a->sp_state);
    a->sp_state = NULL;
    if (a->live_cur != NULL) {
        live_drop(a->live_cur);
        a->live_cur = NULL;
    }
    roles_cache_free(a->roles);
    a->roles = NULL;
    conf_free(&a->conf);
    if (a->store_key_made) {
        store_close(pthread_getspecific(a->store_key));
        pthread_setspecific(a->store_key, NULL);
        pthread_key_delete(a->store_key);
        a->store_key_made = 0;
        store_shutdown();
    }
    OPENSSL_cleanse(a->csrf_key, sizeof a->csrf_key);
    OPENSSL_cleanse(a->recovery_key, sizeof a->recovery_key);
    secrets_clear(&a->secrets);
}
