#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct access_rules *
access_rules_new(void)
{
    return calloc(1, sizeof(struct access_rules));
}

static void
rule_free(struct access_rule *r)
{
    free(r->text);
    free(r->host);
    free(r->path);
    free(r->roles);
    free(r->groups);
    free(r->idp);
}

void
access_rules_free(struct access_rules *rs)
{
    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->n; i++)
        rule_free(&rs->rule[i]);
    free(rs->rule);
    free(rs);
}

int
access_set_default(struct access_rules *rs, const char *v, char *msg, size_t len)
{
    if (strcmp(v, "deny") == 0)
        rs->default_deny = 1;
    else if (strcmp(v, "signed_in") == 0)
        rs->default_deny = 0;
    else {
        snprintf(msg, len, "\"%.40s\" is not deny or signed_in", v);
        return -1;
    }
    return 0;
}

static int
name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* "*", "*.suffix" or a host name; lower-cased in place. */
static int
valid_host(char *h)
{
    for (char *p = h; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    if (strcmp(h, "*") == 0)
        return 1;
    const char *name = strncmp(h, "*.", 2) == 0 ? h + 2 : h;
    size_t n = strlen(name);
    if (n == 0 || n > 253 || name[0] == '.' || name[0] == '-' || name[n - 1] == '.' ||
        strstr(name, "..") != NULL)
        return 0;
    for (const char *p = name; *p; p++)
        if (!name_char(*p))
            return 0;
    return 1;
}

/* A comma-separated list of non-empty items of printable ASCII without spaces. */
static int
valid_list(const char *v)
{
    if (v[0] == '\0' || v[0] == ',' || v[strlen(v) - 1] == ',' || strstr(v, ",,") != NULL)
        return 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return 0;
    return 1;
}

static char *
dup_or_null(const char *s, int *oom)
{
    char *d = strdup(s);
    *oom |= d == NULL;
    return d;
}

/* One policy word into r; -1 with a message. */
static int
add_policy(struct access_rule *r, const char *w, int *oom, char *msg, size_t len)
{
    static const struct {
        const char *word; /* "roles=" takes a value */
        unsigned flag;
    } words[] = {
        {"bypass", ACCESS_BYPASS}, {"deny", ACCESS_DENY},    {"signed_in", ACCESS_SIGNED_IN},
        {"mfa", ACCESS_MFA},       {"roles=", ACCESS_ROLES}, {"groups=", ACCESS_GROUPS},
        {"idp=", ACCESS_IDP}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t n = strlen(words[i].word);
        int takes = words[i].word[n - 1] == '=';
        if (takes ? strncmp(w, words[i].word, n) != 0 : strcmp(w, words[i].word) != 0)
            continue;
        if (r->flags & words[i].flag) {
            snprintf(msg, len, "\"%.*s\" is given twice", (int)(takes ? n - 1 : n), w);
            return -1;
        }
        r->flags |= words[i].flag;
        if (!takes)
            return 0;
        const char *v = w + n;
        if (words[i].flag == ACCESS_IDP ? v[0] == '\0' : !valid_list(v)) {
            snprintf(msg, len, "\"%.64s\": write %sa,b (no spaces or empty names)", w,
                     words[i].word);
            return -1;
        }
        char **slot = words[i].flag == ACCESS_ROLES    ? &r->roles
                      : words[i].flag == ACCESS_GROUPS ? &r->groups
                                                       : &r->idp;
        *slot = dup_or_null(v, oom);
        return 0;
    }
    snprintf(msg, len,
             "unknown policy \"%.64s\" (bypass, deny, signed_in, roles=a,b, groups=a,b, "
             "idp=ENTITY_ID, mfa)",
             w);
    return -1;
}

static int
parse_rule(struct access_rule *r, char *buf, int *oom, char *msg, size_t len)
{
    char *save = NULL;
    char *host = strtok_r(buf, " \t", &save);
    char *path = host ? strtok_r(NULL, " \t", &save) : NULL;
    if (host == NULL || path == NULL) {
        snprintf(msg, len, "write HOST PATH POLICY... (e.g. app.example.com / signed_in)");
        return -1;
    }
    if (!valid_host(host)) {
        snprintf(msg, len, "\"%.64s\" is not a host name, *.suffix or *", host);
        return -1;
    }
    char norm[ACCESS_PATH_MAX];
    if (access_path_normalize(path, norm, sizeof norm) != 0 || strcmp(norm, path) != 0 ||
        strpbrk(path, "?#%") != NULL) {
        snprintf(msg, len,
                 "\"%.64s\" is not a normalised path (one leading '/', no '.' or '..' segments, "
                 "'//', '%%', '?' or '#')",
                 path);
        return -1;
    }
    r->host = dup_or_null(host, oom);
    r->path = dup_or_null(path, oom);
    int any = 0;
    for (char *w = strtok_r(NULL, " \t", &save); w; w = strtok_r(NULL, " \t", &save), any = 1)
        if (add_policy(r, w, oom, msg, len) != 0)
            return -1;
    if (!any) {
        snprintf(msg, len,
                 "no policy after the path (bypass, deny, signed_in, roles=, groups=, "
                 "idp=, mfa)");
        return -1;
    }
    unsigned alone = r->flags & (ACCESS_BYPASS | ACCESS_DENY);
    if (alone && r->flags != alone) {
        snprintf(msg, len, "%s stands alone: it cannot be combined with other policies",
                 (r->flags & ACCESS_BYPASS) ? "bypass" : "deny");
        return -1;
    }
    if (!alone)
        r->flags |= ACCESS_SIGNED_IN;
    return 0;
}

int
access_rules_add(struct access_rules *rs, const char *text, int line, char *msg, size_t len)
{
    while (*text == ' ' || *text == '\t')
        text++;
    if (strlen(text) >= ACCESS_RULE_MAX) {
        snprintf(msg, len, "the rule is longer than %d bytes", ACCESS_RULE_MAX - 1);
        return -1;
    }
    if (rs->n == ACCESS_MAX_RULES) {
        snprintf(msg, len, "at most %d rules", ACCESS_MAX_RULES);
        return -1;
    }
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        struct access_rule *grown = realloc(rs->rule, cap * sizeof *grown);
        if (grown == NULL) {
            snprintf(msg, len, "out of memory");
            return -1;
        }
        rs->rule = grown;
        rs->cap = cap;
    }
    struct access_rule r = {.line = line};
    char buf[ACCESS_RULE_MAX];
    snprintf(buf, sizeof buf, "%s", text);
    int oom = 0;
    r.text = dup_or_null(text, &oom);
    if (parse_rule(&r, buf, &oom, msg, len) != 0 || oom) {
        if (oom)
            snprintf(msg, len, "out of memory");
        rule_free(&r);
        return -1;
    }
    rs->rule[rs->n++] = r;
    return 0;
}

static int
host_matches(const char *pattern, const char *host)
{
    if (strcmp(pattern, "*") == 0)
        return 1;
    if (strncmp(pattern, "*.", 2) != 0)
        return strcmp(pattern, host) == 0;
    /* "*.example.com": names under example.com, not example.com itself. */
    size_t hl = strlen(host), sl = strlen(pattern + 1); /* ".example.com" */
    return hl > sl && strcmp(host + hl - sl, pattern + 1) == 0;
}

static int
path_matches(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0)
        return 0;
    return prefix[n - 1] == '/' || path[n] == '\0' || path[n] == '/';
}

const struct access_rule *
access_match(const struct access_rules *rs, const char *host, const char *path)
{
    for (size_t i = 0; i < rs->n; i++)
        if (host_matches(rs->rule[i].host, host) && path_matches(rs->rule[i].path, path))
            return &rs->rule[i];
    return NULL;
}

/* Whether one of the comma-separated items of list equals one of the items of have, which are
 * separated by sep. */
static int
list_meets(const char *list, const char *have, char sep)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        for (const char *h = have; *h;) {
            size_t m = strcspn(h, (char[]){sep, '\0'});
            if (m == n && strncmp(p, h, n) == 0)
                return 1;
            h += m + (h[m] != '\0');
        }
        p += n + (p[n] != '\0');
    }
    return 0;
}

/* Names the rule (or the default) for out->why. */
static const char *
rule_name(const struct access_rule *r, char *buf, size_t len)
{
    if (r == NULL)
        return "no rule matches: [access] default";
    snprintf(buf, len, "rule at line %d (%.300s)", r->line, r->text);
    return buf;
}

/* The first condition of rule r that subject s fails, or NULL when s meets them all. */
static const char *
failed_condition(const struct access_rule *r, const struct access_subject *s, char *buf, size_t len)
{
    const char *groups = s->groups ? s->groups : "";
    const char *role = s->role ? s->role : "";
    if ((r->flags & ACCESS_ROLES) && !list_meets(r->roles, role, '\n')) {
        snprintf(buf, len, "role %.40s is not one of %.200s", role, r->roles);
        return buf;
    }
    /* Groups hold the IdP's groups and the role, as Remote-Groups lists them. */
    if ((r->flags & ACCESS_GROUPS) && !list_meets(r->groups, groups, '\n') &&
        !list_meets(r->groups, role, '\n')) {
        snprintf(buf, len, "none of the person's groups is one of %.200s", r->groups);
        return buf;
    }
    if ((r->flags & ACCESS_IDP) && strcmp(s->idp ? s->idp : "", r->idp) != 0) {
        snprintf(buf, len, "the session did not come from the IdP %.200s", r->idp);
        return buf;
    }
    if ((r->flags & ACCESS_MFA) && !s->mfa)
        return "this session was not signed in with a second factor (mfa)";
    return NULL;
}

void
access_decide(const struct access_rules *rs, const char *host, const char *path,
              const struct access_subject *s, struct access_decision *out)
{
    memset(out, 0, sizeof *out);
    const struct access_rule *r = access_match(rs, host, path);
    out->rule = r;
    unsigned flags = r ? r->flags : (rs->default_deny ? ACCESS_DENY : ACCESS_SIGNED_IN);
    char buf[400], cond[260];
    const char *name = rule_name(r, buf, sizeof buf);
    if (flags & ACCESS_BYPASS) {
        out->verdict = ACCESS_ALLOW;
        out->bypass = 1;
        snprintf(out->why, sizeof out->why, "allowed without sign-in (bypass): %s", name);
    } else if (flags & ACCESS_DENY) {
        out->verdict = ACCESS_FORBID;
        snprintf(out->why, sizeof out->why, "refused to everyone (deny): %s", name);
    } else if (!s->signed_in) {
        out->verdict = ACCESS_SIGN_IN;
        snprintf(out->why, sizeof out->why, "sign-in needed: %s", name);
    } else {
        const char *failed = r ? failed_condition(r, s, cond, sizeof cond) : NULL;
        out->verdict = failed ? ACCESS_FORBID : ACCESS_ALLOW;
        if (failed)
            snprintf(out->why, sizeof out->why, "refused: %.250s: %.250s", name, failed);
        else
            snprintf(out->why, sizeof out->why, "allowed: %s", name);
    }
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends the segment seg[0..n) to out (at *o) as dot-segment removal says (RFC 3986 5.2.4). */
static int
push_segment(char *out, size_t len, size_t *o, const char *seg, size_t n)
{
    if (n == 0 || (n == 1 && seg[0] == '.'))
        return 0;
    if (n == 2 && seg[0] == '.' && seg[1] == '.') {
        while (*o > 0 && out[*o - 1] != '/')
            (*o)--;
        if (*o > 0)
            (*o)--; /* the slash before the dropped segment */
        return 0;
    }
    if (*o + 1 + n >= len)
        return -1;
    out[(*o)++] = '/';
    memcpy(out + *o, seg, n);
    *o += n;
    return 0;
}

int
access_path_normalize(const char *in, char *out, size_t len)
{
    if (in == NULL || in[0] != '/' || len < 2)
        return -1;
    size_t n = strcspn(in, "?#");
    if (n >= ACCESS_PATH_MAX)
        return -1;
    char dec[ACCESS_PATH_MAX];
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            int hi = hexval(in[i + 1]), lo = hi < 0 ? -1 : hexval(in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return -1;
        dec[d++] = (char)c;
    }
    dec[d] = '\0';
    size_t o = 0;
    int trailing = d > 1 && dec[d - 1] == '/';
    for (const char *p = dec; *p;) {
        while (*p == '/')
            p++;
        size_t s = strcspn(p, "/");
        if (push_segment(out, len, &o, p, s) != 0)
            return -1;
        p += s;
    }
    /* "/a/" stays "/a/", and "/a/.." is "/". */
    if (o == 0 || (trailing && out[o - 1] != '/')) {
        if (o + 1 >= len)
            return -1;
        out[o++] = '/';
    }
    out[o] = '\0';
    return 0;
}
