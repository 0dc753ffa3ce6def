/* tests/fuzz/fuzz_logout.c: single logout from the IdP, GET /saml/slo's two paths:
 * sp_logout_request_in (a LogoutRequest: signature, NameID, SessionIndex, our signed answer) and
 * sp_logout_response_in (a LogoutResponse), on the fixed SP and IdP (sp_harness.h).
 * An input starting "SAMLRequest=" or "SAMLResponse=" is the query string as received. Any other
 * input is a message's XML, sent as the HTTP-Redirect binding does (raw DEFLATE, base64,
 * URL-encoded) and signed with the IdP's key (RSA-SHA256 over the query), so that what lasso and
 * Gatehouse do after a valid signature is reached too; a LogoutResponse when the XML mentions
 * one, a LogoutRequest otherwise. An accepted request must name the IdP and a subject, and be
 * answered at the IdP's SLO endpoint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <zlib.h>

#include "fuzz.h"
#include "http_harness.h"
#include "sp_harness.h"

#define SIG_ALG "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"

static void
add_urlencoded(struct fuzz_reqbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            fuzz_reqbuf_add(b, p, 1);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            fuzz_reqbuf_add(b, esc, 3);
        }
    }
}

/* Raw DEFLATE (RFC 1951), as the HTTP-Redirect binding wants it. */
static unsigned char *
deflate_raw(const uint8_t *in, size_t n, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        fuzz_fail("deflateInit2");
    uLong cap = deflateBound(&z, (uLong)n);
    unsigned char *out = malloc(cap);
    if (out == NULL)
        fuzz_fail("out of memory");
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END)
        fuzz_fail("deflate");
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

static EVP_PKEY *
idp_key(void)
{
    static EVP_PKEY *key;
    if (key == NULL) {
        FILE *f = fopen(fuzz_fixture("idp-key.pem"), "r");
        key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
        if (f != NULL)
            fclose(f);
        if (key == NULL)
            fuzz_fail("cannot read the IdP's key fixture");
    }
    return key;
}

/* "SAMLRequest=...&RelayState=r&SigAlg=...&Signature=..." for xml; caller frees. */
static char *
signed_query(const char *param, const uint8_t *xml, size_t n)
{
    size_t zlen = 0;
    unsigned char *z = deflate_raw(xml, n, &zlen);
    char *b64 = fuzz_base64(z, zlen);
    struct fuzz_reqbuf q = {0};
    fuzz_reqbuf_str(&q, param);
    fuzz_reqbuf_str(&q, "=");
    add_urlencoded(&q, b64);
    fuzz_reqbuf_str(&q, "&RelayState=r&SigAlg=");
    add_urlencoded(&q, SIG_ALG);
    unsigned char sig[512];
    size_t siglen = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, idp_key()) != 1 ||
        EVP_DigestSign(md, sig, &siglen, (const unsigned char *)q.data, q.len) != 1)
        fuzz_fail("cannot sign the query");
    EVP_MD_CTX_free(md);
    char *sig64 = fuzz_base64(sig, siglen);
    fuzz_reqbuf_str(&q, "&Signature=");
    add_urlencoded(&q, sig64);
    free(sig64);
    free(b64);
    free(z);
    return q.data;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct sp *sp = fuzz_sp();
    int raw = (size >= 12 && memcmp(data, "SAMLRequest=", 12) == 0) ||
              (size >= 13 && memcmp(data, "SAMLResponse=", 13) == 0);
    int response = raw ? data[4] == 'R' && data[5] == 'e' && data[6] == 's'
                       : memmem(data, size, "LogoutResponse", 14) != NULL;
    char *query = raw ? fuzz_strndup(data, size)
                      : signed_query(response ? "SAMLResponse" : "SAMLRequest", data, size);
    char err[512] = "";
    struct sp_slo_expect e = {
        .slo_url = FUZZ_SP_SLO, .skew_seconds = 180, .max_age_seconds = 300, .now = FUZZ_NOW};
    if (response) {
        char idp[512], irt[256];
        if (sp_logout_response_in(sp, query, &e, idp, sizeof idp, irt, sizeof irt, err,
                                  sizeof err) == 0 &&
            strcmp(idp, FUZZ_IDP_ENTITY) != 0)
            fuzz_fail("a LogoutResponse accepted from \"%s\"", idp);
    } else {
        struct sp_logout_in in;
        int rc = sp_logout_request_in(sp, query, &e, &in, err, sizeof err);
        if (rc == 0 && (strcmp(in.idp, FUZZ_IDP_ENTITY) != 0 || in.name_id[0] == '\0' ||
                        in.response_url == NULL ||
                        strncmp(in.response_url, FUZZ_IDP_SLO "?", strlen(FUZZ_IDP_SLO) + 1)))
            fuzz_fail("an accepted LogoutRequest: idp=\"%s\" name_id=\"%s\" answer=%s", in.idp,
                      in.name_id, in.response_url ? in.response_url : "(none)");
        if (rc != 0 && in.response_url != NULL)
            fuzz_fail("a refused LogoutRequest left an answer URL");
        free(in.response_url);
        free(in.response_body);
    }
    free(query);
    return 0;
}
