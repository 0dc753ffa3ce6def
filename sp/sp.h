/* sp/sp.h: Gatehouse's SAML 2.0 Service Provider — the one header auth/ includes. Only sp/
 * includes lasso, xmlsec and libxml2. No SQL here: auth/ stores what these functions return. */
#ifndef GH_SP_SP_H
#define GH_SP_SP_H

#include <stddef.h>
#include <time.h>

#define SP_URL_MAX 1024
#define SP_ENTITY_MAX 512
#define SP_MAX_CERTS 4
/* Largest metadata document accepted (ADFS metadata runs to ~70 KB; aggregates are larger). */
#define SP_METADATA_MAX_BYTES (4 * 1024 * 1024)

/* Sets up libxml2, xmlsec and lasso once per process, before any thread starts. Refuses (-1 with
 * a message) when the environment turns lasso's signature verification off. */
int sp_global_init(char *err, size_t errlen);
void sp_global_cleanup(void);

/* The decoder behind the program's xmlSecBase64Decode_ex (sp/sp.c): 0 and *written when str is
 * well-formed base64 whose bytes fit in out with a byte to spare; -1 when it leaves the input
 * to xmlsec's own decoder. */
int sp_base64_fast(const char *str, unsigned char *out, size_t out_size, size_t *written);

/* One signing certificate of an IdP. */
struct sp_cert {
    char sha256[96]; /* colon-separated hex fingerprint */
    char subject[256];
    time_t not_after;
};

/* What an IdP's metadata says, for the registry. */
struct sp_idp_meta {
    char entity_id[SP_ENTITY_MAX];
    char sso_redirect[SP_URL_MAX]; /* SingleSignOnService, HTTP-Redirect binding ("" if none) */
    char sso_post[SP_URL_MAX];
    char slo_redirect[SP_URL_MAX]; /* SingleLogoutService */
    char slo_post[SP_URL_MAX];
    struct sp_cert certs[SP_MAX_CERTS]; /* IDPSSODescriptor KeyDescriptors for signing */
    int n_certs;
    int want_authn_requests_signed;
    time_t valid_until; /* 0 when the metadata has no validUntil */
    long cache_seconds; /* the nearest cacheDuration (entity or its aggregate); -1 when none */
    char *xml;          /* the IdP's EntityDescriptor alone, namespaces reconciled (malloc) */
};

/* Reads metadata (an EntityDescriptor, or an EntitiesDescriptor aggregate) and extracts the IdP
 * named entity_id, or the only IdP when entity_id is NULL. Checks that lasso accepts it.
 * 0, or -1 with a message for the admin in err (e.g. the list of IdPs when there are several). */
int sp_idp_parse(const char *xml, size_t len, const char *entity_id, struct sp_idp_meta *out,
                 char *err, size_t errlen);
/* Frees out->xml. */
void sp_idp_meta_free(struct sp_idp_meta *m);

/* An IdP registered without metadata: the issuer, the sign-in URL and its binding, the signing
 * certificates (PEM or bare base64 DER) and an optional logout URL (same binding). */
struct sp_idp_fields {
    const char *entity_id;
    const char *sso_url;
    int post_binding;    /* 1: HTTP-POST; 0: HTTP-Redirect */
    const char *slo_url; /* NULL or "": none */
    const char *certs[SP_MAX_CERTS + 1];
    size_t n_certs;
};

/* The minimal metadata (an EntityDescriptor with one IDPSSODescriptor) that describes f, to be
 * registered like any metadata. Caller frees; NULL with a message for the admin in err. */
char *sp_idp_metadata_from_fields(const struct sp_idp_fields *f, char *err, size_t errlen);

/* Whether url is an absolute http:// or https:// URL with a host, printable ASCII without
 * spaces, shorter than SP_URL_MAX. */
int sp_url_is_endpoint(const char *url);

/* Checks that the metadata's root element carries one enveloped XML signature, over the root,
 * that verifies with cert_pem's key alone (KeyInfo in the document is never used; SHA-1
 * refused). 0, or -1 with a message for the admin. */
int sp_metadata_verify(const char *xml, size_t len, const char *cert_pem, char *err, size_t errlen);

/* An xs:duration ("PT6H", "P1D") in seconds; -1 when it is not one. */
long sp_duration_seconds(const char *d);

/* One SAML 2.0 IdP of a federation's aggregate, with what discovery needs. */
#define SP_FED_MAX_SCOPES 8
struct sp_fed_idp {
    struct sp_idp_meta meta;             /* as sp_idp_parse reads the IdP on its own */
    char display_name[256];              /* mdui:DisplayName, English first; "" = none */
    char scopes[SP_FED_MAX_SCOPES][256]; /* literal shibmd:Scope values */
    int n_scopes;
};
/* What the aggregate as a whole says. */
struct sp_federation_info {
    char name[256];     /* the EntitiesDescriptor's Name */
    time_t valid_until; /* 0 = none */
    long cache_seconds; /* -1 = none */
    int n_idps;         /* IdPs handed to the callback */
    int n_skipped;      /* IdPs whose metadata the registry would refuse */
    char first_skipped[640];
};

/* Calls cb for each SAML 2.0 IdP of an EntitiesDescriptor (nested ones too; other entities are
 * ignored); cb returning non-zero stops. 0, or -1 with a message (not XML, not an aggregate).
 * Check the signature first (sp_metadata_verify). */
int sp_federation_each(const char *xml, size_t len, int (*cb)(const struct sp_fed_idp *, void *),
                       void *ctx, struct sp_federation_info *info, char *err, size_t errlen);

/* Makes an RSA-2048 key and a self-signed certificate (10 years, CN = cn) as PEM text, in memory
 * (the caller frees both, wiping the key). 0 or -1 with a message. */
int sp_keys_generate(const char *cn, char **key_pem, char **cert_pem, char *err, size_t errlen);
/* The key and certificate as clear PEM files at the two paths when the key file is absent (the
 * key 0600): for mock-idp, whose key is a test fixture. 0 or -1 with a message. */
int sp_keys_ensure(const char *key_file, const char *cert_file, const char *cn, char *err,
                   size_t errlen);

/* The SP's metadata: entityID, ACS (HTTP-POST, at acs_url), SLO (Redirect and POST),
 * AuthnRequestsSigned, WantAssertionsSigned, the certificate for signing and for encryption. Caller
 * frees. */
char *sp_metadata_xml(const char *entity_id, const char *base_url, const char *acs_url,
                      const char *cert_pem);

/* Reads a whole file of at most max bytes (NUL-terminated; caller frees). NULL with a message. */
char *sp_read_file(const char *path, size_t max, size_t *len_out, char *err, size_t errlen);

/* The XML re-indented for people (parsed safely: no DTD, no network); NULL when it does not
 * parse. Caller frees. */
char *sp_xml_pretty(const char *xml);

#include "sp_acs.h"

#endif
