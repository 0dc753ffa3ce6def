/* tests/unit/test_sp_state.c: the SAML state's IdP providers (sp/sp_state.c): built at an IdP's
 * first use from the registry's metadata, kept, checked again after the registry moved (only a
 * changed IdP rebuilt), dropped when the IdP left, and bounded (least recently used first). The
 * SP-initiated AuthnRequest is the use here: it needs the IdP's provider and nothing signed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include <cmocka.h>

#include "sp/sp.h"

#define N_IDPS 6

struct registry {
    int registered[N_IDPS];
    int generation[N_IDPS]; /* changes the IdP's metadata (its SSO URL) */
    _Atomic int reads;
};

static char *cert_pem;
static struct sp *sp;
static struct registry reg;
static char dir[] = "/tmp/test_sp_state.XXXXXX";

static void
entity(int i, char *out, size_t len)
{
    snprintf(out, len, "https://idp%d.example/idp", i);
}

static int
registry_metadata(const char *entity_id, char **xml_out, void *ctx)
{
    struct registry *r = ctx;
    r->reads++;
    for (int i = 0; i < N_IDPS; i++) {
        char id[64], sso[96], err[256];
        entity(i, id, sizeof id);
        if (strcmp(id, entity_id) != 0 || !r->registered[i])
            continue;
        snprintf(sso, sizeof sso, "https://idp%d.example/sso/%d", i, r->generation[i]);
        struct sp_idp_fields f = {
            .entity_id = id, .sso_url = sso, .certs = {cert_pem}, .n_certs = 1};
        *xml_out = sp_idp_metadata_from_fields(&f, err, sizeof err);
        return *xml_out ? 0 : -1;
    }
    return 1;
}

/* An AuthnRequest to IdP i: 0 when built (its URL names the IdP's current SSO URL). */
static int
request_to(int i)
{
    char id[64], rid[256], err[512];
    entity(i, id, sizeof id);
    struct sp_out out;
    int rc = sp_authn_request(sp, id, "relay", NULL, 0, &out, rid, sizeof rid, err, sizeof err);
    if (rc == 0) {
        char sso[96];
        snprintf(sso, sizeof sso, "https://idp%d.example/sso/%d?", i, reg.generation[i]);
        assert_true(strncmp(out.url, sso, strlen(sso)) == 0);
        sp_out_free(&out);
    }
    return rc;
}

static struct sp_idp_stats
stats(void)
{
    struct sp_idp_stats s;
    sp_idp_stats(sp, &s);
    return s;
}

static int
setup(void **state)
{
    (void)state;
    char err[512], key[128], cert[128];
    assert_non_null(mkdtemp(dir));
    snprintf(key, sizeof key, "%s/sp-key.pem", dir);
    snprintf(cert, sizeof cert, "%s/sp-cert.pem", dir);
    assert_int_equal(sp_global_init(err, sizeof err), 0);
    assert_int_equal(sp_keys_ensure(key, cert, "https://sp.example/saml/metadata", err, sizeof err),
                     0);
    cert_pem = sp_read_file(cert, 64 * 1024, NULL, err, sizeof err);
    assert_non_null(cert_pem);
    char *md = sp_metadata_xml("https://sp.example/saml/metadata", "https://sp.example",
                               "https://sp.example/saml/acs", cert_pem);
    sp = sp_new(md, key, cert, err, sizeof err);
    free(md);
    assert_non_null(sp);
    sp_set_idp_source(sp, registry_metadata, &reg, 3);
    unlink(key);
    unlink(cert);
    rmdir(dir);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    sp_free(sp);
    free(cert_pem);
    return 0;
}

static void
test_an_idp_is_built_at_its_first_use_and_kept(void **state)
{
    (void)state;
    memset(&reg, 0, sizeof reg);
    reg.registered[0] = 1;
    sp_idps_version(sp, 1);
    assert_int_equal(stats().built, 0);
    assert_int_equal(request_to(0), 0);
    assert_int_equal(stats().built, 1);
    assert_int_equal(request_to(0), 0);
    assert_int_equal(stats().built, 1);
    assert_int_equal(reg.reads, 1); /* kept: the registry is not read again */
}

static void
test_an_unregistered_idp_is_refused_and_nothing_built(void **state)
{
    (void)state;
    unsigned long built = stats().built;
    assert_int_not_equal(request_to(5), 0);
    assert_int_equal(stats().built, built);
}

static void
test_a_registry_change_rebuilds_only_the_idp_whose_metadata_changed(void **state)
{
    (void)state;
    reg.registered[1] = 1;
    assert_int_equal(request_to(1), 0);
    unsigned long built = stats().built;
    int reads = reg.reads;
    reg.generation[1]++; /* IdP 1's metadata changes; IdP 0's does not */
    sp_idps_version(sp, 2);
    assert_int_equal(request_to(0), 0);
    assert_int_equal(stats().built, built); /* checked, same metadata: kept */
    assert_int_equal(request_to(1), 0);     /* the new SSO URL: rebuilt */
    assert_int_equal(stats().built, built + 1);
    assert_int_equal(reg.reads, reads + 2);
    assert_int_equal(request_to(0), 0); /* confirmed at version 2: not read again */
    assert_int_equal(reg.reads, reads + 2);
}

static void
test_an_idp_that_left_the_registry_is_refused_and_dropped(void **state)
{
    (void)state;
    size_t loaded = stats().loaded;
    reg.registered[1] = 0;
    sp_idps_version(sp, 3);
    assert_int_not_equal(request_to(1), 0);
    assert_int_equal(stats().loaded, loaded - 1);
    assert_int_equal(request_to(0), 0);
}

static void
test_the_least_recently_used_idp_goes_past_the_bound(void **state)
{
    (void)state;
    for (int i = 0; i < N_IDPS; i++)
        reg.registered[i] = 1;
    sp_idps_version(sp, 4);
    for (int i = 0; i < 5; i++)
        assert_int_equal(request_to(i), 0);
    struct sp_idp_stats s = stats();
    assert_int_equal(s.max, 3);
    assert_int_equal(s.loaded, 3); /* IdPs 2, 3 and 4 */
    unsigned long built = s.built, evicted = s.evicted;
    assert_true(evicted >= 2);
    assert_int_equal(request_to(4), 0); /* kept */
    assert_int_equal(stats().built, built);
    assert_int_equal(request_to(0), 0); /* evicted: built again, IdP 2 goes */
    assert_int_equal(stats().built, built + 1);
    assert_int_equal(stats().evicted, evicted + 1);
    assert_int_equal(stats().loaded, 3);
}

static _Atomic int failures;

static void *
hammer(void *arg)
{
    unsigned seed = (unsigned)(size_t)arg;
    for (int k = 0; k < 150; k++) {
        int i = (int)(rand_r(&seed) % 5);
        if (request_to(i) != 0)
            failures++;
        if (k % 25 == 0)
            sp_idps_version(sp, 100 + k);
    }
    return NULL;
}

/* Four threads requesting five IdPs through a bound of three, the registry version moving:
 * every request is built (never an IdP evicted between its check and its use), nothing
 * crashes or deadlocks. */
static void
test_threads_share_the_state_while_it_evicts_and_rechecks(void **state)
{
    (void)state;
    pthread_t t[4];
    failures = 0;
    for (size_t i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer, (void *)(i + 1));
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(failures, 0);
    assert_true(stats().loaded <= 3);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_idp_is_built_at_its_first_use_and_kept),
        cmocka_unit_test(test_an_unregistered_idp_is_refused_and_nothing_built),
        cmocka_unit_test(test_a_registry_change_rebuilds_only_the_idp_whose_metadata_changed),
        cmocka_unit_test(test_an_idp_that_left_the_registry_is_refused_and_dropped),
        cmocka_unit_test(test_the_least_recently_used_idp_goes_past_the_bound),
        cmocka_unit_test(test_threads_share_the_state_while_it_evicts_and_rechecks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
