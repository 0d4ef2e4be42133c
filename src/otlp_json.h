/* otlp_json.h: OTLP/JSON <-> protobuf wire bytes for Export{Trace,Metrics,Logs}ServiceRequest. The HTTP
 * receiver converts a JSON body at intake, so everything after it sees only protobuf (DESIGN.md §2-3); the
 * file and debug exporters convert back. Both directions walk the protobuf-c descriptors, building no
 * message structs, so explicit presence survives and one walker serves every message type. */
#ifndef OG_OTLP_JSON_H
#define OG_OTLP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "component.h"

/* Converts the OTLP/JSON Export*ServiceRequest <json> (<len> bytes, borrowed; need not be NUL-terminated) of
 * <signal> to protobuf wire bytes, byte-identical to what a protobuf serializer writes for the same message,
 * and appends them to <out> (handed over without a copy). Accepts lowerCamelCase and snake_case keys, hex ids,
 * 64-bit integers as strings or numbers, enums as integers or names, "NaN"/"Infinity"/"-Infinity"; ignores
 * unknown keys and null values; {} is a valid empty request (0 bytes appended). Refuses an empty body, invalid
 * JSON, wrong value types, base64 or wrong-length ids, nesting deeper than OTLP_JSON_MAX_DEPTH messages.
 * Returns 0, or -1 with a one-line reason naming the field path in <err> (<errlen> bytes, NUL-terminated) and
 * <out> unchanged. Thread-safe; allocates about 12x <len> for the parsed tree while it runs. */
int otlp_json_to_proto(enum og_signal signal, const char *json, size_t len, struct evbuffer *out, char *err,
                       size_t errlen);

/* Converts the protobuf wire bytes <pb> (<len> bytes, borrowed) of an Export*ServiceRequest of <signal> to
 * OTLP/JSON on one line (no trailing newline) and appends it to <out>. Fields come out in field-number order,
 * proto3 defaults are left out unless the field has presence (oneofs, messages, histogram sum/min/max), ids are
 * hex, 64-bit integers strings, enums integers; unknown fields are dropped and invalid UTF-8 in strings becomes
 * U+FFFD. Refuses malformed wire data (truncation, bad wire types, a known field with the wrong wire type) and
 * nesting deeper than OTLP_JSON_MAX_DEPTH. Returns 0, or -1 with a one-line reason in <err> and <out>
 * unchanged. Thread-safe. */
int otlp_proto_to_json(enum og_signal signal, const uint8_t *pb, size_t len, struct evbuffer *out, char *err,
                       size_t errlen);

/* Deepest message nesting either direction accepts. The request itself is level 1; a span attribute's value is
 * level 6, and each kvlist or array level inside an AnyValue adds 2 or 3, so about 20 levels of nested
 * attribute values fit. It bounds the recursion on the worker's stack. */
#define OTLP_JSON_MAX_DEPTH 64

#ifdef OTLP_JSON_INTERNAL
/* ---- shared by otlp_json.c, otlp_json_decode.c and otlp_json_encode.c only ---- */
#include <string.h>

#include <protobuf-c/protobuf-c.h>

/* Widest message the walkers take; the widest OTLP message (Span) has 16 fields. It sizes per-message arrays
 * on the stack. */
#define OTLP_JSON_MAX_FIELDS 32

/* A growable byte array both directions write into, so <out> is touched only once the whole conversion
 * succeeded. All-zero is an empty buffer with nothing allocated. */
struct otlp_json_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

int otlp_json_buf_grow(struct otlp_json_buf *b, size_t need);
int otlp_json_buf_move_to(struct otlp_json_buf *b, struct evbuffer *out);
void otlp_json_buf_dispose(struct otlp_json_buf *b);
const ProtobufCMessageDescriptor *otlp_json_request_descriptor(enum og_signal signal);
int otlp_json_field_has_presence(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f);
size_t otlp_json_field_id_length(const ProtobufCFieldDescriptor *f);
int otlp_json_field_is_packable(const ProtobufCFieldDescriptor *f);
unsigned otlp_json_field_wire_type(const ProtobufCFieldDescriptor *f);
size_t otlp_json_field_json_name(const ProtobufCFieldDescriptor *f, char *buf, size_t size);
void otlp_json_format_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Makes room for <need> more bytes. Returns 0, or -1 when memory is exhausted (the buffer is unchanged). */
static inline int otlp_json_buf_reserve(struct otlp_json_buf *b, size_t need)
{
    return b->cap - b->len >= need ? 0 : otlp_json_buf_grow(b, need);
}

/* Appends without checking room: the caller reserved it. */
static inline void otlp_json_buf_put(struct otlp_json_buf *b, const void *p, size_t n)
{
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline int otlp_json_buf_add(struct otlp_json_buf *b, const void *p, size_t n)
{
    if (otlp_json_buf_reserve(b, n) != 0)
        return -1;
    otlp_json_buf_put(b, p, n);
    return 0;
}

/* Appends <v> as a protobuf base-128 varint (at most 10 bytes) without checking room. */
static inline void otlp_json_buf_put_varint(struct otlp_json_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        b->data[b->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b->data[b->len++] = (uint8_t)v;
}

static inline int otlp_json_buf_add_varint(struct otlp_json_buf *b, uint64_t v)
{
    if (otlp_json_buf_reserve(b, 10) != 0)
        return -1;
    otlp_json_buf_put_varint(b, v);
    return 0;
}

static inline size_t otlp_json_varint_size(uint64_t v)
{
    size_t n = 1;

    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}
#endif /* OTLP_JSON_INTERNAL */

#endif
