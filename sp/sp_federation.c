/* sp/sp_federation.c: a federation's signed aggregate (an EntitiesDescriptor of thousands of
 * entities): each SAML 2.0 IdP in it, read as the registry reads one IdP's metadata (its
 * EntityDescriptor on its own through sp_idp_parse), with the two things federations add for
 * discovery: shibmd:Scope (the IdP's e-mail/eppn domains) and mdui:DisplayName (its label). */
#include "sp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_time.h"
#include "sp_xml.h"

#define NS_SHIBMD "urn:mace:shibboleth:metadata:1.0"
#define NS_MDUI "urn:oasis:names:tc:SAML:metadata:ui"

static int
is_el(xmlNodePtr n, const char *ns, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
           xmlStrEqual(n->ns->href, (const xmlChar *)ns) &&
           xmlStrEqual(n->name, (const xmlChar *)name);
}

/* The first element child of n called ns:name, or NULL. */
static xmlNodePtr
child(xmlNodePtr n, const char *ns, const char *name)
{
    for (xmlNodePtr c = n ? xmlFirstElementChild(n) : NULL; c; c = xmlNextElementSibling(c))
        if (is_el(c, ns, name))
            return c;
    return NULL;
}

/* Scopes (literal ones: a regexp scope names no domain) and the English display name, from the
 * Extensions of the EntityDescriptor and of its IDPSSODescriptor. */
static void
read_discovery(xmlNodePtr ed, struct sp_fed_idp *f)
{
    xmlNodePtr idp = child(ed, SP_NS_MD, "IDPSSODescriptor");
    xmlNodePtr exts[2] = {child(ed, SP_NS_MD, "Extensions"), child(idp, SP_NS_MD, "Extensions")};
    for (int e = 0; e < 2; e++) {
        for (xmlNodePtr c = exts[e] ? xmlFirstElementChild(exts[e]) : NULL; c;
             c = xmlNextElementSibling(c)) {
            if (is_el(c, NS_SHIBMD, "Scope") && f->n_scopes < SP_FED_MAX_SCOPES) {
                char *re = sp_xml_attr(c, "regexp");
                xmlChar *v = xmlNodeGetContent(c);
                if ((re == NULL || strcmp(re, "false") == 0 || strcmp(re, "0") == 0) && v &&
                    xmlStrlen(v) > 0 && (size_t)xmlStrlen(v) < sizeof f->scopes[0])
                    snprintf(f->scopes[f->n_scopes++], sizeof f->scopes[0], "%s", (const char *)v);
                xmlFree(re);
                xmlFree(v);
            }
            if (!is_el(c, NS_MDUI, "UIInfo"))
                continue;
            for (xmlNodePtr d = xmlFirstElementChild(c); d; d = xmlNextElementSibling(d)) {
                if (!is_el(d, NS_MDUI, "DisplayName"))
                    continue;
                xmlChar *lang = xmlNodeGetLang(d);
                int en = lang != NULL && xmlStrEqual(lang, (const xmlChar *)"en");
                xmlFree(lang);
                if (f->display_name[0] != '\0' && !en)
                    continue;
                xmlChar *v = xmlNodeGetContent(d);
                if (v != NULL)
                    snprintf(f->display_name, sizeof f->display_name, "%s", (const char *)v);
                xmlFree(v);
                if (en)
                    break;
            }
        }
    }
}

static int
is_saml2_idp(xmlNodePtr ed)
{
    xmlNodePtr idp = child(ed, SP_NS_MD, "IDPSSODescriptor");
    char *p = idp ? sp_xml_attr(idp, "protocolSupportEnumeration") : NULL;
    int yes = p != NULL && strstr(p, "urn:oasis:names:tc:SAML:2.0:protocol") != NULL;
    xmlFree(p);
    return yes;
}

/* Walks EntitiesDescriptor nesting (federations group entities). */
static int
walk(xmlNodePtr n, int (*cb)(const struct sp_fed_idp *, void *), void *ctx,
     struct sp_federation_info *info)
{
    for (xmlNodePtr c = xmlFirstElementChild(n); c; c = xmlNextElementSibling(c)) {
        if (is_el(c, SP_NS_MD, "EntitiesDescriptor")) {
            if (walk(c, cb, ctx, info) != 0)
                return 1;
            continue;
        }
        if (!is_el(c, SP_NS_MD, "EntityDescriptor") || !is_saml2_idp(c))
            continue;
        struct sp_fed_idp f;
        memset(&f, 0, sizeof f);
        char *xml = sp_idp_standalone(c);
        char err[512];
        if (xml == NULL || sp_idp_parse(xml, strlen(xml), NULL, &f.meta, err, sizeof err) != 0) {
            char *id = sp_xml_attr(c, "entityID");
            snprintf(info->first_skipped, sizeof info->first_skipped, "%s: %s", id ? id : "?",
                     xml ? err : "out of memory");
            xmlFree(id);
            info->n_skipped++;
            free(xml);
            continue;
        }
        free(xml);
        read_discovery(c, &f);
        info->n_idps++;
        int stop = cb(&f, ctx);
        sp_idp_meta_free(&f.meta);
        if (stop)
            return 1;
    }
    return 0;
}

int
sp_federation_each(const char *xml, size_t len, int (*cb)(const struct sp_fed_idp *, void *),
                   void *ctx, struct sp_federation_info *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    info->cache_seconds = -1;
    xmlDocPtr doc = sp_xml_parse(xml, len, err, errlen);
    if (doc == NULL)
        return -1;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    int rc = -1;
    if (!is_el(root, SP_NS_MD, "EntitiesDescriptor")) {
        snprintf(err, errlen, "a federation publishes an EntitiesDescriptor; this is not one");
        goto out;
    }
    char *until = sp_xml_attr(root, "validUntil"), *cache = sp_xml_attr(root, "cacheDuration");
    char *name = sp_xml_attr(root, "Name");
    if (until != NULL)
        sp_time_parse(until, &info->valid_until);
    if (cache != NULL)
        info->cache_seconds = sp_duration_seconds(cache);
    snprintf(info->name, sizeof info->name, "%s", name ? name : "");
    xmlFree(until);
    xmlFree(cache);
    xmlFree(name);
    walk(root, cb, ctx, info);
    rc = 0;
out:
    xmlFreeDoc(doc);
    return rc;
}
