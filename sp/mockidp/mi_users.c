/* sp/mockidp/mi_users.c: the users file (JSON) and users made up from an e-mail address. */
#include "mi.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <jansson.h>

/* A copy owned by the users' string chunk; NULL stays NULL. */
static const char *
keep(struct mi_users *us, const char *s)
{
    return s ? g_string_chunk_insert(us->strings, s) : NULL;
}

static const char *
keep_len(struct mi_users *us, const char *s, size_t len)
{
    return g_string_chunk_insert_len(us->strings, s, (gssize)len);
}

/* "Alice Liddell" -> given "Alice", surname "Liddell" (when the file does not say). */
static void
split_name(struct mi_users *us, struct mi_user *u)
{
    if (u->name == NULL)
        return;
    const char *sp = strrchr(u->name, ' ');
    if (u->given_name == NULL)
        u->given_name = sp ? keep_len(us, u->name, (size_t)(sp - u->name)) : u->name;
    if (u->surname == NULL && sp != NULL)
        u->surname = sp + 1;
}

/* "alice.liddell@example.com" -> "Alice Liddell". */
static const char *
name_from_email(struct mi_users *us, const char *email)
{
    char n[320];
    const char *at = strchr(email, '@');
    snprintf(n, sizeof n, "%.*s", (int)(at ? at - email : (long)strlen(email)), email);
    int start = 1;
    for (char *p = n; *p; p++) {
        if (*p == '.' || *p == '_' || *p == '-') {
            *p = ' ';
            start = 1;
        } else if (start) {
            *p = (char)toupper((unsigned char)*p);
            start = 0;
        }
    }
    return keep(us, n);
}

static int
valid_email(const char *e)
{
    const char *at = e ? strchr(e, '@') : NULL;
    return at != NULL && at != e && at[1] != '\0' && strchr(at + 1, '@') == NULL &&
           strpbrk(e, " <>\"&\r\n") == NULL && strlen(e) < 320;
}

static int
add_values(struct mi_users *us, struct mi_user *u, const char *name, json_t *v)
{
    const char *n = keep(us, name);
    size_t i;
    json_t *item;
    if (json_is_string(v))
        return mi_attrs_add(&u->attrs, n, keep(us, json_string_value(v)));
    if (!json_is_array(v))
        return -1;
    json_array_foreach(v, i, item)
    {
        if (!json_is_string(item) ||
            mi_attrs_add(&u->attrs, n, keep(us, json_string_value(item))) != 0)
            return -1;
    }
    return 0;
}

static int
load_user(struct mi_users *us, struct mi_user *u, json_t *o, char *err, size_t errlen)
{
    const char *email = json_string_value(json_object_get(o, "email"));
    if (!json_is_object(o) || !valid_email(email)) {
        snprintf(err, errlen, "each user needs an \"email\" like user@example.com");
        return -1;
    }
    u->email = keep(us, email);
    u->name = keep(us, json_string_value(json_object_get(o, "name")));
    u->given_name = keep(us, json_string_value(json_object_get(o, "given_name")));
    u->surname = keep(us, json_string_value(json_object_get(o, "surname")));
    if (u->name == NULL)
        u->name = name_from_email(us, email);
    split_name(us, u);
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(o, "groups"), i, g)
    {
        if (json_is_string(g) && u->n_groups < MI_MAX_VALUES)
            u->groups[u->n_groups++] = keep(us, json_string_value(g));
    }
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(o, "attributes"), key, v)
    {
        if (add_values(us, u, key, v) != 0) {
            snprintf(err, errlen,
                     "user %s: attribute \"%.100s\" must be a string or a list of "
                     "strings (at most %d)",
                     email, key, MI_MAX_VALUES);
            return -1;
        }
    }
    return 0;
}

int
mi_users_load(struct mi_users *us, const char *path, char *err, size_t errlen)
{
    memset(us, 0, sizeof *us);
    us->strings = g_string_chunk_new(4096);
    if (path == NULL)
        return 0;
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_array(root)) {
        snprintf(err, errlen, "%s:%d: %s", path, je.line,
                 root ? "the users file must be a JSON list" : je.text);
        json_decref(root);
        return -1;
    }
    size_t i;
    json_t *o;
    int rc = 0;
    json_array_foreach(root, i, o)
    {
        if (us->n == MI_MAX_USERS) {
            snprintf(err, errlen, "%s: more than %d users", path, MI_MAX_USERS);
            rc = -1;
            break;
        }
        if (load_user(us, &us->u[us->n++], o, err, errlen) != 0) {
            rc = -1;
            break;
        }
    }
    json_decref(root);
    return rc;
}

const struct mi_user *
mi_users_get(struct mi_users *us, const char *email, int create)
{
    for (int i = 0; i < us->n; i++)
        if (strcasecmp(us->u[i].email, email) == 0)
            return &us->u[i];
    if (!create || !valid_email(email) || us->n == MI_MAX_USERS)
        return NULL;
    struct mi_user *u = &us->u[us->n++];
    u->email = keep(us, email);
    u->name = name_from_email(us, email);
    split_name(us, u);
    return u;
}

void
mi_users_free(struct mi_users *us)
{
    if (us->strings != NULL)
        g_string_chunk_free(us->strings);
    memset(us, 0, sizeof *us);
}
