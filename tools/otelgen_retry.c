/* otelgen_retry.c: the retry policy of `otelgen send --retry` and the parsers of what servers say about
 * retrying. Everything here is pure: the worker (otelgen_worker.c) keeps the clock and the queue. */
#include "autoconf.h"

#include <string.h>
#include <time.h>

#include "otelgen_retry.h"
#include "util/base64.h"

#define OTELGEN_RETRY_MAX_ADVICE_MS (24LL * 3600 * 1000)  /* a server asking for more is not taken at its word */
#define OTELGEN_RETRY_DETAILS_MAX 2048                    /* decoded bytes of grpc-status-details-bin we read */

enum {
    OTELGEN_RETRY_GRPC_CANCELLED = 1,
    OTELGEN_RETRY_GRPC_DEADLINE_EXCEEDED = 4,
    OTELGEN_RETRY_GRPC_RESOURCE_EXHAUSTED = 8,
    OTELGEN_RETRY_GRPC_ABORTED = 10,
    OTELGEN_RETRY_GRPC_OUT_OF_RANGE = 11,
    OTELGEN_RETRY_GRPC_UNAVAILABLE = 14,
    OTELGEN_RETRY_GRPC_DATA_LOSS = 15,
};

bool otelgen_retry_wanted(const struct otelgen_answer *a)
{
    if (a->no_retry)
        return false;
    switch (a->kind) {
    case OTELGEN_ANSWER_FAILED: return true;
    case OTELGEN_ANSWER_HTTP: return a->code == 429 || a->code == 502 || a->code == 503 || a->code == 504;
    case OTELGEN_ANSWER_GRPC: break;
    }
    switch (a->code) {
    case OTELGEN_RETRY_GRPC_CANCELLED:
    case OTELGEN_RETRY_GRPC_DEADLINE_EXCEEDED:
    case OTELGEN_RETRY_GRPC_ABORTED:
    case OTELGEN_RETRY_GRPC_OUT_OF_RANGE:
    case OTELGEN_RETRY_GRPC_UNAVAILABLE:
    case OTELGEN_RETRY_GRPC_DATA_LOSS: return true;
    case OTELGEN_RETRY_GRPC_RESOURCE_EXHAUSTED: return a->retry_info;
    default: return false;
    }
}

static uint64_t otelgen_retry_random(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

int64_t otelgen_retry_delay_ms(const struct otelgen_answer *a, uint32_t attempt, uint64_t *rng)
{
    int64_t d = OTELGEN_RETRY_INITIAL_MS, spread;

    if (a->retry_after_ms > 0)
        return a->retry_after_ms;
    for (uint32_t i = 1; i < attempt && d < OTELGEN_RETRY_MAX_INTERVAL_MS; i++)
        d *= 2;
    if (d > OTELGEN_RETRY_MAX_INTERVAL_MS)
        d = OTELGEN_RETRY_MAX_INTERVAL_MS;
    spread = d * OTELGEN_RETRY_JITTER_PERCENT / 100;
    d += (int64_t)(otelgen_retry_random(rng) % (uint64_t)(2 * spread + 1)) - spread;
    return d >= 1 ? d : 1;
}

/* ---- Retry-After and grpc-retry-pushback-ms ---- */

/* Digits only, as both headers write them; -1 for anything else or a value past a day. */
static int64_t otelgen_retry_number(const char *v, size_t len)
{
    int64_t n = 0;

    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9' || n > OTELGEN_RETRY_MAX_ADVICE_MS)
            return -1;
        n = n * 10 + (v[i] - '0');
    }
    return n;
}

int64_t otelgen_retry_parse_after(const char *v, size_t len, time_t now)
{
    char date[64];
    struct tm tm = { 0 };
    const char *end;
    int64_t n;

    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    while (len > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    if (len > 0 && v[0] >= '0' && v[0] <= '9') {
        n = otelgen_retry_number(v, len);
        return n >= 0 && n <= OTELGEN_RETRY_MAX_ADVICE_MS / 1000 ? n * 1000 : 0;
    }
    if (len == 0 || len >= sizeof date)
        return 0;
    memcpy(date, v, len);
    date[len] = '\0';
    end = strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm);     /* IMF-fixdate, the only one servers send */
    if (end == NULL || *end != '\0')
        return 0;
    n = (int64_t)timegm(&tm) - (int64_t)now;
    return n > 0 && n <= OTELGEN_RETRY_MAX_ADVICE_MS / 1000 ? n * 1000 : 0;
}

void otelgen_retry_parse_pushback(const uint8_t *v, size_t len, struct otelgen_answer *a)
{
    int64_t n = otelgen_retry_number((const char *)v, len);

    if (n < 0)
        a->no_retry = true;
    else
        a->retry_after_ms = n;
}

/* ---- grpc-status-details-bin ---- */

/* Base64, padded or not (gRPC accepts both). Returns the decoded length, or 0 when it is not base64 or
 * does not fit. */
static size_t otelgen_retry_b64(const uint8_t *in, size_t len, uint8_t *out, size_t room)
{
    while (len > 0 && in[len - 1] == '=')
        len--;
    if (len * 3 / 4 > room)
        return 0;
    long n = base64_decode((const char *)in, len, out);
    return n < 0 ? 0 : (size_t)n;
}

/* One protobuf field: its number, and its varint value or its bytes. Returns 0, or -1 at the end or on
 * anything malformed (which ends the walk: nothing from a broken message is trusted). */
struct otelgen_retry_field {
    uint32_t number;
    uint64_t varint;
    const uint8_t *bytes;
    size_t len;
};

static int otelgen_retry_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

static int otelgen_retry_next_field(const uint8_t **p, const uint8_t *end, struct otelgen_retry_field *f)
{
    uint64_t tag, v;

    if (*p >= end || otelgen_retry_varint(p, end, &tag) != 0)
        return -1;
    *f = (struct otelgen_retry_field){ .number = (uint32_t)(tag >> 3) };
    switch (tag & 7) {
    case 0: return otelgen_retry_varint(p, end, &f->varint);
    case 1: v = 8; break;
    case 5: v = 4; break;
    case 2:
        if (otelgen_retry_varint(p, end, &v) != 0)
            return -1;
        f->bytes = *p;
        f->len = (size_t)v;
        break;
    default: return -1;
    }
    if (v > (uint64_t)(end - *p))
        return -1;
    *p += v;
    return 0;
}

/* google.rpc.RetryInfo { google.protobuf.Duration retry_delay = 1; }, Duration { seconds = 1; nanos = 2 }. */
static int64_t otelgen_retry_info_delay(const uint8_t *p, const uint8_t *end)
{
    struct otelgen_retry_field f, d;
    int64_t ms = 0;

    while (otelgen_retry_next_field(&p, end, &f) == 0) {
        if (f.number != 1 || f.bytes == NULL)
            continue;
        const uint8_t *q = f.bytes, *qend = f.bytes + f.len;
        while (otelgen_retry_next_field(&q, qend, &d) == 0) {
            if (d.number == 1 && d.bytes == NULL && d.varint <= OTELGEN_RETRY_MAX_ADVICE_MS / 1000)
                ms += (int64_t)d.varint * 1000;
            else if (d.number == 2 && d.bytes == NULL && d.varint < 1000000000)
                ms += (int64_t)(d.varint + 999999) / 1000000;
        }
    }
    return ms;
}

/* google.protobuf.Any { string type_url = 1; bytes value = 2; }: true when it is a RetryInfo. */
static bool otelgen_retry_any(const uint8_t *p, const uint8_t *end, int64_t *delay_ms)
{
    static const char type[] = "google.rpc.RetryInfo";
    const size_t tlen = sizeof type - 1;
    struct otelgen_retry_field f;
    const uint8_t *value = NULL, *value_end = NULL;
    bool is_retry_info = false;

    while (otelgen_retry_next_field(&p, end, &f) == 0) {
        if (f.number == 1 && f.bytes != NULL)
            is_retry_info = f.len >= tlen && memcmp(f.bytes + f.len - tlen, type, tlen) == 0 &&
                            (f.len == tlen || f.bytes[f.len - tlen - 1] == '/');
        else if (f.number == 2 && f.bytes != NULL) {
            value = f.bytes;
            value_end = f.bytes + f.len;
        }
    }
    if (!is_retry_info)
        return false;
    *delay_ms = value != NULL ? otelgen_retry_info_delay(value, value_end) : 0;
    return true;
}

void otelgen_retry_parse_details(const uint8_t *v, size_t len, struct otelgen_answer *a)
{
    uint8_t buf[OTELGEN_RETRY_DETAILS_MAX];
    size_t n = otelgen_retry_b64(v, len, buf, sizeof buf);
    const uint8_t *p = buf, *end = buf + n;
    struct otelgen_retry_field f;
    int64_t delay;

    /* google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; } */
    while (otelgen_retry_next_field(&p, end, &f) == 0) {
        if (f.number != 3 || f.bytes == NULL || !otelgen_retry_any(f.bytes, f.bytes + f.len, &delay))
            continue;
        a->retry_info = true;
        if (delay > 0)
            a->retry_after_ms = delay;
        return;
    }
}
