/* otelgen_encode.h: turns a generated OTLP export request (protobuf-c structs) into the bytes of a request
 * body, protobuf or OTLP/JSON, and says where in those bytes every span and trace id landed, so that each
 * request of a run can get fresh ids by overwriting them in place instead of encoding again. */
#ifndef OTELGEN_ENCODE_H
#define OTELGEN_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

enum otelgen_id_kind {
    OTELGEN_ID_SPAN,        /* 8 bytes: span_id, parent_span_id, a link's or exemplar's or log's span_id */
    OTELGEN_ID_TRACE,       /* 16 bytes */
};

/* Where a generated message keeps its ids. Every id field of the message points into these arrays; the
 * encoders recognise an id by that address, so the message needs no marker values. */
struct otelgen_ids {
    uint8_t (*span)[8];
    size_t n_span;
    uint8_t (*trace)[16];
    size_t n_trace;
};

struct otelgen_id_site {
    uint32_t offset;        /* first byte of the id in the body */
    uint32_t index;         /* into otelgen_ids.span or .trace */
    uint8_t kind;           /* enum otelgen_id_kind */
    uint8_t hex;            /* 1: lowercase hex text (OTLP/JSON); 0: raw bytes */
};

struct otelgen_encoded {
    uint8_t *data;
    size_t len;
    struct otelgen_id_site *sites;
    size_t n_sites;
};

/* Encodes <m> as protobuf or as OTLP/JSON (lowerCamelCase keys, ids in hex, other bytes in base64, enums as
 * numbers, 64-bit integers as strings, default values left out). Fails when out of memory, when the body
 * would pass 4 GiB, or when some id of <ids> does not appear in the output (an id field not pointing into
 * <ids> could not be renewed per request). Returns 0, or -1 with <err> set; <out> is then empty. */
int otelgen_encode_protobuf(const ProtobufCMessage *m, const struct otelgen_ids *ids, struct otelgen_encoded *out,
                            char *err, size_t errlen);
int otelgen_encode_json(const ProtobufCMessage *m, const struct otelgen_ids *ids, struct otelgen_encoded *out,
                        char *err, size_t errlen);

/* Frees what an encoder returned; an empty <e> is fine. */
void otelgen_encode_dispose(struct otelgen_encoded *e);

#endif
