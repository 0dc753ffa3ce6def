/* auth/idp.h: the IdP registry operations shared by gatehousectl, the admin pages and the admin
 * API: add from metadata, change, remove. Each change is audited and bumps the registry version
 * so that servers rebuild their SAML state. Trust decisions (adding, removing, metadata and keys,
 * domains, what the IdP grants, its switches) are the owner's (AZ_IDP_TRUST); admins may rename
 * an IdP and set its e-mail and name attribute names (AZ_IDP). */
#ifndef GH_AUTH_IDP_H
#define GH_AUTH_IDP_H

#include <stddef.h>

#include "account.h"

struct store;
struct actor;
struct sp_idp_fields;

#define IDP_MAX_DOMAINS 32
#define IDP_MAX_GROUP_ROLES 64

/* For idp_add, and for idp_set where NULL / -1 / 0 in the set_ flags leave a value unchanged. */
struct idp_options {
    const char *entity_id; /* add: which IdP of an aggregate; NULL = the only one */
    const char *name;
    const char *domains[IDP_MAX_DOMAINS];
    size_t n_domains;
    int set_domains;          /* idp_set: replace the domains by these */
    int idp_initiated;        /* 0/1; -1 unchanged (set) */
    int allow_sha1;           /* 0/1; -1 unchanged (set) */
    const char *default_role; /* admin | member (add: NULL = member) */
    /* Attribute names giving each fact; "" = recognise the common shapes. */
    const char *attr_email, *attr_first_name, *attr_last_name, *attr_groups;
    /* The NameIDPolicy Format AuthnRequests ask for: emailAddress, persistent, transient,
     * unspecified or none (no Format: the IdP sends what it is configured with). NULL =
     * unchanged (add: none). */
    const char *name_id_format;
    /* "GROUP=ROLE" (split at the last '='; ROLE admin or member). */
    const char *group_roles[IDP_MAX_GROUP_ROLES];
    size_t n_group_roles;
    int set_group_roles; /* idp_set: replace the mapping by these */
    /* idp_set: new metadata for the IdP (e.g. a signing key rolled over); NULL = unchanged.
     * It must describe the same entity ID; endpoints and certificates are read again. */
    const char *metadata;
    size_t metadata_len;
};

/* Registers the IdP described by metadata. On success writes its entity ID into entity_out.
 * ACCOUNT_REFUSED with a message for the admin (bad metadata, duplicate, domain taken...). */
enum account_rc idp_add(struct store *s, const struct actor *who, const char *metadata, size_t len,
                        const struct idp_options *o, char *entity_out, size_t entity_len, char *msg,
                        size_t msglen);
/* idp_add of metadata sp_idp_parse has read already (a federation's IdPs). */
struct sp_idp_meta;
enum account_rc idp_add_parsed(struct store *s, const struct actor *who,
                               const struct sp_idp_meta *m, const struct idp_options *o,
                               char *entity_out, size_t entity_len, char *msg, size_t msglen);

/* Registers an IdP without metadata, from its entity ID, sign-in URL, binding, signing
 * certificates and optional logout URL (sp_idp_metadata_from_fields), otherwise as idp_add. */
enum account_rc idp_add_from_fields(struct store *s, const struct actor *who,
                                    const struct sp_idp_fields *f, const struct idp_options *o,
                                    char *entity_out, size_t entity_len, char *msg, size_t msglen);

/* Changes a registered IdP's settings: name, switches, default role, attribute names, domains,
 * group -> role mapping, and its metadata (endpoints, signing certificates). Audited with
 * old -> new values. ACCOUNT_FORBIDDEN when who may not make a change it asks for (a value
 * sent unchanged is not a change). */
enum account_rc idp_set(struct store *s, const struct actor *who, const char *entity_id,
                        const struct idp_options *o, char *msg, size_t msglen);

enum account_rc idp_remove(struct store *s, const struct actor *who, const char *entity_id,
                           char *msg, size_t msglen);

/* The IdP's e-mail domains as "a.example,b.example" (in order) into out: for display, the
 * audit and search. */
int idp_domains_text(struct store *s, const char *entity_id, char *out, size_t len);

/* The IdP's group -> role mapping as "GROUP=ROLE;GROUP=ROLE" into out. */
int idp_group_roles_text(struct store *s, const char *entity_id, char *out, size_t len);

/* The URI of the NameID format named name (emailAddress, persistent, transient, unspecified;
 * NULL for none) into *uri_out: 0, or -1 when name is none of those. */
int idp_name_id_format(const char *name, const char **uri_out);

/* Whether d is a plausible e-mail domain (letters, digits, '-', '.'; a dot inside); lowers it. */
int idp_domain_normalize(const char *d, char *out, size_t len);

/* The registered IdP's metadata document (*xml_out, malloc; the caller frees): 0, 1 when
 * entity_id is not registered, -1 on error. What the SAML state builds an IdP's provider from. */
int idp_metadata(struct store *s, const char *entity_id, char **xml_out);

#endif
