/* tests/unit/test_redirect.c: the redirect validators: str_safe_return_to (same-origin paths) and
 * str_safe_redirect (rd=: paths, or absolute URLs on the cookie domain), with one hostile list. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "auth/conf.h"
#include "auth/str.h"

/* The hostile list of tests/e2e/test_bad_input.py, and more: none may lead anywhere. */
static const char *const HOSTILE[] = {
    "//evil.com",
    "https://evil.com",
    "/\\evil.com",
    "\\/evil.com",
    "/\\/evil.com",
    "//evil.com/%2F..",
    "http:evil.com",
    "javascript:alert(1)",
    " //evil.com",
    "/\t/evil.com",
    "/\r\nLocation: https://evil.com",
    "///evil.com",
    "https:/evil.com",
    "evil.com",
    "/\xe3\x80\x82"
    "evil.com",
    "",
    "https://example.test.evil.com/",
    "https://evilexample.test/",
    "https://user@app.example.test/",
    "https://app.example.test@evil.com/",
    "https://app.example.test:444/",
    "https://app.example.test\\@evil.com/",
    "https://app.example.test%2f@evil.com/",
    "https:///evil.com",
    "https://.example.test/",
    "https://app..example.test/",
    "https://app.example.test./",
    "HTTPS://app.example.test/",
    "ftp://app.example.test/",
    "https://[::1]/",
    "https://app.example.test/\x01",
    "https://app.example.test/ x",
    "https://app.example.test:0/",
    "https://app.example.test:99999/",
    "https://app.example.test:/",
    "data:text/html,<script>",
    "http://app.example.test/", /* http when the base URL is https */
};

static const struct str_redirect_scope https_scope = {"https", 443, "example.test"};

static void
test_hostile_targets_are_refused_by_both_validators(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof HOSTILE / sizeof HOSTILE[0]; i++) {
        if (str_safe_redirect(HOSTILE[i], &https_scope))
            fail_msg("str_safe_redirect accepted \"%s\"", HOSTILE[i]);
        assert_false(str_safe_return_to(HOSTILE[i]));
    }
    assert_false(str_safe_redirect(NULL, &https_scope));
}

static void
test_paths_and_urls_within_the_cookie_domain_are_accepted(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "/",
        "/docs?page=2",
        "https://example.test",
        "https://example.test/",
        "https://app.example.test/docs?x=1#top",
        "https://a.b.example.test:443/",
        "https://APP.Example.Test/",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!str_safe_redirect(ok[i], &https_scope))
            fail_msg("str_safe_redirect refused \"%s\"", ok[i]);
}

static void
test_http_and_the_base_port_only_when_the_base_url_uses_them(void **state)
{
    (void)state;
    const struct str_redirect_scope http_scope = {"http", 8080, "example.test"};
    assert_true(str_safe_redirect("http://app.example.test:8080/x", &http_scope));
    assert_true(str_safe_redirect("http://app.example.test/x", &http_scope));
    assert_true(str_safe_redirect("https://app.example.test/x", &http_scope));
    assert_true(str_safe_redirect("https://app.example.test:8080/x", &http_scope));
    assert_false(str_safe_redirect("http://app.example.test:8081/x", &http_scope));
    assert_false(str_safe_redirect("http://app.example.test:8080/x", &https_scope));
}

static void
test_url_split_reads_scheme_host_port_and_rest(void **state)
{
    (void)state;
    struct str_url u;
    assert_int_equal(str_url_split("https://App.Example.com:8443/a?b#c", &u), 0);
    assert_string_equal(u.scheme, "https");
    assert_string_equal(u.host, "app.example.com");
    assert_int_equal(u.port, 8443);
    assert_string_equal(u.rest, "/a?b#c");
    assert_int_equal(str_url_split("http://h", &u), 0);
    assert_int_equal(u.port, 80);
    assert_string_equal(u.rest, "");
    assert_true(str_host_within("a.example.com", "example.com"));
    assert_true(str_host_within("example.com", "example.com"));
    assert_false(str_host_within("badexample.com", "example.com"));
    assert_false(str_host_within("com", "example.com"));
}

static void
test_cookie_domain_refuses_public_suffixes_and_foreign_base_hosts(void **state)
{
    (void)state;
    char msg[400];
    assert_int_equal(conf_cookie_domain_check("example.com", "auth.example.com", msg, sizeof msg),
                     0);
    assert_int_equal(conf_cookie_domain_check("example.com", "example.com", msg, sizeof msg), 0);
    assert_int_equal(conf_cookie_domain_check("a.example.com", "b.a.example.com", msg, sizeof msg),
                     0);
    static const char *const refused[][2] = {
        {"com", "auth.example.com"},         {"localhost", "localhost"},
        {"co.uk", "auth.example.co.uk"},     {"github.io", "me.github.io"},
        {"CO.UK", "auth.example.co.uk"},     {"example.org", "auth.example.com"},
        {"example.com", "badexample.com"},   {"example.com", "example.com.evil.net"},
        {"auth.example.com", "example.com"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        msg[0] = '\0';
        assert_int_equal(conf_cookie_domain_check(refused[i][0], refused[i][1], msg, sizeof msg),
                         -1);
        assert_true(msg[0] != '\0');
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hostile_targets_are_refused_by_both_validators),
        cmocka_unit_test(test_paths_and_urls_within_the_cookie_domain_are_accepted),
        cmocka_unit_test(test_http_and_the_base_port_only_when_the_base_url_uses_them),
        cmocka_unit_test(test_url_split_reads_scheme_host_port_and_rest),
        cmocka_unit_test(test_cookie_domain_refuses_public_suffixes_and_foreign_base_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
