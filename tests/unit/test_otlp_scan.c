/* test_otlp_scan.c: the intake check against the reference payloads (counts from expected.txt), the bad
 * payloads, concatenation, every refusal reason with a hand-made input, protobuf-c's quirks that the scan
 * copies, and the schema table's own consistency. Payloads are read from $OG_BENCH_DIR. */
#include "autoconf.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/otlp_scan.c"   /* reaches the static schema tables */
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- payload files ---- */

#include "test_bench.h"

/* Value of " key=" on the expected.txt line starting with "<name>:", or -1 when absent. */
static long test_expected(const char *expected, const char *name, const char *key)
{
    char head[256], needle[64];
    const char *line, *eol, *at;

    snprintf(head, sizeof(head), "\n%s:", name);
    line = strstr(expected, head);
    if (line == NULL)
        return -1;
    eol = strchr(line + 1, '\n');
    snprintf(needle, sizeof(needle), " %s=", key);
    at = strstr(line, needle);
    if (at == NULL || (eol != NULL && at > eol))
        return -1;
    return strtol(at + strlen(needle), NULL, 10);
}

static enum og_signal test_signal_of(const char *name)
{
    if (strncmp(name, "metrics", 7) == 0)
        return OG_SIGNAL_METRICS;
    if (strncmp(name, "logs", 4) == 0)
        return OG_SIGNAL_LOGS;
    return OG_SIGNAL_TRACES;
}

/* Checks one reference payload against its expected.txt line. */
static void test_one_payload(const char *dir, const char *expected, const char *file)
{
    static const char *const item_keys[OG_SIGNAL_COUNT] = { "spans", "data_points", "log_records" };
    char name[256];
    enum og_signal signal = test_signal_of(file);
    struct otlp_counts c;
    const char *why = NULL;
    size_t len;
    uint8_t *buf = test_read(dir, file, &len);

    snprintf(name, sizeof(name), "%.*s", (int)(strlen(file) - 3), file);
    if (test_expected(expected, name, "resources") < 0)
        fail_msg("%s has no line in expected.txt", file);
    if (otlp_scan(signal, buf, len, &c, &why) != 0)
        fail_msg("%s refused: %s", file, why);
    print_message("%s: %lu resources, %lu scopes, %lu items, %lu metrics\n", file, (unsigned long)c.resources,
                  (unsigned long)c.scopes, (unsigned long)c.items, (unsigned long)c.metrics);
    assert_int_equal(len, test_expected(expected, name, "pb_bytes"));
    assert_int_equal(c.resources, test_expected(expected, name, "resources"));
    assert_int_equal(c.scopes, test_expected(expected, name, "scopes"));
    assert_int_equal(c.items, test_expected(expected, name, item_keys[signal]));
    assert_int_equal(c.metrics, signal == OG_SIGNAL_METRICS ? test_expected(expected, name, "metrics") : 0);
    free(buf);
}

static void test_bench_payloads(void **state)
{
    const char *dir = test_bench_dir();
    size_t len, n = 0;
    char *expected = (char *)test_read(dir, "expected.txt", &len);
    DIR *d = opendir(dir);
    struct dirent *e;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);

        if (l > 3 && strcmp(e->d_name + l - 3, ".pb") == 0) {
            test_one_payload(dir, expected, e->d_name);
            n++;
        }
    }
    closedir(d);
    free(expected);
    assert_true(n >= 4);   /* traces_100, traces_1000, metrics_100, logs_100 */
}

/* The .pb files in bench/bad: what the README's table says, with our reason. A new file fails until listed. */
static void test_bad_payloads(void **state)
{
    static const struct {
        const char *file;
        const char *why;   /* NULL: accepted, with zero counts */
    } cases[] = {
        { "truncated_traces_100.pb", "length of ExportTraceServiceRequest.resource_spans overruns its message" },
        { "wrong_wire_type_span_kind.pb", "Span.kind has wire type 2, expected 0" },
        { "invalid_wire_type_7.pb", "wire type 7 does not exist (in Span)" },
        { "length_overrun.pb", "length of ExportTraceServiceRequest.resource_spans overruns its message" },
        { "empty.pb", NULL },
    };
    char dir[4096];
    DIR *d;
    struct dirent *e;
    size_t n = 0;

    snprintf(dir, sizeof(dir), "%s/bad", test_bench_dir());
    d = opendir(dir);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name), i, len;
        struct otlp_counts c = { 1, 1, 1, 1 };
        const char *why = NULL;
        uint8_t *buf;
        int rc;

        if (l <= 3 || strcmp(e->d_name + l - 3, ".pb") != 0)
            continue;
        for (i = 0; i < N_ELEMS(cases) && strcmp(cases[i].file, e->d_name) != 0; i++)
            ;
        if (i == N_ELEMS(cases))
            fail_msg("bad/%s is not in this test's table", e->d_name);
        buf = test_read(dir, e->d_name, &len);
        rc = otlp_scan(OG_SIGNAL_TRACES, buf, len, &c, &why);
        print_message("bad/%s: %s\n", e->d_name, rc == 0 ? "accepted" : why);
        if (cases[i].why == NULL) {
            assert_int_equal(rc, 0);
            assert_int_equal(c.resources + c.scopes + c.items + c.metrics, 0);
        } else {
            assert_int_equal(rc, -1);
            assert_string_equal(why, cases[i].why);
        }
        free(buf);
        n++;
    }
    closedir(d);
    assert_int_equal(n, N_ELEMS(cases));
}

/* Two requests appended are one request holding both (DESIGN.md principle 1). */
static void test_concatenation(void **state)
{
    const char *dir = test_bench_dir();
    size_t la, lb, le;
    uint8_t *a = test_read(dir, "traces_100.pb", &la), *b = test_read(dir, "traces_1000.pb", &lb);
    char *expected = (char *)test_read(dir, "expected.txt", &le);
    uint8_t *ab = malloc(la + lb);
    struct otlp_counts c, ca, cb;
    const char *why = NULL;

    assert_non_null(ab);
    memcpy(ab, a, la);
    memcpy(ab + la, b, lb);
    assert_int_equal(otlp_scan(OG_SIGNAL_TRACES, ab, la + lb, &c, &why), 0);
    assert_int_equal(otlp_scan(OG_SIGNAL_TRACES, a, la, &ca, &why), 0);
    assert_int_equal(otlp_scan(OG_SIGNAL_TRACES, b, lb, &cb, &why), 0);
    assert_int_equal(c.items, 1100);
    assert_int_equal(c.resources, 10);
    assert_int_equal(c.items, test_expected(expected, "concat traces_100.pb+traces_1000.pb", "spans"));
    assert_int_equal(c.resources, test_expected(expected, "concat traces_100.pb+traces_1000.pb", "resources"));
    assert_int_equal(c.scopes, ca.scopes + cb.scopes);
    free(ab);
    free(a);
    free(b);
    free(expected);
}

/* Every strict prefix of a valid request that does not end on a field boundary is refused, and the scan
 * never reads past the prefix (ASan watches the exact-size copy). */
static void test_every_prefix(void **state)
{
    size_t len, cut, accepted = 0;
    uint8_t *buf = test_read(test_bench_dir(), "metrics_100.pb", &len);

    for (cut = 0; cut < len; cut++) {
        uint8_t *copy = malloc(cut + 1);
        struct otlp_counts c;
        const char *why = NULL;

        assert_non_null(copy);
        memcpy(copy, buf, cut);
        if (otlp_scan(OG_SIGNAL_METRICS, copy, cut, &c, &why) == 0)
            accepted++;
        else
            assert_non_null(why);
        free(copy);
    }
    assert_int_equal(accepted, 5);   /* the empty prefix and each of the first 4 of 5 resource_metrics */
    free(buf);
}

static void test_empty(void **state)
{
    struct otlp_counts c = { 7, 7, 7, 7 };
    const char *why = NULL;

    for (int s = 0; s < OG_SIGNAL_COUNT; s++) {
        assert_int_equal(otlp_scan((enum og_signal)s, NULL, 0, &c, &why), 0);
        assert_int_equal(c.resources + c.scopes + c.items + c.metrics, 0);
    }
    assert_int_equal(otlp_scan(OG_SIGNAL_COUNT, NULL, 0, &c, &why), -1);
    assert_string_equal(why, "unknown signal");
}

/* ---- hand-made inputs ---- */

struct test_case {
    const char *name;
    enum og_signal signal;
    const char *path;          /* field numbers of the messages wrapped around body, outermost first */
    const char *body;
    size_t body_len;
    const char *why;           /* NULL: accepted with the counts below */
    struct otlp_counts counts;
};

#define B(s) s, sizeof(s) - 1
#define T OG_SIGNAL_TRACES
#define M OG_SIGNAL_METRICS
#define L OG_SIGNAL_LOGS
#define TOP ""
#define SPAN "\x01\x02\x02"            /* resource_spans.scope_spans.spans */
#define ATTR "\x01\x02\x02\x09"        /* ... .attributes (a KeyValue) */
#define VALUE "\x01\x02\x02\x09\x02"   /* ... .value (an AnyValue) */
#define METRIC "\x01\x02\x02"          /* resource_metrics.scope_metrics.metrics */
#define RECORD "\x01\x02\x02"          /* resource_logs.scope_logs.log_records */
#define ACCEPT(name, signal, path, body, ...) { name, signal, path, body, NULL, __VA_ARGS__ }
#define REFUSE(name, signal, path, body, why) { name, signal, path, body, why, { 0, 0, 0, 0 } }
#define ONE_SPAN { 1, 1, 1, 0 }
#define ONE_METRIC(points) { 1, 1, points, 1 }

static const struct test_case test_cases[] = {
    /* tags */
    REFUSE("field 0", T, TOP, B("\x00\x00"), "field number 0 in ExportTraceServiceRequest"),
    REFUSE("field 0, wire type 7", T, SPAN, B("\x07"), "field number 0 in Span"),
    REFUSE("field 0 padded", T, SPAN, B("\x80\x00\x00"), "field number 0 in a padded tag in Span"),
    REFUSE("truncated tag", T, SPAN, B("\x88"), "truncated tag in Span"),
    REFUSE("tag of 6 bytes", T, SPAN, B("\x88\x80\x80\x80\x80\x00\x00"), "tag longer than 5 bytes in Span"),
    ACCEPT("tag of 5 bytes, known field", T, SPAN, B("\xb0\x80\x80\x80\x00\x01"), ONE_SPAN),
    ACCEPT("tag of 5 bytes, huge field", T, SPAN, B("\xf8\xff\xff\xff\x7f\x01"), ONE_SPAN),
    REFUSE("group start", T, SPAN, B("\x1b"), "wire type 3 (group start) in Span is not supported"),
    REFUSE("group end", T, TOP, B("\x1c"), "wire type 4 (group end) in ExportTraceServiceRequest is not supported"),
    REFUSE("wire type 6", T, VALUE, B("\x0e\x00"), "wire type 6 does not exist (in AnyValue)"),
    REFUSE("wire type 7", T, ATTR, B("\x0f"), "wire type 7 does not exist (in KeyValue)"),
    /* values */
    REFUSE("truncated varint", T, SPAN, B("\x30\x80"), "truncated varint in Span"),
    REFUSE("varint of 11 bytes", T, SPAN, B("\x30\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"),
      "varint longer than 10 bytes in Span"),
    ACCEPT("varint of 10 bytes, overflowing", T, SPAN, B("\x30\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), ONE_SPAN),
    REFUSE("truncated fixed64", T, SPAN, B("\x39\x00\x00\x00\x00\x00\x00\x00"), "truncated fixed64 in Span"),
    REFUSE("truncated fixed32", T, SPAN, B("\x85\x01\x00\x00\x00"), "truncated fixed32 in Span"),
    REFUSE("truncated length", T, SPAN, B("\x2a\x80"), "truncated length in Span"),
    REFUSE("length of 6 bytes", T, SPAN, B("\x2a\x80\x80\x80\x80\x80\x00"), "length prefix longer than 5 bytes in Span"),
    ACCEPT("length of 5 bytes", T, SPAN, B("\x2a\x81\x80\x80\x80\x00x"), ONE_SPAN),
    REFUSE("length above 2^32", T, SPAN, B("\x2a\x80\x80\x80\x80\x10"), "length of Span.name overruns its message"),
    REFUSE("overrun, known field", T, SPAN, B("\x2a\x05name"), "length of Span.name overruns its message"),
    REFUSE("overrun, unknown field", T, SPAN, B("\xfa\x01\x02x"), "length of an unknown field overruns Span"),
    REFUSE("overrun, nested", T, TOP, B("\x0a\x02\x12\x05"), "length of ResourceSpans.scope_spans overruns its message"),
    /* wire types of known fields */
    REFUSE("Span.kind as bytes", T, SPAN, B("\x32\x00"), "Span.kind has wire type 2, expected 0"),
    REFUSE("Span.start_time as varint", T, SPAN, B("\x38\x01"), "Span.start_time_unix_nano has wire type 0, expected 1"),
    REFUSE("Span.flags as fixed64", T, SPAN, B("\x81\x01\x00\x00\x00\x00\x00\x00\x00\x00"),
      "Span.flags has wire type 1, expected 5"),
    REFUSE("Span.name as varint", T, SPAN, B("\x28\x01"), "Span.name has wire type 0, expected 2"),
    REFUSE("Span.attributes as fixed32", T, SPAN, B("\x4d\x00\x00\x00\x00"), "Span.attributes has wire type 5, expected 2"),
    REFUSE("resource_spans as varint", T, TOP, B("\x08\x00"),
      "ExportTraceServiceRequest.resource_spans has wire type 0, expected 2"),
    REFUSE("EntityRef.id_keys as varint", T, "\x01\x01\x03", B("\x18\x00"), "EntityRef.id_keys has wire type 0, expected 2"),
    ACCEPT("unknown field, every wire type", T, SPAN, B("\xf8\x01\x01\xf9\x01\x00\x00\x00\x00\x00\x00\x00\x00"
                                                   "\xfa\x01\x01x\xfd\x01\x00\x00\x00\x00"), ONE_SPAN),
    ACCEPT("reserved field", T, SPAN, B("\x0a\x01x"), ONE_SPAN),
    /* bool: protobuf-c takes any wire type */
    ACCEPT("bool as varint", T, VALUE, B("\x10\x01"), ONE_SPAN),
    ACCEPT("bool as fixed64", T, VALUE, B("\x11\x01\x00\x00\x00\x00\x00\x00\x00"), ONE_SPAN),
    ACCEPT("bool as bytes", T, VALUE, B("\x12\x02\x01\x00"), ONE_SPAN),
    ACCEPT("bool as fixed32", T, VALUE, B("\x15\x01\x00\x00\x00"), ONE_SPAN),
    REFUSE("bool as bytes, overrun", T, VALUE, B("\x12\x03\x01"), "length of AnyValue.bool_value overruns its message"),
    ACCEPT("is_monotonic as bytes", M, METRIC, B("\x3a\x03\x1a\x01x"), ONE_METRIC(0)),
    REFUSE("int as bytes", T, VALUE, B("\x1a\x00"), "AnyValue.int_value has wire type 2, expected 0"),
    /* repeated numbers: packed or not */
    ACCEPT("bucket_counts packed", M, METRIC, B("\x4a\x14\x0a\x12\x32\x10" "0123456789abcdef"), ONE_METRIC(1)),
    REFUSE("bucket_counts unpacked, truncated", M, METRIC, B("\x4a\x0c\x0a\x0a\x31" "01234567\x31"),
           "truncated fixed64 in HistogramDataPoint"),
    ACCEPT("bucket_counts one", M, METRIC, B("\x4a\x0b\x0a\x09\x31" "01234567"), ONE_METRIC(1)),
    REFUSE("bucket_counts packed, 9 bytes", M, METRIC, B("\x4a\x0d\x0a\x0b\x32\x09" "012345678"),
      "length of packed HistogramDataPoint.bucket_counts is not a multiple of 8"),
    REFUSE("bucket_counts as varint", M, METRIC, B("\x4a\x04\x0a\x02\x30\x01"),
      "HistogramDataPoint.bucket_counts has wire type 0, expected 1 or 2"),
    REFUSE("explicit_bounds as fixed32", M, METRIC, B("\x4a\x07\x0a\x05\x3d\x00\x00\x00\x00"),
      "HistogramDataPoint.explicit_bounds has wire type 5, expected 1 or 2"),
    ACCEPT("buckets packed", M, METRIC, B("\x52\x09\x0a\x07\x42\x05\x12\x03\x01\x81\x01"), ONE_METRIC(1)),
    ACCEPT("buckets unpacked", M, METRIC, B("\x52\x08\x0a\x06\x42\x04\x10\x01\x10\x02"), ONE_METRIC(1)),
    REFUSE("buckets packed, truncated varint", M, METRIC, B("\x52\x08\x0a\x06\x42\x04\x12\x02\x01\x81"),
      "truncated varint in packed ExponentialHistogramDataPoint.Buckets.bucket_counts"),
    REFUSE("buckets packed, 11-byte varint", M, METRIC,
      B("\x52\x11\x0a\x0f\x42\x0d\x12\x0b\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"),
      "varint longer than 10 bytes in packed ExponentialHistogramDataPoint.Buckets.bucket_counts"),
    REFUSE("buckets as fixed64", M, METRIC, B("\x52\x0d\x0a\x0b\x42\x09\x11" "01234567"),
           "ExponentialHistogramDataPoint.Buckets.bucket_counts has wire type 1, expected 0 or 2"),
    REFUSE("buckets as fixed32", M, METRIC, B("\x52\x09\x0a\x07\x42\x05\x15\x00\x00\x00\x00"),
           "ExponentialHistogramDataPoint.Buckets.bucket_counts has wire type 5, expected 0 or 2"),
    /* oneof: the last member wins, counts included */
    ACCEPT("gauge", M, METRIC, B("\x2a\x06\x0a\x00\x0a\x00\x0a\x00"), ONE_METRIC(3)),
    ACCEPT("gauge then gauge", M, METRIC, B("\x2a\x06\x0a\x00\x0a\x00\x0a\x00\x2a\x04\x0a\x00\x0a\x00"), ONE_METRIC(2)),
    ACCEPT("gauge then sum", M, METRIC, B("\x2a\x06\x0a\x00\x0a\x00\x0a\x00\x3a\x02\x0a\x00"), ONE_METRIC(1)),
    ACCEPT("gauge then empty summary", M, METRIC, B("\x2a\x02\x0a\x00\x5a\x00\x0a\x01x"), ONE_METRIC(0)),
    ACCEPT("gauge, name, gauge", M, METRIC, B("\x2a\x02\x0a\x00\x0a\x01n\x2a\x04\x0a\x00\x0a\x00"), ONE_METRIC(2)),
    REFUSE("gauge then bad sum", M, METRIC, B("\x2a\x02\x0a\x00\x3a\x02\x08\x00"),
      "Sum.data_points has wire type 0, expected 2"),
    ACCEPT("all five kinds", M, METRIC, B("\x2a\x02\x0a\x00\x3a\x02\x0a\x00\x4a\x02\x0a\x00\x52\x02\x0a\x00"
                                     "\x5a\x04\x0a\x00\x0a\x00"), ONE_METRIC(2)),
    ACCEPT("value as string then int", T, VALUE, B("\x0a\x01x\x18\x05"), ONE_SPAN),
    ACCEPT("number point as_double then as_int", M, METRIC, B("\x2a\x14\x0a\x12\x21" "01234567\x31" "01234567"), ONE_METRIC(1)),
    /* singular messages repeated: merged; protobuf-c fails the merge of two unset AnyValues */
    ACCEPT("status twice", T, SPAN, B("\x7a\x02\x18\x01\x7a\x00"), ONE_SPAN),
    ACCEPT("resource twice", T, "\x01", B("\x0a\x00\x0a\x00"), { 1, 0, 0, 0 }),
    REFUSE("value: empty, empty", T, ATTR, B("\x0a\x01k\x12\x00\x12\x00"),
      "KeyValue.value is repeated and a merge of it has no value on either side"),
    REFUSE("value: unknown, unknown", T, ATTR, B("\x12\x02\x48\x01\x12\x02\x48\x01"),
      "KeyValue.value is repeated and a merge of it has no value on either side"),
    REFUSE("value: empty, empty, set", T, ATTR, B("\x12\x00\x12\x00\x12\x02\x18\x01"),
      "KeyValue.value is repeated and a merge of it has no value on either side"),
    ACCEPT("value: empty, set, empty", T, ATTR, B("\x12\x00\x12\x02\x18\x01\x12\x00"), ONE_SPAN),
    ACCEPT("value: set, empty, empty", T, ATTR, B("\x12\x02\x18\x01\x12\x00\x12\x00"), ONE_SPAN),
    REFUSE("value: empty, key, empty", T, ATTR, B("\x12\x00\x0a\x01k\x12\x00"),
      "KeyValue.value is repeated and a merge of it has no value on either side"),
    ACCEPT("value: once, empty", T, ATTR, B("\x12\x00"), ONE_SPAN),
    /* ... and drops a string (or empty bytes) when the repeat is unset, so a third unset one fails */
    ACCEPT("value: string, empty", T, ATTR, B("\x12\x03\x0a\x01s\x12\x00"), ONE_SPAN),
    REFUSE("value: string, empty, empty", T, ATTR, B("\x12\x03\x0a\x01s\x12\x00\x12\x00"),
           "KeyValue.value is repeated and a merge of it has no value on either side"),
    REFUSE("value: empty string, empty, empty", T, ATTR, B("\x0a\x01k\x12\x02\x0a\x00\x12\x00\x12\x00"),
           "KeyValue.value is repeated and a merge of it has no value on either side"),
    ACCEPT("value: string, empty, int, empty", T, ATTR, B("\x12\x03\x0a\x01s\x12\x00\x12\x02\x18\x01\x12\x00"),
           ONE_SPAN),
    REFUSE("value: int then string in one, empty, empty", T, ATTR,
           B("\x12\x05\x18\x01\x0a\x01s\x12\x00\x12\x00"),
           "KeyValue.value is repeated and a merge of it has no value on either side"),
    ACCEPT("value: string then int in one, empty, empty", T, ATTR,
           B("\x12\x05\x0a\x01s\x18\x01\x12\x00\x12\x00"), ONE_SPAN),
    REFUSE("value: empty bytes, empty, empty", T, ATTR, B("\x12\x02\x3a\x00\x12\x00\x12\x00"),
           "KeyValue.value is repeated and a merge of it has no value on either side"),
    ACCEPT("value: bytes, empty, empty", T, ATTR, B("\x12\x03\x3a\x01" "b\x12\x00\x12\x00"), ONE_SPAN),
    ACCEPT("value: array, empty, empty", T, ATTR, B("\x12\x02\x2a\x00\x12\x00\x12\x00"), ONE_SPAN),
    ACCEPT("value: bool as bytes, empty, empty", T, ATTR, B("\x12\x02\x12\x00\x12\x00\x12\x00"), ONE_SPAN),
    REFUSE("body: empty, empty", L, RECORD, B("\x2a\x00\x2a\x00"),
      "LogRecord.body is repeated and a merge of it has no value on either side"),
    ACCEPT("body: array, empty", L, RECORD, B("\x2a\x02\x2a\x00\x2a\x00"), ONE_SPAN),
    ACCEPT("array_value twice", T, VALUE, B("\x2a\x00\x2a\x00"), ONE_SPAN),
    /* the plain attribute shortcut must not accept more than the general walk */
    ACCEPT("plain string", T, ATTR, B("\x0a\x01k\x12\x03\x0a\x01v"), ONE_SPAN),
    ACCEPT("plain int", T, ATTR, B("\x0a\x01k\x12\x03\x18\x96\x01"), ONE_SPAN),
    ACCEPT("plain double", T, ATTR, B("\x0a\x01k\x12\x09\x21" "01234567"), ONE_SPAN),
    ACCEPT("plain bool", T, ATTR, B("\x0a\x01k\x12\x02\x10\x01"), ONE_SPAN),
    REFUSE("plain, bare string tag", T, ATTR, B("\x0a\x01k\x12\x01\x0a"), "truncated length in AnyValue"),
    REFUSE("plain, short string", T, ATTR, B("\x0a\x01k\x12\x03\x0a\x02v"), "length of AnyValue.string_value overruns its message"),
    REFUSE("plain, unterminated int", T, ATTR, B("\x0a\x01k\x12\x03\x18\x96\x81"), "truncated varint in AnyValue"),
    REFUSE("plain, 11-byte int", T, ATTR, B("\x0a\x01k\x12\x0c\x18\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00"),
      "varint longer than 10 bytes in AnyValue"),
    REFUSE("plain, short double", T, ATTR, B("\x0a\x01k\x12\x08\x21" "0123456"), "truncated fixed64 in AnyValue"),
    ACCEPT("plain, two values", T, ATTR, B("\x0a\x01k\x12\x04\x10\x01\x18\x01"), ONE_SPAN),
    /* counting */
    ACCEPT("two spans", T, "\x01\x02", B("\x12\x00\x12\x00"), { 1, 1, 2, 0 }),
    ACCEPT("span with events and links", T, SPAN, B("\x5a\x00\x5a\x00\x6a\x00"), ONE_SPAN),
    ACCEPT("log records", L, "\x01\x02", B("\x12\x00\x12\x00\x12\x00"), { 1, 1, 3, 0 }),
    ACCEPT("scope only", M, "\x01", B("\x12\x02\x0a\x00"), { 1, 1, 0, 0 }),
};

/* Builds test case <t>'s request into out (size cap): body wrapped in the messages along t->path. */
static size_t test_build(const struct test_case *t, uint8_t *out, size_t cap)
{
    uint8_t tmp[512];
    size_t len = t->body_len, depth = strlen(t->path);

    assert_true(len <= sizeof(tmp));
    memcpy(tmp, t->body, len);
    while (depth-- > 0) {
        uint8_t head[6];
        size_t h = 0, v = len;

        head[h++] = (uint8_t)(t->path[depth] << 3 | 2);
        do {
            head[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v != 0);
        assert_true(h + len <= sizeof(tmp));
        memmove(tmp + h, tmp, len);
        memcpy(tmp, head, h);
        len += h;
    }
    assert_true(len <= cap);
    memcpy(out, tmp, len);
    return len;
}

/* Runs case <t> on an exact-size copy (so ASan sees any read past the end); returns what went wrong, or
 * NULL. */
static const char *test_run_case(const struct test_case *t, char *err, size_t errlen)
{
    uint8_t buf[512];
    size_t len = test_build(t, buf, sizeof(buf));
    uint8_t *exact = malloc(len + 1);
    struct otlp_counts c = { 0 };
    const char *why = NULL;
    int rc;

    assert_non_null(exact);
    memcpy(exact, buf, len);
    rc = otlp_scan(t->signal, exact, len, &c, &why);
    free(exact);
    if (t->why == NULL && rc != 0)
        snprintf(err, errlen, "%s: refused: %s", t->name, why);
    else if (t->why != NULL && rc == 0)
        snprintf(err, errlen, "%s: accepted, expected \"%s\"", t->name, t->why);
    else if (t->why != NULL && strcmp(why, t->why) != 0)
        snprintf(err, errlen, "%s: \"%s\", expected \"%s\"", t->name, why, t->why);
    else if (t->why == NULL && memcmp(&c, &t->counts, sizeof(c)) != 0)
        snprintf(err, errlen, "%s: counts %lu/%lu/%lu/%lu", t->name, (unsigned long)c.resources,
                 (unsigned long)c.scopes, (unsigned long)c.items, (unsigned long)c.metrics);
    else
        return NULL;
    return err;
}

static void test_hand_made(void **state)
{
    char err[512];
    int failed = 0;

    for (size_t i = 0; i < N_ELEMS(test_cases); i++) {
        if (test_run_case(&test_cases[i], err, sizeof(err)) != NULL) {
            print_error("%s\n", err);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

/* A chain of <levels> messages under the request: Span at level 3, then KeyValue, AnyValue, and
 * ArrayValue/AnyValue pairs; the innermost message is empty. Returns the length written into out. */
static size_t test_nested(uint8_t *out, size_t cap, unsigned levels)
{
    static const uint8_t path[] = { 1, 2, 2, 9, 2 };   /* ResourceSpans ScopeSpans Span KeyValue AnyValue */
    uint8_t *tmp = malloc(cap);
    size_t len = 0;

    assert_non_null(tmp);
    for (unsigned lvl = levels; lvl >= 1; lvl--) {
        uint8_t field = lvl <= 5 ? path[lvl - 1] : ((lvl - 5) % 2 == 1 ? 5 : 1);   /* array_value, values */
        uint8_t head[6];
        size_t h = 0, v = len;

        head[h++] = (uint8_t)(field << 3 | 2);
        do {
            head[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
            v >>= 7;
        } while (v != 0);
        assert_true(h + len <= cap);
        memcpy(tmp, head, h);
        memcpy(tmp + h, out, len);
        len += h;
        memcpy(out, tmp, len);
    }
    free(tmp);
    return len;
}

static void test_depth(void **state)
{
    size_t cap = 4096, len;
    uint8_t *buf = malloc(cap);
    struct otlp_counts c;
    const char *why = NULL;

    assert_non_null(buf);
    len = test_nested(buf, cap, OTLP_SCAN_MAX_DEPTH);
    assert_int_equal(otlp_scan(OG_SIGNAL_TRACES, buf, len, &c, &why), 0);
    assert_int_equal(c.items, 1);
    len = test_nested(buf, cap, OTLP_SCAN_MAX_DEPTH + 1);
    assert_int_equal(otlp_scan(OG_SIGNAL_TRACES, buf, len, &c, &why), -1);
    assert_string_equal(why, "messages nested deeper than 100 levels");
    free(buf);
}

/* The table marks every singular message field whose message has a oneof as ENTER_MERGED, and every
 * refused wire type of a known field has its reason. */
static void test_schema_table(void **state)
{
    for (size_t i = 0; i < OTLP_SCAN_MSG_COUNT; i++) {
        const struct otlp_scan_msg *m = &otlp_scan_msgs[i];
        bool oneof = false;

        assert_non_null(m->fields);
        assert_int_equal(m->fields[0].action, OTLP_SCAN_SKIP);
        assert_int_equal(m->fields[0].refused, 0);
        for (uint32_t n = 1; n < m->n_fields; n++) {
            const struct otlp_scan_field *f = &m->fields[n];

            oneof |= f->oneof != OTLP_SCAN_NOT_ONEOF;
            if (f->why == NULL)
                continue;   /* a hole: unknown field */
            for (unsigned wt = 0; wt < 6; wt++)
                if (f->refused & OTLP_SCAN_BIT(wt))
                    assert_non_null(f->why->wire_type[wt]);
            if (f->action == OTLP_SCAN_ENTER && !f->repeated && otlp_scan_msgs[f->child].has_oneof)
                fail_msg("%s: the field should be OTLP_SCAN_ONE_MERGED", f->why->overrun);
            if (f->action == OTLP_SCAN_ENTER_ONEOF)
                assert_true(f->oneof && !f->repeated);
            if (f->action >= OTLP_SCAN_ENTER && f->action <= OTLP_SCAN_ENTER_MERGED)
                assert_true(f->child < OTLP_SCAN_MSG_COUNT);
            if (f->action == OTLP_SCAN_ENTER_MERGED)
                assert_true(otlp_scan_msgs[f->child].has_oneof);
        }
        assert_int_equal(oneof, m->has_oneof);
    }
}

/* ---- the table against protobuf-c's generated descriptors ---- */

static const ProtobufCMessageDescriptor *const test_requests[OG_SIGNAL_COUNT] = {
    &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor,
    &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor,
    &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor,
};

/* Where a message type sits: the first path from a request to it. */
struct test_place {
    const ProtobufCMessageDescriptor *desc;
    enum og_signal signal;
    char path[16];             /* field numbers, outermost first, NUL-terminated */
};

static size_t test_places(struct test_place *places, size_t cap)
{
    size_t n = 0;

    for (int s = 0; s < OG_SIGNAL_COUNT; s++) {
        places[n++] = (struct test_place){ test_requests[s], (enum og_signal)s, "" };
    }
    for (size_t i = 0; i < n; i++) {   /* breadth first: shortest paths */
        for (unsigned f = 0; f < places[i].desc->n_fields; f++) {
            const ProtobufCFieldDescriptor *fd = &places[i].desc->fields[f];
            size_t depth = strlen(places[i].path), j;

            if (fd->type != PROTOBUF_C_TYPE_MESSAGE || depth + 2 > sizeof(places[i].path))
                continue;
            for (j = 0; j < n && !(places[j].desc == fd->descriptor && places[j].signal == places[i].signal); j++)
                ;
            if (j < n)
                continue;
            assert_true(n < cap);
            places[n] = places[i];
            places[n].desc = fd->descriptor;
            places[n].path[depth] = (char)fd->id;
            places[n].path[depth + 1] = '\0';
            n++;
        }
    }
    return n;
}

/* Counts from the unpacked tree, the way the fuzz target takes them. */
static void test_tree_counts(enum og_signal signal, const ProtobufCMessage *msg, struct otlp_counts *c)
{
    memset(c, 0, sizeof(*c));
    if (signal == OG_SIGNAL_TRACES) {
        const Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r = (const void *)msg;

        for (size_t i = 0; i < r->n_resource_spans; i++, c->resources++)
            for (size_t j = 0; j < r->resource_spans[i]->n_scope_spans; j++, c->scopes++)
                c->items += r->resource_spans[i]->scope_spans[j]->n_spans;
    } else if (signal == OG_SIGNAL_LOGS) {
        const Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r = (const void *)msg;

        for (size_t i = 0; i < r->n_resource_logs; i++, c->resources++)
            for (size_t j = 0; j < r->resource_logs[i]->n_scope_logs; j++, c->scopes++)
                c->items += r->resource_logs[i]->scope_logs[j]->n_log_records;
    } else {
        const Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *r = (const void *)msg;

        for (size_t i = 0; i < r->n_resource_metrics; i++, c->resources++)
            for (size_t j = 0; j < r->resource_metrics[i]->n_scope_metrics; j++, c->scopes++) {
                const Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm = r->resource_metrics[i]->scope_metrics[j];

                c->metrics += sm->n_metrics;
                for (size_t k = 0; k < sm->n_metrics; k++) {
                    const Opentelemetry__Proto__Metrics__V1__Metric *m = sm->metrics[k];

                    c->items += m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE ? m->gauge->n_data_points
                              : m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM ? m->sum->n_data_points
                              : m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM
                                  ? m->histogram->n_data_points
                              : m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_EXPONENTIAL_HISTOGRAM
                                  ? m->exponential_histogram->n_data_points
                              : m->data_case == OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUMMARY
                                  ? m->summary->n_data_points : 0;
                }
            }
    }
}

/* Every field number 1..20 of every message type, with every wire type and a few payloads, alone in its
 * message: otlp_scan() and protobuf-c agree on accept/refuse and on the counts. This checks each row of
 * the table against the generated descriptors. */
static void test_schema_against_protobuf_c(void **state)
{
    static const struct { const char *bytes; size_t len; } payloads[] = {
        { "\x00", 1 }, { "\x01", 1 }, { "\x96\x01", 2 }, { "\x00\x00\x00\x00\x00\x00\x00\x00", 8 },
        { "\x00\x00\x00\x00", 4 }, { "", 0 }, { "\x08\x01", 2 }, { "\x0a\x00", 2 }, { "\x01\x02\x03", 3 },
    };
    struct test_place places[64];
    size_t n_places = test_places(places, 64), checked = 0, disagreed = 0;

    size_t distinct = 0;

    for (size_t i = 0; i < n_places; i++) {   /* the common types (Resource, KeyValue...) are reached thrice */
        size_t j;

        for (j = 0; j < i && places[j].desc != places[i].desc; j++)
            ;
        distinct += j == i;
    }
    assert_int_equal(distinct, OTLP_SCAN_MSG_COUNT);
    for (size_t i = 0; i < n_places; i++) {
        for (unsigned field = 1; field <= 20; field++) {
            for (unsigned wt = 0; wt < 8; wt++) {
                for (size_t k = 0; k < N_ELEMS(payloads); k++) {
                    char body[32];
                    size_t len = 0;
                    struct test_case t = { "schema", places[i].signal, places[i].path, body, 0, NULL, { 0 } };
                    uint8_t buf[512];
                    struct otlp_counts c, tc;
                    const char *why = NULL;
                    ProtobufCMessage *msg;
                    int rc;

                    body[len++] = (char)(field << 3 | wt);
                    if (wt == 2)
                        body[len++] = (char)payloads[k].len;
                    memcpy(body + len, payloads[k].bytes, payloads[k].len);
                    t.body_len = len + payloads[k].len;
                    len = test_build(&t, buf, sizeof(buf));
                    rc = otlp_scan(t.signal, buf, len, &c, &why);
                    msg = protobuf_c_message_unpack(test_requests[t.signal], NULL, len, buf);
                    checked++;
                    if ((rc == 0) != (msg != NULL)) {
                        print_error("%s field %u wire type %u payload %zu: scan %s, protobuf-c %s\n",
                                    places[i].desc->name, field, wt, k, rc == 0 ? "accepts" : why,
                                    msg != NULL ? "accepts" : "refuses");
                        disagreed++;
                    } else if (msg != NULL) {
                        test_tree_counts(t.signal, msg, &tc);
                        if (memcmp(&c, &tc, sizeof(c)) != 0) {
                            print_error("%s field %u wire type %u payload %zu: counts differ\n",
                                        places[i].desc->name, field, wt, k);
                            disagreed++;
                        }
                    }
                    protobuf_c_message_free_unpacked(msg, NULL);
                }
            }
        }
    }
    print_message("%zu single-field inputs over %zu message places\n", checked, n_places);
    assert_int_equal(disagreed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bench_payloads),
        cmocka_unit_test(test_bad_payloads),
        cmocka_unit_test(test_concatenation),
        cmocka_unit_test(test_every_prefix),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_hand_made),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_schema_table),
        cmocka_unit_test(test_schema_against_protobuf_c),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
