/* tests/fuzz/fuzz_metadata.c: IdP metadata import (sp_idp_parse: libxml2 without DTD or network,
 * lasso's provider check, endpoint and certificate extraction) on any document. Accepted metadata
 * must name an entity and carry at least one signing certificate, and its endpoints must be
 * terminated strings; a refusal must say why. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sp_harness.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_sp(); /* libxml2, xmlsec and lasso initialised */
    char *xml = fuzz_strndup(data, size);
    struct sp_idp_meta m;
    memset(&m, 0, sizeof m);
    char err[1024] = "";
    int rc = sp_idp_parse(xml, size, NULL, &m, err, sizeof err);
    if (rc != 0 && err[0] == '\0')
        fuzz_fail("metadata refused without a message");
    if (rc == 0 && (m.entity_id[0] == '\0' || m.n_certs < 1 || m.n_certs > SP_MAX_CERTS ||
                    m.xml == NULL || memchr(m.sso_redirect, '\0', sizeof m.sso_redirect) == NULL ||
                    memchr(m.slo_redirect, '\0', sizeof m.slo_redirect) == NULL))
        fuzz_fail("accepted metadata is incomplete: entity=\"%s\" certs=%d", m.entity_id,
                  m.n_certs);
    if (rc == 0) {
        /* the same document, asking for the IdP by name, gives the same IdP */
        struct sp_idp_meta again;
        memset(&again, 0, sizeof again);
        char eid[SP_ENTITY_MAX];
        memcpy(eid, m.entity_id, sizeof eid);
        if (sp_idp_parse(xml, size, eid, &again, err, sizeof err) != 0 ||
            strcmp(again.entity_id, eid) != 0)
            fuzz_fail("the IdP \"%s\" parsed alone but not by name: %s", eid, err);
        sp_idp_meta_free(&again);
    }
    sp_idp_meta_free(&m);
    free(xml);
    return 0;
}
