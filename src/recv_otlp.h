/* recv_otlp.h: what the OTLP front ends (grpc.c, otlp_http.c) share with the
 * otlp receiver: its routes to pipelines, its limits, its counters. */
#ifndef OG_RECV_OTLP_H
#define OG_RECV_OTLP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "component.h"
#include "conn.h"

#define RECV_OTLP_MAX_PIPELINES 16

struct evbuffer;
struct pipeline;

/* Where a receiver's requests go, per signal, and what it counted (the
 * Collector's otelcol_receiver_accepted_* / _refused_*). */
struct recv_otlp_route {
    const char *id;
    struct pipeline *pipelines[OG_SIGNAL_COUNT][RECV_OTLP_MAX_PIPELINES];
    size_t npipelines[OG_SIGNAL_COUNT];
    atomic_uint_fast64_t accepted[OG_SIGNAL_COUNT];
    atomic_uint_fast64_t refused[OG_SIGNAL_COUNT];
};

/* One protocol of one receiver: the context its handler gets. */
struct recv_otlp_proto {
    struct recv_otlp_route *route;
    struct conn_serve serve;
    uint64_t max_message_bytes;         /* after decompression */
    uint64_t max_json_bytes;            /* HTTP: JSON bodies, after decompression */
    const char *paths[OG_SIGNAL_COUNT]; /* HTTP: url path per signal */
};

enum otlp_ingest_result {
    OTLP_INGEST_OK,
    OTLP_INGEST_INVALID,                /* 400 / INVALID_ARGUMENT */
    OTLP_INGEST_UNROUTED,               /* 404 / UNIMPLEMENTED: no pipeline for the signal */
    OTLP_INGEST_RETRY,                  /* 503 / UNAVAILABLE */
    OTLP_INGEST_FAILED,                 /* 500 / INTERNAL */
    OTLP_INGEST_PENDING,                /* the verdict comes later, through answer() */
};

/* One request in the pipelines. A front end embeds it in its own
 * per-request state, fills route, signal and answer, and keeps it (and the
 * connection's request) alive until the verdict. */
struct otlp_ingest {
    struct og_wait wait;                /* otlp_ingest's own */
    struct recv_otlp_route *route;
    enum og_signal signal;
    uint64_t items;                     /* what the scan counted */
    /* Set by the caller when <pb> is its own to give: a consumer that keeps the bytes whole may take the
     * evbuffer instead of copying them (otlp_payload.give_buf), setting *give to NULL. NULL: not offered. */
    struct evbuffer **give;
    /* After OTLP_INGEST_PENDING: runs once, on the request's worker, with
     * the verdict (never PENDING) and a reason for every result but OK. */
    void (*answer)(struct otlp_ingest *in, enum otlp_ingest_result r, const char *why);
};

/* Validates the protobuf bytes in <pb> (made contiguous: at most one copy)
 * and runs them through the route's pipelines of in->signal for <tenant>
 * (borrowed; "" for none). Returns the verdict, setting *why for every
 * result but OK; or OTLP_INGEST_PENDING, and in->answer() gives the verdict
 * later (the spool commits, a batch fills). <pb> and <tenant> are not needed
 * once it returned. */
enum otlp_ingest_result otlp_ingest(struct otlp_ingest *in, const char *tenant, struct evbuffer *pb,
                                    const char **why);

/* The two front ends: conn_serve handlers, ctx = struct recv_otlp_proto. */
void grpc_handle(void *ctx, struct http_req *req);
void otlp_http_handle(void *ctx, struct http_req *req);

#endif
