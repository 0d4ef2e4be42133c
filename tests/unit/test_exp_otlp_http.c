/* test_exp_otlp_http.c: the OTLP/HTTP transport against a scripted HTTP/1.1 server on 127.0.0.1 that runs
 * on the same event_base, so every case is exact: what the server saw of each request (line, headers, body
 * bytes), how many connections it accepted, and every field of every answer. Also the answer-body readers
 * (partial success, google.rpc.Status, RetryInfo, message cleaning) and Retry-After on their own. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <cmocka.h>

#include <event2/listener.h>

#include "../../src/exp_otlp_answer.c"     /* reaches the static helpers */
#include "../../src/exp_otlp_http.c"

#include "test_bench.h"

#define TEST_MAX 8                          /* requests per server, answers per case */

/* ---- the scripted server ---- */

/* What the server does once the <i>th request (counted over all its connections) is whole. */
struct test_step {
    uint8_t *raw;                           /* bytes to answer with, owned; NULL: no answer */
    size_t len;
    bool close;                             /* close the connection after writing them (or at once) */
    const uint8_t *expect;                  /* the body the request must carry, borrowed */
    size_t expect_len;
};

/* What the server saw of one request. */
struct test_req {
    char method[8];
    char url[64];
    char headers[2048];                     /* "name: value\n" each, names lower case */
    size_t body_len;
    bool body_ok;                           /* the body equals the step's expect bytes */
};

struct test_server {
    struct evconnlistener *lis;
    char port[8];
    struct test_step steps[TEST_MAX];
    struct test_req reqs[TEST_MAX];
    size_t n_reqs;
    size_t accepts;
    size_t client_closed;                   /* connections the transport closed */
    struct test_peer *peers;
};

struct test_peer {
    struct test_peer *next;
    struct test_server *srv;
    struct bufferevent *bev;
    http_parser parser;
    struct test_req *req;
    struct evbuffer *body;
    bool in_value;
    bool closing;                           /* free once the answer is written */
    size_t act;                             /* 1 + the request whose step is due, 0 when none */
};

static void test_str_append(char *dst, size_t cap, const char *s, size_t len)
{
    size_t n = strlen(dst);

    assert_true(n + len < cap);
    memcpy(dst + n, s, len);
    dst[n + len] = '\0';
}

static int test_peer_on_begin(http_parser *p)
{
    struct test_peer *pe = p->data;

    assert_true(pe->srv->n_reqs < TEST_MAX);
    pe->req = &pe->srv->reqs[pe->srv->n_reqs];
    memset(pe->req, 0, sizeof *pe->req);
    evbuffer_drain(pe->body, evbuffer_get_length(pe->body));
    pe->in_value = false;
    return 0;
}

static int test_peer_on_url(http_parser *p, const char *at, size_t len)
{
    struct test_peer *pe = p->data;

    test_str_append(pe->req->url, sizeof pe->req->url, at, len);
    return 0;
}

static int test_peer_on_field(http_parser *p, const char *at, size_t len)
{
    struct test_peer *pe = p->data;
    char lower[256];

    if (pe->in_value)
        test_str_append(pe->req->headers, sizeof pe->req->headers, "\n", 1);
    pe->in_value = false;
    assert_true(len < sizeof lower);
    for (size_t i = 0; i < len; i++)
        lower[i] = at[i] >= 'A' && at[i] <= 'Z' ? (char)(at[i] + 32) : at[i];
    test_str_append(pe->req->headers, sizeof pe->req->headers, lower, len);
    return 0;
}

static int test_peer_on_value(http_parser *p, const char *at, size_t len)
{
    struct test_peer *pe = p->data;

    if (!pe->in_value)
        test_str_append(pe->req->headers, sizeof pe->req->headers, ": ", 2);
    pe->in_value = true;
    test_str_append(pe->req->headers, sizeof pe->req->headers, at, len);
    return 0;
}

static int test_peer_on_headers_complete(http_parser *p)
{
    struct test_peer *pe = p->data;

    if (pe->in_value)
        test_str_append(pe->req->headers, sizeof pe->req->headers, "\n", 1);
    return 0;
}

static int test_peer_on_body(http_parser *p, const char *at, size_t len)
{
    struct test_peer *pe = p->data;

    evbuffer_add(pe->body, at, len);
    return 0;
}

/* Records the request; its step runs once the parser returned (it may free the peer). */
static int test_peer_on_complete(http_parser *p)
{
    struct test_peer *pe = p->data;
    struct test_server *s = pe->srv;
    const struct test_step *st = &s->steps[s->n_reqs];
    size_t len = evbuffer_get_length(pe->body);

    snprintf(pe->req->method, sizeof pe->req->method, "%s", http_method_str((enum http_method)p->method));
    pe->req->body_len = len;
    pe->req->body_ok = st->expect != NULL && len == st->expect_len &&
                       memcmp(evbuffer_pullup(pe->body, -1), st->expect, len) == 0;
    pe->act = ++s->n_reqs;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings test_peer_settings = {
    .on_message_begin = test_peer_on_begin,
    .on_url = test_peer_on_url,
    .on_header_field = test_peer_on_field,
    .on_header_value = test_peer_on_value,
    .on_headers_complete = test_peer_on_headers_complete,
    .on_body = test_peer_on_body,
    .on_message_complete = test_peer_on_complete,
};

static void test_peer_free(struct test_peer *pe)
{
    for (struct test_peer **pp = &pe->srv->peers; *pp != NULL; pp = &(*pp)->next)
        if (*pp == pe) {
            *pp = pe->next;
            break;
        }
    bufferevent_free(pe->bev);
    evbuffer_free(pe->body);
    free(pe);
}

/* Runs the step of the request just read. Returns -1 when it freed the peer. */
static int test_peer_act(struct test_peer *pe)
{
    const struct test_step *st = &pe->srv->steps[pe->act - 1];

    pe->act = 0;
    if (st->raw != NULL)
        bufferevent_write(pe->bev, st->raw, st->len);
    if (st->close && st->raw == NULL) {
        test_peer_free(pe);
        return -1;
    }
    pe->closing = st->close;
    http_parser_pause(&pe->parser, 0);
    return 0;
}

static void test_peer_on_read(struct bufferevent *bev, void *arg)
{
    struct test_peer *pe = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    while (evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        assert_int_equal(evbuffer_peek(in, -1, NULL, &v, 1), 1);
        size_t n = http_parser_execute(&pe->parser, &test_peer_settings, v.iov_base, v.iov_len);
        enum http_errno err = HTTP_PARSER_ERRNO(&pe->parser);
        if (err != HPE_OK && err != HPE_PAUSED)
            fail_msg("server: bad request: %s", http_errno_description(err));
        evbuffer_drain(in, n);
        if (pe->act != 0 && test_peer_act(pe) != 0)
            return;
    }
}

static void test_peer_on_write(struct bufferevent *bev, void *arg)
{
    struct test_peer *pe = arg;
    (void)bev;

    if (pe->closing)
        test_peer_free(pe);
}

static void test_peer_on_event(struct bufferevent *bev, short events, void *arg)
{
    struct test_peer *pe = arg;
    (void)bev;

    if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        pe->srv->client_closed++;
        test_peer_free(pe);
    }
}

static void test_server_on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int len,
                                  void *arg)
{
    struct test_server *s = arg;
    struct test_peer *pe = calloc(1, sizeof *pe);
    (void)sa;
    (void)len;

    assert_non_null(pe);
    pe->srv = s;
    pe->bev = bufferevent_socket_new(evconnlistener_get_base(lis), fd, BEV_OPT_CLOSE_ON_FREE);
    pe->body = evbuffer_new();
    assert_non_null(pe->bev);
    assert_non_null(pe->body);
    http_parser_init(&pe->parser, HTTP_REQUEST);
    pe->parser.data = pe;
    bufferevent_setcb(pe->bev, test_peer_on_read, test_peer_on_write, test_peer_on_event, pe);
    bufferevent_enable(pe->bev, EV_READ | EV_WRITE);
    pe->next = s->peers;
    s->peers = pe;
    s->accepts++;
}

static void test_server_start(struct test_server *s, struct event_base *base)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t slen = sizeof sin;

    memset(s, 0, sizeof *s);
    s->lis = evconnlistener_new_bind(base, test_server_on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                     (struct sockaddr *)&sin, sizeof sin);
    assert_non_null(s->lis);
    assert_int_equal(getsockname(evconnlistener_get_fd(s->lis), (struct sockaddr *)&sin, &slen), 0);
    snprintf(s->port, sizeof s->port, "%u", ntohs(sin.sin_port));
}

static void test_server_stop(struct test_server *s)
{
    while (s->peers != NULL)
        test_peer_free(s->peers);
    if (s->lis != NULL)
        evconnlistener_free(s->lis);
    s->lis = NULL;
    for (size_t i = 0; i < TEST_MAX; i++) {
        free(s->steps[i].raw);
        s->steps[i].raw = NULL;
    }
}

/* Step <i>: answer <raw> bytes as they are (NULL: do not answer), then close or not. */
static void test_step_raw(struct test_server *s, size_t i, const void *raw, size_t len, bool close)
{
    struct test_step *st = &s->steps[i];

    st->raw = NULL;
    if (raw != NULL) {
        st->raw = malloc(len);
        assert_non_null(st->raw);
        memcpy(st->raw, raw, len);
    }
    st->len = len;
    st->close = close;
}

/* Step <i>: answer "HTTP/1.1 <status>", <headers> (each ending in CRLF), a Content-Length and <body>. */
static void test_step_reply(struct test_server *s, size_t i, const char *status, const char *headers,
                            const void *body, size_t len, bool close)
{
    char head[512];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\n\r\n", status, headers, len);
    uint8_t *raw = malloc((size_t)n + len + 1);

    assert_true(n > 0 && (size_t)n < sizeof head);
    assert_non_null(raw);
    memcpy(raw, head, (size_t)n);
    memcpy(raw + n, body, len);
    test_step_raw(s, i, raw, (size_t)n + len, close);
    free(raw);
}

/* ---- protobuf bodies, written by hand ---- */

struct test_pb {
    uint8_t b[512];
    size_t n;
};

static void test_pb_raw_varint(struct test_pb *m, uint64_t v)
{
    do {
        assert_true(m->n < sizeof m->b);
        m->b[m->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
}

static void test_pb_uint(struct test_pb *m, unsigned field, uint64_t v)
{
    test_pb_raw_varint(m, (uint64_t)field << 3);
    test_pb_raw_varint(m, v);
}

static void test_pb_bytes(struct test_pb *m, unsigned field, const void *data, size_t len)
{
    test_pb_raw_varint(m, (uint64_t)field << 3 | 2);
    test_pb_raw_varint(m, len);
    assert_true(m->n + len <= sizeof m->b);
    memcpy(m->b + m->n, data, len);
    m->n += len;
}

/* Export*ServiceResponse { partial_success = 1 { rejected = 1; error_message = 2; } } */
static struct test_pb test_pb_partial(uint64_t rejected, const char *message)
{
    struct test_pb ps = { .n = 0 }, m = { .n = 0 };

    test_pb_uint(&ps, 1, rejected);
    test_pb_bytes(&ps, 2, message, strlen(message));
    test_pb_bytes(&m, 1, ps.b, ps.n);
    return m;
}

/* google.rpc.Status { code = 1; message = 2; details = 3 (a RetryInfo of <s>.<ns> when s or ns) } */
static struct test_pb test_pb_status(int code, const char *message, uint64_t s, uint64_t ns)
{
    static const char type[] = "type.googleapis.com/google.rpc.RetryInfo";
    struct test_pb d = { .n = 0 }, ri = { .n = 0 }, any = { .n = 0 }, m = { .n = 0 };

    test_pb_uint(&m, 1, (uint64_t)code);
    test_pb_bytes(&m, 2, message, strlen(message));
    if (s == 0 && ns == 0)
        return m;
    test_pb_uint(&d, 1, s);
    test_pb_uint(&d, 2, ns);
    test_pb_bytes(&ri, 1, d.b, d.n);
    test_pb_bytes(&any, 1, type, sizeof type - 1);
    test_pb_bytes(&any, 2, ri.b, ri.n);
    test_pb_bytes(&m, 3, any.b, any.n);
    return m;
}

/* ---- the transport under test, and what it answered ---- */

struct test_answer {
    struct exp_otlp_batch *b;
    struct exp_otlp_answer a;
    bool closed_before;                     /* on_closed had already run */
};

static struct test_ctx {
    struct event_base *base;
    struct test_server srv[2];
    struct exp_otlp_conn_env env;
    void *t;
    struct test_answer ans[TEST_MAX];
    size_t n_ans;
    size_t readies;
    size_t closed;
    char closed_why[EXP_OTLP_MESSAGE_MAX];
    struct exp_otlp_batch *submitted[TEST_MAX];
    size_t n_submitted;
    uint8_t *pb, *gz;                       /* traces_100.pb and .pb.gz */
    size_t pb_len, gz_len;
    char host_hdr[2][64];                   /* "host: 127.0.0.1:<port>" of each server */
} ctx;

static const char *const test_hnames[] = { "authorization", "x-tenant-id" };
static const char *const test_hvalues[] = { "Bearer secret", "configured" };

static void test_on_answer(void *arg, struct exp_otlp_batch *b, const struct exp_otlp_answer *a)
{
    (void)arg;
    for (size_t i = 0; i < ctx.n_ans; i++)
        assert_ptr_not_equal(ctx.ans[i].b, b);     /* exactly once */
    assert_true(ctx.n_ans < TEST_MAX);
    ctx.ans[ctx.n_ans++] = (struct test_answer){ .b = b, .a = *a, .closed_before = ctx.closed > 0 };
}

static void test_on_ready(void *arg)
{
    (void)arg;
    ctx.readies++;
}

static void test_on_closed(void *arg, const char *why)
{
    (void)arg;
    ctx.closed++;
    snprintf(ctx.closed_why, sizeof ctx.closed_why, "%s", why);
}

static int test_setup(void **state)
{
    (void)state;
    uint8_t *pb = ctx.pb, *gz = ctx.gz;
    size_t pb_len = ctx.pb_len, gz_len = ctx.gz_len;

    memset(&ctx, 0, sizeof ctx);
    ctx.pb = pb, ctx.pb_len = pb_len, ctx.gz = gz, ctx.gz_len = gz_len;
    ctx.base = event_base_new();
    assert_non_null(ctx.base);
    for (size_t i = 0; i < 2; i++) {
        test_server_start(&ctx.srv[i], ctx.base);
        snprintf(ctx.host_hdr[i], sizeof ctx.host_hdr[i], "host: 127.0.0.1:%s\n", ctx.srv[i].port);
    }
    ctx.env = (struct exp_otlp_conn_env){
        .base = ctx.base, .id = "otlphttp/test",
        .targets = { { "127.0.0.1", ctx.srv[0].port, "/v1/traces" }, { "127.0.0.1", ctx.srv[0].port, "/v1/metrics" },
                     { "127.0.0.1", ctx.srv[0].port, "/v1/logs" } },
        .header_names = test_hnames, .header_values = test_hvalues, .n_headers = 2, .max_inflight = 1,
        .on_answer = test_on_answer, .on_ready = test_on_ready, .on_closed = test_on_closed,
    };
    return 0;
}

static void test_open(void)
{
    char err[200] = "";

    ctx.t = exp_otlp_http_transport.open(&ctx.env, err, sizeof err);
    if (ctx.t == NULL)
        fail_msg("open: %s", err);
}

/* Closes the transport if the case did not, and checks that every batch submitted came back exactly once. */
static int test_teardown(void **state)
{
    (void)state;
    if (ctx.t != NULL)
        exp_otlp_http_transport.close(ctx.t, "test over");
    ctx.t = NULL;
    assert_int_equal(ctx.n_ans, ctx.n_submitted);
    for (size_t i = 0; i < ctx.n_ans; i++)
        free(ctx.ans[i].b);
    for (size_t i = 0; i < 2; i++)
        test_server_stop(&ctx.srv[i]);
    event_base_free(ctx.base);
    return 0;
}

static bool test_timed_out;

static void test_on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    test_timed_out = true;
}

/* Runs the loop until *counter reaches n; fails after 5 s. Then runs what is already due (on_ready). */
static void test_wait(const size_t *counter, size_t n)
{
    struct event *ev = evtimer_new(ctx.base, test_on_timeout, NULL);
    struct timeval tv = { 5, 0 };

    assert_non_null(ev);
    test_timed_out = false;
    evtimer_add(ev, &tv);
    while (*counter < n && !test_timed_out)
        event_base_loop(ctx.base, EVLOOP_ONCE);
    event_free(ev);
    if (*counter < n)
        fail_msg("timed out: %zu of %zu", *counter, n);
    event_base_loop(ctx.base, EVLOOP_NONBLOCK);
}

/* A batch of traces_100 (gzip'd when <gzip>) for <signal> and <tenant>, submitted at <now>. Returns it. */
static struct exp_otlp_batch *test_submit(enum og_signal signal, const char *tenant, bool gzip, int64_t now)
{
    const uint8_t *data = gzip ? ctx.gz : ctx.pb;
    size_t len = gzip ? ctx.gz_len : ctx.pb_len;
    struct exp_otlp_batch *b = exp_otlp_batch_new(tenant, len);

    assert_non_null(b);
    memcpy(b->data, data, len);
    b->signal = signal;
    b->items = 100;
    b->gzip = gzip;
    assert_int_equal(exp_otlp_http_transport.submit(ctx.t, b, now), 0);
    ctx.submitted[ctx.n_submitted++] = b;
    return b;
}

/* The answer every field of which is given: the rest of a hand-made one. */
static void test_answer_is(size_t i, bool transport, int http, int64_t retry_after_ms, bool retry_info,
                           int64_t rejected, const char *message)
{
    const struct exp_otlp_answer *a = &ctx.ans[i].a;

    assert_true(i < ctx.n_ans);
    assert_int_equal(a->transport, transport);
    assert_int_equal(a->grpc_status, -1);
    assert_int_equal(a->http_status, http);
    assert_int_equal(a->retry_after_ms, retry_after_ms);
    assert_int_equal(a->retry_info, retry_info);
    assert_int_equal(a->rejected, rejected);
    assert_string_equal(a->message, message);
}

static void test_expect_body(struct test_server *s, size_t i, bool gzip)
{
    s->steps[i].expect = gzip ? ctx.gz : ctx.pb;
    s->steps[i].expect_len = gzip ? ctx.gz_len : ctx.pb_len;
}

static void test_has_header(const struct test_req *r, const char *line)
{
    if (strstr(r->headers, line) == NULL)
        fail_msg("no \"%s\" in:\n%s", line, r->headers);
}

/* Opens the transport, sends one traces batch and waits for its answer (the server's steps are set). */
static void test_send_one(void)
{
    test_open();
    test_submit(OG_SIGNAL_TRACES, "", false, 1000);
    test_wait(&ctx.n_ans, 1);
}

/* Answer <i> is a transport failure whose message starts with <prefix> (formatted) and says more after it. */
static void test_failure_is(size_t i, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void test_failure_is(size_t i, const char *fmt, ...)
{
    const struct exp_otlp_answer *a = &ctx.ans[i].a;
    char prefix[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    assert_true(i < ctx.n_ans);
    assert_true(a->transport);
    assert_int_equal(a->http_status, 0);
    assert_int_equal(a->grpc_status, -1);
    assert_int_equal(a->retry_after_ms, -1);
    if (strncmp(a->message, prefix, strlen(prefix)) != 0 || strlen(a->message) <= strlen(prefix))
        fail_msg("message \"%s\" does not start with \"%s\" and go on", a->message, prefix);
}

/* ---- cases ---- */

/* 200 with a protobuf partial success; the request as sent: line, every header, the body byte for byte. */
static void test_partial_success(void **state)
{
    struct test_pb body = test_pb_partial(7, "bad span");
    char len_hdr[64];
    (void)state;

    test_step_reply(&ctx.srv[0], 0, "200 OK", "Content-Type: application/x-protobuf\r\n", body.b, body.n, false);
    test_expect_body(&ctx.srv[0], 0, false);
    test_open();
    struct exp_otlp_batch *b = test_submit(OG_SIGNAL_TRACES, "acme", false, 1000);
    test_wait(&ctx.n_ans, 1);

    assert_ptr_equal(ctx.ans[0].b, b);
    test_answer_is(0, false, 200, -1, false, 7, "bad span");
    assert_true(ctx.readies >= 1);
    const struct test_req *r = &ctx.srv[0].reqs[0];
    assert_int_equal(ctx.srv[0].n_reqs, 1);
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->url, "/v1/traces");
    assert_true(r->body_ok);
    snprintf(len_hdr, sizeof len_hdr, "content-length: %zu\n", ctx.pb_len);
    test_has_header(r, ctx.host_hdr[0]);
    test_has_header(r, len_hdr);
    test_has_header(r, "content-type: application/x-protobuf\n");
    test_has_header(r, "user-agent: otelgate/" PACKAGE_VERSION "\n");
    test_has_header(r, "authorization: Bearer secret\n");
    test_has_header(r, "x-tenant-id: acme\n");
    assert_null(strstr(r->headers, "configured"));              /* the batch's tenant replaced it */
    assert_null(strstr(r->headers, "content-encoding"));
    /* exactly these six headers, each once */
    size_t lines = 0;
    for (const char *p = r->headers; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_int_equal(lines, 6);
}

/* A JSON body on a 200 is not read; a 1xx before the final answer is skipped. */
static void test_json_and_informational(void **state)
{
    static const char json[] = "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":\"x\"}}";
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    (void)state;

    test_step_reply(&ctx.srv[0], 0, "200 OK", "Content-Type: application/json\r\n", json, sizeof json - 1, false);
    test_step_raw(&ctx.srv[0], 1, cont, sizeof cont - 1, false);
    test_open();
    test_submit(OG_SIGNAL_METRICS, "", false, 1000);
    test_wait(&ctx.n_ans, 1);
    test_submit(OG_SIGNAL_LOGS, "", false, 1000);
    test_wait(&ctx.n_ans, 2);

    test_answer_is(0, false, 200, -1, false, 0, "");
    test_answer_is(1, false, 200, -1, false, 0, "");
    assert_string_equal(ctx.srv[0].reqs[0].url, "/v1/metrics");
    assert_string_equal(ctx.srv[0].reqs[1].url, "/v1/logs");
    test_has_header(&ctx.srv[0].reqs[0], "x-tenant-id: configured\n");     /* no tenant on the batch */
    assert_int_equal(ctx.srv[0].accepts, 1);
}

/* 503 with Retry-After in seconds and a text body, which becomes the message on one clean line. */
static void test_503_retry_after(void **state)
{
    static const char text[] = "upstream\r\n   overloaded\x01\t";
    (void)state;

    test_step_reply(&ctx.srv[0], 0, "503 Service Unavailable", "Retry-After: 3\r\nContent-Type: text/plain\r\n", text,
                    sizeof text - 1, false);
    test_send_one();
    test_answer_is(0, false, 503, 3000, false, 0, "upstream overloaded");
}

/* 400 with a google.rpc.Status; then 429 with a RetryInfo of 2.5 s; then 429 with RetryInfo and a Retry-After,
 * which wins; then 502 with no body at all: the reason phrase is the message. All on one connection. */
static void test_status_bodies(void **state)
{
    struct test_pb st400 = test_pb_status(3, "invalid span id", 0, 0);
    struct test_pb st429 = test_pb_status(8, "slow down", 2, 500000000);
    static const char pbt[] = "Content-Type: application/x-protobuf\r\n";
    (void)state;

    test_step_reply(&ctx.srv[0], 0, "400 Bad Request", pbt, st400.b, st400.n, false);
    test_step_reply(&ctx.srv[0], 1, "429 Too Many Requests", pbt, st429.b, st429.n, false);
    test_step_reply(&ctx.srv[0], 2, "429 Too Many Requests", "Retry-After: 7\r\nContent-Type: application/x-protobuf\r\n",
                    st429.b, st429.n, false);
    test_step_reply(&ctx.srv[0], 3, "502 Bad Gateway", "", "", 0, false);
    test_open();
    for (size_t i = 0; i < 4; i++) {
        test_submit(OG_SIGNAL_TRACES, "", false, 1000);
        test_wait(&ctx.n_ans, i + 1);
    }
    test_answer_is(0, false, 400, -1, false, 0, "invalid span id");
    test_answer_is(1, false, 429, 2500, true, 0, "slow down");
    test_answer_is(2, false, 429, 7000, true, 0, "slow down");
    test_answer_is(3, false, 502, -1, false, 0, "Bad Gateway");
    assert_int_equal(ctx.srv[0].accepts, 1);
}

/* An HTTP/1.0 answer without Content-Length: the body runs to the end of the connection. */
static void test_body_to_eof(void **state)
{
    static const char raw[] = "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\n\r\nbad thing\n";
    (void)state;

    test_step_raw(&ctx.srv[0], 0, raw, sizeof raw - 1, true);
    test_send_one();
    test_answer_is(0, false, 400, -1, false, 0, "bad thing");
    assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_TRACES, 4), 1);   /* closed, may reopen */
}

static void test_closed_mid_response(void **state)
{
    static const char raw[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc";
    char msg[200];
    (void)state;

    test_step_raw(&ctx.srv[0], 0, raw, sizeof raw - 1, true);
    test_send_one();
    snprintf(msg, sizeof msg, "127.0.0.1:%s closed the connection in the middle of the response", ctx.srv[0].port);
    test_answer_is(0, true, 0, -1, false, 0, msg);
}

/* No answer: nothing happens before the timeout, then a transport failure and the connection is closed. */
static void test_expire(void **state)
{
    char msg[200];
    (void)state;

    test_step_raw(&ctx.srv[0], 0, NULL, 0, false);
    test_expect_body(&ctx.srv[0], 0, false);
    test_open();
    test_submit(OG_SIGNAL_TRACES, "", false, 1000);
    test_wait(&ctx.srv[0].n_reqs, 1);
    assert_true(ctx.srv[0].reqs[0].body_ok);
    exp_otlp_http_transport.expire(ctx.t, 5999, 5000);
    assert_int_equal(ctx.n_ans, 0);
    assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_TRACES, 4), 0);
    exp_otlp_http_transport.expire(ctx.t, 6000, 5000);
    assert_int_equal(ctx.n_ans, 1);
    snprintf(msg, sizeof msg, "deadline exceeded: no answer from 127.0.0.1:%s within 5000 ms", ctx.srv[0].port);
    test_answer_is(0, true, 0, -1, false, 0, msg);
    assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_TRACES, 4), 1);
    test_wait(&ctx.srv[0].client_closed, 1);
    assert_true(ctx.readies >= 1);
}

/* Three requests, one after the other, of the three signals ride one connection; room follows. */
static void test_keepalive_reuse(void **state)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    static const char *const urls[] = { "/v1/traces", "/v1/metrics", "/v1/logs" };
    (void)state;

    test_open();
    assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_TRACES, 4), 1);
    assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_TRACES, 0), 0);
    for (size_t i = 0; i < 3; i++) {
        test_step_raw(&ctx.srv[0], i, ok, sizeof ok - 1, false);
        test_expect_body(&ctx.srv[0], i, false);
        test_submit((enum og_signal)i, "", false, 1000);
        assert_int_equal(exp_otlp_http_transport.room(ctx.t, (enum og_signal)i, 4), 0);
        test_wait(&ctx.n_ans, i + 1);
        test_answer_is(i, false, 200, -1, false, 0, "");
        assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_LOGS, 4), 1);
        assert_string_equal(ctx.srv[0].reqs[i].url, urls[i]);
        assert_true(ctx.srv[0].reqs[i].body_ok);
    }
    assert_int_equal(ctx.srv[0].accepts, 1);
    assert_int_equal(ctx.srv[0].client_closed, 0);
}

/* Connection: close is honoured: the next request opens a new connection. */
static void test_connection_close(void **state)
{
    static const char bye[] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    (void)state;

    test_step_raw(&ctx.srv[0], 0, bye, sizeof bye - 1, true);
    test_step_raw(&ctx.srv[0], 1, ok, sizeof ok - 1, false);
    test_send_one();
    test_submit(OG_SIGNAL_TRACES, "", false, 1000);
    test_wait(&ctx.n_ans, 2);
    test_answer_is(0, false, 200, -1, false, 0, "");
    test_answer_is(1, false, 200, -1, false, 0, "");
    assert_int_equal(ctx.srv[0].accepts, 2);
    assert_int_equal(ctx.srv[0].n_reqs, 2);
}

/* The upstream drops a kept connection as the next request arrives: a transport failure, not a resend. */
static void test_reused_closed(void **state)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    char msg[200];
    (void)state;

    test_step_raw(&ctx.srv[0], 0, ok, sizeof ok - 1, false);
    test_step_raw(&ctx.srv[0], 1, NULL, 0, true);
    test_send_one();
    test_submit(OG_SIGNAL_TRACES, "", false, 1000);
    test_wait(&ctx.n_ans, 2);
    snprintf(msg, sizeof msg, "127.0.0.1:%s closed the reused connection before answering", ctx.srv[0].port);
    test_answer_is(1, true, 0, -1, false, 0, msg);
    assert_int_equal(ctx.srv[0].accepts, 1);
    assert_int_equal(ctx.srv[0].n_reqs, 2);             /* sent once: the transport did not resend it */
}

static void test_connect_refused(void **state)
{
    (void)state;

    evconnlistener_free(ctx.srv[1].lis);                /* a port nobody listens on any more */
    ctx.srv[1].lis = NULL;
    ctx.env.targets[OG_SIGNAL_TRACES].port = ctx.srv[1].port;
    test_send_one();
    test_failure_is(0, "cannot connect to 127.0.0.1:%s: ", ctx.srv[1].port);
    assert_non_null(strstr(ctx.ans[0].a.message, "refused"));
    assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_TRACES, 4), 1);
    assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_METRICS, 4), 1);   /* the other pool */
}

/* A name that cannot resolve (glibc refuses it without asking DNS) fails inside submit: answered there, and
 * on_ready comes later from the loop, not from inside submit. */
static void test_unresolvable(void **state)
{
    (void)state;

    ctx.env.targets[OG_SIGNAL_TRACES].host = "no such host";
    test_open();
    test_submit(OG_SIGNAL_TRACES, "", false, 1000);
    assert_int_equal(ctx.n_ans, 1);
    assert_int_equal(ctx.readies, 0);
    test_failure_is(0, "cannot connect to no such host:%s: ", ctx.srv[0].port);
    test_wait(&ctx.readies, 1);
    assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_TRACES, 4), 1);
}

/* close() answers what is in flight, then calls on_closed with the same reason. */
static void test_close_in_flight(void **state)
{
    (void)state;

    test_step_raw(&ctx.srv[0], 0, NULL, 0, false);
    test_open();
    test_submit(OG_SIGNAL_TRACES, "", false, 1000);
    test_wait(&ctx.srv[0].n_reqs, 1);
    exp_otlp_http_transport.close(ctx.t, "exporter stopping");
    ctx.t = NULL;
    assert_int_equal(ctx.n_ans, 1);
    test_answer_is(0, true, 0, -1, false, 0, "exporter stopping");
    assert_false(ctx.ans[0].closed_before);
    assert_int_equal(ctx.closed, 1);
    assert_string_equal(ctx.closed_why, "exporter stopping");
    test_wait(&ctx.srv[0].client_closed, 1);
}

/* Two connections at once to one upstream (max_inflight 2), logs to another upstream and path, gzip'd, with
 * the configured tenant; room per pool; a submit past the room is refused and the batch left to the caller. */
static void test_pools_and_gzip(void **state)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    (void)state;

    ctx.env.max_inflight = 2;
    ctx.env.targets[OG_SIGNAL_LOGS] = (struct exp_otlp_target){ "127.0.0.1", ctx.srv[1].port, "/custom/logs" };
    test_step_raw(&ctx.srv[0], 0, ok, sizeof ok - 1, false);
    test_step_raw(&ctx.srv[0], 1, ok, sizeof ok - 1, false);
    test_step_raw(&ctx.srv[1], 0, ok, sizeof ok - 1, false);
    test_expect_body(&ctx.srv[1], 0, true);
    test_open();
    assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_TRACES, 4), 2);
    test_submit(OG_SIGNAL_TRACES, "", false, 1000);
    test_submit(OG_SIGNAL_METRICS, "", false, 1000);
    assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_TRACES, 4), 0);
    assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_LOGS, 4), 2);

    struct exp_otlp_batch *extra = exp_otlp_batch_new("", 1);
    assert_non_null(extra);
    assert_int_equal(exp_otlp_http_transport.submit(ctx.t, extra, 1000), -1);
    free(extra);

    test_submit(OG_SIGNAL_LOGS, "", true, 1000);
    test_wait(&ctx.n_ans, 3);
    for (size_t i = 0; i < 3; i++)
        test_answer_is(i, false, 200, -1, false, 0, "");
    assert_int_equal(ctx.srv[0].accepts, 2);
    assert_int_equal(ctx.srv[1].accepts, 1);
    const struct test_req *r = &ctx.srv[1].reqs[0];
    assert_string_equal(r->url, "/custom/logs");
    assert_true(r->body_ok);
    test_has_header(r, ctx.host_hdr[1]);
    test_has_header(r, "content-encoding: gzip\n");
    test_has_header(r, "x-tenant-id: configured\n");
    assert_int_equal(exp_otlp_http_transport.room(ctx.t, OG_SIGNAL_TRACES, 4), 2);
}

/* A 100 KiB error page is read to its end but only its head kept; the connection stays usable. */
/* grpc-message values are percent-encoded: decoded, a stray '%' kept, the output bounded. */
static void test_percent_decode(void **state)
{
    static const struct { const char *in, *out; size_t room; } cases[] = {
        { "quota%20exceeded", "quota exceeded", 64 }, { "100%", "100%", 64 }, { "%4", "%4", 64 },
        { "%zz%4g", "%zz%4g", 64 }, { "caf%C3%A9%0a", "caf\xc3\xa9\n", 64 }, { "a%20b%20c", "a b", 3 }, { "", "", 8 },
    };
    char out[64];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = exp_otlp_answer_percent_decode((const uint8_t *)cases[i].in, strlen(cases[i].in), out,
                                                  cases[i].room);
        assert_int_equal(n, strlen(cases[i].out));
        assert_memory_equal(out, cases[i].out, n);
    }
}

static void test_large_body(void **state)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    size_t len = 100 * 1024;
    char *page = malloc(len);
    (void)state;

    assert_non_null(page);
    memset(page, 'x', len);
    memcpy(page, "<html>", 6);
    test_step_reply(&ctx.srv[0], 0, "500 Internal Server Error", "Content-Type: text/html\r\n", page, len, false);
    test_step_raw(&ctx.srv[0], 1, ok, sizeof ok - 1, false);
    free(page);
    test_send_one();
    test_submit(OG_SIGNAL_TRACES, "", false, 1000);
    test_wait(&ctx.n_ans, 2);
    assert_int_equal(ctx.ans[0].a.http_status, 500);
    assert_int_equal(strlen(ctx.ans[0].a.message), EXP_OTLP_MESSAGE_MAX - 1);
    assert_int_equal(strncmp(ctx.ans[0].a.message, "<html>xxx", 9), 0);
    test_answer_is(1, false, 200, -1, false, 0, "");
    assert_int_equal(ctx.srv[0].accepts, 1);
}

/* A response that is not HTTP: a transport failure naming the parser's reason. */
static void test_garbage(void **state)
{
    static const char raw[] = "SSH-2.0-OpenSSH_9.2\r\n";
    (void)state;

    test_step_raw(&ctx.srv[0], 0, raw, sizeof raw - 1, false);
    test_send_one();
    test_failure_is(0, "invalid HTTP response from 127.0.0.1:%s: ", ctx.srv[0].port);
}

/* A tenant that would split the request is refused at once, as a permanent error; nothing is sent. */
static void test_bad_tenant(void **state)
{
    (void)state;

    test_open();
    test_submit(OG_SIGNAL_TRACES, "acme\r\nX-Evil: 1", false, 1000);
    assert_int_equal(ctx.n_ans, 1);
    test_answer_is(0, false, 0, -1, false, 0, "tenant with control characters cannot go in X-Tenant-Id");
    event_base_loop(ctx.base, EVLOOP_NONBLOCK);
    assert_int_equal(ctx.srv[0].accepts, 0);
}

/* Headers the transport writes itself cannot be configured. */
static void test_reserved_header(void **state)
{
    static const char *const names[] = { "Content-Length" };
    static const char *const values[] = { "5" };
    char err[200] = "";
    (void)state;

    ctx.env.header_names = names;
    ctx.env.header_values = values;
    ctx.env.n_headers = 1;
    assert_null(exp_otlp_http_transport.open(&ctx.env, err, sizeof err));
    assert_string_equal(err, "header 'Content-Length' cannot be set on an OTLP/HTTP request");
}

/* ---- answer bodies and Retry-After, without a connection ---- */

static void test_retry_after_values(void **state)
{
    struct tm tm = { .tm_year = 126, .tm_mon = 0, .tm_mday = 1 };     /* 2026-01-01T00:00:00Z */
    time_t now = timegm(&tm);
    (void)state;

    assert_int_equal(exp_otlp_http_retry_after("120", now), 120000);
    assert_int_equal(exp_otlp_http_retry_after("0", now), 0);
    assert_int_equal(exp_otlp_http_retry_after("99999999999999", now), 86400000);
    assert_int_equal(exp_otlp_http_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now), 30000);
    assert_int_equal(exp_otlp_http_retry_after("Wed, 31 Dec 2025 23:59:00 GMT", now), 0);
    assert_int_equal(exp_otlp_http_retry_after("Thursday, 01-Jan-26 00:00:30 GMT", now), -1);
    assert_int_equal(exp_otlp_http_retry_after("3s", now), -1);
    assert_int_equal(exp_otlp_http_retry_after("", now), -1);
    assert_int_equal(exp_otlp_http_retry_after("-5", now), -1);
}

/* Every truncation of a partial success and of a Status is read without a fault, and only whole fields count. */
static void test_answer_truncated(void **state)
{
    struct test_pb ps = test_pb_partial(300, "bad span");
    struct test_pb st = test_pb_status(8, "slow down", 1, 0);
    (void)state;

    for (size_t n = 0; n <= ps.n; n++) {
        struct exp_otlp_answer a = { .retry_after_ms = -1 };
        uint8_t *copy = malloc(n + 1);  /* exactly n bytes readable (ASan sees an overread) */
        assert_non_null(copy);
        memcpy(copy, ps.b, n);
        exp_otlp_answer_partial(copy, n, &a);
        assert_int_equal(a.rejected, n == ps.n ? 300 : 0);
        assert_string_equal(a.message, n == ps.n ? "bad span" : "");
        free(copy);
    }
    for (size_t n = 0; n <= st.n; n++) {
        struct exp_otlp_answer a = { .retry_after_ms = -1 };
        exp_otlp_answer_status(st.b, n, &a);
        assert_int_equal(a.retry_info, n == st.n);
        assert_int_equal(a.retry_after_ms, n == st.n ? 1000 : -1);
    }
}

/* A message already there is kept; a long one is cut before a multi-byte character, not inside it. */
static void test_answer_message(void **state)
{
    struct test_pb ps = test_pb_partial(1, "second");
    struct exp_otlp_answer a = { .retry_after_ms = -1 };
    char text[300];
    (void)state;

    snprintf(a.message, sizeof a.message, "first");
    exp_otlp_answer_partial(ps.b, ps.n, &a);
    assert_string_equal(a.message, "first");
    assert_int_equal(a.rejected, 1);

    memset(text, 'a', sizeof text);
    memcpy(text + 198, "\xc3\xa9", 2);                  /* é across the cut at 199 */
    exp_otlp_answer_message(&a, text, sizeof text);
    assert_int_equal(strlen(a.message), 198);
    memset(text, 'a', sizeof text);
    memcpy(text + 197, "\xc3\xa9", 2);                  /* é whole before the cut */
    exp_otlp_answer_message(&a, text, sizeof text);
    assert_int_equal(strlen(a.message), 199);
    assert_int_equal(memcmp(a.message + 197, "\xc3\xa9", 2), 0);
    exp_otlp_answer_message(&a, "  \n", 3);
    assert_string_equal(a.message, "");
}

static int test_group_setup(void **state)
{
    (void)state;
    ctx.pb = test_read(test_bench_dir(), "traces_100.pb", &ctx.pb_len);
    ctx.gz = test_read(test_bench_dir(), "traces_100.pb.gz", &ctx.gz_len);
    return 0;
}

static int test_group_teardown(void **state)
{
    (void)state;
    free(ctx.pb);
    free(ctx.gz);
    return 0;
}

#define TEST_CASE(f) cmocka_unit_test_setup_teardown(f, test_setup, test_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percent_decode),
        TEST_CASE(test_partial_success),
        TEST_CASE(test_json_and_informational),
        TEST_CASE(test_503_retry_after),
        TEST_CASE(test_status_bodies),
        TEST_CASE(test_body_to_eof),
        TEST_CASE(test_closed_mid_response),
        TEST_CASE(test_expire),
        TEST_CASE(test_keepalive_reuse),
        TEST_CASE(test_connection_close),
        TEST_CASE(test_reused_closed),
        TEST_CASE(test_connect_refused),
        TEST_CASE(test_unresolvable),
        TEST_CASE(test_close_in_flight),
        TEST_CASE(test_pools_and_gzip),
        TEST_CASE(test_large_body),
        TEST_CASE(test_garbage),
        TEST_CASE(test_bad_tenant),
        TEST_CASE(test_reserved_header),
        cmocka_unit_test(test_retry_after_values),
        cmocka_unit_test(test_answer_truncated),
        cmocka_unit_test(test_answer_message),
    };

    return cmocka_run_group_tests_name("exp_otlp_http", tests, test_group_setup, test_group_teardown);
}
