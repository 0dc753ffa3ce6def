/* auth/mailer.c: one sending thread and a bounded FIFO queue in front of smtp_send. */
#include "mailer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "clock.h"
#include "conf.h"
#include "log.h"
#include "smtp.h"

struct mail {
    struct mail *next;
    char *to;
    char *subject;
    char *body; /* may carry a single-use link: wiped before it is freed */
    char ref[96];
};

struct mailer {
    const struct conf *conf;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct mail *head, *tail;
    size_t queued;
    int stopping;
    pthread_t thread;
};

static void
mail_free(struct mail *m)
{
    if (m == NULL)
        return;
    if (m->body != NULL)
        OPENSSL_cleanse(m->body, strlen(m->body));
    free(m->to);
    free(m->subject);
    free(m->body);
    free(m);
}

static double
monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
deliver(struct mailer *mr, struct mail *m)
{
    char err[512];
    double t0 = monotonic_seconds();
    if (smtp_send(mr->conf, m->to, m->subject, m->body, clock_now(), err, sizeof err) == 0)
        log_info("mail sent %s ms=%.0f", m->ref, (monotonic_seconds() - t0) * 1000);
    else
        log_error("mail not sent %s ms=%.0f: %s", m->ref, (monotonic_seconds() - t0) * 1000, err);
}

static void *
run(void *arg)
{
    struct mailer *mr = arg;
    double deadline = 0;
    for (;;) {
        pthread_mutex_lock(&mr->mu);
        while (mr->head == NULL && !mr->stopping)
            pthread_cond_wait(&mr->cv, &mr->mu);
        struct mail *m = mr->head;
        if (m != NULL) {
            mr->head = m->next;
            if (mr->head == NULL)
                mr->tail = NULL;
            mr->queued--;
        }
        int stopping = mr->stopping;
        pthread_mutex_unlock(&mr->mu);
        if (m == NULL)
            break; /* stopping and drained */
        if (stopping && deadline == 0)
            deadline = monotonic_seconds() + MAILER_DRAIN_SECONDS;
        if (stopping && monotonic_seconds() > deadline)
            log_warn("mail dropped at shutdown %s", m->ref);
        else
            deliver(mr, m);
        mail_free(m);
    }
    return NULL;
}

struct mailer *
mailer_start(const struct conf *c, char *err, size_t errlen)
{
    struct mailer *mr = calloc(1, sizeof *mr);
    if (mr == NULL || smtp_global_init() != 0) {
        snprintf(err, errlen, "libcurl failed to initialise");
        free(mr);
        return NULL;
    }
    mr->conf = c;
    pthread_mutex_init(&mr->mu, NULL);
    pthread_cond_init(&mr->cv, NULL);
    if (pthread_create(&mr->thread, NULL, run, mr) != 0) {
        snprintf(err, errlen, "cannot start the mail thread");
        smtp_global_cleanup();
        free(mr);
        return NULL;
    }
    if (c->smtp_starttls == CONF_SMTP_PLAIN && strcmp(c->smtp_host, "127.0.0.1") != 0 &&
        strcmp(c->smtp_host, "::1") != 0 && strcmp(c->smtp_host, "localhost") != 0)
        log_warn("[smtp] starttls = off: reset links to %s travel unencrypted", c->smtp_host);
    log_info("mail relay host=%s port=%d tls=%s", c->smtp_host, c->smtp_port,
             c->smtp_starttls == CONF_SMTP_PLAIN      ? "off"
             : c->smtp_starttls == CONF_SMTP_IMPLICIT ? "implicit"
                                                      : "starttls");
    return mr;
}

static char *
dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int
mailer_submit(struct mailer *mr, const char *to, const char *subject, const char *body,
              const char *ref)
{
    struct mail *m = calloc(1, sizeof *m);
    if (m == NULL)
        goto fail;
    m->to = dup_or_null(to);
    m->subject = dup_or_null(subject);
    m->body = dup_or_null(body);
    snprintf(m->ref, sizeof m->ref, "%s", ref ? ref : "");
    if (m->to == NULL || m->subject == NULL || m->body == NULL)
        goto fail;
    pthread_mutex_lock(&mr->mu);
    if (mr->stopping || mr->queued >= MAILER_QUEUE_MAX) {
        pthread_mutex_unlock(&mr->mu);
        log_error("mail refused %s: the queue is %s", m->ref, mr->stopping ? "closed" : "full");
        mail_free(m);
        return -1;
    }
    if (mr->tail != NULL)
        mr->tail->next = m;
    else
        mr->head = m;
    mr->tail = m;
    mr->queued++;
    pthread_cond_signal(&mr->cv);
    pthread_mutex_unlock(&mr->mu);
    return 0;
fail:
    log_error("mail refused %s: out of memory", ref ? ref : "");
    mail_free(m);
    return -1;
}

void
mailer_stop(struct mailer *mr)
{
    if (mr == NULL)
        return;
    pthread_mutex_lock(&mr->mu);
    mr->stopping = 1;
    pthread_cond_signal(&mr->cv);
    pthread_mutex_unlock(&mr->mu);
    pthread_join(mr->thread, NULL);
    pthread_mutex_destroy(&mr->mu);
    pthread_cond_destroy(&mr->cv);
    smtp_global_cleanup();
    free(mr);
}
