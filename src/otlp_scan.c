/* otlp_scan.c: the intake check of OTLP protobuf bodies. One pass over the wire bytes, driven by a table of
 * the OTLP schema (one row per field of every message), refusing what protobuf-c 1.4.1's unpack refuses and
 * counting what the pipeline reports. It runs on every request, so it never allocates and never copies. */
#include "autoconf.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "otlp_scan.h"

/* What the walk does with a field's value once its wire type is accepted. */
enum otlp_scan_action {
    OTLP_SCAN_SKIP = 0,        /* scalars, strings, bytes, unknown fields (and every hole in a table) */
    OTLP_SCAN_ENTER,           /* a message: walk it, then count it */
    OTLP_SCAN_ENTER_ONEOF,     /* a oneof member message: its counts replace an earlier member's */
    OTLP_SCAN_ENTER_MERGED,    /* a singular message with a oneof: protobuf-c may fail to merge a repeat */
    OTLP_SCAN_PACKED_VARINT,   /* repeated uint64: one varint, or packed */
    OTLP_SCAN_PACKED_FIXED64,  /* repeated fixed64 or double: one value, or packed */
};

/* What a oneof member leaves behind when protobuf-c merges a repeated singular message whose repeat has
 * the oneof unset (merge_messages() copies the earlier member only if it differs from its default and the
 * repeat's slot equals the default, which a string slot, defaulting to "", never does). */
enum otlp_scan_oneof {
    OTLP_SCAN_NOT_ONEOF = 0,
    OTLP_SCAN_ONEOF_KEPT,          /* numbers, bools, messages: copied into the merge */
    OTLP_SCAN_ONEOF_DROPPED,       /* strings: left out, so the merged oneof is unset */
    OTLP_SCAN_ONEOF_DROPPED_EMPTY, /* bytes: left out when empty (unpacked as NULL), else copied */
};

/* The oneof of a message just walked, for the merge of its repeat. */
enum otlp_scan_oneof_state {
    OTLP_SCAN_UNSET = 0,
    OTLP_SCAN_KEPT,
    OTLP_SCAN_DROPPED,
};

/* What one occurrence of a message field adds to the counts; indexes otlp_scan_walk.counts. */
enum otlp_scan_count {
    OTLP_SCAN_COUNT_RESOURCE = 0,
    OTLP_SCAN_COUNT_SCOPE,
    OTLP_SCAN_COUNT_ITEM,
    OTLP_SCAN_COUNT_METRIC,
    OTLP_SCAN_COUNT_NONE,      /* a slot that is never reported, so counting needs no branch */
    OTLP_SCAN_COUNT_SLOTS,
};

enum otlp_scan_msg_id {
    OTLP_SCAN_TRACE_REQUEST, OTLP_SCAN_METRICS_REQUEST, OTLP_SCAN_LOGS_REQUEST,
    OTLP_SCAN_RESOURCE_SPANS, OTLP_SCAN_SCOPE_SPANS, OTLP_SCAN_SPAN, OTLP_SCAN_SPAN_EVENT,
    OTLP_SCAN_SPAN_LINK, OTLP_SCAN_STATUS,
    OTLP_SCAN_RESOURCE_METRICS, OTLP_SCAN_SCOPE_METRICS, OTLP_SCAN_METRIC, OTLP_SCAN_GAUGE, OTLP_SCAN_SUM,
    OTLP_SCAN_HISTOGRAM, OTLP_SCAN_EXP_HISTOGRAM, OTLP_SCAN_SUMMARY, OTLP_SCAN_NUMBER_POINT,
    OTLP_SCAN_HISTOGRAM_POINT, OTLP_SCAN_EXP_HISTOGRAM_POINT, OTLP_SCAN_BUCKETS, OTLP_SCAN_SUMMARY_POINT,
    OTLP_SCAN_QUANTILE, OTLP_SCAN_EXEMPLAR,
    OTLP_SCAN_RESOURCE_LOGS, OTLP_SCAN_SCOPE_LOGS, OTLP_SCAN_LOG_RECORD,
    OTLP_SCAN_RESOURCE, OTLP_SCAN_SCOPE, OTLP_SCAN_KEY_VALUE, OTLP_SCAN_ANY_VALUE, OTLP_SCAN_ARRAY_VALUE,
    OTLP_SCAN_KEY_VALUE_LIST, OTLP_SCAN_ENTITY_REF,
    OTLP_SCAN_MSG_COUNT,
    OTLP_SCAN_NO_MSG = OTLP_SCAN_MSG_COUNT,   /* child of a field that is not a message */
};

/* The reasons one field can be refused for, written out at compile time: the reason is the body of the
 * HTTP 400 / INVALID_ARGUMENT answer and must name the field, yet cannot be formatted at run time. */
struct otlp_scan_field_why {
    const char *wire_type[6];  /* indexed by the wrong wire type (0, 1, 2, 5) */
    const char *overrun;       /* the length prefix reaches past the enclosing message */
    const char *packed;        /* packed: truncated varint, or not a multiple of 8 bytes */
    const char *packed_long;   /* packed: a varint longer than 10 bytes */
    const char *merge;         /* repeated singular AnyValue that protobuf-c fails to merge */
};

/* One row per field number; a hole (all zero) is an unknown field. */
struct otlp_scan_field {
    uint8_t refused;           /* bit n: wire type n is refused (3, 4, 6, 7 are refused for every field) */
    uint8_t action;            /* enum otlp_scan_action */
    uint8_t child;             /* enum otlp_scan_msg_id, for the OTLP_SCAN_ENTER* actions */
    uint8_t count;             /* enum otlp_scan_count, for OTLP_SCAN_ENTER and OTLP_SCAN_ENTER_MERGED */
    uint8_t oneof;             /* enum otlp_scan_oneof */
    bool repeated;
    const struct otlp_scan_field_why *why;
};

struct otlp_scan_msg {
    const struct otlp_scan_field *fields;  /* indexed by field number; [0] is always a hole */
    uint32_t n_fields;                     /* highest known field number + 1 */
    bool has_oneof;                        /* see OTLP_SCAN_ENTER_MERGED */
    const char *field0;
    const char *field0_padded;
    const char *tag_truncated;
    const char *tag_long;
    const char *varint_truncated;
    const char *varint_long;
    const char *fixed64_truncated;
    const char *fixed32_truncated;
    const char *length_truncated;
    const char *length_long;
    const char *unknown_overrun;
    const char *wire_type[8];              /* wire types no field may have: 3, 4, 6, 7 */
};

#define OTLP_SCAN_BIT(wire_type) (1u << (wire_type))
#define OTLP_SCAN_NEVER (OTLP_SCAN_BIT(3) | OTLP_SCAN_BIT(4) | OTLP_SCAN_BIT(6) | OTLP_SCAN_BIT(7))

/* Wire types refused per kind of field, as protobuf-c refuses them. */
#define OTLP_SCAN_REFUSED_VARINT (OTLP_SCAN_BIT(1) | OTLP_SCAN_BIT(2) | OTLP_SCAN_BIT(5))
#define OTLP_SCAN_REFUSED_FIXED64 (OTLP_SCAN_BIT(0) | OTLP_SCAN_BIT(2) | OTLP_SCAN_BIT(5))
#define OTLP_SCAN_REFUSED_FIXED32 (OTLP_SCAN_BIT(0) | OTLP_SCAN_BIT(1) | OTLP_SCAN_BIT(2))
#define OTLP_SCAN_REFUSED_BOOL 0   /* protobuf-c reads a bool out of any wire type */
#define OTLP_SCAN_REFUSED_BYTES (OTLP_SCAN_BIT(0) | OTLP_SCAN_BIT(1) | OTLP_SCAN_BIT(5))
#define OTLP_SCAN_REFUSED_MESSAGE OTLP_SCAN_REFUSED_BYTES
#define OTLP_SCAN_REFUSED_PACKED_VARINT (OTLP_SCAN_BIT(1) | OTLP_SCAN_BIT(5))
#define OTLP_SCAN_REFUSED_PACKED_FIXED64 (OTLP_SCAN_BIT(0) | OTLP_SCAN_BIT(5))

/* Per-kind reason sets; <f> is "Message.field". */
#define OTLP_SCAN_WRONG(f, wt, expected) [wt] = f " has wire type " #wt ", expected " expected
#define OTLP_SCAN_WHY_BOOL(f) { .overrun = "length of " f " overruns its message" }
#define OTLP_SCAN_WHY_VARINT(f) \
    { .wire_type = { OTLP_SCAN_WRONG(f, 1, "0"), OTLP_SCAN_WRONG(f, 2, "0"), OTLP_SCAN_WRONG(f, 5, "0") } }
#define OTLP_SCAN_WHY_FIXED64(f) \
    { .wire_type = { OTLP_SCAN_WRONG(f, 0, "1"), OTLP_SCAN_WRONG(f, 2, "1"), OTLP_SCAN_WRONG(f, 5, "1") } }
#define OTLP_SCAN_WHY_FIXED32(f) \
    { .wire_type = { OTLP_SCAN_WRONG(f, 0, "5"), OTLP_SCAN_WRONG(f, 1, "5"), OTLP_SCAN_WRONG(f, 2, "5") } }
#define OTLP_SCAN_WHY_BYTES(f) \
    { .wire_type = { OTLP_SCAN_WRONG(f, 0, "2"), OTLP_SCAN_WRONG(f, 1, "2"), OTLP_SCAN_WRONG(f, 5, "2") }, \
      .overrun = "length of " f " overruns its message" }
#define OTLP_SCAN_WHY_MESSAGE(f) \
    { .wire_type = { OTLP_SCAN_WRONG(f, 0, "2"), OTLP_SCAN_WRONG(f, 1, "2"), OTLP_SCAN_WRONG(f, 5, "2") }, \
      .overrun = "length of " f " overruns its message", \
      .merge = f " is repeated and a merge of it has no value on either side" }
#define OTLP_SCAN_WHY_PACKED_VARINT(f) \
    { .wire_type = { OTLP_SCAN_WRONG(f, 1, "0 or 2"), OTLP_SCAN_WRONG(f, 5, "0 or 2") }, \
      .overrun = "length of " f " overruns its message", \
      .packed = "truncated varint in packed " f, .packed_long = "varint longer than 10 bytes in packed " f }
#define OTLP_SCAN_WHY_PACKED_FIXED64(f) \
    { .wire_type = { OTLP_SCAN_WRONG(f, 0, "1 or 2"), OTLP_SCAN_WRONG(f, 5, "1 or 2") }, \
      .overrun = "length of " f " overruns its message", \
      .packed = "length of packed " f " is not a multiple of 8" }

/* One row of a field table. File-scope compound literals have static storage, so each row carries its
 * own reasons. */
#define OTLP_SCAN_FIELD(msg, num, name, kind, action, child, count, oneof, repeated) \
    [num] = { OTLP_SCAN_REFUSED_##kind, OTLP_SCAN_##action, OTLP_SCAN_##child, OTLP_SCAN_COUNT_##count, oneof, \
              repeated, &(const struct otlp_scan_field_why)OTLP_SCAN_WHY_##kind(msg "." name) }
#define OTLP_SCAN_SCALAR(msg, num, name, kind) \
    OTLP_SCAN_FIELD(msg, num, name, kind, SKIP, NO_MSG, NONE, OTLP_SCAN_NOT_ONEOF, false)
#define OTLP_SCAN_ONEOF_SCALAR(msg, num, name, kind) \
    OTLP_SCAN_FIELD(msg, num, name, kind, SKIP, NO_MSG, NONE, OTLP_SCAN_ONEOF_KEPT, false)
#define OTLP_SCAN_ONEOF_STRING(msg, num, name) \
    OTLP_SCAN_FIELD(msg, num, name, BYTES, SKIP, NO_MSG, NONE, OTLP_SCAN_ONEOF_DROPPED, false)
#define OTLP_SCAN_ONEOF_BYTES(msg, num, name) \
    OTLP_SCAN_FIELD(msg, num, name, BYTES, SKIP, NO_MSG, NONE, OTLP_SCAN_ONEOF_DROPPED_EMPTY, false)
#define OTLP_SCAN_STRINGS(msg, num, name) OTLP_SCAN_FIELD(msg, num, name, BYTES, SKIP, NO_MSG, NONE, OTLP_SCAN_NOT_ONEOF, true)
#define OTLP_SCAN_PACKED(msg, num, name, kind) \
    OTLP_SCAN_FIELD(msg, num, name, kind, kind, NO_MSG, NONE, OTLP_SCAN_NOT_ONEOF, true)
#define OTLP_SCAN_ONE(msg, num, name, child) \
    OTLP_SCAN_FIELD(msg, num, name, MESSAGE, ENTER, child, NONE, OTLP_SCAN_NOT_ONEOF, false)
#define OTLP_SCAN_MANY(msg, num, name, child, count) \
    OTLP_SCAN_FIELD(msg, num, name, MESSAGE, ENTER, child, count, OTLP_SCAN_NOT_ONEOF, true)
#define OTLP_SCAN_ONEOF_ONE(msg, num, name, child) \
    OTLP_SCAN_FIELD(msg, num, name, MESSAGE, ENTER_ONEOF, child, NONE, OTLP_SCAN_ONEOF_KEPT, false)
/* A singular field whose message has a oneof (test_otlp_scan.c checks the table marks all of them). */
#define OTLP_SCAN_ONE_MERGED(msg, num, name, child) \
    OTLP_SCAN_FIELD(msg, num, name, MESSAGE, ENTER_MERGED, child, NONE, OTLP_SCAN_NOT_ONEOF, false)
#define OTLP_SCAN_ATTRIBUTES(msg, num, name) OTLP_SCAN_MANY(msg, num, name, KEY_VALUE, NONE)

/* ---- collector/{trace,metrics,logs}/v1 ---- */
static const struct otlp_scan_field otlp_scan_trace_request[] = {
    OTLP_SCAN_MANY("ExportTraceServiceRequest", 1, "resource_spans", RESOURCE_SPANS, RESOURCE),
};
static const struct otlp_scan_field otlp_scan_metrics_request[] = {
    OTLP_SCAN_MANY("ExportMetricsServiceRequest", 1, "resource_metrics", RESOURCE_METRICS, RESOURCE),
};
static const struct otlp_scan_field otlp_scan_logs_request[] = {
    OTLP_SCAN_MANY("ExportLogsServiceRequest", 1, "resource_logs", RESOURCE_LOGS, RESOURCE),
};

/* ---- trace/v1/trace.proto ---- */
static const struct otlp_scan_field otlp_scan_resource_spans[] = {
    OTLP_SCAN_ONE("ResourceSpans", 1, "resource", RESOURCE),
    OTLP_SCAN_MANY("ResourceSpans", 2, "scope_spans", SCOPE_SPANS, SCOPE),
    OTLP_SCAN_SCALAR("ResourceSpans", 3, "schema_url", BYTES),
};
static const struct otlp_scan_field otlp_scan_scope_spans[] = {
    OTLP_SCAN_ONE("ScopeSpans", 1, "scope", SCOPE),
    OTLP_SCAN_MANY("ScopeSpans", 2, "spans", SPAN, ITEM),
    OTLP_SCAN_SCALAR("ScopeSpans", 3, "schema_url", BYTES),
};
static const struct otlp_scan_field otlp_scan_span[] = {
    OTLP_SCAN_SCALAR("Span", 1, "trace_id", BYTES),
    OTLP_SCAN_SCALAR("Span", 2, "span_id", BYTES),
    OTLP_SCAN_SCALAR("Span", 3, "trace_state", BYTES),
    OTLP_SCAN_SCALAR("Span", 4, "parent_span_id", BYTES),
    OTLP_SCAN_SCALAR("Span", 5, "name", BYTES),
    OTLP_SCAN_SCALAR("Span", 6, "kind", VARINT),
    OTLP_SCAN_SCALAR("Span", 7, "start_time_unix_nano", FIXED64),
    OTLP_SCAN_SCALAR("Span", 8, "end_time_unix_nano", FIXED64),
    OTLP_SCAN_ATTRIBUTES("Span", 9, "attributes"),
    OTLP_SCAN_SCALAR("Span", 10, "dropped_attributes_count", VARINT),
    OTLP_SCAN_MANY("Span", 11, "events", SPAN_EVENT, NONE),
    OTLP_SCAN_SCALAR("Span", 12, "dropped_events_count", VARINT),
    OTLP_SCAN_MANY("Span", 13, "links", SPAN_LINK, NONE),
    OTLP_SCAN_SCALAR("Span", 14, "dropped_links_count", VARINT),
    OTLP_SCAN_ONE("Span", 15, "status", STATUS),
    OTLP_SCAN_SCALAR("Span", 16, "flags", FIXED32),
};
static const struct otlp_scan_field otlp_scan_span_event[] = {
    OTLP_SCAN_SCALAR("Span.Event", 1, "time_unix_nano", FIXED64),
    OTLP_SCAN_SCALAR("Span.Event", 2, "name", BYTES),
    OTLP_SCAN_ATTRIBUTES("Span.Event", 3, "attributes"),
    OTLP_SCAN_SCALAR("Span.Event", 4, "dropped_attributes_count", VARINT),
};
static const struct otlp_scan_field otlp_scan_span_link[] = {
    OTLP_SCAN_SCALAR("Span.Link", 1, "trace_id", BYTES),
    OTLP_SCAN_SCALAR("Span.Link", 2, "span_id", BYTES),
    OTLP_SCAN_SCALAR("Span.Link", 3, "trace_state", BYTES),
    OTLP_SCAN_ATTRIBUTES("Span.Link", 4, "attributes"),
    OTLP_SCAN_SCALAR("Span.Link", 5, "dropped_attributes_count", VARINT),
    OTLP_SCAN_SCALAR("Span.Link", 6, "flags", FIXED32),
};
static const struct otlp_scan_field otlp_scan_status[] = {
    OTLP_SCAN_SCALAR("Status", 2, "message", BYTES),
    OTLP_SCAN_SCALAR("Status", 3, "code", VARINT),
};

/* ---- metrics/v1/metrics.proto ---- */
static const struct otlp_scan_field otlp_scan_resource_metrics[] = {
    OTLP_SCAN_ONE("ResourceMetrics", 1, "resource", RESOURCE),
    OTLP_SCAN_MANY("ResourceMetrics", 2, "scope_metrics", SCOPE_METRICS, SCOPE),
    OTLP_SCAN_SCALAR("ResourceMetrics", 3, "schema_url", BYTES),
};
static const struct otlp_scan_field otlp_scan_scope_metrics[] = {
    OTLP_SCAN_ONE("ScopeMetrics", 1, "scope", SCOPE),
    OTLP_SCAN_MANY("ScopeMetrics", 2, "metrics", METRIC, METRIC),
    OTLP_SCAN_SCALAR("ScopeMetrics", 3, "schema_url", BYTES),
};
static const struct otlp_scan_field otlp_scan_metric[] = {
    OTLP_SCAN_SCALAR("Metric", 1, "name", BYTES),
    OTLP_SCAN_SCALAR("Metric", 2, "description", BYTES),
    OTLP_SCAN_SCALAR("Metric", 3, "unit", BYTES),
    OTLP_SCAN_ONEOF_ONE("Metric", 5, "gauge", GAUGE),
    OTLP_SCAN_ONEOF_ONE("Metric", 7, "sum", SUM),
    OTLP_SCAN_ONEOF_ONE("Metric", 9, "histogram", HISTOGRAM),
    OTLP_SCAN_ONEOF_ONE("Metric", 10, "exponential_histogram", EXP_HISTOGRAM),
    OTLP_SCAN_ONEOF_ONE("Metric", 11, "summary", SUMMARY),
    OTLP_SCAN_ATTRIBUTES("Metric", 12, "metadata"),
};
static const struct otlp_scan_field otlp_scan_gauge[] = {
    OTLP_SCAN_MANY("Gauge", 1, "data_points", NUMBER_POINT, ITEM),
};
static const struct otlp_scan_field otlp_scan_sum[] = {
    OTLP_SCAN_MANY("Sum", 1, "data_points", NUMBER_POINT, ITEM),
    OTLP_SCAN_SCALAR("Sum", 2, "aggregation_temporality", VARINT),
    OTLP_SCAN_SCALAR("Sum", 3, "is_monotonic", BOOL),
};
static const struct otlp_scan_field otlp_scan_histogram[] = {
    OTLP_SCAN_MANY("Histogram", 1, "data_points", HISTOGRAM_POINT, ITEM),
    OTLP_SCAN_SCALAR("Histogram", 2, "aggregation_temporality", VARINT),
};
static const struct otlp_scan_field otlp_scan_exp_histogram[] = {
    OTLP_SCAN_MANY("ExponentialHistogram", 1, "data_points", EXP_HISTOGRAM_POINT, ITEM),
    OTLP_SCAN_SCALAR("ExponentialHistogram", 2, "aggregation_temporality", VARINT),
};
static const struct otlp_scan_field otlp_scan_summary[] = {
    OTLP_SCAN_MANY("Summary", 1, "data_points", SUMMARY_POINT, ITEM),
};
static const struct otlp_scan_field otlp_scan_number_point[] = {
    OTLP_SCAN_SCALAR("NumberDataPoint", 2, "start_time_unix_nano", FIXED64),
    OTLP_SCAN_SCALAR("NumberDataPoint", 3, "time_unix_nano", FIXED64),
    OTLP_SCAN_ONEOF_SCALAR("NumberDataPoint", 4, "as_double", FIXED64),
    OTLP_SCAN_MANY("NumberDataPoint", 5, "exemplars", EXEMPLAR, NONE),
    OTLP_SCAN_ONEOF_SCALAR("NumberDataPoint", 6, "as_int", FIXED64),
    OTLP_SCAN_ATTRIBUTES("NumberDataPoint", 7, "attributes"),
    OTLP_SCAN_SCALAR("NumberDataPoint", 8, "flags", VARINT),
};
static const struct otlp_scan_field otlp_scan_histogram_point[] = {
    OTLP_SCAN_SCALAR("HistogramDataPoint", 2, "start_time_unix_nano", FIXED64),
    OTLP_SCAN_SCALAR("HistogramDataPoint", 3, "time_unix_nano", FIXED64),
    OTLP_SCAN_SCALAR("HistogramDataPoint", 4, "count", FIXED64),
    OTLP_SCAN_SCALAR("HistogramDataPoint", 5, "sum", FIXED64),
    OTLP_SCAN_PACKED("HistogramDataPoint", 6, "bucket_counts", PACKED_FIXED64),
    OTLP_SCAN_PACKED("HistogramDataPoint", 7, "explicit_bounds", PACKED_FIXED64),
    OTLP_SCAN_MANY("HistogramDataPoint", 8, "exemplars", EXEMPLAR, NONE),
    OTLP_SCAN_ATTRIBUTES("HistogramDataPoint", 9, "attributes"),
    OTLP_SCAN_SCALAR("HistogramDataPoint", 10, "flags", VARINT),
    OTLP_SCAN_SCALAR("HistogramDataPoint", 11, "min", FIXED64),
    OTLP_SCAN_SCALAR("HistogramDataPoint", 12, "max", FIXED64),
};
static const struct otlp_scan_field otlp_scan_exp_histogram_point[] = {
    OTLP_SCAN_ATTRIBUTES("ExponentialHistogramDataPoint", 1, "attributes"),
    OTLP_SCAN_SCALAR("ExponentialHistogramDataPoint", 2, "start_time_unix_nano", FIXED64),
    OTLP_SCAN_SCALAR("ExponentialHistogramDataPoint", 3, "time_unix_nano", FIXED64),
    OTLP_SCAN_SCALAR("ExponentialHistogramDataPoint", 4, "count", FIXED64),
    OTLP_SCAN_SCALAR("ExponentialHistogramDataPoint", 5, "sum", FIXED64),
    OTLP_SCAN_SCALAR("ExponentialHistogramDataPoint", 6, "scale", VARINT),
    OTLP_SCAN_SCALAR("ExponentialHistogramDataPoint", 7, "zero_count", FIXED64),
    OTLP_SCAN_ONE("ExponentialHistogramDataPoint", 8, "positive", BUCKETS),
    OTLP_SCAN_ONE("ExponentialHistogramDataPoint", 9, "negative", BUCKETS),
    OTLP_SCAN_SCALAR("ExponentialHistogramDataPoint", 10, "flags", VARINT),
    OTLP_SCAN_MANY("ExponentialHistogramDataPoint", 11, "exemplars", EXEMPLAR, NONE),
    OTLP_SCAN_SCALAR("ExponentialHistogramDataPoint", 12, "min", FIXED64),
    OTLP_SCAN_SCALAR("ExponentialHistogramDataPoint", 13, "max", FIXED64),
    OTLP_SCAN_SCALAR("ExponentialHistogramDataPoint", 14, "zero_threshold", FIXED64),
};
static const struct otlp_scan_field otlp_scan_buckets[] = {
    OTLP_SCAN_SCALAR("ExponentialHistogramDataPoint.Buckets", 1, "offset", VARINT),
    OTLP_SCAN_PACKED("ExponentialHistogramDataPoint.Buckets", 2, "bucket_counts", PACKED_VARINT),
};
static const struct otlp_scan_field otlp_scan_summary_point[] = {
    OTLP_SCAN_SCALAR("SummaryDataPoint", 2, "start_time_unix_nano", FIXED64),
    OTLP_SCAN_SCALAR("SummaryDataPoint", 3, "time_unix_nano", FIXED64),
    OTLP_SCAN_SCALAR("SummaryDataPoint", 4, "count", FIXED64),
    OTLP_SCAN_SCALAR("SummaryDataPoint", 5, "sum", FIXED64),
    OTLP_SCAN_MANY("SummaryDataPoint", 6, "quantile_values", QUANTILE, NONE),
    OTLP_SCAN_ATTRIBUTES("SummaryDataPoint", 7, "attributes"),
    OTLP_SCAN_SCALAR("SummaryDataPoint", 8, "flags", VARINT),
};
static const struct otlp_scan_field otlp_scan_quantile[] = {
    OTLP_SCAN_SCALAR("SummaryDataPoint.ValueAtQuantile", 1, "quantile", FIXED64),
    OTLP_SCAN_SCALAR("SummaryDataPoint.ValueAtQuantile", 2, "value", FIXED64),
};
static const struct otlp_scan_field otlp_scan_exemplar[] = {
    OTLP_SCAN_SCALAR("Exemplar", 2, "time_unix_nano", FIXED64),
    OTLP_SCAN_ONEOF_SCALAR("Exemplar", 3, "as_double", FIXED64),
    OTLP_SCAN_SCALAR("Exemplar", 4, "span_id", BYTES),
    OTLP_SCAN_SCALAR("Exemplar", 5, "trace_id", BYTES),
    OTLP_SCAN_ONEOF_SCALAR("Exemplar", 6, "as_int", FIXED64),
    OTLP_SCAN_ATTRIBUTES("Exemplar", 7, "filtered_attributes"),
};

/* ---- logs/v1/logs.proto ---- */
static const struct otlp_scan_field otlp_scan_resource_logs[] = {
    OTLP_SCAN_ONE("ResourceLogs", 1, "resource", RESOURCE),
    OTLP_SCAN_MANY("ResourceLogs", 2, "scope_logs", SCOPE_LOGS, SCOPE),
    OTLP_SCAN_SCALAR("ResourceLogs", 3, "schema_url", BYTES),
};
static const struct otlp_scan_field otlp_scan_scope_logs[] = {
    OTLP_SCAN_ONE("ScopeLogs", 1, "scope", SCOPE),
    OTLP_SCAN_MANY("ScopeLogs", 2, "log_records", LOG_RECORD, ITEM),
    OTLP_SCAN_SCALAR("ScopeLogs", 3, "schema_url", BYTES),
};
static const struct otlp_scan_field otlp_scan_log_record[] = {
    OTLP_SCAN_SCALAR("LogRecord", 1, "time_unix_nano", FIXED64),
    OTLP_SCAN_SCALAR("LogRecord", 2, "severity_number", VARINT),
    OTLP_SCAN_SCALAR("LogRecord", 3, "severity_text", BYTES),
    OTLP_SCAN_ONE_MERGED("LogRecord", 5, "body", ANY_VALUE),
    OTLP_SCAN_ATTRIBUTES("LogRecord", 6, "attributes"),
    OTLP_SCAN_SCALAR("LogRecord", 7, "dropped_attributes_count", VARINT),
    OTLP_SCAN_SCALAR("LogRecord", 8, "flags", FIXED32),
    OTLP_SCAN_SCALAR("LogRecord", 9, "trace_id", BYTES),
    OTLP_SCAN_SCALAR("LogRecord", 10, "span_id", BYTES),
    OTLP_SCAN_SCALAR("LogRecord", 11, "observed_time_unix_nano", FIXED64),
    OTLP_SCAN_SCALAR("LogRecord", 12, "event_name", BYTES),
};

/* ---- resource/v1/resource.proto, common/v1/common.proto ---- */
static const struct otlp_scan_field otlp_scan_resource[] = {
    OTLP_SCAN_ATTRIBUTES("Resource", 1, "attributes"),
    OTLP_SCAN_SCALAR("Resource", 2, "dropped_attributes_count", VARINT),
    OTLP_SCAN_MANY("Resource", 3, "entity_refs", ENTITY_REF, NONE),
};
static const struct otlp_scan_field otlp_scan_scope[] = {
    OTLP_SCAN_SCALAR("InstrumentationScope", 1, "name", BYTES),
    OTLP_SCAN_SCALAR("InstrumentationScope", 2, "version", BYTES),
    OTLP_SCAN_ATTRIBUTES("InstrumentationScope", 3, "attributes"),
    OTLP_SCAN_SCALAR("InstrumentationScope", 4, "dropped_attributes_count", VARINT),
};
static const struct otlp_scan_field otlp_scan_key_value[] = {
    OTLP_SCAN_SCALAR("KeyValue", 1, "key", BYTES),
    OTLP_SCAN_ONE_MERGED("KeyValue", 2, "value", ANY_VALUE),
    OTLP_SCAN_SCALAR("KeyValue", 3, "key_strindex", VARINT),
};
static const struct otlp_scan_field otlp_scan_any_value[] = {
    OTLP_SCAN_ONEOF_STRING("AnyValue", 1, "string_value"),
    OTLP_SCAN_ONEOF_SCALAR("AnyValue", 2, "bool_value", BOOL),
    OTLP_SCAN_ONEOF_SCALAR("AnyValue", 3, "int_value", VARINT),
    OTLP_SCAN_ONEOF_SCALAR("AnyValue", 4, "double_value", FIXED64),
    OTLP_SCAN_ONEOF_ONE("AnyValue", 5, "array_value", ARRAY_VALUE),
    OTLP_SCAN_ONEOF_ONE("AnyValue", 6, "kvlist_value", KEY_VALUE_LIST),
    OTLP_SCAN_ONEOF_BYTES("AnyValue", 7, "bytes_value"),
    OTLP_SCAN_ONEOF_SCALAR("AnyValue", 8, "string_value_strindex", VARINT),
};
static const struct otlp_scan_field otlp_scan_array_value[] = {
    OTLP_SCAN_MANY("ArrayValue", 1, "values", ANY_VALUE, NONE),
};
static const struct otlp_scan_field otlp_scan_key_value_list[] = {
    OTLP_SCAN_MANY("KeyValueList", 1, "values", KEY_VALUE, NONE),
};
static const struct otlp_scan_field otlp_scan_entity_ref[] = {
    OTLP_SCAN_SCALAR("EntityRef", 1, "schema_url", BYTES),
    OTLP_SCAN_SCALAR("EntityRef", 2, "type", BYTES),
    OTLP_SCAN_STRINGS("EntityRef", 3, "id_keys"),
    OTLP_SCAN_STRINGS("EntityRef", 4, "description_keys"),
};

#define OTLP_SCAN_MSG(id, name, table, oneof) \
    [OTLP_SCAN_##id] = { \
        .fields = table, .n_fields = sizeof(table) / sizeof((table)[0]), .has_oneof = oneof, \
        .field0 = "field number 0 in " name, \
        .field0_padded = "field number 0 in a padded tag in " name, \
        .tag_truncated = "truncated tag in " name, \
        .tag_long = "tag longer than 5 bytes in " name, \
        .varint_truncated = "truncated varint in " name, \
        .varint_long = "varint longer than 10 bytes in " name, \
        .fixed64_truncated = "truncated fixed64 in " name, \
        .fixed32_truncated = "truncated fixed32 in " name, \
        .length_truncated = "truncated length in " name, \
        .length_long = "length prefix longer than 5 bytes in " name, \
        .unknown_overrun = "length of an unknown field overruns " name, \
        .wire_type = { [3] = "wire type 3 (group start) in " name " is not supported", \
                       [4] = "wire type 4 (group end) in " name " is not supported", \
                       [6] = "wire type 6 does not exist (in " name ")", \
                       [7] = "wire type 7 does not exist (in " name ")" }, \
    }

static const struct otlp_scan_msg otlp_scan_msgs[OTLP_SCAN_MSG_COUNT] = {
    OTLP_SCAN_MSG(TRACE_REQUEST, "ExportTraceServiceRequest", otlp_scan_trace_request, false),
    OTLP_SCAN_MSG(METRICS_REQUEST, "ExportMetricsServiceRequest", otlp_scan_metrics_request, false),
    OTLP_SCAN_MSG(LOGS_REQUEST, "ExportLogsServiceRequest", otlp_scan_logs_request, false),
    OTLP_SCAN_MSG(RESOURCE_SPANS, "ResourceSpans", otlp_scan_resource_spans, false),
    OTLP_SCAN_MSG(SCOPE_SPANS, "ScopeSpans", otlp_scan_scope_spans, false),
    OTLP_SCAN_MSG(SPAN, "Span", otlp_scan_span, false),
    OTLP_SCAN_MSG(SPAN_EVENT, "Span.Event", otlp_scan_span_event, false),
    OTLP_SCAN_MSG(SPAN_LINK, "Span.Link", otlp_scan_span_link, false),
    OTLP_SCAN_MSG(STATUS, "Status", otlp_scan_status, false),
    OTLP_SCAN_MSG(RESOURCE_METRICS, "ResourceMetrics", otlp_scan_resource_metrics, false),
    OTLP_SCAN_MSG(SCOPE_METRICS, "ScopeMetrics", otlp_scan_scope_metrics, false),
    OTLP_SCAN_MSG(METRIC, "Metric", otlp_scan_metric, true),
    OTLP_SCAN_MSG(GAUGE, "Gauge", otlp_scan_gauge, false),
    OTLP_SCAN_MSG(SUM, "Sum", otlp_scan_sum, false),
    OTLP_SCAN_MSG(HISTOGRAM, "Histogram", otlp_scan_histogram, false),
    OTLP_SCAN_MSG(EXP_HISTOGRAM, "ExponentialHistogram", otlp_scan_exp_histogram, false),
    OTLP_SCAN_MSG(SUMMARY, "Summary", otlp_scan_summary, false),
    OTLP_SCAN_MSG(NUMBER_POINT, "NumberDataPoint", otlp_scan_number_point, true),
    OTLP_SCAN_MSG(HISTOGRAM_POINT, "HistogramDataPoint", otlp_scan_histogram_point, false),
    OTLP_SCAN_MSG(EXP_HISTOGRAM_POINT, "ExponentialHistogramDataPoint", otlp_scan_exp_histogram_point, false),
    OTLP_SCAN_MSG(BUCKETS, "ExponentialHistogramDataPoint.Buckets", otlp_scan_buckets, false),
    OTLP_SCAN_MSG(SUMMARY_POINT, "SummaryDataPoint", otlp_scan_summary_point, false),
    OTLP_SCAN_MSG(QUANTILE, "SummaryDataPoint.ValueAtQuantile", otlp_scan_quantile, false),
    OTLP_SCAN_MSG(EXEMPLAR, "Exemplar", otlp_scan_exemplar, true),
    OTLP_SCAN_MSG(RESOURCE_LOGS, "ResourceLogs", otlp_scan_resource_logs, false),
    OTLP_SCAN_MSG(SCOPE_LOGS, "ScopeLogs", otlp_scan_scope_logs, false),
    OTLP_SCAN_MSG(LOG_RECORD, "LogRecord", otlp_scan_log_record, false),
    OTLP_SCAN_MSG(RESOURCE, "Resource", otlp_scan_resource, false),
    OTLP_SCAN_MSG(SCOPE, "InstrumentationScope", otlp_scan_scope, false),
    OTLP_SCAN_MSG(KEY_VALUE, "KeyValue", otlp_scan_key_value, false),
    OTLP_SCAN_MSG(ANY_VALUE, "AnyValue", otlp_scan_any_value, true),
    OTLP_SCAN_MSG(ARRAY_VALUE, "ArrayValue", otlp_scan_array_value, false),
    OTLP_SCAN_MSG(KEY_VALUE_LIST, "KeyValueList", otlp_scan_key_value_list, false),
    OTLP_SCAN_MSG(ENTITY_REF, "EntityRef", otlp_scan_entity_ref, false),
};

/* What the walk does with a field whose one-byte tag it sees, when that is the same as the general walk
 * would do and leaves no state: skip the value (checking its bounds), or skip a plain attribute or value.
 * Anything else, unknown fields and refusals included, takes the general walk from the same tag. */
enum otlp_scan_fast {
    OTLP_SCAN_FAST_GENERAL = 0,
    OTLP_SCAN_FAST_VARINT,
    OTLP_SCAN_FAST_FIXED64,
    OTLP_SCAN_FAST_FIXED32,
    OTLP_SCAN_FAST_BYTES,
    OTLP_SCAN_FAST_ATTRIBUTE,  /* a KeyValue: skipped when otlp_scan_plain_attribute says so */
    OTLP_SCAN_FAST_VALUE,      /* a repeated AnyValue: skipped when otlp_scan_plain_value says so */
};

/* Per message, per one-byte tag (field numbers 1 to 15, every wire type): enum otlp_scan_fast. Derived
 * from the field tables once, by otlp_scan_fast_init. */
static uint8_t otlp_scan_fast[OTLP_SCAN_MSG_COUNT][0x80];
static pthread_once_t otlp_scan_fast_once = PTHREAD_ONCE_INIT;

static enum otlp_scan_fast otlp_scan_fast_of(const struct otlp_scan_msg *m, unsigned tag)
{
    unsigned number = tag >> 3, wire_type = tag & 7;
    const struct otlp_scan_field *f = number < m->n_fields ? &m->fields[number] : NULL;

    if (f == NULL || number == 0 || f->why == NULL || ((OTLP_SCAN_NEVER | f->refused) & OTLP_SCAN_BIT(wire_type)) ||
        f->oneof != OTLP_SCAN_NOT_ONEOF)
        return OTLP_SCAN_FAST_GENERAL;   /* unknown, refused, or a oneof member: state to keep */
    if (f->action == OTLP_SCAN_SKIP)
        return wire_type == 0 ? OTLP_SCAN_FAST_VARINT : wire_type == 1 ? OTLP_SCAN_FAST_FIXED64
             : wire_type == 5 ? OTLP_SCAN_FAST_FIXED32 : OTLP_SCAN_FAST_BYTES;
    if (f->action == OTLP_SCAN_ENTER && wire_type == 2 && f->child == OTLP_SCAN_KEY_VALUE)
        return OTLP_SCAN_FAST_ATTRIBUTE;
    if (f->action == OTLP_SCAN_ENTER && wire_type == 2 && f->child == OTLP_SCAN_ANY_VALUE && f->repeated)
        return OTLP_SCAN_FAST_VALUE;
    return OTLP_SCAN_FAST_GENERAL;
}

static void otlp_scan_fast_init(void)
{
    for (unsigned i = 0; i < OTLP_SCAN_MSG_COUNT; i++)
        for (unsigned tag = 0; tag < 0x80; tag++)
            otlp_scan_fast[i][tag] = (uint8_t)otlp_scan_fast_of(&otlp_scan_msgs[i], tag);
}

static const char otlp_scan_why_depth[] = "messages nested deeper than 100 levels";
static const char otlp_scan_why_signal[] = "unknown signal";

/* The state of one message being walked; the walk keeps one per nesting level. */
struct otlp_scan_level {
    const struct otlp_scan_msg *m;
    const uint8_t *end;        /* end of m's bytes */
    uint32_t field;            /* number of the field of m whose message is being walked below */
    uint64_t merged;           /* per OTLP_SCAN_ENTER_MERGED field number, 2 bits: 0 not seen yet, else 1 +
                                  the enum otlp_scan_oneof_state of the merge so far */
    uint8_t oneof_state;       /* enum otlp_scan_oneof_state of m's oneof so far */
    bool oneof_counted;        /* oneof_counts[] holds what m's last oneof member message counted */
};

/* A walk: the stack of levels, and the counts (indexed by enum otlp_scan_count). Counts under a oneof
 * member are set aside per level, because a later member replaces them. */
struct otlp_scan_walk {
    uint64_t counts[OTLP_SCAN_COUNT_SLOTS];
    const char *why;
    unsigned depth;
    struct otlp_scan_level level[OTLP_SCAN_MAX_DEPTH + 1];
    uint64_t oneof_counts[OTLP_SCAN_MAX_DEPTH + 1][OTLP_SCAN_COUNT_NONE];
    uint64_t saved_counts[OTLP_SCAN_MAX_DEPTH + 1][OTLP_SCAN_COUNT_NONE];
};

static inline int otlp_scan_fail(struct otlp_scan_walk *w, const char *why)
{
    w->why = why;
    return -1;
}

/* otlp_scan_fail() for the readers, which return a position, NULL on failure. */
static inline const uint8_t *otlp_scan_fail_at(struct otlp_scan_walk *w, const char *why)
{
    w->why = why;
    return NULL;
}

/* Reads a tag of two to five bytes at p, as protobuf-c does: the field number is the varint shifted right
 * by 3 and cut to 32 bits. Returns the position after it, or NULL with w->why set. */
static const uint8_t *otlp_scan_long_tag(struct otlp_scan_walk *w, const struct otlp_scan_msg *m,
                                         const uint8_t *p, const uint8_t *end, uint32_t *number)
{
    uint32_t n = (*p & 0x7f) >> 3;
    unsigned i;

    for (i = 1; i < 5; i++) {
        if (p + i >= end)
            return otlp_scan_fail_at(w, m->tag_truncated);
        n |= (uint32_t)(p[i] & 0x7f) << (7 * i - 3);
        if (p[i] < 0x80)
            break;
    }
    if (i == 5)
        return otlp_scan_fail_at(w, m->tag_long);
    if (n == 0)
        return otlp_scan_fail_at(w, m->field0_padded);
    *number = n;
    return p + i + 1;
}

/* Reads the tag at p (one byte, nearly always). Returns the position after it, or NULL with w->why set. */
static inline const uint8_t *otlp_scan_tag(struct otlp_scan_walk *w, const struct otlp_scan_msg *m,
                                           const uint8_t *p, const uint8_t *end, uint32_t *number,
                                           unsigned *wire_type)
{
    *wire_type = *p & 7;
    if (*p >= 0x80)
        return otlp_scan_long_tag(w, m, p, end, number);
    if (*p < 0x08)
        return otlp_scan_fail_at(w, m->field0);
    *number = *p >> 3;
    return p + 1;
}

/* Length of the varint at p: 1..10, 0 when it runs past end, -1 when it is longer than 10 bytes. */
static inline int otlp_scan_varint_len(const uint8_t *p, const uint8_t *end)
{
    size_t max = (size_t)(end - p) < 10 ? (size_t)(end - p) : 10;
    size_t i;

    for (i = 0; i < max; i++)
        if (p[i] < 0x80)
            return (int)i + 1;
    return max == 10 ? -1 : 0;
}

/* Skips the value of a field with wire type 0, 1 or 5. Returns the new position, or NULL with w->why set. */
static inline const uint8_t *otlp_scan_skip_scalar(struct otlp_scan_walk *w, const struct otlp_scan_msg *m,
                                                   const uint8_t *p, const uint8_t *end, unsigned wire_type)
{
    int n;

    if (wire_type == 0) {
        if (p < end && *p < 0x80)
            return p + 1;
        n = otlp_scan_varint_len(p, end);
        if (n <= 0)
            return otlp_scan_fail_at(w, n == 0 ? m->varint_truncated : m->varint_long);
        return p + n;
    }
    if (wire_type == 1)
        return end - p >= 8 ? p + 8 : otlp_scan_fail_at(w, m->fixed64_truncated);
    return end - p >= 4 ? p + 4 : otlp_scan_fail_at(w, m->fixed32_truncated);
}

/* Reads a length prefix as protobuf-c does: at most 5 bytes, at most INT_MAX, and within end. Returns the
 * payload's start with *len set, or NULL with w->why set. */
static inline const uint8_t *otlp_scan_length(struct otlp_scan_walk *w, const struct otlp_scan_msg *m,
                                              const struct otlp_scan_field *f, const uint8_t *p,
                                              const uint8_t *end, size_t *len)
{
    uint64_t v = 0;
    unsigned i = 0;

    if (p < end && *p < 0x80) {   /* most lengths are one byte */
        if (*p > end - p - 1)
            return otlp_scan_fail_at(w, f->why != NULL ? f->why->overrun : m->unknown_overrun);
        *len = *p;
        return p + 1;
    }
    while (p + i < end && i < 5) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (p[i++] < 0x80)
            break;
    }
    if (i == 0 || p[i - 1] >= 0x80)
        return otlp_scan_fail_at(w, i == 5 ? m->length_long : m->length_truncated);
    p += i;
    if (v > INT_MAX || v > (uint64_t)(end - p))
        return otlp_scan_fail_at(w, f->why != NULL ? f->why->overrun : m->unknown_overrun);
    *len = (size_t)v;
    return p;
}

/* A packed repeated field: every varint ends inside the payload within 10 bytes, or the payload holds
 * whole 8-byte values. */
static int otlp_scan_packed(struct otlp_scan_walk *w, const struct otlp_scan_field *f, const uint8_t *p,
                            size_t len)
{
    const uint8_t *end = p + len;
    int n;

    if (f->action == OTLP_SCAN_PACKED_FIXED64)
        return len % 8 == 0 ? 0 : otlp_scan_fail(w, f->why->packed);
    while (p < end) {
        n = otlp_scan_varint_len(p, end);
        if (n <= 0)
            return otlp_scan_fail(w, n == 0 ? f->why->packed : f->why->packed_long);
        p += n;
    }
    return 0;
}

/* An AnyValue filling [p, end) that is one string (with a one-byte length), bool, int or double: the shape
 * nearly every value has. */
static inline bool otlp_scan_plain_value(const uint8_t *p, const uint8_t *end)
{
    size_t n;

    if (end - p < 2)
        return false;
    n = (size_t)(end - p) - 1;                      /* the bytes after the field's tag */
    switch (p[0]) {
    case 0x0a:                                      /* string_value */
        return p[1] < 0x80 && n == p[1] + 1u;
    case 0x10:                                      /* bool_value, int_value: one varint */
    case 0x18:
        return n <= 10 && p[n] < 0x80 && (n == 1 || otlp_scan_varint_len(p + 1, end) == (int)n);
    case 0x21:                                      /* double_value */
        return n == 8;
    default:
        return false;
    }
}

/* The shape most of an OTLP request has: an attribute KeyValue { key: string, value: a plain AnyValue } with
 * one-byte lengths. Recognising it in one go, instead of entering two levels for four fields, makes the
 * whole walk about twice as fast. Returns true only for such a KeyValue filling [p, end), which the general
 * walk would accept without counting anything; any other shape, valid or not, returns false and takes the
 * general walk. */
static inline bool otlp_scan_plain_attribute(const uint8_t *p, const uint8_t *end)
{
    if (end - p < 5 || p[0] != 0x0a || p[1] >= 0x80 || (size_t)(end - p) < p[1] + 5u)
        return false;
    p += 2 + p[1];                                  /* key (field 1, wire type 2) */
    if (p[0] != 0x12 || p[1] >= 0x80 || (size_t)(end - p) != p[1] + 2u)
        return false;
    return otlp_scan_plain_value(p + 2, end);       /* value (field 2, wire type 2) */
}

/* The state a oneof member with a payload of <len> bytes leaves for the merge of its message. */
static inline uint8_t otlp_scan_oneof_state(const struct otlp_scan_field *f, size_t len)
{
    if (f->oneof == OTLP_SCAN_ONEOF_DROPPED || (f->oneof == OTLP_SCAN_ONEOF_DROPPED_EMPTY && len == 0))
        return OTLP_SCAN_DROPPED;
    return OTLP_SCAN_KEPT;
}

/* Descends into the message held by field <number> of the current level, whose bytes end at <end>. */
static inline int otlp_scan_enter(struct otlp_scan_walk *w, const struct otlp_scan_field *f, uint32_t number,
                                  const uint8_t *end)
{
    struct otlp_scan_level *up = &w->level[w->depth], *l;

    if (w->depth == OTLP_SCAN_MAX_DEPTH)
        return otlp_scan_fail(w, otlp_scan_why_depth);
    up->field = number;
    if (f->action == OTLP_SCAN_ENTER_ONEOF)
        memcpy(w->saved_counts[w->depth], w->counts, sizeof(w->saved_counts[0]));
    l = &w->level[++w->depth];
    l->m = &otlp_scan_msgs[f->child];
    l->end = end;
    l->merged = 0;
    l->oneof_state = OTLP_SCAN_UNSET;
    l->oneof_counted = false;
    return 0;
}

/* protobuf-c merges a repeated singular message into the earlier occurrence. For a message with a oneof,
 * the merged oneof is the repeat's when that is set; else the earlier one, unless enum otlp_scan_oneof
 * says the merge drops it; and the merge fails when both sides are unset. */
static int otlp_scan_merge(struct otlp_scan_walk *w, struct otlp_scan_level *l, const struct otlp_scan_field *f,
                           unsigned child_state)
{
    unsigned shift = 2 * (l->field & 31);   /* known field numbers are below 32 */
    unsigned merged = (unsigned)(l->merged >> shift) & 3;

    if (merged != 0 && child_state == OTLP_SCAN_UNSET) {
        if (merged - 1 == OTLP_SCAN_UNSET)
            return otlp_scan_fail(w, f->why->merge);
        child_state = merged - 1 == OTLP_SCAN_KEPT ? OTLP_SCAN_KEPT : OTLP_SCAN_UNSET;
    }
    l->merged = (l->merged & ~((uint64_t)3 << shift)) | (uint64_t)(child_state + 1) << shift;
    return 0;
}

/* Finishes the current level's message and returns to its parent, counting it there. */
static inline int otlp_scan_leave(struct otlp_scan_walk *w)
{
    struct otlp_scan_level *l = &w->level[w->depth];
    unsigned child_state = l->oneof_state;
    const struct otlp_scan_field *f;
    unsigned i;

    if (l->oneof_counted)
        for (i = 0; i < OTLP_SCAN_COUNT_NONE; i++)
            w->counts[i] += w->oneof_counts[w->depth][i];
    l = &w->level[--w->depth];
    f = &l->m->fields[l->field];
    if (f->action == OTLP_SCAN_ENTER_ONEOF) {
        for (i = 0; i < OTLP_SCAN_COUNT_NONE; i++) {
            w->oneof_counts[w->depth][i] = w->counts[i] - w->saved_counts[w->depth][i];
            w->counts[i] = w->saved_counts[w->depth][i];
        }
        l->oneof_counted = true;
        return 0;
    }
    if (f->action == OTLP_SCAN_ENTER_MERGED && otlp_scan_merge(w, l, f, child_state) != 0)
        return -1;
    w->counts[f->count]++;
    return 0;
}

/* Reports the wire type <wire_type> of field <f> of <m> as refused. */
static int otlp_scan_refuse(struct otlp_scan_walk *w, const struct otlp_scan_msg *m,
                            const struct otlp_scan_field *f, unsigned wire_type)
{
    return otlp_scan_fail(w, OTLP_SCAN_NEVER & OTLP_SCAN_BIT(wire_type) ? m->wire_type[wire_type]
                                                                          : f->why->wire_type[wire_type]);
}

/* Walks [p, end) as message <m>, one field per turn, descending into nested messages through w->level[]
 * rather than recursion. Returns 0, or -1 with w->why set. */
static int otlp_scan_walk(struct otlp_scan_walk *w, const struct otlp_scan_msg *m, const uint8_t *p,
                          const uint8_t *end)
{
    const struct otlp_scan_field *f;
    uint32_t number;
    unsigned wire_type;
    size_t len;

    const uint8_t *fast = otlp_scan_fast[m - otlp_scan_msgs];

    w->depth = 0;
    w->level[0] = (struct otlp_scan_level){ .m = m, .end = end };
    for (;;) {
        if (p == end) {
            if (w->depth == 0)
                return 0;
            if (otlp_scan_leave(w) != 0)
                return -1;
            m = w->level[w->depth].m;
            end = w->level[w->depth].end;
            fast = otlp_scan_fast[m - otlp_scan_msgs];
            continue;
        }
        /* The fast path: most fields are skipped whole, as the general walk below would skip them. Whatever
         * it does not take (a long varint or length, a bound crossed) goes to the general walk unchanged. */
        if (*p < 0x80) {
            size_t left = (size_t)(end - p);
            int n;
            switch (fast[*p]) {
            case OTLP_SCAN_FAST_VARINT:
                if ((n = otlp_scan_varint_len(p + 1, end)) > 0) {
                    p += 1 + n;
                    continue;
                }
                break;
            case OTLP_SCAN_FAST_FIXED64:
                if (left >= 9) {
                    p += 9;
                    continue;
                }
                break;
            case OTLP_SCAN_FAST_FIXED32:
                if (left >= 5) {
                    p += 5;
                    continue;
                }
                break;
            case OTLP_SCAN_FAST_BYTES:
                if (left >= 2 && p[1] < 0x80 && p[1] <= left - 2) {
                    p += 2 + p[1];
                    continue;
                }
                break;
            case OTLP_SCAN_FAST_ATTRIBUTE: {
                /* Attributes come in runs (a span has a dozen): take the whole run here, one loop turn each,
                 * rather than one dispatch of the walk each. */
                const uint8_t tag = *p;
                while (left >= 2 && p[1] < 0x80 && p[1] <= left - 2 && otlp_scan_plain_attribute(p + 2, p + 2 + p[1])) {
                    p += 2 + p[1];
                    left = (size_t)(end - p);
                    if (left == 0 || *p != tag)
                        break;
                }
                if (left == 0 || *p != tag)
                    continue;
                break;
            }
            case OTLP_SCAN_FAST_VALUE:
                if (left >= 2 && p[1] < 0x80 && p[1] <= left - 2 && otlp_scan_plain_value(p + 2, p + 2 + p[1])) {
                    p += 2 + p[1];
                    continue;
                }
                break;
            default:
                break;
            }
        }
        if ((p = otlp_scan_tag(w, m, p, end, &number, &wire_type)) == NULL)
            return -1;
        f = &m->fields[number < m->n_fields ? number : 0];
        if ((OTLP_SCAN_NEVER | f->refused) & OTLP_SCAN_BIT(wire_type))
            return otlp_scan_refuse(w, m, f, wire_type);
        if (wire_type != 2) {
            if (f->oneof != OTLP_SCAN_NOT_ONEOF)
                w->level[w->depth].oneof_state = OTLP_SCAN_KEPT;
            if ((p = otlp_scan_skip_scalar(w, m, p, end, wire_type)) == NULL)
                return -1;
            continue;
        }
        if ((p = otlp_scan_length(w, m, f, p, end, &len)) == NULL)
            return -1;
        if (f->oneof != OTLP_SCAN_NOT_ONEOF)
            w->level[w->depth].oneof_state = otlp_scan_oneof_state(f, len);
        if (f->action == OTLP_SCAN_SKIP ||
            (f->child == OTLP_SCAN_KEY_VALUE && otlp_scan_plain_attribute(p, p + len)) ||
            (f->child == OTLP_SCAN_ANY_VALUE && f->repeated && otlp_scan_plain_value(p, p + len))) {
            p += len;
        } else if (f->action >= OTLP_SCAN_PACKED_VARINT) {
            if (otlp_scan_packed(w, f, p, len) != 0)
                return -1;
            p += len;
        } else {
            if (otlp_scan_enter(w, f, number, p + len) != 0)
                return -1;
            m = w->level[w->depth].m;
            end = p + len;
            fast = otlp_scan_fast[m - otlp_scan_msgs];
        }
    }
}

int otlp_scan(enum og_signal signal, const uint8_t *buf, size_t len, struct otlp_counts *out, const char **why)
{
    static const enum otlp_scan_msg_id requests[OG_SIGNAL_COUNT] = {
        [OG_SIGNAL_TRACES] = OTLP_SCAN_TRACE_REQUEST,
        [OG_SIGNAL_METRICS] = OTLP_SCAN_METRICS_REQUEST,
        [OG_SIGNAL_LOGS] = OTLP_SCAN_LOGS_REQUEST,
    };
    struct otlp_scan_walk w;

    if ((unsigned)signal >= OG_SIGNAL_COUNT) {
        *why = otlp_scan_why_signal;
        return -1;
    }
    pthread_once(&otlp_scan_fast_once, otlp_scan_fast_init);
    memset(w.counts, 0, sizeof(w.counts));
    if (len > 0 && otlp_scan_walk(&w, &otlp_scan_msgs[requests[signal]], buf, buf + len) != 0) {
        *why = w.why;
        return -1;
    }
    out->resources = w.counts[OTLP_SCAN_COUNT_RESOURCE];
    out->scopes = w.counts[OTLP_SCAN_COUNT_SCOPE];
    out->items = w.counts[OTLP_SCAN_COUNT_ITEM];
    out->metrics = w.counts[OTLP_SCAN_COUNT_METRIC];
    return 0;
}
