/* otelgen_worker.h: one worker = one thread's libevent reactor, its connections and its share of the
 * requests. `otelgen send` runs one per --threads, each with its own request numbers (hence ids), its own
 * stats and nothing shared but the read-only target and payload. The worker decides when a request is
 * due: at once while fewer than the concurrency are begun (closed loop), or at its place in a fixed
 * schedule (open loop, --rate), however late the previous answers are; and what to do with each answer:
 * count it, and with --retry send it again later. */
#ifndef OTELGEN_WORKER_H
#define OTELGEN_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otelgen_conn.h"
#include "otelgen_stats.h"

#define OTELGEN_WORKER_UNLIMITED UINT64_MAX

struct otelgen_worker_conf {
    const struct otelgen_client_ops *client;
    const struct otelgen_target *target;
    const struct otelgen_payload *payload;
    uint64_t requests;                  /* its share of -n; OTELGEN_WORKER_UNLIMITED: until deadline or stop */
    uint64_t seq_first, seq_stride;     /* its k-th request is number seq_first + k * seq_stride */
    unsigned conns;                     /* connections (fewer if fewer requests) */
    unsigned depth;                     /* requests in flight per connection */
    uint64_t concurrency;               /* closed loop: requests begun and not settled, at most; 0: no limit */
    double ns_per_request;              /* open loop: request number n is due at start + n * this; 0: closed */
    int64_t retry_max_elapsed_ms;       /* --retry: give up this long after the first attempt; 0: no retry */
    struct otelgen_stats_feed *feed;    /* publish the interval there every second; NULL: no progress */
    int stop_fd;                        /* readable once the run must end early; -1: none */
};

struct otelgen_worker;

/* Returns 0, or -1 with <err> set. <stats> must outlive the worker. */
int otelgen_worker_create(struct otelgen_worker **out, const struct otelgen_worker_conf *conf,
                          struct otelgen_stats *stats, char *err, size_t errlen);
/* The run's clock, the same for every thread (CLOCK_MONOTONIC): when it starts and, with --duration, when
 * no new request may be due any more (0: never). Call before otelgen_worker_run. */
void otelgen_worker_set_start(struct otelgen_worker *w, int64_t start_ns, int64_t deadline_ns);
/* Connects and sends until every request due is settled (answered, given up, or failed with no connection
 * left), then closes the connections. Runs on the calling thread. */
void otelgen_worker_run(struct otelgen_worker *w);
void otelgen_worker_destroy(struct otelgen_worker *w);

/* ---- for the protocol clients, on the worker's thread ---- */

/* The next request connection <slot> should send, or false when there is none for now; the worker then
 * calls the client's kick once there is. */
bool otelgen_worker_next(struct otelgen_worker *w, unsigned slot, struct otelgen_req *req);
/* A request taken but surely not processed (HTTP/2 REFUSED_STREAM, GOAWAY): another connection sends it. */
void otelgen_worker_give_back(struct otelgen_worker *w, const struct otelgen_req *req);
/* An attempt is over: answered, or failed with its connection (a->kind OTELGEN_ANSWER_FAILED). */
void otelgen_worker_answered(struct otelgen_worker *w, const struct otelgen_req *req, const struct otelgen_answer *a);
/* A connection is gone and freed. <why> is NULL for an orderly end; <connected> says whether it ever
 * connected; <answered> counts its answers; <lost> its requests that failed with it (already reported). */
void otelgen_worker_conn_ended(struct otelgen_worker *w, unsigned slot, const char *why, bool connected,
                               uint64_t answered, unsigned lost);

#endif
