/* sp/sp_state.h: inside sp/ only: the shared LassoServer and the IdP providers in it
 * (sp/sp_state.c says how they are built, checked and evicted). */
#ifndef GH_SP_SP_STATE_H
#define GH_SP_SP_STATE_H

#include <stddef.h>

#include <lasso/lasso.h>

struct sp;

/* The LassoServer with entity_id's provider current in it (built on first use, checked again
 * once the registry moved), under the state's read lock: use it for entity_id, then call
 * sp_state_unlock. entity_id NULL or "": the server as it is (lasso refuses an unknown issuer).
 * NULL, not locked, when the IdP is not registered (*unknown = 1) or on error (*unknown = 0;
 * err filled). */
LassoServer *sp_state_lock(const struct sp *sp, const char *entity_id, int *unknown, char *err,
                           size_t errlen);
void sp_state_unlock(const struct sp *sp);

/* The server itself, without the lock: only for callers that add every IdP with sp_add_idp
 * before using it and never change it after (tests/bench/bench_acs.c). */
LassoServer *sp_lasso_server(const struct sp *sp);

/* The LassoProvider for an IdP's metadata (an EntityDescriptor as the registry stores it): the
 * IdP role only, its KeyDescriptors left out and its signing certificates' public keys added
 * as bare keys. lasso reading a KeyDescriptor itself loads the system's whole CA bundle into a
 * throw-away X.509 store (lasso_xmlsec_load_key_info): ~75 ms per key on this machine, where
 * the bare keys take well under a millisecond, and verify the same (the key is set on the
 * signature context; KeyInfo in a message is never used). Caller unrefs; NULL with a message. */
LassoProvider *sp_idp_provider(const char *xml, char *err, size_t errlen);

/* The IdP's EntityDescriptor with its IdP role only and no KeyDescriptor (malloc), or NULL:
 * what sp_idp_provider gives lasso. */
char *sp_idp_keyless(const char *xml);

#endif
