/* otelgen_endpoint.h: the ENDPOINT argument: "host:port", "host" (the protocol's default port), "[v6]:port"
 * or an http:// URL whose path, if any, replaces /v1/<signal>; and resolving it once, before any connection,
 * so that an unknown host is one clear error. */
#ifndef OTELGEN_ENDPOINT_H
#define OTELGEN_ENDPOINT_H

#include <stddef.h>

#include "otelgen_conn.h"

struct otelgen_endpoint {
    char host[256];                 /* IPv6 without brackets */
    char port[6];
    char authority[272];            /* host:port for Host / :authority, IPv6 in brackets */
    char path[1024];                /* the URL's path (and query); "" when none or "/" */
};

/* <default_port> applies when no port is given to a host without scheme; an http:// URL without a port
 * means 80, as in any URL. Refuses https:// (no TLS yet), other schemes, a path without http://, an empty
 * host, a bad port. Returns 0, or -1 with <err> set to one line. */
int otelgen_endpoint_parse(const char *s, unsigned default_port, struct otelgen_endpoint *out, char *err,
                           size_t errlen);

/* Resolves the host (getaddrinfo: may block, done once at start-up). Returns 0 with a malloc'd array of
 * addresses in the resolver's order, or -1 with <err> set. */
int otelgen_endpoint_resolve(const struct otelgen_endpoint *ep, struct otelgen_addr **out, size_t *n, char *err,
                             size_t errlen);

#endif
