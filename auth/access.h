/* auth/access.h: the forward-auth access rules ([access] in the configuration) and the pure
 * matcher that GET /auth/verify and `gatehousectl access check` share. No I/O, no clock, no
 * store: the caller loads the session and hands its facts over as struct access_subject. */
#ifndef GH_AUTH_ACCESS_H
#define GH_AUTH_ACCESS_H

#include <stddef.h>

#define ACCESS_MAX_RULES 1000
#define ACCESS_RULE_MAX 2048 /* bytes of one rule's text */
#define ACCESS_PATH_MAX 2048

/* Policies of a rule (flags). Conditions (signed_in, roles, groups, idp, mfa) must all hold. */
enum access_flag {
    ACCESS_BYPASS = 1u << 0,    /* no sign-in needed */
    ACCESS_DENY = 1u << 1,      /* nobody */
    ACCESS_SIGNED_IN = 1u << 2, /* any signed-in person (implied by the conditions below) */
    ACCESS_ROLES = 1u << 3,     /* the person's role is one of roles */
    ACCESS_GROUPS = 1u << 4,    /* one of the person's IdP groups (or role) is one of groups */
    ACCESS_IDP = 1u << 5,       /* signed in through this IdP */
    ACCESS_MFA = 1u << 6,       /* a second factor in this session (TOTP, or the IdP's MFA) */
};

struct access_rule {
    int line;    /* in the configuration file: explanations name it */
    char *text;  /* the rule as written (trimmed) */
    char *host;  /* lower case: exact, "*.suffix" (names under suffix) or "*" (any) */
    char *path;  /* prefix, matched at a segment boundary ("/app" covers "/app/x", not "/apps") */
    char *roles; /* comma-separated, when ACCESS_ROLES */
    char *groups;
    char *idp;
    unsigned flags;
};

struct access_rules {
    int default_deny; /* [access] default = deny (else signed_in) */
    struct access_rule *rule;
    size_t n, cap;
};

/* An empty rule set (default signed_in); NULL when out of memory. Free with access_rules_free. */
struct access_rules *access_rules_new(void);
void access_rules_free(struct access_rules *rs);

/* Parses "HOST PATH POLICY..." and appends it with its line. 0, or -1 with a message. */
int access_rules_add(struct access_rules *rs, const char *text, int line, char *msg, size_t len);
/* [access] default: "deny" or "signed_in". 0 or -1 with a message. */
int access_set_default(struct access_rules *rs, const char *v, char *msg, size_t len);

/* What the caller knows of the person (signed_in 0: the other fields are ignored). */
struct access_subject {
    int signed_in;
    const char *role;
    const char *groups; /* IdP groups, newline-separated; "" none */
    const char *idp;    /* "" for password users */
    int mfa;
};

enum access_verdict {
    ACCESS_ALLOW,   /* 200 */
    ACCESS_SIGN_IN, /* not signed in: to the sign-in page */
    ACCESS_FORBID,  /* 403 */
};

struct access_decision {
    enum access_verdict verdict;
    const struct access_rule *rule; /* the deciding rule; NULL: the default */
    int bypass;                     /* allowed without looking at the person */
    char why[512];                  /* one sentence for people (gatehousectl access check, logs) */
};

/* The first rule matching host (lower case, no port) and a normalised path; NULL when none. */
const struct access_rule *access_match(const struct access_rules *rs, const char *host,
                                       const char *path);
/* The decision for subject on host and path (normalised). */
void access_decide(const struct access_rules *rs, const char *host, const char *path,
                   const struct access_subject *s, struct access_decision *out);

/* The path of a request target as a proxy routes it, into out: query and fragment cut, %XX
 * decoded, dot segments resolved, repeated slashes merged. -1 when in is not a path ('/' first)
 * or decodes to a NUL or control character, or out is too small. */
int access_path_normalize(const char *in, char *out, size_t len);

#endif
