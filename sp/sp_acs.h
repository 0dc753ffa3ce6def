/* sp/sp_acs.h: the Assertion Consumer Service's checks. A SAMLResponse (base64, HTTP-POST
 * binding) goes in; a verdict with its reason code and the asserted identity comes out. lasso
 * verifies signatures, the issuer, status and decryption; this file adds what lasso does not
 * (docs/lasso-notes.md): time windows, audience, recipient, destination, bearer confirmation, SHA-1
 * policy, assertion count. InResponseTo bookkeeping and replay need the store: auth/ does them
 * with the values the verdict carries. */
#ifndef GH_SP_SP_ACS_H
#define GH_SP_SP_ACS_H

#include <stddef.h>
#include <time.h>

/* Bounds on what is accepted at all. The largest real response in tests/fixtures/idp-samples
 * is 14 KB (Shibboleth, encrypted; Okta's ~7.6 KB): 384 KiB of base64 (~280 KiB of XML, line
 * breaks included) leaves ample room for big group lists. See also sp_cost.h. */
#define SP_MAX_RESPONSE_B64 (384 * 1024)
#define SP_MAX_ATTRS 64
#define SP_MAX_VALUES 64
#define SP_LOG_XML_MAX (64 * 1024)

enum sp_reason {
    SP_OK = 0,
    SP_ERR_TOO_LARGE,
    SP_ERR_MALFORMED,
    SP_ERR_DOCTYPE,
    SP_ERR_UNKNOWN_ISSUER,
    SP_ERR_STATUS,
    SP_ERR_UNSIGNED,
    SP_ERR_SIGNATURE,
    SP_ERR_SHA1,
    SP_ERR_ASSERTION_COUNT,
    SP_ERR_WRAPPING,
    SP_ERR_DECRYPT,
    SP_ERR_AUDIENCE,
    SP_ERR_NO_CONDITIONS,
    SP_ERR_NO_AUDIENCE,
    SP_ERR_NO_AUTHN_STATEMENT,
    SP_ERR_SESSION_ENDED,
    SP_ERR_EXPIRED,
    SP_ERR_NOT_YET_VALID,
    SP_ERR_CONDITION,
    SP_ERR_NO_BEARER,
    SP_ERR_RECIPIENT,
    SP_ERR_DESTINATION,
    SP_ERR_IN_RESPONSE_TO,
    SP_ERR_NO_NAMEID,
    SP_ERR_ISSUER_MISMATCH,
    SP_ERR_NAMEID_FORMAT,     /* the NameID's value does not fit its Format (SAML core 8.3) */
    SP_ERR_NAMEID_QUALIFIER,  /* NameQualifier/SPNameQualifier name another IdP or SP */
    SP_ERR_BEARER_NOT_BEFORE, /* bearer SubjectConfirmationData with NotBefore (profiles 4.1.4.2) */
    /* decided by auth/ with the store */
    SP_ERR_UNSOLICITED,
    SP_ERR_REPLAY,
    SP_ERR_DOMAIN,
    SP_ERR_ACCOUNT,
    SP_ERR_IDENTITY, /* a NameID or attribute value over its stored bound, or not UTF-8 text */
    SP_ERR_INTERNAL,
    SP_REASON_COUNT
};

struct sp_reason_info {
    const char *code;     /* stable, for logs and the API: "audience_mismatch" */
    int http_status;      /* what the ACS answers */
    const char *headline; /* what the person sees, naming the class of failure */
};

/* The one table mapping each reason to its code, status and page text. */
const struct sp_reason_info *sp_reason_info(enum sp_reason r);

struct sp_attr {
    char *name;
    char *friendly_name;
    char *values[SP_MAX_VALUES];
    int n_values;
};

struct sp_verdict {
    enum sp_reason reason;
    char detail[512]; /* for admins: what exactly failed (e.g. the skew observed) */
    char issuer[512];
    char response_id[256];
    char in_response_to[256];
    char assertion_id[256];
    char name_id[512];
    char name_id_format[256];
    char session_index[256];
    char authn_context[256];        /* the first AuthnStatement's AuthnContextClassRef, or "" */
    time_t not_on_or_after;         /* keep the assertion ID for replay detection until then */
    time_t session_not_on_or_after; /* AuthnStatement/@SessionNotOnOrAfter: the session ends
                                       then (0 = the IdP set no end) */
    struct sp_attr attrs[SP_MAX_ATTRS];
    int n_attrs;
    char *xml;       /* the decoded response, at most SP_LOG_XML_MAX bytes (malloc), or NULL */
    size_t xml_size; /* bytes of the whole decoded response */
    int signature_verified; /* lasso verified the response's signature(s) */
    time_t issue_instant;   /* the Response's IssueInstant (0 = not read): the IdP's clock */
};

struct sp;

/* Builds the SAML state: our metadata and key pair; IdPs come from sp_set_idp_source when
 * used, or are added with sp_add_idp. Costs ~60-250 ms: build once and share it between
 * threads (sp_state.c locks what changes). NULL with a message. */
struct sp *sp_new(const char *sp_metadata, const char *key_file, const char *cert_file, char *err,
                  size_t errlen);
/* As sp_new, with the key and certificate as PEM text (the key opened from its sealed file). */
struct sp *sp_new_from_pem(const char *sp_metadata, const char *key_pem, const char *cert_pem,
                           char *err, size_t errlen);
/* Adds an IdP for good (never checked again nor evicted): for a state built once for a task
 * (gatehousectl, tests, benchmarks). 0, or -1 with a message. */
int sp_add_idp(struct sp *sp, const char *idp_metadata, char *err, size_t errlen);
void sp_free(struct sp *sp);

/* Where the state gets a registered IdP's metadata (its EntityDescriptor) when a message names
 * the IdP: 0 and *xml_out (malloc; the caller frees), 1 when entity_id is not registered, -1 on
 * error. Called on any thread using the state, without its locks held. */
typedef int (*sp_idp_metadata_fn)(const char *entity_id, char **xml_out, void *ctx);

/* The most IdP providers a state keeps built (~3 KiB of lasso objects and keys each, measured:
 * ~6 MiB at the bound): the least recently used goes first. */
#define SP_MAX_IDP_PROVIDERS 2000

/* Has the state build each IdP's provider when a message first names it, from fn, keeping at
 * most max_idps (0: SP_MAX_IDP_PROVIDERS). Call before threads share sp. */
void sp_set_idp_source(struct sp *sp, sp_idp_metadata_fn fn, void *ctx, size_t max_idps);
/* Announces the registry's version (a counter bumped at each change; < 0 is ignored): each
 * provider confirmed at another version has its metadata read and compared at its next use. */
void sp_idps_version(struct sp *sp, long long version);

/* What the state holds and has done, for metrics and the benchmark. */
struct sp_idp_stats {
    size_t loaded, max;    /* providers built and kept; the bound */
    unsigned long built;   /* providers built since start */
    unsigned long evicted; /* dropped as least recently used */
    unsigned long checked; /* registry reads (first uses and checks after a change) */
};
void sp_idp_stats(const struct sp *sp, struct sp_idp_stats *out);

/* A SAML message the browser carries to the other party. HTTP-Redirect: url is the whole
 * signed URL. HTTP-POST (SAML bindings 3.5): url is the form's action and body the base64 of
 * the message, signed with an enveloped XML signature, for the SAMLRequest/SAMLResponse field. */
struct sp_out {
    int post;
    char *url;  /* malloc */
    char *body; /* malloc; NULL for Redirect */
};
void sp_out_free(struct sp_out *o);

/* A signed AuthnRequest to the IdP over HTTP-Redirect, or HTTP-POST when post is set (for IdPs
 * whose metadata offers only POST). Its NameIDPolicy has AllowCreate and name_id_format as
 * Format (a URI; NULL = no Format). id_out receives the request ID. 0 (free out with
 * sp_out_free) or -1 with a message. */
int sp_authn_request(const struct sp *sp, const char *idp_entity_id, const char *relay_state,
                     const char *name_id_format, int post, struct sp_out *out, char *id_out,
                     size_t idlen, char *err, size_t errlen);

/* A signed AuthnRequest to the IdP over HTTP-Redirect: *url_out (caller frees) is where to send
 * the browser; id_out receives the request ID, which the response's InResponseTo must carry.
 * relay_state is an opaque handle. 0 or -1 with a message. */
int sp_authn_redirect(const struct sp *sp, const char *idp_entity_id, const char *relay_state,
                      char **url_out, char *id_out, size_t idlen, char *err, size_t errlen);

/* A logout we start: the SAML session to end at the IdP. */
struct sp_logout {
    const char *idp;
    const char *name_id;
    const char *name_id_format; /* "" = unspecified */
    const char *session_index;  /* "" = none */
    const char *relay_state;
};

/* A signed LogoutRequest (RSA-SHA256) over HTTP-Redirect to the IdP's SLO endpoint: *url_out
 * (caller frees) is where to send the browser. -1 with a message (e.g. the IdP has no Redirect
 * SLO endpoint). */
int sp_logout_redirect(const struct sp *sp, const struct sp_logout *l, char **url_out, char *id_out,
                       size_t idlen, char *err, size_t errlen);
/* The same LogoutRequest over HTTP-Redirect, or HTTP-POST when post is set (enveloped XML
 * signature; for IdPs whose metadata offers only POST). 0 (free out) or -1 with a message. */
int sp_logout_request(const struct sp *sp, const struct sp_logout *l, int post, struct sp_out *out,
                      char *id_out, size_t idlen, char *err, size_t errlen);

/* What a logout message from an IdP must match (SAML core 3.2.1-3.2.2, 3.7.1; bindings
 * 3.4.5.2, 3.5.5.2: a signed message names where it was sent). */
struct sp_slo_expect {
    const char *slo_url; /* our SingleLogoutService: the Destination */
    long skew_seconds;
    long max_age_seconds; /* the oldest IssueInstant accepted (plus the skew) */
    time_t now;
};

/* Why a logout message from an IdP is refused: each has its code in the SAML log. */
enum sp_slo_reason {
    SP_SLO_OK = 0,
    SP_SLO_MALFORMED,      /* does not decode; not a LogoutRequest naming someone / LogoutResponse;
                              Version not 2.0; no ID; Issuer Format not entity */
    SP_SLO_UNKNOWN_ISSUER, /* the Issuer is not a registered IdP */
    SP_SLO_UNSIGNED,       /* no signature (query or enveloped) */
    SP_SLO_SIGNATURE,      /* a signature no key of that IdP verifies */
    SP_SLO_NOT_YET_VALID,  /* IssueInstant beyond the skew in the future */
    SP_SLO_EXPIRED,        /* IssueInstant older than the maximum age; NotOnOrAfter passed */
    SP_SLO_DESTINATION,    /* Destination missing or not our SLO URL */
    SP_SLO_STATUS,         /* a LogoutResponse whose Status is not Success */
    /* decided by auth/ with the store */
    SP_SLO_REPLAY,         /* a LogoutRequest ID seen before */
    SP_SLO_IN_RESPONSE_TO, /* a LogoutResponse answering no pending LogoutRequest of ours */
    SP_SLO_INTERNAL,
    SP_SLO_REASON_COUNT
};
/* The stable code of a reason: "slo_destination". */
const char *sp_slo_reason_code(enum sp_slo_reason r);

/* A LogoutRequest from an IdP (the query string of GET /saml/slo, or the SAMLRequest field of
 * POST /saml/slo): its signature verified by lasso, Version, IssueInstant, NotOnOrAfter and
 * Destination checked against e, the IdP, NameID and SessionIndex read, and the signed
 * LogoutResponse to send back. The caller refuses a replay: id is kept until keep_until.
 * SP_SLO_OK, or the reason with a message in err (out->idp, name_id and id then hold what the
 * message claims, as far as it could be read). */
struct sp_logout_in {
    char idp[512];
    char name_id[512];
    char session_index[256];
    char id[256];        /* the request's ID */
    time_t keep_until;   /* after this the request is refused as too old anyway */
    char *response_url;  /* malloc: redirect the browser here (HTTP-POST: the form's action) */
    char *response_body; /* malloc: a request that came by HTTP-POST is answered by POST: the
                          * SAMLResponse field (base64, signed); NULL for Redirect */
};
enum sp_slo_reason sp_logout_request_in(const struct sp *sp, const char *query,
                                        const struct sp_slo_expect *e, struct sp_logout_in *out,
                                        char *err, size_t errlen);

/* A LogoutResponse from an IdP (query string, or the SAMLResponse field of a POST): SP_SLO_OK
 * when signed by a registered IdP, successful, and Version, IssueInstant and Destination hold;
 * idp_out gets its (claimed) issuer, irt_out its InResponseTo (the caller checks it names a
 * LogoutRequest of ours). Else the reason, with a message in err. */
enum sp_slo_reason sp_logout_response_in(const struct sp *sp, const char *query,
                                         const struct sp_slo_expect *e, char *idp_out,
                                         size_t idplen, char *irt_out, size_t irtlen, char *err,
                                         size_t errlen);

/* What the response must match. */
struct sp_expect {
    const char *entity_id; /* our entity ID: the Audience */
    const char *acs_url;   /* our ACS: Recipient, Destination */
    long skew_seconds;
    time_t now;
    /* Whether the IdP may sign with SHA-1 (NULL = never). */
    int (*allow_sha1)(const char *issuer, void *ctx);
    void *ctx;
    /* The oldest IssueInstant of the Response and the Assertion accepted, in seconds before now
     * (plus the skew); 0 = no limit. */
    long max_age_seconds;
};

/* Runs every check on a base64 SAMLResponse; fills v (free with sp_verdict_free). Returns
 * v->reason. */
enum sp_reason sp_acs_process(const struct sp *sp, const char *b64, size_t len,
                              const struct sp_expect *e, struct sp_verdict *v);
void sp_verdict_free(struct sp_verdict *v);

/* The first value of the first attribute whose Name or FriendlyName is one of names. */
const char *sp_verdict_attr(const struct sp_verdict *v, const char *const *names);

#endif
