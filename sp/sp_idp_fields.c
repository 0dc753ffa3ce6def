/* sp/sp_idp_fields.c: an IdP registered without metadata, from the three fields that SaaS setup
 * screens show (issuer, sign-in URL, signing certificate). The fields become a minimal
 * EntityDescriptor, which then goes through the same import (sp_idp_parse) as any metadata, so
 * there is one path from "what the admin gave" to "what the ACS trusts". */
#include "sp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define BINDING_REDIRECT "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
#define BINDING_POST "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

/* Printable ASCII without spaces: an entity ID or URL that reached us through a form or a file
 * must not smuggle line breaks into logs, headers or the CLI's output. */
static int
printable_token(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return 0;
    return 1;
}

int
sp_url_is_endpoint(const char *url)
{
    if (!printable_token(url) || strlen(url) >= SP_URL_MAX)
        return 0;
    const char *rest = NULL;
    if (strncmp(url, "https://", 8) == 0)
        rest = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        rest = url + 7;
    /* A host must follow: not "https:///x", not a path. */
    return rest != NULL && rest[0] != '\0' && rest[0] != '/' && rest[0] != '?' && rest[0] != '#';
}

/* The certificate given as PEM ("-----BEGIN CERTIFICATE-----") or as bare base64 DER (as Okta's
 * and Azure's setup pages show it). NULL when it is neither. */
static X509 *
read_cert_text(const char *text)
{
    if (strstr(text, "-----BEGIN") != NULL) {
        BIO *b = BIO_new_mem_buf(text, -1);
        X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        return x;
    }
    size_t n = strlen(text), k = 0;
    char *clean = malloc(n + 1);
    unsigned char *der = malloc(n + 4);
    X509 *x = NULL;
    if (clean == NULL || der == NULL)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
            clean[k++] = text[i];
    clean[k] = '\0';
    if (k == 0 || k % 4 != 0)
        goto out;
    int dl = EVP_DecodeBlock(der, (const unsigned char *)clean, (int)k);
    if (dl <= 0)
        goto out;
    while (k > 0 && clean[--k] == '=')
        dl--; /* EVP_DecodeBlock counts padding as data */
    const unsigned char *p = der;
    x = d2i_X509(NULL, &p, dl);
    if (x != NULL && p != der + dl) { /* trailing bytes: not one certificate */
        X509_free(x);
        x = NULL;
    }
out:
    free(clean);
    free(der);
    return x;
}

/* base64 of the certificate's DER, for X509Certificate. Caller frees. */
static char *
cert_b64(X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    if (n <= 0)
        return NULL;
    char *out = malloc(4 * ((size_t)n / 3 + 1) + 1);
    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, der, n);
    OPENSSL_free(der);
    return out;
}

/* Appends to *buf (malloc'd, grown); -1 when out of memory. */
static int
append(char **buf, size_t *len, const char *s)
{
    size_t n = strlen(s);
    char *grown = realloc(*buf, *len + n + 1);
    if (grown == NULL)
        return -1;
    memcpy(grown + *len, s, n + 1);
    *buf = grown;
    *len += n;
    return 0;
}

/* Appends s XML-escaped (for an attribute value). */
static int
append_escaped(char **buf, size_t *len, const char *s)
{
    xmlChar *e = xmlEncodeSpecialChars(NULL, (const xmlChar *)s);
    int rc = e ? append(buf, len, (const char *)e) : -1;
    xmlFree(e);
    return rc;
}

static int
check_fields(const struct sp_idp_fields *f, char *err, size_t errlen)
{
    if (!printable_token(f->entity_id) || strlen(f->entity_id) >= SP_ENTITY_MAX) {
        snprintf(err, errlen,
                 "the IdP's entity ID (issuer) is required: printable characters without spaces, "
                 "at most %d",
                 SP_ENTITY_MAX - 1);
        return -1;
    }
    if (!sp_url_is_endpoint(f->sso_url)) {
        snprintf(err, errlen,
                 "the IdP's sign-in URL must be an absolute http:// or https:// URL without "
                 "spaces or control characters");
        return -1;
    }
    if (f->slo_url != NULL && f->slo_url[0] != '\0' && !sp_url_is_endpoint(f->slo_url)) {
        snprintf(err, errlen,
                 "the IdP's logout URL must be an absolute http:// or https:// URL without "
                 "spaces or control characters");
        return -1;
    }
    if (f->n_certs == 0) {
        snprintf(err, errlen, "the IdP's signing certificate is required");
        return -1;
    }
    if (f->n_certs > SP_MAX_CERTS) {
        snprintf(err, errlen, "at most %d signing certificates", SP_MAX_CERTS);
        return -1;
    }
    return 0;
}

char *
sp_idp_metadata_from_fields(const struct sp_idp_fields *f, char *err, size_t errlen)
{
    if (check_fields(f, err, errlen) != 0)
        return NULL;
    char *xml = NULL, *b64 = NULL;
    size_t len = 0;
    const char *binding = f->post_binding ? BINDING_POST : BINDING_REDIRECT;
    if (append(&xml, &len,
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
               "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"") != 0 ||
        append_escaped(&xml, &len, f->entity_id) != 0 ||
        append(&xml, &len,
               "\">\n  <md:IDPSSODescriptor "
               "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n") != 0)
        goto oom;
    for (size_t i = 0; i < f->n_certs; i++) {
        X509 *x = f->certs[i] ? read_cert_text(f->certs[i]) : NULL;
        b64 = x ? cert_b64(x) : NULL;
        X509_free(x);
        if (b64 == NULL) {
            snprintf(err, errlen,
                     "signing certificate %zu is not an X.509 certificate (PEM, or the base64 "
                     "of its DER)",
                     i + 1);
            goto fail;
        }
        if (append(&xml, &len,
                   "    <md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data>"
                   "<ds:X509Certificate>") != 0 ||
            append(&xml, &len, b64) != 0 ||
            append(&xml, &len,
                   "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>\n") != 0)
            goto oom;
        free(b64);
        b64 = NULL;
    }
    if (f->slo_url != NULL && f->slo_url[0] != '\0') {
        if (append(&xml, &len, "    <md:SingleLogoutService Binding=\"") != 0 ||
            append(&xml, &len, binding) != 0 || append(&xml, &len, "\" Location=\"") != 0 ||
            append_escaped(&xml, &len, f->slo_url) != 0 || append(&xml, &len, "\"/>\n") != 0)
            goto oom;
    }
    if (append(&xml, &len, "    <md:SingleSignOnService Binding=\"") != 0 ||
        append(&xml, &len, binding) != 0 || append(&xml, &len, "\" Location=\"") != 0 ||
        append_escaped(&xml, &len, f->sso_url) != 0 ||
        append(&xml, &len, "\"/>\n  </md:IDPSSODescriptor>\n</md:EntityDescriptor>\n") != 0)
        goto oom;
    return xml;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    free(b64);
    free(xml);
    return NULL;
}
