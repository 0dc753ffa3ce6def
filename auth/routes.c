#include "routes.h"

#include "http.h"

/* Body limits: sign-in and password forms are small; nothing else takes a body yet. */
#define FORM_SMALL (16 * 1024)
/* Metadata documents of up to 1 MiB, urlencoded (uploads take three times that). */
#define SAML_FORM_MAX (1536 * 1024)
/* The ACS form: a SAMLResponse of up to SP_MAX_RESPONSE_B64 (384 KiB) urlencoded ('+', '/', '='
 * and line breaks take three bytes each) and a RelayState. */
#define ACS_FORM_MAX (512 * 1024)

static const struct route table[] = {
    {"GET", "/", route_home_get, 0, 0},
    {"GET", "/login", route_login_get, 0, 0},
    {"POST", "/login", route_login_post, ROUTE_FORM | ROUTE_BLOCKING | ROUTE_SIGNIN, FORM_SMALL},
    {"POST", "/logout", route_logout_post, ROUTE_FORM, FORM_SMALL},
    {"GET", "/login/mfa", route_login_mfa_get, 0, 0},
    {"POST", "/login/mfa", route_login_mfa_post, ROUTE_FORM | ROUTE_SIGNIN, FORM_SMALL},
    {"GET", "/account/mfa", route_account_mfa_get, 0, 0},
    /* Turning TOTP off checks the password: argon2 on the worker pool. */
    {"POST", "/account/mfa", route_account_mfa_post, ROUTE_FORM | ROUTE_BLOCKING, FORM_SMALL},
    {"GET", "/password/change", route_password_change_get, 0, 0},
    {"POST", "/password/change", route_password_change_post, ROUTE_FORM | ROUTE_BLOCKING,
     FORM_SMALL},
    {"GET", "/password/reset", route_password_reset_get, 0, 0},
    /* The e-mailed link's form checks the history and hashes: argon2 on the worker pool. */
    {"POST", "/password/reset", route_password_reset_post, ROUTE_FORM | ROUTE_BLOCKING, FORM_SMALL},
    {"GET", "/api/whoami", route_api_whoami, 0, 0},
    {"POST", "/api/login", route_api_login, ROUTE_JSON | ROUTE_BLOCKING | ROUTE_SIGNIN, FORM_SMALL},
    {"POST", "/api/logout", route_api_logout, 0, 0},
    {"GET", "/saml/metadata", route_saml_metadata, 0, 0},
    {"GET", "/saml/login", route_saml_login, 0, 0},
    {"GET", "/login/discovery", route_discovery_get, 0, 0},
    {"GET", "/login/discovery/choose", route_discovery_choose, 0, 0},
    /* Posted by the IdP's page from another site: no CSRF token, no cookie needed. */
    {"POST", "/saml/acs", route_saml_acs, ROUTE_FORM | ROUTE_NO_CSRF | ROUTE_SAML | ROUTE_SIGNIN,
     ACS_FORM_MAX},
    {"GET", "/saml/slo", route_saml_slo, 0, 0},
    /* HTTP-POST binding: posted by the IdP's page from another site, like the ACS. */
    {"POST", "/saml/slo", route_saml_slo, ROUTE_FORM | ROUTE_NO_CSRF, SAML_FORM_MAX},
    {"GET", "/admin", route_admin_home, 0, 0},
    {"GET", "/admin/users", route_admin_users, 0, 0},
    {"POST", "/admin/users/add", route_admin_users_add, ROUTE_FORM | ROUTE_BLOCKING, FORM_SMALL},
    {"GET", "/admin/users/view", route_admin_user, 0, 0},
    {"POST", "/admin/users/action", route_admin_user_action, ROUTE_FORM | ROUTE_BLOCKING,
     FORM_SMALL},
    {"GET", "/admin/policy", route_admin_policy, 0, 0},
    {"POST", "/admin/policy", route_admin_policy_post, ROUTE_FORM, FORM_SMALL},
    {"GET", "/admin/password-login", route_admin_switch, 0, 0},
    {"POST", "/admin/password-login", route_admin_switch_post, ROUTE_FORM, FORM_SMALL},
    {"GET", "/admin/idps", route_admin_idps, 0, 0},
    /* Pasted metadata: large documents (ADFS's is ~70 KB; aggregates more). */
    {"POST", "/admin/idps", route_admin_idps_post, ROUTE_FORM | ROUTE_MULTIPART, SAML_FORM_MAX * 3},
    {"GET", "/admin/idps/test", route_admin_idp_test, 0, 0},
    {"POST", "/admin/idps/test", route_admin_idp_test_post, ROUTE_FORM, FORM_SMALL},
    {"GET", "/admin/federations", route_admin_federations, 0, 0},
    /* Adding or refreshing fetches the aggregate (up to FEDERATION_FETCH_SECONDS): pooled. */
    {"POST", "/admin/federations", route_admin_federations_post,
     ROUTE_FORM | ROUTE_MULTIPART | ROUTE_BLOCKING, FORM_SMALL * 4},
    {"GET", "/admin/saml-log", route_admin_saml_log, 0, 0},
    {"GET", "/admin/saml-log/view", route_admin_saml_entry, 0, 0},
    {"GET", "/admin/audit", route_admin_audit, 0, 0},
    {"GET", "/admin/roles", route_admin_roles, 0, 0},
    {"POST", "/admin/roles", route_admin_roles_post, ROUTE_FORM, FORM_SMALL},
    {"GET", "/api/admin/", route_admin_api_get, ROUTE_PREFIX, 0},
    /* IdP metadata may be large (aggregates); user creation and resets hash passwords. */
    {"POST", "/api/admin/", route_admin_api_post, ROUTE_PREFIX | ROUTE_JSON | ROUTE_BLOCKING,
     SAML_FORM_MAX * 3},
    {"GET", "/healthz", route_healthz, 0, 0},
    /* Asked by the reverse proxy for every request it passes on (HEAD too). */
    {"GET", "/auth/verify", route_auth_verify, 0, 0},
    {"GET", "/readyz", route_readyz, 0, 0},
    {"GET", "/metrics", route_metrics, 0, 0},
    {"GET", "/static/", route_static, ROUTE_PREFIX | ROUTE_STATIC, 0},
};

const struct route *
routes_table(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}
