/* otlp_json_encode.c: protobuf wire bytes -> OTLP/JSON text, for the file and debug exporters. A walker driven
 * by the protobuf-c descriptors reads each message twice, once to find its fields and check the wire format,
 * once to write them in field-number order, so the text does not depend on the order a client's serializer
 * used, and a sum of 0.0 present on the wire stays present. No protobuf-c message is built. */
#include "autoconf.h"

#define OTLP_JSON_INTERNAL

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_json.h"

struct otlp_json_encode {
    struct otlp_json_buf out;
    char *err;
    size_t errlen;
};

/* One field as read from the wire. */
struct otlp_json_encode_wire {
    uint32_t id;
    unsigned wire_type;
    uint64_t value;             /* wire types 0, 1, 5: the varint or the fixed bits */
    const uint8_t *data;        /* wire type 2: the payload, borrowed from the input */
    size_t len;
};

/* Where the occurrences of one field of the message being written lie. For canonical input the run from
 * first to last holds only that field, so the second pass reads each byte once. */
struct otlp_json_encode_seen {
    size_t count;
    size_t first;               /* offset of the first occurrence's tag */
    size_t last;                /* offset of the last occurrence's tag */
};

static int otlp_json_encode_message(struct otlp_json_encode *enc, const ProtobufCMessageDescriptor *d,
                                    const uint8_t *p, size_t len, unsigned depth);

__attribute__((format(printf, 2, 3))) static int otlp_json_encode_fail(struct otlp_json_encode *enc,
                                                                      const char *fmt, ...)
{
    char reason[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    otlp_json_format_error(enc->err, enc->errlen, "%s", reason);
    return -1;
}

static int otlp_json_encode_oom(struct otlp_json_encode *enc)
{
    return otlp_json_encode_fail(enc, "out of memory");
}

/* ---- wire input ---- */

/* Reads a varint of at most 10 bytes at <*pos>. Returns 0 and advances <*pos>, or -1 when it is cut short. */
static int otlp_json_encode_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;

    for (unsigned shift = 0; shift <= 63 && *pos < len; shift += 7) {
        uint8_t b = p[(*pos)++];

        r |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

static uint64_t otlp_json_encode_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* Reads the field at <*pos> of message bytes <p>. Returns 0 and advances <*pos>, or -1 with a static reason in
 * <*why> for malformed bytes: a cut-short value, a length past the end, field number 0, groups (which proto3
 * has not), wire types 6 and 7. */
static int otlp_json_encode_next(const uint8_t *p, size_t len, size_t *pos, struct otlp_json_encode_wire *w,
                                 const char **why)
{
    uint64_t tag, n;
    unsigned size;

    *why = "truncated field";
    if (otlp_json_encode_varint(p, len, pos, &tag) != 0)
        return -1;
    if (tag >> 3 == 0 || tag >> 3 > 0x1fffffff) {
        *why = "invalid field number";
        return -1;
    }
    w->id = (uint32_t)(tag >> 3);
    w->wire_type = (unsigned)(tag & 7);
    switch (w->wire_type) {
    case 0:
        return otlp_json_encode_varint(p, len, pos, &w->value);
    case 1:
    case 5:
        size = w->wire_type == 1 ? 8 : 4;
        if (len - *pos < size)
            return -1;
        w->value = otlp_json_encode_le(p + *pos, size);
        *pos += size;
        return 0;
    case 2:
        if (otlp_json_encode_varint(p, len, pos, &n) != 0 || n > len - *pos)
            return -1;
        w->data = p + *pos;
        w->len = (size_t)n;
        *pos += (size_t)n;
        return 0;
    default:
        *why = w->wire_type == 3 || w->wire_type == 4 ? "groups are not supported" : "invalid wire type";
        return -1;
    }
}

/* Finds and checks the fields of message <d> in <p>: fills <seen> per field index. Unknown fields are checked
 * for structure and skipped (JSON cannot carry them). A known field with the wrong wire type is refused, as
 * protobuf-c refuses it; a repeated scalar may come packed or not. */
static int otlp_json_encode_scan(struct otlp_json_encode *enc, const ProtobufCMessageDescriptor *d,
                                 const uint8_t *p, size_t len, struct otlp_json_encode_seen *seen)
{
    size_t pos = 0;

    memset(seen, 0, sizeof(seen[0]) * d->n_fields);
    while (pos < len) {
        size_t start = pos;
        struct otlp_json_encode_wire w;
        const ProtobufCFieldDescriptor *f;
        const char *why;
        unsigned want;

        if (otlp_json_encode_next(p, len, &pos, &w, &why) != 0)
            return otlp_json_encode_fail(enc, "%s: %s at byte %zu of %zu", d->short_name, why, start, len);
        f = protobuf_c_message_descriptor_get_field(d, w.id);
        if (f == NULL)
            continue;
        want = otlp_json_field_wire_type(f);
        if (w.wire_type != want &&
            !(w.wire_type == 2 && f->label == PROTOBUF_C_LABEL_REPEATED && otlp_json_field_is_packable(f)))
            return otlp_json_encode_fail(enc, "%s.%s: wire type %u, expected %u", d->short_name, f->name,
                                         w.wire_type, want);
        if (seen[f - d->fields].count++ == 0)
            seen[f - d->fields].first = start;
        seen[f - d->fields].last = start;
    }
    return 0;
}

/* Tells whether oneof member <i> was overridden by another member of its oneof later on the wire (the last
 * one read wins in protobuf). Members of one oneof share the quantifier_offset. */
static int otlp_json_encode_superseded(const ProtobufCMessageDescriptor *d, unsigned i,
                                       const struct otlp_json_encode_seen *seen)
{
    if ((d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) == 0)
        return 0;
    for (unsigned j = 0; j < d->n_fields; j++) {
        const ProtobufCFieldDescriptor *g = &d->fields[j];

        if (j != i && seen[j].count != 0 && seen[j].last > seen[i].last &&
            (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 && g->quantifier_offset == d->fields[i].quantifier_offset)
            return 1;
    }
    return 0;
}

/* ---- text output ---- */

static void otlp_json_encode_put_u64(struct otlp_json_buf *b, uint64_t v)
{
    char tmp[20];
    unsigned n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        b->data[b->len++] = (uint8_t)tmp[--n];
}

static void otlp_json_encode_put_i64(struct otlp_json_buf *b, uint64_t bits)
{
    if (bits >> 63 != 0) {
        b->data[b->len++] = '-';
        bits = 0 - bits;
    }
    otlp_json_encode_put_u64(b, bits);
}

/* Finds the fewest significant digits (into <digits>, without trailing zeros) that read back to <x>, and the
 * decimal exponent of the first one. The correctly rounded 15-digit form, zeros stripped, is the shortest when
 * any form of up to 15 digits round-trips; 16 or 17 digits cover the rest. Subnormals carry fewer bits, so
 * their search starts at 1 digit. Returns the digit count. */
static int otlp_json_encode_shortest(double x, int is_float, char *digits, int *exp10)
{
    double ax = x < 0 ? -x : x;
    char tmp[40];
    int n = 0;

    for (int prec = ax < (is_float ? FLT_MIN : DBL_MIN) ? 1 : is_float ? 6 : 15; prec <= 17; prec++) {
        double back;

        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, x);
        back = strtod(tmp, NULL);
        if (is_float ? (float)back == (float)x : back == x)
            break;
    }
    for (const char *t = tmp + (tmp[0] == '-'); *t != 'e'; t++)
        if (*t != '.')
            digits[n++] = *t;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    *exp10 = atoi(strchr(tmp, 'e') + 1);
    return n;
}

/* Writes a finite non-zero <x> as Python's repr() does (the reference payloads' generator, and what a reader
 * expects of a double): plain notation with at least one fractional digit for exponents -4..15, else
 * d.ddde+XX. So the payloads convert to the very text they came from. */
static void otlp_json_encode_put_finite(struct otlp_json_buf *b, double x, int is_float)
{
    char digits[20];
    int exp10, n = otlp_json_encode_shortest(x, is_float, digits, &exp10);

    if (x < 0)
        b->data[b->len++] = '-';
    if (exp10 < -4 || exp10 >= 16) {
        b->data[b->len++] = (uint8_t)digits[0];
        if (n > 1)
            b->data[b->len++] = '.';
        otlp_json_buf_put(b, digits + 1, (size_t)n - 1);
        b->len += (size_t)snprintf((char *)b->data + b->len, 6, "e%c%02d", exp10 < 0 ? '-' : '+',
                                   exp10 < 0 ? -exp10 : exp10);
        return;
    }
    if (exp10 < 0) { /* 0.000ddd */
        otlp_json_buf_put(b, "0.000", (size_t)(1 - exp10));
        otlp_json_buf_put(b, digits, (size_t)n);
    } else if (n > exp10 + 1) { /* ddd.ddd */
        otlp_json_buf_put(b, digits, (size_t)exp10 + 1);
        b->data[b->len++] = '.';
        otlp_json_buf_put(b, digits + exp10 + 1, (size_t)(n - exp10 - 1));
    } else { /* ddd000.0 */
        otlp_json_buf_put(b, digits, (size_t)n);
        otlp_json_buf_put(b, "0000000000000000", (size_t)(exp10 + 1 - n));
        otlp_json_buf_put(b, ".0", 2);
    }
}

/* Writes a double (or float); the values JSON numbers cannot hold become the proto3 JSON strings. -0.0 keeps
 * its fraction, since a parser reads "-0" as the integer 0. Assumes the C numeric locale, as the daemon never
 * sets LC_NUMERIC. Needs 32 bytes of reserved room. */
static void otlp_json_encode_put_double(struct otlp_json_buf *b, double x, int is_float)
{
    if (isnan(x))
        otlp_json_buf_put(b, "\"NaN\"", 5);
    else if (isinf(x))
        otlp_json_buf_put(b, x > 0 ? "\"Infinity\"" : "\"-Infinity\"", x > 0 ? 10 : 11);
    else if (x == 0)
        otlp_json_buf_put(b, signbit(x) ? "-0.0" : "0.0", signbit(x) ? 4 : 3);
    else
        otlp_json_encode_put_finite(b, x, is_float);
}

/* Writes scalar <bits> of field <f> (not string, bytes, message): 32-bit integers as numbers, 64-bit ones as
 * strings (OTLP/JSON, since JavaScript numbers hold only 53 bits), enums as integers. */
static int otlp_json_encode_scalar(struct otlp_json_encode *enc, const ProtobufCFieldDescriptor *f, uint64_t bits)
{
    struct otlp_json_buf *b = &enc->out;
    uint32_t u = (uint32_t)bits;
    double x;
    float y;

    if (otlp_json_buf_reserve(b, 48) != 0)
        return otlp_json_encode_oom(enc);
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM: /* the low 32 bits, sign-extended */
        otlp_json_encode_put_i64(b, (uint64_t)(u ^ 0x80000000u) - 0x80000000u);
        return 0;
    case PROTOBUF_C_TYPE_SINT32:
        otlp_json_encode_put_i64(b, (uint64_t)(u >> 1) ^ (0 - (uint64_t)(u & 1)));
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        otlp_json_encode_put_u64(b, u);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        return otlp_json_buf_add(b, bits != 0 ? "true" : "false", bits != 0 ? 4 : 5);
    case PROTOBUF_C_TYPE_DOUBLE:
        memcpy(&x, &bits, sizeof(x));
        otlp_json_encode_put_double(b, x, 0);
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
        memcpy(&y, &u, sizeof(y));
        otlp_json_encode_put_double(b, y, 1);
        return 0;
    default:
        break;
    }
    b->data[b->len++] = '"';
    if (f->type == PROTOBUF_C_TYPE_SINT64)
        otlp_json_encode_put_i64(b, bits >> 1 ^ (0 - (bits & 1)));
    else if (f->type == PROTOBUF_C_TYPE_INT64 || f->type == PROTOBUF_C_TYPE_SFIXED64)
        otlp_json_encode_put_i64(b, bits);
    else
        otlp_json_encode_put_u64(b, bits);
    b->data[b->len++] = '"';
    return 0;
}

/* Returns the length of the valid UTF-8 sequence at <s> (<n> bytes left, s[0] >= 0x80), or 0 when it is not
 * one: a stray continuation byte, a cut-short or overlong sequence, a surrogate, a code point past U+10FFFF. */
static size_t otlp_json_encode_utf8_len(const uint8_t *s, size_t n)
{
    size_t k;
    uint32_t cp;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        k = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        k = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        k = 4;
    else
        return 0;
    if (n < k)
        return 0;
    cp = s[0] & (0x7fu >> k);
    for (size_t j = 1; j < k; j++) {
        if ((s[j] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[j] & 0x3fu);
    }
    if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return k;
}

/* Writes <s> as a JSON string: quote, backslash and control characters escaped, valid UTF-8 copied as is, and
 * each byte of invalid UTF-8 (protobuf-c does not check strings) replaced by U+FFFD, so the output is always
 * valid JSON. Room is reserved per 1 KiB of input, so a long string grows the buffer by what it needs, not by
 * the 6x an all-escapes string would. */
static int otlp_json_encode_string(struct otlp_json_encode *enc, const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef", short_escapes[] = "\b\f\n\r\t\"\\";
    struct otlp_json_buf *b = &enc->out;

    if (otlp_json_buf_add(b, "\"", 1) != 0)
        return otlp_json_encode_oom(enc);
    for (size_t i = 0, k, chunk_end = 0; i < n; i += k) {
        uint8_t c = s[i];
        const char *e;

        if (i >= chunk_end) { /* 6 bytes per input byte, and 3 more for a sequence across the chunk's end */
            chunk_end = i + (n - i < 1024 ? n - i : 1024);
            if (otlp_json_buf_reserve(b, 6 * (chunk_end - i) + 8) != 0)
                return otlp_json_encode_oom(enc);
        }
        k = 1;
        if (c >= 0x80 && (k = otlp_json_encode_utf8_len(s + i, n - i)) == 0) {
            otlp_json_buf_put(b, "\xef\xbf\xbd", 3); /* U+FFFD raw, as it reads back from the JSON */
            k = 1;
        } else if (c >= 0x80 || (c >= 0x20 && c != '"' && c != '\\')) {
            otlp_json_buf_put(b, s + i, k);
        } else if (c != 0 && (e = strchr(short_escapes, c)) != NULL) {
            b->data[b->len++] = '\\';
            b->data[b->len++] = (uint8_t)"bfnrt\"\\"[e - short_escapes];
        } else {
            uint8_t u[6] = { '\\', 'u', '0', '0', (uint8_t)hex[c >> 4], (uint8_t)hex[c & 15] };

            otlp_json_buf_put(b, u, sizeof(u));
        }
    }
    return otlp_json_buf_add(b, "\"", 1) != 0 ? otlp_json_encode_oom(enc) : 0;
}

/* Writes bytes as proto3 JSON does: standard base64 with padding; ids (trace_id, span_id, parent_span_id) as
 * lowercase hex, as OTLP/JSON requires. */
static int otlp_json_encode_bytes(struct otlp_json_encode *enc, const ProtobufCFieldDescriptor *f,
                                  const uint8_t *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    struct otlp_json_buf *b = &enc->out;

    if (n > SIZE_MAX / 4 || otlp_json_buf_reserve(b, 2 * n + 8) != 0)
        return otlp_json_encode_oom(enc);
    b->data[b->len++] = '"';
    if (otlp_json_field_id_length(f) != 0) {
        for (size_t i = 0; i < n; i++) {
            b->data[b->len++] = (uint8_t)hex[s[i] >> 4];
            b->data[b->len++] = (uint8_t)hex[s[i] & 15];
        }
    } else {
        for (size_t i = 0; i < n; i += 3) {
            uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);

            b->data[b->len++] = (uint8_t)b64[v >> 18];
            b->data[b->len++] = (uint8_t)b64[v >> 12 & 63];
            b->data[b->len++] = (uint8_t)(i + 1 < n ? b64[v >> 6 & 63] : '=');
            b->data[b->len++] = (uint8_t)(i + 2 < n ? b64[v & 63] : '=');
        }
    }
    b->data[b->len++] = '"';
    return 0;
}

/* Writes `"jsonName":` (preceded by a comma unless <first>). */
static int otlp_json_encode_key(struct otlp_json_encode *enc, const ProtobufCFieldDescriptor *f, int first)
{
    struct otlp_json_buf *b = &enc->out;
    size_t n = strlen(f->name);

    if (otlp_json_buf_reserve(b, n + 5) != 0)
        return otlp_json_encode_oom(enc);
    if (!first)
        b->data[b->len++] = ',';
    b->data[b->len++] = '"';
    b->len += otlp_json_field_json_name(f, (char *)b->data + b->len, n + 1);
    b->data[b->len++] = '"';
    b->data[b->len++] = ':';
    return 0;
}

/* ---- fields ---- */

/* Writes one value <w> of field <f> at nesting level <depth>. */
static int otlp_json_encode_value(struct otlp_json_encode *enc, const ProtobufCFieldDescriptor *f,
                                  const struct otlp_json_encode_wire *w, unsigned depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
        return otlp_json_encode_message(enc, f->descriptor, w->data, w->len, depth + 1);
    case PROTOBUF_C_TYPE_STRING:
        return otlp_json_encode_string(enc, w->data, w->len);
    case PROTOBUF_C_TYPE_BYTES:
        return otlp_json_encode_bytes(enc, f, w->data, w->len);
    default:
        return otlp_json_encode_scalar(enc, f, w->value);
    }
}

/* Writes the values of one packed run of scalar field <f>, each preceded by a comma unless it is the first of
 * the array; counts them in <*count>. Refuses a run that is cut short. */
static int otlp_json_encode_packed(struct otlp_json_encode *enc, const ProtobufCFieldDescriptor *f,
                                   const uint8_t *p, size_t len, size_t *count)
{
    unsigned wire_type = otlp_json_field_wire_type(f), size = wire_type == 1 ? 8 : 4;
    size_t pos = 0;

    while (pos < len) {
        uint64_t v;

        if (wire_type == 0 && otlp_json_encode_varint(p, len, &pos, &v) != 0)
            return otlp_json_encode_fail(enc, "%s: truncated packed varint", f->name);
        if (wire_type != 0) {
            if (len - pos < size)
                return otlp_json_encode_fail(enc, "%s: packed length is not a multiple of %u", f->name, size);
            v = otlp_json_encode_le(p + pos, size);
            pos += size;
        }
        if ((*count)++ != 0 && otlp_json_buf_add(&enc->out, ",", 1) != 0)
            return otlp_json_encode_oom(enc);
        if (otlp_json_encode_scalar(enc, f, v) != 0)
            return -1;
    }
    return 0;
}

/* Writes the JSON array of repeated field <f> from its occurrences in <p> (<s>), packed or not. Stores the
 * number of values in <*count>: a field seen only as empty packed runs has none and must be left out. */
static int otlp_json_encode_repeated(struct otlp_json_encode *enc, const ProtobufCFieldDescriptor *f,
                                     const struct otlp_json_encode_seen *s, const uint8_t *p, size_t len,
                                     unsigned depth, size_t *count)
{
    size_t pos = s->first;

    *count = 0;
    if (otlp_json_buf_add(&enc->out, "[", 1) != 0)
        return otlp_json_encode_oom(enc);
    while (pos <= s->last) {
        struct otlp_json_encode_wire w;
        const char *why;

        if (otlp_json_encode_next(p, len, &pos, &w, &why) != 0)
            return otlp_json_encode_fail(enc, "%s: %s", f->name, why);
        if (w.id != f->id)
            continue;
        if (w.wire_type == 2 && otlp_json_field_is_packable(f)) {
            if (otlp_json_encode_packed(enc, f, w.data, w.len, count) != 0)
                return -1;
            continue;
        }
        if ((*count)++ != 0 && otlp_json_buf_add(&enc->out, ",", 1) != 0)
            return otlp_json_encode_oom(enc);
        if (otlp_json_encode_value(enc, f, &w, depth) != 0)
            return -1;
    }
    return otlp_json_buf_add(&enc->out, "]", 1) != 0 ? otlp_json_encode_oom(enc) : 0;
}

/* Writes a singular message field that occurs more than once: protobuf merges the occurrences, and merging
 * equals parsing their payloads back to back, so they are joined into one temporary copy. Only non-canonical
 * input pays for this. */
static int otlp_json_encode_merged(struct otlp_json_encode *enc, const ProtobufCFieldDescriptor *f,
                                   const struct otlp_json_encode_seen *s, const uint8_t *p, size_t len,
                                   unsigned depth)
{
    size_t pos = s->first, n = 0;
    uint8_t *joined = malloc(s->last - s->first + len - s->last);
    struct otlp_json_encode_wire w;
    const char *why;
    int rc;

    if (joined == NULL)
        return otlp_json_encode_oom(enc);
    while (pos <= s->last && otlp_json_encode_next(p, len, &pos, &w, &why) == 0)
        if (w.id == f->id) {
            memcpy(joined + n, w.data, w.len);
            n += w.len;
        }
    rc = otlp_json_encode_message(enc, f->descriptor, joined, n, depth + 1);
    free(joined);
    return rc;
}

/* Writes singular field <f> of <d> from its last occurrence (the one protobuf keeps). Stores 0 in <*wrote>
 * for a proto3 default of a field without presence, which a serializer would not have written. */
static int otlp_json_encode_singular(struct otlp_json_encode *enc, const ProtobufCMessageDescriptor *d,
                                     const ProtobufCFieldDescriptor *f, const struct otlp_json_encode_seen *s,
                                     const uint8_t *p, size_t len, unsigned depth, int *wrote)
{
    struct otlp_json_encode_wire w;
    size_t pos = s->last;
    const char *why;
    uint64_t value;

    *wrote = 1;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE && s->count > 1)
        return otlp_json_encode_merged(enc, f, s, p, len, depth);
    if (otlp_json_encode_next(p, len, &pos, &w, &why) != 0)
        return otlp_json_encode_fail(enc, "%s: %s", f->name, why);
    value = w.value;
    if (f->type == PROTOBUF_C_TYPE_INT32 || f->type == PROTOBUF_C_TYPE_SINT32 || f->type == PROTOBUF_C_TYPE_UINT32 ||
        f->type == PROTOBUF_C_TYPE_ENUM)
        value = (uint32_t)value; /* protobuf reads only the low 32 bits of these varints */
    if (!otlp_json_field_has_presence(d, f) && (w.wire_type == 2 ? w.len == 0 : value == 0)) {
        *wrote = 0;
        return 0;
    }
    return otlp_json_encode_value(enc, f, &w, depth);
}

/* Writes `"name":value` for field index <i> of <d> found in <p> as <seen>, preceded by a comma unless <*first>;
 * writes nothing for a default, an empty packed run or a oneof member overridden later. */
static int otlp_json_encode_field(struct otlp_json_encode *enc, const ProtobufCMessageDescriptor *d, unsigned i,
                                  const struct otlp_json_encode_seen *seen, const uint8_t *p, size_t len,
                                  unsigned depth, int *first)
{
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    size_t mark = enc->out.len, count = 1;
    int wrote = 1, rc;

    if (f->label != PROTOBUF_C_LABEL_REPEATED && otlp_json_encode_superseded(d, i, seen))
        return 0;
    if (otlp_json_encode_key(enc, f, *first) != 0)
        return -1;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        rc = otlp_json_encode_repeated(enc, f, &seen[i], p, len, depth, &count);
    else
        rc = otlp_json_encode_singular(enc, d, f, &seen[i], p, len, depth, &wrote);
    if (rc != 0)
        return -1;
    if (count == 0 || !wrote)
        enc->out.len = mark;
    else
        *first = 0;
    return 0;
}

/* Writes message <d> held in <p> (<len> bytes) as a JSON object at nesting level <depth>. Refuses malformed
 * bytes and nesting past OTLP_JSON_MAX_DEPTH. Returns 0, or -1 with the error set and the output left partly
 * written (the caller drops it). */
static int otlp_json_encode_message(struct otlp_json_encode *enc, const ProtobufCMessageDescriptor *d,
                                    const uint8_t *p, size_t len, unsigned depth)
{
    struct otlp_json_encode_seen seen[OTLP_JSON_MAX_FIELDS];
    int first = 1;

    if (depth > OTLP_JSON_MAX_DEPTH)
        return otlp_json_encode_fail(enc, "%s: nested deeper than %d messages", d->short_name,
                                     OTLP_JSON_MAX_DEPTH);
    if (d->n_fields > OTLP_JSON_MAX_FIELDS)
        return otlp_json_encode_fail(enc, "%s has more than %d fields", d->name, OTLP_JSON_MAX_FIELDS);
    if (otlp_json_encode_scan(enc, d, p, len, seen) != 0)
        return -1;
    if (otlp_json_buf_add(&enc->out, "{", 1) != 0)
        return otlp_json_encode_oom(enc);
    for (unsigned i = 0; i < d->n_fields; i++)
        if (seen[i].count != 0 && otlp_json_encode_field(enc, d, i, seen, p, len, depth, &first) != 0)
            return -1;
    return otlp_json_buf_add(&enc->out, "}", 1) != 0 ? otlp_json_encode_oom(enc) : 0;
}

int otlp_proto_to_json(enum og_signal signal, const uint8_t *pb, size_t len, struct evbuffer *out, char *err,
                       size_t errlen)
{
    const ProtobufCMessageDescriptor *d = otlp_json_request_descriptor(signal);
    struct otlp_json_encode enc = { .err = err, .errlen = errlen };
    int rc;

    if (d == NULL) {
        otlp_json_format_error(err, errlen, "unknown signal %d", (int)signal);
        return -1;
    }
    /* JSON runs about twice the wire size on the reference payloads. */
    rc = len > SIZE_MAX / 4 || otlp_json_buf_reserve(&enc.out, 2 * len + 64) != 0
             ? otlp_json_encode_oom(&enc)
             : otlp_json_encode_message(&enc, d, pb, len, 1);
    if (rc == 0 && otlp_json_buf_move_to(&enc.out, out) != 0)
        rc = otlp_json_encode_oom(&enc);
    otlp_json_buf_dispose(&enc.out);
    return rc;
}
