/* test_otlp_json.c: the OTLP/JSON codec against the reference payloads (JSON -> protobuf byte-identical to the
 * .pb files, protobuf -> JSON -> protobuf unchanged, protobuf-c unpacks the result), the OTLP/JSON rules one by
 * one (hex ids, snake_case keys, 64-bit integers, enum names, NaN, histogram sum presence, unknown keys), and
 * every refusal with the reason and field path a client will read. Payloads come from $OG_BENCH_DIR. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define OTLP_JSON_INTERNAL
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp_json.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A reference payload and what expected.txt says it holds. */
struct payload {
    const char *name;
    enum og_signal signal;
    size_t items;           /* spans, data points or log records */
};

static const struct payload payloads[] = {
    { "traces_100", OG_SIGNAL_TRACES, 100 },
    { "traces_1000", OG_SIGNAL_TRACES, 1000 },
    { "metrics_100", OG_SIGNAL_METRICS, 100 },
    { "logs_100", OG_SIGNAL_LOGS, 100 },
};

/* The result of one conversion, copied out of the evbuffer. */
struct conv {
    int rc;
    uint8_t *data;
    size_t len;
    char err[512];
};

/* ---- helpers ---- */

/* Returns the owned contents of $OG_BENCH_DIR/<name>, failing the test when it cannot be read. */
static uint8_t *read_payload(const char *name, size_t *len)
{
    const char *dir = getenv("OG_BENCH_DIR");
    char path[4096];
    uint8_t *buf;
    FILE *f;
    long size;

    snprintf(path, sizeof(path), "%s/%s", dir != NULL && *dir != '\0' ? dir : "/work/shared/bench", name);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("%s: cannot open", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    buf[size] = '\0';
    *len = (size_t)size;
    return buf;
}

/* Runs one direction into a fresh evbuffer that already holds 3 bytes, so every call also checks that a
 * failure leaves the caller's buffer unchanged in length. */
static void conv_run(struct conv *c, int to_json, enum og_signal signal, const void *in, size_t len)
{
    struct evbuffer *out = evbuffer_new();
    size_t got;

    assert_non_null(out);
    assert_int_equal(evbuffer_add(out, "pre", 3), 0);
    memset(c->err, 0, sizeof(c->err));
    c->rc = to_json ? otlp_proto_to_json(signal, in, len, out, c->err, sizeof(c->err))
                    : otlp_json_to_proto(signal, in, len, out, c->err, sizeof(c->err));
    got = evbuffer_get_length(out);
    if (c->rc != 0)
        assert_int_equal(got, 3);
    assert_true(got >= 3);
    c->len = got - 3;
    c->data = malloc(c->len + 1);
    assert_non_null(c->data);
    assert_int_equal(evbuffer_drain(out, 3), 0);
    assert_int_equal(evbuffer_remove(out, c->data, c->len), (int)c->len);
    c->data[c->len] = '\0';
    evbuffer_free(out);
}

static void conv_dispose(struct conv *c)
{
    free(c->data);
    c->data = NULL;
}

/* Converts JSON text that must be accepted; returns the wire bytes in <c>. */
static void json_ok(struct conv *c, enum og_signal signal, const char *json)
{
    conv_run(c, 0, signal, json, strlen(json));
    if (c->rc != 0)
        fail_msg("refused %s: %s", json, c->err);
}

/* Converts JSON text that must be refused with a reason containing <why>. */
static void json_refused(enum og_signal signal, const char *json, size_t len, const char *why)
{
    struct conv c;

    conv_run(&c, 0, signal, json, len);
    conv_dispose(&c);
    if (c.rc == 0)
        fail_msg("accepted %.200s", json);
    if (strstr(c.err, why) == NULL)
        fail_msg("%.200s: reason \"%s\" lacks \"%s\"", json, c.err, why);
    assert_null(strchr(c.err, '\n'));
}

static void refused(enum og_signal signal, const char *json, const char *why)
{
    json_refused(signal, json, strlen(json), why);
}

/* Asserts that two JSON texts convert to the same wire bytes. */
static void json_same(enum og_signal signal, const char *a, const char *b)
{
    struct conv ca, cb;
    int same;

    json_ok(&ca, signal, a);
    json_ok(&cb, signal, b);
    same = ca.len == cb.len && memcmp(ca.data, cb.data, ca.len) == 0;
    conv_dispose(&ca);
    conv_dispose(&cb);
    if (!same)
        fail_msg("%s and %s convert differently", a, b);
}

/* Asserts that JSON <json> converts to exactly <want> (<n> bytes). */
static void json_bytes(enum og_signal signal, const char *json, const uint8_t *want, size_t n)
{
    struct conv c;
    int same;

    json_ok(&c, signal, json);
    same = c.len == n && memcmp(c.data, want, n) == 0;
    if (!same) {
        print_error("%s: got %zu bytes:", json, c.len);
        for (size_t i = 0; i < c.len; i++)
            print_error(" %02x", c.data[i]);
        print_error("\n");
    }
    conv_dispose(&c);
    assert_true(same);
}

/* Converts wire bytes to JSON that must be accepted; returns the NUL-terminated text in <c>. */
static void pb_ok(struct conv *c, enum og_signal signal, const uint8_t *pb, size_t len)
{
    conv_run(c, 1, signal, pb, len);
    if (c->rc != 0)
        fail_msg("protobuf refused: %s", c->err);
}

static const ProtobufCMessageDescriptor *request_descriptor(enum og_signal signal)
{
    return signal == OG_SIGNAL_TRACES    ? &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor
           : signal == OG_SIGNAL_METRICS ? &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor
                                         : &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor;
}

static size_t count_metric_points(const Opentelemetry__Proto__Metrics__V1__Metric *m)
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

/* Unpacks <pb> with protobuf-c and returns its spans, data points or log records. */
static size_t count_items(enum og_signal signal, const uint8_t *pb, size_t len)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(request_descriptor(signal), NULL, len, pb);
    size_t n = 0;

    assert_non_null(m);
    if (signal == OG_SIGNAL_TRACES) {
        const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r = (const void *)m;

        for (size_t i = 0; i < r->n_resource_spans; i++)
            for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++)
                n += r->resource_spans[i]->scope_spans[j]->n_spans;
    } else if (signal == OG_SIGNAL_METRICS) {
        const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r = (const void *)m;

        for (size_t i = 0; i < r->n_resource_metrics; i++)
            for (size_t j = 0; j < r->resource_metrics[i]->n_scope_metrics; j++)
                for (size_t k = 0; k < r->resource_metrics[i]->scope_metrics[j]->n_metrics; k++)
                    n += count_metric_points(r->resource_metrics[i]->scope_metrics[j]->metrics[k]);
    } else {
        const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r = (const void *)m;

        for (size_t i = 0; i < r->n_resource_logs; i++)
            for (size_t j = 0; j < r->resource_logs[i]->n_scope_logs; j++)
                n += r->resource_logs[i]->scope_logs[j]->n_log_records;
    }
    protobuf_c_message_free_unpacked(m, NULL);
    return n;
}

/* Wraps one span's JSON in a trace request. */
#define SPAN_JSON(span) "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" span "]}]}]}"
/* Wraps one span attribute value's JSON in a trace request. */
#define VALUE_JSON(value) SPAN_JSON("{\"attributes\":[{\"key\":\"k\",\"value\":" value "}]}")
/* Wraps one metric's JSON in a metrics request. */
#define METRIC_JSON(metric) "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[" metric "]}]}]}"

/* ---- the reference payloads ---- */

static void test_payload_json_to_pb_is_byte_identical(void **state)
{
    const struct payload *p = *state;
    char name[64];
    size_t json_len, pb_len;
    uint8_t *json, *pb;
    struct conv c;
    size_t at = 0;

    snprintf(name, sizeof(name), "%s.json", p->name);
    json = read_payload(name, &json_len);
    snprintf(name, sizeof(name), "%s.pb", p->name);
    pb = read_payload(name, &pb_len);
    conv_run(&c, 0, p->signal, json, json_len);
    if (c.rc != 0)
        fail_msg("%s: %s", p->name, c.err);
    while (at < c.len && at < pb_len && c.data[at] == pb[at])
        at++;
    if (c.len != pb_len || at != pb_len)
        print_error("%s: %zu bytes, want %zu; first difference at byte %zu\n", p->name, c.len, pb_len, at);
    assert_int_equal(c.len, pb_len);
    assert_memory_equal(c.data, pb, pb_len);
    assert_int_equal(count_items(p->signal, c.data, c.len), p->items);
    conv_dispose(&c);
    free(json);
    free(pb);
}

/* pb -> JSON -> pb gives the same bytes, and the JSON is the very text the generator wrote (Python's
 * json_format with hex ids): field order, defaults, number spelling all agree. */
static void test_payload_round_trip(void **state)
{
    const struct payload *p = *state;
    char name[64];
    size_t json_len, pb_len;
    uint8_t *json, *pb;
    struct conv text, back;

    snprintf(name, sizeof(name), "%s.json", p->name);
    json = read_payload(name, &json_len);
    snprintf(name, sizeof(name), "%s.pb", p->name);
    pb = read_payload(name, &pb_len);
    pb_ok(&text, p->signal, pb, pb_len);
    assert_null(memchr(text.data, '\n', text.len));
    assert_int_equal(text.len, json_len);
    assert_memory_equal(text.data, json, json_len);
    conv_run(&back, 0, p->signal, text.data, text.len);
    assert_int_equal(back.rc, 0);
    assert_int_equal(back.len, pb_len);
    assert_memory_equal(back.data, pb, pb_len);
    conv_dispose(&text);
    conv_dispose(&back);
    free(json);
    free(pb);
}

/* Two requests appended are one (DESIGN.md: bytes stay bytes), and the JSON of a batch reads back to it. */
static void test_concatenated_batch_round_trip(void **state)
{
    size_t a_len, b_len;
    uint8_t *a = read_payload("traces_100.pb", &a_len), *b = read_payload("traces_1000.pb", &b_len);
    uint8_t *both = malloc(a_len + b_len);
    struct conv text, back;

    (void)state;
    assert_non_null(both);
    memcpy(both, a, a_len);
    memcpy(both + a_len, b, b_len);
    pb_ok(&text, OG_SIGNAL_TRACES, both, a_len + b_len);
    json_ok(&back, OG_SIGNAL_TRACES, (const char *)text.data);
    assert_int_equal(back.len, a_len + b_len);
    assert_memory_equal(back.data, both, a_len + b_len);
    assert_int_equal(count_items(OG_SIGNAL_TRACES, back.data, back.len), 1100);
    conv_dispose(&text);
    conv_dispose(&back);
    free(both);
    free(a);
    free(b);
}

/* ---- the bad inputs of the bench ---- */

static void test_bad_base64_ids_name_hex(void **state)
{
    size_t len;
    uint8_t *json = read_payload("bad/base64_ids.json", &len);

    (void)state;
    json_refused(OG_SIGNAL_TRACES, (const char *)json, len,
                 "resourceSpans[0].scopeSpans[0].spans[0].traceId: traceId must be 32 hex characters "
                 "(OTLP/JSON ids are hex, not base64)");
    free(json);
}

static void test_bad_invalid_syntax(void **state)
{
    size_t len;
    uint8_t *json = read_payload("bad/invalid_syntax.json", &len);

    (void)state;
    json_refused(OG_SIGNAL_TRACES, (const char *)json, len, "invalid JSON at line 1, column");
    free(json);
}

static void test_bad_empty_object_is_an_empty_request(void **state)
{
    size_t len;
    uint8_t *json = read_payload("bad/empty_object.json", &len);
    struct conv c;

    (void)state;
    for (int s = 0; s < OG_SIGNAL_COUNT; s++) {
        conv_run(&c, 0, (enum og_signal)s, json, len);
        assert_int_equal(c.rc, 0);
        assert_int_equal(c.len, 0);
        conv_dispose(&c);
    }
    free(json);
}

static void test_empty_body_is_refused(void **state)
{
    (void)state;
    json_refused(OG_SIGNAL_TRACES, "", 0, "empty body is not JSON");
    json_refused(OG_SIGNAL_LOGS, "   ", 3, "invalid JSON");
    json_refused(OG_SIGNAL_TRACES, "[]", 2, "expected an object (ExportTraceServiceRequest), got an array");
}

/* The malformed protobuf files must be refused by proto_to_json, never crash it; empty.pb is {}. */
static void test_bad_protobuf_is_refused(void **state)
{
    static const char *const refused[] = { "bad/truncated_traces_100.pb", "bad/invalid_wire_type_7.pb",
                                           "bad/length_overrun.pb", "bad/wrong_wire_type_span_kind.pb" };
    struct conv c;
    size_t len;
    uint8_t *pb;

    (void)state;
    for (size_t i = 0; i < N_ELEMS(refused); i++) {
        pb = read_payload(refused[i], &len);
        conv_run(&c, 1, OG_SIGNAL_TRACES, pb, len);
        if (c.rc == 0)
            fail_msg("%s accepted", refused[i]);
        assert_true(strlen(c.err) > 0);
        conv_dispose(&c);
        free(pb);
    }
    pb = read_payload("bad/empty.pb", &len);
    pb_ok(&c, OG_SIGNAL_TRACES, pb, len);
    assert_string_equal((char *)c.data, "{}");
    conv_dispose(&c);
    free(pb);
}

/* ---- the OTLP/JSON rules ---- */

/* A hand-checked encoding: tags, lengths, nesting, field order independent of key order. */
static void test_canonical_bytes(void **state)
{
    static const uint8_t want[] = {
        0x0a, 0x20,                         /* resource_spans, 32 bytes */
        0x12, 0x1e,                         /* scope_spans, 30 bytes */
        0x12, 0x1c,                         /* spans, 28 bytes */
        0x12, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, /* span_id */
        0x2a, 0x01, 'a',                    /* name */
        0x30, 0x02,                         /* kind SERVER */
        0x39, 0x01, 0, 0, 0, 0, 0, 0, 0,    /* start_time_unix_nano fixed64 1 */
        0x7a, 0x02, 0x18, 0x02,             /* status { code: ERROR } */
    };

    (void)state;
    json_bytes(OG_SIGNAL_TRACES,
               SPAN_JSON("{\"status\":{\"code\":2,\"message\":\"\"},\"startTimeUnixNano\":\"1\",\"kind\":2,"
                         "\"name\":\"a\",\"spanId\":\"0102030405060708\",\"traceId\":\"\",\"endTimeUnixNano\":0}"),
               want, sizeof(want));
}

static void test_snake_case_keys(void **state)
{
    (void)state;
    json_same(OG_SIGNAL_TRACES,
              "{\"resourceSpans\":[{\"schemaUrl\":\"s\",\"scopeSpans\":[{\"spans\":[{\"traceId\":"
              "\"0102030405060708090a0b0c0d0e0f10\",\"parentSpanId\":\"0102030405060708\",\"startTimeUnixNano\":\"5\","
              "\"droppedAttributesCount\":3}]}]}]}",
              "{\"resource_spans\":[{\"schema_url\":\"s\",\"scope_spans\":[{\"spans\":[{\"trace_id\":"
              "\"0102030405060708090a0b0c0d0e0f10\",\"parent_span_id\":\"0102030405060708\",\"start_time_unix_nano\":"
              "\"5\",\"dropped_attributes_count\":3}]}]}]}");
    json_same(OG_SIGNAL_LOGS,
              "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":9,\"severityText\":\"INFO\","
              "\"observedTimeUnixNano\":\"7\",\"eventName\":\"e\"}]}]}]}",
              "{\"resource_logs\":[{\"scope_logs\":[{\"log_records\":[{\"severity_number\":9,\"severity_text\":"
              "\"INFO\",\"observed_time_unix_nano\":\"7\",\"event_name\":\"e\"}]}]}]}");
}

static void test_int64_as_number_or_string(void **state)
{
    (void)state;
    json_same(OG_SIGNAL_TRACES, VALUE_JSON("{\"intValue\":\"-42\"}"), VALUE_JSON("{\"intValue\":-42}"));
    json_same(OG_SIGNAL_TRACES, VALUE_JSON("{\"intValue\":\"9223372036854775807\"}"),
              VALUE_JSON("{\"intValue\":9223372036854775807}"));
    json_same(OG_SIGNAL_TRACES, VALUE_JSON("{\"intValue\":\"-9223372036854775808\"}"),
              VALUE_JSON("{\"intValue\":-9223372036854775808}"));
    json_same(OG_SIGNAL_TRACES, VALUE_JSON("{\"intValue\":\"1000\"}"), VALUE_JSON("{\"intValue\":\"1e3\"}"));
    json_same(OG_SIGNAL_TRACES, VALUE_JSON("{\"intValue\":\"3\"}"), VALUE_JSON("{\"intValue\":3.0}"));
    json_same(OG_SIGNAL_TRACES, SPAN_JSON("{\"startTimeUnixNano\":\"1735732800000000000\"}"),
              SPAN_JSON("{\"startTimeUnixNano\":1735732800000000000}"));
    /* uint64 past INT64_MAX needs the string form: a JSON number that large is refused by the parser */
    json_same(OG_SIGNAL_METRICS,
              METRIC_JSON("{\"sum\":{\"dataPoints\":[{\"timeUnixNano\":\"18446744073709551615\"}]}}"),
              METRIC_JSON("{\"sum\":{\"dataPoints\":[{\"time_unix_nano\":\"18446744073709551615\"}]}}"));
    /* a uint32 field takes a string too */
    json_same(OG_SIGNAL_TRACES, SPAN_JSON("{\"droppedEventsCount\":\"7\"}"), SPAN_JSON("{\"droppedEventsCount\":7}"));
}

static void test_integer_refusals(void **state)
{
    (void)state;
    refused(OG_SIGNAL_TRACES, VALUE_JSON("{\"intValue\":\"9223372036854775808\"}"),
                 "out of range for int64");
    refused(OG_SIGNAL_TRACES, VALUE_JSON("{\"intValue\":\"1.5\"}"), "expected an integer");
    refused(OG_SIGNAL_TRACES, VALUE_JSON("{\"intValue\":\"12a\"}"), "expected an integer");
    refused(OG_SIGNAL_TRACES, VALUE_JSON("{\"intValue\":\" 1\"}"), "expected an integer");
    refused(OG_SIGNAL_TRACES, VALUE_JSON("{\"intValue\":true}"), "expected an integer");
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"droppedEventsCount\":-1}"), "out of range for uint32");
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"droppedEventsCount\":4294967296}"),
                 "out of range for uint32");
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"startTimeUnixNano\":\"18446744073709551616\"}"),
                 "out of range");
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"startTimeUnixNano\":\"-1\"}"), "out of range");
}

static void test_enum_as_name(void **state)
{
    (void)state;
    json_same(OG_SIGNAL_TRACES, SPAN_JSON("{\"kind\":\"SPAN_KIND_SERVER\",\"status\":{\"code\":\"STATUS_CODE_ERROR\"}}"),
              SPAN_JSON("{\"kind\":2,\"status\":{\"code\":2}}"));
    json_same(OG_SIGNAL_LOGS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":\"SEVERITY_NUMBER_WARN\"}]}]}]}",
              "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":13}]}]}]}");
    /* an unnamed value is kept (proto3 enums are open); a negative one is sign-extended */
    json_same(OG_SIGNAL_TRACES, SPAN_JSON("{\"kind\":99}"), SPAN_JSON("{\"kind\":\"99\"}"));
    json_same(OG_SIGNAL_TRACES, SPAN_JSON("{\"kind\":-1}"), SPAN_JSON("{\"kind\":\"-1\"}"));
    json_same(OG_SIGNAL_TRACES, SPAN_JSON("{\"kind\":\"SPAN_KIND_UNSPECIFIED\"}"), SPAN_JSON("{}"));
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"kind\":\"SERVER\"}"), "unknown SpanKind value \"SERVER\"");
}

/* NaN and the infinities arrive as strings, go out as strings, and keep their bits. */
static void test_nan_and_infinity(void **state)
{
    static const char *const values[] = { "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "-0.0", "1e-320",
                                          "1.7976931348623157e+308", "\"2.5\"" };
    static const char *const back[] = { "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "-0.0", "1e-320",
                                        "1.7976931348623157e+308", "2.5" };
    char json[256], want[64];
    struct conv pb, text;

    (void)state;
    for (size_t i = 0; i < N_ELEMS(values); i++) {
        snprintf(json, sizeof(json), VALUE_JSON("{\"doubleValue\":%s}"), values[i]);
        json_ok(&pb, OG_SIGNAL_TRACES, json);
        assert_int_equal(count_items(OG_SIGNAL_TRACES, pb.data, pb.len), 1);
        pb_ok(&text, OG_SIGNAL_TRACES, pb.data, pb.len);
        snprintf(want, sizeof(want), "{\"doubleValue\":%s}", back[i]);
        if (strstr((char *)text.data, want) == NULL)
            fail_msg("%s came back as %s", values[i], (char *)text.data);
        conv_dispose(&pb);
        conv_dispose(&text);
    }
    refused(OG_SIGNAL_TRACES, VALUE_JSON("{\"doubleValue\":\"nan\"}"), "expected a number");
    refused(OG_SIGNAL_TRACES, VALUE_JSON("{\"doubleValue\":\"1e999\"}"), "out of range");
}

/* Histogram sum/min/max are proto3 optional upstream: a present 0.0 is written and read back; an absent one is
 * not invented. The generated C lost `optional`, so this is the codec's own rule. */
static void test_histogram_zero_sum_is_present(void **state)
{
    static const uint8_t with_sum[] = {
        0x0a, 0x23, 0x12, 0x21, 0x12, 0x1f,        /* resource_metrics, scope_metrics, metrics */
        0x4a, 0x1d, 0x0a, 0x1b,                    /* histogram, data_points */
        0x21, 0x02, 0, 0, 0, 0, 0, 0, 0,           /* count 2 */
        0x29, 0, 0, 0, 0, 0, 0, 0, 0,              /* sum 0.0, present */
        0x59, 0, 0, 0, 0, 0, 0, 0, 0x80,           /* min -0.0 */
    };
    struct conv pb, text;

    (void)state;
    json_bytes(OG_SIGNAL_METRICS, METRIC_JSON("{\"histogram\":{\"dataPoints\":[{\"count\":\"2\",\"sum\":0,\"min\":-0.0}]}}"),
               with_sum, sizeof(with_sum));
    json_ok(&pb, OG_SIGNAL_METRICS, METRIC_JSON("{\"histogram\":{\"dataPoints\":[{\"count\":\"2\",\"sum\":0.0,\"max\":0}]}}"));
    pb_ok(&text, OG_SIGNAL_METRICS, pb.data, pb.len);
    assert_non_null(strstr((char *)text.data, "{\"count\":\"2\",\"sum\":0.0,\"max\":0.0}"));
    conv_dispose(&pb);
    conv_dispose(&text);
    json_ok(&pb, OG_SIGNAL_METRICS,
            METRIC_JSON("{\"exponentialHistogram\":{\"dataPoints\":[{\"sum\":0,\"min\":0,\"max\":0,\"zeroThreshold\":0}]}}"));
    pb_ok(&text, OG_SIGNAL_METRICS, pb.data, pb.len);
    assert_non_null(strstr((char *)text.data, "{\"sum\":0.0,\"min\":0.0,\"max\":0.0}"));
    conv_dispose(&pb);
    conv_dispose(&text);
    /* an absent sum stays absent, and a plain double's 0.0 is a default */
    json_ok(&pb, OG_SIGNAL_METRICS, METRIC_JSON("{\"gauge\":{\"dataPoints\":[{\"asDouble\":0}]},\"histogram\":null}"));
    pb_ok(&text, OG_SIGNAL_METRICS, pb.data, pb.len);
    assert_non_null(strstr((char *)text.data, "\"dataPoints\":[{\"asDouble\":0.0}]"));
    conv_dispose(&pb);
    conv_dispose(&text);
    json_ok(&pb, OG_SIGNAL_METRICS, METRIC_JSON("{\"summary\":{\"dataPoints\":[{\"sum\":0}]}}"));
    pb_ok(&text, OG_SIGNAL_METRICS, pb.data, pb.len);
    assert_non_null(strstr((char *)text.data, "\"summary\":{\"dataPoints\":[{}]}"));
    conv_dispose(&pb);
    conv_dispose(&text);
}

static void test_unknown_keys_and_nulls_are_ignored(void **state)
{
    (void)state;
    json_same(OG_SIGNAL_TRACES,
              "{\"resourceSpans\":[{\"future\":{\"a\":[1,{\"b\":null}]},\"scopeSpans\":[{\"spans\":[{\"name\":\"x\","
              "\"newField\":\"y\",\"kind\":null,\"Name\":7,\"traceID\":\"zz\"}]}]}],\"extra\":true}",
              SPAN_JSON("{\"name\":\"x\"}"));
    json_same(OG_SIGNAL_TRACES, "{\"resourceSpans\":null}", "{}");
    json_same(OG_SIGNAL_TRACES, SPAN_JSON("{\"status\":null,\"attributes\":null}"), SPAN_JSON("{}"));
}

static void test_ids(void **state)
{
    (void)state;
    json_same(OG_SIGNAL_TRACES, SPAN_JSON("{\"traceId\":\"0A0B0C0D0E0F10111213141516171819\",\"spanId\":\"ABCDEF0123456789\"}"),
              SPAN_JSON("{\"traceId\":\"0a0b0c0d0e0f10111213141516171819\",\"spanId\":\"abcdef0123456789\"}"));
    json_same(OG_SIGNAL_TRACES, SPAN_JSON("{\"traceId\":\"\",\"parentSpanId\":\"\"}"), SPAN_JSON("{}"));
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"spanId\":\"0102030405060708090a\"}"),
                 "spans[0].spanId: spanId must be 16 hex characters (OTLP/JSON ids are hex, not base64)");
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"parentSpanId\":\"AQIDBAUGBwg=\"}"),
                 "parentSpanId must be 16 hex characters");
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"traceId\":\"0102030405060708090a0b0c0d0e0fxx\"}"),
                 "traceId must be 32 hex characters");
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"links\":[{\"traceId\":\"00\"}]}"),
                 "spans[0].links[0].traceId: traceId must be 32 hex characters");
    refused(OG_SIGNAL_LOGS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"span_id\":\"AAAAAAAAAAA=\"}]}]}]}", "logRecords[0].span_id: spanId must be 16 hex characters");
    refused(OG_SIGNAL_METRICS, METRIC_JSON("{\"sum\":{\"dataPoints\":[{\"exemplars\":[{\"traceId\":7}]}]}}"), "exemplars[0].traceId: expected a hex string, got a number");
}

/* bytesValue is base64, either alphabet, padding optional. */
static void test_bytes_value_is_base64(void **state)
{
    static const uint8_t want[] = { 0x0a, 0x13, 0x12, 0x11, 0x12, 0x0f, 0x4a, 0x0d, 0x0a, 0x01, 'k', 0x12, 0x08,
                                    0x3a, 0x06, 0xfb, 0xff, 0xbf, 'a', 'b', 'c' };
    struct conv pb, text;

    (void)state;
    json_bytes(OG_SIGNAL_TRACES, VALUE_JSON("{\"bytesValue\":\"+/+/YWJj\"}"), want, sizeof(want));
    json_same(OG_SIGNAL_TRACES, VALUE_JSON("{\"bytesValue\":\"-_-_YWJj\"}"), VALUE_JSON("{\"bytesValue\":\"+/+/YWJj\"}"));
    json_same(OG_SIGNAL_TRACES, VALUE_JSON("{\"bytesValue\":\"YQ\"}"), VALUE_JSON("{\"bytesValue\":\"YQ==\"}"));
    json_same(OG_SIGNAL_TRACES, VALUE_JSON("{\"bytesValue\":\"YWI\"}"), VALUE_JSON("{\"bytesValue\":\"YWI=\"}"));
    refused(OG_SIGNAL_TRACES, VALUE_JSON("{\"bytesValue\":\"YWJ*\"}"), "invalid base64");
    refused(OG_SIGNAL_TRACES, VALUE_JSON("{\"bytesValue\":\"Y\"}"), "invalid base64");
    refused(OG_SIGNAL_TRACES, VALUE_JSON("{\"bytesValue\":\"YQ=\"}"), "invalid base64");
    /* an empty bytesValue is a set oneof: written, and read back */
    json_ok(&pb, OG_SIGNAL_TRACES, VALUE_JSON("{\"bytesValue\":\"\"}"));
    pb_ok(&text, OG_SIGNAL_TRACES, pb.data, pb.len);
    assert_non_null(strstr((char *)text.data, "\"value\":{\"bytesValue\":\"\"}"));
    conv_dispose(&pb);
    conv_dispose(&text);
}

/* Oneof members are written even when they hold the default, and only one may be given. */
static void test_oneof(void **state)
{
    static const char *const values[] = { "{\"stringValue\":\"\"}", "{\"boolValue\":false}", "{\"intValue\":\"0\"}",
                                          "{\"doubleValue\":0.0}", "{\"arrayValue\":{}}", "{\"kvlistValue\":{}}", "{}" };
    char json[256], want[128];
    struct conv pb, text;

    (void)state;
    for (size_t i = 0; i < N_ELEMS(values); i++) {
        snprintf(json, sizeof(json), VALUE_JSON("%s"), values[i]);
        json_ok(&pb, OG_SIGNAL_TRACES, json);
        pb_ok(&text, OG_SIGNAL_TRACES, pb.data, pb.len);
        snprintf(want, sizeof(want), "\"value\":%s}", values[i]);
        if (strstr((char *)text.data, want) == NULL)
            fail_msg("%s came back as %s", values[i], (char *)text.data);
        conv_dispose(&pb);
        conv_dispose(&text);
    }
    refused(OG_SIGNAL_TRACES, VALUE_JSON("{\"stringValue\":\"a\",\"intValue\":1}"),
                 "attributes[0].value.intValue: \"stringValue\" is set too");
    json_same(OG_SIGNAL_TRACES, VALUE_JSON("{\"stringValue\":\"a\",\"intValue\":null}"), VALUE_JSON("{\"stringValue\":\"a\"}"));
}

/* A wrong JSON type is refused with the path to it. */
static void test_wrong_types_name_the_path(void **state)
{
    (void)state;
    refused(OG_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{},{},{},{\"traceId\":{}}]}]}]}", "resourceSpans[0].scopeSpans[0].spans[3].traceId: expected a hex string, got an object");
    refused(OG_SIGNAL_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{},\"span\"]}]}]}",
                 "resourceSpans[0].scopeSpans[0].spans[1]: expected an object (Span), got a string");
    refused(OG_SIGNAL_TRACES, "{\"resourceSpans\":{}}", "resourceSpans: expected an array, got an object");
    refused(OG_SIGNAL_TRACES, "{\"resource_spans\":[{\"resource\":\"r\"}]}",
                 "resource_spans[0].resource: expected an object (Resource), got a string");
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"name\":5}"), "spans[0].name: expected a string, got a number");
    refused(OG_SIGNAL_TRACES, VALUE_JSON("{\"boolValue\":\"true\"}"),
                 "attributes[0].value.boolValue: expected true or false, got a string");
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"attributes\":[null]}"),
                 "spans[0].attributes[0]: null is not allowed in an array");
    refused(OG_SIGNAL_METRICS, METRIC_JSON("{\"histogram\":{\"dataPoints\":[{\"bucketCounts\":[\"1\",{}]}]}}"), "dataPoints[0].bucketCounts[1]: expected an integer, got an object");
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"name\":\"a\",\"name\":\"b\"}"), "duplicate object key");
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"spanId\":\"0102030405060708\",\"span_id\":\"0102030405060708\"}"), "field given twice");
}

/* Packed repeated scalars: one tag, values back to back; an empty array writes nothing. */
static void test_packed_repeated(void **state)
{
    static const uint8_t want[] = {
        0x0a, 0x24, 0x12, 0x22, 0x12, 0x20, 0x4a, 0x1e, 0x0a, 0x1c, /* down to the data point */
        0x32, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, /* bucket_counts fixed64 [1, 2] */
        0x3a, 0x08, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f,                   /* explicit_bounds [1.0] */
    };

    (void)state;
    json_bytes(OG_SIGNAL_METRICS,
               METRIC_JSON("{\"histogram\":{\"dataPoints\":[{\"bucketCounts\":[\"1\",2],\"explicitBounds\":[1],"
                           "\"exemplars\":[],\"attributes\":[]}]}}"),
               want, sizeof(want));
}

/* Attribute values nest (kvlist, array) up to OTLP_JSON_MAX_DEPTH messages; one more is refused, both ways. */
static void test_nesting_limit(void **state)
{
    /* request(1) resource_spans(2) scope_spans(3) span(4) key_value(5) any_value(6), then 2 per array level */
    size_t ok_levels = (OTLP_JSON_MAX_DEPTH - 6) / 2, cap = 64 * 1024;
    char *json = malloc(cap);
    size_t n;
    struct conv pb, text;

    (void)state;
    assert_non_null(json);
    for (int extra = 0; extra <= 1; extra++) {
        n = (size_t)snprintf(json, cap, "%s", "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"attributes\":[{\"key\":\"k\",\"value\":");
        for (size_t i = 0; i < ok_levels + (size_t)extra; i++)
            n += (size_t)snprintf(json + n, cap - n, "{\"arrayValue\":{\"values\":[");
        n += (size_t)snprintf(json + n, cap - n, "{\"intValue\":\"1\"}");
        for (size_t i = 0; i < ok_levels + (size_t)extra; i++)
            n += (size_t)snprintf(json + n, cap - n, "]}}");
        n += (size_t)snprintf(json + n, cap - n, "}]}]}]}]}");
        conv_run(&pb, 0, OG_SIGNAL_TRACES, json, n);
        if (extra == 0) {
            assert_int_equal(pb.rc, 0);
            pb_ok(&text, OG_SIGNAL_TRACES, pb.data, pb.len);
            assert_string_equal((char *)text.data, json);
            conv_dispose(&text);
        } else {
            assert_int_equal(pb.rc, -1);
            assert_non_null(strstr(pb.err, "nested deeper than 64 messages"));
        }
        conv_dispose(&pb);
    }
    free(json);
}

/* Puts the tag byte <tag> and the varint length of the <*n> bytes in <buf> in front of them. */
static void wrap(uint8_t *buf, size_t *n, uint8_t tag)
{
    uint8_t head[6];
    size_t h = 0, len = *n;

    head[h++] = tag;
    do {
        head[h++] = (uint8_t)(len >= 0x80 ? (len & 0x7f) | 0x80 : len);
        len >>= 7;
    } while (len != 0);
    memmove(buf + h, buf, *n);
    memcpy(buf, head, h);
    *n += h;
}

/* Builds a trace request whose one attribute value nests <levels> array values deep. */
static size_t nested_request(uint8_t *buf, size_t levels)
{
    size_t n = 2;

    buf[0] = 0x18; /* AnyValue { int_value: 1 } */
    buf[1] = 0x01;
    for (size_t i = 0; i < levels; i++) {
        wrap(buf, &n, 0x0a); /* ArrayValue.values */
        wrap(buf, &n, 0x2a); /* AnyValue.array_value */
    }
    wrap(buf, &n, 0x12); /* KeyValue.value, after its key */
    memmove(buf + 3, buf, n);
    memcpy(buf, "\x0a\x01k", 3);
    n += 3;
    wrap(buf, &n, 0x4a); /* Span.attributes */
    wrap(buf, &n, 0x12); /* ScopeSpans.spans */
    wrap(buf, &n, 0x12); /* ResourceSpans.scope_spans */
    wrap(buf, &n, 0x0a); /* ExportTraceServiceRequest.resource_spans */
    return n;
}

/* The same limit on the wire: the deepest JSON-accepted nesting reads, 200 levels are refused, not followed. */
static void test_nesting_limit_on_the_wire(void **state)
{
    uint8_t pb[4096];
    size_t n;
    struct conv text, back;

    (void)state;
    n = nested_request(pb, (OTLP_JSON_MAX_DEPTH - 6) / 2);
    pb_ok(&text, OG_SIGNAL_TRACES, pb, n);
    json_ok(&back, OG_SIGNAL_TRACES, (const char *)text.data);
    assert_int_equal(back.len, n);
    assert_memory_equal(back.data, pb, n);
    conv_dispose(&text);
    conv_dispose(&back);
    n = nested_request(pb, (OTLP_JSON_MAX_DEPTH - 6) / 2 + 1);
    conv_run(&text, 1, OG_SIGNAL_TRACES, pb, n);
    conv_dispose(&text);
    assert_int_equal(text.rc, -1);
    assert_non_null(strstr(text.err, "nested deeper than 64 messages"));
    n = nested_request(pb, 200);
    conv_run(&text, 1, OG_SIGNAL_TRACES, pb, n);
    conv_dispose(&text);
    assert_int_equal(text.rc, -1);
}

/* U+FFFD in UTF-8, what each byte of invalid UTF-8 on the wire becomes. */
#define FFFD "\xef\xbf\xbd"

/* Strings: escapes both ways, \u0000 kept, invalid UTF-8 on the wire shown as U+FFFD. */
static void test_strings(void **state)
{
    static const uint8_t bad_utf8[] = { 0x0a, 0x0d, 0x12, 0x0b, 0x12, 0x09, 0x2a, 0x07, 'a', 0xff, 0xc3, 0xa9, 0xed, 0xa0, 0x80 };
    struct conv pb, text;
    const char *json = SPAN_JSON("{\"name\":\"q\\\"b\\\\s\\/n\\n\\t\\u0000\\u001f\\u00e9\\ud83d\\ude00\\u2028\"}");

    (void)state;
    json_ok(&pb, OG_SIGNAL_TRACES, json);
    pb_ok(&text, OG_SIGNAL_TRACES, pb.data, pb.len);
    assert_string_equal((char *)text.data,
                        SPAN_JSON("{\"name\":\"q\\\"b\\\\s/n\\n\\t\\u0000\\u001f\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\xa8\"}"));
    conv_dispose(&pb);
    conv_dispose(&text);
    pb_ok(&text, OG_SIGNAL_TRACES, bad_utf8, sizeof(bad_utf8));
    assert_string_equal((char *)text.data, SPAN_JSON("{\"name\":\"a" FFFD "\xc3\xa9" FFFD FFFD FFFD "\"}"));
    conv_dispose(&text);
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"name\":\"\\ud800\"}"), "invalid JSON");
    refused(OG_SIGNAL_TRACES, SPAN_JSON("{\"name\":\"\xff\"}"), "invalid JSON");
}

/* Wire bytes a protobuf serializer would not write still read as protobuf reads them: fields in any order,
 * unknown fields dropped, the last of a singular field wins, a repeated message's runs join, a singular
 * message given twice is merged, defaults on the wire are not shown, a repeated scalar may come unpacked. */
static void test_non_canonical_wire(void **state)
{
    static const uint8_t span_fields[] = {
        0x0a, 0x26, 0x12, 0x24, 0x12, 0x22,
        0x30, 0x01,                                 /* kind 1 */
        0x2a, 0x01, 'a',                            /* name "a" */
        0xa8, 0x1f, 0x05,                           /* unknown field 501 */
        0x30, 0x00,                                 /* kind 0: the last kind wins, and 0 is a default */
        0x2a, 0x01, 'b',                            /* name "b" wins */
        0x7a, 0x03, 0x12, 0x01, 'y',                /* status { message: "y" } */
        0x60, 0x00,                                 /* dropped_events_count 0 */
        0x7a, 0x05, 0x12, 0x01, 'x', 0x18, 0x02,    /* status merged: message "x", code 2 */
        0x4a, 0x05, 0x0a, 0x01, 'k', 0x12, 0x00,    /* attributes[0] */
    };
    static const uint8_t anyvalue_oneof[] = {
        0x0a, 0x12, 0x12, 0x10, 0x12, 0x0e, 0x4a, 0x0c, 0x0a, 0x01, 'k', 0x12, 0x07,
        0x0a, 0x01, 's', 0x18, 0x05, 0x10, 0x01,    /* string, then int, then bool: bool wins */
    };
    static const uint8_t unpacked[] = {
        0x0a, 0x1a, 0x12, 0x18, 0x12, 0x16, 0x4a, 0x14, 0x0a, 0x12,
        0x31, 1, 0, 0, 0, 0, 0, 0, 0, 0x31, 2, 0, 0, 0, 0, 0, 0, 0, /* bucket_counts 1, 2 unpacked */
    };
    struct conv text;

    (void)state;
    pb_ok(&text, OG_SIGNAL_TRACES, span_fields, sizeof(span_fields));
    assert_string_equal((char *)text.data,
                        SPAN_JSON("{\"name\":\"b\",\"attributes\":[{\"key\":\"k\",\"value\":{}}],\"status\":{\"message\":\"x\",\"code\":2}}"));
    conv_dispose(&text);
    pb_ok(&text, OG_SIGNAL_TRACES, anyvalue_oneof, sizeof(anyvalue_oneof));
    assert_string_equal((char *)text.data, VALUE_JSON("{\"boolValue\":true}"));
    conv_dispose(&text);
    pb_ok(&text, OG_SIGNAL_METRICS, unpacked, sizeof(unpacked));
    assert_string_equal((char *)text.data, METRIC_JSON("{\"histogram\":{\"dataPoints\":[{\"bucketCounts\":[\"1\",\"2\"]}]}}"));
    conv_dispose(&text);
}

/* The walkers rely on protoc-c listing fields by number and on OTLP_JSON_MAX_FIELDS; check every message
 * reachable from the three requests. */
static void check_descriptor(const ProtobufCMessageDescriptor *d, unsigned depth)
{
    assert_true(depth < 16);
    assert_true(d->n_fields <= OTLP_JSON_MAX_FIELDS);
    for (unsigned i = 0; i < d->n_fields; i++) {
        if (i > 0)
            assert_true(d->fields[i - 1].id < d->fields[i].id);
        if (d->fields[i].type == PROTOBUF_C_TYPE_MESSAGE && d->fields[i].descriptor != d &&
            strcmp(d->short_name, "ArrayValue") != 0 && strcmp(d->short_name, "KeyValueList") != 0)
            check_descriptor(d->fields[i].descriptor, depth + 1);
    }
}

static void test_descriptors_fit_the_walkers(void **state)
{
    (void)state;
    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        check_descriptor(request_descriptor((enum og_signal)s), 0);
}

static void test_error_buffer_contract(void **state)
{
    struct evbuffer *out = evbuffer_new();
    char err[16];

    (void)state;
    assert_non_null(out);
    assert_int_equal(otlp_json_to_proto(OG_SIGNAL_TRACES, "{\"resourceSpans\":7}", 19, out, err, sizeof(err)), -1);
    assert_int_equal(strlen(err), sizeof(err) - 1);
    assert_int_equal(otlp_json_to_proto(OG_SIGNAL_TRACES, "{", 1, out, NULL, 0), -1);
    assert_int_equal(otlp_json_to_proto(OG_SIGNAL_COUNT, "{}", 2, out, err, sizeof(err)), -1);
    assert_int_equal(otlp_proto_to_json(OG_SIGNAL_COUNT, NULL, 0, out, err, sizeof(err)), -1);
    assert_int_equal(evbuffer_get_length(out), 0);
    evbuffer_free(out);
}

/* One named case per payload, so a TAP line says which payload failed. */
#define PAYLOAD_TESTS(i, stem)                                                                                     \
    { "test_json_to_pb_is_byte_identical_" stem, test_payload_json_to_pb_is_byte_identical, NULL, NULL,           \
      (void *)&payloads[i] },                                                                                      \
    { "test_pb_json_pb_round_trip_" stem, test_payload_round_trip, NULL, NULL, (void *)&payloads[i] }

int main(void)
{
    const struct CMUnitTest tests[] = {
        PAYLOAD_TESTS(0, "traces_100"),
        PAYLOAD_TESTS(1, "traces_1000"),
        PAYLOAD_TESTS(2, "metrics_100"),
        PAYLOAD_TESTS(3, "logs_100"),
        cmocka_unit_test(test_concatenated_batch_round_trip),
        cmocka_unit_test(test_bad_base64_ids_name_hex),
        cmocka_unit_test(test_bad_invalid_syntax),
        cmocka_unit_test(test_bad_empty_object_is_an_empty_request),
        cmocka_unit_test(test_empty_body_is_refused),
        cmocka_unit_test(test_bad_protobuf_is_refused),
        cmocka_unit_test(test_canonical_bytes),
        cmocka_unit_test(test_snake_case_keys),
        cmocka_unit_test(test_int64_as_number_or_string),
        cmocka_unit_test(test_integer_refusals),
        cmocka_unit_test(test_enum_as_name),
        cmocka_unit_test(test_nan_and_infinity),
        cmocka_unit_test(test_histogram_zero_sum_is_present),
        cmocka_unit_test(test_unknown_keys_and_nulls_are_ignored),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_bytes_value_is_base64),
        cmocka_unit_test(test_oneof),
        cmocka_unit_test(test_wrong_types_name_the_path),
        cmocka_unit_test(test_packed_repeated),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_nesting_limit_on_the_wire),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_non_canonical_wire),
        cmocka_unit_test(test_descriptors_fit_the_walkers),
        cmocka_unit_test(test_error_buffer_contract),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
