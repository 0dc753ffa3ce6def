/* auth/authz.h: who may do what. The one place the admin pages, the admin API and the CLI (via
 * the operations in account.c, idp.c and admin.c) ask.
 *   owner  everything, including the password sign-in switch and managing admins and owners;
 *   admin  users who are members, IdPs, policy, logs; cannot change owners or admins, nor grant
 *          the admin or owner role, nor switch password sign-in;
 *   member own account only;
 *   cli    a shell on the server with the store's files: the owner's powers (actor cli:USER). */
#ifndef GH_AUTH_AUTHZ_H
#define GH_AUTH_AUTHZ_H

enum authz_op {
    AZ_ADMIN_AREA,      /* see the admin pages and API at all */
    AZ_USER,            /* change a user account whose role is target_role */
    AZ_GRANT,           /* give a user the role target_role (creating or changing) */
    AZ_POLICY,          /* change policy settings */
    AZ_PASSWORD_SWITCH, /* turn password sign-in on or off */
    AZ_IDP,             /* add, change, remove IdPs */
    AZ_LOGS,            /* read the SAML response log and the audit log */
};

/* Whether actor_role may do op (on target_role where the op has one). When not, *why (if not
 * NULL) says so in words fit for the person. */
int authz_allowed(const char *actor_role, enum authz_op op, const char *target_role,
                  const char **why);

#endif
