/* auth/fetch.h: HTTP(S) GET of a bounded document (IdP metadata), with libcurl. auth/fetch.c and
 * auth/smtp.c are the only files that include curl. */
#ifndef GH_AUTH_FETCH_H
#define GH_AUTH_FETCH_H

#include <stddef.h>

/* GETs url (http:// or https://; redirects followed at most 3 times and only to https, or to
 * http when the first URL was http). TLS certificates and host names are always verified,
 * against ca_file when it is not empty, else the system's. At most max bytes, at most
 * timeout_seconds in all. Returns the body NUL-terminated (caller frees) with *len, or NULL with
 * a message for the admin in err (HTTP status, TLS failure, too large, timeout). */
char *fetch_url(const char *url, const char *ca_file, size_t max, long timeout_seconds, size_t *len,
                char *err, size_t errlen);

#endif
