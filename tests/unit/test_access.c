/* tests/unit/test_access.c: the forward-auth rules: parsing, first match, host and path
 * matching, each policy, and path normalisation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "auth/access.h"

static struct access_rules *
rules(const char *const *text, size_t n)
{
    struct access_rules *rs = access_rules_new();
    char msg[256];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(access_rules_add(rs, text[i], (int)i + 10, msg, sizeof msg), 0);
    return rs;
}

static const struct access_subject anon = {0, NULL, NULL, NULL, 0};
static const struct access_subject member = {1, "member", "", "", 0};
static const struct access_subject admin = {1, "admin", "", "", 0};
static const struct access_subject finance_mfa = {1, "member", "staff\nfinance", "https://idp", 1};

static enum access_verdict
decide(const struct access_rules *rs, const char *host, const char *path,
       const struct access_subject *s)
{
    struct access_decision d;
    access_decide(rs, host, path, s, &d);
    return d.verdict;
}

static void
test_first_match_wins_and_default_applies_when_none_matches(void **state)
{
    (void)state;
    const char *const t[] = {"app.example.com /public bypass", "app.example.com / deny",
                             "app.example.com /public/x signed_in"};
    struct access_rules *rs = rules(t, 3);
    assert_int_equal(decide(rs, "app.example.com", "/public/x", &anon), ACCESS_ALLOW);
    assert_int_equal(decide(rs, "app.example.com", "/other", &admin), ACCESS_FORBID);
    assert_int_equal(decide(rs, "elsewhere.com", "/", &anon), ACCESS_SIGN_IN);
    assert_int_equal(decide(rs, "elsewhere.com", "/", &member), ACCESS_ALLOW);
    char msg[128];
    assert_int_equal(access_set_default(rs, "deny", msg, sizeof msg), 0);
    assert_int_equal(decide(rs, "elsewhere.com", "/", &admin), ACCESS_FORBID);
    assert_int_equal(access_set_default(rs, "allow", msg, sizeof msg), -1);
    struct access_decision d;
    access_decide(rs, "app.example.com", "/other", &admin, &d);
    assert_int_equal(d.rule->line, 11);
    assert_non_null(strstr(d.why, "line 11"));
    access_rules_free(rs);
}

static void
test_wildcard_host_covers_names_under_it_not_the_domain_or_lookalikes(void **state)
{
    (void)state;
    const char *const t[] = {"*.example.com / deny", "* / bypass"};
    struct access_rules *rs = rules(t, 2);
    assert_int_equal(decide(rs, "a.example.com", "/", &admin), ACCESS_FORBID);
    assert_int_equal(decide(rs, "a.b.example.com", "/", &admin), ACCESS_FORBID);
    assert_int_equal(decide(rs, "example.com", "/", &admin), ACCESS_ALLOW);
    assert_int_equal(decide(rs, "badexample.com", "/", &admin), ACCESS_ALLOW);
    assert_int_equal(decide(rs, "example.com.evil.net", "/", &admin), ACCESS_ALLOW);
    access_rules_free(rs);
}

static void
test_path_prefix_matches_at_a_segment_boundary(void **state)
{
    (void)state;
    const char *const t[] = {"h / deny", "h /app bypass", "h /dir/ bypass"};
    struct access_rules *rs = rules(t, 3);
    assert_ptr_equal(access_match(rs, "h", "/app"), &rs->rule[0]);
    access_rules_free(rs);
    const char *const u[] = {"h /app bypass", "h /dir/ bypass", "h / deny"};
    rs = rules(u, 3);
    assert_int_equal(decide(rs, "h", "/app", &anon), ACCESS_ALLOW);
    assert_int_equal(decide(rs, "h", "/app/x", &anon), ACCESS_ALLOW);
    assert_int_equal(decide(rs, "h", "/apps", &anon), ACCESS_FORBID);
    assert_int_equal(decide(rs, "h", "/dir/a", &anon), ACCESS_ALLOW);
    assert_int_equal(decide(rs, "h", "/dir", &anon), ACCESS_FORBID);
    access_rules_free(rs);
}

static void
test_conditions_roles_groups_idp_mfa_must_all_hold(void **state)
{
    (void)state;
    const char *const t[] = {"h /admin roles=owner,admin", "h /fin groups=finance mfa",
                             "h /idp idp=https://idp", "h /g groups=member"};
    struct access_rules *rs = rules(t, 4);
    assert_int_equal(decide(rs, "h", "/admin", &anon), ACCESS_SIGN_IN);
    assert_int_equal(decide(rs, "h", "/admin", &member), ACCESS_FORBID);
    assert_int_equal(decide(rs, "h", "/admin", &admin), ACCESS_ALLOW);
    assert_int_equal(decide(rs, "h", "/fin", &admin), ACCESS_FORBID);
    assert_int_equal(decide(rs, "h", "/fin", &finance_mfa), ACCESS_ALLOW);
    struct access_subject no_mfa = finance_mfa;
    no_mfa.mfa = 0;
    assert_int_equal(decide(rs, "h", "/fin", &no_mfa), ACCESS_FORBID);
    assert_int_equal(decide(rs, "h", "/idp", &finance_mfa), ACCESS_ALLOW);
    assert_int_equal(decide(rs, "h", "/idp", &admin), ACCESS_FORBID);
    /* Remote-Groups lists the role too, so groups= matches it. */
    assert_int_equal(decide(rs, "h", "/g", &member), ACCESS_ALLOW);
    /* "fin" is not "finance": whole names only */
    struct access_subject partial = {1, "member", "fin\nfinances", "", 1};
    assert_int_equal(decide(rs, "h", "/fin", &partial), ACCESS_FORBID);
    access_rules_free(rs);
}

static void
test_bad_rules_are_refused_with_a_reason(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "h",
        "h /",
        "h x signed_in",
        "h /a/../b deny",
        "h //a deny",
        "h /a%2f deny",
        "h /a?x deny",
        "h / frob",
        "h / roles=",
        "h / roles=a,,b",
        "h / groups=,a",
        "h / bypass mfa",
        "h / deny roles=a",
        "h / mfa mfa",
        "h_x / deny",
        "*.  / deny",
        "a..b / deny",
        "*x.com / deny",
        "h / idp=",
    };
    struct access_rules *rs = access_rules_new();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char msg[256] = "";
        assert_int_equal(access_rules_add(rs, bad[i], 1, msg, sizeof msg), -1);
        assert_true(msg[0] != '\0');
    }
    assert_int_equal(rs->n, 0);
    access_rules_free(rs);
}

static void
test_path_normalisation_resolves_dots_escapes_and_slashes(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"/", "/"},           {"/a/b", "/a/b"},      {"/a/b/", "/a/b/"},
        {"/a/../b", "/b"},    {"/a/./b", "/a/b"},    {"//a///b", "/a/b"},
        {"/../../a", "/a"},   {"/a/%2e%2e/b", "/b"}, {"/a%2F..%2Fb", "/b"},
        {"/a?x=/../y", "/a"}, {"/a#frag", "/a"},     {"/%41", "/A"},
    };
    char out[64];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(access_path_normalize(ok[i].in, out, sizeof out), 0);
        assert_string_equal(out, ok[i].out);
    }
    static const char *const bad[] = {"", "a", "/%00", "/%0a", "/%zz", "/%4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(access_path_normalize(bad[i], out, sizeof out), -1);
    assert_int_equal(access_path_normalize("/aaaaaaaaaa", out, 5), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_match_wins_and_default_applies_when_none_matches),
        cmocka_unit_test(test_wildcard_host_covers_names_under_it_not_the_domain_or_lookalikes),
        cmocka_unit_test(test_path_prefix_matches_at_a_segment_boundary),
        cmocka_unit_test(test_conditions_roles_groups_idp_mfa_must_all_hold),
        cmocka_unit_test(test_bad_rules_are_refused_with_a_reason),
        cmocka_unit_test(test_path_normalisation_resolves_dots_escapes_and_slashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
