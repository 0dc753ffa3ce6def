/* auth/storage.h: how much room the store has left: the free space of the disk under it and its
 * own size (database + WAL), against [store] min_free_mb and max_size_mb. When room runs low the
 * SAML log keeps counting rows but drops their bodies. */
#ifndef GH_AUTH_STORAGE_H
#define GH_AUTH_STORAGE_H

#include <stddef.h>

struct conf;

struct storage_room {
    long long free_bytes; /* for unprivileged writers on the store's file system; -1 unknown */
    long long size_bytes; /* database + WAL */
    int low;              /* below min_free_mb or at max_size_mb */
};

/* Measures the room of conf's store (statvfs and stat: a few microseconds). Unknown figures
 * count as enough room. */
void storage_room(const struct conf *c, struct storage_room *out);

/* Below this much free disk the store counts as full: SQLite may still fit a small write into
 * WAL space that a failed transaction left allocated, but sign-ins would fail one by one. */
#define STORAGE_WRITE_RESERVE (1024LL * 1024LL)

struct store;

/* Whether the store takes writes now: the disk has STORAGE_WRITE_RESERVE free (or its room is
 * unknown) and a probe write commits. 1, or 0 with the reason in why. */
int storage_writable(const struct conf *c, struct store *s, long long now, char *why,
                     size_t whylen);

#endif
