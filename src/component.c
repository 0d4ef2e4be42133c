/* component.c: names of component kinds and signals, as the config file and
 * the logs spell them; a payload's bytes in one piece. */
#include "autoconf.h"

#include <event2/buffer.h>

#include "component.h"

const uint8_t *otlp_payload_bytes(const struct otlp_payload *p)
{
    if (p->data != NULL)
        return p->data;
    return p->len > 0 ? evbuffer_pullup(p->buf, -1) : (const uint8_t *)"";
}

const char *component_kind_name(enum og_kind kind)
{
    static const char *const names[] = { "receiver", "processor", "exporter", "extension" };
    return kind < OG_KIND_COUNT ? names[kind] : "?";
}

const char *component_kind_section(enum og_kind kind)
{
    static const char *const names[] = { "receivers", "processors", "exporters", "extensions" };
    return kind < OG_KIND_COUNT ? names[kind] : "?";
}

const char *component_signal_grpc_path(enum og_signal signal)
{
    static const char *const paths[] = {
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    };
    return signal < OG_SIGNAL_COUNT ? paths[signal] : "?";
}

const char *component_signal_name(enum og_signal signal)
{
    static const char *const names[] = { "traces", "metrics", "logs" };
    return signal < OG_SIGNAL_COUNT ? names[signal] : "?";
}
