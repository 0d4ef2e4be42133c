/* fuzz_otlp_scan.c: differential libFuzzer target. The first byte picks the signal; otlp_scan() and
 * protobuf-c's unpack judge the rest, and must agree on accept/refuse and, when both accept, on the counts
 * (taken from the unpacked tree). The two differences otlp_scan.h documents are tolerated, nothing else. */
#include "autoconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_scan.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The refusals where protobuf-c accepts (or, for deep nesting, may exhaust its stack): protobuf-c is not
 * asked about these inputs at all. */
static bool fuzz_otlp_scan_tolerated(const char *why)
{
    static const char padded[] = "field number 0 in a padded tag";
    static const char deep[] = "messages nested deeper than";

    return strncmp(why, padded, sizeof(padded) - 1) == 0 || strncmp(why, deep, sizeof(deep) - 1) == 0;
}

static void fuzz_otlp_scan_count_traces(const ProtobufCMessage *msg, struct otlp_counts *c)
{
    const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req = (const void *)msg;

    for (size_t i = 0; i < req->n_resource_spans; i++) {
        const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = req->resource_spans[i];

        c->resources++;
        for (size_t j = 0; j < rs->n_scope_spans; j++) {
            c->scopes++;
            c->items += rs->scope_spans[j]->n_spans;
        }
    }
}

static uint64_t fuzz_otlp_scan_points(const Opentelemetry__Proto__Metrics__V1__Metric *m)
{
    switch (m->data_case) {
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE:
        return m->gauge->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM:
        return m->sum->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM:
        return m->histogram->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
        return m->exponential_histogram->n_data_points;
    case OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY:
        return m->summary->n_data_points;
    default:
        return 0;
    }
}

static void fuzz_otlp_scan_count_metrics(const ProtobufCMessage *msg, struct otlp_counts *c)
{
    const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *req = (const void *)msg;

    for (size_t i = 0; i < req->n_resource_metrics; i++) {
        const Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm = req->resource_metrics[i];

        c->resources++;
        for (size_t j = 0; j < rm->n_scope_metrics; j++) {
            const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = rm->scope_metrics[j];

            c->scopes++;
            c->metrics += sm->n_metrics;
            for (size_t k = 0; k < sm->n_metrics; k++)
                c->items += fuzz_otlp_scan_points(sm->metrics[k]);
        }
    }
}

static void fuzz_otlp_scan_count_logs(const ProtobufCMessage *msg, struct otlp_counts *c)
{
    const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req = (const void *)msg;

    for (size_t i = 0; i < req->n_resource_logs; i++) {
        const Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = req->resource_logs[i];

        c->resources++;
        for (size_t j = 0; j < rl->n_scope_logs; j++) {
            c->scopes++;
            c->items += rl->scope_logs[j]->n_log_records;
        }
    }
}

static const ProtobufCMessageDescriptor *const fuzz_otlp_scan_requests[OG_SIGNAL_COUNT] = {
    &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor,
    &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor,
    &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor,
};

static void (*const fuzz_otlp_scan_counters[OG_SIGNAL_COUNT])(const ProtobufCMessage *, struct otlp_counts *) = {
    fuzz_otlp_scan_count_traces, fuzz_otlp_scan_count_metrics, fuzz_otlp_scan_count_logs,
};

static void fuzz_otlp_scan_disagree(const char *what, const struct otlp_counts *a, const struct otlp_counts *b)
{
    fprintf(stderr, "otlp_scan and protobuf-c disagree: %s\n", what);
    if (a != NULL && b != NULL)
        fprintf(stderr, "scan: %lu/%lu/%lu/%lu, protobuf-c: %lu/%lu/%lu/%lu (resources/scopes/items/metrics)\n",
                (unsigned long)a->resources, (unsigned long)a->scopes, (unsigned long)a->items,
                (unsigned long)a->metrics, (unsigned long)b->resources, (unsigned long)b->scopes,
                (unsigned long)b->items, (unsigned long)b->metrics);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct otlp_counts scan = { 0 }, tree = { 0 };
    enum og_signal signal;
    ProtobufCMessage *msg;
    const char *why = NULL;
    int rc;

    if (size < 1)
        return 0;
    signal = (enum og_signal)(data[0] % OG_SIGNAL_COUNT);
    data++;
    size--;
    rc = otlp_scan(signal, data, size, &scan, &why);
    if (rc != 0 && (why == NULL || why[0] == '\0'))
        fuzz_otlp_scan_disagree("refused without a reason", NULL, NULL);
    if (rc != 0 && fuzz_otlp_scan_tolerated(why))
        return 0;
    msg = protobuf_c_message_unpack(fuzz_otlp_scan_requests[signal], NULL, size, data);
    if (rc == 0 && msg == NULL)
        fuzz_otlp_scan_disagree("scan accepts, protobuf-c refuses", NULL, NULL);
    if (rc != 0 && msg != NULL) {
        fprintf(stderr, "scan refused: %s\n", why);
        fuzz_otlp_scan_disagree("scan refuses, protobuf-c accepts", NULL, NULL);
    }
    if (msg == NULL)
        return 0;
    fuzz_otlp_scan_counters[signal](msg, &tree);
    protobuf_c_message_free_unpacked(msg, NULL);
    if (memcmp(&scan, &tree, sizeof(scan)) != 0)
        fuzz_otlp_scan_disagree("counts", &scan, &tree);
    return 0;
}
