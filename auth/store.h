/* auth/store.h: the store, behind one database-neutral interface, on SQLite (one node) or
 * PostgreSQL (any number of nodes on one database). store_core.c says how it is laid out and
 * how to add a function; the drivers are store_sqlite.c and store_pg.c.
 * One struct store is one connection: use it from one thread at a time.
 * Return convention: 0 done, 1 not found / duplicate / already used (where stated), -1 error
 * (logged).
 *
 * Guarantees, on every driver and across the processes and nodes sharing the database:
 * - Each call is atomic: it happens whole or not at all.
 * - Read-your-writes: what a call wrote (once it returned 0, or once its transaction committed)
 *   is what any later call reads, on any connection of any node.
 * - "Atomic single use" (stated per function): of any number of concurrent calls with the same
 *   token, code, step or ID, exactly one gets 0.
 * - "Exact" counters: concurrent increments are all counted.
 * - Between store_begin_write and store_commit, calls see one consistent state and no other
 *   writer runs (every write transaction is serialised with every other one), so a
 *   read-modify-write inside it is exact. Calls outside a transaction commit by themselves. */
#ifndef GH_AUTH_STORE_H
#define GH_AUTH_STORE_H

#include <stddef.h>
#include <time.h>

struct store;

#define STORE_EMAIL_MAX 256
#define STORE_NAME_MAX 256
#define STORE_HASH_MAX 256

struct user {
    long long id;
    char email[STORE_EMAIL_MAX]; /* normalised: lower case */
    char display_name[STORE_NAME_MAX];
    char role[16];                      /* owner | admin | member | a role of table roles */
    char status[16];                    /* active | disabled */
    char auth_method[16];               /* password | saml */
    char password_hash[STORE_HASH_MAX]; /* argon2id PHC string; empty for SAML users */
    int must_change;                    /* enum pw_must_change */
    time_t created_at;
    time_t last_login_at; /* 0 = never */
    time_t password_changed_at;
    char idp[512];     /* SAML users: the IdP entity ID */
    char name_id[512]; /* SAML users: the NameID */
    int mfa_enabled;
};

struct session_row {
    char token_hash[65]; /* hex SHA-256 of the token; the token itself is never stored */
    long long user_id;
    int kind;       /* enum session_kind */
    int restricted; /* enum pw_change_reason: only the password change is allowed until done */
    time_t created_at;
    time_t last_seen;
    char client_addr[64];
    char idp[512];
    char name_id[512];
    char session_index[256];
    char name_id_format[256];
    int mfa;                 /* a second factor was used: TOTP, or an MFA AuthnContext */
    char authn_context[256]; /* SAML sessions: the AuthnContextClassRef asserted */
    char groups[1024];       /* SAML sessions: the IdP's groups, one per line */
    time_t ends_at;          /* SAML: the IdP's SessionNotOnOrAfter; 0 = no end but the timeouts */
};

struct audit_row {
    long long id;
    time_t at;
    char actor[STORE_EMAIL_MAX + 16]; /* "user:EMAIL", "cli:UNIXUSER", "system" */
    char actor_role[16];
    char action[64];
    char target[STORE_EMAIL_MAX + 64];
    char old_value[512];
    char new_value[512];
    char client_addr[64];
    char node[64]; /* the node that wrote it (store_set_node); "" before there were nodes */
};

struct lockout_row {
    int failures;
    time_t first_failure;
    time_t locked_until;
};

/* Opens a connection to the store at `where` and applies pending migrations (once, when
 * several processes or nodes start together): "sqlite:PATH" or a bare PATH (created when
 * absent), or "postgres:CONNINFO" (a libpq connection string). NULL on error, with a message
 * in err. */
struct store *store_open(const char *where, char *err, size_t errlen);
/* Closes the connection. NULL is a no-op. */
void store_close(struct store *s);
/* Releases what the process's connections share (SQLite: the connection write transactions
 * run on); call it once no thread uses the store any more. */
void store_shutdown(void);
/* "sqlite" or "postgres". */
const char *store_driver_name(const struct store *s);
/* The node name ([server] node_name) this connection writes into each SAML log and audit row
 * it appends (copied; cut at 63 bytes). Unset: "". */
void store_set_node(struct store *s, const char *node);
/* For periodic jobs that one node at a time should run (pruning, metadata refresh): 1 when
 * this connection holds the job's lock now (held until the connection closes; a second call by
 * the holder answers 1 again), 0 when another node holds it, -1 on error. SQLite (one node):
 * always 1. */
int store_try_job_lock(struct store *s, const char *job);

/* One table copied by store_copy: rows read from the source and found in the target, the
 * source's checksum (hex SHA-256, order-free), and whether the target's is the same. */
struct store_copy_table {
    char name[64];
    long long rows, rows_copied;
    char sha256[65];
    int same;
};
/* Copies every table of `from` (any driver) into `to` (PostgreSQL, the same schema version,
 * never used: no users, audit or secrets rows; rows its migrations seeded are replaced by the
 * source's), all in one transaction on `to`, holding `from`'s write turn meanwhile so
 * the copy is of one state; then compares each table's row count and checksum. each() is called
 * per table (non-zero stops, nothing committed). 0 committed; 1 refused, `to` is not empty;
 * -1 error (nothing committed); err says why. Once per pair of connections: close both after
 * (their statement caches hold addresses of texts it made and freed). */
int store_copy(struct store *from, struct store *to,
               int (*each)(const struct store_copy_table *, void *), void *ctx, char *err,
               size_t errlen);

/* Schema version after migrations. */
int store_schema_version(struct store *s);

/* Write transaction: taken at once and serialised with every other writer of the database (on
 * every node), so read-modify-write sequences inside it are exact under concurrency. No nesting:
 * a begin inside a transaction fails. A commit that fails has rolled back. */
int store_begin_write(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* Cheap liveness query (PostgreSQL: reconnects a lost connection first). */
int store_ping(struct store *s);
/* The whole store checked for corruption, for start-up (SQLite's quick_check: every page read,
 * O(size); PostgreSQL: every table readable). 0, or -1 with the first problem in err. */
int store_integrity_check(struct store *s, char *err, size_t errlen);
/* For /healthz: every table's first row is read afresh (SQLite: on a new read-only connection,
 * so a corrupt page answers -1 even while other connections have it cached). Logs what failed. */
int store_health(struct store *s);
/* Readiness: commits a one-row write (the store takes writes now). 0 or -1. */
int store_probe_write(struct store *s, time_t at);
/* 1 while the process's last write failed for want of space, a working disk or the database
 * server (SQLITE_FULL, I/O error, read-only, PostgreSQL unreachable), with the database's
 * message in why; 0 once a write has committed since. */
int store_writes_failing(char *why, size_t len);

/* Users. */
int store_user_by_email(struct store *s, const char *email, struct user *out);   /* 1 = none */
int store_user_by_id(struct store *s, long long id, struct user *out);           /* 1 = none */
int store_user_insert(struct store *s, const struct user *u, long long *id_out); /* 1 = dup */
int store_user_count(struct store *s, const char *role, long long *n_out); /* role NULL = all */
/* Users with this role whose status is active (who can sign in). */
int store_user_count_active(struct store *s, const char *role, long long *n_out);
/* Calls cb for each user ordered by email; cb returning non-zero stops. */
int store_user_list(struct store *s, int (*cb)(const struct user *, void *), void *ctx);
/* Sets a new password hash, must_change and password_changed_at, and appends the hash to the
 * history with `kind` ("initial", "user", "self_reset", "reset", "admin") at time `at`. */
int store_user_set_password(struct store *s, long long id, const char *hash, int must_change,
                            time_t at, const char *kind);
/* Replaces the hash only (parameter upgrade at sign-in); history and dates unchanged. */
int store_user_rehash(struct store *s, long long id, const char *hash);
int store_user_set_login(struct store *s, long long id, time_t at);
/* Typed setters: 0, 1 when no such user. role: a role of table roles (the caller checks). */
int store_user_set_name(struct store *s, long long id, const char *name);
int store_user_set_role(struct store *s, long long id, const char *role);
int store_user_set_disabled(struct store *s, long long id, int disabled);
int store_user_set_must_change(struct store *s, long long id, int must_change);
int store_user_delete(struct store *s, long long id);

/* The most recent password hashes (current first), at most max; *n_out receives how many. Each
 * hashes[i] has STORE_HASH_MAX bytes. */
int store_password_history(struct store *s, long long user_id, char (*hashes)[STORE_HASH_MAX],
                           size_t max, size_t *n_out);
/* Times of the user's own changes (kinds "user" and "self_reset") at or after since, most recent
 * first. */
int store_password_changes_since(struct store *s, long long user_id, time_t since, time_t *times,
                                 size_t max, size_t *n_out);

/* Failed sign-in state per normalised e-mail address (whether or not an account exists).
 * Exact counter: callers read, decide (policy/lockout.c) and put inside one
 * store_begin_write transaction, which serialises them on every node. */
int store_lockout_get(struct store *s, const char *email, struct lockout_row *out); /* 1 = none */
int store_lockout_put(struct store *s, const char *email, const struct lockout_row *row);
int store_lockout_clear(struct store *s, const char *email);

/* Sessions. */
int store_session_insert(struct store *s, const struct session_row *row);
int store_session_get(struct store *s, const char *token_hash, struct session_row *out); /* 1 */
/* The session and its user in one read (every request's session check), with the settings'
 * version (SETTINGS_VERSION; 0 before any setting was stored) of the same snapshot; 1 = none. */
int store_session_user_get(struct store *s, const char *token_hash, struct session_row *sess,
                           struct user *u, long long *settings_version);
/* Moves last_seen (the idle clock, read by every node at its next check) forward to at; an
 * earlier at (another node's clock a little behind) leaves it. */
int store_session_touch(struct store *s, const char *token_hash, time_t at);
int store_session_delete(struct store *s, const char *token_hash);
/* Deletes every session of the user except keep_hash (NULL = all); *n_out may be NULL. */
int store_session_delete_user(struct store *s, long long user_id, const char *keep_hash,
                              long long *n_out);
/* Deletes the sessions of a SAML subject (single logout from the IdP): all of (idp, name_id), or
 * only those of session_index when it is not empty. */
int store_session_delete_saml(struct store *s, const char *idp, const char *name_id,
                              const char *session_index, long long *n_out);
/* Deletes sessions idle since before `idle_before` or created before `created_before`. */
int store_session_prune(struct store *s, time_t web_idle_before, time_t client_idle_before,
                        time_t created_before);

/* The setting bumped at every change of the IdP registry (auth/idp.c, in the change's
 * transaction): the server rebuilds its SAML state when it moves. */
#define IDPS_VERSION "sp.idps_version"

/* The settings' version: store_setting_put adds 1 to it in the statement that writes the
 * setting (atomic on every driver and across nodes), so a reader that finds it unchanged knows
 * that no setting changed since (app_policy_at keeps the policy on it). Read with
 * store_setting_each and store_session_user_get; never put directly (refused). */
#define SETTINGS_VERSION "settings.version"

/* Run-time settings (policy values set by admins), as text. */
int store_setting_get(struct store *s, const char *key, char *value, size_t len); /* 1 = unset */
int store_setting_put(struct store *s, const char *key, const char *value, time_t at);
/* Calls cb for each stored setting. */
int store_setting_each(struct store *s, void (*cb)(const char *key, const char *value, void *),
                       void *ctx);

/* A named random secret of n bytes (e.g. the CSRF key), created on first use; shared by every
 * process on the store: of concurrent first uses (any nodes) one creates it, all read it. */
int store_secret(struct store *s, const char *name, unsigned char *out, size_t n);

/* SAML identity providers. */
struct idp_row {
    char entity_id[512];
    char name[512];
    char sso_redirect[1024];
    char sso_post[1024];
    char slo_redirect[1024];
    char slo_post[1024];
    char certs[1024]; /* signing certificate fingerprints and expiries, one per line */
    int idp_initiated;
    int allow_sha1;
    char default_role[16];
    char attr_email[256]; /* attribute names; "" = recognise the common shapes */
    char attr_first_name[256];
    char attr_last_name[256];
    char attr_groups[256];
    time_t created_at;
    char name_id_format[16]; /* NameIDPolicy: emailAddress|persistent|transient|unspecified|none */
};

/* Inserts the IdP with its metadata document; 1 when the entity ID is registered already. */
int store_idp_insert(struct store *s, const struct idp_row *r, const char *metadata);
int store_idp_get(struct store *s, const char *entity_id, struct idp_row *out); /* 1 = none */
int store_idp_delete(struct store *s, const char *entity_id);                   /* 1 = none */
/* Calls cb for each IdP ordered by entity ID; cb returning non-zero stops. */
int store_idp_list(struct store *s, int (*cb)(const struct idp_row *, void *), void *ctx);
/* Calls cb with each IdP's entity ID and metadata document. */
int store_idp_metadata_each(struct store *s,
                            int (*cb)(const char *entity_id, const char *xml, void *), void *ctx);
/* One IdP's metadata document (*xml_out, malloc; the caller frees), by its entity ID (the
 * primary key): 0, 1 when it is not registered, -1 on error. A plain read: the document the
 * last committed change left. */
int store_idp_metadata_get(struct store *s, const char *entity_id, char **xml_out);
/* Routes e-mail domain (lower case) to the IdP; 1 when the domain is routed already. */
int store_idp_domain_add(struct store *s, const char *domain, const char *entity_id);
/* Calls cb with each of the IdP's domains in order; cb returning non-zero stops. */
int store_idp_domain_each(struct store *s, const char *entity_id,
                          int (*cb)(const char *domain, void *), void *ctx);
/* The IdP a domain routes to; 1 = none. */
int store_idp_for_domain(struct store *s, const char *domain, char *entity_id, size_t len);

/* An IdP whose metadata comes from a URL (gatehousectl idp add --metadata-url): where, the
 * certificate that must have signed it (PEM; "" = TLS only), and the refresh schedule. The
 * metadata last accepted stays in the IdP's row: it is the backing copy when the URL is down. */
struct idp_source {
    char entity_id[512];
    char url[1024];
    char signer_cert[8192];
    time_t last_ok;  /* last fetch that was accepted (0 = never) */
    time_t last_try; /* last fetch, accepted or not */
    time_t next_at;  /* when the next fetch is due */
    int failures;    /* consecutive failed fetches (the backoff) */
    char last_error[512];
};
/* Records the source of a newly registered IdP (or replaces it), its schedule restarted. */
int store_idp_source_put(struct store *s, const struct idp_source *src);
int store_idp_source_get(struct store *s, const char *entity_id,
                         struct idp_source *out); /* 1 = none */
/* Records a fetch: last_try, next_at, failures, last_error; last_ok too when ok. 1 = none. */
int store_idp_source_result(struct store *s, const struct idp_source *src, int ok);
/* Calls cb with at most max sources due at now, most overdue first; cb non-zero stops. */
int store_idp_sources_due(struct store *s, time_t now, int max,
                          int (*cb)(const char *entity_id, void *), void *ctx);

/* A federation: the URL of its signed aggregate, its signer's certificate, the refresh schedule
 * (as struct idp_source's) and how many IdPs it brought. */
struct federation_row {
    char url[1024];
    char name[256];
    char signer_cert[8192];
    time_t created_at, last_ok, last_try, next_at;
    int failures;
    char last_error[512];
    int n_idps;
};
int store_federation_insert(struct store *s, const struct federation_row *f); /* 1 = exists */
int store_federation_get(struct store *s, const char *url,
                         struct federation_row *out); /* 1 = none */
int store_federation_list(struct store *s, int (*cb)(const struct federation_row *, void *),
                          void *ctx);
/* Deletes the federation and its membership rows (not its IdPs); 1 = none. */
int store_federation_delete(struct store *s, const char *url);
/* Records a fetch (last_try, next_at, failures, last_error; last_ok and n_idps when ok). */
int store_federation_result(struct store *s, const struct federation_row *f, int ok);
/* Calls cb with at most max federation URLs due at now; cb non-zero stops. */
int store_federations_due(struct store *s, time_t now, int max, int (*cb)(const char *url, void *),
                          void *ctx);
/* Records that the IdP came from the federation (kept until the IdP is removed). */
int store_federation_member_add(struct store *s, const char *entity_id, const char *url);
/* At most max entity IDs of the federation's IdPs, into *ids (calloc'd; caller frees). */
int store_federation_members(struct store *s, const char *url, int max, char (**ids)[1024], int *n);

/* Updates name, switches, default role and attribute names of a registered IdP; 1 = none. */
int store_idp_update(struct store *s, const struct idp_row *r);
/* Replaces the IdP's metadata and what was read from it: endpoints and certificates. */
int store_idp_set_metadata(struct store *s, const struct idp_row *r, const char *metadata);
int store_idp_domains_clear(struct store *s, const char *entity_id);
/* Group -> role mapping (any role but owner: the caller checks); add: 1 when the group is
 * mapped already. */
int store_idp_group_roles_clear(struct store *s, const char *entity_id);
int store_idp_group_role_add(struct store *s, const char *entity_id, const char *group,
                             const char *role);
int store_idp_group_roles(struct store *s, const char *entity_id,
                          int (*cb)(const char *group, const char *role, void *), void *ctx);
int store_idp_role_for_group(struct store *s, const char *entity_id, const char *group, char *role,
                             size_t len); /* 1 = unmapped */

/* SP-initiated requests awaiting their response; the ID is what InResponseTo must carry. */
int store_saml_request_put(struct store *s, const char *id, const char *entity_id,
                           const char *return_to, time_t expires_at);
/* Consumes the live request id of entity_id: 0 (return_to filled), 1 unknown/expired/used.
 * Atomic single use (on any node: an AuthnRequest sent from one may complete at another). */
int store_saml_request_take(struct store *s, const char *id, const char *entity_id, time_t now,
                            char *return_to, size_t len);
/* Remembers an accepted assertion ID until expires_at: 1 when it was seen already (replay).
 * Atomic single use: of concurrent calls with one ID, on any nodes, one gets 0. */
int store_saml_assertion_once(struct store *s, const char *assertion_id, const char *entity_id,
                              time_t expires_at);
/* Deletes requests, test sign-ins and assertion IDs past their expiry, and log rows older than
 * log_before. */
int store_saml_prune(struct store *s, time_t now, time_t log_before);

/* The SAML user (idp, name_id); 1 = none. */
int store_user_by_saml(struct store *s, const char *idp, const char *name_id, struct user *out);
/* Updates a SAML user's e-mail, name and role from the latest assertion. */
int store_user_saml_sync(struct store *s, long long id, const char *email, const char *name,
                         const char *role);
/* Re-keys SAML user id of idp to name_id (the IdP now names the person so): 0, 1 when another
 * user of idp has that NameID, -1 on error or when id is no SAML user of idp. */
int store_user_rekey(struct store *s, long long id, const char *idp, const char *name_id);

struct saml_log_row {
    long long id;
    time_t at;
    char client_addr[64];
    char issuer[512];
    char name_id[512];
    char in_response_to[256];
    char assertion_id[256];
    char verdict[16]; /* accepted | refused */
    char reason[48];
    char detail[600];
    long long user_id;  /* 0 when none */
    char *xml;          /* what was kept of the decoded response (see xml_kept); may be NULL */
    long long xml_size; /* bytes of the whole decoded response */
    char xml_kept[16];  /* full | excerpt (the first bytes only) | dropped (space ran low) | none */
    int has_skew;       /* the response's IssueInstant was read from a verified response */
    long long skew_seconds; /* IssueInstant minus our clock at receipt (+: the IdP is ahead) */
    int test;               /* a test sign-in (no session, no user): see saml_test_row */
    char node[64];          /* the node that wrote it (store_set_node); "" before nodes */
};

/* Appends a row; *id_out receives its id (the reference shown to the person): unique, and
 * growing with time on one node (not strictly across nodes). */
int store_saml_log_append(struct store *s, const struct saml_log_row *r, long long *id_out);
/* Newest first; filters may be NULL/0. cb gets rows without xml. */
int store_saml_log_list(struct store *s, int failed_only, const char *issuer, const char *name_id,
                        long long limit, int (*cb)(const struct saml_log_row *, void *), void *ctx);
/* One row with its xml (free out->xml); 1 = none. */
int store_saml_log_get(struct store *s, long long id, struct saml_log_row *out);
/* The issuer's newest row with verdict accepted (accepted 1) or refused (0), without xml;
 * 1 = none. Indexed by issuer. */
int store_saml_log_last(struct store *s, const char *issuer, int accepted,
                        struct saml_log_row *out);
/* The skews of the issuer's newest rows that have one (newest first), at most max, into
 * out; how many into *n_out. */
int store_saml_log_skews(struct store *s, const char *issuer, int max, long long *out, int *n_out);

/* A test sign-in ("Test sign-in" on the admin IdP page): the pending AuthnRequest request_id
 * carries this mark, so the ACS validates and logs the response but creates no session and no
 * user, and records what the response would have given; only the admin who started it, in the
 * same session, sees the result. */
#define SAML_TEST_RESULT_MAX 16384
struct saml_test_row {
    char request_id[256];
    char entity_id[512];
    long long user_id;     /* who started it */
    char session_hash[65]; /* in which session */
    time_t created_at;
    time_t expires_at;                 /* pruned after */
    long long log_id;                  /* the SAML log row of its response; 0 = no response yet */
    char result[SAML_TEST_RESULT_MAX]; /* JSON: the mapped identity and the attributes */
};
/* 1 when request_id has a test already. */
int store_saml_test_put(struct store *s, const struct saml_test_row *r);
int store_saml_test_get(struct store *s, const char *request_id,
                        struct saml_test_row *out); /* 1 = none (or pruned) */
/* Records the response to the test: 0, or 1 when it has none or a response already (a test
 * takes one response, atomically). */
int store_saml_test_result(struct store *s, const char *request_id, long long log_id,
                           const char *result);
/* The ids (ascending, above after_id, at most max into ids, *n of them) of rows whose body is
 * still in clear: written before bodies were sealed (not NULL, not "s1:..."). 0 or -1. */
int store_saml_log_clear_ids(struct store *s, long long after_id, long long *ids, int max, int *n);
/* Replaces row id's body by sealed while it is still plain (one statement: a row changed or
 * pruned meanwhile is left alone): 0 replaced, 1 not, -1 error. */
int store_saml_log_reseal(struct store *s, long long id, const char *plain, const char *sealed);

/* Secrets at rest: the data key wrapped by the master key (auth/secrets.h). put: 1 when one is
 * stored already; replace: 1 when the stored one is no longer old_wrapped. */
int store_data_key_get(struct store *s, char *wrapped, size_t len); /* 1 = none */
int store_data_key_put(struct store *s, const char *wrapped, time_t at);
int store_data_key_replace(struct store *s, const char *old_wrapped, const char *new_wrapped);

/* TOTP: one sealed seed per user, pending until its first code confirms it. */
struct totp_row {
    char seed[256]; /* sealed (secrets_seal), never the seed itself */
    int confirmed;
    long long last_step; /* the last accepted time step: a code is accepted once */
    time_t created_at;
};
int store_totp_get(struct store *s, long long user_id, struct totp_row *out); /* 1 = none */
/* Stores a new pending seed; 1 when the user has a confirmed one (left as it is). One
 * statement: a concurrent confirmation is never overwritten. */
int store_totp_put_pending(struct store *s, long long user_id, const char *seed, time_t at);
/* Confirms the pending seed at step and sets users.mfa_enabled; 1 when none was pending.
 * Call it inside store_begin_write (two statements). */
int store_totp_confirm(struct store *s, long long user_id, long long step);
/* Records step as used when it is later than the last used one: 0, or 1 = replayed. Atomic
 * single use: a step (and any earlier one) is accepted once, on any node. */
int store_totp_use_step(struct store *s, long long user_id, long long step);
/* Removes TOTP and recovery codes and clears users.mfa_enabled; 1 when there was no TOTP. */
int store_totp_delete(struct store *s, long long user_id);
/* Replaces the user's recovery codes by n hashes (hex). Call it inside store_begin_write. */
int store_recovery_replace(struct store *s, long long user_id, const char (*hashes)[65], size_t n,
                           time_t at);
/* Marks an unused code as used: 0, or 1 = no such unused code. Atomic single use. */
int store_recovery_use(struct store *s, long long user_id, const char *hash, time_t at);
int store_recovery_remaining(struct store *s, long long user_id, long long *n_out);

/* The half-signed-in state between the password and the second factor (browser-bound by a
 * cookie whose SHA-256 is the key). */
struct mfa_pending_row {
    char token_hash[65];
    long long user_id;
    int enrol;         /* mfa.required and no TOTP yet: enrolment before any session */
    int change_reason; /* enum pw_change_reason for the session that follows */
    char return_to[512];
    char client_addr[64];
    time_t expires_at;
};
int store_mfa_pending_put(struct store *s, const struct mfa_pending_row *r);
int store_mfa_pending_get(struct store *s, const char *token_hash, time_t now,
                          struct mfa_pending_row *out); /* 1 = none or expired */
int store_mfa_pending_delete(struct store *s, const char *token_hash);
int store_mfa_pending_prune(struct store *s, time_t now);

/* Sign-in attempts for the dashboard: method password | sso, result success | failure |
 * locked. Hourly counts since a time, oldest first. */
int store_signin_event(struct store *s, time_t at, const char *method, const char *result);
int store_signin_hourly(struct store *s, time_t since,
                        void (*cb)(time_t hour, const char *method, const char *result, long long n,
                                   void *),
                        void *ctx);
int store_signin_prune(struct store *s, time_t before);
/* Calls cb with each address whose failures once locked it (locked_until set), for the
 * callers to decide which are locked now (login_locked_count); non-zero from cb stops. */
int store_lockouts_each(struct store *s,
                        int (*cb)(const char *email, const struct lockout_row *row, void *ctx),
                        void *ctx);
/* Sessions still alive: web sessions seen since web_idle_before, client ones since
 * client_idle_before, none created before created_before (what store_session_prune keeps). */
int store_session_count_active(struct store *s, time_t web_idle_before, time_t client_idle_before,
                               time_t created_before, long long *web_out, long long *client_out);
/* Self-service password reset: e-mailed single-use tokens (only their SHA-256 is stored) and the
 * requests per address (the rate limit). */
struct reset_token_row {
    long long user_id;
    time_t created_at;
    time_t expires_at;
    time_t used_at; /* 0 = unused */
};
int store_reset_token_put(struct store *s, const char *token_hash, long long user_id,
                          time_t created_at, time_t expires_at);
int store_reset_token_get(struct store *s, const char *token_hash,
                          struct reset_token_row *out); /* 1 = none */
/* Marks the token used at now when it is unused and not expired: 0, or 1 = unknown, used or
 * expired. Atomic: of two concurrent calls with one token, one gets 0. */
int store_reset_token_use(struct store *s, const char *token_hash, time_t now);
/* Marks every unused token of the user as used at `at` (its password changed). */
int store_reset_token_void_user(struct store *s, long long user_id, time_t at);
/* Requests for the normalised address at or after since. */
int store_reset_request_count(struct store *s, const char *email, time_t since, long long *n_out);
int store_reset_request_add(struct store *s, const char *email, time_t at);
/* Deletes requests before requests_before and tokens that expired before tokens_before. */
int store_reset_prune(struct store *s, time_t requests_before, time_t tokens_before);

/* Roles (auth/roles.h gives them meaning): each a name and its permissions as a list of names
 * separated by commas ("*" for owner). The built-in owner, admin and member are rows too. */
struct role_row {
    char name[16];
    char permissions[512];
    int builtin;
    time_t created_at;
    time_t updated_at;
};
/* Every role by name; cb returning non-zero stops. */
int store_role_list(struct store *s, int (*cb)(const struct role_row *r, void *ctx), void *ctx);
int store_role_get(struct store *s, const char *name, struct role_row *out); /* 1 = none */
/* Inserts a role that is not built-in: 0, or 1 when the name is taken (atomic: of two
 * concurrent inserts of one name, one gets 1). */
int store_role_insert(struct store *s, const struct role_row *r);
/* Replaces the role's permissions; 1 = no such role. */
int store_role_set_permissions(struct store *s, const char *name, const char *permissions,
                               time_t at);
/* Deletes a role that is not built-in; 1 = none such. Callers check first that nobody holds
 * it (store_role_usage), in the same write transaction. */
int store_role_delete(struct store *s, const char *name);
/* Who uses the role: users holding it, IdPs naming it as default role or in a group mapping. */
int store_role_usage(struct store *s, const char *name, long long *users, long long *idps);

/* Audit log: append-only; only retention deletes rows, and only those older than `before`. */
int store_audit_append(struct store *s, const struct audit_row *row);
/* Deletes audit rows older than before ([store] audit_days), in one transaction. */
int store_audit_prune(struct store *s, time_t before);
/* Which audit rows to list: filters NULL or "" match all; since 0 = from the start. */
struct audit_filter {
    long long limit;
    const char *action;
    const char *actor;
    const char *target;
    time_t since;
};
/* Newest first, at most f->limit rows; cb returning non-zero stops. */
int store_audit_list(struct store *s, const struct audit_filter *f,
                     int (*cb)(const struct audit_row *, void *), void *ctx);

#endif
