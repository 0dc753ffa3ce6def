/* auth/storage.h: how much room the store has left: the free space of the disk under it and its
 * own size (database + WAL), against [store] min_free_mb and max_size_mb. When room runs low the
 * SAML log keeps counting rows but drops their bodies. */
#ifndef GH_AUTH_STORAGE_H
#define GH_AUTH_STORAGE_H

struct conf;

struct storage_room {
    long long free_bytes; /* for unprivileged writers on the store's file system; -1 unknown */
    long long size_bytes; /* database + WAL */
    int low;              /* below min_free_mb or at max_size_mb */
};

/* Measures the room of conf's store (statvfs and stat: a few microseconds). Unknown figures
 * count as enough room. */
void storage_room(const struct conf *c, struct storage_room *out);

#endif
