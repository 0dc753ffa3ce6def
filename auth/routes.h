/* auth/routes.h: the route table and the handlers behind it (route_*.c). */
#ifndef GH_AUTH_ROUTES_H
#define GH_AUTH_ROUTES_H

#include <stddef.h>

#include "authz.h"

struct req;
struct route;

/* The server's routes; *n receives how many. */
const struct route *routes_table(size_t *n);

/* route_login.c */
int route_login_get(struct req *r);
int route_login_post(struct req *r);
int route_logout_post(struct req *r);
int route_home_get(struct req *r);

/* route_discovery.c: find your institution (federation IdPs), and the remembered choice */
int route_discovery_get(struct req *r);
int route_discovery_choose(struct req *r);
/* Links the sign-in page in c to the discovery page when a federation is set up. */
struct tmpl_ctx;
void web_discovery_link(struct req *r, struct tmpl_ctx *c);

/* route_mfa.c */
int route_login_mfa_get(struct req *r);
int route_login_mfa_post(struct req *r);
int route_account_mfa_get(struct req *r);
int route_account_mfa_post(struct req *r);
/* After a right password for u when a second factor is due (enrol: none yet and mfa.required):
 * the short-lived half-signed-in state, bound to this browser by a cookie, and a redirect to
 * /login/mfa. No session exists until the code is right. */
struct user;
int mfa_pending_start(struct req *r, const struct user *u, int change_reason, int enrol);

/* route_admin.c */
int route_admin_home(struct req *r);
int route_admin_users(struct req *r);
int route_admin_users_add(struct req *r);
int route_admin_user(struct req *r);
int route_admin_user_action(struct req *r);
int route_admin_policy(struct req *r);
int route_admin_policy_post(struct req *r);
int route_admin_switch(struct req *r);
int route_admin_switch_post(struct req *r);
int route_admin_idps(struct req *r);
int route_admin_idps_post(struct req *r);
int route_admin_idp_test(struct req *r);
int route_admin_idp_test_post(struct req *r);
int route_admin_federations(struct req *r);
int route_admin_federations_post(struct req *r);
int route_admin_saml_log(struct req *r);
int route_admin_saml_entry(struct req *r);
int route_admin_audit(struct req *r);
/* For the admin page files: 0 when the user is signed in with a role that holds need, else
 * answered (redirect to sign in, or 403) and -1; a page context with the admin navigation. */
int admin_gate(struct req *r, enum authz_perm need);
struct tmpl_ctx *admin_page_ctx(struct req *r, const char *section);
/* route_admin_roles.c */
int route_admin_roles(struct req *r);
int route_admin_roles_post(struct req *r);

/* route_admin_api.c */
int route_admin_api_get(struct req *r);
int route_admin_api_post(struct req *r);
/* The i-th admin API route: its path pattern under /api/admin/ ("*": one segment), with its
 * method and the permission it needs; NULL after the last. */
const char *admin_api_route(size_t i, const char **method, const char **perm);
/* How many IdPs are registered (-1 on error): password sign-in goes off only with one. */
struct store;
int admin_idp_count(struct store *s);

/* route_password.c */
int route_password_change_get(struct req *r);
int route_password_change_post(struct req *r);

/* route_reset.c */
int route_password_reset_get(struct req *r);
int route_password_reset_post(struct req *r);

/* route_api.c */
int route_api_whoami(struct req *r);
int route_api_login(struct req *r);
int route_api_logout(struct req *r);
int route_healthz(struct req *r);
/* GET/HEAD /auth/verify: the forward-auth decision (route_verify.c). */
int route_auth_verify(struct req *r);
/* GET /readyz: JSON readiness (store writable, keys loaded, IdP registry built); 503 when not. */
int route_readyz(struct req *r);
/* /readyz when the thread has no store connection (PostgreSQL away): 503, store not writable. */
int route_readyz_no_store(struct req *r);
int route_metrics(struct req *r);
int route_static(struct req *r);

/* route_saml.c */
int route_saml_metadata(struct req *r);
int route_saml_login(struct req *r);
int route_saml_acs(struct req *r);
int route_saml_slo(struct req *r);
/* For POST /logout of a session from an IdP with an SLO endpoint: a signed LogoutRequest over
 * HTTP-Redirect, or HTTP-POST when the IdP offers only that; send it with saml_send and free it
 * with sp_out_free. -1 when there is none (then the logout is local only). */
struct sp_out;
int saml_logout_start(struct req *r, struct sp_out *out);
/* "Test sign-in" from the admin IdP page: an SP-initiated sign-in to row's IdP whose pending
 * AuthnRequest is marked as a test of the signed-in admin's session (store.h saml_test_row);
 * answers with the redirect (or POST form) to the IdP. */
struct idp_row;
int saml_test_start(struct req *r, const struct idp_row *row);

#endif
