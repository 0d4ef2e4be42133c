/* otelgen_gen.h: builds one realistic OTLP export request of a given size with protobuf-c: services with
 * their resources, traces whose spans call each other, metrics of every common kind, and logs. Every id in
 * it points into otelgen_ids, so the encoded request can be given new ids per request (otelgen_payload). */
#ifndef OTELGEN_GEN_H
#define OTELGEN_GEN_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "otelgen_encode.h"
#include "otelgen_signal.h"

/* Most items one generated request may hold; it keeps a request well under the 4 MiB that gRPC servers
 * accept by default times a margin, and the ids countable in 32 bits. */
#define OTELGEN_GEN_MAX_ITEMS 100000

struct otelgen_gen;

/* Builds a request of <items> spans, data points or log records (1..OTELGEN_GEN_MAX_ITEMS), with timestamps
 * around the current time. The same <signal> and <items> give the same request but for the timestamps.
 * Returns 0, or -1 with <err> set (out of memory). */
#define OTELGEN_GEN_MAX_EXTRA_ATTRS 64

/* <extra_attrs> more attributes (app.extra.N) on each span, data point or log record, to make items heavier
 * than the realistic default. */
int otelgen_gen_create(struct otelgen_gen **out, enum otelgen_signal signal, size_t items, unsigned extra_attrs,
                       char *err,
                       size_t errlen);
void otelgen_gen_destroy(struct otelgen_gen *g);

const ProtobufCMessage *otelgen_gen_message(const struct otelgen_gen *g);
const struct otelgen_ids *otelgen_gen_ids(const struct otelgen_gen *g);

#endif
