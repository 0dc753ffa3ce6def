/* sp/sp_mdsig.c: metadata fetched from a URL — its XML signature checked against the
 * certificate the owner gave (never a key from the document), and its caching hints
 * (validUntil, cacheDuration) read for the refresh schedule. SAML metadata 2.0, sections 2.3
 * (cacheDuration, validUntil) and 3 (signature over the root element, enveloped). */
#include "sp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/crypto.h>
#include <xmlsec/keys.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include "sp_time.h"
#include "sp_xml.h"

static int
is_ds(xmlNodePtr n, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
           xmlStrEqual(n->ns->href, (const xmlChar *)SP_NS_DS) &&
           xmlStrEqual(n->name, (const xmlChar *)name);
}

/* The root's ds:Signature: a direct child, exactly one. */
static xmlNodePtr
root_signature(xmlNodePtr root, char *err, size_t errlen)
{
    xmlNodePtr sig = NULL;
    for (xmlNodePtr c = xmlFirstElementChild(root); c != NULL; c = xmlNextElementSibling(c)) {
        if (!is_ds(c, "Signature"))
            continue;
        if (sig != NULL) {
            snprintf(err, errlen, "the metadata has more than one signature on its root element");
            return NULL;
        }
        sig = c;
    }
    if (sig == NULL)
        snprintf(err, errlen, "the metadata is not signed (no ds:Signature on its root element)");
    return sig;
}

/* The one Reference must cover the root: URI "" or "#" + the root's ID. */
static int
covers_root(xmlSecDSigCtxPtr ctx, xmlNodePtr root, char *err, size_t errlen)
{
    if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1) {
        snprintf(err, errlen, "the metadata's signature must have exactly one reference");
        return 0;
    }
    xmlSecDSigReferenceCtxPtr ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0);
    const char *uri = ref && ref->uri ? (const char *)ref->uri : "";
    char *id = sp_xml_attr(root, "ID");
    int ok = uri[0] == '\0' || (uri[0] == '#' && id != NULL && strcmp(uri + 1, id) == 0);
    xmlFree(id);
    if (!ok)
        snprintf(err, errlen, "the metadata's signature does not cover its root element");
    if (ok && ref->digestMethod != NULL && ref->digestMethod->id == xmlSecTransformSha1Id) {
        snprintf(err, errlen, "the metadata's signature uses SHA-1 (refused)");
        return 0;
    }
    return ok;
}

int
sp_metadata_verify(const char *xml, size_t len, const char *cert_pem, char *err, size_t errlen)
{
    int rc = -1;
    xmlSecDSigCtxPtr ctx = NULL;
    xmlDocPtr doc = sp_xml_parse(xml, len, err, errlen);
    if (doc == NULL)
        return -1;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr sig = root ? root_signature(root, err, errlen) : NULL;
    if (sig == NULL)
        goto out;
    xmlAttrPtr attr = xmlHasProp(root, (const xmlChar *)"ID");
    xmlChar *id = attr ? xmlNodeGetContent((xmlNodePtr)attr) : NULL;
    if (id != NULL && xmlGetID(doc, id) == NULL)
        xmlAddID(NULL, doc, id, attr);
    xmlFree(id);
    ctx = xmlSecDSigCtxCreate(NULL);
    if (ctx == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    /* Only the given certificate's key: a key or certificate in KeyInfo is never used. */
    ctx->signKey =
        xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)cert_pem, (xmlSecSize)strlen(cert_pem),
                                     xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
    if (ctx->signKey == NULL) {
        snprintf(err, errlen, "the metadata signing certificate is not a PEM X.509 certificate");
        goto out;
    }
    ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty | xmlSecTransformUriTypeSameDocument;
    if (xmlSecDSigCtxVerify(ctx, sig) < 0 || ctx->status != xmlSecDSigStatusSucceeded) {
        snprintf(err, errlen,
                 "the metadata's signature does not verify with the metadata signing "
                 "certificate");
        goto out;
    }
    if (ctx->signMethod != NULL && ctx->signMethod->id == xmlSecTransformRsaSha1Id) {
        snprintf(err, errlen, "the metadata's signature uses RSA-SHA1 (refused)");
        goto out;
    }
    if (!covers_root(ctx, root, err, errlen))
        goto out;
    rc = 0;
out:
    if (ctx != NULL)
        xmlSecDSigCtxDestroy(ctx);
    xmlFreeDoc(doc);
    return rc;
}

/* xs:duration (PnYnMnDTnHnMnS, no fractions beyond seconds; months 30 days, years 365). */
long
sp_duration_seconds(const char *d)
{
    if (d == NULL || d[0] != 'P')
        return -1;
    long total = 0;
    int in_time = 0, any = 0;
    for (const char *p = d + 1; *p;) {
        if (*p == 'T') {
            in_time = 1;
            p++;
            continue;
        }
        char *end = NULL;
        double v = strtod(p, &end);
        if (end == p || v < 0 || v > 1e9)
            return -1;
        long mult;
        switch (*end) {
        case 'Y':
            mult = in_time ? -1 : 365L * 86400;
            break;
        case 'M':
            mult = in_time ? 60 : 30L * 86400;
            break;
        case 'W':
            mult = in_time ? -1 : 7L * 86400;
            break;
        case 'D':
            mult = in_time ? -1 : 86400;
            break;
        case 'H':
            mult = in_time ? 3600 : -1;
            break;
        case 'S':
            mult = in_time ? 1 : -1;
            break;
        default:
            return -1;
        }
        if (mult < 0)
            return -1;
        total += (long)(v * (double)mult);
        if (total > 100L * 365 * 86400)
            return -1;
        any = 1;
        p = end + 1;
    }
    return any ? total : -1;
}
