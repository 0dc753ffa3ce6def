#include "authz.h"

#include <string.h>

static int
is(const char *a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

int
authz_allowed(const char *actor_role, enum authz_op op, const char *target_role, const char **why)
{
    const char *no = NULL;
    if (is(actor_role, "owner") || is(actor_role, "cli"))
        return 1;
    if (!is(actor_role, "admin")) {
        no = "This needs an administrator.";
    } else {
        switch (op) {
        case AZ_ADMIN_AREA:
        case AZ_POLICY:
        case AZ_IDP:
        case AZ_LOGS:
            return 1;
        case AZ_USER:
            if (is(target_role, "member"))
                return 1;
            no = "Only an owner can change the accounts of owners and administrators.";
            break;
        case AZ_GRANT:
            if (is(target_role, "member"))
                return 1;
            no = "Only an owner can give the admin or owner role.";
            break;
        case AZ_PASSWORD_SWITCH:
            no = "Only an owner can turn password sign-in on or off.";
            break;
        }
    }
    if (why != NULL)
        *why = no;
    return 0;
}
