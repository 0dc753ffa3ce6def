/* tests/unit/test_authz.c: the permission rules pages, API and CLI go through. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "auth/audit.h"
#include "auth/authz.h"

static struct actor
as(const char *role, unsigned perms)
{
    return (struct actor){"user:x@example.com", role, "127.0.0.1", perms};
}

static const struct authz_role owner = {"owner", PERM_ALL};
static const struct authz_role admin = {"admin", PERM_ADMIN_DEFAULT};
static const struct authz_role member = {"member", 0};

static void
test_owner_and_cli_may_do_everything(void **state)
{
    (void)state;
    const char *actors[] = {"owner", "cli", "system"};
    const struct authz_role *targets[] = {&owner, &admin, &member};
    for (int a = 0; a < 3; a++)
        for (int op = 0; op < AZ_OP_COUNT; op++)
            for (int t = 0; t < 3; t++) {
                struct actor who = as(actors[a], 0);
                assert_true(authz_allowed(&who, (enum authz_op)op, targets[t], NULL));
            }
}

static void
test_admin_manages_members_only(void **state)
{
    (void)state;
    const char *why = NULL;
    struct actor who = as("admin", PERM_ADMIN_DEFAULT);
    assert_true(authz_allowed(&who, AZ_DASHBOARD, NULL, NULL));
    assert_true(authz_allowed(&who, AZ_POLICY, NULL, NULL));
    assert_true(authz_allowed(&who, AZ_IDP, NULL, NULL));
    assert_true(authz_allowed(&who, AZ_SAML_LOG, NULL, NULL));
    assert_true(authz_allowed(&who, AZ_AUDIT, NULL, NULL));
    assert_true(authz_allowed(&who, AZ_ROLES_VIEW, NULL, NULL));
    assert_true(authz_allowed(&who, AZ_USER, &member, NULL));
    assert_true(authz_allowed(&who, AZ_GRANT, &member, NULL));
    assert_false(authz_allowed(&who, AZ_USER, &owner, &why));
    assert_non_null(strstr(why, "Only an owner can change"));
    assert_false(authz_allowed(&who, AZ_USER, &admin, NULL));
    assert_false(authz_allowed(&who, AZ_GRANT, &owner, NULL));
    assert_false(authz_allowed(&who, AZ_GRANT, &admin, NULL));
    assert_false(authz_allowed(&who, AZ_USER, NULL, NULL));
    why = NULL;
    assert_false(authz_allowed(&who, AZ_PASSWORD_SWITCH, NULL, &why));
    assert_non_null(strstr(why, "Only an owner"));
    assert_false(authz_allowed(&who, AZ_ROLES, NULL, NULL));
}

static void
test_trust_and_roles_stay_the_owners_whatever_a_role_holds(void **state)
{
    (void)state;
    const char *why = NULL;
    struct actor who = as("admin", PERM_ALL);
    assert_true(authz_allowed(&who, AZ_IDP, NULL, NULL));
    assert_false(authz_allowed(&who, AZ_IDP_TRUST, NULL, &why));
    assert_non_null(strstr(why, "Only an owner"));
    assert_false(authz_allowed(&who, AZ_ROLES, NULL, NULL));
    assert_false(authz_holds(&who, PERM_IDPS_TRUST));
    assert_false(authz_holds(&who, PERM_ROLES_EDIT));
    struct actor o = as("owner", 0), c = as("cli", 0);
    assert_true(authz_allowed(&o, AZ_IDP_TRUST, NULL, NULL));
    assert_true(authz_allowed(&c, AZ_IDP_TRUST, NULL, NULL));
    assert_true(authz_holds(&o, PERM_ROLES_EDIT));
}

static void
test_a_custom_role_does_what_it_holds_and_nothing_else(void **state)
{
    (void)state;
    struct actor who = as("auditor", PERM_BIT(PERM_SAML_LOG_VIEW));
    for (int op = 0; op < AZ_OP_COUNT; op++) {
        const char *why = NULL;
        int ok = authz_allowed(&who, (enum authz_op)op, &member, &why);
        assert_int_equal(ok, op == AZ_SAML_LOG);
        if (!ok)
            assert_non_null(why);
    }
    for (int p = 0; p < PERM_COUNT; p++)
        assert_int_equal(authz_holds(&who, (enum authz_perm)p), p == PERM_SAML_LOG_VIEW);
}

static void
test_users_edit_reaches_only_roles_holding_less(void **state)
{
    (void)state;
    unsigned mine =
        PERM_BIT(PERM_USERS_VIEW) | PERM_BIT(PERM_USERS_EDIT) | PERM_BIT(PERM_SAML_LOG_VIEW);
    struct actor who = as("helpdesk", mine);
    struct authz_role less = {"viewer", PERM_BIT(PERM_SAML_LOG_VIEW)};
    struct authz_role same = {"peer", mine};
    struct authz_role other = {"auditor", PERM_BIT(PERM_AUDIT_VIEW)};
    assert_true(authz_allowed(&who, AZ_GRANT, &less, NULL));
    assert_true(authz_allowed(&who, AZ_USER, &less, NULL));
    assert_true(authz_allowed(&who, AZ_GRANT, &member, NULL));
    assert_false(authz_allowed(&who, AZ_GRANT, &same, NULL));
    assert_false(authz_allowed(&who, AZ_USER, &same, NULL));
    assert_false(authz_allowed(&who, AZ_GRANT, &other, NULL));
    assert_false(authz_allowed(&who, AZ_GRANT, &admin, NULL));
    /* Owner-only bits a role could not hold count neither way. */
    struct authz_role owner_any = {"owner", 0};
    assert_false(authz_allowed(&who, AZ_GRANT, &owner_any, NULL));
}

static void
test_member_and_unknown_roles_may_do_nothing(void **state)
{
    (void)state;
    const char *actors[] = {"member", "System", "", NULL, "Owner"};
    for (int a = 0; a < 5; a++)
        for (int op = 0; op < AZ_OP_COUNT; op++) {
            const char *why = NULL;
            struct actor who = as(actors[a], 0);
            assert_false(authz_allowed(&who, (enum authz_op)op, &member, &why));
            assert_non_null(why);
        }
    assert_false(authz_allowed(NULL, AZ_DASHBOARD, NULL, NULL));
}

static void
test_every_operation_needs_a_listed_permission(void **state)
{
    (void)state;
    const struct authz_perm_def *d = authz_perms();
    for (int op = 0; op < AZ_OP_COUNT; op++) {
        enum authz_perm p = authz_op_perm((enum authz_op)op);
        assert_true((unsigned)p < PERM_COUNT);
        assert_non_null(d[p].name);
    }
    for (int p = 0; p < PERM_COUNT; p++) {
        assert_non_null(d[p].name);
        assert_non_null(d[p].label);
    }
}

static void
test_permission_lists_parse_and_format(void **state)
{
    (void)state;
    unsigned set = 0;
    char bad[80] = "", out[512];
    assert_int_equal(authz_perms_parse("saml_log.view, audit.view", &set, bad, sizeof bad), 0);
    assert_int_equal(set, PERM_BIT(PERM_SAML_LOG_VIEW) | PERM_BIT(PERM_AUDIT_VIEW));
    assert_string_equal(authz_perms_format(set, out, sizeof out), "saml_log.view,audit.view");
    assert_int_equal(authz_perms_parse("", &set, bad, sizeof bad), 0);
    assert_int_equal(set, 0);
    assert_int_equal(authz_perms_parse("*", &set, bad, sizeof bad), 0);
    assert_int_equal(set, PERM_GRANTABLE);
    assert_int_equal(authz_perms_parse("users.view,users.delete", &set, bad, sizeof bad), -1);
    assert_string_equal(bad, "users.delete");
    assert_int_equal(authz_perms_parse("users.vie", &set, bad, sizeof bad), -1);
    assert_int_equal(authz_perms_parse(PERM_ALL ? "idps.trust" : "", &set, bad, sizeof bad), 0);
    assert_int_equal(set, PERM_BIT(PERM_IDPS_TRUST));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_owner_and_cli_may_do_everything),
        cmocka_unit_test(test_admin_manages_members_only),
        cmocka_unit_test(test_trust_and_roles_stay_the_owners_whatever_a_role_holds),
        cmocka_unit_test(test_a_custom_role_does_what_it_holds_and_nothing_else),
        cmocka_unit_test(test_users_edit_reaches_only_roles_holding_less),
        cmocka_unit_test(test_member_and_unknown_roles_may_do_nothing),
        cmocka_unit_test(test_every_operation_needs_a_listed_permission),
        cmocka_unit_test(test_permission_lists_parse_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
