/* auth/admin.h: admin operations on run-time settings shared by gatehousectl, the admin pages
 * and the admin API (account.c and idp.c hold those on users and IdPs). Authorised through
 * auth/authz.h and audited. */
#ifndef GH_AUTH_ADMIN_H
#define GH_AUTH_ADMIN_H

#include <stddef.h>

#include "account.h"

struct json_t; /* jansson's; only the .c files that build JSON include it */

struct app;
struct user;
struct audit_row;
struct saml_log_row;
struct federation_row;
struct store;
struct actor;

/* Sets one policy setting (or password_login) after validating it against the settings table;
 * old and new values go to old_out/new_out (32 bytes each) and the audit log. ACCOUNT_REFUSED
 * with the range on a bad value, ACCOUNT_FORBIDDEN when the actor may not. */
enum account_rc admin_set_setting(struct app *a, struct store *s, const struct actor *who,
                                  const char *key, const char *value, char *old_out, char *new_out,
                                  char *msg, size_t msglen);

/* JSON shapes shared by gatehousectl --json and the admin API. */
struct json_t *admin_user_json(struct store *s, const struct user *u);
struct json_t *admin_audit_json(const struct audit_row *r);
struct json_t *admin_saml_log_json(const struct saml_log_row *r);
/* A federation: url, name, idps, last_refresh, next_refresh ("" = never), refresh_error. */
struct json_t *admin_federation_json(const struct federation_row *f);

#endif
