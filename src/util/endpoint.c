/* endpoint.c: splitting of "host:port" endpoints, shared by the listeners
 * and the exporters. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/endpoint.h"

int endpoint_split(const char *endpoint, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    const char *h = endpoint;
    size_t hl;

    if (endpoint[0] == '[') {
        const char *close = strchr(endpoint, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        h = endpoint + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(endpoint, ':');
        if (colon == NULL)
            return -1;
        hl = (size_t)(colon - endpoint);
    }
    if (hl >= hostlen || strlen(colon + 1) >= portlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    strcpy(port, colon + 1);
    return 0;
}

int endpoint_parse_url(const char *url, char *host, size_t hostlen, char *port, size_t portlen, char *path,
                       size_t pathlen, const char **why)
{
    char hostport[300];

    if (strncasecmp(url, "https://", 8) == 0) {
        *why = "https:// needs TLS, which this otelgate cannot do yet: use http://";
        return -1;
    }
    if (strncasecmp(url, "http://", 7) != 0) {
        *why = "must start with http://";
        return -1;
    }
    const char *a = url + 7, *slash = strchr(a, '/');
    size_t alen = slash != NULL ? (size_t)(slash - a) : strlen(a);
    if (alen == 0 || alen >= sizeof(hostport)) {
        *why = alen == 0 ? "no host after http://" : "host too long";
        return -1;
    }
    memcpy(hostport, a, alen);
    hostport[alen] = '\0';
    const char *close = strchr(hostport, ']'), *colon = strrchr(hostport, ':');
    if (colon == NULL || (hostport[0] == '[' && (close == NULL || colon < close)))
        snprintf(hostport + alen, sizeof(hostport) - alen, ":80");
    if (endpoint_split(hostport, host, hostlen, port, portlen) != 0 || host[0] == '\0') {
        *why = "cannot read host:port";
        return -1;
    }
    char *end;
    long pn = strtol(port, &end, 10);
    if (port[0] == '\0' || *end != '\0' || pn < 1 || pn > 65535) {
        *why = "port must be 1-65535";
        return -1;
    }
    if (snprintf(path, pathlen, "%s", slash != NULL ? slash : "") >= (int)pathlen) {
        *why = "path too long";
        return -1;
    }
    return 0;
}
