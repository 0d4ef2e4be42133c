/* otelgen_signal.h: what differs between the three OTLP signals for otelgen: names, the HTTP and gRPC
 * paths, the word for one item, the protobuf-c descriptor of the export request, otelgate's enum value. */
#ifndef OTELGEN_SIGNAL_H
#define OTELGEN_SIGNAL_H

#include <protobuf-c/protobuf-c.h>

#include "component.h"

enum otelgen_signal {
    OTELGEN_SIGNAL_TRACES,
    OTELGEN_SIGNAL_METRICS,
    OTELGEN_SIGNAL_LOGS,
};

struct otelgen_signal_info {
    const char *name;                               /* "traces", as --signal spells it */
    const char *http_path;                          /* "/v1/traces" */
    const char *grpc_path;                          /* ".../TraceService/Export" */
    const char *items;                              /* "spans": what the summary counts */
    const ProtobufCMessageDescriptor *request;      /* Export*ServiceRequest */
    enum og_signal og;                              /* otelgate's name for it */
};

const struct otelgen_signal_info *otelgen_signal_info(enum otelgen_signal s);

/* Accepts "traces", "metrics" and "logs". Returns 0, or -1 leaving *out untouched. */
int otelgen_signal_parse(const char *s, enum otelgen_signal *out);

/* The signal a payload file name announces by its first word ("traces_100.pb" -> traces), for --file
 * without --signal. Returns 0, or -1 when the base name starts with none of the three. */
int otelgen_signal_from_file_name(const char *path, enum otelgen_signal *out);

#endif
