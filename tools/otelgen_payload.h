/* otelgen_payload.h: the request bodies otelgen sends. A payload is prepared once per run (from --file, or
 * generated) in the protocol's framing; each request then gets its body from it without re-encoding: a
 * file is sent as it is, a generated request gets fresh span and trace ids written in place (and is gzip'd
 * again when --gzip). Ids are unique in the run: a sink can count losses and duplicates by them. */
#ifndef OTELGEN_PAYLOAD_H
#define OTELGEN_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otelgen_file.h"
#include "otelgen_signal.h"

struct otelgen_payload_conf {
    enum otelgen_signal signal;
    const char *file;                   /* NULL: generate */
    enum otelgen_file_kind file_kind;
    size_t items;                       /* to generate: spans, data points or log records per request */
    unsigned attributes;                /* to generate: extra attributes on each item */
    bool json;                          /* generate OTLP/JSON instead of protobuf */
    bool gzip;                          /* bodies are gzip'd */
    bool grpc_framing;                  /* bodies start with the 5-byte gRPC message prefix */
};

/* One request's body. <data> points either into <buf> (owned, reused by the next fill) or into the payload
 * itself; it stays valid until the next fill of the same body. */
struct otelgen_payload_body {
    uint8_t *buf;
    size_t cap;
    const uint8_t *data;
    size_t len;
};

struct otelgen_payload;
struct otelgen_payload_ctx;

/* Loads or generates the payload; a file whose contents do not parse is a warning on stderr, not an error.
 * Returns 0, or -1 with <err> set. */
int otelgen_payload_create(struct otelgen_payload **out, const struct otelgen_payload_conf *conf, char *err,
                           size_t errlen);
void otelgen_payload_destroy(struct otelgen_payload *p);

/* Items per request, or -1 when the file could not be counted. */
long long otelgen_payload_items(const struct otelgen_payload *p);

/* The scratch space filling a body needs (a zlib stream, an uncompressed copy): one per thread, as filling
 * is synchronous. Returns 0, or -1 with <err> set. */
int otelgen_payload_ctx_create(struct otelgen_payload_ctx **out, const struct otelgen_payload *p, char *err,
                               size_t errlen);
void otelgen_payload_ctx_destroy(struct otelgen_payload_ctx *ctx);

/* Makes <b> the body of request number <seq> (0-based, unique in the run). Allocates only on a body's first
 * fill. Returns 0, or -1 when out of memory or zlib fails. */
int otelgen_payload_fill(const struct otelgen_payload *p, struct otelgen_payload_ctx *ctx,
                         struct otelgen_payload_body *b, uint64_t seq);
void otelgen_payload_body_dispose(struct otelgen_payload_body *b);

#endif
