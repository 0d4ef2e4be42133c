/* otelgen_retry.c: the retry policy of `otelgen send --retry` and the parsers of what servers say about
 * retrying. Everything here is pure: the worker (otelgen_worker.c) keeps the clock and the queue. */
#include "autoconf.h"

#include <string.h>
#include <time.h>

#include "otelgen_retry.h"
#include "exp_otlp_answer.h"

#define OTELGEN_RETRY_MAX_ADVICE_MS (24LL * 3600 * 1000)  /* a server asking for more is not taken at its word */

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

/* A google.rpc.RetryInfo in it makes RESOURCE_EXHAUSTED retryable; its delay, when not zero, is the wait. The
 * exporter's reader (exp_otlp_answer.c) reads it. */
void otelgen_retry_parse_details(const uint8_t *v, size_t len, struct otelgen_answer *a)
{
    struct exp_otlp_answer ea = { .grpc_status = -1, .retry_after_ms = -1 };

    exp_otlp_answer_status_bin(v, len, &ea);
    if (!ea.retry_info)
        return;
    a->retry_info = true;
    if (ea.retry_after_ms > 0 && ea.retry_after_ms <= OTELGEN_RETRY_MAX_ADVICE_MS)
        a->retry_after_ms = ea.retry_after_ms;
}
