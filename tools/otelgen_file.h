/* otelgen_file.h: reads a payload file for --file: a protobuf export request (.pb, .pb.gz), a gRPC message
 * (.grpc: 5-byte prefix, then the request, gzip'd when the prefix says so) or OTLP/JSON (.json, .json.gz),
 * and counts the items in it for the summary. */
#ifndef OTELGEN_FILE_H
#define OTELGEN_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otelgen_signal.h"

enum otelgen_file_kind {
    OTELGEN_FILE_PB,
    OTELGEN_FILE_PB_GZ,
    OTELGEN_FILE_GRPC,
    OTELGEN_FILE_JSON,
    OTELGEN_FILE_JSON_GZ,
};

struct otelgen_file {
    uint8_t *plain;         /* the request, uncompressed */
    size_t plain_len;
    uint8_t *gz;            /* the file's own gzip bytes (.gz, or a .grpc with the compressed flag), or NULL */
    size_t gz_len;
};

/* The kind a file name announces by its suffix. Returns 0, or -1 for an unknown suffix. */
int otelgen_file_kind_of(const char *path, enum otelgen_file_kind *out);
bool otelgen_file_kind_is_json(enum otelgen_file_kind kind);

/* Reads <path> as a file of <kind>, gunzips it and unwraps the gRPC prefix. Fails when the file cannot be
 * read, is larger than 1 GiB (before or after gunzip), is not valid gzip, or has a gRPC prefix that does not
 * match its length. Returns 0, or -1 with <err> set; <out> is then empty. */
int otelgen_file_load(const char *path, enum otelgen_file_kind kind, struct otelgen_file *out, char *err,
                      size_t errlen);
void otelgen_file_dispose(struct otelgen_file *f);

/* Items (spans, data points, log records) of signal <s> in the loaded request, or -1 with <why> set when it
 * does not parse (the file is still sent as it is: a bad request is a fine test of a receiver). */
long long otelgen_file_count_items(const struct otelgen_file *f, enum otelgen_signal s, bool json, char *why,
                                   size_t whylen);

#endif
