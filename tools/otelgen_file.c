/* otelgen_file.c: payload files, read once at start-up: suffix to kind, gunzip, gRPC prefix, and counting
 * items (protobuf-c unpack for protobuf; a small structural scan for OTLP/JSON, which needs no JSON
 * library: it only has to find the objects inside "spans", "dataPoints" or "logRecords" arrays). */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "otelgen_file.h"

#define OTELGEN_FILE_MAX (1024u * 1024 * 1024)
#define OTELGEN_FILE_JSON_DEPTH 256

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

/* Skips a JSON string starting at s[*i] == '"'; leaves *i after the closing quote. */
static int otelgen_file_json_skip_string(const uint8_t *s, size_t n, size_t *i)
{
    for (size_t j = *i + 1; j < n; j++) {
        if (s[j] == '\\')
            j++;
        else if (s[j] == '"') {
            *i = j + 1;
            return 0;
        }
    }
    return -1;
}

static size_t otelgen_file_json_skip_space(const uint8_t *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Counts the objects that are elements of arrays stored under <key>. Returns -1 on unbalanced brackets or
 * an unterminated string: enough checking to not print a wrong count for a truncated file. */
static long long otelgen_file_json_count(const uint8_t *s, size_t n, const char *key)
{
    bool counting[OTELGEN_FILE_JSON_DEPTH];     /* per open bracket: an array whose objects count */
    char open[OTELGEN_FILE_JSON_DEPTH];
    size_t depth = 0, keylen = strlen(key);
    bool key_matches = false;                   /* the last key read was <key> */
    long long count = 0;

    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c == '"') {
            size_t start = i;
            if (otelgen_file_json_skip_string(s, n, &i) != 0)
                return -1;
            size_t next = otelgen_file_json_skip_space(s, n, i);
            if (next < n && s[next] == ':')
                key_matches = i - start - 2 == keylen && memcmp(s + start + 1, key, keylen) == 0;
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth == OTELGEN_FILE_JSON_DEPTH)
                return -1;
            if (c == '{' && depth > 0 && counting[depth - 1])
                count++;
            counting[depth] = c == '[' && key_matches;
            open[depth++] = (char)c;
            key_matches = false;
        } else if (c == '}' || c == ']') {
            if (depth == 0 || open[depth - 1] != (c == '}' ? '{' : '['))
                return -1;
            depth--;
        } else if (c == ',') {
            key_matches = false;
        }
        i++;
    }
    return depth == 0 ? count : -1;
}

long long otelgen_file_count_items(const struct otelgen_file *f, enum otelgen_signal s, bool json, char *why,
                                   size_t whylen)
{
    const struct otelgen_signal_info *info = otelgen_signal_info(s);
    ProtobufCMessage *m;
    long long n;

    if (json) {
        n = otelgen_file_json_count(f->plain, f->plain_len, info->json_items_key);
        if (n < 0)
            snprintf(why, whylen, "not valid JSON (unbalanced brackets or an unterminated string)");
        return n;
    }
    m = protobuf_c_message_unpack(info->request, NULL, f->plain_len, f->plain);
    if (m == NULL) {
        snprintf(why, whylen, "not a valid %s (protobuf-c cannot unpack it)", info->request->short_name);
        return -1;
    }
    n = (long long)otelgen_signal_count_items(s, m);
    protobuf_c_message_free_unpacked(m, NULL);
    return n;
}
