#include "sp_xml.h"
#include "sp.h"

#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpathInternals.h>

/* Without a DOCTYPE there is nothing to expand; refusing one closes XXE and billion-laughs. */
static int
has_doctype(const char *buf, size_t len)
{
    static const char needle[] = "<!DOCTYPE";
    size_t n = sizeof needle - 1;
    for (size_t i = 0; i + n <= len; i++)
        if (buf[i] == '<' && strncasecmp(buf + i, needle, n) == 0)
            return 1;
    return 0;
}

xmlDocPtr
sp_xml_parse(const char *buf, size_t len, char *err, size_t errlen)
{
    if (len > (size_t)1 << 30) {
        snprintf(err, errlen, "the XML document is too large");
        return NULL;
    }
    if (has_doctype(buf, len)) {
        snprintf(err, errlen, "the XML document has a DOCTYPE, which is not allowed");
        return NULL;
    }
    xmlDocPtr doc = xmlReadMemory(buf, (int)len, "noname.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                      XML_PARSE_NOCDATA);
    if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
        const xmlError *e = xmlGetLastError();
        snprintf(err, errlen, "the XML is not well-formed%s%s", e && e->message ? ": " : "",
                 e && e->message ? e->message : "");
        size_t n = strlen(err);
        if (n > 0 && err[n - 1] == '\n')
            err[n - 1] = '\0';
        xmlFreeDoc(doc);
        return NULL;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        snprintf(err, errlen, "the XML document has a DOCTYPE, which is not allowed");
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

xmlXPathContextPtr
sp_xml_xpath(xmlDocPtr doc)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    if (ctx == NULL)
        return NULL;
    xmlXPathRegisterNs(ctx, (const xmlChar *)"md", (const xmlChar *)SP_NS_MD);
    xmlXPathRegisterNs(ctx, (const xmlChar *)"ds", (const xmlChar *)SP_NS_DS);
    xmlXPathRegisterNs(ctx, (const xmlChar *)"saml", (const xmlChar *)SP_NS_SAML);
    xmlXPathRegisterNs(ctx, (const xmlChar *)"samlp", (const xmlChar *)SP_NS_SAMLP);
    return ctx;
}

xmlXPathObjectPtr
sp_xml_find(xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
    if (node != NULL)
        return xmlXPathNodeEval(node, (const xmlChar *)expr, ctx);
    return xmlXPathEvalExpression((const xmlChar *)expr, ctx);
}

char *
sp_xml_attr(xmlNodePtr node, const char *name)
{
    return (char *)xmlGetProp(node, (const xmlChar *)name);
}

char *
sp_xml_pretty(const char *xml)
{
    char err[256];
    xmlDocPtr doc = xml ? sp_xml_parse(xml, strlen(xml), err, sizeof err) : NULL;
    if (doc == NULL)
        return NULL;
    xmlChar *out = NULL;
    int size = 0;
    xmlDocDumpFormatMemoryEnc(doc, &out, &size, "UTF-8", 1);
    xmlFreeDoc(doc);
    char *copy = out ? strndup((const char *)out, (size_t)size) : NULL;
    xmlFree(out);
    return copy;
}
