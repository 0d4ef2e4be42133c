/* exp_otlp_http.c: the OTLP/HTTP transport of the otlphttp exporter: HTTP/1.1
 * keep-alive connections over plain TCP, one request at a time on each (no
 * pipelining: a lost connection then costs one batch, answered as a transport
 * failure, never a guess at what the upstream took). Connections live in one
 * pool per distinct upstream host:port, at most max_inflight each, opened on
 * demand and reused while the upstream keeps them. Responses go through
 * http-parser; only what an answer needs is kept (Retry-After, the content
 * type, the first EXP_OTLP_HTTP_BODY_MAX body bytes), the rest is read and
 * dropped. A spooled batch's body is read from the spool as it is written,
 * a slice at a time, so a connection holds at most EXP_OTLP_HTTP_OUT_MAX of
 * it. The transport never logs: its messages go to the exporter in the
 * answers. Exporter thread only. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <http_parser.h>

#include "exp_otlp_answer.h"
#include "exp_otlp_conn.h"

#define EXP_OTLP_HTTP_BODY_MAX 4096             /* response body bytes kept: a Status or a partial success */
#define EXP_OTLP_HTTP_OUT_MAX (256 * 1024)      /* bytes written per loop turn (libevent's default is 16 KiB) */
#define EXP_OTLP_HTTP_RETRY_AFTER_MAX 86400     /* seconds: a longer Retry-After is taken as a day */

/* The response headers the answer needs. */
enum exp_otlp_http_header {
    EXP_OTLP_HTTP_H_OTHER = 0,
    EXP_OTLP_HTTP_H_RETRY_AFTER,
    EXP_OTLP_HTTP_H_CONTENT_TYPE,
    EXP_OTLP_HTTP_H_CONTENT_ENCODING,
};

/* What arrived of the response to the request in flight. */
struct exp_otlp_http_resp {
    http_parser parser;
    bool started;                       /* a response byte arrived */
    bool complete;                      /* the final (non-1xx) response is whole; the parser is paused */
    bool in_value;                      /* between a header's first value byte and the next name */
    char name[24];                      /* the header name arriving, lower case, cut */
    size_t name_len;                    /* its full length: longer than name means no header we read */
    char value[128];
    size_t value_len;
    char reason[64];                    /* the status line's reason phrase, the message when nothing better */
    size_t reason_len;
    bool protobuf;                      /* Content-Type application/x-protobuf */
    bool encoded;                       /* Content-Encoding other than identity: the body is not readable */
    int64_t retry_after_ms;             /* -1 when none */
    size_t body_len;
    uint8_t body[EXP_OTLP_HTTP_BODY_MAX];
};

struct exp_otlp_http_conn {
    struct exp_otlp_http_conn *next;    /* in its pool */
    struct exp_otlp_http_pool *pool;
    struct bufferevent *bev;
    struct exp_otlp_batch *batch;       /* the request in flight, taken; NULL when idle */
    size_t body_off;                    /* a spooled batch's body bytes read into the output so far */
    int64_t start_ms;
    unsigned requests;                  /* started on it: more than one means reused */
    bool connected;
    struct exp_otlp_http_resp resp;
};

/* The connections to one upstream host:port (signals sent to the same place share them). */
struct exp_otlp_http_pool {
    struct exp_otlp_http *t;
    const char *host, *port;            /* borrowed from the env */
    char authority[300];                /* host:port ([host]:port for IPv6): the Host header and messages */
    struct exp_otlp_http_conn *conns;
    unsigned n_conns;
};

struct exp_otlp_http {
    struct exp_otlp_conn_env env;
    struct exp_otlp_http_pool pools[OG_SIGNAL_COUNT];
    struct exp_otlp_http_pool *pool_of[OG_SIGNAL_COUNT];
    char *head[OG_SIGNAL_COUNT];        /* owned: request line and fixed headers, per signal */
    size_t head_len[OG_SIGNAL_COUNT];
    const char *tenant;                 /* a configured x-tenant-id value (borrowed), or NULL */
    unsigned max_conns;                 /* per pool */
    struct event *ready_ev;             /* tells the exporter about free room once the current callback ends */
};

/* ---- response parsing (http-parser callbacks: record, never tear down) ---- */

static struct exp_otlp_http_resp *exp_otlp_http_resp_of(http_parser *p)
{
    return p->data;
}

/* Forgets what an earlier message said (the last request's answer, or a 1xx before the final one). */
static void exp_otlp_http_resp_reset(struct exp_otlp_http_resp *r)
{
    r->in_value = false;
    r->name_len = r->value_len = r->reason_len = r->body_len = 0;
    r->protobuf = r->encoded = false;
    r->retry_after_ms = -1;
}

static int exp_otlp_http_on_message_begin(http_parser *p)
{
    exp_otlp_http_resp_reset(exp_otlp_http_resp_of(p));
    return 0;
}

/* Appends what fits of <len> bytes at <at> to <buf> (<cap> bytes, *used taken) and drops the rest: what the
 * answer needs is at the start, and no upstream can make us hold more than the fixed buffers. */
static void exp_otlp_http_keep(void *buf, size_t cap, size_t *used, const char *at, size_t len)
{
    if (len > cap - *used)
        len = cap - *used;
    memcpy((char *)buf + *used, at, len);
    *used += len;
}

static int exp_otlp_http_on_status(http_parser *p, const char *at, size_t len)
{
    struct exp_otlp_http_resp *r = exp_otlp_http_resp_of(p);

    exp_otlp_http_keep(r->reason, sizeof r->reason, &r->reason_len, at, len);
    return 0;
}

/* Retry-After: delta-seconds or an IMF-fixdate (RFC 9110 10.2.3); ms from <now>, 0 for a date already past, -1
 * for anything else (the obsolete date forms included). */
static int64_t exp_otlp_http_retry_after(const char *v, time_t now)
{
    struct tm tm = { 0 };
    int64_t s = 0;
    size_t n = strspn(v, "0123456789");

    if (n > 0 && v[n] == '\0') {
        for (size_t i = 0; i < n && s <= EXP_OTLP_HTTP_RETRY_AFTER_MAX; i++)
            s = s * 10 + (v[i] - '0');
        return (s > EXP_OTLP_HTTP_RETRY_AFTER_MAX ? EXP_OTLP_HTTP_RETRY_AFTER_MAX : s) * 1000;
    }
    const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL || *end != '\0')
        return -1;
    s = (int64_t)timegm(&tm) - (int64_t)now;
    if (s < 0)
        return 0;
    return (s > EXP_OTLP_HTTP_RETRY_AFTER_MAX ? EXP_OTLP_HTTP_RETRY_AFTER_MAX : s) * 1000;
}

static enum exp_otlp_http_header exp_otlp_http_header_kind(const struct exp_otlp_http_resp *r)
{
    static const char *const names[] = { NULL, "retry-after", "content-type", "content-encoding" };

    for (size_t i = 1; i < sizeof names / sizeof names[0]; i++)
        if (r->name_len == strlen(names[i]) && memcmp(r->name, names[i], r->name_len) == 0)
            return (enum exp_otlp_http_header)i;
    return EXP_OTLP_HTTP_H_OTHER;
}

/* Acts on the header whose value just ended. */
static void exp_otlp_http_header_done(struct exp_otlp_http_resp *r)
{
    char *v = r->value;

    if (!r->in_value)
        return;
    r->in_value = false;
    while (r->value_len > 0 && (v[r->value_len - 1] == ' ' || v[r->value_len - 1] == '\t'))
        r->value_len--;
    v[r->value_len] = '\0';
    switch (exp_otlp_http_header_kind(r)) {
    case EXP_OTLP_HTTP_H_RETRY_AFTER: r->retry_after_ms = exp_otlp_http_retry_after(v, time(NULL)); break;
    case EXP_OTLP_HTTP_H_CONTENT_TYPE:
        r->protobuf = strncasecmp(v, "application/x-protobuf", 22) == 0 ||
                      strncasecmp(v, "application/protobuf", 20) == 0;
        break;
    case EXP_OTLP_HTTP_H_CONTENT_ENCODING: r->encoded = strcasecmp(v, "identity") != 0; break;
    case EXP_OTLP_HTTP_H_OTHER: break;
    }
    r->name_len = r->value_len = 0;
}

static int exp_otlp_http_on_header_field(http_parser *p, const char *at, size_t len)
{
    struct exp_otlp_http_resp *r = exp_otlp_http_resp_of(p);

    exp_otlp_http_header_done(r);
    for (size_t i = 0; i < len; i++, r->name_len++) {
        if (r->name_len < sizeof r->name)
            r->name[r->name_len] = at[i] >= 'A' && at[i] <= 'Z' ? (char)(at[i] + 32) : at[i];
    }
    return 0;
}

static int exp_otlp_http_on_header_value(http_parser *p, const char *at, size_t len)
{
    struct exp_otlp_http_resp *r = exp_otlp_http_resp_of(p);

    r->in_value = true;
    exp_otlp_http_keep(r->value, sizeof r->value - 1, &r->value_len, at, len);     /* room for the NUL */
    return 0;
}

static int exp_otlp_http_on_headers_complete(http_parser *p)
{
    exp_otlp_http_header_done(exp_otlp_http_resp_of(p));
    return 0;
}

/* Keeps the head of the body; the rest is dropped here, so a large error page costs no memory. */
static int exp_otlp_http_on_body(http_parser *p, const char *at, size_t len)
{
    struct exp_otlp_http_resp *r = exp_otlp_http_resp_of(p);

    exp_otlp_http_keep(r->body, sizeof r->body, &r->body_len, at, len);
    return 0;
}

static int exp_otlp_http_on_message_complete(http_parser *p)
{
    struct exp_otlp_http_resp *r = exp_otlp_http_resp_of(p);

    if (p->status_code < 200)
        return 0;                       /* 1xx: the answer is still to come */
    r->complete = true;
    http_parser_pause(p, 1);            /* bytes after it are not ours to read */
    return 0;
}

static const http_parser_settings exp_otlp_http_settings = {
    .on_message_begin = exp_otlp_http_on_message_begin,
    .on_status = exp_otlp_http_on_status,
    .on_header_field = exp_otlp_http_on_header_field,
    .on_header_value = exp_otlp_http_on_header_value,
    .on_headers_complete = exp_otlp_http_on_headers_complete,
    .on_body = exp_otlp_http_on_body,
    .on_message_complete = exp_otlp_http_on_message_complete,
};

/* Turns a complete response into its answer: the status, Retry-After, and what the body says (a partial
 * success for a 2xx in protobuf, a google.rpc.Status or the head of a text body otherwise, else the reason
 * phrase). JSON bodies of a 2xx are not read: we never send JSON, so an upstream answering so is odd and its
 * partial success is not worth a JSON parser here. */
static void exp_otlp_http_resp_answer(const struct exp_otlp_http_resp *r, struct exp_otlp_answer *a)
{
    int status = (int)r->parser.status_code;
    bool ok = status >= 200 && status < 300;

    *a = (struct exp_otlp_answer){ .grpc_status = -1, .http_status = status, .retry_after_ms = -1 };
    if (!r->encoded && ok && r->protobuf)
        exp_otlp_answer_partial(r->body, r->body_len, a);
    else if (!r->encoded && !ok && r->protobuf)
        exp_otlp_answer_status(r->body, r->body_len, a);
    else if (!r->encoded && !ok)
        exp_otlp_answer_message(a, r->body, r->body_len);
    if (!ok && a->message[0] == '\0')
        exp_otlp_answer_message(a, r->reason, r->reason_len);
    if (r->retry_after_ms >= 0)
        a->retry_after_ms = r->retry_after_ms;      /* the HTTP header is OTLP/HTTP's own word: it wins */
}

/* ---- connections ---- */

/* Lets the exporter fill freed room. Deferred to the loop, so on_ready never runs inside submit(), expire()
 * or an on_answer the exporter is still in. */
static void exp_otlp_http_ready_later(struct exp_otlp_http *t)
{
    event_active(t->ready_ev, 0, 1);
}

static void exp_otlp_http_on_ready_ev(evutil_socket_t fd, short what, void *arg)
{
    struct exp_otlp_http *t = arg;
    (void)fd;
    (void)what;

    t->env.on_ready(t->env.arg);
}

/* Unlinks and frees <c>, and with it its socket and anything not yet written (an in-memory batch's body is
 * referenced there, a spooled one's read into it: nothing is read from the batch after this). Returns the
 * batch it carried, now the caller's. */
static struct exp_otlp_batch *exp_otlp_http_conn_free(struct exp_otlp_http_conn *c)
{
    struct exp_otlp_http_pool *p = c->pool;
    struct exp_otlp_batch *b = c->batch;

    for (struct exp_otlp_http_conn **pp = &p->conns; *pp != NULL; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    p->n_conns--;
    bufferevent_free(c->bev);
    free(c);
    return b;
}

/* Ends <c> and answers its batch, if any, as a transport failure saying <fmt>. <c> is gone on return. */
static void exp_otlp_http_fail(struct exp_otlp_http_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void exp_otlp_http_fail(struct exp_otlp_http_conn *c, const char *fmt, ...)
{
    struct exp_otlp_http *t = c->pool->t;
    struct exp_otlp_answer a = { .transport = true, .grpc_status = -1, .retry_after_ms = -1 };
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(a.message, sizeof a.message, fmt, ap);
    va_end(ap);
    struct exp_otlp_batch *b = exp_otlp_http_conn_free(c);
    if (b != NULL) {
        t->env.on_answer(t->env.arg, b, &a);
        exp_otlp_http_ready_later(t);
    }
}

/* The response is whole: the connection goes back to the pool when the upstream keeps it, it is not at <eof>
 * and nothing is left over either way (an early answer to a body still being written, stray bytes), else it
 * closes. Then the batch is answered. */
static void exp_otlp_http_finish(struct exp_otlp_http_conn *c, bool eof)
{
    struct exp_otlp_http *t = c->pool->t;
    struct exp_otlp_batch *b = c->batch;
    struct exp_otlp_answer a;

    exp_otlp_http_resp_answer(&c->resp, &a);
    c->batch = NULL;
    if (eof || !http_should_keep_alive(&c->resp.parser) || evbuffer_get_length(bufferevent_get_input(c->bev)) > 0 ||
        evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
        exp_otlp_http_conn_free(c);
    t->env.on_answer(t->env.arg, b, &a);
    exp_otlp_http_ready_later(t);
}

/* Feeds what arrived to the parser without a pullup, stopping at the end of the response. Returns 0, or -1
 * when <c> was failed (and is gone). */
static int exp_otlp_http_parse(struct exp_otlp_http_conn *c, struct evbuffer *in)
{
    struct exp_otlp_http_resp *r = &c->resp;

    while (!r->complete && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        r->started = true;
        size_t n = http_parser_execute(&r->parser, &exp_otlp_http_settings, v.iov_base, v.iov_len);
        enum http_errno err = HTTP_PARSER_ERRNO(&r->parser);
        evbuffer_drain(in, n);
        if (err != HPE_OK && err != HPE_PAUSED) {
            exp_otlp_http_fail(c, "invalid HTTP response from %s: %s", c->pool->authority,
                               http_errno_description(err));
            return -1;
        }
        if (n == 0)
            break;
    }
    return 0;
}

/* Reads more of a spooled batch's body from the spool straight into the output, a slice at a time, until
 * the output holds EXP_OTLP_HTTP_OUT_MAX bytes or the whole body. b->read takes each slice from the batch
 * still stored under its seq, so a batch max_age or drop_oldest deleted meanwhile is never sent from pages
 * the spool may have given to newer data. Returns 0, or -1 when it could not be read (gone, out of memory):
 * the caller drops the connection, and the upstream sees a body cut short, never other bytes. */
static int exp_otlp_http_feed(struct exp_otlp_http_conn *c)
{
    const struct exp_otlp_batch *b = c->batch;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    struct evbuffer_iovec v;

    while (c->body_off < b->len && evbuffer_get_length(out) < EXP_OTLP_HTTP_OUT_MAX) {
        size_t n = b->len - c->body_off < EXP_OTLP_SLICE ? b->len - c->body_off : EXP_OTLP_SLICE;
        if (evbuffer_reserve_space(out, (ev_ssize_t)n, &v, 1) != 1 ||
            b->read(b->read_arg, b, c->body_off, n, v.iov_base) != 0)
            return -1;      /* the reserved space is not committed: nothing of this slice is sent */
        v.iov_len = n;
        if (evbuffer_commit_space(out, &v, 1) != 0)
            return -1;
        c->body_off += n;
    }
    return 0;
}

/* The output drained to its low-water mark: a spooled batch's body goes on. */
static void exp_otlp_http_on_write(struct bufferevent *bev, void *arg)
{
    struct exp_otlp_http_conn *c = arg;
    (void)bev;

    if (c->batch != NULL && c->batch->read != NULL && exp_otlp_http_feed(c) != 0)
        exp_otlp_http_fail(c, "the batch could not be read from the spool while it was sent");
}

static void exp_otlp_http_on_read(struct bufferevent *bev, void *arg)
{
    struct exp_otlp_http_conn *c = arg;

    if (c->batch == NULL) {
        /* bytes nobody asked for: the connection is out of step, and a request sent on it would be too */
        exp_otlp_http_conn_free(c);
        return;
    }
    if (exp_otlp_http_parse(c, bufferevent_get_input(bev)) == 0 && c->resp.complete)
        exp_otlp_http_finish(c, false);
}

/* The upstream closed: a response that runs to the end of the connection ends here; anything else in
 * flight gets a transport failure. */
static void exp_otlp_http_on_eof(struct exp_otlp_http_conn *c)
{
    struct exp_otlp_http_resp *r = &c->resp;

    if (r->started) {
        http_parser_execute(&r->parser, &exp_otlp_http_settings, NULL, 0);
        if (r->complete) {
            exp_otlp_http_finish(c, true);
            return;
        }
    }
    if (r->started)
        exp_otlp_http_fail(c, "%s closed the connection in the middle of the response", c->pool->authority);
    else if (c->requests > 1)
        exp_otlp_http_fail(c, "%s closed the reused connection before answering", c->pool->authority);
    else
        exp_otlp_http_fail(c, "%s closed the connection before answering", c->pool->authority);
}

static void exp_otlp_http_on_event(struct bufferevent *bev, short events, void *arg)
{
    struct exp_otlp_http_conn *c = arg;
    int err = EVUTIL_SOCKET_ERROR();

    if (events & BEV_EVENT_CONNECTED) {
        c->connected = true;
        return;
    }
    if (c->batch == NULL) {
        exp_otlp_http_conn_free(c);     /* an idle connection the upstream let go: the room stays the same */
        return;
    }
    if (events & BEV_EVENT_EOF) {
        exp_otlp_http_on_eof(c);
        return;
    }
    int dns = bufferevent_socket_get_dns_error(bev);
    const char *why = dns != 0 ? evutil_gai_strerror(dns) : evutil_socket_error_to_string(err);
    if (c->connected)
        exp_otlp_http_fail(c, "connection to %s: %s", c->pool->authority, why);
    else
        exp_otlp_http_fail(c, "cannot connect to %s: %s", c->pool->authority, why);
}

static struct exp_otlp_http_conn *exp_otlp_http_conn_new(struct exp_otlp_http_pool *p)
{
    struct exp_otlp_http_conn *c = calloc(1, sizeof *c);

    if (c == NULL)
        return NULL;
    c->bev = bufferevent_socket_new(p->t->env.base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        free(c);
        return NULL;
    }
    c->pool = p;
    bufferevent_setcb(c->bev, exp_otlp_http_on_read, exp_otlp_http_on_write, exp_otlp_http_on_event, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, EXP_OTLP_HTTP_OUT_MAX / 2, 0);
    bufferevent_set_max_single_write(c->bev, EXP_OTLP_HTTP_OUT_MAX);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    c->next = p->conns;
    p->conns = c;
    p->n_conns++;
    return c;
}

static struct exp_otlp_http_conn *exp_otlp_http_idle(const struct exp_otlp_http_pool *p)
{
    for (struct exp_otlp_http_conn *c = p->conns; c != NULL; c = c->next)
        if (c->connected && c->batch == NULL)
            return c;
    return NULL;
}

/* ---- requests ---- */

/* A header value we may write: no control characters but tab (no CR/LF: they would split the request). */
static bool exp_otlp_http_value_ok(const char *v)
{
    for (; *v != '\0'; v++)
        if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
            return false;
    return true;
}

/* Queues the request head of c->batch, then its body: the first slices of a spooled batch (the rest follow
 * as the output drains), or a reference to an in-memory batch's bytes (the batch outlives the request: it is
 * answered only after the connection let go of it). Returns 0, or -1 out of memory or when a spooled batch
 * could not be read (the output may then hold a partial request: the caller drops the connection). */
static int exp_otlp_http_write(struct exp_otlp_http *t, struct exp_otlp_http_conn *c)
{
    const struct exp_otlp_batch *b = c->batch;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    const char *tenant = b->tenant[0] != '\0' ? b->tenant : t->tenant;

    if (evbuffer_add(out, t->head[b->signal], t->head_len[b->signal]) != 0 ||
        evbuffer_add_printf(out, "Content-Length: %zu\r\n%s", b->len, b->gzip ? "Content-Encoding: gzip\r\n" : "") < 0 ||
        (tenant != NULL && evbuffer_add_printf(out, "X-Tenant-Id: %s\r\n", tenant) < 0) ||
        evbuffer_add(out, "\r\n", 2) != 0)
        return -1;
    if (b->read != NULL)
        return exp_otlp_http_feed(c);
    return evbuffer_add_reference(out, b->data, b->len, NULL, NULL);
}

/* Puts <b> on <c> and, for a new connection, starts connecting. Returns 0 (an early failure is then already
 * answered through on_answer, and <c> gone), or -1 leaving <b> to the caller with <c> freed. */
static int exp_otlp_http_start(struct exp_otlp_http *t, struct exp_otlp_http_conn *c, struct exp_otlp_batch *b,
                               int64_t now_ms)
{
    struct exp_otlp_http_pool *p = c->pool;

    c->batch = b;
    c->body_off = 0;
    if (exp_otlp_http_write(t, c) != 0) {
        c->batch = NULL;
        exp_otlp_http_conn_free(c);
        return -1;
    }
    c->start_ms = now_ms;
    c->requests++;
    c->resp.started = c->resp.complete = false;
    http_parser_init(&c->resp.parser, HTTP_RESPONSE);
    c->resp.parser.data = &c->resp;
    exp_otlp_http_resp_reset(&c->resp);
    if (c->connected)
        return 0;
    /* NULL dns base: getaddrinfo on this thread (the exporter's own). A failure to resolve runs on_event
     * right here, which answers <b>: <c> must not be touched after this call. */
    if (bufferevent_socket_connect_hostname(c->bev, NULL, AF_UNSPEC, p->host, atoi(p->port)) != 0) {
        c->batch = NULL;
        exp_otlp_http_conn_free(c);
        return -1;
    }
    return 0;
}

/* ---- the transport ---- */

static unsigned exp_otlp_http_room(const void *tp, enum og_signal signal, unsigned want)
{
    const struct exp_otlp_http *t = tp;
    const struct exp_otlp_http_pool *p;
    unsigned n = 0;

    if (t == NULL || signal >= OG_SIGNAL_COUNT)
        return 0;
    p = t->pool_of[signal];
    for (const struct exp_otlp_http_conn *c = p->conns; c != NULL && n < want; c = c->next)
        if (c->connected && c->batch == NULL)
            n++;
    n += t->max_conns > p->n_conns ? t->max_conns - p->n_conns : 0;
    return n < want ? n : want;
}

static int exp_otlp_http_submit(void *tp, struct exp_otlp_batch *b, int64_t now_ms)
{
    struct exp_otlp_http *t = tp;
    struct exp_otlp_http_pool *p = t->pool_of[b->signal];
    struct exp_otlp_http_conn *c = exp_otlp_http_idle(p);

    if (!exp_otlp_http_value_ok(b->tenant)) {
        /* not retryable: the same bytes would be refused again (no HTTP status: the exporter drops it) */
        struct exp_otlp_answer a = { .grpc_status = -1, .retry_after_ms = -1 };
        snprintf(a.message, sizeof a.message, "tenant with control characters cannot go in X-Tenant-Id");
        t->env.on_answer(t->env.arg, b, &a);
        return 0;
    }
    if (c == NULL && p->n_conns < t->max_conns)
        c = exp_otlp_http_conn_new(p);
    if (c == NULL)
        return -1;
    return exp_otlp_http_start(t, c, b, now_ms);
}

static void exp_otlp_http_kick(void *tp)
{
    struct exp_otlp_http *t = tp;

    if (t != NULL)
        t->env.on_ready(t->env.arg);    /* requests are written by their bufferevents as soon as queued */
}

static void exp_otlp_http_expire(void *tp, int64_t now_ms, int64_t timeout_ms)
{
    struct exp_otlp_http *t = tp;

    if (t == NULL)
        return;
    for (size_t i = 0; i < OG_SIGNAL_COUNT; i++) {
        struct exp_otlp_http_conn *next;
        for (struct exp_otlp_http_conn *c = t->pools[i].conns; c != NULL; c = next) {
            next = c->next;
            if (c->batch != NULL && now_ms - c->start_ms >= timeout_ms)
                exp_otlp_http_fail(c, "deadline exceeded: no answer from %s within %lld ms", c->pool->authority,
                                   (long long)timeout_ms);
        }
    }
}

/* Frees what open() built; <t> may be half built. */
static void exp_otlp_http_free(struct exp_otlp_http *t)
{
    for (size_t i = 0; i < OG_SIGNAL_COUNT; i++) {
        free(t->head[i]);
        t->head[i] = NULL;
    }
    if (t->ready_ev != NULL)
        event_free(t->ready_ev);
    free(t);
}

static void exp_otlp_http_close(void *tp, const char *why)
{
    struct exp_otlp_http *t = tp;
    struct exp_otlp_answer a = { .transport = true, .grpc_status = -1, .retry_after_ms = -1 };

    snprintf(a.message, sizeof a.message, "%s", why);
    for (size_t i = 0; i < OG_SIGNAL_COUNT; i++) {
        while (t->pools[i].conns != NULL) {
            struct exp_otlp_batch *b = exp_otlp_http_conn_free(t->pools[i].conns);
            if (b != NULL)
                t->env.on_answer(t->env.arg, b, &a);
        }
    }
    void (*on_closed)(void *, const char *) = t->env.on_closed;
    void *arg = t->env.arg;
    exp_otlp_http_free(t);
    on_closed(arg, a.message);
}

/* ---- opening ---- */

/* Headers the transport writes itself: a configured one would contradict it or break the framing. */
static bool exp_otlp_http_reserved(const char *name)
{
    static const char *const names[] = {
        "host", "content-length", "content-type", "content-encoding", "transfer-encoding", "connection",
    };

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    return false;
}

/* The fixed part of every request of <signal>: request line, Host, Content-Type, User-Agent (unless one is
 * configured) and the configured headers but x-tenant-id (written per request, as a batch's tenant wins).
 * Returns 0, or -1 with <err> set. */
static int exp_otlp_http_head(struct exp_otlp_http *t, enum og_signal signal, char *err, size_t errlen)
{
    const struct exp_otlp_conn_env *env = &t->env;
    const char *path = env->targets[signal].path;
    struct evbuffer *h = evbuffer_new();
    bool agent = false;
    int rc = -1;

    if (h == NULL)
        goto oom;
    if (path != NULL && path[0] != '\0')
        evbuffer_add_printf(h, "POST %s HTTP/1.1\r\n", path);
    else
        evbuffer_add_printf(h, "POST /v1/%s HTTP/1.1\r\n", component_signal_name(signal));
    evbuffer_add_printf(h, "Host: %s\r\nContent-Type: application/x-protobuf\r\n", t->pool_of[signal]->authority);
    for (size_t i = 0; i < env->n_headers; i++) {
        const char *name = env->header_names[i], *value = env->header_values[i];
        if (exp_otlp_http_reserved(name) || !exp_otlp_http_value_ok(name) || !exp_otlp_http_value_ok(value)) {
            snprintf(err, errlen, "header '%s' cannot be set on an OTLP/HTTP request", name);
            goto done;
        }
        if (strcasecmp(name, "x-tenant-id") == 0) {
            t->tenant = value;
            continue;
        }
        agent = agent || strcasecmp(name, "user-agent") == 0;
        evbuffer_add_printf(h, "%s: %s\r\n", name, value);
    }
    if (!agent)
        evbuffer_add_printf(h, "User-Agent: otelgate/%s\r\n", PACKAGE_VERSION);
    t->head_len[signal] = evbuffer_get_length(h);
    t->head[signal] = malloc(t->head_len[signal]);
    if (t->head[signal] == NULL || evbuffer_remove(h, t->head[signal], t->head_len[signal]) < 0)
        goto oom;
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "out of memory");
done:
    if (h != NULL)
        evbuffer_free(h);
    return rc;
}

/* One pool per distinct host:port among the targets. */
static void exp_otlp_http_pools(struct exp_otlp_http *t)
{
    size_t n = 0;

    for (size_t s = 0; s < OG_SIGNAL_COUNT; s++) {
        const struct exp_otlp_target *tg = &t->env.targets[s];
        size_t i = 0;
        while (i < n && (strcmp(t->pools[i].host, tg->host) != 0 || strcmp(t->pools[i].port, tg->port) != 0))
            i++;
        if (i == n) {
            struct exp_otlp_http_pool *p = &t->pools[n++];
            *p = (struct exp_otlp_http_pool){ .t = t, .host = tg->host, .port = tg->port };
            snprintf(p->authority, sizeof p->authority, strchr(tg->host, ':') != NULL ? "[%s]:%s" : "%s:%s",
                     tg->host, tg->port);
        }
        t->pool_of[s] = &t->pools[i];
    }
}

static void *exp_otlp_http_open(const struct exp_otlp_conn_env *env, char *err, size_t errlen)
{
    struct exp_otlp_http *t = calloc(1, sizeof *t);

    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->env = *env;
    t->max_conns = env->max_inflight > 0 ? env->max_inflight : 1;
    for (size_t s = 0; s < OG_SIGNAL_COUNT; s++) {
        if (env->targets[s].host == NULL || env->targets[s].port == NULL) {
            snprintf(err, errlen, "no %s endpoint", component_signal_name((enum og_signal)s));
            goto fail;
        }
    }
    exp_otlp_http_pools(t);
    for (size_t s = 0; s < OG_SIGNAL_COUNT; s++)
        if (exp_otlp_http_head(t, (enum og_signal)s, err, errlen) != 0)
            goto fail;
    t->ready_ev = event_new(env->base, -1, 0, exp_otlp_http_on_ready_ev, t);
    if (t->ready_ev == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return t;
fail:
    exp_otlp_http_free(t);
    return NULL;
}

const struct exp_otlp_transport exp_otlp_http_transport = {
    .name = "http",
    .open = exp_otlp_http_open,
    .room = exp_otlp_http_room,
    .submit = exp_otlp_http_submit,
    .kick = exp_otlp_http_kick,
    .expire = exp_otlp_http_expire,
    .close = exp_otlp_http_close,
};
