/* auth/store_sqlite.c: the SQLite backend of store.h. All SQL lives here. Queries use only
 * portable SQL (INTEGER/TEXT columns, ? parameters, no SQLite-only functions), so a PostgreSQL
 * backend can reuse them with $n parameters. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "log.h"
#include "rand.h"

/* Versioned schema: migrations[i] moves the schema from version i to i + 1. Never edit an
 * applied migration; append a new one. */
static const char *const migrations[] = {
    /* 1: users, password history, lockout, sessions, settings, secrets, audit */
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  email TEXT NOT NULL UNIQUE,"
    "  display_name TEXT NOT NULL DEFAULT '',"
    "  role TEXT NOT NULL CHECK (role IN ('owner','admin','member')),"
    "  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','disabled')),"
    "  auth_method TEXT NOT NULL CHECK (auth_method IN ('password','saml')),"
    "  password_hash TEXT NOT NULL DEFAULT '',"
    "  must_change INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  last_login_at INTEGER NOT NULL DEFAULT 0,"
    "  password_changed_at INTEGER NOT NULL DEFAULT 0,"
    "  idp TEXT NOT NULL DEFAULT '',"
    "  name_id TEXT NOT NULL DEFAULT '',"
    "  mfa_enabled INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE password_history ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  hash TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX password_history_user ON password_history(user_id, created_at);"
    "CREATE TABLE lockouts ("
    "  email TEXT PRIMARY KEY,"
    "  failures INTEGER NOT NULL,"
    "  first_failure INTEGER NOT NULL,"
    "  locked_until INTEGER NOT NULL"
    ");"
    "CREATE TABLE sessions ("
    "  token_hash TEXT PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  kind INTEGER NOT NULL,"
    "  restricted INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL,"
    "  client_addr TEXT NOT NULL DEFAULT '',"
    "  idp TEXT NOT NULL DEFAULT '',"
    "  name_id TEXT NOT NULL DEFAULT '',"
    "  session_index TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX sessions_user ON sessions(user_id);"
    "CREATE TABLE settings ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE secrets ("
    "  name TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ");"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  actor_role TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  old_value TEXT NOT NULL,"
    "  new_value TEXT NOT NULL,"
    "  client_addr TEXT NOT NULL"
    ");"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    "  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",
    /* 2: SAML identity providers, their e-mail domains and group -> role mapping */
    "CREATE TABLE idps ("
    "  entity_id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL DEFAULT '',"
    "  metadata TEXT NOT NULL,"
    "  sso_redirect TEXT NOT NULL DEFAULT '',"
    "  sso_post TEXT NOT NULL DEFAULT '',"
    "  slo_redirect TEXT NOT NULL DEFAULT '',"
    "  slo_post TEXT NOT NULL DEFAULT '',"
    "  certs TEXT NOT NULL DEFAULT '',"
    "  idp_initiated INTEGER NOT NULL DEFAULT 0,"
    "  allow_sha1 INTEGER NOT NULL DEFAULT 0,"
    "  default_role TEXT NOT NULL DEFAULT 'member' CHECK (default_role IN ('admin','member')),"
    "  attr_email TEXT NOT NULL DEFAULT '',"
    "  attr_first_name TEXT NOT NULL DEFAULT '',"
    "  attr_last_name TEXT NOT NULL DEFAULT '',"
    "  attr_groups TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE idp_domains ("
    "  domain TEXT PRIMARY KEY,"
    "  entity_id TEXT NOT NULL REFERENCES idps(entity_id) ON DELETE CASCADE"
    ");"
    "CREATE INDEX idp_domains_idp ON idp_domains(entity_id);"
    "CREATE TABLE idp_group_roles ("
    "  entity_id TEXT NOT NULL REFERENCES idps(entity_id) ON DELETE CASCADE,"
    "  group_name TEXT NOT NULL,"
    "  role TEXT NOT NULL CHECK (role IN ('admin','member')),"
    "  PRIMARY KEY (entity_id, group_name)"
    ");",
    /* 3: SP-initiated requests, accepted assertion IDs (replay), the SAML response log */
    "CREATE TABLE saml_requests ("
    "  id TEXT PRIMARY KEY,"
    "  entity_id TEXT NOT NULL,"
    "  return_to TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE saml_assertions ("
    "  assertion_id TEXT PRIMARY KEY,"
    "  entity_id TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE saml_log ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  client_addr TEXT NOT NULL,"
    "  issuer TEXT NOT NULL,"
    "  name_id TEXT NOT NULL,"
    "  in_response_to TEXT NOT NULL,"
    "  assertion_id TEXT NOT NULL,"
    "  verdict TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  detail TEXT NOT NULL,"
    "  user_id INTEGER NOT NULL DEFAULT 0,"
    "  xml TEXT"
    ");"
    "CREATE INDEX saml_log_at ON saml_log(at);"
    "CREATE UNIQUE INDEX users_saml ON users(idp, name_id) WHERE auth_method = 'saml';",
    /* 4: secrets at rest (the wrapped data key), TOTP, recovery codes, half-signed-in state */
    "CREATE TABLE data_keys ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  wrapped TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE totp ("
    "  user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    "  seed TEXT NOT NULL,"
    "  confirmed INTEGER NOT NULL DEFAULT 0,"
    "  last_step INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE recovery_codes ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  code_hash TEXT NOT NULL,"
    "  used_at INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, code_hash)"
    ");"
    "CREATE TABLE mfa_pending ("
    "  token_hash TEXT PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  enrol INTEGER NOT NULL,"
    "  change_reason INTEGER NOT NULL,"
    "  return_to TEXT NOT NULL,"
    "  client_addr TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL"
    ");",
    /* 5: the NameID format of SAML sessions (single logout names the subject as the IdP did) */
    "ALTER TABLE sessions ADD COLUMN name_id_format TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX sessions_saml ON sessions(idp, name_id);",
    /* 6: sign-in events (the admin dashboard), self-service password reset tokens and their
     * rate limit */
    "CREATE TABLE signin_events ("
    "  id INTEGER PRIMARY KEY,"
    "  at INTEGER NOT NULL,"
    "  method TEXT NOT NULL,"
    "  result TEXT NOT NULL"
    ");"
    "CREATE INDEX signin_events_at ON signin_events(at);"
    "CREATE TABLE reset_tokens ("
    "  token_hash TEXT PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  used_at INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX reset_tokens_user ON reset_tokens(user_id);"
    "CREATE TABLE reset_requests ("
    "  email TEXT NOT NULL,"
    "  at INTEGER NOT NULL"
    ");"
    "CREATE INDEX reset_requests_email ON reset_requests(email, at);",
    /* 7: IdPs whose metadata is fetched from a URL: where, the signer's certificate, and the
     * state of the refresh schedule (the stored metadata is the backing copy) */
    "CREATE TABLE idp_sources ("
    "  entity_id TEXT PRIMARY KEY REFERENCES idps(entity_id) ON DELETE CASCADE,"
    "  url TEXT NOT NULL,"
    "  signer_cert TEXT NOT NULL DEFAULT '',"
    "  last_ok INTEGER NOT NULL DEFAULT 0,"
    "  last_try INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL DEFAULT 0,"
    "  failures INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT ''"
    ");",
    /* 8: each IdP's NameID policy for AuthnRequests (none: AllowCreate and no Format) */
    "ALTER TABLE idps ADD COLUMN name_id_format TEXT NOT NULL DEFAULT 'none';",
    /* 9: federations (a signed aggregate of IdPs, refreshed like a metadata URL) and which IdPs
     * came from which */
    "CREATE TABLE federations ("
    "  url TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  signer_cert TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  last_ok INTEGER NOT NULL DEFAULT 0,"
    "  last_try INTEGER NOT NULL DEFAULT 0,"
    "  next_at INTEGER NOT NULL DEFAULT 0,"
    "  failures INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  n_idps INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE federation_members ("
    "  entity_id TEXT PRIMARY KEY REFERENCES idps(entity_id) ON DELETE CASCADE,"
    "  federation TEXT NOT NULL REFERENCES federations(url) ON DELETE CASCADE"
    ");"
    "CREATE INDEX federation_members_fed ON federation_members(federation);",
    /* 10: what forward-auth decides on, recorded with each session: a second factor was used
     * (TOTP, or an MFA AuthnContext from the IdP), the IdP's AuthnContextClassRef and groups */
    "ALTER TABLE sessions ADD COLUMN mfa INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sessions ADD COLUMN authn_context TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE sessions ADD COLUMN groups TEXT NOT NULL DEFAULT '';",
    /* 11: bounded storage. What the SAML log kept of each response (the whole document, a bounded
     * excerpt, or nothing when space ran low) and its full size; a one-row table that readiness
     * writes to prove the store takes writes; audit retention: rows older than the bound that
     * pruning moves forward may be deleted, every other row stays append-only. */
    "ALTER TABLE saml_log ADD COLUMN xml_size INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE saml_log ADD COLUMN xml_kept TEXT NOT NULL DEFAULT 'full';"
    "CREATE TABLE store_probe ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  at INTEGER NOT NULL,"
    "  pad BLOB"
    ");"
    "CREATE TABLE audit_retention ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  before_at INTEGER NOT NULL"
    ");"
    "DROP TRIGGER audit_no_delete;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    "  WHEN old.at >= (SELECT COALESCE(MAX(before_at), 0) FROM audit_retention)"
    "  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",
    /* 12: when the IdP said the session ends (AuthnStatement/@SessionNotOnOrAfter; 0 = never) */
    "ALTER TABLE sessions ADD COLUMN ends_at INTEGER NOT NULL DEFAULT 0;",
};

#define N_MIGRATIONS (sizeof migrations / sizeof migrations[0])

#define USER_COLS                                                                                  \
    "id, email, display_name, role, status, auth_method, password_hash, must_change, created_at, " \
    "last_login_at, password_changed_at, idp, name_id, mfa_enabled"

#define IDP_COLS                                                                                   \
    "entity_id, name, sso_redirect, sso_post, slo_redirect, slo_post, certs, idp_initiated, "      \
    "allow_sha1, default_role, attr_email, attr_first_name, attr_last_name, attr_groups, "         \
    "created_at, name_id_format"

#define SAML_LOG_COLS                                                                              \
    "id, at, client_addr, issuer, name_id, in_response_to, assertion_id, verdict, reason, "        \
    "detail, user_id, xml_size, xml_kept"

#define FED_COLS                                                                                   \
    "url, name, signer_cert, created_at, last_ok, last_try, next_at, failures, last_error, n_idps"

enum stmt_id {
    ST_USER_BY_EMAIL,
    ST_USER_BY_ID,
    ST_USER_INSERT,
    ST_USER_COUNT,
    ST_USER_COUNT_ROLE,
    ST_USER_COUNT_ACTIVE_ROLE,
    ST_USER_LIST,
    ST_USER_SET_PASSWORD,
    ST_HISTORY_INSERT,
    ST_USER_REHASH,
    ST_USER_SET_LOGIN,
    ST_USER_SET_NAME,
    ST_USER_SET_ROLE,
    ST_USER_SET_STATUS,
    ST_USER_SET_MUST_CHANGE,
    ST_USER_DELETE,
    ST_HISTORY_LIST,
    ST_CHANGES_SINCE,
    ST_LOCKOUT_GET,
    ST_LOCKOUT_PUT,
    ST_LOCKOUT_CLEAR,
    ST_SESSION_INSERT,
    ST_SESSION_GET,
    ST_SESSION_USER_GET,
    ST_SESSION_TOUCH,
    ST_SESSION_DELETE,
    ST_SESSION_DELETE_USER,
    ST_SESSION_DELETE_USER_KEEP,
    ST_SESSION_PRUNE,
    ST_SESSION_DELETE_SAML,
    ST_SETTING_GET,
    ST_SETTING_PUT,
    ST_SETTING_ALL,
    ST_SECRET_GET,
    ST_SECRET_INSERT,
    ST_AUDIT_INSERT,
    ST_AUDIT_LIST,
    ST_IDP_INSERT,
    ST_IDP_GET,
    ST_IDP_DELETE,
    ST_IDP_LIST,
    ST_IDP_METADATA,
    ST_IDP_DOMAIN_ADD,
    ST_IDP_DOMAINS,
    ST_IDP_FOR_DOMAIN,
    ST_IDP_UPDATE,
    ST_IDP_SET_METADATA,
    ST_IDP_DOMAINS_CLEAR,
    ST_IDP_GROUP_ROLES_CLEAR,
    ST_IDP_GROUP_ROLE_ADD,
    ST_IDP_GROUP_ROLES,
    ST_IDP_ROLE_FOR_GROUP,
    ST_SAML_REQ_PUT,
    ST_SAML_REQ_GET,
    ST_SAML_REQ_DEL,
    ST_SAML_ASSERTION_PUT,
    ST_SAML_PRUNE_REQ,
    ST_SAML_PRUNE_ASSERTIONS,
    ST_SAML_PRUNE_LOG,
    ST_USER_BY_SAML,
    ST_USER_SAML_SYNC,
    ST_USER_REKEY,
    ST_SAML_LOG_PUT,
    ST_SAML_LOG_LIST,
    ST_SAML_LOG_GET,
    ST_DATA_KEY_GET,
    ST_DATA_KEY_PUT,
    ST_DATA_KEY_REPLACE,
    ST_TOTP_GET,
    ST_TOTP_PUT_PENDING,
    ST_TOTP_CONFIRM,
    ST_TOTP_USE_STEP,
    ST_TOTP_DELETE,
    ST_USER_SET_MFA,
    ST_RECOVERY_DELETE,
    ST_RECOVERY_INSERT,
    ST_RECOVERY_USE,
    ST_RECOVERY_REMAINING,
    ST_MFA_PENDING_PUT,
    ST_MFA_PENDING_GET,
    ST_MFA_PENDING_DELETE,
    ST_MFA_PENDING_PRUNE,
    ST_SIGNIN_EVENT,
    ST_SIGNIN_HOURLY,
    ST_SIGNIN_PRUNE,
    ST_LOCKOUTS_EACH,
    ST_RESET_TOKEN_PUT,
    ST_RESET_TOKEN_GET,
    ST_RESET_TOKEN_USE,
    ST_RESET_TOKEN_VOID_USER,
    ST_RESET_REQ_COUNT,
    ST_RESET_REQ_ADD,
    ST_RESET_PRUNE_REQ,
    ST_RESET_PRUNE_TOKENS,
    ST_IDP_SOURCE_PUT,
    ST_IDP_SOURCE_GET,
    ST_IDP_SOURCE_RESULT,
    ST_IDP_SOURCES_DUE,
    ST_FED_INSERT,
    ST_FED_GET,
    ST_FED_LIST,
    ST_FED_DELETE,
    ST_FED_RESULT,
    ST_FED_DUE,
    ST_FED_MEMBER_ADD,
    ST_FED_MEMBERS,
    ST_PING,
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_COUNT
};

static const char *const sql[ST_COUNT] = {
    [ST_USER_BY_EMAIL] = "SELECT " USER_COLS " FROM users WHERE email = ?",
    [ST_USER_BY_ID] = "SELECT " USER_COLS " FROM users WHERE id = ?",
    [ST_USER_INSERT] = "INSERT INTO users (email, display_name, role, status, auth_method, "
                       "password_hash, must_change, created_at, last_login_at, "
                       "password_changed_at, idp, name_id, mfa_enabled) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_USER_COUNT] = "SELECT COUNT(*) FROM users",
    [ST_USER_COUNT_ROLE] = "SELECT COUNT(*) FROM users WHERE role = ?",
    [ST_USER_COUNT_ACTIVE_ROLE] = "SELECT COUNT(*) FROM users WHERE role = ? AND status = 'active'",
    [ST_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY email",
    [ST_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?, must_change = ?, "
                             "password_changed_at = ? WHERE id = ?",
    [ST_HISTORY_INSERT] = "INSERT INTO password_history (user_id, hash, kind, created_at) "
                          "VALUES (?, ?, ?, ?)",
    [ST_USER_REHASH] = "UPDATE users SET password_hash = ? WHERE id = ?",
    [ST_USER_SET_LOGIN] = "UPDATE users SET last_login_at = ? WHERE id = ?",
    [ST_USER_SET_NAME] = "UPDATE users SET display_name = ? WHERE id = ?",
    [ST_USER_SET_ROLE] = "UPDATE users SET role = ? WHERE id = ?",
    [ST_USER_SET_STATUS] = "UPDATE users SET status = ? WHERE id = ?",
    [ST_USER_SET_MUST_CHANGE] = "UPDATE users SET must_change = ? WHERE id = ?",
    [ST_USER_DELETE] = "DELETE FROM users WHERE id = ?",
    [ST_HISTORY_LIST] = "SELECT hash FROM password_history WHERE user_id = ? "
                        "ORDER BY created_at DESC, id DESC LIMIT ?",
    [ST_CHANGES_SINCE] = "SELECT created_at FROM password_history WHERE user_id = ? "
                         "AND kind IN ('user', 'self_reset') AND created_at >= ? "
                         "ORDER BY created_at DESC, id DESC LIMIT ?",
    [ST_LOCKOUT_GET] = "SELECT failures, first_failure, locked_until FROM lockouts WHERE email = ?",
    [ST_LOCKOUT_PUT] = "INSERT INTO lockouts (email, failures, first_failure, locked_until) "
                       "VALUES (?, ?, ?, ?) ON CONFLICT (email) DO UPDATE SET "
                       "failures = excluded.failures, first_failure = excluded.first_failure, "
                       "locked_until = excluded.locked_until",
    [ST_LOCKOUT_CLEAR] = "DELETE FROM lockouts WHERE email = ?",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (token_hash, user_id, kind, restricted, "
                          "created_at, last_seen, client_addr, idp, name_id, session_index, "
                          "name_id_format, mfa, authn_context, groups, ends_at) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_SESSION_GET] = "SELECT token_hash, user_id, kind, restricted, created_at, last_seen, "
                       "client_addr, idp, name_id, session_index, name_id_format, mfa, "
                       "authn_context, groups, ends_at FROM sessions WHERE token_hash = ?",
    /* The user's columns first (read_user reads them from 0), then the session's. */
    [ST_SESSION_USER_GET] =
        "SELECT u.id, u.email, u.display_name, u.role, u.status, u.auth_method, u.password_hash, "
        "u.must_change, u.created_at, u.last_login_at, u.password_changed_at, u.idp, u.name_id, "
        "u.mfa_enabled, s.token_hash, s.user_id, s.kind, s.restricted, s.created_at, s.last_seen, "
        "s.client_addr, s.idp, s.name_id, s.session_index, s.name_id_format, s.mfa, "
        "s.authn_context, s.groups, s.ends_at FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.token_hash = ?",
    [ST_SESSION_TOUCH] = "UPDATE sessions SET last_seen = ? WHERE token_hash = ?",
    [ST_SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = ?",
    [ST_SESSION_DELETE_USER] = "DELETE FROM sessions WHERE user_id = ?",
    [ST_SESSION_DELETE_USER_KEEP] = "DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?",
    [ST_SESSION_PRUNE] = "DELETE FROM sessions WHERE (kind = 0 AND last_seen < ?) "
                         "OR (kind = 1 AND last_seen < ?) OR created_at < ?",
    [ST_SESSION_DELETE_SAML] = "DELETE FROM sessions WHERE idp = ? AND name_id = ? "
                               "AND (? = '' OR session_index = ?)",
    [ST_SETTING_GET] = "SELECT value FROM settings WHERE key = ?",
    [ST_SETTING_PUT] = "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                       "updated_at = excluded.updated_at",
    [ST_SETTING_ALL] = "SELECT key, value FROM settings",
    [ST_SECRET_GET] = "SELECT value FROM secrets WHERE name = ?",
    [ST_SECRET_INSERT] = "INSERT INTO secrets (name, value) VALUES (?, ?) "
                         "ON CONFLICT (name) DO NOTHING",
    [ST_AUDIT_INSERT] = "INSERT INTO audit (at, actor, actor_role, action, target, old_value, "
                        "new_value, client_addr) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_AUDIT_LIST] = "SELECT id, at, actor, actor_role, action, target, old_value, new_value, "
                      "client_addr FROM audit WHERE (? = '' OR action = ?) AND "
                      "(? = '' OR actor = ?) AND (? = '' OR target = ?) AND at >= ? "
                      "ORDER BY id DESC LIMIT ?",
    [ST_IDP_INSERT] = "INSERT INTO idps (entity_id, name, metadata, sso_redirect, sso_post, "
                      "slo_redirect, slo_post, certs, idp_initiated, allow_sha1, default_role, "
                      "attr_email, attr_first_name, attr_last_name, attr_groups, created_at, "
                      "name_id_format) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_IDP_GET] = "SELECT " IDP_COLS " FROM idps WHERE entity_id = ?",
    [ST_IDP_DELETE] = "DELETE FROM idps WHERE entity_id = ?",
    [ST_IDP_LIST] = "SELECT " IDP_COLS " FROM idps ORDER BY entity_id",
    [ST_IDP_METADATA] = "SELECT entity_id, metadata FROM idps ORDER BY entity_id",
    [ST_IDP_DOMAIN_ADD] = "INSERT INTO idp_domains (domain, entity_id) VALUES (?, ?)",
    [ST_IDP_DOMAINS] = "SELECT domain FROM idp_domains WHERE entity_id = ? ORDER BY domain",
    [ST_IDP_FOR_DOMAIN] = "SELECT entity_id FROM idp_domains WHERE domain = ?",
    [ST_IDP_UPDATE] = "UPDATE idps SET name = ?, idp_initiated = ?, allow_sha1 = ?, "
                      "default_role = ?, attr_email = ?, attr_first_name = ?, "
                      "attr_last_name = ?, attr_groups = ?, name_id_format = ? "
                      "WHERE entity_id = ?",
    [ST_IDP_SET_METADATA] = "UPDATE idps SET metadata = ?, sso_redirect = ?, sso_post = ?, "
                            "slo_redirect = ?, slo_post = ?, certs = ? WHERE entity_id = ?",
    [ST_IDP_DOMAINS_CLEAR] = "DELETE FROM idp_domains WHERE entity_id = ?",
    [ST_IDP_GROUP_ROLES_CLEAR] = "DELETE FROM idp_group_roles WHERE entity_id = ?",
    [ST_IDP_GROUP_ROLE_ADD] = "INSERT INTO idp_group_roles (entity_id, group_name, role) "
                              "VALUES (?, ?, ?)",
    [ST_IDP_GROUP_ROLES] = "SELECT group_name, role FROM idp_group_roles WHERE entity_id = ? "
                           "ORDER BY group_name",
    [ST_IDP_ROLE_FOR_GROUP] = "SELECT role FROM idp_group_roles WHERE entity_id = ? "
                              "AND group_name = ?",
    [ST_SAML_REQ_PUT] = "INSERT INTO saml_requests (id, entity_id, return_to, expires_at) "
                        "VALUES (?, ?, ?, ?)",
    [ST_SAML_REQ_GET] = "SELECT return_to FROM saml_requests WHERE id = ? AND entity_id = ? "
                        "AND expires_at > ?",
    [ST_SAML_REQ_DEL] = "DELETE FROM saml_requests WHERE id = ?",
    [ST_SAML_ASSERTION_PUT] = "INSERT INTO saml_assertions (assertion_id, entity_id, expires_at) "
                              "VALUES (?, ?, ?)",
    [ST_SAML_PRUNE_REQ] = "DELETE FROM saml_requests WHERE expires_at <= ?",
    [ST_SAML_PRUNE_ASSERTIONS] = "DELETE FROM saml_assertions WHERE expires_at <= ?",
    [ST_SAML_PRUNE_LOG] = "DELETE FROM saml_log WHERE at < ?",
    [ST_USER_BY_SAML] = "SELECT " USER_COLS " FROM users WHERE auth_method = 'saml' AND idp = ? "
                        "AND name_id = ?",
    [ST_USER_SAML_SYNC] = "UPDATE users SET email = ?, display_name = ?, role = ? WHERE id = ?",
    [ST_USER_REKEY] =
        "UPDATE users SET name_id = ? WHERE id = ? AND auth_method = 'saml' AND idp = ?",
    [ST_SAML_LOG_PUT] = "INSERT INTO saml_log (at, client_addr, issuer, name_id, in_response_to, "
                        "assertion_id, verdict, reason, detail, user_id, xml, xml_size, "
                        "xml_kept) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_SAML_LOG_LIST] = "SELECT " SAML_LOG_COLS " FROM saml_log WHERE (? = 0 OR verdict = "
                         "'refused') AND (? = '' OR issuer = ?) AND (? = '' OR name_id = ?) "
                         "ORDER BY id DESC LIMIT ?",
    [ST_SAML_LOG_GET] = "SELECT " SAML_LOG_COLS ", xml FROM saml_log WHERE id = ?",
    [ST_DATA_KEY_GET] = "SELECT wrapped FROM data_keys WHERE id = 1",
    [ST_DATA_KEY_PUT] = "INSERT INTO data_keys (id, wrapped, created_at) VALUES (1, ?, ?) "
                        "ON CONFLICT (id) DO NOTHING",
    [ST_DATA_KEY_REPLACE] = "UPDATE data_keys SET wrapped = ? WHERE id = 1 AND wrapped = ?",
    [ST_TOTP_GET] = "SELECT seed, confirmed, last_step, created_at FROM totp WHERE user_id = ?",
    [ST_TOTP_PUT_PENDING] = "INSERT INTO totp (user_id, seed, confirmed, last_step, created_at) "
                            "VALUES (?, ?, 0, 0, ?) ON CONFLICT (user_id) DO UPDATE SET "
                            "seed = excluded.seed, last_step = 0, created_at = excluded.created_at "
                            "WHERE totp.confirmed = 0",
    [ST_TOTP_CONFIRM] = "UPDATE totp SET confirmed = 1, last_step = ? WHERE user_id = ? "
                        "AND confirmed = 0",
    [ST_TOTP_USE_STEP] = "UPDATE totp SET last_step = ? WHERE user_id = ? AND confirmed = 1 "
                         "AND last_step < ?",
    [ST_TOTP_DELETE] = "DELETE FROM totp WHERE user_id = ?",
    [ST_USER_SET_MFA] = "UPDATE users SET mfa_enabled = ? WHERE id = ?",
    [ST_RECOVERY_DELETE] = "DELETE FROM recovery_codes WHERE user_id = ?",
    [ST_RECOVERY_INSERT] = "INSERT INTO recovery_codes (user_id, code_hash, used_at, created_at) "
                           "VALUES (?, ?, 0, ?)",
    [ST_RECOVERY_USE] = "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? "
                        "AND code_hash = ? AND used_at = 0",
    [ST_RECOVERY_REMAINING] = "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? "
                              "AND used_at = 0",
    [ST_MFA_PENDING_PUT] = "INSERT INTO mfa_pending (token_hash, user_id, enrol, change_reason, "
                           "return_to, client_addr, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [ST_MFA_PENDING_GET] = "SELECT token_hash, user_id, enrol, change_reason, return_to, "
                           "client_addr, expires_at FROM mfa_pending WHERE token_hash = ? "
                           "AND expires_at > ?",
    [ST_MFA_PENDING_DELETE] = "DELETE FROM mfa_pending WHERE token_hash = ?",
    [ST_MFA_PENDING_PRUNE] = "DELETE FROM mfa_pending WHERE expires_at <= ?",
    [ST_SIGNIN_EVENT] = "INSERT INTO signin_events (at, method, result) VALUES (?, ?, ?)",
    [ST_SIGNIN_HOURLY] = "SELECT (at / 3600) * 3600 AS hour, method, result, COUNT(*) "
                         "FROM signin_events WHERE at >= ? GROUP BY hour, method, result "
                         "ORDER BY hour",
    [ST_SIGNIN_PRUNE] = "DELETE FROM signin_events WHERE at < ?",
    [ST_LOCKOUTS_EACH] = "SELECT email, failures, first_failure, locked_until FROM lockouts "
                         "WHERE locked_until <> 0",
    [ST_RESET_TOKEN_PUT] = "INSERT INTO reset_tokens (token_hash, user_id, created_at, expires_at, "
                           "used_at) VALUES (?, ?, ?, ?, 0)",
    [ST_RESET_TOKEN_GET] = "SELECT user_id, created_at, expires_at, used_at FROM reset_tokens "
                           "WHERE token_hash = ?",
    [ST_RESET_TOKEN_USE] = "UPDATE reset_tokens SET used_at = ? WHERE token_hash = ? "
                           "AND used_at = 0 AND expires_at > ?",
    [ST_RESET_TOKEN_VOID_USER] = "UPDATE reset_tokens SET used_at = ? WHERE user_id = ? "
                                 "AND used_at = 0",
    [ST_RESET_REQ_COUNT] = "SELECT COUNT(*) FROM reset_requests WHERE email = ? AND at >= ?",
    [ST_RESET_REQ_ADD] = "INSERT INTO reset_requests (email, at) VALUES (?, ?)",
    [ST_RESET_PRUNE_REQ] = "DELETE FROM reset_requests WHERE at < ?",
    [ST_RESET_PRUNE_TOKENS] = "DELETE FROM reset_tokens WHERE expires_at < ?",
    [ST_IDP_SOURCE_PUT] =
        "INSERT INTO idp_sources (entity_id, url, signer_cert, last_ok, last_try, "
        "next_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (entity_id) DO UPDATE "
        "SET url = excluded.url, signer_cert = excluded.signer_cert, "
        "last_ok = excluded.last_ok, last_try = excluded.last_try, "
        "next_at = excluded.next_at, failures = 0, last_error = ''",
    [ST_IDP_SOURCE_GET] = "SELECT entity_id, url, signer_cert, last_ok, last_try, next_at, "
                          "failures, last_error FROM idp_sources WHERE entity_id = ?",
    [ST_IDP_SOURCE_RESULT] =
        "UPDATE idp_sources SET last_ok = CASE WHEN ? THEN ? ELSE last_ok END, "
        "last_try = ?, next_at = ?, failures = ?, last_error = ? "
        "WHERE entity_id = ?",
    [ST_FED_INSERT] = "INSERT INTO federations (url, name, signer_cert, created_at, last_ok, "
                      "last_try, next_at, n_idps) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_FED_GET] = "SELECT " FED_COLS " FROM federations WHERE url = ?",
    [ST_FED_LIST] = "SELECT " FED_COLS " FROM federations ORDER BY name, url",
    [ST_FED_DELETE] = "DELETE FROM federations WHERE url = ?",
    [ST_FED_RESULT] = "UPDATE federations SET last_ok = CASE WHEN ? THEN ? ELSE last_ok END, "
                      "last_try = ?, next_at = ?, failures = ?, last_error = ?, "
                      "n_idps = CASE WHEN ? THEN ? ELSE n_idps END WHERE url = ?",
    [ST_FED_DUE] = "SELECT url FROM federations WHERE next_at <= ? ORDER BY next_at LIMIT ?",
    [ST_FED_MEMBER_ADD] = "INSERT INTO federation_members (entity_id, federation) VALUES (?, ?) "
                          "ON CONFLICT (entity_id) DO NOTHING",
    [ST_FED_MEMBERS] = "SELECT entity_id FROM federation_members WHERE federation = ? "
                       "ORDER BY entity_id",
    [ST_IDP_SOURCES_DUE] = "SELECT entity_id FROM idp_sources WHERE next_at <= ? "
                           "ORDER BY next_at LIMIT ?",
    [ST_PING] = "SELECT 1",
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

/* A connection to the database and its prepared statements. */
struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
};

struct store {
    struct conn own; /* this thread's connection */
    struct conn *c;  /* the one in use: own, or the shared writer during a write transaction */
    char *path;
    int version;
    int write_turn; /* holds the process's write turn (store_begin_write .. commit/rollback) */
};

/* The threads of this process take turns for SQLite's write lock here, blocking on a mutex that
 * wakes the next one the moment a transaction ends. Left to SQLite's busy handler (below) they
 * would poll in sleeps that last 60 us or more (timer slack), and under sign-in load two threads
 * meet at almost every transaction. Other processes (gatehousectl) still meet the busy handler.
 *
 * Write transactions run on one connection shared by the threads that hold the turn in order.
 * SQLite drops a connection's whole page cache when another connection has written since its
 * last transaction: with a connection per thread, every sign-in re-read the pages of the
 * tables it writes (~15 % of its store time); the writer's cache stays warm. Reads outside
 * transactions stay on each thread's own connection, in parallel. */
static pthread_mutex_t write_turn = PTHREAD_MUTEX_INITIALIZER;
static struct conn writer; /* guarded by write_turn */
static char *writer_path;  /* the database it is open on */
static int writer_state;   /* 0 not tried, 1 open, -1 could not be opened (own used) */

/* Gives the turn back once the transaction is over. A transaction that could not even be
 * rolled back gives it back too: the next thread then meets SQLite's lock and its busy
 * handler's time limit, an error rather than a hang. */
static void
end_write_turn(struct store *s)
{
    if (s->write_turn) {
        s->write_turn = 0;
        s->c = &s->own;
        pthread_mutex_unlock(&write_turn);
    }
}

/* The prepared statement for id, reset and ready to bind; NULL on error (logged). */
static sqlite3_stmt *
stmt(struct store *s, enum stmt_id id)
{
    if (s->c->st[id] == NULL) {
        if (sqlite3_prepare_v3(s->c->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->c->st[id],
                               NULL) != SQLITE_OK) {
            log_error("prepare failed: %s", sqlite3_errmsg(s->c->db));
            return NULL;
        }
    } else {
        sqlite3_reset(s->c->st[id]);
        sqlite3_clear_bindings(s->c->st[id]);
    }
    return s->c->st[id];
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
    sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}

static void
col_text(sqlite3_stmt *st, int i, char *out, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, len, "%s", t ? (const char *)t : "");
}

/* Whether the process's last write failed for want of space or of the disk (SQLITE_FULL, an
 * I/O error such as ENOSPC or EFBIG, a read-only file), until a write commits again. Process
 * state like the write turn: the server fails sign-ins closed while it is set. */
static _Atomic int writes_failing;
static pthread_mutex_t write_error_mu = PTHREAD_MUTEX_INITIALIZER;
static char write_error[256]; /* guarded by write_error_mu */

static void
note_write(struct store *s, sqlite3_stmt *st, int rc)
{
    int primary = rc & 0xff;
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        /* Committed (outside a transaction each statement commits by itself); a rollback
         * proves nothing. */
        if (atomic_load(&writes_failing) && sqlite3_get_autocommit(s->c->db) &&
            strncmp(sqlite3_sql(st), "ROLLBACK", 8) != 0 && atomic_exchange(&writes_failing, 0))
            log_info("store writes succeed again");
        return;
    }
    if (primary != SQLITE_FULL && primary != SQLITE_IOERR && primary != SQLITE_READONLY &&
        primary != SQLITE_CANTOPEN)
        return;
    pthread_mutex_lock(&write_error_mu);
    snprintf(write_error, sizeof write_error, "%s", sqlite3_errmsg(s->c->db));
    pthread_mutex_unlock(&write_error_mu);
    if (!atomic_exchange(&writes_failing, 1))
        log_error("store writes fail: %s", sqlite3_errmsg(s->c->db));
}

int
store_writes_failing(char *why, size_t len)
{
    if (!atomic_load(&writes_failing))
        return 0;
    if (why != NULL) {
        pthread_mutex_lock(&write_error_mu);
        snprintf(why, len, "%s", write_error);
        pthread_mutex_unlock(&write_error_mu);
    }
    return 1;
}

/* Steps a statement that returns no rows; 0 or -1. */
static int
exec_done(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    note_write(s, st, rc);
    if (rc != SQLITE_DONE) {
        log_error("step failed: %s", sqlite3_errmsg(s->c->db));
        return -1;
    }
    return 0;
}

/* Steps a statement that returns no rows: 0 when it changed a row, 1 when none, -1 error. */
static int
exec_changed(struct store *s, sqlite3_stmt *st)
{
    if (exec_done(s, st) != 0)
        return -1;
    return sqlite3_changes(s->c->db) > 0 ? 0 : 1;
}

static int
exec_script(sqlite3 *db, const char *script)
{
    char *msg = NULL;
    if (sqlite3_exec(db, script, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int
migrate(struct store *s, char *err, size_t errlen)
{
    if (exec_script(s->c->db,
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"))
        goto fail;
    if (exec_script(s->c->db, "BEGIN IMMEDIATE"))
        goto fail;
    sqlite3_stmt *st = NULL;
    int version = 0;
    if (sqlite3_prepare_v2(s->c->db, "SELECT MAX(version) FROM schema_version", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > (int)N_MIGRATIONS) {
        exec_script(s->c->db, "ROLLBACK");
        snprintf(err, errlen, "the store has schema version %d, newer than this program (%zu)",
                 version, N_MIGRATIONS);
        return -1;
    }
    for (size_t v = (size_t)version; v < N_MIGRATIONS; v++) {
        char bump[96];
        snprintf(bump, sizeof bump, "INSERT INTO schema_version (version) VALUES (%zu)", v + 1);
        if (exec_script(s->c->db, migrations[v]) || exec_script(s->c->db, bump)) {
            exec_script(s->c->db, "ROLLBACK");
            snprintf(err, errlen, "migration to schema version %zu failed: %s", v + 1,
                     sqlite3_errmsg(s->c->db));
            return -1;
        }
        log_info("store migrated to schema version %zu", v + 1);
    }
    if (exec_script(s->c->db, "COMMIT"))
        goto fail;
    s->version = (int)N_MIGRATIONS;
    return 0;
fail:
    snprintf(err, errlen, "cannot prepare the schema: %s", sqlite3_errmsg(s->c->db));
    return -1;
}

/* The store is locked by another writer: another process (gatehousectl), or a thread of ours
 * writing outside a transaction (those take no write turn), for a fraction of a millisecond.
 * SQLite's own busy timeout sleeps 1 ms, then 2, 5, 10... Short waits first, then 1 ms ones;
 * after ~5 s in all the statement fails with SQLITE_BUSY. */
static int
busy_wait(void *arg, int n)
{
    (void)arg;
    if (n >= 200 + 4800)
        return 0;
    struct timespec t = {0, n < 100 ? 10000 : n < 200 ? 100000 : 1000000};
    nanosleep(&t, NULL);
    return 1;
}

/* Opens c on path with the store's settings. */
static int
open_conn(struct conn *c, const char *path, char *err, size_t errlen)
{
    int rc = sqlite3_open_v2(
        path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open the store: %s", path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        return -1;
    }
    sqlite3_busy_handler(c->db, busy_wait, NULL);
    sqlite3_extended_result_codes(c->db, 1);
    char *msg = NULL;
    /* A sign-in writes ~14 pages to the WAL. With SQLite's default checkpoint every 1,000 pages
     * (~70 sign-ins) the committing request copies them into the database and syncs both files,
     * ~5 % of the server's CPU under load; every 8,192 pages (32 MiB): ~1.7 % (perf, make bench),
     * and the WAL file is truncated back to 64 MiB at most after each checkpoint. */
    if (sqlite3_exec(c->db,
                     "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; "
                     "PRAGMA synchronous = NORMAL; PRAGMA trusted_schema = OFF; "
                     "PRAGMA wal_autocheckpoint = 8192; PRAGMA journal_size_limit = 67108864",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(c->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static void
close_conn(struct conn *c)
{
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(c->st[i]);
        c->st[i] = NULL;
    }
    if (c->db != NULL && sqlite3_close(c->db) != SQLITE_OK)
        log_warn("close: %s", sqlite3_errmsg(c->db));
    c->db = NULL;
}

/* The store holds password hashes, sealed secrets and the SAML log's personal data. Its file is
 * created 0600 before SQLite opens it (SQLite gives the -wal and -shm files the database's mode),
 * and a store whose files other users may read is refused, as the master key is. */
static int
private_files(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
        close(fd);
    else if (errno != EEXIST) {
        snprintf(err, errlen, "%s: cannot create the store: %s", path, strerror(errno));
        return -1;
    }
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        char name[4096];
        struct stat st;
        snprintf(name, sizeof name, "%s%s", path, suffix[i]);
        if (stat(name, &st) != 0)
            continue; /* -wal and -shm come and go */
        if ((st.st_mode & 077) != 0) {
            snprintf(err, errlen,
                     "%s: the store is readable by other users (mode %03o); run chmod 600 %s "
                     "(and its -wal and -shm files)",
                     name, (unsigned)(st.st_mode & 0777), name);
            return -1;
        }
    }
    return 0;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
    if (private_files(path, err, errlen) != 0)
        return NULL;
    struct store *s = calloc(1, sizeof *s);
    if (s == NULL || (s->path = strdup(path)) == NULL) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->c = &s->own;
    if (open_conn(&s->own, path, err, errlen) != 0 || migrate(s, err, errlen) != 0) {
        store_close(s);
        return NULL;
    }
    return s;
}

void
store_close(struct store *s)
{
    if (s == NULL)
        return;
    close_conn(&s->own);
    free(s->path);
    free(s);
}

void
store_close_shared(void)
{
    pthread_mutex_lock(&write_turn);
    if (writer_state == 1)
        close_conn(&writer);
    free(writer_path);
    writer_path = NULL;
    writer_state = 0;
    pthread_mutex_unlock(&write_turn);
}

/* The connection for s's write transaction (the turn held): the shared writer when it is open
 * on s's database, else s's own. */
static struct conn *
writer_for(struct store *s)
{
    if (writer_state == 0) {
        char err[512];
        writer_path = strdup(s->path);
        writer_state = writer_path && open_conn(&writer, s->path, err, sizeof err) == 0 ? 1 : -1;
        if (writer_state < 0) {
            log_warn("no shared writer connection (each thread writes on its own): %s",
                     writer_path ? err : "out of memory");
            close_conn(&writer);
        }
    }
    return writer_state == 1 && strcmp(writer_path, s->path) == 0 ? &writer : &s->own;
}

int
store_schema_version(struct store *s)
{
    return s->version;
}

static int
simple(struct store *s, enum stmt_id id)
{
    sqlite3_stmt *st = stmt(s, id);
    return st ? exec_done(s, st) : -1;
}

int
store_begin_write(struct store *s)
{
    if (s->write_turn) { /* a transaction in a transaction: refused, as SQLite would */
        log_error("a write transaction was begun inside another");
        return -1;
    }
    pthread_mutex_lock(&write_turn);
    s->write_turn = 1;
    s->c = writer_for(s);
    if (simple(s, ST_BEGIN) != 0) {
        end_write_turn(s);
        return -1;
    }
    return 0;
}

/* A commit that fails leaves nothing half-done: the transaction is rolled back here. */
int
store_commit(struct store *s)
{
    int rc = simple(s, ST_COMMIT);
    if (rc != 0 && sqlite3_get_autocommit(s->c->db) == 0)
        simple(s, ST_ROLLBACK);
    end_write_turn(s);
    return rc;
}

void
store_rollback(struct store *s)
{
    if (sqlite3_get_autocommit(s->c->db) == 0)
        simple(s, ST_ROLLBACK);
    end_write_turn(s);
}

/* Runs one statement with integer parameters on s's connection (prepared here: rare work). */
static int
exec_ints(struct store *s, const char *q, const long long *args, int n)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->c->db, q, -1, &st, NULL);
    for (int i = 0; rc == SQLITE_OK && i < n; i++)
        rc = sqlite3_bind_int64(st, i + 1, args[i]);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (st != NULL)
        note_write(s, st, rc);
    if (rc != SQLITE_DONE)
        log_error("%s: %s", q, sqlite3_errmsg(s->c->db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* What the readiness probe writes: about what a sign-in writes (~14 pages), so that a store
 * with room for the probe has room for sign-ins. */
#define PROBE_BYTES (64 * 1024)

int
store_probe_write(struct store *s, time_t at)
{
    if (store_begin_write(s) != 0)
        return -1;
    sqlite3_stmt *st = NULL;
    int rc =
        sqlite3_prepare_v2(s->c->db,
                           "INSERT INTO store_probe (id, at, pad) VALUES (1, ?, ?) "
                           "ON CONFLICT (id) DO UPDATE SET at = excluded.at, pad = excluded.pad",
                           -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 1, (long long)at);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_zeroblob(st, 2, PROBE_BYTES);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (st != NULL)
        note_write(s, st, rc);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        store_rollback(s);
        return -1;
    }
    return store_commit(s);
}

int
store_audit_prune(struct store *s, time_t before)
{
    if (store_begin_write(s) != 0)
        return -1;
    long long b = (long long)before;
    /* The trigger lets rows older than the recorded bound go, and no others. */
    if (exec_ints(s,
                  "INSERT INTO audit_retention (id, before_at) VALUES (1, ?) "
                  "ON CONFLICT (id) DO UPDATE SET before_at = excluded.before_at",
                  &b, 1) != 0 ||
        exec_ints(s, "DELETE FROM audit WHERE at < ?", &b, 1) != 0) {
        store_rollback(s);
        return -1;
    }
    return store_commit(s);
}

int
store_integrity_check(struct store *s, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sqlite3_prepare_v2(s->c->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", s->path, sqlite3_errmsg(s->c->db));
        return -1;
    }
    int step = sqlite3_step(st);
    const unsigned char *v = step == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    if (v != NULL && strcmp((const char *)v, "ok") == 0)
        rc = 0;
    else
        snprintf(err, errlen, "%s: the store is corrupt (%.300s); restore it from a backup",
                 s->path, v ? (const char *)v : sqlite3_errmsg(s->c->db));
    sqlite3_finalize(st);
    return rc;
}

/* Reads the first row of table on db from the table itself (an index would answer "SELECT 1"
 * without touching it); -1 when SQLite cannot (a corrupt page). */
static int
read_first_row(sqlite3 *db, const char *table)
{
    char *q = sqlite3_mprintf("SELECT 1 FROM \"%w\" NOT INDEXED LIMIT 1", table);
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (q != NULL && sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK) {
        int step = sqlite3_step(st);
        rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 : -1;
    }
    sqlite3_finalize(st);
    sqlite3_free(q);
    return rc;
}

int
store_health(struct store *s)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    /* A connection of its own: the others' page caches may hold a page the file no longer has. */
    if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema WHERE type = 'table'", -1, &st,
                           NULL) != SQLITE_OK)
        goto out;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *name = sqlite3_column_text(st, 0);
        if (name == NULL || read_first_row(db, (const char *)name) != 0) {
            log_error("store health: table %s unreadable: %s", name ? (const char *)name : "?",
                      sqlite3_errmsg(db));
            goto out;
        }
    }
    rc = step == SQLITE_DONE ? 0 : -1;
out:
    if (rc != 0 && db != NULL)
        log_error("store health: %s: %s", s->path, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

int
store_ping(struct store *s)
{
    sqlite3_stmt *st = stmt(s, ST_PING);
    if (st == NULL)
        return -1;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
    sqlite3_reset(st);
    return rc;
}

/* ---- users ---- */

static void
read_user(sqlite3_stmt *st, struct user *u)
{
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(st, 0);
    col_text(st, 1, u->email, sizeof u->email);
    col_text(st, 2, u->display_name, sizeof u->display_name);
    col_text(st, 3, u->role, sizeof u->role);
    col_text(st, 4, u->status, sizeof u->status);
    col_text(st, 5, u->auth_method, sizeof u->auth_method);
    col_text(st, 6, u->password_hash, sizeof u->password_hash);
    u->must_change = sqlite3_column_int(st, 7);
    u->created_at = (time_t)sqlite3_column_int64(st, 8);
    u->last_login_at = (time_t)sqlite3_column_int64(st, 9);
    u->password_changed_at = (time_t)sqlite3_column_int64(st, 10);
    col_text(st, 11, u->idp, sizeof u->idp);
    col_text(st, 12, u->name_id, sizeof u->name_id);
    u->mfa_enabled = sqlite3_column_int(st, 13);
}

/* Steps a one-row query into out via read; 0 found, 1 none, -1 error. */
static int
one_user(struct store *s, sqlite3_stmt *st, struct user *out)
{
    int rc = sqlite3_step(st);
    int ret = -1;
    if (rc == SQLITE_ROW) {
        read_user(st, out);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    } else {
        log_error("step failed: %s", sqlite3_errmsg(s->c->db));
    }
    sqlite3_reset(st);
    return ret;
}

int
store_user_by_email(struct store *s, const char *email, struct user *out)
{
    sqlite3_stmt *st = stmt(s, ST_USER_BY_EMAIL);
    if (st == NULL)
        return -1;
    bind_text(st, 1, email);
    return one_user(s, st, out);
}

int
store_user_by_id(struct store *s, long long id, struct user *out)
{
    sqlite3_stmt *st = stmt(s, ST_USER_BY_ID);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    return one_user(s, st, out);
}

int
store_user_insert(struct store *s, const struct user *u, long long *id_out)
{
    sqlite3_stmt *st = stmt(s, ST_USER_INSERT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, u->email);
    bind_text(st, 2, u->display_name);
    bind_text(st, 3, u->role);
    bind_text(st, 4, u->status[0] ? u->status : "active");
    bind_text(st, 5, u->auth_method);
    bind_text(st, 6, u->password_hash);
    sqlite3_bind_int(st, 7, u->must_change);
    sqlite3_bind_int64(st, 8, u->created_at);
    sqlite3_bind_int64(st, 9, u->last_login_at);
    sqlite3_bind_int64(st, 10, u->password_changed_at);
    bind_text(st, 11, u->idp);
    bind_text(st, 12, u->name_id);
    sqlite3_bind_int(st, 13, u->mfa_enabled);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return 1;
    if (rc != SQLITE_DONE) {
        log_error("insert failed: %s", sqlite3_errmsg(s->c->db));
        return -1;
    }
    if (id_out != NULL)
        *id_out = sqlite3_last_insert_rowid(s->c->db);
    return 0;
}

static int
count_users(struct store *s, enum stmt_id id, const char *role, long long *n_out)
{
    sqlite3_stmt *st = stmt(s, id);
    if (st == NULL)
        return -1;
    if (role != NULL)
        bind_text(st, 1, role);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n_out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int
store_user_count(struct store *s, const char *role, long long *n_out)
{
    return count_users(s, role ? ST_USER_COUNT_ROLE : ST_USER_COUNT, role, n_out);
}

int
store_user_count_active(struct store *s, const char *role, long long *n_out)
{
    return count_users(s, ST_USER_COUNT_ACTIVE_ROLE, role, n_out);
}

int
store_user_list(struct store *s, int (*cb)(const struct user *, void *), void *ctx)
{
    sqlite3_stmt *st = stmt(s, ST_USER_LIST);
    if (st == NULL)
        return -1;
    struct user u;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_user(st, &u);
        if (cb(&u, ctx) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
store_user_set_password(struct store *s, long long id, const char *hash, int must_change, time_t at,
                        const char *kind)
{
    sqlite3_stmt *st = stmt(s, ST_USER_SET_PASSWORD);
    if (st == NULL)
        return -1;
    bind_text(st, 1, hash);
    sqlite3_bind_int(st, 2, must_change);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_int64(st, 4, id);
    if (exec_done(s, st) != 0)
        return -1;
    st = stmt(s, ST_HISTORY_INSERT);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    bind_text(st, 2, hash);
    bind_text(st, 3, kind);
    sqlite3_bind_int64(st, 4, at);
    return exec_done(s, st);
}

int
store_user_rehash(struct store *s, long long id, const char *hash)
{
    sqlite3_stmt *st = stmt(s, ST_USER_REHASH);
    if (st == NULL)
        return -1;
    bind_text(st, 1, hash);
    sqlite3_bind_int64(st, 2, id);
    return exec_done(s, st);
}

int
store_user_set_login(struct store *s, long long id, time_t at)
{
    sqlite3_stmt *st = stmt(s, ST_USER_SET_LOGIN);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, id);
    return exec_done(s, st);
}

int
store_user_set_field(struct store *s, long long id, const char *field, const char *value)
{
    enum stmt_id sid;
    if (strcmp(field, "display_name") == 0)
        sid = ST_USER_SET_NAME;
    else if (strcmp(field, "role") == 0)
        sid = ST_USER_SET_ROLE;
    else if (strcmp(field, "status") == 0)
        sid = ST_USER_SET_STATUS;
    else
        return -1;
    sqlite3_stmt *st = stmt(s, sid);
    if (st == NULL)
        return -1;
    bind_text(st, 1, value);
    sqlite3_bind_int64(st, 2, id);
    return exec_done(s, st);
}

int
store_user_set_must_change(struct store *s, long long id, int must_change)
{
    sqlite3_stmt *st = stmt(s, ST_USER_SET_MUST_CHANGE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int(st, 1, must_change);
    sqlite3_bind_int64(st, 2, id);
    return exec_done(s, st);
}

int
store_user_delete(struct store *s, long long id)
{
    sqlite3_stmt *st = stmt(s, ST_USER_DELETE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    return exec_done(s, st);
}

int
store_password_history(struct store *s, long long user_id, char (*hashes)[STORE_HASH_MAX],
                       size_t max, size_t *n_out)
{
    *n_out = 0;
    sqlite3_stmt *st = stmt(s, ST_HISTORY_LIST);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, (long long)max);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n_out < max)
        col_text(st, 0, hashes[(*n_out)++], STORE_HASH_MAX);
    sqlite3_reset(st);
    return (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : -1;
}

int
store_password_changes_since(struct store *s, long long user_id, time_t since, time_t *times,
                             size_t max, size_t *n_out)
{
    *n_out = 0;
    sqlite3_stmt *st = stmt(s, ST_CHANGES_SINCE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, user_id);
    sqlite3_bind_int64(st, 2, since);
    sqlite3_bind_int64(st, 3, (long long)max);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n_out < max)
        times[(*n_out)++] = (time_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : -1;
}

/* ---- lockout ---- */

int
store_lockout_get(struct store *s, const char *email, struct lockout_row *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = stmt(s, ST_LOCKOUT_GET);
    if (st == NULL)
        return -1;
    bind_text(st, 1, email);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        out->failures = sqlite3_column_int(st, 0);
        out->first_failure = (time_t)sqlite3_column_int64(st, 1);
        out->locked_until = (time_t)sqlite3_column_int64(st, 2);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    } else {
        log_error("step failed: %s", sqlite3_errmsg(s->c->db));
    }
    sqlite3_reset(st);
    return ret;
}

int
store_lockout_put(struct store *s, const char *email, const struct lockout_row *row)
{
    sqlite3_stmt *st = stmt(s, ST_LOCKOUT_PUT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, email);
    sqlite3_bind_int(st, 2, row->failures);
    sqlite3_bind_int64(st, 3, row->first_failure);
    sqlite3_bind_int64(st, 4, row->locked_until);
    return exec_done(s, st);
}

int
store_lockout_clear(struct store *s, const char *email)
{
    sqlite3_stmt *st = stmt(s, ST_LOCKOUT_CLEAR);
    if (st == NULL)
        return -1;
    bind_text(st, 1, email);
    return exec_done(s, st);
}

/* ---- sessions ---- */

int
store_session_insert(struct store *s, const struct session_row *r)
{
    sqlite3_stmt *st = stmt(s, ST_SESSION_INSERT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, r->token_hash);
    sqlite3_bind_int64(st, 2, r->user_id);
    sqlite3_bind_int(st, 3, r->kind);
    sqlite3_bind_int(st, 4, r->restricted);
    sqlite3_bind_int64(st, 5, r->created_at);
    sqlite3_bind_int64(st, 6, r->last_seen);
    bind_text(st, 7, r->client_addr);
    bind_text(st, 8, r->idp);
    bind_text(st, 9, r->name_id);
    bind_text(st, 10, r->session_index);
    bind_text(st, 11, r->name_id_format);
    sqlite3_bind_int(st, 12, r->mfa);
    bind_text(st, 13, r->authn_context);
    bind_text(st, 14, r->groups);
    sqlite3_bind_int64(st, 15, r->ends_at);
    return exec_done(s, st);
}

/* The session columns of a row from column `at` on. */
static void
read_session(sqlite3_stmt *st, int at, struct session_row *out)
{
    memset(out, 0, sizeof *out);
    col_text(st, at, out->token_hash, sizeof out->token_hash);
    out->user_id = sqlite3_column_int64(st, at + 1);
    out->kind = sqlite3_column_int(st, at + 2);
    out->restricted = sqlite3_column_int(st, at + 3);
    out->created_at = (time_t)sqlite3_column_int64(st, at + 4);
    out->last_seen = (time_t)sqlite3_column_int64(st, at + 5);
    col_text(st, at + 6, out->client_addr, sizeof out->client_addr);
    col_text(st, at + 7, out->idp, sizeof out->idp);
    col_text(st, at + 8, out->name_id, sizeof out->name_id);
    col_text(st, at + 9, out->session_index, sizeof out->session_index);
    col_text(st, at + 10, out->name_id_format, sizeof out->name_id_format);
    out->mfa = sqlite3_column_int(st, at + 11);
    col_text(st, at + 12, out->authn_context, sizeof out->authn_context);
    col_text(st, at + 13, out->groups, sizeof out->groups);
    out->ends_at = (time_t)sqlite3_column_int64(st, at + 14);
}

int
store_session_user_get(struct store *s, const char *token_hash, struct session_row *sess,
                       struct user *u)
{
    sqlite3_stmt *st = stmt(s, ST_SESSION_USER_GET);
    if (st == NULL)
        return -1;
    bind_text(st, 1, token_hash);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        read_user(st, u);
        read_session(st, 14, sess);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    } else {
        log_error("step failed: %s", sqlite3_errmsg(s->c->db));
    }
    sqlite3_reset(st);
    return ret;
}

int
store_session_get(struct store *s, const char *token_hash, struct session_row *out)
{
    sqlite3_stmt *st = stmt(s, ST_SESSION_GET);
    if (st == NULL)
        return -1;
    bind_text(st, 1, token_hash);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        col_text(st, 0, out->token_hash, sizeof out->token_hash);
        out->user_id = sqlite3_column_int64(st, 1);
        out->kind = sqlite3_column_int(st, 2);
        out->restricted = sqlite3_column_int(st, 3);
        out->created_at = (time_t)sqlite3_column_int64(st, 4);
        out->last_seen = (time_t)sqlite3_column_int64(st, 5);
        col_text(st, 6, out->client_addr, sizeof out->client_addr);
        col_text(st, 7, out->idp, sizeof out->idp);
        col_text(st, 8, out->name_id, sizeof out->name_id);
        col_text(st, 9, out->session_index, sizeof out->session_index);
        col_text(st, 10, out->name_id_format, sizeof out->name_id_format);
        out->mfa = sqlite3_column_int(st, 11);
        col_text(st, 12, out->authn_context, sizeof out->authn_context);
        col_text(st, 13, out->groups, sizeof out->groups);
        out->ends_at = (time_t)sqlite3_column_int64(st, 14);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    } else {
        log_error("step failed: %s", sqlite3_errmsg(s->c->db));
    }
    sqlite3_reset(st);
    return ret;
}

int
store_session_touch(struct store *s, const char *token_hash, time_t at)
{
    sqlite3_stmt *st = stmt(s, ST_SESSION_TOUCH);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    bind_text(st, 2, token_hash);
    return exec_done(s, st);
}

int
store_session_delete(struct store *s, const char *token_hash)
{
    sqlite3_stmt *st = stmt(s, ST_SESSION_DELETE);
    if (st == NULL)
        return -1;
    bind_text(st, 1, token_hash);
    return exec_done(s, st);
}

int
store_session_delete_user(struct store *s, long long user_id, const char *keep_hash,
                          long long *n_out)
{
    sqlite3_stmt *st = stmt(s, keep_hash ? ST_SESSION_DELETE_USER_KEEP : ST_SESSION_DELETE_USER);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, user_id);
    if (keep_hash != NULL)
        bind_text(st, 2, keep_hash);
    if (exec_done(s, st) != 0)
        return -1;
    if (n_out != NULL)
        *n_out = sqlite3_changes(s->c->db);
    return 0;
}

int
store_session_prune(struct store *s, time_t web_idle_before, time_t client_idle_before,
                    time_t created_before)
{
    sqlite3_stmt *st = stmt(s, ST_SESSION_PRUNE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, web_idle_before);
    sqlite3_bind_int64(st, 2, client_idle_before);
    sqlite3_bind_int64(st, 3, created_before);
    return exec_done(s, st);
}

/* ---- settings and secrets ---- */

int
store_setting_get(struct store *s, const char *key, char *value, size_t len)
{
    sqlite3_stmt *st = stmt(s, ST_SETTING_GET);
    if (st == NULL)
        return -1;
    bind_text(st, 1, key);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        col_text(st, 0, value, len);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    }
    sqlite3_reset(st);
    return ret;
}

int
store_setting_put(struct store *s, const char *key, const char *value, time_t at)
{
    sqlite3_stmt *st = stmt(s, ST_SETTING_PUT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, key);
    bind_text(st, 2, value);
    sqlite3_bind_int64(st, 3, at);
    return exec_done(s, st);
}

int
store_setting_each(struct store *s, void (*cb)(const char *, const char *, void *), void *ctx)
{
    sqlite3_stmt *st = stmt(s, ST_SETTING_ALL);
    if (st == NULL)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1), ctx);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int
hex_to_bytes(const char *hex, unsigned char *out, size_t n)
{
    if (hex == NULL || strlen(hex) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = hex[2 * i + (size_t)k];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else
                return -1;
        }
        out[i] = (unsigned char)v;
    }
    return 0;
}

int
store_secret(struct store *s, const char *name, unsigned char *out, size_t n)
{
    if (n > 64)
        return -1;
    for (int attempt = 0; attempt < 2; attempt++) {
        sqlite3_stmt *st = stmt(s, ST_SECRET_GET);
        if (st == NULL)
            return -1;
        bind_text(st, 1, name);
        int rc = sqlite3_step(st), ok = -1;
        if (rc == SQLITE_ROW)
            ok = hex_to_bytes((const char *)sqlite3_column_text(st, 0), out, n);
        sqlite3_reset(st);
        if (rc == SQLITE_ROW)
            return ok;
        if (rc != SQLITE_DONE || attempt == 1)
            return -1;
        /* Absent: create it. Another process may win the race; then we read theirs. */
        unsigned char fresh[64];
        char hex[129];
        if (rand_bytes(fresh, n) != 0)
            return -1;
        for (size_t i = 0; i < n; i++)
            snprintf(hex + 2 * i, 3, "%02x", fresh[i]);
        st = stmt(s, ST_SECRET_INSERT);
        if (st == NULL)
            return -1;
        bind_text(st, 1, name);
        bind_text(st, 2, hex);
        if (exec_done(s, st) != 0)
            return -1;
    }
    return -1;
}

/* ---- identity providers ---- */

int
store_idp_insert(struct store *s, const struct idp_row *r, const char *metadata)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_INSERT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, r->entity_id);
    bind_text(st, 2, r->name);
    bind_text(st, 3, metadata);
    bind_text(st, 4, r->sso_redirect);
    bind_text(st, 5, r->sso_post);
    bind_text(st, 6, r->slo_redirect);
    bind_text(st, 7, r->slo_post);
    bind_text(st, 8, r->certs);
    sqlite3_bind_int(st, 9, r->idp_initiated);
    sqlite3_bind_int(st, 10, r->allow_sha1);
    bind_text(st, 11, r->default_role[0] ? r->default_role : "member");
    bind_text(st, 12, r->attr_email);
    bind_text(st, 13, r->attr_first_name);
    bind_text(st, 14, r->attr_last_name);
    bind_text(st, 15, r->attr_groups);
    sqlite3_bind_int64(st, 16, r->created_at);
    bind_text(st, 17, r->name_id_format[0] ? r->name_id_format : "none");
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return 1;
    if (rc != SQLITE_DONE) {
        log_error("insert failed: %s", sqlite3_errmsg(s->c->db));
        return -1;
    }
    return 0;
}

static void
read_idp(sqlite3_stmt *st, struct idp_row *r)
{
    memset(r, 0, sizeof *r);
    col_text(st, 0, r->entity_id, sizeof r->entity_id);
    col_text(st, 1, r->name, sizeof r->name);
    col_text(st, 2, r->sso_redirect, sizeof r->sso_redirect);
    col_text(st, 3, r->sso_post, sizeof r->sso_post);
    col_text(st, 4, r->slo_redirect, sizeof r->slo_redirect);
    col_text(st, 5, r->slo_post, sizeof r->slo_post);
    col_text(st, 6, r->certs, sizeof r->certs);
    r->idp_initiated = sqlite3_column_int(st, 7);
    r->allow_sha1 = sqlite3_column_int(st, 8);
    col_text(st, 9, r->default_role, sizeof r->default_role);
    col_text(st, 10, r->attr_email, sizeof r->attr_email);
    col_text(st, 11, r->attr_first_name, sizeof r->attr_first_name);
    col_text(st, 12, r->attr_last_name, sizeof r->attr_last_name);
    col_text(st, 13, r->attr_groups, sizeof r->attr_groups);
    r->created_at = (time_t)sqlite3_column_int64(st, 14);
    col_text(st, 15, r->name_id_format, sizeof r->name_id_format);
}

int
store_idp_get(struct store *s, const char *entity_id, struct idp_row *out)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_GET);
    if (st == NULL)
        return -1;
    bind_text(st, 1, entity_id);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        read_idp(st, out);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    }
    sqlite3_reset(st);
    return ret;
}

int
store_idp_delete(struct store *s, const char *entity_id)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_DELETE);
    if (st == NULL)
        return -1;
    bind_text(st, 1, entity_id);
    if (exec_done(s, st) != 0)
        return -1;
    return sqlite3_changes(s->c->db) == 0 ? 1 : 0;
}

int
store_idp_list(struct store *s, int (*cb)(const struct idp_row *, void *), void *ctx)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_LIST);
    if (st == NULL)
        return -1;
    struct idp_row r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_idp(st, &r);
        if (cb(&r, ctx) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
store_idp_metadata_each(struct store *s, int (*cb)(const char *, const char *, void *), void *ctx)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_METADATA);
    if (st == NULL)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
               ctx) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
store_idp_domain_add(struct store *s, const char *domain, const char *entity_id)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_DOMAIN_ADD);
    if (st == NULL)
        return -1;
    bind_text(st, 1, domain);
    bind_text(st, 2, entity_id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return 1;
    return rc == SQLITE_DONE ? 0 : -1;
}

int
store_idp_domains(struct store *s, const char *entity_id, char *out, size_t len)
{
    out[0] = '\0';
    sqlite3_stmt *st = stmt(s, ST_IDP_DOMAINS);
    if (st == NULL)
        return -1;
    bind_text(st, 1, entity_id);
    size_t used = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && used < len)
        used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "",
                                 (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : -1;
}

int
store_idp_for_domain(struct store *s, const char *domain, char *entity_id, size_t len)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_FOR_DOMAIN);
    if (st == NULL)
        return -1;
    bind_text(st, 1, domain);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        col_text(st, 0, entity_id, len);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    }
    sqlite3_reset(st);
    return ret;
}

/* ---- SAML ---- */

int
store_saml_request_put(struct store *s, const char *id, const char *entity_id,
                       const char *return_to, time_t expires_at)
{
    sqlite3_stmt *st = stmt(s, ST_SAML_REQ_PUT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, id);
    bind_text(st, 2, entity_id);
    bind_text(st, 3, return_to);
    sqlite3_bind_int64(st, 4, expires_at);
    return exec_done(s, st);
}

int
store_saml_request_take(struct store *s, const char *id, const char *entity_id, time_t now,
                        char *return_to, size_t len)
{
    sqlite3_stmt *st = stmt(s, ST_SAML_REQ_GET);
    if (st == NULL)
        return -1;
    bind_text(st, 1, id);
    bind_text(st, 2, entity_id);
    sqlite3_bind_int64(st, 3, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        col_text(st, 0, return_to, len);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 1;
    if (rc != SQLITE_ROW)
        return -1;
    st = stmt(s, ST_SAML_REQ_DEL);
    if (st == NULL)
        return -1;
    bind_text(st, 1, id);
    if (exec_done(s, st) != 0)
        return -1;
    return sqlite3_changes(s->c->db) == 1 ? 0 : 1;
}

int
store_saml_assertion_once(struct store *s, const char *assertion_id, const char *entity_id,
                          time_t expires_at)
{
    sqlite3_stmt *st = stmt(s, ST_SAML_ASSERTION_PUT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, assertion_id);
    bind_text(st, 2, entity_id);
    sqlite3_bind_int64(st, 3, expires_at);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return 1;
    return rc == SQLITE_DONE ? 0 : -1;
}

int
store_saml_prune(struct store *s, time_t now, time_t log_before)
{
    enum stmt_id ids[] = {ST_SAML_PRUNE_REQ, ST_SAML_PRUNE_ASSERTIONS, ST_SAML_PRUNE_LOG};
    for (size_t i = 0; i < 3; i++) {
        sqlite3_stmt *st = stmt(s, ids[i]);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, i == 2 ? log_before : now);
        if (exec_done(s, st) != 0)
            return -1;
    }
    return 0;
}

int
store_user_by_saml(struct store *s, const char *idp, const char *name_id, struct user *out)
{
    sqlite3_stmt *st = stmt(s, ST_USER_BY_SAML);
    if (st == NULL)
        return -1;
    bind_text(st, 1, idp);
    bind_text(st, 2, name_id);
    return one_user(s, st, out);
}

int
store_user_saml_sync(struct store *s, long long id, const char *email, const char *name,
                     const char *role)
{
    sqlite3_stmt *st = stmt(s, ST_USER_SAML_SYNC);
    if (st == NULL)
        return -1;
    bind_text(st, 1, email);
    bind_text(st, 2, name);
    bind_text(st, 3, role);
    sqlite3_bind_int64(st, 4, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return 1;
    return rc == SQLITE_DONE ? 0 : -1;
}

int
store_user_rekey(struct store *s, long long id, const char *idp, const char *name_id)
{
    sqlite3_stmt *st = stmt(s, ST_USER_REKEY);
    if (st == NULL)
        return -1;
    bind_text(st, 1, name_id);
    sqlite3_bind_int64(st, 2, id);
    bind_text(st, 3, idp);
    int rc = sqlite3_step(st);
    int changed = sqlite3_changes(s->c->db);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return 1;
    return rc == SQLITE_DONE && changed == 1 ? 0 : -1;
}

int
store_saml_log_append(struct store *s, const struct saml_log_row *r, long long *id_out)
{
    sqlite3_stmt *st = stmt(s, ST_SAML_LOG_PUT);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, r->at);
    bind_text(st, 2, r->client_addr);
    bind_text(st, 3, r->issuer);
    bind_text(st, 4, r->name_id);
    bind_text(st, 5, r->in_response_to);
    bind_text(st, 6, r->assertion_id);
    bind_text(st, 7, r->verdict);
    bind_text(st, 8, r->reason);
    bind_text(st, 9, r->detail);
    sqlite3_bind_int64(st, 10, r->user_id);
    if (r->xml != NULL)
        sqlite3_bind_text(st, 11, r->xml, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 11);
    sqlite3_bind_int64(st, 12, r->xml_size);
    bind_text(st, 13, r->xml_kept[0] ? r->xml_kept : (r->xml ? "full" : "none"));
    if (exec_done(s, st) != 0)
        return -1;
    if (id_out != NULL)
        *id_out = sqlite3_last_insert_rowid(s->c->db);
    return 0;
}

static void
read_saml_log(sqlite3_stmt *st, struct saml_log_row *r)
{
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    r->at = (time_t)sqlite3_column_int64(st, 1);
    col_text(st, 2, r->client_addr, sizeof r->client_addr);
    col_text(st, 3, r->issuer, sizeof r->issuer);
    col_text(st, 4, r->name_id, sizeof r->name_id);
    col_text(st, 5, r->in_response_to, sizeof r->in_response_to);
    col_text(st, 6, r->assertion_id, sizeof r->assertion_id);
    col_text(st, 7, r->verdict, sizeof r->verdict);
    col_text(st, 8, r->reason, sizeof r->reason);
    col_text(st, 9, r->detail, sizeof r->detail);
    r->user_id = sqlite3_column_int64(st, 10);
    r->xml_size = sqlite3_column_int64(st, 11);
    col_text(st, 12, r->xml_kept, sizeof r->xml_kept);
}

int
store_saml_log_list(struct store *s, int failed_only, const char *issuer, const char *name_id,
                    long long limit, int (*cb)(const struct saml_log_row *, void *), void *ctx)
{
    sqlite3_stmt *st = stmt(s, ST_SAML_LOG_LIST);
    if (st == NULL)
        return -1;
    sqlite3_bind_int(st, 1, failed_only);
    bind_text(st, 2, issuer);
    bind_text(st, 3, issuer);
    bind_text(st, 4, name_id);
    bind_text(st, 5, name_id);
    sqlite3_bind_int64(st, 6, limit);
    struct saml_log_row r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        read_saml_log(st, &r);
        if (cb(&r, ctx) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
store_saml_log_get(struct store *s, long long id, struct saml_log_row *out)
{
    sqlite3_stmt *st = stmt(s, ST_SAML_LOG_GET);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        read_saml_log(st, out);
        const unsigned char *x = sqlite3_column_text(st, 13);
        out->xml = x ? strdup((const char *)x) : NULL;
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    }
    sqlite3_reset(st);
    return ret;
}

/* ---- audit ---- */

int
store_audit_append(struct store *s, const struct audit_row *r)
{
    sqlite3_stmt *st = stmt(s, ST_AUDIT_INSERT);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, r->at);
    bind_text(st, 2, r->actor);
    bind_text(st, 3, r->actor_role);
    bind_text(st, 4, r->action);
    bind_text(st, 5, r->target);
    bind_text(st, 6, r->old_value);
    bind_text(st, 7, r->new_value);
    bind_text(st, 8, r->client_addr);
    return exec_done(s, st);
}

int
store_audit_list(struct store *s, const struct audit_filter *f,
                 int (*cb)(const struct audit_row *, void *), void *ctx)
{
    sqlite3_stmt *st = stmt(s, ST_AUDIT_LIST);
    if (st == NULL)
        return -1;
    const char *v[3] = {f->action, f->actor, f->target};
    for (int i = 0; i < 3; i++) {
        bind_text(st, 2 * i + 1, v[i]);
        bind_text(st, 2 * i + 2, v[i]);
    }
    sqlite3_bind_int64(st, 7, f->since);
    sqlite3_bind_int64(st, 8, f->limit);
    struct audit_row r;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&r, 0, sizeof r);
        r.id = sqlite3_column_int64(st, 0);
        r.at = (time_t)sqlite3_column_int64(st, 1);
        col_text(st, 2, r.actor, sizeof r.actor);
        col_text(st, 3, r.actor_role, sizeof r.actor_role);
        col_text(st, 4, r.action, sizeof r.action);
        col_text(st, 5, r.target, sizeof r.target);
        col_text(st, 6, r.old_value, sizeof r.old_value);
        col_text(st, 7, r.new_value, sizeof r.new_value);
        col_text(st, 8, r.client_addr, sizeof r.client_addr);
        if (cb(&r, ctx) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- secrets at rest, TOTP, recovery codes ---- */

int
store_data_key_get(struct store *s, char *wrapped, size_t len)
{
    sqlite3_stmt *st = stmt(s, ST_DATA_KEY_GET);
    if (st == NULL)
        return -1;
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        col_text(st, 0, wrapped, len);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    } else {
        log_error("step failed: %s", sqlite3_errmsg(s->c->db));
    }
    sqlite3_reset(st);
    return ret;
}

int
store_data_key_put(struct store *s, const char *wrapped, time_t at)
{
    sqlite3_stmt *st = stmt(s, ST_DATA_KEY_PUT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, wrapped);
    sqlite3_bind_int64(st, 2, at);
    return exec_changed(s, st);
}

int
store_data_key_replace(struct store *s, const char *old_wrapped, const char *new_wrapped)
{
    sqlite3_stmt *st = stmt(s, ST_DATA_KEY_REPLACE);
    if (st == NULL)
        return -1;
    bind_text(st, 1, new_wrapped);
    bind_text(st, 2, old_wrapped);
    return exec_changed(s, st);
}

int
store_totp_get(struct store *s, long long user_id, struct totp_row *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = stmt(s, ST_TOTP_GET);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        col_text(st, 0, out->seed, sizeof out->seed);
        out->confirmed = sqlite3_column_int(st, 1);
        out->last_step = sqlite3_column_int64(st, 2);
        out->created_at = (time_t)sqlite3_column_int64(st, 3);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    } else {
        log_error("step failed: %s", sqlite3_errmsg(s->c->db));
    }
    sqlite3_reset(st);
    return ret;
}

int
store_totp_put_pending(struct store *s, long long user_id, const char *seed, time_t at)
{
    sqlite3_stmt *st = stmt(s, ST_TOTP_PUT_PENDING);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, user_id);
    bind_text(st, 2, seed);
    sqlite3_bind_int64(st, 3, at);
    return exec_changed(s, st);
}

static int
set_mfa(struct store *s, long long user_id, int on)
{
    sqlite3_stmt *st = stmt(s, ST_USER_SET_MFA);
    if (st == NULL)
        return -1;
    sqlite3_bind_int(st, 1, on);
    sqlite3_bind_int64(st, 2, user_id);
    return exec_done(s, st);
}

int
store_totp_confirm(struct store *s, long long user_id, long long step)
{
    sqlite3_stmt *st = stmt(s, ST_TOTP_CONFIRM);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, step);
    sqlite3_bind_int64(st, 2, user_id);
    int r = exec_changed(s, st);
    return r != 0 ? r : set_mfa(s, user_id, 1);
}

int
store_totp_use_step(struct store *s, long long user_id, long long step)
{
    sqlite3_stmt *st = stmt(s, ST_TOTP_USE_STEP);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, step);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, step);
    return exec_changed(s, st);
}

int
store_totp_delete(struct store *s, long long user_id)
{
    sqlite3_stmt *st = stmt(s, ST_TOTP_DELETE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, user_id);
    int r = exec_changed(s, st);
    if (r < 0)
        return -1;
    st = stmt(s, ST_RECOVERY_DELETE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, user_id);
    if (exec_done(s, st) != 0 || set_mfa(s, user_id, 0) != 0)
        return -1;
    return r;
}

int
store_recovery_replace(struct store *s, long long user_id, const char (*hashes)[65], size_t n,
                       time_t at)
{
    sqlite3_stmt *st = stmt(s, ST_RECOVERY_DELETE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, user_id);
    if (exec_done(s, st) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        st = stmt(s, ST_RECOVERY_INSERT);
        if (st == NULL)
            return -1;
        sqlite3_bind_int64(st, 1, user_id);
        bind_text(st, 2, hashes[i]);
        sqlite3_bind_int64(st, 3, at);
        if (exec_done(s, st) != 0)
            return -1;
    }
    return 0;
}

int
store_recovery_use(struct store *s, long long user_id, const char *hash, time_t at)
{
    sqlite3_stmt *st = stmt(s, ST_RECOVERY_USE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, user_id);
    bind_text(st, 3, hash);
    return exec_changed(s, st);
}

int
store_recovery_remaining(struct store *s, long long user_id, long long *n_out)
{
    *n_out = 0;
    sqlite3_stmt *st = stmt(s, ST_RECOVERY_REMAINING);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, user_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n_out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int
store_mfa_pending_put(struct store *s, const struct mfa_pending_row *r)
{
    sqlite3_stmt *st = stmt(s, ST_MFA_PENDING_PUT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, r->token_hash);
    sqlite3_bind_int64(st, 2, r->user_id);
    sqlite3_bind_int(st, 3, r->enrol);
    sqlite3_bind_int(st, 4, r->change_reason);
    bind_text(st, 5, r->return_to);
    bind_text(st, 6, r->client_addr);
    sqlite3_bind_int64(st, 7, r->expires_at);
    return exec_done(s, st);
}

int
store_mfa_pending_get(struct store *s, const char *token_hash, time_t now,
                      struct mfa_pending_row *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = stmt(s, ST_MFA_PENDING_GET);
    if (st == NULL)
        return -1;
    bind_text(st, 1, token_hash);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        col_text(st, 0, out->token_hash, sizeof out->token_hash);
        out->user_id = sqlite3_column_int64(st, 1);
        out->enrol = sqlite3_column_int(st, 2);
        out->change_reason = sqlite3_column_int(st, 3);
        col_text(st, 4, out->return_to, sizeof out->return_to);
        col_text(st, 5, out->client_addr, sizeof out->client_addr);
        out->expires_at = (time_t)sqlite3_column_int64(st, 6);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    } else {
        log_error("step failed: %s", sqlite3_errmsg(s->c->db));
    }
    sqlite3_reset(st);
    return ret;
}

int
store_mfa_pending_delete(struct store *s, const char *token_hash)
{
    sqlite3_stmt *st = stmt(s, ST_MFA_PENDING_DELETE);
    if (st == NULL)
        return -1;
    bind_text(st, 1, token_hash);
    return exec_done(s, st);
}

int
store_mfa_pending_prune(struct store *s, time_t now)
{
    sqlite3_stmt *st = stmt(s, ST_MFA_PENDING_PRUNE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    return exec_done(s, st);
}

int
store_idp_update(struct store *s, const struct idp_row *r)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_UPDATE);
    if (st == NULL)
        return -1;
    bind_text(st, 1, r->name);
    sqlite3_bind_int(st, 2, r->idp_initiated);
    sqlite3_bind_int(st, 3, r->allow_sha1);
    bind_text(st, 4, r->default_role);
    bind_text(st, 5, r->attr_email);
    bind_text(st, 6, r->attr_first_name);
    bind_text(st, 7, r->attr_last_name);
    bind_text(st, 8, r->attr_groups);
    bind_text(st, 9, r->name_id_format[0] ? r->name_id_format : "none");
    bind_text(st, 10, r->entity_id);
    return exec_changed(s, st);
}

int
store_idp_set_metadata(struct store *s, const struct idp_row *r, const char *metadata)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_SET_METADATA);
    if (st == NULL)
        return -1;
    bind_text(st, 1, metadata);
    bind_text(st, 2, r->sso_redirect);
    bind_text(st, 3, r->sso_post);
    bind_text(st, 4, r->slo_redirect);
    bind_text(st, 5, r->slo_post);
    bind_text(st, 6, r->certs);
    bind_text(st, 7, r->entity_id);
    return exec_changed(s, st);
}

static int
by_entity(struct store *s, enum stmt_id id, const char *entity_id)
{
    sqlite3_stmt *st = stmt(s, id);
    if (st == NULL)
        return -1;
    bind_text(st, 1, entity_id);
    return exec_done(s, st);
}

int
store_idp_domains_clear(struct store *s, const char *entity_id)
{
    return by_entity(s, ST_IDP_DOMAINS_CLEAR, entity_id);
}

int
store_idp_group_roles_clear(struct store *s, const char *entity_id)
{
    return by_entity(s, ST_IDP_GROUP_ROLES_CLEAR, entity_id);
}

int
store_idp_group_role_add(struct store *s, const char *entity_id, const char *group,
                         const char *role)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_GROUP_ROLE_ADD);
    if (st == NULL)
        return -1;
    bind_text(st, 1, entity_id);
    bind_text(st, 2, group);
    bind_text(st, 3, role);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return 1;
    if (rc != SQLITE_DONE) {
        log_error("insert failed: %s", sqlite3_errmsg(s->c->db));
        return -1;
    }
    return 0;
}

int
store_idp_group_roles(struct store *s, const char *entity_id,
                      int (*cb)(const char *group, const char *role, void *), void *ctx)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_GROUP_ROLES);
    if (st == NULL)
        return -1;
    bind_text(st, 1, entity_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (cb((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
               ctx) != 0)
            break;
    sqlite3_reset(st);
    return (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : -1;
}

int
store_idp_role_for_group(struct store *s, const char *entity_id, const char *group, char *role,
                         size_t len)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_ROLE_FOR_GROUP);
    if (st == NULL)
        return -1;
    bind_text(st, 1, entity_id);
    bind_text(st, 2, group);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        col_text(st, 0, role, len);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    }
    sqlite3_reset(st);
    return ret;
}

int
store_session_delete_saml(struct store *s, const char *idp, const char *name_id,
                          const char *session_index, long long *n_out)
{
    sqlite3_stmt *st = stmt(s, ST_SESSION_DELETE_SAML);
    if (st == NULL)
        return -1;
    bind_text(st, 1, idp);
    bind_text(st, 2, name_id);
    bind_text(st, 3, session_index);
    bind_text(st, 4, session_index);
    if (exec_done(s, st) != 0)
        return -1;
    if (n_out != NULL)
        *n_out = sqlite3_changes(s->c->db);
    return 0;
}

int
store_signin_event(struct store *s, time_t at, const char *method, const char *result)
{
    sqlite3_stmt *st = stmt(s, ST_SIGNIN_EVENT);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    bind_text(st, 2, method);
    bind_text(st, 3, result);
    return exec_done(s, st);
}

int
store_signin_hourly(struct store *s, time_t since,
                    void (*cb)(time_t hour, const char *method, const char *result, long long n,
                               void *),
                    void *ctx)
{
    sqlite3_stmt *st = stmt(s, ST_SIGNIN_HOURLY);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, since);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        cb((time_t)sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
           (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3), ctx);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
store_signin_prune(struct store *s, time_t before)
{
    sqlite3_stmt *st = stmt(s, ST_SIGNIN_PRUNE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, before);
    return exec_done(s, st);
}

int
store_lockouts_each(struct store *s,
                    int (*cb)(const char *email, const struct lockout_row *row, void *ctx),
                    void *ctx)
{
    sqlite3_stmt *st = stmt(s, ST_LOCKOUTS_EACH);
    if (st == NULL)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct lockout_row row = {sqlite3_column_int(st, 1), (time_t)sqlite3_column_int64(st, 2),
                                  (time_t)sqlite3_column_int64(st, 3)};
        if (cb((const char *)sqlite3_column_text(st, 0), &row, ctx) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
store_session_count_active(struct store *s, time_t web_idle_before, time_t client_idle_before,
                           time_t created_before, long long *web_out, long long *client_out)
{
    /* Read at each /metrics scrape: prepared here, beside its only caller. */
    static const char q[] = "SELECT kind, COUNT(*) FROM sessions WHERE created_at >= ?3 AND "
                            "((kind = 0 AND last_seen >= ?1) OR (kind = 1 AND last_seen >= ?2)) "
                            "GROUP BY kind";
    sqlite3_stmt *st = NULL;
    *web_out = *client_out = 0;
    if (sqlite3_prepare_v2(s->c->db, q, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, web_idle_before);
    sqlite3_bind_int64(st, 2, client_idle_before);
    sqlite3_bind_int64(st, 3, created_before);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        long long kind = sqlite3_column_int64(st, 0), n = sqlite3_column_int64(st, 1);
        if (kind == 0)
            *web_out = n;
        else if (kind == 1)
            *client_out = n;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- self-service password reset ---- */

int
store_reset_token_put(struct store *s, const char *token_hash, long long user_id, time_t created_at,
                      time_t expires_at)
{
    sqlite3_stmt *st = stmt(s, ST_RESET_TOKEN_PUT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, token_hash);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int64(st, 3, created_at);
    sqlite3_bind_int64(st, 4, expires_at);
    return exec_done(s, st);
}

int
store_reset_token_get(struct store *s, const char *token_hash, struct reset_token_row *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = stmt(s, ST_RESET_TOKEN_GET);
    if (st == NULL)
        return -1;
    bind_text(st, 1, token_hash);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        out->user_id = sqlite3_column_int64(st, 0);
        out->created_at = (time_t)sqlite3_column_int64(st, 1);
        out->expires_at = (time_t)sqlite3_column_int64(st, 2);
        out->used_at = (time_t)sqlite3_column_int64(st, 3);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    } else {
        log_error("step failed: %s", sqlite3_errmsg(s->c->db));
    }
    sqlite3_reset(st);
    return ret;
}

int
store_reset_token_use(struct store *s, const char *token_hash, time_t now)
{
    sqlite3_stmt *st = stmt(s, ST_RESET_TOKEN_USE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    bind_text(st, 2, token_hash);
    sqlite3_bind_int64(st, 3, now);
    return exec_changed(s, st);
}

int
store_reset_token_void_user(struct store *s, long long user_id, time_t at)
{
    sqlite3_stmt *st = stmt(s, ST_RESET_TOKEN_VOID_USER);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, at);
    sqlite3_bind_int64(st, 2, user_id);
    return exec_done(s, st);
}

int
store_reset_request_count(struct store *s, const char *email, time_t since, long long *n_out)
{
    sqlite3_stmt *st = stmt(s, ST_RESET_REQ_COUNT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, email);
    sqlite3_bind_int64(st, 2, since);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *n_out = sqlite3_column_int64(st, 0);
    else
        log_error("step failed: %s", sqlite3_errmsg(s->c->db));
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int
store_reset_request_add(struct store *s, const char *email, time_t at)
{
    sqlite3_stmt *st = stmt(s, ST_RESET_REQ_ADD);
    if (st == NULL)
        return -1;
    bind_text(st, 1, email);
    sqlite3_bind_int64(st, 2, at);
    return exec_done(s, st);
}

int
store_reset_prune(struct store *s, time_t requests_before, time_t tokens_before)
{
    sqlite3_stmt *st = stmt(s, ST_RESET_PRUNE_REQ);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, requests_before);
    if (exec_done(s, st) != 0)
        return -1;
    st = stmt(s, ST_RESET_PRUNE_TOKENS);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, tokens_before);
    return exec_done(s, st);
}

/* ---- IdP metadata sources (metadata by URL) ---- */

int
store_idp_source_put(struct store *s, const struct idp_source *src)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_SOURCE_PUT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, src->entity_id);
    bind_text(st, 2, src->url);
    bind_text(st, 3, src->signer_cert);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)src->last_ok);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)src->last_try);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)src->next_at);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("store_idp_source_put: %s", sqlite3_errmsg(s->c->db));
        return -1;
    }
    return 0;
}

int
store_idp_source_get(struct store *s, const char *entity_id, struct idp_source *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = stmt(s, ST_IDP_SOURCE_GET);
    if (st == NULL)
        return -1;
    bind_text(st, 1, entity_id);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        col_text(st, 0, out->entity_id, sizeof out->entity_id);
        col_text(st, 1, out->url, sizeof out->url);
        col_text(st, 2, out->signer_cert, sizeof out->signer_cert);
        out->last_ok = (time_t)sqlite3_column_int64(st, 3);
        out->last_try = (time_t)sqlite3_column_int64(st, 4);
        out->next_at = (time_t)sqlite3_column_int64(st, 5);
        out->failures = sqlite3_column_int(st, 6);
        col_text(st, 7, out->last_error, sizeof out->last_error);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    }
    sqlite3_reset(st);
    return ret;
}

int
store_idp_source_result(struct store *s, const struct idp_source *src, int ok)
{
    sqlite3_stmt *st = stmt(s, ST_IDP_SOURCE_RESULT);
    if (st == NULL)
        return -1;
    sqlite3_bind_int(st, 1, ok);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)src->last_ok);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)src->last_try);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)src->next_at);
    sqlite3_bind_int(st, 5, src->failures);
    bind_text(st, 6, src->last_error);
    bind_text(st, 7, src->entity_id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("store_idp_source_result: %s", sqlite3_errmsg(s->c->db));
        return -1;
    }
    return sqlite3_changes(s->c->db) == 1 ? 0 : 1;
}

int
store_idp_sources_due(struct store *s, time_t now, int max,
                      int (*cb)(const char *entity_id, void *), void *ctx)
{
    /* Collected first: the callback refreshes, which writes through this same connection. */
    char(*ids)[512] = calloc((size_t)max, sizeof *ids);
    if (ids == NULL)
        return -1;
    sqlite3_stmt *st = stmt(s, ST_IDP_SOURCES_DUE);
    int n = 0, rc = -1;
    if (st == NULL)
        goto out;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
    sqlite3_bind_int(st, 2, max);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
        col_text(st, 0, ids[n++], sizeof ids[0]);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        rc = -1;
        goto out;
    }
    rc = 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = cb(ids[i], ctx) != 0 ? 1 : 0;
    rc = 0;
out:
    free(ids);
    return rc;
}

/* ---- federations ---- */

int
store_federation_insert(struct store *s, const struct federation_row *f)
{
    sqlite3_stmt *st = stmt(s, ST_FED_INSERT);
    if (st == NULL)
        return -1;
    bind_text(st, 1, f->url);
    bind_text(st, 2, f->name);
    bind_text(st, 3, f->signer_cert);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)f->created_at);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)f->last_ok);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)f->last_try);
    sqlite3_bind_int64(st, 7, (sqlite3_int64)f->next_at);
    sqlite3_bind_int(st, 8, f->n_idps);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
        return 1;
    if (rc != SQLITE_DONE) {
        log_error("store_federation_insert: %s", sqlite3_errmsg(s->c->db));
        return -1;
    }
    return 0;
}

static void
fed_from(sqlite3_stmt *st, struct federation_row *f)
{
    memset(f, 0, sizeof *f);
    col_text(st, 0, f->url, sizeof f->url);
    col_text(st, 1, f->name, sizeof f->name);
    col_text(st, 2, f->signer_cert, sizeof f->signer_cert);
    f->created_at = (time_t)sqlite3_column_int64(st, 3);
    f->last_ok = (time_t)sqlite3_column_int64(st, 4);
    f->last_try = (time_t)sqlite3_column_int64(st, 5);
    f->next_at = (time_t)sqlite3_column_int64(st, 6);
    f->failures = sqlite3_column_int(st, 7);
    col_text(st, 8, f->last_error, sizeof f->last_error);
    f->n_idps = sqlite3_column_int(st, 9);
}

int
store_federation_get(struct store *s, const char *url, struct federation_row *out)
{
    sqlite3_stmt *st = stmt(s, ST_FED_GET);
    if (st == NULL)
        return -1;
    bind_text(st, 1, url);
    int rc = sqlite3_step(st), ret = -1;
    if (rc == SQLITE_ROW) {
        fed_from(st, out);
        ret = 0;
    } else if (rc == SQLITE_DONE) {
        ret = 1;
    }
    sqlite3_reset(st);
    return ret;
}

int
store_federation_list(struct store *s, int (*cb)(const struct federation_row *, void *), void *ctx)
{
    sqlite3_stmt *st = stmt(s, ST_FED_LIST);
    if (st == NULL)
        return -1;
    struct federation_row *f = malloc(sizeof *f);
    int rc = f ? SQLITE_ROW : SQLITE_NOMEM;
    while (f != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        fed_from(st, f);
        if (cb(f, ctx) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset(st);
    free(f);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
store_federation_delete(struct store *s, const char *url)
{
    sqlite3_stmt *st = stmt(s, ST_FED_DELETE);
    if (st == NULL)
        return -1;
    bind_text(st, 1, url);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return -1;
    return sqlite3_changes(s->c->db) == 1 ? 0 : 1;
}

int
store_federation_result(struct store *s, const struct federation_row *f, int ok)
{
    sqlite3_stmt *st = stmt(s, ST_FED_RESULT);
    if (st == NULL)
        return -1;
    sqlite3_bind_int(st, 1, ok);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)f->last_ok);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)f->last_try);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)f->next_at);
    sqlite3_bind_int(st, 5, f->failures);
    bind_text(st, 6, f->last_error);
    sqlite3_bind_int(st, 7, ok);
    sqlite3_bind_int(st, 8, f->n_idps);
    bind_text(st, 9, f->url);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Up to max keys (text column 0) of a statement already bound, into a calloc'd array. */
static int
collect_keys(sqlite3_stmt *st, int max, char (**out)[1024], int *n)
{
    *n = 0;
    *out = calloc((size_t)(max > 0 ? max : 1), sizeof **out);
    if (*out == NULL)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
        col_text(st, 0, (*out)[(*n)++], sizeof **out);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int
store_federations_due(struct store *s, time_t now, int max, int (*cb)(const char *url, void *),
                      void *ctx)
{
    sqlite3_stmt *st = stmt(s, ST_FED_DUE);
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)now);
    sqlite3_bind_int(st, 2, max);
    char(*urls)[1024] = NULL;
    int n = 0, rc = collect_keys(st, max, &urls, &n);
    for (int i = 0; rc == 0 && i < n; i++)
        if (cb(urls[i], ctx) != 0)
            break;
    free(urls);
    return rc;
}

int
store_federation_member_add(struct store *s, const char *entity_id, const char *url)
{
    sqlite3_stmt *st = stmt(s, ST_FED_MEMBER_ADD);
    if (st == NULL)
        return -1;
    bind_text(st, 1, entity_id);
    bind_text(st, 2, url);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int
store_federation_members(struct store *s, const char *url, int max, char (**ids)[1024], int *n)
{
    sqlite3_stmt *st = stmt(s, ST_FED_MEMBERS);
    if (st == NULL)
        return -1;
    bind_text(st, 1, url);
    return collect_keys(st, max, ids, n);
}
