/* auth/spkey.h: the SP's private key at rest, sealed under the data key (auth/secrets.h) in
 * KEY_FILE.sealed beside where [sp] key_file points; the certificate stays a public PEM file.
 * The key is opened into memory at start-up and never written in clear. A deployment whose key
 * is still the clear PEM file keeps working (with a warning) until `gatehousectl secrets
 * seal-sp-key` seals it and removes the clear file; a clear file back beside the sealed one
 * stops start-up. */
#ifndef GH_AUTH_SPKEY_H
#define GH_AUTH_SPKEY_H

#include <stddef.h>

struct secrets;

/* The sealed key's file for key_file ("KEY_FILE.sealed") into out. */
void spkey_sealed_path(const char *key_file, char *out, size_t len);

/* The SP key as PEM text (*pem_out, free with secrets_free_text(p, strlen(p))): opened from the
 * sealed file, read from the clear key_file of an older deployment (*clear_out = 1), or made at
 * first start (key sealed, certificate written to cert_file, CN = cn). -1 with a message naming
 * the file: both a sealed and a clear key, a sealed key this data key does not open, a clear key
 * readable by others, a key without its certificate. */
int spkey_load(const struct secrets *k, const char *key_file, const char *cert_file, const char *cn,
               char **pem_out, int *clear_out, char *err, size_t errlen);

/* Seals the clear key_file into KEY_FILE.sealed (checked to open to the same key), then
 * overwrites and removes key_file. -1 with a message, key_file untouched. */
int spkey_seal_file(const struct secrets *k, const char *key_file, char *err, size_t errlen);

#endif
