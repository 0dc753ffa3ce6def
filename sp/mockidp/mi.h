/* sp/mockidp/mi.h: bin/mock-idp, a SAML 2.0 IdP for test suites that can misbehave on purpose.
 * Types shared by its modules: the SP it talks to, the users it signs in, the shape of a response
 * (profile, signing, encryption) and the deliberate faults. */
#ifndef GH_SP_MOCKIDP_MI_H
#define GH_SP_MOCKIDP_MI_H

#include <stddef.h>
#include <time.h>

#define MI_MAX_ATTRS 32
#define MI_MAX_VALUES 32
#define MI_MAX_USERS 256
#define MI_ID_LEN 34 /* "_" + 32 hex + NUL */

#define MI_NS_SAML "urn:oasis:names:tc:SAML:2.0:assertion"
#define MI_NS_SAMLP "urn:oasis:names:tc:SAML:2.0:protocol"
#define MI_NAMEID_EMAIL "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
#define MI_NAMEID_UNSPECIFIED "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
#define MI_NAMEID_TRANSIENT "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
#define MI_NAMEID_PERSISTENT "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"

/* ---- faults and response options ---- */

enum mi_sign { MI_SIGN_ASSERTION, MI_SIGN_RESPONSE, MI_SIGN_BOTH, MI_SIGN_NONE };
enum mi_alg { MI_ALG_SHA256, MI_ALG_SHA1, MI_ALG_SHA512 };
enum mi_status {
    MI_STATUS_SUCCESS,
    MI_STATUS_REQUESTER,
    MI_STATUS_RESPONDER,
    MI_STATUS_AUTHN_FAILED
};

/* Each fault changes exactly the element it names; NULL/0 = no fault. Strings are borrowed. */
struct mi_faults {
    int expired;             /* Conditions and SubjectConfirmationData NotOnOrAfter in the past */
    int not_yet_valid;       /* Conditions NotBefore in the future */
    const char *audience;    /* Audience */
    const char *recipient;   /* SubjectConfirmationData Recipient */
    const char *destination; /* Response Destination */
    const char *issuer;      /* Issuer of the Response and of the Assertion */
    enum mi_status status;   /* Response Status */
    int wrong_key;           /* signed with a key that is not in the metadata */
    int tamper_after_sign;   /* NameID altered after signing */
    int unsigned_;           /* no signature at all */
    const char *replay_id;   /* the Assertion ID */
};

struct mi_attr {
    const char *name;
    const char *values[MI_MAX_VALUES];
    int n_values;
};

/* Extra attributes (--attr NAME=VALUE, repeatable; a repeated name adds a value). */
struct mi_attrs {
    struct mi_attr a[MI_MAX_ATTRS];
    int n;
};

/* Adds value to the attribute name (borrowed strings). -1 when full. */
int mi_attrs_add(struct mi_attrs *as, const char *name, const char *value);

/* ---- profiles: how real IdPs name things ---- */

struct mi_user;

struct mi_profile {
    const char *name;
    const char *assertion_prefix; /* "saml2", "saml" or "" (default namespace, like ADFS) */
    const char *name_id_format;   /* NULL: NameID without a Format attribute (Google) */
    const char *name_format;      /* Attribute NameFormat, NULL for none */
    const char *email, *given_name, *surname, *display_name, *groups; /* attribute names */
    const char *email_friendly, *given_friendly, *surname_friendly, *display_friendly,
        *groups_friendly;                    /* FriendlyName (Shibboleth), NULL for none */
    const char *extra_name, *extra_friendly; /* one more attribute carrying the email (UPN, eppn) */
};

/* The profile named name (okta, adfs, entra, google, shibboleth, plain), or NULL. */
const struct mi_profile *mi_profile_find(const char *name);
/* Names of every profile, separated by '|', for usage messages. */
const char *mi_profile_names(void);
/* The attributes user carries in profile p, into out (strings borrowed from user and p). */
void mi_profile_attrs(const struct mi_profile *p, const struct mi_user *user, struct mi_attrs *out);
/* The FriendlyName the profile gives the attribute name, or NULL. */
const char *mi_profile_friendly(const struct mi_profile *p, const char *name);

/* ---- users ---- */

struct mi_user {
    const char *email;
    const char *name;
    const char *given_name;
    const char *surname;
    const char *groups[MI_MAX_VALUES];
    int n_groups;
    struct mi_attrs attrs; /* the user's own attributes, sent in every profile */
};

struct mi_users {
    struct mi_user u[MI_MAX_USERS];
    int n;
    struct _GStringChunk *strings; /* owns every string of every user */
};

/* Reads a JSON list of {"email", "name", "given_name", "surname", "groups": [], "attributes": {}}.
 * NULL path = no file. 0, or -1 with a message. */
int mi_users_load(struct mi_users *us, const char *path, char *err, size_t errlen);
/* The user with this e-mail (case-insensitive), or one made up from the e-mail when it is not in
 * the file (a name from its local part) and create is set. NULL when not found / invalid. */
const struct mi_user *mi_users_get(struct mi_users *us, const char *email, int create);
void mi_users_free(struct mi_users *us);

/* ---- the SP, from its metadata ---- */

struct mi_sp;

/* Reads the SP's metadata file: entityID, ACS (HTTP-POST), SLO, AuthnRequestsSigned, signing
 * and encryption certificates. NULL with a message. */
struct mi_sp *mi_sp_load(const char *path, char *err, size_t errlen);
void mi_sp_free(struct mi_sp *sp);
const char *mi_sp_entity_id(const struct mi_sp *sp);
const char *mi_sp_acs_url(const struct mi_sp *sp);
/* The SP's SingleLogoutService for HTTP-Redirect, or NULL. */
const char *mi_sp_slo_url(const struct mi_sp *sp);
/* The SP's SingleLogoutService for HTTP-POST, or NULL. */
const char *mi_sp_slo_post_url(const struct mi_sp *sp);
/* Whether url is one of the SP's AssertionConsumerService locations. */
int mi_sp_has_acs(const struct mi_sp *sp, const char *url);
int mi_sp_wants_signed_requests(const struct mi_sp *sp);
/* The PEM of the SP's encryption certificate (or its only certificate), or NULL. */
const char *mi_sp_encryption_cert(const struct mi_sp *sp);

/* A SAML message received from the SP, decoded, its Issuer and signature checked. */
enum mi_msg_kind { MI_MSG_AUTHN_REQUEST, MI_MSG_LOGOUT_REQUEST, MI_MSG_LOGOUT_RESPONSE };

struct mi_msg {
    char *id;             /* every string is malloc'd, NULL when absent */
    char *acs_url;        /* AuthnRequest AssertionConsumerServiceURL */
    char *name_id;        /* AuthnRequest Subject/NameID (the login hint); LogoutRequest NameID */
    char *session_index;  /* LogoutRequest SessionIndex */
    char *in_response_to; /* LogoutResponse */
    char *status;         /* LogoutResponse top-level StatusCode */
    int signed_;          /* it carried a signature, and the signature verified */
};

/* Decodes a message of kind from the HTTP-Redirect binding (msg: the query string exactly as
 * received, is_query set) or the HTTP-POST binding (msg: the base64 form field). A signature is
 * verified against the SP's metadata certificate, and required when the SP's metadata says
 * AuthnRequestsSigned="true". 0, or -1 with a message for a 400 page. */
int mi_sp_receive(const struct mi_sp *sp, enum mi_msg_kind kind, const char *msg, int is_query,
                  struct mi_msg *m, char *err, size_t errlen);
void mi_msg_free(struct mi_msg *m);

/* ---- the IdP: identity, keys, metadata ---- */

struct mi_idp {
    char *entity_id; /* {base_url}/metadata unless given */
    char *base_url;
    char *key_file, *cert_file;
    char *wrong_key_file, *wrong_cert_file; /* for --wrong-key */
    char *cert_pem;
    int post_only; /* --post-only: metadata lists only HTTP-POST endpoints; logout messages to
                    * the SP go by POST (like OneLogin's sample metadata) */
};

/* Makes the key pairs when absent (state_dir/idp-key.pem, idp-cert.pem, wrong-key.pem...),
 * and reads the certificate. key/cert: given files, or NULL for the state dir's. 0 or -1. */
int mi_idp_init(struct mi_idp *idp, const char *base_url, const char *entity_id,
                const char *state_dir, const char *key, const char *cert, char *err, size_t errlen);
void mi_idp_free(struct mi_idp *idp);
/* IdP metadata: entityID, signing certificate, SSO (Redirect and POST), SLO. Caller frees. */
char *mi_metadata_xml(const struct mi_idp *idp);

/* ---- responses ---- */

struct mi_mint {
    const struct mi_user *user;
    const struct mi_profile *profile;
    const struct mi_attrs *extra; /* --attr */
    const char *name_id;          /* NULL: from the profile (email, or a transient ID) */
    const char *name_id_format;   /* NULL: the profile's */
    const char *acs_url;          /* Destination and Recipient; NULL: the SP's ACS */
    const char *in_response_to;   /* NULL for IdP-initiated */
    const char *session_index;    /* NULL: a new one */
    const char *authn_context;    /* AuthnContextClassRef; NULL: PasswordProtectedTransport */
    enum mi_sign sign;
    enum mi_alg alg;
    int encrypt;
    long lifetime; /* seconds of validity */
    time_t now;
    struct mi_faults faults;
};

/* What a minted response said, for the SLO records. */
struct mi_issued {
    char name_id[512];
    char name_id_format[256];
    char session_index[MI_ID_LEN];
    char assertion_id[256];
};

/* Builds, signs (and encrypts) a Response; *b64_out is the HTTP-POST SAMLResponse (caller frees
 * with free). 0, or -1 with a message. */
int mi_mint_response(const struct mi_idp *idp, const struct mi_sp *sp, const struct mi_mint *m,
                     char **b64_out, struct mi_issued *issued, char *err, size_t errlen);

/* ---- XML signing and encryption (xmlsec) ---- */

struct _xmlDoc;
struct _xmlNode;

/* Signs node (its ID attribute is id) with an enveloped exc-c14n signature placed after its
 * Issuer, with the certificate in KeyInfo. 0 or -1. */
int mi_sign_node(struct _xmlDoc *doc, struct _xmlNode *node, const char *key_file,
                 const char *cert_file, enum mi_alg alg, char *err, size_t errlen);
/* Replaces the Assertion node by an EncryptedAssertion (AES-256-CBC, key wrapped with RSA-OAEP
 * to cert_pem). 0 or -1. */
int mi_encrypt_assertion(struct _xmlDoc *doc, struct _xmlNode *assertion, const char *cert_pem,
                         char *err, size_t errlen);

/* ---- single logout: messages to the SP over HTTP-Redirect, signed with RSA-SHA256 ---- */

/* The URL that carries a LogoutResponse (Success) to the SP's SLO endpoint, answering request
 * in_response_to. Caller frees. NULL with a message. */
char *mi_slo_response_url(const struct mi_idp *idp, const struct mi_sp *sp,
                          const char *in_response_to, const char *relay_state, char *err,
                          size_t errlen);
/* The URL that carries a LogoutRequest for a session we issued to the SP's SLO endpoint;
 * id_out receives the request's ID. Caller frees. NULL with a message. */
char *mi_slo_request_url(const struct mi_idp *idp, const struct mi_sp *sp,
                         const struct mi_issued *session, const char *relay_state,
                         char id_out[MI_ID_LEN], char *err, size_t errlen);

/* The same messages for the HTTP-POST binding (SAML bindings 3.5): signed with an enveloped
 * XML signature, base64 into *b64_out (caller frees), to post to the SP's POST SLO endpoint
 * (*url_out, borrowed). 0, or -1 with a message. */
int mi_slo_response_post(const struct mi_idp *idp, const struct mi_sp *sp,
                         const char *in_response_to, char **b64_out, const char **url_out,
                         char *err, size_t errlen);
int mi_slo_request_post(const struct mi_idp *idp, const struct mi_sp *sp,
                        const struct mi_issued *session, char id_out[MI_ID_LEN], char **b64_out,
                        const char **url_out, char *err, size_t errlen);

/* ---- serve ---- */

struct mi_serve_conf {
    const char *host;
    int port;
    const struct mi_idp *idp;
    const struct mi_sp *sp;
    struct mi_users *users;
    const char *auto_login;  /* sign this user in without a page, or NULL */
    struct mi_mint defaults; /* profile, signing, encryption, lifetime, faults for every response */
};

/* Serves /metadata, /sso, /sso/login, /start, /slo and /logout-sp until SIGINT or SIGTERM.
 * 0, or -1 with a message when it cannot start. */
int mi_serve(const struct mi_serve_conf *c, char *err, size_t errlen);

/* ---- small helpers (mi_util.c) ---- */

/* A fresh SAML ID: "_" and 32 hex digits. */
void mi_new_id(char out[MI_ID_LEN]);
/* xsd:dateTime in UTC, "2024-01-02T03:04:05Z". */
void mi_time_iso(time_t t, char out[32]);
/* base64 of len bytes, without newlines (malloc), or NULL. */
char *mi_base64(const void *data, size_t len);
/* "Requester", "Responder", "AuthnFailed" (or "Success"). 0, or -1 when unknown. */
int mi_status_parse(const char *s, enum mi_status *out);

#endif
