/* auth/conf.h: the configuration file (INI, libinih), parsed once at start-up into struct conf.
 * Every key is in one table in conf.c (key, default, range, description): the parser, the
 * defaults, conf/gatehouse.conf and gatehouse.conf(5) are all made from it. */
#ifndef GH_AUTH_CONF_H
#define GH_AUTH_CONF_H

#include <stddef.h>
#include <stdio.h>

#include "policy/settings.h"

#define CONF_PATH_MAX 1024
#define CONF_MAX_PROXIES 16

/* [smtp] starttls: how the connection to the relay is protected. */
enum conf_smtp_tls {
    CONF_SMTP_STARTTLS = 0, /* on: STARTTLS is required; no mail goes out without it */
    CONF_SMTP_PLAIN,        /* off: no TLS (a relay on this host or a test server) */
    CONF_SMTP_IMPLICIT,     /* implicit: TLS from the first byte (SMTPS, usually port 465) */
};

struct access_rules;

struct cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
};

struct conf {
    char path[CONF_PATH_MAX];
    /* [server] */
    char listen_host[256];
    int listen_port;
    char base_url[512]; /* without a trailing '/' */
    int base_https;
    struct cidr trusted_proxies[CONF_MAX_PROXIES];
    size_t n_trusted_proxies;
    int threads;
    int hash_queue; /* password sign-ins waiting for an argon2 worker; more answer 503 */
    int saml_queue; /* SAML responses waiting for a worker; more answer 503 */
    long max_body_bytes;
    char templates_dir[CONF_PATH_MAX];
    int session_max_hours;
    int access_log;
    int log_level;
    int log_format;                    /* enum log_format */
    char tls_cert_file[CONF_PATH_MAX]; /* "" = plain HTTP */
    char tls_key_file[CONF_PATH_MAX];
    int tls_cert_line, tls_key_line; /* where they were set, for errors found after parsing */
    char cookie_domain[254];         /* lower case; "" = host-only cookies */
    char pid_file[CONF_PATH_MAX];
    char node_name[64]; /* [server] node_name, or the host name (conf_load fills it) */
    /* [access]: forward-auth rules (owned; conf_free; NULL = none, default signed_in), and the
     * identity headers' names */
    struct access_rules *access;
    char header_user[64];
    char header_email[64];
    char header_name[64];
    char header_groups[64];
    char header_role[64];
    char header_auth_method[64];
    /* [store] */
    char store_driver[16];
    char store_path[CONF_PATH_MAX];
    char store_conninfo[CONF_PATH_MAX]; /* driver = postgres (then required) */
    int store_max_size_mb; /* 0 = no ceiling: the SAML log keeps bodies until min_free_mb */
    int store_min_free_mb; /* below this much free disk the SAML log drops bodies */
    int audit_days;        /* audit retention; 0 = kept for ever */
    /* [sp] */
    char sp_entity_id[512];
    char sp_key_file[CONF_PATH_MAX];
    char sp_cert_file[CONF_PATH_MAX];
    char sp_acs_url[512]; /* "" = {base_url}/saml/acs */
    int sp_clock_skew_seconds;
    int sp_max_response_age_seconds;
    int saml_log_days;
    char sp_metadata_ca_file[CONF_PATH_MAX];
    int acs_refusals_per_minute; /* per client address; more answer 429 */
    /* [secrets] */
    char secrets_key_file[CONF_PATH_MAX];
    char secrets_provider[16]; /* file | pkcs11 */
    char secrets_pkcs11_module[CONF_PATH_MAX];
    char secrets_token_label[64];
    char secrets_key_label[128];
    char secrets_pin_file[CONF_PATH_MAX];
    /* [smtp]: reset e-mails; an empty host turns them off */
    char smtp_host[256];
    int smtp_port;
    char smtp_from[256];
    int smtp_starttls; /* enum conf_smtp_tls */
    char smtp_username[256];
    char smtp_password[256];         /* clear; or opened from smtp_password_sealed at start */
    char smtp_password_sealed[1024]; /* `gatehousectl secrets seal smtp.password` */
    int smtp_timeout_seconds;
    char smtp_ca_file[CONF_PATH_MAX];
    /* [argon2] */
    int argon2_memory_kib;
    int argon2_iterations;
    int argon2_parallelism;
    /* [policy]: defaults until an admin changes a setting at run time */
    struct policy policy;
};

/* Sets every key to its default (the table's default text, parsed as the file's would be). */
void conf_defaults(struct conf *c);

/* Frees what conf_load allocated (the access rules); the struct stays usable with defaults. */
void conf_free(struct conf *c);

/* Reads path over the defaults. On error returns -1 and writes "FILE:LINE: message" (or
 * "FILE: message") into err. */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);
/* Where store_open finds the store: "postgres:CONNINFO" (driver = postgres) or the SQLite
 * path. Written into buf, which is returned. */
const char *conf_store_location(const struct conf *c, char *buf, size_t len);

/* The keys a running server reads at start only (conf_key_info .reload == 0) that differ in
 * fresh (a reloaded file) from in_force: each is logged as a warning and set back in fresh to
 * the value in force, so that fresh is what the server then runs with. Returns how many. */
int conf_keep_fixed(struct conf *fresh, const struct conf *in_force);

/* Whether addr (AF_INET/AF_INET6 raw bytes) is inside one of the trusted proxy ranges. */
int conf_is_trusted_proxy(const struct conf *c, int family, const unsigned char *addr);
/* Whether addr is inside one of the n ranges. */
int conf_cidr_match(const struct cidr *ranges, size_t n, int family, const unsigned char *addr);

/* Parses "10.0.0.0/8" or "::1/128" (no prefix = a single host). -1 when malformed. */
int conf_parse_cidr(const char *s, struct cidr *out);

/* Whether domain may be [server] cookie_domain with a base URL on base_host: not a public
 * suffix (a built-in list of common ones, or a single label) and base_host is it or under it.
 * 0, or -1 with a message. */
int conf_cookie_domain_check(const char *domain, const char *base_host, char *msg, size_t len);

/* The host of the base URL (lower case, no port) into out. */
void conf_base_host(const struct conf *c, char *out, size_t len);

/* One key of the table, for documentation and tests; strings are borrowed from the table. */
struct conf_key_info {
    const char *section;
    const char *name;
    const char *def;  /* as written in the file */
    char values[128]; /* "1 - 720", "on | off", "error | warn | info | debug" */
    const char *desc;
    int reload; /* a running server takes a change of it on SIGHUP */
};

/* Number of keys in the table ([policy] excluded: it is policy/settings.c's table). */
size_t conf_key_count(void);
/* Fills out with key i; -1 when i is past the end. */
int conf_key_info(size_t i, struct conf_key_info *out);

enum conf_print_format {
    CONF_PRINT_INI,    /* conf/gatehouse.conf: every key with its default and description */
    CONF_PRINT_MAN,    /* the settings section of gatehouse.conf(5), in man(7) macros */
    CONF_PRINT_RELOAD, /* Markdown: each key and whether SIGHUP reloads it (README) */
};

/* Writes every key ([policy] from the policy settings table too) in the given format. */
void conf_print(FILE *f, enum conf_print_format fmt);

#endif
