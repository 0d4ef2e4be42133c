/* reactor_listen.h: listening sockets for an endpoint, one set per worker,
 * bound with SO_REUSEPORT so the kernel spreads connections across workers
 * without a shared accept lock. */
#ifndef OG_REACTOR_LISTEN_H
#define OG_REACTOR_LISTEN_H

#include <stddef.h>

/* An endpoint may resolve to several addresses ("localhost" is 127.0.0.1 and
 * ::1); each worker listens on all of them. */
#define REACTOR_LISTEN_MAX_ADDRS 4

struct reactor_listen {
    unsigned nworkers;
    unsigned naddrs;
    int *fds;                   /* fds[worker * naddrs + addr], nonblocking, listening */
    char addrs[REACTOR_LISTEN_MAX_ADDRS][64];   /* "127.0.0.1:13133", for logs */
};

/* Resolves <endpoint> ("host:port", "[v6]:port", ":port" = every interface)
 * and opens a listening socket per worker and address. Refuses a port that
 * any other socket holds, even one of another process that also set
 * SO_REUSEPORT (it would silently steal connections). Runs on the main
 * thread at start-up (it may block in DNS). Returns 0, or -1 with err set to
 * a line naming the endpoint, the address and the reason; on failure
 * nothing stays open. */
int reactor_listen_open(struct reactor_listen *l, const char *endpoint, unsigned nworkers, char *err,
                        size_t errlen);

/* Closes every socket still open in <l>; fds handed on must be set to -1. */
void reactor_listen_close(struct reactor_listen *l);

#endif
