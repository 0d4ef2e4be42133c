/* otlp_json_decode.c: OTLP/JSON -> protobuf wire bytes, at intake. jansson parses the body into a tree; one
 * walker driven by the protobuf-c descriptors writes each message's fields in field-number order straight to
 * wire bytes, leaving out proto3 defaults as a protobuf serializer does, so the result is byte-identical to
 * the client's own protobuf encoding of the same request. No protobuf-c message is built. */
#include "autoconf.h"

#define OTLP_JSON_INTERNAL

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "otlp_json.h"
#include "util/base64.h"

/* Each message level adds at most two steps to the path: its key and an array index. */
#define OTLP_JSON_DECODE_MAX_FRAMES (2 * OTLP_JSON_MAX_DEPTH + 4)

/* One step of the path to the value being decoded, kept so an error can name where it is
 * ("resourceSpans[0].scopeSpans[0].spans[3].traceId") at no cost until then. */
struct otlp_json_decode_frame {
    const char *key;        /* borrowed from the tree; NULL for an array element */
    size_t index;
};

struct otlp_json_decode {
    struct otlp_json_buf out;
    struct otlp_json_decode_frame path[OTLP_JSON_DECODE_MAX_FRAMES];
    size_t n_path;          /* may pass the array's size; only the frames that fit are printed */
    char *err;
    size_t errlen;
};

static int otlp_json_decode_message(struct otlp_json_decode *dec, const ProtobufCMessageDescriptor *d,
                                    json_t *obj, unsigned depth);

static void otlp_json_decode_push(struct otlp_json_decode *dec, const char *key, size_t index)
{
    if (dec->n_path < OTLP_JSON_DECODE_MAX_FRAMES) {
        dec->path[dec->n_path].key = key;
        dec->path[dec->n_path].index = index;
    }
    dec->n_path++;
}

static void otlp_json_decode_pop(struct otlp_json_decode *dec)
{
    dec->n_path--;
}

/* Advances <*n> past what snprintf wrote, keeping it within <size> when the text was cut. */
static void otlp_json_decode_advance(size_t *n, int wrote, size_t size)
{
    if (wrote > 0)
        *n += (size_t)wrote;
    if (*n >= size)
        *n = size - 1;
}

/* Writes "<path>: <reason>" to the caller's err. A deep path keeps its first and last 8 steps around "...", so
 * the reason still fits a short err buffer. Always returns -1, for `return otlp_json_decode_fail(...)`. */
__attribute__((format(printf, 2, 0))) static int otlp_json_decode_vfail(struct otlp_json_decode *dec,
                                                                       const char *fmt, va_list ap)
{
    char path[320] = "", reason[256];
    size_t n = 0, frames = dec->n_path < OTLP_JSON_DECODE_MAX_FRAMES ? dec->n_path : OTLP_JSON_DECODE_MAX_FRAMES;

    for (size_t i = 0; i < frames; i++) {
        const struct otlp_json_decode_frame *fr = &dec->path[i];
        const char *dot = n != 0 ? "." : "";
        int wrote;

        if (frames > 16 && i == 8) {
            otlp_json_decode_advance(&n, snprintf(path + n, sizeof(path) - n, "..."), sizeof(path));
            i = frames - 8;
            fr = &dec->path[i];
            dot = "";
        }
        wrote = fr->key != NULL ? snprintf(path + n, sizeof(path) - n, "%s%s", dot, fr->key)
                                : snprintf(path + n, sizeof(path) - n, "[%zu]", fr->index);
        otlp_json_decode_advance(&n, wrote, sizeof(path));
    }
    vsnprintf(reason, sizeof(reason), fmt, ap);
    if (n != 0)
        otlp_json_format_error(dec->err, dec->errlen, "%s: %s", path, reason);
    else
        otlp_json_format_error(dec->err, dec->errlen, "%s", reason);
    return -1;
}

__attribute__((format(printf, 2, 3))) static int otlp_json_decode_fail(struct otlp_json_decode *dec,
                                                                      const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    otlp_json_decode_vfail(dec, fmt, ap);
    va_end(ap);
    return -1;
}

/* Same, for a problem with the key <key> of the object being walked. */
__attribute__((format(printf, 3, 4))) static int otlp_json_decode_fail_at(struct otlp_json_decode *dec,
                                                                         const char *key, const char *fmt, ...)
{
    va_list ap;

    otlp_json_decode_push(dec, key, 0);
    va_start(ap, fmt);
    otlp_json_decode_vfail(dec, fmt, ap);
    va_end(ap);
    otlp_json_decode_pop(dec);
    return -1;
}

static int otlp_json_decode_oom(struct otlp_json_decode *dec)
{
    return otlp_json_decode_fail(dec, "out of memory");
}

static const char *otlp_json_decode_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* ---- keys ---- */

/* Tells whether <key> is the lowerCamelCase JSON name of the field called <name> (protoc's rule: each '_' is
 * dropped and the letter after it capitalised). Compares in place: no name table, no allocation. */
static int otlp_json_decode_camel_matches(const char *name, const char *key)
{
    while (*name != '\0') {
        char c = *name++;

        if (c == '_') {
            if (*name >= 'a' && *name <= 'z') {
                if (*key != *name - 'a' + 'A')
                    return 0;
                name++;
                key++;
            }
            continue;
        }
        if (*key++ != c)
            return 0;
    }
    return *key == '\0';
}

/* Returns the index in <d>->fields of the field <key> names, as JSON name or as the .proto's snake_case name
 * (protobuf JSON parsers accept both), or -1 for an unknown key. Clients write keys in field order, so the
 * search starts after the previous match (<*hint>) and usually succeeds at once. */
static int otlp_json_decode_find_field(const ProtobufCMessageDescriptor *d, const char *key, unsigned *hint)
{
    unsigned i = *hint < d->n_fields ? *hint : 0;

    for (unsigned k = 0; k < d->n_fields; k++, i = i + 1 < d->n_fields ? i + 1 : 0) {
        const char *name = d->fields[i].name;

        if (name[0] != key[0])
            continue;
        if (strcmp(name, key) == 0 || otlp_json_decode_camel_matches(name, key)) {
            *hint = i + 1;
            return (int)i;
        }
    }
    return -1;
}

/* Returns the key of another member of field <i>'s oneof already collected in <slots>, or NULL. Members of one
 * oneof share the quantifier_offset (the case member of the C struct). */
static const char *otlp_json_decode_oneof_taken(const ProtobufCMessageDescriptor *d, unsigned i,
                                                json_t *const *slots, const char *const *keys)
{
    for (unsigned j = 0; j < d->n_fields; j++) {
        const ProtobufCFieldDescriptor *g = &d->fields[j];

        if (j != i && slots[j] != NULL && (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
            g->quantifier_offset == d->fields[i].quantifier_offset)
            return keys[j];
    }
    return NULL;
}

/* Sorts the members of <obj> into <slots> by field index, so fields can be written in field-number order
 * whatever the key order. Skips null values (absent) and unknown keys (the OTLP spec: receivers MUST ignore
 * unknown fields). Refuses a field given twice (as camelCase and snake_case) and two members of one oneof. */
static int otlp_json_decode_collect(struct otlp_json_decode *dec, const ProtobufCMessageDescriptor *d,
                                    json_t *obj, json_t **slots, const char **keys)
{
    unsigned hint = 0;
    const char *key, *other;
    json_t *v;

    json_object_foreach(obj, key, v) {
        int i;

        if (json_is_null(v))
            continue;
        i = otlp_json_decode_find_field(d, key, &hint);
        if (i < 0)
            continue;
        if (slots[i] != NULL)
            return otlp_json_decode_fail_at(dec, key, "field given twice (also as \"%s\")", keys[i]);
        if ((d->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
            (other = otlp_json_decode_oneof_taken(d, (unsigned)i, slots, keys)) != NULL)
            return otlp_json_decode_fail_at(dec, key, "\"%s\" is set too, and only one of them may be", other);
        slots[i] = v;
        keys[i] = key;
    }
    return 0;
}

/* ---- wire output ---- */

static uint64_t otlp_json_decode_tag(const ProtobufCFieldDescriptor *f, unsigned wire_type)
{
    return (uint64_t)f->id << 3 | wire_type;
}

/* Opens a length-delimited field: writes its tag and one byte of room for the length, which
 * otlp_json_decode_close() fills in once the content is written. Stores the length's offset in <*mark>. */
static int otlp_json_decode_open(struct otlp_json_decode *dec, const ProtobufCFieldDescriptor *f, size_t *mark)
{
    if (otlp_json_buf_reserve(&dec->out, 11) != 0)
        return otlp_json_decode_oom(dec);
    otlp_json_buf_put_varint(&dec->out, otlp_json_decode_tag(f, 2));
    *mark = dec->out.len++;
    return 0;
}

/* Writes the length of the content after <mark>. One byte covers content under 128 bytes (attributes, most
 * values); a longer one moves the content up to make room, which costs one memmove per nesting level. */
static int otlp_json_decode_close(struct otlp_json_decode *dec, size_t mark)
{
    size_t content = dec->out.len - mark - 1, need = otlp_json_varint_size(content);
    struct otlp_json_buf at;

    if (need > 1) {
        if (otlp_json_buf_reserve(&dec->out, need - 1) != 0)
            return otlp_json_decode_oom(dec);
        memmove(dec->out.data + mark + need, dec->out.data + mark + 1, content);
    }
    at.data = dec->out.data; /* a view that writes at <mark>: the room is there */
    at.len = mark;
    otlp_json_buf_put_varint(&at, content);
    dec->out.len = mark + need + content;
    return 0;
}

/* Writes <bits> in <f>'s wire encoding (varint, or fixed 32/64-bit little-endian) into reserved room. */
static void otlp_json_decode_put_scalar(struct otlp_json_buf *b, const ProtobufCFieldDescriptor *f, uint64_t bits)
{
    unsigned wire_type = otlp_json_field_wire_type(f);

    if (wire_type == 0) {
        otlp_json_buf_put_varint(b, bits);
        return;
    }
    for (unsigned i = 0; i < (wire_type == 1 ? 8u : 4u); i++)
        b->data[b->len++] = (uint8_t)(bits >> (8 * i));
}

/* ---- scalars ---- */

/* Tells whether <s> (<n> bytes) is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. Guards strtod,
 * which would also take "inf", "0x1p3" and leading blanks. */
static int otlp_json_decode_is_number(const char *s, size_t n)
{
    size_t i = 0, d;

    if (i < n && s[i] == '-')
        i++;
    for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        ;
    if (i == d || (s[d] == '0' && i - d > 1))
        return 0;
    if (i < n && s[i] == '.') {
        for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == d)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == d)
            return 0;
    }
    return i == n;
}

/* Splits an integral double into sign and magnitude. Refuses fractions and values beyond 64 bits. (Plain
 * arithmetic rather than trunc() keeps libm out of the link.) */
static int otlp_json_decode_integral(struct otlp_json_decode *dec, double x, int *neg, uint64_t *mag)
{
    double ax = x < 0 ? -x : x;

    if (!isfinite(x))
        return otlp_json_decode_fail(dec, "expected an integer, got %g", x);
    if (ax >= 18446744073709551616.0)
        return otlp_json_decode_fail(dec, "integer %g is out of range", x);
    if ((double)(uint64_t)ax != ax)
        return otlp_json_decode_fail(dec, "expected an integer, got %g", x);
    *neg = x < 0;
    *mag = (uint64_t)ax;
    return 0;
}

/* Reads a decimal integer string ("123", "-5"); as protobuf JSON parsers do, also an integral number in
 * exponent form ("1e3"). The usual form of 64-bit integers in OTLP/JSON, since JSON numbers lose precision
 * past 2^53 in most clients. */
static int otlp_json_decode_integer_text(struct otlp_json_decode *dec, const char *s, size_t n, int *neg,
                                         uint64_t *mag)
{
    size_t i = n > 0 && s[0] == '-';
    uint64_t m = 0;

    *neg = (int)i;
    if (i == n)
        return otlp_json_decode_fail(dec, "expected an integer, got \"%.*s\"", (int)(n < 32 ? n : 32), s);
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (m > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return otlp_json_decode_fail(dec, "integer \"%.*s\" is out of range", (int)(n < 32 ? n : 32), s);
        m = m * 10 + (uint64_t)(s[i] - '0');
    }
    if (i == n) {
        *mag = m;
        return 0;
    }
    if (!otlp_json_decode_is_number(s, n))
        return otlp_json_decode_fail(dec, "expected an integer, got \"%.*s\"", (int)(n < 32 ? n : 32), s);
    return otlp_json_decode_integral(dec, strtod(s, NULL), neg, mag);
}

/* Reads an integer given as a JSON number or a string, as sign and magnitude. */
static int otlp_json_decode_integer(struct otlp_json_decode *dec, const json_t *v, int *neg, uint64_t *mag)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);

        *neg = x < 0;
        *mag = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
        return 0;
    }
    if (json_is_real(v))
        return otlp_json_decode_integral(dec, json_real_value(v), neg, mag);
    if (json_is_string(v))
        return otlp_json_decode_integer_text(dec, json_string_value(v), json_string_length(v), neg, mag);
    return otlp_json_decode_fail(dec, "expected an integer, got %s", otlp_json_decode_type_name(v));
}

/* Reads a signed integer within [-<max> - 1, <max>] as two's complement bits. */
static int otlp_json_decode_signed(struct otlp_json_decode *dec, const json_t *v, uint64_t max, const char *type,
                                   uint64_t *bits)
{
    int neg;
    uint64_t mag;

    if (otlp_json_decode_integer(dec, v, &neg, &mag) != 0)
        return -1;
    if (mag > max + (uint64_t)neg)
        return otlp_json_decode_fail(dec, "%s%llu is out of range for %s", neg ? "-" : "", (unsigned long long)mag,
                                     type);
    *bits = neg ? 0 - mag : mag;
    return 0;
}

static int otlp_json_decode_unsigned(struct otlp_json_decode *dec, const json_t *v, uint64_t max, const char *type,
                                     uint64_t *bits)
{
    int neg;
    uint64_t mag;

    if (otlp_json_decode_integer(dec, v, &neg, &mag) != 0)
        return -1;
    if ((neg && mag != 0) || mag > max)
        return otlp_json_decode_fail(dec, "%s%llu is out of range for %s", neg ? "-" : "", (unsigned long long)mag,
                                     type);
    *bits = mag;
    return 0;
}

/* Reads an enum as its integer (OTLP/JSON's form), its value name (which the spec lets receivers accept) or a
 * quoted integer. Unknown integers are kept, as proto3 enums are open; unknown names are refused. */
static int otlp_json_decode_enum(struct otlp_json_decode *dec, const ProtobufCFieldDescriptor *f, const json_t *v,
                                 uint64_t *bits)
{
    const ProtobufCEnumDescriptor *ed = f->descriptor;
    const ProtobufCEnumValue *ev;
    const char *s;

    if (!json_is_string(v))
        return otlp_json_decode_signed(dec, v, INT32_MAX, "an enum", bits);
    s = json_string_value(v);
    ev = strlen(s) == json_string_length(v) ? protobuf_c_enum_descriptor_get_value_by_name(ed, s) : NULL;
    if (ev != NULL) {
        *bits = (uint64_t)(int64_t)ev->value;
        return 0;
    }
    if ((s[0] >= '0' && s[0] <= '9') || s[0] == '-') /* "2": Python's json_format takes a quoted number */
        return otlp_json_decode_signed(dec, v, INT32_MAX, "an enum", bits);
    return otlp_json_decode_fail(dec, "unknown %s value \"%.64s\"", ed->short_name, s);
}

/* Reads a double from a number, a numeric string, or "NaN", "Infinity", "-Infinity" (how proto3 JSON writes
 * the values JSON numbers cannot hold). */
static int otlp_json_decode_double(struct otlp_json_decode *dec, const json_t *v, double *x)
{
    const char *s;
    size_t n;

    if (json_is_number(v)) {
        *x = json_number_value(v);
        return 0;
    }
    if (!json_is_string(v))
        return otlp_json_decode_fail(dec, "expected a number, got %s", otlp_json_decode_type_name(v));
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 3 && memcmp(s, "NaN", 3) == 0) {
        *x = NAN;
        return 0;
    }
    if (n == 8 && memcmp(s, "Infinity", 8) == 0) {
        *x = INFINITY;
        return 0;
    }
    if (n == 9 && memcmp(s, "-Infinity", 9) == 0) {
        *x = -INFINITY;
        return 0;
    }
    if (!otlp_json_decode_is_number(s, n))
        return otlp_json_decode_fail(dec, "expected a number, got \"%.32s\"", s);
    *x = strtod(s, NULL);
    if (!isfinite(*x))
        return otlp_json_decode_fail(dec, "number \"%.32s\" is out of range", s);
    return 0;
}

/* Stores a double or float value as the bits its wire encoding carries. */
static int otlp_json_decode_floating(struct otlp_json_decode *dec, const ProtobufCFieldDescriptor *f,
                                     const json_t *v, uint64_t *bits)
{
    double x = 0;
    float y;
    uint32_t u;

    if (otlp_json_decode_double(dec, v, &x) != 0)
        return -1;
    if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
        memcpy(bits, &x, sizeof(x));
        return 0;
    }
    if (isfinite(x) && (x > FLT_MAX || x < -FLT_MAX))
        return otlp_json_decode_fail(dec, "%g is out of range for float", x);
    y = (float)x;
    memcpy(&u, &y, sizeof(u));
    *bits = u;
    return 0;
}

/* Converts the JSON value of scalar field <f> (not string, bytes or message) to the 64 bits its wire encoding
 * carries: sign-extended for int32 and enums, zigzag for sint. Returns 0, or -1 with the error set. */
static int otlp_json_decode_scalar(struct otlp_json_decode *dec, const ProtobufCFieldDescriptor *f,
                                   const json_t *v, uint64_t *bits)
{
    uint64_t u;

    switch (f->type) {
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v))
            return otlp_json_decode_fail(dec, "expected true or false, got %s", otlp_json_decode_type_name(v));
        *bits = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return otlp_json_decode_enum(dec, f, v, bits);
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_FLOAT:
        return otlp_json_decode_floating(dec, f, v, bits);
    case PROTOBUF_C_TYPE_INT32:
        return otlp_json_decode_signed(dec, v, INT32_MAX, "int32", bits);
    case PROTOBUF_C_TYPE_SFIXED32:
        if (otlp_json_decode_signed(dec, v, INT32_MAX, "int32", &u) != 0)
            return -1;
        *bits = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_SINT32:
        if (otlp_json_decode_signed(dec, v, INT32_MAX, "int32", &u) != 0)
            return -1;
        *bits = (uint32_t)(u << 1) ^ ((u >> 63) != 0 ? 0xffffffffu : 0);
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return otlp_json_decode_unsigned(dec, v, UINT32_MAX, "uint32", bits);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return otlp_json_decode_signed(dec, v, INT64_MAX, "int64", bits);
    case PROTOBUF_C_TYPE_SINT64:
        if (otlp_json_decode_signed(dec, v, INT64_MAX, "int64", &u) != 0)
            return -1;
        *bits = u << 1 ^ ((u >> 63) != 0 ? UINT64_MAX : 0);
        return 0;
    default:
        return otlp_json_decode_unsigned(dec, v, UINT64_MAX, "uint64", bits);
    }
}

/* ---- strings and bytes ---- */

static int otlp_json_decode_string(struct otlp_json_decode *dec, const ProtobufCFieldDescriptor *f,
                                   const json_t *v, int present)
{
    size_t n;

    if (!json_is_string(v))
        return otlp_json_decode_fail(dec, "expected a string, got %s", otlp_json_decode_type_name(v));
    n = json_string_length(v);
    if (n == 0 && !present)
        return 0;
    if (otlp_json_buf_reserve(&dec->out, n + 15) != 0)
        return otlp_json_decode_oom(dec);
    otlp_json_buf_put_varint(&dec->out, otlp_json_decode_tag(f, 2));
    otlp_json_buf_put_varint(&dec->out, n);
    otlp_json_buf_put(&dec->out, json_string_value(v), n);
    return 0;
}

static int otlp_json_decode_hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Tells whether <s> (<n> bytes) is all hex digits. */
static int otlp_json_decode_is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (otlp_json_decode_hex_digit((unsigned char)s[i]) < 0)
            return 0;
    return 1;
}

/* Writes id field <f> from exactly 2 * <id_len> hex digits, either case. The error says why: the proto3 JSON
 * default for bytes is base64, and clients built on a generic protobuf JSON library send that by mistake. */
static int otlp_json_decode_id(struct otlp_json_decode *dec, const ProtobufCFieldDescriptor *f, const char *s,
                               size_t n, size_t id_len)
{
    char name[64];

    if (n != 2 * id_len || !otlp_json_decode_is_hex(s, n)) {
        otlp_json_field_json_name(f, name, sizeof(name));
        return otlp_json_decode_fail(dec, "%s must be %zu hex characters (OTLP/JSON ids are hex, not base64)",
                                     name, 2 * id_len);
    }
    if (otlp_json_buf_reserve(&dec->out, 11 + id_len) != 0)
        return otlp_json_decode_oom(dec);
    otlp_json_buf_put_varint(&dec->out, otlp_json_decode_tag(f, 2));
    otlp_json_buf_put_varint(&dec->out, id_len);
    for (size_t i = 0; i < n; i += 2)
        dec->out.data[dec->out.len++] = (uint8_t)(otlp_json_decode_hex_digit((unsigned char)s[i]) << 4 |
                                                  otlp_json_decode_hex_digit((unsigned char)s[i + 1]));
    return 0;
}

/* Decodes base64 <s> (<n> bytes, padding stripped) into reserved room. Returns 0, or -1 on a bad digit. */
static int otlp_json_decode_base64_put(struct otlp_json_buf *b, const char *s, size_t n)
{
    long len = base64_decode(s, n, b->data + b->len);

    if (len < 0)
        return -1;
    b->len += (size_t)len;
    return 0;
}

/* Writes bytes field <f> from base64 text (AnyValue.bytesValue; every bytes field but the ids). */
static int otlp_json_decode_base64(struct otlp_json_decode *dec, const ProtobufCFieldDescriptor *f, const char *s,
                                   size_t n)
{
    size_t pad = 0, start = dec->out.len, out_len;

    if (n % 4 == 0)
        while (pad < 2 && n > 0 && s[n - 1] == '=') {
            n--;
            pad++;
        }
    if (n % 4 == 1 || (pad != 0 && pad != 4 - n % 4))
        return otlp_json_decode_fail(dec, "invalid base64 length (bytes are base64; only trace and span ids are hex)");
    out_len = n / 4 * 3 + (n % 4 != 0 ? n % 4 - 1 : 0);
    if (otlp_json_buf_reserve(&dec->out, out_len + 15) != 0)
        return otlp_json_decode_oom(dec);
    otlp_json_buf_put_varint(&dec->out, otlp_json_decode_tag(f, 2));
    otlp_json_buf_put_varint(&dec->out, out_len);
    if (otlp_json_decode_base64_put(&dec->out, s, n) != 0) {
        dec->out.len = start;
        return otlp_json_decode_fail(dec, "invalid base64 (bytes are base64; only trace and span ids are hex)");
    }
    return 0;
}

static int otlp_json_decode_bytes(struct otlp_json_decode *dec, const ProtobufCFieldDescriptor *f,
                                  const json_t *v, int present)
{
    size_t n, id_len = otlp_json_field_id_length(f);

    if (!json_is_string(v))
        return otlp_json_decode_fail(dec, "expected a %s string, got %s", id_len != 0 ? "hex" : "base64",
                                     otlp_json_decode_type_name(v));
    n = json_string_length(v);
    if (n == 0 && !present)
        return 0;
    if (id_len != 0)
        return otlp_json_decode_id(dec, f, json_string_value(v), n, id_len);
    return otlp_json_decode_base64(dec, f, json_string_value(v), n);
}

/* ---- fields ---- */

/* Writes one value of field <f>. <present> says whether a default value is written too (a field with presence,
 * or an element of a repeated field) or left out (a proto3 scalar, as serializers do). */
static int otlp_json_decode_value(struct otlp_json_decode *dec, const ProtobufCFieldDescriptor *f, json_t *v,
                                  unsigned depth, int present)
{
    size_t mark = 0;
    uint64_t bits;

    switch (f->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
        if (otlp_json_decode_open(dec, f, &mark) != 0 ||
            otlp_json_decode_message(dec, f->descriptor, v, depth + 1) != 0)
            return -1;
        return otlp_json_decode_close(dec, mark);
    case PROTOBUF_C_TYPE_STRING:
        return otlp_json_decode_string(dec, f, v, present);
    case PROTOBUF_C_TYPE_BYTES:
        return otlp_json_decode_bytes(dec, f, v, present);
    default:
        if (otlp_json_decode_scalar(dec, f, v, &bits) != 0)
            return -1;
        if (bits == 0 && !present) /* bits, not value: -0.0 is written, as protobuf serializers do */
            return 0;
        if (otlp_json_buf_reserve(&dec->out, 20) != 0)
            return otlp_json_decode_oom(dec);
        otlp_json_buf_put_varint(&dec->out, otlp_json_decode_tag(f, otlp_json_field_wire_type(f)));
        otlp_json_decode_put_scalar(&dec->out, f, bits);
        return 0;
    }
}

/* Writes a packed repeated scalar: one tag, one length, the values back to back (proto3's default encoding). */
static int otlp_json_decode_packed(struct otlp_json_decode *dec, const ProtobufCFieldDescriptor *f, json_t *arr)
{
    size_t mark = 0;

    if (otlp_json_decode_open(dec, f, &mark) != 0)
        return -1;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        uint64_t bits;
        int rc;

        otlp_json_decode_push(dec, NULL, i);
        rc = otlp_json_decode_scalar(dec, f, json_array_get(arr, i), &bits);
        otlp_json_decode_pop(dec);
        if (rc != 0)
            return -1;
        if (otlp_json_buf_reserve(&dec->out, 10) != 0)
            return otlp_json_decode_oom(dec);
        otlp_json_decode_put_scalar(&dec->out, f, bits);
    }
    return otlp_json_decode_close(dec, mark);
}

static int otlp_json_decode_repeated(struct otlp_json_decode *dec, const ProtobufCFieldDescriptor *f, json_t *arr,
                                     unsigned depth)
{
    if (!json_is_array(arr))
        return otlp_json_decode_fail(dec, "expected an array, got %s", otlp_json_decode_type_name(arr));
    if (json_array_size(arr) == 0)
        return 0;
    if ((f->flags & PROTOBUF_C_FIELD_FLAG_PACKED) != 0 && otlp_json_field_is_packable(f))
        return otlp_json_decode_packed(dec, f, arr);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *v = json_array_get(arr, i);
        int rc;

        otlp_json_decode_push(dec, NULL, i);
        rc = json_is_null(v) ? otlp_json_decode_fail(dec, "null is not allowed in an array")
                             : otlp_json_decode_value(dec, f, v, depth, 1);
        otlp_json_decode_pop(dec);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int otlp_json_decode_field(struct otlp_json_decode *dec, const ProtobufCMessageDescriptor *d,
                                  const ProtobufCFieldDescriptor *f, const char *key, json_t *v, unsigned depth)
{
    int rc;

    otlp_json_decode_push(dec, key, 0);
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        rc = otlp_json_decode_repeated(dec, f, v, depth);
    else
        rc = otlp_json_decode_value(dec, f, v, depth, otlp_json_field_has_presence(d, f));
    otlp_json_decode_pop(dec);
    return rc;
}

/* Writes the fields of message <d> found in JSON object <obj>, in field-number order (protoc-c sorts
 * d->fields by number), at nesting level <depth>. Refuses a non-object and nesting past OTLP_JSON_MAX_DEPTH.
 * Returns 0, or -1 with the error set and the output left partly written (the caller drops it). */
static int otlp_json_decode_message(struct otlp_json_decode *dec, const ProtobufCMessageDescriptor *d,
                                    json_t *obj, unsigned depth)
{
    json_t *slots[OTLP_JSON_MAX_FIELDS] = { NULL };
    const char *keys[OTLP_JSON_MAX_FIELDS];

    if (!json_is_object(obj))
        return otlp_json_decode_fail(dec, "expected an object (%s), got %s", d->short_name,
                                     otlp_json_decode_type_name(obj));
    if (depth > OTLP_JSON_MAX_DEPTH)
        return otlp_json_decode_fail(dec, "nested deeper than %d messages", OTLP_JSON_MAX_DEPTH);
    if (d->n_fields > OTLP_JSON_MAX_FIELDS)
        return otlp_json_decode_fail(dec, "%s has more than %d fields", d->name, OTLP_JSON_MAX_FIELDS);
    if (otlp_json_decode_collect(dec, d, obj, slots, keys) != 0)
        return -1;
    for (unsigned i = 0; i < d->n_fields; i++)
        if (slots[i] != NULL && otlp_json_decode_field(dec, d, &d->fields[i], keys[i], slots[i], depth) != 0)
            return -1;
    return 0;
}

/* Costs about 1.2x jansson's parse alone (figures in otlp_json.c): the tree, not the walk, is the price. */
int otlp_json_to_proto(enum og_signal signal, const char *json, size_t len, struct evbuffer *out, char *err,
                       size_t errlen)
{
    const ProtobufCMessageDescriptor *d = otlp_json_request_descriptor(signal);
    struct otlp_json_decode dec = { .err = err, .errlen = errlen };
    json_error_t jerr;
    json_t *root;
    int rc;

    if (d == NULL) {
        otlp_json_format_error(err, errlen, "unknown signal %d", (int)signal);
        return -1;
    }
    if (len == 0) {
        otlp_json_format_error(err, errlen, "empty body is not JSON (an empty request is {})");
        return -1;
    }
    /* Duplicate keys are refused as protobuf's own JSON parsers do; \u0000 is valid in a string value. */
    root = json_loadb(json, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        otlp_json_format_error(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column,
                               jerr.text);
        return -1;
    }
    rc = otlp_json_buf_reserve(&dec.out, len / 2 + 64) != 0 ? otlp_json_decode_oom(&dec)
                                                             : otlp_json_decode_message(&dec, d, root, 1);
    json_decref(root);
    if (rc == 0 && otlp_json_buf_move_to(&dec.out, out) != 0)
        rc = otlp_json_decode_oom(&dec);
    otlp_json_buf_dispose(&dec.out);
    return rc;
}
