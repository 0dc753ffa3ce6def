/* tests/fuzz/fuzz_return_to.c: str_safe_return_to, the check on every return_to and RelayState
 * Gatehouse redirects to. Besides not crashing, an accepted target must be a same-origin path as a
 * browser resolves it (WHATWG URL: tab, CR and LF are removed anywhere; "\" is "/" in http(s)
 * URLs; "//" starts an authority): one leading "/", then no "/" or "\" right after, no control
 * characters, spaces, backslashes or non-ASCII, at most 1024 bytes. Checked here byte by byte,
 * independently of the code under test. */
#include <stdlib.h>
#include <string.h>

#include "auth/log.h"
#include "auth/str.h"
#include "fuzz.h"

static int
same_origin_path(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 1025 || s[0] != '/')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '\\')
            return 0;
    }
    /* after the browser's removals (none are left) the second character must not make "//" */
    return n == 1 || s[1] != '/';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_LEVEL_ERROR);
    char *s = fuzz_strndup(data, size);
    int ok = str_safe_return_to(s);
    if (ok && !same_origin_path(s))
        fuzz_fail("str_safe_return_to accepted a target a browser may take off-site: \"%s\"", s);
    /* Every byte of an accepted target is printable ASCII: a redirect with it cannot split the
     * Location header. */
    if (ok && strpbrk(s, "\r\n") != NULL)
        fuzz_fail("accepted a target with CR/LF");
    free(s);
    return 0;
}
