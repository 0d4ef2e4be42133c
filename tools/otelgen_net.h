/* otelgen_net.h: the TCP side shared by the protocol clients: a bufferevent that connects with a deadline,
 * no Nagle once connected, and one wording for every socket failure, so that a refused connection reads
 * the same whatever the protocol. */
#ifndef OTELGEN_NET_H
#define OTELGEN_NET_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/bufferevent.h>

#include "otelgen_conn.h"

/* Starts connecting to env->addr; the target's timeout bounds the connect and, later, any wait for the
 * server to send or take bytes. Returns 0, or -1 with <err> set. */
int otelgen_net_connect(struct bufferevent **out, const struct otelgen_conn_env *env, bufferevent_data_cb on_read,
                        bufferevent_data_cb on_write, bufferevent_event_cb on_event, void *arg, char *err,
                        size_t errlen);

/* Called on BEV_EVENT_CONNECTED: requests are small and latency counts, so Nagle is off. */
void otelgen_net_on_connected(struct bufferevent *bev);

/* One line for a bufferevent event that ends a connection (EOF, ERROR, TIMEOUT), for example
 * "cannot connect to localhost:9 (127.0.0.1:9): Connection refused" or
 * "127.0.0.1:4317: connection closed by the server". Reads the socket error, so call it first. */
void otelgen_net_describe(const struct otelgen_conn_env *env, struct bufferevent *bev, short events,
                          bool connected, char *buf, size_t len);

#endif
