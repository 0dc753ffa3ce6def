#include "storage.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "conf.h"
#include "store.h"

#define MIB (1024LL * 1024LL)

static long long
file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

void
storage_room(const struct conf *c, struct storage_room *out)
{
    if (strcmp(c->store_driver, "postgres") == 0) {
        /* PostgreSQL's disk is not ours to measure: no ceiling, no free-space floor here. */
        out->free_bytes = -1;
        out->size_bytes = 0;
        out->low = 0;
        return;
    }
    char dir[CONF_PATH_MAX], wal[CONF_PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s", c->store_path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    struct statvfs vfs;
    out->free_bytes =
        statvfs(dir, &vfs) == 0 ? (long long)vfs.f_bavail * (long long)vfs.f_frsize : -1;
    snprintf(wal, sizeof wal, "%s-wal", c->store_path);
    out->size_bytes = file_size(c->store_path) + file_size(wal);
    out->low = (out->free_bytes >= 0 && out->free_bytes < c->store_min_free_mb * MIB) ||
               (c->store_max_size_mb > 0 && out->size_bytes >= c->store_max_size_mb * MIB);
}

int
storage_writable(const struct conf *c, struct store *s, long long now, char *why, size_t whylen)
{
    struct storage_room room;
    storage_room(c, &room);
    if (room.free_bytes >= 0 && room.free_bytes < STORAGE_WRITE_RESERVE) {
        snprintf(why, whylen, "the disk under the store is full (%lld KiB free)",
                 room.free_bytes / 1024);
        return 0;
    }
    if (store_probe_write(s, (time_t)now) == 0)
        return 1;
    if (!store_writes_failing(why, whylen))
        snprintf(why, whylen, "the store refused a write");
    return 0;
}
