/* otelgen_conn.h: the contract between a worker (otelgen_worker.c, one per thread) and the protocol clients
 * that own its connections: gRPC over h2c (otelgen_grpc.c) and HTTP/1.1 (otelgen_http.c). A client takes
 * requests from its worker while it has room in flight, and reports every answer and its own end; the
 * worker decides when a request is due, whether an answer is retried, and counts. */
#ifndef OTELGEN_CONN_H
#define OTELGEN_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>

#define OTELGEN_CONN_MESSAGE_MAX 256        /* bytes of grpc-message or response body kept per request */

struct event_base;
struct otelgen_payload;
struct otelgen_payload_ctx;
struct otelgen_worker;

struct otelgen_header {
    const char *name, *value;               /* lowercase names for gRPC: HTTP/2 requires it */
};

struct otelgen_addr {
    struct sockaddr_storage sa;
    socklen_t len;
    char text[96];                          /* "127.0.0.1:4317", "[::1]:4317" */
};

/* Where and what to send; fixed for the run and shared read-only by every connection and thread. */
struct otelgen_target {
    const char *endpoint;                   /* as the user wrote it, for messages */
    const char *authority;                  /* Host / :authority */
    const char *path;
    const char *content_type;
    bool gzip;
    const struct otelgen_header *headers;   /* --header, in order */
    size_t n_headers;
    const struct otelgen_header *tenants;   /* --tenants: request number n carries tenants[n % n_tenants] */
    size_t n_tenants;                       /* 0: no tenant header */
    const struct otelgen_addr *addrs;       /* resolved, tried in order */
    size_t n_addrs;
    struct timeval timeout;                 /* connect, and silence while an answer is due */
    const char *timeout_text;               /* the same as the user wrote it: "10s" */
};

enum otelgen_answer_kind {
    OTELGEN_ANSWER_HTTP,                    /* code: HTTP status */
    OTELGEN_ANSWER_GRPC,                    /* code: grpc-status */
    OTELGEN_ANSWER_FAILED,                  /* no answer: the connection failed; message says how */
};

struct otelgen_answer {
    enum otelgen_answer_kind kind;
    int code;
    const char *message;                    /* grpc-message, first body line, or the failure; may be "" */
    /* What the server said about trying again (otelgen_retry): left 0 / false when it said nothing. */
    int64_t retry_after_ms;                 /* > 0: Retry-After, grpc-retry-pushback-ms or RetryInfo's delay */
    bool retry_info;                        /* a google.rpc.RetryInfo came with it (grpc-status-details-bin) */
    bool no_retry;                          /* a negative grpc-retry-pushback-ms: do not try again */
};

/* One request as it travels between the worker and a connection: its number (which makes its ids and picks
 * its tenant) and its clock. Passed by value; a connection keeps it until the request is settled. */
struct otelgen_req {
    uint64_t seq;
    int64_t due_ns;                         /* CLOCK_MONOTONIC time this attempt was due: latency runs from here */
    int64_t first_ns;                       /* when the first attempt was due: --retry-max-elapsed runs from here */
    uint32_t attempt;                       /* 0 for the first */
};

/* What a connection is given by its worker; copied into the connection. */
struct otelgen_conn_env {
    struct event_base *base;
    const struct otelgen_target *target;
    const struct otelgen_payload *payload;
    struct otelgen_payload_ctx *payload_ctx;
    struct otelgen_worker *worker;
    unsigned slot;                          /* the worker's number for this connection */
    unsigned depth;                         /* requests it may keep in flight (HTTP/1.1: 1) */
    const struct otelgen_addr *addr;
};

struct otelgen_client_ops {
    const char *name;
    /* Starts connecting. On success the connection runs until it calls otelgen_worker_conn_ended(), which
     * is never called from within open. Returns 0, or -1 with <err> set (nothing to clean up). */
    int (*open)(void **conn, const struct otelgen_conn_env *env, char *err, size_t errlen);
    /* The worker has no more requests and nothing is in flight: finish politely, then report the end (may
     * happen before close returns). */
    void (*close)(void *conn);
    /* The worker has requests again after saying it had none (otelgen_worker_next returned false): take
     * what there is room for and send it. Called from the worker's own event, never from inside a client
     * callback; may end the connection (otelgen_worker_conn_ended) before it returns. */
    void (*kick)(void *conn);
};

extern const struct otelgen_client_ops otelgen_grpc_client;
extern const struct otelgen_client_ops otelgen_http_client;

#endif
