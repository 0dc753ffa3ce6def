/* auth/sso.h: single sign-on as a domain module. A SAMLResponse posted to the ACS goes in; sp/
 * decides whether it is valid, and this module does what needs the store, in one transaction:
 * InResponseTo bookkeeping, replay, the domain rules, identity and role mapping, just-in-time
 * provisioning, the session and the SAML response log. The ACS route (route_saml.c) only reads
 * the form and answers, as route_login.c does around login.c. */
#ifndef GH_AUTH_SSO_H
#define GH_AUTH_SSO_H

#include <time.h>

#include "sp/sp.h"
#include "store.h"

struct app;
struct session_new;

/* One POST to the ACS. */
struct sso_request {
    const char *saml_response; /* base64, as posted (NULL or "" = missing) */
    const char *relay_state;   /* may be NULL */
    const char *client;        /* the browser's address */
    time_t now;
    long long idps_version; /* of the IdP registry the request read (-1: unknown) */
    /* Starts the session of an accepted sign-in inside the accepting transaction, so that a
     * session exists only when the whole sign-in is saved (web_start_session). 0 or -1. */
    int (*start_session)(void *ctx, const struct session_new *n);
    void *ctx;
};

/* What came of it. v.reason is SP_OK or why it was refused (v.detail says more). */
struct sso_outcome {
    struct sp_verdict v; /* the asserted identity; freed by sso_outcome_free */
    struct idp_row idp;  /* the issuer's registry row, once known */
    long long user_id;   /* SP_OK: the user signed in */
    long long log_id;    /* the SAML response log row (0 when it could not be written) */
    char return_to[1100];
    /* The response answers a test sign-in (store.h saml_test_row): validated and logged, its
     * result recorded for the admin who started it; no session, no user, whatever the
     * verdict. test_id is its AuthnRequest's ID. */
    int test;
    char test_id[256];
};

/* Verifies the response, then accepts it in the store, or refuses it; logs it either way.
 * A response to a test sign-in stops after validation and the log (out->test). Returns
 * out->v.reason. */
enum sp_reason sso_acs(struct app *a, struct store *s, const struct sso_request *in,
                       struct sso_outcome *out);
/* Frees what out holds (not out itself). */
void sso_outcome_free(struct sso_outcome *out);

#endif
