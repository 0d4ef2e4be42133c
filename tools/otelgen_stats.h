/* otelgen_stats.h: what a run got back: answers counted by HTTP status or gRPC status, the first message seen
 * for each failing status, requests that got no answer and why, connections that failed; and the summary
 * printed at the end. One per worker thread (no locking); the load generator will merge them. */
#ifndef OTELGEN_STATS_H
#define OTELGEN_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "otelgen_conn.h"

struct otelgen_stats;

/* <items> names what a request holds ("spans"); <per_request> is how many, or -1 when unknown. Returns 0,
 * or -1 when out of memory. */
int otelgen_stats_create(struct otelgen_stats **out, const char *items, long long per_request);
void otelgen_stats_destroy(struct otelgen_stats *s);

/* The clock of the run: started before the first connection, stopped at the last answer. */
void otelgen_stats_start(struct otelgen_stats *s);
void otelgen_stats_stop(struct otelgen_stats *s);

/* Counts one answer (or failed request). Returns true when it is the first failure with this message, so
 * that the caller says so on stderr once. */
bool otelgen_stats_add(struct otelgen_stats *s, const struct otelgen_answer *a);
/* Counts <n> requests that were never sent, because no connection was left. */
void otelgen_stats_add_unsent(struct otelgen_stats *s, uint64_t n, const char *why);
/* Counts a connection that failed without costing a request (another connection sent its share). Returns
 * true the first time <why> is seen. */
bool otelgen_stats_add_conn_error(struct otelgen_stats *s, const char *why);

/* True when every request got a success answer (2xx, gRPC OK) and no connection failed. */
bool otelgen_stats_all_ok(const struct otelgen_stats *s);

/* The summary:
 *   sent 10 requests, 1000 spans in 0.012 s (83333 spans/s)
 *   answers: OK=9 UNAVAILABLE=1
 *     UNAVAILABLE: the first grpc-message seen with this status
 *   failed: 3 requests: cannot connect to ...
 *   connection errors: 1: ... */
void otelgen_stats_print(const struct otelgen_stats *s, FILE *out);

/* "UNAVAILABLE" for 14; "CODE_42" past the known ones. */
const char *otelgen_stats_grpc_name(int code, char *buf, size_t len);

#endif
