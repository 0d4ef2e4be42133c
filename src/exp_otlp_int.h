/* exp_otlp_int.h: what the otlp / otlphttp exporter's files share: the
 * configuration (exp_otlp.c), the exporter's state, and the sender thread
 * (exp_otlp_sender.c). Not for other modules. */
#ifndef OG_EXP_OTLP_INT_H
#define OG_EXP_OTLP_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <zlib.h>

#include "component.h"
#include "exp_otlp_conn.h"
#include "exp_otlp_queue.h"
#include "spool.h"

#define EXP_OTLP_MAX_HEADERS 32
#define EXP_OTLP_MAX_QUEUES SPOOL_MAX_QUEUES
#define EXP_OTLP_SPOOL_GZIP 1u          /* spool_item.encoding of gzip-compressed batches */
#define EXP_OTLP_RUN_MAX 1024           /* sending_queue.batch: stored requests merged into one at most */

struct exp_otlp_retry_conf {
    bool enabled;
    int64_t initial_interval_ms;
    int64_t max_interval_ms;
    int64_t max_elapsed_time_ms;
};

/* sending_queue.batch: stored requests merged into larger ones on the way upstream (spool only). */
struct exp_otlp_batch_conf {
    bool enabled;                       /* the key is there */
    int64_t flush_timeout_ms;
    int64_t min_size;                   /* items that send a run at once; 0: no size trigger */
    int64_t max_size;                   /* most items in a run; 0: no limit */
    int sizer;                          /* items (the only sizer) */
};

struct exp_otlp_queue_conf {
    bool enabled;
    uint64_t queue_size;
    int64_t num_consumers;
    char *storage;                      /* a spool extension's id, or NULL: in memory */
    uint64_t max_size;                  /* spool: bytes per tenant queue; 0: the spool's max_size */
    int when_full;                      /* enum spool_when_full */
    int64_t max_age_ms;                 /* spool: 0 = none */
    struct exp_otlp_batch_conf batch;
};

struct exp_otlp_tls_conf {
    bool enabled;
    bool insecure;
};

struct exp_otlp_conf {
    char *endpoint;
    char *signal_endpoint[OG_SIGNAL_COUNT];     /* otlphttp: traces_endpoint, metrics_endpoint, logs_endpoint */
    struct config_strlist headers;
    int compression;                    /* enum exp_otlp_compression */
    int64_t timeout_ms;
    struct exp_otlp_retry_conf retry;
    struct exp_otlp_queue_conf queue;
    struct exp_otlp_tls_conf tls;
};

enum exp_otlp_compression { EXP_OTLP_GZIP, EXP_OTLP_NONE };

/* Counters, Collector names; each signal's items. */
struct exp_otlp_counts {
    _Atomic uint64_t sent[OG_SIGNAL_COUNT];         /* acknowledged (minus partial-success rejects) */
    _Atomic uint64_t failed[OG_SIGNAL_COUNT];       /* permanent answers and partial-success rejects */
    _Atomic uint64_t dropped[OG_SIGNAL_COUNT];      /* retries given up (max_elapsed_time, disabled) or lost at stop */
    _Atomic uint64_t retried[OG_SIGNAL_COUNT];      /* retryable answers */
    _Atomic uint64_t enqueue_failed[OG_SIGNAL_COUNT];   /* refused: queue full */
};

/* A spooled batch to send again: the keys of its first and last stored requests and how many it had, when,
 * and how often it was tried. */
struct exp_otlp_retry {
    uint64_t seq, last;
    unsigned n;
    int64_t due_ms;                     /* monotonic */
    unsigned attempts;
};

/* The run of stored requests a queue is making: what was read of it so far (sender thread). */
struct exp_otlp_run {
    uint64_t last;                      /* seq of its last stored request */
    uint64_t items;
    unsigned n;                         /* stored requests in it; 0: none yet */
    int64_t first_ms;                   /* when the first was stored (realtime) */
    enum og_signal signal;
    unsigned encoding;
    bool closed;                        /* it cannot grow any more */
};

/* One spool queue: one tenant's batches for this exporter, named "<exporter id>|<tenant>". */
struct exp_otlp_tq {
    struct spool_queue *sq;
    char *tenant;
    /* sender thread only: */
    uint64_t cursor;                    /* the last seq taken from the head */
    struct exp_otlp_run run;            /* the next batch, as far as it was read */
    unsigned held;                      /* in flight or waiting to be retried: at most num_consumers */
    struct exp_otlp_retry *retries;     /* num_consumers entries */
    unsigned nretries;
};

/* One worker's scratch: its deflate stream and output buffer, reused. */
struct exp_otlp_worker {
    z_stream zs;
    bool zs_ready;
    uint8_t *buf;
    size_t cap;
    struct exp_otlp_tq *last;           /* the queue of the last tenant seen */
};

struct exp_otlp {
    const char *id;
    const struct exp_otlp_conf *conf;
    const struct exp_otlp_transport *transport;
    struct exp_otlp_target targets[OG_SIGNAL_COUNT];
    char hosts[OG_SIGNAL_COUNT][256], ports[OG_SIGNAL_COUNT][8], paths[OG_SIGNAL_COUNT][256];
    const char *hnames[EXP_OTLP_MAX_HEADERS], *hvalues[EXP_OTLP_MAX_HEADERS];
    char *hbuf;                         /* the header strings, split */
    size_t n_headers;
    unsigned consumers;
    struct exp_otlp_worker *workers;
    unsigned n_workers;
    struct exp_otlp_counts counts;
    int wake_fd;
    _Atomic bool wake_pending;          /* wake_fd written, on_wake not yet run: no need to write again */
    _Atomic bool stopping;
    pthread_t thread;
    bool thread_started;

    /* in memory (no storage): */
    struct exp_otlp_queue queue;
    bool queue_ready;

    /* spool (storage): queues appear as tenants do; workers append under tq_lock, the sender reads ntq */
    struct spool *spool;
    struct spool_reader *reader;
    pthread_mutex_t tq_lock;
    bool tq_lock_ready;
    struct exp_otlp_tq *tqs[EXP_OTLP_MAX_QUEUES];
    struct spool_item *stored;          /* sender thread: what one read of a queue returns */
    _Atomic unsigned ntq;
    _Atomic bool tq_full_logged;

    /* sender thread only: */
    struct event_base *base;
    struct event *wake_ev, *tick_ev, *reconnect_ev;
    void *conn;                         /* the transport, NULL while reconnecting */
    struct exp_otlp_batch *retries;     /* in memory: waiting for their due time, sorted by it */
    unsigned rr;                        /* spool: the queue the next round starts at */
    int64_t reconnect_ms;               /* current reconnect backoff */
    int64_t stop_deadline_ms;           /* 0 until stopping was seen */
    bool final;                         /* giving up: every answer now counts as lost (or stays spooled) */
    char last_conn_error[EXP_OTLP_MESSAGE_MAX];
};

int64_t exp_otlp_now_ms(void);

/* Wakes the sender thread (new data); any thread. */
void exp_otlp_wake(struct exp_otlp *e);

/* Starts the sender thread on its own event_base. Returns 0, or -1 with a reason. */
int exp_otlp_sender_start(struct exp_otlp *e, char *err, size_t errlen);

/* Asks the sender to stop (in memory: send what is queued for a while, then give up; spool: finish what is
 * in flight, leave the rest stored) and joins it. */
void exp_otlp_sender_stop(struct exp_otlp *e);

#endif
