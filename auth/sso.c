#include "sso.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "arena.h"
#include "audit.h"
#include "idp.h"
#include "log.h"
#include "roles.h"
#include "samllog.h"
#include "secrets.h"
#include "session.h"
#include "storage.h"
#include "str.h"

/* Attribute names that carry each fact in the shapes IdPs really send: plain (Okta, Google,
 * OneLogin), urn:oid (Shibboleth, eduPerson), claim URIs (ADFS, Entra ID). */
static const char *const EMAIL_ATTRS[] = {
    "email",
    "mail",
    "emailAddress",
    "Email",
    "EmailAddress",
    "User.email",
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
    NULL};
static const char *const FIRST_ATTRS[] = {
    "firstName",
    "givenName",
    "given_name",
    "first_name",
    "FirstName",
    "User.FirstName",
    "urn:oid:2.5.4.42",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    NULL};
static const char *const LAST_ATTRS[] = {
    "lastName",
    "sn",
    "surname",
    "family_name",
    "last_name",
    "LastName",
    "User.LastName",
    "urn:oid:2.5.4.4",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    NULL};
static const char *const DISPLAY_ATTRS[] = {
    "displayName", "urn:oid:2.16.840.1.113730.3.1.241",
    "http://schemas.microsoft.com/identity/claims/displayname", NULL};

static const char *const GROUP_ATTRS[] = {
    "groups",
    "group",
    "Groups",
    "memberOf",
    "isMemberOf",
    "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
    "urn:oid:1.2.840.113556.1.2.102",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
    "http://schemas.xmlsoap.org/claims/Group",
    NULL};

/* One response being accepted: what the steps share. */
/* AuthnContextClassRefs that say the IdP used more than one factor (forward-auth's mfa rule). */
static const char *const MFA_CONTEXTS[] = {
    "https://refeds.org/profile/mfa",
    "http://schemas.microsoft.com/claims/multipleauthn",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactor",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactorContract",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
    NULL};

static int
mfa_context(const char *class_ref)
{
    for (size_t i = 0; MFA_CONTEXTS[i] != NULL; i++)
        if (strcmp(class_ref, MFA_CONTEXTS[i]) == 0)
            return 1;
    return 0;
}

struct acs {
    struct app *app;
    const struct conf *conf; /* the reloadable configuration in force (skew, ages, storage) */
    struct store *s;
    struct arena *ar;
    const char *client;
    time_t now;
    struct sso_outcome *o;
    char email[STORE_EMAIL_MAX];
    char name[STORE_NAME_MAX];
    char key[512];     /* the NameID the user is found by (see map_key) */
    char role[16];     /* from the group mapping, else the IdP's default role */
    int groups_mapped; /* the IdP maps groups to roles: the role follows them at each sign-in */
    char groups[1024]; /* the asserted groups, one per line (whole names only) */
    char account[600]; /* test sign-ins: what would have become of the account */
};

static int
sha1_allowed(const char *issuer, void *ctx)
{
    struct acs *a = ctx;
    struct idp_row row;
    return store_idp_get(a->s, issuer, &row) == 0 && row.allow_sha1;
}

static enum sp_reason
refuse(struct acs *a, enum sp_reason reason, const char *detail)
{
    a->o->v.reason = reason;
    snprintf(a->o->v.detail, sizeof a->o->v.detail, "%.500s", detail);
    return reason;
}

static int
count_mapping(const char *group, const char *role, void *ctx)
{
    (void)group;
    (void)role;
    ++*(int *)ctx;
    return 1;
}

static int
attr_named(const struct sp_attr *at, const char *const *names)
{
    for (size_t i = 0; names[i] != NULL; i++)
        if ((at->name && strcmp(at->name, names[i]) == 0) ||
            (at->friendly_name && strcmp(at->friendly_name, names[i]) == 0))
            return 1;
    return 0;
}

/* The role from the IdP's group -> role mapping: of the roles the user's groups map to, the
 * one holding the most permissions (on a tie admin, then the first name), else the IdP's
 * default role. Owner is never granted by an IdP (the mapping cannot name it). */
static enum sp_reason
map_role(struct acs *a)
{
    snprintf(a->role, sizeof a->role, "%s", a->o->idp.default_role);
    int n = 0;
    if (store_idp_group_roles(a->s, a->o->idp.entity_id, count_mapping, &n) != 0)
        return refuse(a, SP_ERR_INTERNAL, "cannot read the IdP's group mapping");
    a->groups_mapped = n > 0;
    if (!a->groups_mapped)
        return SP_OK;
    const char *const custom[] = {a->o->idp.attr_groups, NULL};
    const char *const *names = a->o->idp.attr_groups[0] ? custom : GROUP_ATTRS;
    int best = -1; /* permissions of the best role so far */
    char chosen[sizeof a->role] = "";
    for (int i = 0; i < a->o->v.n_attrs; i++) {
        const struct sp_attr *at = &a->o->v.attrs[i];
        if (!attr_named(at, names))
            continue;
        for (int k = 0; k < at->n_values; k++) {
            char role[16];
            int r = at->values[k] ? store_idp_role_for_group(a->s, a->o->idp.entity_id,
                                                             at->values[k], role, sizeof role)
                                  : 1;
            if (r < 0)
                return refuse(a, SP_ERR_INTERNAL, "cannot read the IdP's group mapping");
            if (r != 0)
                continue;
            unsigned perms = 0;
            if (roles_perms(a->app->roles, a->s, role, &perms) != 0)
                return refuse(a, SP_ERR_INTERNAL, "cannot read the roles");
            int held = __builtin_popcount(perms);
            if (held > best ||
                (held == best && (strcmp(role, "admin") == 0 ||
                                  (strcmp(chosen, "admin") != 0 && strcmp(role, chosen) < 0)))) {
                best = held;
                snprintf(chosen, sizeof chosen, "%s", role);
            }
        }
    }
    if (best >= 0)
        snprintf(a->role, sizeof a->role, "%s", chosen);
    return SP_OK;
}

/* The asserted groups, kept with the session for forward-auth: one per line, whole names only
 * (a cut name could equal another group's). */
static void
collect_groups(struct acs *a)
{
    const char *const custom[] = {a->o->idp.attr_groups, NULL};
    const char *const *names = a->o->idp.attr_groups[0] ? custom : GROUP_ATTRS;
    size_t used = 0;
    for (int i = 0; i < a->o->v.n_attrs; i++) {
        const struct sp_attr *at = &a->o->v.attrs[i];
        if (!attr_named(at, names))
            continue;
        for (int k = 0; k < at->n_values; k++) {
            const char *g = at->values[k];
            size_t n = g ? strlen(g) : 0;
            if (n == 0 || !str_utf8_clean(g, n, 0) || used + n + 2 > sizeof a->groups)
                continue;
            if (used > 0)
                a->groups[used++] = '\n';
            memcpy(a->groups + used, g, n + 1);
            used += n;
        }
    }
}

#define NAMEID_EMAIL "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
#define NAMEID_TRANSIENT "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"

/* The key the user is found by: the NameID as sent, except that an emailAddress-format NameID
 * is compared case-insensitively and without surrounding whitespace (SAML core 8.3.2 names an
 * address, and IdPs differ in the case they send). Never cut, and only UTF-8 text. */
static enum sp_reason
map_key(struct acs *a)
{
    const char *id = a->o->v.name_id;
    size_t n = strlen(id);
    int email = strcmp(a->o->v.name_id_format, NAMEID_EMAIL) == 0;
    if (email) {
        while (*id == ' ' || *id == '\t' || *id == '\r' || *id == '\n')
            id++, n--;
        while (n > 0 && strchr(" \t\r\n", id[n - 1]) != NULL)
            n--;
    }
    if (n == 0 || !str_utf8_clean(id, n, 0))
        return refuse(a, SP_ERR_IDENTITY,
                      "the NameID is not UTF-8 text (or it holds control characters)");
    if (n >= sizeof a->key) /* sp/ refuses longer ones; kept as the store's bound */
        return refuse(a, SP_ERR_IDENTITY, "the NameID is longer than the stored bound");
    memcpy(a->key, id, n);
    a->key[n] = '\0';
    for (size_t i = 0; email && i < n; i++)
        if (a->key[i] >= 'A' && a->key[i] <= 'Z')
            a->key[i] = (char)(a->key[i] + 32);
    return SP_OK;
}

/* An attribute value that is stored must fit and be UTF-8 text: refused, never cut. */
static enum sp_reason
check_value(struct acs *a, const char *what, const char *value, size_t max)
{
    size_t n = strlen(value);
    char d[200];
    if (!str_utf8_clean(value, n, 0)) {
        snprintf(d, sizeof d, "the %s attribute is not UTF-8 text (or holds control characters)",
                 what);
        return refuse(a, SP_ERR_IDENTITY, d);
    }
    if (n > max) {
        snprintf(d, sizeof d, "the %s attribute is %zu bytes long; at most %zu are stored", what, n,
                 max);
        return refuse(a, SP_ERR_IDENTITY, d);
    }
    return SP_OK;
}

/* The e-mail from the attributes (or an e-mail-shaped NameID). */
static enum sp_reason
map_email(struct acs *a)
{
    const char *const custom[] = {a->o->idp.attr_email, NULL};
    const char *email = sp_verdict_attr(&a->o->v, a->o->idp.attr_email[0] ? custom : EMAIL_ATTRS);
    if (email == NULL && strchr(a->key, '@') != NULL)
        email = a->key;
    if (email == NULL)
        return refuse(a, SP_ERR_ACCOUNT,
                      "the assertion carries no e-mail address (attribute or NameID)");
    /* An address is at most 254 bytes (RFC 5321 4.5.3.1.3 with 3.3's path). */
    if (check_value(a, "e-mail", email, 254) != SP_OK)
        return a->o->v.reason;
    char *norm = str_email_normalize(a->ar, email);
    if (norm == NULL || strlen(norm) >= sizeof a->email)
        return refuse(a, SP_ERR_ACCOUNT, "the e-mail the assertion carries is not an address");
    snprintf(a->email, sizeof a->email, "%s", norm);
    return SP_OK;
}

/* The display name: displayName, else first and last name. */
static enum sp_reason
map_name(struct acs *a)
{
    const struct sp_verdict *v = &a->o->v;
    const char *display = sp_verdict_attr(v, DISPLAY_ATTRS);
    const char *const cf[] = {a->o->idp.attr_first_name, NULL};
    const char *const cl[] = {a->o->idp.attr_last_name, NULL};
    const char *first = sp_verdict_attr(v, a->o->idp.attr_first_name[0] ? cf : FIRST_ATTRS);
    const char *last = sp_verdict_attr(v, a->o->idp.attr_last_name[0] ? cl : LAST_ATTRS);
    const char *name = display ? display
                               : arena_printf(a->ar, "%s%s%s", first ? first : "",
                                              first && last ? " " : "", last ? last : "");
    if (name == NULL)
        return refuse(a, SP_ERR_INTERNAL, "out of memory");
    if (check_value(a, "name", name, sizeof a->name - 1) != SP_OK)
        return a->o->v.reason;
    snprintf(a->name, sizeof a->name, "%s", name);
    return SP_OK;
}

/* An IdP with domains signs in only users of those domains, and no IdP signs in an address of a
 * domain routed to another IdP (not even one with no domains of its own). */
static enum sp_reason
check_domain(struct acs *a)
{
    const char *dom = strrchr(a->email, '@') + 1;
    char owner[512], d[600];
    int r = store_idp_for_domain(a->s, dom, owner, sizeof owner);
    if (r < 0)
        return refuse(a, SP_ERR_INTERNAL, "cannot read the domain routing");
    if (r == 0 && strcmp(owner, a->o->idp.entity_id) != 0) {
        snprintf(d, sizeof d,
                 "%.200s: the domain %.100s is routed to another identity provider (%.150s)",
                 a->email, dom, owner);
        return refuse(a, SP_ERR_DOMAIN, d);
    }
    if (r == 0)
        return SP_OK;
    char domains[1024];
    if (idp_domains_text(a->s, a->o->idp.entity_id, domains, sizeof domains) != 0)
        return refuse(a, SP_ERR_INTERNAL, "cannot read the IdP's domains");
    if (domains[0] == '\0')
        return SP_OK;
    /* Routed to nobody, and this IdP has domains: the address is not one of them. */
    snprintf(d, sizeof d, "%.200s is outside the IdP's domains (%.150s)", a->email, domains);
    return refuse(a, SP_ERR_DOMAIN, d);
}

/* Who the assertion names, with which e-mail, name and role. */
static enum sp_reason
map_identity(struct acs *a)
{
    if (map_key(a) != SP_OK || map_email(a) != SP_OK || map_name(a) != SP_OK ||
        check_domain(a) != SP_OK)
        return a->o->v.reason;
    return map_role(a);
}

/* Whether the user u, who has the asserted e-mail, is this IdP's to sign in: a password account
 * or another IdP's user is never taken over. 0, or the refusal. */
static enum sp_reason
may_take(struct acs *a, const struct user *u)
{
    if (strcmp(u->auth_method, "password") == 0)
        return refuse(a, SP_ERR_ACCOUNT,
                      "a password account has this e-mail; it is not merged with the single "
                      "sign-on identity (an admin deletes it or changes its e-mail first)");
    if (strcmp(u->idp, a->o->idp.entity_id) != 0) {
        char d[400];
        snprintf(d, sizeof d,
                 "the user with this e-mail signs in through another identity provider (%.200s); "
                 "it is not taken over",
                 u->idp);
        return refuse(a, SP_ERR_ACCOUNT, d);
    }
    return SP_OK;
}

/* No user has this IdP's NameID, but one has the e-mail: the same IdP's user under its old
 * NameID is re-keyed (the IdP changed how it names the person: e.g. `alice` when asked for an
 * unspecified format, `alice@example.com` for an IdP-initiated sign-in); any other account is
 * never taken over (may_take). 0 re-keyed (u is the user), or the refusal. */
static enum sp_reason
rekey(struct acs *a, struct user *u, const struct actor *who)
{
    if (may_take(a, u) != SP_OK)
        return a->o->v.reason;
    int rc = store_user_rekey(a->s, u->id, a->o->idp.entity_id, a->key);
    if (rc != 0)
        return refuse(a, SP_ERR_INTERNAL, "the user could not be re-keyed");
    const char *old = arena_printf(a->ar, "name_id=%s", u->name_id);
    const char *now = arena_printf(a->ar, "name_id=%s", a->key);
    if (old == NULL || now == NULL ||
        audit_record(a->s, who, "user.rekey", u->email, old, now) != 0)
        return refuse(a, SP_ERR_INTERNAL, "audit failed");
    log_info("saml user re-keyed user_id=%lld idp=%s", u->id, a->o->idp.entity_id);
    snprintf(u->name_id, sizeof u->name_id, "%s", a->key);
    return SP_OK;
}

/* Creates the user (just-in-time provisioning). */
static enum sp_reason
create_user(struct acs *a, const struct actor *who)
{
    struct user u;
    memset(&u, 0, sizeof u);
    snprintf(u.email, sizeof u.email, "%s", a->email);
    snprintf(u.display_name, sizeof u.display_name, "%s", a->name);
    snprintf(u.role, sizeof u.role, "%s", a->role);
    snprintf(u.status, sizeof u.status, "active");
    snprintf(u.auth_method, sizeof u.auth_method, "saml");
    snprintf(u.idp, sizeof u.idp, "%s", a->o->idp.entity_id);
    snprintf(u.name_id, sizeof u.name_id, "%s", a->key);
    u.created_at = u.last_login_at = a->now;
    if (store_user_insert(a->s, &u, &a->o->user_id) != 0)
        return refuse(a, SP_ERR_INTERNAL, "the user could not be created");
    char detail[128];
    snprintf(detail, sizeof detail, "role=%s method=saml", u.role);
    if (audit_record(a->s, who, "user.provision", u.email, NULL, detail) != 0)
        return refuse(a, SP_ERR_INTERNAL, "audit failed");
    log_info("saml user provisioned user_id=%lld idp=%s", a->o->user_id, a->o->idp.entity_id);
    return SP_OK;
}

/* Finds (or re-keys, or creates) the user, syncing attributes. */
static enum sp_reason
provision(struct acs *a)
{
    struct store *s = a->s;
    struct user u;
    char name[STORE_EMAIL_MAX + 8];
    snprintf(name, sizeof name, "idp:%.250s", a->o->idp.entity_id);
    struct actor who = {name, "system", a->client, 0};
    /* SAML core 8.3.8: a transient NameID is new at each sign-in and names nobody for long: it
     * is never looked up, and the person is found by e-mail (that IdP's user, not re-keyed). */
    int transient = strcmp(a->o->v.name_id_format, NAMEID_TRANSIENT) == 0;
    int found = transient ? 1 : store_user_by_saml(s, a->o->idp.entity_id, a->key, &u);
    if (found < 0)
        return refuse(a, SP_ERR_INTERNAL, "store error");
    if (found == 1) {
        int clash = store_user_by_email(s, a->email, &u);
        if (clash < 0)
            return refuse(a, SP_ERR_INTERNAL, "store error");
        /* A user made from a transient NameID is keyed by the address: the IdP may give the
         * same transient value to someone else later. */
        if (clash == 1 && transient)
            snprintf(a->key, sizeof a->key, "%s", a->email);
        if (clash == 1)
            return create_user(a, &who);
        if ((transient ? may_take(a, &u) : rekey(a, &u, &who)) != SP_OK)
            return a->o->v.reason;
    }
    if (strcmp(u.status, "active") != 0)
        return refuse(a, SP_ERR_ACCOUNT, "the account is disabled");
    a->o->user_id = u.id;
    /* With a group mapping the role follows the groups (an owner stays owner). */
    const char *role = a->groups_mapped && strcmp(u.role, "owner") != 0 ? a->role : u.role;
    if (strcmp(u.role, role) != 0) {
        if (audit_record(s, &who, "user.role_sync", u.email, u.role, role) != 0)
            return refuse(a, SP_ERR_INTERNAL, "audit failed");
    }
    if (strcmp(u.email, a->email) != 0 || strcmp(u.display_name, a->name) != 0 ||
        strcmp(u.role, role) != 0) {
        int rc =
            store_user_saml_sync(s, u.id, a->email, a->name[0] ? a->name : u.display_name, role);
        if (rc == 1)
            return refuse(a, SP_ERR_ACCOUNT,
                          "the new e-mail from the IdP belongs to another "
                          "account");
        if (rc != 0 || audit_record(s, &who, "user.sync", u.email, u.email, a->email) != 0)
            return refuse(a, SP_ERR_INTERNAL, "the user could not be updated");
    }
    if (store_user_set_login(s, u.id, a->now) != 0)
        return refuse(a, SP_ERR_INTERNAL, "store error");
    return SP_OK;
}

/* A test sign-in: what provision() would do with the account, read only, in words. */
static enum sp_reason
would_provision(struct acs *a)
{
    struct user u;
    char *out = a->account;
    size_t len = sizeof a->account;
    int found = store_user_by_saml(a->s, a->o->idp.entity_id, a->key, &u);
    if (found == 0) {
        snprintf(out, len, "signs in as the existing user %.250s (role %s)%s", u.email, u.role,
                 strcmp(u.status, "active") != 0 ? ", but the account is disabled" : "");
        return SP_OK;
    }
    int clash = found == 1 ? store_user_by_email(a->s, a->email, &u) : -1;
    if (found < 0 || clash < 0)
        return refuse(a, SP_ERR_INTERNAL, "store error");
    if (clash == 1)
        snprintf(out, len, "a new user %.250s would be created with role %s", a->email, a->role);
    else if (strcmp(u.auth_method, "password") == 0)
        snprintf(out, len, "refused at a real sign-in: a password account has the e-mail %.250s",
                 a->email);
    else if (strcmp(u.idp, a->o->idp.entity_id) != 0)
        snprintf(out, len,
                 "refused at a real sign-in: %.250s signs in through another identity provider",
                 a->email);
    else
        snprintf(out, len, "the existing user %.250s would be re-keyed to this NameID", u.email);
    return SP_OK;
}

/* The store's part of the verdict, all in one transaction: InResponseTo, replay, user. */
static enum sp_reason
accept_in_store(struct acs *a, const char *relay_state)
{
    struct store *s = a->s;
    long skew = a->conf->sp_clock_skew_seconds;
    if (store_idp_get(s, a->o->v.issuer, &a->o->idp) != 0)
        return refuse(a, SP_ERR_UNKNOWN_ISSUER, "the issuer is not registered");
    if (a->o->v.in_response_to[0] != '\0') {
        int t = store_saml_request_take(s, a->o->v.in_response_to, a->o->idp.entity_id, a->now,
                                        a->o->return_to, sizeof a->o->return_to);
        if (t != 0)
            return refuse(a, t < 0 ? SP_ERR_INTERNAL : SP_ERR_IN_RESPONSE_TO,
                          "InResponseTo names no pending request of ours for this IdP (unknown, "
                          "expired or used already)");
    } else {
        if (!a->o->idp.idp_initiated)
            return refuse(a, SP_ERR_UNSOLICITED,
                          "unsolicited response (no InResponseTo) and "
                          "IdP-initiated sign-in is off for this IdP");
        /* IdP-initiated: RelayState is honoured only where rd= may lead. */
        snprintf(a->o->return_to, sizeof a->o->return_to, "%s",
                 app_safe_redirect(a->app, relay_state) ? relay_state : "/");
    }
    time_t keep = a->o->v.not_on_or_after ? a->o->v.not_on_or_after + skew : a->now + 3600;
    int once = store_saml_assertion_once(s, a->o->v.assertion_id, a->o->idp.entity_id, keep);
    if (once != 0)
        return refuse(a, once < 0 ? SP_ERR_INTERNAL : SP_ERR_REPLAY,
                      "this assertion ID was accepted before");
    enum sp_reason rc = map_identity(a);
    collect_groups(a);
    if (rc == SP_OK && a->o->test)
        return would_provision(a);
    return rc == SP_OK ? provision(a) : rc;
}

static long long
write_log(struct acs *a)
{
    const struct sp_reason_info *ri = sp_reason_info(a->o->v.reason);
    struct saml_log_row row;
    memset(&row, 0, sizeof row);
    row.at = a->now;
    snprintf(row.client_addr, sizeof row.client_addr, "%s", a->client);
    snprintf(row.issuer, sizeof row.issuer, "%s", a->o->v.issuer);
    snprintf(row.name_id, sizeof row.name_id, "%s", a->o->v.name_id);
    snprintf(row.in_response_to, sizeof row.in_response_to, "%s", a->o->v.in_response_to);
    snprintf(row.assertion_id, sizeof row.assertion_id, "%s", a->o->v.assertion_id);
    snprintf(row.verdict, sizeof row.verdict, "%s",
             a->o->v.reason == SP_OK ? "accepted" : "refused");
    snprintf(row.reason, sizeof row.reason, "%s", ri->code);
    snprintf(row.detail, sizeof row.detail, "%s", a->o->v.detail);
    row.user_id = a->o->v.reason == SP_OK ? a->o->user_id : 0;
    row.test = a->o->test;
    /* The IdP's clock, from verified responses only (anyone may post an IssueInstant; sp/
     * reads it only once the signature verified, and this says so again here). */
    if (a->o->v.signature_verified && a->o->v.issue_instant != 0) {
        row.has_skew = 1;
        row.skew_seconds = (long long)(a->o->v.issue_instant - a->now);
    }
    /* Bounded copies may cut inside a character: the log stays UTF-8 for its JSON listings. */
    char *text[] = {row.issuer, row.name_id, row.in_response_to, row.assertion_id, row.detail};
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        str_utf8_scrub(text[i]);
    /* Bounded: an unverified response leaves an excerpt, low room leaves no body. */
    struct storage_room room;
    storage_room(a->conf, &room);
    char excerpt[SAML_LOG_EXCERPT_BYTES + 1];
    samllog_keep(&row, a->o->v.xml, a->o->v.xml_size, a->o->v.signature_verified, room.low,
                 excerpt);
    /* The body carries personal data: at rest it is sealed under the data key. */
    if (samllog_seal(&row, &a->app->secrets) != 0)
        log_error("saml log body not sealed: kept without it");
    long long id = 0;
    if (store_saml_log_append(a->s, &row, &id) != 0)
        log_error("saml log append failed");
    free(row.xml);
    return id;
}

static json_t *
attrs_json(const struct sp_verdict *v)
{
    json_t *arr = json_array();
    for (int i = 0; i < v->n_attrs; i++) {
        const struct sp_attr *at = &v->attrs[i];
        json_t *vals = json_array();
        for (int k = 0; k < at->n_values; k++)
            json_array_append_new(vals, json_string(at->values[k] ? at->values[k] : ""));
        json_array_append_new(arr, json_pack("{s:s?, s:s?, s:o}", "name", at->name, "friendly_name",
                                             at->friendly_name, "values", vals));
    }
    return arr;
}

/* A test sign-in's result: what the response said and what a sign-in would have used. */
static void
record_test(struct acs *a)
{
    struct sso_outcome *o = a->o;
    int ok = o->v.reason == SP_OK;
    json_t *j =
        json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:s}", "name_id", o->v.name_id,
                  "name_id_format", o->v.name_id_format, "authn_context", o->v.authn_context,
                  "attributes", attrs_json(&o->v), "email", a->email, "name", a->name, "role",
                  ok ? a->role : "", "groups", a->groups, "account", a->account);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    /* Utterly large attribute sets: the log entry keeps the response; the result says so. The
     * result is sealed (attributes are personal data): base64 takes 4/3 of it, plus 46. */
    if (text != NULL && strlen(text) / 3 * 4 + 64 >= SAML_TEST_RESULT_MAX) {
        free(text);
        json_object_set_new(j, "attributes", json_string("too many to keep: see the SAML log"));
        text = json_dumps(j, JSON_COMPACT);
    }
    char aad[300];
    snprintf(aad, sizeof aad, "gatehouse saml test v1|%s", o->test_id);
    char *sealed = text ? secrets_seal_text(&a->app->secrets, aad, text, strlen(text)) : NULL;
    if (sealed == NULL || store_saml_test_result(a->s, o->test_id, o->log_id, sealed) < 0)
        log_error("test sign-in result not recorded id=%s", o->test_id);
    free(sealed);
    free(text);
    json_decref(j);
}

/* A response whose InResponseTo names a test sign-in of its issuer. */
static void
find_test(struct acs *a)
{
    struct sso_outcome *o = a->o;
    struct saml_test_row *t = malloc(sizeof *t);
    if (o->v.in_response_to[0] != '\0' && t != NULL &&
        store_saml_test_get(a->s, o->v.in_response_to, t) == 0 &&
        strcmp(t->entity_id, o->v.issuer) == 0 && t->expires_at > a->now) {
        o->test = 1;
        snprintf(o->test_id, sizeof o->test_id, "%s", t->request_id);
    }
    free(t);
}

/* sp/'s checks: signature, issuer, time windows, audience, recipient, ... */
static void
verify(struct acs *a, const struct sso_request *in)
{
    const char *b64 = in->saml_response;
    if (b64 == NULL || b64[0] == '\0') {
        refuse(a, SP_ERR_MALFORMED, "the POST has no SAMLResponse field");
        return;
    }
    struct sp_ref *ref = app_sp_acquire(a->app, a->s, in->idps_version);
    if (ref == NULL) {
        refuse(a, SP_ERR_INTERNAL, "the SAML state could not be built");
        return;
    }
    struct sp_expect e = {a->app->sp_entity_id,
                          a->app->sp_acs_url,
                          a->conf->sp_clock_skew_seconds,
                          a->now,
                          sha1_allowed,
                          a,
                          a->conf->sp_max_response_age_seconds};
    sp_acs_process(ref->sp, b64, strlen(b64), &e, &a->o->v);
    app_sp_release(a->app, ref);
}

/* The accepting transaction: the store's checks, the user, the session, the log row and the
 * sign-in event are saved together or not at all. */
static void
accept_signin(struct acs *a, const struct sso_request *in)
{
    struct sso_outcome *o = a->o;
    if (store_begin_write(a->s) != 0) {
        refuse(a, SP_ERR_INTERNAL, "store busy");
        return;
    }
    if (accept_in_store(a, in->relay_state) == SP_OK && !o->test) {
        struct session_new n = {.user_id = o->user_id,
                                .kind = SESSION_WEB,
                                .client_addr = a->client,
                                .idp = o->idp.entity_id,
                                .name_id = o->v.name_id,
                                .session_index = o->v.session_index,
                                .name_id_format = o->v.name_id_format,
                                .mfa = mfa_context(o->v.authn_context),
                                .authn_context = o->v.authn_context,
                                .groups = a->groups,
                                .ends_at = o->v.session_not_on_or_after};
        if (in->start_session(in->ctx, &n) != 0)
            refuse(a, SP_ERR_INTERNAL, "the session could not be created");
    }
    if (o->v.reason != SP_OK) {
        store_rollback(a->s);
        return;
    }
    o->log_id = write_log(a);
    if (o->test)
        record_test(a);
    else if (store_signin_event(a->s, a->now, "sso", "success") != 0)
        log_warn("sign-in event not recorded");
    if (store_commit(a->s) != 0) {
        store_rollback(a->s);
        refuse(a, SP_ERR_INTERNAL, "the sign-in could not be saved");
    }
}

enum sp_reason
sso_acs(struct app *app, struct store *s, const struct sso_request *in, struct sso_outcome *out)
{
    memset(out, 0, sizeof *out);
    struct app_live *live = app_live_acquire(app);
    struct acs a = {.app = app, .s = s, .client = in->client, .now = in->now, .o = out};
    a.conf = &live->conf;
    a.ar = arena_new();
    if (a.ar == NULL)
        refuse(&a, SP_ERR_INTERNAL, "out of memory");
    else
        verify(&a, in);
    if (a.ar != NULL)
        find_test(&a);
    if (out->v.reason == SP_OK)
        accept_signin(&a, in);
    if (out->v.reason != SP_OK) {
        out->log_id = write_log(&a);
        if (out->test)
            record_test(&a);
        const struct sp_reason_info *ri = sp_reason_info(out->v.reason);
        log_info("saml response refused reason=%s ref=%lld issuer=%s detail=\"%s\"", ri->code,
                 out->log_id, a.ar ? str_log_escape(a.ar, out->v.issuer, 200) : "",
                 a.ar ? str_log_escape(a.ar, out->v.detail, 300) : "");
    }
    arena_free(a.ar);
    app_live_release(app, live);
    return out->v.reason;
}

void
sso_outcome_free(struct sso_outcome *out)
{
    if (out != NULL)
        sp_verdict_free(&out->v);
}
