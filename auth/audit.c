#include "audit.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "store.h"

int
audit_record(struct store *s, const struct actor *who, const char *action, const char *target,
             const char *old_value, const char *new_value)
{
    struct audit_row r;
    memset(&r, 0, sizeof r);
    r.at = clock_now();
    snprintf(r.actor, sizeof r.actor, "%s", who->name ? who->name : "system");
    snprintf(r.actor_role, sizeof r.actor_role, "%s", who->role ? who->role : "system");
    snprintf(r.action, sizeof r.action, "%s", action);
    snprintf(r.target, sizeof r.target, "%s", target ? target : "");
    snprintf(r.old_value, sizeof r.old_value, "%s", old_value ? old_value : "");
    snprintf(r.new_value, sizeof r.new_value, "%s", new_value ? new_value : "");
    snprintf(r.client_addr, sizeof r.client_addr, "%s", who->client_addr ? who->client_addr : "");
    if (store_audit_append(s, &r) != 0) {
        log_error("audit append failed action=%s", action);
        return -1;
    }
    return 0;
}
