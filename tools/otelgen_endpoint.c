/* otelgen_endpoint.c: parsing and resolving ENDPOINT. Parsing is strict (a usage error is exit 2 before
 * any network traffic); resolving happens once, blocking, before the reactor starts. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "otelgen_endpoint.h"

static int otelgen_endpoint_port(const char *s, size_t len, struct otelgen_endpoint *out)
{
    unsigned long v = 0;

    if (len == 0 || len > 5)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return -1;
    snprintf(out->port, sizeof out->port, "%lu", v);
    return 0;
}

/* "host", "host:port", "[v6]", "[v6]:port" (the authority part of a URL, or a bare ENDPOINT). */
static int otelgen_endpoint_authority(const char *s, size_t len, unsigned default_port, struct otelgen_endpoint *out,
                                      const char **why)
{
    const char *host = s, *colon;
    size_t hostlen;

    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL) {
            *why = "missing ']' after an IPv6 address";
            return -1;
        }
        host = s + 1;
        hostlen = (size_t)(close - host);
        colon = close + 1 < s + len ? close + 1 : NULL;
        if (colon != NULL && *colon != ':') {
            *why = "unexpected characters after ']'";
            return -1;
        }
    } else {
        colon = memchr(s, ':', len);
        hostlen = colon != NULL ? (size_t)(colon - s) : len;
    }
    if (hostlen == 0 || hostlen >= sizeof out->host) {
        *why = hostlen == 0 ? "no host" : "host name too long";
        return -1;
    }
    memcpy(out->host, host, hostlen);
    out->host[hostlen] = '\0';
    if (colon == NULL) {
        snprintf(out->port, sizeof out->port, "%u", default_port);
    } else if (otelgen_endpoint_port(colon + 1, (size_t)(s + len - colon - 1), out) != 0) {
        *why = "the port must be a number from 1 to 65535";
        return -1;
    }
    snprintf(out->authority, sizeof out->authority, strchr(out->host, ':') != NULL ? "[%s]:%s" : "%s:%s", out->host,
             out->port);
    return 0;
}

/* The URL's path, if it has one besides "/". */
static int otelgen_endpoint_path(const char *slash, struct otelgen_endpoint *out, const char **why)
{
    if (slash == NULL || strcmp(slash, "/") == 0)
        return 0;
    if (strlen(slash) >= sizeof out->path) {
        *why = "URL path too long";
        return -1;
    }
    strcpy(out->path, slash);
    return 0;
}

int otelgen_endpoint_parse(const char *s, unsigned default_port, struct otelgen_endpoint *out, char *err,
                           size_t errlen)
{
    const char *rest = s, *slash, *why = NULL;

    *out = (struct otelgen_endpoint){ .path = "" };
    if (strncmp(s, "https://", 8) == 0) {
        why = "https:// is not supported yet (otelgen has no TLS)";
    } else if (strstr(s, "://") != NULL && strncmp(s, "http://", 7) != 0) {
        why = "the only URL scheme is http://";
    } else if (strncmp(s, "http://", 7) == 0) {
        rest = s + 7;
        default_port = 80;
    } else if (strchr(s, '/') != NULL) {
        why = "a path needs a URL: write http://host:port/path";
    }
    if (why == NULL) {
        slash = strchr(rest, '/');
        if (otelgen_endpoint_authority(rest, slash != NULL ? (size_t)(slash - rest) : strlen(rest), default_port,
                                       out, &why) == 0)
            otelgen_endpoint_path(slash, out, &why);
    }
    if (why != NULL) {
        snprintf(err, errlen, "ENDPOINT '%s': %s", s, why);
        return -1;
    }
    return 0;
}

int otelgen_endpoint_resolve(const struct otelgen_endpoint *ep, struct otelgen_addr **out, size_t *n, char *err,
                             size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
    struct otelgen_addr *addrs;
    size_t count = 0;
    int rc = getaddrinfo(ep->host, ep->port, &hints, &res);

    *out = NULL;
    *n = 0;
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve '%s': %s", ep->host, rc == EAI_SYSTEM ? "system error" : gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next)
        count++;
    addrs = calloc(count, sizeof *addrs);
    if (addrs == NULL) {
        freeaddrinfo(res);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    count = 0;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        struct otelgen_addr *a = &addrs[count];
        char host[INET6_ADDRSTRLEN + 16], port[8];  /* room for a %scope */
        if (ai->ai_addrlen > sizeof a->sa ||
            getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof host, port, sizeof port,
                        NI_NUMERICHOST | NI_NUMERICSERV) != 0)
            continue;
        memcpy(&a->sa, ai->ai_addr, ai->ai_addrlen);
        a->len = ai->ai_addrlen;
        snprintf(a->text, sizeof a->text, ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
        count++;
    }
    freeaddrinfo(res);
    if (count == 0) {
        free(addrs);
        snprintf(err, errlen, "cannot resolve '%s': no usable address", ep->host);
        return -1;
    }
    *out = addrs;
    *n = count;
    return 0;
}
