/* auth/federation.h: federations — a signed aggregate of many IdPs (research and education:
 * eduGAIN and national federations) loaded from a URL: every SAML 2.0 IdP in it registered with
 * its shibmd:Scope values as e-mail domains and its mdui:DisplayName as its name, refreshed on
 * the same schedule as a metadata URL, per-IdP settings kept across refreshes, IdPs that leave
 * the aggregate removed. An owner's decision, audited. */
#ifndef GH_AUTH_FEDERATION_H
#define GH_AUTH_FEDERATION_H

#include <stddef.h>

#include "account.h"

struct store;
struct actor;

/* Largest aggregate accepted (eduGAIN's is ~100 MB) and the time allowed to fetch it. */
#define FEDERATION_MAX_BYTES ((size_t)256 * 1024 * 1024)
#define FEDERATION_FETCH_SECONDS 300
/* At most this many IdPs per federation. */
#define FEDERATION_MAX_IDPS 20000

/* Fetches the aggregate at url (TLS verified with ca_file or the system's), checks its signature
 * with cert_pem (required), and registers its IdPs. msg says how many were added and skipped. */
enum account_rc federation_add(struct store *s, const struct actor *who, const char *ca_file,
                               const char *url, const char *cert_pem, const char *name, char *msg,
                               size_t msglen);

/* Fetches the federation's aggregate now and brings its IdPs in line: new ones added, changed
 * ones updated (settings kept), departed ones removed. A failed fetch changes no IdP; it is
 * recorded as the federation's last error. */
enum account_rc federation_refresh(struct store *s, const struct actor *who, const char *ca_file,
                                   const char *url, char *msg, size_t msglen);

/* Removes the federation and every IdP it brought (each removal audited). */
enum account_rc federation_remove(struct store *s, const struct actor *who, const char *url,
                                  char *msg, size_t msglen);

/* Refreshes the federations that are due, as the system actor; how many were tried. */
int federation_refresh_due(struct store *s, const char *ca_file);

#endif
