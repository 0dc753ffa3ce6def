/* auth/store_schema.c: the store's schema, as one list of migrations for every driver.
 * store_migrations[i] moves the schema from version i to i + 1. Never edit an applied migration;
 * append a new one (store_core.c says how). Types: write INTEGER, TEXT and BLOB, and
 * "id INTEGER PRIMARY KEY" for a generated id; the PostgreSQL driver maps them to BIGINT, TEXT,
 * BYTEA and an identity column. Triggers differ: each driver's own text goes in .sqlite / .pg. */
#include "store_internal.h"

/* PostgreSQL: the audit table is append-only, as the SQLite triggers make it. */
#define PG_AUDIT_APPEND_ONLY                                                                       \
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "            \
    "RAISE EXCEPTION 'audit is append-only'; END $$;"                                              \
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"                                        \
    "  FOR EACH ROW EXECUTE FUNCTION audit_append_only();"                                         \
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"                                        \
    "  FOR EACH ROW EXECUTE FUNCTION audit_append_only();"

/* PostgreSQL: rows older than the recorded retention bound may be deleted, no others. */
#define PG_AUDIT_RETENTION                                                                         \
    "DROP TRIGGER audit_no_delete ON audit;"                                                       \
    "CREATE FUNCTION audit_delete_retained() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "        \
    "IF old.at >= (SELECT COALESCE(MAX(before_at), 0) FROM audit_retention) THEN "                 \
    "RAISE EXCEPTION 'audit is append-only'; END IF; RETURN old; END $$;"                          \
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"                                        \
    "  FOR EACH ROW EXECUTE FUNCTION audit_delete_retained();"

const struct store_migration store_migrations[] = {
    /* 1: users, password history, lockout, sessions, settings, secrets, audit */
    {.sql = "CREATE TABLE users ("
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
            ");",
     .sqlite = "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
               "  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
               "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
               "  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",
     .pg = PG_AUDIT_APPEND_ONLY},
    /* 2: SAML identity providers, their e-mail domains and group -> role mapping */
    {.sql =
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
         ");"},
    /* 3: SP-initiated requests, accepted assertion IDs (replay), the SAML response log */
    {.sql = "CREATE TABLE saml_requests ("
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
            "CREATE UNIQUE INDEX users_saml ON users(idp, name_id) WHERE auth_method = 'saml';"},
    /* 4: secrets at rest (the wrapped data key), TOTP, recovery codes, half-signed-in state */
    {.sql = "CREATE TABLE data_keys ("
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
            ");"},
    /* 5: the NameID format of SAML sessions (single logout names the subject as the IdP did) */
    {.sql = "ALTER TABLE sessions ADD COLUMN name_id_format TEXT NOT NULL DEFAULT '';"
            "CREATE INDEX sessions_saml ON sessions(idp, name_id);"},
    /* 6: sign-in events (the admin dashboard), self-service password reset tokens and their
     * rate limit */
    {.sql = "CREATE TABLE signin_events ("
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
            "CREATE INDEX reset_requests_email ON reset_requests(email, at);"},
    /* 7: IdPs whose metadata is fetched from a URL: where, the signer's certificate, and the
     * state of the refresh schedule (the stored metadata is the backing copy) */
    {.sql = "CREATE TABLE idp_sources ("
            "  entity_id TEXT PRIMARY KEY REFERENCES idps(entity_id) ON DELETE CASCADE,"
            "  url TEXT NOT NULL,"
            "  signer_cert TEXT NOT NULL DEFAULT '',"
            "  last_ok INTEGER NOT NULL DEFAULT 0,"
            "  last_try INTEGER NOT NULL DEFAULT 0,"
            "  next_at INTEGER NOT NULL DEFAULT 0,"
            "  failures INTEGER NOT NULL DEFAULT 0,"
            "  last_error TEXT NOT NULL DEFAULT ''"
            ");"},
    /* 8: each IdP's NameID policy for AuthnRequests (none: AllowCreate and no Format) */
    {.sql = "ALTER TABLE idps ADD COLUMN name_id_format TEXT NOT NULL DEFAULT 'none';"},
    /* 9: federations (a signed aggregate of IdPs, refreshed like a metadata URL) and which IdPs
     * came from which */
    {.sql = "CREATE TABLE federations ("
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
            "CREATE INDEX federation_members_fed ON federation_members(federation);"},
    /* 10: what forward-auth decides on, recorded with each session: a second factor was used
     * (TOTP, or an MFA AuthnContext from the IdP), the IdP's AuthnContextClassRef and groups */
    {.sql = "ALTER TABLE sessions ADD COLUMN mfa INTEGER NOT NULL DEFAULT 0;"
            "ALTER TABLE sessions ADD COLUMN authn_context TEXT NOT NULL DEFAULT '';"
            "ALTER TABLE sessions ADD COLUMN groups TEXT NOT NULL DEFAULT '';"},
    /* 11: bounded storage. What the SAML log kept of each response (the whole document, a bounded
     * excerpt, or nothing when space ran low) and its full size; a one-row table that readiness
     * writes to prove the store takes writes; audit retention: rows older than the bound that
     * pruning moves forward may be deleted, every other row stays append-only. */
    {.sql = "ALTER TABLE saml_log ADD COLUMN xml_size INTEGER NOT NULL DEFAULT 0;"
            "ALTER TABLE saml_log ADD COLUMN xml_kept TEXT NOT NULL DEFAULT 'full';"
            "CREATE TABLE store_probe ("
            "  id INTEGER PRIMARY KEY CHECK (id = 1),"
            "  at INTEGER NOT NULL,"
            "  pad BLOB"
            ");"
            "CREATE TABLE audit_retention ("
            "  id INTEGER PRIMARY KEY CHECK (id = 1),"
            "  before_at INTEGER NOT NULL"
            ");",
     .sqlite = "DROP TRIGGER audit_no_delete;"
               "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
               "  WHEN old.at >= (SELECT COALESCE(MAX(before_at), 0) FROM audit_retention)"
               "  BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",
     .pg = PG_AUDIT_RETENTION},
    /* 12: when the IdP said the session ends (AuthnStatement/@SessionNotOnOrAfter; 0 = never) */
    {.sql = "ALTER TABLE sessions ADD COLUMN ends_at INTEGER NOT NULL DEFAULT 0;"},
    /* 13: IdP health and test sign-ins. Each response's clock skew (its IssueInstant minus our
     * clock at receipt; NULL when not read from a verified response) and whether it answered a
     * test sign-in; the log by issuer for each IdP's last responses; the test sign-ins the
     * admin IdP page starts (the pending AuthnRequest's mark, and the result once answered). */
    {.sql = "ALTER TABLE saml_log ADD COLUMN skew_seconds INTEGER;"
            "ALTER TABLE saml_log ADD COLUMN test INTEGER NOT NULL DEFAULT 0;"
            "CREATE INDEX saml_log_issuer ON saml_log(issuer, id);"
            "CREATE TABLE saml_tests ("
            "  request_id TEXT PRIMARY KEY,"
            "  entity_id TEXT NOT NULL,"
            "  user_id INTEGER NOT NULL,"
            "  session_hash TEXT NOT NULL,"
            "  created_at INTEGER NOT NULL,"
            "  expires_at INTEGER NOT NULL,"
            "  log_id INTEGER NOT NULL DEFAULT 0,"
            "  result TEXT NOT NULL DEFAULT ''"
            ");"},
    /* 14: roles as data. Each role's permissions (auth/authz.h), the built-in three seeded with
     * what they held before (admin: every permission but password_login.edit and the owners'
     * own); a user's role, an IdP's default role and its group roles may name any role, so
     * their CHECKs go. SQLite cannot drop a CHECK: it rebuilds the three tables (same columns,
     * rows and ids; the driver runs migrations with foreign keys off and checks them all before
     * committing, so nothing cascades and every reference still holds). */
    {.sql = "CREATE TABLE roles ("
            "  name TEXT PRIMARY KEY,"
            "  permissions TEXT NOT NULL,"
            "  builtin INTEGER NOT NULL DEFAULT 0,"
            "  created_at INTEGER NOT NULL,"
            "  updated_at INTEGER NOT NULL"
            ");"
            "INSERT INTO roles (name, permissions, builtin, created_at, updated_at) VALUES"
            "  ('owner', '*', 1, 0, 0),"
            "  ('admin', 'dashboard.view,users.view,users.edit,policy.view,policy.edit,"
            "idps.view,idps.edit,saml_log.view,audit.view,roles.view', 1, 0, 0),"
            "  ('member', '', 1, 0, 0);",
     .sqlite = "CREATE TABLE users_new ("
               "  id INTEGER PRIMARY KEY,"
               "  email TEXT NOT NULL UNIQUE,"
               "  display_name TEXT NOT NULL DEFAULT '',"
               "  role TEXT NOT NULL,"
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
               "INSERT INTO users_new (id, email, display_name, role, status, auth_method,"
               "  password_hash, must_change, created_at, last_login_at, password_changed_at, idp,"
               "  name_id, mfa_enabled)"
               " SELECT id, email, display_name, role, status, auth_method, password_hash,"
               "  must_change, created_at, last_login_at, password_changed_at, idp, name_id,"
               "  mfa_enabled FROM users;"
               "DROP TABLE users;"
               "ALTER TABLE users_new RENAME TO users;"
               "CREATE UNIQUE INDEX users_saml ON users(idp, name_id) WHERE auth_method = 'saml';"
               "CREATE TABLE idps_new ("
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
               "  default_role TEXT NOT NULL DEFAULT 'member',"
               "  attr_email TEXT NOT NULL DEFAULT '',"
               "  attr_first_name TEXT NOT NULL DEFAULT '',"
               "  attr_last_name TEXT NOT NULL DEFAULT '',"
               "  attr_groups TEXT NOT NULL DEFAULT '',"
               "  created_at INTEGER NOT NULL,"
               "  name_id_format TEXT NOT NULL DEFAULT 'none'"
               ");"
               "INSERT INTO idps_new (entity_id, name, metadata, sso_redirect, sso_post,"
               "  slo_redirect, slo_post, certs, idp_initiated, allow_sha1, default_role,"
               "  attr_email, attr_first_name, attr_last_name, attr_groups, created_at,"
               "  name_id_format)"
               " SELECT entity_id, name, metadata, sso_redirect, sso_post, slo_redirect, slo_post,"
               "  certs, idp_initiated, allow_sha1, default_role, attr_email, attr_first_name,"
               "  attr_last_name, attr_groups, created_at, name_id_format FROM idps;"
               "DROP TABLE idps;"
               "ALTER TABLE idps_new RENAME TO idps;"
               "CREATE TABLE idp_group_roles_new ("
               "  entity_id TEXT NOT NULL REFERENCES idps(entity_id) ON DELETE CASCADE,"
               "  group_name TEXT NOT NULL,"
               "  role TEXT NOT NULL,"
               "  PRIMARY KEY (entity_id, group_name)"
               ");"
               "INSERT INTO idp_group_roles_new (entity_id, group_name, role)"
               " SELECT entity_id, group_name, role FROM idp_group_roles;"
               "DROP TABLE idp_group_roles;"
               "ALTER TABLE idp_group_roles_new RENAME TO idp_group_roles;",
     /* PostgreSQL names an unnamed column CHECK TABLE_COLUMN_check. */
     .pg = "ALTER TABLE users DROP CONSTRAINT users_role_check;"
           "ALTER TABLE idps DROP CONSTRAINT idps_default_role_check;"
           "ALTER TABLE idp_group_roles DROP CONSTRAINT idp_group_roles_role_check;"},
    /* 15: which node ([server] node_name) wrote each SAML log and audit row, when several
     * share one database ('' for the rows from before) */
    {.sql = "ALTER TABLE saml_log ADD COLUMN node TEXT NOT NULL DEFAULT '';"
            "ALTER TABLE audit ADD COLUMN node TEXT NOT NULL DEFAULT '';"},
};

const size_t store_n_migrations = sizeof store_migrations / sizeof store_migrations[0];
