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
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sp.h"
#include "sp_cost.h"
#include "sp_state.h"
#include "sp_time.h"
#include "sp_xml.h"

#define BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#define NAMEID_EMAIL "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
#define NAMEID_ENTITY "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
#define NAMEID_PERSISTENT "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
#define NAMEID_TRANSIENT "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"

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
    [SP_ERR_NO_CONDITIONS] = {"no_conditions", 403,
                              "The response from your identity provider does not say which service "
                              "it is for."},
    [SP_ERR_NO_AUDIENCE] = {"no_audience", 403,
                            "The response from your identity provider does not say which service "
                            "it is for."},
    [SP_ERR_NO_AUTHN_STATEMENT] = {"no_authn_statement", 403,
                                   "Your identity provider did not say that you signed in there."},
    [SP_ERR_SESSION_ENDED] = {"session_ended", 403,
                              "Your session at your identity provider has ended — sign in there "
                              "again."},
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
    [SP_ERR_ISSUER_MISMATCH] = {"issuer_mismatch", 403,
                                "The response from your identity provider is not in the expected "
                                "shape."},
    [SP_ERR_NAMEID_FORMAT] = {"nameid_format", 403,
                              "Your identity provider named you in a form this service does not "
                              "accept. Contact your administrator."},
    [SP_ERR_NAMEID_QUALIFIER] = {"nameid_qualifier", 403,
                                 "Your identity provider named you for another service. Contact "
                                 "your administrator."},
    [SP_ERR_BEARER_NOT_BEFORE] = {"bearer_not_before", 403,
                                  "The response from your identity provider is not in the "
                                  "expected shape."},
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
    int encrypted;          /* of which EncryptedAssertion */
    int response_signed;    /* the Response has a ds:Signature child */
    int sha1;               /* a signature's SignatureMethod or DigestMethod uses SHA-1 */
    int confirmations;      /* SubjectConfirmation elements of the plain Assertion's Subject */
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

/* XML-DSig 4.3-4.4: what makes a signature weak is its SignedInfo/SignatureMethod and each
 * SignedInfo/Reference/DigestMethod of a ds:Signature. The same ds:DigestMethod element also
 * parameterises RSA-OAEP key transport inside xenc:EncryptedKey/EncryptionMethod (SHA-1 is its
 * default, sent by nearly every IdP that encrypts); that says nothing about the signature. Any
 * algorithm URI ending in "sha1" (rsa-, dsa-, ecdsa-, hmac-sha1, the sha1 digest) counts. */
static int
sha1_in_signature(xmlNodePtr n)
{
    xmlNodePtr si = n->parent;
    if (strcmp((const char *)n->name, "DigestMethod") == 0) {
        if (si == NULL || !is_el(si, SP_NS_DS, "Reference"))
            return 0;
        si = si->parent;
    } else if (strcmp((const char *)n->name, "SignatureMethod") != 0) {
        return 0;
    }
    if (si == NULL || !is_el(si, SP_NS_DS, "SignedInfo") || si->parent == NULL ||
        !is_el(si->parent, SP_NS_DS, "Signature"))
        return 0;
    char *a = plain_attr(n, "Algorithm");
    size_t l = a != NULL ? strlen(a) : 0;
    int sha1 = l >= 4 && strcmp(a + l - 4, "sha1") == 0;
    xmlFree(a);
    return sha1;
}

/* Counts saml:Assertion elements at any depth, and notes SHA-1 in a signature's algorithms
 * (sha1_in_signature). Iterative: the depth of a hostile document costs no stack. */
static int
walk(xmlNodePtr root, int *sha1)
{
    int assertions = 0;
    for (xmlNodePtr n = root; n != NULL;) {
        if (n->type == XML_ELEMENT_NODE && n->ns != NULL) {
            const char *ns = (const char *)n->ns->href;
            if (strcmp(ns, SP_NS_SAML) == 0 && strcmp((const char *)n->name, "Assertion") == 0)
                assertions++;
            else if (strcmp(ns, SP_NS_DS) == 0)
                *sha1 |= sha1_in_signature(n);
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

/* SAML core 3.2.2 and 2.3.3: the ds:Signature of a Response or an Assertion comes right after
 * its Issuer (first in a Response without Issuer). lasso takes a signature from anywhere among
 * the children, so one elsewhere is refused here as what it is: outside the schema. Returns the
 * misplaced signature's position among the element children, or 0. */
static int
signature_misplaced(xmlNodePtr parent)
{
    int i = 0, want = 1;
    for (xmlNodePtr c = parent->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (++i == 1 && is_el(c, SP_NS_SAML, "Issuer"))
            want = 2;
        if (is_el(c, SP_NS_DS, "Signature") && i != want)
            return i;
    }
    return 0;
}

#define SP_NS_XENC "http://www.w3.org/2001/04/xmlenc#"

static xmlNodePtr child_el(xmlNodePtr n, xmlNodePtr after, const char *ns, const char *name);

/* Whether an EncryptedAssertion has what decryption needs (SAML core 2.2.4, xmlenc 3.4):
 * xenc:EncryptedData, and an xenc:EncryptedKey beside it or in its ds:KeyInfo. lasso 2.8 leaks
 * the copy of our private key it makes for decryption (~160 bytes) when it finds no EncryptedKey:
 * refused here first, an anonymous POST could otherwise grow the server's memory at will. */
static int
encrypted_shape_ok(xmlNodePtr ea)
{
    xmlNodePtr data = child_el(ea, NULL, SP_NS_XENC, "EncryptedData");
    xmlNodePtr info = data ? child_el(data, NULL, SP_NS_DS, "KeyInfo") : NULL;
    return data != NULL && (child_el(ea, NULL, SP_NS_XENC, "EncryptedKey") != NULL ||
                            (info && child_el(info, NULL, SP_NS_XENC, "EncryptedKey") != NULL));
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
            if (!encrypted_shape_ok(c)) {
                r = fail(v, SP_ERR_DECRYPT,
                         "an EncryptedAssertion without xenc:EncryptedData and an "
                         "xenc:EncryptedKey for it");
                goto out;
            }
        }
    }
    if (first != NULL) {
        xmlNodePtr subject = child_el(first, NULL, SP_NS_SAML, "Subject");
        for (xmlNodePtr c = subject ? subject->children : NULL; c != NULL; c = c->next)
            sh->confirmations += is_el(c, SP_NS_SAML, "SubjectConfirmation");
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
    /* Profiles 4.1.4.2: the Issuer of the Response and of the Assertion names the IdP as an
     * entity: Format omitted or entity (lasso takes another Format for an unknown issuer). */
    xmlNodePtr ai = first ? child_el(first, NULL, SP_NS_SAML, "Issuer") : NULL;
    xmlNodePtr ri = child_el(root, NULL, SP_NS_SAML, "Issuer");
    for (int i = 0; i < 2; i++) {
        char *f = (i ? ai : ri) ? plain_attr(i ? ai : ri, "Format") : NULL;
        int bad = f != NULL && strcmp(f, NAMEID_ENTITY) != 0;
        if (bad)
            fail(v, SP_ERR_MALFORMED,
                 "the %s's Issuer has Format \"%.100s\"; its Format is not entity (profiles "
                 "4.1.4.2)",
                 i ? "Assertion" : "Response", f);
        xmlFree(f);
        if (bad) {
            r = SP_ERR_MALFORMED;
            goto out;
        }
    }
    for (xmlNodePtr c = root->children; c != NULL && !sh->response_signed; c = c->next)
        sh->response_signed = is_el(c, SP_NS_DS, "Signature");
    int at = signature_misplaced(root);
    if (at == 0 && first != NULL && (at = signature_misplaced(first)) != 0) {
        r = fail(v, SP_ERR_MALFORMED,
                 "the Assertion's ds:Signature is its child element %d; the schema puts it right "
                 "after the Issuer (SAML core 2.3.3)",
                 at);
        goto out;
    }
    if (at != 0) {
        r = fail(v, SP_ERR_MALFORMED,
                 "the Response's ds:Signature is its child element %d; the schema puts it right "
                 "after the Issuer (SAML core 3.2.2)",
                 at);
        goto out;
    }
    /* Assertions anywhere else (inside Extensions, Advice...) are how wrapping attacks hide. */
    if (walk(root, &sh->sha1) > direct)
        r = fail(v, SP_ERR_WRAPPING,
                 "an Assertion is nested somewhere other than directly "
                 "under the Response");
out:
    xmlFreeDoc(doc);
    return r;
}

/* Every error lasso_login_process_authn_response_msg can return for a SAML 2.0 POST (lasso
 * 2.8: saml-2.0/login.c, saml-2.0/profile.c, id-ff/provider.c, xml/tools.c), each mapped on
 * purpose with what it means here. A code not in the table is refused as internal and logged
 * with its number: it means lasso changed, and the table needs a line. */
static const struct {
    int code;
    enum sp_reason reason;
    const char *why;
} lasso_errors[] = {
    {LASSO_PROFILE_ERROR_INVALID_MSG, SP_ERR_MALFORMED, "not a SAML 2.0 Response lasso can read"},
    {LASSO_PROFILE_ERROR_INVALID_POST_MSG, SP_ERR_MALFORMED, "not a SAML 2.0 Response"},
    {LASSO_PROFILE_ERROR_UNSUPPORTED_PROFILE, SP_ERR_MALFORMED, "not an HTTP-POST message"},
    {LASSO_XML_ERROR_SCHEMA_INVALID_FRAGMENT, SP_ERR_MALFORMED,
     "an EncryptedAssertion holds no EncryptedData"},
    {LASSO_PROFILE_ERROR_MISSING_STATUS_CODE, SP_ERR_MALFORMED,
     "the Response has no Status/StatusCode (SAML core 3.2.2)"},
    {LASSO_PROFILE_ERROR_MISSING_ISSUER, SP_ERR_MALFORMED,
     "an Issuer is missing or its Format is not entity (SAML core 2.3.3, profiles 4.1.4.2)"},
    {LASSO_PROFILE_ERROR_MISSING_SUBJECT, SP_ERR_NO_NAMEID,
     "the assertion has no Subject (profiles 4.1.4.2)"},
    {LASSO_PROFILE_ERROR_MISSING_NAME_IDENTIFIER, SP_ERR_NO_NAMEID,
     "the Subject has no NameID, or its EncryptedID does not open"},
    {LASSO_SERVER_ERROR_PROVIDER_NOT_FOUND, SP_ERR_UNKNOWN_ISSUER, "the issuer is not registered"},
    {LASSO_PROFILE_ERROR_UNKNOWN_PROVIDER, SP_ERR_UNKNOWN_ISSUER, "the issuer is not registered"},
    {LASSO_PROFILE_ERROR_INVALID_ISSUER, SP_ERR_ISSUER_MISMATCH,
     "the Assertion's Issuer is not the Response's (profiles 4.1.4.2)"},
    {LASSO_PROFILE_ERROR_STATUS_NOT_SUCCESS, SP_ERR_STATUS, "the IdP reported an error"},
    {LASSO_PROFILE_ERROR_REQUEST_DENIED, SP_ERR_STATUS, "the IdP denied the request"},
    {LASSO_LOGIN_ERROR_STATUS_NOT_SUCCESS, SP_ERR_STATUS, "the IdP reported an error"},
    {LASSO_LOGIN_ERROR_REQUEST_DENIED, SP_ERR_STATUS, "the IdP denied the request"},
    {LASSO_LOGIN_ERROR_FEDERATION_NOT_FOUND, SP_ERR_STATUS, "the IdP knows no such federation"},
    {LASSO_LOGIN_ERROR_UNKNOWN_PRINCIPAL, SP_ERR_STATUS, "the IdP does not know the user"},
    {LASSO_DS_ERROR_SIGNATURE_NOT_FOUND, SP_ERR_UNSIGNED, "neither Response nor Assertion signed"},
    {LASSO_DS_ERROR_INVALID_SIGNATURE, SP_ERR_SIGNATURE, "the signature is not valid"},
    {LASSO_DS_ERROR_SIGNATURE_VERIFICATION_FAILED, SP_ERR_SIGNATURE,
     "no key of the IdP verifies the signature"},
    {LASSO_DS_ERROR_INVALID_REFERENCE_FOR_SAML, SP_ERR_SIGNATURE,
     "the signature's Reference is not the signed element's ID"},
    {LASSO_DS_ERROR_TOO_MUCH_REFERENCES, SP_ERR_SIGNATURE,
     "the signature has more than one Reference"},
    {LASSO_PROFILE_ERROR_CANNOT_VERIFY_SIGNATURE, SP_ERR_SIGNATURE,
     "the signature could not be verified"},
    {LASSO_LOGIN_ERROR_INVALID_ASSERTION_SIGNATURE, SP_ERR_SIGNATURE,
     "the assertion's signature is not valid"},
    {LASSO_DS_ERROR_DECRYPTION_FAILED, SP_ERR_DECRYPT, "our key does not open it"},
    {LASSO_DS_ERROR_DECRYPTION_FAILED_MISSING_PRIVATE_KEY, SP_ERR_DECRYPT, "no decryption key"},
    {LASSO_PROFILE_ERROR_MISSING_ENCRYPTION_PRIVATE_KEY, SP_ERR_DECRYPT, "no decryption key"},
    {LASSO_XMLENC_ERROR_INVALID_ENCRYPTED_DATA, SP_ERR_DECRYPT, "the EncryptedData is not valid"},
    {LASSO_LOGIN_ERROR_ASSERTION_DOES_NOT_MATCH_REQUEST_ID, SP_ERR_IN_RESPONSE_TO,
     "the assertion answers another request"},
    {LASSO_PROFILE_ERROR_MISSING_ASSERTION, SP_ERR_ASSERTION_COUNT, "no assertion"},
    {LASSO_DS_ERROR_PUBLIC_KEY_LOAD_FAILED, SP_ERR_INTERNAL, "the IdP's key did not load"},
    {LASSO_DS_ERROR_CA_CERT_CHAIN_LOAD_FAILED, SP_ERR_INTERNAL, "the IdP's keys did not load"},
    {LASSO_DS_ERROR_CONTEXT_CREATION_FAILED, SP_ERR_INTERNAL, "xmlsec failed"},
    {LASSO_PROFILE_ERROR_MISSING_SERVER, SP_ERR_INTERNAL, "no SAML state"},
    {LASSO_ERROR_OUT_OF_MEMORY, SP_ERR_INTERNAL, "out of memory"},
    {LASSO_PARAM_ERROR_BAD_TYPE_OR_NULL_OBJ, SP_ERR_INTERNAL, "lasso was called wrongly"},
    {LASSO_PARAM_ERROR_INVALID_VALUE, SP_ERR_INTERNAL, "lasso was called wrongly"},
};

/* The reason for a lasso error of lasso_login_process_authn_response_msg, with its meaning.
 * An EncryptedAssertion that did not open leaves lasso with no assertion (it drops the
 * decryption error and reports MISSING_ASSERTION): that is decrypt_failed. */
static enum sp_reason
lasso_reason(int rc, const struct shape *sh, const char **why)
{
    if (rc == LASSO_PROFILE_ERROR_MISSING_ASSERTION && sh->encrypted > 0) {
        *why = "the EncryptedAssertion could not be decrypted with our key";
        return SP_ERR_DECRYPT;
    }
    /* Profiles 4.1.4.2 allows several SubjectConfirmations; lasso 2.8 reads one, and drops a
     * Subject with more (README, Known issues). */
    if (rc == LASSO_PROFILE_ERROR_MISSING_SUBJECT && sh->confirmations > 1) {
        *why = "the Subject has more than one SubjectConfirmation, which the SAML library (lasso "
               "2.8) cannot read";
        return SP_ERR_MALFORMED;
    }
    for (size_t i = 0; i < sizeof lasso_errors / sizeof lasso_errors[0]; i++)
        if (lasso_errors[i].code == rc) {
            *why = lasso_errors[i].why;
            return lasso_errors[i].reason;
        }
    *why = "an error of the SAML library this service does not map";
    return SP_ERR_INTERNAL;
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

/* The first element child of n named ns:name after `after` (NULL: from the start). */
static xmlNodePtr
child_el(xmlNodePtr n, xmlNodePtr after, const char *ns, const char *name)
{
    for (xmlNodePtr c = after != NULL ? after->next : n->children; c != NULL; c = c->next)
        if (is_el(c, ns, name))
            return c;
    return NULL;
}

/* SAML core 2.5.1.4: every AudienceRestriction must hold, and one holds when any of its
 * Audiences is our entity ID (compared exactly). Profiles 4.1.4.2: a bearer assertion MUST
 * carry an AudienceRestriction naming us, so Conditions are required. lasso keeps a single
 * Audience per restriction: the assertion's XML (kept by lasso, decrypted if need be) is read. */
static enum sp_reason
check_audiences(LassoSaml2Assertion *a, const struct sp_expect *e, struct sp_verdict *v)
{
    xmlNodePtr n = lasso_node_get_original_xmlnode(LASSO_NODE(a));
    if (n == NULL)
        return fail(v, SP_ERR_INTERNAL, "the assertion's XML is not available");
    xmlNodePtr c = child_el(n, NULL, SP_NS_SAML, "Conditions");
    if (c == NULL)
        return fail(
            v, SP_ERR_NO_CONDITIONS,
            "the assertion has no Conditions, so no AudienceRestriction (profiles 4.1.4.2)");
    int restrictions = 0;
    for (xmlNodePtr ar = child_el(c, NULL, SP_NS_SAML, "AudienceRestriction"); ar != NULL;
         ar = child_el(c, ar, SP_NS_SAML, "AudienceRestriction")) {
        restrictions++;
        int ours = 0, audiences = 0;
        char first[256] = "";
        for (xmlNodePtr au = child_el(ar, NULL, SP_NS_SAML, "Audience"); au != NULL && !ours;
             au = child_el(ar, au, SP_NS_SAML, "Audience")) {
            xmlChar *t = xmlNodeGetContent(au);
            ours = t != NULL && strcmp((const char *)t, e->entity_id) == 0;
            if (audiences++ == 0)
                copy(first, sizeof first, (const char *)t);
            xmlFree(t);
        }
        if (!ours)
            return fail(v, SP_ERR_AUDIENCE,
                        "Audience is \"%.200s\"%s, expected \"%.200s\" (AudienceRestriction %d)",
                        first, audiences > 1 ? " (and others)" : "", e->entity_id, restrictions);
    }
    if (restrictions == 0)
        return fail(v, SP_ERR_NO_AUDIENCE,
                    "the assertion's Conditions have no AudienceRestriction (profiles 4.1.4.2)");
    return SP_OK;
}

static enum sp_reason
check_conditions(LassoSaml2Assertion *a, const struct sp_expect *e, struct sp_verdict *v)
{
    LassoSaml2Conditions *c = a->Conditions;
    if (c == NULL)
        return check_audiences(a, e, v); /* refuses it: no Conditions */
    /* Reject what we do not understand (SAML core 2.5.1: an unknown condition is Indeterminate).
     * OneTimeUse (2.5.1.5) holds by the replay cache: every accepted assertion ID is kept until
     * it expires and never accepted twice. ProxyRestriction (2.5.1.6) limits the assertions a
     * relying party issues in turn; Gatehouse issues none. */
    if (c->Condition != NULL)
        return fail(v, SP_ERR_CONDITION, "the assertion has a Condition of an unknown type");
    enum sp_reason r = check_window(v, "Conditions", c->NotBefore, c->NotOnOrAfter, e);
    if (r != SP_OK)
        return r;
    return check_audiences(a, e, v);
}

/* Profiles 4.1.4.2: a bearer assertion MUST carry an AuthnStatement; its SessionNotOnOrAfter
 * (SAML core 2.7.2) ends the session: one already passed is refused, a later one goes with the
 * verdict. */
static enum sp_reason
check_authn_statement(LassoSaml2Assertion *a, const struct sp_expect *e, struct sp_verdict *v)
{
    int n = 0;
    for (GList *l = a->AuthnStatement; l != NULL; l = l->next) {
        LassoSaml2AuthnStatement *as = l->data;
        if (!LASSO_IS_SAML2_AUTHN_STATEMENT(as))
            continue;
        n++;
        if (as->AuthnInstant == NULL)
            return fail(v, SP_ERR_MALFORMED, "the AuthnStatement has no AuthnInstant");
        if (as->SessionNotOnOrAfter == NULL)
            continue;
        time_t t;
        if (sp_time_parse(as->SessionNotOnOrAfter, &t) != 0)
            return fail(v, SP_ERR_MALFORMED, "SessionNotOnOrAfter \"%.40s\" is not a time",
                        as->SessionNotOnOrAfter);
        if (e->now - e->skew_seconds >= t)
            return fail(v, SP_ERR_SESSION_ENDED,
                        "AuthnStatement SessionNotOnOrAfter passed %lld s ago (allowed skew %ld s)",
                        (long long)(e->now - t), e->skew_seconds);
        if (v->session_not_on_or_after == 0 || t < v->session_not_on_or_after)
            v->session_not_on_or_after = t;
    }
    if (n == 0)
        return fail(v, SP_ERR_NO_AUTHN_STATEMENT,
                    "the assertion has no AuthnStatement (profiles 4.1.4.2)");
    return SP_OK;
}

/* RFC 2822 3.2.4 atext, and any byte of a UTF-8 sequence (RFC 6532 widens atext so). */
static int
atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c >= 0x80 || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 2822 3.2.4 dot-atom-text: atext runs joined by single dots. */
static int
dot_atom(const char *s, size_t n)
{
    if (n == 0 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' ? s[i + 1] == '.' : !atext((unsigned char)s[i]))
            return 0;
    return 1;
}

/* RFC 2822 3.2.5 quoted-string (no folding) or 3.4.1 domain-literal: text between open and
 * close, printable, with backslash pairs; the delimiters themselves not inside. */
static int
delimited(const char *s, size_t n, char open, char close)
{
    if (n < 2 || s[0] != open || s[n - 1] != close)
        return 0;
    for (size_t i = 1; i + 1 < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' && i + 2 < n)
            i++;
        else if (c < 0x20 || c == 0x7f || c == '\\' || c == (unsigned char)open ||
                 c == (unsigned char)close)
            return 0;
    }
    return 1;
}

/* SAML core 8.3.2: an emailAddress NameID is an RFC 2822 addr-spec, local-part@domain, with no
 * display name, comment or angle brackets (surrounding whitespace is the grammar's CFWS). */
static int
addr_spec(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
        n--;
    while (n > 0 && strchr(" \t\r\n", *s) != NULL)
        s++, n--;
    const char *at = NULL;
    for (const char *p = s; p < s + n; p++)
        if (*p == '@')
            at = p;
    if (at == NULL)
        return 0;
    size_t local = (size_t)(at - s), domain = n - local - 1;
    return (dot_atom(s, local) || delimited(s, local, '"', '"')) &&
           (dot_atom(at + 1, domain) || delimited(at + 1, domain, '[', ']'));
}

/* Characters (not bytes) of UTF-8 text. */
static size_t
utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* SAML core 8.3: the NameID's value must be what its Format says; 2.2.2 and 8.3.7-8.3.8: the
 * qualifiers of a persistent or transient NameID name the IdP that made it and the SP it was
 * made for (we are in no affiliation: our entity ID), and an SPNameQualifier of any format is
 * the SP the name is for. */
static enum sp_reason
check_name_id(LassoSaml2NameID *id, const char *idp, const struct sp_expect *e,
              struct sp_verdict *v)
{
    const char *f = id->Format ? id->Format : "";
    int persistent = strcmp(f, NAMEID_PERSISTENT) == 0;
    int pairwise = persistent || strcmp(f, NAMEID_TRANSIENT) == 0;
    if (strcmp(f, NAMEID_ENTITY) == 0)
        return fail(v, SP_ERR_NAMEID_FORMAT,
                    "the NameID has the entity format: it names a SAML provider, not a person "
                    "(SAML core 8.3.6)");
    if (strcmp(f, NAMEID_EMAIL) == 0 && !addr_spec(id->content))
        return fail(v, SP_ERR_NAMEID_FORMAT,
                    "the emailAddress NameID \"%.200s\" is not an addr-spec local-part@domain "
                    "(SAML core 8.3.2)",
                    id->content);
    size_t chars = pairwise ? utf8_chars(id->content) : 0;
    if (chars > 256)
        return fail(v, SP_ERR_NAMEID_FORMAT,
                    "the %s NameID is %zu characters long; at most 256 (SAML core 8.3.%d)",
                    persistent ? "persistent" : "transient", chars, persistent ? 7 : 8);
    if (pairwise && id->NameQualifier != NULL && strcmp(id->NameQualifier, idp) != 0)
        return fail(v, SP_ERR_NAMEID_QUALIFIER,
                    "the NameID's NameQualifier is \"%.200s\", not the asserting IdP \"%.200s\" "
                    "(SAML core 8.3.7)",
                    id->NameQualifier, idp);
    if (id->SPNameQualifier != NULL && strcmp(id->SPNameQualifier, e->entity_id) != 0)
        return fail(v, SP_ERR_NAMEID_QUALIFIER,
                    "the NameID's SPNameQualifier is \"%.200s\", not our entity ID \"%.200s\" "
                    "(SAML core 2.2.2, 8.3.7)",
                    id->SPNameQualifier, e->entity_id);
    return SP_OK;
}

/* Profiles 4.1.4.2-4.1.4.3 on one bearer SubjectConfirmationData: Recipient is our ACS URL,
 * NotOnOrAfter present and not passed, no NotBefore, InResponseTo the Response's. *until gets
 * its NotOnOrAfter. */
static enum sp_reason
check_bearer(xmlNodePtr d, const char *response_irt, const struct sp_expect *e,
             struct sp_verdict *v, time_t *until)
{
    char *recipient = plain_attr(d, "Recipient"), *nb = plain_attr(d, "NotBefore");
    char *nooa = plain_attr(d, "NotOnOrAfter"), *irt = plain_attr(d, "InResponseTo");
    enum sp_reason r = SP_OK;
    time_t t = 0;
    if (recipient == NULL || strcmp(recipient, e->acs_url) != 0)
        r = fail(v, SP_ERR_RECIPIENT, "Recipient is \"%.200s\", expected \"%.200s\"",
                 recipient ? recipient : "", e->acs_url);
    else if (nb != NULL)
        r = fail(v, SP_ERR_BEARER_NOT_BEFORE,
                 "the bearer SubjectConfirmationData has NotBefore \"%.40s\"; the profile "
                 "forbids it (profiles 4.1.4.2)",
                 nb);
    else if (nooa == NULL)
        r = fail(v, SP_ERR_NO_BEARER, "SubjectConfirmationData has no NotOnOrAfter");
    else if (sp_time_parse(nooa, &t) != 0)
        r = fail(v, SP_ERR_MALFORMED,
                 "SubjectConfirmationData NotOnOrAfter \"%.40s\" is not a time", nooa);
    else if (e->now - e->skew_seconds >= t)
        r = fail(v, SP_ERR_EXPIRED,
                 "SubjectConfirmationData NotOnOrAfter passed %lld s ago (allowed skew %ld s)",
                 (long long)(e->now - t), e->skew_seconds);
    else if ((irt != NULL) != (response_irt != NULL) ||
             (irt != NULL && strcmp(irt, response_irt) != 0))
        r = fail(v, SP_ERR_IN_RESPONSE_TO,
                 "InResponseTo of the Response (%.100s) and of the SubjectConfirmationData "
                 "(%.100s) differ",
                 response_irt ? response_irt : "none", irt ? irt : "none");
    *until = t;
    xmlFree(recipient);
    xmlFree(nb);
    xmlFree(nooa);
    xmlFree(irt);
    return r;
}

/* Profiles 4.1.4.2: a bearer SubjectConfirmation whose data holds (check_bearer). lasso 2.8
 * reads a Subject with one SubjectConfirmation only (with more it drops the Subject: see
 * lasso_reason), so that one is it. Its NotOnOrAfter bounds how long the assertion ID stays in
 * the replay cache. */
static enum sp_reason
check_confirmation(xmlNodePtr subject, const char *response_irt, const struct sp_expect *e,
                   struct sp_verdict *v)
{
    xmlNodePtr sc = child_el(subject, NULL, SP_NS_SAML, "SubjectConfirmation");
    char *method = sc ? plain_attr(sc, "Method") : NULL;
    int bearer = method != NULL && strcmp(method, BEARER) == 0;
    xmlFree(method);
    xmlNodePtr d = bearer ? child_el(sc, NULL, SP_NS_SAML, "SubjectConfirmationData") : NULL;
    if (d == NULL)
        return fail(v, SP_ERR_NO_BEARER,
                    "no bearer SubjectConfirmation with "
                    "SubjectConfirmationData");
    time_t until = 0;
    enum sp_reason r = check_bearer(d, response_irt, e, v, &until);
    if (r == SP_OK && (v->not_on_or_after == 0 || until < v->not_on_or_after))
        v->not_on_or_after = until;
    return r;
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
    const char *idp = a->Issuer && a->Issuer->content ? a->Issuer->content : v->issuer;
    enum sp_reason r = check_name_id(s->NameID, idp, e, v);
    if (r != SP_OK)
        return r;
    xmlNodePtr n_a = lasso_node_get_original_xmlnode(LASSO_NODE(a));
    xmlNodePtr subject = n_a ? child_el(n_a, NULL, SP_NS_SAML, "Subject") : NULL;
    if (subject == NULL)
        return fail(v, SP_ERR_INTERNAL, "the assertion's XML is not available");
    return check_confirmation(subject, response_irt, e, v);
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

static enum sp_reason
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
    /* SAML core 2.7.2.2: how the IdP authenticated the person (forward-auth's mfa rule). */
    for (GList *l = a->AuthnStatement; l; l = l->next) {
        LassoSaml2AuthnStatement *as = l->data;
        if (LASSO_IS_SAML2_AUTHN_STATEMENT(as) && LASSO_IS_SAML2_AUTHN_CONTEXT(as->AuthnContext) &&
            as->AuthnContext->AuthnContextClassRef != NULL) {
            copy(v->authn_context, sizeof v->authn_context, as->AuthnContext->AuthnContextClassRef);
            break;
        }
    }
    for (GList *l = a->AuthnStatement; l; l = l->next) {
        LassoSaml2AuthnStatement *as = l->data;
        if (LASSO_IS_SAML2_AUTHN_STATEMENT(as) && as->SessionIndex != NULL) {
            /* Never cut: single logout names the session by it. */
            size_t n = strlen(as->SessionIndex);
            if (n >= sizeof v->session_index)
                return fail(v, SP_ERR_IDENTITY,
                            "the SessionIndex is %zu bytes long; at most %zu are accepted", n,
                            sizeof v->session_index - 1);
            copy(v->session_index, sizeof v->session_index, as->SessionIndex);
            break;
        }
    }
    return SP_OK;
}

/* SAML core 3.2.2 / 2.3.3: IssueInstant is required on a Response and an Assertion. Not in the
 * future beyond the skew; not older than the configured maximum age (plus the skew): a response
 * is delivered at once through the browser, an old one was kept. */
static enum sp_reason
check_issue_instant(struct sp_verdict *v, const char *what, const char *instant,
                    const struct sp_expect *e)
{
    time_t t;
    if (instant == NULL || sp_time_parse(instant, &t) != 0)
        return fail(v, SP_ERR_MALFORMED, "the %s's IssueInstant \"%.40s\" is missing or not a time",
                    what, instant ? instant : "");
    if (t - e->now > e->skew_seconds)
        return fail(v, SP_ERR_NOT_YET_VALID,
                    "the %s's IssueInstant is %lld s in the future (allowed skew %ld s)", what,
                    (long long)(t - e->now), e->skew_seconds);
    if (e->max_age_seconds > 0 && e->now - t > e->max_age_seconds + e->skew_seconds)
        return fail(v, SP_ERR_EXPIRED,
                    "the %s was issued %lld s ago (max_response_age_seconds %ld, allowed skew "
                    "%ld s)",
                    what, (long long)(e->now - t), e->max_age_seconds, e->skew_seconds);
    return SP_OK;
}

/* SAML core 3.2.2 / 2.3.3: Version="2.0", an ID and an IssueInstant on the Response and the
 * Assertion (lasso reads documents without them). */
static enum sp_reason
check_envelope(LassoSamlp2StatusResponse *sr, LassoSaml2Assertion *a, const struct sp_expect *e,
               struct sp_verdict *v)
{
    if (sr->Version == NULL || strcmp(sr->Version, "2.0") != 0)
        return fail(v, SP_ERR_MALFORMED, "the Response's Version is \"%.20s\", not 2.0",
                    sr->Version ? sr->Version : "");
    if (a->Version == NULL || strcmp(a->Version, "2.0") != 0)
        return fail(v, SP_ERR_MALFORMED, "the Assertion's Version is \"%.20s\", not 2.0",
                    a->Version ? a->Version : "");
    if (sr->ID == NULL || sr->ID[0] == '\0')
        return fail(v, SP_ERR_MALFORMED, "the Response has no ID");
    if (a->ID == NULL || a->ID[0] == '\0')
        return fail(v, SP_ERR_MALFORMED, "the assertion has no ID");
    enum sp_reason r = check_issue_instant(v, "Response", sr->IssueInstant, e);
    return r != SP_OK ? r : check_issue_instant(v, "Assertion", a->IssueInstant, e);
}

/* The SHA-1 policy: refused unless the IdP is allowed it. */
static enum sp_reason
check_sha1(int sha1, const struct sp_expect *e, struct sp_verdict *v)
{
    if (sha1 && (e->allow_sha1 == NULL || !e->allow_sha1(v->issuer, e->ctx)))
        return fail(v, SP_ERR_SHA1,
                    "the response is signed with RSA-SHA1/SHA-1, not allowed "
                    "for this IdP");
    return SP_OK;
}

/* What an EncryptedAssertion held was out of inspect()'s sight: the same checks on what lasso
 * decrypted (the algorithms of its signature, where the signature sits, assertions inside). */
static enum sp_reason
inspect_decrypted(LassoSaml2Assertion *a, const struct sp_expect *e, struct sp_verdict *v)
{
    xmlNodePtr n = lasso_node_get_original_xmlnode(LASSO_NODE(a));
    if (n == NULL)
        return fail(v, SP_ERR_INTERNAL, "the decrypted assertion's XML is not available");
    int at = signature_misplaced(n);
    if (at != 0)
        return fail(v, SP_ERR_MALFORMED,
                    "the decrypted Assertion's ds:Signature is its child element %d; the schema "
                    "puts it right after the Issuer (SAML core 2.3.3)",
                    at);
    int sha1 = 0;
    if (walk(n, &sha1) != 1)
        return fail(v, SP_ERR_WRAPPING, "an Assertion is nested inside the encrypted one");
    return check_sha1(sha1, e, v);
}

static enum sp_reason
check_assertion(LassoLogin *login, const struct shape *sh, const struct sp_expect *e,
                struct sp_verdict *v)
{
    LassoSamlp2Response *resp = LASSO_SAMLP2_RESPONSE(LASSO_PROFILE(login)->response);
    LassoSamlp2StatusResponse *sr = LASSO_SAMLP2_STATUS_RESPONSE(resp);
    copy(v->response_id, sizeof v->response_id, sr->ID);
    copy(v->in_response_to, sizeof v->in_response_to, sr->InResponseTo);
    time_t issued; /* the IdP's clock, for its admins (the skew the SAML log records) */
    if (sr->IssueInstant != NULL && sp_time_parse(sr->IssueInstant, &issued) == 0)
        v->issue_instant = issued;
    if (sr->Destination != NULL && strcmp(sr->Destination, e->acs_url) != 0)
        return fail(v, SP_ERR_DESTINATION, "Destination is \"%.200s\", expected \"%.200s\"",
                    sr->Destination, e->acs_url);
    /* Bindings 3.5.5.2: a signed Response MUST name where it was sent (an unsigned one may
     * leave Destination out, as PingFederate does). */
    if (sr->Destination == NULL && sh->response_signed)
        return fail(v, SP_ERR_DESTINATION,
                    "the Response is signed but has no Destination (bindings 3.5.5.2)");
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
    if (sh->encrypted > 0 && (r = inspect_decrypted(a, e, v)) != SP_OK)
        goto out;
    r = check_conditions(a, e, v);
    if (r == SP_OK)
        r = check_subject(a, sr->InResponseTo, e, v);
    if (r == SP_OK)
        r = check_authn_statement(a, e, v);
    if (r == SP_OK)
        r = check_envelope(sr, a, e, v);
    if (r == SP_OK)
        r = collect_attributes(a, v);
out:
    g_object_unref(node);
    return r;
}

/* The cost bound (sp_cost.h), before any parser runs on the document. */
static enum sp_reason
within_cost(const char *xml, size_t len, struct sp_verdict *v)
{
    char why[160];
    if (sp_cost_check(xml, len, NULL, why, sizeof why) != 0)
        return fail(v, SP_ERR_TOO_LARGE, "%s", why);
    return SP_OK;
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
    v->xml_size = xml_len;
    struct shape sh;
    enum sp_reason r = within_cost(xml, xml_len, v);
    if (r == SP_OK)
        r = inspect(xml, xml_len, v, &sh);
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
    if (check_sha1(sh.sha1, e, v) != SP_OK)
        return v->reason;
    /* The issuer's provider, built or checked now if need be (sp_state.c); lasso finds it by
     * the same Issuer and refuses an Assertion whose Issuer differs. */
    int unknown = 0;
    char state_err[256];
    LassoServer *server = sp_state_lock(sp, v->issuer, &unknown, state_err, sizeof state_err);
    if (server == NULL)
        return unknown ? fail(v, SP_ERR_UNKNOWN_ISSUER, "the issuer is not registered")
                       : fail(v, SP_ERR_INTERNAL, "%s", state_err);
    LassoLogin *login = lasso_login_new(server);
    if (login == NULL) {
        sp_state_unlock(sp);
        return fail(v, SP_ERR_INTERNAL, "out of memory");
    }
    /* A copy: lasso wants a mutable, NUL-terminated message. */
    char *msg = strndup(b64, len);
    int rc = msg ? lasso_login_process_authn_response_msg(login, msg) : -1;
    free(msg);
    if (rc != 0) {
        const char *why = NULL;
        r = lasso_reason(rc, &sh, &why);
        fail(v, r, "%s: %s (lasso %d)", why, lasso_strerror(rc), rc);
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
        v->signature_verified = 1;
        r = check_assertion(login, &sh, e, v);
    }
    g_object_unref(login);
    sp_state_unlock(sp);
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
