/* exp_otlp_conn.h: the transports of the otlp and otlphttp exporters. A
 * transport carries batches to the upstream and tells the exporter what the
 * upstream said about each one; the exporter (exp_otlp_sender.c) owns
 * queueing, retries and counting. Two implement it: h2c gRPC
 * (exp_otlp_conn.c: one HTTP/2 connection, concurrent streams) and OTLP/HTTP
 * (exp_otlp_http.c: HTTP/1.1 keep-alive connections, one request each).
 * Exporter thread only. */
#ifndef OG_EXP_OTLP_CONN_H
#define OG_EXP_OTLP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "exp_otlp_queue.h"

#define EXP_OTLP_MESSAGE_MAX 200

/* What the upstream (or the transport) said about one batch. */
struct exp_otlp_answer {
    bool transport;                 /* no answer at all: connection lost or refused, reset, deadline */
    int grpc_status;                /* -1 when none (always -1 over OTLP/HTTP) */
    int http_status;                /* 0 when none */
    bool retry_info;                /* a google.rpc.RetryInfo came in grpc-status-details-bin */
    int64_t retry_after_ms;         /* RetryInfo delay, grpc-retry-pushback-ms or Retry-After; -1 when none */
    int64_t rejected;               /* partial success: items the upstream rejected */
    char message[EXP_OTLP_MESSAGE_MAX];     /* grpc-message, the google.rpc.Status message, or the partial
                                             * success's error_message; "" when none */
};

/* Where one signal goes (OTLP/HTTP may send each signal elsewhere). */
struct exp_otlp_target {
    const char *host, *port;
    const char *path;               /* OTLP/HTTP: "/v1/traces" or the configured path; gRPC: unused */
};

struct exp_otlp_conn_env {
    struct event_base *base;
    const char *id;                 /* for log lines */
    struct exp_otlp_target targets[OG_SIGNAL_COUNT];    /* gRPC: all three the same */
    const char *const *header_names, *const *header_values;    /* configured headers, names lower case */
    size_t n_headers;
    unsigned max_inflight;          /* OTLP/HTTP: connections per target (num_consumers x queues) */
    /* Each submitted batch comes back exactly once, here (returned owned),
     * possibly from inside submit() or close(). */
    void (*on_answer)(void *arg, struct exp_otlp_batch *b, const struct exp_otlp_answer *a);
    /* The transport can take (more) batches. */
    void (*on_ready)(void *arg);
    /* The transport is gone (after every batch it held was answered); it
     * is freed right after this returns. gRPC only: OTLP/HTTP reconnects on
     * its own and never calls it except from close(). */
    void (*on_closed)(void *arg, const char *why);
    void *arg;
};

struct exp_otlp_transport {
    const char *name;               /* "grpc", "http" */
    /* Starts (connecting lazily or at once). Returns the transport, or NULL
     * with a reason in err. Names resolve on the exporter thread. */
    void *(*open)(const struct exp_otlp_conn_env *env, char *err, size_t errlen);
    /* Batches of <signal> it could send now, at most <want>. */
    unsigned (*room)(const void *t, enum og_signal signal, unsigned want);
    /* Sends <b> (taken until on_answer gives it back) at <now_ms>. Returns
     * 0, or -1 leaving <b> to the caller. b->data is the OTLP bytes
     * (gzip-compressed when b->gzip); the EXP_OTLP_BATCH_HEADROOM bytes
     * before it are the transport's to write (the gRPC prefix). A
     * spooled batch has no data: the transport reads it from the spool
     * as it writes it, a slice at a time, with b->read. */
    int (*submit)(void *t, struct exp_otlp_batch *b, int64_t now_ms);
    /* Lets the exporter fill free room (on_ready) and writes what was
     * submitted. */
    void (*kick)(void *t);
    /* Cancels requests older than <timeout_ms>: answered as transport
     * failures ("deadline exceeded"). */
    void (*expire)(void *t, int64_t now_ms, int64_t timeout_ms);
    /* Ends at once: every batch in flight is answered as a transport
     * failure, then on_closed runs and the transport is freed. */
    void (*close)(void *t, const char *why);
};

extern const struct exp_otlp_transport exp_otlp_grpc_transport;     /* exp_otlp_conn.c */
extern const struct exp_otlp_transport exp_otlp_http_transport;     /* exp_otlp_http.c */

#endif
