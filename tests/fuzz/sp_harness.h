/* tests/fuzz/sp_harness.h: the fixed SAML world of the sp/ fuzz targets: our SP
 * (https://sp.fuzz.test) with one IdP (https://idp.fuzz.test/saml), both from
 * tests/fuzz/fixtures/ (remade by fixtures/make.sh), and the time the seed responses were minted
 * at, taken as "now" so that they stay valid. */
#ifndef GH_TESTS_FUZZ_SP_HARNESS_H
#define GH_TESTS_FUZZ_SP_HARNESS_H

#include <stddef.h>
#include <time.h>

#include "sp/sp.h"

#define FUZZ_SP_ENTITY "https://sp.fuzz.test/saml/metadata"
#define FUZZ_SP_ACS "https://sp.fuzz.test/saml/acs"
#define FUZZ_SP_SLO "https://sp.fuzz.test/saml/slo"
#define FUZZ_IDP_ENTITY "https://idp.fuzz.test/saml"
#define FUZZ_IDP_SLO "https://idp.fuzz.test/slo"
/* 2026-01-01 00:01:00 UTC: a minute after fixtures/make.sh minted the seeds */
#define FUZZ_NOW ((time_t)1767225660)

/* The SP with the IdP added, built on first use and shared (read-only). Fails the run when the
 * fixtures do not load. */
const struct sp *fuzz_sp(void);

/* Base64 (no line breaks) of in[0..n), NUL-terminated; caller frees. */
char *fuzz_base64(const unsigned char *in, size_t n);

#endif
