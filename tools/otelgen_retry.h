/* otelgen_retry.h: `otelgen send --retry`, which treats answers the way an OTLP SDK's exporter does: which
 * answers are worth another attempt (the OTLP specification's tables), how long to wait before it
 * (the server's word when it gives one, else exponential backoff with jitter), and reading that word
 * from Retry-After, grpc-retry-pushback-ms and a google.rpc.RetryInfo in grpc-status-details-bin. */
#ifndef OTELGEN_RETRY_H
#define OTELGEN_RETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "otelgen_conn.h"

/* The backoff between attempts when the server names no delay: 100 ms, doubled after each attempt up to
 * 5 s, each drawn at random within +-20 % so that many clients refused together do not come back together.
 * Short next to an SDK's (the Collector starts at 5 s): a load generator wants its answer within a run. */
#define OTELGEN_RETRY_INITIAL_MS 100
#define OTELGEN_RETRY_MAX_INTERVAL_MS 5000
#define OTELGEN_RETRY_JITTER_PERCENT 20
#define OTELGEN_RETRY_DEFAULT_MAX_ELAPSED "30s"

/* True when an SDK would send the request again after <a>: HTTP 429, 502, 503, 504; gRPC CANCELLED,
 * DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED only with a
 * RetryInfo; no answer at all (the connection failed: a gRPC client library reports UNAVAILABLE). False
 * for anything else, and when a negative grpc-retry-pushback-ms asked not to. */
bool otelgen_retry_wanted(const struct otelgen_answer *a);

/* The wait before attempt number <attempt> (1: the first retry): the server's delay when it gave one, else
 * the backoff above. <rng> is the caller's xorshift state (nonzero). Returns milliseconds, >= 1. */
int64_t otelgen_retry_delay_ms(const struct otelgen_answer *a, uint32_t attempt, uint64_t *rng);

/* A Retry-After value: delay-seconds ("120") or an HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT"), read
 * against <now>. Returns the delay in milliseconds; 0 for a date in the past, a malformed value or one
 * above a day (taken as no advice: the backoff applies). */
int64_t otelgen_retry_parse_after(const char *v, size_t len, time_t now);

/* A grpc-retry-pushback-ms value: sets a->retry_after_ms, or a->no_retry when it is negative or not a
 * number (gRPC's rule: the server asks not to retry). */
void otelgen_retry_parse_pushback(const uint8_t *v, size_t len, struct otelgen_answer *a);

/* A grpc-status-details-bin value: a base64 google.rpc.Status. When one of its details is a
 * google.rpc.RetryInfo, sets a->retry_info and a->retry_after_ms to its retry_delay (when above 0).
 * Anything that does not parse is ignored: the answer is then taken as it would be without it. */
void otelgen_retry_parse_details(const uint8_t *v, size_t len, struct otelgen_answer *a);

#endif
