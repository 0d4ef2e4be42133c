/* h1.c: the HTTP/1.1 codec, on Debian's http-parser. One request at a time
 * per connection: the parser pauses at the end of each message, so pipelined
 * requests wait in the socket buffer and their answers go out in order. The
 * limits are checked while bytes arrive, before anything is buffered. */
#include "autoconf.h"

#include <event2/buffer.h>
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "http_req.h"

#define H1_FIELD_MAX 64

enum h1_state {
    H1_READING,
    H1_HANDLING,        /* the request is with the handler */
    H1_CLOSING,         /* an answer that ends the connection was sent */
};

struct h1 {
    struct conn *conn;
    http_parser parser;
    struct http_req req;
    enum h1_state state;
    bool in_read;               /* h1_on_read is on the stack */
    bool message_done;
    bool in_message;            /* between the first byte of a request and its end */
    bool in_value;
    char field[H1_FIELD_MAX];
    size_t field_len;
    char value[HTTP_REQ_VALUE_MAX];
    size_t value_len;
    bool value_overflow;
    char target[HTTP_REQ_PATH_MAX];   /* request target as it arrives, query included */
    size_t path_len;
    uint64_t header_bytes;
    uint32_t headers;
    int refuse_status;          /* set by a callback that aborts the parse */
    const char *refuse_text;
};

static int h1_process(struct h1 *h);

static struct h1 *h1_of(http_parser *p)
{
    return p->data;
}

/* Aborts the parse with an answer that closes the connection. Returns -1:
 * from on_headers_complete, 1 would mean "skip the body", not "stop". */
static int h1_refuse(struct h1 *h, int status, const char *text)
{
    h->refuse_status = status;
    h->refuse_text = text;
    return -1;
}

static int h1_count(struct h1 *h, size_t len)
{
    h->header_bytes += len;
    if (h->header_bytes > conn_serve(h->conn)->max_header_bytes)
        return h1_refuse(h, 431, "request headers too large");
    return 0;
}

static int h1_on_message_begin(http_parser *p)
{
    struct h1 *h = h1_of(p);

    http_req_reset(&h->req);
    h->in_message = true;
    h->message_done = false;
    h->in_value = false;
    h->field_len = h->value_len = h->path_len = 0;
    h->value_overflow = false;
    h->header_bytes = 0;
    h->headers = 0;
    return 0;
}

static int h1_on_url(http_parser *p, const char *at, size_t len)
{
    struct h1 *h = h1_of(p);

    if (h1_count(h, len) != 0)
        return -1;
    if (h->path_len + len >= sizeof(h->target))
        return h1_refuse(h, 414, "request target too long");
    memcpy(h->target + h->path_len, at, len);
    h->path_len += len;
    return 0;
}

/* Hands the header just completed to the request. */
static int h1_flush_header(struct h1 *h)
{
    if (!h->in_value)
        return 0;
    h->in_value = false;
    size_t vlen = h->value_overflow ? sizeof(h->value) : h->value_len;
    if (h->field_len < H1_FIELD_MAX && http_req_header(&h->req, h->field, h->field_len, h->value, vlen) != 0)
        return h1_refuse(h, 400, "invalid Content-Length");
    h->field_len = h->value_len = 0;
    h->value_overflow = false;
    return 0;
}

static int h1_on_header_field(http_parser *p, const char *at, size_t len)
{
    struct h1 *h = h1_of(p);

    if (h1_count(h, len) != 0 || h1_flush_header(h) != 0)
        return -1;
    if (h->field_len == 0 && ++h->headers > conn_serve(h->conn)->max_headers)
        return h1_refuse(h, 431, "too many request headers");
    for (size_t i = 0; i < len && h->field_len < H1_FIELD_MAX; i++) {
        char ch = at[i];
        h->field[h->field_len++] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
    }
    return 0;
}

static int h1_on_header_value(http_parser *p, const char *at, size_t len)
{
    struct h1 *h = h1_of(p);
    size_t room = sizeof(h->value) - h->value_len;

    if (h1_count(h, len) != 0)
        return -1;
    h->in_value = true;
    if (len > room) {
        h->value_overflow = true;
        len = room;
    }
    memcpy(h->value + h->value_len, at, len);
    h->value_len += len;
    return 0;
}

static int h1_on_headers_complete(http_parser *p)
{
    struct h1 *h = h1_of(p);
    const struct conn_serve *s = conn_serve(h->conn);

    if (h1_flush_header(h) != 0)
        return -1;
    h->req.method = http_req_method(http_method_str((enum http_method)p->method),
                                    strlen(http_method_str((enum http_method)p->method)));
    http_req_set_path(&h->req, h->target, h->path_len);
    if (h->req.too_long)
        return h1_refuse(h, 431, "a request header is too long");
    if (h->req.content_length > 0 && (uint64_t)h->req.content_length > s->max_body_bytes)
        return h1_refuse(h, 413, "request body larger than max_request_body_size");
    if (h->req.expect_continue)
        evbuffer_add(conn_output(h->conn), "HTTP/1.1 100 Continue\r\n\r\n", 25);
    if (h->req.content_length > 0)
        evbuffer_expand(h->req.body, (size_t)h->req.content_length);   /* one chain: no copy to scan it */
    return 0;
}

static int h1_on_body(http_parser *p, const char *at, size_t len)
{
    struct h1 *h = h1_of(p);

    if (evbuffer_get_length(h->req.body) + len > conn_serve(h->conn)->max_body_bytes)
        return h1_refuse(h, 413, "request body larger than max_request_body_size");
    evbuffer_add(h->req.body, at, len);
    return 0;
}

static int h1_on_message_complete(http_parser *p)
{
    struct h1 *h = h1_of(p);

    h->message_done = true;
    h->in_message = false;
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings h1_settings = {
    .on_message_begin = h1_on_message_begin,
    .on_url = h1_on_url,
    .on_header_field = h1_on_header_field,
    .on_header_value = h1_on_header_value,
    .on_headers_complete = h1_on_headers_complete,
    .on_body = h1_on_body,
    .on_message_complete = h1_on_message_complete,
};

static void h1_write_response(struct h1 *h, bool close)
{
    struct evbuffer *out = conn_output(h->conn);
    const struct http_resp *r = &h->req.resp;
    size_t len = evbuffer_get_length(r->body);

    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", r->status, http_req_reason(r->status));
    if (r->content_type != NULL)
        evbuffer_add_printf(out, "Content-Type: %s\r\n", r->content_type);
    if (r->retry_after > 0)
        evbuffer_add_printf(out, "Retry-After: %d\r\n", r->retry_after);
    if (r->allow != NULL)
        evbuffer_add_printf(out, "Allow: %s\r\n", r->allow);
    evbuffer_add_printf(out, "Content-Length: %zu\r\n%s\r\n", len, close ? "Connection: close\r\n" : "");
    evbuffer_add_buffer(out, r->body);
}

/* Answers a request the codec itself refuses, and closes. */
static void h1_refuse_now(struct h1 *h, int status, const char *text)
{
    http_req_error(&h->req, status, text);
    h1_write_response(h, true);
    h->state = H1_CLOSING;
    conn_close_after_write(h->conn);
}

static void h1_on_done(struct http_req *req)
{
    struct h1 *h = req->codec;
    struct conn *c = h->conn;
    bool close = req->resp.close || conn_draining(c) || !http_should_keep_alive(&h->parser);

    conn_inflight_add(c, -1);
    if (!conn_closed(c) && req->resp.drop) {
        h->state = H1_CLOSING;
        conn_close_after_write(c);     /* answers before this one still go out */
    } else if (!conn_closed(c)) {
        h1_write_response(h, close);
        if (close) {
            h->state = H1_CLOSING;
            conn_close_after_write(c);
        } else {
            h->state = H1_READING;
            http_parser_pause(&h->parser, 0);
            conn_pause_read(c, false);
            if (!h->in_read && h1_process(h) != 0)
                conn_close_after_write(c);
        }
        if (!h->in_read)
            conn_want_write(c);
    }
    conn_release(c);
}

static void h1_dispatch(struct h1 *h)
{
    const struct conn_serve *s = conn_serve(h->conn);

    h->state = H1_HANDLING;
    h->message_done = false;
    conn_pause_read(h->conn, true);
    conn_hold(h->conn);
    conn_inflight_add(h->conn, 1);
    s->handle(s->ctx, &h->req);
}

/* Parses what is buffered, one request at a time. Returns 0, or -1 when the
 * connection must close (the answer, if any, is queued). */
static int h1_process(struct h1 *h)
{
    struct evbuffer *in = conn_input(h->conn);

    while (h->state == H1_READING && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        size_t n = http_parser_execute(&h->parser, &h1_settings, v.iov_base, v.iov_len);
        enum http_errno err = HTTP_PARSER_ERRNO(&h->parser);
        evbuffer_drain(in, n);
        if (err != HPE_OK && err != HPE_PAUSED) {
            if (h->refuse_status != 0)
                h1_refuse_now(h, h->refuse_status, h->refuse_text);
            else
                h1_refuse_now(h, 400, http_errno_description(err));
            return 0;
        }
        if (h->message_done)
            h1_dispatch(h);
    }
    return 0;
}

static int h1_on_read(struct conn *c)
{
    struct h1 *h = conn_codec_state(c);

    if (h->state != H1_READING)
        return 0;
    h->in_read = true;
    int rc = h1_process(h);
    h->in_read = false;
    return rc;
}

static void h1_on_drain(struct conn *c)
{
    struct h1 *h = conn_codec_state(c);

    /* A request with the handler, or still arriving, closes when answered
     * (h1_on_done sees the drain); an idle keep-alive connection now. */
    if (h->state == H1_READING && !h->in_message && evbuffer_get_length(conn_input(c)) == 0)
        conn_close_after_write(c);
}

static void h1_destroy(struct conn *c)
{
    struct h1 *h = conn_codec_state(c);

    if (h == NULL)
        return;
    http_req_dispose(&h->req);
    free(h);
    conn_set_codec_state(c, NULL);
}

int h1_start(struct conn *c)
{
    struct h1 *h = calloc(1, sizeof(*h));

    if (h == NULL || http_req_init(&h->req) != 0) {
        free(h);
        return -1;
    }
    h->conn = c;
    h->req.codec = h;
    h->req.done = h1_on_done;
    h->req.tenant_header = conn_serve(c)->tenant_header;
    http_parser_init(&h->parser, HTTP_REQUEST);
    h->parser.data = h;
    conn_set_codec_state(c, h);
    return 0;
}

const struct conn_codec h1_codec = {
    .name = "http/1.1",
    .on_read = h1_on_read,
    .on_drain = h1_on_drain,
    .destroy = h1_destroy,
};
