/* sp/sp_authn.c: SP-initiated SSO: a signed AuthnRequest over HTTP-Redirect (RSA-SHA256 query
 * signature) or HTTP-POST (enveloped XML signature), and the message type both share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lasso/lasso.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/samlp2_name_id_policy.h>

#include "sp.h"
#include "sp_acs.h"
#include "sp_state.h"

/* Copies the message lasso built in p into out (for sp_slo.c too). 0, or -1 out of memory. */
int sp_out_take(LassoProfile *p, int post, struct sp_out *out);

void
sp_out_free(struct sp_out *o)
{
    free(o->url);
    free(o->body);
    o->url = o->body = NULL;
}

int
sp_out_take(LassoProfile *p, int post, struct sp_out *out)
{
    memset(out, 0, sizeof *out);
    out->post = post;
    /* SAML bindings 3.5.4: the POST form carries the base64 message; the Redirect URL all. */
    if (p->msg_url == NULL || (post && p->msg_body == NULL))
        return -1;
    out->url = strdup(p->msg_url);
    out->body = post ? strdup(p->msg_body) : NULL;
    if (out->url == NULL || (post && out->body == NULL)) {
        sp_out_free(out);
        return -1;
    }
    return 0;
}

int
sp_authn_request(const struct sp *sp, const char *idp_entity_id, const char *relay_state,
                 const char *name_id_format, int post, struct sp_out *out, char *id_out,
                 size_t idlen, char *err, size_t errlen)
{
    int rc = -1;
    memset(out, 0, sizeof *out);
    int unknown = 0;
    LassoServer *server = sp_state_lock(sp, idp_entity_id, &unknown, err, errlen);
    if (server == NULL) {
        if (unknown)
            snprintf(err, errlen, "%s is not registered", idp_entity_id);
        return -1;
    }
    LassoLogin *login = lasso_login_new(server);
    if (login == NULL) {
        sp_state_unlock(sp);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int lr = lasso_login_init_authn_request(
        login, idp_entity_id, post ? LASSO_HTTP_METHOD_POST : LASSO_HTTP_METHOD_REDIRECT);
    if (lr != 0) {
        snprintf(err, errlen, "cannot start a request to %s: %s", idp_entity_id,
                 lasso_strerror(lr));
        goto out;
    }
    LassoSamlp2AuthnRequest *req = LASSO_SAMLP2_AUTHN_REQUEST(LASSO_PROFILE(login)->request);
    req->ProtocolBinding = g_strdup(LASSO_SAML2_METADATA_BINDING_POST);
    /* SAML core 3.4.1.1: without a Format the IdP uses what it is configured with; asking for
     * unspecified made SimpleSAMLphp send `alice` SP-initiated and `alice@example.com`
     * IdP-initiated. */
    if (req->NameIDPolicy != NULL) {
        req->NameIDPolicy->AllowCreate = TRUE;
        g_free(req->NameIDPolicy->Format);
        req->NameIDPolicy->Format = name_id_format ? g_strdup(name_id_format) : NULL;
    }
    LASSO_PROFILE(login)->msg_relayState = g_strdup(relay_state);
    /* Always signed: lasso's default signs a POST request only when the IdP's metadata asks
     * (WantAuthnRequestsSigned), and our metadata promises AuthnRequestsSigned. */
    lasso_profile_set_signature_hint(LASSO_PROFILE(login), LASSO_PROFILE_SIGNATURE_HINT_FORCE);
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
    rc = sp_out_take(LASSO_PROFILE(login), post, out);
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
out:
    g_object_unref(login);
    sp_state_unlock(sp);
    return rc;
}

int
sp_authn_redirect(const struct sp *sp, const char *idp_entity_id, const char *relay_state,
                  char **url_out, char *id_out, size_t idlen, char *err, size_t errlen)
{
    struct sp_out o;
    int rc =
        sp_authn_request(sp, idp_entity_id, relay_state, NULL, 0, &o, id_out, idlen, err, errlen);
    *url_out = rc == 0 ? o.url : NULL;
    return rc;
}
