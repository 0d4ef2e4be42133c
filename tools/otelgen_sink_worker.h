/* otelgen_sink_worker.h: one sink worker: a reactor thread serving the OTLP/gRPC and OTLP/HTTP endpoints on
 * its own SO_REUSEPORT sockets with otelgate's codecs and front ends, applying the fault rules before a
 * request reaches them, and counting what they take. The main thread reaches a worker only through
 * reactor_call, which runs a function on the worker's thread and waits: nothing here is locked. */
#ifndef OTELGEN_SINK_WORKER_H
#define OTELGEN_SINK_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "component.h"
#include "otelgen_sink_faults.h"
#include "reactor.h"
#include "reactor_listen.h"

enum { OTELGEN_SINK_GRPC, OTELGEN_SINK_HTTP, OTELGEN_SINK_PROTOCOLS };

/* What every worker shares; owned by the caller, outliving the workers. */
struct otelgen_sink_conf {
    const char *tenant_header;          /* lower case, or NULL */
    size_t max_ids;                     /* per signal and worker */
    struct component *file;             /* --out: a started file exporter, or NULL */
};

struct otelgen_sink_worker;

/* A worker for reactor <r>, not serving yet. Main thread. Returns NULL when out of memory. */
struct otelgen_sink_worker *otelgen_sink_worker_create(const struct otelgen_sink_conf *conf, struct reactor *r);

/* Starts serving on this worker's sockets of <listen> (one per protocol), which it takes: each fd is set to
 * -1. Returns 0, or -1 when a socket cannot be watched. */
int otelgen_sink_worker_open(struct otelgen_sink_worker *w, struct reactor_listen listen[OTELGEN_SINK_PROTOCOLS]);

/* Replaces the fault rules and zeroes their hit counts; requests a blackhole rule holds are let go without
 * an answer (their connection or stream is reset), delayed ones keep their time. */
void otelgen_sink_worker_set_faults(struct otelgen_sink_worker *w, const struct otelgen_sink_faults *f);

/* Stops serving: lets go of every held request without an answer and closes every socket and connection.
 * The counters stay for a last report. */
void otelgen_sink_worker_close(struct otelgen_sink_worker *w);

/* After the reactor stopped. NULL is fine. */
void otelgen_sink_worker_destroy(struct otelgen_sink_worker *w);

/* ---- all workers at once ---- */

/* The merged counters as JSON (otelgen_sink_report_json); with <reset>, each worker zeroes its counters
 * and rule hits as it is read, so nothing counted falls between two reports. Returns a new reference, or
 * NULL when out of memory. */
json_t *otelgen_sink_workers_report(struct otelgen_sink_worker *const *w, unsigned n, bool reset, double seconds);

/* The hits of each rule summed over the workers, into hits[0..OTELGEN_SINK_MAX_FAULTS). */
void otelgen_sink_workers_rule_hits(struct otelgen_sink_worker *const *w, unsigned n, uint64_t *hits);

void otelgen_sink_workers_set_faults(struct otelgen_sink_worker *const *w, unsigned n,
                                     const struct otelgen_sink_faults *f);

#endif
