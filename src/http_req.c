/* http_req.c: the request both codecs fill and every handler reads. */
#include "autoconf.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_req.h"

int http_req_init(struct http_req *req)
{
    memset(req, 0, sizeof(*req));
    req->body = evbuffer_new();
    req->resp.body = evbuffer_new();
    if (req->body == NULL || req->resp.body == NULL) {
        http_req_dispose(req);
        return -1;
    }
    http_req_reset(req);
    return 0;
}

void http_req_dispose(struct http_req *req)
{
    if (req->body != NULL)
        evbuffer_free(req->body);
    if (req->resp.body != NULL)
        evbuffer_free(req->resp.body);
    req->body = NULL;
    req->resp.body = NULL;
}

void http_req_reset(struct http_req *req)
{
    struct evbuffer *body = req->body, *resp_body = req->resp.body;
    void *codec = req->codec;
    http_req_done_fn done = req->done;
    const char *tenant_header = req->tenant_header;

    evbuffer_drain(body, evbuffer_get_length(body));
    evbuffer_drain(resp_body, evbuffer_get_length(resp_body));
    memset(req, 0, sizeof(*req));
    req->body = body;
    req->resp.body = resp_body;
    req->codec = codec;
    req->done = done;
    req->tenant_header = tenant_header;
    req->content_length = -1;
}

static void http_req_copy(char *dst, size_t cap, const char *src, size_t len, bool *too_long)
{
    if (len >= cap) {
        *too_long = true;
        len = cap - 1;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

void http_req_set_path(struct http_req *req, const char *path, size_t len)
{
    const char *q = memchr(path, '?', len);

    http_req_copy(req->path, sizeof(req->path), path, q ? (size_t)(q - path) : len, &req->too_long);
}

static bool http_req_is(const char *name, size_t nlen, const char *want)
{
    return nlen == strlen(want) && strncasecmp(name, want, nlen) == 0;
}

static int http_req_content_length(struct http_req *req, const char *value, size_t vlen)
{
    int64_t n = 0;

    if (vlen == 0 || vlen > 18)
        return -1;
    for (size_t i = 0; i < vlen; i++) {
        if (value[i] < '0' || value[i] > '9')
            return -1;
        n = n * 10 + (value[i] - '0');
    }
    if (req->content_length != -1 && req->content_length != n)
        return -1;  /* two different lengths: request smuggling territory */
    req->content_length = n;
    return 0;
}

int http_req_header(struct http_req *req, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (http_req_is(name, nlen, "content-type"))
        http_req_copy(req->content_type, sizeof(req->content_type), value, vlen, &req->too_long);
    else if (http_req_is(name, nlen, "content-encoding"))
        http_req_copy(req->content_encoding, sizeof(req->content_encoding), value, vlen, &req->too_long);
    else if (http_req_is(name, nlen, "grpc-encoding"))
        http_req_copy(req->grpc_encoding, sizeof(req->grpc_encoding), value, vlen, &req->too_long);
    else if (http_req_is(name, nlen, "expect"))
        req->expect_continue = vlen == 12 && strncasecmp(value, "100-continue", 12) == 0;
    else if (http_req_is(name, nlen, "content-length"))
        return http_req_content_length(req, value, vlen);
    else if (req->tenant_header != NULL && http_req_is(name, nlen, req->tenant_header))
        http_req_copy(req->tenant, sizeof(req->tenant), value, vlen, &req->too_long);
    return 0;
}

enum http_req_method http_req_method(const char *name, size_t len)
{
    if (len == 4 && memcmp(name, "POST", 4) == 0)
        return HTTP_REQ_POST;
    if (len == 3 && memcmp(name, "GET", 3) == 0)
        return HTTP_REQ_GET;
    if (len == 4 && memcmp(name, "HEAD", 4) == 0)
        return HTTP_REQ_HEAD;
    return HTTP_REQ_OTHER;
}

void http_req_error(struct http_req *req, int status, const char *text)
{
    req->resp.status = status;
    req->resp.content_type = "text/plain; charset=utf-8";
    evbuffer_drain(req->resp.body, evbuffer_get_length(req->resp.body));
    evbuffer_add_printf(req->resp.body, "%s\n", text);
}

const char *http_req_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    }
    return "Unknown";
}
