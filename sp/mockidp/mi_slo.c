/* sp/mockidp/mi_slo.c: single logout towards the SP: a LogoutResponse answering the SP's
 * LogoutRequest, and a LogoutRequest of our own (IdP-initiated). lasso builds the message; the
 * HTTP-Redirect encoding (SAML bindings 3.4.4.1: DEFLATE, base64, URL-encoding, and a signature
 * over SAMLRequest=...&RelayState=...&SigAlg=...) is done here, because lasso's own query export
 * cannot sign a RelayState. */
#include "mi.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <lasso/lasso.h>
#include <lasso/xml/saml-2.0/saml2_name_id.h>
#include <lasso/xml/saml-2.0/samlp2_logout_request.h>
#include <lasso/xml/saml-2.0/samlp2_logout_response.h>
#include <lasso/xml/saml-2.0/samlp2_status.h>
#include <lasso/xml/saml-2.0/samlp2_status_code.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <zlib.h>

#include "sp/sp_xml.h"

#define SIG_ALG_RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define STATUS_SUCCESS "urn:oasis:names:tc:SAML:2.0:status:Success"

static LassoSaml2NameID *
name_id(const char *content, const char *format)
{
    LassoSaml2NameID *n = LASSO_SAML2_NAME_ID(lasso_saml2_name_id_new());
    n->content = g_strdup(content);
    n->Format = (format && format[0]) ? g_strdup(format) : NULL;
    return n;
}

/* RSA-SHA256 over data with the PEM key in key_file; base64 (caller frees), or NULL. */
static char *
rsa_sha256(const char *key_file, const char *data)
{
    FILE *f = fopen(key_file, "r");
    EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    EVP_MD_CTX *ctx = key ? EVP_MD_CTX_new() : NULL;
    unsigned char sig[1024];
    size_t len = sizeof sig;
    char *out = NULL;
    if (f != NULL)
        fclose(f);
    if (ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(ctx, sig, &len, (const unsigned char *)data, strlen(data)) == 1)
        out = mi_base64(sig, len);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return out;
}

/* Raw DEFLATE (RFC 1951), then base64 and URL-encoding: the SAMLRequest/SAMLResponse value. */
static char *
deflate_param(const char *xml)
{
    uLong len = (uLong)strlen(xml), cap = compressBound(len) + 64;
    unsigned char *buf = malloc(cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    char *b64 = NULL, *out = NULL;
    if (buf == NULL ||
        deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        goto done;
    z.next_in = (Bytef *)(uintptr_t)xml;
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (zr == Z_STREAM_END)
        b64 = mi_base64(buf, z.total_out);
    if (b64 != NULL)
        out = g_uri_escape_string(b64, NULL, FALSE);
done:
    free(buf);
    free(b64);
    return out;
}

/* url?SAMLRequest=..&RelayState=..&SigAlg=..&Signature=.. */
static char *
redirect_url(const char *url, LassoNode *msg, const char *relay_state, const char *key_file,
             char *err, size_t errlen)
{
    char *xml = lasso_node_export_to_xml(msg);
    char *value = xml ? deflate_param(xml) : NULL;
    char *query = value ? g_strdup_printf("%s=%s",
                                          LASSO_IS_SAMLP2_STATUS_RESPONSE(msg) ? "SAMLResponse"
                                                                               : "SAMLRequest",
                                          value)
                        : NULL;
    char *relay = relay_state ? g_uri_escape_string(relay_state, NULL, FALSE) : NULL;
    char *alg = g_uri_escape_string(SIG_ALG_RSA_SHA256, NULL, FALSE);
    char *signed_part = NULL, *sig = NULL, *sig_esc = NULL, *out = NULL;
    if (query == NULL) {
        snprintf(err, errlen, "lasso could not encode the message");
        goto done;
    }
    signed_part = g_strdup_printf("%s%s%s&SigAlg=%s", query, relay ? "&RelayState=" : "",
                                  relay ? relay : "", alg);
    sig = rsa_sha256(key_file, signed_part);
    if (sig == NULL) {
        snprintf(err, errlen, "cannot sign with %s", key_file);
        goto done;
    }
    sig_esc = g_uri_escape_string(sig, NULL, FALSE);
    char *g = g_strdup_printf("%s%c%s&Signature=%s", url, strchr(url, '?') ? '&' : '?', signed_part,
                              sig_esc);
    out = strdup(g);
    g_free(g);
done:
    g_free(xml);
    g_free(value);
    g_free(query);
    g_free(relay);
    g_free(alg);
    g_free(signed_part);
    free(sig);
    g_free(sig_esc);
    return out;
}

/* A Success LogoutResponse to in_response_to, for destination. */
static LassoNode *
response_node(const struct mi_idp *idp, const char *destination, const char *in_response_to)
{
    LassoSamlp2StatusResponse *r = LASSO_SAMLP2_STATUS_RESPONSE(lasso_samlp2_logout_response_new());
    char id[MI_ID_LEN], now[32];
    mi_new_id(id);
    mi_time_iso(time(NULL), now);
    r->ID = g_strdup(id);
    r->Version = g_strdup("2.0");
    r->IssueInstant = g_strdup(now);
    r->Destination = g_strdup(destination);
    r->InResponseTo = g_strdup(in_response_to);
    r->Issuer = name_id(idp->entity_id, NULL);
    r->Status = LASSO_SAMLP2_STATUS(lasso_samlp2_status_new());
    r->Status->StatusCode = LASSO_SAMLP2_STATUS_CODE(lasso_samlp2_status_code_new());
    r->Status->StatusCode->Value = g_strdup(STATUS_SUCCESS);
    return LASSO_NODE(r);
}

/* A LogoutRequest naming session, for destination; id_out receives its ID. */
static LassoNode *
request_node(const struct mi_idp *idp, const char *destination, const struct mi_issued *session,
             char id_out[MI_ID_LEN])
{
    LassoSamlp2LogoutRequest *lr = LASSO_SAMLP2_LOGOUT_REQUEST(lasso_samlp2_logout_request_new());
    LassoSamlp2RequestAbstract *r = LASSO_SAMLP2_REQUEST_ABSTRACT(lr);
    char now[32];
    mi_new_id(id_out);
    mi_time_iso(time(NULL), now);
    r->ID = g_strdup(id_out);
    r->Version = g_strdup("2.0");
    r->IssueInstant = g_strdup(now);
    r->Destination = g_strdup(destination);
    r->Issuer = name_id(idp->entity_id, NULL);
    lr->NameID = name_id(session->name_id, session->name_id_format);
    lr->SessionIndex = g_strdup(session->session_index);
    return LASSO_NODE(lr);
}

char *
mi_slo_response_url(const struct mi_idp *idp, const struct mi_sp *sp, const char *in_response_to,
                    const char *relay_state, char *err, size_t errlen)
{
    const char *slo = mi_sp_slo_url(sp);
    if (slo == NULL) {
        snprintf(err, errlen, "the SP metadata has no HTTP-Redirect SingleLogoutService");
        return NULL;
    }
    LassoNode *r = response_node(idp, slo, in_response_to);
    char *url = redirect_url(slo, r, relay_state, idp->key_file, err, errlen);
    g_object_unref(r);
    return url;
}

char *
mi_slo_request_url(const struct mi_idp *idp, const struct mi_sp *sp,
                   const struct mi_issued *session, const char *relay_state, char id_out[MI_ID_LEN],
                   char *err, size_t errlen)
{
    const char *slo = mi_sp_slo_url(sp);
    if (slo == NULL) {
        snprintf(err, errlen, "the SP metadata has no HTTP-Redirect SingleLogoutService");
        return NULL;
    }
    LassoNode *lr = request_node(idp, slo, session, id_out);
    char *url = redirect_url(slo, lr, relay_state, idp->key_file, err, errlen);
    g_object_unref(lr);
    return url;
}

/* The message signed with an enveloped XML signature over its root (SAML bindings 3.5.4),
 * base64 (caller frees). 0, or -1 with a message. */
static int
post_message(const struct mi_idp *idp, LassoNode *msg, char **b64_out, char *err, size_t errlen)
{
    *b64_out = NULL;
    char *xml = lasso_node_export_to_xml(msg);
    xmlDocPtr doc = xml ? sp_xml_parse(xml, strlen(xml), err, errlen) : NULL;
    xmlChar *out = NULL;
    int len = 0, rc = -1;
    if (doc != NULL && mi_sign_node(doc, xmlDocGetRootElement(doc), idp->key_file, idp->cert_file,
                                    MI_ALG_SHA256, err, errlen) == 0) {
        xmlDocDumpMemoryEnc(doc, &out, &len, "UTF-8");
        *b64_out = out ? mi_base64(out, (size_t)len) : NULL;
        rc = *b64_out ? 0 : -1;
    }
    if (xml == NULL)
        snprintf(err, errlen, "lasso could not export the message");
    xmlFree(out);
    if (doc != NULL)
        xmlFreeDoc(doc);
    g_free(xml);
    return rc;
}

static const char *
slo_post_url(const struct mi_sp *sp, char *err, size_t errlen)
{
    const char *slo = mi_sp_slo_post_url(sp);
    if (slo == NULL)
        snprintf(err, errlen, "the SP metadata has no HTTP-POST SingleLogoutService");
    return slo;
}

int
mi_slo_response_post(const struct mi_idp *idp, const struct mi_sp *sp, const char *in_response_to,
                     char **b64_out, const char **url_out, char *err, size_t errlen)
{
    *url_out = slo_post_url(sp, err, errlen);
    if (*url_out == NULL)
        return -1;
    LassoNode *r = response_node(idp, *url_out, in_response_to);
    int rc = post_message(idp, r, b64_out, err, errlen);
    g_object_unref(r);
    return rc;
}

int
mi_slo_request_post(const struct mi_idp *idp, const struct mi_sp *sp,
                    const struct mi_issued *session, char id_out[MI_ID_LEN], char **b64_out,
                    const char **url_out, char *err, size_t errlen)
{
    *url_out = slo_post_url(sp, err, errlen);
    if (*url_out == NULL)
        return -1;
    LassoNode *lr = request_node(idp, *url_out, session, id_out);
    int rc = post_message(idp, lr, b64_out, err, errlen);
    g_object_unref(lr);
    return rc;
}
