/* sp/mockidp/mi_xmlsec.c: XML-DSig signatures and XML-Enc encryption of the responses, with
 * xmlsec directly (not lasso), so that every fault — which element is signed, with which key and
 * algorithm, what changes afterwards — stays under our control. */
#include "mi.h"

#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/templates.h>

static int
algorithms(enum mi_alg alg, xmlSecTransformId *sign, xmlSecTransformId *digest)
{
    switch (alg) {
    case MI_ALG_SHA1:
        *sign = xmlSecTransformRsaSha1Id;
        *digest = xmlSecTransformSha1Id;
        return 0;
    case MI_ALG_SHA256:
        *sign = xmlSecTransformRsaSha256Id;
        *digest = xmlSecTransformSha256Id;
        return 0;
    case MI_ALG_SHA512:
        *sign = xmlSecTransformRsaSha512Id;
        *digest = xmlSecTransformSha512Id;
        return 0;
    }
    return -1;
}

/* Registers node's ID attribute as an XML ID so that Reference URI="#id" finds it. */
static xmlChar *
register_id(xmlDocPtr doc, xmlNodePtr node)
{
    xmlAttrPtr attr = xmlHasProp(node, (const xmlChar *)"ID");
    xmlChar *id = attr ? xmlNodeGetContent((xmlNodePtr)attr) : NULL;
    if (id != NULL && xmlGetID(doc, id) == NULL)
        xmlAddID(NULL, doc, id, attr);
    return id;
}

/* SAML core 5.4.1: the signature follows the Issuer. */
static void
place_signature(xmlNodePtr node, xmlNodePtr sig)
{
    xmlNodePtr first = xmlFirstElementChild(node);
    if (first != NULL && xmlStrEqual(first->name, (const xmlChar *)"Issuer"))
        xmlAddNextSibling(first, sig);
    else if (first != NULL)
        xmlAddPrevSibling(first, sig);
    else
        xmlAddChild(node, sig);
}

static xmlSecKeyPtr
load_key(const char *key_file, const char *cert_file)
{
    xmlSecKeyPtr key = xmlSecCryptoAppKeyLoad(key_file, xmlSecKeyDataFormatPem, NULL, NULL, NULL);
    if (key != NULL && xmlSecCryptoAppKeyCertLoad(key, cert_file, xmlSecKeyDataFormatPem) < 0) {
        xmlSecKeyDestroy(key);
        return NULL;
    }
    return key;
}

int
mi_sign_node(xmlDocPtr doc, xmlNodePtr node, const char *key_file, const char *cert_file,
             enum mi_alg alg, char *err, size_t errlen)
{
    int rc = -1;
    xmlSecTransformId sign_id, digest_id;
    xmlSecDSigCtxPtr ctx = NULL;
    xmlChar *id = register_id(doc, node);
    char uri[300];
    if (id == NULL || algorithms(alg, &sign_id, &digest_id) != 0) {
        snprintf(err, errlen, "nothing to sign: the element has no ID");
        goto out;
    }
    snprintf(uri, sizeof uri, "#%s", (const char *)id);
    xmlNodePtr sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId, sign_id, NULL,
                                                     (const xmlChar *)"ds");
    if (sig == NULL)
        goto fail;
    place_signature(node, sig);
    xmlNodePtr ref =
        xmlSecTmplSignatureAddReference(sig, digest_id, NULL, (const xmlChar *)uri, NULL);
    xmlNodePtr ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL);
    if (ref == NULL || ki == NULL ||
        xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) == NULL ||
        xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId) == NULL ||
        xmlSecTmplKeyInfoAddX509Data(ki) == NULL)
        goto fail;
    ctx = xmlSecDSigCtxCreate(NULL);
    if (ctx == NULL)
        goto fail;
    ctx->signKey = load_key(key_file, cert_file);
    if (ctx->signKey == NULL) {
        snprintf(err, errlen, "cannot load the signing key %s with its certificate %s", key_file,
                 cert_file);
        goto out;
    }
    if (xmlSecDSigCtxSign(ctx, sig) < 0)
        goto fail;
    rc = 0;
    goto out;
fail:
    snprintf(err, errlen, "xmlsec could not sign the element");
out:
    if (ctx != NULL)
        xmlSecDSigCtxDestroy(ctx);
    xmlFree(id);
    return rc;
}

/* A keys manager holding the SP's certificate: the key that wraps the session key. */
static xmlSecKeysMngrPtr
recipient_keys(const char *cert_pem)
{
    xmlSecKeysMngrPtr mngr = xmlSecKeysMngrCreate();
    if (mngr == NULL || xmlSecCryptoAppDefaultKeysMngrInit(mngr) < 0)
        goto fail;
    xmlSecKeyPtr key =
        xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)cert_pem, (xmlSecSize)strlen(cert_pem),
                                     xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
    if (key == NULL)
        goto fail;
    if (xmlSecCryptoAppDefaultKeysMngrAdoptKey(mngr, key) < 0) {
        xmlSecKeyDestroy(key);
        goto fail;
    }
    return mngr;
fail:
    if (mngr != NULL)
        xmlSecKeysMngrDestroy(mngr);
    return NULL;
}

/* EncryptedData (AES-256-CBC) whose KeyInfo holds the EncryptedKey (RSA-OAEP). */
static xmlNodePtr
encryption_template(xmlDocPtr doc)
{
    xmlNodePtr enc = xmlSecTmplEncDataCreate(doc, xmlSecTransformAes256CbcId, NULL,
                                             xmlSecTypeEncElement, NULL, NULL);
    if (enc == NULL)
        return NULL;
    xmlNodePtr ki = xmlSecTmplEncDataEnsureKeyInfo(enc, NULL);
    xmlNodePtr ek =
        ki ? xmlSecTmplKeyInfoAddEncryptedKey(ki, xmlSecTransformRsaOaepId, NULL, NULL, NULL)
           : NULL;
    if (xmlSecTmplEncDataEnsureCipherValue(enc) == NULL || ek == NULL ||
        xmlSecTmplEncDataEnsureCipherValue(ek) == NULL) {
        xmlFreeNode(enc);
        return NULL;
    }
    return enc;
}

int
mi_encrypt_assertion(xmlDocPtr doc, xmlNodePtr assertion, const char *cert_pem, char *err,
                     size_t errlen)
{
    int rc = -1;
    xmlSecKeysMngrPtr mngr = cert_pem ? recipient_keys(cert_pem) : NULL;
    xmlSecEncCtxPtr ctx = mngr ? xmlSecEncCtxCreate(mngr) : NULL;
    xmlNodePtr enc = ctx ? encryption_template(doc) : NULL;
    if (enc == NULL) {
        snprintf(err, errlen,
                 cert_pem ? "cannot set up the encryption to the SP's certificate"
                          : "the SP metadata has no certificate to encrypt to");
        goto out;
    }
    /* The SP decrypts the Assertion on its own, out of this document: it must declare every
     * namespace it inherits (the saml prefix lives on the Response). Signatures are exc-c14n,
     * so the declarations change no digest. */
    xmlNsPtr *in_scope = xmlGetNsList(doc, assertion);
    for (int i = 0; in_scope != NULL && in_scope[i] != NULL; i++) {
        int declared = 0;
        for (xmlNsPtr d = assertion->nsDef; d != NULL && !declared; d = d->next)
            declared = xmlStrEqual(d->prefix, in_scope[i]->prefix);
        if (!declared)
            xmlNewNs(assertion, in_scope[i]->href, in_scope[i]->prefix);
    }
    xmlFree(in_scope);
    xmlNodePtr wrapper =
        xmlNewDocNode(doc, assertion->ns, (const xmlChar *)"EncryptedAssertion", NULL);
    xmlAddPrevSibling(assertion, wrapper);
    xmlUnlinkNode(assertion);
    xmlAddChild(wrapper, assertion);
    ctx->encKey = xmlSecKeyGenerate(xmlSecKeyDataAesId, 256, xmlSecKeyDataTypeSession);
    if (ctx->encKey == NULL || xmlSecEncCtxXmlEncrypt(ctx, enc, assertion) < 0) {
        snprintf(err, errlen, "xmlsec could not encrypt the assertion");
        xmlFreeNode(enc);
        goto out;
    }
    rc = 0;
out:
    if (ctx != NULL)
        xmlSecEncCtxDestroy(ctx);
    if (mngr != NULL)
        xmlSecKeysMngrDestroy(mngr);
    return rc;
}
