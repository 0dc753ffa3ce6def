/* auth/route_admin_roles.c: the roles page under /admin/roles: every role with what it holds
 * (roles.view), and for owners the forms that create roles, change what one holds (admin and
 * the created ones) and remove a created one. The operations are roles.c's, as for the CLI and
 * the API. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "audit.h"
#include "authz.h"
#include "http.h"
#include "roles.h"
#include "routes.h"
#include "str.h"
#include "tmpl.h"
#include "web.h"

struct list_roles {
    struct tmpl_ctx *c;
};

static void
list_role(const char *name, unsigned perms, void *ctx)
{
    struct list_roles *l = ctx;
    struct tmpl_ctx *it = tmpl_add(l->c, "roles");
    const struct authz_perm_def *d = authz_perms();
    tmpl_set(it, "name", name);
    tmpl_set(it, "builtin", roles_builtin(name) ? "1" : "");
    tmpl_set(it, "everything", strcmp(name, "owner") == 0 ? "1" : "");
    tmpl_set(it, "editable", strcmp(name, "owner") != 0 && strcmp(name, "member") != 0 ? "1" : "");
    tmpl_set(it, "removable", roles_builtin(name) ? "" : "1");
    for (int i = 0; i < PERM_COUNT; i++) {
        struct tmpl_ctx *p = tmpl_add(it, "perms");
        tmpl_set(p, "perm", d[i].name);
        tmpl_set(p, "label", d[i].label);
        tmpl_set(p, "held", perms & PERM_BIT(i) ? "1" : "");
        tmpl_set(p, "grantable", d[i].owner_only ? "" : "1");
    }
}

static int
roles_page(struct req *r, int status, const char *error, const char *notice)
{
    struct web *w = web_of(r);
    struct tmpl_ctx *c = admin_page_ctx(r, "nav_roles");
    struct list_roles l = {c};
    if (roles_each(w->app->roles, w->store, list_role, &l) != 0) {
        web_error(r, 500, "The roles could not be read.");
        return 0;
    }
    const struct authz_perm_def *d = authz_perms();
    for (int i = 0; i < PERM_COUNT; i++) {
        if (d[i].owner_only)
            continue;
        struct tmpl_ctx *p = tmpl_add(c, "new_perms");
        tmpl_set(p, "perm", d[i].name);
        tmpl_set(p, "label", d[i].label);
    }
    struct actor who = web_actor(r);
    tmpl_set(c, "may_edit", authz_holds(&who, PERM_ROLES_EDIT) ? "1" : "");
    tmpl_set(c, "error", error);
    tmpl_set(c, "notice", notice);
    return web_page(r, status, "admin_roles", "Roles", c);
}

int
route_admin_roles(struct req *r)
{
    return admin_gate(r, PERM_ROLES_VIEW) != 0 ? 0 : roles_page(r, 200, NULL, NULL);
}

/* The ticked permission boxes (fields "perm:NAME") as one list. */
static const char *
ticked(struct req *r)
{
    const struct authz_perm_def *d = authz_perms();
    char list[1024] = "";
    size_t used = 0;
    for (int i = 0; i < PERM_COUNT; i++) {
        char field[64];
        snprintf(field, sizeof field, "perm:%s", d[i].name);
        if (req_form(r, field) == NULL)
            continue;
        int n = snprintf(list + used, sizeof list - used, "%s%s", used ? "," : "", d[i].name);
        if (n > 0 && (size_t)n < sizeof list - used)
            used += (size_t)n;
    }
    return arena_strdup(req_arena(r), list);
}

static int
status_of(enum account_rc rc)
{
    return rc == ACCOUNT_OK          ? 200
           : rc == ACCOUNT_FORBIDDEN ? 403
           : rc == ACCOUNT_REFUSED   ? 422
                                     : 500;
}

int
route_admin_roles_post(struct req *r)
{
    if (admin_gate(r, PERM_ROLES_EDIT) != 0)
        return 0;
    struct web *w = web_of(r);
    struct actor who = web_actor(r);
    const char *action = req_form(r, "action"), *name = req_form(r, "name");
    char msg[512] = "";
    enum account_rc rc;
    const char *done;
    if (action == NULL || name == NULL)
        return roles_page(r, 400, "This form is incomplete. Reload and try again.", NULL);
    if (strcmp(action, "add") == 0) {
        rc = roles_add(w->app, w->store, &who, name, ticked(r), msg, sizeof msg);
        done = "Role created.";
    } else if (strcmp(action, "set") == 0) {
        rc = roles_set(w->app, w->store, &who, name, ticked(r), msg, sizeof msg);
        done = "Saved; it applies from the next request.";
    } else if (strcmp(action, "remove") == 0) {
        if (req_form(r, "confirm") == NULL)
            return roles_page(r, 400, "Tick the box to confirm the removal.", NULL);
        rc = roles_remove(w->app, w->store, &who, name, msg, sizeof msg);
        done = "Role removed.";
    } else {
        return roles_page(r, 400, "Unknown action.", NULL);
    }
    if (rc != ACCOUNT_OK)
        return roles_page(r, status_of(rc),
                          rc == ACCOUNT_ERROR ? "The store could not complete the change." : msg,
                          NULL);
    return roles_page(r, 200, NULL, done);
}
