/* auth/smtp.c: one plain-text e-mail through the configured relay, with libcurl's SMTP support.
 * The only file that includes curl.h. */
#include "smtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "buf.h"
#include "conf.h"
#include "rand.h"
#include "str.h"

/* RFC 5322 2.1.1: a line is at most 998 characters before its CRLF. */
#define SMTP_LINE_MAX 998
#define SMTP_MESSAGE_MAX (SMTP_BODY_MAX * 2 + 4096)

int
smtp_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void
smtp_global_cleanup(void)
{
    curl_global_cleanup();
}

/* Whether s is UTF-8 without any control character: safe inside a header line. */
static int
header_safe(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n > 0 && n <= max && str_utf8_clean(s, n, 0);
}

static int
all_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* RFC 5322 3.3 date in UTC, with English names whatever the locale. */
static void
rfc5322_date(time_t now, char *out, size_t len)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL)
        memset(&tm, 0, sizeof tm);
    snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
             months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The subject as is when ASCII, else as RFC 2047 encoded-words (UTF-8, base64) of at most 39
 * bytes of text each (64 characters with the markers: under 2.'s 75, and lines under 78), split
 * between characters and folded onto continuation lines. */
static int
put_subject(struct buf *b, const char *subject)
{
    if (all_ascii(subject))
        return buf_printf(b, "Subject: %s\r\n", subject);
    buf_puts(b, "Subject:");
    const unsigned char *p = (const unsigned char *)subject;
    size_t left = strlen(subject);
    while (left > 0) {
        size_t n = left < 39 ? left : 39;
        while (n < left && n > 0 && (p[n] & 0xc0) == 0x80)
            n--; /* not inside a UTF-8 sequence */
        unsigned char enc[53];
        EVP_EncodeBlock(enc, p, (int)n);
        buf_printf(b, "%s=?UTF-8?B?%s?=", p == (const unsigned char *)subject ? " " : "\r\n ",
                   (const char *)enc);
        p += n;
        left -= n;
    }
    return buf_puts(b, "\r\n");
}

/* The body with every line end as CRLF; -1 when a line is too long for SMTP. */
static int
put_body(struct buf *b, const char *body)
{
    size_t line = 0;
    for (const char *p = body; *p; p++) {
        if (*p == '\r' || *p == '\n') {
            if (*p == '\r' && p[1] == '\n')
                p++;
            buf_append(b, "\r\n", 2);
            line = 0;
            continue;
        }
        if (++line > SMTP_LINE_MAX)
            return -1;
        buf_append(b, p, 1);
    }
    if (b->len < 2 || memcmp(b->data + b->len - 2, "\r\n", 2) != 0)
        buf_append(b, "\r\n", 2);
    return b->overflow ? -1 : 0;
}

char *
smtp_message(const char *from, const char *to, const char *subject, const char *body, time_t now)
{
    if (!header_safe(from, 254) || !header_safe(to, 254) ||
        !header_safe(subject, SMTP_SUBJECT_MAX) || strlen(body) > SMTP_BODY_MAX ||
        !str_utf8_clean(body, strlen(body), 1))
        return NULL;
    const char *domain = strrchr(from, '@');
    unsigned char rnd[16];
    char id[33], date[64];
    if (domain == NULL || rand_bytes(rnd, sizeof rnd) != 0)
        return NULL;
    str_hex(rnd, sizeof rnd, id);
    rfc5322_date(now, date, sizeof date);
    struct buf b;
    buf_init(&b, SMTP_MESSAGE_MAX);
    buf_printf(&b, "From: Gatehouse <%s>\r\nTo: <%s>\r\n", from, to);
    put_subject(&b, subject);
    buf_printf(&b,
               "Date: %s\r\nMessage-ID: <%s.%lld%s>\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: %s\r\n"
               "Auto-Submitted: auto-generated\r\n\r\n",
               date, id, (long long)now, domain, all_ascii(body) ? "7bit" : "8bit");
    if (put_body(&b, body) != 0 || b.overflow) {
        buf_free(&b);
        return NULL;
    }
    return b.data;
}

struct upload {
    const char *data;
    size_t len;
    size_t pos;
};

static size_t
read_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct upload *u = userdata;
    size_t room = size * nmemb, left = u->len - u->pos;
    size_t n = left < room ? left : room;
    memcpy(ptr, u->data + u->pos, n);
    u->pos += n;
    return n;
}

/* smtp://host:port or smtps://host:port (IPv6 literals in brackets). */
static void
relay_url(const struct conf *c, char *out, size_t len)
{
    int v6 = strchr(c->smtp_host, ':') != NULL;
    snprintf(out, len, "%s://%s%s%s:%d", c->smtp_starttls == CONF_SMTP_IMPLICIT ? "smtps" : "smtp",
             v6 ? "[" : "", c->smtp_host, v6 ? "]" : "", c->smtp_port);
}

int
smtp_send(const struct conf *c, const char *to, const char *subject, const char *body, time_t now,
          char *err, size_t errlen)
{
    int rc = -1;
    CURL *curl = NULL;
    struct curl_slist *rcpt = NULL;
    char url[400], addr_from[300], addr_to[300], curl_err[CURL_ERROR_SIZE] = "";
    char *msg = smtp_message(c->smtp_from, to, subject, body, now);
    if (msg == NULL) {
        snprintf(err, errlen, "the message could not be built (bad address or too long)");
        goto out;
    }
    struct upload up = {msg, strlen(msg), 0};
    relay_url(c, url, sizeof url);
    snprintf(addr_from, sizeof addr_from, "<%s>", c->smtp_from);
    snprintf(addr_to, sizeof addr_to, "<%s>", to);
    curl = curl_easy_init();
    rcpt = curl_slist_append(NULL, addr_to);
    if (curl == NULL || rcpt == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, addr_from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    /* on: STARTTLS or nothing (CURLUSESSL_ALL fails rather than falling back to clear text). */
    curl_easy_setopt(curl, CURLOPT_USE_SSL,
                     c->smtp_starttls == CONF_SMTP_PLAIN ? (long)CURLUSESSL_NONE
                                                         : (long)CURLUSESSL_ALL);
    if (c->smtp_ca_file[0] != '\0')
        curl_easy_setopt(curl, CURLOPT_CAINFO, c->smtp_ca_file);
    if (c->smtp_username[0] != '\0') {
        curl_easy_setopt(curl, CURLOPT_USERNAME, c->smtp_username);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, c->smtp_password);
    }
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)c->smtp_timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)c->smtp_timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    CURLcode res = curl_easy_perform(curl);
    if (res != CURLE_OK) {
        snprintf(err, errlen, "%s: %s", url, curl_err[0] ? curl_err : curl_easy_strerror(res));
        goto out;
    }
    rc = 0;
out:
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (msg != NULL) {
        /* It carries a single-use link. */
        OPENSSL_cleanse(msg, strlen(msg));
        free(msg);
    }
    return rc;
}
