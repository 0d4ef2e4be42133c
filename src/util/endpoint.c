/* endpoint.c: splitting of "host:port" endpoints, shared by the listeners
 * and the exporters. */
#include "autoconf.h"

#include <string.h>

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
