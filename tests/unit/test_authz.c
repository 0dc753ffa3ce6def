/* tests/unit/test_authz.c: the role rules, the one table pages, API and CLI go through. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "auth/authz.h"

static const char *const roles[] = {"owner", "admin", "member"};

static void
test_owner_and_cli_may_do_everything(void **state)
{
    (void)state;
    const char *actors[] = {"owner", "cli", "system"};
    for (int a = 0; a < 3; a++)
        for (int op = AZ_ADMIN_AREA; op <= AZ_LOGS; op++)
            for (int t = 0; t < 3; t++)
                assert_true(authz_allowed(actors[a], (enum authz_op)op, roles[t], NULL));
}

static void
test_admin_manages_members_only(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_true(authz_allowed("admin", AZ_ADMIN_AREA, NULL, NULL));
    assert_true(authz_allowed("admin", AZ_POLICY, NULL, NULL));
    assert_true(authz_allowed("admin", AZ_IDP, NULL, NULL));
    assert_true(authz_allowed("admin", AZ_LOGS, NULL, NULL));
    assert_true(authz_allowed("admin", AZ_USER, "member", NULL));
    assert_true(authz_allowed("admin", AZ_GRANT, "member", NULL));
    assert_false(authz_allowed("admin", AZ_USER, "owner", &why));
    assert_non_null(why);
    assert_false(authz_allowed("admin", AZ_USER, "admin", NULL));
    assert_false(authz_allowed("admin", AZ_GRANT, "owner", NULL));
    assert_false(authz_allowed("admin", AZ_GRANT, "admin", NULL));
    assert_false(authz_allowed("admin", AZ_PASSWORD_SWITCH, NULL, &why));
    assert_non_null(why);
}

static void
test_trust_decisions_about_idps_are_the_owners(void **state)
{
    (void)state;
    const char *why = NULL;
    assert_true(authz_allowed("admin", AZ_IDP, NULL, NULL));
    assert_false(authz_allowed("admin", AZ_IDP_TRUST, NULL, &why));
    assert_non_null(why);
    assert_non_null(strstr(why, "Only an owner"));
    assert_true(authz_allowed("owner", AZ_IDP_TRUST, NULL, NULL));
    assert_true(authz_allowed("cli", AZ_IDP_TRUST, NULL, NULL));
    assert_false(authz_allowed("member", AZ_IDP, NULL, NULL));
}

static void
test_member_and_unknown_roles_may_do_nothing(void **state)
{
    (void)state;
    const char *actors[] = {"member", "System", "", NULL, "Owner"};
    for (int a = 0; a < 5; a++)
        for (int op = AZ_ADMIN_AREA; op <= AZ_LOGS; op++) {
            const char *why = NULL;
            assert_false(authz_allowed(actors[a], (enum authz_op)op, "member", &why));
            assert_non_null(why);
        }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_owner_and_cli_may_do_everything),
        cmocka_unit_test(test_admin_manages_members_only),
        cmocka_unit_test(test_trust_decisions_about_idps_are_the_owners),
        cmocka_unit_test(test_member_and_unknown_roles_may_do_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
