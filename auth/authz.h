/* auth/authz.h: who may do what. The one place the admin pages, the admin API and the CLI (via
 * the operations in account.c, idp.c, admin.c and roles.c) ask.
 *
 * Every admin page and API operation is an operation (enum authz_op) that needs one permission
 * (enum authz_perm, the list below); a role is a named set of permissions, kept in the store
 * (auth/roles.h). The built-in roles:
 *   owner  everything, fixed;
 *   admin  by default every permission but the password sign-in switch; owners may change it;
 *   member nothing here, fixed.
 * Owners create more roles. Three rules hold whatever a role holds:
 *   - the trust decisions about IdPs (which IdPs, their keys, domains, what they grant) and
 *     editing roles are the owners' alone (owner-only permissions, never held by another role);
 *   - nobody but an owner changes an owner's account or gives the owner role;
 *   - users.edit reaches only accounts, and grants only roles, that hold fewer permissions than
 *     the actor's role (a strict subset): nobody grants more than they hold, nor changes a peer.
 * Actors that are not stored roles:
 *   cli    a shell on the server with the store's files: the owner's powers (actor cli:USER);
 *   system the server's own jobs carrying out an owner's standing decision (the scheduled
 *          metadata refresh of an IdP registered from a URL): the owner's powers. */
#ifndef GH_AUTH_AUTHZ_H
#define GH_AUTH_AUTHZ_H

#include <stddef.h>

struct actor;

enum authz_perm {
    PERM_DASHBOARD_VIEW,
    PERM_USERS_VIEW,
    PERM_USERS_EDIT,
    PERM_POLICY_VIEW,
    PERM_POLICY_EDIT,
    PERM_PASSWORD_LOGIN,
    PERM_IDPS_VIEW,
    PERM_IDPS_EDIT,
    PERM_IDPS_TRUST, /* owner only */
    PERM_SAML_LOG_VIEW,
    PERM_AUDIT_VIEW,
    PERM_ROLES_VIEW,
    PERM_ROLES_EDIT, /* owner only */
    PERM_COUNT
};

#define PERM_BIT(p) (1u << (p))
#define PERM_ALL ((1u << PERM_COUNT) - 1u)

/* One permission: its name in the store, the CLI and the API ("saml_log.view"), a label for
 * pages, and whether only owners ever hold it. */
struct authz_perm_def {
    const char *name;
    const char *label;
    int owner_only;
};

/* The permission list, indexed by enum authz_perm (PERM_COUNT entries). */
const struct authz_perm_def *authz_perms(void);

/* The permissions a role may hold: every one but the owner-only ones. */
#define PERM_GRANTABLE (PERM_ALL & ~(PERM_BIT(PERM_IDPS_TRUST) | PERM_BIT(PERM_ROLES_EDIT)))

/* What the built-in admin role holds until an owner changes it. */
#define PERM_ADMIN_DEFAULT (PERM_GRANTABLE & ~PERM_BIT(PERM_PASSWORD_LOGIN))

enum authz_op {
    AZ_DASHBOARD,       /* the admin dashboard (sign-in counts) */
    AZ_USERS_VIEW,      /* list and read user accounts */
    AZ_USER,            /* change a user account whose role is the target */
    AZ_GRANT,           /* give a user the target role (creating or changing) */
    AZ_POLICY_VIEW,     /* read the policy settings and the password sign-in switch */
    AZ_POLICY,          /* change policy settings */
    AZ_PASSWORD_SWITCH, /* turn password sign-in on or off */
    AZ_IDPS_VIEW,       /* read the IdPs */
    AZ_IDP,             /* rename an IdP, change its e-mail and name attribute names */
    AZ_IDP_TRUST,       /* add or remove an IdP; its metadata and certificates, domains,
                           group -> role mapping and groups attribute, a default role above
                           member, the IdP-initiated and SHA-1 switches; federations */
    AZ_SAML_LOG,        /* read the SAML response log */
    AZ_AUDIT,           /* read the audit log */
    AZ_ROLES_VIEW,      /* read the roles and their permissions */
    AZ_ROLES,           /* create, change and remove roles */
    AZ_OP_COUNT
};

/* The permission op needs. */
enum authz_perm authz_op_perm(enum authz_op op);

/* A role as authz sees it: its name and its permissions (PERM_BIT set). */
struct authz_role {
    const char *name;
    unsigned perms;
};

/* Whether who (its role, and for a stored role other than owner its permissions who->perms) may
 * do op; AZ_USER and AZ_GRANT need the target role (else refused). When not, *why (if not NULL)
 * says so in words fit for the person. */
int authz_allowed(const struct actor *who, enum authz_op op, const struct authz_role *target,
                  const char **why);

/* Whether who holds permission p (owner-only ones: only the all-powerful actors). */
int authz_holds(const struct actor *who, enum authz_perm p);

/* Whether the role name is one of the actors with every power (owner, cli, system). */
int authz_is_all_powerful(const char *role);

/* Parses a permission list: names separated by commas or spaces ("users.view,audit.view"), or
 * "*" for every grantable permission. 0 with the set in *out, or -1 with the first unknown
 * name in bad (len bytes). An empty list is the empty set. */
int authz_perms_parse(const char *text, unsigned *out, char *bad, size_t len);

/* The set as names separated by commas, in the list's order ("" when empty); truncated to
 * len. Returns out. */
char *authz_perms_format(unsigned perms, char *out, size_t len);

#endif
