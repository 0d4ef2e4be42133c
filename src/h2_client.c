/* h2_client.c: the HTTP/2 client session the OTLP/gRPC clients share (see h2_client.h). */
#include "autoconf.h"

#include <stdio.h>

#include <event2/buffer.h>

#include "h2_client.h"

static ssize_t h2_client_on_send(nghttp2_session *h2, const uint8_t *data, size_t length, int flags, void *arg)
{
    struct h2_client *c = arg;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    (void)h2;
    (void)flags;

    if (evbuffer_get_length(out) >= c->out_high)
        return NGHTTP2_ERR_WOULDBLOCK;  /* the client's write callback resumes once the socket took some */
    if (evbuffer_add(out, data, length) != 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return (ssize_t)length;
}

/* A DATA frame of a NO_COPY body: its header, then the client's bytes, while the output has room. */
static int h2_client_on_send_data(nghttp2_session *h2, nghttp2_frame *frame, const uint8_t *framehd, size_t length,
                                  nghttp2_data_source *source, void *arg)
{
    struct h2_client *c = arg;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    (void)h2;

    if (evbuffer_get_length(out) >= c->out_high)
        return NGHTTP2_ERR_WOULDBLOCK;  /* nghttp2 offers the same frame again later */
    if (frame->data.padlen > 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;    /* no padding is ever asked for */
    if (evbuffer_add(out, framehd, 9) != 0 || c->send_body(c, source, length, out) != 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    return 0;
}

ssize_t h2_client_frame_body(size_t *framed, size_t total, size_t length, uint32_t *flags)
{
    size_t n = total - *framed;

    if (n > length)
        n = length;
    *framed += n;
    *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
    if (*framed == total)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int h2_client_on_frame(nghttp2_session *h2, const nghttp2_frame *frame, void *arg)
{
    struct h2_client *c = arg;
    (void)h2;

    if (frame->hd.type == NGHTTP2_GOAWAY)
        c->goaway = true;
    return 0;
}

static int h2_client_on_error(nghttp2_session *h2, int code, const char *msg, size_t len, void *arg)
{
    struct h2_client *c = arg;
    (void)h2;
    (void)code;

    if (c->error[0] == '\0')
        snprintf(c->error, sizeof c->error, "%.*s", (int)len, msg);
    return 0;
}

int h2_client_start(struct h2_client *c, const struct h2_client_callbacks *cb)
{
    static const nghttp2_settings_entry settings[] = { { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 } };
    nghttp2_session_callbacks *ncb;
    int rv = nghttp2_session_callbacks_new(&ncb);

    if (rv != 0)
        return rv;
    nghttp2_session_callbacks_set_send_callback(ncb, h2_client_on_send);
    c->send_body = cb->send_body;
    if (cb->send_body != NULL)
        nghttp2_session_callbacks_set_send_data_callback(ncb, h2_client_on_send_data);
    nghttp2_session_callbacks_set_on_header_callback(ncb, cb->on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(ncb, cb->on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(ncb, h2_client_on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(ncb, cb->on_stream_close);
    nghttp2_session_callbacks_set_error_callback2(ncb, h2_client_on_error);
    rv = nghttp2_session_client_new(&c->h2, ncb, c);
    nghttp2_session_callbacks_del(ncb);
    if (rv == 0)
        rv = nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, settings, 1);
    return rv;
}

int h2_client_feed(struct h2_client *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct evbuffer_iovec v[16];

    while (evbuffer_get_length(in) > 0) {
        int n = evbuffer_peek(in, -1, NULL, v, 16);
        size_t used = 0;
        for (int i = 0; i < n && i < 16; i++) {
            ssize_t rv = nghttp2_session_mem_recv(c->h2, v[i].iov_base, v[i].iov_len);
            if (rv < 0)
                return (int)rv;
            used += (size_t)rv;
        }
        evbuffer_drain(in, used);
    }
    return 0;
}

int h2_client_flush(struct h2_client *c)
{
    return nghttp2_session_send(c->h2);
}

bool h2_client_over(const struct h2_client *c)
{
    return c->h2 != NULL && !nghttp2_session_want_read(c->h2) && !nghttp2_session_want_write(c->h2) &&
           evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

void h2_client_dispose(struct h2_client *c)
{
    if (c->h2 != NULL)
        nghttp2_session_del(c->h2);
    c->h2 = NULL;
}
