/* auth/idp_source.h: IdPs whose metadata is fetched from a URL (gatehousectl idp add
 * --metadata-url): the first fetch registers the IdP, later fetches on a schedule (or
 * `idp refresh`) take new certificates and endpoints (audited old -> new), and a failed fetch
 * never replaces working metadata — the stored copy keeps the IdP working, across restarts too. */
#ifndef GH_AUTH_IDP_SOURCE_H
#define GH_AUTH_IDP_SOURCE_H

#include <stddef.h>
#include <time.h>

#include "account.h"

struct store;
struct actor;
struct idp_options;

#define IDP_REFRESH_DEFAULT_SECONDS (6 * 3600) /* when the metadata says nothing sooner */
#define IDP_REFRESH_MIN_SECONDS 300            /* the shortest interval, and the first backoff */
#define IDP_FETCH_TIMEOUT_SECONDS 30

/* When the next fetch is due: after a success, the metadata's cacheDuration (cache_seconds, -1
 * when none) bounded to [5 min, 6 h] and half the time left before its validUntil (0 = none);
 * after `failures` consecutive failures, 5 min doubling up to 6 h. Pure. */
time_t idp_source_next(time_t now, long cache_seconds, time_t valid_until, int failures);

/* Fetches url (TLS verified against ca_file, or the system's), checks the signature with
 * signer_cert (PEM; required for an http:// URL, optional for https://), and registers the IdP
 * as idp_add does, remembering the source. Owners only (AZ_IDP_TRUST). */
enum account_rc idp_add_from_url(struct store *s, const struct actor *who, const char *ca_file,
                                 const char *url, const char *signer_cert,
                                 const struct idp_options *o, char *entity_out, size_t entity_len,
                                 char *msg, size_t msglen);

/* Fetches the IdP's metadata now. ACCOUNT_OK with msg "unchanged" or "updated ..." (the
 * certificate and endpoint changes audited by idp_set); ACCOUNT_REFUSED with the reason when the
 * fetch or the checks fail (recorded as the source's last error, the stored metadata kept). */
enum account_rc idp_refresh(struct store *s, const struct actor *who, const char *ca_file,
                            const char *entity_id, char *msg, size_t msglen);

/* Takes a newly fetched EntityDescriptor (as sp_idp_parse's meta.xml) for a registered IdP:
 * nothing ("unchanged") when it equals the stored one, else through idp_set (certificates and
 * endpoints re-read, settings kept, audited old -> new). */
enum account_rc idp_metadata_apply(struct store *s, const struct actor *who, const char *entity_id,
                                   const char *xml, char *msg, size_t msglen);

/* Refreshes every source due at the current time, as the system actor. Returns how many were
 * tried. */
int idp_refresh_due(struct store *s, const char *ca_file);

#endif
