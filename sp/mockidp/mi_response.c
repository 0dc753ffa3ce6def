/* sp/mockidp/mi_response.c: the SAML Response with its Assertion, shaped by a profile, then
 * signed, tampered with and encrypted as asked. Faults are applied where the element is written,
 * so each changes that element and nothing else. */
#include "mi.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <libxml/tree.h>

#include "sp/sp_xml.h"

#define FAULT_SHIFT_SECONDS 3600 /* far beyond any SP's clock skew */
#define NOT_BEFORE_SLACK 60      /* NotBefore this far back, for SPs whose clock lags */
#define SESSION_SECONDS (8 * 3600)
#define STATUS_PREFIX "urn:oasis:names:tc:SAML:2.0:status:"
#define BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define AUTHN_CONTEXT "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"

/* The document being built. */
struct build {
    GString *x;
    const char *p; /* "saml2:" or "" */
    const struct mi_mint *m;
    const char *issuer;
    const char *sp_entity;
    const char *acs;
    char now[32], not_before[32], not_on_or_after[32], session_end[32];
    char response_id[MI_ID_LEN];
    const char *assertion_id;
    struct mi_issued *issued;
};

static void put(struct build *b, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Appends fmt with every string argument XML-escaped. */
static void
put(struct build *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = g_markup_vprintf_escaped(fmt, ap);
    va_end(ap);
    g_string_append(b->x, s);
    g_free(s);
}

/* The namespace declaration an assertion-namespace element needs: none when prefixed (declared on
 * the Response), the default namespace on each top element when unprefixed (as ADFS does). */
static const char *
ns_decl(const struct build *b)
{
    return b->p[0] ? "" : " xmlns=\"" MI_NS_SAML "\"";
}

static void
status(struct build *b)
{
    static const char *const top[] = {"Success", "Requester", "Responder", "Responder"};
    enum mi_status s = b->m->faults.status;
    put(b, "<samlp:Status><samlp:StatusCode Value=\"%s%s\"", STATUS_PREFIX, top[s]);
    if (s == MI_STATUS_AUTHN_FAILED)
        put(b, "><samlp:StatusCode Value=\"%sAuthnFailed\"/></samlp:StatusCode>", STATUS_PREFIX);
    else
        put(b, "/>");
    put(b, "</samlp:Status>");
}

static void
subject(struct build *b)
{
    const struct mi_mint *m = b->m;
    const char *p = b->p;
    const char *format = m->name_id_format ? m->name_id_format : m->profile->name_id_format;
    char transient[MI_ID_LEN];
    const char *name_id = m->name_id;
    if (name_id == NULL && format != NULL && strcmp(format, MI_NAMEID_TRANSIENT) == 0) {
        mi_new_id(transient);
        name_id = transient;
    }
    if (name_id == NULL)
        name_id = m->user->email;
    snprintf(b->issued->name_id, sizeof b->issued->name_id, "%s", name_id);
    snprintf(b->issued->name_id_format, sizeof b->issued->name_id_format, "%s",
             format ? format : "");
    put(b, "<%sSubject><%sNameID", p, p);
    if (format != NULL)
        put(b, " Format=\"%s\"", format);
    if (format != NULL && strcmp(format, MI_NAMEID_TRANSIENT) == 0)
        put(b, " NameQualifier=\"%s\" SPNameQualifier=\"%s\"", b->issuer, b->sp_entity);
    put(b, ">%s</%sNameID>", name_id, p);
    put(b, "<%sSubjectConfirmation Method=\"%s\"><%sSubjectConfirmationData", p, BEARER, p);
    if (m->in_response_to != NULL)
        put(b, " InResponseTo=\"%s\"", m->in_response_to);
    put(b, " NotOnOrAfter=\"%s\" Recipient=\"%s\"/></%sSubjectConfirmation></%sSubject>",
        b->not_on_or_after, m->faults.recipient ? m->faults.recipient : b->acs, p, p);
}

static void
conditions(struct build *b)
{
    const struct mi_mint *m = b->m;
    const char *p = b->p;
    put(b,
        "<%sConditions NotBefore=\"%s\" NotOnOrAfter=\"%s\"><%sAudienceRestriction>"
        "<%sAudience>%s</%sAudience></%sAudienceRestriction></%sConditions>",
        p, b->not_before, b->not_on_or_after, p, p,
        m->faults.audience ? m->faults.audience : b->sp_entity, p, p, p);
}

static void
authn_statement(struct build *b)
{
    const struct mi_mint *m = b->m;
    const char *p = b->p;
    if (m->session_index != NULL)
        snprintf(b->issued->session_index, sizeof b->issued->session_index, "%s", m->session_index);
    else
        mi_new_id(b->issued->session_index);
    put(b,
        "<%sAuthnStatement AuthnInstant=\"%s\" SessionIndex=\"%s\" SessionNotOnOrAfter=\"%s\">"
        "<%sAuthnContext><%sAuthnContextClassRef>%s</%sAuthnContextClassRef></%sAuthnContext>"
        "</%sAuthnStatement>",
        p, b->now, b->issued->session_index, b->session_end, p, p,
        m->authn_context ? m->authn_context : AUTHN_CONTEXT, p, p, p);
}

static void
attribute(struct build *b, const struct mi_attr *a)
{
    const char *p = b->p;
    const struct mi_profile *pr = b->m->profile;
    const char *friendly = mi_profile_friendly(pr, a->name);
    put(b, "<%sAttribute Name=\"%s\"", p, a->name);
    if (pr->name_format != NULL)
        put(b, " NameFormat=\"%s\"", pr->name_format);
    if (friendly != NULL)
        put(b, " FriendlyName=\"%s\"", friendly);
    put(b, ">");
    for (int i = 0; i < a->n_values; i++)
        put(b,
            "<%sAttributeValue xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
            "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"xs:string\">"
            "%s</%sAttributeValue>",
            p, a->values[i], p);
    put(b, "</%sAttribute>", p);
}

static void
attribute_statement(struct build *b)
{
    struct mi_attrs all;
    mi_profile_attrs(b->m->profile, b->m->user, &all);
    for (int i = 0; b->m->extra && i < b->m->extra->n; i++)
        for (int k = 0; k < b->m->extra->a[i].n_values; k++)
            mi_attrs_add(&all, b->m->extra->a[i].name, b->m->extra->a[i].values[k]);
    if (all.n == 0)
        return;
    put(b, "<%sAttributeStatement>", b->p);
    for (int i = 0; i < all.n; i++)
        attribute(b, &all.a[i]);
    put(b, "</%sAttributeStatement>", b->p);
}

static void
assertion(struct build *b)
{
    const char *p = b->p;
    put(b, "<%sAssertion", p);
    g_string_append(b->x, ns_decl(b));
    put(b, " ID=\"%s\" IssueInstant=\"%s\" Version=\"2.0\"><%sIssuer>%s</%sIssuer>",
        b->assertion_id, b->now, p, b->issuer, p);
    subject(b);
    conditions(b);
    authn_statement(b);
    attribute_statement(b);
    put(b, "</%sAssertion>", p);
}

static void
response(struct build *b)
{
    const struct mi_mint *m = b->m;
    const char *p = b->p;
    put(b, "<samlp:Response xmlns:samlp=\"%s\"", MI_NS_SAMLP);
    if (p[0])
        put(b, " xmlns:%s=\"%s\"", m->profile->assertion_prefix, MI_NS_SAML);
    put(b, " ID=\"%s\" Version=\"2.0\" IssueInstant=\"%s\" Destination=\"%s\"", b->response_id,
        b->now, m->faults.destination ? m->faults.destination : b->acs);
    if (m->in_response_to != NULL)
        put(b, " InResponseTo=\"%s\"", m->in_response_to);
    put(b, "><%sIssuer", p);
    g_string_append(b->x, ns_decl(b));
    put(b, ">%s</%sIssuer>", b->issuer, p);
    status(b);
    assertion(b);
    put(b, "</samlp:Response>");
}

static void
set_times(struct build *b)
{
    const struct mi_faults *f = &b->m->faults;
    time_t now = b->m->now;
    mi_time_iso(now, b->now);
    mi_time_iso(f->not_yet_valid ? now + FAULT_SHIFT_SECONDS : now - NOT_BEFORE_SLACK,
                b->not_before);
    mi_time_iso(f->expired ? now - FAULT_SHIFT_SECONDS : now + b->m->lifetime, b->not_on_or_after);
    mi_time_iso(now + SESSION_SECONDS, b->session_end);
}

/* The first child element of node with this local name. */
static xmlNodePtr
child(xmlNodePtr node, const char *name)
{
    for (xmlNodePtr c = xmlFirstElementChild(node); c; c = xmlNextElementSibling(c))
        if (xmlStrEqual(c->name, (const xmlChar *)name))
            return c;
    return NULL;
}

/* --tamper-after-sign: another user's identity in the signed NameID. */
static void
tamper(xmlNodePtr assertion_node, const char *email)
{
    xmlNodePtr name_id = child(child(assertion_node, "Subject"), "NameID");
    if (name_id == NULL)
        return;
    const char *at = strchr(email, '@');
    char *forged = g_strdup_printf("mallory%s", at ? at : "@example.com");
    xmlNodeSetContent(name_id, (const xmlChar *)forged);
    g_free(forged);
}

static int
sign(xmlDocPtr doc, xmlNodePtr node, const struct mi_idp *idp, const struct mi_mint *m, char *err,
     size_t errlen)
{
    const char *key = m->faults.wrong_key ? idp->wrong_key_file : idp->key_file;
    const char *cert = m->faults.wrong_key ? idp->wrong_cert_file : idp->cert_file;
    return mi_sign_node(doc, node, key, cert, m->alg, err, errlen);
}

/* Order: sign the assertion, encrypt it, sign the response. --tamper-after-sign alters the NameID
 * after every signature, or, when the assertion is encrypted, just before the encryption. */
static int
finish(xmlDocPtr doc, const struct mi_idp *idp, const struct mi_sp *sp, const struct mi_mint *m,
       char *err, size_t errlen)
{
    xmlNodePtr root = xmlDocGetRootElement(doc), a = child(root, "Assertion");
    enum mi_sign s = m->faults.unsigned_ ? MI_SIGN_NONE : m->sign;
    if ((s == MI_SIGN_ASSERTION || s == MI_SIGN_BOTH) && sign(doc, a, idp, m, err, errlen) != 0)
        return -1;
    if (m->faults.tamper_after_sign && m->encrypt)
        tamper(a, m->user->email);
    if (m->encrypt && mi_encrypt_assertion(doc, a, mi_sp_encryption_cert(sp), err, errlen) != 0)
        return -1;
    if ((s == MI_SIGN_RESPONSE || s == MI_SIGN_BOTH) && sign(doc, root, idp, m, err, errlen) != 0)
        return -1;
    if (m->faults.tamper_after_sign && !m->encrypt)
        tamper(a, m->user->email);
    return 0;
}

int
mi_mint_response(const struct mi_idp *idp, const struct mi_sp *sp, const struct mi_mint *m,
                 char **b64_out, struct mi_issued *issued, char *err, size_t errlen)
{
    struct build b = {.x = g_string_new(NULL), .m = m, .issued = issued};
    char assertion_id[MI_ID_LEN];
    memset(issued, 0, sizeof *issued);
    b.p = m->profile->assertion_prefix[0] ? g_strdup_printf("%s:", m->profile->assertion_prefix)
                                          : g_strdup("");
    b.issuer = m->faults.issuer ? m->faults.issuer : idp->entity_id;
    b.sp_entity = mi_sp_entity_id(sp);
    b.acs = m->acs_url ? m->acs_url : mi_sp_acs_url(sp);
    mi_new_id(b.response_id);
    mi_new_id(assertion_id);
    b.assertion_id = m->faults.replay_id ? m->faults.replay_id : assertion_id;
    snprintf(issued->assertion_id, sizeof issued->assertion_id, "%s", b.assertion_id);
    set_times(&b);
    response(&b);
    int rc = -1;
    xmlChar *out = NULL;
    int out_len = 0;
    xmlDocPtr doc = sp_xml_parse(b.x->str, b.x->len, err, errlen);
    if (doc == NULL || finish(doc, idp, sp, m, err, errlen) != 0)
        goto done;
    xmlDocDumpMemoryEnc(doc, &out, &out_len, "UTF-8");
    *b64_out = out ? mi_base64(out, (size_t)out_len) : NULL;
    rc = *b64_out ? 0 : -1;
done:
    xmlFree(out);
    xmlFreeDoc(doc);
    g_free((char *)(uintptr_t)b.p);
    g_string_free(b.x, TRUE);
    return rc;
}
