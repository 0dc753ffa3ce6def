/* tests/fuzz/sp_harness.c: see sp_harness.h. */
#include "sp_harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "auth/log.h"
#include "fuzz.h"

static struct sp *the_sp;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char key_dir[4096];

/* A private 0600 copy of a key fixture: git does not keep file modes, and a key readable by
 * others may be refused. */
static const char *
private_copy(const char *name)
{
    static char path[2][4200];
    static int which;
    size_t len = 0;
    char *text = fuzz_read_fixture(name, &len);
    char *out = path[which++ % 2];
    snprintf(out, sizeof path[0], "%s/%s", key_dir, name);
    FILE *f = fopen(out, "wb");
    if (f == NULL || fchmod(fileno(f), 0600) != 0 || fwrite(text, 1, len, f) != len ||
        fclose(f) != 0)
        fuzz_fail("cannot write %s: %s", out, strerror(errno));
    free(text);
    return out;
}

static void
cleanup(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/sp-key.pem", key_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/sp-cert.pem", key_dir);
    unlink(path);
    rmdir(key_dir);
}

static void
build(void)
{
    char err[512];
    log_set_level(LOG_LEVEL_ERROR);
    if (sp_global_init(err, sizeof err) != 0)
        fuzz_fail("sp_global_init: %s", err);
    const char *tmp = getenv("TMPDIR");
    snprintf(key_dir, sizeof key_dir, "%s/gh-fuzz-sp-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(key_dir) == NULL)
        fuzz_fail("mkdtemp: %s", strerror(errno));
    atexit(cleanup);
    char key[4200], cert[4200];
    snprintf(key, sizeof key, "%s", private_copy("sp-key.pem"));
    snprintf(cert, sizeof cert, "%s", private_copy("sp-cert.pem"));
    char *sp_md = fuzz_read_fixture("sp-metadata.xml", NULL);
    char *idp_md = fuzz_read_fixture("idp-metadata.xml", NULL);
    the_sp = sp_new(sp_md, key, cert, err, sizeof err);
    if (the_sp == NULL || sp_add_idp(the_sp, idp_md, err, sizeof err) != 0)
        fuzz_fail("the fixed SP does not load: %s", err);
    free(sp_md);
    free(idp_md);
}

const struct sp *
fuzz_sp(void)
{
    pthread_once(&once, build);
    return the_sp;
}

char *
fuzz_base64(const unsigned char *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out == NULL)
        fuzz_fail("out of memory");
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return out;
}
