/* conn.h: accepted client connections of one worker. A connection finds out
 * which HTTP version it speaks, then hands its bytes to that codec (h1.c or
 * h2.c), which hands complete requests to the listener's handler. */
#ifndef OG_CONN_H
#define OG_CONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evconnlistener;
struct http_req;
struct conn;

/* What a listening endpoint serves and within which limits. */
struct conn_serve {
    bool grpc;                          /* HTTP/2 only (gRPC); else HTTP/1.1 or h2 by preface */
    uint64_t max_body_bytes;            /* a larger body is refused while it arrives */
    uint64_t max_header_bytes;          /* request line/pseudo-headers + all headers */
    uint32_t max_headers;
    uint32_t max_concurrent_streams;    /* HTTP/2 */
    uint32_t max_connections;           /* per worker */
    int64_t idle_timeout_ms;
    /* Called with a complete request, or early with req->too_large set. Must
     * end, now or later on this thread, in req->done(req). */
    void (*handle)(void *ctx, struct http_req *req);
    void *ctx;
    const char *id;                     /* receiver id, for logs */
    const char *tenant_header;          /* header naming the tenant, lower case, or NULL */
};

/* Per worker and endpoint: the accept socket and its live connections. */
struct conn_listener {
    const struct conn_serve *serve;
    struct evconnlistener *evl;
    struct event_base *base;
    atomic_uint connections;            /* written by the worker, read by the drain */
    bool draining;
    struct conn *head;                  /* live connections, for the drain */
    atomic_uint_fast64_t inflight;      /* requests handed to the handler, not yet answered */
    atomic_uint_fast64_t refused_connections;
};

/* Starts accepting on listening socket <fd> (taken: closed on failure and by
 * conn_listener_close) on <base>. Worker thread. Returns 0 or -1. */
int conn_listener_open(struct conn_listener *l, struct event_base *base, int fd, const struct conn_serve *serve);

/* Sets up a listener with no socket, for conn_adopt (tests, fuzzing). */
void conn_listener_init(struct conn_listener *l, struct event_base *base, const struct conn_serve *serve);

/* Serves connected socket <fd> (taken) on <l>, as if it had been accepted.
 * Worker thread. */
void conn_adopt(struct conn_listener *l, int fd);

/* Stops accepting and asks every connection to finish: HTTP/1 closes after
 * the current answer, HTTP/2 sends GOAWAY. Worker thread. */
void conn_listener_drain(struct conn_listener *l);

/* Closes the socket and every connection at once. Worker thread. */
void conn_listener_close(struct conn_listener *l);

/* ---- for the codecs ---- */

/* The codec a connection runs. */
struct conn_codec {
    const char *name;
    /* New bytes in conn_input(c). Returns 0, or -1 to close at once. */
    int (*on_read)(struct conn *c);
    /* Everything queued for writing has been written. Returns 0, or -1 to
     * close. May be NULL. */
    int (*on_drained)(struct conn *c);
    /* The listener drains: finish gracefully. */
    void (*on_drain)(struct conn *c);
    /* Frees the codec's state. Requests still with the handler are the
     * codec's to keep until their done() arrives (see conn_hold). */
    void (*destroy)(struct conn *c);
};

struct evbuffer *conn_input(struct conn *c);
struct evbuffer *conn_output(struct conn *c);
const struct conn_serve *conn_serve(const struct conn *c);
struct conn_listener *conn_listener(struct conn *c);
void *conn_codec_state(struct conn *c);
void conn_set_codec_state(struct conn *c, void *state);
bool conn_draining(const struct conn *c);

/* Stops or resumes reading from the socket (backpressure while a request is
 * with the handler). */
void conn_pause_read(struct conn *c, bool pause);

/* Output was queued outside conn_input's processing (an answer completed
 * later): have it written from the loop. */
void conn_want_write(struct conn *c);

/* Closes once the output is written; never inside this call, so the caller
 * may go on using the connection until it returns to the loop. */
void conn_close_after_write(struct conn *c);

/* A request handed to the handler keeps the connection's memory alive even
 * if the socket closes: hold before handle(), release in done(). Releasing
 * the last hold of a closed connection frees it. */
void conn_hold(struct conn *c);
void conn_release(struct conn *c);
bool conn_closed(const struct conn *c);

/* Counts a request in or out of the listener's in-flight total. */
void conn_inflight_add(struct conn *c, int delta);

extern const struct conn_codec h1_codec;
extern const struct conn_codec h2_codec;

/* Codec constructors: set up state on <c>. Return 0 or -1. */
int h1_start(struct conn *c);
int h2_start(struct conn *c);

#endif
