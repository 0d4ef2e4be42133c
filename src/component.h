/* component.h: the contract every receiver, processor, exporter and extension
 * implements (one const struct per type, listed in registry.c), and the
 * running instance the gateway keeps for each configured id. */
#ifndef OG_COMPONENT_H
#define OG_COMPONENT_H

#include <stddef.h>
#include <stdint.h>

#include "config_diag.h"
#include "config_schema.h"
#include "config_yaml.h"

enum og_kind {
    OG_KIND_RECEIVER,
    OG_KIND_PROCESSOR,
    OG_KIND_EXPORTER,
    OG_KIND_EXTENSION,
    OG_KIND_COUNT,
};

enum og_signal {
    OG_SIGNAL_TRACES,
    OG_SIGNAL_METRICS,
    OG_SIGNAL_LOGS,
    OG_SIGNAL_COUNT,
};
#define OG_SIGNAL_BIT(s) (1u << (s))
#define OG_SIGNAL_ALL    0x7u

struct gateway;
struct component;
struct reactor;
struct evbuffer;

/* One request's telemetry as a pipeline carries it: the protobuf bytes of an
 * Export*ServiceRequest, exactly as received (after decompression or JSON
 * conversion), with what the intake scan counted. */
struct otlp_payload {
    enum og_signal signal;
    /* The bytes, borrowed (valid during consume() only): in one piece at
     * <data>, or, when <data> is NULL, in the evbuffer <buf> (a batch: a
     * chain per request, moved there, not copied). otlp_payload_bytes()
     * gives them in one piece either way. */
    const uint8_t *data;
    struct evbuffer *buf;
    size_t len;
    uint64_t resources;
    uint64_t items;             /* spans, data points or log records */
    const char *tenant;         /* from the receiver's tenant header; "" for none */
    /* Not NULL when *give_buf is an evbuffer that holds the bytes and
     * nothing else, which its producer no longer needs: a consumer that
     * keeps the bytes whole may take it (set *give_buf to NULL; it is then
     * the taker's to evbuffer_free(), on any thread) instead of copying
     * them. pipeline_run offers it to the last of several consumers only. */
    struct evbuffer **give_buf;
};

/* The bytes of <p> in one piece: <data>, or <buf> made one chain (a copy,
 * made once: <buf> stays one chain). NULL when out of memory. */
const uint8_t *otlp_payload_bytes(const struct otlp_payload *p);

/* consume() results besides 0 and -1: refused for now, the client retries;
 * held (the answer comes later through the og_wait). */
#define OG_RETRY 1
#define OG_PENDING 2

/* What one request (or one batch) waits on while exporters hold it: the
 * spool committing it, a batch filling up. Whoever returns OG_PENDING has
 * called og_wait_hold() and calls og_wait_release() exactly once later, on
 * the same worker; done() runs when the last holder released, with
 * w->status the worst result (-1 over OG_RETRY over 0). Worker thread only:
 * no locks. */
struct og_wait {
    unsigned pending;
    int status;
    void (*done)(struct og_wait *w);
};

static inline int og_status_worst(int a, int b)
{
    return a < 0 || b < 0 ? -1 : a == OG_RETRY || b == OG_RETRY ? OG_RETRY : 0;
}

static inline void og_wait_hold(struct og_wait *w)
{
    w->pending++;
}

static inline void og_wait_release(struct og_wait *w, int status)
{
    w->status = og_status_worst(w->status, status);
    if (--w->pending == 0)
        w->done(w);
}

/* Merges a synchronous result into <w> (OG_PENDING: nothing to merge). */
static inline void og_wait_merge(struct og_wait *w, int rc)
{
    if (rc != OG_PENDING)
        w->status = og_status_worst(w->status, rc);
}

struct pipeline;

struct og_component_type {
    const char *name;                       /* config type, Collector spelling: "health_check" */
    enum og_kind kind;
    const struct og_config_key *keys;       /* schema; { NULL }-terminated */
    size_t conf_size;                       /* size of the parsed per-instance conf */
    unsigned signals;                       /* pipeline signals it can serve (not extensions) */
    /* Checks what the key table cannot express (keys that exclude each other).
     * Reports on <d> and returns -1 on an error. May be NULL. */
    int (*check)(const void *conf, const char *id, const struct cfg_node *key, const struct cfg_node *val,
                 struct config_diag *d);
    /* Acquires what the component needs (ports, directories) and starts it.
     * Runs on the main thread before any client is served; may block. Returns
     * 0, or -1 with a one-line reason in err. */
    int (*start)(struct component *c, struct gateway *gw, char *err, size_t errlen);
    /* Every component has started: a last look at what none of them took (the spool: queues no exporter
     * serves). Main thread; may be NULL. */
    void (*started)(struct component *c);
    /* Requests still being served, summed over workers: the drain waits for
     * 0. May be NULL (nothing in flight, ever). */
    uint64_t (*inflight)(const struct component *c);
    /* Stops taking new work (receivers: close listeners, finish what is in
     * flight). Main thread; may be NULL. */
    void (*drain)(struct component *c);
    /* Exporters: takes one request's (or batch's) telemetry. Runs on
     * worker <r> (the calling thread's reactor), must not block, and copies
     * what it keeps. Returns 0 when taken, OG_RETRY when refused for now
     * (full: the client is told to retry), -1 on a hard error, or
     * OG_PENDING after og_wait_hold(w) when the verdict comes later (the
     * spool commits it). */
    int (*consume)(struct component *c, struct reactor *r, const struct otlp_payload *p, struct og_wait *w);
    /* Exporters: true when it batches what it takes by itself (sending_queue.batch), so that a batch
     * processor in front of it passes requests on instead of batching them twice. May be NULL (false). */
    bool (*batches)(const struct component *c);
    /* Exporters: true when it answers a request once it is stored (sending_queue.storage), so that a batch
     * processor in front of it makes group commits instead of holding requests for its size or timeout with
     * the disk idle. May be NULL (false). */
    bool (*stores)(const struct component *c);
    /* Processors: takes <p> on worker <r> and passes it (or what it made of
     * it) on with pipeline_run(pl, next, ...). Returns as consume does. */
    int (*process)(struct component *c, struct pipeline *pl, size_t next, struct reactor *r,
                   const struct otlp_payload *p, struct og_wait *w);
    /* Releases everything; must accept a component whose start failed. */
    void (*stop)(struct component *c);
};

struct component {
    const struct og_component_type *type;
    const char *id;                         /* borrowed from the config */
    const void *conf;                       /* borrowed from the config */
    void *state;                            /* owned by the type's start/stop */
};

const char *component_kind_name(enum og_kind kind);          /* "receiver" */
const char *component_kind_section(enum og_kind kind);       /* "receivers" */
const char *component_signal_name(enum og_signal signal);    /* "traces" */
/* The OTLP/gRPC method of a signal: "/opentelemetry.proto.collector.trace.v1.TraceService/Export". */
const char *component_signal_grpc_path(enum og_signal signal);

#endif
