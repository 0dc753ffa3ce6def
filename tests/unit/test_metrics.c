/* tests/unit/test_metrics.c: the /metrics text of auth/metrics.c: label values escaped, the
 * refusal table bounded (then "other"), histogram buckets cumulative, routes mapped, unknown
 * sign-in methods not turned into labels; and the origin the POST binding's CSP names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "auth/buf.h"
#include "auth/metrics.h"
#include "auth/saml_post.h"

static char *
page(void)
{
    struct buf b;
    buf_init(&b, 1024 * 1024);
    struct metrics_gauges g = {1, 3, 4};
    metrics_print(&b, &g);
    buf_append(&b, "", 1);
    return b.data; /* freed by the caller */
}

static void
test_label_values_are_escaped(void **state)
{
    (void)state;
    metrics_saml_refusal("https://idp.example/\"x\\y\nz", "bad_signature");
    char *p = page();
    assert_non_null(
        strstr(p, "gatehouse_saml_refusals_total{idp=\"https://idp.example/\\\"x\\\\y\\nz\",reason="
                  "\"bad_signature\"} 1\n"));
    free(p);
}

static void
test_refusal_rows_are_bounded_then_other(void **state)
{
    (void)state;
    char idp[64];
    for (int i = 0; i < METRICS_MAX_REFUSAL_ROWS + 50; i++) {
        snprintf(idp, sizeof idp, "https://idp%d.example/", i);
        metrics_saml_refusal(idp, "expired");
    }
    char *p = page();
    size_t rows = 0;
    for (const char *q = p; (q = strstr(q, "\ngatehouse_saml_refusals_total{")) != NULL; q++)
        rows++;
    assert_int_equal(rows, METRICS_MAX_REFUSAL_ROWS);
    /* The first test's row, 254 new ones, and the other 52 in "other". */
    assert_non_null(
        strstr(p, "gatehouse_saml_refusals_total{idp=\"other\",reason=\"other\"} 52\n"));
    free(p);
}

static void
test_histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    metrics_observe(METRICS_ROUTE_ACS, 0.0004);
    metrics_observe(METRICS_ROUTE_ACS, 0.003);
    metrics_observe(METRICS_ROUTE_ACS, 9.0);
    metrics_observe(METRICS_ROUTE_NONE, 1.0);
    char *p = page();
    assert_non_null(strstr(p, "_bucket{route=\"acs\",le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(p, "_bucket{route=\"acs\",le=\"0.0025\"} 1\n"));
    assert_non_null(strstr(p, "_bucket{route=\"acs\",le=\"0.005\"} 2\n"));
    assert_non_null(strstr(p, "_bucket{route=\"acs\",le=\"2.5\"} 2\n"));
    assert_non_null(strstr(p, "_bucket{route=\"acs\",le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(p, "_count{route=\"acs\"} 3\n"));
    assert_non_null(strstr(p, "_sum{route=\"acs\"} 9.0034"));
    assert_null(strstr(p, "route=\"\""));
    free(p);
}

static void
test_routes_map_to_their_histograms(void **state)
{
    (void)state;
    assert_int_equal(metrics_route_of("POST", "/login"), METRICS_ROUTE_LOGIN);
    assert_int_equal(metrics_route_of("POST", "/api/login"), METRICS_ROUTE_LOGIN);
    assert_int_equal(metrics_route_of("POST", "/saml/acs"), METRICS_ROUTE_ACS);
    assert_int_equal(metrics_route_of("HEAD", "/auth/verify"), METRICS_ROUTE_VERIFY);
    assert_int_equal(metrics_route_of("GET", "/login"), METRICS_ROUTE_NONE);
    assert_int_equal(metrics_route_of("GET", "/saml/acs"), METRICS_ROUTE_NONE);
}

static void
test_unknown_signin_methods_and_results_are_not_labels(void **state)
{
    (void)state;
    metrics_signin("password", "success");
    metrics_signin("<script>", "success");
    metrics_signin("sso", "maybe");
    metrics_verify(METRICS_VERIFY_FORBIDDEN);
    metrics_verify((enum metrics_verify_result)99);
    char *p = page();
    assert_non_null(
        strstr(p, "gatehouse_signins_total{method=\"password\",result=\"success\"} 1\n"));
    assert_null(strstr(p, "<script>"));
    assert_null(strstr(p, "maybe"));
    assert_non_null(strstr(p, "gatehouse_verify_total{result=\"forbidden\"} 1\n"));
    assert_non_null(strstr(p, "gatehouse_sessions_active{kind=\"web\"} 3\n"));
    assert_non_null(strstr(p, "gatehouse_sessions_active{kind=\"client\"} 4\n"));
    free(p);
}

static void
test_post_binding_origin(void **state)
{
    (void)state;
    char o[256];
    assert_int_equal(saml_post_origin("https://idp.example.com:8443/sso?x=1", o, sizeof o), 0);
    assert_string_equal(o, "https://idp.example.com:8443");
    assert_int_equal(saml_post_origin("http://[::1]:7000/sso", o, sizeof o), 0);
    assert_string_equal(o, "http://[::1]:7000");
    assert_int_equal(saml_post_origin("https://app.onelogin.com", o, sizeof o), 0);
    assert_string_equal(o, "https://app.onelogin.com");
    /* What would break out of the CSP header or is not an http(s) origin. */
    const char *bad[] = {"javascript:alert(1)", "https://",    "https://a b/",
                         "https://a;b/",        "https://a'/", "https://a\r\nX: y/",
                         "ftp://idp/",          "//idp/",      ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(saml_post_origin(bad[i], o, sizeof o), -1);
    assert_int_equal(saml_post_origin("https://idp.example.com/", o, 10), -1);
}

static void
test_idp_cert_gauges_are_soonest_first_and_bounded(void **state)
{
    (void)state;
    static char names[METRICS_MAX_IDP_CERT_ROWS + 10][40];
    struct metrics_idp_cert rows[METRICS_MAX_IDP_CERT_ROWS + 10];
    size_t n = sizeof rows / sizeof rows[0];
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "https://idp%zu.example/", i);
        rows[i] = (struct metrics_idp_cert){names[i], 1000 - (long long)i};
    }
    struct buf b;
    buf_init(&b, 1024 * 1024);
    metrics_print_idp_certs(&b, rows, n, 7, 30);
    buf_append(&b, "", 1);
    size_t k = 0;
    for (const char *q = b.data; (q = strstr(q, "\ngatehouse_idp_cert_expiry_seconds{")) != NULL;
         q++)
        k++;
    assert_int_equal(k, METRICS_MAX_IDP_CERT_ROWS);
    /* The last IdP expires soonest: it comes first; the latest ones are left out. */
    const char *first = strstr(b.data, "gatehouse_idp_cert_expiry_seconds{idp=");
    char want[128];
    snprintf(want, sizeof want, "gatehouse_idp_cert_expiry_seconds{idp=\"%s\"} %lld\n",
             names[n - 1], 1000 - (long long)(n - 1));
    assert_int_equal(strncmp(first, want, strlen(want)), 0);
    assert_null(strstr(b.data, "{idp=\"https://idp0.example/\"}"));
    assert_non_null(strstr(b.data, "\ngatehouse_idp_certs_expiring 7\n"));
    buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_values_are_escaped),
        cmocka_unit_test(test_refusal_rows_are_bounded_then_other),
        cmocka_unit_test(test_histogram_buckets_are_cumulative),
        cmocka_unit_test(test_routes_map_to_their_histograms),
        cmocka_unit_test(test_unknown_signin_methods_and_results_are_not_labels),
        cmocka_unit_test(test_post_binding_origin),
        cmocka_unit_test(test_idp_cert_gauges_are_soonest_first_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
