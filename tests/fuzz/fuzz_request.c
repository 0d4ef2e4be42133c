/* fuzz_request.c: the whole intake path as a client drives it. The input is
 * written to one end of a socketpair whose other end is a real connection of
 * a real worker loop: conn -> h1 or h2 -> otlp_http or grpc -> inflate, JSON,
 * scan -> pipeline -> an exporter that takes everything, now or (as the
 * spool does) a loop turn later, or refuses it for now. The first byte
 * chooses how the rest is sent:
 *   0: raw bytes to the HTTP port (the HTTP/1 parser, h2 preface detection)
 *   1: one OTLP/HTTP request whose body is the rest (content type, encoding
 *      and signal from the selector's bits)
 *   2: one gRPC call over h2c whose message is the rest (nghttp2 client)
 * It never crashes, leaks or hangs: the loop ends when the connection does. */
#include "autoconf.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "pipeline.h"
#include "recv_otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct event_base *fuzz_base;

static void fuzz_release(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    og_wait_release(arg, 0);
}

static int fuzz_consume(struct component *c, struct reactor *r, const struct otlp_payload *p, struct og_wait *w)
{
    static const struct timeval now = { 0, 0 };

    if (p->len % 7 == 3)
        return OG_RETRY;    /* now and then the gateway is "full" */
    if (p->len % 5 == 1 && event_base_once(fuzz_base, -1, EV_TIMEOUT, fuzz_release, w, &now) == 0) {
        og_wait_hold(w);    /* and now and then the answer comes later, as after a spool commit */
        return OG_PENDING;
    }
    return 0;
}

static const struct og_config_key fuzz_keys[] = { { .name = NULL } };
static const struct og_component_type fuzz_exporter_type = {
    .name = "fuzz", .kind = OG_KIND_EXPORTER, .keys = fuzz_keys, .signals = OG_SIGNAL_ALL,
    .consume = fuzz_consume,
};

static const char *const fuzz_grpc_paths[] = {
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    "/opentelemetry.proto.collector.trace.v1.TraceService/Nope",
};
static const char *const fuzz_http_paths[] = { "/v1/traces", "/v1/metrics", "/v1/logs", "/v1/nope" };

/* HTTP/1.1 request with the input as its body. */
static void fuzz_http_request(struct evbuffer *out, uint8_t sel, const uint8_t *body, size_t len)
{
    evbuffer_add_printf(out, "POST %s HTTP/1.1\r\nHost: f\r\nContent-Type: %s\r\n%s", fuzz_http_paths[sel & 3],
                        sel & 4 ? "application/json" : "application/x-protobuf",
                        sel & 8 ? "Content-Encoding: gzip\r\n" : "");
    if (sel & 16)
        evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", len);
    else
        evbuffer_add_printf(out, "Content-Length: %zu\r\n\r\n", len);
    evbuffer_add(out, body, len);
    if (sel & 16)
        evbuffer_add_printf(out, "%s0\r\n\r\n", len ? "\r\n" : "");
}

struct fuzz_body {
    const uint8_t *data;
    size_t len;
};

static ssize_t fuzz_read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                              nghttp2_data_source *src, void *user)
{
    struct fuzz_body *b = src->ptr;
    size_t n = b->len < length ? b->len : length;

    memcpy(buf, b->data, n);
    b->data += n;
    b->len -= n;
    if (b->len == 0)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* h2c client bytes of one gRPC call: the input is the message after the
 * 5-byte prefix the selector shapes (compressed flag, declared length). */
static void fuzz_grpc_request(struct evbuffer *out, uint8_t sel, const uint8_t *msg, size_t len)
{
    nghttp2_session_callbacks *cbs;
    nghttp2_session *s;
    uint8_t *framed = malloc(len + 5);
    uint32_t declared = sel & 32 ? (uint32_t)len + (sel & 64 ? 7u : 0u) : (uint32_t)(len / 2);
    struct fuzz_body body = { framed, len + 5 };
    const uint8_t *frame;
    ssize_t n;

    framed[0] = sel & 8 ? 1 : 0;
    framed[1] = (uint8_t)(declared >> 24);
    framed[2] = (uint8_t)(declared >> 16);
    framed[3] = (uint8_t)(declared >> 8);
    framed[4] = (uint8_t)declared;
    memcpy(framed + 5, msg, len);
    nghttp2_nv nv[] = {
        { (uint8_t *)":method", (uint8_t *)"POST", 7, 4, 0 },
        { (uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0 },
        { (uint8_t *)":authority", (uint8_t *)"f", 10, 1, 0 },
        { (uint8_t *)":path", (uint8_t *)fuzz_grpc_paths[sel & 3], 5, strlen(fuzz_grpc_paths[sel & 3]), 0 },
        { (uint8_t *)"content-type", (uint8_t *)(sel & 4 ? "text/plain" : "application/grpc"), 12,
          sel & 4 ? 10 : 16, 0 },
        { (uint8_t *)"grpc-encoding", (uint8_t *)(sel & 16 ? "gzip" : "identity"), 13, sel & 16 ? 4 : 8, 0 },
    };
    nghttp2_data_provider dp = { .source.ptr = &body, .read_callback = fuzz_read_body };
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_client_new(&s, cbs, NULL);
    nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL, 0);
    nghttp2_submit_request(s, NULL, nv, sizeof(nv) / sizeof(nv[0]), &dp, NULL);
    while ((n = nghttp2_session_mem_send(s, &frame)) > 0)
        evbuffer_add(out, frame, (size_t)n);
    nghttp2_session_del(s);
    nghttp2_session_callbacks_del(cbs);
    free(framed);
}

static void fuzz_on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct conn_listener *l = arg;

    if (l->head == NULL)
        event_base_loopbreak(l->base);
}

/* Runs the loop until the connection is gone; 2 s at most (a hang is a bug). */
static void fuzz_serve(struct event_base *base, struct conn_listener *l, struct evbuffer *input, bool grpc)
{
    int sv[2];
    struct timeval tick = { 0, 1000 }, limit = { 2, 0 };

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
        abort();
    conn_adopt(l, sv[0]);
    struct event *t = event_new(base, -1, EV_PERSIST, fuzz_on_tick, l);
    event_add(t, &tick);
    event_base_loopexit(base, &limit);
    while (evbuffer_get_length(input) > 0 && evbuffer_write(input, sv[1]) > 0)
        event_base_loop(base, EVLOOP_NONBLOCK);
    if (!grpc)
        shutdown(sv[1], SHUT_WR);
    else
        close(sv[1]);   /* h2: the client is done after its request */
    char sink[65536];
    while (l->head != NULL && event_base_loop(base, EVLOOP_ONCE) == 0) {
        if (!grpc)
            while (read(sv[1], sink, sizeof(sink)) > 0)
                ;
    }
    if (l->head != NULL)
        abort();    /* the connection outlived its client by 2 s: a hang */
    event_free(t);
    if (!grpc)
        close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct component exporter = { .type = &fuzz_exporter_type, .id = "fuzz" };
    static struct component *exporters[] = { &exporter };
    static struct pipeline pipe = { .exporters = exporters, .nexporters = 1 };
    struct recv_otlp_route route = { .id = "fuzz" };
    struct recv_otlp_proto proto = { .route = &route, .max_message_bytes = 1 << 20, .max_json_bytes = 1 << 18 };
    struct conn_listener l = { 0 };

    if (size < 1)
        return 0;
    signal(SIGPIPE, SIG_IGN);   /* as the daemon: a client gone mid-answer is EPIPE */
    log_set_level(LOG_LEVEL_ERROR);
    for (int s = 0; s < OG_SIGNAL_COUNT - 1; s++) {    /* logs have no pipeline: 404 / UNIMPLEMENTED */
        route.pipelines[s][0] = &pipe;
        route.npipelines[s] = 1;
    }
    bool grpc = data[0] % 3 == 2;
    uint8_t sel = size > 1 ? data[1] : 0;
    proto.paths[0] = "/v1/traces";
    proto.paths[1] = "/v1/metrics";
    proto.paths[2] = "/v1/logs";
    proto.serve = (struct conn_serve){
        .grpc = grpc, .max_body_bytes = (1 << 20) + 5, .max_header_bytes = 8192, .max_headers = 32,
        .max_concurrent_streams = 8, .max_connections = 4, .idle_timeout_ms = 1000,
        .handle = grpc ? grpc_handle : otlp_http_handle, .ctx = &proto, .id = "fuzz",
    };
    struct event_base *base = event_base_new();
    fuzz_base = base;
    struct evbuffer *input = evbuffer_new();
    conn_listener_init(&l, base, &proto.serve);
    if (data[0] % 3 == 0)
        evbuffer_add(input, data + 1, size - 1);
    else if (data[0] % 3 == 1)
        fuzz_http_request(input, sel, data + 2 - (size < 2), size - 2 + (size < 2));
    else
        fuzz_grpc_request(input, sel, data + 2 - (size < 2), size - 2 + (size < 2));
    fuzz_serve(base, &l, input, grpc);
    conn_listener_close(&l);
    evbuffer_free(input);
    event_base_free(base);
    return 0;
}
