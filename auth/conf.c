#include "conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

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
    CT_HOST,  /* a DNS name or an IP address; "" allowed */
    CT_EMAIL, /* an e-mail address; "" allowed */
    CT_TLS,   /* on | off | implicit (enum conf_smtp_tls) */
    CT_FILE,  /* a path to a readable file; "" allowed */
};

struct conf_key {
    const char *section;
    const char *name;
    enum conf_type type;
    size_t offset;
    size_t size; /* strings: buffer size */
    long long min, max;
};

#define S(sec, key, field)                                                                         \
    {                                                                                              \
        sec, key, CT_STRING, offsetof(struct conf, field), sizeof(((struct conf *)0)->field), 0, 0 \
    }
#define I(sec, key, field, lo, hi)                                                                 \
    {                                                                                              \
        sec, key, CT_INT, offsetof(struct conf, field), 0, lo, hi                                  \
    }
#define B(sec, key, field)                                                                         \
    {                                                                                              \
        sec, key, CT_BOOL, offsetof(struct conf, field), 0, 0, 1                                   \
    }
/* A string checked as `type` (CT_HOST, CT_EMAIL), or an int field parsed as `type` (CT_TLS). */
#define TS(sec, key, field, type)                                                                  \
    {                                                                                              \
        sec, key, type, offsetof(struct conf, field), sizeof(((struct conf *)0)->field), 0, 0      \
    }
#define TI(sec, key, field, type)                                                                  \
    {                                                                                              \
        sec, key, type, offsetof(struct conf, field), 0, 0, 0                                      \
    }

static const struct conf_key conf_keys[] = {
    {"server", "listen", CT_LISTEN, 0, 0, 0, 0},
    {"server", "base_url", CT_URL, 0, 0, 0, 0},
    {"server", "trusted_proxies", CT_PROXIES, 0, 0, 0, 0},
    I("server", "threads", threads, 0, 64),
    I("server", "max_body_bytes", max_body_bytes, 1024, 16 * 1024 * 1024),
    S("server", "templates", templates_dir),
    I("server", "session_max_hours", session_max_hours, 1, 720),
    B("server", "access_log", access_log),
    {"server", "log_level", CT_LEVEL, offsetof(struct conf, log_level), 0, 0, 0},
    {"store", "driver", CT_DRIVER, 0, 0, 0, 0},
    S("store", "path", store_path),
    S("store", "conninfo", store_conninfo),
    S("sp", "entity_id", sp_entity_id),
    S("sp", "key_file", sp_key_file),
    S("sp", "cert_file", sp_cert_file),
    I("sp", "clock_skew_seconds", sp_clock_skew_seconds, 0, 3600),
    I("sp", "saml_log_days", saml_log_days, 1, 3650),
    S("secrets", "key_file", secrets_key_file),
    TS("smtp", "host", smtp_host, CT_HOST),
    I("smtp", "port", smtp_port, 1, 65535),
    TS("smtp", "from", smtp_from, CT_EMAIL),
    TI("smtp", "starttls", smtp_starttls, CT_TLS),
    S("smtp", "username", smtp_username),
    S("smtp", "password", smtp_password),
    I("smtp", "timeout_seconds", smtp_timeout_seconds, 1, 300),
    TS("smtp", "ca_file", smtp_ca_file, CT_FILE),
    I("argon2", "memory_kib", argon2_memory_kib, 8, 4 * 1024 * 1024),
    I("argon2", "iterations", argon2_iterations, 1, 100),
    I("argon2", "parallelism", argon2_parallelism, 1, 16),
};

#undef S
#undef I
#undef B
#undef TS
#undef TI

struct parse_ctx {
    struct conf *c;
    FILE *f;
    int lineno;     /* line most recently read */
    int error_line; /* line of the first key error */
    char msg[512];
    int failed;
    int smtp_host_line; /* where [smtp] host was set: cross-key errors point there */
};

void
conf_defaults(struct conf *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen_host, sizeof c->listen_host, "127.0.0.1");
    c->listen_port = 8080;
    snprintf(c->base_url, sizeof c->base_url, "http://127.0.0.1:8080");
    c->threads = 0;
    c->max_body_bytes = 1024 * 1024;
    snprintf(c->templates_dir, sizeof c->templates_dir, "templates");
    c->session_max_hours = 12;
    c->access_log = 1;
    c->log_level = LOG_LEVEL_INFO;
    snprintf(c->store_driver, sizeof c->store_driver, "sqlite");
    snprintf(c->store_path, sizeof c->store_path, "var/gatehouse.db");
    snprintf(c->sp_key_file, sizeof c->sp_key_file, "var/sp-key.pem");
    snprintf(c->sp_cert_file, sizeof c->sp_cert_file, "var/sp-cert.pem");
    c->sp_clock_skew_seconds = 180;
    c->saml_log_days = 180;
    snprintf(c->secrets_key_file, sizeof c->secrets_key_file, "var/master.key");
    c->smtp_port = 587; /* RFC 6409 message submission */
    c->smtp_starttls = CONF_SMTP_STARTTLS;
    c->smtp_timeout_seconds = 30;
    /* OWASP password storage cheat sheet: argon2id m=19 MiB, t=2, p=1. */
    c->argon2_memory_kib = 19 * 1024;
    c->argon2_iterations = 2;
    c->argon2_parallelism = 1;
    policy_defaults(&c->policy);
}

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
    for (size_t i = 0; i < c->n_trusted_proxies; i++) {
        const struct cidr *r = &c->trusted_proxies[i];
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
    case CT_DRIVER:
        if (strcmp(v, "sqlite") == 0) {
            snprintf(c->store_driver, sizeof c->store_driver, "%s", v);
            return 0;
        }
        if (strcmp(v, "postgres") == 0) {
            snprintf(msg, len, "the postgres driver is not built into this binary yet; use sqlite");
            return -1;
        }
        snprintf(msg, len, "\"%.40s\" is not sqlite or postgres", v);
        return -1;
    case CT_HOST:
        return set_host(base + k->offset, k->size, v, msg, len);
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
                rc = set_key(ctx->c, &conf_keys[i], value, msg, sizeof msg);
                if (conf_keys[i].type == CT_HOST)
                    ctx->smtp_host_line = ctx->lineno;
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
    if (line == 0 && !ctx.failed)
        return 0;
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
