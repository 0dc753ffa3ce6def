/* sp/sp_time.h: xsd:dateTime as SAML uses it (UTC, any number of fractional digits). */
#ifndef GH_SP_SP_TIME_H
#define GH_SP_SP_TIME_H

#include <time.h>

/* Parses "2017-09-21T23:27:06.828Z" (fraction optional, any precision; "Z" or "+hh:mm" or no
 * zone = UTC) into *out, truncating fractions. 0 or -1 when malformed. */
int sp_time_parse(const char *s, time_t *out);

#endif
