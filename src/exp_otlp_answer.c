/* exp_otlp_answer.c: reads the few protobuf messages an OTLP upstream answers
 * with (partial success, google.rpc.Status with RetryInfo) for the gRPC and
 * the OTLP/HTTP transports. The bodies are small and already in memory, so a
 * field walker over a byte range is all it takes: no protobuf-c decode, no
 * allocation. */
#include "autoconf.h"

#include <stdbool.h>
#include <string.h>

#include "exp_otlp_answer.h"
#include "util/base64.h"

/* One field of a protobuf message. */
struct exp_otlp_answer_pb {
    uint32_t number, wire;
    uint64_t value;                     /* varint */
    const uint8_t *bytes;               /* length-delimited: NULL otherwise */
    size_t len;
};

static int exp_otlp_answer_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t byte = *(*p)++;
        *v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return 0;
    }
    return -1;
}

/* Reads the next field of [*p, end). Returns 0, or -1 at the end or on
 * malformed input (the caller stops either way). */
static int exp_otlp_answer_pb_next(const uint8_t **p, const uint8_t *end, struct exp_otlp_answer_pb *f)
{
    uint64_t key, n;

    if (*p >= end || exp_otlp_answer_pb_varint(p, end, &key) != 0)
        return -1;
    *f = (struct exp_otlp_answer_pb){ .number = (uint32_t)(key >> 3), .wire = (uint32_t)(key & 7) };
    switch (f->wire) {
    case 0: return exp_otlp_answer_pb_varint(p, end, &f->value);
    case 1: n = 8; break;
    case 5: n = 4; break;
    case 2:
        if (exp_otlp_answer_pb_varint(p, end, &n) != 0 || n > (uint64_t)(end - *p))
            return -1;
        f->bytes = *p;
        f->len = (size_t)n;
        break;
    default: return -1;
    }
    if (n > (uint64_t)(end - *p))
        return -1;
    *p += n;
    return 0;
}

/* google.protobuf.Any holding a google.rpc.RetryInfo { Duration retry_delay = 1; }: its delay in ms, or -1. */
static int64_t exp_otlp_answer_retry_info(const uint8_t *p, const uint8_t *end)
{
    static const char type[] = "google.rpc.RetryInfo";
    struct exp_otlp_answer_pb f, g, h;
    bool is_retry = false;
    const uint8_t *value = NULL, *vend = NULL;
    int64_t s_ms = 0, ns_ms = 0;

    while (exp_otlp_answer_pb_next(&p, end, &f) == 0) {
        size_t tlen = sizeof type - 1;
        if (f.number == 1 && f.bytes != NULL && f.len >= tlen && memcmp(f.bytes + f.len - tlen, type, tlen) == 0 &&
            (f.len == tlen || f.bytes[f.len - tlen - 1] == '/'))     /* "type.googleapis.com/google.rpc.RetryInfo" */
            is_retry = true;
        else if (f.number == 2 && f.bytes != NULL)
            value = f.bytes, vend = f.bytes + f.len;
    }
    if (!is_retry)
        return -1;
    while (value != NULL && exp_otlp_answer_pb_next(&value, vend, &g) == 0) {
        if (g.number != 1 || g.bytes == NULL)
            continue;
        for (const uint8_t *d = g.bytes; exp_otlp_answer_pb_next(&d, g.bytes + g.len, &h) == 0;) {
            if (h.number == 1 && h.wire == 0 && h.value < 86400)
                s_ms = (int64_t)h.value * 1000;     /* a repeated scalar: the last one wins (proto3) */
            else if (h.number == 2 && h.wire == 0 && h.value < 1000000000)
                ns_ms = (int64_t)h.value / 1000000;
        }
    }
    return s_ms + ns_ms;                /* under a day, as Retry-After and grpc-retry-pushback-ms */
}

void exp_otlp_answer_status(const uint8_t *msg, size_t len, struct exp_otlp_answer *a)
{
    const uint8_t *p = msg, *end = msg + len;
    struct exp_otlp_answer_pb f;

    while (exp_otlp_answer_pb_next(&p, end, &f) == 0) {
        if (f.number == 2 && f.bytes != NULL && a->message[0] == '\0')
            exp_otlp_answer_message(a, f.bytes, f.len);
        if (f.number != 3 || f.bytes == NULL || a->retry_info)
            continue;
        int64_t ms = exp_otlp_answer_retry_info(f.bytes, f.bytes + f.len);
        if (ms >= 0) {
            a->retry_info = true;
            if (ms > 0)
                a->retry_after_ms = ms;
        }
    }
}

void exp_otlp_answer_status_bin(const uint8_t *v, size_t len, struct exp_otlp_answer *a)
{
    uint8_t buf[EXP_OTLP_ANSWER_DETAILS_MAX];

    while (len > 0 && v[len - 1] == '=')
        len--;
    if (len / 4 * 3 + 3 > sizeof buf)
        return;
    long n = base64_decode((const char *)v, len, buf);
    if (n >= 0)
        exp_otlp_answer_status(buf, (size_t)n, a);
}

void exp_otlp_answer_partial(const uint8_t *msg, size_t len, struct exp_otlp_answer *a)
{
    const uint8_t *p = msg, *end = msg + len;
    struct exp_otlp_answer_pb f, g;

    while (exp_otlp_answer_pb_next(&p, end, &f) == 0) {
        if (f.number != 1 || f.bytes == NULL)
            continue;
        for (const uint8_t *q = f.bytes; exp_otlp_answer_pb_next(&q, f.bytes + f.len, &g) == 0;) {
            if (g.number == 1 && g.wire == 0)
                a->rejected = (int64_t)g.value;
            else if (g.number == 2 && g.bytes != NULL && a->message[0] == '\0')
                exp_otlp_answer_message(a, g.bytes, g.len);
        }
    }
}

size_t exp_otlp_answer_percent_decode(const uint8_t *v, size_t len, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF0123456789abcdef";
    size_t n = 0;

    for (size_t i = 0; i < len && n < outlen; i++) {
        const char *hi, *lo;
        if (v[i] == '%' && i + 2 < len && (hi = memchr(hex, v[i + 1], 32)) != NULL &&
            (lo = memchr(hex, v[i + 2], 32)) != NULL) {
            out[n++] = (char)(((hi - hex) % 16) << 4 | (lo - hex) % 16);
            i += 2;
        } else {
            out[n++] = (char)v[i];
        }
    }
    return n;
}

void exp_otlp_answer_message(struct exp_otlp_answer *a, const void *text, size_t len)
{
    const uint8_t *s = text;
    size_t n = 0;

    if (len > sizeof a->message - 1) {
        len = sizeof a->message - 1;
        while (len > 0 && (s[len] & 0xc0) == 0x80)
            len--;                      /* s[len], the first byte cut, continues a character: cut before it */
    }
    for (size_t i = 0; i < len; i++) {
        char ch = s[i] < 0x20 || s[i] == 0x7f ? ' ' : (char)s[i];
        if (ch == ' ' && (n == 0 || a->message[n - 1] == ' '))
            continue;
        a->message[n++] = ch;
    }
    while (n > 0 && a->message[n - 1] == ' ')
        n--;
    a->message[n] = '\0';
}
