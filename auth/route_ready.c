/* auth/route_ready.c: GET /readyz, readiness for load balancers and orchestrators (/healthz
 * stays liveness): the store takes a write, the keys are loaded, the IdP registry is built. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "http.h"
#include "routes.h"
#include "storage.h"
#include "store.h"
#include "web.h"

static int
answer(struct req *r, int writable, int keys, int idps, const char *why)
{
    struct web *w = web_of(r);
    struct app *a = w->app;
    struct storage_room room;
    storage_room(w->live ? &w->live->conf : &a->conf, &room);
    int ready = writable && keys && idps;
    char reason[400] = "";
    if (!writable)
        snprintf(reason, sizeof reason, "store_writable: %s", why);
    else if (!keys)
        snprintf(reason, sizeof reason, "keys_loaded: the SP key or the master key is missing");
    else if (!idps)
        snprintf(reason, sizeof reason, "idp_registry: the SAML state could not be built");
    json_t *o =
        json_pack("{s:b, s:s, s:{s:b, s:b, s:b}, s:o, s:{s:I, s:I, s:b}}", "ready", ready, "node",
                  a->conf.node_name, "checks", "store_writable", writable, "keys_loaded", keys,
                  "idp_registry", idps, "reason", ready ? json_null() : json_string(reason),
                  "storage", "free_bytes", (json_int_t)room.free_bytes, "size_bytes",
                  (json_int_t)room.size_bytes, "bodies_dropped", room.low);
    if (!ready)
        req_add_header(r, "Retry-After", STORE_RETRY_AFTER);
    return web_json(r, ready ? 200 : 503, o);
}

int
route_readyz_no_store(struct req *r)
{
    struct app *a = web_of(r)->app;
    return answer(r, 0, a->secrets.ready && a->sp_metadata != NULL, 0,
                  "the store cannot be reached (no connection)");
}

int
route_readyz(struct req *r)
{
    struct web *w = web_of(r);
    struct app *a = w->app;
    char why[256] = "";
    /* Free space and a real write: readiness follows the disk, and a success ends the failing
     * state. */
    int writable = storage_writable(&w->live->conf, w->store, (long long)w->now, why, sizeof why);
    int keys = a->secrets.ready && a->sp_metadata != NULL;
    struct sp_ref *ref = app_sp_acquire(a, w->store, -1);
    int idps = ref != NULL;
    app_sp_release(a, ref);
    return answer(r, writable, keys, idps, why);
}
