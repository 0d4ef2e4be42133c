/* conn.c: accepted connections of one worker: the connection limit, idle
 * timeouts, HTTP version detection, backpressure and a close that waits for
 * requests still with a handler. Worker thread only, no locks. */
#include "autoconf.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

#define CONN_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define CONN_H2_PREFACE_LEN 24

struct conn {
    struct conn_listener *l;
    struct bufferevent *bev;
    const struct conn_codec *codec;
    void *codec_state;
    int holds;
    bool closed;
    bool close_after_write;
    struct conn *prev, *next;
};

struct evbuffer *conn_input(struct conn *c) { return bufferevent_get_input(c->bev); }
struct evbuffer *conn_output(struct conn *c) { return bufferevent_get_output(c->bev); }
const struct conn_serve *conn_serve(const struct conn *c) { return c->l->serve; }
struct conn_listener *conn_listener(struct conn *c) { return c->l; }
void *conn_codec_state(struct conn *c) { return c->codec_state; }
void conn_set_codec_state(struct conn *c, void *state) { c->codec_state = state; }
bool conn_draining(const struct conn *c) { return c->l->draining; }
bool conn_closed(const struct conn *c) { return c->closed; }

void conn_inflight_add(struct conn *c, int delta)
{
    if (delta > 0)
        atomic_fetch_add(&c->l->inflight, (uint_fast64_t)delta);
    else
        atomic_fetch_sub(&c->l->inflight, (uint_fast64_t)-delta);
}

static void conn_free(struct conn *c)
{
    if (c->codec != NULL && c->codec->destroy != NULL)
        c->codec->destroy(c);
    free(c);
}

/* Closes the socket now. The memory goes when the last hold is released. */
static void conn_close_now(struct conn *c)
{
    if (c->closed)
        return;
    c->closed = true;
    bufferevent_free(c->bev);
    c->bev = NULL;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        c->l->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->l->connections--;
    if (c->holds == 0)
        conn_free(c);
}

void conn_hold(struct conn *c)
{
    c->holds++;
}

void conn_release(struct conn *c)
{
    if (--c->holds == 0 && c->closed)
        conn_free(c);
}

void conn_pause_read(struct conn *c, bool pause)
{
    if (c->closed)
        return;
    if (pause)
        bufferevent_disable(c->bev, EV_READ);
    else
        bufferevent_enable(c->bev, EV_READ);
}

void conn_close_after_write(struct conn *c)
{
    if (c->closed)
        return;
    c->close_after_write = true;
    bufferevent_disable(c->bev, EV_READ);
    /* Never close under the caller's feet: the write callback, run from the
     * loop, closes once the output is out (now, if it already is). */
    if (evbuffer_get_length(conn_output(c)) == 0)
        bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

/* HTTP port: the HTTP/2 preface selects h2, anything else HTTP/1.1. Returns
 * the codec, or NULL while the first bytes could still be either. */
static const struct conn_codec *conn_detect(struct conn *c)
{
    struct evbuffer *in = conn_input(c);
    size_t len = evbuffer_get_length(in);
    unsigned char head[CONN_H2_PREFACE_LEN];
    size_t n = len < CONN_H2_PREFACE_LEN ? len : CONN_H2_PREFACE_LEN;

    if (c->l->serve->grpc)
        return &h2_codec;
    evbuffer_copyout(in, head, n);
    if (memcmp(head, CONN_H2_PREFACE, n) != 0)
        return &h1_codec;
    return n == CONN_H2_PREFACE_LEN ? &h2_codec : NULL;
}

static void conn_on_read(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    if (c->codec == NULL) {
        const struct conn_codec *codec = conn_detect(c);
        if (codec == NULL)
            return;
        c->codec = codec;
        if ((codec == &h2_codec ? h2_start(c) : h1_start(c)) != 0) {
            conn_close_now(c);
            return;
        }
    }
    if (c->codec->on_read(c) != 0)
        conn_close_now(c);
}

static void conn_on_write(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;

    if (c->close_after_write) {
        conn_close_now(c);
        return;
    }
    if (c->codec != NULL && c->codec->on_drained != NULL && c->codec->on_drained(c) != 0)
        conn_close_now(c);
}

static void conn_on_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;

    if (what & BEV_EVENT_TIMEOUT)
        log_debug(c->l->serve->id, "closing idle connection");
    conn_close_now(c);
}

static void conn_on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa, int salen,
                           void *arg)
{
    struct conn_listener *l = arg;
    const struct conn_serve *s = l->serve;
    int one = 1;

    if (l->draining || l->connections >= s->max_connections) {
        atomic_fetch_add(&l->refused_connections, 1);
        log_warn(s->id, "refusing connection: max_connections=%u reached on this worker", s->max_connections);
        close(fd);
        return;
    }
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->l = l;
    c->bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        close(fd);
        free(c);
        return;
    }
    struct timeval idle = { .tv_sec = s->idle_timeout_ms / 1000, .tv_usec = (s->idle_timeout_ms % 1000) * 1000 };
    bufferevent_set_timeouts(c->bev, &idle, &idle);
    bufferevent_setcb(c->bev, conn_on_read, conn_on_write, conn_on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->next = l->head;
    if (l->head != NULL)
        l->head->prev = c;
    l->head = c;
    l->connections++;
}

static void conn_on_accept_error(struct evconnlistener *evl, void *arg)
{
    struct conn_listener *l = arg;
    int err = EVUTIL_SOCKET_ERROR();

    /* EMFILE and friends: keep the listener, say so (rate-limited by log.c) */
    log_error(l->serve->id, "accept failed: %s", evutil_socket_error_to_string(err));
}

int conn_listener_open(struct conn_listener *l, struct event_base *base, int fd, const struct conn_serve *serve)
{
    l->serve = serve;
    l->base = base;
    l->evl = evconnlistener_new(base, conn_on_accept, l, LEV_OPT_CLOSE_ON_FREE, 0, fd);
    if (l->evl == NULL) {
        close(fd);
        return -1;
    }
    evconnlistener_set_error_cb(l->evl, conn_on_accept_error);
    return 0;
}

void conn_listener_drain(struct conn_listener *l)
{
    l->draining = true;
    if (l->evl != NULL)
        evconnlistener_free(l->evl);
    l->evl = NULL;
    for (struct conn *c = l->head, *next; c != NULL; c = next) {
        next = c->next;
        if (c->codec == NULL)
            conn_close_now(c);
        else if (c->codec->on_drain != NULL)
            c->codec->on_drain(c);
    }
}

void conn_listener_close(struct conn_listener *l)
{
    if (l->evl != NULL)
        evconnlistener_free(l->evl);
    l->evl = NULL;
    while (l->head != NULL)
        conn_close_now(l->head);
}
