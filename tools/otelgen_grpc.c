/* otelgen_grpc.c: the OTLP/gRPC client: HTTP/2 with prior knowledge (h2c) through nghttp2, over a libevent
 * bufferevent (the session itself, shared with the otlp exporter, is src/h2_client.c). Several requests
 * ride one connection as concurrent streams (up to the worker's depth and the
 * server's SETTINGS_MAX_CONCURRENT_STREAMS); bodies come pre-encoded from otelgen_payload and nghttp2
 * never copies them (NGHTTP2_DATA_FLAG_NO_COPY): large DATA frames are added to the output by reference,
 * so their bytes are copied once, by the kernel. A body buffer is needed only until the socket took it,
 * not until the answer: it then goes back to a small stack and the next request is stamped into the
 * warmest one, so a connection with many streams in flight still writes from a few buffers in cache.
 * Responses are fed to nghttp2 from the evbuffer chunks without a pullup. An answer is the grpc-status of
 * the trailers (or of the headers of a trailers-only response), with what it says about retrying
 * (grpc-retry-pushback-ms, a RetryInfo in grpc-status-details-bin). */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>

#include "exp_otlp_answer.h"
#include "h2_client.h"
#include "otelgen_net.h"
#include "otelgen_payload.h"
#include "otelgen_retry.h"
#include "otelgen_worker.h"

#define OTELGEN_GRPC_OUT_HIGH (256 * 1024)      /* stop framing while this much waits for the socket */
#define OTELGEN_GRPC_BY_REFERENCE 4096          /* DATA frames from this size on are not copied */
#define OTELGEN_GRPC_FIXED_HEADERS 9
#define OTELGEN_GRPC_UNKNOWN 2
#define OTELGEN_GRPC_INTERNAL 13

struct otelgen_grpc;

struct otelgen_grpc_stream {
    struct otelgen_grpc *conn;
    struct otelgen_payload_body body;   /* from conn->spare while its bytes are being sent; then empty */
    struct otelgen_req req;
    size_t queued, sent;                /* body bytes framed by nghttp2, and added to the output */
    unsigned refs;                      /* pieces of body the output still refers to: no refill before 0 */
    int32_t id;                         /* 0: no stream */
    int http_status;                    /* 0 until :status */
    int grpc_status;                    /* -1 until grpc-status */
    struct otelgen_answer retry;        /* its retry_* fields: what the server said about retrying */
    bool message_from_body;             /* message holds the start of a non-gRPC body */
    size_t message_len;
    char message[OTELGEN_CONN_MESSAGE_MAX];
};

struct otelgen_grpc {
    struct h2_client hc;                /* first: the session's user data is the conn */
    struct otelgen_conn_env env;
    nghttp2_nv *nv;                     /* the request headers, the same for every request but the tenant */
    size_t n_nv;
    size_t tenant_nv;                   /* index of the tenant header in nv, when --tenants */
    struct otelgen_grpc_stream *streams;    /* env.depth of them */
    struct otelgen_payload_body *spare;     /* bodies the socket is done with, the warmest last */
    unsigned n_spare;
    unsigned inflight;
    uint64_t answered;
    bool connected;
    bool closing;                       /* we sent GOAWAY: end once it is written */
};

/* ---- ending ---- */

/* The one teardown: fails what is in flight, frees everything, then tells the worker (which may open a
 * replacement at once). Never called from inside an nghttp2 callback. */
static void otelgen_grpc_end(struct otelgen_grpc *c, const char *why)
{
    struct otelgen_worker *w = c->env.worker;
    unsigned slot = c->env.slot, lost = 0;
    bool connected = c->connected;
    uint64_t answered = c->answered;
    char reason[OTELGEN_CONN_MESSAGE_MAX];

    snprintf(reason, sizeof reason, "%s", why != NULL ? why : "connection ended with requests in flight");
    /* Drop the output first: it may refer to the stream bodies freed below. A socket bufferevent keeps the
     * start of its output frozen, which makes a drain a silent no-op: unfreeze it first. */
    evbuffer_unfreeze(bufferevent_get_output(c->hc.bev), 1);
    evbuffer_drain(bufferevent_get_output(c->hc.bev), evbuffer_get_length(bufferevent_get_output(c->hc.bev)));
    for (unsigned i = 0; i < c->env.depth; i++) {
        if (c->streams[i].id != 0) {
            otelgen_worker_answered(w, &c->streams[i].req,
                                    &(struct otelgen_answer){ .kind = OTELGEN_ANSWER_FAILED, .message = reason });
            lost++;
        }
        otelgen_payload_body_dispose(&c->streams[i].body);
    }
    for (unsigned i = 0; i < c->n_spare; i++)
        otelgen_payload_body_dispose(&c->spare[i]);
    h2_client_dispose(&c->hc);
    bufferevent_free(c->hc.bev);
    free(c->spare);
    free(c->streams);
    free(c->nv);
    free(c);
    otelgen_worker_conn_ended(w, slot, lost > 0 ? reason : why, connected, answered, lost);
}

/* A session that wants nothing more (after GOAWAY either way) ends once its last bytes are written. With
 * requests still in flight, nghttp2 gave up on the server: say why, in its words when it gave some. */
static void otelgen_grpc_end_if_idle(struct otelgen_grpc *c)
{
    char why[OTELGEN_CONN_MESSAGE_MAX + sizeof c->hc.error];

    if (!h2_client_over(&c->hc))
        return;
    if (c->inflight == 0) {
        otelgen_grpc_end(c, NULL);
        return;
    }
    snprintf(why, sizeof why, "%s: HTTP/2 session failed: %s", c->env.addr->text,
             c->hc.error[0] != '\0' ? c->hc.error : "protocol error");
    otelgen_grpc_end(c, why);
}

/* ---- answers ---- */

static void otelgen_grpc_set_message(struct otelgen_grpc_stream *s, const uint8_t *v, size_t len)
{
    s->message_len = exp_otlp_answer_percent_decode(v, len, s->message, sizeof s->message - 1);
    s->message_from_body = false;
}

/* The gRPC status a client library gives an HTTP status without grpc-status (http-grpc-status-mapping.md). */
static int otelgen_grpc_status_of_http(int http)
{
    switch (http) {
    case 400: return OTELGEN_GRPC_INTERNAL;
    case 401: return 16;                /* UNAUTHENTICATED */
    case 403: return 7;                 /* PERMISSION_DENIED */
    case 404: return 12;                /* UNIMPLEMENTED */
    case 429:
    case 502:
    case 503:
    case 504: return 14;                /* UNAVAILABLE */
    default: return OTELGEN_GRPC_UNKNOWN;
    }
}

/* One printable line: a message is for a terminal, whatever the server put in it. */
static void otelgen_grpc_printable(const struct otelgen_grpc_stream *s, char *out, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < s->message_len && n < len - 1; i++) {
        unsigned char ch = (unsigned char)s->message[i];
        if (s->message_from_body && (ch == '\n' || ch == '\r'))
            break;
        out[n++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    out[n] = '\0';
}

static struct otelgen_answer otelgen_grpc_answer_of(const struct otelgen_grpc *c, const struct otelgen_grpc_stream *s,
                                                    uint32_t error_code, char *buf, size_t len)
{
    char msg[OTELGEN_CONN_MESSAGE_MAX];

    otelgen_grpc_printable(s, msg, sizeof msg);
    if (s->grpc_status >= 0 && !s->message_from_body) {
        snprintf(buf, len, "%s", msg);
        return (struct otelgen_answer){ .kind = OTELGEN_ANSWER_GRPC, .code = s->grpc_status, .message = buf };
    }
    if (error_code != NGHTTP2_NO_ERROR) {
        snprintf(buf, len, "%s: stream reset by the server (%s)", c->env.addr->text,
                 nghttp2_http2_strerror(error_code));
        return (struct otelgen_answer){ .kind = OTELGEN_ANSWER_FAILED, .message = buf };
    }
    if (s->http_status != 200) {
        snprintf(buf, len, "HTTP status %d without grpc-status%s%s", s->http_status, msg[0] != '\0' ? ": " : "", msg);
        return (struct otelgen_answer){
            .kind = OTELGEN_ANSWER_GRPC, .code = otelgen_grpc_status_of_http(s->http_status), .message = buf };
    }
    snprintf(buf, len, "response without grpc-status");
    return (struct otelgen_answer){ .kind = OTELGEN_ANSWER_GRPC, .code = OTELGEN_GRPC_INTERNAL, .message = buf };
}

/* The answer with what the server said about retrying it. */
static struct otelgen_answer otelgen_grpc_answer(const struct otelgen_grpc *c, const struct otelgen_grpc_stream *s,
                                                 uint32_t error_code, char *buf, size_t len)
{
    struct otelgen_answer a = otelgen_grpc_answer_of(c, s, error_code, buf, len);

    a.retry_after_ms = s->retry.retry_after_ms;
    a.retry_info = s->retry.retry_info;
    a.no_retry = s->retry.no_retry;
    return a;
}

/* ---- nghttp2 callbacks: record, never tear down ---- */

/* Says how much of the body the next DATA frame carries; send_body copies it, so nghttp2 does not. */
static ssize_t otelgen_grpc_on_read_body(nghttp2_session *h2, int32_t id, uint8_t *buf, size_t length,
                                         uint32_t *flags, nghttp2_data_source *source, void *arg)
{
    struct otelgen_grpc_stream *s = source->ptr;
    (void)h2;
    (void)id;
    (void)buf;
    (void)arg;

    return h2_client_frame_body(&s->queued, s->body.len, length, flags);
}

/* Once every byte of <s>'s body is in the output (or the stream is closed) and the output refers to none
 * of it, the buffer goes back to the spare stack. A body that is not our buffer (a --file payload) stays. */
static void otelgen_grpc_release_body(struct otelgen_grpc_stream *s)
{
    struct otelgen_grpc *c = s->conn;

    if (s->refs > 0 || s->body.buf == NULL || (s->id != 0 && s->sent < s->body.len))
        return;
    c->spare[c->n_spare++] = s->body;
    s->body = (struct otelgen_payload_body){ 0 };
}

/* The socket took a piece of body added by reference (or the output was dropped). */
static void otelgen_grpc_on_body_written(const void *data, size_t len, void *arg)
{
    struct otelgen_grpc_stream *s = arg;
    (void)data;
    (void)len;

    s->refs--;
    otelgen_grpc_release_body(s);
}

static int otelgen_grpc_send_body(struct h2_client *hc, nghttp2_data_source *source, size_t length,
                                  struct evbuffer *out)
{
    struct otelgen_grpc_stream *s = source->ptr;
    (void)hc;

    if (length < OTELGEN_GRPC_BY_REFERENCE) {
        if (evbuffer_add(out, s->body.data + s->sent, length) != 0)
            return -1;
    } else {
        if (evbuffer_add_reference(out, s->body.data + s->sent, length, otelgen_grpc_on_body_written, s) != 0)
            return -1;
        s->refs++;
    }
    s->sent += length;
    otelgen_grpc_release_body(s);
    return 0;
}

static int otelgen_grpc_parse_status(const uint8_t *v, size_t len)
{
    int n = 0;

    if (len == 0 || len > 4)
        return OTELGEN_GRPC_UNKNOWN;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return OTELGEN_GRPC_UNKNOWN;
        n = n * 10 + (v[i] - '0');
    }
    return n;
}

static int otelgen_grpc_on_header(nghttp2_session *h2, const nghttp2_frame *frame, const uint8_t *name,
                                  size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *arg)
{
    struct otelgen_grpc_stream *s = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);
    (void)flags;
    (void)arg;

    if (s == NULL || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0)
        s->http_status = valuelen == 3 ? otelgen_grpc_parse_status(value, valuelen) : 0;
    else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
        s->grpc_status = otelgen_grpc_parse_status(value, valuelen);
    else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
        otelgen_grpc_set_message(s, value, valuelen);
    else if (namelen == 22 && memcmp(name, "grpc-retry-pushback-ms", 22) == 0)
        otelgen_retry_parse_pushback(value, valuelen, &s->retry);
    else if (namelen == 23 && memcmp(name, "grpc-status-details-bin", 23) == 0)
        otelgen_retry_parse_details(value, valuelen, &s->retry);
    return 0;
}

/* A gRPC response body is an Export*ServiceResponse: only a non-gRPC answer's body is worth a look. */
static int otelgen_grpc_on_data(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                                void *arg)
{
    struct otelgen_grpc_stream *s = nghttp2_session_get_stream_user_data(h2, id);
    size_t room;
    (void)flags;
    (void)arg;

    if (s == NULL || s->http_status == 200 || (s->message_len > 0 && !s->message_from_body))
        return 0;
    s->message_from_body = true;
    room = sizeof s->message - s->message_len;
    if (len > room)
        len = room;
    memcpy(s->message + s->message_len, data, len);
    s->message_len += len;
    return 0;
}

static int otelgen_grpc_on_stream_close(nghttp2_session *h2, int32_t id, uint32_t error_code, void *arg)
{
    struct otelgen_grpc *c = arg;
    struct otelgen_grpc_stream *s = nghttp2_session_get_stream_user_data(h2, id);
    char buf[OTELGEN_CONN_MESSAGE_MAX + 64];

    if (s == NULL)
        return 0;
    s->id = 0;
    c->inflight--;
    otelgen_grpc_release_body(s);
    if (error_code == NGHTTP2_REFUSED_STREAM && s->http_status == 0) {
        otelgen_worker_give_back(c->env.worker, &s->req);   /* refused streams were not processed */
        return 0;
    }
    struct otelgen_answer a = otelgen_grpc_answer(c, s, error_code, buf, sizeof buf);
    c->answered++;
    otelgen_worker_answered(c->env.worker, &s->req, &a);
    return 0;
}

/* ---- driving the session ---- */

static int otelgen_grpc_flush(struct otelgen_grpc *c, char *why, size_t len)
{
    int rv = h2_client_flush(&c->hc);

    if (rv != 0) {
        snprintf(why, len, "%s: HTTP/2: %s", c->env.addr->text, nghttp2_strerror(rv));
        return -1;
    }
    return 0;
}

/* --tenants: request number n carries the n-th tenant, round-robin. nghttp2 copies the array, not the
 * strings, so pointing the one slot at another tenant between submits is safe. */
static void otelgen_grpc_set_tenant(struct otelgen_grpc *c, uint64_t seq)
{
    const struct otelgen_target *t = c->env.target;
    const struct otelgen_header *h;

    if (t->n_tenants == 0)
        return;
    h = &t->tenants[seq % t->n_tenants];
    c->nv[c->tenant_nv].value = (uint8_t *)h->value;
    c->nv[c->tenant_nv].valuelen = strlen(h->value);
}

static int otelgen_grpc_submit(struct otelgen_grpc *c, struct otelgen_grpc_stream *s, const struct otelgen_req *req,
                               char *why, size_t len)
{
    nghttp2_data_provider body = { .source.ptr = s, .read_callback = otelgen_grpc_on_read_body };
    int32_t id;

    if (s->body.buf == NULL && c->n_spare > 0)
        s->body = c->spare[--c->n_spare];
    if (otelgen_payload_fill(c->env.payload, c->env.payload_ctx, &s->body, req->seq) != 0) {
        otelgen_worker_give_back(c->env.worker, req);
        snprintf(why, len, "cannot make a request body: out of memory");
        return -1;
    }
    *s = (struct otelgen_grpc_stream){ .conn = c, .body = s->body, .req = *req, .grpc_status = -1 };
    otelgen_grpc_set_tenant(c, req->seq);
    id = nghttp2_submit_request(c->hc.h2, NULL, c->nv, c->n_nv, &body, s);
    if (id < 0) {
        otelgen_worker_give_back(c->env.worker, req);
        snprintf(why, len, "%s: HTTP/2: %s", c->env.addr->text, nghttp2_strerror(id));
        return -1;
    }
    s->id = id;
    c->inflight++;
    return 0;
}

/* Fills free stream slots with the worker's next requests. A slot is free once its stream is closed and
 * the socket took every piece of its body the output referred to. */
static int otelgen_grpc_pump(struct otelgen_grpc *c, char *why, size_t len)
{
    uint32_t limit = nghttp2_session_get_remote_settings(c->hc.h2, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    struct otelgen_req req;

    if (limit > c->env.depth)
        limit = c->env.depth;
    for (unsigned i = 0; i < c->env.depth && c->inflight < limit && !c->hc.goaway && !c->closing; i++) {
        if (c->streams[i].id != 0 || c->streams[i].refs > 0)
            continue;
        if (!otelgen_worker_next(c->env.worker, c->env.slot, &req))
            break;
        if (otelgen_grpc_submit(c, &c->streams[i], &req, why, len) != 0)
            return -1;
    }
    return 0;
}

static int otelgen_grpc_feed(struct otelgen_grpc *c, char *why, size_t len)
{
    int rv = h2_client_feed(&c->hc);

    if (rv != 0) {
        snprintf(why, len, "%s: HTTP/2: %s", c->env.addr->text, nghttp2_strerror(rv));
        return -1;
    }
    return 0;
}

static void otelgen_grpc_on_read(struct bufferevent *bev, void *arg)
{
    struct otelgen_grpc *c = arg;
    char why[OTELGEN_CONN_MESSAGE_MAX];
    (void)bev;

    if (c->hc.h2 == NULL)
        return;
    if (otelgen_grpc_feed(c, why, sizeof why) != 0 || otelgen_grpc_pump(c, why, sizeof why) != 0 ||
        otelgen_grpc_flush(c, why, sizeof why) != 0) {
        otelgen_grpc_end(c, why);
        return;
    }
    otelgen_grpc_end_if_idle(c);
}

/* The output drained below its low mark: bodies were released (refill their slots) and nghttp2 may frame
 * more. */
static void otelgen_grpc_on_write(struct bufferevent *bev, void *arg)
{
    struct otelgen_grpc *c = arg;
    char why[OTELGEN_CONN_MESSAGE_MAX];
    (void)bev;

    if (c->hc.h2 == NULL)
        return;
    if (otelgen_grpc_pump(c, why, sizeof why) != 0 || otelgen_grpc_flush(c, why, sizeof why) != 0) {
        otelgen_grpc_end(c, why);
        return;
    }
    otelgen_grpc_end_if_idle(c);
}

static const struct h2_client_callbacks otelgen_grpc_callbacks = {
    .send_body = otelgen_grpc_send_body, .on_header = otelgen_grpc_on_header,
    .on_data = otelgen_grpc_on_data, .on_stream_close = otelgen_grpc_on_stream_close,
};

static int otelgen_grpc_session_start(struct otelgen_grpc *c, char *why, size_t len)
{
    int rv = h2_client_start(&c->hc, &otelgen_grpc_callbacks);

    if (rv != 0) {
        snprintf(why, len, "HTTP/2: %s", nghttp2_strerror(rv));
        return -1;
    }
    return 0;
}

static void otelgen_grpc_on_event(struct bufferevent *bev, short events, void *arg)
{
    struct otelgen_grpc *c = arg;
    char why[OTELGEN_CONN_MESSAGE_MAX];

    if (events & BEV_EVENT_CONNECTED) {
        c->connected = true;
        otelgen_net_on_connected(bev);
        if (otelgen_grpc_session_start(c, why, sizeof why) != 0 || otelgen_grpc_pump(c, why, sizeof why) != 0 ||
            otelgen_grpc_flush(c, why, sizeof why) != 0)
            otelgen_grpc_end(c, why);
        return;
    }
    if ((events & BEV_EVENT_TIMEOUT) && c->connected && c->inflight == 0 && !c->closing) {
        bufferevent_enable(bev, EV_READ | EV_WRITE);    /* idle, nothing is due: not a failure */
        return;
    }
    if ((events & BEV_EVENT_EOF) && c->connected && c->inflight == 0) {
        otelgen_grpc_end(c, NULL);                      /* nothing lost; the worker decides what next */
        return;
    }
    otelgen_net_describe(&c->env, bev, events, c->connected, why, sizeof why);
    otelgen_grpc_end(c, why);
}

/* ---- the client ---- */

static void otelgen_grpc_header(struct otelgen_grpc *c, const char *name, const char *value)
{
    /* nghttp2 takes non-const pointers but, with the NO_COPY flags, only reads them. */
    c->nv[c->n_nv++] = (nghttp2_nv){
        .name = (uint8_t *)name, .namelen = strlen(name), .value = (uint8_t *)value, .valuelen = strlen(value),
        .flags = NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE,
    };
}

static int otelgen_grpc_headers_create(struct otelgen_grpc *c)
{
    const struct otelgen_target *t = c->env.target;

    c->nv = calloc(OTELGEN_GRPC_FIXED_HEADERS + t->n_headers, sizeof *c->nv);
    if (c->nv == NULL)
        return -1;
    otelgen_grpc_header(c, ":method", "POST");
    otelgen_grpc_header(c, ":scheme", "http");
    otelgen_grpc_header(c, ":path", t->path);
    otelgen_grpc_header(c, ":authority", t->authority);
    otelgen_grpc_header(c, "content-type", t->content_type);
    otelgen_grpc_header(c, "te", "trailers");
    otelgen_grpc_header(c, "user-agent", "otelgen/" PACKAGE_VERSION);
    if (t->gzip)
        otelgen_grpc_header(c, "grpc-encoding", "gzip");
    for (size_t i = 0; i < t->n_headers; i++)
        otelgen_grpc_header(c, t->headers[i].name, t->headers[i].value);
    c->tenant_nv = c->n_nv;
    if (t->n_tenants > 0)
        otelgen_grpc_header(c, t->tenants[0].name, t->tenants[0].value);
    return 0;
}

static int otelgen_grpc_open(void **out, const struct otelgen_conn_env *env, char *err, size_t errlen)
{
    struct otelgen_grpc *c = calloc(1, sizeof *c);

    *out = NULL;
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->env = *env;
    c->streams = calloc(env->depth, sizeof *c->streams);
    c->spare = calloc(env->depth, sizeof *c->spare);
    if (c->streams == NULL || c->spare == NULL || otelgen_grpc_headers_create(c) != 0) {
        snprintf(err, errlen, "out of memory");
        free(c->spare);
        free(c->streams);
        free(c);
        return -1;
    }
    c->hc.out_high = OTELGEN_GRPC_OUT_HIGH;
    if (otelgen_net_connect(&c->hc.bev, env, otelgen_grpc_on_read, otelgen_grpc_on_write, otelgen_grpc_on_event, c, err,
                            errlen) != 0) {
        free(c->spare);
        free(c->streams);
        free(c->nv);
        free(c);
        return -1;
    }
    bufferevent_setwatermark(c->hc.bev, EV_WRITE, OTELGEN_GRPC_OUT_HIGH / 2, 0);
    *out = c;
    return 0;
}

static void otelgen_grpc_close(void *conn)
{
    struct otelgen_grpc *c = conn;
    char why[OTELGEN_CONN_MESSAGE_MAX];

    c->closing = true;
    if (c->hc.h2 == NULL) {
        otelgen_grpc_end(c, NULL);                      /* still connecting: nothing to say */
        return;
    }
    nghttp2_session_terminate_session(c->hc.h2, NGHTTP2_NO_ERROR);
    if (otelgen_grpc_flush(c, why, sizeof why) != 0) {
        otelgen_grpc_end(c, NULL);                      /* a failing goodbye costs no request */
        return;
    }
    otelgen_grpc_end_if_idle(c);
}

static void otelgen_grpc_kick(void *conn)
{
    struct otelgen_grpc *c = conn;
    char why[OTELGEN_CONN_MESSAGE_MAX];

    if (c->hc.h2 == NULL || c->closing)
        return;                                         /* not connected yet: it pumps once it is */
    if (otelgen_grpc_pump(c, why, sizeof why) != 0 || otelgen_grpc_flush(c, why, sizeof why) != 0) {
        otelgen_grpc_end(c, why);
        return;
    }
    otelgen_grpc_end_if_idle(c);
}

const struct otelgen_client_ops otelgen_grpc_client = {
    .name = "grpc",
    .open = otelgen_grpc_open,
    .close = otelgen_grpc_close,
    .kick = otelgen_grpc_kick,
};
