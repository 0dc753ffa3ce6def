/* auth/route_saml.c: the SAML routes (metadata now; SSO, ACS and SLO follow). */
#include <string.h>

#include "app.h"
#include "http.h"
#include "routes.h"
#include "web.h"

int
route_saml_metadata(struct req *r)
{
    struct web *w = web_of(r);
    const char *md = w->app->sp_metadata;
    return req_respond(r, 200, "application/samlmetadata+xml", md, strlen(md));
}
