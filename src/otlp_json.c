/* otlp_json.c: what the two directions of the OTLP/JSON codec share: the request descriptor per signal, the
 * OTLP/JSON field rules (presence, hex ids, names), and the byte buffer both write into before handing the
 * result to the caller's evbuffer. otlp_json_decode.c reads JSON, otlp_json_encode.c writes it.
 *
 * JSON library: jansson, chosen over json-c by measurement (contrib/bench/json_libs.c: CPU time per core, best
 * of 4 runs, -O2, on this 2-core AMD EPYC VM; spans/s = requests/s x spans per request):
 *                           traces_100 (111 KB)         traces_1000 (1.05 MB)      tree held while parsed
 *   jansson parse           57 MB/s   51k spans/s       29 MB/s   27k spans/s      1.3 MiB / 12.0 MiB
 *   json-c parse            84 MB/s   76k spans/s       34 MB/s   32k spans/s      2.6 MiB / 24.3 MiB
 *   otlp_json_to_proto      48 MB/s   43k spans/s       26 MB/s   24k spans/s      (jansson + walk + wire)
 *   otlp_proto_to_json     365 MB/s  327k spans/s      296 MB/s  282k spans/s      (MB/s of JSON written)
 * json-c parses 1.2-1.5x faster, but holds twice the memory for the same text (memory is the scarcer resource
 * on an edge box), and even with JSON_TOKENER_STRICT it takes what a receiver must refuse: NaN and Infinity
 * tokens, single-quoted strings, raw control characters in strings, lone surrogates (silently replaced), and
 * integers past 64 bits (silently saturated to INT64_MIN/UINT64_MAX: bad data would become wrong data).
 * jansson rejects all of these with a line and column. The tree is the cost (perf: jansson 57% and
 * malloc/free 25% of a conversion; the descriptor walk and the wire writing 10%). jansson's one gap: a JSON
 * *number* past INT64_MAX is refused; OTLP/JSON writes 64-bit integers as strings, which are read in full. */
#include "autoconf.h"

#define OTLP_JSON_INTERNAL

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp_json.h"

/* Grows by doubling so a conversion costs amortised O(1) per byte. Returns 0, or -1 on exhaustion or size_t
 * overflow with <b> unchanged. */
int otlp_json_buf_grow(struct otlp_json_buf *b, size_t need)
{
    size_t cap = b->cap != 0 ? b->cap : 256;
    uint8_t *data;

    if (need > SIZE_MAX / 2 - b->len)
        return -1;
    while (cap - b->len < need)
        cap *= 2;
    data = realloc(b->data, cap);
    if (data == NULL)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

static void otlp_json_buf_on_release(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

/* Hands the bytes of <b> to <out> without copying them (evbuffer_add_reference; <out> frees them). Trims the
 * doubling slack first, since the bytes may sit in a batch for a while. Returns 0 with <b> empty, or -1 with
 * <out> unchanged and <b> still owning its bytes. */
int otlp_json_buf_move_to(struct otlp_json_buf *b, struct evbuffer *out)
{
    if (b->len == 0) {
        otlp_json_buf_dispose(b);
        return 0;
    }
    if (b->cap - b->len > b->len / 8) {
        uint8_t *data = realloc(b->data, b->len);

        if (data != NULL) {
            b->data = data;
            b->cap = b->len;
        }
    }
    if (evbuffer_add_reference(out, b->data, b->len, otlp_json_buf_on_release, NULL) != 0)
        return -1;
    b->data = NULL;
    b->len = b->cap = 0;
    return 0;
}

void otlp_json_buf_dispose(struct otlp_json_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Returns the descriptor of the Export*ServiceRequest of <signal>, or NULL for a value out of the enum. */
const ProtobufCMessageDescriptor *otlp_json_request_descriptor(enum og_signal signal)
{
    switch (signal) {
    case OG_SIGNAL_TRACES:
        return &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor;
    case OG_SIGNAL_METRICS:
        return &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor;
    case OG_SIGNAL_LOGS:
        return &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor;
    default:
        return NULL;
    }
}

/* Tells whether field <f> of <d> is written whenever it is set, even to its default, as opposed to a proto3
 * scalar that is left out when it is 0, "" or false. Oneof members and messages have presence in proto3;
 * so do the histogram sum/min/max, declared `optional` upstream. The build drops that word (protoc-c 1.4.1
 * cannot compile it, Makefile.am), so the rule is restored here by field number. */
int otlp_json_field_has_presence(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f)
{
    if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return 1;
    if (f->type != PROTOBUF_C_TYPE_DOUBLE)
        return 0;
    if (d == &opentelemetry__proto__metrics__v1__histogram_data_point__descriptor)
        return f->id == 5 || f->id == 11 || f->id == 12;
    if (d == &opentelemetry__proto__metrics__v1__exponential_histogram_data_point__descriptor)
        return f->id == 5 || f->id == 12 || f->id == 13;
    return 0;
}

/* Returns the byte length of an id field (OTLP/JSON writes trace and span ids as hex, not base64: 16 bytes for
 * trace_id, 8 for span_id and parent_span_id, in spans, links, log records and exemplars), or 0 for any other
 * field. */
size_t otlp_json_field_id_length(const ProtobufCFieldDescriptor *f)
{
    if (f->type != PROTOBUF_C_TYPE_BYTES)
        return 0;
    if (strcmp(f->name, "trace_id") == 0)
        return 16;
    if (strcmp(f->name, "span_id") == 0 || strcmp(f->name, "parent_span_id") == 0)
        return 8;
    return 0;
}

/* Tells whether a repeated field of <f>'s type may be packed: every scalar but strings and bytes. */
int otlp_json_field_is_packable(const ProtobufCFieldDescriptor *f)
{
    return f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_BYTES &&
           f->type != PROTOBUF_C_TYPE_MESSAGE;
}

/* Returns the wire type of one unpacked value of <f>: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit. */
unsigned otlp_json_field_wire_type(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 1;
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return 5;
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return 2;
    default:
        return 0;
    }
}

/* Writes the lowerCamelCase JSON name of <f> to <buf> (protoc's rule: drop each '_', capitalise the letter after
 * it), NUL-terminated and truncated to <size>. Returns its length before truncation. */
size_t otlp_json_field_json_name(const ProtobufCFieldDescriptor *f, char *buf, size_t size)
{
    size_t n = 0;
    int upper = 0;

    for (const char *s = f->name; *s != '\0'; s++) {
        char c = *s;

        if (c == '_') {
            upper = 1;
            continue;
        }
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        upper = 0;
        if (n + 1 < size)
            buf[n] = c;
        n++;
    }
    if (size != 0)
        buf[n < size ? n : size - 1] = '\0';
    return n;
}

/* Formats a reason into <err> as one line of printable ASCII: reasons quote bits of the client's input (a bad
 * value, the parser's "near '...'"), which may hold a newline, a control character or a UTF-8 sequence cut in
 * half, and the text ends up in a log line and an HTTP or gRPC status. Tolerates a NULL or 0-byte <err>. */
void otlp_json_format_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    for (char *c = err; *c != '\0'; c++)
        if (*c < 0x20 || *c > 0x7e)
            *c = '?';
}
