#include "sp_acs.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lasso/key.h>
#include <lasso/lasso.h>
#include <lasso/xml/misc_text_node.h>
#include <lasso/xml/saml-2.0/saml2_assertion.h>
#include <lasso/xml/saml-2.0/saml2_attribute.h>
#include <lasso/xml/saml-2.0/saml2_attribute_statement.h>
#include <lasso/xml/saml-2.0/saml2_attribute_value.h>
#include <lasso/xml/saml-2.0/saml2_audience_restriction.h>
#include <lasso/xml/saml-2.0/saml2_authn_statement.h>
#include <lasso/xml/saml-2.0/saml2_conditions.h>
#include <lasso/xml/saml-2.0/saml2_subject_confirmation_data.h>
#include <lasso/xml/saml-2.0/samlp2_response.h>
#include <lasso/xml/saml-2.0/samlp2_status_code.h>
#include <openssl/evp.h>

#include "sp.h"
#include "sp_time.h"
#include "sp_xml.h"

#define BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define SP_ALG_RSA_SHA1 "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
#define SP_ALG_SHA1 "http://www.w3.org/2000/09/xmldsig#sha1"

static const struct sp_reason_info reasons[SP_REASON_COUNT] = {
    [SP_OK] = {"ok", 303, "Signed in."},
    [SP_ERR_TOO_LARGE] = {"too_large", 413,
                          "The response from your identity provider is too large."},
    [SP_ERR_MALFORMED] = {"malformed", 400,
                          "The response from your identity provider could not be read."},
    [SP_ERR_DOCTYPE] = {"doctype", 400,
                        "The response from your identity provider could not be read."},
    [SP_ERR_UNKNOWN_ISSUER] =
        {"unknown_issuer", 403,
         "The response came from an identity provider this service does not know."},
    [SP_ERR_STATUS] = {"idp_status", 403,
                       "Your identity provider did not sign you in (it reported an error)."},
    [SP_ERR_UNSIGNED] = {"unsigned", 403,
                         "The response from your identity provider is not signed."},
    [SP_ERR_SIGNATURE] =
        {"bad_signature", 403,
         "The signature on the response from your identity provider is not valid."},
    [SP_ERR_SHA1] =
        {"sha1_refused", 403,
         "Your identity provider signed with SHA-1, which this service does not accept."},
    [SP_ERR_ASSERTION_COUNT] =
        {"assertion_count", 403,
         "The response from your identity provider is not in the expected shape."},
    [SP_ERR_WRAPPING] = {"signature_wrapping", 403,
                         "The response from your identity provider is not in the expected shape."},
    [SP_ERR_DECRYPT] =
        {"decrypt_failed", 403,
         "The encrypted response from your identity provider could not be decrypted."},
    [SP_ERR_AUDIENCE] = {"audience_mismatch", 403,
                         "The response from your identity provider was meant for another service "
                         "(audience mismatch)."},
    [SP_ERR_EXPIRED] = {"expired", 403,
                        "The response from your identity provider has expired — check the clocks, "
                        "then try again."},
    [SP_ERR_NOT_YET_VALID] = {"not_yet_valid", 403,
                              "The response from your identity provider is not valid yet — check "
                              "the clocks, then try again."},
    [SP_ERR_CONDITION] = {"unknown_condition", 403,
                          "The response from your identity provider has a condition this service "
                          "does not understand."},
    [SP_ERR_NO_BEARER] = {"no_bearer", 403,
                          "The response from your identity provider is not in the expected shape."},
    [SP_ERR_RECIPIENT] = {"recipient_mismatch", 403,
                          "The response from your identity provider was sent to another address "
                          "(recipient mismatch)."},
    [SP_ERR_DESTINATION] = {"destination_mismatch", 403,
                            "The response from your identity provider was sent to another address "
                            "(destination mismatch)."},
    [SP_ERR_IN_RESPONSE_TO] = {"in_response_to", 403,
                               "The response does not answer a sign-in started here, or it was "
                               "used already. Start again."},
    [SP_ERR_NO_NAMEID] = {"no_nameid", 403,
                          "Your identity provider did not say who you are (no NameID)."},
    [SP_ERR_UNSOLICITED] = {"unsolicited", 403,
                            "Sign-ins started at your identity provider are not allowed for it. "
                            "Start from this service's sign-in page."},
    [SP_ERR_REPLAY] = {"replay", 403, "This response was used already. Start the sign-in again."},
    [SP_ERR_DOMAIN] = {"domain_not_allowed", 403,
                       "Your identity provider may not sign in users of this e-mail domain."},
    [SP_ERR_ACCOUNT] =
        {"account_conflict", 403,
         "Your account cannot sign in through this identity provider. Contact your administrator."},
    [SP_ERR_IDENTITY] = {"identity_refused", 403,
                         "Your identity provider sent a name or attribute this service cannot "
                         "store as it is (too long, or not text). Contact your administrator."},
    [SP_ERR_INTERNAL] = {"internal", 500,
                         "Sign-in is not available right now. Try again in a moment."},
};

const struct sp_reason_info *
sp_reason_info(enum sp_reason r)
{
    return (r >= 0 && r < SP_REASON_COUNT) ? &reasons[r] : &reasons[SP_ERR_INTERNAL];
}

struct sp {
    LassoServer *server;
};

LassoServer *sp_lasso_server(const struct sp *sp);

LassoServer *
sp_lasso_server(const struct sp *sp)
{
    return sp->server;
}

struct sp *
sp_new(const char *sp_metadata, const char *key_file, const char *cert_file, char *err,
       size_t errlen)
{
    struct sp *sp = calloc(1, sizeof *sp);
    char *key = sp_read_file(key_file, 64 * 1024, NULL, err, errlen);
    char *cert = key ? sp_read_file(cert_file, 64 * 1024, NULL, err, errlen) : NULL;
    if (sp == NULL || cert == NULL)
        goto fail;
    sp->server = lasso_server_new_from_buffers(sp_metadata, key, NULL, cert);
    if (sp->server == NULL) {
        snprintf(err, errlen, "the SAML library refused the SP key pair or metadata");
        goto fail;
    }
    sp->server->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
    /* The same key decrypts EncryptedAssertions (the metadata lists its certificate for
     * encryption); lasso does not take it for that role on its own. */
    if (lasso_server_set_encryption_private_key_with_password(sp->server, key, NULL) != 0) {
        snprintf(err, errlen, "the SAML library refused the SP key for decryption");
        goto fail;
    }
    free(key);
    free(cert);
    return sp;
fail:
    free(key);
    free(cert);
    sp_free(sp);
    return NULL;
}

int
sp_add_idp(struct sp *sp, const char *idp_metadata, char *err, size_t errlen)
{
    int rc = lasso_server_add_provider_from_buffer(sp->server, LASSO_PROVIDER_ROLE_IDP,
                                                   idp_metadata, NULL, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "the SAML library refused an IdP's metadata: %s", lasso_strerror(rc));
        return -1;
    }
    /* lasso keeps each metadata key with its X.509 certificate and duplicates it, certificate
     * and all (X509_dup: a re-parse), for every signature it verifies: about half of a
     * response's validation. The same keys without the certificate are duplicated by a
     * reference count; lasso tries them first (same checks: the key is set on the signature
     * context, KeyInfo in the message is never used), and still holds the metadata keys after. */
    char entity_id[SP_ENTITY_MAX];
    char *pems[SP_MAX_CERTS] = {0};
    int n = sp_idp_signing_keys(idp_metadata, entity_id, sizeof entity_id, pems, SP_MAX_CERTS);
    LassoProvider *idp = n > 0 ? lasso_server_get_provider(sp->server, entity_id) : NULL;
    for (int i = n - 1; i >= 0; i--) {
        LassoKey *k =
            idp ? lasso_key_new_for_signature_from_memory(pems[i], strlen(pems[i]), NULL,
                                                          LASSO_SIGNATURE_METHOD_RSA_SHA256, NULL)
                : NULL;
        if (k != NULL) {
            lasso_provider_add_key(idp, k, FALSE); /* FALSE: in front of the list */
            g_object_unref(k);
        }
        free(pems[i]);
    }
    return 0;
}

void
sp_free(struct sp *sp)
{
    if (sp == NULL)
        return;
    if (sp->server != NULL)
        g_object_unref(sp->server);
    free(sp);
}

static enum sp_reason fail(struct sp_verdict *v, enum sp_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum sp_reason
fail(struct sp_verdict *v, enum sp_reason r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof v->detail, fmt, ap);
    va_end(ap);
    v->reason = r;
    return r;
}

static void
copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* The whitespace allowed in base64 (IdPs wrap their lines). */
static const char B64_SPACE[] = " \n\r\t";

/* Decodes base64 (whitespace allowed) into a NUL-terminated buffer; NULL when malformed. */
static char *
decode(const char *b64, size_t len, size_t *out_len)
{
    int spaces = 0;
    for (const char *w = B64_SPACE; *w != '\0' && !spaces; w++)
        spaces = memchr(b64, *w, len) != NULL;
    char *clean = NULL;
    unsigned char *out = malloc(len / 4 * 3 + 4);
    if (out == NULL)
        return NULL;
    const char *in = b64;
    size_t k = len;
    if (spaces) { /* line-wrapped by the IdP: decoded without the whitespace */
        if ((clean = malloc(len + 1)) == NULL)
            goto fail;
        k = 0;
        for (size_t i = 0; i < len; i++)
            if (b64[i] == '\0' || strchr(B64_SPACE, b64[i]) == NULL)
                clean[k++] = b64[i];
        in = clean;
    }
    if (k == 0 || k % 4 != 0 || k > INT_MAX)
        goto fail;
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)k);
    if (n < 0)
        goto fail;
    for (size_t i = k; i > 0 && in[i - 1] == '='; i--)
        n--;
    out[n] = '\0';
    *out_len = (size_t)n;
    free(clean);
    return (char *)out;
fail:
    free(clean);
    free(out);
    return NULL;
}

/* What our own parse of the document says, before lasso looks at it. */
struct shape {
    int assertions;         /* Assertion + EncryptedAssertion children of the Response */
    int encrypted;          /* EncryptedAssertion children */
    int sha1;               /* a SignatureMethod or DigestMethod uses SHA-1 */
    char assertion_id[256]; /* of the only plain Assertion, if any */
};

static int
is_el(xmlNodePtr n, const char *ns, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

/* An attribute without a namespace (as XPath's @Name), or NULL; caller frees with xmlFree. */
static char *
plain_attr(xmlNodePtr n, const char *name)
{
    return (char *)xmlGetNoNsProp(n, (const xmlChar *)name);
}

static void
copy_content(char *dst, size_t len, xmlNodePtr n)
{
    xmlChar *t = xmlNodeGetContent(n);
    copy(dst, len, (const char *)t);
    xmlFree(t);
}

/* Counts saml:Assertion elements at any depth, and notes SHA-1 in SignatureMethod or
 * DigestMethod anywhere. Iterative: the depth of a hostile document costs no stack. */
static int
walk(xmlNodePtr root, int *sha1)
{
    int assertions = 0;
    for (xmlNodePtr n = root; n != NULL;) {
        if (is_el(n, SP_NS_SAML, "Assertion"))
            assertions++;
        const char *alg = is_el(n, SP_NS_DS, "SignatureMethod") ? SP_ALG_RSA_SHA1
                          : is_el(n, SP_NS_DS, "DigestMethod")  ? SP_ALG_SHA1
                                                                : NULL;
        if (alg != NULL) {
            char *a = plain_attr(n, "Algorithm");
            *sha1 |= a != NULL && strcmp(a, alg) == 0;
            xmlFree(a);
        }
        if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
            n = n->children;
            continue;
        }
        while (n != root && n->next == NULL)
            n = n->parent;
        if (n == root)
            break;
        n = n->next;
    }
    return assertions;
}

static enum sp_reason
inspect(const char *xml, size_t len, struct sp_verdict *v, struct shape *sh)
{
    char err[256];
    memset(sh, 0, sizeof *sh);
    xmlDocPtr doc = sp_xml_parse(xml, len, err, sizeof err);
    if (doc == NULL)
        return fail(v, strstr(err, "DOCTYPE") ? SP_ERR_DOCTYPE : SP_ERR_MALFORMED, "%s", err);
    enum sp_reason r = SP_OK;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!is_el(root, SP_NS_SAMLP, "Response")) {
        r = fail(v, SP_ERR_MALFORMED, "the document is not a samlp:Response");
        goto out;
    }
    xmlNodePtr issuer = NULL, first = NULL;
    int direct = 0;
    for (xmlNodePtr c = root->children; c != NULL; c = c->next) {
        if (issuer == NULL && is_el(c, SP_NS_SAML, "Issuer"))
            issuer = c;
        if (is_el(c, SP_NS_SAML, "Assertion")) {
            first = first ? first : c;
            direct++;
            sh->assertions++;
        } else if (is_el(c, SP_NS_SAML, "EncryptedAssertion")) {
            sh->assertions++;
            sh->encrypted++;
        }
    }
    if (first != NULL) {
        char *id = plain_attr(first, "ID");
        copy(sh->assertion_id, sizeof sh->assertion_id, id);
        xmlFree(id);
        if (issuer == NULL)
            for (xmlNodePtr c = first->children; c != NULL && issuer == NULL; c = c->next)
                if (is_el(c, SP_NS_SAML, "Issuer"))
                    issuer = c;
    }
    if (issuer != NULL)
        copy_content(v->issuer, sizeof v->issuer, issuer);
    /* Assertions anywhere else (inside Extensions, Advice...) are how wrapping attacks hide. */
    if (walk(root, &sh->sha1) > direct)
        r = fail(v, SP_ERR_WRAPPING,
                 "an Assertion is nested somewhere other than directly "
                 "under the Response");
out:
    xmlFreeDoc(doc);
    return r;
}

/* Maps a lasso error of lasso_login_process_authn_response_msg to a reason. */
static enum sp_reason
lasso_reason(int rc)
{
    switch (rc) {
    case LASSO_DS_ERROR_SIGNATURE_NOT_FOUND:
    case LASSO_PROFILE_ERROR_MISSING_ASSERTION:
        return SP_ERR_UNSIGNED;
    case LASSO_DS_ERROR_INVALID_SIGNATURE:
    case LASSO_DS_ERROR_SIGNATURE_VERIFICATION_FAILED:
    case LASSO_DS_ERROR_INVALID_REFERENCE_FOR_SAML:
    case LASSO_PROFILE_ERROR_CANNOT_VERIFY_SIGNATURE:
        return SP_ERR_SIGNATURE;
    case LASSO_SERVER_ERROR_PROVIDER_NOT_FOUND:
    case LASSO_PROFILE_ERROR_UNKNOWN_PROVIDER:
        return SP_ERR_UNKNOWN_ISSUER;
    case LASSO_PROFILE_ERROR_STATUS_NOT_SUCCESS:
    case LASSO_LOGIN_ERROR_STATUS_NOT_SUCCESS:
        return SP_ERR_STATUS;
    case LASSO_DS_ERROR_DECRYPTION_FAILED:
    case LASSO_DS_ERROR_DECRYPTION_FAILED_MISSING_PRIVATE_KEY:
        return SP_ERR_DECRYPT;
    case LASSO_PROFILE_ERROR_INVALID_MSG:
    case LASSO_PROFILE_ERROR_INVALID_POST_MSG:
        return SP_ERR_MALFORMED;
    default:
        return SP_ERR_SIGNATURE;
    }
}

/* SAML core 2.5.1.2: NotBefore inclusive, NotOnOrAfter exclusive; both widened by the skew. */
static enum sp_reason
check_window(struct sp_verdict *v, const char *what, const char *not_before,
             const char *not_on_or_after, const struct sp_expect *e)
{
    time_t t;
    if (not_before != NULL) {
        if (sp_time_parse(not_before, &t) != 0)
            return fail(v, SP_ERR_MALFORMED, "%s NotBefore \"%.40s\" is not a time", what,
                        not_before);
        if (e->now + e->skew_seconds < t)
            return fail(v, SP_ERR_NOT_YET_VALID,
                        "%s NotBefore is %lld s in the future (allowed skew %ld s)", what,
                        (long long)(t - e->now), e->skew_seconds);
    }
    if (not_on_or_after != NULL) {
        if (sp_time_parse(not_on_or_after, &t) != 0)
            return fail(v, SP_ERR_MALFORMED, "%s NotOnOrAfter \"%.40s\" is not a time", what,
                        not_on_or_after);
        if (e->now - e->skew_seconds >= t)
            return fail(v, SP_ERR_EXPIRED, "%s NotOnOrAfter passed %lld s ago (allowed skew %ld s)",
                        what, (long long)(e->now - t), e->skew_seconds);
        if (v->not_on_or_after == 0 || t < v->not_on_or_after)
            v->not_on_or_after = t;
    }
    return SP_OK;
}

static enum sp_reason
check_conditions(LassoSaml2Assertion *a, const struct sp_expect *e, struct sp_verdict *v)
{
    LassoSaml2Conditions *c = a->Conditions;
    if (c == NULL)
        return SP_OK;
    /* Reject what we do not understand (SAML core 2.5.1: an unknown condition is Indeterminate). */
    if (c->Condition != NULL)
        return fail(v, SP_ERR_CONDITION, "the assertion has a Condition of an unknown type");
    enum sp_reason r = check_window(v, "Conditions", c->NotBefore, c->NotOnOrAfter, e);
    if (r != SP_OK)
        return r;
    for (GList *l = c->AudienceRestriction; l; l = l->next) {
        LassoSaml2AudienceRestriction *ar = l->data;
        if (!LASSO_IS_SAML2_AUDIENCE_RESTRICTION(ar) || ar->Audience == NULL ||
            strcmp(ar->Audience, e->entity_id) != 0)
            return fail(v, SP_ERR_AUDIENCE, "Audience is \"%.200s\", expected \"%.200s\"",
                        LASSO_IS_SAML2_AUDIENCE_RESTRICTION(ar) && ar->Audience ? ar->Audience : "",
                        e->entity_id);
    }
    if (c->AudienceRestriction == NULL)
        return fail(v, SP_ERR_AUDIENCE, "the assertion has no AudienceRestriction");
    return SP_OK;
}

static enum sp_reason
check_subject(LassoSaml2Assertion *a, const char *response_irt, const struct sp_expect *e,
              struct sp_verdict *v)
{
    LassoSaml2Subject *s = a->Subject;
    if (s == NULL || s->NameID == NULL || s->NameID->content == NULL ||
        s->NameID->content[0] == '\0')
        return fail(v, SP_ERR_NO_NAMEID, "the assertion has no Subject/NameID");
    /* Never cut: two NameIDs sharing a prefix would become one user. */
    size_t n = strlen(s->NameID->content);
    if (n >= sizeof v->name_id)
        return fail(v, SP_ERR_IDENTITY, "the NameID is %zu bytes long; at most %zu are accepted", n,
                    sizeof v->name_id - 1);
    copy(v->name_id, sizeof v->name_id, s->NameID->content);
    copy(v->name_id_format, sizeof v->name_id_format, s->NameID->Format);
    LassoSaml2SubjectConfirmation *sc = s->SubjectConfirmation;
    if (sc == NULL || sc->Method == NULL || strcmp(sc->Method, BEARER) != 0 ||
        sc->SubjectConfirmationData == NULL)
        return fail(v, SP_ERR_NO_BEARER,
                    "no bearer SubjectConfirmation with "
                    "SubjectConfirmationData");
    LassoSaml2SubjectConfirmationData *d = sc->SubjectConfirmationData;
    if (d->Recipient == NULL || strcmp(d->Recipient, e->acs_url) != 0)
        return fail(v, SP_ERR_RECIPIENT, "Recipient is \"%.200s\", expected \"%.200s\"",
                    d->Recipient ? d->Recipient : "", e->acs_url);
    /* Web SSO profile 4.1.4.2: bearer data must carry NotOnOrAfter and no NotBefore. */
    if (d->NotOnOrAfter == NULL)
        return fail(v, SP_ERR_NO_BEARER, "SubjectConfirmationData has no NotOnOrAfter");
    enum sp_reason r = check_window(v, "SubjectConfirmationData", NULL, d->NotOnOrAfter, e);
    if (r != SP_OK)
        return r;
    const char *irt = d->InResponseTo;
    if ((irt != NULL) != (response_irt != NULL) || (irt != NULL && strcmp(irt, response_irt) != 0))
        return fail(v, SP_ERR_IN_RESPONSE_TO,
                    "InResponseTo of the Response (%.100s) and of the "
                    "SubjectConfirmationData (%.100s) differ",
                    response_irt ? response_irt : "none", irt ? irt : "none");
    return SP_OK;
}

/* The text of an AttributeValue: a text node, or the content of what lasso kept. */
static char *
value_text(LassoSaml2AttributeValue *av)
{
    for (GList *l = av->any; l; l = l->next) {
        if (LASSO_IS_MISC_TEXT_NODE(l->data)) {
            LassoMiscTextNode *t = l->data;
            if (t->content != NULL)
                return strdup(t->content);
        }
    }
    return strdup("");
}

static void
collect_attributes(LassoSaml2Assertion *a, struct sp_verdict *v)
{
    for (GList *s = a->AttributeStatement; s; s = s->next) {
        LassoSaml2AttributeStatement *st = s->data;
        if (!LASSO_IS_SAML2_ATTRIBUTE_STATEMENT(st))
            continue;
        for (GList *l = st->Attribute; l && v->n_attrs < SP_MAX_ATTRS; l = l->next) {
            LassoSaml2Attribute *at = l->data;
            if (!LASSO_IS_SAML2_ATTRIBUTE(at) || at->Name == NULL)
                continue;
            struct sp_attr *x = &v->attrs[v->n_attrs++];
            x->name = strdup(at->Name);
            x->friendly_name = at->FriendlyName ? strdup(at->FriendlyName) : NULL;
            for (GList *k = at->AttributeValue; k && x->n_values < SP_MAX_VALUES; k = k->next)
                if (LASSO_IS_SAML2_ATTRIBUTE_VALUE(k->data))
                    x->values[x->n_values++] = value_text(k->data);
        }
    }
    for (GList *l = a->AuthnStatement; l; l = l->next) {
        LassoSaml2AuthnStatement *as = l->data;
        if (LASSO_IS_SAML2_AUTHN_STATEMENT(as) && as->SessionIndex != NULL) {
            copy(v->session_index, sizeof v->session_index, as->SessionIndex);
            break;
        }
    }
}

static enum sp_reason
check_assertion(LassoLogin *login, const struct shape *sh, const struct sp_expect *e,
                struct sp_verdict *v)
{
    LassoSamlp2Response *resp = LASSO_SAMLP2_RESPONSE(LASSO_PROFILE(login)->response);
    LassoSamlp2StatusResponse *sr = LASSO_SAMLP2_STATUS_RESPONSE(resp);
    copy(v->response_id, sizeof v->response_id, sr->ID);
    copy(v->in_response_to, sizeof v->in_response_to, sr->InResponseTo);
    if (sr->Destination != NULL && strcmp(sr->Destination, e->acs_url) != 0)
        return fail(v, SP_ERR_DESTINATION, "Destination is \"%.200s\", expected \"%.200s\"",
                    sr->Destination, e->acs_url);
    LassoNode *node = lasso_login_get_assertion(login);
    if (node == NULL || !LASSO_IS_SAML2_ASSERTION(node)) {
        if (node != NULL)
            g_object_unref(node);
        return fail(v, SP_ERR_ASSERTION_COUNT, "no assertion was found");
    }
    LassoSaml2Assertion *a = LASSO_SAML2_ASSERTION(node);
    enum sp_reason r = SP_OK;
    copy(v->assertion_id, sizeof v->assertion_id, a->ID);
    /* The assertion lasso verified must be the one the document carries in plain sight. */
    if (sh->assertion_id[0] != '\0' && (a->ID == NULL || strcmp(a->ID, sh->assertion_id) != 0)) {
        r = fail(v, SP_ERR_WRAPPING, "the verified assertion is not the one in the Response");
        goto out;
    }
    if (a->ID == NULL || a->ID[0] == '\0') {
        r = fail(v, SP_ERR_MALFORMED, "the assertion has no ID");
        goto out;
    }
    r = check_conditions(a, e, v);
    if (r == SP_OK)
        r = check_subject(a, sr->InResponseTo, e, v);
    if (r == SP_OK)
        collect_attributes(a, v);
out:
    g_object_unref(node);
    return r;
}

enum sp_reason
sp_acs_process(const struct sp *sp, const char *b64, size_t len, const struct sp_expect *e,
               struct sp_verdict *v)
{
    memset(v, 0, sizeof *v);
    if (len > SP_MAX_RESPONSE_B64)
        return fail(v, SP_ERR_TOO_LARGE, "the SAMLResponse has %zu bytes (limit %d)", len,
                    SP_MAX_RESPONSE_B64);
    size_t xml_len = 0;
    char *xml = decode(b64, len, &xml_len);
    if (xml == NULL || xml_len == 0) {
        free(xml);
        return fail(v, SP_ERR_MALFORMED, "the SAMLResponse is not valid base64");
    }
    struct shape sh;
    enum sp_reason r = inspect(xml, xml_len, v, &sh);
    if (xml_len > SP_LOG_XML_MAX)
        xml[SP_LOG_XML_MAX] = '\0'; /* the log keeps this much */
    v->xml = xml;
    if (r != SP_OK)
        return r;
    if (sh.assertions != 1)
        return fail(v, SP_ERR_ASSERTION_COUNT,
                    "the Response carries %d assertions; exactly "
                    "one is accepted",
                    sh.assertions);
    if (sh.sha1 && (e->allow_sha1 == NULL || !e->allow_sha1(v->issuer, e->ctx)))
        return fail(v, SP_ERR_SHA1,
                    "the response is signed with RSA-SHA1/SHA-1, not allowed "
                    "for this IdP");
    LassoLogin *login = lasso_login_new(sp->server);
    if (login == NULL)
        return fail(v, SP_ERR_INTERNAL, "out of memory");
    /* A copy: lasso wants a mutable, NUL-terminated message. */
    char *msg = strndup(b64, len);
    int rc = msg ? lasso_login_process_authn_response_msg(login, msg) : -1;
    free(msg);
    if (rc != 0) {
        enum sp_reason why = lasso_reason(rc);
        /* lasso drops an EncryptedAssertion it cannot open, then finds no assertion at all. */
        if (rc == LASSO_PROFILE_ERROR_MISSING_ASSERTION && sh.encrypted)
            why = SP_ERR_DECRYPT;
        r = fail(v, why, "%s (lasso %d)", lasso_strerror(rc), rc);
        if (r == SP_ERR_STATUS) {
            LassoSamlp2StatusResponse *sr =
                LASSO_SAMLP2_STATUS_RESPONSE(LASSO_PROFILE(login)->response);
            if (sr != NULL && sr->Status != NULL && sr->Status->StatusCode != NULL) {
                LassoSamlp2StatusCode *sc = sr->Status->StatusCode;
                snprintf(v->detail, sizeof v->detail, "Status %s%s%s", sc->Value ? sc->Value : "",
                         sc->StatusCode && sc->StatusCode->Value ? " / " : "",
                         sc->StatusCode && sc->StatusCode->Value ? sc->StatusCode->Value : "");
            }
        }
    } else {
        r = check_assertion(login, &sh, e, v);
    }
    g_object_unref(login);
    v->reason = r;
    return r;
}

void
sp_verdict_free(struct sp_verdict *v)
{
    for (int i = 0; i < v->n_attrs; i++) {
        free(v->attrs[i].name);
        free(v->attrs[i].friendly_name);
        for (int k = 0; k < v->attrs[i].n_values; k++)
            free(v->attrs[i].values[k]);
    }
    v->n_attrs = 0;
    free(v->xml);
    v->xml = NULL;
}

const char *
sp_verdict_attr(const struct sp_verdict *v, const char *const *names)
{
    for (const char *const *n = names; *n; n++)
        for (int i = 0; i < v->n_attrs; i++)
            if ((strcmp(v->attrs[i].name, *n) == 0 ||
                 (v->attrs[i].friendly_name && strcmp(v->attrs[i].friendly_name, *n) == 0)) &&
                v->attrs[i].n_values > 0)
                return v->attrs[i].values[0];
    return NULL;
}
