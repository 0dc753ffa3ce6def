/* auth/tls.h: Gatehouse's own TLS (libmicrohttpd over GnuTLS): the certificate and key of
 * [server] tls_cert_file / tls_key_file, checked at start and reloaded on SIGHUP. The one file
 * that includes GnuTLS. New connections take the pair current at their handshake; connections
 * already open keep theirs, so a reload drops nothing. */
#ifndef GH_AUTH_TLS_H
#define GH_AUTH_TLS_H

#include <stddef.h>

struct conf;
struct tls;

/* Reads and checks [server] tls_cert_file and tls_key_file: both readable, a PEM certificate
 * chain, an unencrypted PEM private key, and the key is the certificate's. NULL with
 * "FILE:LINE: tls_key_file: message" (the line of the key at fault) in err. */
struct tls *tls_from_conf(const struct conf *c, char *err, size_t errlen);

/* Reads the pair again and, when it passes the same checks, makes it the one new connections
 * get. -1 with a message: the pair in use stays. */
int tls_reload(struct tls *t, const char *cert_file, const char *key_file, char *err,
               size_t errlen);

/* Frees every pair ever loaded (a connection may hold an old one until it closes: call after
 * the server stopped). tls_free(NULL) is a no-op. */
void tls_free(struct tls *t);

/* libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK for t (a GnuTLS certificate retrieve
 * function, as a generic function pointer). GnuTLS gives the callback no context pointer, so
 * t is the process's one TLS configuration: the last one this was called for. */
typedef void (*tls_fn)(void);
tls_fn tls_mhd_callback(struct tls *t);

/* The GnuTLS priority string libmicrohttpd is given: TLS 1.2 and 1.3 only. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

#endif
