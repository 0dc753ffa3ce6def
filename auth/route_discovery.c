/* auth/route_discovery.c: GET /login/discovery, "find your institution" — for people whose
 * e-mail domain routes to no IdP, typically members of a federation (hundreds or thousands of
 * institutions): a search by name, entity ID or domain, no JavaScript; the choice is remembered
 * in a cookie for the next visit. */
#include "routes.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "http.h"
#include "idp.h"
#include "store.h"
#include "str.h"
#include "tmpl.h"
#include "web.h"

#define DISCOVERY_COOKIE "gatehouse_idp"
#define DISCOVERY_MAX_RESULTS 50
#define DISCOVERY_COOKIE_SECONDS (365L * 86400)

struct search {
    struct req *r;
    struct tmpl_ctx *c;
    const char *q; /* "" lists nothing but the remembered choice */
    const char *return_to;
    const char *remembered;
    int shown, matched;
};

static const char *
choose_link(struct req *r, const char *entity_id, const char *return_to)
{
    struct arena *a = req_arena(r);
    return arena_printf(a, "/login/discovery/choose?idp=%s&return_to=%s",
                        str_url_encode(a, entity_id), str_url_encode(a, return_to));
}

static int
matches(struct store *s, const struct idp_row *row, const char *q)
{
    if (strcasestr(row->name, q) != NULL || strcasestr(row->entity_id, q) != NULL)
        return 1;
    char domains[1024];
    return idp_domains_text(s, row->entity_id, domains, sizeof domains) == 0 &&
           strcasestr(domains, q) != NULL;
}

static int
add_result(const struct idp_row *row, void *ctx)
{
    struct search *se = ctx;
    struct web *w = web_of(se->r);
    if (se->remembered != NULL && strcmp(row->entity_id, se->remembered) == 0) {
        tmpl_set(se->c, "remembered_name", row->name);
        tmpl_set(se->c, "remembered_link", choose_link(se->r, row->entity_id, se->return_to));
    }
    if (se->q[0] == '\0' || !matches(w->store, row, se->q))
        return 0;
    if (se->matched++ >= DISCOVERY_MAX_RESULTS)
        return 0;
    struct tmpl_ctx *it = tmpl_add(se->c, "results");
    char domains[1024] = "";
    idp_domains_text(w->store, row->entity_id, domains, sizeof domains);
    tmpl_set(it, "name", row->name);
    tmpl_set(it, "domains", domains);
    tmpl_set(it, "link", choose_link(se->r, row->entity_id, se->return_to));
    se->shown++;
    return 0;
}

int
route_discovery_get(struct req *r)
{
    struct web *w = web_of(r);
    struct tmpl_ctx *c = web_ctx(r);
    const char *q = req_query(r, "q");
    struct search se = {r, c, q ? q : "", web_return_to(r), NULL, 0, 0};
    const char *cookie = req_cookie(r, DISCOVERY_COOKIE);
    if (cookie != NULL && cookie[0] != '\0') {
        char *v = arena_strdup(req_arena(r), cookie);
        if (v != NULL && str_url_decode(v) > 0)
            se.remembered = v;
    }
    if (strlen(se.q) > 200) {
        web_error(r, 400, "That search is too long.");
        return 0;
    }
    if (store_idp_list(w->store, add_result, &se) != 0) {
        web_error(r, 500, "The list of institutions cannot be read right now.");
        return 0;
    }
    tmpl_set(c, "q", se.q);
    tmpl_set(c, "return_to", se.return_to);
    tmpl_set(c, "searched", se.q[0] ? "1" : "");
    tmpl_set(c, "none", se.q[0] && se.matched == 0 ? "1" : "");
    if (se.matched > DISCOVERY_MAX_RESULTS)
        tmpl_setf(c, "more", "%d more match; type more of the name.",
                  se.matched - DISCOVERY_MAX_RESULTS);
    return web_page(r, 200, "discovery", "Find your institution", c);
}

/* Remembers the choice and goes on to the SP-initiated sign-in with that IdP. */
int
route_discovery_choose(struct req *r)
{
    struct web *w = web_of(r);
    const char *idp = req_query(r, "idp");
    struct idp_row row;
    if (idp == NULL || idp[0] == '\0' || store_idp_get(w->store, idp, &row) != 0) {
        web_error(r, 404, "That institution is not set up here.");
        return 0;
    }
    struct arena *a = req_arena(r);
    req_set_cookie(r, DISCOVERY_COOKIE, str_url_encode(a, row.entity_id), DISCOVERY_COOKIE_SECONDS);
    return req_redirect(r, 303,
                        arena_printf(a, "/saml/login?idp=%s&return_to=%s",
                                     str_url_encode(a, row.entity_id),
                                     str_url_encode(a, web_return_to(r))));
}

static int
count_one(const struct federation_row *f, void *ctx)
{
    (void)f;
    ++*(int *)ctx;
    return 1;
}

void
web_discovery_link(struct req *r, struct tmpl_ctx *c)
{
    int n = 0;
    if (store_federation_list(web_of(r)->store, count_one, &n) != 0 || n == 0)
        return;
    tmpl_set(c, "discovery", "1");
    tmpl_set(c, "return_to_encoded", str_url_encode(req_arena(r), web_return_to(r)));
}
