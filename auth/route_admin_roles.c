/* auth/route_admin_roles.c: the roles page under /admin/roles: every role with what it holds,
 * for those whose role holds roles.view. */
#include <string.h>

#include "app.h"
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
    for (int i = 0; i < PERM_COUNT; i++) {
        struct tmpl_ctx *p = tmpl_add(it, "perms");
        tmpl_set(p, "perm", d[i].name);
        tmpl_set(p, "label", d[i].label);
        tmpl_set(p, "held", perms & PERM_BIT(i) ? "1" : "");
    }
}

int
route_admin_roles(struct req *r)
{
    struct web *w = web_of(r);
    if (admin_gate(r, PERM_ROLES_VIEW) != 0)
        return 0;
    struct tmpl_ctx *c = admin_page_ctx(r, "nav_roles");
    struct list_roles l = {c};
    if (roles_each(w->app->roles, w->store, list_role, &l) != 0) {
        web_error(r, 500, "The roles could not be read.");
        return 0;
    }
    const struct authz_perm_def *d = authz_perms();
    for (int i = 0; i < PERM_COUNT; i++) {
        struct tmpl_ctx *p = tmpl_add(c, "perm_list");
        tmpl_set(p, "perm", d[i].name);
        tmpl_set(p, "label", d[i].label);
    }
    return web_page(r, 200, "admin_roles", "Roles", c);
}
