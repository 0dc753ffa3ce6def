#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "access.h"
#include "arena.h"
#include "log.h"
#include "str.h"

enum conf_type {
    CT_STRING,
    CT_INT,
    CT_BOOL,
    CT_LISTEN,
    CT_URL,
    CT_PROXIES,
    CT_DRIVER,
    CT_LEVEL,
    CT_LOG_FORMAT,    /* text | json */
    CT_HOST,          /* a DNS name or an IP address; "" allowed */
    CT_EMAIL,         /* an e-mail address; "" allowed */
    CT_TLS,           /* on | off | implicit (enum conf_smtp_tls) */
    CT_FILE,          /* a path to a readable file; "" allowed */
    CT_HTTP_URL,      /* an absolute http:// or https:// URL; "" allowed */
    CT_COOKIE_DOMAIN, /* a DNS name (checked against base_url once the file is read) */
    CT_HEADER,        /* an HTTP header name */
    CT_ACCESS_DEFAULT,
    CT_ACCESS_RULE, /* repeated: each one appends a rule; "" adds none */
    CT_PROVIDER,    /* file | pkcs11 */
    CT_NODE,        /* a node name: letters, digits, '.', '-', '_'; "" = the host name */
};

struct conf_key {
    const char *section;
    const char *name;
    enum conf_type type;
    size_t offset;
    size_t size; /* strings: buffer size */
    long long min, max;
    const char *def; /* the default, as written in the file: conf_defaults parses it */
    const char
        *values;      /* accepted values for the documentation; "" = free text, NULL = min - max */
    const char *desc; /* one or two sentences for conf/gatehouse.conf and gatehouse.conf(5) */
};

#define FIELD(f) offsetof(struct conf, f), sizeof(((struct conf *)0)->f)
/* A string; a string checked as `type` (CT_HOST, CT_EMAIL, CT_FILE, ...). */
#define S(sec, key, field, def, desc)                                                              \
    {                                                                                              \
        sec, key, CT_STRING, FIELD(field), 0, 0, def, "", desc                                     \
    }
#define TS(sec, key, field, type, def, values, desc)                                               \
    {                                                                                              \
        sec, key, type, FIELD(field), 0, 0, def, values, desc                                      \
    }
#define I(sec, key, field, lo, hi, def, desc)                                                      \
    {                                                                                              \
        sec, key, CT_INT, offsetof(struct conf, field), 0, lo, hi, def, NULL, desc                 \
    }
#define B(sec, key, field, def, desc)                                                              \
    {                                                                                              \
        sec, key, CT_BOOL, offsetof(struct conf, field), 0, 0, 1, def, "on | off", desc            \
    }
/* An int field parsed as `type` (CT_TLS, CT_LEVEL), or a key that fills several fields. */
#define TI(sec, key, field, type, def, values, desc)                                               \
    {                                                                                              \
        sec, key, type, offsetof(struct conf, field), 0, 0, 0, def, values, desc                   \
    }
#define X(sec, key, type, def, values, desc)                                                       \
    {                                                                                              \
        sec, key, type, 0, 0, 0, 0, def, values, desc                                              \
    }

/* The one table of the configuration file: the parser, the defaults, `gatehouse -p conf`
 * (which writes conf/gatehouse.conf) and `gatehouse -p man` (gatehouse.conf(5)) all read it.
 * A new key is one line here and a field in struct conf. */
static const struct conf_key conf_keys[] = {
    X("server", "listen", CT_LISTEN, "127.0.0.1:8080", "IP:PORT",
      "Address and port to listen on (an IP address: only this address is bound)."),
    X("server", "base_url", CT_URL, "http://127.0.0.1:8080", "http:// or https:// URL",
      "The URL browsers and IdPs use (behind a proxy: the public one). https:// makes cookies "
      "Secure."),
    X("server", "trusted_proxies", CT_PROXIES, "", "CIDRs",
      "Address ranges (e.g. 10.0.0.0/8, ::1) whose X-Forwarded-For and X-Forwarded-Proto are "
      "believed; empty = none."),
    I("server", "threads", threads, 0, 64, "0",
      "HTTP worker threads; 0 = twice the number of CPUs."),
    I("server", "hash_queue", hash_queue, 1, 100000, "128",
      "Password checks waiting for an argon2 worker (one per CPU); more answer 503."),
    I("server", "saml_queue", saml_queue, 1, 100000, "64",
      "SAML responses waiting for a SAML worker (one per CPU, apart from argon2's); more answer "
      "503."),
    I("server", "max_body_bytes", max_body_bytes, 1024, 16 * 1024 * 1024, "1048576",
      "Default request body limit in bytes; routes may set lower ones."),
    S("server", "templates", templates_dir, "templates",
      "Folder of the HTML templates and the stylesheet."),
    I("server", "session_max_hours", session_max_hours, 1, 720, "12",
      "Absolute lifetime of any session, idle or not, in hours."),
    B("server", "access_log", access_log, "on", "One log line per request."),
    TI("server", "log_level", log_level, CT_LEVEL, "info", "error | warn | info | debug",
       "Most verbose level of messages written to standard error."),
    TI("server", "log_format", log_format, CT_LOG_FORMAT, "text", "text | json",
       "Log lines on standard error: text (TIME LEVEL function: key=value ...) or json (one object "
       "per line: time, level, func, msg and each key=value of the message as a field)."),
    TS("server", "tls_cert_file", tls_cert_file, CT_FILE, "", "file",
       "PEM certificate (chain) for serving HTTPS directly; empty = plain HTTP (e.g. behind a "
       "proxy that terminates TLS). The files are re-read with the key on SIGHUP (a changed "
       "path needs a restart); HSTS and Secure cookies follow."),
    TS("server", "tls_key_file", tls_key_file, CT_FILE, "", "file",
       "The certificate's unencrypted PEM private key (keep it readable by the server only)."),
    TS("server", "cookie_domain", cookie_domain, CT_COOKIE_DOMAIN, "", "domain name",
       "One sign-in for every host under this domain (e.g. example.com): the session cookie is "
       "set for it and rd= may lead to its hosts. Not a public suffix; must contain the base "
       "URL's host. Empty = this host only."),
    TS("server", "node_name", node_name, CT_NODE, "", "name",
       "This node's name in the SAML log, the audit log and /readyz, when several nodes share one "
       "PostgreSQL store (letters, digits, '.', '-', '_'); empty = the host name."),
    S("server", "pid_file", pid_file, "",
      "The server writes its process id here; `gatehousectl config reload` signals that process "
      "to reload its configuration. Empty = no file."),
    X("access", "default", CT_ACCESS_DEFAULT, "signed_in", "deny | signed_in",
      "Forward-auth (GET /auth/verify) when no rule matches."),
    X("access", "rule", CT_ACCESS_RULE, "", "",
      "HOST PATH POLICY..., repeated; the first matching rule decides. HOST: exact, *.suffix or "
      "*; PATH: a prefix matched at a '/'; POLICY: bypass | deny | signed_in | roles=a,b | "
      "groups=a,b | idp=ENTITY_ID | mfa (all must hold). E.g. admin.example.com / "
      "roles=owner,admin."),
    TS("access", "header_user", header_user, CT_HEADER, "Remote-User", "",
       "Header carrying the e-mail address of an allowed request."),
    TS("access", "header_email", header_email, CT_HEADER, "Remote-Email", "",
       "Header carrying the e-mail address."),
    TS("access", "header_name", header_name, CT_HEADER, "Remote-Name", "",
       "Header carrying the display name."),
    TS("access", "header_groups", header_groups, CT_HEADER, "Remote-Groups", "",
       "Header carrying the role and the IdP's groups, comma-separated."),
    TS("access", "header_role", header_role, CT_HEADER, "Remote-Role", "",
       "Header carrying the role."),
    TS("access", "header_auth_method", header_auth_method, CT_HEADER, "Remote-Auth-Method", "",
       "Header carrying password or saml."),
    X("store", "driver", CT_DRIVER, "sqlite", "sqlite | postgres",
      "Storage back end: sqlite (one node, the file at path) or postgres (any number of nodes "
      "on one database, at conninfo)."),
    S("store", "path", store_path, "var/gatehouse.db",
      "The SQLite database file (its folder is created when absent; driver = sqlite)."),
    S("store", "conninfo", store_conninfo, "",
      "The PostgreSQL database as a libpq connection string, e.g. host=db.example.com "
      "dbname=gatehouse user=gatehouse (driver = postgres; a password is better kept in "
      "~/.pgpass or PGPASSFILE than here)."),
    I("store", "max_size_mb", store_max_size_mb, 0, 16 * 1024 * 1024, "0",
      "Store ceiling (database + WAL) in MiB: above it the SAML log keeps its rows but drops "
      "their bodies; 0 = none."),
    I("store", "min_free_mb", store_min_free_mb, 0, 1024 * 1024, "64",
      "Free disk under the store, in MiB, below which the SAML log keeps its rows but drops "
      "their bodies."),
    I("store", "audit_days", audit_days, 0, 36500, "0",
      "Days audit log entries are kept; 0 = for ever."),
    S("sp", "entity_id", sp_entity_id, "",
      "The SP's SAML entity ID; empty = {base_url}/saml/metadata."),
    S("sp", "key_file", sp_key_file, "var/sp-key.pem",
      "The SP's private key: generated at first start and kept only sealed under the data "
      "key, in this path + \".sealed\". A clear PEM file here (older deployments) still works, "
      "with a warning, until `gatehousectl secrets seal-sp-key`."),
    S("sp", "cert_file", sp_cert_file, "var/sp-cert.pem",
      "The SP's certificate (PEM); generated with the key when absent."),
    TS("sp", "acs_url", sp_acs_url, CT_HTTP_URL, "", "http:// or https:// URL",
       "The ACS URL that IdPs post to and Recipient and Destination must name; empty = "
       "{base_url}/saml/acs (set it when a proxy maps another path to /saml/acs)."),
    I("sp", "clock_skew_seconds", sp_clock_skew_seconds, 0, 3600, "180",
      "Tolerance on assertion time windows, in seconds."),
    I("sp", "max_response_age_seconds", sp_max_response_age_seconds, 10, 86400, "300",
      "Oldest IssueInstant of a Response or an Assertion accepted, in seconds (plus the skew)."),
    I("sp", "saml_log_days", saml_log_days, 1, 3650, "180",
      "Days SAML response log entries are kept."),
    TS("sp", "metadata_ca_file", sp_metadata_ca_file, CT_FILE, "", "file",
       "PEM CA bundle that verifies the TLS certificates of IdP metadata URLs; empty = the "
       "system's."),
    I("sp", "acs_refusals_per_minute", acs_refusals_per_minute, 1, 100000, "30",
      "Refused SAML responses accepted per client address (burst, then per minute); more answer "
      "429 with Retry-After."),
    S("secrets", "key_file", secrets_key_file, "var/master.key",
      "Master key that encrypts secrets at rest (TOTP seeds); generated at first start when "
      "absent."),
    TS("secrets", "provider", secrets_provider, CT_PROVIDER, "file", "file | pkcs11",
       "Where the key that wraps the data key lives: key_file, or an AES key in a PKCS#11 token "
       "(an HSM or KMS: customer-managed keys)."),
    TS("secrets", "pkcs11_module", secrets_pkcs11_module, CT_FILE, "", "file",
       "The PKCS#11 module (provider = pkcs11), e.g. /usr/lib/softhsm/libsofthsm2.so."),
    S("secrets", "token_label", secrets_token_label, "",
      "The label of the token that holds the key (provider = pkcs11)."),
    S("secrets", "key_label", secrets_key_label, "",
      "The label of the AES key in the token that wraps the data key (provider = pkcs11)."),
    TS("secrets", "pin_file", secrets_pin_file, CT_FILE, "", "file",
       "A file holding the token's user PIN, readable only by Gatehouse (provider = pkcs11)."),
    TS("smtp", "host", smtp_host, CT_HOST, "", "host name or IP address",
       "Relay for password reset e-mails; empty = no reset e-mails."),
    I("smtp", "port", smtp_port, 1, 65535, "587",
      "Relay port (587: submission with STARTTLS; 465: implicit TLS)."),
    TS("smtp", "from", smtp_from, CT_EMAIL, "", "e-mail address",
       "Sender address, e.g. gatehouse@example.com (required with a host)."),
    TI("smtp", "starttls", smtp_starttls, CT_TLS, "on", "on | off | implicit",
       "on: STARTTLS required, nothing is sent in clear; off: plain (a relay on this host, "
       "tests); implicit: TLS from the first byte (SMTPS)."),
    S("smtp", "username", smtp_username, "", "SMTP AUTH user; empty = no authentication."),
    S("smtp", "password", smtp_password, "",
      "SMTP AUTH password in clear (start-up warns); prefer password_sealed."),
    S("smtp", "password_sealed", smtp_password_sealed, "",
      "SMTP AUTH password sealed under the data key: the output of `gatehousectl secrets seal "
      "smtp.password` (reads the password on stdin)."),
    I("smtp", "timeout_seconds", smtp_timeout_seconds, 1, 300, "30",
      "Time allowed per e-mail, connection included, in seconds."),
    TS("smtp", "ca_file", smtp_ca_file, CT_FILE, "", "file",
       "PEM CA bundle that verifies the relay's certificate; empty = the system's."),
    /* OWASP password storage cheat sheet: argon2id m=19 MiB, t=2, p=1. */
    I("argon2", "memory_kib", argon2_memory_kib, 8, 4 * 1024 * 1024, "19456",
      "Memory per password hash, in KiB."),
    I("argon2", "iterations", argon2_iterations, 1, 100, "2", "Passes over the memory."),
    I("argon2", "parallelism", argon2_parallelism, 1, 16, "1", "Lanes."),
};

#undef FIELD
#undef S
#undef I
#undef B
#undef TS
#undef TI
#undef X

/* The keys a running server takes from the file again on SIGHUP (`gatehousectl config reload`);
 * every other key is read at start only: a reload that finds it changed logs a warning and keeps
 * the value in force (conf_keep_fixed). A key is in neither list by accident: a new key is "no"
 * until its readers take it from the reloaded configuration (app_live_acquire) and it is named
 * here. [policy] is reloaded as a whole (the stored run-time values still win over it). */
static const char *const reloadable_keys[] = {
    "server.trusted_proxies",
    "server.max_body_bytes",
    "server.session_max_hours",
    "server.access_log",
    "server.log_level",
    "server.log_format",
    "access.default",
    "access.rule",
    "access.header_user",
    "access.header_email",
    "access.header_name",
    "access.header_groups",
    "access.header_role",
    "access.header_auth_method",
    "store.max_size_mb",
    "store.min_free_mb",
    "store.audit_days",
    "sp.clock_skew_seconds",
    "sp.max_response_age_seconds",
    "sp.saml_log_days",
    "sp.metadata_ca_file",
    "sp.acs_refusals_per_minute",
};

static int
key_reloads(const struct conf_key *k)
{
    char name[96];
    snprintf(name, sizeof name, "%s.%s", k->section, k->name);
    for (size_t i = 0; i < sizeof reloadable_keys / sizeof reloadable_keys[0]; i++)
        if (strcmp(reloadable_keys[i], name) == 0)
            return 1;
    return 0;
}

/* What each section is for, printed above its keys. */
static const struct {
    const char *name;
    const char *intro;
} conf_sections[] = {
    {"server", "The HTTP server."},
    {"access",
     "Forward-auth: what GET /auth/verify answers a reverse proxy (nginx auth_request, Caddy "
     "forward_auth, Traefik forwardAuth). Reloaded on SIGHUP and with `gatehousectl config "
     "reload`."},
    {"store", "Where users, sessions and logs are kept."},
    {"sp", "Gatehouse as a SAML service provider."},
    {"secrets", "Secrets at rest."},
    {"smtp",
     "Self-service password reset sends its links through this relay (libcurl). An empty host "
     "turns reset e-mails off: the reset page then tells people to ask an administrator."},
    {"argon2",
     "Password hashing cost (argon2id). Defaults are OWASP's: 19 MiB, 2 passes, 1 lane. Hashes "
     "made with other parameters are upgraded at the user's next successful sign-in."},
    {"policy",
     "Defaults of the run-time policy. Admins change them later with `gatehousectl policy set KEY "
     "VALUE` (stored and audited; a stored value wins over this file)."},
};

static int set_key(struct conf *c, const struct conf_key *k, const char *v, char *msg, size_t len);

struct parse_ctx {
    struct conf *c;
    FILE *f;
    int lineno;     /* line most recently read */
    int error_line; /* line of the first key error */
    char msg[512];
    int failed;
    int smtp_host_line; /* where [smtp] host was set: cross-key errors point there */
    int cookie_domain_line;
    int driver_line, conninfo_line;
};

int
conf_parse_cidr(const char *s, struct cidr *out)
{
    char host[64];
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    if (hl == 0 || hl >= sizeof host)
        return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, host, out->addr) == 1) {
        out->family = AF_INET;
        out->prefix = 32;
    } else if (inet_pton(AF_INET6, host, out->addr) == 1) {
        out->family = AF_INET6;
        out->prefix = 128;
    } else {
        return -1;
    }
    if (slash != NULL) {
        const char *e;
        long long p = str_to_num(slash + 1, 0, out->prefix, &e);
        if (e != NULL)
            return -1;
        out->prefix = (int)p;
    }
    return 0;
}

int
conf_is_trusted_proxy(const struct conf *c, int family, const unsigned char *addr)
{
    return conf_cidr_match(c->trusted_proxies, c->n_trusted_proxies, family, addr);
}

int
conf_cidr_match(const struct cidr *ranges, size_t n, int family, const unsigned char *addr)
{
    for (size_t i = 0; i < n; i++) {
        const struct cidr *r = &ranges[i];
        if (r->family != family)
            continue;
        int bits = r->prefix, k = 0;
        for (; bits >= 8; bits -= 8, k++)
            if (r->addr[k] != addr[k])
                break;
        if (bits >= 8)
            continue;
        if (bits == 0 || ((r->addr[k] ^ addr[k]) & (0xff << (8 - bits)) & 0xff) == 0)
            return 1;
    }
    return 0;
}

static int
set_listen(struct conf *c, const char *v, char *msg, size_t len)
{
    const char *colon = strrchr(v, ':');
    if (colon == NULL || colon == v) {
        snprintf(msg, len, "\"%.64s\" is not host:port", v);
        return -1;
    }
    const char *host = v;
    size_t hl = (size_t)(colon - v);
    if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
        host++;
        hl -= 2;
    }
    const char *e;
    long long port = str_to_num(colon + 1, 1, 65535, &e);
    if (e != NULL || hl == 0 || hl >= sizeof c->listen_host) {
        snprintf(msg, len, "\"%.64s\" is not host:port (port 1-65535)", v);
        return -1;
    }
    char h[256];
    unsigned char buf[16];
    memcpy(h, host, hl);
    h[hl] = '\0';
    if (inet_pton(AF_INET, h, buf) != 1 && inet_pton(AF_INET6, h, buf) != 1) {
        snprintf(msg, len, "\"%.64s\": the host must be an IP address", v);
        return -1;
    }
    memcpy(c->listen_host, h, hl + 1);
    c->listen_port = (int)port;
    return 0;
}

static int
set_url(struct conf *c, const char *v, char *msg, size_t len)
{
    size_t n = strlen(v);
    int https = strncmp(v, "https://", 8) == 0;
    if ((!https && strncmp(v, "http://", 7) != 0) || n >= sizeof c->base_url ||
        n <= (size_t)(https ? 8 : 7) || !str_utf8_clean(v, n, 0) || strchr(v, ' ') ||
        strchr(v, '?') || strchr(v, '#')) {
        snprintf(msg, len, "\"%.64s\" is not an http:// or https:// URL", v);
        return -1;
    }
    while (n > 0 && v[n - 1] == '/')
        n--;
    memcpy(c->base_url, v, n);
    c->base_url[n] = '\0';
    c->base_https = https;
    return 0;
}

static int
set_proxies(struct conf *c, const char *v, char *msg, size_t len)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", v);
    c->n_trusted_proxies = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
        if (c->n_trusted_proxies == CONF_MAX_PROXIES) {
            snprintf(msg, len, "at most %d ranges", CONF_MAX_PROXIES);
            return -1;
        }
        if (conf_parse_cidr(tok, &c->trusted_proxies[c->n_trusted_proxies]) != 0) {
            snprintf(msg, len, "\"%.64s\" is not an address or CIDR range", tok);
            return -1;
        }
        c->n_trusted_proxies++;
    }
    return 0;
}

/* A DNS name (letters, digits, '-', '.') or an IP address; "" turns the feature off. */
static int
set_host(char *out, size_t size, const char *v, char *msg, size_t len)
{
    size_t n = strlen(v);
    unsigned char buf[16];
    int ok = n < size && n <= 253;
    if (ok && inet_pton(AF_INET6, v, buf) != 1) {
        for (size_t i = 0; i < n && ok; i++)
            ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
                 (v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '.';
        ok = ok && (n == 0 || (v[0] != '.' && v[0] != '-'));
    }
    if (!ok) {
        snprintf(msg, len, "\"%.64s\" is not a host name or IP address", v);
        return -1;
    }
    snprintf(out, size, "%s", v);
    return 0;
}

static int
set_email(char *out, size_t size, const char *v, char *msg, size_t len)
{
    struct arena *ar = arena_new();
    char *n = v[0] && ar ? str_email_normalize(ar, v) : NULL;
    int rc = -1;
    if (v[0] == '\0' || (n != NULL && strlen(v) < size)) {
        snprintf(out, size, "%s", v);
        rc = 0;
    } else {
        snprintf(msg, len, "\"%.64s\" is not an e-mail address", v);
    }
    arena_free(ar);
    return rc;
}

/* RFC 9110 token characters. */
static int
set_header(char *out, size_t size, const char *v, char *msg, size_t len)
{
    size_t n = strlen(v);
    int ok = n > 0 && n < size;
    for (size_t i = 0; i < n && ok; i++)
        ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
             (v[i] >= '0' && v[i] <= '9') || strchr("!#$%&'*+-.^_`|~", v[i]) != NULL;
    if (!ok) {
        snprintf(msg, len, "\"%.64s\" is not an HTTP header name", v);
        return -1;
    }
    snprintf(out, size, "%s", v);
    return 0;
}

/* [access] default and rule. The rule set is made at the first key that needs it (no [access]:
 * no rules, default signed_in). */
static int
set_access(struct conf *c, const struct conf_key *k, const char *v, int line, char *msg, size_t len)
{
    if (k->type == CT_ACCESS_RULE && v[0] == '\0')
        return 0;
    if (k->type == CT_ACCESS_DEFAULT && c->access == NULL && strcmp(v, "signed_in") == 0)
        return 0;
    if (c->access == NULL)
        c->access = access_rules_new();
    if (c->access == NULL) {
        snprintf(msg, len, "out of memory");
        return -1;
    }
    if (k->type == CT_ACCESS_DEFAULT)
        return access_set_default(c->access, v, msg, len);
    return access_rules_add(c->access, v, line, msg, len);
}

static int
set_key(struct conf *c, const struct conf_key *k, const char *v, char *msg, size_t len)
{
    char *base = (char *)c;
    const char *e;
    switch (k->type) {
    case CT_STRING:
        if (strlen(v) >= k->size || !str_utf8_clean(v, strlen(v), 0)) {
            snprintf(msg, len, "value is too long or has control characters");
            return -1;
        }
        snprintf(base + k->offset, k->size, "%s", v);
        return 0;
    case CT_INT: {
        long long n = str_to_num(v, k->min, k->max, &e);
        if (e != NULL) {
            snprintf(msg, len, "\"%.40s\" %s (range %lld-%lld)", v, e, k->min, k->max);
            return -1;
        }
        if (k->offset == offsetof(struct conf, max_body_bytes))
            c->max_body_bytes = (long)n;
        else
            *(int *)(base + k->offset) = (int)n;
        return 0;
    }
    case CT_BOOL:
        if (strcasecmp(v, "on") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
            strcasecmp(v, "yes") == 0) {
            *(int *)(base + k->offset) = 1;
        } else if (strcasecmp(v, "off") == 0 || strcasecmp(v, "false") == 0 ||
                   strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0) {
            *(int *)(base + k->offset) = 0;
        } else {
            snprintf(msg, len, "\"%.40s\" is not on or off", v);
            return -1;
        }
        return 0;
    case CT_LISTEN:
        return set_listen(c, v, msg, len);
    case CT_URL:
        return set_url(c, v, msg, len);
    case CT_PROXIES:
        return set_proxies(c, v, msg, len);
    case CT_PROVIDER:
        if (strcmp(v, "file") == 0 || strcmp(v, "pkcs11") == 0) {
            snprintf(c->secrets_provider, sizeof c->secrets_provider, "%s", v);
            return 0;
        }
        snprintf(msg, len, "\"%.40s\" is not file or pkcs11", v);
        return -1;
    case CT_DRIVER:
        if (strcmp(v, "sqlite") == 0 || strcmp(v, "postgres") == 0) {
            snprintf(c->store_driver, sizeof c->store_driver, "%s", v);
            return 0;
        }
        snprintf(msg, len, "\"%.40s\" is not sqlite or postgres", v);
        return -1;
    case CT_NODE:
        if (strlen(v) >= k->size || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789.-_") != strlen(v)) {
            snprintf(msg, len,
                     "\"%.64s\" is not a node name (up to %zu letters, digits, '.', "
                     "'-' or '_')",
                     v, k->size - 1);
            return -1;
        }
        snprintf(base + k->offset, k->size, "%s", v);
        return 0;
    case CT_HOST:
    case CT_COOKIE_DOMAIN:
        if (set_host(base + k->offset, k->size, v, msg, len) != 0)
            return -1;
        for (char *p = base + k->offset; *p; p++)
            if (k->type == CT_COOKIE_DOMAIN && *p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        return 0;
    case CT_HEADER:
        return set_header(base + k->offset, k->size, v, msg, len);
    case CT_ACCESS_DEFAULT:
    case CT_ACCESS_RULE:
        return set_access(c, k, v, 0, msg, len);
    case CT_EMAIL:
        return set_email(base + k->offset, k->size, v, msg, len);
    case CT_FILE:
        if (strlen(v) >= k->size || !str_utf8_clean(v, strlen(v), 0)) {
            snprintf(msg, len, "value is too long or has control characters");
            return -1;
        }
        if (v[0] != '\0' && access(v, R_OK) != 0) {
            snprintf(msg, len, "%.200s: cannot read: %s", v, strerror(errno));
            return -1;
        }
        snprintf(base + k->offset, k->size, "%s", v);
        return 0;
    case CT_HTTP_URL: {
        size_t n = strlen(v);
        size_t scheme = strncmp(v, "https://", 8) == 0 ? 8 : strncmp(v, "http://", 7) == 0 ? 7 : 0;
        if (n > 0 && (scheme == 0 || n <= scheme || n >= k->size || !str_utf8_clean(v, n, 0) ||
                      strpbrk(v, " \"<>#") != NULL)) {
            snprintf(msg, len, "\"%.64s\" is not an http:// or https:// URL", v);
            return -1;
        }
        snprintf(base + k->offset, k->size, "%s", v);
        return 0;
    }
    case CT_TLS:
        if (strcasecmp(v, "on") == 0)
            *(int *)(base + k->offset) = CONF_SMTP_STARTTLS;
        else if (strcasecmp(v, "off") == 0)
            *(int *)(base + k->offset) = CONF_SMTP_PLAIN;
        else if (strcasecmp(v, "implicit") == 0)
            *(int *)(base + k->offset) = CONF_SMTP_IMPLICIT;
        else {
            snprintf(msg, len, "\"%.40s\" is not on, off or implicit", v);
            return -1;
        }
        return 0;
    case CT_LOG_FORMAT:
        if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0) {
            snprintf(msg, len, "\"%.40s\" is not text or json", v);
            return -1;
        }
        *(int *)(base + k->offset) = strcmp(v, "json") == 0 ? LOG_JSON : LOG_TEXT;
        return 0;
    case CT_LEVEL: {
        int l = log_level_parse(v);
        if (l < 0) {
            snprintf(msg, len, "\"%.40s\" is not error, warn, info or debug", v);
            return -1;
        }
        c->log_level = l;
        return 0;
    }
    }
    return -1;
}

static int
on_ini_key(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    if (ctx->failed)
        return 0;
    char msg[400] = "";
    int rc = -1;
    if (strcmp(section, "policy") == 0) {
        const struct setting_def *d = settings_find(name);
        if (d == NULL)
            snprintf(msg, sizeof msg, "unknown key \"%.64s\" in [policy]", name);
        else if (settings_set(&ctx->c->policy, name, value, msg, sizeof msg) == 0)
            rc = 0;
    } else {
        int known_section = 0;
        for (size_t i = 0; i < sizeof conf_keys / sizeof conf_keys[0]; i++) {
            if (strcmp(conf_keys[i].section, section) != 0)
                continue;
            known_section = 1;
            if (strcmp(conf_keys[i].name, name) == 0) {
                enum conf_type t = conf_keys[i].type;
                if (t == CT_ACCESS_DEFAULT || t == CT_ACCESS_RULE)
                    rc = set_access(ctx->c, &conf_keys[i], value, ctx->lineno, msg, sizeof msg);
                else
                    rc = set_key(ctx->c, &conf_keys[i], value, msg, sizeof msg);
                if (t == CT_HOST)
                    ctx->smtp_host_line = ctx->lineno;
                if (conf_keys[i].offset == offsetof(struct conf, tls_cert_file))
                    ctx->c->tls_cert_line = ctx->lineno;
                if (conf_keys[i].offset == offsetof(struct conf, tls_key_file))
                    ctx->c->tls_key_line = ctx->lineno;
                if (t == CT_COOKIE_DOMAIN)
                    ctx->cookie_domain_line = ctx->lineno;
                if (t == CT_DRIVER)
                    ctx->driver_line = ctx->lineno;
                if (conf_keys[i].offset == offsetof(struct conf, store_conninfo))
                    ctx->conninfo_line = ctx->lineno;
                break;
            }
        }
        if (rc != 0 && msg[0] == '\0') {
            if (known_section)
                snprintf(msg, sizeof msg, "unknown key \"%.64s\" in [%.32s]", name, section);
            else
                snprintf(msg, sizeof msg, "unknown section [%.64s]", section);
        }
    }
    if (rc != 0) {
        snprintf(ctx->msg, sizeof ctx->msg, "%s: %s", name, msg);
        ctx->failed = 1;
        ctx->error_line = ctx->lineno;
        return 0;
    }
    return 1;
}

/* Records the first error of a line the reader refuses, and hides the line from inih. */
static void
refuse_line(struct parse_ctx *ctx, char *buf, const char *msg)
{
    if (!ctx->failed) {
        snprintf(ctx->msg, sizeof ctx->msg, "%s", msg);
        ctx->failed = 1;
        ctx->error_line = ctx->lineno;
    }
    buf[0] = '\0';
}

/* Line reader for ini_parse_stream that counts lines, so key errors carry their own line, and
 * refuses what is not a line of text: a NUL byte (which fgets would hide), invalid UTF-8 or a
 * control character, or a line too long for the buffer. */
static char *
read_line(char *buf, int size, void *stream)
{
    struct parse_ctx *ctx = stream;
    int ch = EOF, n = 0, nul = 0;
    while (n < size - 1 && (ch = fgetc(ctx->f)) != EOF) {
        nul |= ch == '\0';
        buf[n++] = (char)ch;
        if (ch == '\n')
            break;
    }
    if (n == 0)
        return NULL;
    buf[n] = '\0';
    ctx->lineno++;
    if (buf[n - 1] != '\n' && ch != EOF && n == size - 1) {
        /* A longer line would be cut silently: refuse it instead. */
        while ((ch = fgetc(ctx->f)) != EOF && ch != '\n')
            ;
        char msg[64];
        snprintf(msg, sizeof msg, "line is longer than %d characters", size - 2);
        refuse_line(ctx, buf, msg);
    } else if (nul || !str_utf8_clean(buf, (size_t)n, 1)) {
        refuse_line(ctx, buf,
                    "not a line of text (a NUL byte, invalid UTF-8 or a control "
                    "character): is this a configuration file?");
    }
    return buf;
}

/* [store]: driver = postgres needs a conninfo, and a conninfo is only read with it. */
static int
check_store(const struct conf *c, const struct parse_ctx *ctx, char *err, size_t errlen)
{
    int pg = strcmp(c->store_driver, "postgres") == 0;
    if (pg && c->store_conninfo[0] == '\0') {
        snprintf(err, errlen,
                 "%s:%d: driver: postgres needs [store] conninfo (a libpq connection string, e.g. "
                 "host=db.example.com dbname=gatehouse user=gatehouse)",
                 c->path, ctx->driver_line);
        return -1;
    }
    if (!pg && c->store_conninfo[0] != '\0') {
        snprintf(err, errlen,
                 "%s:%d: conninfo: only read with driver = postgres (the store is the SQLite "
                 "file at path)",
                 c->path, ctx->conninfo_line);
        return -1;
    }
    return 0;
}

/* [server] node_name left empty: the host name (up to what a node name may not hold). */
static void
default_node_name(struct conf *c)
{
    if (c->node_name[0] != '\0')
        return;
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
        snprintf(host, sizeof host, "gatehouse");
    size_t n = strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");
    if (n == 0)
        snprintf(host, sizeof host, "gatehouse");
    else
        host[n] = '\0';
    snprintf(c->node_name, sizeof c->node_name, "%.*s", (int)sizeof c->node_name - 1, host);
}

const char *
conf_store_location(const struct conf *c, char *buf, size_t len)
{
    if (strcmp(c->store_driver, "postgres") == 0)
        snprintf(buf, len, "postgres:%s", c->store_conninfo);
    else
        snprintf(buf, len, "%s", c->store_path);
    return buf;
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
    snprintf(c->path, sizeof c->path, "%s", path);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    struct parse_ctx ctx = {.c = c, .f = f};
    int line = ini_parse_stream(read_line, &ctx, on_ini_key, &ctx);
    int read_errno = ferror(f) ? errno : 0;
    fclose(f);
    if (read_errno != 0) {
        /* e.g. a folder: fopen succeeds, reading fails. */
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(read_errno));
        return -1;
    }
    if (line == 0 && !ctx.failed && c->smtp_host[0] != '\0' && c->smtp_from[0] == '\0') {
        snprintf(err, errlen, "%s:%d: host: [smtp] from must be set too (the sender address)", path,
                 ctx.smtp_host_line);
        return -1;
    }
    if (line == 0 && !ctx.failed && c->smtp_password[0] != '\0' &&
        c->smtp_password_sealed[0] != '\0') {
        snprintf(err, errlen, "%s: [smtp] set password or password_sealed, not both", path);
        return -1;
    }
    if (line == 0 && !ctx.failed && (c->tls_cert_file[0] == '\0') != (c->tls_key_file[0] == '\0')) {
        snprintf(err, errlen, "%s:%d: %s: set tls_cert_file and tls_key_file together", path,
                 c->tls_cert_file[0] ? c->tls_cert_line : c->tls_key_line,
                 c->tls_cert_file[0] ? "tls_cert_file" : "tls_key_file");
        return -1;
    }
    if (line == 0 && !ctx.failed && c->cookie_domain[0] != '\0') {
        char host[256], msg[400];
        conf_base_host(c, host, sizeof host);
        if (conf_cookie_domain_check(c->cookie_domain, host, msg, sizeof msg) != 0) {
            snprintf(err, errlen, "%s:%d: cookie_domain: %s", path, ctx.cookie_domain_line, msg);
            return -1;
        }
    }
    if (line == 0 && !ctx.failed && check_store(c, &ctx, err, errlen) != 0)
        return -1;
    if (line == 0 && !ctx.failed) {
        default_node_name(c);
        return 0;
    }
    if (line < 0) {
        snprintf(err, errlen, "%s: cannot parse (%d)", path, line);
        return -1;
    }
    /* After our first error inih sees every later key as failing too: the first error wins. */
    if (ctx.failed && (line == 0 || ctx.error_line <= line))
        line = ctx.error_line;
    if (ctx.failed && ctx.error_line == line)
        snprintf(err, errlen, "%s:%d: %s", path, line, ctx.msg);
    else
        snprintf(err, errlen, "%s:%d: syntax error: expected [section] or key = value", path, line);
    return -1;
}

void
conf_defaults(struct conf *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < sizeof conf_keys / sizeof conf_keys[0]; i++) {
        char msg[400];
        /* A default that does not parse is a bug in the table: test_conf and `gatehouse -t`
         * of the generated file catch it; say so rather than start with a zero. */
        if (set_key(c, &conf_keys[i], conf_keys[i].def, msg, sizeof msg) != 0)
            fprintf(stderr, "gatehouse: built-in default of [%s] %s: %s\n", conf_keys[i].section,
                    conf_keys[i].name, msg);
    }
    policy_defaults(&c->policy);
}

/* The value of key k in c as text (for the reload's warnings); the X keys by their fields. */
static void
key_value_text(const struct conf *c, const struct conf_key *k, char *out, size_t len)
{
    const char *base = (const char *)c;
    if (k->type == CT_LISTEN)
        snprintf(out, len, "%s:%d", c->listen_host, c->listen_port);
    else if (k->type == CT_URL)
        snprintf(out, len, "%s", c->base_url);
    else if (k->type == CT_DRIVER)
        snprintf(out, len, "%s", c->store_driver);
    else if (k->size > 0)
        snprintf(out, len, "%.*s", (int)k->size, base + k->offset);
    else if (k->offset == offsetof(struct conf, max_body_bytes))
        snprintf(out, len, "%ld", c->max_body_bytes);
    else
        snprintf(out, len, "%d", *(const int *)(const void *)(base + k->offset));
}

/* Sets key k of to to its value in from (the fields key_value_text names). */
static void
key_copy(struct conf *to, const struct conf *from, const struct conf_key *k)
{
    if (k->type == CT_LISTEN) {
        memcpy(to->listen_host, from->listen_host, sizeof to->listen_host);
        to->listen_port = from->listen_port;
    } else if (k->type == CT_URL) {
        memcpy(to->base_url, from->base_url, sizeof to->base_url);
        to->base_https = from->base_https;
    } else if (k->type == CT_DRIVER) {
        memcpy(to->store_driver, from->store_driver, sizeof to->store_driver);
    } else if (k->size > 0) {
        memcpy((char *)to + k->offset, (const char *)from + k->offset, k->size);
    } else if (k->offset == offsetof(struct conf, max_body_bytes)) {
        to->max_body_bytes = from->max_body_bytes;
    } else {
        memcpy((char *)to + k->offset, (const char *)from + k->offset, sizeof(int));
    }
}

int
conf_keep_fixed(struct conf *fresh, const struct conf *in_force)
{
    int n = 0;
    for (size_t i = 0; i < sizeof conf_keys / sizeof conf_keys[0]; i++) {
        const struct conf_key *k = &conf_keys[i];
        if (key_reloads(k))
            continue;
        /* The password in force was opened from password_sealed (compared on its own). */
        if (k->offset == offsetof(struct conf, smtp_password) &&
            in_force->smtp_password_sealed[0] != '\0' && fresh->smtp_password[0] == '\0') {
            key_copy(fresh, in_force, k);
            continue;
        }
        char now[CONF_PATH_MAX + 16], file[CONF_PATH_MAX + 16];
        key_value_text(in_force, k, now, sizeof now);
        key_value_text(fresh, k, file, sizeof file);
        if (strcmp(now, file) == 0)
            continue;
        /* Secrets stay out of the log: only that the key changed. */
        int secret = k->offset == offsetof(struct conf, smtp_password) ||
                     k->offset == offsetof(struct conf, smtp_password_sealed);
        struct arena *ar = arena_new();
        const char *a = ar && !secret ? str_log_escape(ar, now, 200) : NULL;
        const char *b = ar && !secret ? str_log_escape(ar, file, 200) : NULL;
        log_warn("reload: [%s] %s changed in %s but is read at start only: the value in force "
                 "stays until a restart in_force=\"%s\" in_file=\"%s\"",
                 k->section, k->name, fresh->path, a ? a : "(hidden)", b ? b : "(hidden)");
        arena_free(ar);
        key_copy(fresh, in_force, k);
        n++;
    }
    return n;
}

size_t
conf_key_count(void)
{
    return sizeof conf_keys / sizeof conf_keys[0];
}

int
conf_key_info(size_t i, struct conf_key_info *out)
{
    if (i >= conf_key_count())
        return -1;
    const struct conf_key *k = &conf_keys[i];
    out->section = k->section;
    out->name = k->name;
    out->def = k->def;
    out->desc = k->desc;
    out->reload = key_reloads(k);
    if (k->values != NULL)
        snprintf(out->values, sizeof out->values, "%s", k->values);
    else
        snprintf(out->values, sizeof out->values, "%lld - %lld", k->min, k->max);
    return 0;
}

static const char *
section_intro(const char *name)
{
    for (size_t i = 0; i < sizeof conf_sections / sizeof conf_sections[0]; i++)
        if (strcmp(conf_sections[i].name, name) == 0)
            return conf_sections[i].intro;
    return NULL;
}

/* Writes text as "; " comment lines of at most ~100 columns. */
static void
print_comment(FILE *f, const char *text)
{
    const char *p = text;
    while (*p != '\0') {
        size_t n = strlen(p), cut = n;
        if (n > 96) {
            cut = 96;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = n;
        }
        fprintf(f, "; %.*s\n", (int)cut, p);
        p += cut;
        while (*p == ' ')
            p++;
    }
}

/* troff: a line must not start with '.' or '\''; backslashes are doubled. */
static void
print_roff(FILE *f, const char *text)
{
    if (text[0] == '.' || text[0] == '\'')
        fputs("\\&", f);
    for (const char *p = text; *p; p++) {
        if (*p == '\\')
            fputs("\\e", f);
        else if (*p == '-')
            fputs("\\-", f);
        else
            fputc(*p, f);
    }
    fputc('\n', f);
}

static void
print_key(FILE *f, enum conf_print_format fmt, const char *section, const char *name,
          const char *def, const char *values, const char *desc, int reload)
{
    if (fmt == CONF_PRINT_RELOAD) {
        fprintf(f, "| `[%s] %s` | %s |\n", section, name, reload ? "yes" : "no");
        return;
    }
    if (fmt == CONF_PRINT_INI) {
        char text[1024];
        snprintf(text, sizeof text, "%s%s%s%s Reloaded on SIGHUP: %s.", desc,
                 values[0] ? " Values: " : "", values, values[0] ? "." : "", reload ? "yes" : "no");
        print_comment(f, text);
        fprintf(f, "%s =%s%s\n", name, def[0] ? " " : "", def);
        return;
    }
    fprintf(f, ".TP\n.BI \"%s = \" \"", name);
    for (const char *p = def; *p; p++) {
        if (*p == '-' || *p == '\\')
            fputc('\\', f);
        if (*p == '"')
            fputs("\\(dq", f);
        else
            fputc(*p == '\\' ? 'e' : *p, f);
    }
    fputs("\"\n", f);
    print_roff(f, desc);
    if (values[0] != '\0') {
        fputs("Values: ", f);
        print_roff(f, values);
    }
    fprintf(f, "Reloaded on SIGHUP: %s.\n", reload ? "yes" : "no");
}

static void
print_section(FILE *f, enum conf_print_format fmt, const char *name)
{
    const char *intro = section_intro(name);
    if (fmt == CONF_PRINT_RELOAD)
        return;
    if (fmt == CONF_PRINT_INI) {
        fprintf(f, "\n[%s]\n", name);
        if (intro != NULL)
            print_comment(f, intro);
        return;
    }
    fprintf(f, ".SS [%s]\n", name);
    if (intro != NULL)
        print_roff(f, intro);
}

void
conf_print(FILE *f, enum conf_print_format fmt)
{
    if (fmt == CONF_PRINT_INI)
        fputs("; Gatehouse configuration (INI). Every key is shown with its default.\n"
              "; An unknown key, a bad value or an unreadable file stops start-up with FILE:LINE: "
              "message.\n"
              "; Check a file without starting: gatehouse -c FILE -t\n"
              "; Relative paths are relative to the directory the server is started from.\n"
              "; This file is written by `gatehouse -p conf` from the table the parser reads.\n"
              "; SIGHUP (gatehousectl config reload) re-reads it: each key says whether a running\n"
              "; server takes a change then; the others keep their value until a restart.\n",
              f);
    if (fmt == CONF_PRINT_RELOAD)
        fputs("| key | reloaded on SIGHUP |\n| --- | --- |\n", f);
    const char *cur = "";
    for (size_t i = 0; i < sizeof conf_keys / sizeof conf_keys[0]; i++) {
        struct conf_key_info k;
        conf_key_info(i, &k);
        if (strcmp(k.section, cur) != 0)
            print_section(f, fmt, k.section);
        cur = k.section;
        print_key(f, fmt, k.section, k.name, k.def, k.values, k.desc, k.reload);
    }
    if (fmt == CONF_PRINT_RELOAD) {
        fputs("| `[policy]` every key | yes (a value stored at run time still wins) |\n", f);
        return;
    }
    print_section(f, fmt, "policy");
    size_t n;
    const struct setting_def *d = settings_table(&n);
    for (size_t i = 0; i < n; i++) {
        char def[32], values[128];
        settings_format(&d[i], d[i].def, def, sizeof def);
        settings_range_text(&d[i], values, sizeof values);
        print_key(f, fmt, "policy", d[i].name, def, values, d[i].description, 1);
    }
}

void
conf_free(struct conf *c)
{
    access_rules_free(c->access);
    c->access = NULL;
}

void
conf_base_host(const struct conf *c, char *out, size_t len)
{
    const char *h = c->base_url + (c->base_https ? 8 : 7);
    size_t n = strcspn(h, ":/");
    if (h[0] == '[')
        n = strcspn(h, "]") + 1;
    snprintf(out, len, "%.*s", (int)n, h);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
}

/* Public suffixes under which a cookie would reach other people's sites: the common ones of the
 * Public Suffix List (publicsuffix.org); single labels ("com", "localhost") are refused too. */
static const char *const PUBLIC_SUFFIXES[] = {
    "co.uk",
    "org.uk",
    "ac.uk",
    "gov.uk",
    "ltd.uk",
    "plc.uk",
    "me.uk",
    "net.uk",
    "com.au",
    "net.au",
    "org.au",
    "edu.au",
    "gov.au",
    "co.nz",
    "org.nz",
    "co.jp",
    "ne.jp",
    "or.jp",
    "ac.jp",
    "co.in",
    "net.in",
    "org.in",
    "com.br",
    "net.br",
    "org.br",
    "com.cn",
    "net.cn",
    "org.cn",
    "com.mx",
    "com.ar",
    "com.tr",
    "co.za",
    "co.kr",
    "or.kr",
    "com.sg",
    "com.hk",
    "com.tw",
    "co.il",
    "com.es",
    "com.pl",
    "github.io",
    "gitlab.io",
    "herokuapp.com",
    "appspot.com",
    "blogspot.com",
    "cloudfront.net",
    "azurewebsites.net",
    "netlify.app",
    "vercel.app",
    "pages.dev",
    "workers.dev",
    "firebaseapp.com",
    "web.app",
    "onrender.com",
    "fly.dev",
    "s3.amazonaws.com",
    "elasticbeanstalk.com",
    "now.sh",
    "surge.sh",
    "ngrok.io",
    "ngrok-free.app",
    "duckdns.org",
    "dyndns.org",
    "no-ip.org",
    "glitch.me",
    "repl.co",
    "nip.io",
    "sslip.io",
    "localhost.run",
    "eu.org",
};

int
conf_cookie_domain_check(const char *domain, const char *base_host, char *msg, size_t len)
{
    if (strchr(domain, '.') == NULL) {
        snprintf(msg, len,
                 "\"%.64s\" is a single label (a top-level domain or a local name): "
                 "a cookie for it would reach other sites",
                 domain);
        return -1;
    }
    for (size_t i = 0; i < sizeof PUBLIC_SUFFIXES / sizeof PUBLIC_SUFFIXES[0]; i++)
        if (strcasecmp(domain, PUBLIC_SUFFIXES[i]) == 0) {
            snprintf(msg, len,
                     "\"%.64s\" is a public suffix: a cookie for it would reach "
                     "other people's sites",
                     domain);
            return -1;
        }
    if (!str_host_within(base_host, domain)) {
        snprintf(msg, len, "\"%.64s\" does not contain the base URL's host %.200s", domain,
                 base_host);
        return -1;
    }
    return 0;
}
