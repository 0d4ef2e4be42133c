/* otelgen_worker.h: one worker = one thread's libevent reactor, its connections and its share of the
 * requests. `send` runs one worker on the main thread; the load generator will run one per core, each with
 * a disjoint range of request numbers (hence of ids) and its own stats. */
#ifndef OTELGEN_WORKER_H
#define OTELGEN_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otelgen_conn.h"
#include "otelgen_stats.h"

struct otelgen_worker_conf {
    const struct otelgen_client_ops *client;
    const struct otelgen_target *target;
    const struct otelgen_payload *payload;
    uint64_t requests;                  /* this worker's share */
    uint64_t first_seq;                 /* number of its first request */
    unsigned conns;                     /* connections to spread them over (fewer if fewer requests) */
};

struct otelgen_worker;

/* Returns 0, or -1 with <err> set. <stats> must outlive the worker. */
int otelgen_worker_create(struct otelgen_worker **out, const struct otelgen_worker_conf *conf,
                          struct otelgen_stats *stats, char *err, size_t errlen);
/* Connects and sends until every request has an answer or has failed, then closes the connections. */
void otelgen_worker_run(struct otelgen_worker *w);
void otelgen_worker_destroy(struct otelgen_worker *w);

/* ---- for the protocol clients, on the worker's thread ---- */

/* The number of the next request to send, or false when there is none left (for now). */
bool otelgen_worker_next(struct otelgen_worker *w, uint64_t *seq);
/* A request taken but surely not processed (HTTP/2 REFUSED_STREAM, GOAWAY): another connection sends it. */
void otelgen_worker_give_back(struct otelgen_worker *w, uint64_t seq);
/* A request is settled: answered, or failed with its connection. */
void otelgen_worker_answered(struct otelgen_worker *w, const struct otelgen_answer *a);
/* A connection is gone and freed. <why> is NULL for an orderly end; <connected> says whether it ever
 * connected; <answered> counts its answers; <lost> its requests that failed with it (already reported). */
void otelgen_worker_conn_ended(struct otelgen_worker *w, unsigned slot, const char *why, bool connected,
                               uint64_t answered, unsigned lost);

#endif
