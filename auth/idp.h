/* auth/idp.h: the IdP registry operations shared by gatehousectl and (later) the admin pages and
 * API: add from metadata, remove. Each change is audited and bumps the registry version so that
 * servers rebuild their SAML state. */
#ifndef GH_AUTH_IDP_H
#define GH_AUTH_IDP_H

#include <stddef.h>

#include "account.h"

struct store;
struct actor;

#define IDP_MAX_DOMAINS 32

struct idp_options {
    const char *entity_id; /* which IdP of an aggregate; NULL = the only one */
    const char *name;
    const char *domains[IDP_MAX_DOMAINS];
    size_t n_domains;
    int idp_initiated;
    int allow_sha1;
    const char *default_role; /* admin | member (NULL = member) */
};

/* Registers the IdP described by metadata. On success writes its entity ID into entity_out.
 * ACCOUNT_REFUSED with a message for the admin (bad metadata, duplicate, domain taken...). */
enum account_rc idp_add(struct store *s, const struct actor *who, const char *metadata,
                        size_t len, const struct idp_options *o, char *entity_out,
                        size_t entity_len, char *msg, size_t msglen);

enum account_rc idp_remove(struct store *s, const struct actor *who, const char *entity_id,
                           char *msg, size_t msglen);

/* Whether d is a plausible e-mail domain (letters, digits, '-', '.'; a dot inside); lowers it. */
int idp_domain_normalize(const char *d, char *out, size_t len);

#endif
