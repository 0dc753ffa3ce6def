/* tests/unit/test_sp_cost.c: the cost bound on SAML responses, before any parser runs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sp/sp_cost.h"

static int
check(const char *xml, struct sp_cost *c)
{
    char why[160];
    return sp_cost_check(xml, strlen(xml), c, why, sizeof why);
}

static void
test_counts_elements_depth_and_signature_parts(void **state)
{
    (void)state;
    struct sp_cost c;
    const char *xml = "<?xml version=\"1.0\"?><!-- <not> --><samlp:Response a='>'>"
                      "<ds:Signature><ds:SignedInfo><ds:Reference><ds:Transforms>"
                      "<ds:Transform/><ds:Transform/></ds:Transforms></ds:Reference>"
                      "</ds:SignedInfo></ds:Signature><x><![CDATA[<y><y><y>]]></x>"
                      "<Signature/></samlp:Response>";
    assert_int_equal(check(xml, &c), 0);
    assert_int_equal(c.elements, 9);
    assert_int_equal(c.depth, 5);
    assert_int_equal(c.signatures, 2);
    assert_int_equal(c.references, 1);
    assert_int_equal(c.transforms, 2);
}

static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t h = strlen(head), u = strlen(unit), t = strlen(tail);
    char *s = malloc(h + u * n + t + 1);
    assert_non_null(s);
    memcpy(s, head, h);
    for (size_t i = 0; i < n; i++)
        memcpy(s + h + i * u, unit, u);
    memcpy(s + h + u * n, tail, t + 1);
    return s;
}

static void
test_each_bound_at_its_limit_and_one_over(void **state)
{
    (void)state;
    const struct {
        const char *unit;
        size_t limit;
    } cases[] = {
        {"<a/>", SP_COST_MAX_ELEMENTS - 1}, /* + the root */
        {"<ds:Signature/>", SP_COST_MAX_SIGNATURES},
        {"<ds:Reference/>", SP_COST_MAX_REFERENCES},
        {"<Transform/>", SP_COST_MAX_TRANSFORMS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *ok = repeat("<r>", cases[i].unit, cases[i].limit, "</r>");
        char *over = repeat("<r>", cases[i].unit, cases[i].limit + 1, "</r>");
        assert_int_equal(check(ok, NULL), 0);
        assert_int_equal(check(over, NULL), -1);
        free(ok);
        free(over);
    }
    char *deep = repeat("", "<d>", SP_COST_MAX_DEPTH, "");
    char *deeper = repeat("", "<d>", SP_COST_MAX_DEPTH + 1, "");
    char why[160];
    assert_int_equal(sp_cost_check(deep, strlen(deep), NULL, why, sizeof why), 0);
    assert_int_equal(sp_cost_check(deeper, strlen(deeper), NULL, why, sizeof why), -1);
    assert_non_null(strstr(why, "33 levels of nesting"));
    free(deep);
    free(deeper);
}

/* Every real response in the samples is well within the bounds. */
static void
test_real_idp_responses_pass(void **state)
{
    (void)state;
    static const char *const files[] = {
        "okta/okta-exk659aytfMeNI49v0h7-response.xml",
        "okta/okta-exkppsa1qwuFV4D7z0h7-response-encrypted-assertion.xml",
        "shibboleth/testshib-response-encrypted-assertion.xml",
        "shibboleth/testshib-response-DERIVED-decrypted.xml",
        "adfs/adfs-fs.spstest2.com-response.xml",
        "auth0/auth0-scaleft-test-response.xml",
        "google/google-C02dfl1r1-response.xml",
        "onelogin/onelogin-503983-response.xml",
        "ping/pingfederate-response-02-assertion-signed-keyinfo.xml",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "tests/fixtures/idp-samples/%s", files[i]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        struct sp_cost c;
        char why[160];
        assert_int_equal(sp_cost_check(buf, n, &c, why, sizeof why), 0);
        assert_true(c.elements < 200 && c.depth < 16 && c.signatures <= 2);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_elements_depth_and_signature_parts),
        cmocka_unit_test(test_each_bound_at_its_limit_and_one_over),
        cmocka_unit_test(test_real_idp_responses_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
