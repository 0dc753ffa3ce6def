#include "admin.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "audit.h"
#include "authz.h"
#include "clock.h"
#include "login.h"
#include "policy/settings.h"
#include "store.h"

#include <jansson.h>

enum account_rc
admin_set_setting(struct app *a, struct store *s, const struct actor *who, const char *key,
                  const char *value, char *old_out, char *new_out, char *msg, size_t msglen)
{
    const struct setting_def *d = settings_find(key);
    if (d == NULL) {
        snprintf(msg, msglen, "unknown policy setting \"%.64s\" (see: policy show)", key);
        return ACCOUNT_REFUSED;
    }
    const char *why = NULL;
    int is_switch = strcmp(key, "password_login") == 0;
    if (!authz_allowed(who, is_switch ? AZ_PASSWORD_SWITCH : AZ_POLICY, NULL, &why)) {
        snprintf(msg, msglen, "%s", why);
        return ACCOUNT_FORBIDDEN;
    }
    int v;
    char err[200];
    if (settings_parse(d, value, &v, err, sizeof err) != 0) {
        snprintf(msg, msglen, "%s: %s", key, err);
        return ACCOUNT_REFUSED;
    }
    struct policy p;
    app_policy(a, s, &p);
    settings_format(d, settings_get(&p, d), old_out, 32);
    settings_format(d, v, new_out, 32);
    if (store_begin_write(s) != 0 || store_setting_put(s, key, new_out, clock_now()) != 0 ||
        audit_record(s, who, "policy.set", key, old_out, new_out) != 0 || store_commit(s) != 0) {
        store_rollback(s);
        snprintf(msg, msglen, "the store could not save the setting");
        return ACCOUNT_ERROR;
    }
    return ACCOUNT_OK;
}

static const char *
iso_or_empty(time_t t, char *buf, size_t len)
{
    return t ? clock_iso(t, buf, len) : "";
}

json_t *
admin_user_json(struct store *s, const struct user *u)
{
    char a[32], b[32], d[32], e[32];
    time_t until = 0;
    int locked = login_lock_state(s, u->email, &until) == LOGIN_LOCKED;
    return json_pack(
        "{s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:s, s:s, s:s?, s:b, s:s, "
        "s:s}",
        "id", (json_int_t)u->id, "email", u->email, "name", u->display_name, "role", u->role,
        "status", u->status, "auth_method", u->auth_method, "must_change", u->must_change != 0,
        "locked", locked, "locked_until", locked ? iso_or_empty(until, e, sizeof e) : "",
        "created_at", iso_or_empty(u->created_at, a, sizeof a), "last_login_at",
        iso_or_empty(u->last_login_at, b, sizeof b), "password_changed_at",
        strcmp(u->auth_method, "password") == 0 ? iso_or_empty(u->password_changed_at, d, sizeof d)
                                                : NULL,
        "mfa", u->mfa_enabled, "idp", u->idp, "name_id", u->name_id);
}

json_t *
admin_audit_json(const struct audit_row *r)
{
    char at[32];
    clock_iso(r->at, at, sizeof at);
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)r->id,
                     "at", at, "actor", r->actor, "actor_role", r->actor_role, "action", r->action,
                     "target", r->target, "old", r->old_value, "new", r->new_value, "client",
                     r->client_addr, "node", r->node);
}

json_t *
admin_saml_log_json(const struct saml_log_row *r)
{
    char at[32];
    clock_iso(r->at, at, sizeof at);
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:b, "
                     "s:s}",
                     "id", (json_int_t)r->id, "at", at, "client", r->client_addr, "issuer",
                     r->issuer, "name_id", r->name_id, "in_response_to", r->in_response_to,
                     "assertion_id", r->assertion_id, "verdict", r->verdict, "reason", r->reason,
                     "detail", r->detail, "user_id", (json_int_t)r->user_id, "xml_size",
                     (json_int_t)r->xml_size, "xml_kept", r->xml_kept, "skew_seconds",
                     r->has_skew ? json_integer((json_int_t)r->skew_seconds) : json_null(), "test",
                     r->test != 0, "node", r->node);
}

json_t *
admin_federation_json(const struct federation_row *f)
{
    char last[32], next[32];
    return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:i}", "url", f->url, "name", f->name, "idps",
                     f->n_idps, "last_refresh", iso_or_empty(f->last_ok, last, sizeof last),
                     "next_refresh", iso_or_empty(f->next_at, next, sizeof next), "refresh_error",
                     f->last_error, "failures", f->failures);
}
