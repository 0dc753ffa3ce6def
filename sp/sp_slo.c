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
#include "sp_xml.h"
#include "sp_time.h"

LassoServer *sp_lasso_server(const struct sp *sp);
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

int
sp_logout_request(const struct sp *sp, const struct sp_logout *l, int post, struct sp_out *out,
                  char *id_out, size_t idlen, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    LassoLogout *lo = lasso_logout_new(sp_lasso_server(sp));
    if (lo == NULL) {
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
        g_object_unref(lo);
        return -1;
    }
    const char *id = LASSO_SAMLP2_REQUEST_ABSTRACT(p->request)->ID;
    snprintf(id_out, idlen, "%s", id ? id : "");
    rc = sp_out_take(p, post, out);
    g_object_unref(lo);
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

/* A LassoLogout that has processed query (signature required) with process; *rc is lasso's
 * answer. NULL when out of memory (err filled). */
static LassoLogout *
logout_from_query(const struct sp *sp, const char *query, int (*process)(LassoLogout *, gchar *),
                  int *rc, char *err, size_t errlen)
{
    LassoLogout *lo = lasso_logout_new(sp_lasso_server(sp));
    if (lo == NULL) {
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

/* The message's XML: from a query string (HTTP-Redirect: the SAMLRequest parameter,
 * percent-decoded, base64, raw DEFLATE) or a form field (HTTP-POST: base64). Caller frees; NULL
 * when it does not decode. */
static char *
logout_request_xml(const char *msg, size_t *len_out)
{
    const char *v = strncmp(msg, "SAMLRequest=", 12) == 0 ? msg + 12 : strstr(msg, "&SAMLRequest=");
    int query = v != NULL;
    if (v != NULL && v != msg + 12)
        v += 13;
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

/* Whether a LogoutRequest names its subject (SAML core 3.7.1: BaseID, NameID or EncryptedID).
 * lasso 2.8 aborts the whole process (g_error, "samlp2:LogoutRequest needs one of BaseID, NameID
 * or EncryptedID") on a request without, before any signature check: one unauthenticated GET
 * would stop the server. Found by tests/fuzz/fuzz_logout. Checked here first, on our own safe
 * parse; a message that does not decode is refused too (lasso could not read it either). */
static int
logout_request_names_someone(const char *msg, char *err, size_t errlen)
{
    size_t len = 0;
    char *xml = logout_request_xml(msg, &len);
    if (xml == NULL) {
        snprintf(err, errlen, "the LogoutRequest does not decode (base64, DEFLATE)");
        return 0;
    }
    char perr[256];
    xmlDocPtr doc = sp_xml_parse(xml, len, perr, sizeof perr);
    free(xml);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    int ok = 0;
    if (root != NULL && root->ns != NULL &&
        strcmp((const char *)root->ns->href, SP_NS_SAMLP) == 0 &&
        strcmp((const char *)root->name, "LogoutRequest") == 0)
        for (xmlNodePtr c = root->children; c != NULL && !ok; c = c->next)
            ok = c->type == XML_ELEMENT_NODE && c->ns != NULL &&
                 strcmp((const char *)c->ns->href, SP_NS_SAML) == 0 &&
                 (strcmp((const char *)c->name, "NameID") == 0 ||
                  strcmp((const char *)c->name, "BaseID") == 0 ||
                  strcmp((const char *)c->name, "EncryptedID") == 0);
    if (!ok)
        snprintf(err, errlen, "%s",
                 doc == NULL ? "the LogoutRequest is not well-formed XML"
                             : "not a samlp:LogoutRequest naming a subject (NameID, BaseID or "
                               "EncryptedID)");
    xmlFreeDoc(doc);
    return ok;
}

/* SAML core 3.2.1-3.2.2 on a logout message: Version 2.0; IssueInstant neither in the future
 * beyond the skew nor older than the maximum age (plus the skew); bindings 3.4.5.2 / 3.5.5.2:
 * the message is signed, so its Destination must be present and name our SLO URL. 0, or -1
 * with the reason in err. */
static int
check_message(const char *what, const char *version, const char *instant, const char *destination,
              const struct sp_slo_expect *e, char *err, size_t errlen)
{
    time_t t;
    if (version == NULL || strcmp(version, "2.0") != 0) {
        snprintf(err, errlen, "the %s's Version is \"%.20s\", not 2.0", what,
                 version ? version : "");
        return -1;
    }
    if (instant == NULL || sp_time_parse(instant, &t) != 0) {
        snprintf(err, errlen, "the %s's IssueInstant is missing or not a time", what);
        return -1;
    }
    if (t - e->now > e->skew_seconds) {
        snprintf(err, errlen, "the %s's IssueInstant is %lld s in the future (allowed skew %ld s)",
                 what, (long long)(t - e->now), e->skew_seconds);
        return -1;
    }
    if (e->now - t > e->max_age_seconds + e->skew_seconds) {
        snprintf(err, errlen,
                 "the %s was issued %lld s ago (max_response_age_seconds %ld, allowed skew %ld s)",
                 what, (long long)(e->now - t), e->max_age_seconds, e->skew_seconds);
        return -1;
    }
    if (destination == NULL || strcmp(destination, e->slo_url) != 0) {
        snprintf(err, errlen, "the %s's Destination is \"%.200s\", expected \"%.200s\"", what,
                 destination ? destination : "(none)", e->slo_url);
        return -1;
    }
    return 0;
}

/* SAML core 3.7.1: a LogoutRequest past its NotOnOrAfter is not acted on. Also fills the
 * request's ID and how long to remember it. */
static int
check_request(LassoSamlp2LogoutRequest *req, const struct sp_slo_expect *e,
              struct sp_logout_in *out, char *err, size_t errlen)
{
    LassoSamlp2RequestAbstract *ra = LASSO_SAMLP2_REQUEST_ABSTRACT(req);
    if (check_message("LogoutRequest", ra->Version, ra->IssueInstant, ra->Destination, e, err,
                      errlen) != 0)
        return -1;
    if (ra->ID == NULL || ra->ID[0] == '\0' || strlen(ra->ID) >= sizeof out->id) {
        snprintf(err, errlen, "the LogoutRequest has no usable ID");
        return -1;
    }
    snprintf(out->id, sizeof out->id, "%s", ra->ID);
    time_t issued = 0, until = 0;
    sp_time_parse(ra->IssueInstant, &issued);
    out->keep_until = issued + e->max_age_seconds + 2 * e->skew_seconds;
    if (req->NotOnOrAfter != NULL) {
        if (sp_time_parse(req->NotOnOrAfter, &until) != 0) {
            snprintf(err, errlen, "the LogoutRequest's NotOnOrAfter is not a time");
            return -1;
        }
        if (e->now - e->skew_seconds >= until) {
            snprintf(err, errlen,
                     "the LogoutRequest's NotOnOrAfter passed %lld s ago (allowed skew %ld s)",
                     (long long)(e->now - until), e->skew_seconds);
            return -1;
        }
    }
    return 0;
}

int
sp_logout_request_in(const struct sp *sp, const char *query, const struct sp_slo_expect *e,
                     struct sp_logout_in *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!logout_request_names_someone(query, err, errlen))
        return -1;
    int rc;
    LassoLogout *lo = logout_from_query(sp, query, lasso_redirect_request_in, &rc, err, errlen);
    if (lo == NULL)
        return -1;
    LassoProfile *p = LASSO_PROFILE(lo);
    if (rc != 0 || p->remote_providerID == NULL || p->request == NULL) {
        snprintf(err, errlen, "the LogoutRequest was refused: %s", lasso_strerror(rc));
        g_object_unref(lo);
        return -1;
    }
    snprintf(out->idp, sizeof out->idp, "%s", p->remote_providerID);
    LassoSamlp2LogoutRequest *req = LASSO_SAMLP2_LOGOUT_REQUEST(p->request);
    if (check_request(req, e, out, err, errlen) != 0) {
        g_object_unref(lo);
        return -1;
    }
    LassoSaml2NameID *nid = LASSO_IS_SAML2_NAME_ID(req->NameID) ? req->NameID : NULL;
    if (nid == NULL || nid->content == NULL) {
        snprintf(err, errlen,
                 "the LogoutRequest names nobody (no NameID; encrypted IDs are "
                 "not supported)");
        g_object_unref(lo);
        return -1;
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
        g_object_unref(lo);
        return -1;
    }
    out->response_url = strdup(p->msg_url);
    /* lasso answers by the binding the request came with: POST in, POST out. */
    out->response_body = p->msg_body ? strdup(p->msg_body) : NULL;
    g_object_unref(lo);
    return out->response_url && (p->msg_body == NULL || out->response_body) ? 0 : -1;
}

int
sp_logout_response_in(const struct sp *sp, const char *query, const struct sp_slo_expect *e,
                      char *idp_out, size_t idplen, char *irt_out, size_t irtlen, char *err,
                      size_t errlen)
{
    int rc;
    irt_out[0] = '\0';
    LassoLogout *lo = logout_from_query(sp, query, lasso_redirect_response_in, &rc, err, errlen);
    if (lo == NULL)
        return -1;
    LassoProfile *p = LASSO_PROFILE(lo);
    snprintf(idp_out, idplen, "%s", p->remote_providerID ? p->remote_providerID : "");
    /* Without the request object, lasso cannot match InResponseTo and says so; the caller
     * matches it with the LogoutRequests it sent. */
    if (rc == LASSO_PROFILE_ERROR_MISSING_REQUEST)
        rc = 0;
    if (rc != 0) {
        snprintf(err, errlen, "%s", lasso_strerror(rc));
    } else if (!LASSO_IS_SAMLP2_STATUS_RESPONSE(p->response)) {
        snprintf(err, errlen, "no LogoutResponse");
        rc = -1;
    } else {
        LassoSamlp2StatusResponse *sr = LASSO_SAMLP2_STATUS_RESPONSE(p->response);
        rc = check_message("LogoutResponse", sr->Version, sr->IssueInstant, sr->Destination, e, err,
                           errlen);
        if (rc == 0 && (sr->InResponseTo == NULL || sr->InResponseTo[0] == '\0')) {
            snprintf(err, errlen, "the LogoutResponse has no InResponseTo");
            rc = -1;
        }
        if (rc == 0)
            snprintf(irt_out, irtlen, "%s", sr->InResponseTo);
    }
    g_object_unref(lo);
    return rc == 0 ? 0 : -1;
}
