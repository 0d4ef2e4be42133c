/* endpoint.h: the config's "host:port" endpoints, split for getaddrinfo. */
#ifndef OG_ENDPOINT_H
#define OG_ENDPOINT_H

#include <stddef.h>

/* Splits "host:port", "[v6]:port" or ":port" into <host> (brackets removed;
 * "" for ":port", which the caller reads as "every interface" or
 * "localhost") and <port>. Returns 0, or -1 when there is no port separator
 * or a part does not fit its buffer. Syntax is checked by the config loader
 * (config_schema_check_endpoint); this only cuts. */
int endpoint_split(const char *endpoint, char *host, size_t hostlen, char *port, size_t portlen);

/* Splits "http://host[:port][/path]" (port 80 when absent; "[v6]" hosts;
 * path "" when absent) into its parts. Returns 0, or -1 with *why set: not
 * http (https needs TLS), no host, a bad port, a part too long. */
int endpoint_parse_url(const char *url, char *host, size_t hostlen, char *port, size_t portlen, char *path,
                       size_t pathlen, const char **why);

#endif
