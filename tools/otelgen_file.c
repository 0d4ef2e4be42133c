/* otelgen_file.c: payload files, read once at start-up: suffix to kind, gunzip, gRPC prefix, and counting
 * items with otelgate's own intake code (otlp_json_to_proto, otlp_scan), which also says what is wrong with
 * a file otelgate would refuse. */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <zlib.h>

#include "otelgen_file.h"
#include "otlp_json.h"
#include "otlp_scan.h"

#define OTELGEN_FILE_MAX (1024u * 1024 * 1024)

static const struct {
    const char *suffix;
    enum otelgen_file_kind kind;
} otelgen_file_suffixes[] = {
    { ".pb.gz", OTELGEN_FILE_PB_GZ }, { ".pb", OTELGEN_FILE_PB }, { ".grpc", OTELGEN_FILE_GRPC },
    { ".json.gz", OTELGEN_FILE_JSON_GZ }, { ".json", OTELGEN_FILE_JSON },
};

int otelgen_file_kind_of(const char *path, enum otelgen_file_kind *out)
{
    size_t len = strlen(path);

    for (size_t i = 0; i < sizeof otelgen_file_suffixes / sizeof otelgen_file_suffixes[0]; i++) {
        size_t n = strlen(otelgen_file_suffixes[i].suffix);
        if (len > n && strcmp(path + len - n, otelgen_file_suffixes[i].suffix) == 0) {
            *out = otelgen_file_suffixes[i].kind;
            return 0;
        }
    }
    return -1;
}

bool otelgen_file_kind_is_json(enum otelgen_file_kind kind)
{
    return kind == OTELGEN_FILE_JSON || kind == OTELGEN_FILE_JSON_GZ;
}

static int otelgen_file_read(const char *path, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (n == cap) {
            cap = cap != 0 ? cap * 2 : 64 * 1024;
            uint8_t *p = cap <= 2 * (size_t)OTELGEN_FILE_MAX ? realloc(buf, cap) : NULL;
            if (p == NULL) {
                snprintf(err, errlen, "%s: %s", path, cap > OTELGEN_FILE_MAX ? "larger than 1 GiB" : "out of memory");
                goto fail;
            }
            buf = p;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f) || n > OTELGEN_FILE_MAX) {
        snprintf(err, errlen, "%s: %s", path, ferror(f) ? strerror(errno) : "larger than 1 GiB");
        goto fail;
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
fail:
    fclose(f);
    free(buf);
    return -1;
}

/* Inflates gzip (several members are fine: `cat a.gz b.gz` is valid gzip) up to OTELGEN_FILE_MAX bytes. */
static int otelgen_file_gunzip(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen, const char **why)
{
    z_stream z = { .next_in = (Bytef *)in, .avail_in = (uInt)len };
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    int rc = Z_OK;

    if (len > UINT32_MAX || inflateInit2(&z, 15 + 16) != Z_OK) {
        *why = "cannot start gunzip";
        return -1;
    }
    while (rc != Z_STREAM_END || z.avail_in > 0) {
        if (rc == Z_STREAM_END && inflateReset(&z) != Z_OK)
            break;
        if (n == cap) {
            cap = cap != 0 ? cap * 2 : len * 4 + 1024;
            uint8_t *p = cap <= 2 * (size_t)OTELGEN_FILE_MAX ? realloc(buf, cap) : NULL;
            if (p == NULL) {
                *why = cap > OTELGEN_FILE_MAX ? "larger than 1 GiB once gunzipped" : "out of memory";
                goto fail;
            }
            buf = p;
        }
        z.next_out = buf + n;
        z.avail_out = (uInt)(cap - n < UINT32_MAX ? cap - n : UINT32_MAX);
        rc = inflate(&z, Z_NO_FLUSH);
        n = (size_t)(z.next_out - buf);
        if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && z.avail_out == 0)) {
            *why = z.msg != NULL ? z.msg : "not valid gzip";
            goto fail;
        }
        if (rc == Z_OK && z.avail_in == 0 && z.avail_out > 0) {
            *why = "gzip data ends early";
            goto fail;
        }
    }
    if (n > OTELGEN_FILE_MAX) {
        *why = "larger than 1 GiB once gunzipped";
        goto fail;
    }
    inflateEnd(&z);
    *out = buf;
    *outlen = n;
    return 0;
fail:
    inflateEnd(&z);
    free(buf);
    return -1;
}

/* A .grpc file is one length-prefixed message: flag byte (0 plain, 1 compressed), 4-byte big-endian length. */
static int otelgen_file_unwrap_grpc(const char *path, uint8_t **data, size_t *len, bool *compressed, char *err,
                                    size_t errlen)
{
    uint8_t *d = *data;
    size_t said;

    if (*len < 5) {
        snprintf(err, errlen, "%s: %zu bytes, shorter than the 5-byte gRPC message prefix", path, *len);
        return -1;
    }
    said = (size_t)d[1] << 24 | (size_t)d[2] << 16 | (size_t)d[3] << 8 | d[4];
    if (d[0] > 1 || said != *len - 5) {
        snprintf(err, errlen, "%s: not one gRPC message: prefix says flag %u, %zu bytes; the file has %zu after it",
                 path, d[0], said, *len - 5);
        return -1;
    }
    *compressed = d[0] == 1;
    memmove(d, d + 5, said);
    *len = said;
    return 0;
}

int otelgen_file_load(const char *path, enum otelgen_file_kind kind, struct otelgen_file *out, char *err,
                      size_t errlen)
{
    uint8_t *data;
    size_t len;
    bool compressed = kind == OTELGEN_FILE_PB_GZ || kind == OTELGEN_FILE_JSON_GZ;
    const char *why;

    *out = (struct otelgen_file){ 0 };
    if (otelgen_file_read(path, &data, &len, err, errlen) != 0)
        return -1;
    if (kind == OTELGEN_FILE_GRPC && otelgen_file_unwrap_grpc(path, &data, &len, &compressed, err, errlen) != 0) {
        free(data);
        return -1;
    }
    if (!compressed) {
        out->plain = data;
        out->plain_len = len;
        return 0;
    }
    out->gz = data;
    out->gz_len = len;
    if (otelgen_file_gunzip(data, len, &out->plain, &out->plain_len, &why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        otelgen_file_dispose(out);
        return -1;
    }
    return 0;
}

void otelgen_file_dispose(struct otelgen_file *f)
{
    free(f->plain);
    free(f->gz);
    *f = (struct otelgen_file){ 0 };
}

long long otelgen_file_count_items(const struct otelgen_file *f, enum otelgen_signal s, bool json, char *why,
                                   size_t whylen)
{
    enum og_signal og = otelgen_signal_info(s)->og;
    struct evbuffer *pb = NULL;
    const uint8_t *bytes = f->plain;
    size_t len = f->plain_len;
    struct otlp_counts counts;
    const char *reason;
    long long n = -1;

    /* The daemon's own converter and wire walk: a file is "valid" exactly when otelgate would take it. */
    if (json) {
        pb = evbuffer_new();
        if (pb == NULL) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        if (otlp_json_to_proto(og, (const char *)f->plain, f->plain_len, pb, why, whylen) != 0)
            goto out;
        len = evbuffer_get_length(pb);
        bytes = evbuffer_pullup(pb, -1);        /* once, at start-up */
    }
    if (otlp_scan(og, bytes, len, &counts, &reason) != 0)
        snprintf(why, whylen, "not a valid %s: %s", otelgen_signal_info(s)->request->short_name, reason);
    else
        n = (long long)counts.items;
out:
    if (pb != NULL)
        evbuffer_free(pb);
    return n;
}
