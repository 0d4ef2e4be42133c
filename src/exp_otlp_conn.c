/* exp_otlp_conn.c: the otlp exporter's HTTP/2 client connection (h2c, prior
 * knowledge) through nghttp2 over a libevent bufferevent (the session itself,
 * shared with otelgen send, is h2_client.c). Many Export calls
 * ride one connection as concurrent streams. nghttp2 callbacks only record:
 * answers are handed to the exporter after nghttp2 returns, and the single
 * teardown (exp_otlp_conn_end) runs outside them, so no callback ever sees a
 * freed session. Responses are fed chunk by chunk without a pullup. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <nghttp2/nghttp2.h>

#include "exp_otlp_answer.h"
#include "exp_otlp_conn.h"
#include "h2_client.h"

#define EXP_OTLP_CONN_OUT_HIGH (256 * 1024)     /* stop framing while this much waits for the socket */
#define EXP_OTLP_CONN_RESP_MAX 512              /* response body bytes kept: enough for partial success */
#define EXP_OTLP_CONN_FIXED_HEADERS 9

struct exp_otlp_stream {
    struct exp_otlp_stream *next;       /* active list, then done list */
    struct exp_otlp_conn *conn;
    struct exp_otlp_batch *batch;
    int32_t id;
    int64_t start_ms;
    size_t sent;                        /* body bytes framed */
    size_t written;                     /* body bytes appended to the output */
    bool body_out;                      /* all of it: c->sending no longer counts it */
    uint32_t error_code;                /* RST_STREAM code, when closed by one */
    bool expired;                       /* we cancelled it at the deadline */
    bool gone;                          /* we reset it: its batch left the spool while it was sent */
    /* a batch read from the spool as it is written (b->read): the gRPC prefix, and the slice of the body
     * (message offsets [slice_off, slice_off + slice_len), prefix included) read last */
    uint8_t prefix[5];
    void *slice;
    uint8_t *slice_room;
    size_t slice_off, slice_len;
    struct exp_otlp_answer answer;
    size_t resp_len;
    uint8_t resp[EXP_OTLP_CONN_RESP_MAX];
};

struct exp_otlp_conn {
    struct h2_client hc;                /* first: the session's user data is the conn */
    struct exp_otlp_conn_env env;
    nghttp2_nv *nv;
    size_t n_nv;
    size_t tenant_nv;                   /* a configured x-tenant-id header's index, or n_nv */
    char authority[300];
    struct exp_otlp_stream *active, *done;
    unsigned inflight;
    unsigned sending;                   /* streams whose body is not all in the output yet */
    bool connected, ending;
};


/* ---- answer bodies (read by exp_otlp_answer.c) ---- */

/* The Export*ServiceResponse's partial success, after the 5-byte gRPC prefix (uncompressed: we never offer
 * grpc-accept-encoding). */
static void exp_otlp_parse_partial(const struct exp_otlp_stream *s, struct exp_otlp_answer *a)
{
    if (s->resp_len < 5 || s->resp[0] != 0)
        return;
    exp_otlp_answer_partial(s->resp + 5, s->resp_len - 5, a);
}

/* ---- nghttp2 callbacks: record, never tear down ---- */

/* The stream's body is all in the output (or will never be): the slice of a spooled batch can go while it
 * waits for its answer, and the next stream may start sending. */
static void exp_otlp_conn_body_out(struct exp_otlp_conn *c, struct exp_otlp_stream *s)
{
    if (s->body_out)
        return;
    s->body_out = true;
    c->sending--;
    exp_otlp_bytes_unref(s->slice);     /* the output keeps what it still has to write */
    s->slice = NULL;
}

static void exp_otlp_conn_stream_free(struct exp_otlp_stream *s)
{
    exp_otlp_bytes_unref(s->slice);
    free(s);
}

/* Makes the slice of a spooled batch read as it is written cover the message bytes [off, off + n): the next
 * DATA frame's, read before the frame is committed, so that a batch that cannot be read any more resets the
 * stream instead of leaving a frame half written. Returns 0, or -1 (out of memory, or the batch is gone). */
static int exp_otlp_conn_slice(struct exp_otlp_stream *s, size_t off, size_t n)
{
    struct exp_otlp_batch *b = s->batch;
    size_t total = b->len + 5, len = total - off, head = 0;
    uint8_t *room;
    void *slice;

    if (s->slice != NULL && off >= s->slice_off && off + n <= s->slice_off + s->slice_len)
        return 0;
    if (len > EXP_OTLP_SLICE && n <= EXP_OTLP_SLICE)
        len = EXP_OTLP_SLICE;
    else if (len > n && n > EXP_OTLP_SLICE)
        len = n;
    if ((slice = exp_otlp_bytes_new(len, &room)) == NULL)
        return -1;
    if (off < 5) {
        head = 5 - off < len ? 5 - off : len;
        memcpy(room, s->prefix + off, head);
    }
    if (len > head && b->read(b->read_arg, b, off + head - 5, len - head, room + head) != 0) {
        exp_otlp_bytes_unref(slice);
        return -1;
    }
    exp_otlp_bytes_unref(s->slice);
    s->slice = slice;
    s->slice_room = room;
    s->slice_off = off;
    s->slice_len = len;
    return 0;
}

/* How much of the message the next DATA frame carries. NO_COPY: nghttp2 does not copy it into a frame buffer
 * of its own; exp_otlp_conn_send_body appends it to the output straight from the batch (a spooled batch's
 * slice by reference: no copy at all). */
static ssize_t exp_otlp_conn_on_read_body(nghttp2_session *h2, int32_t id, uint8_t *buf, size_t length,
                                          uint32_t *flags, nghttp2_data_source *source, void *arg)
{
    struct exp_otlp_stream *s = source->ptr;
    size_t total = s->batch->len + 5;
    (void)h2;
    (void)id;
    (void)buf;
    (void)arg;

    if (s->batch->read != NULL && exp_otlp_conn_slice(s, s->sent, total - s->sent < length ? total - s->sent
                                                                                         : length) != 0) {
        s->gone = true;
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;   /* nghttp2 resets the stream: the answer says why */
    }
    return h2_client_frame_body(&s->sent, total, length, flags);
}

static void exp_otlp_conn_on_sent(const void *data, size_t len, void *own)
{
    (void)data;
    (void)len;
    exp_otlp_bytes_unref(own);
}

static int exp_otlp_conn_send_body(struct h2_client *hc, nghttp2_data_source *source, size_t length,
                                   struct evbuffer *out)
{
    struct exp_otlp_conn *c = (struct exp_otlp_conn *)hc;
    struct exp_otlp_stream *s = source->ptr;

    /* A spooled batch's frame goes out from the slice the read callback made cover it, without a copy; an
     * in-memory batch's from its data, behind the prefix submit wrote into the headroom. */
    if (s->batch->read != NULL) {
        void *own = exp_otlp_bytes_ref(s->slice);
        if (evbuffer_add_reference(out, s->slice_room + (s->written - s->slice_off), length, exp_otlp_conn_on_sent,
                                   own) != 0) {
            exp_otlp_bytes_unref(own);
            return -1;
        }
    } else if (evbuffer_add(out, s->batch->data - 5 + s->written, length) != 0) {
        return -1;
    }
    s->written += length;
    if (s->written == s->batch->len + 5)
        exp_otlp_conn_body_out(c, s);
    return 0;
}

static int exp_otlp_conn_parse_int(const uint8_t *v, size_t len, int64_t max)
{
    int64_t n = 0;

    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        n = n * 10 + (v[i] - '0');
    }
    return n > max ? -1 : (int)n;
}

/* grpc-message, decoded, as one safe log line. */
static void exp_otlp_conn_grpc_message(struct exp_otlp_answer *a, const uint8_t *v, size_t len)
{
    char text[sizeof a->message];

    exp_otlp_answer_message(a, text, exp_otlp_answer_percent_decode(v, len, text, sizeof text));
}

static int exp_otlp_conn_on_header(nghttp2_session *h2, const nghttp2_frame *frame, const uint8_t *name,
                                   size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *arg)
{
    struct exp_otlp_stream *s = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);
    struct exp_otlp_answer *a;
    (void)flags;
    (void)arg;

    if (s == NULL || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    a = &s->answer;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0)
        a->http_status = exp_otlp_conn_parse_int(value, valuelen, 999);
    else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
        a->grpc_status = exp_otlp_conn_parse_int(value, valuelen, 1000);
    else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
        exp_otlp_conn_grpc_message(a, value, valuelen);
    else if (namelen == 22 && memcmp(name, "grpc-retry-pushback-ms", 22) == 0)
        a->retry_after_ms = exp_otlp_conn_parse_int(value, valuelen, 86400000);
    else if (namelen == 23 && memcmp(name, "grpc-status-details-bin", 23) == 0)
        exp_otlp_answer_status_bin(value, valuelen, a);
    return 0;
}

static int exp_otlp_conn_on_data(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                                 void *arg)
{
    struct exp_otlp_stream *s = nghttp2_session_get_stream_user_data(h2, id);
    (void)flags;
    (void)arg;

    if (s == NULL)
        return 0;
    if (len > sizeof s->resp - s->resp_len)
        len = sizeof s->resp - s->resp_len;
    memcpy(s->resp + s->resp_len, data, len);
    s->resp_len += len;
    return 0;
}

static void exp_otlp_conn_unlink(struct exp_otlp_conn *c, struct exp_otlp_stream *s)
{
    for (struct exp_otlp_stream **pp = &c->active; *pp != NULL; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
}

/* Moves the stream to the done list; its answer is delivered once nghttp2 returned. */
static int exp_otlp_conn_on_stream_close(nghttp2_session *h2, int32_t id, uint32_t error_code, void *arg)
{
    struct exp_otlp_conn *c = arg;
    struct exp_otlp_stream *s = nghttp2_session_get_stream_user_data(h2, id);

    if (s == NULL)
        return 0;
    s->error_code = error_code;
    exp_otlp_conn_body_out(c, s);
    exp_otlp_conn_unlink(c, s);
    s->next = c->done;
    c->done = s;
    c->inflight--;
    return 0;
}

/* ---- answers ---- */

/* Turns what a closed stream recorded into its answer: a deadline, a reset, an HTTP error without
 * grpc-status, a missing status (INTERNAL), or the gRPC status with any partial success. */
static void exp_otlp_conn_finish_answer(struct exp_otlp_stream *s)
{
    struct exp_otlp_answer *a = &s->answer;

    if (s->expired) {
        *a = (struct exp_otlp_answer){ .transport = true, .grpc_status = 4, .retry_after_ms = -1 };
        snprintf(a->message, sizeof a->message, "no answer within the timeout");
    } else if (s->gone) {
        *a = (struct exp_otlp_answer){ .transport = true, .grpc_status = -1, .retry_after_ms = -1 };
        snprintf(a->message, sizeof a->message, "the batch could not be read from the spool while it was sent");
    } else if (a->grpc_status < 0 && s->error_code != NGHTTP2_NO_ERROR) {
        a->transport = true;
        snprintf(a->message, sizeof a->message, "stream reset by the upstream (%s)",
                 nghttp2_http2_strerror(s->error_code));
    } else if (a->grpc_status < 0 && a->http_status != 200 && a->http_status > 0) {
        snprintf(a->message, sizeof a->message, "HTTP status %d without grpc-status", a->http_status);
    } else if (a->grpc_status < 0) {
        a->grpc_status = 13;            /* INTERNAL, as gRPC clients map a missing status */
        snprintf(a->message, sizeof a->message, "response without grpc-status");
    } else if (a->grpc_status == 0) {
        exp_otlp_parse_partial(s, a);
    }
}

/* Hands finished streams back, oldest first is not guaranteed: the exporter sorts retries by due time. */
static void exp_otlp_conn_deliver(struct exp_otlp_conn *c)
{
    while (c->done != NULL) {
        struct exp_otlp_stream *s = c->done;
        c->done = s->next;
        exp_otlp_conn_finish_answer(s);
        c->env.on_answer(c->env.arg, s->batch, &s->answer);
        exp_otlp_conn_stream_free(s);
    }
}

/* ---- ending ---- */

static void exp_otlp_conn_end(struct exp_otlp_conn *c, const char *why)
{
    char reason[EXP_OTLP_MESSAGE_MAX];

    snprintf(reason, sizeof reason, "%s", why);
    c->ending = true;
    exp_otlp_conn_deliver(c);
    while (c->active != NULL) {
        struct exp_otlp_stream *s = c->active;
        c->active = s->next;
        struct exp_otlp_answer a = { .transport = true, .grpc_status = -1, .retry_after_ms = -1 };
        snprintf(a.message, sizeof a.message, "%s", reason);
        c->env.on_answer(c->env.arg, s->batch, &a);
        exp_otlp_conn_stream_free(s);
    }
    h2_client_dispose(&c->hc);
    bufferevent_free(c->hc.bev);
    free(c->nv);
    void (*on_closed)(void *, const char *) = c->env.on_closed;
    void *arg = c->env.arg;
    free(c);
    on_closed(arg, reason);
}

static int exp_otlp_conn_flush(struct exp_otlp_conn *c, char *why, size_t len)
{
    int rv = h2_client_flush(&c->hc);

    if (rv != 0) {
        snprintf(why, len, "HTTP/2: %s", nghttp2_strerror(rv));
        return -1;
    }
    return 0;
}

/* After any I/O: deliver answers, let the exporter refill, write; end a session nghttp2 is done with. */
static void exp_otlp_conn_after_io(struct exp_otlp_conn *c)
{
    char why[EXP_OTLP_MESSAGE_MAX];

    exp_otlp_conn_deliver(c);
    c->env.on_ready(c->env.arg);
    if (exp_otlp_conn_flush(c, why, sizeof why) != 0) {
        exp_otlp_conn_end(c, why);
        return;
    }
    if (h2_client_over(&c->hc)) {
        snprintf(why, sizeof why, "HTTP/2 session ended%s%s", c->hc.error[0] ? ": " : "", c->hc.error);
        exp_otlp_conn_end(c, why);
    }
}

static void exp_otlp_conn_on_read(struct bufferevent *bev, void *arg)
{
    struct exp_otlp_conn *c = arg;
    char why[EXP_OTLP_MESSAGE_MAX];
    int rv = h2_client_feed(&c->hc);
    (void)bev;

    if (rv != 0) {
        snprintf(why, sizeof why, "HTTP/2: %s", nghttp2_strerror(rv));
        exp_otlp_conn_end(c, why);
        return;
    }
    exp_otlp_conn_after_io(c);
}

static void exp_otlp_conn_on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    exp_otlp_conn_after_io(arg);
}

static const struct h2_client_callbacks exp_otlp_conn_callbacks = {
    .send_body = exp_otlp_conn_send_body, .on_header = exp_otlp_conn_on_header,
    .on_data = exp_otlp_conn_on_data, .on_stream_close = exp_otlp_conn_on_stream_close,
};

static void exp_otlp_conn_on_event(struct bufferevent *bev, short events, void *arg)
{
    struct exp_otlp_conn *c = arg;
    char why[EXP_OTLP_MESSAGE_MAX];

    if (events & BEV_EVENT_CONNECTED) {
        if (h2_client_start(&c->hc, &exp_otlp_conn_callbacks) != 0) {
            exp_otlp_conn_end(c, "HTTP/2: cannot start a session");
            return;
        }
        c->connected = true;
        bufferevent_enable(bev, EV_READ | EV_WRITE);
        exp_otlp_conn_after_io(c);
        return;
    }
    if (events & BEV_EVENT_ERROR) {
        int err = EVUTIL_SOCKET_ERROR();
        int dns = bufferevent_socket_get_dns_error(bev);
        const struct exp_otlp_target *t = &c->env.targets[0];
        snprintf(why, sizeof why, "%s %s:%s: %s", c->connected ? "connection to" : "cannot connect to", t->host,
                 t->port, dns != 0 ? evutil_gai_strerror(dns) : evutil_socket_error_to_string(err));
    } else {
        snprintf(why, sizeof why, "%s:%s closed the connection", c->env.targets[0].host, c->env.targets[0].port);
    }
    exp_otlp_conn_end(c, why);
}

/* ---- the client ---- */

static void exp_otlp_conn_header(struct exp_otlp_conn *c, const char *name, const char *value)
{
    /* nghttp2 takes non-const pointers but, with the NO_COPY flags, only reads them. */
    c->nv[c->n_nv++] = (nghttp2_nv){
        .name = (uint8_t *)name, .namelen = strlen(name), .value = (uint8_t *)value, .valuelen = strlen(value),
        .flags = NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE,
    };
}

static int exp_otlp_conn_headers_create(struct exp_otlp_conn *c)
{
    c->nv = calloc(EXP_OTLP_CONN_FIXED_HEADERS + c->env.n_headers + 1, sizeof *c->nv);
    if (c->nv == NULL)
        return -1;
    snprintf(c->authority, sizeof c->authority, "%s:%s", c->env.targets[0].host, c->env.targets[0].port);
    exp_otlp_conn_header(c, ":method", "POST");
    exp_otlp_conn_header(c, ":scheme", "http");
    exp_otlp_conn_header(c, ":path", component_signal_grpc_path(OG_SIGNAL_TRACES));        /* set per request */
    exp_otlp_conn_header(c, ":authority", c->authority);
    exp_otlp_conn_header(c, "content-type", "application/grpc");
    exp_otlp_conn_header(c, "te", "trailers");
    exp_otlp_conn_header(c, "user-agent", "otelgate/" PACKAGE_VERSION);
    /* Each message's flag says whether it is compressed: spooled batches may be either, whatever the exporter
     * compresses now. */
    exp_otlp_conn_header(c, "grpc-encoding", "gzip");
    c->tenant_nv = SIZE_MAX;
    for (size_t i = 0; i < c->env.n_headers; i++) {
        if (strcmp(c->env.header_names[i], "x-tenant-id") == 0)
            c->tenant_nv = c->n_nv;
        exp_otlp_conn_header(c, c->env.header_names[i], c->env.header_values[i]);
    }
    if (c->tenant_nv == SIZE_MAX)
        c->tenant_nv = c->n_nv;         /* appended per request, after the fixed ones */
    return 0;
}

static void *exp_otlp_conn_open(const struct exp_otlp_conn_env *env, char *err, size_t errlen)
{
    struct exp_otlp_conn *c = calloc(1, sizeof *c);

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->env = *env;
    c->hc.bev = bufferevent_socket_new(env->base, -1, BEV_OPT_CLOSE_ON_FREE);
    c->hc.out_high = EXP_OTLP_CONN_OUT_HIGH;
    if (c->hc.bev == NULL || exp_otlp_conn_headers_create(c) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    bufferevent_setcb(c->hc.bev, exp_otlp_conn_on_read, exp_otlp_conn_on_write, exp_otlp_conn_on_event, c);
    bufferevent_setwatermark(c->hc.bev, EV_WRITE, EXP_OTLP_CONN_OUT_HIGH / 2, 0);
    /* libevent writes 16 KiB per loop turn by default: too little for 50 KiB batches */
    bufferevent_set_max_single_write(c->hc.bev, EXP_OTLP_CONN_OUT_HIGH);
    bufferevent_set_max_single_read(c->hc.bev, 64 * 1024);
    /* NULL dns base: getaddrinfo on this thread (the exporter's own, never a worker's). */
    const struct exp_otlp_target *t = &env->targets[0];
    if (bufferevent_socket_connect_hostname(c->hc.bev, NULL, AF_UNSPEC, t->host, atoi(t->port)) != 0) {
        snprintf(err, errlen, "cannot connect to %s:%s", t->host, t->port);
        goto fail;
    }
    return c;
fail:
    if (c->hc.bev != NULL)
        bufferevent_free(c->hc.bev);
    free(c->nv);
    free(c);
    return NULL;
}

static unsigned exp_otlp_conn_room(const void *t, enum og_signal signal, unsigned want)
{
    const struct exp_otlp_conn *c = t;
    (void)signal;

    /* One stream sends its body at a time: the connection is one byte stream anyway, so interleaving bodies
     * only delays every answer, and memory holds one batch being written rather than num_consumers. */
    if (c == NULL || !c->connected || c->hc.goaway || c->ending || c->hc.h2 == NULL || c->sending > 0)
        return 0;
    uint32_t limit = nghttp2_session_get_remote_settings(c->hc.h2, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    if (limit > want)
        limit = want;
    return c->inflight < limit ? limit - c->inflight : 0;
}

static int exp_otlp_conn_submit(void *t, struct exp_otlp_batch *b, int64_t now_ms)
{
    struct exp_otlp_conn *c = t;
    struct exp_otlp_stream *s = calloc(1, sizeof *s);
    nghttp2_data_provider body = { .read_callback = exp_otlp_conn_on_read_body };
    size_t n_nv = c->n_nv;
    nghttp2_nv configured = c->tenant_nv < c->n_nv ? c->nv[c->tenant_nv] : (nghttp2_nv){ 0 };

    if (s == NULL)
        return -1;
    *s = (struct exp_otlp_stream){ .conn = c, .batch = b, .start_ms = now_ms };
    s->answer = (struct exp_otlp_answer){ .grpc_status = -1, .retry_after_ms = -1 };
    body.source.ptr = s;
    s->prefix[0] = b->gzip ? 1 : 0;
    s->prefix[1] = (uint8_t)(b->len >> 24);
    s->prefix[2] = (uint8_t)(b->len >> 16);
    s->prefix[3] = (uint8_t)(b->len >> 8);
    s->prefix[4] = (uint8_t)b->len;
    if (b->data != NULL)
        memcpy(b->data - 5, s->prefix, 5);     /* into the headroom: the body goes out in one piece */
    c->nv[2].value = (uint8_t *)component_signal_grpc_path(b->signal);
    c->nv[2].valuelen = strlen(component_signal_grpc_path(b->signal));
    if (b->tenant[0] != '\0') {
        /* The request's own tenant wins over a configured one. nghttp2 copies the array, not the strings:
         * the batch outlives the stream's headers. */
        c->nv[c->tenant_nv] = (nghttp2_nv){ .name = (uint8_t *)"x-tenant-id", .namelen = 11,
                                            .value = (uint8_t *)b->tenant, .valuelen = strlen(b->tenant),
                                            .flags = NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE };
        if (c->tenant_nv == c->n_nv)
            n_nv++;
    }
    s->id = nghttp2_submit_request(c->hc.h2, NULL, c->nv, n_nv, &body, s);
    if (c->tenant_nv < c->n_nv)
        c->nv[c->tenant_nv] = configured;
    if (s->id < 0) {
        free(s);
        return -1;
    }
    s->next = c->active;
    c->active = s;
    c->inflight++;
    c->sending++;
    return 0;
}

static void exp_otlp_conn_kick(void *t)
{
    struct exp_otlp_conn *c = t;

    if (c != NULL && c->hc.h2 != NULL && !c->ending)
        exp_otlp_conn_after_io(c);
}

static void exp_otlp_conn_expire(void *t, int64_t now_ms, int64_t timeout_ms)
{
    struct exp_otlp_conn *c = t;

    if (c == NULL || c->ending || c->hc.h2 == NULL)
        return;
    for (struct exp_otlp_stream *s = c->active; s != NULL; s = s->next) {
        if (!s->expired && now_ms - s->start_ms >= timeout_ms) {
            s->expired = true;
            nghttp2_submit_rst_stream(c->hc.h2, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        }
    }
}

static void exp_otlp_conn_close(void *t, const char *why)
{
    exp_otlp_conn_end(t, why);
}

const struct exp_otlp_transport exp_otlp_grpc_transport = {
    .name = "grpc",
    .open = exp_otlp_conn_open,
    .room = exp_otlp_conn_room,
    .submit = exp_otlp_conn_submit,
    .kick = exp_otlp_conn_kick,
    .expire = exp_otlp_conn_expire,
    .close = exp_otlp_conn_close,
};
