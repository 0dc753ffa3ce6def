#include "authz.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"

static const struct authz_perm_def perms[PERM_COUNT] = {
    [PERM_DASHBOARD_VIEW] = {"dashboard.view", "Dashboard: view", 0},
    [PERM_USERS_VIEW] = {"users.view", "Users: view", 0},
    [PERM_USERS_EDIT] = {"users.edit", "Users: edit (accounts whose role holds less)", 0},
    [PERM_POLICY_VIEW] = {"policy.view", "Policy and password sign-in: view", 0},
    [PERM_POLICY_EDIT] = {"policy.edit", "Policy: edit", 0},
    [PERM_PASSWORD_LOGIN] = {"password_login.edit", "Password sign-in: switch on or off", 0},
    [PERM_IDPS_VIEW] = {"idps.view", "Identity providers: view", 0},
    [PERM_IDPS_EDIT] = {"idps.edit", "Identity providers: edit names and attributes", 0},
    [PERM_IDPS_TRUST] = {"idps.trust", "Identity providers: trust decisions (owners only)", 1},
    [PERM_SAML_LOG_VIEW] = {"saml_log.view", "SAML log: view", 0},
    [PERM_AUDIT_VIEW] = {"audit.view", "Audit log: view", 0},
    [PERM_ROLES_VIEW] = {"roles.view", "Roles: view", 0},
    [PERM_ROLES_EDIT] = {"roles.edit", "Roles: edit (owners only)", 1},
};

/* Each operation's permission and the answer to someone whose role does not hold it. */
static const struct rule {
    enum authz_perm perm;
    const char *why;
} rules[AZ_OP_COUNT] = {
    [AZ_DASHBOARD] = {PERM_DASHBOARD_VIEW, "Your role does not show the admin dashboard."},
    [AZ_USERS_VIEW] = {PERM_USERS_VIEW, "Your role does not show user accounts."},
    [AZ_USER] = {PERM_USERS_EDIT, "Your role does not change user accounts."},
    [AZ_GRANT] = {PERM_USERS_EDIT, "Your role does not change user accounts."},
    [AZ_POLICY_VIEW] = {PERM_POLICY_VIEW, "Your role does not show the policy."},
    [AZ_POLICY] = {PERM_POLICY_EDIT, "Your role does not change the policy."},
    [AZ_PASSWORD_SWITCH] = {PERM_PASSWORD_LOGIN,
                            "Only an owner (or a role given password_login.edit) can turn "
                            "password sign-in on or off."},
    [AZ_IDPS_VIEW] = {PERM_IDPS_VIEW, "Your role does not show the identity providers."},
    [AZ_IDP] = {PERM_IDPS_EDIT, "Your role does not change identity providers."},
    [AZ_IDP_TRUST] = {PERM_IDPS_TRUST,
                      "Only an owner can add or remove an identity provider or change what it is "
                      "trusted with (metadata and certificates, domains, group roles, default "
                      "role, IdP-initiated and SHA-1 switches); administrators may rename it and "
                      "set its e-mail and name attributes."},
    [AZ_SAML_LOG] = {PERM_SAML_LOG_VIEW, "Your role does not show the SAML log."},
    [AZ_AUDIT] = {PERM_AUDIT_VIEW, "Your role does not show the audit log."},
    [AZ_ROLES_VIEW] = {PERM_ROLES_VIEW, "Your role does not show the roles."},
    [AZ_ROLES] = {PERM_ROLES_EDIT, "Only an owner can create, change or remove roles."},
};

const struct authz_perm_def *
authz_perms(void)
{
    return perms;
}

enum authz_perm
authz_op_perm(enum authz_op op)
{
    return rules[op].perm;
}

static int
is(const char *a, const char *b)
{
    return a != NULL && strcmp(a, b) == 0;
}

int
authz_is_all_powerful(const char *role)
{
    /* "system": the server's own jobs acting on an owner's standing decision (e.g. the
     * metadata refresh of an IdP an owner registered from a URL); never a request's actor. */
    return is(role, "owner") || is(role, "cli") || is(role, "system");
}

/* For AZ_USER and AZ_GRANT: the target role holds fewer permissions than the actor's. */
static int
below(unsigned actor, const struct authz_role *t, enum authz_op op, const char **no)
{
    if (t == NULL || t->name == NULL) {
        *no = "Not allowed.";
        return 0;
    }
    if (is(t->name, "owner")) {
        *no = op == AZ_GRANT ? "Only an owner can give the owner role."
                             : "Only an owner can change the accounts of owners.";
        return 0;
    }
    if ((t->perms & ~actor) != 0 || t->perms == actor) {
        *no = op == AZ_GRANT ? "Only an owner can give a role that holds as much as yours or more "
                               "(such as the admin role)."
                             : "Only an owner can change the accounts of users whose role holds as "
                               "much as yours or more (such as administrators).";
        return 0;
    }
    return 1;
}

int
authz_allowed(const struct actor *who, enum authz_op op, const struct authz_role *target,
              const char **why)
{
    const char *no = "This needs an administrator.";
    int ok = 0;
    if (who != NULL && authz_is_all_powerful(who->role))
        return 1;
    if (who != NULL && who->role != NULL && (unsigned)op < AZ_OP_COUNT) {
        enum authz_perm p = rules[op].perm;
        /* Owner-only permissions count for no stored role, whatever it holds. */
        unsigned held = who->perms & PERM_GRANTABLE;
        no = rules[op].why;
        if (perms[p].owner_only)
            ok = 0;
        else if ((held & PERM_BIT(p)) == 0)
            ok = 0;
        else if (op == AZ_USER || op == AZ_GRANT)
            ok = below(held, target, op, &no);
        else
            ok = 1;
    }
    if (!ok && why != NULL)
        *why = no;
    return ok;
}

int
authz_holds(const struct actor *who, enum authz_perm p)
{
    if (who == NULL || (unsigned)p >= PERM_COUNT)
        return 0;
    if (authz_is_all_powerful(who->role))
        return 1;
    return !perms[p].owner_only && (who->perms & PERM_BIT(p)) != 0;
}

static int
perm_index(const char *name, size_t n)
{
    for (int i = 0; i < PERM_COUNT; i++)
        if (strlen(perms[i].name) == n && strncmp(perms[i].name, name, n) == 0)
            return i;
    return -1;
}

int
authz_perms_parse(const char *text, unsigned *out, char *bad, size_t len)
{
    *out = 0;
    const char *seps = ", \t\r\n";
    for (const char *p = text ? text : ""; *p != '\0';) {
        size_t skip = strspn(p, seps);
        p += skip;
        size_t n = strcspn(p, seps);
        if (n == 0)
            break;
        int i = n == 1 && p[0] == '*' ? -2 : perm_index(p, n);
        if (i == -1) {
            snprintf(bad, len, "%.*s", (int)(n > 64 ? 64 : n), p);
            return -1;
        }
        *out |= i == -2 ? PERM_GRANTABLE : PERM_BIT(i);
        p += n;
    }
    return 0;
}

char *
authz_perms_format(unsigned set, char *out, size_t len)
{
    size_t used = 0;
    if (len > 0)
        out[0] = '\0';
    for (int i = 0; i < PERM_COUNT && len > 0; i++)
        if (set & PERM_BIT(i)) {
            int w = snprintf(out + used, len - used, "%s%s", used ? "," : "", perms[i].name);
            if (w < 0 || (size_t)w >= len - used)
                break;
            used += (size_t)w;
        }
    return out;
}
