#include "str.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"

long long
str_to_num(const char *s, long long min, long long max, const char **errstr)
{
    *errstr = "is not a number";
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return 0;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0')
        return 0;
    if (errno == ERANGE || v < min) {
        *errstr = (errno == ERANGE && v == LLONG_MAX) ? "is too large" : "is too small";
        return 0;
    }
    if (v > max) {
        *errstr = "is too large";
        return 0;
    }
    *errstr = NULL;
    return v;
}

int
str_utf8_clean(const char *s, size_t n, int allow_newlines)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c == 0x7f ||
                (c < 0x20 && !(allow_newlines && (c == '\t' || c == '\r' || c == '\n'))))
                return 0;
            i++;
            continue;
        }
        size_t len;
        unsigned cp;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        /* Overlong forms, surrogates, beyond U+10FFFF, C1 controls. */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
            return 0;
        i += len;
    }
    return 1;
}

void
str_utf8_scrub(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80                 ? 1
                     : c >= 0xc2 && c <= 0xdf ? 2
                     : c >= 0xe0 && c <= 0xef ? 3
                     : c >= 0xf0 && c <= 0xf4 ? 4
                                              : 0;
        if (len == 1) {
            i++;
        } else if (len == 0 || i + len > n || !str_utf8_clean(s + i, len, 1)) {
            s[i++] = '?';
        } else {
            i += len;
        }
    }
}

void
str_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
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

int
str_unhex(const char *s, unsigned char *out, size_t n)
{
    if (s == NULL || strlen(s) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

char *
str_email_normalize(struct arena *a, const char *in)
{
    if (in == NULL)
        return NULL;
    while (*in == ' ' || *in == '\t')
        in++;
    size_t n = strlen(in);
    while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
        n--;
    if (n < 3 || n > 254 || !str_utf8_clean(in, n, 0))
        return NULL;
    char *out = arena_strndup(a, in, n);
    if (out == NULL)
        return NULL;
    size_t at = 0, ats = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c == ' ' || c == '<' || c == '>' || c == '"' || c == ',' || c == ';' || c == '\\')
            return NULL;
        if (c == '@') {
            at = i;
            ats++;
        }
        if (c < 0x80)
            out[i] = (char)tolower(c);
    }
    if (ats != 1 || at == 0 || at == n - 1 || out[at + 1] == '.' || out[n - 1] == '.')
        return NULL;
    return out;
}

int
str_safe_return_to(const char *s)
{
    if (s == NULL || s[0] != '/' || s[1] == '/' || s[1] == '\\')
        return 0;
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
        if (*p <= 0x20 || *p == 0x7f || *p == '\\' || *p >= 0x80 || n > 1024)
            return 0;
    }
    return 1;
}

static int
host_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

int
str_url_split(const char *url, struct str_url *out)
{
    memset(out, 0, sizeof *out);
    if (url == NULL || strlen(url) > STR_URL_MAX)
        return -1;
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '\\')
            return -1;
    const char *h;
    if (strncmp(url, "https://", 8) == 0) {
        memcpy(out->scheme, "https", 6);
        out->port = 443;
        h = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        memcpy(out->scheme, "http", 5);
        out->port = 80;
        h = url + 7;
    } else {
        return -1;
    }
    size_t n = 0;
    while (h[n] != '\0' && host_char((unsigned char)h[n]))
        n++;
    /* A label may not be empty: no leading, trailing or doubled dot. */
    if (n == 0 || n >= sizeof out->host || h[0] == '.' || h[n - 1] == '.' || h[0] == '-' ||
        memmem(h, n, "..", 2) != NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        out->host[i] = (char)tolower((unsigned char)h[i]);
    out->host[n] = '\0';
    const char *p = h + n;
    if (*p == ':') {
        size_t d = 0;
        long port = 0;
        while (p[1 + d] >= '0' && p[1 + d] <= '9' && d < 6)
            port = port * 10 + (p[1 + d++] - '0');
        if (d == 0 || d > 5 || port < 1 || port > 65535)
            return -1;
        out->port = (int)port;
        p += 1 + d;
    }
    if (*p != '\0' && *p != '/' && *p != '?' && *p != '#')
        return -1; /* '@' (userinfo), '[' (IP literal), '%' and anything else */
    out->rest = p;
    return 0;
}

int
str_host_within(const char *host, const char *domain)
{
    size_t hl = strlen(host), dl = strlen(domain);
    if (dl == 0 || hl < dl)
        return 0;
    if (hl == dl)
        return strcasecmp(host, domain) == 0;
    return host[hl - dl - 1] == '.' && strcasecmp(host + hl - dl, domain) == 0;
}

int
str_safe_redirect(const char *s, const struct str_redirect_scope *scope)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 1024)
        return 0;
    if (s[0] == '/')
        return str_safe_return_to(s);
    struct str_url u;
    if (str_url_split(s, &u) != 0)
        return 0;
    if (strcmp(u.scheme, "https") != 0 && strcmp(u.scheme, scope->base_scheme) != 0)
        return 0;
    int default_port = strcmp(u.scheme, "https") == 0 ? 443 : 80;
    if (u.port != default_port && u.port != scope->base_port)
        return 0;
    return str_host_within(u.host, scope->domain);
}

char *
str_log_escape(struct arena *a, const char *s, size_t max)
{
    if (s == NULL)
        return arena_strdup(a, "-");
    size_t n = strnlen(s, max);
    char *out = arena_alloc(a, n * 4 + 4);
    if (out == NULL)
        return NULL;
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x21 && c < 0x7f && c != '\\' && c != '"') {
            *o++ = (char)c;
        } else {
            static const char d[] = "0123456789abcdef";
            *o++ = '\\';
            *o++ = 'x';
            *o++ = d[c >> 4];
            *o++ = d[c & 15];
        }
    }
    if (s[n] != '\0') {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = '\0';
    return out;
}

long
str_url_decode(char *s)
{
    char *r = s, *w = s;
    while (*r) {
        if (*r == '+') {
            *w++ = ' ';
            r++;
        } else if (*r == '%') {
            int hi = hexval(r[1]);
            int lo = hi < 0 ? -1 : hexval(r[2]);
            if (hi < 0 || lo < 0)
                return -1;
            *w++ = (char)(hi << 4 | lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (long)(w - s);
}

char *
str_url_encode(struct arena *a, const char *s)
{
    static const char d[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = arena_alloc(a, 3 * n + 1);
    if (out == NULL)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = d[*p >> 4];
            *o++ = d[*p & 15];
        }
    }
    *o = '\0';
    return out;
}
