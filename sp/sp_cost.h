/* sp/sp_cost.h: a cost bound on a SAML response, checked by a byte scan before any XML parser or
 * lasso sees it. What verification costs grows with the elements, nesting, signatures,
 * references and transforms of a document; real responses have a few dozen to a few hundred
 * elements (tests/fixtures/idp-samples: 20-90) and one or two signatures. */
#ifndef GH_SP_SP_COST_H
#define GH_SP_SP_COST_H

#include <stddef.h>

#define SP_COST_MAX_ELEMENTS 4000
#define SP_COST_MAX_DEPTH 32
#define SP_COST_MAX_SIGNATURES 4 /* ds:Signature elements (a Response and an Assertion: 2) */
#define SP_COST_MAX_REFERENCES 4 /* ds:Reference elements (one per signature in SAML) */
#define SP_COST_MAX_TRANSFORMS 8 /* ds:Transform elements (two per reference in SAML) */

struct sp_cost {
    size_t elements, depth, signatures, references, transforms;
};

/* Counts xml's elements by local name and its deepest nesting (comments, CDATA, processing
 * instructions and quoted attribute values are skipped; malformed input is left to the parser).
 * 0 when within every bound, else -1 with what is over the bound in why. */
int sp_cost_check(const char *xml, size_t len, struct sp_cost *out, char *why, size_t whylen);

#endif
