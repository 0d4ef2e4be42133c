/* h2_client.h: what the two OTLP/gRPC clients (the otlp exporter's connection, otelgen send's) share of an
 * HTTP/2 client session: nghttp2 with prior knowledge (h2c) over a libevent bufferevent, the GOAWAY and
 * first-error bookkeeping, feeding what arrived to nghttp2 and flushing what it framed. Each client keeps
 * its own streams, bodies and answers, through the nghttp2 callbacks it gives. */
#ifndef OG_H2_CLIENT_H
#define OG_H2_CLIENT_H

#include <stdbool.h>

#include <event2/bufferevent.h>
#include <nghttp2/nghttp2.h>

struct evbuffer;
struct h2_client;

/* Appends <length> bytes of a body sent with NGHTTP2_DATA_FLAG_NO_COPY to <out>, right after the DATA
 * frame's header h2_client wrote there; <source> is the stream's data provider's. Returns 0, or -1 (the
 * session fails). */
typedef int (*h2_client_body_fn)(struct h2_client *c, nghttp2_data_source *source, size_t length,
                                 struct evbuffer *out);

/* The first member of a client's connection struct: the session's user data is that struct, so the
 * callbacks here and the client's own receive the same pointer. */
struct h2_client {
    struct bufferevent *bev;
    size_t out_high;                /* nghttp2 stops framing while this much waits for the socket */
    h2_client_body_fn send_body;    /* set by h2_client_start */
    nghttp2_session *h2;            /* NULL until the session starts */
    bool goaway;                    /* the server sent GOAWAY: no new streams on this connection */
    char error[160];                /* nghttp2's first complaint about the server, "" if none */
};

/* The client's own part of the session (frames go to the output here, up to out_high). */
struct h2_client_callbacks {
    h2_client_body_fn send_body;                        /* may be NULL: no NO_COPY bodies */
    nghttp2_on_header_callback on_header;
    nghttp2_on_data_chunk_recv_callback on_data;
    nghttp2_on_stream_close_callback on_stream_close;
};

/* For a data provider's read callback, its body written by send_body (NGHTTP2_DATA_FLAG_NO_COPY): how many
 * of the body's <total> bytes, <*framed> of them framed already, the next DATA frame of at most <length>
 * carries; sets the flags, EOF with the last. */
ssize_t h2_client_frame_body(size_t *framed, size_t total, size_t length, uint32_t *flags);

/* Starts the session (no server push) once connected. Returns 0 or an nghttp2 error code. */
int h2_client_start(struct h2_client *c, const struct h2_client_callbacks *cb);

/* Feeds everything in the input to nghttp2, chunk by chunk, without a pullup. Returns 0 or an nghttp2
 * error code (the session is broken: end the connection). */
int h2_client_feed(struct h2_client *c);

/* Lets nghttp2 frame what it can into the output. Returns 0 or an nghttp2 error code. */
int h2_client_flush(struct h2_client *c);

/* True when nghttp2 wants nothing more, either way, and the output is all written: the session is over. */
bool h2_client_over(const struct h2_client *c);

/* Deletes the session; the bufferevent stays the client's. */
void h2_client_dispose(struct h2_client *c);

#endif
