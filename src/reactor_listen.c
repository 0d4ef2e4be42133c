/* reactor_listen.c: binds an endpoint once per worker with SO_REUSEPORT. A
 * probe bind without SO_REUSEPORT comes first: it fails if anyone holds the
 * port, which the reuseport binds alone would not notice when the holder is
 * another otelgate. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "reactor_listen.h"
#include "util/endpoint.h"

#define REACTOR_LISTEN_BACKLOG 1024

static void reactor_listen_name(const struct addrinfo *ai, char *buf, size_t len)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];

    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(buf, len, "?");
        return;
    }
    snprintf(buf, len, ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* Returns a bound socket (listening when <do_listen>), or -1 with errno set. */
static int reactor_listen_socket(const struct addrinfo *ai, int reuseport, int do_listen)
{
    int one = 1;
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);

    if (fd == -1)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
        (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) == -1) ||
        (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
        (do_listen && listen(fd, REACTOR_LISTEN_BACKLOG) == -1)) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Opens address <a> of <l> for every worker. */
static int reactor_listen_addr(struct reactor_listen *l, const struct addrinfo *ai, unsigned a,
                               const char *endpoint, char *err, size_t errlen)
{
    int probe = reactor_listen_socket(ai, 0, 0);

    if (probe == -1) {
        snprintf(err, errlen, "cannot listen on %s (%s): %s", endpoint, l->addrs[a], strerror(errno));
        return -1;
    }
    close(probe);
    for (unsigned w = 0; w < l->nworkers; w++) {
        int fd = reactor_listen_socket(ai, 1, 1);
        if (fd == -1) {
            snprintf(err, errlen, "cannot listen on %s (%s): %s", endpoint, l->addrs[a], strerror(errno));
            return -1;
        }
        l->fds[w * l->naddrs + a] = fd;
    }
    return 0;
}

/* An address family the host lacks (no IPv6 on lo) is skipped, not fatal,
 * as long as another address of the endpoint works; *skipped_errno keeps
 * the reason for when none does. */
static int reactor_listen_skippable(const struct addrinfo *ai, int *skipped_errno)
{
    int fd = reactor_listen_socket(ai, 0, 0);

    if (fd != -1) {
        close(fd);
        return 0;
    }
    if (errno != EADDRNOTAVAIL && errno != EAFNOSUPPORT)
        return 0;
    *skipped_errno = errno;
    return 1;
}

int reactor_listen_open(struct reactor_listen *l, const char *endpoint, unsigned nworkers, char *err,
                        size_t errlen)
{
    char host[256], port[16];
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    const struct addrinfo *use[REACTOR_LISTEN_MAX_ADDRS];
    int skipped_errno = 0;
    int rc;

    memset(l, 0, sizeof(*l));
    if (endpoint_split(endpoint, host, sizeof(host), port, sizeof(port)) != 0) {
        snprintf(err, errlen, "invalid endpoint '%s'", endpoint);
        return -1;
    }
    rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", endpoint, gai_strerror(rc));
        return -1;
    }
    for (const struct addrinfo *ai = res; ai != NULL && l->naddrs < REACTOR_LISTEN_MAX_ADDRS; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || reactor_listen_skippable(ai, &skipped_errno))
            continue;
        use[l->naddrs++] = ai;
    }
    if (l->naddrs == 0) {
        freeaddrinfo(res);
        snprintf(err, errlen, "cannot listen on %s: %s", endpoint,
                 skipped_errno ? strerror(skipped_errno) : "no usable address");
        return -1;
    }
    l->nworkers = nworkers;
    l->fds = malloc(sizeof(int) * nworkers * l->naddrs);
    rc = l->fds == NULL ? -1 : 0;
    for (unsigned i = 0; rc == 0 && i < nworkers * l->naddrs; i++)
        l->fds[i] = -1;
    for (unsigned a = 0; rc == 0 && a < l->naddrs; a++) {
        reactor_listen_name(use[a], l->addrs[a], sizeof(l->addrs[a]));
        rc = reactor_listen_addr(l, use[a], a, endpoint, err, errlen);
    }
    freeaddrinfo(res);
    if (rc != 0) {
        if (l->fds == NULL)
            snprintf(err, errlen, "out of memory");
        reactor_listen_close(l);
    }
    return rc;
}

void reactor_listen_close(struct reactor_listen *l)
{
    if (l->fds != NULL) {
        for (unsigned i = 0; i < l->nworkers * l->naddrs; i++)
            if (l->fds[i] != -1)
                close(l->fds[i]);
    }
    free(l->fds);
    l->fds = NULL;
}
