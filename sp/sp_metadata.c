/* sp/sp_metadata.c: GET /saml/metadata. */
#include "sp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

/* The base64 body of a PEM certificate, without the armour lines and newlines. */
static char *
pem_body(const char *pem)
{
    const char *begin = strstr(pem, "-----BEGIN CERTIFICATE-----");
    const char *end = begin ? strstr(begin, "-----END CERTIFICATE-----") : NULL;
    if (end == NULL)
        return NULL;
    begin += strlen("-----BEGIN CERTIFICATE-----");
    char *out = malloc((size_t)(end - begin) + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (const char *p = begin; p < end; p++)
        if (*p != '\n' && *p != '\r' && *p != ' ')
            *o++ = *p;
    *o = '\0';
    return out;
}

/* XML-escapes s (for attribute values). Caller frees. */
static char *
esc(const char *s)
{
    xmlChar *e = xmlEncodeSpecialChars(NULL, (const xmlChar *)s);
    char *out = e ? strdup((const char *)e) : NULL;
    xmlFree(e);
    return out;
}

char *
sp_metadata_xml(const char *entity_id, const char *base_url, const char *acs_url,
                const char *cert_pem)
{
    char *cert = pem_body(cert_pem), *id = esc(entity_id), *base = esc(base_url);
    char *acs = esc(acs_url);
    char *out = NULL;
    if (cert == NULL || id == NULL || base == NULL || acs == NULL)
        goto done;
#define KEY_DESCRIPTOR                                                                             \
    "    <md:KeyDescriptor use=\"%s\">\n"                                                          \
    "      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data>"     \
    "</ds:KeyInfo>\n"                                                                              \
    "    </md:KeyDescriptor>\n"
    char *signing = NULL, *encryption = NULL;
    if (asprintf(&signing, KEY_DESCRIPTOR, "signing", cert) < 0)
        signing = NULL;
    if (asprintf(&encryption, KEY_DESCRIPTOR, "encryption", cert) < 0)
        encryption = NULL;
    if (signing != NULL && encryption != NULL &&
        asprintf(&out,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
                 "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"%s\">\n"
                 "  <md:SPSSODescriptor AuthnRequestsSigned=\"true\" WantAssertionsSigned=\"true\" "
                 "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n"
                 "%s%s"
                 "    <md:SingleLogoutService "
                 "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" "
                 "Location=\"%s/saml/slo\"/>\n"
                 "    <md:SingleLogoutService "
                 "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" "
                 "Location=\"%s/saml/slo\"/>\n"
                 /* Our order of preference (SAML metadata 2.4.4.1 lists them unordered, but
                  * IdPs take the first): a persistent NameID names the person stably and
                  * privately; an address is readable but changes; unspecified leaves it to the
                  * IdP; a transient one matches nobody without the e-mail re-key. */
                 "    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
                 "</md:NameIDFormat>\n"
                 "    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
                 "</md:NameIDFormat>\n"
                 "    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
                 "</md:NameIDFormat>\n"
                 "    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
                 "</md:NameIDFormat>\n"
                 "    <md:AssertionConsumerService index=\"0\" isDefault=\"true\" "
                 "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" "
                 "Location=\"%s\"/>\n"
                 "  </md:SPSSODescriptor>\n"
                 "</md:EntityDescriptor>\n",
                 id, signing, encryption, base, base, acs) < 0)
        out = NULL;
    free(signing);
    free(encryption);
done:
    free(cert);
    free(id);
    free(base);
    free(acs);
    return out;
}
