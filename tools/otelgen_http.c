/* otelgen_http.c: the OTLP/HTTP client: HTTP/1.1 with keep-alive, one request in flight per connection.
 * The request head is built once per connection (and the tenant lines, when --tenants); each request
 * writes it with its tenant and Content-Length, then the pre-encoded body, by reference when it is large:
 * the kernel makes the only copy, and the body is refilled only once the socket took it. Responses are
 * parsed with http-parser straight from the evbuffer chunks. The answer is the status, with Retry-After;
 * for a failure, the message of the google.rpc.Status body (protobuf) or its first line. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <http_parser.h>

#include "otelgen_net.h"
#include "otelgen_payload.h"
#include "otelgen_retry.h"
#include "otelgen_worker.h"

#define OTELGEN_HTTP_FIELD_MAX 32               /* header names longer than this are not ours to read */
#define OTELGEN_HTTP_BY_REFERENCE 4096          /* bodies from this size on are not copied */

struct otelgen_http {
    struct otelgen_conn_env env;
    struct bufferevent *bev;
    http_parser parser;
    struct otelgen_payload_body body;
    struct otelgen_req req;                     /* the request in flight */
    char *head;                                 /* request line and headers, up to the tenant */
    size_t head_len;
    char *tenants;                              /* "name: tenant\r\n" for each tenant, end to end */
    size_t *tenant_at;                          /* n_tenants + 1 offsets into tenants */
    uint64_t answered;
    bool connected;
    bool busy;                                  /* a request is in flight */
    unsigned refs;                              /* the output still refers to the body: no refill before 0 */
    /* the response being read */
    bool complete, keep_alive;
    int status;
    bool value_next, in_content_type, in_retry_after, protobuf_body, json_body;
    char field[OTELGEN_HTTP_FIELD_MAX];
    size_t field_len;
    char retry_after[64];
    size_t retry_after_len;
    uint8_t body_start[OTELGEN_CONN_MESSAGE_MAX];
    size_t body_len;
};

/* ---- ending ---- */

static void otelgen_http_end(struct otelgen_http *c, const char *why)
{
    struct otelgen_worker *w = c->env.worker;
    unsigned slot = c->env.slot, lost = c->busy;
    bool connected = c->connected;
    uint64_t answered = c->answered;
    char reason[OTELGEN_CONN_MESSAGE_MAX];

    snprintf(reason, sizeof reason, "%s", why != NULL ? why : "connection ended with a request in flight");
    if (c->busy)
        otelgen_worker_answered(w, &c->req,
                                &(struct otelgen_answer){ .kind = OTELGEN_ANSWER_FAILED, .message = reason });
    /* Drop the output first: it may refer to the body freed below. A socket bufferevent keeps the
     * start of its output frozen, which makes a drain a silent no-op: unfreeze it first. */
    evbuffer_unfreeze(bufferevent_get_output(c->bev), 1);
    evbuffer_drain(bufferevent_get_output(c->bev), evbuffer_get_length(bufferevent_get_output(c->bev)));
    otelgen_payload_body_dispose(&c->body);
    bufferevent_free(c->bev);
    free(c->head);
    free(c->tenants);
    free(c->tenant_at);
    free(c);
    otelgen_worker_conn_ended(w, slot, lost > 0 ? reason : why, connected, answered, lost);
}

/* ---- http-parser callbacks: record only ---- */

static int otelgen_http_on_begin(http_parser *p)
{
    struct otelgen_http *c = p->data;

    c->status = 0;
    c->protobuf_body = false;
    c->json_body = false;
    c->value_next = false;
    c->in_retry_after = false;
    c->field_len = 0;
    c->body_len = 0;
    c->retry_after_len = 0;
    return 0;
}

static int otelgen_http_on_field(http_parser *p, const char *at, size_t len)
{
    struct otelgen_http *c = p->data;

    if (c->value_next) {                        /* a new header begins */
        c->field_len = 0;
        c->value_next = false;
    }
    for (size_t i = 0; i < len && c->field_len < sizeof c->field; i++)
        c->field[c->field_len++] = (char)(at[i] >= 'A' && at[i] <= 'Z' ? at[i] - 'A' + 'a' : at[i]);
    return 0;
}

static int otelgen_http_on_value(http_parser *p, const char *at, size_t len)
{
    struct otelgen_http *c = p->data;

    if (!c->value_next) {
        c->in_content_type = c->field_len == 12 && memcmp(c->field, "content-type", 12) == 0;
        c->in_retry_after = c->field_len == 11 && memcmp(c->field, "retry-after", 11) == 0;
    }
    c->value_next = true;
    for (size_t i = 0; c->in_retry_after && i < len && c->retry_after_len < sizeof c->retry_after - 1; i++)
        c->retry_after[c->retry_after_len++] = at[i];
    if (c->in_content_type && len >= 8 && memmem(at, len, "protobuf", 8) != NULL)
        c->protobuf_body = true;
    if (c->in_content_type && len >= 4 && memmem(at, len, "json", 4) != NULL)
        c->json_body = true;
    return 0;
}

static int otelgen_http_on_headers(http_parser *p)
{
    struct otelgen_http *c = p->data;

    c->status = p->status_code;
    return 0;
}

/* Only a failure's body is kept, and only its start: enough for a one-line reason. */
static int otelgen_http_on_body(http_parser *p, const char *at, size_t len)
{
    struct otelgen_http *c = p->data;
    size_t room = sizeof c->body_start - c->body_len;

    if (c->status >= 200 && c->status < 300)
        return 0;
    if (len > room)
        len = room;
    memcpy(c->body_start + c->body_len, at, len);
    c->body_len += len;
    return 0;
}

static int otelgen_http_on_complete(http_parser *p)
{
    struct otelgen_http *c = p->data;

    c->complete = true;
    c->keep_alive = http_should_keep_alive(p);
    http_parser_pause(p, 1);                    /* nothing after this response is ours to read yet */
    return 0;
}

static const http_parser_settings otelgen_http_parser_settings = {
    .on_message_begin = otelgen_http_on_begin,
    .on_header_field = otelgen_http_on_field,
    .on_header_value = otelgen_http_on_value,
    .on_headers_complete = otelgen_http_on_headers,
    .on_body = otelgen_http_on_body,
    .on_message_complete = otelgen_http_on_complete,
};

/* ---- answers ---- */

static int otelgen_http_varint(const uint8_t *b, size_t n, size_t *i, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; *i < n && shift < 64; shift += 7) {
        uint8_t byte = b[(*i)++];
        *v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return 0;
    }
    return -1;
}

/* The message (field 2) of a google.rpc.Status, what OTLP/HTTP receivers answer a failed protobuf request
 * with; possibly cut short, as only the start of the body is kept. Returns its length, 0 when absent. */
static size_t otelgen_http_status_message(const uint8_t *b, size_t n, const uint8_t **msg)
{
    size_t i = 0;
    uint64_t tag, v;

    while (i < n && otelgen_http_varint(b, n, &i, &tag) == 0) {
        switch (tag & 7) {
        case 0:
            if (otelgen_http_varint(b, n, &i, &v) != 0)
                return 0;
            break;
        case 1: i += 8; break;
        case 5: i += 4; break;
        case 2:
            if (otelgen_http_varint(b, n, &i, &v) != 0)
                return 0;
            if (tag >> 3 == 2) {
                *msg = b + i;
                return v < n - i ? (size_t)v : n - i;
            }
            i += v < n - i ? (size_t)v : n - i;
            break;
        default: return 0;
        }
    }
    return 0;
}

/* The "message" string of a google.rpc.Status in JSON ({"code":3,"message":"..."}), escapes left as they
 * are but for \" and \\. Returns its length in out, or 0 when there is none. */
static size_t otelgen_http_json_message(const uint8_t *b, size_t n, char *out, size_t len)
{
    const uint8_t *key = memmem(b, n, "\"message\"", 9), *end = b + n, *p;
    size_t k = 0;

    if (key == NULL)
        return 0;
    for (p = key + 9; p < end && (*p == ' ' || *p == ':'); p++)
        ;
    if (p == end || *p++ != '"')
        return 0;
    for (; p < end && *p != '"' && k < len - 1; p++) {
        if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
            p++;
        out[k++] = *p < 0x20 || *p == 0x7f ? ' ' : (char)*p;
    }
    out[k] = '\0';
    return k;
}

/* One printable line out of the failure's body. */
static void otelgen_http_message(const struct otelgen_http *c, char *out, size_t len)
{
    const uint8_t *m = c->body_start;
    size_t n = c->body_len, k = 0;

    if (c->json_body && otelgen_http_json_message(c->body_start, c->body_len, out, len) > 0)
        return;
    if (c->protobuf_body)
        n = otelgen_http_status_message(c->body_start, c->body_len, &m);
    for (size_t i = 0; i < n && k < len - 1 && m[i] != '\n' && m[i] != '\r'; i++)
        out[k++] = m[i] < 0x20 || m[i] == 0x7f ? ' ' : (char)m[i];
    out[k] = '\0';
}

/* ---- requests ---- */

static void otelgen_http_on_body_written(const void *data, size_t len, void *arg)
{
    struct otelgen_http *c = arg;
    (void)data;
    (void)len;

    c->refs--;
}

/* The head, the tenant (request number n carries the n-th, round-robin), the length, then the body. */
static int otelgen_http_queue(struct otelgen_http *c, uint64_t seq)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t n_tenants = c->env.target->n_tenants;
    char length[48];
    int n = snprintf(length, sizeof length, "Content-Length: %zu\r\n\r\n", c->body.len);

    if (evbuffer_add(out, c->head, c->head_len) != 0)
        return -1;
    if (n_tenants > 0 && evbuffer_add(out, c->tenants + c->tenant_at[seq % n_tenants],
                                      c->tenant_at[seq % n_tenants + 1] - c->tenant_at[seq % n_tenants]) != 0)
        return -1;
    if (evbuffer_add(out, length, (size_t)n) != 0)
        return -1;
    if (c->body.len < OTELGEN_HTTP_BY_REFERENCE)
        return evbuffer_add(out, c->body.data, c->body.len);
    if (evbuffer_add_reference(out, c->body.data, c->body.len, otelgen_http_on_body_written, c) != 0)
        return -1;
    c->refs++;
    return 0;
}

static int otelgen_http_send_next(struct otelgen_http *c, char *why, size_t len)
{
    struct otelgen_req req;

    if (c->busy || c->refs > 0 || !otelgen_worker_next(c->env.worker, c->env.slot, &req))
        return 0;
    if (otelgen_payload_fill(c->env.payload, c->env.payload_ctx, &c->body, req.seq) != 0) {
        otelgen_worker_give_back(c->env.worker, &req);
        snprintf(why, len, "cannot make a request body: out of memory");
        return -1;
    }
    if (otelgen_http_queue(c, req.seq) != 0) {
        otelgen_worker_give_back(c->env.worker, &req);
        snprintf(why, len, "cannot queue a request: out of memory");
        return -1;
    }
    c->req = req;
    c->busy = true;
    return 0;
}

/* Settles the request the complete response answers; false when the server wants the connection closed. */
static bool otelgen_http_settle(struct otelgen_http *c)
{
    char msg[OTELGEN_CONN_MESSAGE_MAX];
    struct otelgen_answer a = { .kind = OTELGEN_ANSWER_HTTP, .code = c->status, .message = msg };

    otelgen_http_message(c, msg, sizeof msg);
    if (c->retry_after_len > 0)
        a.retry_after_ms = otelgen_retry_parse_after(c->retry_after, c->retry_after_len, time(NULL));
    c->busy = false;
    c->complete = false;
    c->answered++;
    http_parser_pause(&c->parser, 0);
    otelgen_worker_answered(c->env.worker, &c->req, &a);
    return c->keep_alive;
}

/* Feeds what arrived to http-parser, chunk by chunk, stopping after one complete response. */
static int otelgen_http_feed(struct otelgen_http *c, char *why, size_t len)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct evbuffer_iovec v[16];

    while (evbuffer_get_length(in) > 0 && !c->complete) {
        int n = evbuffer_peek(in, -1, NULL, v, 16);
        size_t used = 0;
        if (!c->busy) {
            snprintf(why, len, "%s: the server sent bytes nobody asked for", c->env.addr->text);
            return -1;
        }
        for (int i = 0; i < n && i < 16 && !c->complete; i++) {
            size_t got = http_parser_execute(&c->parser, &otelgen_http_parser_settings, v[i].iov_base, v[i].iov_len);
            enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
            used += got;
            if (e != HPE_OK && e != HPE_PAUSED) {
                snprintf(why, len, "%s: bad HTTP response: %s", c->env.addr->text, http_errno_description(e));
                return -1;
            }
        }
        evbuffer_drain(in, used);
    }
    return 0;
}

static void otelgen_http_on_read(struct bufferevent *bev, void *arg)
{
    struct otelgen_http *c = arg;
    char why[OTELGEN_CONN_MESSAGE_MAX];
    (void)bev;

    if (otelgen_http_feed(c, why, sizeof why) != 0) {
        otelgen_http_end(c, why);
        return;
    }
    if (!c->complete)
        return;
    if (!otelgen_http_settle(c)) {
        otelgen_http_end(c, NULL);              /* Connection: close, or HTTP/1.0: the worker reconnects */
        return;
    }
    if (otelgen_http_send_next(c, why, sizeof why) != 0)
        otelgen_http_end(c, why);
}

/* The output drained: a body held by reference may be free for the next request. */
static void otelgen_http_on_write(struct bufferevent *bev, void *arg)
{
    struct otelgen_http *c = arg;
    char why[OTELGEN_CONN_MESSAGE_MAX];
    (void)bev;

    if (c->connected && otelgen_http_send_next(c, why, sizeof why) != 0)
        otelgen_http_end(c, why);
}

/* At EOF a response without a length is complete: http-parser is told so with an empty read. */
static void otelgen_http_on_eof(struct otelgen_http *c, short events)
{
    char why[OTELGEN_CONN_MESSAGE_MAX];

    if (c->busy) {
        http_parser_execute(&c->parser, &otelgen_http_parser_settings, NULL, 0);
        if (c->complete) {
            otelgen_http_settle(c);
            otelgen_http_end(c, NULL);
            return;
        }
        otelgen_net_describe(&c->env, c->bev, events, true, why, sizeof why);
        otelgen_http_end(c, why);
        return;
    }
    otelgen_http_end(c, NULL);                  /* an idle keep-alive connection closed: fine */
}

static void otelgen_http_on_event(struct bufferevent *bev, short events, void *arg)
{
    struct otelgen_http *c = arg;
    char why[OTELGEN_CONN_MESSAGE_MAX];

    if (events & BEV_EVENT_CONNECTED) {
        c->connected = true;
        otelgen_net_on_connected(bev);
        if (otelgen_http_send_next(c, why, sizeof why) != 0)
            otelgen_http_end(c, why);
        return;
    }
    if ((events & BEV_EVENT_TIMEOUT) && c->connected && !c->busy) {
        bufferevent_enable(bev, EV_READ | EV_WRITE);    /* idle, nothing is due: not a failure */
        return;
    }
    if ((events & BEV_EVENT_EOF) && c->connected) {
        otelgen_http_on_eof(c, events);
        return;
    }
    otelgen_net_describe(&c->env, bev, events, c->connected, why, sizeof why);
    otelgen_http_end(c, why);
}

/* ---- the client ---- */

static int otelgen_http_head_create(struct otelgen_http *c)
{
    const struct otelgen_target *t = c->env.target;
    struct evbuffer *b = evbuffer_new();
    int rc = b != NULL ? 0 : -1;

    if (rc == 0)
        rc = evbuffer_add_printf(b, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: otelgen/%s\r\nContent-Type: %s\r\n%s",
                                 t->path, t->authority, PACKAGE_VERSION, t->content_type,
                                 t->gzip ? "Content-Encoding: gzip\r\n" : "") < 0 ? -1 : 0;
    for (size_t i = 0; rc == 0 && i < t->n_headers; i++)
        rc = evbuffer_add_printf(b, "%s: %s\r\n", t->headers[i].name, t->headers[i].value) < 0 ? -1 : 0;
    if (rc == 0) {
        c->head_len = evbuffer_get_length(b);
        c->head = malloc(c->head_len);
        rc = c->head != NULL ? 0 : -1;
    }
    if (rc == 0)
        evbuffer_remove(b, c->head, c->head_len);
    if (b != NULL)
        evbuffer_free(b);
    return rc;
}

/* "name: tenant\r\n" for each tenant, one after the other, with their offsets. */
static int otelgen_http_tenants_create(struct otelgen_http *c)
{
    const struct otelgen_target *t = c->env.target;
    size_t total = 0, at = 0;

    if (t->n_tenants == 0)
        return 0;
    for (size_t i = 0; i < t->n_tenants; i++)
        total += strlen(t->tenants[i].name) + strlen(t->tenants[i].value) + 4;
    c->tenants = malloc(total + 1);
    c->tenant_at = malloc((t->n_tenants + 1) * sizeof *c->tenant_at);
    if (c->tenants == NULL || c->tenant_at == NULL)
        return -1;
    for (size_t i = 0; i < t->n_tenants; i++) {
        c->tenant_at[i] = at;
        at += (size_t)snprintf(c->tenants + at, total + 1 - at, "%s: %s\r\n", t->tenants[i].name,
                               t->tenants[i].value);
    }
    c->tenant_at[t->n_tenants] = at;
    return 0;
}

static int otelgen_http_open(void **out, const struct otelgen_conn_env *env, char *err, size_t errlen)
{
    struct otelgen_http *c = calloc(1, sizeof *c);

    *out = NULL;
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->env = *env;
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    if (otelgen_http_head_create(c) != 0 || otelgen_http_tenants_create(c) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (otelgen_net_connect(&c->bev, env, otelgen_http_on_read, otelgen_http_on_write, otelgen_http_on_event, c, err,
                            errlen) != 0)
        goto fail;
    *out = c;
    return 0;
fail:
    free(c->head);
    free(c->tenants);
    free(c->tenant_at);
    free(c);
    return -1;
}

static void otelgen_http_close(void *conn)
{
    otelgen_http_end(conn, NULL);
}

static void otelgen_http_kick(void *conn)
{
    struct otelgen_http *c = conn;
    char why[OTELGEN_CONN_MESSAGE_MAX];

    if (c->connected && otelgen_http_send_next(c, why, sizeof why) != 0)
        otelgen_http_end(c, why);
}

const struct otelgen_client_ops otelgen_http_client = {
    .name = "http",
    .open = otelgen_http_open,
    .close = otelgen_http_close,
    .kick = otelgen_http_kick,
};
