/* sp/mockidp/mi_sp.c: the one SP the mock IdP serves: its metadata, and the messages it sends
 * (AuthnRequest, LogoutRequest, LogoutResponse), decoded and verified by lasso against the
 * certificate in that metadata. */
#include "mi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lasso/lasso.h>
#include <lasso/xml/saml-2.0/saml2_name_id.h>
#include <lasso/xml/saml-2.0/saml2_subject.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/samlp2_logout_request.h>
#include <lasso/xml/saml-2.0/samlp2_logout_response.h>
#include <lasso/xml/saml-2.0/samlp2_status.h>
#include <lasso/xml/saml-2.0/samlp2_status_code.h>

#include "sp/sp.h"
#include "sp/sp_xml.h"

#define MAX_ACS 8
#define BINDING_POST "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
#define BINDING_REDIRECT "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"

struct mi_sp {
    char *entity_id;
    char *acs[MAX_ACS]; /* HTTP-POST AssertionConsumerService locations, the default first */
    int n_acs;
    char *slo_url;
    char *slo_post_url;
    int wants_signed;
    char *enc_cert_pem;
    LassoProvider *provider; /* lasso's view of the SP, to verify its signatures */
};

static char *
first_text(xmlXPathContextPtr ctx, const char *expr)
{
    xmlXPathObjectPtr o = sp_xml_find(ctx, NULL, expr);
    char *out = NULL;
    if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
        xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
        out = t ? strdup((const char *)t) : NULL;
        xmlFree(t);
    }
    xmlXPathFreeObject(o);
    return out;
}

/* A PEM certificate from the base64 of an X509Certificate element (whitespace dropped). */
static char *
pem_of(const char *b64)
{
    if (b64 == NULL)
        return NULL;
    size_t n = strlen(b64), k = 0;
    char *clean = malloc(n + 1), *out = NULL;
    if (clean == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strchr(" \t\r\n", b64[i]) == NULL)
            clean[k++] = b64[i];
    clean[k] = '\0';
    size_t lines = k / 64 + 1, cap = k + lines + 64;
    out = malloc(cap);
    if (out != NULL) {
        size_t o = (size_t)snprintf(out, cap, "-----BEGIN CERTIFICATE-----\n");
        for (size_t i = 0; i < k; i += 64)
            o += (size_t)snprintf(out + o, cap - o, "%.64s\n", clean + i);
        snprintf(out + o, cap - o, "-----END CERTIFICATE-----\n");
    }
    free(clean);
    return out;
}

/* The default (or first) HTTP-POST ACS first, then the others. */
static void
read_acs(struct mi_sp *sp, xmlXPathContextPtr ctx)
{
    static const char *const exprs[] = {
        "//md:SPSSODescriptor/md:AssertionConsumerService[@Binding='" BINDING_POST
        "' and (@isDefault='true' or @isDefault='1')]/@Location",
        "//md:SPSSODescriptor/md:AssertionConsumerService[@Binding='" BINDING_POST "']/@Location"};
    for (size_t e = 0; e < 2; e++) {
        xmlXPathObjectPtr o = sp_xml_find(ctx, NULL, exprs[e]);
        for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
            xmlChar *t = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
            int seen = 0;
            for (int k = 0; k < sp->n_acs && t; k++)
                seen |= strcmp(sp->acs[k], (const char *)t) == 0;
            if (t && !seen && sp->n_acs < MAX_ACS)
                sp->acs[sp->n_acs++] = strdup((const char *)t);
            xmlFree(t);
        }
        xmlXPathFreeObject(o);
    }
}

static int
read_metadata(struct mi_sp *sp, const char *xml, size_t len, char *err, size_t errlen)
{
    xmlDocPtr doc = sp_xml_parse(xml, len, err, errlen);
    xmlXPathContextPtr ctx = doc ? sp_xml_xpath(doc) : NULL;
    int rc = -1;
    if (ctx == NULL)
        goto out;
    sp->entity_id = first_text(ctx, "/md:EntityDescriptor[md:SPSSODescriptor]/@entityID");
    read_acs(sp, ctx);
    sp->slo_url =
        first_text(ctx, "//md:SPSSODescriptor/md:SingleLogoutService[@Binding='" BINDING_REDIRECT
                        "']/@Location");
    sp->slo_post_url = first_text(
        ctx, "//md:SPSSODescriptor/md:SingleLogoutService[@Binding='" BINDING_POST "']/@Location");
    char *signed_attr = first_text(ctx, "//md:SPSSODescriptor/@AuthnRequestsSigned");
    sp->wants_signed =
        signed_attr && (strcmp(signed_attr, "true") == 0 || strcmp(signed_attr, "1") == 0);
    free(signed_attr);
    char *enc = first_text(ctx, "//md:SPSSODescriptor/md:KeyDescriptor[@use='encryption']"
                                "//ds:X509Certificate");
    if (enc == NULL)
        enc =
            first_text(ctx, "//md:SPSSODescriptor/md:KeyDescriptor[not(@use)]//ds:X509Certificate");
    sp->enc_cert_pem = pem_of(enc);
    free(enc);
    if (sp->entity_id == NULL || sp->n_acs == 0) {
        snprintf(err, errlen,
                 "the SP metadata needs an EntityDescriptor with an SPSSODescriptor "
                 "and an HTTP-POST AssertionConsumerService");
        goto out;
    }
    rc = 0;
out:
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return rc;
}

struct mi_sp *
mi_sp_load(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *xml = sp_read_file(path, SP_METADATA_MAX_BYTES, &len, err, errlen);
    struct mi_sp *sp = xml ? calloc(1, sizeof *sp) : NULL;
    if (sp == NULL)
        goto fail;
    if (read_metadata(sp, xml, len, err, errlen) != 0)
        goto fail;
    sp->provider = lasso_provider_new_from_buffer(LASSO_PROVIDER_ROLE_SP, xml, NULL, NULL);
    if (sp->provider == NULL) {
        snprintf(err, errlen, "%s: lasso does not accept this SP metadata", path);
        goto fail;
    }
    free(xml);
    return sp;
fail:
    free(xml);
    mi_sp_free(sp);
    return NULL;
}

void
mi_sp_free(struct mi_sp *sp)
{
    if (sp == NULL)
        return;
    free(sp->entity_id);
    for (int i = 0; i < sp->n_acs; i++)
        free(sp->acs[i]);
    free(sp->slo_url);
    free(sp->slo_post_url);
    free(sp->enc_cert_pem);
    if (sp->provider != NULL)
        g_object_unref(sp->provider);
    free(sp);
}

const char *
mi_sp_entity_id(const struct mi_sp *sp)
{
    return sp->entity_id;
}

const char *
mi_sp_acs_url(const struct mi_sp *sp)
{
    return sp->acs[0];
}

const char *
mi_sp_slo_url(const struct mi_sp *sp)
{
    return sp->slo_url;
}

const char *
mi_sp_slo_post_url(const struct mi_sp *sp)
{
    return sp->slo_post_url;
}

int
mi_sp_has_acs(const struct mi_sp *sp, const char *url)
{
    for (int i = 0; i < sp->n_acs; i++)
        if (strcmp(sp->acs[i], url) == 0)
            return 1;
    return 0;
}

int
mi_sp_wants_signed_requests(const struct mi_sp *sp)
{
    return sp->wants_signed;
}

const char *
mi_sp_encryption_cert(const struct mi_sp *sp)
{
    return sp->enc_cert_pem;
}

/* ---- receiving ---- */

static char *
dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void
fill_authn_request(LassoNode *node, struct mi_msg *m)
{
    LassoSamlp2AuthnRequest *r = LASSO_SAMLP2_AUTHN_REQUEST(node);
    m->acs_url = dup_or_null(r->AssertionConsumerServiceURL);
    if (r->Subject != NULL && r->Subject->NameID != NULL)
        m->name_id = dup_or_null(r->Subject->NameID->content);
}

static void
fill_logout_request(LassoNode *node, struct mi_msg *m)
{
    LassoSamlp2LogoutRequest *r = LASSO_SAMLP2_LOGOUT_REQUEST(node);
    if (r->NameID != NULL)
        m->name_id = dup_or_null(r->NameID->content);
    m->session_index = dup_or_null(r->SessionIndex);
}

static const char *
issuer_of(LassoNode *node, enum mi_msg_kind kind, struct mi_msg *m)
{
    LassoSaml2NameID *issuer;
    if (kind == MI_MSG_LOGOUT_RESPONSE) {
        LassoSamlp2StatusResponse *r = LASSO_SAMLP2_STATUS_RESPONSE(node);
        m->id = dup_or_null(r->ID);
        m->in_response_to = dup_or_null(r->InResponseTo);
        if (r->Status != NULL && r->Status->StatusCode != NULL)
            m->status = dup_or_null(r->Status->StatusCode->Value);
        issuer = r->Issuer;
    } else {
        LassoSamlp2RequestAbstract *r = LASSO_SAMLP2_REQUEST_ABSTRACT(node);
        m->id = dup_or_null(r->ID);
        issuer = r->Issuer;
    }
    return issuer ? issuer->content : NULL;
}

static LassoNode *
new_node(enum mi_msg_kind kind)
{
    switch (kind) {
    case MI_MSG_AUTHN_REQUEST:
        return LASSO_NODE(lasso_samlp2_authn_request_new());
    case MI_MSG_LOGOUT_REQUEST:
        return LASSO_NODE(lasso_samlp2_logout_request_new());
    case MI_MSG_LOGOUT_RESPONSE:
        return LASSO_NODE(lasso_samlp2_logout_response_new());
    }
    return NULL;
}

/* Whether the raw query string has the parameter name. */
static int
query_has(const char *query, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = query; p != NULL; p = strchr(p, '&')) {
        if (*p == '&')
            p++;
        if (strncmp(p, name, n) == 0 && p[n] == '=')
            return 1;
    }
    return 0;
}

/* SAML bindings 3.4.4.1 and 3.5.4: a signature that is there must verify; one that is missing
 * is refused when the SP promised to sign. */
static int
check_signature(const struct mi_sp *sp, const char *msg, int is_query, struct mi_msg *m, char *err,
                size_t errlen)
{
    /* lasso reports an unsigned query as a bad signature algorithm: look for one first. */
    int rc = is_query && !query_has(msg, "Signature")
                 ? LASSO_DS_ERROR_SIGNATURE_NOT_FOUND
                 : lasso_provider_verify_signature(sp->provider, msg, "ID",
                                                   is_query ? LASSO_MESSAGE_FORMAT_QUERY
                                                            : LASSO_MESSAGE_FORMAT_BASE64);
    if (rc == 0) {
        m->signed_ = 1;
        return 0;
    }
    if (rc == LASSO_DS_ERROR_SIGNATURE_NOT_FOUND && !sp->wants_signed)
        return 0;
    if (rc == LASSO_DS_ERROR_SIGNATURE_NOT_FOUND)
        snprintf(err, errlen,
                 "the message is not signed, but the SP metadata says "
                 "AuthnRequestsSigned=\"true\"");
    else
        snprintf(err, errlen,
                 "the message's signature does not verify against the SP "
                 "metadata certificate: %s (lasso %d)",
                 lasso_strerror(rc), rc);
    return -1;
}

int
mi_sp_receive(const struct mi_sp *sp, enum mi_msg_kind kind, const char *msg, int is_query,
              struct mi_msg *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    LassoNode *node = new_node(kind);
    int rc = -1;
    LassoMessageFormat f =
        node ? lasso_node_init_from_message(node, msg) : LASSO_MESSAGE_FORMAT_ERROR;
    if (f != (is_query ? LASSO_MESSAGE_FORMAT_QUERY : LASSO_MESSAGE_FORMAT_BASE64)) {
        snprintf(err, errlen, "the SAML message could not be decoded");
        goto out;
    }
    const char *issuer = issuer_of(node, kind, m);
    if (issuer == NULL || strcmp(issuer, sp->entity_id) != 0) {
        snprintf(err, errlen, "the message's Issuer \"%.200s\" is not the SP \"%.200s\"",
                 issuer ? issuer : "", sp->entity_id);
        goto out;
    }
    if (m->id == NULL) {
        snprintf(err, errlen, "the message has no ID");
        goto out;
    }
    if (kind == MI_MSG_AUTHN_REQUEST)
        fill_authn_request(node, m);
    else if (kind == MI_MSG_LOGOUT_REQUEST)
        fill_logout_request(node, m);
    rc = check_signature(sp, msg, is_query, m, err, errlen);
out:
    if (node != NULL)
        g_object_unref(node);
    if (rc != 0)
        mi_msg_free(m);
    return rc;
}

void
mi_msg_free(struct mi_msg *m)
{
    free(m->id);
    free(m->acs_url);
    free(m->name_id);
    free(m->session_index);
    free(m->in_response_to);
    free(m->status);
    memset(m, 0, sizeof *m);
}
