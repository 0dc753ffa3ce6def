/* sp/mockidp/mi_profile.c: the attribute names, NameFormats and NameID formats real IdPs send
 * (see tests/fixtures/idp-samples/ for the responses these shapes come from). */
#include "mi.h"

#include <string.h>

#define CLAIMS "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
#define MS_CLAIMS "http://schemas.microsoft.com/ws/2008/06/identity/claims/"
#define FORMAT_URI "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
#define FORMAT_BASIC "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
#define FORMAT_UNSPECIFIED "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"

static const struct mi_profile profiles[] = {
    /* Okta: unspecified NameID with the username (an e-mail), plain names, NameFormat
     * unspecified. */
    {.name = "okta",
     .assertion_prefix = "saml2",
     .name_id_format = MI_NAMEID_UNSPECIFIED,
     .name_format = FORMAT_UNSPECIFIED,
     .email = "email",
     .given_name = "firstName",
     .surname = "lastName",
     .groups = "groups"},
    /* ADFS: unprefixed assertion namespace, e-mail NameID, WS-Federation claim URIs, groups as
     * the role claim, no NameFormat. */
    {.name = "adfs",
     .assertion_prefix = "",
     .name_id_format = MI_NAMEID_EMAIL,
     .email = CLAIMS "emailaddress",
     .given_name = CLAIMS "givenname",
     .surname = CLAIMS "surname",
     .groups = MS_CLAIMS "role",
     .extra_name = CLAIMS "upn"},
    /* Entra ID (Azure AD): like ADFS, plus displayname, groups under the groups claim, and the UPN
     * in the name claim. */
    {.name = "entra",
     .assertion_prefix = "",
     .name_id_format = MI_NAMEID_EMAIL,
     .email = CLAIMS "emailaddress",
     .given_name = CLAIMS "givenname",
     .surname = CLAIMS "surname",
     .display_name = "http://schemas.microsoft.com/identity/claims/displayname",
     .groups = MS_CLAIMS "groups",
     .extra_name = CLAIMS "name"},
    /* Google Workspace: a NameID without Format, plain names without NameFormat. */
    {.name = "google",
     .assertion_prefix = "saml2",
     .name_id_format = NULL,
     .email = "email",
     .given_name = "firstName",
     .surname = "lastName",
     .groups = "groups"},
    /* Shibboleth: transient NameID, urn:oid names with FriendlyName and the uri NameFormat. */
    {.name = "shibboleth",
     .assertion_prefix = "saml2",
     .name_id_format = MI_NAMEID_TRANSIENT,
     .name_format = FORMAT_URI,
     .email = "urn:oid:0.9.2342.19200300.100.1.3",
     .email_friendly = "mail",
     .given_name = "urn:oid:2.5.4.42",
     .given_friendly = "givenName",
     .surname = "urn:oid:2.5.4.4",
     .surname_friendly = "sn",
     .display_name = "urn:oid:2.16.840.1.113730.3.1.241",
     .display_friendly = "displayName",
     .groups = "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
     .groups_friendly = "isMemberOf",
     .extra_name = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6",
     .extra_friendly = "eduPersonPrincipalName"},
    /* Plain: e-mail NameID, basic NameFormat, the names most SPs expect by default. */
    {.name = "plain",
     .assertion_prefix = "saml",
     .name_id_format = MI_NAMEID_EMAIL,
     .name_format = FORMAT_BASIC,
     .email = "email",
     .given_name = "firstName",
     .surname = "lastName",
     .display_name = "displayName",
     .groups = "groups"},
};

const struct mi_profile *
mi_profile_find(const char *name)
{
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
        if (strcmp(profiles[i].name, name) == 0)
            return &profiles[i];
    return NULL;
}

const char *
mi_profile_names(void)
{
    return "okta|adfs|entra|google|shibboleth|plain";
}

static void
add(struct mi_attrs *out, const char *name, const char *value)
{
    if (name != NULL && value != NULL && value[0] != '\0')
        mi_attrs_add(out, name, value);
}

void
mi_profile_attrs(const struct mi_profile *p, const struct mi_user *user, struct mi_attrs *out)
{
    memset(out, 0, sizeof *out);
    add(out, p->email, user->email);
    add(out, p->given_name, user->given_name);
    add(out, p->surname, user->surname);
    add(out, p->display_name, user->name);
    add(out, p->extra_name, user->email);
    for (int i = 0; i < user->n_groups; i++)
        add(out, p->groups, user->groups[i]);
    for (int i = 0; i < user->attrs.n; i++)
        for (int k = 0; k < user->attrs.a[i].n_values; k++)
            add(out, user->attrs.a[i].name, user->attrs.a[i].values[k]);
}

const char *
mi_profile_friendly(const struct mi_profile *p, const char *name)
{
    const char *pairs[][2] = {
        {p->email, p->email_friendly},     {p->given_name, p->given_friendly},
        {p->surname, p->surname_friendly}, {p->display_name, p->display_friendly},
        {p->groups, p->groups_friendly},   {p->extra_name, p->extra_friendly}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i][0] != NULL && strcmp(pairs[i][0], name) == 0)
            return pairs[i][1];
    return NULL;
}
