/* fuzz_otlp_json.c: libFuzzer target for the OTLP/JSON codec. The first byte picks the signal (low two bits,
 * modulo 3) and the direction (bit 7); the rest is the body. JSON -> protobuf: what is accepted must unpack
 * with protobuf-c, and protobuf -> JSON -> protobuf must give the same bytes. Protobuf -> JSON: any bytes must
 * be refused or converted, never crash, and converted text must read back to a fixed point.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I$B -Isrc -I$B/src/proto tests/fuzz/fuzz_otlp_json.c \
 *     src/otlp_json.c src/otlp_json_decode.c src/otlp_json_encode.c <proto .pb-c.c> -ljansson -levent_core \
 *     -lprotobuf-c -o fuzz_otlp_json && ./fuzz_otlp_json -max_len=65536 corpus/ */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "otlp_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The result of one conversion, flattened out of its evbuffer. */
struct fuzz_out {
    int rc;
    uint8_t *data;          /* owned, NUL-terminated */
    size_t len;
    char err[256];
};

static void fuzz_check(int ok, const char *what, const struct fuzz_out *o)
{
    if (ok)
        return;
    fprintf(stderr, "fuzz_otlp_json: %s (%s)\n", what, o != NULL ? o->err : "");
    abort();
}

static void fuzz_convert(struct fuzz_out *o, int to_json, enum og_signal signal, const void *in, size_t len)
{
    struct evbuffer *out = evbuffer_new();

    fuzz_check(out != NULL, "evbuffer_new", NULL);
    o->err[0] = '\0';
    o->rc = to_json ? otlp_proto_to_json(signal, in, len, out, o->err, sizeof(o->err))
                    : otlp_json_to_proto(signal, in, len, out, o->err, sizeof(o->err));
    o->len = evbuffer_get_length(out);
    fuzz_check(o->rc == 0 || o->len == 0, "output written on failure", o);
    fuzz_check(o->rc == 0 || (o->err[0] != '\0' && strchr(o->err, '\n') == NULL), "no one-line reason", o);
    o->data = malloc(o->len + 1);
    fuzz_check(o->data != NULL, "malloc", NULL);
    evbuffer_remove(out, o->data, o->len);
    o->data[o->len] = '\0';
    evbuffer_free(out);
}

static const ProtobufCMessageDescriptor *fuzz_descriptor(enum og_signal signal)
{
    switch (signal) {
    case OG_SIGNAL_TRACES:
        return &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor;
    case OG_SIGNAL_METRICS:
        return &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor;
    default:
        return &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor;
    }
}

/* Accepted JSON: protobuf-c takes the bytes, and they survive pb -> JSON -> pb unchanged. */
static void fuzz_json_direction(enum og_signal signal, const uint8_t *body, size_t len)
{
    struct fuzz_out pb, text, back;
    ProtobufCMessage *m;

    fuzz_convert(&pb, 0, signal, body, len);
    if (pb.rc == 0) {
        m = protobuf_c_message_unpack(fuzz_descriptor(signal), NULL, pb.len, pb.data);
        fuzz_check(m != NULL, "protobuf-c cannot unpack the output", &pb);
        protobuf_c_message_free_unpacked(m, NULL);
        fuzz_convert(&text, 1, signal, pb.data, pb.len);
        fuzz_check(text.rc == 0, "own output refused by proto_to_json", &text);
        fuzz_convert(&back, 0, signal, text.data, text.len);
        fuzz_check(back.rc == 0, "own JSON refused by json_to_proto", &back);
        fuzz_check(back.len == pb.len && memcmp(back.data, pb.data, pb.len) == 0, "pb -> JSON -> pb differs", NULL);
        free(text.data);
        free(back.data);
    }
    free(pb.data);
}

/* Any bytes: no crash; text that reads back as protobuf is a fixed point of the round trip. (It may not read
 * back: ids of another length than 16/8 bytes are valid protobuf but not valid OTLP/JSON.) */
static void fuzz_proto_direction(enum og_signal signal, const uint8_t *body, size_t len)
{
    struct fuzz_out text, pb, again;

    fuzz_convert(&text, 1, signal, body, len);
    if (text.rc == 0) {
        fuzz_convert(&pb, 0, signal, text.data, text.len);
        if (pb.rc == 0) {
            fuzz_convert(&again, 1, signal, pb.data, pb.len);
            fuzz_check(again.rc == 0, "canonical bytes refused", &again);
            fuzz_check(again.len == text.len && memcmp(again.data, text.data, text.len) == 0,
                       "JSON -> pb -> JSON differs", NULL);
            free(again.data);
        }
        free(pb.data);
    }
    free(text.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum og_signal signal;

    if (size < 1)
        return 0;
    signal = (enum og_signal)((data[0] & 3) % 3);
    if ((data[0] & 0x80) != 0)
        fuzz_proto_direction(signal, data + 1, size - 1);
    else
        fuzz_json_direction(signal, data + 1, size - 1);
    return 0;
}
