/* http_req.h: one HTTP request as the codecs (h1.c, h2.c) hand it to a
 * handler (otlp_http.c, grpc.c), and the answer the handler gives back. The
 * codecs keep only the headers a handler reads, and count the rest against
 * the limits. */
#ifndef OG_HTTP_REQ_H
#define OG_HTTP_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct http_req;

#define HTTP_REQ_PATH_MAX     256
#define HTTP_REQ_VALUE_MAX    128

enum http_req_method {
    HTTP_REQ_OTHER,
    HTTP_REQ_GET,
    HTTP_REQ_HEAD,
    HTTP_REQ_POST,
};

/* The answer. Status and headers are set by the handler; the codec writes
 * them in its own framing. gRPC answers carry their status in trailers. */
struct http_resp {
    int status;                         /* HTTP status; 200 for every gRPC answer */
    const char *content_type;           /* static string, or NULL */
    struct evbuffer *body;              /* owned by the request; may stay empty */
    const char *allow;                  /* Allow: for 405 */
    int retry_after;                    /* seconds; 0 = no Retry-After */
    bool close;                         /* close the connection after this answer */
    bool drop;                          /* no answer at all: HTTP/1 closes the connection,
                                         * HTTP/2 resets the stream (fault injection) */
    bool grpc;                          /* send grpc-status/grpc-message trailers */
    int grpc_status;
    char grpc_message[256];
};

/* Called by the handler, on the request's worker thread, once the answer in
 * req->resp is ready; possibly before handle() returned. After it, the
 * request belongs to the codec again and the handler must not touch it. */
typedef void (*http_req_done_fn)(struct http_req *req);

struct http_req {
    enum http_req_method method;
    char path[HTTP_REQ_PATH_MAX];       /* without the query string */
    char content_type[HTTP_REQ_VALUE_MAX];
    char content_encoding[HTTP_REQ_VALUE_MAX];
    char grpc_encoding[HTTP_REQ_VALUE_MAX];
    int64_t content_length;             /* -1 when not announced */
    bool expect_continue;
    const char *tenant_header;          /* lower case, or NULL: set by the codec */
    char tenant[HTTP_REQ_VALUE_MAX];    /* that header's value, "" when absent */
    bool too_long;                      /* a kept header or the path did not fit: 431 */
    bool too_large;                     /* body over the limit: answered before it ended */
    struct evbuffer *body;              /* owned by the codec; the handler may drain it */
    struct http_resp resp;
    http_req_done_fn done;              /* set by the codec */
    void *codec;                        /* the codec's own per-request state */
};

/* Resets <req> for a new request, keeping its buffers. */
void http_req_reset(struct http_req *req);

/* Creates the request's buffers. Returns 0, or -1 when out of memory. */
int http_req_init(struct http_req *req);
void http_req_dispose(struct http_req *req);

/* Stores a header the handlers read (content-type, content-encoding,
 * grpc-encoding, expect, content-length, the tenant header); ignores the
 * rest. Names compare case-insensitively. Returns 0, or -1 for an invalid
 * content-length. */
int http_req_header(struct http_req *req, const char *name, size_t nlen, const char *value, size_t vlen);

/* Copies a path (stopping at '?'), setting too_long when it does not fit. */
void http_req_set_path(struct http_req *req, const char *path, size_t len);

enum http_req_method http_req_method(const char *name, size_t len);

/* Fills req->resp as a plain-text error (for codec-level refusals). */
void http_req_error(struct http_req *req, int status, const char *text);

/* The standard reason phrase for <status>, "Unknown" otherwise. */
const char *http_req_reason(int status);

#endif
