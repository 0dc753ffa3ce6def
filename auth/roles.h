/* auth/roles.h: roles as data. A role is a name and a set of permissions (auth/authz.h); the
 * built-in owner (everything, fixed), admin (editable by owners) and member (nothing, fixed),
 * and the roles owners create. What each role holds is read through a per-process cache keyed
 * on the roles' version counter in the settings table (ROLES_VERSION), so a change made by any
 * process sharing the store takes effect at the next request. */
#ifndef GH_AUTH_ROLES_H
#define GH_AUTH_ROLES_H

#include <stddef.h>

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

/* What role holds, into *perms: owner (and the cli and system actors) everything, else the
 * stored role's permissions as of the store's current version (an unknown role: nothing).
 * 0, or -1 when the store could not be read (*perms is then 0: fail closed). */
int roles_perms(struct roles_cache *c, struct store *s, const char *role, unsigned *perms);

/* Calls cb with each role's name and permissions: owner, admin, member, then the others by
 * name. 0, or -1 when the store could not be read. */
int roles_each(struct roles_cache *c, struct store *s,
               void (*cb)(const char *name, unsigned perms, void *ctx), void *ctx);

/* Whether name is one of the built-in roles (owner, admin, member). */
int roles_builtin(const char *name);

/* Whether name is a valid role name: 1-15 of a-z 0-9 . _ -, starting with a letter. */
int roles_name_valid(const char *name);

#endif
