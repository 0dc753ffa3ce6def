/* tests/fuzz/fuzz_acs.c: sp_acs_process, every check of POST /saml/acs, on a fixed SP and IdP
 * (sp_harness.h). The input is the response's XML (the seeds are bin/mock-idp's, valid and
 * faulty); it is base64-encoded as the HTTP-POST binding sends it (the decoder has its own
 * target, fuzz_base64). A verdict must be consistent: a reason the table knows, and an accepted
 * response names its IdP, a subject, an assertion ID and an expiry after now. FUZZ_VERBOSE=1
 * prints each verdict (which check an input reaches). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sp_harness.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct sp *sp = fuzz_sp();
    char *b64 = fuzz_base64(data, size);
    /* the seeds are a minute old: the age bound (when a server sets one) is exercised too */
    struct sp_expect e = {.entity_id = FUZZ_SP_ENTITY,
                          .acs_url = FUZZ_SP_ACS,
                          .skew_seconds = 180,
                          .now = FUZZ_NOW,
                          .max_age_seconds = 300};
    struct sp_verdict v;
    enum sp_reason r = sp_acs_process(sp, b64, strlen(b64), &e, &v);
    if (r != v.reason || r < 0 || r >= SP_REASON_COUNT || sp_reason_info(r) == NULL ||
        memchr(v.detail, '\0', sizeof v.detail) == NULL)
        fuzz_fail("inconsistent verdict %d", (int)r);
    if (r == SP_OK && (strcmp(v.issuer, FUZZ_IDP_ENTITY) != 0 || v.name_id[0] == '\0' ||
                       v.assertion_id[0] == '\0' || v.not_on_or_after <= FUZZ_NOW - 180))
        fuzz_fail("accepted without issuer, subject, assertion ID or a live expiry: issuer=%s "
                  "name_id=%s assertion_id=%s not_on_or_after=%lld",
                  v.issuer, v.name_id, v.assertion_id, (long long)v.not_on_or_after);
    for (int i = 0; r == SP_OK && i < v.n_attrs; i++)
        if (v.attrs[i].name == NULL || v.attrs[i].n_values < 0 ||
            v.attrs[i].n_values > SP_MAX_VALUES)
            fuzz_fail("attribute %d malformed in an accepted verdict", i);
    if (getenv("FUZZ_VERBOSE") != NULL) /* which checks the seeds reach */
        fprintf(stderr, "verdict %s: %s\n", sp_reason_info(r)->code, v.detail);
    sp_verdict_free(&v);
    free(b64);
    return 0;
}
