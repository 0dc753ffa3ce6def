/* auth/str.h: string helpers for untrusted input: bounded number parsing, UTF-8 checks,
 * constant-time comparison, hex, e-mail normalisation, same-origin return paths. */
#ifndef GH_AUTH_STR_H
#define GH_AUTH_STR_H

#include <stddef.h>

struct arena;

/* Parses a whole decimal integer in [min, max] (OpenBSD strtonum). On failure returns 0 and sets
 * *errstr to "is not a number", "is too small" or "is too large"; on success *errstr = NULL. */
long long str_to_num(const char *s, long long min, long long max, const char **errstr);

/* Whether s[0..n) is valid UTF-8 without NUL or other C0 control characters other than tab,
 * CR and LF (allow_newlines) or none (!allow_newlines). */
int str_utf8_clean(const char *s, size_t n, int allow_newlines);

/* Replaces in place each byte of s that is not part of valid UTF-8 (or is a C1 control) with
 * '?', so that text cut by a bounded copy still goes into JSON and pages. */
void str_utf8_scrub(char *s);

/* Lower-case hex of in[0..n) into out (2n+1 bytes). */
void str_hex(const unsigned char *in, size_t n, char *out);

/* Parses hex into out (n bytes); -1 unless s is exactly 2n hex digits. */
int str_unhex(const char *s, unsigned char *out, size_t n);

/* Normalised e-mail address (trimmed, lower-case), in the arena; NULL when it does not look like
 * an address: one '@', non-empty local part and domain with a dot-free or dotted host, no spaces
 * or control characters, at most 254 bytes. */
char *str_email_normalize(struct arena *a, const char *in);

/* Whether s is a safe same-origin path to redirect to: starts with one '/', not "//" or "/\",
 * no backslash, no control characters or spaces, at most 1024 bytes. */
int str_safe_return_to(const char *s);

#define STR_URL_MAX 2048
#define STR_HOST_MAX 254

/* An absolute http(s) URL split by str_url_split. */
struct str_url {
    char scheme[8];          /* "http" or "https" */
    char host[STR_HOST_MAX]; /* lower case */
    int port;                /* the explicit port, else the scheme's default (80, 443) */
    const char *rest;        /* borrowed from the input: "" or the path, query and fragment */
};

/* Splits an absolute URL strictly: scheme http or https in lower case, "//", a host of letters,
 * digits, '-' and '.' (no userinfo, IP literal or percent-escape), an optional port 1-65535,
 * then nothing or '/', '?', '#'. The whole URL must be printable ASCII without spaces or
 * backslashes, at most STR_URL_MAX bytes. 0, or -1 when it is not such a URL. */
int str_url_split(const char *url, struct str_url *out);

/* Whether host (lower case) is domain or a name under it ("a.example.com" under "example.com";
 * "badexample.com" is not). */
int str_host_within(const char *host, const char *domain);

/* Where an absolute redirect target (rd=) may lead: scheme https or base_scheme, the port the
 * base URL uses or the scheme's default, a host equal to or under domain (the cookie domain,
 * else the base URL's host). */
struct str_redirect_scope {
    const char *base_scheme;
    int base_port;
    const char *domain;
};

/* Whether s is a safe redirect target: a same-origin path (str_safe_return_to) or an absolute
 * URL (str_url_split) within scope, at most 1024 bytes. One validator for every redirect. */
int str_safe_redirect(const char *s, const struct str_redirect_scope *scope);

/* Copy of s for a log line: printable ASCII kept, anything else as \xNN, at most max bytes of
 * input, in the arena. */
char *str_log_escape(struct arena *a, const char *s, size_t max);

/* Decodes application/x-www-form-urlencoded text in place ('+' is a space, %XX); returns the
 * new length, or -1 on a malformed escape. */
long str_url_decode(char *s);

/* Appends the percent-encoding of s (RFC 3986 unreserved kept) to an arena string. */
char *str_url_encode(struct arena *a, const char *s);

#endif
