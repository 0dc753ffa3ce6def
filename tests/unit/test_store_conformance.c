/* tests/unit/test_store_conformance.c: what auth/store.h promises, checked through store.h alone
 * on every driver: SQLite always, and PostgreSQL too when GATEHOUSE_TEST_PG names a database (a
 * libpq conninfo; `make test-store-pg` starts a private one). Each test starts from an empty
 * store. Not found and duplicates answer 1; single-use things are taken once even by threads
 * racing on their own connections; counters are exact; lists come in their stated order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <cmocka.h>

#include <libpq-fe.h>

#include "auth/log.h"
#include "auth/store.h"

#define NOW ((time_t)1800000000)
#define RACERS 6

struct fixture {
    char where[1200];
    char dir[64];
    struct store *s; /* two connections to one store */
    struct store *t;
    long long uid;
};

static const char *pg_conninfo; /* the group being run: NULL = SQLite */

/* An empty PostgreSQL database: the previous test's schema dropped. */
static int
pg_empty(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    int rc = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, "SET client_min_messages = warning; "
                                "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
        rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
        if (rc != 0)
            fprintf(stderr, "pg_empty: %s", PQerrorMessage(c));
        PQclear(r);
    } else {
        fprintf(stderr, "pg_empty: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return rc;
}

static long long
add_user(struct store *s, const char *email, const char *role)
{
    struct user u;
    memset(&u, 0, sizeof u);
    snprintf(u.email, sizeof u.email, "%s", email);
    snprintf(u.role, sizeof u.role, "%s", role);
    snprintf(u.auth_method, sizeof u.auth_method, "password");
    snprintf(u.password_hash, sizeof u.password_hash, "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA");
    u.created_at = u.password_changed_at = NOW;
    long long id = 0;
    if (store_user_insert(s, &u, &id) != 0)
        return -1;
    return id;
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char err[512];
    if (f == NULL)
        return -1;
    if (pg_conninfo != NULL) {
        if (pg_empty(pg_conninfo) != 0)
            return -1;
        snprintf(f->where, sizeof f->where, "postgres:%s", pg_conninfo);
    } else {
        snprintf(f->dir, sizeof f->dir, "/tmp/gh-conformance-XXXXXX");
        if (mkdtemp(f->dir) == NULL)
            return -1;
        snprintf(f->where, sizeof f->where, "sqlite:%s/gatehouse.db", f->dir);
    }
    f->s = store_open(f->where, err, sizeof err);
    if (f->s != NULL)
        f->t = store_open(f->where, err, sizeof err);
    if (f->s == NULL || f->t == NULL) {
        fprintf(stderr, "store_open: %s\n", err);
        return -1;
    }
    f->uid = add_user(f->s, "first@example.com", "member");
    *state = f;
    return f->uid > 0 ? 0 : -1;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    store_close(f->t);
    store_shutdown();
    if (f->dir[0] != '\0') {
        const char *files[] = {"gatehouse.db", "gatehouse.db-wal", "gatehouse.db-shm"};
        char path[160];
        for (size_t i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
            unlink(path);
        }
        rmdir(f->dir);
    }
    free(f);
    return 0;
}

/* ---- racing threads, each on its own connection ---- */

struct race {
    struct fixture *f;
    int (*fn)(struct store *s, int i, void *arg);
    void *arg;
    pthread_barrier_t go;
    int result[RACERS];
};

struct racer {
    struct race *r;
    int i;
};

static void *
racer_main(void *p)
{
    struct racer *me = p;
    char err[512];
    struct store *s = store_open(me->r->f->where, err, sizeof err);
    pthread_barrier_wait(&me->r->go);
    me->r->result[me->i] = s ? me->r->fn(s, me->i, me->r->arg) : -2;
    store_close(s);
    return NULL;
}

/* Runs fn on RACERS threads at once; how many answered 0 (any -1 fails the test). */
static int
race(struct fixture *f, int (*fn)(struct store *, int, void *), void *arg)
{
    struct race r = {.f = f, .fn = fn, .arg = arg};
    pthread_t th[RACERS];
    struct racer me[RACERS];
    pthread_barrier_init(&r.go, NULL, RACERS);
    for (int i = 0; i < RACERS; i++) {
        me[i] = (struct racer){&r, i};
        assert_int_equal(pthread_create(&th[i], NULL, racer_main, &me[i]), 0);
    }
    int zeros = 0;
    for (int i = 0; i < RACERS; i++) {
        pthread_join(th[i], NULL);
        assert_true(r.result[i] >= 0);
        zeros += r.result[i] == 0;
    }
    pthread_barrier_destroy(&r.go);
    return zeros;
}

/* ---- the store itself ---- */

static void
test_a_second_connection_reads_what_the_first_wrote(void **state)
{
    struct fixture *f = *state;
    struct user u;
    assert_int_equal(store_user_by_id(f->t, f->uid, &u), 0);
    assert_string_equal(u.email, "first@example.com");
    assert_int_equal(store_setting_put(f->s, "k", "v1", NOW), 0);
    char v[16];
    assert_int_equal(store_setting_get(f->t, "k", v, sizeof v), 0);
    assert_string_equal(v, "v1");
    assert_int_equal(store_schema_version(f->s), store_schema_version(f->t));
    assert_true(store_schema_version(f->s) > 0);
    assert_int_equal(store_ping(f->s), 0);
    assert_int_equal(store_health(f->s), 0);
    char err[256];
    assert_int_equal(store_integrity_check(f->s, err, sizeof err), 0);
    assert_int_equal(store_probe_write(f->s, NOW), 0);
    assert_int_equal(store_writes_failing(NULL, 0), 0);
}

static void
test_a_rolled_back_transaction_leaves_nothing_and_nesting_is_refused(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_begin_write(f->s), 0);
    assert_int_equal(store_begin_write(f->s), -1);
    assert_int_equal(store_setting_put(f->s, "gone", "x", NOW), 0);
    char v[16];
    assert_int_equal(store_setting_get(f->s, "gone", v, sizeof v), 0); /* its own writes */
    store_rollback(f->s);
    assert_int_equal(store_setting_get(f->s, "gone", v, sizeof v), 1);
    assert_int_equal(store_setting_get(f->t, "gone", v, sizeof v), 1);
    assert_int_equal(store_begin_write(f->s), 0);
    assert_int_equal(store_setting_put(f->s, "kept", "y", NOW), 0);
    assert_int_equal(store_commit(f->s), 0);
    assert_int_equal(store_setting_get(f->t, "kept", v, sizeof v), 0);
}

static void
test_one_node_jobs_are_held_by_one_connection(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_try_job_lock(f->s, "prune"), 1);
    assert_int_equal(store_try_job_lock(f->s, "prune"), 1);
    if (strcmp(store_driver_name(f->s), "sqlite") == 0) {
        assert_int_equal(store_try_job_lock(f->t, "prune"), 1); /* one node: always */
        return;
    }
    assert_string_equal(store_driver_name(f->s), "postgres");
    assert_int_equal(store_try_job_lock(f->t, "prune"), 0);
    assert_int_equal(store_try_job_lock(f->t, "refresh"), 1);
    store_close(f->s); /* the holder goes: the job is free */
    char err[256];
    f->s = store_open(f->where, err, sizeof err);
    assert_non_null(f->s);
    assert_int_equal(store_try_job_lock(f->t, "prune"), 1);
}

/* PostgreSQL goes away under the store (a restart, a failover): every Gatehouse connection of
 * the database is ended from outside. */
static int
pg_end_connections(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    int rc = -1;
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *r = PQexec(c, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                                "AND application_name = 'gatehouse'");
        rc = PQresultStatus(r) == PGRES_TUPLES_OK && strtol(PQgetvalue(r, 0, 0), NULL, 10) >= 2
                 ? 0
                 : -1;
        PQclear(r);
    }
    PQfinish(c);
    return rc;
}

static void
test_a_lost_connection_fails_calls_then_is_opened_again_without_a_restart(void **state)
{
    struct fixture *f = *state;
    if (pg_conninfo == NULL) { /* SQLite: no server to lose */
        assert_string_equal(store_driver_name(f->s), "sqlite");
        return;
    }
    char v[16], why[256] = "";
    assert_int_equal(store_setting_put(f->s, "k", "before", NOW), 0);
    assert_int_equal(store_begin_write(f->t), 0);
    assert_int_equal(pg_end_connections(pg_conninfo), 0);
    /* Inside a transaction: its work is gone, the commit says so, a rollback is clean. */
    assert_int_equal(store_setting_put(f->t, "k", "lost", NOW), -1);
    assert_int_equal(store_commit(f->t), -1);
    /* Outside one: the call fails at once, and readiness learns why. */
    assert_int_equal(store_setting_get(f->s, "k", v, sizeof v), -1);
    assert_int_equal(store_writes_failing(why, sizeof why), 1);
    assert_non_null(strstr(why, "PostgreSQL"));
    /* Once the reconnection bound has passed, the next call opens the connection again. */
    struct timespec wait = {0, 600 * 1000 * 1000};
    nanosleep(&wait, NULL);
    assert_int_equal(store_setting_get(f->s, "k", v, sizeof v), 0);
    assert_string_equal(v, "before");
    assert_int_equal(store_setting_put(f->t, "k", "after", NOW), 0);
    assert_int_equal(store_writes_failing(NULL, 0), 0);
    assert_int_equal(store_begin_write(f->t), 0);
    assert_int_equal(store_setting_put(f->t, "k", "again", NOW), 0);
    assert_int_equal(store_commit(f->t), 0);
    assert_int_equal(store_setting_get(f->s, "k", v, sizeof v), 0);
    assert_string_equal(v, "again");
}

/* ---- users ---- */

static void
test_users_duplicates_and_absence_answer_one(void **state)
{
    struct fixture *f = *state;
    struct user u;
    assert_int_equal(add_user(f->s, "first@example.com", "admin"), -1);
    struct user dup;
    memset(&dup, 0, sizeof dup);
    snprintf(dup.email, sizeof dup.email, "first@example.com");
    snprintf(dup.role, sizeof dup.role, "member");
    snprintf(dup.auth_method, sizeof dup.auth_method, "password");
    long long id = 0;
    assert_int_equal(store_user_insert(f->s, &dup, &id), 1);
    assert_int_equal(store_user_by_email(f->s, "nobody@example.com", &u), 1);
    assert_int_equal(store_user_by_id(f->s, f->uid + 1000, &u), 1);
    assert_int_equal(store_user_set_role(f->s, f->uid + 1000, "admin"), 1);
    assert_int_equal(store_user_set_disabled(f->s, f->uid + 1000, 1), 1);
    assert_int_equal(store_user_set_name(f->s, f->uid + 1000, "x"), 1);
}

static int
collect_email(const struct user *u, void *ctx)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 256 - n, "%s%s", n ? "," : "", u->email);
    return 0;
}

static void
test_users_typed_setters_counts_and_order(void **state)
{
    struct fixture *f = *state;
    long long b = add_user(f->s, "b@example.com", "admin");
    long long a = add_user(f->s, "a@example.com", "owner");
    assert_true(b > f->uid && a > b); /* ids are new each time */
    assert_int_equal(store_user_set_role(f->s, b, "owner"), 0);
    assert_int_equal(store_user_set_disabled(f->s, a, 1), 0);
    assert_int_equal(store_user_set_name(f->s, a, "Ann"), 0);
    struct user u;
    assert_int_equal(store_user_by_email(f->t, "a@example.com", &u), 0);
    assert_string_equal(u.status, "disabled");
    assert_string_equal(u.display_name, "Ann");
    assert_string_equal(u.role, "owner");
    long long n = -1;
    assert_int_equal(store_user_count(f->s, NULL, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(store_user_count(f->s, "owner", &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_user_count_active(f->s, "owner", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_user_set_disabled(f->s, a, 0), 0);
    assert_int_equal(store_user_count_active(f->s, "owner", &n), 0);
    assert_int_equal(n, 2);
    char list[256] = "";
    assert_int_equal(store_user_list(f->s, collect_email, list), 0);
    assert_string_equal(list, "a@example.com,b@example.com,first@example.com");
}

static void
test_password_history_is_newest_first_and_counts_own_changes(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_user_set_password(f->s, f->uid, "h1", 0, NOW + 1, "initial"), 0);
    assert_int_equal(store_user_set_password(f->s, f->uid, "h2", 0, NOW + 2, "user"), 0);
    assert_int_equal(store_user_set_password(f->s, f->uid, "h3", 1, NOW + 3, "admin"), 0);
    assert_int_equal(store_user_set_password(f->s, f->uid, "h4", 0, NOW + 4, "self_reset"), 0);
    char h[3][STORE_HASH_MAX];
    size_t n = 0;
    assert_int_equal(store_password_history(f->s, f->uid, h, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(h[0], "h4");
    assert_string_equal(h[2], "h2");
    time_t times[8];
    assert_int_equal(store_password_changes_since(f->s, f->uid, NOW + 2, times, 8, &n), 0);
    assert_int_equal(n, 2); /* user and self_reset, not admin or initial */
    assert_int_equal(times[0], NOW + 4);
    assert_int_equal(store_user_rehash(f->s, f->uid, "h4b"), 0);
    struct user u;
    assert_int_equal(store_user_by_id(f->s, f->uid, &u), 0);
    assert_string_equal(u.password_hash, "h4b");
    assert_int_equal(u.password_changed_at, NOW + 4);
    assert_int_equal(u.must_change, 0);
    assert_int_equal(store_user_set_must_change(f->s, f->uid, 2), 0);
    assert_int_equal(store_user_set_login(f->s, f->uid, NOW + 9), 0);
    assert_int_equal(store_user_by_id(f->s, f->uid, &u), 0);
    assert_int_equal(u.must_change, 2);
    assert_int_equal(u.last_login_at, NOW + 9);
}

/* One failed sign-in the way login.c counts it: read, add one, put, in a write transaction. */
static int
fail_once(struct store *s, int i, void *arg)
{
    (void)i;
    (void)arg;
    for (int k = 0; k < 5; k++) {
        struct lockout_row row;
        if (store_begin_write(s) != 0)
            return -1;
        if (store_lockout_get(s, "race@example.com", &row) < 0) {
            store_rollback(s);
            return -1;
        }
        row.failures++;
        row.first_failure = NOW;
        if (store_lockout_put(s, "race@example.com", &row) != 0 || store_commit(s) != 0)
            return -1;
    }
    return 0;
}

static void
test_lockout_counts_are_exact_across_connections(void **state)
{
    struct fixture *f = *state;
    struct lockout_row row;
    assert_int_equal(store_lockout_get(f->s, "race@example.com", &row), 1);
    assert_int_equal(race(f, fail_once, NULL), RACERS);
    assert_int_equal(store_lockout_get(f->t, "race@example.com", &row), 0);
    assert_int_equal(row.failures, RACERS * 5);
    assert_int_equal(store_lockout_clear(f->s, "race@example.com"), 0);
    assert_int_equal(store_lockout_get(f->t, "race@example.com", &row), 1);
}

static int
count_locked(const char *email, const struct lockout_row *row, void *ctx)
{
    (void)email;
    *(int *)ctx += row->locked_until != 0;
    return 0;
}

static void
test_lockouts_each_lists_only_addresses_once_locked(void **state)
{
    struct fixture *f = *state;
    struct lockout_row locked = {6, NOW, NOW + 1800}, counting = {2, NOW, 0};
    assert_int_equal(store_lockout_put(f->s, "a@example.com", &locked), 0);
    assert_int_equal(store_lockout_put(f->s, "b@example.com", &counting), 0);
    int n = 0;
    assert_int_equal(store_lockouts_each(f->s, count_locked, &n), 0);
    assert_int_equal(n, 1);
}

/* ---- sessions ---- */

static void
make_session(struct session_row *r, const char *hash, long long uid, int kind)
{
    memset(r, 0, sizeof *r);
    snprintf(r->token_hash, sizeof r->token_hash, "%s", hash);
    r->user_id = uid;
    r->kind = kind;
    r->created_at = r->last_seen = NOW;
}

static void
test_sessions_are_read_touched_and_ended_everywhere(void **state)
{
    struct fixture *f = *state;
    struct session_row r, got;
    struct user u;
    make_session(&r, "s1", f->uid, 0);
    snprintf(r.groups, sizeof r.groups, "staff\nops");
    r.mfa = 1;
    r.ends_at = NOW + 3600;
    assert_int_equal(store_session_insert(f->s, &r), 0);
    make_session(&r, "s2", f->uid, 1);
    assert_int_equal(store_session_insert(f->s, &r), 0);
    make_session(&r, "s3", f->uid, 0);
    assert_int_equal(store_session_insert(f->s, &r), 0);
    long long version = -1;
    assert_int_equal(store_session_user_get(f->t, "s1", &got, &u, &version), 0);
    assert_int_equal(version, 0); /* no setting stored yet */
    assert_string_equal(u.email, "first@example.com");
    assert_string_equal(got.groups, "staff\nops");
    assert_int_equal(got.mfa, 1);
    assert_int_equal(got.ends_at, NOW + 3600);
    assert_int_equal(store_session_get(f->t, "nope", &got), 1);
    assert_int_equal(store_session_user_get(f->t, "nope", &got, &u, &version), 1);
    assert_int_equal(store_session_touch(f->s, "s1", NOW + 60), 0);
    assert_int_equal(store_session_touch(f->t, "s1", NOW + 30), 0); /* a clock behind */
    assert_int_equal(store_session_get(f->t, "s1", &got), 0);
    assert_int_equal(got.last_seen, NOW + 60);
    long long web = 0, client = 0;
    assert_int_equal(store_session_count_active(f->s, NOW + 1, NOW, NOW, &web, &client), 0);
    assert_int_equal(web, 1);
    assert_int_equal(client, 1);
    long long n = 0;
    assert_int_equal(store_session_delete_user(f->s, f->uid, "s1", &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_session_get(f->t, "s1", &got), 0);
    assert_int_equal(store_session_get(f->t, "s2", &got), 1);
    assert_int_equal(store_session_delete(f->s, "s1"), 0);
    assert_int_equal(store_session_get(f->t, "s1", &got), 1);
}

static void
test_saml_sessions_end_by_subject_or_index_and_idle_ones_are_pruned(void **state)
{
    struct fixture *f = *state;
    struct session_row r, got;
    const char *idx[] = {"i1", "i2", "i1"};
    const char *hash[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        make_session(&r, hash[i], f->uid, 0);
        snprintf(r.idp, sizeof r.idp, "https://idp.example/");
        snprintf(r.name_id, sizeof r.name_id, "%s", i == 2 ? "other" : "alice");
        snprintf(r.session_index, sizeof r.session_index, "%s", idx[i]);
        assert_int_equal(store_session_insert(f->s, &r), 0);
    }
    long long n = 0;
    assert_int_equal(store_session_delete_saml(f->s, "https://idp.example/", "alice", "i2", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_session_delete_saml(f->s, "https://idp.example/", "alice", "", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_session_get(f->s, "c", &got), 0);
    assert_int_equal(store_session_prune(f->s, NOW + 1, NOW + 1, 0), 0);
    assert_int_equal(store_session_get(f->s, "c", &got), 1);
}

/* ---- settings and secrets ---- */

static void
count_setting(const char *k, const char *v, void *ctx)
{
    (void)k;
    (void)v;
    (*(int *)ctx)++;
}

static int
secret_of(struct store *s, int i, void *arg)
{
    unsigned char(*out)[32] = arg;
    return store_secret(s, "raced", out[i], 32);
}

static void
test_settings_overwrite_and_a_secret_is_created_once(void **state)
{
    struct fixture *f = *state;
    char v[16];
    assert_int_equal(store_setting_get(f->s, "lockout.minutes", v, sizeof v), 1);
    assert_int_equal(store_setting_put(f->s, "lockout.minutes", "30", NOW), 0);
    assert_int_equal(store_setting_put(f->s, "lockout.minutes", "45", NOW), 0);
    assert_int_equal(store_setting_get(f->t, "lockout.minutes", v, sizeof v), 0);
    assert_string_equal(v, "45");
    int n = 0;
    assert_int_equal(store_setting_each(f->s, count_setting, &n), 0);
    assert_int_equal(n, 2); /* and SETTINGS_VERSION, moved by each put */
    assert_int_equal(store_setting_get(f->t, SETTINGS_VERSION, v, sizeof v), 0);
    assert_string_equal(v, "2");
    unsigned char keys[RACERS][32];
    assert_int_equal(race(f, secret_of, keys), RACERS);
    for (int i = 1; i < RACERS; i++)
        assert_memory_equal(keys[0], keys[i], 32);
    unsigned char again[32];
    assert_int_equal(store_secret(f->t, "raced", again, 32), 0);
    assert_memory_equal(keys[0], again, 32);
}

static void
test_the_data_key_is_put_once_and_replaced_only_from_its_value(void **state)
{
    struct fixture *f = *state;
    char w[64];
    assert_int_equal(store_data_key_get(f->s, w, sizeof w), 1);
    assert_int_equal(store_data_key_put(f->s, "k1", NOW), 0);
    assert_int_equal(store_data_key_put(f->t, "k2", NOW), 1);
    assert_int_equal(store_data_key_replace(f->s, "k2", "k3"), 1);
    assert_int_equal(store_data_key_replace(f->s, "k1", "k3"), 0);
    assert_int_equal(store_data_key_get(f->t, w, sizeof w), 0);
    assert_string_equal(w, "k3");
}

/* ---- identity providers ---- */

static void
make_idp(struct idp_row *r, const char *entity_id)
{
    memset(r, 0, sizeof *r);
    snprintf(r->entity_id, sizeof r->entity_id, "%s", entity_id);
    snprintf(r->name, sizeof r->name, "IdP %s", entity_id);
    snprintf(r->default_role, sizeof r->default_role, "member");
    r->created_at = NOW;
}

static int
join_domain(const char *d, void *ctx)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 256 - n, "%s%s", n ? "," : "", d);
    return 0;
}

static void
test_idps_domains_and_group_roles(void **state)
{
    struct fixture *f = *state;
    struct idp_row r, got;
    make_idp(&r, "https://b.example/");
    assert_int_equal(store_idp_insert(f->s, &r, "<md/>"), 0);
    assert_int_equal(store_idp_insert(f->t, &r, "<md/>"), 1);
    assert_int_equal(store_idp_get(f->s, "https://none.example/", &got), 1);
    assert_int_equal(store_idp_get(f->t, "https://b.example/", &got), 0);
    assert_string_equal(got.default_role, "member");
    assert_string_equal(got.name_id_format, "none");
    assert_int_equal(store_idp_domain_add(f->s, "zeta.example", r.entity_id), 0);
    assert_int_equal(store_idp_domain_add(f->s, "alpha.example", r.entity_id), 0);
    assert_int_equal(store_idp_domain_add(f->t, "alpha.example", r.entity_id), 1);
    char list[256] = "";
    assert_int_equal(store_idp_domain_each(f->s, r.entity_id, join_domain, list), 0);
    assert_string_equal(list, "alpha.example,zeta.example");
    char e[512];
    assert_int_equal(store_idp_for_domain(f->s, "alpha.example", e, sizeof e), 0);
    assert_string_equal(e, r.entity_id);
    assert_int_equal(store_idp_for_domain(f->s, "example", e, sizeof e), 1);
    assert_int_equal(store_idp_group_role_add(f->s, r.entity_id, "staff", "admin"), 0);
    assert_int_equal(store_idp_group_role_add(f->t, r.entity_id, "staff", "member"), 1);
    char role[16];
    assert_int_equal(store_idp_role_for_group(f->s, r.entity_id, "staff", role, sizeof role), 0);
    assert_string_equal(role, "admin");
    assert_int_equal(store_idp_role_for_group(f->s, r.entity_id, "x", role, sizeof role), 1);
    snprintf(r.name, sizeof r.name, "Renamed");
    assert_int_equal(store_idp_update(f->s, &r), 0);
    snprintf(r.sso_post, sizeof r.sso_post, "https://b.example/sso");
    assert_int_equal(store_idp_set_metadata(f->s, &r, "<md2/>"), 0);
    assert_int_equal(store_idp_get(f->t, r.entity_id, &got), 0);
    assert_string_equal(got.name, "Renamed");
    assert_string_equal(got.sso_post, "https://b.example/sso");
    make_idp(&r, "https://nobody.example/");
    assert_int_equal(store_idp_update(f->s, &r), 1);
    assert_int_equal(store_idp_delete(f->s, "https://b.example/"), 0);
    assert_int_equal(store_idp_delete(f->s, "https://b.example/"), 1);
    list[0] = '\0';
    assert_int_equal(store_idp_domain_each(f->s, "https://b.example/", join_domain, list), 0);
    assert_string_equal(list, ""); /* its domains went with it */
}

static int
collect_due(const char *id, void *ctx)
{
    return join_domain(id, ctx);
}

static void
test_metadata_sources_and_federations_come_due_most_overdue_first(void **state)
{
    struct fixture *f = *state;
    const char *ids[] = {"https://x.example/", "https://y.example/", "https://z.example/"};
    time_t next[] = {NOW + 10, NOW - 50, NOW - 100};
    for (int i = 0; i < 3; i++) {
        struct idp_row r;
        make_idp(&r, ids[i]);
        assert_int_equal(store_idp_insert(f->s, &r, "<md/>"), 0);
        struct idp_source src;
        memset(&src, 0, sizeof src);
        snprintf(src.entity_id, sizeof src.entity_id, "%s", ids[i]);
        snprintf(src.url, sizeof src.url, "https://md.example/%d", i);
        src.next_at = next[i];
        assert_int_equal(store_idp_source_put(f->s, &src), 0);
    }
    char list[256] = "";
    assert_int_equal(store_idp_sources_due(f->s, NOW, 10, collect_due, list), 0);
    assert_string_equal(list, "https://z.example/,https://y.example/");
    struct idp_source src;
    assert_int_equal(store_idp_source_get(f->s, "https://nobody/", &src), 1);
    assert_int_equal(store_idp_source_get(f->s, ids[0], &src), 0);
    src.failures = 3;
    src.last_try = NOW;
    snprintf(src.last_error, sizeof src.last_error, "timeout");
    assert_int_equal(store_idp_source_result(f->s, &src, 0), 0);
    assert_int_equal(store_idp_source_get(f->t, ids[0], &src), 0);
    assert_int_equal(src.failures, 3);
    assert_int_equal(src.last_ok, 0);
    assert_string_equal(src.last_error, "timeout");

    struct federation_row fed;
    memset(&fed, 0, sizeof fed);
    snprintf(fed.url, sizeof fed.url, "https://fed.example/md.xml");
    snprintf(fed.name, sizeof fed.name, "Fed");
    fed.next_at = NOW - 1;
    assert_int_equal(store_federation_insert(f->s, &fed), 0);
    assert_int_equal(store_federation_insert(f->t, &fed), 1);
    assert_int_equal(store_federation_member_add(f->s, ids[1], fed.url), 0);
    assert_int_equal(store_federation_member_add(f->s, ids[0], fed.url), 0);
    char(*members)[1024] = NULL;
    int n = 0;
    assert_int_equal(store_federation_members(f->s, fed.url, 10, &members, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(members[0], ids[0]);
    free(members);
    fed.n_idps = 2;
    fed.last_ok = NOW;
    assert_int_equal(store_federation_result(f->s, &fed, 1), 0);
    struct federation_row got;
    assert_int_equal(store_federation_get(f->t, fed.url, &got), 0);
    assert_int_equal(got.n_idps, 2);
    list[0] = '\0';
    assert_int_equal(store_federations_due(f->s, NOW, 5, collect_due, list), 0);
    assert_string_equal(list, fed.url);
    assert_int_equal(store_federation_delete(f->s, fed.url), 0);
    assert_int_equal(store_federation_delete(f->s, fed.url), 1);
    assert_int_equal(store_federation_get(f->s, fed.url, &got), 1);
}

/* ---- SAML ---- */

static int
take_request(struct store *s, int i, void *arg)
{
    (void)i;
    (void)arg;
    char rt[64];
    return store_saml_request_take(s, "_raced", "https://idp.example/", NOW, rt, sizeof rt);
}

static int
accept_assertion(struct store *s, int i, void *arg)
{
    (void)i;
    (void)arg;
    return store_saml_assertion_once(s, "_raced", "https://idp.example/", NOW + 300);
}

static void
test_an_authn_request_and_an_assertion_are_taken_once_by_racing_connections(void **state)
{
    struct fixture *f = *state;
    char rt[64];
    const char *idp = "https://idp.example/";
    assert_int_equal(store_saml_request_put(f->s, "_r1", idp, "/back", NOW + 600), 0);
    assert_int_equal(store_saml_request_take(f->t, "_r1", "https://other/", NOW, rt, 64), 1);
    assert_int_equal(store_saml_request_take(f->t, "_r1", idp, NOW + 600, rt, 64), 1);
    assert_int_equal(store_saml_request_take(f->t, "_r1", idp, NOW, rt, sizeof rt), 0);
    assert_string_equal(rt, "/back");
    assert_int_equal(store_saml_request_take(f->s, "_r1", idp, NOW, rt, sizeof rt), 1);
    assert_int_equal(store_saml_request_put(f->s, "_raced", idp, "/", NOW + 600), 0);
    assert_int_equal(race(f, take_request, NULL), 1);
    assert_int_equal(race(f, accept_assertion, NULL), 1);
    assert_int_equal(store_saml_assertion_once(f->s, "_raced", idp, NOW + 300), 1);
    assert_int_equal(store_saml_prune(f->s, NOW + 301, 0), 0);
    assert_int_equal(store_saml_assertion_once(f->s, "_raced", idp, NOW + 900), 0);
}

static int
log_ids(const struct saml_log_row *r, void *ctx)
{
    long long *ids = ctx;
    ids[ids[0] + 1] = r->id;
    ids[0]++;
    return 0;
}

static void
test_the_saml_log_lists_newest_first_with_filters_and_keeps_xml(void **state)
{
    struct fixture *f = *state;
    struct saml_log_row r;
    long long id[3];
    for (int i = 0; i < 3; i++) {
        memset(&r, 0, sizeof r);
        r.at = NOW + i;
        snprintf(r.issuer, sizeof r.issuer, "%s", i == 1 ? "https://b/" : "https://a/");
        snprintf(r.verdict, sizeof r.verdict, "%s", i == 2 ? "refused" : "accepted");
        r.xml = i == 0 ? (char *)(uintptr_t) "<Response/>" : NULL;
        assert_int_equal(store_saml_log_append(f->s, &r, &id[i]), 0);
    }
    assert_true(id[0] < id[1] && id[1] < id[2]);
    long long got[8] = {0};
    assert_int_equal(store_saml_log_list(f->t, 0, NULL, NULL, 10, log_ids, got), 0);
    assert_int_equal(got[0], 3);
    assert_int_equal(got[1], id[2]);
    memset(got, 0, sizeof got);
    assert_int_equal(store_saml_log_list(f->t, 1, NULL, NULL, 10, log_ids, got), 0);
    assert_int_equal(got[0], 1);
    memset(got, 0, sizeof got);
    assert_int_equal(store_saml_log_list(f->t, 0, "https://a/", NULL, 1, log_ids, got), 0);
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], id[2]);
    assert_int_equal(store_saml_log_get(f->t, id[0], &r), 0);
    assert_non_null(r.xml);
    assert_string_equal(r.xml, "<Response/>");
    assert_string_equal(r.xml_kept, "full");
    free(r.xml);
    assert_int_equal(store_saml_log_get(f->t, id[1], &r), 0);
    assert_null(r.xml);
    assert_string_equal(r.xml_kept, "none");
    assert_int_equal(store_saml_log_get(f->t, id[2] + 100, &r), 1);
}

static int
answer_test(struct store *s, int i, void *arg)
{
    (void)arg;
    char result[32];
    snprintf(result, sizeof result, "{\"racer\":%d}", i);
    return store_saml_test_result(s, "_t1", 40 + i, result);
}

static void
test_a_test_sign_in_takes_one_response_even_from_racing_connections(void **state)
{
    struct fixture *f = *state;
    static struct saml_test_row t, got;
    snprintf(t.request_id, sizeof t.request_id, "_t1");
    snprintf(t.entity_id, sizeof t.entity_id, "https://idp.example/");
    t.user_id = f->uid;
    snprintf(t.session_hash, sizeof t.session_hash, "%064d", 7);
    t.created_at = NOW;
    t.expires_at = NOW + 3600;
    assert_int_equal(store_saml_test_put(f->s, &t), 0);
    assert_int_equal(store_saml_test_put(f->t, &t), 1);
    assert_int_equal(store_saml_test_get(f->t, "_t1", &got), 0);
    assert_int_equal(got.log_id, 0);
    assert_int_equal(got.user_id, f->uid);
    assert_string_equal(got.session_hash, t.session_hash);
    assert_string_equal(got.entity_id, t.entity_id);
    assert_true(got.expires_at == NOW + 3600);
    assert_int_equal(race(f, answer_test, NULL), 1);
    assert_int_equal(store_saml_test_result(f->s, "_nope", 1, "{}"), 1);
    assert_int_equal(store_saml_test_get(f->s, "_t1", &got), 0);
    assert_true(got.log_id >= 40 && got.log_id < 40 + RACERS);
    char want[32];
    snprintf(want, sizeof want, "{\"racer\":%lld}", got.log_id - 40);
    assert_string_equal(got.result, want);
    /* Pruned once expired. */
    assert_int_equal(store_saml_prune(f->s, NOW + 3599, 0), 0);
    assert_int_equal(store_saml_test_get(f->t, "_t1", &got), 0);
    assert_int_equal(store_saml_prune(f->s, NOW + 3600, 0), 0);
    assert_int_equal(store_saml_test_get(f->t, "_t1", &got), 1);
}

static void
log_row(struct store *s, const char *issuer, const char *verdict, int has_skew, long long skew,
        long long *id)
{
    struct saml_log_row r;
    memset(&r, 0, sizeof r);
    r.at = NOW;
    snprintf(r.issuer, sizeof r.issuer, "%s", issuer);
    snprintf(r.verdict, sizeof r.verdict, "%s", verdict);
    snprintf(r.reason, sizeof r.reason, "%s", verdict[0] == 'a' ? "ok" : "expired");
    r.has_skew = has_skew;
    r.skew_seconds = skew;
    r.test = has_skew && skew > 0;
    assert_int_equal(store_saml_log_append(s, &r, id), 0);
}

static void
test_an_issuers_last_responses_and_clock_skews(void **state)
{
    struct fixture *f = *state;
    const char *idp = "https://idp.example/";
    long long a1, r1, a2, other;
    struct saml_log_row last;
    assert_int_equal(store_saml_log_last(f->t, idp, 1, &last), 1);
    log_row(f->s, idp, "accepted", 1, -2, &a1);
    log_row(f->s, idp, "refused", 0, 0, &r1);
    log_row(f->s, idp, "accepted", 1, 5, &a2);
    log_row(f->s, "https://other.example/", "refused", 1, 99, &other);
    assert_true(a1 < r1 && r1 < a2 && a2 < other);
    assert_int_equal(store_saml_log_last(f->t, idp, 1, &last), 0);
    assert_int_equal(last.id, a2);
    assert_int_equal(last.has_skew, 1);
    assert_int_equal(last.skew_seconds, 5);
    assert_int_equal(last.test, 1);
    assert_int_equal(store_saml_log_last(f->t, idp, 0, &last), 0);
    assert_int_equal(last.id, r1);
    assert_int_equal(last.has_skew, 0);
    assert_int_equal(last.test, 0);
    assert_int_equal(store_saml_log_get(f->t, a1, &last), 0);
    free(last.xml);
    assert_int_equal(last.skew_seconds, -2);
    long long skews[8];
    int n = 0;
    assert_int_equal(store_saml_log_skews(f->t, idp, 8, skews, &n), 0);
    assert_int_equal(n, 2); /* the refusal had none */
    assert_int_equal(skews[0], 5);
    assert_int_equal(skews[1], -2);
    assert_int_equal(store_saml_log_skews(f->t, idp, 1, skews, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_saml_log_skews(f->t, "https://none.example/", 8, skews, &n), 0);
    assert_int_equal(n, 0);
}

static void
test_saml_users_are_found_synced_and_rekeyed(void **state)
{
    struct fixture *f = *state;
    struct user u;
    memset(&u, 0, sizeof u);
    snprintf(u.email, sizeof u.email, "sam@example.com");
    snprintf(u.role, sizeof u.role, "member");
    snprintf(u.auth_method, sizeof u.auth_method, "saml");
    snprintf(u.idp, sizeof u.idp, "https://idp.example/");
    snprintf(u.name_id, sizeof u.name_id, "sam");
    long long sam = 0, other = 0;
    assert_int_equal(store_user_insert(f->s, &u, &sam), 0);
    snprintf(u.email, sizeof u.email, "sam2@example.com");
    assert_int_equal(store_user_insert(f->s, &u, &other), 1); /* same subject */
    snprintf(u.name_id, sizeof u.name_id, "other");
    assert_int_equal(store_user_insert(f->s, &u, &other), 0);
    assert_int_equal(store_user_by_saml(f->t, "https://idp.example/", "sam", &u), 0);
    assert_int_equal(u.id, sam);
    assert_int_equal(store_user_by_saml(f->t, "https://idp.example/", "nobody", &u), 1);
    assert_int_equal(store_user_saml_sync(f->s, sam, "first@example.com", "Sam", "admin"), 1);
    assert_int_equal(store_user_saml_sync(f->s, sam, "sam.new@example.com", "Sam", "admin"), 0);
    assert_int_equal(store_user_rekey(f->s, sam, "https://idp.example/", "other"), 1);
    assert_int_equal(store_user_rekey(f->s, sam, "https://idp.example/", "sam-2"), 0);
    assert_int_equal(store_user_rekey(f->s, f->uid, "https://idp.example/", "x"), -1);
    assert_int_equal(store_user_by_saml(f->t, "https://idp.example/", "sam-2", &u), 0);
    assert_string_equal(u.email, "sam.new@example.com");
    assert_string_equal(u.role, "admin");
}

/* ---- second factors ---- */

static int
use_step(struct store *s, int i, void *arg)
{
    (void)i;
    return store_totp_use_step(s, *(long long *)arg, 500);
}

static int
use_code(struct store *s, int i, void *arg)
{
    (void)i;
    return store_recovery_use(s, *(long long *)arg, "raced-code", NOW);
}

static void
test_totp_steps_and_recovery_codes_are_used_once_by_racing_connections(void **state)
{
    struct fixture *f = *state;
    struct totp_row t;
    assert_int_equal(store_totp_get(f->s, f->uid, &t), 1);
    assert_int_equal(store_totp_confirm(f->s, f->uid, 10), 1); /* nothing pending */
    assert_int_equal(store_totp_put_pending(f->s, f->uid, "seed1", NOW), 0);
    assert_int_equal(store_totp_put_pending(f->s, f->uid, "seed2", NOW), 0);
    assert_int_equal(store_totp_confirm(f->s, f->uid, 100), 0);
    assert_int_equal(store_totp_put_pending(f->s, f->uid, "seed3", NOW), 1);
    assert_int_equal(store_totp_get(f->t, f->uid, &t), 0);
    assert_string_equal(t.seed, "seed2");
    assert_int_equal(t.confirmed, 1);
    struct user u;
    assert_int_equal(store_user_by_id(f->t, f->uid, &u), 0);
    assert_int_equal(u.mfa_enabled, 1);
    assert_int_equal(store_totp_use_step(f->s, f->uid, 100), 1);
    assert_int_equal(store_totp_use_step(f->s, f->uid, 99), 1);
    assert_int_equal(race(f, use_step, &f->uid), 1);
    assert_int_equal(store_totp_use_step(f->t, f->uid, 499), 1);

    const char hashes[2][65] = {"raced-code", "other-code"};
    assert_int_equal(store_recovery_replace(f->s, f->uid, hashes, 2, NOW), 0);
    assert_int_equal(race(f, use_code, &f->uid), 1);
    long long left = -1;
    assert_int_equal(store_recovery_remaining(f->t, f->uid, &left), 0);
    assert_int_equal(left, 1);
    assert_int_equal(store_recovery_use(f->s, f->uid, "unknown", NOW), 1);
    assert_int_equal(store_totp_delete(f->s, f->uid), 0);
    assert_int_equal(store_totp_delete(f->s, f->uid), 1);
    assert_int_equal(store_recovery_remaining(f->t, f->uid, &left), 0);
    assert_int_equal(left, 0);
    assert_int_equal(store_user_by_id(f->t, f->uid, &u), 0);
    assert_int_equal(u.mfa_enabled, 0);
}

static void
test_the_half_signed_in_state_expires(void **state)
{
    struct fixture *f = *state;
    struct mfa_pending_row r, got;
    memset(&r, 0, sizeof r);
    snprintf(r.token_hash, sizeof r.token_hash, "p1");
    r.user_id = f->uid;
    r.enrol = 1;
    snprintf(r.return_to, sizeof r.return_to, "/next");
    r.expires_at = NOW + 300;
    assert_int_equal(store_mfa_pending_put(f->s, &r), 0);
    assert_int_equal(store_mfa_pending_get(f->t, "p1", NOW, &got), 0);
    assert_string_equal(got.return_to, "/next");
    assert_int_equal(got.enrol, 1);
    assert_int_equal(store_mfa_pending_get(f->t, "p1", NOW + 300, &got), 1);
    assert_int_equal(store_mfa_pending_prune(f->s, NOW + 300), 0);
    assert_int_equal(store_mfa_pending_get(f->t, "p1", NOW, &got), 1);
}

/* ---- password reset ---- */

static int
use_token(struct store *s, int i, void *arg)
{
    (void)i;
    (void)arg;
    return store_reset_token_use(s, "raced-token", NOW + 5);
}

static void
test_a_reset_token_is_used_once_by_racing_connections_and_requests_are_counted(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(store_reset_token_put(f->s, "raced-token", f->uid, NOW, NOW + 1800), 0);
    assert_int_equal(store_reset_token_put(f->s, "t2", f->uid, NOW, NOW + 1800), 0);
    assert_int_equal(store_reset_token_put(f->s, "t3", f->uid, NOW, NOW + 10), 0);
    assert_int_equal(race(f, use_token, NULL), 1);
    struct reset_token_row r;
    assert_int_equal(store_reset_token_get(f->t, "raced-token", &r), 0);
    assert_int_equal(r.used_at, NOW + 5);
    assert_int_equal(store_reset_token_get(f->t, "none", &r), 1);
    assert_int_equal(store_reset_token_use(f->s, "t3", NOW + 10), 1); /* expired */
    assert_int_equal(store_reset_token_void_user(f->s, f->uid, NOW + 6), 0);
    assert_int_equal(store_reset_token_use(f->s, "t2", NOW + 7), 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_reset_request_add(f->s, "first@example.com", NOW + i), 0);
    long long n = 0;
    assert_int_equal(store_reset_request_count(f->t, "first@example.com", NOW + 1, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(store_reset_prune(f->s, NOW + 2, NOW + 11), 0);
    assert_int_equal(store_reset_request_count(f->t, "first@example.com", 0, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(store_reset_token_get(f->t, "t3", &r), 1);
}

/* ---- audit and sign-in events ---- */

static int
audit_ids(const struct audit_row *r, void *ctx)
{
    return log_ids(&(struct saml_log_row){.id = r->id}, ctx);
}

static void
test_the_audit_lists_newest_first_and_only_retention_deletes(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 4; i++) {
        struct audit_row r;
        memset(&r, 0, sizeof r);
        r.at = NOW + i * 100;
        snprintf(r.actor, sizeof r.actor, "%s", i % 2 ? "cli:root" : "user:a@example.com");
        snprintf(r.action, sizeof r.action, "%s", i < 2 ? "user.add" : "policy.set");
        assert_int_equal(store_audit_append(f->s, &r), 0);
    }
    long long got[8] = {0};
    struct audit_filter all = {.limit = 10};
    assert_int_equal(store_audit_list(f->t, &all, audit_ids, got), 0);
    assert_int_equal(got[0], 4);
    assert_true(got[1] > got[2] && got[2] > got[3]);
    memset(got, 0, sizeof got);
    struct audit_filter some = {.limit = 10, .action = "user.add", .actor = "cli:root"};
    assert_int_equal(store_audit_list(f->t, &some, audit_ids, got), 0);
    assert_int_equal(got[0], 1);
    assert_int_equal(store_audit_prune(f->s, NOW + 150), 0);
    memset(got, 0, sizeof got);
    assert_int_equal(store_audit_list(f->t, &all, audit_ids, got), 0);
    assert_int_equal(got[0], 2);
}

static void
count_hour(time_t hour, const char *method, const char *result, long long n, void *ctx)
{
    long long *c = ctx;
    if (hour % 3600 == 0 && strcmp(method, "password") == 0 && strcmp(result, "failure") == 0)
        c[0] += n;
    c[1]++;
}

static void
test_signin_events_are_counted_per_hour(void **state)
{
    struct fixture *f = *state;
    time_t h = (NOW / 3600) * 3600;
    assert_int_equal(store_signin_event(f->s, h + 1, "password", "failure"), 0);
    assert_int_equal(store_signin_event(f->s, h + 2, "password", "failure"), 0);
    assert_int_equal(store_signin_event(f->s, h + 3601, "password", "failure"), 0);
    assert_int_equal(store_signin_event(f->s, h + 5, "sso", "success"), 0);
    long long c[2] = {0, 0};
    assert_int_equal(store_signin_hourly(f->t, h, count_hour, c), 0);
    assert_int_equal(c[0], 3);
    assert_int_equal(c[1], 3); /* (h, password, failure), (h, sso, success), (h+1, ...) */
    assert_int_equal(store_signin_prune(f->s, h + 3600), 0);
    c[0] = c[1] = 0;
    assert_int_equal(store_signin_hourly(f->t, 0, count_hour, c), 0);
    assert_int_equal(c[0], 1);
}

static int
count_role(const struct role_row *r, void *ctx)
{
    (void)r;
    ++*(int *)ctx;
    return 0;
}

static void
test_roles_are_seeded_unique_and_their_use_is_counted(void **state)
{
    struct fixture *f = *state;
    struct role_row r, got;
    int n = 0;
    assert_int_equal(store_role_list(f->s, count_role, &n), 0);
    assert_int_equal(n, 3); /* owner, admin, member */
    assert_int_equal(store_role_get(f->t, "owner", &got), 0);
    assert_string_equal(got.permissions, "*");
    assert_true(got.builtin);
    assert_int_equal(store_role_get(f->s, "auditor", &got), 1);
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "auditor");
    snprintf(r.permissions, sizeof r.permissions, "audit.view");
    r.created_at = r.updated_at = NOW;
    assert_int_equal(store_role_insert(f->s, &r), 0);
    assert_int_equal(store_role_insert(f->t, &r), 1);
    assert_int_equal(store_role_set_permissions(f->s, "auditor", "audit.view,saml_log.view", NOW),
                     0);
    assert_int_equal(store_role_set_permissions(f->s, "nobody", "", NOW), 1);
    assert_int_equal(store_role_get(f->t, "auditor", &got), 0);
    assert_string_equal(got.permissions, "audit.view,saml_log.view");
    assert_false(got.builtin);
    /* A user and an IdP's group mapping may name it (no CHECK limits a role's name). */
    assert_true(add_user(f->s, "aud@example.com", "auditor") > 0);
    struct idp_row idp;
    make_idp(&idp, "https://r.example/");
    snprintf(idp.default_role, sizeof idp.default_role, "auditor");
    assert_int_equal(store_idp_insert(f->s, &idp, "<md/>"), 0);
    assert_int_equal(store_idp_group_role_add(f->s, idp.entity_id, "g", "auditor"), 0);
    long long users = -1, idps = -1;
    assert_int_equal(store_role_usage(f->t, "auditor", &users, &idps), 0);
    assert_int_equal(users, 1);
    assert_int_equal(idps, 1);
    assert_int_equal(store_role_usage(f->t, "owner", &users, &idps), 0);
    assert_int_equal(users, 0);
    assert_int_equal(idps, 0);
    /* Built-in roles are never deleted; another one is, once. */
    assert_int_equal(store_role_delete(f->s, "admin"), 1);
    assert_int_equal(store_role_delete(f->s, "auditor"), 0);
    assert_int_equal(store_role_delete(f->s, "auditor"), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_a_second_connection_reads_what_the_first_wrote),
        T(test_a_rolled_back_transaction_leaves_nothing_and_nesting_is_refused),
        T(test_one_node_jobs_are_held_by_one_connection),
        T(test_a_lost_connection_fails_calls_then_is_opened_again_without_a_restart),
        T(test_users_duplicates_and_absence_answer_one),
        T(test_users_typed_setters_counts_and_order),
        T(test_password_history_is_newest_first_and_counts_own_changes),
        T(test_lockout_counts_are_exact_across_connections),
        T(test_lockouts_each_lists_only_addresses_once_locked),
        T(test_sessions_are_read_touched_and_ended_everywhere),
        T(test_saml_sessions_end_by_subject_or_index_and_idle_ones_are_pruned),
        T(test_settings_overwrite_and_a_secret_is_created_once),
        T(test_the_data_key_is_put_once_and_replaced_only_from_its_value),
        T(test_idps_domains_and_group_roles),
        T(test_metadata_sources_and_federations_come_due_most_overdue_first),
        T(test_an_authn_request_and_an_assertion_are_taken_once_by_racing_connections),
        T(test_the_saml_log_lists_newest_first_with_filters_and_keeps_xml),
        T(test_a_test_sign_in_takes_one_response_even_from_racing_connections),
        T(test_an_issuers_last_responses_and_clock_skews),
        T(test_saml_users_are_found_synced_and_rekeyed),
        T(test_totp_steps_and_recovery_codes_are_used_once_by_racing_connections),
        T(test_the_half_signed_in_state_expires),
        T(test_a_reset_token_is_used_once_by_racing_connections_and_requests_are_counted),
        T(test_the_audit_lists_newest_first_and_only_retention_deletes),
        T(test_signin_events_are_counted_per_hour),
        T(test_roles_are_seeded_unique_and_their_use_is_counted),
    };
    log_set_level(LOG_LEVEL_WARN);
    int failed = cmocka_run_group_tests_name("store conformance: sqlite", tests, NULL, NULL);
    pg_conninfo = getenv("GATEHOUSE_TEST_PG");
    if (pg_conninfo != NULL && pg_conninfo[0] != '\0')
        failed += cmocka_run_group_tests_name("store conformance: postgres", tests, NULL, NULL);
    else
        fprintf(stderr, "store conformance: GATEHOUSE_TEST_PG unset, PostgreSQL not run "
                        "(make test-store-pg runs it)\n");
    return failed != 0;
}
