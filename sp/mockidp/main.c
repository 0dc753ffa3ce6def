/* sp/mockidp/main.c: bin/mock-idp's command line: argv, then wiring (serve, mint, metadata). */
#include "mi.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp/sp.h"

#define DEFAULT_LISTEN "127.0.0.1:7000"
#define DEFAULT_STATE_DIR "var/mock-idp"
#define DEFAULT_LIFETIME 300
#define MAX_LIFETIME (366L * 86400)
#define MAX_COUNT 1000000

static const char USAGE[] =
    "usage: mock-idp serve --sp-metadata FILE [--listen HOST:PORT] [--base-url URL]\n"
    "                      [--users FILE] [--auto-login EMAIL] [OPTIONS] [FAULTS]\n"
    "       mock-idp mint --sp-metadata FILE --user EMAIL [OPTIONS] [FAULTS]\n"
    "       mock-idp metadata [--base-url URL] [--entity-id URI] [--state-dir DIR]\n"
    "serve and metadata: --post-only (only HTTP-POST SSO and SLO endpoints, logout by POST)\n"
    "options: --base-url URL (default http://" DEFAULT_LISTEN ") --entity-id URI\n"
    "         --state-dir DIR (default " DEFAULT_STATE_DIR ") --key FILE --cert FILE\n"
    "         --users FILE --profile okta|adfs|entra|google|shibboleth|plain\n"
    "         --attr NAME=VALUE --name-id VALUE --name-id-format URI --in-response-to ID\n"
    "         --session-index ID --authn-context URI --acs-url URL\n"
    "         --sign assertion|response|both|none --encrypt\n"
    "         --sig-alg rsa-sha1|rsa-sha256|rsa-sha512 --lifetime SECONDS\n"
    "faults:  --expired --not-yet-valid --audience URI --recipient URL --destination URL\n"
    "         --issuer URI --status Requester|Responder|AuthnFailed --wrong-key\n"
    "         --tamper-after-sign --unsigned --replay-id ID\n"
    "mint only: --count N (N responses, one per line, each with its own IDs)\n";

struct cli {
    const char *command;
    const char *listen, *base_url, *entity_id, *state_dir, *key, *cert;
    const char *sp_metadata, *users, *auto_login, *user;
    struct mi_attrs attrs;
    struct mi_mint mint;
    long count; /* mint: how many responses, one per line */
    int post_only;
};

enum {
    OPT_LISTEN = 256,
    OPT_BASE_URL,
    OPT_ENTITY_ID,
    OPT_STATE_DIR,
    OPT_KEY,
    OPT_CERT,
    OPT_SP_METADATA,
    OPT_USERS,
    OPT_AUTO_LOGIN,
    OPT_USER,
    OPT_PROFILE,
    OPT_ATTR,
    OPT_NAME_ID,
    OPT_NAME_ID_FORMAT,
    OPT_IN_RESPONSE_TO,
    OPT_SESSION_INDEX,
    OPT_AUTHN_CONTEXT,
    OPT_ACS_URL,
    OPT_SIGN,
    OPT_ENCRYPT,
    OPT_SIG_ALG,
    OPT_LIFETIME,
    OPT_EXPIRED,
    OPT_NOT_YET_VALID,
    OPT_AUDIENCE,
    OPT_RECIPIENT,
    OPT_DESTINATION,
    OPT_ISSUER,
    OPT_STATUS,
    OPT_WRONG_KEY,
    OPT_TAMPER,
    OPT_UNSIGNED,
    OPT_REPLAY_ID,
    OPT_COUNT,
    OPT_POST_ONLY,
    OPT_HELP
};

static const struct option OPTIONS[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"base-url", required_argument, NULL, OPT_BASE_URL},
    {"entity-id", required_argument, NULL, OPT_ENTITY_ID},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"key", required_argument, NULL, OPT_KEY},
    {"cert", required_argument, NULL, OPT_CERT},
    {"sp-metadata", required_argument, NULL, OPT_SP_METADATA},
    {"users", required_argument, NULL, OPT_USERS},
    {"auto-login", required_argument, NULL, OPT_AUTO_LOGIN},
    {"user", required_argument, NULL, OPT_USER},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"attr", required_argument, NULL, OPT_ATTR},
    {"name-id", required_argument, NULL, OPT_NAME_ID},
    {"name-id-format", required_argument, NULL, OPT_NAME_ID_FORMAT},
    {"in-response-to", required_argument, NULL, OPT_IN_RESPONSE_TO},
    {"session-index", required_argument, NULL, OPT_SESSION_INDEX},
    {"authn-context", required_argument, NULL, OPT_AUTHN_CONTEXT},
    {"acs-url", required_argument, NULL, OPT_ACS_URL},
    {"sign", required_argument, NULL, OPT_SIGN},
    {"encrypt", no_argument, NULL, OPT_ENCRYPT},
    {"sig-alg", required_argument, NULL, OPT_SIG_ALG},
    {"lifetime", required_argument, NULL, OPT_LIFETIME},
    {"expired", no_argument, NULL, OPT_EXPIRED},
    {"not-yet-valid", no_argument, NULL, OPT_NOT_YET_VALID},
    {"audience", required_argument, NULL, OPT_AUDIENCE},
    {"recipient", required_argument, NULL, OPT_RECIPIENT},
    {"destination", required_argument, NULL, OPT_DESTINATION},
    {"issuer", required_argument, NULL, OPT_ISSUER},
    {"status", required_argument, NULL, OPT_STATUS},
    {"wrong-key", no_argument, NULL, OPT_WRONG_KEY},
    {"tamper-after-sign", no_argument, NULL, OPT_TAMPER},
    {"unsigned", no_argument, NULL, OPT_UNSIGNED},
    {"replay-id", required_argument, NULL, OPT_REPLAY_ID},
    {"count", required_argument, NULL, OPT_COUNT},
    {"post-only", no_argument, NULL, OPT_POST_ONLY},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A message and the usage on stderr; 2, the exit code for a usage error. */
static int
usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mock-idp: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n%s", USAGE);
    va_end(ap);
    return 2;
}

static int
pick(const char *arg, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(arg, names[i]) == 0)
            return i;
    return -1;
}

/* The options that shape a response. 0, 1 when not one of them, 2 on a bad value. */
static int
response_option(struct cli *c, int opt, char *arg)
{
    static const char *const signs[] = {"assertion", "response", "both", "none"};
    static const char *const algs[] = {"rsa-sha256", "rsa-sha1", "rsa-sha512"};
    struct mi_mint *m = &c->mint;
    int i;
    char *end = NULL, *eq;
    switch (opt) {
    case OPT_PROFILE:
        m->profile = mi_profile_find(arg);
        return m->profile ? 0 : usage_error("--profile must be one of %s", mi_profile_names());
    case OPT_ATTR:
        eq = strchr(arg, '=');
        if (eq == NULL || eq == arg)
            return usage_error("--attr %s: write NAME=VALUE", arg);
        *eq = '\0';
        return mi_attrs_add(&c->attrs, arg, eq + 1) == 0 ? 0 : usage_error("too many %s", "--attr");
    case OPT_NAME_ID:
        m->name_id = arg;
        return 0;
    case OPT_NAME_ID_FORMAT:
        m->name_id_format = arg;
        return 0;
    case OPT_IN_RESPONSE_TO:
        m->in_response_to = arg;
        return 0;
    case OPT_SESSION_INDEX:
        m->session_index = arg;
        return 0;
    case OPT_AUTHN_CONTEXT:
        m->authn_context = arg;
        return 0;
    case OPT_ACS_URL:
        m->acs_url = arg;
        return 0;
    case OPT_SIGN:
        i = pick(arg, signs, 4);
        m->sign = (enum mi_sign)i;
        return i >= 0 ? 0 : usage_error("--sign %s: assertion, response, both or none", arg);
    case OPT_ENCRYPT:
        m->encrypt = 1;
        return 0;
    case OPT_SIG_ALG:
        i = pick(arg, algs, 3);
        m->alg = (enum mi_alg)i;
        return i >= 0 ? 0 : usage_error("--sig-alg %s: rsa-sha1, rsa-sha256 or rsa-sha512", arg);
    case OPT_LIFETIME:
        errno = 0;
        m->lifetime = strtol(arg, &end, 10);
        if (errno || end == arg || *end || m->lifetime < 1 || m->lifetime > MAX_LIFETIME)
            return usage_error("--lifetime %s: seconds, 1 to 31622400", arg);
        return 0;
    }
    return 1;
}

/* The deliberate faults. 0, 1 when not one of them, 2 on a bad value. */
static int
fault_option(struct cli *c, int opt, const char *arg)
{
    struct mi_faults *f = &c->mint.faults;
    switch (opt) {
    case OPT_EXPIRED:
        f->expired = 1;
        return 0;
    case OPT_NOT_YET_VALID:
        f->not_yet_valid = 1;
        return 0;
    case OPT_AUDIENCE:
        f->audience = arg;
        return 0;
    case OPT_RECIPIENT:
        f->recipient = arg;
        return 0;
    case OPT_DESTINATION:
        f->destination = arg;
        return 0;
    case OPT_ISSUER:
        f->issuer = arg;
        return 0;
    case OPT_STATUS:
        return mi_status_parse(arg, &f->status) == 0
                   ? 0
                   : usage_error("--status %s: Requester, Responder or AuthnFailed", arg);
    case OPT_WRONG_KEY:
        f->wrong_key = 1;
        return 0;
    case OPT_TAMPER:
        f->tamper_after_sign = 1;
        return 0;
    case OPT_UNSIGNED:
        f->unsigned_ = 1;
        return 0;
    case OPT_REPLAY_ID:
        f->replay_id = arg;
        return 0;
    }
    return 1;
}

/* Where things are. 0, 1 when not one of them. */
static int
place_option(struct cli *c, int opt, const char *arg)
{
    const char **slots[] = {
        [OPT_LISTEN - OPT_LISTEN] = &c->listen,
        [OPT_BASE_URL - OPT_LISTEN] = &c->base_url,
        [OPT_ENTITY_ID - OPT_LISTEN] = &c->entity_id,
        [OPT_STATE_DIR - OPT_LISTEN] = &c->state_dir,
        [OPT_KEY - OPT_LISTEN] = &c->key,
        [OPT_CERT - OPT_LISTEN] = &c->cert,
        [OPT_SP_METADATA - OPT_LISTEN] = &c->sp_metadata,
        [OPT_USERS - OPT_LISTEN] = &c->users,
        [OPT_AUTO_LOGIN - OPT_LISTEN] = &c->auto_login,
        [OPT_USER - OPT_LISTEN] = &c->user,
    };
    if (opt < OPT_LISTEN || opt > OPT_USER)
        return 1;
    *slots[opt - OPT_LISTEN] = arg;
    return 0;
}

static int
parse(struct cli *c, int argc, char **argv)
{
    memset(c, 0, sizeof *c);
    c->listen = DEFAULT_LISTEN;
    c->state_dir = DEFAULT_STATE_DIR;
    c->mint.profile = mi_profile_find("plain");
    c->mint.lifetime = DEFAULT_LIFETIME;
    c->mint.extra = &c->attrs;
    c->count = 1;
    if (argc < 2)
        return usage_error("%s", "a command is needed");
    c->command = argv[1];
    int opt;
    optind = 2;
    while ((opt = getopt_long(argc, argv, "", OPTIONS, NULL)) != -1) {
        if (opt == OPT_HELP) {
            fputs(USAGE, stdout);
            exit(0);
        }
        if (opt == OPT_POST_ONLY) {
            c->post_only = 1;
            continue;
        }
        if (opt == OPT_COUNT) {
            char *end = NULL;
            errno = 0;
            c->count = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || c->count < 1 || c->count > MAX_COUNT)
                return usage_error("--count %s: 1 to %d responses", optarg, MAX_COUNT);
            continue;
        }
        int rc = place_option(c, opt, optarg);
        if (rc == 1)
            rc = response_option(c, opt, optarg);
        if (rc == 1)
            rc = fault_option(c, opt, optarg);
        if (rc != 0)
            return rc == 1 ? usage_error("%s", "unknown option") : rc;
    }
    if (optind < argc)
        return usage_error("unexpected argument %s", argv[optind]);
    return 0;
}

/* "127.0.0.1:7000" -> host, port. */
static int
split_listen(const char *listen, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(listen, ':');
    char *end = NULL;
    if (colon == NULL || (size_t)(colon - listen) >= hostlen)
        return -1;
    snprintf(host, hostlen, "%.*s", (int)(colon - listen), listen);
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p < 1 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

static int
run_mint(struct cli *c, struct mi_idp *idp, struct mi_sp *sp, struct mi_users *users)
{
    char err[512];
    c->mint.user = mi_users_get(users, c->user, 1);
    if (c->mint.user == NULL)
        return usage_error("--user %s: an e-mail address is needed", c->user ? c->user : "");
    /* Each response has its own IDs and SessionIndex (the same instant, for speed). */
    c->mint.now = time(NULL);
    for (long i = 0; i < c->count; i++) {
        char *b64 = NULL;
        struct mi_issued issued;
        if (mi_mint_response(idp, sp, &c->mint, &b64, &issued, err, sizeof err) != 0) {
            fprintf(stderr, "mock-idp: %s\n", err);
            return 1;
        }
        int ok = printf("%s\n", b64) >= 0;
        free(b64);
        if (!ok)
            return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

static int
run_serve(struct cli *c, struct mi_idp *idp, struct mi_sp *sp, struct mi_users *users)
{
    char err[512], host[256];
    struct mi_serve_conf conf = {
        .idp = idp, .sp = sp, .users = users, .auto_login = c->auto_login, .defaults = c->mint};
    if (split_listen(c->listen, host, sizeof host, &conf.port) != 0)
        return usage_error("--listen %s: write HOST:PORT", c->listen);
    conf.host = host;
    if (c->mint.in_response_to || c->mint.acs_url || c->mint.name_id || c->user || c->count != 1)
        return usage_error("%s", "--in-response-to, --acs-url, --name-id, --user and --count are "
                                 "for mint");
    if (mi_serve(&conf, err, sizeof err) != 0) {
        fprintf(stderr, "mock-idp: %s\n", err);
        return 1;
    }
    return 0;
}

static int
run(struct cli *c)
{
    char err[512], base[300];
    struct mi_idp idp;
    struct mi_users users;
    struct mi_sp *sp = NULL;
    int rc = 1;
    snprintf(base, sizeof base, "http://%s", c->listen);
    memset(&users, 0, sizeof users);
    if (mi_idp_init(&idp, c->base_url ? c->base_url : base, c->entity_id, c->state_dir, c->key,
                    c->cert, err, sizeof err) != 0)
        goto fail;
    idp.post_only = c->post_only;
    if (strcmp(c->command, "metadata") == 0) {
        char *xml = mi_metadata_xml(&idp);
        rc = xml ? (fputs(xml, stdout), 0) : 1;
        free(xml);
        goto out;
    }
    if (c->sp_metadata == NULL) {
        rc = usage_error("%s needs --sp-metadata FILE", c->command);
        goto out;
    }
    sp = mi_sp_load(c->sp_metadata, err, sizeof err);
    if (sp == NULL || mi_users_load(&users, c->users, err, sizeof err) != 0)
        goto fail;
    rc = strcmp(c->command, "mint") == 0 ? run_mint(c, &idp, sp, &users)
                                         : run_serve(c, &idp, sp, &users);
    goto out;
fail:
    fprintf(stderr, "mock-idp: %s\n", err);
out:
    mi_users_free(&users);
    mi_sp_free(sp);
    mi_idp_free(&idp);
    return rc;
}

int
main(int argc, char **argv)
{
    struct cli c;
    char err[512];
    int rc = parse(&c, argc, argv);
    if (rc != 0)
        return rc;
    if (strcmp(c.command, "serve") != 0 && strcmp(c.command, "mint") != 0 &&
        strcmp(c.command, "metadata") != 0)
        return usage_error("unknown command %s", c.command);
    if (sp_global_init(err, sizeof err) != 0) {
        fprintf(stderr, "mock-idp: %s\n", err);
        return 1;
    }
    rc = run(&c);
    sp_global_cleanup();
    return rc;
}
