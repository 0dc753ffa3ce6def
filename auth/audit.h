/* auth/audit.h: who did what, to whom, from where. Every change made through the CLI, admin
 * pages or API calls audit_record; the store keeps the log append-only. */
#ifndef GH_AUTH_AUDIT_H
#define GH_AUTH_AUDIT_H

struct store;

struct actor {
    const char *name; /* "user:EMAIL", "cli:UNIXUSER", "system" */
    const char *role; /* owner | admin | member | a custom role | cli | system */
    const char *client_addr;
    unsigned perms; /* what a stored role other than owner holds (auth/authz.h); 0 = nothing */
};

/* Appends one row at the current time. Values may be NULL (stored as ""). 0 or -1. */
int audit_record(struct store *s, const struct actor *who, const char *action, const char *target,
                 const char *old_value, const char *new_value);

#endif
