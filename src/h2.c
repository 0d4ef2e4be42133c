/* h2.c: the HTTP/2 codec (gRPC on its port, OTLP/HTTP over h2c on the HTTP
 * port), on nghttp2's server session. Bytes are fed to nghttp2 chunk by chunk
 * from the input evbuffer (no pullup); each stream collects its body in its
 * own request. Limits are SETTINGS the client is told, enforced again here. */
#include "autoconf.h"

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "http_req.h"

/* Receive windows. A stream's is its largest body, up to the connection's:
 * a whole message is sent without waiting for a WINDOW_UPDATE, which the
 * peer would otherwise wait for while this reactor handles the previous
 * message (a 4 MiB batch took 8 round trips with a 1 MiB window). What the
 * windows let in is bounded by the body limits anyway: nghttp2 gives the
 * window back as soon as the bytes are in the stream's body. */
#define H2_STREAM_WINDOW_MIN (64 << 10)
#define H2_CONN_WINDOW (16 << 20)

struct h2_stream {
    struct http_req req;
    struct h2 *h2;
    int32_t id;
    uint64_t header_bytes;
    uint32_t headers;
    bool dispatched;            /* handed to the handler */
    bool answered;              /* response submitted */
    bool closed;                /* nghttp2 closed it */
    bool reset_after_send;      /* answered early: stop the client's upload */
    struct h2_stream *prev, *next;
};

struct h2 {
    struct conn *conn;
    nghttp2_session *session;
    struct h2_stream *streams;
    bool in_read;
};

static int h2_flush(struct h2 *h);

static void h2_stream_free(struct h2_stream *st)
{
    struct h2 *h = st->h2;

    if (st->prev != NULL)
        st->prev->next = st->next;
    else if (h != NULL && h->streams == st)
        h->streams = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    http_req_dispose(&st->req);
    free(st);
}

static void h2_stream_on_done(struct http_req *req);

static struct h2_stream *h2_stream_new(struct h2 *h, int32_t id)
{
    struct h2_stream *st = calloc(1, sizeof(*st));

    if (st == NULL || http_req_init(&st->req) != 0) {
        free(st);
        return NULL;
    }
    st->h2 = h;
    st->id = id;
    st->req.codec = st;
    st->req.done = h2_stream_on_done;
    st->req.tenant_header = conn_serve(h->conn)->tenant_header;
    st->next = h->streams;
    if (h->streams != NULL)
        h->streams->prev = st;
    h->streams = st;
    return st;
}

static ssize_t h2_read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    struct h2_stream *st = source->ptr;
    struct evbuffer *body = st->req.resp.body;
    int n = evbuffer_remove(body, buf, length);

    if (n < 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (evbuffer_get_length(body) > 0)
        return n;
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    if (st->req.resp.grpc) {
        char status[16];
        snprintf(status, sizeof(status), "%d", st->req.resp.grpc_status);
        nghttp2_nv trailers[2] = {
            { (uint8_t *)"grpc-status", (uint8_t *)status, 11, strlen(status), NGHTTP2_NV_FLAG_NONE },
            { (uint8_t *)"grpc-message", (uint8_t *)st->req.resp.grpc_message, 12,
              strlen(st->req.resp.grpc_message), NGHTTP2_NV_FLAG_NONE },
        };
        if (nghttp2_submit_trailer(session, stream_id, trailers, st->req.resp.grpc_message[0] ? 2 : 1) == 0)
            *data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    return n;
}

#define H2_NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

/* Submits req->resp. A gRPC error with no body is "trailers-only": one
 * HEADERS frame carrying the status. */
static int h2_submit(struct h2 *h, struct h2_stream *st)
{
    const struct http_resp *r = &st->req.resp;
    char status[8], retry[16], grpc_status[16];
    nghttp2_nv nv[7];
    size_t n = 0;
    bool trailers_only = r->grpc && evbuffer_get_length(r->body) == 0;
    nghttp2_data_provider dp = { .source.ptr = st, .read_callback = h2_read_body };

    snprintf(status, sizeof(status), "%d", r->status);
    nv[n++] = (nghttp2_nv)H2_NV(":status", status);
    if (r->content_type != NULL)
        nv[n++] = (nghttp2_nv)H2_NV("content-type", r->content_type);
    if (r->retry_after > 0) {
        snprintf(retry, sizeof(retry), "%d", r->retry_after);
        nv[n++] = (nghttp2_nv)H2_NV("retry-after", retry);
    }
    if (r->allow != NULL)
        nv[n++] = (nghttp2_nv)H2_NV("allow", r->allow);
    if (trailers_only) {
        snprintf(grpc_status, sizeof(grpc_status), "%d", r->grpc_status);
        nv[n++] = (nghttp2_nv)H2_NV("grpc-status", grpc_status);
        if (r->grpc_message[0] != '\0')
            nv[n++] = (nghttp2_nv)H2_NV("grpc-message", r->grpc_message);
    }
    st->answered = true;
    bool has_body = !trailers_only && (evbuffer_get_length(r->body) > 0 || r->grpc);
    return nghttp2_submit_response(h->session, st->id, nv, n, has_body ? &dp : NULL);
}

static void h2_dispatch(struct h2 *h, struct h2_stream *st)
{
    const struct conn_serve *s = conn_serve(h->conn);

    st->dispatched = true;
    conn_hold(h->conn);
    conn_inflight_add(h->conn, 1);
    s->handle(s->ctx, &st->req);
}

static void h2_stream_on_done(struct http_req *req)
{
    struct h2_stream *st = req->codec;
    struct h2 *h = st->h2;
    struct conn *c = h->conn;

    conn_inflight_add(c, -1);
    if (st->closed || conn_closed(c)) {
        h2_stream_free(st);
    } else {
        if (req->resp.drop) {
            st->answered = true;
            nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
        } else if (h2_submit(h, st) != 0)
            nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
        if (!h->in_read) {
            if (h2_flush(h) != 0)
                conn_close_after_write(c);
            conn_want_write(c);
        }
    }
    conn_release(c);
}

static struct h2_stream *h2_stream_of(nghttp2_session *session, int32_t id)
{
    return nghttp2_session_get_stream_user_data(session, id);
}

static int h2_on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct h2 *h = user_data;

    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct h2_stream *st = h2_stream_new(h, frame->hd.stream_id);
    if (st == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, st);
    return 0;
}

static int h2_on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
    struct h2 *h = user_data;
    const struct conn_serve *s = conn_serve(h->conn);
    struct h2_stream *st = h2_stream_of(session, frame->hd.stream_id);

    if (st == NULL || frame->hd.type != NGHTTP2_HEADERS || st->dispatched)
        return 0;   /* trailers of a request: nothing we need */
    st->header_bytes += namelen + valuelen + 32;
    if (st->header_bytes > s->max_header_bytes || ++st->headers > s->max_headers) {
        st->req.too_long = true;    /* answered 431 when the headers end */
        return 0;
    }
    if (namelen == 7 && memcmp(name, ":method", 7) == 0)
        st->req.method = http_req_method((const char *)value, valuelen);
    else if (namelen == 5 && memcmp(name, ":path", 5) == 0)
        http_req_set_path(&st->req, (const char *)value, valuelen);
    else if (http_req_header(&st->req, (const char *)name, namelen, (const char *)value, valuelen) != 0)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    return 0;
}

/* A body over the limit is answered at once (413 / RESOURCE_EXHAUSTED) and
 * the stream reset after the answer, instead of buffering the rest. */
static void h2_refuse_large(struct h2 *h, struct h2_stream *st)
{
    st->req.too_large = true;
    st->reset_after_send = true;
    evbuffer_drain(st->req.body, evbuffer_get_length(st->req.body));
    h2_dispatch(h, st);
}

/* Headers over max_header_bytes / max_headers, or a kept one too long:
 * 431, as HTTP/1.1 answers, then the stream is reset. */
static void h2_refuse_headers(struct h2 *h, struct h2_stream *st)
{
    http_req_error(&st->req, 431, "request headers too large");
    st->dispatched = true;
    st->reset_after_send = true;
    if (h2_submit(h, st) != 0)
        nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
}

static int h2_on_data(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                      void *user_data)
{
    struct h2 *h = user_data;
    struct h2_stream *st = h2_stream_of(session, stream_id);

    if (st == NULL || st->dispatched)
        return 0;   /* already answered: discard (flow control still credits it) */
    const struct conn_serve *s = conn_serve(h->conn);
    if (evbuffer_get_length(st->req.body) + len > s->max_body_bytes) {
        h2_refuse_large(h, st);
        return 0;
    }
    /* gRPC clients announce no content-length, but the message prefix says
     * how much follows: one chain of that size keeps the body contiguous,
     * so nothing copies it again before the scan. */
    if (s->grpc && evbuffer_get_length(st->req.body) == 0 && st->req.content_length < 0 && len >= 5) {
        uint64_t want = 5 + ((uint64_t)data[1] << 24 | (uint64_t)data[2] << 16 | (uint64_t)data[3] << 8 | data[4]);
        if (want <= s->max_body_bytes)
            evbuffer_expand(st->req.body, (size_t)want);
    }
    evbuffer_add(st->req.body, data, len);
    return 0;
}

static int h2_on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct h2 *h = user_data;
    struct h2_stream *st;

    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    st = h2_stream_of(session, frame->hd.stream_id);
    if (st == NULL || st->dispatched)
        return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        if (st->req.too_long) {
            h2_refuse_headers(h, st);
            return 0;
        }
        if (st->req.content_length > 0 &&
            (uint64_t)st->req.content_length > conn_serve(h->conn)->max_body_bytes) {
            h2_refuse_large(h, st);
            return 0;
        }
        if (st->req.content_length > 0)
            evbuffer_expand(st->req.body, (size_t)st->req.content_length);
    }
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
        h2_dispatch(h, st);
    return 0;
}

static int h2_on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct h2_stream *st;

    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    st = h2_stream_of(session, frame->hd.stream_id);
    if (st != NULL && st->reset_after_send)
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
    return 0;
}

static int h2_on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
    struct h2_stream *st = h2_stream_of(session, stream_id);

    if (st == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    st->closed = true;
    if (!st->dispatched || st->answered)
        h2_stream_free(st);
    /* else: the handler still has it; h2_stream_on_done frees it */
    return 0;
}

/* Writes what nghttp2 has to send. Returns 0, or -1 when the session is
 * over and the connection should close once written. */
static int h2_flush(struct h2 *h)
{
    const uint8_t *data;
    ssize_t n;

    while ((n = nghttp2_session_mem_send(h->session, &data)) > 0)
        evbuffer_add(conn_output(h->conn), data, (size_t)n);
    if (n < 0)
        return -1;
    if (!nghttp2_session_want_read(h->session) && !nghttp2_session_want_write(h->session))
        return -1;
    return 0;
}

/* An HTTP/1 request on the gRPC port gets an answer it can read. */
static void h2_refuse_http1(struct h2 *h)
{
    static const char msg[] = "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain\r\n"
                              "Content-Length: 40\r\nConnection: close\r\n\r\n"
                              "this port speaks gRPC, which needs h2c\r\n";
    evbuffer_add(conn_output(h->conn), msg, sizeof(msg) - 1);
}

static int h2_on_read(struct conn *c)
{
    struct h2 *h = conn_codec_state(c);
    struct evbuffer *in = conn_input(c);
    int rc = 0;

    h->in_read = true;
    while (evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        ssize_t n = nghttp2_session_mem_recv(h->session, v.iov_base, v.iov_len);
        if (n == NGHTTP2_ERR_BAD_CLIENT_MAGIC) {
            /* an HTTP/1 client: only the 505, none of our HTTP/2 frames */
            h->in_read = false;
            h2_refuse_http1(h);
            conn_close_after_write(c);
            return 0;
        }
        if (n < 0) {
            rc = -1;
            break;
        }
        evbuffer_drain(in, (size_t)n);
    }
    h->in_read = false;
    if (h2_flush(h) != 0 || rc != 0)
        conn_close_after_write(c);
    return 0;
}

static int h2_on_drained(struct conn *c)
{
    struct h2 *h = conn_codec_state(c);

    return h2_flush(h);
}

static void h2_on_drain(struct conn *c)
{
    struct h2 *h = conn_codec_state(c);

    nghttp2_submit_goaway(h->session, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h->session),
                          NGHTTP2_NO_ERROR, NULL, 0);
    if (h2_flush(h) != 0)
        conn_close_after_write(c);
    conn_want_write(c);
}

static void h2_destroy(struct conn *c)
{
    struct h2 *h = conn_codec_state(c);

    if (h == NULL)
        return;
    nghttp2_session_del(h->session);
    while (h->streams != NULL)
        h2_stream_free(h->streams);
    free(h);
    conn_set_codec_state(c, NULL);
}

static int h2_settings(struct h2 *h)
{
    const struct conn_serve *s = conn_serve(h->conn);
    uint64_t window = s->max_body_bytes < H2_STREAM_WINDOW_MIN ? H2_STREAM_WINDOW_MIN
                    : s->max_body_bytes > H2_CONN_WINDOW       ? H2_CONN_WINDOW
                                                               : s->max_body_bytes;
    nghttp2_settings_entry iv[] = {
        { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s->max_concurrent_streams },
        { NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)window },
        { NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)s->max_header_bytes },
    };

    if (nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) != 0)
        return -1;
    return nghttp2_session_set_local_window_size(h->session, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW);
}

int h2_start(struct conn *c)
{
    struct h2 *h = calloc(1, sizeof(*h));
    nghttp2_session_callbacks *cbs;
    int rc;

    if (h == NULL || nghttp2_session_callbacks_new(&cbs) != 0) {
        free(h);
        return -1;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, h2_on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, h2_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, h2_on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, h2_on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, h2_on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2_on_stream_close);
    h->conn = c;
    rc = nghttp2_session_server_new(&h->session, cbs, h);
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0) {
        free(h);
        return -1;
    }
    conn_set_codec_state(c, h);
    return h2_settings(h);
}

const struct conn_codec h2_codec = {
    .name = "h2",
    .on_read = h2_on_read,
    .on_drained = h2_on_drained,
    .on_drain = h2_on_drain,
    .destroy = h2_destroy,
};
