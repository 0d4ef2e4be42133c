/* grpc.c: OTLP/gRPC on HTTP/2: the three Export methods, the 5-byte message
 * framing, grpc-encoding gzip, and the gRPC status of every answer, as the
 * OTLP specification maps them. Unary calls only: exactly one message. */
#include "autoconf.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_req.h"
#include "recv_otlp.h"
#include "util/inflate.h"

/* gRPC status codes the receiver answers with. */
enum grpc_code {
    GRPC_OK = 0,
    GRPC_INVALID_ARGUMENT = 3,
    GRPC_RESOURCE_EXHAUSTED = 8,
    GRPC_UNIMPLEMENTED = 12,
    GRPC_INTERNAL = 13,
    GRPC_UNAVAILABLE = 14,
};


/* grpc-message is percent-encoded (gRPC over HTTP/2, "Responses"). */
static void grpc_set_message(struct http_resp *r, const char *msg)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *)msg; *p && o + 4 < sizeof(r->grpc_message); p++) {
        if (*p < 0x20 || *p > 0x7e || *p == '%') {
            r->grpc_message[o++] = '%';
            r->grpc_message[o++] = hex[*p >> 4];
            r->grpc_message[o++] = hex[*p & 15];
        } else {
            r->grpc_message[o++] = (char)*p;
        }
    }
    r->grpc_message[o] = '\0';
}

static void grpc_answer(struct http_req *req, int code, const char *msg)
{
    struct http_resp *r = &req->resp;

    r->status = 200;
    r->content_type = "application/grpc";
    r->grpc = true;
    r->grpc_status = code;
    evbuffer_drain(r->body, evbuffer_get_length(r->body));
    grpc_set_message(r, msg != NULL ? msg : "");
    if (code == GRPC_OK) {
        /* one empty Export*ServiceResponse: flag 0, length 0 */
        static const unsigned char empty[5] = { 0, 0, 0, 0, 0 };
        evbuffer_add(r->body, empty, sizeof(empty));
    }
}

static int grpc_signal(const char *path)
{
    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        if (strcmp(path, component_signal_grpc_path((enum og_signal)s)) == 0)
            return s;
    return -1;
}

/* Strips the 5-byte prefix, checks the length, and inflates a compressed
 * message into <msg>. Returns a gRPC code (GRPC_OK: <msg> holds the bytes). */
static int grpc_unframe(struct recv_otlp_proto *p, struct http_req *req, struct evbuffer *msg, char *why,
                        size_t whylen)
{
    unsigned char prefix[5];
    size_t have = evbuffer_get_length(req->body);
    const char *reason = NULL;

    if (have < 5) {
        snprintf(why, whylen, have == 0 ? "no gRPC message in the request" : "truncated gRPC message prefix");
        return GRPC_INVALID_ARGUMENT;
    }
    evbuffer_remove(req->body, prefix, 5);
    uint64_t len = (uint64_t)prefix[1] << 24 | (uint64_t)prefix[2] << 16 | (uint64_t)prefix[3] << 8 | prefix[4];
    if (len > p->max_message_bytes) {
        snprintf(why, whylen, "message of %llu bytes is larger than max_recv_msg_size_mib (%llu bytes)",
                 (unsigned long long)len, (unsigned long long)p->max_message_bytes);
        return GRPC_RESOURCE_EXHAUSTED;
    }
    if (have - 5 != len) {
        snprintf(why, whylen, have - 5 < len ? "truncated gRPC message: prefix says %llu bytes, %zu received"
                                             : "more than one gRPC message in a unary call (prefix says %llu "
                                               "bytes, %zu received)",
                 (unsigned long long)len, have - 5);
        return GRPC_INVALID_ARGUMENT;
    }
    if (prefix[0] == 0) {
        evbuffer_add_buffer(msg, req->body);
        return GRPC_OK;
    }
    if (prefix[0] != 1) {
        snprintf(why, whylen, "invalid gRPC compressed flag %u", prefix[0]);
        return GRPC_INVALID_ARGUMENT;
    }
    if (req->grpc_encoding[0] == '\0' || strcasecmp(req->grpc_encoding, "identity") == 0) {
        snprintf(why, whylen, "compressed flag set but grpc-encoding is identity");
        return GRPC_INTERNAL;
    }
    enum inflate_format fmt = INFLATE_GZIP;
    if (strcasecmp(req->grpc_encoding, "deflate") == 0)
        fmt = INFLATE_DEFLATE;
    else if (strcasecmp(req->grpc_encoding, "gzip") != 0) {
        snprintf(why, whylen, "grpc-encoding '%s' is not supported (use gzip)", req->grpc_encoding);
        return GRPC_UNIMPLEMENTED;
    }
    int rc = inflate_evbuffer(fmt, req->body, msg, p->max_message_bytes, &reason);
    if (rc == INFLATE_TOO_LARGE) {
        snprintf(why, whylen, "decompressed message is larger than max_recv_msg_size_mib (%llu bytes)",
                 (unsigned long long)p->max_message_bytes);
        return GRPC_RESOURCE_EXHAUSTED;
    }
    if (rc != INFLATE_OK) {
        snprintf(why, whylen, "bad gzip message: %s", reason);
        return GRPC_INVALID_ARGUMENT;
    }
    return GRPC_OK;
}

static int grpc_ingest_code(enum otlp_ingest_result r)
{
    switch (r) {
    case OTLP_INGEST_OK: return GRPC_OK;
    case OTLP_INGEST_INVALID: return GRPC_INVALID_ARGUMENT;
    case OTLP_INGEST_UNROUTED: return GRPC_UNIMPLEMENTED;
    case OTLP_INGEST_RETRY: return GRPC_UNAVAILABLE;
    case OTLP_INGEST_FAILED:
    case OTLP_INGEST_PENDING: break;
    }
    return GRPC_INTERNAL;
}

/* A call whose verdict the pipelines give later. */
struct grpc_call {
    struct otlp_ingest in;
    struct http_req *req;
};

static void grpc_on_verdict(struct otlp_ingest *in, enum otlp_ingest_result r, const char *why)
{
    struct grpc_call *call = (struct grpc_call *)in;
    struct http_req *req = call->req;

    free(call);
    grpc_answer(req, grpc_ingest_code(r), r == OTLP_INGEST_OK ? "" : why);
    req->done(req);
}

/* Runs the message through the pipelines, offering *msg to the spool (which may take it: *msg is then NULL).
 * Returns false when the verdict comes later. */
static bool grpc_ingest(struct recv_otlp_proto *p, struct http_req *req, enum og_signal signal,
                        struct evbuffer **msg)
{
    struct grpc_call *call = malloc(sizeof(*call));
    const char *why = NULL;

    if (call == NULL) {
        grpc_answer(req, GRPC_UNAVAILABLE, "out of memory; retry later");
        return true;
    }
    *call = (struct grpc_call){
        .in = { .route = p->route, .signal = signal, .answer = grpc_on_verdict, .give = msg }, .req = req,
    };
    enum otlp_ingest_result r = otlp_ingest(&call->in, req->tenant, *msg, &why);
    if (r == OTLP_INGEST_PENDING)
        return false;
    free(call);
    grpc_answer(req, grpc_ingest_code(r), r == OTLP_INGEST_OK ? "" : why);
    return true;
}

/* Serves one call. Returns false when the answer comes later (grpc_on_verdict). */
static bool grpc_serve(struct recv_otlp_proto *p, struct http_req *req)
{
    char why[HTTP_REQ_PATH_MAX + 64];
    int signal = grpc_signal(req->path);

    if (req->method != HTTP_REQ_POST || strncasecmp(req->content_type, "application/grpc", 16) != 0) {
        /* Not a gRPC call at all: gRPC says answer in plain HTTP. */
        http_req_error(req, 415, "this port serves OTLP/gRPC: POST with content-type application/grpc");
        return true;
    }
    if (signal < 0) {
        snprintf(why, sizeof(why), "unknown method %s", req->path);
        grpc_answer(req, GRPC_UNIMPLEMENTED, why);
        return true;
    }
    if (req->too_large) {
        snprintf(why, sizeof(why), "message larger than max_recv_msg_size_mib (%llu bytes)",
                 (unsigned long long)p->max_message_bytes);
        grpc_answer(req, GRPC_RESOURCE_EXHAUSTED, why);
        return true;
    }
    struct evbuffer *msg = evbuffer_new();
    if (msg == NULL) {
        grpc_answer(req, GRPC_INTERNAL, "out of memory");
        return true;
    }
    bool answered = true;
    int code = grpc_unframe(p, req, msg, why, sizeof(why));
    if (code == GRPC_OK)
        answered = grpc_ingest(p, req, (enum og_signal)signal, &msg);
    else
        grpc_answer(req, code, why);
    if (msg != NULL)
        evbuffer_free(msg);
    return answered;
}

void grpc_handle(void *ctx, struct http_req *req)
{
    if (grpc_serve(ctx, req))
        req->done(req);
}
