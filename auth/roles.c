#include "roles.h"

#include <stdlib.h>
#include <string.h>

#include "authz.h"

struct roles_cache {
    int unused;
};

struct roles_cache *
roles_cache_new(void)
{
    return calloc(1, sizeof(struct roles_cache));
}

void
roles_cache_free(struct roles_cache *c)
{
    free(c);
}

int
roles_perms(struct roles_cache *c, struct store *s, const char *role, unsigned *perms)
{
    (void)c;
    (void)s;
    *perms = 0;
    if (authz_is_all_powerful(role))
        *perms = PERM_ALL;
    else if (role != NULL && strcmp(role, "admin") == 0)
        *perms = PERM_ADMIN_DEFAULT;
    return 0;
}

int
roles_each(struct roles_cache *c, struct store *s,
           void (*cb)(const char *name, unsigned perms, void *ctx), void *ctx)
{
    static const char *const builtin[] = {"owner", "admin", "member"};
    for (size_t i = 0; i < 3; i++) {
        unsigned p = 0;
        roles_perms(c, s, builtin[i], &p);
        cb(builtin[i], p, ctx);
    }
    return 0;
}

int
roles_builtin(const char *name)
{
    return name != NULL && (strcmp(name, "owner") == 0 || strcmp(name, "admin") == 0 ||
                            strcmp(name, "member") == 0);
}

int
roles_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n >= ROLE_NAME_MAX || name[0] < 'a' || name[0] > 'z')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '.' || name[i] == '_' || name[i] == '-'))
            return 0;
    return 1;
}
