/* sp/sp_authn.c: SP-initiated SSO: a signed AuthnRequest (RSA-SHA256) over HTTP-Redirect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lasso/lasso.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/samlp2_name_id_policy.h>

#include "sp.h"
#include "sp_acs.h"

/* Defined in sp_acs.c: the shared LassoServer. */
LassoServer *sp_lasso_server(const struct sp *sp);

int
sp_authn_redirect(const struct sp *sp, const char *idp_entity_id, const char *relay_state,
                  char **url_out, char *id_out, size_t idlen, char *err, size_t errlen)
{
    int rc = -1;
    *url_out = NULL;
    LassoLogin *login = lasso_login_new(sp_lasso_server(sp));
    if (login == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int lr = lasso_login_init_authn_request(login, idp_entity_id, LASSO_HTTP_METHOD_REDIRECT);
    if (lr != 0) {
        snprintf(err, errlen, "cannot start a request to %s: %s", idp_entity_id,
                 lasso_strerror(lr));
        goto out;
    }
    LassoSamlp2AuthnRequest *req = LASSO_SAMLP2_AUTHN_REQUEST(LASSO_PROFILE(login)->request);
    req->ProtocolBinding = g_strdup(LASSO_SAML2_METADATA_BINDING_POST);
    if (req->NameIDPolicy != NULL) {
        req->NameIDPolicy->AllowCreate = TRUE;
        g_free(req->NameIDPolicy->Format);
        req->NameIDPolicy->Format = g_strdup(LASSO_SAML2_NAME_IDENTIFIER_FORMAT_UNSPECIFIED);
    }
    LASSO_PROFILE(login)->msg_relayState = g_strdup(relay_state);
    lr = lasso_login_build_authn_request_msg(login);
    if (lr != 0 || LASSO_PROFILE(login)->msg_url == NULL) {
        snprintf(err, errlen, "cannot build the request to %s: %s", idp_entity_id,
                 lasso_strerror(lr));
        goto out;
    }
    const char *id = LASSO_SAMLP2_REQUEST_ABSTRACT(req)->ID;
    if (id == NULL || strlen(id) >= idlen) {
        snprintf(err, errlen, "the request has no usable ID");
        goto out;
    }
    snprintf(id_out, idlen, "%s", id);
    *url_out = strdup(LASSO_PROFILE(login)->msg_url);
    rc = *url_out ? 0 : -1;
out:
    g_object_unref(login);
    return rc;
}
