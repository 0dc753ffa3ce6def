/* sp/sp_slo.c: SAML single logout over HTTP-Redirect, both directions, with lasso's LassoLogout.
 * lasso finds the NameID and SessionIndex of a logout in a LassoSession; Gatehouse keeps them in
 * its own session rows, so a LassoSession holding one minimal assertion is made for each call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmlsec/base64.h>
#include <zlib.h>

#include <lasso/lasso.h>
#include <lasso/xml/saml-2.0/saml2_assertion.h>
#include <lasso/xml/saml-2.0/saml2_authn_statement.h>
#include <lasso/xml/saml-2.0/saml2_name_id.h>
#include <lasso/xml/saml-2.0/saml2_subject.h>
#include <lasso/xml/saml-2.0/samlp2_logout_request.h>
#include <lasso/xml/saml-2.0/samlp2_status_response.h>
#include <lasso/xml/saml-2.0/samlp2_status.h>
#include <lasso/xml/saml-2.0/samlp2_status_code.h>

#include "sp.h"
#include "sp_state.h"
#include "sp_xml.h"
#include "sp_time.h"

/* Defined in sp_authn.c: copies a built message out of the profile. */
int sp_out_take(LassoProfile *p, int post, struct sp_out *out);

/* Puts into the profile a LassoSession whose one assertion from idp names name_id (and
 * session_index): what lasso reads to build a LogoutRequest or to validate one. */
static int
give_session(LassoProfile *profile, const char *idp, const char *name_id, const char *format,
             const char *session_index, const LassoSaml2NameID *like)
{
    LassoSession *session = lasso_session_new();
    LassoSaml2Assertion *as = LASSO_SAML2_ASSERTION(lasso_saml2_assertion_new());
    LassoSaml2Subject *subject = LASSO_SAML2_SUBJECT(lasso_saml2_subject_new());
    gchar *content = g_strdup(name_id);
    LassoSaml2NameID *nid = LASSO_SAML2_NAME_ID(lasso_saml2_name_id_new_with_string(content));
    g_free(content);
    nid->Format =
        g_strdup(format && format[0] ? format : LASSO_SAML2_NAME_IDENTIFIER_FORMAT_UNSPECIFIED);
    /* lasso matches the request's NameID with the assertion's, qualifiers included:
     * SimpleSAMLphp sends SPNameQualifier (our entity ID). */
    if (like != NULL) {
        nid->NameQualifier = g_strdup(like->NameQualifier);
        nid->SPNameQualifier = g_strdup(like->SPNameQualifier);
        nid->SPProvidedID = g_strdup(like->SPProvidedID);
    }
    subject->NameID = nid;
    as->Subject = subject;
    /* lasso looks assertions up through their AuthnStatement: one is always there. */
    LassoSaml2AuthnStatement *st = LASSO_SAML2_AUTHN_STATEMENT(lasso_saml2_authn_statement_new());
    /* lasso finds the subject's assertions through their session indexes: one is needed even
     * when the request names none (then every session of the subject ends anyway). */
    st->SessionIndex =
        g_strdup(session_index != NULL && session_index[0] != '\0' ? session_index : "_any");
    as->AuthnStatement = g_list_append(NULL, st);
    int rc = lasso_session_add_assertion(session, idp, LASSO_NODE(as));
    g_object_unref(as);
    if (rc != 0) {
        g_object_unref(session);
        return rc;
    }
    gchar *dump = lasso_session_dump(session);
    g_object_unref(session);
    rc = dump ? lasso_profile_set_session_from_dump(profile, dump) : -1;
    g_free(dump);
    return rc;
}

/* Ends a LassoLogout made under the state's read lock (sp_state_lock), and the lock. */
static void
logout_done(const struct sp *sp, LassoLogout *lo)
{
    g_object_unref(lo);
    sp_state_unlock(sp);
}

int
sp_logout_request(const struct sp *sp, const struct sp_logout *l, int post, struct sp_out *out,
                  char *id_out, size_t idlen, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int unknown = 0;
    LassoServer *server = sp_state_lock(sp, l->idp, &unknown, err, errlen);
    if (server == NULL) {
        if (unknown)
            snprintf(err, errlen, "%s is not registered", l->idp);
        return -1;
    }
    LassoLogout *lo = lasso_logout_new(server);
    if (lo == NULL) {
        sp_state_unlock(sp);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    LassoProfile *p = LASSO_PROFILE(lo);
    int rc = give_session(p, l->idp, l->name_id, l->name_id_format, l->session_index, NULL);
    gchar *idp = g_strdup(l->idp);
    if (rc == 0)
        rc = lasso_logout_init_request(lo, idp,
                                       post ? LASSO_HTTP_METHOD_POST : LASSO_HTTP_METHOD_REDIRECT);
    g_free(idp);
    if (rc == 0) {
        p->msg_relayState = g_strdup(l->relay_state);
        /* Always signed, by either binding (lasso's default asks the IdP's metadata). */
        lasso_profile_set_signature_hint(p, LASSO_PROFILE_SIGNATURE_HINT_FORCE);
        rc = lasso_logout_build_request_msg(lo);
    }
    if (rc != 0 || p->msg_url == NULL || p->request == NULL) {
        snprintf(err, errlen, "cannot build a LogoutRequest to %s: %s", l->idp, lasso_strerror(rc));
        logout_done(sp, lo);
        return -1;
    }
    const char *id = LASSO_SAMLP2_REQUEST_ABSTRACT(p->request)->ID;
    snprintf(id_out, idlen, "%s", id ? id : "");
    rc = sp_out_take(p, post, out);
    logout_done(sp, lo);
    return rc;
}

int
sp_logout_redirect(const struct sp *sp, const struct sp_logout *l, char **url_out, char *id_out,
                   size_t idlen, char *err, size_t errlen)
{
    struct sp_out o;
    int rc = sp_logout_request(sp, l, 0, &o, id_out, idlen, err, errlen);
    *url_out = rc == 0 ? o.url : NULL;
    return rc;
}

/* lasso 2.8.1 leaks a 259-byte buffer each time it verifies an HTTP-Redirect query signature
 * (inside lasso_logout_process_*_msg; nothing we hold can free it). These two wrappers do nothing
 * but call lasso, so that tests/lsan.supp can name them without hiding any allocation of ours. */
__attribute__((noinline)) static int
lasso_redirect_request_in(LassoLogout *lo, gchar *msg)
{
    return lasso_logout_process_request_msg(lo, msg);
}

__attribute__((noinline)) static int
lasso_redirect_response_in(LassoLogout *lo, gchar *msg)
{
    return lasso_logout_process_response_msg(lo, msg);
}

/* A LassoLogout that has processed query (signature required) with process, under the state's
 * read lock with the provider of issuer (the message's, from logout_peek) current: end it with
 * logout_done. *rc is lasso's answer. NULL when the issuer is not registered (*r
 * SP_SLO_UNKNOWN_ISSUER) or on error (*r SP_SLO_INTERNAL), err filled. */
static LassoLogout *
logout_from_query(const struct sp *sp, const char *query, const char *issuer,
                  int (*process)(LassoLogout *, gchar *), int *rc, enum sp_slo_reason *r, char *err,
                  size_t errlen)
{
    int unknown = 0;
    *r = SP_SLO_INTERNAL;
    LassoServer *server = sp_state_lock(sp, issuer, &unknown, err, errlen);
    if (server == NULL) {
        if (unknown) {
            *r = SP_SLO_UNKNOWN_ISSUER;
            snprintf(err, errlen, "the issuer %.200s is not registered", issuer);
        }
        return NULL;
    }
    LassoLogout *lo = lasso_logout_new(server);
    if (lo == NULL) {
        sp_state_unlock(sp);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    lasso_profile_set_signature_verify_hint(LASSO_PROFILE(lo),
                                            LASSO_PROFILE_SIGNATURE_VERIFY_HINT_FORCE);
    gchar *msg = g_strdup(query);
    *rc = process(lo, msg);
    g_free(msg);
    return lo;
}

/* Largest LogoutRequest looked at (inflated): real ones are under 2 KB. */
#define SLO_MAX_XML (64 * 1024)

static int
hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The message's XML: from a query string (HTTP-Redirect: the kind parameter, SAMLRequest or
 * SAMLResponse, percent-decoded, base64, raw DEFLATE) or a form field (HTTP-POST: base64).
 * Caller frees; NULL when it does not decode. */
static char *
logout_xml(const char *msg, const char *kind, size_t *len_out)
{
    char at_start[32], inside[32];
    snprintf(at_start, sizeof at_start, "%s=", kind);
    snprintf(inside, sizeof inside, "&%s=", kind);
    size_t k0 = strlen(at_start);
    const char *v = strncmp(msg, at_start, k0) == 0 ? msg + k0 : strstr(msg, inside);
    int query = v != NULL;
    if (v != NULL && v != msg + k0)
        v += k0 + 1;
    size_t n = query ? strcspn(v, "&") : strlen(msg);
    char *b64 = malloc(n + 1), *bin = malloc(n + 1), *xml = NULL;
    size_t blen = 0, k = 0;
    if (b64 == NULL || bin == NULL)
        goto out;
    const char *p = query ? v : msg;
    for (size_t i = 0; i < n; i++) {
        int hi = i + 2 < n ? hex_digit(p[i + 1]) : -1, lo = i + 2 < n ? hex_digit(p[i + 2]) : -1;
        if (query && p[i] == '%' && hi >= 0 && lo >= 0) {
            b64[k++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            b64[k++] = p[i];
        }
    }
    b64[k] = '\0';
    xmlSecSize written = 0;
    if (xmlSecBase64Decode_ex((const xmlChar *)b64, (xmlSecByte *)bin, (xmlSecSize)n + 1,
                              &written) != 0)
        goto out;
    blen = written;
    if (!query) {
        xml = malloc(blen + 1);
        if (xml != NULL) {
            memcpy(xml, bin, blen);
            xml[blen] = '\0';
            *len_out = blen;
        }
        goto out;
    }
    xml = malloc(SLO_MAX_XML + 1);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (xml == NULL || inflateInit2(&z, -MAX_WBITS) != Z_OK) {
        free(xml);
        xml = NULL;
        goto out;
    }
    z.next_in = (Bytef *)bin;
    z.avail_in = (uInt)blen;
    z.next_out = (Bytef *)xml;
    z.avail_out = SLO_MAX_XML;
    int zrc = inflate(&z, Z_FINISH);
    size_t xlen = z.total_out;
    inflateEnd(&z);
    if (zrc != Z_STREAM_END) {
        free(xml);
        xml = NULL;
        goto out;
    }
    xml[xlen] = '\0';
    *len_out = xlen;
out:
    free(b64);
    free(bin);
    return xml;
}

static int
is_saml(xmlNodePtr n, const char *ns, const char *name)
{
    return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

/* Whether the query string has the parameter name. */
static int
has_param(const char *query, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = query; p != NULL; p = strchr(p, '&')) {
        p += *p == '&';
        if (strncmp(p, name, n) == 0 && p[n] == '=')
            return 1;
    }
    return 0;
}

/* What a logout message claims, read on our own safe parse before lasso sees it, for the SAML
 * log of a refusal: the Issuer, the NameID (LogoutRequest) and the ID. */
struct claim {
    char issuer[512];
    char name_id[512];
    char id[256];
};

static void
text_of(xmlNodePtr n, char *dst, size_t len)
{
    xmlChar *t = xmlNodeGetContent(n);
    snprintf(dst, len, "%s", t ? (const char *)t : "");
    xmlFree(t);
}

/* Whether the message decodes to a samlp:LogoutRequest naming its subject (SAML core 3.7.1:
 * BaseID, NameID or EncryptedID) or a samlp:LogoutResponse, filling c. lasso 2.8 aborts the whole
 * process (g_error, "samlp2:LogoutRequest needs one of BaseID, NameID or EncryptedID") on a
 * request without, before any signature check: one unauthenticated GET would stop the server.
 * Found by tests/fuzz/fuzz_logout. A message that does not decode is refused too (lasso could not
 * read it either). */
static enum sp_slo_reason
logout_peek(const char *msg, const char *kind, struct claim *c, char *err, size_t errlen)
{
    int request = strcmp(kind, "SAMLRequest") == 0;
    const char *what = request ? "LogoutRequest" : "LogoutResponse";
    size_t len = 0;
    memset(c, 0, sizeof *c);
    char *xml = logout_xml(msg, kind, &len);
    if (xml == NULL) {
        snprintf(err, errlen, "the %s does not decode (base64, DEFLATE)", what);
        return SP_SLO_MALFORMED;
    }
    char perr[256];
    xmlDocPtr doc = sp_xml_parse(xml, len, perr, sizeof perr);
    free(xml);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    int ok = is_saml(root, SP_NS_SAMLP, what), named = !request, is_signed = 0;
    /* HTTP-Redirect signs the query (a Signature parameter), HTTP-POST the root element. */
    if (has_param(msg, kind))
        is_signed = has_param(msg, "Signature");
    else
        for (xmlNodePtr k = ok ? root->children : NULL; k != NULL && !is_signed; k = k->next)
            is_signed = is_saml(k, SP_NS_DS, "Signature");
    if (ok) {
        xmlChar *id = xmlGetNoNsProp(root, (const xmlChar *)"ID");
        snprintf(c->id, sizeof c->id, "%s", id ? (const char *)id : "");
        xmlFree(id);
        for (xmlNodePtr k = root->children; k != NULL; k = k->next) {
            if (is_saml(k, SP_NS_SAML, "Issuer"))
                text_of(k, c->issuer, sizeof c->issuer);
            if (is_saml(k, SP_NS_SAML, "NameID"))
                text_of(k, c->name_id, sizeof c->name_id);
            named |= is_saml(k, SP_NS_SAML, "NameID") || is_saml(k, SP_NS_SAML, "BaseID") ||
                     is_saml(k, SP_NS_SAML, "EncryptedID");
        }
    }
    if (doc == NULL)
        snprintf(err, errlen, "the %s is not well-formed XML", what);
    else if (!ok)
        snprintf(err, errlen, "not a samlp:%s", what);
    else if (!named)
        snprintf(err, errlen,
                 "the LogoutRequest names no subject (NameID, BaseID or EncryptedID; SAML core "
                 "3.7.1)");
    else if (!is_signed)
        snprintf(err, errlen, "the %s is not signed (profiles 4.4.4.1-4.4.4.2)", what);
    xmlFreeDoc(doc);
    return !ok || !named ? SP_SLO_MALFORMED : !is_signed ? SP_SLO_UNSIGNED : SP_SLO_OK;
}

/* What lasso's answer to a logout message means; err gets its message and number. */
static enum sp_slo_reason
lasso_slo_reason(int rc, const char *what, char *err, size_t errlen)
{
    enum sp_slo_reason r;
    switch (rc) {
    case LASSO_DS_ERROR_SIGNATURE_NOT_FOUND:
        r = SP_SLO_UNSIGNED;
        break;
    case LASSO_SERVER_ERROR_PROVIDER_NOT_FOUND:
    case LASSO_PROFILE_ERROR_UNKNOWN_PROVIDER:
        r = SP_SLO_UNKNOWN_ISSUER;
        break;
    case LASSO_DS_ERROR_INVALID_SIGNATURE:
    case LASSO_DS_ERROR_SIGNATURE_VERIFICATION_FAILED:
    case LASSO_DS_ERROR_INVALID_REFERENCE_FOR_SAML:
    case LASSO_DS_ERROR_TOO_MUCH_REFERENCES:
    case LASSO_PROFILE_ERROR_CANNOT_VERIFY_SIGNATURE:
    case LASSO_DS_ERROR_INVALID_SIGALG:
        r = SP_SLO_SIGNATURE;
        break;
    case LASSO_PROFILE_ERROR_STATUS_NOT_SUCCESS:
    case LASSO_LOGOUT_ERROR_REQUEST_DENIED:
    case LASSO_LOGOUT_ERROR_UNKNOWN_PRINCIPAL:
    case LASSO_PROFILE_ERROR_REQUEST_DENIED:
        r = SP_SLO_STATUS;
        break;
    default:
        r = SP_SLO_MALFORMED;
    }
    snprintf(err, errlen, "the %s was refused: %s (lasso %d)", what, lasso_strerror(rc), rc);
    return r;
}

/* SAML core 3.2.1-3.2.2 on a logout message: Version 2.0; IssueInstant neither in the future
 * beyond the skew nor older than the maximum age (plus the skew); profiles 4.4.4.1-4.4.4.2: the
 * Issuer's Format is entity when present; bindings 3.4.5.2 / 3.5.5.2: the message is signed, so
 * its Destination must be present and name our SLO URL. The reason, with err filled. */
static enum sp_slo_reason
check_message(const char *what, const char *version, const char *instant, const char *destination,
              const LassoSaml2NameID *issuer, const struct sp_slo_expect *e, char *err,
              size_t errlen)
{
    time_t t;
    if (version == NULL || strcmp(version, "2.0") != 0) {
        snprintf(err, errlen, "the %s's Version is \"%.20s\", not 2.0", what,
                 version ? version : "");
        return SP_SLO_MALFORMED;
    }
    if (issuer != NULL && issuer->Format != NULL &&
        strcmp(issuer->Format, LASSO_SAML2_NAME_IDENTIFIER_FORMAT_ENTITY) != 0) {
        snprintf(err, errlen,
                 "the %s's Issuer has Format \"%.100s\", not entity (profiles 4.4.4.1-4.4.4.2)",
                 what, issuer->Format);
        return SP_SLO_MALFORMED;
    }
    if (instant == NULL || sp_time_parse(instant, &t) != 0) {
        snprintf(err, errlen, "the %s's IssueInstant is missing or not a time", what);
        return SP_SLO_MALFORMED;
    }
    if (t - e->now > e->skew_seconds) {
        snprintf(err, errlen, "the %s's IssueInstant is %lld s in the future (allowed skew %ld s)",
                 what, (long long)(t - e->now), e->skew_seconds);
        return SP_SLO_NOT_YET_VALID;
    }
    if (e->now - t > e->max_age_seconds + e->skew_seconds) {
        snprintf(err, errlen,
                 "the %s was issued %lld s ago (max_response_age_seconds %ld, allowed skew %ld s)",
                 what, (long long)(e->now - t), e->max_age_seconds, e->skew_seconds);
        return SP_SLO_EXPIRED;
    }
    if (destination == NULL || strcmp(destination, e->slo_url) != 0) {
        snprintf(err, errlen, "the %s's Destination is \"%.200s\", expected \"%.200s\"", what,
                 destination ? destination : "(none)", e->slo_url);
        return SP_SLO_DESTINATION;
    }
    return SP_SLO_OK;
}

/* SAML core 3.7.1: a LogoutRequest past its NotOnOrAfter is not acted on. Also fills the
 * request's ID and how long to remember it. */
static enum sp_slo_reason
check_request(LassoSamlp2LogoutRequest *req, const struct sp_slo_expect *e,
              struct sp_logout_in *out, char *err, size_t errlen)
{
    LassoSamlp2RequestAbstract *ra = LASSO_SAMLP2_REQUEST_ABSTRACT(req);
    enum sp_slo_reason r = check_message("LogoutRequest", ra->Version, ra->IssueInstant,
                                         ra->Destination, ra->Issuer, e, err, errlen);
    if (r != SP_SLO_OK)
        return r;
    if (ra->ID == NULL || ra->ID[0] == '\0' || strlen(ra->ID) >= sizeof out->id) {
        snprintf(err, errlen, "the LogoutRequest has no usable ID");
        return SP_SLO_MALFORMED;
    }
    snprintf(out->id, sizeof out->id, "%s", ra->ID);
    time_t issued = 0, until = 0;
    sp_time_parse(ra->IssueInstant, &issued);
    out->keep_until = issued + e->max_age_seconds + 2 * e->skew_seconds;
    if (req->NotOnOrAfter != NULL) {
        if (sp_time_parse(req->NotOnOrAfter, &until) != 0) {
            snprintf(err, errlen, "the LogoutRequest's NotOnOrAfter is not a time");
            return SP_SLO_MALFORMED;
        }
        if (e->now - e->skew_seconds >= until) {
            snprintf(err, errlen,
                     "the LogoutRequest's NotOnOrAfter passed %lld s ago (allowed skew %ld s)",
                     (long long)(e->now - until), e->skew_seconds);
            return SP_SLO_EXPIRED;
        }
    }
    return SP_SLO_OK;
}

enum sp_slo_reason
sp_logout_request_in(const struct sp *sp, const char *query, const struct sp_slo_expect *e,
                     struct sp_logout_in *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct claim c;
    enum sp_slo_reason r = logout_peek(query, "SAMLRequest", &c, err, errlen);
    snprintf(out->idp, sizeof out->idp, "%s", c.issuer);
    snprintf(out->name_id, sizeof out->name_id, "%s", c.name_id);
    snprintf(out->id, sizeof out->id, "%s", c.id);
    if (r != SP_SLO_OK)
        return r;
    int rc;
    LassoLogout *lo =
        logout_from_query(sp, query, c.issuer, lasso_redirect_request_in, &rc, &r, err, errlen);
    if (lo == NULL)
        return r;
    LassoProfile *p = LASSO_PROFILE(lo);
    if (rc != 0 || p->remote_providerID == NULL || p->request == NULL) {
        r = lasso_slo_reason(rc, "LogoutRequest", err, errlen);
        logout_done(sp, lo);
        return r;
    }
    snprintf(out->idp, sizeof out->idp, "%s", p->remote_providerID);
    LassoSamlp2LogoutRequest *req = LASSO_SAMLP2_LOGOUT_REQUEST(p->request);
    if ((r = check_request(req, e, out, err, errlen)) != SP_SLO_OK) {
        logout_done(sp, lo);
        return r;
    }
    LassoSaml2NameID *nid = LASSO_IS_SAML2_NAME_ID(req->NameID) ? req->NameID : NULL;
    if (nid == NULL || nid->content == NULL) {
        snprintf(err, errlen,
                 "the LogoutRequest names nobody (no NameID; encrypted IDs are "
                 "not supported)");
        logout_done(sp, lo);
        return SP_SLO_MALFORMED;
    }
    snprintf(out->name_id, sizeof out->name_id, "%s", nid->content);
    if (req->SessionIndex != NULL)
        snprintf(out->session_index, sizeof out->session_index, "%s", req->SessionIndex);
    /* Every logout succeeds here (the sessions named, zero or more, end): lasso answers Success
     * when the session it is given matches the request. */
    rc = give_session(p, out->idp, out->name_id, nid->Format, out->session_index, nid);
    if (rc == 0)
        rc = lasso_logout_validate_request(lo);
    if (rc == 0)
        rc = lasso_logout_build_response_msg(lo);
    if (rc != 0 || p->msg_url == NULL) {
        snprintf(err, errlen, "cannot answer the LogoutRequest from %s: %s", out->idp,
                 lasso_strerror(rc));
        logout_done(sp, lo);
        return SP_SLO_INTERNAL;
    }
    out->response_url = strdup(p->msg_url);
    /* lasso answers by the binding the request came with: POST in, POST out. */
    out->response_body = p->msg_body ? strdup(p->msg_body) : NULL;
    logout_done(sp, lo);
    return out->response_url && (p->msg_body == NULL || out->response_body) ? SP_SLO_OK
                                                                            : SP_SLO_INTERNAL;
}

static const char *const slo_codes[SP_SLO_REASON_COUNT] = {
    [SP_SLO_OK] = "ok",
    [SP_SLO_MALFORMED] = "slo_malformed",
    [SP_SLO_UNKNOWN_ISSUER] = "slo_unknown_issuer",
    [SP_SLO_UNSIGNED] = "slo_unsigned",
    [SP_SLO_SIGNATURE] = "slo_bad_signature",
    [SP_SLO_NOT_YET_VALID] = "slo_not_yet_valid",
    [SP_SLO_EXPIRED] = "slo_expired",
    [SP_SLO_DESTINATION] = "slo_destination",
    [SP_SLO_STATUS] = "slo_idp_status",
    [SP_SLO_REPLAY] = "slo_replay",
    [SP_SLO_IN_RESPONSE_TO] = "slo_in_response_to",
    [SP_SLO_INTERNAL] = "slo_internal",
};

const char *
sp_slo_reason_code(enum sp_slo_reason r)
{
    return r >= 0 && r < SP_SLO_REASON_COUNT ? slo_codes[r] : slo_codes[SP_SLO_INTERNAL];
}

enum sp_slo_reason
sp_logout_response_in(const struct sp *sp, const char *query, const struct sp_slo_expect *e,
                      char *idp_out, size_t idplen, char *irt_out, size_t irtlen, char *err,
                      size_t errlen)
{
    int rc;
    irt_out[0] = '\0';
    struct claim c;
    enum sp_slo_reason r = logout_peek(query, "SAMLResponse", &c, err, errlen);
    snprintf(idp_out, idplen, "%s", c.issuer);
    if (r != SP_SLO_OK)
        return r;
    LassoLogout *lo =
        logout_from_query(sp, query, c.issuer, lasso_redirect_response_in, &rc, &r, err, errlen);
    if (lo == NULL)
        return r;
    LassoProfile *p = LASSO_PROFILE(lo);
    if (p->remote_providerID != NULL)
        snprintf(idp_out, idplen, "%s", p->remote_providerID);
    /* Without the request object, lasso cannot match InResponseTo and says so; the caller
     * matches it with the LogoutRequests it sent. */
    if (rc == LASSO_PROFILE_ERROR_MISSING_REQUEST)
        rc = 0;
    LassoSamlp2StatusResponse *sr = LASSO_IS_SAMLP2_STATUS_RESPONSE(p->response)
                                        ? LASSO_SAMLP2_STATUS_RESPONSE(p->response)
                                        : NULL;
    const char *status =
        sr && sr->Status && sr->Status->StatusCode ? sr->Status->StatusCode->Value : NULL;
    LassoSamlp2StatusCode *sc = sr && sr->Status ? sr->Status->StatusCode : NULL;
    const char *second = sc && sc->StatusCode && sc->StatusCode->Value ? sc->StatusCode->Value : "";
    if (rc != 0) {
        r = lasso_slo_reason(rc, "LogoutResponse", err, errlen);
        if (r == SP_SLO_STATUS && status != NULL)
            snprintf(err, errlen, "the LogoutResponse's Status is %s%s%s", status,
                     second[0] ? " / " : "", second);
    } else if (sr == NULL) {
        snprintf(err, errlen, "no LogoutResponse");
        r = SP_SLO_MALFORMED;
    } else if ((r = check_message("LogoutResponse", sr->Version, sr->IssueInstant, sr->Destination,
                                  sr->Issuer, e, err, errlen)) != SP_SLO_OK) {
    } else if (status == NULL || strcmp(status, LASSO_SAML2_STATUS_CODE_SUCCESS) != 0) {
        /* SAML core 3.2.2.2: only Success says the IdP ended its session. */
        snprintf(err, errlen, "the LogoutResponse's Status is %s%s%s", status ? status : "(none)",
                 second[0] ? " / " : "", second);
        r = SP_SLO_STATUS;
    } else if (sr->InResponseTo == NULL || sr->InResponseTo[0] == '\0') {
        snprintf(err, errlen, "the LogoutResponse has no InResponseTo");
        r = SP_SLO_IN_RESPONSE_TO;
    } else {
        snprintf(irt_out, irtlen, "%s", sr->InResponseTo);
    }
    logout_done(sp, lo);
    return r;
}
