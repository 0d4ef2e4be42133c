/* otelgen_signal.c: the per-signal constants of OTLP (paths, names, descriptors), so the rest of otelgen is
 * written once for all three signals. */
#include "autoconf.h"

#include <string.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#include "otelgen_signal.h"

static const struct otelgen_signal_info otelgen_signal_table[] = {
    [OTELGEN_SIGNAL_TRACES] = {
        .name = "traces",
        .http_path = "/v1/traces",
        .grpc_path = "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        .items = "spans",
        .request = &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor,
        .og = OG_SIGNAL_TRACES,
    },
    [OTELGEN_SIGNAL_METRICS] = {
        .name = "metrics",
        .http_path = "/v1/metrics",
        .grpc_path = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        .items = "data points",
        .request = &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor,
        .og = OG_SIGNAL_METRICS,
    },
    [OTELGEN_SIGNAL_LOGS] = {
        .name = "logs",
        .http_path = "/v1/logs",
        .grpc_path = "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        .items = "log records",
        .request = &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor,
        .og = OG_SIGNAL_LOGS,
    },
};

const struct otelgen_signal_info *otelgen_signal_info(enum otelgen_signal s)
{
    return &otelgen_signal_table[s];
}

int otelgen_signal_parse(const char *s, enum otelgen_signal *out)
{
    for (size_t i = 0; i < sizeof otelgen_signal_table / sizeof otelgen_signal_table[0]; i++) {
        if (strcmp(s, otelgen_signal_table[i].name) == 0) {
            *out = (enum otelgen_signal)i;
            return 0;
        }
    }
    return -1;
}

int otelgen_signal_from_file_name(const char *path, enum otelgen_signal *out)
{
    const char *base = strrchr(path, '/');

    base = base != NULL ? base + 1 : path;
    for (size_t i = 0; i < sizeof otelgen_signal_table / sizeof otelgen_signal_table[0]; i++) {
        const char *name = otelgen_signal_table[i].name;
        if (strncmp(base, name, strlen(name)) == 0) {
            *out = (enum otelgen_signal)i;
            return 0;
        }
    }
    return -1;
}
