/* otelgen_signal.c: the per-signal constants of OTLP (paths, names, descriptors) and counting the items of
 * an unpacked export request, so the rest of otelgen is written once for all three signals. */
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
        .json_items_key = "spans",
        .request = &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor,
    },
    [OTELGEN_SIGNAL_METRICS] = {
        .name = "metrics",
        .http_path = "/v1/metrics",
        .grpc_path = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        .items = "data points",
        .json_items_key = "dataPoints",
        .request = &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor,
    },
    [OTELGEN_SIGNAL_LOGS] = {
        .name = "logs",
        .http_path = "/v1/logs",
        .grpc_path = "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        .items = "log records",
        .json_items_key = "logRecords",
        .request = &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor,
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

static size_t otelgen_signal_count_spans(const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_resource_spans; i++)
        for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++)
            n += r->resource_spans[i]->scope_spans[j]->n_spans;
    return n;
}

static size_t otelgen_signal_count_metric_points(const Opentelemetry__Proto__Metrics__V1__Metric *m)
{
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE: return m->gauge->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM: return m->sum->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM: return m->histogram->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
        return m->exponential_histogram->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY: return m->summary->n_data_points;
    default: return 0;
    }
}

static size_t otelgen_signal_count_points(
    const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_resource_metrics; i++) {
        const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = r->resource_metrics[i];
        for (size_t j = 0; j < rm->n_scope_metrics; j++)
            for (size_t k = 0; k < rm->scope_metrics[j]->n_metrics; k++)
                n += otelgen_signal_count_metric_points(rm->scope_metrics[j]->metrics[k]);
    }
    return n;
}

static size_t otelgen_signal_count_records(const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n_resource_logs; i++)
        for (size_t j = 0; j < r->resource_logs[i]->n_scope_logs; j++)
            n += r->resource_logs[i]->scope_logs[j]->n_log_records;
    return n;
}

size_t otelgen_signal_count_items(enum otelgen_signal s, const ProtobufCMessage *request)
{
    /* The generated structs start with their ProtobufCMessage; the descriptor says which one this is. */
    switch (s) {
    case OTELGEN_SIGNAL_TRACES:
        return otelgen_signal_count_spans(
            (const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *)request);
    case OTELGEN_SIGNAL_METRICS:
        return otelgen_signal_count_points(
            (const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *)request);
    case OTELGEN_SIGNAL_LOGS:
        return otelgen_signal_count_records(
            (const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *)request);
    }
    return 0;
}
