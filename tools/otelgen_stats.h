/* otelgen_stats.h: what a run got back: every answer counted by HTTP status or gRPC status with the first
 * message seen for each failing status, attempts that got no answer and why, connections that failed,
 * retries; each request's final outcome (acknowledged or failed); the latency of every answer; and the
 * summary printed at the end, as text or as one JSON object. One per worker thread, never locked: the
 * threads' stats are merged once they are done. A progress line reads a small interval feed instead. */
#ifndef OTELGEN_STATS_H
#define OTELGEN_STATS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "otelgen_conn.h"
#include "otelgen_hist.h"

enum otelgen_stats_outcome {
    OTELGEN_STATS_ACKNOWLEDGED,         /* the final answer was a success (2xx, gRPC OK) */
    OTELGEN_STATS_REFUSED,              /* the final answer was another status */
    OTELGEN_STATS_UNANSWERED,           /* no answer: the connection failed, or none was left to send it */
};

/* What one progress line shows: what the threads counted since the previous line. */
struct otelgen_stats_interval {
    uint64_t answers;                   /* answers, whatever their status */
    uint64_t errors;                    /* answers that were not a success, and attempts without one */
    struct otelgen_hist latency;
};

/* Where the threads publish their intervals and the progress printer takes them; the only shared state. */
struct otelgen_stats_feed {
    pthread_mutex_t lock;
    struct otelgen_stats_interval pending;
    uint64_t errors_total;
};

struct otelgen_stats;

/* <items> names what a request holds ("spans"); <per_request> is how many, or -1 when unknown. Returns 0,
 * or -1 when out of memory. */
int otelgen_stats_create(struct otelgen_stats **out, const char *items, long long per_request);
void otelgen_stats_destroy(struct otelgen_stats *s);

/* The clock of the run: started when its first request was due, stopped when its last one settled. */
void otelgen_stats_start(struct otelgen_stats *s);
void otelgen_stats_stop(struct otelgen_stats *s);

/* Counts one attempt's answer with the time from its due time to now, or its failure without one (kind
 * OTELGEN_ANSWER_FAILED: only the progress line's error count sees it; the request's outcome says why). */
void otelgen_stats_add(struct otelgen_stats *s, const struct otelgen_answer *a, uint64_t latency_ns);
/* Counts the final outcome of one request; <why> is the failure of an OTELGEN_STATS_UNANSWERED one. */
void otelgen_stats_settle(struct otelgen_stats *s, enum otelgen_stats_outcome outcome, const char *why);
/* Counts one attempt made again after a retryable answer or failure. */
void otelgen_stats_add_retry(struct otelgen_stats *s);
/* Counts <n> requests that fail without being sent (again), because no connection was left: the same as
 * <n> times otelgen_stats_settle(OTELGEN_STATS_UNANSWERED) and an attempt that got no answer. */
void otelgen_stats_add_unsent(struct otelgen_stats *s, uint64_t n, const char *why);
/* Counts a connection that failed without costing a request (another connection sent its share). Returns
 * true the first time <why> is seen. */
bool otelgen_stats_add_conn_error(struct otelgen_stats *s, const char *why);

/* True when no request finally failed and, unless <retrying> (with --retry a failed connection counts only
 * through its requests), no connection failed. */
bool otelgen_stats_all_ok(const struct otelgen_stats *s, bool retrying);

/* Adds everything <src> counted to <dst>; the clock becomes the earliest start and the latest stop. Returns
 * 0, or -1 when out of memory (a failure message could not be copied; the counts are still added). */
int otelgen_stats_merge(struct otelgen_stats *dst, const struct otelgen_stats *src);

/* Adds what was counted since the last call to <feed> (under its lock) and starts a new interval. */
void otelgen_stats_publish(struct otelgen_stats *s, struct otelgen_stats_feed *feed);

/* The summary:
 *   sent 10 requests, 1000 spans in 0.012 s (83333 spans/s)
 *   answers: OK=9 UNAVAILABLE=3
 *     UNAVAILABLE: the first grpc-message seen with this status
 *   retries: 2
 *   acknowledged: 9 requests, 900 spans; failed: 1 request
 *   latency: p50 0.412 ms, p90 0.618 ms, p99 1.020 ms, max 1.377 ms
 *   failed: 3 requests: cannot connect to ...       (those that finally got no answer, by reason)
 *   connection errors: 1: ... */
void otelgen_stats_print(const struct otelgen_stats *s, FILE *out);

/* The same as one JSON object on one line; the field names are documented in otelgen(1) and stable. */
void otelgen_stats_print_json(const struct otelgen_stats *s, const char *protocol, const char *signal, FILE *out);

/* "UNAVAILABLE" for 14; "CODE_42" past the known ones. */
const char *otelgen_stats_grpc_name(int code, char *buf, size_t len);

/* "12.345": nanoseconds as milliseconds with three decimals, for the summary and the progress line. */
void otelgen_stats_format_ms(uint64_t ns, char *buf, size_t len);

#endif
