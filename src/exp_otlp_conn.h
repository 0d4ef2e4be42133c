/* exp_otlp_conn.h: one h2c (HTTP/2 prior knowledge) connection of the otlp
 * exporter to its upstream, carrying gRPC Export calls as concurrent
 * streams. Exporter thread only. */
#ifndef OG_EXP_OTLP_CONN_H
#define OG_EXP_OTLP_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "exp_otlp_queue.h"

#define EXP_OTLP_MESSAGE_MAX 200

/* What the upstream (or the transport) said about one batch. */
struct exp_otlp_answer {
    bool transport;                 /* no gRPC answer: connection lost, reset, deadline */
    int grpc_status;                /* -1 when none */
    int http_status;                /* 0 when none */
    bool retry_info;                /* a google.rpc.RetryInfo came in grpc-status-details-bin */
    int64_t retry_after_ms;         /* RetryInfo delay or grpc-retry-pushback-ms; -1 when none */
    int64_t rejected;               /* partial success: items the upstream rejected */
    char message[EXP_OTLP_MESSAGE_MAX];
};

struct exp_otlp_conn;

struct exp_otlp_conn_env {
    struct event_base *base;
    const char *id;                 /* for log lines */
    const char *host, *port;
    const char *const *header_names, *const *header_values;    /* configured headers */
    size_t n_headers;
    bool gzip;                      /* batches are gzip-compressed gRPC messages */
    /* Each submitted batch comes back exactly once, here (returned owned). */
    void (*on_answer)(void *arg, struct exp_otlp_batch *b, const struct exp_otlp_answer *a);
    /* The connection can take (more) batches. */
    void (*on_ready)(void *arg);
    /* The connection is gone (after every batch it held was answered); the
     * conn is freed right after this returns. */
    void (*on_closed)(void *arg, const char *why);
    void *arg;
};

/* Starts connecting. Returns the conn, or NULL with a reason in err. The
 * host name is resolved on the exporter thread (getaddrinfo may block it,
 * never a worker). */
struct exp_otlp_conn *exp_otlp_conn_open(const struct exp_otlp_conn_env *env, char *err, size_t errlen);

/* Streams the conn could open now (0 while connecting or going away). */
unsigned exp_otlp_conn_room(const struct exp_otlp_conn *c, unsigned want);
unsigned exp_otlp_conn_inflight(const struct exp_otlp_conn *c);

/* Sends <b> (taken until on_answer gives it back) at <now_ms>. Returns 0, or
 * -1 leaving <b> to the caller. */
int exp_otlp_conn_submit(struct exp_otlp_conn *c, struct exp_otlp_batch *b, int64_t now_ms);

/* Lets the exporter fill free streams (on_ready) and writes what was
 * submitted. May end the connection (on_closed runs before it returns). */
void exp_otlp_conn_kick(struct exp_otlp_conn *c);

/* Cancels streams older than <timeout_ms>: they are answered as
 * DEADLINE_EXCEEDED. */
void exp_otlp_conn_expire(struct exp_otlp_conn *c, int64_t now_ms, int64_t timeout_ms);

/* Ends the connection at once: every batch in flight is answered as a
 * transport failure, then on_closed runs. */
void exp_otlp_conn_close(struct exp_otlp_conn *c, const char *why);

#endif
