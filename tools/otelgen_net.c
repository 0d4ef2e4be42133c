/* otelgen_net.c: connecting and describing socket failures for otelgen's clients. Errors are read from the
 * socket (SO_ERROR) rather than errno, which libevent's deferred callbacks may have overwritten. */
#include "autoconf.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "otelgen_net.h"

#define OTELGEN_NET_MAX_SINGLE_IO (1024 * 1024)

/* "localhost:4317 (127.0.0.1:4317)", or just the address when that is what the user wrote. */
static void otelgen_net_peer(const struct otelgen_conn_env *env, char *buf, size_t len)
{
    if (strcmp(env->target->endpoint, env->addr->text) == 0)
        snprintf(buf, len, "%s", env->addr->text);
    else
        snprintf(buf, len, "%s (%s)", env->target->endpoint, env->addr->text);
}

int otelgen_net_connect(struct bufferevent **out, const struct otelgen_conn_env *env, bufferevent_data_cb on_read,
                        bufferevent_data_cb on_write, bufferevent_event_cb on_event, void *arg, char *err,
                        size_t errlen)
{
    struct bufferevent *bev = bufferevent_socket_new(env->base, -1, BEV_OPT_CLOSE_ON_FREE);

    *out = NULL;
    if (bev == NULL) {
        snprintf(err, errlen, "cannot create a connection: out of memory");
        return -1;
    }
    bufferevent_setcb(bev, on_read, on_write, on_event, arg);
    /* libevent moves 16 KiB per syscall by default, four writes for one 50 KB request of 100 spans. */
    bufferevent_set_max_single_write(bev, OTELGEN_NET_MAX_SINGLE_IO);
    bufferevent_set_max_single_read(bev, OTELGEN_NET_MAX_SINGLE_IO);
    bufferevent_set_timeouts(bev, &env->target->timeout, &env->target->timeout);
    if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0 ||
        bufferevent_socket_connect(bev, (const struct sockaddr *)&env->addr->sa, (int)env->addr->len) != 0) {
        char peer[1200];
        otelgen_net_peer(env, peer, sizeof peer);
        snprintf(err, errlen, "cannot connect to %s: %s", peer, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        bufferevent_free(bev);
        return -1;
    }
    *out = bev;
    return 0;
}

void otelgen_net_on_connected(struct bufferevent *bev)
{
    int one = 1;

    /* Best effort: without it requests still go out, only later. */
    (void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The socket's own error when there is one; errno can be stale by the time the event callback runs. */
static int otelgen_net_error(struct bufferevent *bev)
{
    int e = 0;
    socklen_t len = sizeof e;
    evutil_socket_t fd = bufferevent_getfd(bev);

    if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 && e != 0)
        return e;
    e = EVUTIL_SOCKET_ERROR();
    return e != 0 ? e : ECONNREFUSED;
}

void otelgen_net_describe(const struct otelgen_conn_env *env, struct bufferevent *bev, short events,
                          bool connected, char *buf, size_t len)
{
    const struct otelgen_target *t = env->target;
    char peer[1200];

    otelgen_net_peer(env, peer, sizeof peer);
    if (!connected && (events & BEV_EVENT_TIMEOUT))
        snprintf(buf, len, "cannot connect to %s: no answer within %s", peer, t->timeout_text);
    else if (!connected)
        snprintf(buf, len, "cannot connect to %s: %s", peer, strerror(otelgen_net_error(bev)));
    else if ((events & BEV_EVENT_TIMEOUT) && (events & BEV_EVENT_WRITING))
        snprintf(buf, len, "%s: the server took no bytes for %s", env->addr->text, t->timeout_text);
    else if (events & BEV_EVENT_TIMEOUT)
        snprintf(buf, len, "%s: no answer within %s", env->addr->text, t->timeout_text);
    else if (events & BEV_EVENT_EOF)
        snprintf(buf, len, "%s: connection closed by the server", env->addr->text);
    else if (otelgen_net_error(bev) == EPIPE)
        snprintf(buf, len, "%s: connection closed by the server while sending", env->addr->text);
    else
        snprintf(buf, len, "%s: %s", env->addr->text, strerror(otelgen_net_error(bev)));
}
