/* auth/ctl.c: bin/gatehousectl — the admin CLI on the same config and store as the server.
 * Exit 0 done, 1 refused or failed (message on stderr), 2 usage. Every change is audited with
 * actor cli:<unix user>. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "access.h"
#include "account.h"
#include "admin.h"
#include "app.h"
#include "arena.h"
#include "audit.h"
#include "authz.h"
#include "idp.h"
#include "idp_health.h"
#include "federation.h"
#include "idp_source.h"
#include "sp/sp.h"
#include "clock.h"
#include "log.h"
#include "policy/lockout.h"
#include "policy/settings.h"
#include "samllog.h"
#include "roles.h"
#include "secrets.h"
#include "spkey.h"
#include "store.h"
#include "str.h"

#define DEFAULT_CONF "conf/gatehouse.conf"

struct ctl {
    struct app app;
    struct store *store;
    struct actor actor;
    char actor_name[96];
    int json;
    int markdown;
};

static const char usage_text[] =
    "usage: gatehousectl [-c FILE] COMMAND ...\n"
    "  user add --email E [--role ROLE] [--name NAME]   (owner, admin, member or a role of\n"
    "          role list)\n"
    "  user list [--json] | user show E [--json]\n"
    "  user unlock E | user reset-password E | user set-role E ROLE\n"
    "  user disable E | user enable E | user delete E | user mfa-reset E\n"
    "  user force-change E\n"
    "  policy show [--json|--markdown] | policy set KEY VALUE\n"
    "  password-login on|off\n"
    "  idp add --metadata FILE [--entity-id E] [--domain D]... [--name NAME]\n"
    "          [--idp-initiated on|off] [--allow-sha1 on|off] [--default-role ROLE]\n"
    "          [--attr-email A] [--attr-first-name A] [--attr-last-name A] [--attr-groups A]\n"
    "          [--group-role GROUP=ROLE]...   (ROLE: any role but owner)\n"
    "          [--name-id-format emailAddress|persistent|transient|unspecified|none]\n"
    "  idp add --entity-id E --sso-url URL [--sso-binding redirect|post] --cert FILE...\n"
    "          [--slo-url URL] [the other options of add]   (an IdP without metadata)\n"
    "  idp add --metadata-url URL [--metadata-cert FILE] [the other options of add]\n"
    "  federation add --url URL --cert FILE [--name N] | federation list [--json]\n"
    "  federation refresh URL | federation remove URL\n"
    "  idp refresh ENTITY_ID   (fetch the metadata of an IdP added with --metadata-url now)\n"
    "  idp set ENTITY_ID [the options of add but --entity-id] [--no-domains]\n"
    "          [--no-group-roles]   (--domain / --group-role replace the whole list;\n"
    "          --metadata FILE reloads the IdP's endpoints and signing certificates)\n"
    "  idp list [--json] | idp show ENTITY_ID [--json] (with its health) | idp remove ENTITY_ID\n"
    "  saml check --response FILE [--audience URI] [--recipient URL] [--json]\n"
    "  saml-log list [--failed] [--idp E] [--user NAMEID] [--limit N] [--json]\n"
    "  saml-log show ID [--json]\n"
    "  audit list [--limit N] [--action A] [--actor X] [--target T] [--since ISO-TIME]\n"
    "             [--json | --jsonl]\n"
    "  secrets rotate [--key-label LABEL]   (LABEL: the token's new key, provider = pkcs11)\n"
    "  secrets migrate --to pkcs11\n"
    "  secrets seal smtp.password           (reads the value on stdin; prints password_sealed)\n"
    "  secrets seal-sp-key                  (seals [sp] key_file, removes the clear file)\n"
    "  secrets seal-saml-log                (seals SAML log bodies logged before sealing)\n"
    "  role add NAME --permissions P,P... | role set NAME --permissions P,P...\n"
    "          (--permission P may repeat; \"*\" is every permission a role may hold)\n"
    "  role remove NAME | role list [--json]\n"
    "  access check URL [--user E] [--groups a,b] [--mfa]\n"
    "  config reload\n"
    "  store migrate --from sqlite:PATH --to postgres:CONNINFO   (into an empty database)\n";

/* The data key, for the commands that open sealed secrets (not loaded otherwise: with a token,
 * each unwrap is a use of the customer's key, audited). */
static int
ctl_secrets(struct ctl *c, const char *command, char *err, size_t errlen)
{
    char why[128];
    snprintf(why, sizeof why, "data key unwrapped by gatehousectl %s", command);
    return app_load_secrets(&c->app, why, err, errlen);
}

static int
usage(void)
{
    fputs(usage_text, stderr);
    return 2;
}

static int
refused(const char *msg)
{
    fprintf(stderr, "gatehousectl: %s\n", msg);
    return 1;
}

/* Maps an account operation's result to the exit status. */
static int
account_exit(enum account_rc rc, const char *msg)
{
    if (rc == ACCOUNT_OK)
        return 0;
    return refused(rc == ACCOUNT_REFUSED || rc == ACCOUNT_FORBIDDEN
                       ? msg
                       : "the store could not complete the change");
}

/* Strips a trailing "--json" flag from argv; returns the new argc. */
static int
take_json(struct ctl *c, int argc, char **argv)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            c->json = 1;
        else if (strcmp(argv[i], "--markdown") == 0)
            c->markdown = 1;
        else
            argv[out++] = argv[i];
    }
    return out;
}

/* State of a listing: rows go to arr under --json, to stdout otherwise. */
struct list_ctx {
    struct ctl *c;
    json_t *arr;
};

static int
print_user_row(const struct user *u, void *ctx)
{
    struct list_ctx *lc = ctx;
    if (lc->arr != NULL) {
        json_array_append_new(lc->arr, admin_user_json(lc->c->store, u));
        return 0;
    }
    char b[32];
    printf("%-40s %-7s %-9s %-9s %s\n", u->email, u->role, u->status, u->auth_method,
           u->last_login_at ? clock_iso(u->last_login_at, b, sizeof b) : "never");
    return 0;
}

static int
cmd_user_list(struct ctl *c)
{
    struct list_ctx lc = {c, c->json ? json_array() : NULL};
    if (!c->json)
        printf("%-40s %-7s %-9s %-9s %s\n", "EMAIL", "ROLE", "STATUS", "METHOD", "LAST SIGN-IN");
    if (store_user_list(c->store, print_user_row, &lc) != 0) {
        json_decref(lc.arr);
        return refused("cannot read the users");
    }
    if (c->json) {
        json_dumpf(lc.arr, stdout, JSON_INDENT(2));
        putchar('\n');
    }
    json_decref(lc.arr);
    return 0;
}

static int
cmd_user_show(struct ctl *c, const char *email)
{
    struct user u;
    char msg[128];
    struct arena *ar = arena_new();
    char *norm = ar ? str_email_normalize(ar, email) : NULL;
    int r = norm ? store_user_by_email(c->store, norm, &u) : 1;
    arena_free(ar);
    if (r != 0) {
        snprintf(msg, sizeof msg, "no user %.80s", email);
        return refused(msg);
    }
    json_t *o = admin_user_json(c->store, &u);
    if (c->json) {
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        const char *key;
        json_t *v;
        json_object_foreach(o, key, v)
        {
            if (json_is_string(v))
                printf("%-20s %s\n", key, json_string_value(v));
            else if (json_is_boolean(v))
                printf("%-20s %s\n", key, json_is_true(v) ? "yes" : "no");
            else if (json_is_integer(v))
                printf("%-20s %lld\n", key, (long long)json_integer_value(v));
        }
    }
    json_decref(o);
    return 0;
}

static int
cmd_user_add(struct ctl *c, int argc, char **argv)
{
    const char *email = NULL, *role = "member", *name = NULL;
    static const struct option opts[] = {{"email", required_argument, NULL, 'e'},
                                         {"role", required_argument, NULL, 'r'},
                                         {"name", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'e')
            email = optarg;
        else if (o == 'r')
            role = optarg;
        else if (o == 'n')
            name = optarg;
        else
            return usage();
    }
    if (email == NULL || optind != argc)
        return usage();
    char temp[ACCOUNT_TEMP_MAX], msg[256];
    enum account_rc rc =
        account_create(&c->app, c->store, &c->actor, email, name, role, temp, msg, sizeof msg);
    if (rc != ACCOUNT_OK)
        return account_exit(rc, msg);
    printf("created %s (role %s). Temporary password, to be changed at first sign-in:\n", email,
           role);
    printf("%s\n", temp);
    OPENSSL_cleanse(temp, sizeof temp);
    return 0;
}

static int
cmd_user(struct ctl *c, int argc, char **argv)
{
    if (argc < 1)
        return usage();
    const char *sub = argv[0];
    char msg[256] = "";
    if (strcmp(sub, "add") == 0)
        return cmd_user_add(c, argc, argv);
    if (strcmp(sub, "list") == 0)
        return argc == 1 ? cmd_user_list(c) : usage();
    if (argc < 2)
        return usage();
    const char *email = argv[1];
    if (strcmp(sub, "show") == 0 && argc == 2)
        return cmd_user_show(c, email);
    if (strcmp(sub, "unlock") == 0 && argc == 2)
        return account_exit(account_unlock(&c->app, c->store, &c->actor, email, msg, sizeof msg),
                            msg);
    if (strcmp(sub, "reset-password") == 0 && argc == 2) {
        char temp[ACCOUNT_TEMP_MAX];
        enum account_rc rc =
            account_reset_password(&c->app, c->store, &c->actor, email, temp, msg, sizeof msg);
        if (rc != ACCOUNT_OK)
            return account_exit(rc, msg);
        printf("password of %s reset; its sessions ended and any lock lifted. Temporary "
               "password, to be changed at the next sign-in:\n%s\n",
               email, temp);
        OPENSSL_cleanse(temp, sizeof temp);
        return 0;
    }
    if (strcmp(sub, "set-role") == 0 && argc == 3)
        return account_exit(
            account_set_role(&c->app, c->store, &c->actor, email, argv[2], msg, sizeof msg), msg);
    if ((strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) && argc == 2)
        return account_exit(account_set_status(&c->app, c->store, &c->actor, email,
                                               sub[0] == 'd' ? "disabled" : "active", msg,
                                               sizeof msg),
                            msg);
    if (strcmp(sub, "force-change") == 0 && argc == 2)
        return account_exit(
            account_force_change(&c->app, c->store, &c->actor, email, msg, sizeof msg), msg);
    if (strcmp(sub, "mfa-reset") == 0 && argc == 2)
        return account_exit(account_mfa_reset(&c->app, c->store, &c->actor, email, msg, sizeof msg),
                            msg);
    if (strcmp(sub, "delete") == 0 && argc == 2)
        return account_exit(account_delete(&c->app, c->store, &c->actor, email, msg, sizeof msg),
                            msg);
    return usage();
}

static int
cmd_policy_show(struct ctl *c)
{
    struct policy p;
    app_policy(&c->app, c->store, &p);
    size_t n;
    const struct setting_def *t = settings_table(&n);
    json_t *arr = json_array();
    if (c->markdown)
        printf("| key | values | default | what it does |\n| --- | --- | --- | --- |\n");
    for (size_t i = 0; i < n; i++) {
        char val[32], def[32], range[96];
        settings_format(&t[i], settings_get(&p, &t[i]), val, sizeof val);
        settings_format(&t[i], t[i].def, def, sizeof def);
        settings_range_text(&t[i], range, sizeof range);
        if (c->json)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "key", t[i].name,
                                                 "value", val, "default", def, "range", range,
                                                 "description", t[i].description));
        else if (c->markdown)
            printf("| `%s` | %s | %s | %s |\n", t[i].name, range, def, t[i].description);
        else
            printf("%-34s %-6s (%s; default %s)\n", t[i].name, val, range, def);
    }
    if (c->json) {
        json_dumpf(arr, stdout, JSON_INDENT(2));
        putchar('\n');
    }
    json_decref(arr);
    return 0;
}

/* Stores one run-time setting after validating it against the table; audited old -> new. */
static int
set_setting(struct ctl *c, const char *key, const char *value)
{
    char oldv[32] = "", newv[32] = "", msg[300] = "";
    enum account_rc rc =
        admin_set_setting(&c->app, c->store, &c->actor, key, value, oldv, newv, msg, sizeof msg);
    if (rc != ACCOUNT_OK)
        return account_exit(rc, msg);
    printf("%s: %s -> %s\n", key, oldv, newv);
    return 0;
}

static int
cmd_policy(struct ctl *c, int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "show") == 0)
        return cmd_policy_show(c);
    if (argc == 3 && strcmp(argv[0], "set") == 0)
        return set_setting(c, argv[1], argv[2]);
    return usage();
}

static int
cmd_password_login(struct ctl *c, int argc, char **argv)
{
    if (argc != 1 || (strcmp(argv[0], "on") != 0 && strcmp(argv[0], "off") != 0))
        return usage();
    int rc = set_setting(c, "password_login", argv[0]);
    if (rc == 0 && strcmp(argv[0], "off") == 0)
        fprintf(stderr, "gatehousectl: password sign-in is off: users sign in through SSO; "
                        "owners keep an audited emergency sign-in at /login?break_glass=1\n");
    return rc;
}

static int
print_audit(const struct audit_row *r, void *ctx)
{
    struct list_ctx *lc = ctx;
    char at[32];
    clock_iso(r->at, at, sizeof at);
    if (lc->arr != NULL) {
        json_array_append_new(lc->arr, admin_audit_json(r));
        return 0;
    }
    printf("%-6lld %s %-30s %-22s %-30s %s -> %s\n", r->id, at, r->actor, r->action, r->target,
           r->old_value[0] ? r->old_value : "-", r->new_value[0] ? r->new_value : "-");
    return 0;
}

static int
cmd_audit(struct ctl *c, int argc, char **argv)
{
    struct audit_filter f = {.limit = 100};
    int jsonl = 0;
    if (argc < 1 || strcmp(argv[0], "list") != 0)
        return usage();
    for (int i = 1; i < argc; i++) {
        const char *e;
        if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            f.limit = str_to_num(argv[++i], 1, 100000000, &e);
            if (e != NULL)
                return refused("--limit must be a number from 1 to 100000000");
        } else if (strcmp(argv[i], "--action") == 0 && i + 1 < argc) {
            f.action = argv[++i];
        } else if (strcmp(argv[i], "--actor") == 0 && i + 1 < argc) {
            f.actor = argv[++i];
        } else if (strcmp(argv[i], "--target") == 0 && i + 1 < argc) {
            f.target = argv[++i];
        } else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
            if (clock_parse_iso(argv[++i], &f.since) != 0)
                return refused("--since must be a time like 2026-11-23T09:00:00Z");
        } else if (strcmp(argv[i], "--jsonl") == 0) {
            jsonl = 1;
        } else {
            return usage();
        }
    }
    struct list_ctx lc = {c, (c->json || jsonl) ? json_array() : NULL};
    int rc = store_audit_list(c->store, &f, print_audit, &lc);
    if (jsonl) {
        /* JSON lines, oldest first: an export that appends cleanly to an archive. */
        for (size_t i = json_array_size(lc.arr); i-- > 0;) {
            json_dumpf(json_array_get(lc.arr, i), stdout, JSON_COMPACT);
            putchar('\n');
        }
    } else if (c->json) {
        json_dumpf(lc.arr, stdout, JSON_INDENT(2));
        putchar('\n');
    }
    json_decref(lc.arr);
    return rc == 0 ? 0 : refused("cannot read the audit log");
}

static int
on_off(const char *v, int *out)
{
    if (strcmp(v, "on") == 0)
        *out = 1;
    else if (strcmp(v, "off") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

/* What idp add is given besides the options it shares with idp set: the no-metadata fields, or
 * a metadata URL and the certificate file that must have signed what it serves. */
struct idp_add_args {
    struct sp_idp_fields f;
    const char *url, *url_cert;
};

/* One of idp add's no-metadata options (--sso-url, --sso-binding, --slo-url, --cert FILE) into
 * f; the certificate files are named here and read by cmd_idp_add. -1 on a bad value. */
static int
idp_field_option(struct sp_idp_fields *f, int opt, const char *arg)
{
    switch (opt) {
    case 'U':
        f->sso_url = arg;
        return 0;
    case 'O':
        f->slo_url = arg;
        return 0;
    case 'B':
        if (strcmp(arg, "redirect") != 0 && strcmp(arg, "post") != 0)
            return -1;
        f->post_binding = strcmp(arg, "post") == 0;
        return 0;
    case 'C':
        if (f->n_certs == SP_MAX_CERTS + 1)
            return -1;
        f->certs[f->n_certs++] = arg;
        return 0;
    }
    return -1;
}

/* The options of idp add and idp set into o (for set, unset values stay "unchanged"). Returns
 * 0, or 2 after printing the usage. */
static int
parse_idp_options(int argc, char **argv, struct idp_options *o, const char **file,
                  struct idp_add_args *add)
{
    int set = add == NULL;
    static const struct option opts[] = {{"metadata", required_argument, NULL, 'm'},
                                         {"entity-id", required_argument, NULL, 'e'},
                                         {"domain", required_argument, NULL, 'd'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"idp-initiated", required_argument, NULL, 'i'},
                                         {"allow-sha1", required_argument, NULL, 's'},
                                         {"default-role", required_argument, NULL, 'r'},
                                         {"attr-email", required_argument, NULL, 'E'},
                                         {"attr-first-name", required_argument, NULL, 'F'},
                                         {"attr-last-name", required_argument, NULL, 'L'},
                                         {"attr-groups", required_argument, NULL, 'G'},
                                         {"group-role", required_argument, NULL, 'g'},
                                         {"no-domains", no_argument, NULL, 'D'},
                                         {"no-group-roles", no_argument, NULL, 'R'},
                                         {"sso-url", required_argument, NULL, 'U'},
                                         {"sso-binding", required_argument, NULL, 'B'},
                                         {"slo-url", required_argument, NULL, 'O'},
                                         {"cert", required_argument, NULL, 'C'},
                                         {"metadata-url", required_argument, NULL, 'u'},
                                         {"metadata-cert", required_argument, NULL, 'c'},
                                         {"name-id-format", required_argument, NULL, 'N'},
                                         {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->idp_initiated = o->allow_sha1 = set ? -1 : 0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            *file = optarg;
            break;
        case 'e':
            if (set)
                return usage();
            o->entity_id = optarg;
            break;
        case 'd':
            if (o->n_domains == IDP_MAX_DOMAINS)
                return refused("too many --domain options");
            o->domains[o->n_domains++] = optarg;
            o->set_domains = 1;
            break;
        case 'D':
            o->set_domains = 1;
            break;
        case 'n':
            o->name = optarg;
            break;
        case 'i':
            if (on_off(optarg, &o->idp_initiated) != 0)
                return usage();
            break;
        case 's':
            if (on_off(optarg, &o->allow_sha1) != 0)
                return usage();
            break;
        case 'r':
            o->default_role = optarg;
            break;
        case 'E':
            o->attr_email = optarg;
            break;
        case 'F':
            o->attr_first_name = optarg;
            break;
        case 'L':
            o->attr_last_name = optarg;
            break;
        case 'G':
            o->attr_groups = optarg;
            break;
        case 'g':
            if (o->n_group_roles == IDP_MAX_GROUP_ROLES)
                return refused("too many --group-role options");
            o->group_roles[o->n_group_roles++] = optarg;
            o->set_group_roles = 1;
            break;
        case 'R':
            o->set_group_roles = 1;
            break;
        case 'N':
            o->name_id_format = optarg;
            break;
        case 'U':
        case 'B':
        case 'O':
        case 'C':
            if (set || idp_field_option(&add->f, opt, optarg) != 0)
                return usage();
            break;
        case 'u':
        case 'c':
            if (set)
                return usage();
            *(opt == 'u' ? &add->url : &add->url_cert) = optarg;
            break;
        default:
            return usage();
        }
    }
    return 0;
}

static int
cmd_idp_set(struct ctl *c, int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *entity = argv[1];
    struct idp_options o;
    const char *file = NULL;
    int rc = parse_idp_options(argc - 1, argv + 1, &o, &file, NULL);
    if (rc != 0)
        return rc;
    if (optind != argc - 1)
        return usage();
    char msg[1024] = "";
    char *xml = NULL;
    if (file != NULL) {
        char err[1024];
        xml = sp_read_file(file, SP_METADATA_MAX_BYTES, &o.metadata_len, err, sizeof err);
        if (xml == NULL)
            return refused(err);
        o.metadata = xml;
    }
    enum account_rc ar = idp_set(c->store, &c->actor, entity, &o, msg, sizeof msg);
    free(xml);
    if (ar != ACCOUNT_OK)
        return account_exit(ar, msg);
    if (strncmp(msg, "note:", 5) == 0) {
        fprintf(stderr, "gatehousectl: %s\n", msg);
        msg[0] = '\0';
    }
    if (msg[0] != '\0')
        printf("%s\n", msg);
    else
        printf("updated IdP %s\n", entity);
    return 0;
}

/* idp add without metadata: the certificate files (PEM, or the bare base64 that IdPs' setup
 * pages show) read, then registered from the fields. */
static enum account_rc
idp_add_by_fields(struct ctl *c, struct sp_idp_fields *f, struct idp_options *o, char *entity,
                  size_t entity_len, char *msg, size_t msglen)
{
    char *pem[SP_MAX_CERTS + 1] = {NULL};
    enum account_rc rc = ACCOUNT_REFUSED;
    for (size_t i = 0; i < f->n_certs; i++) {
        size_t l = 0;
        pem[i] = sp_read_file(f->certs[i], 64 * 1024, &l, msg, msglen);
        if (pem[i] == NULL)
            goto out;
    }
    struct sp_idp_fields read = *f;
    for (size_t i = 0; i < f->n_certs; i++)
        read.certs[i] = pem[i];
    read.entity_id = o->entity_id;
    rc = idp_add_from_fields(c->store, &c->actor, &read, o, entity, entity_len, msg, msglen);
out:
    for (size_t i = 0; i < f->n_certs; i++)
        free(pem[i]);
    return rc;
}

/* idp add --metadata-url: the signer's certificate file read, then the first fetch. */
static enum account_rc
idp_add_by_url(struct ctl *c, const struct idp_add_args *a, struct idp_options *o, char *entity,
               size_t entity_len, char *msg, size_t msglen)
{
    char *cert = NULL;
    if (a->url_cert != NULL) {
        size_t l = 0;
        cert = sp_read_file(a->url_cert, 64 * 1024, &l, msg, msglen);
        if (cert == NULL)
            return ACCOUNT_REFUSED;
    }
    enum account_rc rc = idp_add_from_url(c->store, &c->actor, c->app.conf.sp_metadata_ca_file,
                                          a->url, cert, o, entity, entity_len, msg, msglen);
    free(cert);
    return rc;
}

static int
cmd_idp_add(struct ctl *c, int argc, char **argv)
{
    struct idp_options o;
    struct idp_add_args a;
    memset(&a, 0, sizeof a);
    const char *file = NULL;
    int prc = parse_idp_options(argc, argv, &o, &file, &a);
    if (prc != 0)
        return prc;
    int by_fields = a.f.sso_url != NULL || a.f.n_certs > 0 || a.f.slo_url != NULL;
    int by_url = a.url != NULL;
    if (optind != argc || (file != NULL) + by_fields + by_url != 1 ||
        (a.url_cert != NULL && !by_url))
        return usage();
    if (by_fields && (a.f.sso_url == NULL || a.f.n_certs == 0 || o.entity_id == NULL))
        return refused("without --metadata, give --entity-id, --sso-url and --cert");
    char err[1024], msg[1024] = "", entity[SP_ENTITY_MAX];
    enum account_rc rc;
    if (by_fields) {
        rc = idp_add_by_fields(c, &a.f, &o, entity, sizeof entity, msg, sizeof msg);
    } else if (by_url) {
        rc = idp_add_by_url(c, &a, &o, entity, sizeof entity, msg, sizeof msg);
    } else {
        size_t len = 0;
        char *xml = sp_read_file(file, SP_METADATA_MAX_BYTES, &len, err, sizeof err);
        if (xml == NULL)
            return refused(err);
        rc = idp_add(c->store, &c->actor, xml, len, &o, entity, sizeof entity, msg, sizeof msg);
        free(xml);
    }
    if (rc != ACCOUNT_OK)
        return account_exit(rc, msg);
    if (msg[0] != '\0')
        fprintf(stderr, "gatehousectl: %s\n", msg);
    printf("added IdP %s\n", entity);
    return 0;
}

static int
cmd_idp_refresh(struct ctl *c, const char *entity)
{
    char msg[1024] = "";
    enum account_rc rc =
        idp_refresh(c->store, &c->actor, c->app.conf.sp_metadata_ca_file, entity, msg, sizeof msg);
    if (rc != ACCOUNT_OK)
        return account_exit(rc, msg);
    printf("IdP %s: %s\n", entity, msg);
    return 0;
}

static void
print_event(const char *what, const struct idp_health_event *e)
{
    char at[32];
    if (e->at == 0) {
        printf("  %s: none\n", what);
        return;
    }
    printf("  %s: %s SAML-%lld%s%s%s%s\n", what, clock_iso(e->at, at, sizeof at), e->log_id,
           e->reason[0] ? " " : "", e->reason, e->detail[0] ? ": " : "", e->detail);
}

/* idp show: the IdP's health under its settings. */
static void
print_health(struct store *s, const struct idp_row *r)
{
    struct idp_health h;
    time_t now = clock_now();
    char first[32];
    if (idp_health_get(s, r, now, &h) != 0) {
        printf("  health: the SAML log could not be read\n");
        return;
    }
    print_event("last accepted", &h.last_accepted);
    print_event("last refused", &h.last_refused);
    if (h.skew_n > 0)
        printf("  clock skew: median %+lld s, farthest %+lld s, latest %+lld s (%d signed "
               "responses)\n",
               h.skew_median, h.skew_max, h.skew_last, h.skew_n);
    if (h.n_certs > 0)
        printf("  certificate expiry: %s (%lld days)%s\n",
               clock_iso(h.cert_first_expiry, first, sizeof first),
               (long long)(h.cert_first_expiry - now) / 86400,
               h.cert_warning ? "  WARNING: within 30 days" : "");
}

static int
print_idp(const struct idp_row *r, void *ctx)
{
    struct list_ctx *lc = ctx;
    char domains[1024], created[32], groups[1024];
    idp_domains_text(lc->c->store, r->entity_id, domains, sizeof domains);
    idp_group_roles_text(lc->c->store, r->entity_id, groups, sizeof groups);
    clock_iso(r->created_at, created, sizeof created);
    struct idp_source src;
    struct idp_health h;
    char last[32] = "", next[32] = "";
    int have_src = store_idp_source_get(lc->c->store, r->entity_id, &src) == 0;
    if (have_src) {
        clock_iso(src.last_ok, last, sizeof last);
        clock_iso(src.next_at, next, sizeof next);
    }
    if (lc->arr != NULL) {
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:s, s:s}", "entity_id",
            r->entity_id, "name", r->name, "domains", domains, "sso_redirect", r->sso_redirect,
            "sso_post", r->sso_post, "slo_redirect", r->slo_redirect, "slo_post", r->slo_post,
            "certs", r->certs, "idp_initiated", r->idp_initiated, "allow_sha1", r->allow_sha1,
            "default_role", r->default_role, "created_at", created);
        json_object_set_new(o, "attributes",
                            json_pack("{s:s, s:s, s:s, s:s}", "email", r->attr_email, "first_name",
                                      r->attr_first_name, "last_name", r->attr_last_name, "groups",
                                      r->attr_groups));
        json_object_set_new(o, "group_roles", json_string(groups));
        if (have_src) {
            json_object_set_new(o, "metadata_url", json_string(src.url));
            json_object_set_new(o, "metadata_signed", json_boolean(src.signer_cert[0] != 0));
            json_object_set_new(o, "last_refresh", json_string(last));
            json_object_set_new(o, "next_refresh", json_string(next));
            json_object_set_new(o, "refresh_error", json_string(src.last_error));
        }
        json_object_set_new(o, "name_id_format", json_string(r->name_id_format));
        if (idp_health_get(lc->c->store, r, clock_now(), &h) == 0)
            json_object_set_new(o, "health", idp_health_json(&h, clock_now()));
        json_array_append_new(lc->arr, o);
        return 0;
    }
    printf("%s\n  name: %s\n  domains: %s\n  sso: %s\n  slo: %s\n  idp-initiated: %s  "
           "sha1: %s  default role: %s\n  attributes: email=%s first=%s last=%s groups=%s\n"
           "  group roles: %s\n  name-id format: %s\n  signing certificates:\n    ",
           r->entity_id, r->name, domains[0] ? domains : "(none)",
           r->sso_redirect[0] ? r->sso_redirect : r->sso_post,
           r->slo_redirect[0] ? r->slo_redirect : (r->slo_post[0] ? r->slo_post : "(none)"),
           r->idp_initiated ? "on" : "off", r->allow_sha1 ? "on" : "off", r->default_role,
           r->attr_email[0] ? r->attr_email : "(recognised)",
           r->attr_first_name[0] ? r->attr_first_name : "(recognised)",
           r->attr_last_name[0] ? r->attr_last_name : "(recognised)",
           r->attr_groups[0] ? r->attr_groups : "(recognised)", groups[0] ? groups : "(none)",
           r->name_id_format);
    for (const char *p = r->certs; *p; p++) {
        putchar(*p);
        if (*p == '\n')
            fputs("    ", stdout);
    }
    putchar('\n');
    if (have_src)
        printf("  metadata URL: %s (%s)\n    last refresh: %s  next: %s%s%s\n", src.url,
               src.signer_cert[0] ? "signature checked" : "TLS only", src.last_ok ? last : "never",
               next, src.last_error[0] ? "\n    last error: " : "", src.last_error);
    return 0;
}

static int
cmd_federation_add(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {{"url", required_argument, NULL, 'u'},
                                         {"cert", required_argument, NULL, 'c'},
                                         {"name", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    const char *url = NULL, *cert_file = NULL, *name = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == 'u')
            url = optarg;
        else if (opt == 'c')
            cert_file = optarg;
        else if (opt == 'n')
            name = optarg;
        else
            return usage();
    }
    if (optind != argc || url == NULL || cert_file == NULL)
        return usage();
    char msg[1024] = "";
    size_t len = 0;
    char *cert = sp_read_file(cert_file, 64 * 1024, &len, msg, sizeof msg);
    if (cert == NULL)
        return refused(msg);
    enum account_rc rc = federation_add(c->store, &c->actor, c->app.conf.sp_metadata_ca_file, url,
                                        cert, name, msg, sizeof msg);
    free(cert);
    if (rc != ACCOUNT_OK)
        return account_exit(rc, msg);
    printf("added federation %s: %s\n", url, msg);
    return 0;
}

static int
print_federation(const struct federation_row *f, void *ctx)
{
    json_t *arr = ctx;
    char last[32] = "never", next[32];
    if (f->last_ok)
        clock_iso(f->last_ok, last, sizeof last);
    clock_iso(f->next_at, next, sizeof next);
    if (arr != NULL)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "url", f->url,
                                             "name", f->name, "idps", f->n_idps, "last_refresh",
                                             f->last_ok ? last : "", "next_refresh", next,
                                             "refresh_error", f->last_error));
    else
        printf("%s\n  name: %s\n  IdPs: %d\n  last refresh: %s  next: %s%s%s\n", f->url, f->name,
               f->n_idps, last, next, f->last_error[0] ? "\n  last error: " : "", f->last_error);
    return 0;
}

static int
cmd_federation(struct ctl *c, int argc, char **argv)
{
    char msg[1024] = "";
    enum account_rc rc;
    if (argc >= 1 && strcmp(argv[0], "add") == 0)
        return cmd_federation_add(c, argc, argv);
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        json_t *arr = c->json ? json_array() : NULL;
        if (store_federation_list(c->store, print_federation, arr) != 0) {
            json_decref(arr);
            return refused("the store could not list the federations");
        }
        if (arr != NULL) {
            json_dumpf(arr, stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(arr);
        }
        return 0;
    }
    if (argc == 2 && strcmp(argv[0], "refresh") == 0) {
        rc = federation_refresh(c->store, &c->actor, c->app.conf.sp_metadata_ca_file, argv[1], msg,
                                sizeof msg);
    } else if (argc == 2 && strcmp(argv[0], "remove") == 0) {
        rc = federation_remove(c->store, &c->actor, argv[1], msg, sizeof msg);
    } else {
        return usage();
    }
    if (rc != ACCOUNT_OK)
        return account_exit(rc, msg);
    printf("federation %s: %s\n", argv[1], msg);
    return 0;
}

static int
cmd_idp(struct ctl *c, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "add") == 0)
        return cmd_idp_add(c, argc, argv);
    if (argc >= 1 && strcmp(argv[0], "set") == 0)
        return cmd_idp_set(c, argc, argv);
    if (argc == 2 && strcmp(argv[0], "refresh") == 0)
        return cmd_idp_refresh(c, argv[1]);
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        struct list_ctx lc = {c, c->json ? json_array() : NULL};
        int rc = store_idp_list(c->store, print_idp, &lc);
        if (c->json) {
            json_dumpf(lc.arr, stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(lc.arr);
        }
        return rc == 0 ? 0 : refused("cannot read the IdPs");
    }
    if (argc == 2 && strcmp(argv[0], "show") == 0) {
        struct list_ctx lc = {c, c->json ? json_array() : NULL};
        struct idp_row row;
        int g = store_idp_get(c->store, argv[1], &row);
        if (g != 0) {
            json_decref(lc.arr);
            return refused(g == 1 ? "no such IdP" : "cannot read the IdP");
        }
        print_idp(&row, &lc);
        if (c->json) {
            json_dumpf(json_array_get(lc.arr, 0), stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(lc.arr);
        } else {
            print_health(c->store, &row);
        }
        return 0;
    }
    if (argc == 2 && strcmp(argv[0], "remove") == 0) {
        char msg[600];
        enum account_rc rc = idp_remove(c->store, &c->actor, argv[1], msg, sizeof msg);
        if (rc == ACCOUNT_OK)
            printf("removed IdP %s\n", argv[1]);
        return account_exit(rc, msg);
    }
    return usage();
}

static int
sha1_allowed(const char *issuer, void *ctx)
{
    struct ctl *c = ctx;
    struct idp_row r;
    return store_idp_get(c->store, issuer, &r) == 0 && r.allow_sha1;
}

/* The SAML state's source of IdP metadata: the registry (only the response's issuer is built). */
static int
registry_metadata(const char *entity_id, char **xml_out, void *ctx)
{
    struct ctl *c = ctx;
    return idp_metadata(c->store, entity_id, xml_out);
}

/* Base64 of buf (an XML response saved from a browser's developer tools or the SAML log). */
static char *
to_base64(const char *buf, size_t len)
{
    char *out = malloc(4 * (len / 3 + 2) + 1);
    if (out != NULL)
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)buf, (int)len);
    return out;
}

/* Runs every stateless check of the ACS on a saved response, at the current (or faked) time. */
static int
cmd_saml_check(struct ctl *c, int argc, char **argv)
{
    const char *file = NULL, *audience = c->app.sp_entity_id;
    char acs[700];
    snprintf(acs, sizeof acs, "%s/saml/acs", c->app.conf.base_url);
    const char *recipient = acs;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--response") == 0)
            file = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--audience") == 0)
            audience = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--recipient") == 0)
            recipient = argv[++i];
        else
            return usage();
    }
    if (file == NULL)
        return usage();
    char err[1024];
    size_t len = 0;
    char *raw = sp_read_file(file, SP_MAX_RESPONSE_B64, &len, err, sizeof err);
    if (raw == NULL)
        return refused(err);
    char *b64 = raw;
    size_t i = 0;
    while (i < len && (raw[i] == ' ' || raw[i] == '\n' || raw[i] == '\r' || raw[i] == '\t'))
        i++;
    if (i < len && raw[i] == '<') {
        b64 = to_base64(raw, len);
        free(raw);
        raw = NULL;
        if (b64 == NULL)
            return refused("out of memory");
        len = strlen(b64);
    }
    struct sp *sp = ctl_secrets(c, "saml check", err, sizeof err) != 0 ||
                            app_load_sp(&c->app, err, sizeof err) != 0
                        ? NULL
                        : sp_new_from_pem(c->app.sp_metadata, c->app.sp_key_pem, c->app.sp_cert_pem,
                                          err, sizeof err);
    if (sp == NULL) {
        free(b64);
        return refused(err);
    }
    sp_set_idp_source(sp, registry_metadata, c, 0);
    struct sp_expect e = {
        audience,     recipient, c->app.conf.sp_clock_skew_seconds,      clock_now(),
        sha1_allowed, c,         c->app.conf.sp_max_response_age_seconds};
    struct sp_verdict v;
    enum sp_reason r = sp_acs_process(sp, b64, len, &e, &v);
    free(b64);
    const struct sp_reason_info *ri = sp_reason_info(r);
    json_t *attrs = json_object();
    for (int k = 0; k < v.n_attrs; k++) {
        json_t *vals = json_array();
        for (int j = 0; j < v.attrs[k].n_values; j++)
            json_array_append_new(vals, json_string(v.attrs[k].values[j]));
        json_object_set_new(attrs, v.attrs[k].name, vals);
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "verdict",
                          r == SP_OK ? "accepted" : "refused", "reason", ri->code, "detail",
                          v.detail, "issuer", v.issuer, "name_id", v.name_id, "name_id_format",
                          v.name_id_format, "assertion_id", v.assertion_id, "in_response_to",
                          v.in_response_to, "session_index", v.session_index, "attributes", attrs);
    if (c->json) {
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
    } else {
        printf("verdict: %s (%s)\n", r == SP_OK ? "accepted" : "refused", ri->code);
        if (v.detail[0])
            printf("detail: %s\n", v.detail);
        printf("issuer: %s\nname_id: %s\nassertion_id: %s\nin_response_to: %s\n", v.issuer,
               v.name_id, v.assertion_id, v.in_response_to);
    }
    json_decref(o);
    sp_verdict_free(&v);
    sp_free(sp);
    return r == SP_OK ? 0 : 1;
}

static int
print_saml_log(const struct saml_log_row *r, void *ctx)
{
    struct list_ctx *lc = ctx;
    if (lc->arr != NULL) {
        json_array_append_new(lc->arr, admin_saml_log_json(r));
        return 0;
    }
    char at[32];
    printf("%-6lld %s %-8s %-22s %-40s %s\n", r->id, clock_iso(r->at, at, sizeof at), r->verdict,
           r->reason, r->issuer, r->name_id[0] ? r->name_id : "-");
    return 0;
}

static int
cmd_saml_log(struct ctl *c, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "list") == 0) {
        int failed = 0;
        const char *idp = NULL, *user = NULL, *e = NULL;
        long long limit = 100;
        for (int i = 1; i < argc; i++) {
            if (strcmp(argv[i], "--failed") == 0)
                failed = 1;
            else if (i + 1 < argc && strcmp(argv[i], "--idp") == 0)
                idp = argv[++i];
            else if (i + 1 < argc && strcmp(argv[i], "--user") == 0)
                user = argv[++i];
            else if (i + 1 < argc && strcmp(argv[i], "--limit") == 0) {
                limit = str_to_num(argv[++i], 1, 1000000, &e);
                if (e != NULL)
                    return refused("--limit must be a number from 1 to 1000000");
            } else
                return usage();
        }
        struct list_ctx lc = {c, c->json ? json_array() : NULL};
        int rc = store_saml_log_list(c->store, failed, idp, user, limit, print_saml_log, &lc);
        if (c->json) {
            json_dumpf(lc.arr, stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(lc.arr);
        }
        return rc == 0 ? 0 : refused("cannot read the SAML log");
    }
    if (argc == 2 && strcmp(argv[0], "show") == 0) {
        const char *e;
        const char *idtext = argv[1];
        if (strncmp(idtext, "SAML-", 5) == 0)
            idtext += 5;
        long long id = str_to_num(idtext, 1, (long long)1 << 62, &e);
        struct saml_log_row r;
        if (e != NULL || store_saml_log_get(c->store, id, &r) != 0)
            return refused("no such SAML log entry");
        char err[1200];
        if (r.xml != NULL && ctl_secrets(c, "saml-log show", err, sizeof err) != 0) {
            free(r.xml);
            return refused(err);
        }
        int shut = samllog_open(&r, &c->app.secrets) != 0;
        json_t *o = admin_saml_log_json(&r);
        json_object_set_new(o, "xml", r.xml ? json_string(r.xml) : json_null());
        if (shut)
            json_object_set_new(o, "xml_error",
                                json_string("sealed; does not open with this data key"));
        if (c->json) {
            json_dumpf(o, stdout, JSON_INDENT(2));
            putchar('\n');
        } else {
            const char *key;
            json_t *v;
            json_object_foreach(o, key, v)
            {
                if (json_is_string(v))
                    printf("%-15s %s\n", key, json_string_value(v));
                else if (json_is_integer(v))
                    printf("%-15s %lld\n", key, (long long)json_integer_value(v));
            }
        }
        json_decref(o);
        free(r.xml);
        return 0;
    }
    return usage();
}

/* secrets rotate: a new master key; the data key is re-wrapped, sealed secrets stay as they are
 * and running servers (which hold the data key) go on without a restart. */
static struct secrets_token
token_of(const struct ctl *c)
{
    return (struct secrets_token){c->app.conf.secrets_pkcs11_module,
                                  c->app.conf.secrets_token_label, c->app.conf.secrets_key_label,
                                  c->app.conf.secrets_pin_file};
}

/* secrets migrate --to pkcs11: the data key leaves the key file for the customer's token. */
static int
cmd_secrets_migrate(struct ctl *c)
{
    char err[1200];
    struct secrets_token t = token_of(c);
    if (strcmp(c->app.conf.secrets_provider, "pkcs11") == 0)
        return refused("[secrets] provider is pkcs11 already");
    if (secrets_migrate_to_token(c->store, c->app.conf.secrets_key_file, &t, err, sizeof err) != 0)
        return refused(err);
    char target[256];
    snprintf(target, sizeof target, "pkcs11:%s/%s", t.token_label, t.key_label);
    if (audit_record(c->store, &c->actor, "secrets.migrate", "data key", "file", target) != 0)
        return refused("the data key was moved but the audit record could not be written");
    printf("the data key is now wrapped by PKCS#11 token \"%s\" key \"%s\". Set [secrets] "
           "provider = pkcs11 in %s and restart; then %s is no longer needed (keep a backup "
           "until the first start on the token has worked).\n",
           t.token_label, t.key_label, c->app.conf.path, c->app.conf.secrets_key_file);
    return 0;
}

static int
cmd_secrets_rotate_token(struct ctl *c, const char *new_label)
{
    char err[1200];
    struct secrets_token t = token_of(c);
    if (secrets_rotate_token(c->store, &t, new_label, err, sizeof err) != 0)
        return refused(err);
    char before[256], after[256];
    snprintf(before, sizeof before, "pkcs11:%s/%s", t.token_label, t.key_label);
    snprintf(after, sizeof after, "pkcs11:%s/%s", t.token_label, new_label);
    if (audit_record(c->store, &c->actor, "secrets.rotate", "data key", before, after) != 0)
        return refused("the key was rotated but the audit record could not be written");
    printf("the data key is now wrapped by token key \"%s\": set [secrets] key_label = %s in "
           "%s before the next start. Running servers go on.\n",
           new_label, new_label, c->app.conf.path);
    return 0;
}

/* secrets seal smtp.password: the value on stdin (one line), sealed for the config file. */
static int
cmd_secrets_seal(struct ctl *c, const char *name)
{
    if (strcmp(name, "smtp.password") != 0)
        return refused("secrets seal knows one setting: smtp.password");
    char err[1200], value[256];
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "%s: ", name);
    if (fgets(value, sizeof value, stdin) == NULL)
        return refused("no value on stdin");
    size_t n = strcspn(value, "\r\n");
    int too_long = value[n] == '\0' && n == sizeof value - 1;
    value[n] = '\0';
    if (n == 0 || too_long) {
        OPENSSL_cleanse(value, sizeof value);
        return refused("the value must be 1 to 254 bytes on one line");
    }
    if (ctl_secrets(c, "secrets seal", err, sizeof err) != 0) {
        OPENSSL_cleanse(value, sizeof value);
        return refused(err);
    }
    char *sealed = secrets_seal_text(&c->app.secrets, SECRETS_AAD_SMTP_PASSWORD, value, n);
    OPENSSL_cleanse(value, sizeof value);
    if (sealed == NULL)
        return refused("cannot seal the value");
    printf("%s\n", sealed);
    free(sealed);
    return 0;
}

/* secrets seal-sp-key: an older deployment's clear SP key moves into its sealed file. */
static int
cmd_secrets_seal_sp_key(struct ctl *c)
{
    char err[1200], sealed[4200];
    if (ctl_secrets(c, "secrets seal-sp-key", err, sizeof err) != 0 ||
        spkey_seal_file(&c->app.secrets, c->app.conf.sp_key_file, err, sizeof err) != 0)
        return refused(err);
    spkey_sealed_path(c->app.conf.sp_key_file, sealed, sizeof sealed);
    if (audit_record(c->store, &c->actor, "secrets.seal", "sp key", c->app.conf.sp_key_file,
                     sealed) != 0)
        return refused("the SP key was sealed but the audit record could not be written");
    printf("the SP private key is sealed in %s and %s is removed (remove any backup of it "
           "too). Running servers go on; restart them at your convenience.\n",
           sealed, c->app.conf.sp_key_file);
    return 0;
}

/* secrets seal-saml-log: the bodies logged before bodies were sealed are sealed now. */
static int
cmd_secrets_seal_saml_log(struct ctl *c)
{
    char err[1200], count_text[32];
    long long n = 0;
    if (ctl_secrets(c, "secrets seal-saml-log", err, sizeof err) != 0)
        return refused(err);
    int rc = samllog_seal_clear_rows(c->store, &c->app.secrets, &n);
    snprintf(count_text, sizeof count_text, "%lld", n);
    if (n > 0 &&
        audit_record(c->store, &c->actor, "secrets.seal", "saml log", NULL, count_text) != 0)
        return refused("the bodies were sealed but the audit record could not be written");
    if (rc != 0)
        return refused("cannot read or update the SAML log (the bodies sealed so far stay sealed)");
    printf("%lld SAML log bodies sealed; none is left in clear.\n", n);
    return 0;
}

static int
cmd_secrets(struct ctl *c, int argc, char **argv)
{
    int token = strcmp(c->app.conf.secrets_provider, "pkcs11") == 0;
    if (argc == 2 && strcmp(argv[0], "seal") == 0)
        return cmd_secrets_seal(c, argv[1]);
    if (argc == 1 && strcmp(argv[0], "seal-sp-key") == 0)
        return cmd_secrets_seal_sp_key(c);
    if (argc == 1 && strcmp(argv[0], "seal-saml-log") == 0)
        return cmd_secrets_seal_saml_log(c);
    if (argc == 3 && strcmp(argv[0], "migrate") == 0 && strcmp(argv[1], "--to") == 0 &&
        strcmp(argv[2], "pkcs11") == 0)
        return cmd_secrets_migrate(c);
    if (token && argc == 3 && strcmp(argv[0], "rotate") == 0 && strcmp(argv[1], "--key-label") == 0)
        return cmd_secrets_rotate_token(c, argv[2]);
    if (token && argc == 1 && strcmp(argv[0], "rotate") == 0)
        return refused("with provider = pkcs11, name the token's new key: "
                       "secrets rotate --key-label LABEL");
    if (argc != 1 || strcmp(argv[0], "rotate") != 0)
        return usage();
    char err[1200], fp[17];
    if (secrets_rotate(c->store, c->app.conf.secrets_key_file, fp, err, sizeof err) != 0)
        return refused(err);
    if (audit_record(c->store, &c->actor, "secrets.rotate", "master key", NULL, fp) != 0)
        return refused("the key was rotated but the audit record could not be written");
    printf("master key rotated: %s now holds key %s; the store's data key is re-wrapped under "
           "it. Running servers go on; the old key no longer opens this store.\n",
           c->app.conf.secrets_key_file, fp);
    return 0;
}

static int
cmd_saml(struct ctl *c, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "check") == 0)
        return cmd_saml_check(c, argc, argv);
    return usage();
}

/* ---- roles ---- */

/* The permissions of role add/set: --permissions P,P... and --permission P (repeatable), as
 * one list in buf. 0, or -1 when an argument is not one of them. */
static int
role_perm_args(int argc, char **argv, char *buf, size_t len)
{
    size_t used = 0;
    int given = 0;
    buf[0] = '\0';
    for (int k = 0; k < argc; k++) {
        if ((strcmp(argv[k], "--permissions") != 0 && strcmp(argv[k], "--permission") != 0) ||
            k + 1 >= argc)
            return -1;
        int w = snprintf(buf + used, len - used, "%s%s", used ? "," : "", argv[++k]);
        if (w < 0 || (size_t)w >= len - used)
            return -1;
        used += (size_t)w;
        given = 1;
    }
    return given ? 0 : -1;
}

struct role_list {
    struct ctl *c;
    json_t *arr;
};

static void
print_role(const char *name, unsigned perms, void *ctx)
{
    struct role_list *l = ctx;
    char text[1024];
    if (strcmp(name, "owner") == 0)
        snprintf(text, sizeof text, "*");
    else
        authz_perms_format(perms, text, sizeof text);
    if (l->arr != NULL) {
        json_t *list = json_array();
        const struct authz_perm_def *d = authz_perms();
        for (int i = 0; i < PERM_COUNT; i++)
            if (perms & PERM_BIT(i))
                json_array_append_new(list, json_string(d[i].name));
        json_array_append_new(l->arr, json_pack("{s:s, s:o, s:b}", "name", name, "permissions",
                                                list, "builtin", roles_builtin(name)));
        return;
    }
    printf("%-15s %s%s\n", name, text[0] ? text : "(none)",
           roles_builtin(name) ? "   (built-in)" : "");
}

static int
cmd_role_list(struct ctl *c)
{
    struct role_list l = {c, c->json ? json_array() : NULL};
    if (roles_each(c->app.roles, c->store, print_role, &l) != 0) {
        json_decref(l.arr);
        return refused("cannot read the roles");
    }
    if (l.arr == NULL) {
        printf("permissions:");
        const struct authz_perm_def *d = authz_perms();
        for (int i = 0; i < PERM_COUNT; i++)
            printf(" %s%s", d[i].name, d[i].owner_only ? "(owners only)" : "");
        printf("\n");
        return 0;
    }
    char *out = json_dumps(l.arr, JSON_INDENT(2));
    json_decref(l.arr);
    if (out == NULL)
        return refused("out of memory");
    printf("%s\n", out);
    free(out);
    return 0;
}

/* role add NAME --permissions ... | role set NAME --permissions ... | role remove NAME |
 * role list */
static int
cmd_role(struct ctl *c, int argc, char **argv)
{
    char msg[512] = "", perms[2048];
    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return cmd_role_list(c);
    if (argc == 2 && strcmp(argv[0], "remove") == 0)
        return account_exit(roles_remove(&c->app, c->store, &c->actor, argv[1], msg, sizeof msg),
                            msg);
    if (argc < 2 || (strcmp(argv[0], "add") != 0 && strcmp(argv[0], "set") != 0) ||
        role_perm_args(argc - 2, argv + 2, perms, sizeof perms) != 0)
        return usage();
    enum account_rc rc =
        argv[0][0] == 'a'
            ? roles_add(&c->app, c->store, &c->actor, argv[1], perms, msg, sizeof msg)
            : roles_set(&c->app, c->store, &c->actor, argv[1], perms, msg, sizeof msg);
    return account_exit(rc, msg);
}

/* access check URL [--user E] [--groups a,b] [--mfa]: which [access] rule decides and why. A
 * session's groups and second factor are not known here: --groups and --mfa state them. */
static int
cmd_access(struct ctl *c, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], "check") != 0)
        return usage();
    const char *url = argv[1], *email = NULL, *groups = "";
    int mfa = 0;
    for (int k = 2; k < argc; k++) {
        if (strcmp(argv[k], "--user") == 0 && k + 1 < argc)
            email = argv[++k];
        else if (strcmp(argv[k], "--groups") == 0 && k + 1 < argc)
            groups = argv[++k];
        else if (strcmp(argv[k], "--mfa") == 0)
            mfa = 1;
        else
            return usage();
    }
    struct str_url u;
    char path[ACCESS_PATH_MAX], lines[1024];
    if (str_url_split(url, &u) != 0 ||
        access_path_normalize(u.rest[0] == '/' ? u.rest : "/", path, sizeof path) != 0)
        return refused("the URL must be absolute: http(s)://HOST[:PORT]/PATH");
    snprintf(lines, sizeof lines, "%s", groups);
    for (char *p = lines; *p; p++)
        if (*p == ',')
            *p = '\n';
    struct user user;
    memset(&user, 0, sizeof user);
    if (email != NULL) {
        struct arena *ar = arena_new();
        char *norm = ar ? str_email_normalize(ar, email) : NULL;
        int found = norm ? store_user_by_email(c->store, norm, &user) : 1;
        arena_free(ar);
        if (found != 0)
            return refused("no such user");
    }
    struct access_subject s = {email != NULL && strcmp(user.status, "active") == 0, user.role,
                               lines, user.auth_method[0] == 's' ? user.idp : "", mfa};
    struct access_decision d;
    struct app_live *l = app_live_acquire(&c->app);
    access_decide(l->rules, u.host, path, &s, &d);
    app_live_release(&c->app, l);
    static const char *const verdicts[] = {"allow", "sign-in", "deny"};
    printf("%s %s%s: %s\n%s\n", url, email ? "for " : "(not signed in)", email ? email : "",
           verdicts[d.verdict], d.why);
    if (email != NULL && !s.signed_in)
        printf("note: the account is disabled, so it cannot sign in\n");
    return 0;
}

/* config reload: SIGHUP to the server whose pid [server] pid_file holds, after this program
 * has read the file (so a bad rule is refused here with FILE:LINE, and the server keeps its
 * rules). */
static int
cmd_config(struct ctl *c, int argc, char **argv)
{
    if (argc != 1 || strcmp(argv[0], "reload") != 0)
        return usage();
    const char *pf = c->app.conf.pid_file;
    if (pf[0] == '\0')
        return refused("[server] pid_file is not set: set it so that this command can find the "
                       "server (or send the server SIGHUP yourself)");
    FILE *f = fopen(pf, "r");
    char buf[32] = "", comm[64] = "", proc[64];
    if (f == NULL || fgets(buf, sizeof buf, f) == NULL) {
        if (f != NULL)
            fclose(f);
        fprintf(stderr, "gatehousectl: %s: cannot read: %s (is the server running?)\n", pf,
                strerror(errno));
        return 1;
    }
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
    const char *e;
    long long pid = str_to_num(buf, 2, 4194304, &e);
    if (e != NULL)
        return refused("the pid file does not hold a process id");
    /* A stale file may name a process id reused by another program. */
    snprintf(proc, sizeof proc, "/proc/%lld/comm", pid);
    f = fopen(proc, "r");
    if (f != NULL) {
        if (fgets(comm, sizeof comm, f) == NULL)
            comm[0] = '\0';
        fclose(f);
    }
    comm[strcspn(comm, "\n")] = '\0';
    if (strcmp(comm, "gatehouse") != 0 || kill((pid_t)pid, SIGHUP) != 0) {
        fprintf(stderr, "gatehousectl: no gatehouse process %lld (from %s) to signal\n", pid, pf);
        return 1;
    }
    printf("configuration checked; gatehouse (pid %lld) told to reload its configuration (keys "
           "read at start only keep their value: see its log)\n",
           pid);
    return 0;
}

/* ---- store migrate ---- */

static int
print_copied(const struct store_copy_table *t, void *ctx)
{
    (void)ctx;
    printf("  %-22s %8lld rows  sha256 %.16s...  same in the target\n", t->name, t->rows,
           t->sha256);
    return 0;
}

/* store migrate --from sqlite:PATH --to postgres:CONNINFO: every table of a SQLite store into
 * an empty PostgreSQL database, verified by row counts and checksums. The wrapped data key moves
 * with the rows: the same master key (or token) opens it on the other side. */
static int
cmd_store(const char *conf_path, int argc, char **argv)
{
    const char *from = NULL, *to = NULL;
    if (argc < 1 || strcmp(argv[0], "migrate") != 0)
        return usage();
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--from") == 0 && k + 1 < argc)
            from = argv[++k];
        else if (strcmp(argv[k], "--to") == 0 && k + 1 < argc)
            to = argv[++k];
        else
            return usage();
    }
    if (from == NULL || to == NULL)
        return usage();
    if (strncmp(from, "sqlite:", 7) != 0 || from[7] == '\0')
        return refused("--from must be sqlite:PATH (the SQLite store to move)");
    if (strncmp(to, "postgres:", 9) != 0 || to[9] == '\0')
        return refused("--to must be postgres:CONNINFO (an empty PostgreSQL database)");
    /* Opening a SQLite path creates it: a typo must not migrate an empty new store. */
    if (access(from + 7, R_OK | W_OK) != 0) {
        fprintf(stderr, "gatehousectl: %s: cannot open: %s\n", from + 7, strerror(errno));
        return 1;
    }
    char err[1024];
    struct store *src = store_open(from, err, sizeof err);
    if (src == NULL) {
        fprintf(stderr, "gatehousectl: %s: %s\n", from + 7, err);
        return 1;
    }
    struct store *dst = store_open(to, err, sizeof err);
    if (dst == NULL) {
        store_close(src);
        fprintf(stderr, "gatehousectl: the PostgreSQL store cannot be opened: %s\n", err);
        return 1;
    }
    printf("copying %s into PostgreSQL (schema version %d):\n", from + 7,
           store_schema_version(src));
    int rc = store_copy(src, dst, print_copied, NULL, err, sizeof err);
    store_close(dst);
    store_close(src);
    store_shutdown();
    if (rc != 0) {
        fprintf(stderr, "gatehousectl: %s%s\n", err,
                rc == 1 ? " (refused: migrate into a new, empty database)"
                        : "; nothing was committed to the target");
        return 1;
    }
    printf("done: every row copied, counts and checksums agree.\n"
           "next, in %s (and on every node):\n"
           "  [store]\n  driver = postgres\n  conninfo = %s\n"
           "keep [secrets] as it is (the same master key file or token on every node: the data "
           "key moved wrapped under it) and the same [sp] key and certificate files; then "
           "restart. Writes the SQLite store takes from now on are not moved: stop the server "
           "before migrating, or migrate again into a fresh database.\n",
           conf_path, to + 9);
    return 0;
}

int
main(int argc, char **argv)
{
    const char *conf_path = DEFAULT_CONF;
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
        conf_path = argv[i + 1];
        i += 2;
    }
    if (i >= argc || strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
        return usage();
    /* Before the configured store is opened: this command names its two stores itself. */
    if (strcmp(argv[i], "store") == 0)
        return cmd_store(conf_path, argc - i - 1, argv + i + 1);
    static struct ctl c;
    char err[1024];
    log_set_level(LOG_LEVEL_WARN);
    if (sp_global_init(err, sizeof err) != 0) {
        fprintf(stderr, "gatehousectl: %s\n", err);
        return 1;
    }
    if (app_init(&c.app, conf_path, APP_STORE, err, sizeof err) != 0) {
        fprintf(stderr, "gatehousectl: %s\n", err);
        app_free(&c.app);
        return 1;
    }
    log_set_level(LOG_LEVEL_WARN);
    c.store = app_store(&c.app);
    struct passwd *pw = getpwuid(geteuid());
    snprintf(c.actor_name, sizeof c.actor_name, "cli:%s", pw ? pw->pw_name : "unknown");
    c.actor = (struct actor){c.actor_name, "cli", "local", 0};

    const char *cmd = argv[i];
    int sub_argc = take_json(&c, argc - i - 1, argv + i + 1);
    char **sub_argv = argv + i + 1;
    int rc;
    if (strcmp(cmd, "user") == 0)
        rc = cmd_user(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "policy") == 0)
        rc = cmd_policy(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "password-login") == 0)
        rc = cmd_password_login(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "audit") == 0)
        rc = cmd_audit(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "idp") == 0)
        rc = cmd_idp(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "federation") == 0)
        rc = cmd_federation(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "role") == 0)
        rc = cmd_role(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "saml") == 0)
        rc = cmd_saml(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "secrets") == 0)
        rc = cmd_secrets(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "saml-log") == 0)
        rc = cmd_saml_log(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "access") == 0)
        rc = cmd_access(&c, sub_argc, sub_argv);
    else if (strcmp(cmd, "config") == 0)
        rc = cmd_config(&c, sub_argc, sub_argv);
    else
        rc = usage();
    app_free(&c.app);
    return rc;
}
