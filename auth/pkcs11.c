/* auth/pkcs11.c: the customer-managed key through PKCS#11 (see pkcs11.h). */
#include "pkcs11.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <p11-kit/pkcs11.h>

struct p11 {
    void *dl;
    CK_FUNCTION_LIST_PTR f;
    CK_SESSION_HANDLE session;
    CK_OBJECT_HANDLE key;
    int logged_in;
};

/* PKCS#11 declares its input buffers without const (the C_Encrypt input, CKA_LABEL values, GCM
 * IV and AAD) but never writes through them. */
static void *
in_buf(const void *p)
{
    union {
        const void *c;
        void *v;
    } u = {p};
    return u.v;
}

/* A PIN file: 1-256 bytes on one line, not readable by other users. */
static int
read_pin(const char *path, char *pin, size_t cap, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot read the token PIN: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        close(fd);
        snprintf(err, errlen,
                 "%s: the token PIN file must be a regular file readable only by its owner "
                 "(chmod 600)",
                 path);
        return -1;
    }
    ssize_t n = read(fd, pin, cap - 1);
    close(fd);
    if (n <= 0) {
        snprintf(err, errlen, "%s: the token PIN file is empty", path);
        return -1;
    }
    pin[n] = '\0';
    while (n > 0 && (pin[n - 1] == '\n' || pin[n - 1] == '\r'))
        pin[--n] = '\0';
    return n > 0 ? 0 : -1;
}

/* Whether the space-padded 32-byte label equals want. */
static int
label_is(const unsigned char *label, size_t len, const char *want)
{
    size_t n = strlen(want);
    if (n > len || memcmp(label, want, n) != 0)
        return 0;
    for (size_t i = n; i < len; i++)
        if (label[i] != ' ')
            return 0;
    return 1;
}

static CK_SLOT_ID
find_slot(struct p11 *p, const char *token_label, int *found)
{
    CK_ULONG n = 0;
    *found = 0;
    if (p->f->C_GetSlotList(CK_TRUE, NULL, &n) != CKR_OK || n == 0)
        return 0;
    CK_SLOT_ID *slots = calloc(n, sizeof *slots), slot = 0;
    if (slots != NULL && p->f->C_GetSlotList(CK_TRUE, slots, &n) == CKR_OK) {
        for (CK_ULONG i = 0; i < n && !*found; i++) {
            CK_TOKEN_INFO ti;
            if (p->f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
                label_is(ti.label, sizeof ti.label, token_label)) {
                slot = slots[i];
                *found = 1;
            }
        }
    }
    free(slots);
    return slot;
}

static int
find_key(struct p11 *p, const char *key_label)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE type = CKK_AES;
    CK_ATTRIBUTE tmpl[] = {
        {CKA_CLASS, &cls, sizeof cls},
        {CKA_KEY_TYPE, &type, sizeof type},
        {CKA_LABEL, in_buf(key_label), strlen(key_label)},
    };
    CK_ULONG count = 0;
    if (p->f->C_FindObjectsInit(p->session, tmpl, 3) != CKR_OK)
        return -1;
    CK_RV rv = p->f->C_FindObjects(p->session, &p->key, 1, &count);
    p->f->C_FindObjectsFinal(p->session);
    return rv == CKR_OK && count == 1 ? 0 : -1;
}

struct p11 *
p11_open(const char *module, const char *token_label, const char *pin_file, const char *key_label,
         char *err, size_t errlen)
{
    struct p11 *p = calloc(1, sizeof *p);
    char pin[257];
    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    CK_C_GetFunctionList get =
        p->dl ? (CK_C_GetFunctionList)dlsym(p->dl, "C_GetFunctionList") : NULL;
    if (get == NULL || get(&p->f) != CKR_OK || p->f == NULL) {
        snprintf(err, errlen, "%s: cannot load the PKCS#11 module: %s", module,
                 p->dl ? "no C_GetFunctionList" : dlerror());
        goto fail;
    }
    CK_C_INITIALIZE_ARGS args = {.flags = CKF_OS_LOCKING_OK};
    CK_RV rv = p->f->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        snprintf(err, errlen, "%s: C_Initialize failed (0x%lx)", module, (unsigned long)rv);
        p->f = NULL;
        goto fail;
    }
    int found = 0;
    CK_SLOT_ID slot = find_slot(p, token_label, &found);
    if (!found) {
        snprintf(err, errlen, "PKCS#11 token \"%s\" not found in %s", token_label, module);
        goto fail;
    }
    if (p->f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &p->session) != CKR_OK) {
        snprintf(err, errlen, "PKCS#11 token \"%s\": cannot open a session", token_label);
        goto fail;
    }
    if (read_pin(pin_file, pin, sizeof pin, err, errlen) != 0)
        goto fail;
    rv = p->f->C_Login(p->session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
    OPENSSL_cleanse(pin, sizeof pin);
    if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
        snprintf(err, errlen, "PKCS#11 token \"%s\": login refused (%s)", token_label,
                 rv == CKR_PIN_INCORRECT ? "wrong PIN in the PIN file"
                 : rv == CKR_PIN_LOCKED  ? "the PIN is locked"
                                         : "see the token's log");
        goto fail;
    }
    p->logged_in = 1;
    if (find_key(p, key_label) != 0) {
        snprintf(err, errlen,
                 "PKCS#11 token \"%s\" has no AES key labelled \"%s\" (removed, or access to it "
                 "revoked): the secrets at rest cannot be opened",
                 token_label, key_label);
        goto fail;
    }
    return p;
fail:
    p11_close(p);
    return NULL;
}

static CK_MECHANISM
gcm(CK_GCM_PARAMS *params, const unsigned char *iv, const char *aad)
{
    params->iv_ptr = in_buf(iv);
    params->iv_len = P11_IV_LEN;
    params->iv_bits = P11_IV_LEN * 8;
    params->aad_ptr = in_buf(aad);
    params->aad_len = strlen(aad);
    params->tag_bits = P11_TAG_LEN * 8;
    CK_MECHANISM m = {CKM_AES_GCM, params, sizeof *params};
    return m;
}

int
p11_encrypt(struct p11 *p, const unsigned char *iv, const char *aad, const unsigned char *in,
            size_t n, unsigned char *out)
{
    CK_GCM_PARAMS params;
    CK_MECHANISM m = gcm(&params, iv, aad);
    CK_ULONG out_len = n + P11_TAG_LEN;
    if (p->f->C_EncryptInit(p->session, &m, p->key) != CKR_OK)
        return -1;
    CK_RV rv = p->f->C_Encrypt(p->session, in_buf(in), n, out, &out_len);
    return rv == CKR_OK && out_len == n + P11_TAG_LEN ? 0 : -1;
}

int
p11_decrypt(struct p11 *p, const unsigned char *iv, const char *aad, const unsigned char *in,
            size_t n, unsigned char *out)
{
    if (n < P11_TAG_LEN)
        return -1;
    CK_GCM_PARAMS params;
    CK_MECHANISM m = gcm(&params, iv, aad);
    /* Some tokens write the whole input length before checking the tag. */
    unsigned char buf[512];
    CK_ULONG out_len = sizeof buf;
    if (n > sizeof buf || p->f->C_DecryptInit(p->session, &m, p->key) != CKR_OK)
        return -1;
    CK_RV rv = p->f->C_Decrypt(p->session, in_buf(in), n, buf, &out_len);
    int ok = rv == CKR_OK && out_len == n - P11_TAG_LEN;
    if (ok)
        memcpy(out, buf, out_len);
    OPENSSL_cleanse(buf, sizeof buf);
    return ok ? 0 : -1;
}

void
p11_close(struct p11 *p)
{
    if (p == NULL)
        return;
    if (p->f != NULL) {
        if (p->logged_in)
            p->f->C_Logout(p->session);
        if (p->session)
            p->f->C_CloseSession(p->session);
        p->f->C_Finalize(NULL);
    }
    if (p->dl != NULL)
        dlclose(p->dl);
    free(p);
}
