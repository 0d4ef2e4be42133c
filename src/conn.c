/* conn.c: accepted connections of one worker: the connection limit, idle
 * timeouts, HTTP version detection, backpressure and a close that waits for
 * requests still with a handler. Worker thread only, no locks. */
#include "autoconf.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

#define CONN_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define CONN_H2_PREFACE_LEN 24
#define CONN_READ_CHUNK (64 * 1024)
#define CONN_READ_BUDGET (512 * 1024)

struct conn {
    struct conn_listener *l;
    int fd;
    struct event *rev, *wev;
    struct evbuffer *in, *out;
    const struct conn_codec *codec;
    void *codec_state;
    int holds;
    bool closed;
    bool reading;
    bool close_after_write;
    bool eof;                   /* the client sent FIN: answer what is pending, then close */
    struct conn *prev, *next;
};

struct evbuffer *conn_input(struct conn *c) { return c->in; }
struct evbuffer *conn_output(struct conn *c) { return c->out; }
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

static struct timeval conn_idle(const struct conn *c)
{
    int64_t ms = c->l->serve->idle_timeout_ms;
    return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
}

static void conn_free(struct conn *c)
{
    if (c->codec != NULL && c->codec->destroy != NULL)
        c->codec->destroy(c);
    if (c->in != NULL)
        evbuffer_free(c->in);
    if (c->out != NULL)
        evbuffer_free(c->out);
    free(c);
}

/* Closes the socket now. The memory goes when the last hold is released. */
static void conn_close_now(struct conn *c)
{
    if (c->closed)
        return;
    c->closed = true;
    event_free(c->rev);
    event_free(c->wev);
    c->rev = c->wev = NULL;
    close(c->fd);
    c->fd = -1;
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
    if (--c->holds > 0)
        return;
    if (c->closed)
        conn_free(c);
    else if (c->eof)
        conn_close_after_write(c);
}

void conn_pause_read(struct conn *c, bool pause)
{
    if (c->closed || c->reading == !pause)
        return;
    c->reading = !pause;
    if (pause) {
        event_del(c->rev);
    } else {
        struct timeval idle = conn_idle(c);
        event_add(c->rev, &idle);
        /* bytes that arrived while paused may already sit in the input */
        if (evbuffer_get_length(c->in) > 0)
            event_active(c->rev, EV_READ, 1);
    }
}

void conn_want_write(struct conn *c)
{
    if (!c->closed && !event_pending(c->wev, EV_WRITE, NULL))
        event_active(c->wev, EV_WRITE, 1);
}

void conn_close_after_write(struct conn *c)
{
    if (c->closed)
        return;
    c->close_after_write = true;
    conn_pause_read(c, true);
    /* Never close under the caller's feet: the write callback, run from the
     * loop, closes once the output is out (now, if it already is). */
    event_active(c->wev, EV_WRITE, 1);
}

/* Writes what the output holds. Returns 1 when all is written, 0 when the
 * socket is full (the write event is armed), -1 on an error. */
static int conn_flush(struct conn *c)
{
    while (evbuffer_get_length(c->out) > 0) {
        int n = evbuffer_write(c->out, c->fd);
        if (n > 0)
            continue;
        if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
            struct timeval idle = conn_idle(c);
            event_add(c->wev, &idle);
            return 0;
        }
        return -1;
    }
    return 1;
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

/* Reads what the socket has, straight into the input's chains (readv, no
 * bounce buffer), up to a budget per turn so that one busy client cannot
 * starve the others. Returns 1 for data, 0 for nothing new, -1 for EOF or an
 * error. libevent 2.1's bufferevents read 4 KiB per loop turn, which cost a
 * dozen epoll_wait + readv pairs per 50 KiB request: hence this. */
static int conn_fill(struct conn *c)
{
    size_t total = 0;

    while (total < CONN_READ_BUDGET) {
        struct evbuffer_iovec v[2];
        int nv = evbuffer_reserve_space(c->in, CONN_READ_CHUNK, v, 2);
        if (nv < 1)
            return -1;
        struct iovec iov[2];
        size_t want = 0;
        for (int i = 0; i < nv; i++) {
            iov[i].iov_base = v[i].iov_base;
            iov[i].iov_len = v[i].iov_len;
            want += v[i].iov_len;
        }
        ssize_t n = readv(c->fd, iov, nv);
        if (n <= 0) {
            evbuffer_commit_space(c->in, v, 0);
            if (n == 0)
                return -1;
            if (errno == EAGAIN || errno == EINTR)
                break;
            return -1;
        }
        size_t left = (size_t)n;
        for (int i = 0; i < nv; i++) {
            v[i].iov_len = left < v[i].iov_len ? left : v[i].iov_len;
            left -= v[i].iov_len;
        }
        evbuffer_commit_space(c->in, v, nv);
        total += (size_t)n;
        if ((size_t)n < want)
            break;  /* the socket is drained */
    }
    return total > 0;
}

/* Hands buffered input to the codec, choosing the codec first. */
static int conn_process(struct conn *c)
{
    if (c->codec == NULL) {
        const struct conn_codec *codec = conn_detect(c);
        if (codec == NULL)
            return 0;
        c->codec = codec;
        if ((codec == &h2_codec ? h2_start(c) : h1_start(c)) != 0)
            return -1;
    }
    return c->codec->on_read(c);
}

static void conn_on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;

    if (what & EV_TIMEOUT) {
        log_debug(c->l->serve->id, "closing idle connection");
        conn_close_now(c);
        return;
    }
    int got = conn_fill(c);
    bool eof = got < 0;
    if ((got > 0 || evbuffer_get_length(c->in) > 0) && conn_process(c) != 0) {
        conn_close_now(c);
        return;
    }
    if (eof && !c->closed) {
        /* A half-closed client still reads: answer what it sent, then close
         * (conn_release does it when a handler still holds a request). */
        c->eof = true;
        conn_pause_read(c, true);
        if (c->holds == 0)
            conn_close_after_write(c);
        return;
    }
    if (!c->closed && conn_flush(c) < 0)
        conn_close_now(c);
}

static void conn_on_writable(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    int rc;

    if (what & EV_TIMEOUT) {
        conn_close_now(c);
        return;
    }
    rc = conn_flush(c);
    if (rc < 0 || (rc == 1 && c->close_after_write)) {
        conn_close_now(c);
        return;
    }
    if (rc == 1) {
        event_del(c->wev);
        if (c->codec != NULL && c->codec->on_drained != NULL && c->codec->on_drained(c) != 0)
            conn_close_after_write(c);
    }
}

static void conn_on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa, int salen,
                           void *arg)
{
    struct conn_listener *l = arg;
    const struct conn_serve *s = l->serve;

    if (l->draining || l->connections >= s->max_connections) {
        atomic_fetch_add(&l->refused_connections, 1);
        log_warn(s->id, "refusing connection: max_connections=%u reached on this worker", s->max_connections);
        close(fd);
        return;
    }
    conn_adopt(l, fd);
}

void conn_adopt(struct conn_listener *l, int fd)
{
    int one = 1;
    struct conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    evutil_make_socket_nonblocking(fd);
    c->l = l;
    c->fd = fd;
    c->in = evbuffer_new();
    c->out = evbuffer_new();
    c->rev = event_new(l->base, fd, EV_READ | EV_PERSIST, conn_on_readable, c);
    c->wev = event_new(l->base, fd, EV_WRITE | EV_PERSIST, conn_on_writable, c);
    if (c->in == NULL || c->out == NULL || c->rev == NULL || c->wev == NULL) {
        if (c->rev != NULL)
            event_free(c->rev);
        if (c->wev != NULL)
            event_free(c->wev);
        close(fd);
        conn_free(c);
        return;
    }
    c->next = l->head;
    if (l->head != NULL)
        l->head->prev = c;
    l->head = c;
    l->connections++;
    conn_pause_read(c, false);
}

void conn_listener_init(struct conn_listener *l, struct event_base *base, const struct conn_serve *serve)
{
    l->serve = serve;
    l->base = base;
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
    conn_listener_init(l, base, serve);
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
