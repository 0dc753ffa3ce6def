#include "authz.h"

#include <stddef.h>
#include <string.h>

/* What an admin may do; owners and the CLI may do everything, members nothing here. */
enum admin_may {
    ADMIN_NO,         /* owners only */
    ADMIN_YES,        /* admins too */
    ADMIN_ON_MEMBERS, /* admins too, when the target role is member */
};

static const struct rule {
    enum authz_op op;
    enum admin_may admin;
    const char *why; /* the answer to an admin who may not */
} rules[] = {
    {AZ_ADMIN_AREA, ADMIN_YES, NULL},
    {AZ_USER, ADMIN_ON_MEMBERS,
     "Only an owner can change the accounts of owners and administrators."},
    {AZ_GRANT, ADMIN_ON_MEMBERS, "Only an owner can give the admin or owner role."},
    {AZ_POLICY, ADMIN_YES, NULL},
    {AZ_PASSWORD_SWITCH, ADMIN_NO, "Only an owner can turn password sign-in on or off."},
    {AZ_IDP, ADMIN_YES, NULL},
    {AZ_IDP_TRUST, ADMIN_NO,
     "Only an owner can add or remove an identity provider or change what it is trusted with "
     "(metadata and certificates, domains, group roles, default role, IdP-initiated and SHA-1 "
     "switches); administrators may rename it and set its e-mail and name attributes."},
    {AZ_LOGS, ADMIN_YES, NULL},
};

static int
is(const char *a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

int
authz_allowed(const char *actor_role, enum authz_op op, const char *target_role, const char **why)
{
    const char *no = "This needs an administrator.";
    /* "system": the server's own jobs acting on an owner's standing decision (e.g. the
     * metadata refresh of an IdP an owner registered from a URL); never a request's actor. */
    if (is(actor_role, "owner") || is(actor_role, "cli") || is(actor_role, "system"))
        return 1;
    if (is(actor_role, "admin")) {
        no = "This needs an owner.";
        for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
            if (rules[i].op != op)
                continue;
            if (rules[i].admin == ADMIN_YES ||
                (rules[i].admin == ADMIN_ON_MEMBERS && is(target_role, "member")))
                return 1;
            if (rules[i].why != NULL)
                no = rules[i].why;
            break;
        }
    }
    if (why != NULL)
        *why = no;
    return 0;
}
