/* auth/app.h: what the server's threads share, read-only after start-up: the configuration,
 * templates, keys, and one store connection per thread. */
#ifndef GH_AUTH_APP_H
#define GH_AUTH_APP_H

#include <pthread.h>
#include <stddef.h>

#include "conf.h"
#include "policy/settings.h"
#include "pwhash.h"
#include "secrets.h"

struct access_rules;
struct roles_cache;
struct mailer;
struct store;
struct tmpl_set;
struct sp;

/* The shared SAML state (sp/sp_state.c: our LassoServer, each IdP's provider built at its first
 * use and rebuilt alone when its metadata changes) at one version of the registry, with what
 * pages derive from that version; counted references so a newer version never frees one in use. */
struct sp_ref {
    struct sp *sp;     /* the app's, the same for every version */
    char *idp_origins; /* the IdPs' SSO and SLO origins, space-separated, for the CSP (or NULL);
                          read it with app_sp_origins */
    int origins_done;
    long long version;
    int refs;
};

/* What a running server reloads on SIGHUP: the configuration file as last read (the keys read
 * at start only set back to their values in force: conf_keep_fixed) and its access rules.
 * Counted, so a reload never frees one in use. Read the reloadable keys from here, the others
 * from struct app's conf. */
struct app_live {
    struct conf conf;
    struct access_rules *rules; /* conf.access, or an empty set (never NULL) */
    struct access_rules *empty; /* owned when the file has no rules */
    long long generation;       /* 1 at start, + 1 per reload */
    int refs;
};

/* Counters for GET /metrics (Prometheus). */
struct metrics {
    _Atomic unsigned long login_success;
    _Atomic unsigned long login_failure;
    _Atomic unsigned long login_locked;
    _Atomic unsigned long csrf_refused;
};

/* The effective policy as of a version of the stored settings (SETTINGS_VERSION), so that a
 * request whose session read brought the same version reads no settings. */
struct settings_cache {
    pthread_mutex_t mu;
    int valid;
    long long generation; /* of the reloadable configuration ([policy]) it was built on */
    long long version;    /* of the stored settings it was read at */
    struct policy policy;
    long long idps_version;
};

struct app {
    struct conf conf;      /* as read at start: the keys a reload does not change */
    struct tmpl_set *tmpl; /* NULL in gatehousectl */
    pthread_key_t store_key;
    int store_key_made;
    struct pwhash_params pw;
    unsigned char csrf_key[32];
    /* Hash of a random password with the current parameters: verified when the e-mail has no
     * password account, so that costs the same time as a wrong password. */
    char dummy_hash[PWHASH_MAX];
    struct metrics metrics;
    struct secrets secrets;         /* APP_SECRETS: the unwrapped data key */
    unsigned char recovery_key[32]; /* APP_SECRETS: HMAC key of recovery code hashes */
    char sp_entity_id[600];         /* [sp] entity_id, or {base_url}/saml/metadata */
    char *sp_metadata;              /* our SAML metadata document (APP_SP) */
    char *sp_key_pem;               /* APP_SP: the SP private key, opened from its sealed file */
    char *sp_cert_pem;              /* APP_SP: its certificate */
    char sp_acs_url[700];           /* {base_url}/saml/acs */
    pthread_mutex_t sp_mu;
    struct sp *sp_state; /* built at first use, kept until app_free */
    struct sp_ref *sp_cur;
    struct mailer *mailer; /* the server's reset e-mails; NULL when [smtp] host is empty */
    pthread_mutex_t live_mu;
    struct app_live *live_cur;   /* replaced by app_reload */
    char base_scheme[8];         /* of base_url: "http" or "https" */
    int base_port;               /* of base_url, explicit or the scheme's default */
    char redirect_domain[256];   /* where rd= may lead: cookie_domain, else base_url's host */
    struct ratelimit *acs_limit; /* refused SAML responses per client address (the server) */
    struct settings_cache settings;
    struct roles_cache *roles; /* what each role holds, by the roles' version (roles.h) */
};

enum app_parts {
    APP_STORE = 1u << 0,     /* open the store (creating its folder, applying migrations) */
    APP_TEMPLATES = 1u << 1, /* load templates and prepare the sign-in timing equaliser */
    APP_SP = 1u << 2,        /* SP key (sealed) and certificate (made when absent), metadata;
                                needs APP_SECRETS */
    APP_SECRETS = 1u << 3,   /* master key and data key (made at first start); needs APP_STORE */
};

/* Loads the configuration and the parts asked for (enum app_parts). -1 with a message in err. */
int app_init(struct app *a, const char *conf_path, unsigned parts, char *err, size_t errlen);
/* APP_SECRETS after app_init (gatehousectl, for the commands that need the data key); why
 * names the use in the audit record of a token unwrap. Once per process. */
int app_load_secrets(struct app *a, const char *why, char *err, size_t errlen);
/* APP_SP after app_init; needs the data key (app_load_secrets). Once per process. */
int app_load_sp(struct app *a, char *err, size_t errlen);
/* Reads the configuration file again and puts it in force: the reloadable keys (conf.c's
 * reloadable_keys, [access] and [policy]) take their new values, with the log level and format
 * and the ACS rate limit; a changed key that is read at start only is logged and keeps its
 * value. 0, or -1 with a message in err ("FILE:LINE: ..."): the configuration in force stays. */
int app_reload(struct app *a, char *err, size_t errlen);

/* Whether target may be redirected to: a same-origin path, or an http(s) URL with the base URL's
 * scheme (or https) and port (or the default) on the cookie domain or under it (else on the base
 * URL's host) -- str_safe_redirect with this server's scope. */
int app_safe_redirect(const struct app *a, const char *target);

/* Whether target may be redirected to: a same-origin path, or an http(s) URL with the base URL's
 * scheme (or https) and port (or the default) on the cookie domain or under it (else on the base
 * URL's host) -- str_safe_redirect with this server's scope. */
int app_safe_redirect(const struct app *a, const char *target);

/* The reloadable configuration in force (never NULL after app_init); release it
 * (app_live_release(NULL) is a no-op). */
struct app_live *app_live_acquire(struct app *a);
void app_live_release(struct app *a, struct app_live *l);

/* Releases the templates and the calling thread's store connection. */
void app_free(struct app *a);

/* The calling thread's store connection (opened on first use, closed at thread exit).
 * NULL when it cannot be opened (logged). */
struct store *app_store(struct app *a);

/* The effective policy: built-in defaults, then [policy] from the config, then the values
 * admins stored at run time. A stored value that no longer parses is ignored (logged). */
void app_policy(struct app *a, struct store *s, struct policy *out);

/* app_policy, and from the same read of the settings the IdP registry's version (-1 when the
 * settings could not be read): one query per request for both. */
void app_policy_and_idps(struct app *a, struct store *s, struct policy *out,
                         long long *idps_version);

/* app_policy_and_idps for a request that has just read the settings' version (SETTINGS_VERSION,
 * with its session: store_session_user_get): when the process last read the settings at that
 * version under the same [policy] (live's generation), that result, without reading the store;
 * else read now. settings_version < 0 (not read): read now. Correct across processes and nodes
 * because every change to a setting changes the version in the same statement. */
void app_policy_at(struct app *a, struct store *s, const struct app_live *live,
                   long long settings_version, struct policy *out, long long *idps_version);

/* The SAML state at the registry's version (< 0: read it from the store now): announces the
 * version to the state, whose IdPs are checked again at their next use; NULL on error (logged).
 * Release it. */
struct sp_ref *app_sp_acquire(struct app *a, struct store *s, long long idps_version);
void app_sp_release(struct app *a, struct sp_ref *r);
/* The IdPs' origins for the CSP at r's version (read from the registry once per version; NULL
 * when none). Borrowed from r. */
const char *app_sp_origins(struct app *a, struct store *s, struct sp_ref *r);
/* What the SAML state holds and has built (sp_idp_stats); -1 before it is first built. */
struct sp_idp_stats;
int app_sp_stats(struct app *a, struct sp_idp_stats *out);

#endif
