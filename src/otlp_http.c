/* otlp_http.c: OTLP/HTTP: POST of protobuf or JSON to the three signal paths,
 * gzip or deflate bodies, answers in the request's encoding, and the status
 * codes of the OTLP specification. JSON becomes protobuf bytes here, so
 * nothing after the receiver ever sees JSON. */
#include "autoconf.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_req.h"
#include "otlp_json.h"
#include "recv_otlp.h"
#include "util/inflate.h"

enum otlp_http_encoding {
    OTLP_HTTP_PROTOBUF,
    OTLP_HTTP_JSON,
};

/* google.rpc.Status codes used in error bodies. */
#define OTLP_HTTP_STATUS_INVALID_ARGUMENT 3
#define OTLP_HTTP_STATUS_RESOURCE_EXHAUSTED 8
#define OTLP_HTTP_STATUS_UNIMPLEMENTED 12
#define OTLP_HTTP_STATUS_INTERNAL 13
#define OTLP_HTTP_STATUS_UNAVAILABLE 14

/* Compares the media type of a Content-Type, ignoring parameters. */
static bool otlp_http_media_is(const char *ct, const char *want)
{
    size_t n = strlen(want);

    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static void otlp_http_varint(struct evbuffer *out, uint64_t v)
{
    unsigned char buf[10];
    size_t n = 0;

    do {
        buf[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
    evbuffer_add(out, buf, n);
}

static void otlp_http_json_string(struct evbuffer *out, const char *s)
{
    evbuffer_add(out, "\"", 1);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            evbuffer_add_printf(out, "\\%c", ch);
        else if (ch < 0x20)
            evbuffer_add_printf(out, "\\u%04x", ch);
        else
            evbuffer_add(out, s, 1);
    }
    evbuffer_add(out, "\"", 1);
}

/* An error answer: <status> with a google.rpc.Status body in the request's
 * encoding, as the OTLP specification asks of 4xx/5xx answers. */
static void otlp_http_error(struct http_req *req, enum otlp_http_encoding enc, int status, int code,
                            const char *msg)
{
    struct http_resp *r = &req->resp;
    size_t len = strlen(msg);

    r->status = status;
    evbuffer_drain(r->body, evbuffer_get_length(r->body));
    if (enc == OTLP_HTTP_JSON) {
        r->content_type = "application/json";
        evbuffer_add_printf(r->body, "{\"code\":%d,\"message\":", code);
        otlp_http_json_string(r->body, msg);
        evbuffer_add(r->body, "}", 1);
        return;
    }
    r->content_type = "application/x-protobuf";
    evbuffer_add(r->body, "\x08", 1);
    otlp_http_varint(r->body, (uint64_t)code);
    evbuffer_add(r->body, "\x12", 1);
    otlp_http_varint(r->body, len);
    evbuffer_add(r->body, msg, len);
}

static void otlp_http_success(struct http_req *req, enum otlp_http_encoding enc)
{
    struct http_resp *r = &req->resp;

    /* An empty Export*ServiceResponse: no partial_success. */
    r->status = 200;
    evbuffer_drain(r->body, evbuffer_get_length(r->body));
    if (enc == OTLP_HTTP_JSON) {
        r->content_type = "application/json";
        evbuffer_add(r->body, "{}", 2);
    } else {
        r->content_type = "application/x-protobuf";
    }
}

static int otlp_http_signal(const struct recv_otlp_proto *p, const char *path)
{
    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        if (strcmp(path, p->paths[s]) == 0)
            return s;
    return -1;
}

/* Decompresses req->body into <out> per Content-Encoding. Returns 0, or -1
 * after answering. */
static int otlp_http_decode(struct recv_otlp_proto *p, struct http_req *req, enum otlp_http_encoding enc,
                            struct evbuffer *out)
{
    const char *ce = req->content_encoding;
    const char *why = NULL;
    enum inflate_format fmt;
    char msg[256];

    if (ce[0] == '\0' || strcasecmp(ce, "identity") == 0) {
        evbuffer_add_buffer(out, req->body);
        return 0;
    }
    if (strcasecmp(ce, "gzip") == 0 || strcasecmp(ce, "x-gzip") == 0)
        fmt = INFLATE_GZIP;
    else if (strcasecmp(ce, "deflate") == 0)
        fmt = INFLATE_DEFLATE;
    else {
        snprintf(msg, sizeof(msg), "Content-Encoding '%s' is not supported (use gzip, deflate or none)", ce);
        otlp_http_error(req, enc, 415, OTLP_HTTP_STATUS_UNIMPLEMENTED, msg);
        return -1;
    }
    int rc = inflate_evbuffer(fmt, req->body, out, p->max_message_bytes, &why);
    if (rc == INFLATE_TOO_LARGE) {
        otlp_http_error(req, enc, 413, OTLP_HTTP_STATUS_RESOURCE_EXHAUSTED,
                        "decompressed body larger than max_request_body_size");
        return -1;
    }
    if (rc != INFLATE_OK) {
        snprintf(msg, sizeof(msg), "bad %s body: %s", ce, why);
        otlp_http_error(req, enc, 400, OTLP_HTTP_STATUS_INVALID_ARGUMENT, msg);
        return -1;
    }
    return 0;
}

/* JSON to protobuf bytes in <pb>. Returns 0, or -1 after answering 400. */
static int otlp_http_from_json(struct recv_otlp_proto *p, struct http_req *req, enum og_signal signal,
                               struct evbuffer *body, struct evbuffer *pb)
{
    char err[256], msg[300];
    size_t len = evbuffer_get_length(body);

    if (len > p->max_json_bytes) {
        /* the parsed tree holds about 12x the text: bounded separately */
        otlp_http_error(req, OTLP_HTTP_JSON, 413, OTLP_HTTP_STATUS_RESOURCE_EXHAUSTED,
                        "JSON body larger than max_json_body_size");
        return -1;
    }
    const char *json = len > 0 ? (const char *)evbuffer_pullup(body, -1) : "";

    if (json != NULL && otlp_json_to_proto(signal, json, len, pb, err, sizeof(err)) == 0)
        return 0;
    snprintf(msg, sizeof(msg), "invalid OTLP/JSON: %s", json == NULL ? "out of memory" : err);
    otlp_http_error(req, OTLP_HTTP_JSON, 400, OTLP_HTTP_STATUS_INVALID_ARGUMENT, msg);
    return -1;
}

/* Answers with the verdict of the pipelines. */
static void otlp_http_verdict(struct http_req *req, enum otlp_http_encoding enc, enum otlp_ingest_result r,
                              const char *why)
{
    switch (r) {
    case OTLP_INGEST_OK:
        otlp_http_success(req, enc);
        return;
    case OTLP_INGEST_INVALID:
        otlp_http_error(req, enc, 400, OTLP_HTTP_STATUS_INVALID_ARGUMENT, why);
        return;
    case OTLP_INGEST_UNROUTED:
        otlp_http_error(req, enc, 404, OTLP_HTTP_STATUS_UNIMPLEMENTED, why);
        return;
    case OTLP_INGEST_RETRY:
        otlp_http_error(req, enc, 503, OTLP_HTTP_STATUS_UNAVAILABLE, why);
        req->resp.retry_after = 1;
        return;
    case OTLP_INGEST_FAILED:
    case OTLP_INGEST_PENDING:
        break;
    }
    otlp_http_error(req, enc, 500, OTLP_HTTP_STATUS_INTERNAL, why);
}

/* A request whose verdict the pipelines give later. */
struct otlp_http_call {
    struct otlp_ingest in;
    struct http_req *req;
    enum otlp_http_encoding enc;
};

static void otlp_http_on_verdict(struct otlp_ingest *in, enum otlp_ingest_result r, const char *why)
{
    struct otlp_http_call *call = (struct otlp_http_call *)in;
    struct http_req *req = call->req;

    otlp_http_verdict(req, call->enc, r, why);
    free(call);
    req->done(req);
}

/* Runs the protobuf bytes in *pb through the pipelines, offering *pb to the spool (which may take it: *pb is
 * then NULL). Returns false when the verdict comes later. */
static bool otlp_http_ingest(struct recv_otlp_proto *p, struct http_req *req, enum og_signal signal,
                             enum otlp_http_encoding enc, struct evbuffer **pb)
{
    struct otlp_http_call *call = malloc(sizeof(*call));
    const char *why = "out of memory; retry later";

    if (call == NULL) {
        otlp_http_verdict(req, enc, OTLP_INGEST_RETRY, why);
        return true;
    }
    *call = (struct otlp_http_call){
        .in = { .route = p->route, .signal = signal, .answer = otlp_http_on_verdict, .give = pb },
        .req = req, .enc = enc,
    };
    enum otlp_ingest_result r = otlp_ingest(&call->in, req->tenant, *pb, &why);
    if (r == OTLP_INGEST_PENDING)
        return false;
    free(call);
    otlp_http_verdict(req, enc, r, why);
    return true;
}

static bool otlp_http_serve(struct recv_otlp_proto *p, struct http_req *req)
{
    int signal = otlp_http_signal(p, req->path);
    enum otlp_http_encoding enc;

    if (signal < 0) {
        char msg[3 * HTTP_REQ_PATH_MAX];
        snprintf(msg, sizeof(msg), "unknown path: OTLP/HTTP paths here are %s, %s and %s", p->paths[0],
                 p->paths[1], p->paths[2]);
        http_req_error(req, 404, msg);
        return true;
    }
    if (req->method != HTTP_REQ_POST) {
        http_req_error(req, 405, "OTLP/HTTP takes POST");
        req->resp.allow = "POST";
        return true;
    }
    if (otlp_http_media_is(req->content_type, "application/x-protobuf"))
        enc = OTLP_HTTP_PROTOBUF;
    else if (otlp_http_media_is(req->content_type, "application/json"))
        enc = OTLP_HTTP_JSON;
    else {
        http_req_error(req, 415, "Content-Type must be application/x-protobuf or application/json");
        return true;
    }
    if (req->too_large) {
        otlp_http_error(req, enc, 413, OTLP_HTTP_STATUS_RESOURCE_EXHAUSTED,
                        "request body larger than max_request_body_size");
        return true;
    }
    struct evbuffer *body = evbuffer_new(), *pb = evbuffer_new();
    bool answered = true;
    if (body == NULL || pb == NULL) {
        otlp_http_error(req, enc, 500, OTLP_HTTP_STATUS_INTERNAL, "out of memory");
    } else if (otlp_http_decode(p, req, enc, body) == 0 &&
               (enc == OTLP_HTTP_PROTOBUF || otlp_http_from_json(p, req, (enum og_signal)signal, body, pb) == 0)) {
        answered = otlp_http_ingest(p, req, (enum og_signal)signal, enc, enc == OTLP_HTTP_JSON ? &pb : &body);
    }
    if (body != NULL)
        evbuffer_free(body);
    if (pb != NULL)
        evbuffer_free(pb);
    return answered;
}

void otlp_http_handle(void *ctx, struct http_req *req)
{
    if (otlp_http_serve(ctx, req))
        req->done(req);
}
