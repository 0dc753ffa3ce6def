/* tests/fuzz/fuzz_base64.c: the base64 decoder that liblasso and libxmlsec1 call for every
 * SAMLResponse (Gatehouse's xmlSecBase64Decode_ex in sp/sp.c, with its table-driven fast path).
 * Differential: for any input and output size it must give xmlsec's own decoder's answer (same
 * return code; on success the same length and bytes), and never write past the buffer. The first
 * input byte picks the output size (tight, exact, roomy), the rest is the text. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include <xmlsec/base64.h>

#include "sp/sp.h"
#include "fuzz.h"

typedef int (*decode_fn)(const xmlChar *, xmlSecByte *, xmlSecSize, xmlSecSize *);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static decode_fn xmlsec_own;
    if (xmlsec_own == NULL) {
        xmlsec_own = (decode_fn)dlsym(RTLD_NEXT, "xmlSecBase64Decode_ex");
        if (xmlsec_own == NULL || xmlsec_own == xmlSecBase64Decode_ex)
            fuzz_fail("cannot find xmlsec's own xmlSecBase64Decode_ex behind Gatehouse's");
    }
    if (size < 1)
        return -1;
    char *text = fuzz_strndup(data + 1, size - 1);
    size_t len = strlen(text);
    /* decoded bytes are at most 3/4 of the text: tight (may not fit), exact-ish, roomy */
    size_t want = len * 3 / 4;
    xmlSecSize out_size = (xmlSecSize)(data[0] % 3 == 0   ? want / 2 + (data[0] >> 2) % 4
                                       : data[0] % 3 == 1 ? want + (data[0] >> 2) % 3
                                                          : want + 16);
    /* exact-size heap buffers: ASan catches a write past out_size */
    xmlSecByte *a = malloc(out_size ? out_size : 1), *b = malloc(out_size ? out_size : 1);
    if (a == NULL || b == NULL)
        fuzz_fail("out of memory");
    memset(a, 0xAA, out_size ? out_size : 1);
    memset(b, 0xAA, out_size ? out_size : 1);
    xmlSecSize na = 0, nb = 0;
    int ra = xmlSecBase64Decode_ex((const xmlChar *)text, a, out_size, &na);
    int rb = xmlsec_own((const xmlChar *)text, b, out_size, &nb);
    if ((ra == 0) != (rb == 0))
        fuzz_fail("ours %d, xmlsec's %d on \"%s\" (out_size %u)", ra, rb, text, out_size);
    if (ra == 0 && (na != nb || memcmp(a, b, na) != 0))
        fuzz_fail("different bytes: %u vs %u on \"%s\"", na, nb, text);
    /* the fast path on its own must agree wherever it answers */
    size_t nf = 0;
    unsigned char *f = malloc(out_size ? out_size : 1);
    if (f == NULL)
        fuzz_fail("out of memory");
    if (sp_base64_fast(text, f, out_size, &nf) == 0 &&
        (rb != 0 || nf != nb || memcmp(f, b, nf) != 0))
        fuzz_fail("sp_base64_fast answered where xmlsec differs on \"%s\"", text);
    free(f);
    free(a);
    free(b);
    free(text);
    return 0;
}
