/* sp/mockidp/mi_idp.c: the mock IdP's identity: entity ID, key pairs (made at first start when
 * absent) and its metadata. */
#include "mi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "sp/sp.h"

#define CERT_MAX_BYTES (64 * 1024)

/* mkdir -p for the state dir (0700: it holds private keys). */
static int
make_dirs(const char *dir, char *err, size_t errlen)
{
    char path[1024];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        snprintf(err, errlen, "state dir path too long");
        return -1;
    }
    for (char *p = path + 1;; p++) {
        char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return -1;
        }
        *p = c;
        if (c == '\0')
            return 0;
    }
}

static char *
in_dir(const char *dir, const char *name)
{
    return g_strdup_printf("%s/%s", dir, name);
}

int
mi_idp_init(struct mi_idp *idp, const char *base_url, const char *entity_id, const char *state_dir,
            const char *key, const char *cert, char *err, size_t errlen)
{
    memset(idp, 0, sizeof *idp);
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        n--;
    idp->base_url = g_strndup(base_url, n);
    idp->entity_id =
        entity_id ? g_strdup(entity_id) : g_strdup_printf("%s/metadata", idp->base_url);
    if (make_dirs(state_dir, err, errlen) != 0)
        return -1;
    idp->key_file = key ? g_strdup(key) : in_dir(state_dir, "idp-key.pem");
    idp->cert_file = cert ? g_strdup(cert) : in_dir(state_dir, "idp-cert.pem");
    idp->wrong_key_file = in_dir(state_dir, "wrong-key.pem");
    idp->wrong_cert_file = in_dir(state_dir, "wrong-cert.pem");
    if ((key == NULL) != (cert == NULL)) {
        snprintf(err, errlen, "--key and --cert go together");
        return -1;
    }
    if (sp_keys_ensure(idp->key_file, idp->cert_file, "mock-idp", err, errlen) != 0 ||
        sp_keys_ensure(idp->wrong_key_file, idp->wrong_cert_file, "mock-idp untrusted key", err,
                       errlen) != 0)
        return -1;
    idp->cert_pem = sp_read_file(idp->cert_file, CERT_MAX_BYTES, NULL, err, errlen);
    return idp->cert_pem ? 0 : -1;
}

void
mi_idp_free(struct mi_idp *idp)
{
    g_free(idp->entity_id);
    g_free(idp->base_url);
    g_free(idp->key_file);
    g_free(idp->cert_file);
    g_free(idp->wrong_key_file);
    g_free(idp->wrong_cert_file);
    free(idp->cert_pem);
    memset(idp, 0, sizeof *idp);
}

/* The base64 body of the certificate, on one line. */
static char *
cert_body(const char *pem)
{
    const char *b = strstr(pem, "-----BEGIN CERTIFICATE-----");
    const char *e = b ? strstr(b, "-----END CERTIFICATE-----") : NULL;
    if (e == NULL)
        return NULL;
    GString *s = g_string_new(NULL);
    for (const char *p = b + strlen("-----BEGIN CERTIFICATE-----"); p < e; p++)
        if (*p != '\n' && *p != '\r' && *p != ' ')
            g_string_append_c(s, *p);
    return g_string_free(s, FALSE);
}

/* One SingleLogoutService or SingleSignOnService element. */
static void
endpoint(GString *out, const char *element, const char *binding, const char *base_url,
         const char *path)
{
    char *g =
        g_markup_printf_escaped("    <md:%s Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:%s\" "
                                "Location=\"%s%s\"/>\n",
                                element, binding, base_url, path);
    g_string_append(out, g);
    g_free(g);
}

char *
mi_metadata_xml(const struct mi_idp *idp)
{
    char *cert = cert_body(idp->cert_pem);
    if (cert == NULL)
        return NULL;
    GString *out = g_string_new(NULL);
    char *g = g_markup_printf_escaped(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
        "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"%s\">\n"
        "  <md:IDPSSODescriptor WantAuthnRequestsSigned=\"false\" "
        "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n"
        "    <md:KeyDescriptor use=\"signing\">\n"
        "      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo>\n"
        "    </md:KeyDescriptor>\n",
        idp->entity_id, cert);
    g_string_append(out, g);
    g_free(g);
    g_free(cert);
    /* --post-only: HTTP-POST alone, as in OneLogin's sample metadata. */
    if (!idp->post_only)
        endpoint(out, "SingleLogoutService", "HTTP-Redirect", idp->base_url, "/slo");
    endpoint(out, "SingleLogoutService", "HTTP-POST", idp->base_url, "/slo");
    g_string_append(out, "    <md:NameIDFormat>" MI_NAMEID_EMAIL "</md:NameIDFormat>\n"
                         "    <md:NameIDFormat>" MI_NAMEID_UNSPECIFIED "</md:NameIDFormat>\n"
                         "    <md:NameIDFormat>" MI_NAMEID_TRANSIENT "</md:NameIDFormat>\n"
                         "    <md:NameIDFormat>" MI_NAMEID_PERSISTENT "</md:NameIDFormat>\n");
    if (!idp->post_only)
        endpoint(out, "SingleSignOnService", "HTTP-Redirect", idp->base_url, "/sso");
    endpoint(out, "SingleSignOnService", "HTTP-POST", idp->base_url, "/sso");
    g_string_append(out, "  </md:IDPSSODescriptor>\n</md:EntityDescriptor>\n");
    char *result = strdup(out->str);
    g_string_free(out, TRUE);
    return result;
}
