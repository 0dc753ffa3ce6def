/* auth/samllog.h: what the SAML response log keeps of each response. A response whose signature
 * verified is kept whole (it came from a registered IdP); any other keeps a bounded excerpt, so
 * that anyone posting to the ACS cannot fill the disk; nothing is kept while room is low. */
#ifndef GH_AUTH_SAMLLOG_H
#define GH_AUTH_SAMLLOG_H

#include <stddef.h>

#include "store.h"

/* The most an unverified response leaves in the log. */
#define SAML_LOG_EXCERPT_BYTES 4096

/* Sets row->xml, xml_kept and xml_size for the decoded response xml (may be NULL) whose whole
 * size was size bytes: "full", "excerpt" (the first SAML_LOG_EXCERPT_BYTES at most, cut before a
 * UTF-8 sequence, copied into buf of SAML_LOG_EXCERPT_BYTES + 1 bytes), "dropped" (room_low) or
 * "none". row->xml then points into xml or buf. */
void samllog_keep(struct saml_log_row *row, const char *xml, size_t size, int verified,
                  int room_low, char *buf);

struct secrets;

/* Seals the body samllog_keep chose (row->xml) under the data key, bound to the row's time,
 * issuer and assertion ID: row->xml becomes a new sealed string (the caller frees it). -1 when it
 * cannot be sealed: row->xml is then NULL and xml_kept "dropped" (never kept in clear). */
int samllog_seal(struct saml_log_row *row, const struct secrets *k);
/* Opens the body of a row read from the store (row->xml, freed) in place. A body written before
 * bodies were sealed stays as it is. -1 when it does not open with this data key: row->xml is
 * then NULL. */
int samllog_open(struct saml_log_row *row, const struct secrets *k);

/* Seals the bodies still in clear in the store (rows written before bodies were sealed), in
 * batches; *count gets how many. 0, or -1 (those sealed so far stay sealed). */
int samllog_seal_clear_rows(struct store *s, const struct secrets *k, long long *count);

/* The length of the longest prefix of s (len bytes) of at most max bytes that does not end
 * inside a UTF-8 sequence. */
size_t samllog_utf8_cut(const char *s, size_t len, size_t max);

#endif
