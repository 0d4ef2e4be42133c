/* otelgen_send_int.h: between `otelgen send`'s command line (otelgen_send.c), which turns the options into
 * a plan and refuses what does not go together, and the run (otelgen_send_run.c), which carries it out. */
#ifndef OTELGEN_SEND_INT_H
#define OTELGEN_SEND_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "otelgen_conn.h"
#include "otelgen_endpoint.h"
#include "otelgen_payload.h"

#define OTELGEN_SEND_DEFAULT_DEPTH 8        /* gRPC streams per connection in flight, closed loop by default */
#define OTELGEN_SEND_OPEN_DEPTH 100         /* the same with --rate: the schedule, not the answers, sets the pace */

/* Everything the run needs, checked: the numbers go together and are within their limits. */
struct otelgen_send_plan {
    const struct otelgen_client_ops *client;
    const char *protocol;                   /* "grpc", as --protocol spells it, for the JSON summary */
    struct otelgen_target *target;          /* addrs and n_addrs are filled by the run */
    const struct otelgen_endpoint *endpoint;
    struct otelgen_payload_conf payload;
    uint64_t requests;                      /* -n; OTELGEN_WORKER_UNLIMITED with --duration */
    unsigned threads, conns;
    uint64_t concurrency;                   /* --concurrency; 0: each connection's depth is the limit */
    unsigned depth;                         /* requests in flight per connection, without --concurrency */
    double rate;                            /* --rate, requests a second; 0: closed loop */
    int64_t duration_ms;                    /* --duration; 0: -n */
    int64_t retry_max_elapsed_ms;           /* --retry; 0: no retry */
    bool json;
};

/* Runs the plan: resolves the endpoint, prepares the payload, runs one worker per thread, shows progress on
 * a terminal, and prints the summary. Returns the exit status: 0 when no request finally failed, else 1. */
int otelgen_send_run(const struct otelgen_send_plan *plan);

#endif
