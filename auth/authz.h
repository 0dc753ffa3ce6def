/* auth/authz.h: who may do what. The one place the admin pages, the admin API and the CLI (via
 * the operations in account.c, idp.c and admin.c) ask; the rules are one table in authz.c.
 *   owner  everything, including the password sign-in switch, managing admins and owners, and
 *          every trust decision about IdPs (which IdPs, their keys, domains, what they grant);
 *   admin  users who are members, policy, logs; reads IdPs and edits their names and the
 *          attribute names of e-mail and person names; cannot change owners or admins, grant
 *          the admin or owner role, switch password sign-in, nor make a trust decision;
 *   member own account only;
 *   cli    a shell on the server with the store's files: the owner's powers (actor cli:USER);
 *   system the server's own jobs carrying out an owner's standing decision (the scheduled
 *          metadata refresh of an IdP registered from a URL): the owner's powers. */
#ifndef GH_AUTH_AUTHZ_H
#define GH_AUTH_AUTHZ_H

enum authz_op {
    AZ_ADMIN_AREA,      /* see the admin pages and API at all */
    AZ_USER,            /* change a user account whose role is target_role */
    AZ_GRANT,           /* give a user the role target_role (creating or changing) */
    AZ_POLICY,          /* change policy settings */
    AZ_PASSWORD_SWITCH, /* turn password sign-in on or off */
    AZ_IDP,             /* rename an IdP, change its e-mail and name attribute names */
    AZ_IDP_TRUST,       /* add or remove an IdP; its metadata and certificates, domains,
                           group -> role mapping and groups attribute, a default role above
                           member, the IdP-initiated and SHA-1 switches */
    AZ_LOGS,            /* read the SAML response log and the audit log */
};

/* Whether actor_role may do op (on target_role where the op has one). When not, *why (if not
 * NULL) says so in words fit for the person. */
int authz_allowed(const char *actor_role, enum authz_op op, const char *target_role,
                  const char **why);

#endif
