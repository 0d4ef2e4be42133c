/* otlp_scan.h: intake validation of OTLP protobuf requests. A wire walk over the bytes of one
 * Export{Trace,Metrics,Logs}ServiceRequest that checks what protobuf-c's unpack would check and counts
 * resources, scopes, metrics and items, without allocating and without decoding (bytes stay bytes). */
#ifndef OG_OTLP_SCAN_H
#define OG_OTLP_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "component.h"

/* Deepest message nesting accepted; the request itself is level 0, a Span level 3, a KeyValue level 4.
 * protobuf-c has no such limit (its unpack recurses on the C stack without bound). */
#define OTLP_SCAN_MAX_DEPTH 100

struct otlp_counts {
    uint64_t resources;   /* Resource{Spans,Metrics,Logs} */
    uint64_t scopes;      /* Scope{Spans,Metrics,Logs} */
    uint64_t items;       /* spans | metric data points (all 5 kinds) | log records */
    uint64_t metrics;     /* Metric messages (0 for traces and logs) */
};

/* Validates <len> bytes as an Export{Trace,Metrics,Logs}ServiceRequest of <signal> and counts its content.
 * Borrows buf (NULL is fine when len is 0). Never reads outside buf, never allocates, does not recurse:
 * nesting is followed on an explicit stack of OTLP_SCAN_MAX_DEPTH levels (about 10 KiB of C stack).
 *
 * Accepts exactly what protobuf-c 1.4.1's *__unpack() accepts for that message type (checked against
 * protobuf-c by tests/fuzz/fuzz_otlp_scan.c and tests/unit/test_otlp_scan.c), including its quirks:
 *  - every known field must carry its own wire type (Span.kind sent as wire type 2 is refused), except bool
 *    fields (AnyValue.bool_value, Sum.is_monotonic), which protobuf-c reads from any wire type;
 *  - repeated numeric fields may be packed (wire type 2) or not; a packed fixed64/double must be a multiple
 *    of 8 bytes, each packed varint at most 10 bytes;
 *  - unknown fields of wire types 0, 1, 2 and 5 are skipped; groups (3, 4) and wire types 6, 7 are refused;
 *  - tags are at most 5 bytes, varints at most 10 (the 10th byte is not checked for overflow), length
 *    prefixes at most 5 bytes and 2^31-1; strings are not checked for UTF-8;
 *  - a oneof member seen twice replaces the earlier one, so a Metric holding a gauge and then a sum counts
 *    only the sum's data points, as the unpacked tree has them;
 *  - KeyValue.value and LogRecord.body are merged when repeated; protobuf-c's merge drops a string (or empty
 *    bytes) value when the repeat has none, and fails when neither side has a value: refused here too.
 * Known differences, both refusals where protobuf-c accepts:
 *  - field number 0 is refused in any encoding; protobuf-c refuses it only in a one-byte tag and takes a
 *    padded form (80 00) for an unknown field, which other OTLP receivers refuse;
 *  - nesting deeper than OTLP_SCAN_MAX_DEPTH is refused.
 *
 * Returns 0 with *out filled; or -1 with *why set to a static one-line reason naming the message and field
 * ("Span.kind has wire type 2, expected 0"), leaving *out untouched. Counts are those of the unpacked tree;
 * for a concatenation of requests they add up. */
int otlp_scan(enum og_signal signal, const uint8_t *buf, size_t len, struct otlp_counts *out, const char **why);

#endif
