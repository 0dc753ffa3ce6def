/* sp/sp_idp.c: reading an IdP's metadata for the registry. Real metadata is messy (see
 * tests/fixtures/idp-samples): ADFS/Entra put WS-Federation RoleDescriptors (with their own keys)
 * before the SAML descriptors, Okta puts whitespace inside certificates, federations ship
 * aggregates. The signing keys are taken only from IDPSSODescriptor/KeyDescriptor[use=signing or no
 * use]. */
#include "sp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lasso/key.h>
#include <lasso/lasso.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sp_state.h"
#include "sp_time.h"
#include "sp_xml.h"

#define BINDING_REDIRECT "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
#define BINDING_POST "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
#define IDP_XPATH                                                                                  \
    "//md:EntityDescriptor[md:IDPSSODescriptor[contains(@protocolSupportEnumeration,"              \
    "'urn:oasis:names:tc:SAML:2.0:protocol')]]"

/* Copies the first match's text / attribute value into out. */
static void
first_value(xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr, char *out, size_t len)
{
    out[0] = '\0';
    xmlXPathObjectPtr o = sp_xml_find(ctx, node, expr);
    if (o != NULL && o->nodesetval != NULL && o->nodesetval->nodeNr > 0) {
        xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
        if (v != NULL) {
            snprintf(out, len, "%s", (const char *)v);
            xmlFree(v);
        }
    }
    xmlXPathFreeObject(o);
}

/* Every endpoint of the IdP (Location and ResponseLocation of any service lasso may send a
 * browser to) must be an absolute http(s) URL without control characters or spaces: a CR/LF
 * would reach the Location header and the CLI's output, javascript: a browser. -1 with a
 * message naming the first bad one (its unprintable bytes shown as '?'). */
static int
check_endpoints(xmlXPathContextPtr ctx, xmlNodePtr ed, char *err, size_t errlen)
{
    int rc = 0;
    xmlXPathObjectPtr o = sp_xml_find(
        ctx, ed, "md:IDPSSODescriptor/*/@Location | md:IDPSSODescriptor/*/@ResponseLocation");
    for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr && rc == 0; i++) {
        xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
        if (v != NULL && sp_url_is_endpoint((const char *)v)) {
            xmlFree(v);
            continue;
        }
        char shown[120];
        size_t k = 0;
        for (const unsigned char *c = v; c && *c && k + 1 < sizeof shown; c++)
            shown[k++] = *c < 0x20 || *c == 0x7f ? '?' : (char)*c;
        shown[k] = '\0';
        snprintf(err, errlen,
                 "the IdP's endpoint URL \"%s\" (%s) is not an absolute http:// or https:// "
                 "URL without spaces or control characters",
                 shown, (const char *)o->nodesetval->nodeTab[i]->name);
        xmlFree(v);
        rc = -1;
    }
    xmlXPathFreeObject(o);
    return rc;
}

/* Decodes a base64 certificate (whitespace anywhere); NULL when it is no X.509. */
static X509 *
cert_from_b64(const char *b64)
{
    size_t n = strlen(b64);
    char *clean = malloc(n + 1);
    unsigned char *der = malloc(n + 4);
    X509 *x = NULL;
    if (clean == NULL || der == NULL)
        goto out;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (b64[i] != ' ' && b64[i] != '\n' && b64[i] != '\r' && b64[i] != '\t')
            clean[k++] = b64[i];
    clean[k] = '\0';
    int dl = EVP_DecodeBlock(der, (const unsigned char *)clean, (int)k);
    if (dl <= 0)
        goto out;
    while (k > 0 && clean[--k] == '=')
        dl--; /* EVP_DecodeBlock counts padding as data */
    const unsigned char *p = der;
    x = d2i_X509(NULL, &p, dl);
out:
    free(clean);
    free(der);
    return x;
}

/* Fills c from a base64 certificate. -1 when it is no X.509. */
static int
read_cert(const char *b64, struct sp_cert *c)
{
    X509 *x = cert_from_b64(b64);
    if (x == NULL)
        return -1;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    X509_digest(x, EVP_sha256(), md, &mdlen);
    for (unsigned i = 0; i < mdlen && 3 * i + 3 <= sizeof c->sha256; i++)
        snprintf(c->sha256 + 3 * i, 4, i + 1 < mdlen ? "%02X:" : "%02X", md[i]);
    X509_NAME_oneline(X509_get_subject_name(x), c->subject, sizeof c->subject);
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
        c->not_after = timegm(&tm);
    X509_free(x);
    return 0;
}

#define SIGNING_CERTS                                                                              \
    "md:IDPSSODescriptor/md:KeyDescriptor[not(@use) or "                                           \
    "@use='signing']/ds:KeyInfo/ds:X509Data/ds:X509Certificate"

static int
read_certs(xmlXPathContextPtr ctx, xmlNodePtr ed, struct sp_idp_meta *out, char *err, size_t errlen)
{
    xmlXPathObjectPtr o = sp_xml_find(ctx, ed, SIGNING_CERTS);
    int rc = -1;
    if (o == NULL || o->nodesetval == NULL || o->nodesetval->nodeNr == 0) {
        snprintf(err, errlen,
                 "the IdP's metadata has no signing certificate in its "
                 "IDPSSODescriptor");
        goto out;
    }
    /* Never half-taken: lasso would trust every key of the metadata, the registry would show
     * only the first ones. */
    if (o->nodesetval->nodeNr > SP_MAX_CERTS) {
        snprintf(err, errlen,
                 "the IdP's metadata lists %d signing certificates in its IDPSSODescriptor; at "
                 "most %d are accepted (remove retired ones from the metadata)",
                 o->nodesetval->nodeNr, SP_MAX_CERTS);
        goto out;
    }
    for (int i = 0; i < o->nodesetval->nodeNr && out->n_certs < SP_MAX_CERTS; i++) {
        xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
        int bad = v == NULL || read_cert((const char *)v, &out->certs[out->n_certs]) != 0;
        xmlFree(v);
        if (bad) {
            snprintf(err, errlen,
                     "signing certificate %d in the metadata is not a valid X.509 "
                     "certificate",
                     i + 1);
            goto out;
        }
        out->n_certs++;
    }
    rc = 0;
out:
    xmlXPathFreeObject(o);
    return rc;
}

/* lasso takes signing keys from every role descriptor of an EntityDescriptor: a key of an
 * AttributeAuthorityDescriptor, an SPSSODescriptor or a WS-Federation RoleDescriptor would
 * verify SSO responses. Only the IDPSSODescriptor stays (with Extensions, Organization and
 * ContactPerson, which carry no keys). */
static void
only_idp_role(xmlNodePtr ed)
{
    xmlNodePtr next = NULL;
    for (xmlNodePtr c = ed->children; c != NULL; c = next) {
        next = c->next;
        if (c->type != XML_ELEMENT_NODE || c->ns == NULL ||
            strcmp((const char *)c->ns->href, SP_NS_MD) != 0)
            continue;
        const char *n = (const char *)c->name;
        size_t l = strlen(n);
        int role =
            (l > 10 && strcmp(n + l - 10, "Descriptor") == 0) || strcmp(n, "RoleDescriptor") == 0;
        if (role && strcmp(n, "IDPSSODescriptor") != 0) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
    }
}

/* The EntityDescriptor on its own, with the namespaces it borrows from ancestors declared, and
 * only its IdP role (only_idp_role). */
char *
sp_idp_standalone(xmlNodePtr ed)
{
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    if (doc == NULL)
        return NULL;
    xmlNodePtr copy = xmlDocCopyNode(ed, doc, 1);
    char *result = NULL;
    if (copy != NULL) {
        xmlDocSetRootElement(doc, copy);
        only_idp_role(copy);
        xmlReconciliateNs(doc, copy);
        xmlChar *mem = NULL;
        int len = 0;
        xmlDocDumpMemory(doc, &mem, &len);
        if (mem != NULL) {
            result = strndup((const char *)mem, (size_t)len);
            xmlFree(mem);
        }
    }
    xmlFreeDoc(doc);
    return result;
}

/* Picks the IdP: by entity_id, or the only one. */
static xmlNodePtr
choose(xmlXPathObjectPtr idps, const char *entity_id, char *err, size_t errlen)
{
    int n = idps && idps->nodesetval ? idps->nodesetval->nodeNr : 0;
    if (n == 0) {
        snprintf(err, errlen,
                 "the metadata describes no SAML 2.0 identity provider "
                 "(no EntityDescriptor with an IDPSSODescriptor)");
        return NULL;
    }
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        xmlNodePtr ed = idps->nodesetval->nodeTab[i];
        char *id = sp_xml_attr(ed, "entityID");
        int match = id != NULL && entity_id != NULL && strcmp(id, entity_id) == 0;
        if (i == 0)
            used = (size_t)snprintf(err, errlen,
                                    "the metadata describes %d identity providers; "
                                    "choose one with --entity-id:",
                                    n);
        if (used < errlen)
            used += (size_t)snprintf(err + used, errlen - used, " %s", id ? id : "?");
        xmlFree(id);
        if (match)
            return ed;
    }
    if (n == 1 && entity_id == NULL)
        return idps->nodesetval->nodeTab[0];
    if (entity_id != NULL)
        snprintf(err, errlen, "the metadata has no identity provider %.200s", entity_id);
    return NULL;
}

int
sp_idp_parse(const char *xml, size_t len, const char *entity_id, struct sp_idp_meta *out, char *err,
             size_t errlen)
{
    memset(out, 0, sizeof *out);
    int rc = -1;
    xmlXPathContextPtr ctx = NULL;
    xmlXPathObjectPtr idps = NULL;
    LassoProvider *provider = NULL;
    xmlDocPtr doc = sp_xml_parse(xml, len, err, errlen);
    if (doc == NULL)
        goto out;
    ctx = sp_xml_xpath(doc);
    idps = ctx ? sp_xml_find(ctx, NULL, IDP_XPATH) : NULL;
    xmlNodePtr ed = choose(idps, entity_id, err, errlen);
    if (ed == NULL)
        goto out;
    char *id = sp_xml_attr(ed, "entityID");
    if (id == NULL || id[0] == '\0' || strlen(id) >= sizeof out->entity_id) {
        snprintf(err, errlen, "the IdP's entityID is missing or longer than %zu characters",
                 sizeof out->entity_id - 1);
        xmlFree(id);
        goto out;
    }
    snprintf(out->entity_id, sizeof out->entity_id, "%s", id);
    xmlFree(id);
    first_value(ctx, ed,
                "md:IDPSSODescriptor/md:SingleSignOnService[@Binding='" BINDING_REDIRECT
                "']/@Location",
                out->sso_redirect, sizeof out->sso_redirect);
    first_value(ctx, ed,
                "md:IDPSSODescriptor/md:SingleSignOnService[@Binding='" BINDING_POST "']/@Location",
                out->sso_post, sizeof out->sso_post);
    first_value(ctx, ed,
                "md:IDPSSODescriptor/md:SingleLogoutService[@Binding='" BINDING_REDIRECT
                "']/@Location",
                out->slo_redirect, sizeof out->slo_redirect);
    first_value(ctx, ed,
                "md:IDPSSODescriptor/md:SingleLogoutService[@Binding='" BINDING_POST "']/@Location",
                out->slo_post, sizeof out->slo_post);
    if (out->sso_redirect[0] == '\0' && out->sso_post[0] == '\0') {
        snprintf(err, errlen,
                 "the IdP has no SingleSignOnService with the HTTP-Redirect or "
                 "HTTP-POST binding");
        goto out;
    }
    if (check_endpoints(ctx, ed, err, errlen) != 0)
        goto out;
    char want[16];
    first_value(ctx, ed, "md:IDPSSODescriptor/@WantAuthnRequestsSigned", want, sizeof want);
    out->want_authn_requests_signed = strcmp(want, "true") == 0 || strcmp(want, "1") == 0;
    char until[64];
    first_value(ctx, ed, "ancestor-or-self::*[@validUntil][1]/@validUntil", until, sizeof until);
    if (until[0] != '\0')
        sp_time_parse(until, &out->valid_until);
    char cache[64];
    first_value(ctx, ed, "ancestor-or-self::*[@cacheDuration][1]/@cacheDuration", cache,
                sizeof cache);
    out->cache_seconds = cache[0] != '\0' ? sp_duration_seconds(cache) : -1;
    if (read_certs(ctx, ed, out, err, errlen) != 0)
        goto out;
    out->xml = sp_idp_standalone(ed);
    if (out->xml == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* lasso must accept the document the SAML state will build the IdP's provider from
     * (sp_idp_provider), keys aside: their certificates were read above, and loading them
     * into xmlsec (OpenSSL 3's decoders: ~1-5 ms per key) waits for the IdP's first use, so a
     * federation's thousands of IdPs load without it. */
    char *keyless = sp_idp_keyless(out->xml);
    provider = keyless
                   ? lasso_provider_new_from_buffer(LASSO_PROVIDER_ROLE_IDP, keyless, NULL, NULL)
                   : NULL;
    free(keyless);
    if (provider == NULL || provider->ProviderID == NULL ||
        strcmp(provider->ProviderID, out->entity_id) != 0 ||
        lasso_provider_get_protocol_conformance(provider) != LASSO_PROTOCOL_SAML_2_0) {
        snprintf(err, errlen, "the SAML library could not load this IdP's metadata");
        goto out;
    }
    rc = 0;
out:
    if (provider != NULL)
        g_object_unref(provider);
    xmlXPathFreeObject(idps);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    if (rc != 0)
        sp_idp_meta_free(out);
    return rc;
}

char *
sp_idp_role_only(const char *xml)
{
    char err[256];
    xmlDocPtr doc = sp_xml_parse(xml, strlen(xml), err, sizeof err);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    char *out = NULL;
    if (root != NULL)
        out = sp_idp_standalone(root);
    xmlFreeDoc(doc);
    return out;
}

void
sp_idp_meta_free(struct sp_idp_meta *m)
{
    free(m->xml);
    m->xml = NULL;
}

/* The public key of a certificate as PEM ("PUBLIC KEY"), or NULL. */
static char *
pubkey_pem(X509 *x)
{
    EVP_PKEY *k = X509_get0_pubkey(x);
    BIO *b = k ? BIO_new(BIO_s_mem()) : NULL;
    char *out = NULL;
    if (b != NULL && PEM_write_bio_PUBKEY(b, k) == 1) {
        char *data = NULL;
        long n = BIO_get_mem_data(b, &data);
        if (n > 0)
            out = strndup(data, (size_t)n);
    }
    BIO_free(b);
    return out;
}

int
sp_idp_signing_keys(const char *xml, char *entity_id, size_t entity_len, char **pems, int max)
{
    char err[256];
    int n = 0;
    entity_id[0] = '\0';
    xmlDocPtr doc = sp_xml_parse(xml, strlen(xml), err, sizeof err);
    xmlXPathContextPtr ctx = doc ? sp_xml_xpath(doc) : NULL;
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlXPathObjectPtr o = ctx ? sp_xml_find(ctx, root, SIGNING_CERTS) : NULL;
    if (root == NULL || o == NULL || o->nodesetval == NULL)
        goto out;
    char *id = sp_xml_attr(root, "entityID");
    snprintf(entity_id, entity_len, "%s", id ? id : "");
    xmlFree(id);
    for (int i = 0; i < o->nodesetval->nodeNr && n < max; i++) {
        xmlChar *v = xmlNodeGetContent(o->nodesetval->nodeTab[i]);
        X509 *x = v ? cert_from_b64((const char *)v) : NULL;
        xmlFree(v);
        if (x != NULL && (pems[n] = pubkey_pem(x)) != NULL)
            n++;
        X509_free(x);
    }
out:
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return n;
}

/* Unlinks every KeyDescriptor of the IDPSSODescriptors of ed. */
static void
drop_key_descriptors(xmlNodePtr ed)
{
    for (xmlNodePtr role = ed->children; role != NULL; role = role->next) {
        if (role->type != XML_ELEMENT_NODE || strcmp((const char *)role->name, "IDPSSODescriptor"))
            continue;
        xmlNodePtr next = NULL;
        for (xmlNodePtr c = role->children; c != NULL; c = next) {
            next = c->next;
            if (c->type == XML_ELEMENT_NODE && c->ns != NULL &&
                strcmp((const char *)c->ns->href, SP_NS_MD) == 0 &&
                strcmp((const char *)c->name, "KeyDescriptor") == 0) {
                xmlUnlinkNode(c);
                xmlFreeNode(c);
            }
        }
    }
}

char *
sp_idp_keyless(const char *xml)
{
    char err[256];
    xmlDocPtr doc = sp_xml_parse(xml, strlen(xml), err, sizeof err);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    char *out = NULL;
    if (root != NULL) {
        only_idp_role(root);
        drop_key_descriptors(root);
        xmlChar *mem = NULL;
        int len = 0;
        xmlDocDumpMemory(doc, &mem, &len);
        if (mem != NULL)
            out = strndup((const char *)mem, (size_t)len);
        xmlFree(mem);
    }
    xmlFreeDoc(doc);
    return out;
}

LassoProvider *
sp_idp_provider(const char *xml, char *err, size_t errlen)
{
    char entity_id[SP_ENTITY_MAX];
    char *pems[SP_MAX_CERTS] = {0};
    LassoProvider *p = NULL;
    int n = sp_idp_signing_keys(xml, entity_id, sizeof entity_id, pems, SP_MAX_CERTS);
    char *keyless = n > 0 ? sp_idp_keyless(xml) : NULL;
    if (n <= 0) {
        snprintf(err, errlen, "the IdP's metadata has no usable signing certificate");
        goto out;
    }
    /* The first key as the provider's public key (lasso keeps keys added later only beside one
     * it loaded itself), the others added in front of it from the last: the metadata's order. */
    p = keyless ? lasso_provider_new_from_buffer(LASSO_PROVIDER_ROLE_IDP, keyless, pems[0], NULL)
                : NULL;
    if (p == NULL || p->ProviderID == NULL || strcmp(p->ProviderID, entity_id) != 0 ||
        lasso_provider_get_protocol_conformance(p) != LASSO_PROTOCOL_SAML_2_0) {
        snprintf(err, errlen, "the SAML library could not load this IdP's metadata");
        goto fail;
    }
    for (int i = n - 1; i >= 1; i--) {
        LassoKey *k = lasso_key_new_for_signature_from_memory(
            pems[i], strlen(pems[i]), NULL, LASSO_SIGNATURE_METHOD_RSA_SHA256, NULL);
        if (k == NULL) {
            snprintf(err, errlen, "signing certificate %d: the SAML library refused its key",
                     i + 1);
            goto fail;
        }
        lasso_provider_add_key(p, k, FALSE);
        g_object_unref(k);
    }
    goto out;
fail:
    if (p != NULL)
        g_object_unref(p);
    p = NULL;
out:
    for (int i = 0; i < n; i++)
        free(pems[i]);
    free(keyless);
    return p;
}
