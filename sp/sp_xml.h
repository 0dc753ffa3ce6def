/* sp/sp_xml.h: our own XML parsing: no network, no DTD loading, no entity substitution, and a
 * document with a DOCTYPE is refused outright. */
#ifndef GH_SP_SP_XML_H
#define GH_SP_SP_XML_H

#include <stddef.h>

#include <libxml/tree.h>
#include <libxml/xpath.h>

#define SP_NS_MD "urn:oasis:names:tc:SAML:2.0:metadata"
#define SP_NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define SP_NS_SAML "urn:oasis:names:tc:SAML:2.0:assertion"
#define SP_NS_SAMLP "urn:oasis:names:tc:SAML:2.0:protocol"

/* Parses buf; NULL with a message (malformed, has a DOCTYPE, too large). Free with xmlFreeDoc. */
xmlDocPtr sp_xml_parse(const char *buf, size_t len, char *err, size_t errlen);

/* An XPath context with the md, ds, saml and samlp prefixes registered; NULL on error. */
xmlXPathContextPtr sp_xml_xpath(xmlDocPtr doc);

/* The nodes matching expr under node (NULL = document); caller frees with xmlXPathFreeObject. */
xmlXPathObjectPtr sp_xml_find(xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr);

/* The attribute's value (caller frees with xmlFree), or NULL. */
char *sp_xml_attr(xmlNodePtr node, const char *name);

/* From an IdP's EntityDescriptor (as the registry stores it): its entityID, and the public keys
 * of the IDPSSODescriptor's signing certificates as PEM "PUBLIC KEY" strings (malloc; at most
 * max). Returns how many keys were written. */
int sp_idp_signing_keys(const char *xml, char *entity_id, size_t entity_len, char **pems, int max);

/* The EntityDescriptor ed on its own, as a document with the namespaces it borrows from its
 * ancestors declared (malloc), or NULL. */
char *sp_idp_standalone(xmlNodePtr ed);

/* An IdP's EntityDescriptor (as the registry stores it) with only its IDPSSODescriptor role:
 * what lasso is given, so that it takes no signing key from another role (malloc), or NULL. */
char *sp_idp_role_only(const char *xml);

#endif
