/* auth/route_admin.c: the admin pages under /admin (server-rendered, no JavaScript, every form
 * with its CSRF token). They call the same operations as gatehousectl and the admin API
 * (account.c, idp.c, admin.c), so the authorisation (auth/authz.h) and the audit records are the
 * same whichever way an admin works. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "account.h"
#include "admin.h"
#include "app.h"
#include "arena.h"
#include "audit.h"
#include "authz.h"
#include "clock.h"
#include "federation.h"
#include "http.h"
#include "idp.h"
#include "idp_health.h"
#include "log.h"
#include "login.h"
#include "roles.h"
#include "policy/settings.h"
#include "rand.h"
#include "routes.h"
#include "sp/sp.h"
#include "store.h"
#include "samllog.h"
#include "secrets.h"
#include "str.h"
#include "tmpl.h"
#include "web.h"

#define PAGE_ROWS 200

/* The admin, as actor of what the page does. */
static struct actor
actor_of(struct req *r)
{
    return web_actor(r);
}

/* Signed in with a role that holds the permission the page needs; otherwise answered
 * (redirect to sign in, or 403). */
int
admin_gate(struct req *r, enum authz_perm need)
{
    struct web *w = web_of(r);
    if (!w->signed_in) {
        char *back = arena_printf(req_arena(r), "/login?return_to=%s",
                                  str_url_encode(req_arena(r), req_path(r)));
        req_redirect(r, 303, back ? back : "/login");
        return -1;
    }
    struct actor who = actor_of(r);
    if (!authz_holds(&who, need)) {
        const char *why = arena_printf(req_arena(r),
                                       "Your role (%s) does not open this page: it needs the "
                                       "%s permission.",
                                       w->user.role, authz_perms()[need].name);
        web_error(r, 403, why ? why : "Your role does not open this page.");
        return -1;
    }
    return 0;
}

static int
gate(struct req *r, enum authz_perm need)
{
    return admin_gate(r, need);
}

struct banner {
    struct req *r;
    struct tmpl_ctx *c;
};

static void
banner_idp(const struct idp_row *row, time_t expiry, void *ctx)
{
    struct banner *b = ctx;
    struct web *w = web_of(b->r);
    struct tmpl_ctx *it = tmpl_add(b->c, "cert_expiring");
    char at[40];
    long long days = (long long)(expiry - w->now) / 86400;
    tmpl_set(it, "name", row->name[0] ? row->name : row->entity_id);
    tmpl_set(it, "entity_id", row->entity_id);
    tmpl_set(it, "until", clock_format(expiry, at, sizeof at));
    tmpl_set(it, "expired", expiry <= w->now ? "1" : "");
    tmpl_setf(it, "days", "%lld", days);
}

/* The banner on every admin page: IdPs whose signing certificate expires within
 * IDP_HEALTH_WARN_DAYS (the first few by name, and how many in all). */
static void
cert_banner(struct req *r, struct tmpl_ctx *c)
{
    struct banner b = {r, c};
    int n = 0;
    if (idp_health_expiring(web_of(r)->store, web_of(r)->now, 5, banner_idp, &b, &n) != 0 || n == 0)
        return;
    tmpl_setf(c, "cert_banner", "%d", n);
    if (n > 5)
        tmpl_setf(c, "cert_banner_more", "%d", n - 5);
}

static struct tmpl_ctx *
admin_ctx(struct req *r, const char *section)
{
    return admin_page_ctx(r, section);
}

/* The admin navigation shows the pages the role opens. */
static void
nav_links(struct req *r, struct tmpl_ctx *c)
{
    static const struct {
        const char *key;
        enum authz_perm perm;
    } links[] = {
        {"may_dashboard", PERM_DASHBOARD_VIEW}, {"may_users", PERM_USERS_VIEW},
        {"may_policy", PERM_POLICY_VIEW},       {"may_idps", PERM_IDPS_VIEW},
        {"may_saml_log", PERM_SAML_LOG_VIEW},   {"may_audit", PERM_AUDIT_VIEW},
        {"may_roles", PERM_ROLES_VIEW},
    };
    struct actor who = actor_of(r);
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
        tmpl_set(c, links[i].key, authz_holds(&who, links[i].perm) ? "1" : "");
}

struct tmpl_ctx *
admin_page_ctx(struct req *r, const char *section)
{
    struct web *w = web_of(r);
    struct tmpl_ctx *c = web_ctx(r);
    tmpl_set(c, "wide", "1");
    tmpl_set(c, section, "1");
    tmpl_set(c, "is_owner", strcmp(w->user.role, "owner") == 0 ? "1" : "");
    nav_links(r, c);
    struct actor who = actor_of(r);
    if (authz_holds(&who, PERM_IDPS_VIEW))
        cert_banner(r, c);
    return c;
}

static int
page(struct req *r, int status, const char *name, const char *title, struct tmpl_ctx *c)
{
    return web_page(r, status, name, title, c);
}

static const char *
result_message(enum account_rc rc, const char *msg)
{
    if (rc == ACCOUNT_ERROR)
        return "The store could not complete the change. Try again.";
    return msg;
}

static int
rc_status(enum account_rc rc)
{
    return rc == ACCOUNT_OK          ? 200
           : rc == ACCOUNT_FORBIDDEN ? 403
           : rc == ACCOUNT_REFUSED   ? 422
                                     : 500;
}

/* ---- dashboard ---- */

struct hours {
    long long n[24][4]; /* password ok, password failed, sso ok, sso failed */
    time_t first;
};

static void
count_hour(time_t hour, const char *method, const char *result, long long n, void *ctx)
{
    struct hours *h = ctx;
    long idx = (long)((hour - h->first) / 3600);
    if (idx < 0 || idx >= 24)
        return;
    int sso = strcmp(method, "sso") == 0, ok = strcmp(result, "success") == 0;
    h->n[idx][sso * 2 + !ok] += n;
}

/* Grouped bars per hour, as inline SVG (no script, no style attribute: the CSP allows none). */
static char *
chart_svg(struct arena *ar, const struct hours *h)
{
    static const char *const fill[4] = {"#1a7f37", "#cf222e", "#0b57d0", "#bf8700"};
    long long max = 1;
    for (int i = 0; i < 24; i++)
        for (int k = 0; k < 4; k++)
            if (h->n[i][k] > max)
                max = h->n[i][k];
    const int W = 960, H = 240, top = 20, bottom = 30, left = 40, slot = (W - left) / 24;
    size_t cap = 64 * 1024, n = 0;
    char *s = arena_alloc(ar, cap);
    if (s == NULL)
        return NULL;
    n += (size_t)snprintf(s + n, cap - n,
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                          "role=\"img\" aria-labelledby=\"chart-title\" class=\"chart\">"
                          "<title id=\"chart-title\">Sign-ins per hour over the last 24 hours"
                          "</title><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
                          "stroke=\"#8c959f\"/><text x=\"0\" y=\"%d\" font-size=\"12\">%lld"
                          "</text><text x=\"0\" y=\"%d\" font-size=\"12\">0</text>",
                          W, H, left, H - bottom, W, H - bottom, top + 10, max, H - bottom);
    for (int i = 0; i < 24; i++) {
        int x0 = left + i * slot + 2, bw = (slot - 6) / 4;
        for (int k = 0; k < 4; k++) {
            int bh = (int)((double)h->n[i][k] * (H - top - bottom) / (double)max);
            if (bh > 0)
                n += (size_t)snprintf(s + n, cap - n,
                                      "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                                      "fill=\"%s\"><title>%lld</title></rect>",
                                      x0 + k * bw, H - bottom - bh, bw, bh, fill[k], h->n[i][k]);
        }
        if (i % 3 == 0) {
            char hh[8];
            time_t t = h->first + (time_t)i * 3600;
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(hh, sizeof hh, "%H:00", &tm);
            n += (size_t)snprintf(s + n, cap - n,
                                  "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>", x0, H - 10,
                                  hh);
        }
    }
    snprintf(s + n, cap - n, "</svg>");
    return s;
}

int
route_admin_home(struct req *r)
{
    if (gate(r, PERM_DASHBOARD_VIEW) != 0)
        return 0;
    struct web *w = web_of(r);
    struct hours h;
    memset(&h, 0, sizeof h);
    h.first = (w->now / 3600 - 23) * 3600;
    long long locked = 0;
    if (store_signin_hourly(w->store, h.first, count_hour, &h) != 0 ||
        login_locked_count(w->store, &locked) != 0) {
        web_error(r, 500, "The sign-in counts could not be read.");
        return 0;
    }
    struct tmpl_ctx *c = admin_ctx(r, "nav_home");
    long long tot[4] = {0};
    for (int i = 0; i < 24; i++)
        for (int k = 0; k < 4; k++)
            tot[k] += h.n[i][k];
    tmpl_set(c, "chart", chart_svg(req_arena(r), &h));
    tmpl_setf(c, "pw_ok", "%lld", tot[0]);
    tmpl_setf(c, "pw_bad", "%lld", tot[1]);
    tmpl_setf(c, "sso_ok", "%lld", tot[2]);
    tmpl_setf(c, "sso_bad", "%lld", tot[3]);
    tmpl_setf(c, "locked", "%lld", locked);
    return page(r, 200, "admin_home", "Admin", c);
}

/* ---- users ---- */

struct role_options {
    struct tmpl_ctx *c;
    struct actor who;
    const char *current;
};

/* The roles the select offers: the user's own and those the admin may give. */
static void
role_option(const char *name, unsigned perms, void *ctx)
{
    struct role_options *o = ctx;
    struct authz_role role = {name, perms};
    int current = strcmp(name, o->current) == 0;
    if (!current && !authz_allowed(&o->who, AZ_GRANT, &role, NULL))
        return;
    struct tmpl_ctx *it = tmpl_add(o->c, "roles");
    tmpl_set(it, "value", name);
    tmpl_set(it, "selected", current ? "1" : "");
}

static const char *
user_state(struct req *r, const struct user *u, struct store *s)
{
    time_t locked_until = 0;
    char until[40];
    if (strcmp(u->status, "active") != 0)
        return "disabled";
    if (login_lock_state(s, u->email, &locked_until) == LOGIN_LOCKED)
        return arena_printf(req_arena(r), "locked until %s",
                            clock_format(locked_until, until, sizeof until));
    if (u->must_change)
        return "must change password";
    return "active";
}

struct list_users {
    struct req *r;
    struct tmpl_ctx *c;
    const char *q;
    int n;
};

static int
list_user(const struct user *u, void *ctx)
{
    struct list_users *l = ctx;
    struct web *w = web_of(l->r);
    if (l->q && l->q[0] && !strcasestr(u->email, l->q) && !strcasestr(u->display_name, l->q))
        return 0;
    struct tmpl_ctx *it = tmpl_add(l->c, "users");
    tmpl_set(it, "email", u->email);
    tmpl_set(it, "link", str_url_encode(req_arena(l->r), u->email));
    tmpl_set(it, "name", u->display_name);
    tmpl_set(it, "role", u->role);
    tmpl_set(it, "method", u->auth_method);
    tmpl_set(it, "state", user_state(l->r, u, w->store));
    tmpl_set(it, "mfa", u->mfa_enabled ? "TOTP" : "");
    return ++l->n >= PAGE_ROWS;
}

static int
users_page(struct req *r, int status, const char *error, const char *notice, const char *temp)
{
    struct web *w = web_of(r);
    struct tmpl_ctx *c = admin_ctx(r, "nav_users");
    const char *q = req_query(r, "q");
    struct list_users l = {r, c, q, 0};
    store_user_list(w->store, list_user, &l);
    struct role_options ro = {c, actor_of(r), "member"};
    roles_each(w->app->roles, w->store, role_option, &ro);
    tmpl_set(c, "q", q);
    tmpl_set(c, "error", error);
    tmpl_set(c, "notice", notice);
    tmpl_set(c, "temp", temp);
    return page(r, status, "admin_users", "Users", c);
}

int
route_admin_users(struct req *r)
{
    return gate(r, PERM_USERS_VIEW) != 0 ? 0 : users_page(r, 200, NULL, NULL, NULL);
}

int
route_admin_users_add(struct req *r)
{
    if (gate(r, PERM_USERS_EDIT) != 0)
        return 0;
    struct web *w = web_of(r);
    struct actor who = actor_of(r);
    char temp[ACCOUNT_TEMP_MAX], msg[256] = "";
    const char *email = req_form(r, "email"), *role = req_form(r, "role");
    enum account_rc rc =
        account_create(w->app, w->store, &who, email ? email : "", req_form(r, "name"),
                       role ? role : "member", temp, msg, sizeof msg);
    if (rc != ACCOUNT_OK)
        return users_page(r, rc_status(rc), result_message(rc, msg), NULL, NULL);
    char *shown = arena_strdup(req_arena(r), temp);
    OPENSSL_cleanse(temp, sizeof temp);
    return users_page(r, 200, NULL,
                      arena_printf(req_arena(r),
                                   "Created %s. Give them this temporary "
                                   "password; they choose their own at the first "
                                   "sign-in:",
                                   email),
                      shown);
}

static int
user_page(struct req *r, int status, const char *email, const char *error, const char *notice,
          const char *temp)
{
    struct web *w = web_of(r);
    struct arena *ar = req_arena(r);
    char *norm = email ? str_email_normalize(ar, email) : NULL;
    struct user u;
    if (norm == NULL || store_user_by_email(w->store, norm, &u) != 0) {
        if (notice != NULL) /* deleted */
            return users_page(r, status, NULL, notice, NULL);
        web_error(r, 404, "There is no such user.");
        return 0;
    }
    struct tmpl_ctx *c = admin_ctx(r, "nav_users");
    char a[40], b[40], d[40];
    tmpl_set(c, "email", u.email);
    tmpl_set(c, "name", u.display_name);
    tmpl_set(c, "role", u.role);
    tmpl_set(c, "method", u.auth_method);
    tmpl_set(c, "is_password", strcmp(u.auth_method, "password") == 0 ? "1" : "");
    tmpl_set(c, "idp", u.idp);
    tmpl_set(c, "state", user_state(r, &u, w->store));
    tmpl_set(c, "active", strcmp(u.status, "active") == 0 ? "1" : "");
    tmpl_set(c, "mfa", u.mfa_enabled ? "1" : "");
    tmpl_set(c, "created", clock_format(u.created_at, a, sizeof a));
    tmpl_set(c, "last_login",
             u.last_login_at ? clock_format(u.last_login_at, b, sizeof b) : "never");
    tmpl_set(c, "changed",
             u.password_changed_at && strcmp(u.auth_method, "password") == 0
                 ? clock_format(u.password_changed_at, d, sizeof d)
                 : "");
    struct role_options ro = {c, actor_of(r), u.role};
    roles_each(w->app->roles, w->store, role_option, &ro);
    const char *why = NULL;
    struct authz_role target = {u.role, 0};
    roles_perms(w->app->roles, w->store, u.role, &target.perms);
    tmpl_set(c, "may_change", authz_allowed(&ro.who, AZ_USER, &target, &why) ? "1" : "");
    tmpl_set(c, "why_not", why);
    tmpl_set(c, "error", error);
    tmpl_set(c, "notice", notice);
    tmpl_set(c, "temp", temp);
    return page(r, status, "admin_user", u.email, c);
}

int
route_admin_user(struct req *r)
{
    return gate(r, PERM_USERS_VIEW) != 0
               ? 0
               : user_page(r, 200, req_query(r, "email"), NULL, NULL, NULL);
}

int
route_admin_user_action(struct req *r)
{
    if (gate(r, PERM_USERS_EDIT) != 0)
        return 0;
    struct web *w = web_of(r);
    struct actor who = actor_of(r);
    const char *email = req_form(r, "email"), *action = req_form(r, "action");
    if (email == NULL || action == NULL)
        return user_page(r, 400, email, "This form is incomplete. Reload and try again.", NULL,
                         NULL);
    char msg[256] = "", temp[ACCOUNT_TEMP_MAX] = "";
    const char *done = NULL;
    enum account_rc rc = ACCOUNT_REFUSED;
    if (strcmp(action, "unlock") == 0) {
        rc = account_unlock(w->app, w->store, &who, email, msg, sizeof msg);
        done = "Unlocked.";
    } else if (strcmp(action, "reset_password") == 0) {
        rc = account_reset_password(w->app, w->store, &who, email, temp, msg, sizeof msg);
        done = "Password reset; the user's sessions ended. Temporary password:";
    } else if (strcmp(action, "force_change") == 0) {
        rc = account_force_change(w->app, w->store, &who, email, msg, sizeof msg);
        done = "The user must choose a new password at the next sign-in.";
    } else if (strcmp(action, "mfa_reset") == 0) {
        rc = account_mfa_reset(w->app, w->store, &who, email, msg, sizeof msg);
        done = "Two-step verification removed.";
    } else if (strcmp(action, "disable") == 0 || strcmp(action, "enable") == 0) {
        rc = account_set_status(w->app, w->store, &who, email,
                                action[0] == 'd' ? "disabled" : "active", msg, sizeof msg);
        done = action[0] == 'd' ? "Disabled; the user's sessions ended." : "Enabled.";
    } else if (strcmp(action, "set_role") == 0) {
        const char *role = req_form(r, "role");
        rc = account_set_role(w->app, w->store, &who, email, role ? role : "", msg, sizeof msg);
        done = "Role changed.";
    } else if (strcmp(action, "delete") == 0) {
        if (req_form(r, "confirm") == NULL)
            return user_page(r, 400, email, "Tick the box to confirm the deletion.", NULL, NULL);
        rc = account_delete(w->app, w->store, &who, email, msg, sizeof msg);
        if (rc == ACCOUNT_OK)
            return users_page(r, 200, NULL, arena_printf(req_arena(r), "Deleted %s.", email), NULL);
    } else {
        snprintf(msg, sizeof msg, "Unknown action.");
    }
    int st = rc_status(rc);
    const char *shown = temp[0] ? arena_strdup(req_arena(r), temp) : NULL;
    OPENSSL_cleanse(temp, sizeof temp);
    if (rc != ACCOUNT_OK)
        return user_page(r, st, email, result_message(rc, msg), NULL, NULL);
    return user_page(r, 200, email, NULL, done, shown);
}

/* ---- policy ---- */

static int
policy_page(struct req *r, int status, const char *error, const char *notice, const char *bad_key,
            const char *bad_msg)
{
    struct web *w = web_of(r);
    struct policy p;
    app_policy(w->app, w->store, &p);
    struct tmpl_ctx *c = admin_ctx(r, "nav_policy");
    size_t n;
    const struct setting_def *t = settings_table(&n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].name, "password_login") == 0)
            continue;
        char val[32], def[32], range[96];
        settings_format(&t[i], settings_get(&p, &t[i]), val, sizeof val);
        settings_format(&t[i], t[i].def, def, sizeof def);
        settings_range_text(&t[i], range, sizeof range);
        struct tmpl_ctx *it = tmpl_add(c, "settings");
        const char *posted = status != 200 ? req_form(r, t[i].name) : NULL;
        tmpl_set(it, "key", t[i].name);
        tmpl_set(it, "id", arena_printf(req_arena(r), "s%zu", i));
        tmpl_set(it, "value", posted ? posted : val);
        tmpl_set(it, "range", range);
        tmpl_set(it, "default", def);
        tmpl_set(it, "description", t[i].description);
        if (bad_key && strcmp(bad_key, t[i].name) == 0)
            tmpl_set(it, "field_error", bad_msg);
    }
    tmpl_set(c, "error", error);
    tmpl_set(c, "notice", notice);
    return page(r, status, "admin_policy", "Policy", c);
}

int
route_admin_policy(struct req *r)
{
    return gate(r, PERM_POLICY_VIEW) != 0 ? 0 : policy_page(r, 200, NULL, NULL, NULL, NULL);
}

int
route_admin_policy_post(struct req *r)
{
    if (gate(r, PERM_POLICY_EDIT) != 0)
        return 0;
    struct web *w = web_of(r);
    size_t n;
    const struct setting_def *t = settings_table(&n);
    /* Every field is checked before any is stored: inline errors, nothing half-saved. */
    for (size_t i = 0; i < n; i++) {
        const char *v = req_form(r, t[i].name);
        int parsed;
        char why[200];
        if (strcmp(t[i].name, "password_login") == 0 || v == NULL)
            continue;
        if (settings_parse(&t[i], v, &parsed, why, sizeof why) != 0)
            return policy_page(r, 422, "Nothing was saved: correct the field marked below.", NULL,
                               t[i].name, why);
    }
    struct actor who = actor_of(r);
    struct policy p;
    app_policy(w->app, w->store, &p);
    int changed = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = req_form(r, t[i].name);
        char cur[32], oldv[32], newv[32], msg[300];
        int parsed;
        if (strcmp(t[i].name, "password_login") == 0 || v == NULL ||
            settings_parse(&t[i], v, &parsed, msg, sizeof msg) != 0)
            continue;
        settings_format(&t[i], settings_get(&p, &t[i]), cur, sizeof cur);
        settings_format(&t[i], parsed, newv, sizeof newv);
        if (strcmp(cur, newv) == 0)
            continue;
        enum account_rc rc =
            admin_set_setting(w->app, w->store, &who, t[i].name, v, oldv, newv, msg, sizeof msg);
        if (rc != ACCOUNT_OK)
            return policy_page(r, rc_status(rc), result_message(rc, msg), NULL, NULL, NULL);
        changed++;
    }
    return policy_page(
        r, 200, NULL,
        changed ? arena_printf(req_arena(r), "Saved %d change%s.", changed, changed == 1 ? "" : "s")
                : "Nothing to change.",
        NULL, NULL);
}

/* ---- the password sign-in switch ---- */

static int
switch_page(struct req *r, int status, const char *error, const char *notice)
{
    struct web *w = web_of(r);
    struct policy p;
    app_policy(w->app, w->store, &p);
    struct tmpl_ctx *c = admin_ctx(r, "nav_switch");
    struct actor who = actor_of(r);
    int idps = admin_idp_count(w->store);
    tmpl_set(c, "on", p.password_login ? "1" : "");
    tmpl_set(c, "no_idp", idps == 0 ? "1" : "");
    tmpl_set(c, "may_switch", authz_allowed(&who, AZ_PASSWORD_SWITCH, NULL, NULL) ? "1" : "");
    tmpl_set(c, "error", error);
    tmpl_set(c, "notice", notice);
    return page(r, status, "admin_switch", "Password sign-in", c);
}

int
route_admin_switch(struct req *r)
{
    return gate(r, PERM_POLICY_VIEW) != 0 ? 0 : switch_page(r, 200, NULL, NULL);
}

int
route_admin_switch_post(struct req *r)
{
    /* The page answers the refusal of the switch itself (AZ_PASSWORD_SWITCH) with its reason. */
    if (gate(r, PERM_POLICY_VIEW) != 0)
        return 0;
    struct web *w = web_of(r);
    const char *to = req_form(r, "password_login");
    if (to == NULL || (strcmp(to, "on") != 0 && strcmp(to, "off") != 0))
        return switch_page(r, 400, "This form is incomplete. Reload and try again.", NULL);
    const char *why = NULL;
    struct actor me = actor_of(r);
    if (!authz_allowed(&me, AZ_PASSWORD_SWITCH, NULL, &why))
        return switch_page(r, 403, why, NULL);
    if (strcmp(to, "off") == 0) {
        if (admin_idp_count(w->store) == 0)
            return switch_page(r, 409,
                               "Set up an identity provider first: with password sign-in off "
                               "and no SSO, only owners could still sign in.",
                               NULL);
        if (req_form(r, "confirm") == NULL)
            return switch_page(r, 400, "Tick the box to confirm.", NULL);
    }
    struct actor who = actor_of(r);
    char oldv[32], newv[32], msg[300];
    enum account_rc rc = admin_set_setting(w->app, w->store, &who, "password_login", to, oldv, newv,
                                           msg, sizeof msg);
    if (rc != ACCOUNT_OK)
        return switch_page(r, rc_status(rc), result_message(rc, msg), NULL);
    return switch_page(r, 200, NULL,
                       strcmp(to, "off") == 0
                           ? "Password sign-in is off. Owners keep the emergency sign-in."
                           : "Password sign-in is on.");
}

/* ---- IdPs ---- */

struct list_idps {
    struct req *r;
    struct tmpl_ctx *c;
};

static void
health_event(struct tmpl_ctx *it, const char *key, const struct idp_health_event *e)
{
    if (e->at == 0)
        return;
    char at[40];
    struct tmpl_ctx *ev = tmpl_add(it, key);
    tmpl_set(ev, "at", clock_format(e->at, at, sizeof at));
    tmpl_setf(ev, "log_id", "%lld", e->log_id);
    tmpl_set(ev, "reason", e->reason);
    tmpl_set(ev, "detail", e->detail);
}

/* The IdP's health: last accepted and refused responses, certificate expiry. */
static void
health_panel(struct req *r, struct tmpl_ctx *it, const struct idp_row *row)
{
    struct web *w = web_of(r);
    struct idp_health h;
    if (idp_health_get(w->store, row, w->now, &h) != 0) {
        tmpl_set(it, "health_error", "1");
        return;
    }
    health_event(it, "last_accepted", &h.last_accepted);
    health_event(it, "last_refused", &h.last_refused);
    char first[40], last[40];
    if (h.n_certs > 0) {
        tmpl_set(it, "cert_first_expiry", clock_format(h.cert_first_expiry, first, sizeof first));
        tmpl_set(it, "cert_last_expiry", clock_format(h.cert_last_expiry, last, sizeof last));
        tmpl_set(it, "cert_several", h.n_certs > 1 ? "1" : "");
        tmpl_setf(it, "cert_days", "%lld", (long long)(h.cert_first_expiry - w->now) / 86400);
    }
    if (h.skew_n > 0) {
        tmpl_setf(it, "skew_n", "%d", h.skew_n);
        tmpl_setf(it, "skew_median", "%+lld", h.skew_median);
        tmpl_setf(it, "skew_max", "%+lld", h.skew_max);
        tmpl_setf(it, "skew_last", "%+lld", h.skew_last);
        /* Beyond half the allowed skew, responses are at risk of refusal. */
        tmpl_set(it, "skew_warning",
                 llabs(h.skew_max) * 2 > w->app->conf.sp_clock_skew_seconds ? "1" : "");
        tmpl_setf(it, "skew_allowed", "%ld", (long)w->app->conf.sp_clock_skew_seconds);
    }
    tmpl_set(it, "cert_warning", h.cert_warning ? "1" : "");
    tmpl_set(it, "cert_expired", h.n_certs > 0 && h.cert_first_expiry <= w->now ? "1" : "");
}

struct idp_role_opts {
    struct tmpl_ctx *it;
    const char *current;
};

/* The roles an IdP may give its new users: any but owner. */
static void
idp_role_option(const char *name, unsigned perms, void *ctx)
{
    struct idp_role_opts *o = ctx;
    (void)perms;
    if (strcmp(name, "owner") == 0)
        return;
    struct tmpl_ctx *opt = tmpl_add(o->it, "role_opts");
    tmpl_set(opt, "value", name);
    tmpl_set(opt, "selected", strcmp(name, o->current) == 0 ? "1" : "");
}

static int
list_idp(const struct idp_row *row, void *ctx)
{
    struct list_idps *l = ctx;
    struct web *w = web_of(l->r);
    struct tmpl_ctx *it = tmpl_add(l->c, "idps");
    char domains[1024], groups[1024];
    idp_domains_text(w->store, row->entity_id, domains, sizeof domains);
    idp_group_roles_text(w->store, row->entity_id, groups, sizeof groups);
    tmpl_set(it, "entity_id", row->entity_id);
    tmpl_set(it, "name", row->name);
    tmpl_set(it, "domains", domains);
    tmpl_set(it, "sso", row->sso_redirect[0] ? row->sso_redirect : row->sso_post);
    tmpl_set(it, "slo", row->slo_redirect);
    tmpl_set(it, "certs", row->certs);
    tmpl_set(it, "idp_initiated", row->idp_initiated ? "1" : "");
    tmpl_set(it, "default_role", row->default_role);
    tmpl_set(it, "attr_email", row->attr_email);
    tmpl_set(it, "attr_first_name", row->attr_first_name);
    tmpl_set(it, "attr_last_name", row->attr_last_name);
    tmpl_set(it, "attr_groups", row->attr_groups);
    tmpl_set(it, "name_id_format", row->name_id_format);
    tmpl_set(it, arena_printf(req_arena(l->r), "nid_%s", row->name_id_format), "1");
    /* One "GROUP=ROLE" per line in the form. */
    for (char *p = groups; *p; p++)
        if (*p == ';')
            *p = '\n';
    tmpl_set(it, "group_roles", groups);
    struct idp_role_opts ro = {it, row->default_role};
    roles_each(w->app->roles, w->store, idp_role_option, &ro);
    health_panel(l->r, it, row);
    struct idp_source src;
    if (store_idp_source_get(w->store, row->entity_id, &src) == 0) {
        char last[32] = "never", next[32];
        if (src.last_ok != 0)
            clock_iso(src.last_ok, last, sizeof last);
        clock_iso(src.next_at, next, sizeof next);
        tmpl_set(it, "metadata_url", src.url);
        tmpl_set(it, "metadata_signed", src.signer_cert[0] ? "1" : "");
        tmpl_set(it, "last_refresh", last);
        tmpl_set(it, "next_refresh", next);
        tmpl_set(it, "refresh_error", src.last_error);
    }
    return 0;
}

static int
idps_page(struct req *r, int status, const char *error, const char *notice)
{
    struct web *w = web_of(r);
    struct tmpl_ctx *c = admin_ctx(r, "nav_idps");
    struct list_idps l = {r, c};
    store_idp_list(w->store, list_idp, &l);
    tmpl_set(c, "error", error);
    tmpl_set(c, "notice", notice);
    tmpl_set(c, "sp_metadata", w->app->sp_entity_id);
    /* Admins see the trust settings read-only: the controls they cannot use are not there. */
    struct actor who = actor_of(r);
    tmpl_set(c, "may_trust", authz_allowed(&who, AZ_IDP_TRUST, NULL, NULL) ? "1" : "");
    if (status != 200) {
        tmpl_set(c, "form_metadata", req_form(r, "metadata"));
        tmpl_set(c, "form_domains", req_form(r, "domains"));
        tmpl_set(c, "form_name", req_form(r, "name"));
    }
    return page(r, status, "admin_idps", "Identity providers", c);
}

int
route_admin_idps(struct req *r)
{
    return gate(r, PERM_IDPS_VIEW) != 0 ? 0 : idps_page(r, 200, NULL, NULL);
}

/* Splits text at commas, spaces and newlines into list (in the arena); -1 when too many. */
static int
split_list(struct req *r, const char *text, const char *seps, const char **list, size_t max,
           size_t *n)
{
    *n = 0;
    if (text == NULL)
        return 0;
    char *copy = arena_strdup(req_arena(r), text), *save = NULL;
    for (char *tok = copy ? strtok_r(copy, seps, &save) : NULL; tok;
         tok = strtok_r(NULL, seps, &save)) {
        if (*n == max)
            return -1;
        list[(*n)++] = tok;
    }
    return 0;
}

/* The options of the add or set form. An admin's set form has no trust fields (no "domains"):
 * those stay unchanged; a form that has them sends them all, and idp_set refuses an admin's
 * change to any. */
static int
idp_form_options(struct req *r, struct idp_options *o, int set)
{
    memset(o, 0, sizeof *o);
    const char *name = req_form(r, "name");
    o->name = name && name[0] ? name : NULL;
    if (set) {
        o->attr_email = req_form(r, "attr_email");
        o->attr_first_name = req_form(r, "attr_first_name");
        o->attr_last_name = req_form(r, "attr_last_name");
        o->name_id_format = req_form(r, "name_id_format");
    }
    o->allow_sha1 = set ? -1 : 0;
    if (set && req_form(r, "domains") == NULL) {
        o->idp_initiated = -1;
        return 0;
    }
    o->idp_initiated = req_form(r, "idp_initiated") != NULL;
    o->default_role = req_form(r, "default_role");
    o->set_domains = o->set_group_roles = 1;
    if (set)
        o->attr_groups = req_form(r, "attr_groups");
    if (split_list(r, req_form(r, "domains"), ", \t\r\n", o->domains, IDP_MAX_DOMAINS,
                   &o->n_domains) != 0 ||
        split_list(r, req_form(r, "group_roles"), "\r\n", o->group_roles, IDP_MAX_GROUP_ROLES,
                   &o->n_group_roles) != 0)
        return -1;
    return 0;
}

/* "Add without metadata": the issuer, sign-in URL and signing certificate as Okta's and most
 * SaaS setup screens show them (the certificate pasted or uploaded). */
static int
idp_add_fields_post(struct req *r, const struct idp_options *o)
{
    struct web *w = web_of(r);
    struct actor who = actor_of(r);
    struct sp_idp_fields f;
    memset(&f, 0, sizeof f);
    f.entity_id = req_form(r, "entity_id");
    f.sso_url = req_form(r, "sso_url");
    const char *slo = req_form(r, "slo_url"), *binding = req_form(r, "sso_binding");
    f.slo_url = slo && slo[0] ? slo : NULL;
    f.post_binding = binding != NULL && strcmp(binding, "post") == 0;
    const char *pasted = req_form(r, "cert"), *upload = req_form(r, "cert_file");
    if (pasted != NULL && pasted[0] != '\0')
        f.certs[f.n_certs++] = pasted;
    if (upload != NULL && upload[0] != '\0')
        f.certs[f.n_certs++] = upload;
    if (f.entity_id == NULL || f.entity_id[0] == '\0' || f.sso_url == NULL ||
        f.sso_url[0] == '\0' || f.n_certs == 0)
        return idps_page(r, 400,
                         "Give the IdP's entity ID (issuer), its sign-in URL and its signing "
                         "certificate.",
                         NULL);
    char msg[1024] = "", entity[SP_ENTITY_MAX];
    enum account_rc rc =
        idp_add_from_fields(w->store, &who, &f, o, entity, sizeof entity, msg, sizeof msg);
    if (rc != ACCOUNT_OK)
        return idps_page(r, rc_status(rc), result_message(rc, msg), NULL);
    return idps_page(r, 200, NULL,
                     arena_printf(req_arena(r), "Added %s.%s%s", entity, msg[0] ? " " : "", msg));
}

int
route_admin_idps_post(struct req *r)
{
    /* The trust decisions among the IdP changes are refused inside (AZ_IDP_TRUST). */
    if (gate(r, PERM_IDPS_EDIT) != 0)
        return 0;
    struct web *w = web_of(r);
    struct actor who = actor_of(r);
    const char *action = req_form(r, "action");
    char msg[1024] = "";
    struct idp_options o;
    if (action == NULL)
        return idps_page(r, 400, "This form is incomplete. Reload and try again.", NULL);
    if (strcmp(action, "remove") == 0) {
        const char *e = req_form(r, "entity_id");
        if (req_form(r, "confirm") == NULL)
            return idps_page(r, 400, "Tick the box to confirm the removal.", NULL);
        enum account_rc rc = idp_remove(w->store, &who, e ? e : "", msg, sizeof msg);
        return rc == ACCOUNT_OK ? idps_page(r, 200, NULL, "Removed.")
                                : idps_page(r, rc_status(rc), result_message(rc, msg), NULL);
    }
    if (strcmp(action, "metadata") == 0) {
        /* A new metadata file for a registered IdP (its key rolled over, endpoints moved). */
        const char *e = req_form(r, "entity_id");
        const char *file = req_form(r, "metadata_file");
        if (file == NULL || file[0] == '\0')
            return idps_page(r, 400, "Choose the IdP's new metadata file.", NULL);
        memset(&o, 0, sizeof o);
        o.idp_initiated = o.allow_sha1 = -1;
        o.metadata = file;
        o.metadata_len = strlen(file);
        enum account_rc rc = idp_set(w->store, &who, e ? e : "", &o, msg, sizeof msg);
        return rc == ACCOUNT_OK ? idps_page(r, 200, NULL, msg[0] ? msg : "Metadata reloaded.")
                                : idps_page(r, rc_status(rc), result_message(rc, msg), NULL);
    }
    int set = strcmp(action, "set") == 0;
    if (idp_form_options(r, &o, set) != 0)
        return idps_page(r, 400, "Too many domains or group mappings.", NULL);
    if (set) {
        const char *e = req_form(r, "entity_id");
        enum account_rc rc = idp_set(w->store, &who, e ? e : "", &o, msg, sizeof msg);
        return rc == ACCOUNT_OK ? idps_page(r, 200, NULL, msg[0] ? msg : "Saved.")
                                : idps_page(r, rc_status(rc), result_message(rc, msg), NULL);
    }
    if (strcmp(action, "add_fields") == 0)
        return idp_add_fields_post(r, &o);
    const char *md = req_form(r, "metadata");
    const char *file = req_form(r, "metadata_file"); /* the upload, when the form is multipart */
    if ((md == NULL || md[0] == '\0') && file != NULL)
        md = file;
    else if (md != NULL && md[0] != '\0' && file != NULL && file[0] != '\0')
        return idps_page(r, 400, "Either paste the metadata or upload a file, not both.", NULL);
    if (md == NULL || md[0] == '\0')
        return idps_page(r, 400, "Paste the IdP's metadata XML or upload its metadata file.", NULL);
    char entity[SP_ENTITY_MAX];
    const char *eid = req_form(r, "entity_id");
    o.entity_id = eid && eid[0] ? eid : NULL;
    enum account_rc rc =
        idp_add(w->store, &who, md, strlen(md), &o, entity, sizeof entity, msg, sizeof msg);
    if (rc != ACCOUNT_OK)
        return idps_page(r, rc_status(rc), result_message(rc, msg), NULL);
    return idps_page(r, 200, NULL,
                     arena_printf(req_arena(r), "Added %s.%s%s", entity, msg[0] ? " " : "", msg));
}

/* ---- test sign-in ---- */

int
route_admin_idp_test_post(struct req *r)
{
    if (gate(r, PERM_IDPS_EDIT) != 0)
        return 0;
    struct web *w = web_of(r);
    const char *e = req_form(r, "entity_id");
    struct idp_row row;
    if (e == NULL || store_idp_get(w->store, e, &row) != 0)
        return idps_page(r, 404, "There is no such identity provider.", NULL);
    log_info("saml test sign-in started idp=%s user_id=%lld", row.entity_id, w->user.id);
    return saml_test_start(r, &row);
}

static void
test_attrs(struct tmpl_ctx *c, json_t *attrs)
{
    size_t i, k;
    json_t *a, *v;
    json_array_foreach(attrs, i, a)
    {
        struct tmpl_ctx *it = tmpl_add(c, "attributes");
        tmpl_set(it, "name", json_string_value(json_object_get(a, "name")));
        tmpl_set(it, "friendly_name", json_string_value(json_object_get(a, "friendly_name")));
        json_array_foreach(json_object_get(a, "values"), k, v)
            tmpl_set(tmpl_add(it, "values"), "value", json_string_value(v));
    }
}

/* The result of a test sign-in: only for the admin who started it, in the same session (the
 * session names its user; the user is compared as well). */
int
route_admin_idp_test(struct req *r)
{
    if (gate(r, PERM_IDPS_EDIT) != 0)
        return 0;
    struct web *w = web_of(r);
    const char *id = req_query(r, "id");
    struct saml_test_row *t = arena_alloc(req_arena(r), sizeof *t);
    if (t == NULL || id == NULL || store_saml_test_get(w->store, id, t) != 0 ||
        t->user_id != w->user.id ||
        !ct_equal(t->session_hash, strlen(t->session_hash), w->session_hash,
                  strlen(w->session_hash))) {
        web_error(r, 404,
                  "There is no such test sign-in (it belongs to another session, or it "
                  "has expired).");
        return 0;
    }
    struct tmpl_ctx *c = admin_ctx(r, "nav_idps");
    tmpl_set(c, "entity_id", t->entity_id);
    struct saml_log_row row;
    if (t->log_id == 0 || store_saml_log_get(w->store, t->log_id, &row) != 0) {
        tmpl_set(c, "waiting", "1");
        return page(r, 200, "admin_idp_test", "Test sign-in", c);
    }
    free(row.xml);
    char at[40];
    tmpl_setf(c, "log_id", "%lld", row.id);
    tmpl_set(c, "at", clock_format(row.at, at, sizeof at));
    tmpl_set(c, "verdict", row.verdict);
    tmpl_set(c, "accepted", strcmp(row.verdict, "accepted") == 0 ? "1" : "");
    tmpl_set(c, "reason", row.reason);
    tmpl_set(c, "detail", row.detail);
    if (row.has_skew)
        tmpl_setf(c, "skew", "%+lld", row.skew_seconds);
    /* Sealed by the ACS (sso.c record_test), bound to the test's request ID. */
    char aad[300];
    snprintf(aad, sizeof aad, "gatehouse saml test v1|%s", t->request_id);
    size_t n = 0;
    char *plain = secrets_open_text(&w->app->secrets, aad, t->result, &n);
    json_error_t jerr;
    json_t *res = plain ? json_loads(plain, 0, &jerr) : NULL;
    secrets_free_text(plain, n);
    if (json_is_object(res)) {
        static const char *const keys[] = {"name_id", "name_id_format", "authn_context", "email",
                                           "name",    "role",           "groups",        "account"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            tmpl_set(c, keys[i], json_string_value(json_object_get(res, keys[i])));
        json_t *attrs = json_object_get(res, "attributes");
        if (json_is_array(attrs))
            test_attrs(c, attrs);
        else
            tmpl_set(c, "attributes_note", json_string_value(attrs));
    }
    json_decref(res);
    return page(r, 200, "admin_idp_test", "Test sign-in", c);
}

/* ---- federations ---- */

static int
list_federation(const struct federation_row *f, void *ctx)
{
    struct tmpl_ctx *it = tmpl_add(ctx, "federations");
    char last[40] = "never", next[40] = "", added[40];
    if (f->last_ok)
        clock_format(f->last_ok, last, sizeof last);
    if (f->next_at)
        clock_format(f->next_at, next, sizeof next);
    tmpl_set(it, "url", f->url);
    tmpl_set(it, "name", f->name);
    tmpl_setf(it, "n_idps", "%d", f->n_idps);
    tmpl_set(it, "last_refresh", last);
    tmpl_set(it, "next_refresh", next);
    tmpl_set(it, "added", clock_format(f->created_at, added, sizeof added));
    tmpl_set(it, "refresh_error", f->last_error);
    return 0;
}

static int
federations_page(struct req *r, int status, const char *error, const char *notice)
{
    struct web *w = web_of(r);
    struct tmpl_ctx *c = admin_ctx(r, "nav_federations");
    if (store_federation_list(w->store, list_federation, c) != 0)
        error = "The federations could not be read.";
    tmpl_set(c, "error", error);
    tmpl_set(c, "notice", notice);
    /* Admins see the list only: adding, refreshing and removing are trust decisions. */
    struct actor who = actor_of(r);
    tmpl_set(c, "may_trust", authz_allowed(&who, AZ_IDP_TRUST, NULL, NULL) ? "1" : "");
    if (status != 200) {
        tmpl_set(c, "form_url", req_form(r, "url"));
        tmpl_set(c, "form_name", req_form(r, "name"));
    }
    return page(r, status, "admin_federations", "Federations", c);
}

int
route_admin_federations(struct req *r)
{
    return gate(r, PERM_IDPS_VIEW) != 0 ? 0 : federations_page(r, 200, NULL, NULL);
}

int
route_admin_federations_post(struct req *r)
{
    /* Adding, refreshing and removing are trust decisions, refused inside (AZ_IDP_TRUST). */
    if (gate(r, PERM_IDPS_EDIT) != 0)
        return 0;
    struct web *w = web_of(r);
    struct actor who = actor_of(r);
    const char *action = req_form(r, "action"), *url = req_form(r, "url");
    const char *ca = w->app->conf.sp_metadata_ca_file;
    char msg[1024] = "";
    enum account_rc rc;
    if (action == NULL || url == NULL || url[0] == '\0')
        return federations_page(r, 400, "Give the URL of the federation's aggregate.", NULL);
    if (strcmp(action, "add") == 0) {
        const char *cert = req_form(r, "cert"), *file = req_form(r, "cert_file");
        if ((cert == NULL || cert[0] == '\0') && file != NULL)
            cert = file;
        rc = federation_add(w->store, &who, ca, url, cert, req_form(r, "name"), msg, sizeof msg);
    } else if (strcmp(action, "refresh") == 0) {
        rc = federation_refresh(w->store, &who, ca, url, msg, sizeof msg);
    } else if (strcmp(action, "remove") == 0) {
        if (req_form(r, "confirm") == NULL)
            return federations_page(r, 400, "Tick the box to confirm the removal.", NULL);
        rc = federation_remove(w->store, &who, url, msg, sizeof msg);
    } else {
        return federations_page(r, 400, "Unknown action.", NULL);
    }
    if (rc != ACCOUNT_OK)
        return federations_page(r, rc_status(rc), result_message(rc, msg), NULL);
    return federations_page(r, 200, NULL, arena_printf(req_arena(r), "%s: %s", url, msg));
}

/* ---- the SAML response log ---- */

struct list_log {
    struct req *r;
    struct tmpl_ctx *c;
    const char *verdict;
    time_t since;
};

static int
list_log(const struct saml_log_row *row, void *ctx)
{
    struct list_log *l = ctx;
    if (l->verdict && l->verdict[0] && strcmp(l->verdict, row->verdict) != 0)
        return 0;
    if (row->at < l->since)
        return 1; /* newest first: the rest are older */
    struct tmpl_ctx *it = tmpl_add(l->c, "entries");
    char at[40];
    tmpl_setf(it, "id", "%lld", row->id);
    tmpl_set(it, "at", clock_format(row->at, at, sizeof at));
    tmpl_set(it, "issuer", row->issuer);
    tmpl_set(it, "name_id", row->name_id);
    tmpl_set(it, "verdict", row->verdict);
    tmpl_set(it, "accepted", strcmp(row->verdict, "accepted") == 0 ? "1" : "");
    tmpl_set(it, "reason", row->reason);
    return 0;
}

int
route_admin_saml_log(struct req *r)
{
    if (gate(r, PERM_SAML_LOG_VIEW) != 0)
        return 0;
    struct web *w = web_of(r);
    struct tmpl_ctx *c = admin_ctx(r, "nav_saml");
    const char *verdict = req_query(r, "verdict"), *idp = req_query(r, "idp");
    const char *user = req_query(r, "user"), *hours = req_query(r, "hours"), *e;
    long long h = hours && hours[0] ? str_to_num(hours, 1, 24 * 3650, &e) : 0;
    struct list_log l = {r, c, verdict, h > 0 ? w->now - (time_t)h * 3600 : 0};
    store_saml_log_list(w->store, verdict && strcmp(verdict, "refused") == 0, idp, user, PAGE_ROWS,
                        list_log, &l);
    tmpl_set(c, "f_idp", idp);
    tmpl_set(c, "f_user", user);
    tmpl_set(c, "f_hours", h > 0 ? hours : "");
    tmpl_set(c, "f_accepted", verdict && strcmp(verdict, "accepted") == 0 ? "1" : "");
    tmpl_set(c, "f_refused", verdict && strcmp(verdict, "refused") == 0 ? "1" : "");
    return page(r, 200, "admin_saml_log", "SAML response log", c);
}

/* The checks of the ACS in the order they run, and the reason codes each can end with. */
static const struct {
    const char *name;
    const char *reasons;
} acs_checks[] = {
    {"Size and base64 encoding", "too_large"},
    {"Well-formed SAML Response without a DOCTYPE", "malformed doctype"},
    {"Exactly one assertion, none outside the signed one", "assertion_count signature_wrapping"},
    {"Signature algorithm allowed (no SHA-1 unless enabled)", "sha1_refused"},
    {"Issuer is a registered IdP", "unknown_issuer"},
    {"Signature valid with the IdP's certificate", "unsigned bad_signature"},
    {"Status is Success", "idp_status"},
    {"Encrypted assertion decrypted", "decrypt_failed"},
    {"Destination is our ACS", "destination_mismatch"},
    {"Conditions: audience and no unknown condition", "audience_mismatch unknown_condition"},
    {"Time window (Conditions and SubjectConfirmationData)", "expired not_yet_valid"},
    {"Subject: NameID and its format and qualifiers, a bearer confirmation, Recipient",
     "no_nameid nameid_format nameid_qualifier no_bearer bearer_not_before recipient_mismatch"},
    {"InResponseTo answers a request of ours (or IdP-initiated is on)",
     "in_response_to unsolicited"},
    {"Assertion not seen before (replay)", "replay"},
    {"Account: identity storable, e-mail domain allowed, no conflicting account",
     "domain_not_allowed account_conflict identity_refused"},
};

/* The same for a refused single logout message (reasons slo_*, sp/sp_slo.c). */
static const struct {
    const char *name;
    const char *reasons;
} slo_checks[] = {
    {"A LogoutRequest naming its subject, or a LogoutResponse (Version 2.0, ID, Issuer Format)",
     "slo_malformed"},
    {"Issuer is a registered IdP", "slo_unknown_issuer"},
    {"Signature valid with the IdP's certificate", "slo_unsigned slo_bad_signature"},
    {"IssueInstant and NotOnOrAfter window", "slo_not_yet_valid slo_expired"},
    {"Destination is our SLO URL", "slo_destination"},
    {"Status is Success (LogoutResponse)", "slo_idp_status"},
    {"InResponseTo names a pending LogoutRequest of ours (LogoutResponse)", "slo_in_response_to"},
    {"ID not seen before (LogoutRequest)", "slo_replay"},
};

static int
has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
            return 1;
    return 0;
}

int
route_admin_saml_entry(struct req *r)
{
    if (gate(r, PERM_SAML_LOG_VIEW) != 0)
        return 0;
    struct web *w = web_of(r);
    const char *id = req_query(r, "id"), *e;
    long long n =
        id ? str_to_num(strncmp(id, "SAML-", 5) == 0 ? id + 5 : id, 1, (long long)1 << 62, &e) : 0;
    struct saml_log_row row;
    if (id == NULL || e != NULL || store_saml_log_get(w->store, n, &row) != 0) {
        web_error(r, 404, "There is no such SAML log entry.");
        return 0;
    }
    int sealed_shut = samllog_open(&row, &w->app->secrets) != 0;
    struct tmpl_ctx *c = admin_ctx(r, "nav_saml");
    char at[40];
    tmpl_setf(c, "id", "%lld", row.id);
    tmpl_set(c, "at", clock_format(row.at, at, sizeof at));
    tmpl_set(c, "client", row.client_addr);
    tmpl_set(c, "issuer", row.issuer);
    tmpl_set(c, "name_id", row.name_id);
    tmpl_set(c, "in_response_to", row.in_response_to);
    tmpl_set(c, "assertion_id", row.assertion_id);
    tmpl_set(c, "verdict", row.verdict);
    tmpl_set(c, "accepted", strcmp(row.verdict, "accepted") == 0 ? "1" : "");
    tmpl_set(c, "reason", row.reason);
    tmpl_set(c, "detail", row.detail);
    if (row.has_skew)
        tmpl_setf(c, "skew", "%+lld", row.skew_seconds);
    tmpl_set(c, "test", row.test ? "1" : "");
    int failed_at = -1, slo = strncmp(row.reason, "slo_", 4) == 0;
    size_t nchecks =
        slo ? sizeof slo_checks / sizeof slo_checks[0] : sizeof acs_checks / sizeof acs_checks[0];
    for (size_t i = 0; i < nchecks; i++)
        if (has_word(slo ? slo_checks[i].reasons : acs_checks[i].reasons, row.reason))
            failed_at = (int)i;
    int accepted = strcmp(row.verdict, "accepted") == 0;
    for (size_t i = 0; i < nchecks; i++) {
        struct tmpl_ctx *it = tmpl_add(c, "checks");
        tmpl_set(it, "name", slo ? slo_checks[i].name : acs_checks[i].name);
        const char *outcome = accepted || (failed_at >= 0 && (int)i < failed_at) ? "passed"
                              : (int)i == failed_at                              ? "failed"
                                                                                 : "not reached";
        tmpl_set(it, "outcome", outcome);
        tmpl_set(it, "is_failed", (int)i == failed_at && !accepted ? "1" : "");
        tmpl_set(it, "is_passed", strcmp(outcome, "passed") == 0 ? "1" : "");
    }
    if (!accepted && failed_at < 0)
        tmpl_set(c, "unplaced", "1");
    /* What the log kept of the response (bounded storage): say when it is not all of it. */
    if (strcmp(row.xml_kept, "excerpt") == 0)
        tmpl_setf(c, "xml_note",
                  "An excerpt: the first %zu bytes of a response of %lld bytes (a response whose "
                  "signature did not verify keeps only this much).",
                  row.xml ? strlen(row.xml) : 0, row.xml_size);
    else if (strcmp(row.xml_kept, "dropped") == 0)
        tmpl_setf(c, "xml_note",
                  "Not kept: the disk was nearly full when this response (%lld bytes) arrived.",
                  row.xml_size);
    if (sealed_shut)
        tmpl_setf(c, "xml_note",
                  "The response (%lld bytes) is sealed and does not open with this server's "
                  "data key.",
                  row.xml_size);
    char *pretty = strcmp(row.xml_kept, "excerpt") == 0 ? NULL : sp_xml_pretty(row.xml);
    tmpl_set(c, "xml", pretty ? pretty : row.xml);
    free(pretty);
    free(row.xml);
    return page(r, 200, "admin_saml_entry", "SAML log entry", c);
}

/* ---- the audit log ---- */

static int
list_audit(const struct audit_row *row, void *ctx)
{
    struct tmpl_ctx *it = tmpl_add(ctx, "entries");
    char at[40];
    tmpl_set(it, "at", clock_format(row->at, at, sizeof at));
    tmpl_set(it, "actor", row->actor);
    tmpl_set(it, "actor_role", row->actor_role);
    tmpl_set(it, "action", row->action);
    tmpl_set(it, "target", row->target);
    tmpl_set(it, "old", row->old_value);
    tmpl_set(it, "new", row->new_value);
    tmpl_set(it, "client", row->client_addr);
    return 0;
}

int
route_admin_audit(struct req *r)
{
    if (gate(r, PERM_AUDIT_VIEW) != 0)
        return 0;
    struct web *w = web_of(r);
    struct tmpl_ctx *c = admin_ctx(r, "nav_audit");
    struct audit_filter f = {.limit = PAGE_ROWS,
                             .action = req_query(r, "action"),
                             .actor = req_query(r, "actor"),
                             .target = req_query(r, "target")};
    store_audit_list(w->store, &f, list_audit, c);
    tmpl_set(c, "f_action", f.action);
    tmpl_set(c, "f_actor", f.actor);
    tmpl_set(c, "f_target", f.target);
    return page(r, 200, "admin_audit", "Audit log", c);
}
