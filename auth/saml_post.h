/* auth/saml_post.h: sending a SAML message through the browser: a 303 for the HTTP-Redirect
 * binding, or for HTTP-POST (SAML bindings 3.5) an auto-submitting form whose one inline script
 * the CSP allows by its hash, with a Continue button for browsers without JavaScript. */
#ifndef GH_AUTH_SAML_POST_H
#define GH_AUTH_SAML_POST_H

#include "sp/sp.h"

struct req;

/* Sends m (field is "SAMLRequest" or "SAMLResponse"; relay_state may be NULL: a Redirect URL
 * carries its own). Returns what the responder returns; a bad action URL answers 500. */
int saml_send(struct req *r, const struct sp_out *m, const char *field, const char *relay_state);

/* "https://idp.example.com:8443" from an http(s) URL into out; -1 when url is not one, or its
 * host has characters an origin cannot (it goes into a header). */
int saml_post_origin(const char *url, char *out, size_t len);

#endif
