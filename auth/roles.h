/* auth/roles.h: roles as data. A role is a name and a set of permissions (auth/authz.h): the
 * built-in owner (everything, fixed), admin (editable by owners) and member (nothing, fixed),
 * and the roles owners create. The store keeps them (table roles); what each holds is read
 * through a per-process cache keyed on the roles' version counter in the settings table
 * (ROLES_VERSION), so a change made by any process sharing the store takes effect at the next
 * request. Changes are the owners' (AZ_ROLES), audited with the old and new permissions. */
#ifndef GH_AUTH_ROLES_H
#define GH_AUTH_ROLES_H

#include <stddef.h>

#include "account.h"

struct app;
struct store;
struct actor;
struct roles_cache;

/* Longest role name plus its NUL (the size of struct user's role). */
#define ROLE_NAME_MAX 16

/* The settings key of the roles' version counter, bumped by every change to a role. */
#define ROLES_VERSION "roles.version"

/* A new, empty cache (NULL when out of memory); roles_cache_free(NULL) is a no-op. */
struct roles_cache *roles_cache_new(void);
void roles_cache_free(struct roles_cache *c);

/* What role holds, into *perms, as of the store's current roles version: owner (and the cli
 * and system actors) everything, else the stored role's permissions. 0 found, 1 no such role
 * (*perms 0), -1 the store could not be read (*perms 0: fail closed). */
int roles_lookup(struct roles_cache *c, struct store *s, const char *role, unsigned *perms);

/* roles_lookup where an unknown role holds nothing: 0, or -1 on a store error. */
int roles_perms(struct roles_cache *c, struct store *s, const char *role, unsigned *perms);

/* Calls cb with each role's name and permissions: owner, admin, member, then the others by
 * name. 0, or -1 when the store could not be read. */
int roles_each(struct roles_cache *c, struct store *s,
               void (*cb)(const char *name, unsigned perms, void *ctx), void *ctx);

/* Whether name is one of the built-in roles (owner, admin, member). */
int roles_builtin(const char *name);

/* Whether name is a valid role name: 1-15 of a-z 0-9 . _ -, starting with a letter, and not
 * cli or system (actors, not roles). */
int roles_name_valid(const char *name);

/* Creates the role name holding the permissions listed in perms (authz_perms_parse). Owners
 * only. ACCOUNT_REFUSED for a bad or taken name, an unknown or owner-only permission. */
enum account_rc roles_add(struct app *a, struct store *s, const struct actor *who, const char *name,
                          const char *perms, char *msg, size_t msglen);

/* Replaces what the role holds. Owners only; owner and member are fixed. */
enum account_rc roles_set(struct app *a, struct store *s, const struct actor *who, const char *name,
                          const char *perms, char *msg, size_t msglen);

/* Removes a role nobody holds and no IdP names (else ACCOUNT_REFUSED saying who does).
 * Owners only; the built-in roles stay. */
enum account_rc roles_remove(struct app *a, struct store *s, const struct actor *who,
                             const char *name, char *msg, size_t msglen);

/* Whether role may be given to users by an IdP (its default role or a group mapping): a role
 * that exists and is not owner. 1 yes, 0 no (msg says why), -1 store error. */
int roles_idp_may_grant(struct store *s, const char *role, char *msg, size_t msglen);

#endif
