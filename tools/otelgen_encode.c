/* otelgen_encode.c: encodes a generated export request once, as protobuf (protobuf-c packs it) or as
 * OTLP/JSON (written here from the protobuf-c descriptors), and records the offset of every id. Runs once
 * per run, so it favours plain code over speed; the per-request work is otelgen_payload's in-place stamp. */
#include "autoconf.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otelgen_encode.h"

/* A body is addressed with 32-bit offsets; a generated request is far smaller (1000 spans: about 0.5 MB). */
#define OTELGEN_ENCODE_MAX_BODY UINT32_MAX

struct otelgen_encode_state {
    ProtobufCBuffer base;       /* first member: protobuf-c hands &base back to otelgen_encode_on_append */
    const struct otelgen_ids *ids;
    uint8_t *data;
    size_t len, cap;
    struct otelgen_id_site *sites;
    size_t n_sites, cap_sites;
    bool failed;
};

static void otelgen_encode_put(struct otelgen_encode_state *st, const void *p, size_t n)
{
    if (st->failed || n == 0)
        return;
    if (n > OTELGEN_ENCODE_MAX_BODY - st->len) {
        st->failed = true;
        return;
    }
    if (st->len + n > st->cap) {
        size_t cap = st->cap != 0 ? st->cap : 4096;
        while (cap < st->len + n)
            cap *= 2;
        uint8_t *data = realloc(st->data, cap);
        if (data == NULL) {
            st->failed = true;
            return;
        }
        st->data = data;
        st->cap = cap;
    }
    memcpy(st->data + st->len, p, n);
    st->len += n;
}

static void otelgen_encode_puts(struct otelgen_encode_state *st, const char *s)
{
    otelgen_encode_put(st, s, strlen(s));
}

static void otelgen_encode_printf(struct otelgen_encode_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void otelgen_encode_printf(struct otelgen_encode_state *st, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        st->failed = true;
    else
        otelgen_encode_put(st, buf, (size_t)n);
}

/* Is <p> one of the ids of the message? Comparing addresses as integers: the arrays are separate objects. */
static bool otelgen_encode_find_id(const struct otelgen_ids *ids, const uint8_t *p, size_t len,
                                   enum otelgen_id_kind *kind, uint32_t *index)
{
    uintptr_t a = (uintptr_t)p;

    if (len == 8 && ids->n_span > 0 && a >= (uintptr_t)ids->span[0] && a < (uintptr_t)ids->span[ids->n_span] &&
        (a - (uintptr_t)ids->span[0]) % 8 == 0) {
        *kind = OTELGEN_ID_SPAN;
        *index = (uint32_t)((a - (uintptr_t)ids->span[0]) / 8);
        return true;
    }
    if (len == 16 && ids->n_trace > 0 && a >= (uintptr_t)ids->trace[0] &&
        a < (uintptr_t)ids->trace[ids->n_trace] && (a - (uintptr_t)ids->trace[0]) % 16 == 0) {
        *kind = OTELGEN_ID_TRACE;
        *index = (uint32_t)((a - (uintptr_t)ids->trace[0]) / 16);
        return true;
    }
    return false;
}

/* Notes an id that is about to be written at the current end of the body. */
static void otelgen_encode_note_id(struct otelgen_encode_state *st, const uint8_t *p, size_t len, bool hex)
{
    enum otelgen_id_kind kind;
    uint32_t index;

    if (st->failed || !otelgen_encode_find_id(st->ids, p, len, &kind, &index))
        return;
    if (st->n_sites == st->cap_sites) {
        size_t cap = st->cap_sites != 0 ? st->cap_sites * 2 : 256;
        struct otelgen_id_site *sites = realloc(st->sites, cap * sizeof *sites);
        if (sites == NULL) {
            st->failed = true;
            return;
        }
        st->sites = sites;
        st->cap_sites = cap;
    }
    st->sites[st->n_sites++] = (struct otelgen_id_site){
        .offset = (uint32_t)st->len, .index = index, .kind = (uint8_t)kind, .hex = hex,
    };
}

/* Every id must have been seen at least once, or a request would repeat it instead of getting a new one. */
static int otelgen_encode_check_ids(const struct otelgen_encode_state *st, char *err, size_t errlen)
{
    size_t n = st->ids->n_span + st->ids->n_trace;
    bool *seen = calloc(n != 0 ? n : 1, sizeof *seen);

    if (seen == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < st->n_sites; i++)
        seen[st->sites[i].kind == OTELGEN_ID_SPAN ? st->sites[i].index : st->ids->n_span + st->sites[i].index] = true;
    for (size_t i = 0; i < n; i++) {
        if (!seen[i]) {
            snprintf(err, errlen, "internal error: %s id %zu is not in the encoded request",
                     i < st->ids->n_span ? "span" : "trace", i < st->ids->n_span ? i : i - st->ids->n_span);
            free(seen);
            return -1;
        }
    }
    free(seen);
    return 0;
}

static int otelgen_encode_finish(struct otelgen_encode_state *st, struct otelgen_encoded *out, char *err,
                                 size_t errlen)
{
    if (st->failed) {
        snprintf(err, errlen, "cannot encode the request: out of memory or larger than 4 GiB");
    } else if (otelgen_encode_check_ids(st, err, errlen) == 0) {
        *out = (struct otelgen_encoded){ st->data, st->len, st->sites, st->n_sites };
        return 0;
    }
    free(st->data);
    free(st->sites);
    *out = (struct otelgen_encoded){ 0 };
    return -1;
}

void otelgen_encode_dispose(struct otelgen_encoded *e)
{
    free(e->data);
    free(e->sites);
    *e = (struct otelgen_encoded){ 0 };
}

/* ---- protobuf ----
 * protobuf-c's pack_to_buffer appends a bytes field's data straight from the field's own pointer (checked
 * with 1.4.1, and otelgen_encode_check_ids fails loudly should a later version copy it first). */

static void otelgen_encode_on_append(ProtobufCBuffer *buffer, size_t len, const uint8_t *data)
{
    struct otelgen_encode_state *st = (struct otelgen_encode_state *)buffer;

    otelgen_encode_note_id(st, data, len, false);
    otelgen_encode_put(st, data, len);
}

int otelgen_encode_protobuf(const ProtobufCMessage *m, const struct otelgen_ids *ids, struct otelgen_encoded *out,
                            char *err, size_t errlen)
{
    struct otelgen_encode_state st = { .base.append = otelgen_encode_on_append, .ids = ids };

    if (protobuf_c_message_get_packed_size(m) > OTELGEN_ENCODE_MAX_BODY)
        st.failed = true;
    else
        protobuf_c_message_pack_to_buffer(m, &st.base);
    return otelgen_encode_finish(&st, out, err, errlen);
}

/* ---- OTLP/JSON ----
 * The OTLP/JSON mapping is proto3 JSON with two changes: trace and span ids are hex, not base64, and enums
 * are numbers. Field names come from the descriptors, turned from snake_case into lowerCamelCase. */

static void otelgen_encode_json_string(struct otelgen_encode_state *st, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    otelgen_encode_put(st, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        otelgen_encode_put(st, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            otelgen_encode_put(st, esc, 2);
        } else if (c == '\n') {
            otelgen_encode_puts(st, "\\n");
        } else if (c == '\t') {
            otelgen_encode_puts(st, "\\t");
        } else {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            otelgen_encode_put(st, esc, sizeof esc);
        }
    }
    otelgen_encode_put(st, s + run, n - run);
    otelgen_encode_put(st, "\"", 1);
}

static void otelgen_encode_json_key(struct otelgen_encode_state *st, const char *name, bool *first)
{
    char key[128];
    size_t n = 0;

    for (const char *p = name; *p != '\0' && n < sizeof key - 1; p++) {
        if (*p == '_' && p[1] >= 'a' && p[1] <= 'z')
            key[n++] = (char)(*++p - 'a' + 'A');
        else
            key[n++] = *p;
    }
    if (!*first)
        otelgen_encode_put(st, ",", 1);
    *first = false;
    otelgen_encode_json_string(st, key, n);
    otelgen_encode_put(st, ":", 1);
}

static bool otelgen_encode_json_is_id_field(const ProtobufCFieldDescriptor *fd)
{
    return strcmp(fd->name, "trace_id") == 0 || strcmp(fd->name, "span_id") == 0 ||
           strcmp(fd->name, "parent_span_id") == 0;
}

static void otelgen_encode_json_hex(struct otelgen_encode_state *st, const ProtobufCBinaryData *bd)
{
    static const char hex[] = "0123456789abcdef";

    otelgen_encode_put(st, "\"", 1);
    otelgen_encode_note_id(st, bd->data, bd->len, true);
    for (size_t i = 0; i < bd->len; i++) {
        char two[2] = { hex[bd->data[i] >> 4], hex[bd->data[i] & 15] };
        otelgen_encode_put(st, two, 2);
    }
    otelgen_encode_put(st, "\"", 1);
}

static void otelgen_encode_json_base64(struct otelgen_encode_state *st, const ProtobufCBinaryData *bd)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    otelgen_encode_put(st, "\"", 1);
    for (size_t i = 0; i < bd->len; i += 3) {
        uint32_t v = (uint32_t)bd->data[i] << 16;
        size_t left = bd->len - i;
        if (left > 1)
            v |= (uint32_t)bd->data[i + 1] << 8;
        if (left > 2)
            v |= bd->data[i + 2];
        char four[4] = { b64[v >> 18], b64[(v >> 12) & 63], left > 1 ? b64[(v >> 6) & 63] : '=',
                         left > 2 ? b64[v & 63] : '=' };
        otelgen_encode_put(st, four, 4);
    }
    otelgen_encode_put(st, "\"", 1);
}

/* The shortest form that reads back to the same double; proto3 JSON spells the non-finite ones as strings. */
static void otelgen_encode_json_double(struct otelgen_encode_state *st, double d)
{
    char buf[40];

    if (isnan(d)) {
        otelgen_encode_puts(st, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        otelgen_encode_puts(st, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    otelgen_encode_puts(st, buf);
}

static void otelgen_encode_json_message(struct otelgen_encode_state *st, const ProtobufCMessage *m);

/* One value of field <fd> stored at <p> (an element, for repeated fields). */
static void otelgen_encode_json_value(struct otelgen_encode_state *st, const ProtobufCFieldDescriptor *fd,
                                      const void *p)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        otelgen_encode_printf(st, "%" PRId32, *(const int32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        otelgen_encode_printf(st, "%" PRIu32, *(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        otelgen_encode_printf(st, "\"%" PRId64 "\"", *(const int64_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        otelgen_encode_printf(st, "\"%" PRIu64 "\"", *(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        otelgen_encode_json_double(st, *(const float *)p);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        otelgen_encode_json_double(st, *(const double *)p);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        otelgen_encode_puts(st, *(const protobuf_c_boolean *)p ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        otelgen_encode_json_string(st, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES:
        if (otelgen_encode_json_is_id_field(fd))
            otelgen_encode_json_hex(st, p);
        else
            otelgen_encode_json_base64(st, p);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        otelgen_encode_json_message(st, *(ProtobufCMessage *const *)p);
        break;
    }
}

static size_t otelgen_encode_json_element_size(const ProtobufCFieldDescriptor *fd)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    default: return 4;
    }
}

/* proto3 JSON leaves out a singular field holding its default value. */
static bool otelgen_encode_json_is_default(const ProtobufCFieldDescriptor *fd, const void *p)
{
    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE: return *(ProtobufCMessage *const *)p == NULL;
    case PROTOBUF_C_TYPE_DOUBLE: return *(const double *)p == 0 && !signbit(*(const double *)p);
    case PROTOBUF_C_TYPE_FLOAT: return *(const float *)p == 0 && !signbit(*(const float *)p);
    case PROTOBUF_C_TYPE_BOOL: return !*(const protobuf_c_boolean *)p;
    default: {
        size_t n = otelgen_encode_json_element_size(fd);
        return n == 8 ? *(const uint64_t *)p == 0 : *(const uint32_t *)p == 0;
    }
    }
}

static bool otelgen_encode_json_present(const ProtobufCFieldDescriptor *fd, const ProtobufCMessage *m,
                                        const void *member)
{
    const char *base = (const char *)m;

    if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + fd->quantifier_offset) == fd->id;
    if (fd->label == PROTOBUF_C_LABEL_REQUIRED)
        return true;
    if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->quantifier_offset != 0)
        return *(const protobuf_c_boolean *)(base + fd->quantifier_offset);
    return !otelgen_encode_json_is_default(fd, member);
}

static void otelgen_encode_json_field(struct otelgen_encode_state *st, const ProtobufCFieldDescriptor *fd,
                                      const ProtobufCMessage *m, bool *first)
{
    const char *base = (const char *)m;
    const void *member = base + fd->offset;

    if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
        if (otelgen_encode_json_present(fd, m, member)) {
            otelgen_encode_json_key(st, fd->name, first);
            otelgen_encode_json_value(st, fd, member);
        }
        return;
    }
    size_t n = *(const size_t *)(base + fd->quantifier_offset);
    const char *elems = *(char *const *)member;
    size_t size = otelgen_encode_json_element_size(fd);
    if (n == 0)
        return;
    otelgen_encode_json_key(st, fd->name, first);
    otelgen_encode_put(st, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            otelgen_encode_put(st, ",", 1);
        otelgen_encode_json_value(st, fd, elems + i * size);
    }
    otelgen_encode_put(st, "]", 1);
}

static void otelgen_encode_json_message(struct otelgen_encode_state *st, const ProtobufCMessage *m)
{
    bool first = true;

    otelgen_encode_put(st, "{", 1);
    for (unsigned i = 0; m != NULL && i < m->descriptor->n_fields; i++)
        otelgen_encode_json_field(st, &m->descriptor->fields[i], m, &first);
    otelgen_encode_put(st, "}", 1);
}

int otelgen_encode_json(const ProtobufCMessage *m, const struct otelgen_ids *ids, struct otelgen_encoded *out,
                        char *err, size_t errlen)
{
    struct otelgen_encode_state st = { .ids = ids };

    otelgen_encode_json_message(&st, m);
    return otelgen_encode_finish(&st, out, err, errlen);
}
