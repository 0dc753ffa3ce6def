#include "saml_post.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "app.h"
#include "http.h"
#include "log.h"
#include "tmpl.h"
#include "web.h"

int
saml_post_origin(const char *url, char *out, size_t len)
{
    size_t scheme = strncmp(url, "https://", 8) == 0 ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0;
    if (scheme == 0)
        return -1;
    size_t n = scheme + strcspn(url + scheme, "/?#");
    if (n == scheme || n >= len)
        return -1;
    for (size_t i = scheme; i < n; i++) {
        char c = url[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return -1;
    }
    memcpy(out, url, n);
    out[n] = '\0';
    return 0;
}

/* base64 SHA-256 of the page's one inline script, as CSP writes hashes (CSP3 "hash-source"):
 * taken from the rendered page itself, so the header always matches what is served. */
static int
script_hash(const char *page, char out[64])
{
    const char *open = strstr(page, "<script>");
    const char *close = open ? strstr(open, "</script>") : NULL;
    if (close == NULL || strstr(close + 9, "<script") != NULL)
        return -1;
    open += strlen("<script>");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(open, (size_t)(close - open), md, &n, EVP_sha256(), NULL) != 1)
        return -1;
    EVP_EncodeBlock((unsigned char *)out, md, (int)n);
    return 0;
}

int
saml_send(struct req *r, const struct sp_out *m, const char *field, const char *relay_state)
{
    if (!m->post)
        return req_redirect(r, 303, m->url);
    struct web *w = web_of(r);
    char origin[1100], hash[64];
    if (saml_post_origin(m->url, origin, sizeof origin) != 0) {
        log_error("the IdP's POST endpoint is not an http(s) URL: %.200s", m->url);
        web_error(r, 500, "The identity provider's address is not usable.");
        return 0;
    }
    struct tmpl_ctx *c = web_ctx(r);
    int request = strcmp(field, "SAMLRequest") == 0;
    tmpl_set(c, "title", "Continuing to your identity provider");
    tmpl_set(c, "note",
             request ? "Your browser is taking you to your identity provider. If nothing happens, "
                       "press Continue."
                     : "Your browser is taking you back to your identity provider. If nothing "
                       "happens, press Continue.");
    tmpl_set(c, "action", m->url);
    tmpl_set(c, "field", field);
    tmpl_set(c, "message", m->body);
    tmpl_set(c, "relay_state", relay_state);
    char *page = tmpl_render(w->app->tmpl, "saml_post", c);
    if (page == NULL || script_hash(page, hash) != 0) {
        web_error(r, 500, "The page could not be rendered.");
        return 0;
    }
    req_allow_autopost(r, hash, origin);
    return req_respond(r, 200, "text/html; charset=utf-8", page, strlen(page));
}
