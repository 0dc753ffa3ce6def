/* auth/mailer.h: a background thread that sends queued e-mails (auth/smtp.h), so a request that
 * asks for a mail answers at once and in the same time whether or not a mail goes out. */
#ifndef GH_AUTH_MAILER_H
#define GH_AUTH_MAILER_H

#include <stddef.h>

struct conf;
struct mailer;

/* Messages waiting at most; more are refused (logged) until the relay catches up. */
#define MAILER_QUEUE_MAX 256
/* At shutdown, queued messages are still sent for up to this long, then dropped (logged). */
#define MAILER_DRAIN_SECONDS 10

/* Starts the sending thread for c's [smtp] relay (c must outlive the mailer). NULL with a message
 * in err when the thread or libcurl cannot start. */
struct mailer *mailer_start(const struct conf *c, char *err, size_t errlen);

/* Queues a copy of the message; never waits for the network. ref names it in the log lines
 * ("kind=reset user_id=5"; no secrets, no addresses). 0, or -1 when the queue is full, the mailer
 * is stopping or memory is short (logged). Sending failures are logged, never returned. */
int mailer_submit(struct mailer *m, const char *to, const char *subject, const char *body,
                  const char *ref);

/* Stops taking messages, sends what is queued (for up to MAILER_DRAIN_SECONDS), joins the thread
 * and frees everything. NULL is a no-op. */
void mailer_stop(struct mailer *m);

#endif
