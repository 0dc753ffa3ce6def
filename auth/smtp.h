/* auth/smtp.h: sending one plain-text e-mail through the [smtp] relay with libcurl (the only file
 * that includes curl.h). Synchronous: call it from a background thread (auth/mailer.h), never
 * while serving a request. */
#ifndef GH_AUTH_SMTP_H
#define GH_AUTH_SMTP_H

#include <stddef.h>
#include <time.h>

struct conf;

/* Longest subject and body accepted, in bytes. */
#define SMTP_SUBJECT_MAX 200
#define SMTP_BODY_MAX (32 * 1024)

/* libcurl's global set-up and tear-down: once per process, before the first smtp_send and after
 * the last. 0 or -1. */
int smtp_global_init(void);
void smtp_global_cleanup(void);

/* Builds the RFC 5322 message (From, To, Subject, Date at `now`, Message-ID, MIME-Version,
 * Content-Type text/plain; charset=utf-8, CRLF line ends) into a malloc'd string the caller
 * frees. body is UTF-8 with \n or \r\n line ends. NULL when an argument could inject a header
 * (CR, LF or another control character) or is too long. */
char *smtp_message(const char *from, const char *to, const char *subject, const char *body,
                   time_t now);

/* Sends the message to one recipient through c's relay, with c's TLS mode, credentials and
 * timeout. 0 sent (accepted by the relay), -1 with the reason in err (fit for the log). */
int smtp_send(const struct conf *c, const char *to, const char *subject, const char *body,
              time_t now, char *err, size_t errlen);

#endif
