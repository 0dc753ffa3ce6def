/* tests/fuzz/fuzz_conf.c: the configuration file reader (auth/conf.c on libinih) on any bytes.
 * The input is the whole file (in a memfd, read through /proc/self/fd like any path). A refusal
 * must name the file and a line ("PATH:LINE: ..."), never crash; an accepted file must leave the
 * struct's strings terminated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "auth/conf.h"
#include "auth/log.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    log_set_level(LOG_LEVEL_ERROR);
    if (fd < 0) {
        fd = memfd_create("gatehouse.conf", 0);
        if (fd < 0)
            fuzz_fail("memfd_create failed");
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        fuzz_fail("cannot write the memfd");
    struct conf *c = calloc(1, sizeof *c);
    if (c == NULL)
        fuzz_fail("out of memory");
    conf_defaults(c);
    char err[1024] = "";
    int rc = conf_load(c, path, err, sizeof err);
    if (rc != 0 && (strncmp(err, path, strlen(path)) != 0 || err[strlen(path)] != ':'))
        fuzz_fail("a refusal that does not name the file: \"%s\"", err);
    if (rc == 0 && (memchr(c->listen_host, '\0', sizeof c->listen_host) == NULL ||
                    memchr(c->base_url, '\0', sizeof c->base_url) == NULL ||
                    memchr(c->store_path, '\0', sizeof c->store_path) == NULL ||
                    memchr(c->sp_entity_id, '\0', sizeof c->sp_entity_id) == NULL))
        fuzz_fail("an accepted file left a setting unterminated");
    free(c);
    return 0;
}
