/* exp_otlp.c: the Collector's otlp exporter (OTLP/gRPC over h2c). Workers
 * compress each request once (gzip) and append it to a byte-bounded sending
 * queue, then wake the exporter's own thread through an eventfd; a full queue
 * answers OG_RETRY so the client retries. The exporter thread runs its own
 * event_base ("exporter reactor"), keeps one long-lived HTTP/2 connection
 * with up to num_consumers streams in flight, classifies every answer as the
 * OTLP specification says and retries with exponential backoff and jitter.
 * A batch leaves the queue only after success, a permanent answer or
 * max_elapsed_time. The queue is in memory: lost on crash, and on stop after
 * a bounded attempt to send it. */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <zlib.h>

#include "component.h"
#include "exp_otlp_conn.h"
#include "exp_otlp_queue.h"
#include "util/endpoint.h"
#include "gateway.h"
#include "log.h"
#include "reactor.h"

#define EXP_OTLP_TICK_MS 50                 /* deadlines, due retries and stop are checked this often */
#define EXP_OTLP_STOP_WAIT_MS 5000          /* stop() sends what is queued for this long at most */
#define EXP_OTLP_RECONNECT_MIN_MS 100
#define EXP_OTLP_MAX_HEADERS 32

struct exp_otlp_retry_conf {
    bool enabled;
    int64_t initial_interval_ms;
    int64_t max_interval_ms;
    int64_t max_elapsed_time_ms;
};

struct exp_otlp_queue_conf {
    bool enabled;
    uint64_t queue_size;
    int64_t num_consumers;
};

struct exp_otlp_tls_conf {
    bool enabled;
    bool insecure;
};

struct exp_otlp_conf {
    char *endpoint;
    struct config_strlist headers;
    int compression;
    int64_t timeout_ms;
    struct exp_otlp_retry_conf retry;
    struct exp_otlp_queue_conf queue;
    struct exp_otlp_tls_conf tls;
};

enum exp_otlp_compression { EXP_OTLP_GZIP, EXP_OTLP_NONE };
static const char *const exp_otlp_compressions[] = { "gzip", "none", NULL };

static const struct og_config_key exp_otlp_retry_keys[] = {
    { "enabled", KEY_BOOL, "true", offsetof(struct exp_otlp_retry_conf, enabled),
      .doc = "retry retryable failures; off: drop them" },
    { "initial_interval", KEY_DURATION, "5s", offsetof(struct exp_otlp_retry_conf, initial_interval_ms), 1, 3600000,
      .doc = "first backoff, doubled per attempt, with +-50% jitter" },
    { "max_interval", KEY_DURATION, "30s", offsetof(struct exp_otlp_retry_conf, max_interval_ms), 1, 3600000,
      .doc = "backoff cap" },
    { "max_elapsed_time", KEY_DURATION, "300s", offsetof(struct exp_otlp_retry_conf, max_elapsed_time_ms), 0,
      INT64_C(86400000) * 365, .doc = "give up on a batch this long after its first attempt; 0: never" },
    { NULL },
};

static const struct og_config_key exp_otlp_queue_keys[] = {
    { "enabled", KEY_BOOL, "true", offsetof(struct exp_otlp_queue_conf, enabled),
      .doc = "false: hold one request at a time, so clients are refused sooner" },
    { "queue_size", KEY_SIZE, "64MiB", offsetof(struct exp_otlp_queue_conf, queue_size), 1024, UINT64_C(1) << 40,
      .doc = "bytes queued (compressed, in memory); beyond, clients are told to retry" },
    { "num_consumers", KEY_INT, "10", offsetof(struct exp_otlp_queue_conf, num_consumers), 1, 1000,
      .doc = "requests in flight on the connection (HTTP/2 streams)" },
    { NULL },
};

static const struct og_config_key exp_otlp_tls_keys[] = {
    { "insecure", KEY_BOOL, "true", offsetof(struct exp_otlp_tls_conf, insecure),
      .doc = "must be true: only h2c (no TLS) for now" },
    { NULL },
};

static const struct og_config_key exp_otlp_keys[] = {
    { "endpoint", KEY_ENDPOINT, NULL, offsetof(struct exp_otlp_conf, endpoint), .flags = OG_KEY_REQUIRED,
      .doc = "upstream host:port (h2c)" },
    { "headers", KEY_STRLIST, NULL, offsetof(struct exp_otlp_conf, headers),
      .doc = "extra request headers, each \"Name=value\"" },
    { "compression", KEY_ENUM, "gzip", offsetof(struct exp_otlp_conf, compression),
      .values = exp_otlp_compressions, .doc = "gzip: compressed once, when queued; none" },
    { "timeout", KEY_DURATION, "5s", offsetof(struct exp_otlp_conf, timeout_ms), 1, 600000,
      .doc = "deadline of one Export call" },
    { "retry_on_failure", KEY_SECTION, NULL, offsetof(struct exp_otlp_conf, retry), .sub = exp_otlp_retry_keys,
      .doc = "backoff of retryable failures" },
    { "sending_queue", KEY_SECTION, NULL, offsetof(struct exp_otlp_conf, queue), .sub = exp_otlp_queue_keys,
      .doc = "the in-memory queue in front of the connection" },
    { "tls", KEY_SECTION, NULL, offsetof(struct exp_otlp_conf, tls), .flags = OG_KEY_PRESENCE,
      .sub = exp_otlp_tls_keys, .doc = "only {insecure: true} for now" },
    { NULL },
};

/* Counters, Collector names; each signal's items. */
struct exp_otlp_counts {
    _Atomic uint64_t sent[OG_SIGNAL_COUNT];         /* acknowledged (minus partial-success rejects) */
    _Atomic uint64_t failed[OG_SIGNAL_COUNT];       /* permanent answers and partial-success rejects */
    _Atomic uint64_t dropped[OG_SIGNAL_COUNT];      /* retries given up (max_elapsed_time, disabled) or lost at stop */
    _Atomic uint64_t retried[OG_SIGNAL_COUNT];      /* retryable answers */
    _Atomic uint64_t enqueue_failed[OG_SIGNAL_COUNT];   /* refused: queue full */
};

struct exp_otlp {
    const char *id;
    const struct exp_otlp_conf *conf;
    char host[256], port[8];
    const char *hnames[EXP_OTLP_MAX_HEADERS], *hvalues[EXP_OTLP_MAX_HEADERS];
    char *hbuf;                         /* the header strings, split */
    size_t n_headers;
    unsigned consumers;
    z_stream *zs;                       /* one deflate stream per worker */
    unsigned n_zs;
    struct exp_otlp_queue queue;
    bool queue_ready;
    int wake_fd;
    _Atomic bool stopping;
    pthread_t thread;
    bool thread_started;
    struct exp_otlp_counts counts;
    /* exporter thread only: */
    struct event_base *base;
    struct event *wake_ev, *tick_ev, *reconnect_ev;
    struct exp_otlp_conn *conn;
    struct exp_otlp_batch *retries;     /* waiting for their due time, sorted by it */
    int64_t reconnect_ms;               /* current reconnect backoff */
    int64_t stop_deadline_ms;           /* 0 until stopping was seen */
    bool final;                         /* giving up: every answer now counts as lost */
    char last_conn_error[EXP_OTLP_MESSAGE_MAX];
};

static int64_t exp_otlp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A delay of <ms> +-50%, as the Collector's randomization_factor 0.5; spreads retries of many batches. */
static int64_t exp_otlp_jitter(int64_t ms)
{
    if (ms < 2)
        return ms;
    return ms / 2 + (int64_t)((uint64_t)random() % (uint64_t)ms);
}

/* ---- classification ---- */

enum exp_otlp_verdict { EXP_OTLP_OK, EXP_OTLP_RETRY, EXP_OTLP_PERMANENT };

/* The OTLP specification's rule: these codes are retryable, RESOURCE_EXHAUSTED only with RetryInfo; an HTTP
 * status without grpc-status maps as gRPC clients map it (429/502/503/504 -> UNAVAILABLE). */
static enum exp_otlp_verdict exp_otlp_classify(const struct exp_otlp_answer *a)
{
    if (a->transport)
        return EXP_OTLP_RETRY;
    if (a->grpc_status < 0) {
        int h = a->http_status;
        return h == 429 || h == 502 || h == 503 || h == 504 ? EXP_OTLP_RETRY : EXP_OTLP_PERMANENT;
    }
    switch (a->grpc_status) {
    case 0: return EXP_OTLP_OK;
    case 1:                             /* CANCELLED */
    case 4:                             /* DEADLINE_EXCEEDED */
    case 10:                            /* ABORTED */
    case 11:                            /* OUT_OF_RANGE */
    case 14:                            /* UNAVAILABLE */
    case 15: return EXP_OTLP_RETRY;     /* DATA_LOSS */
    case 8: return a->retry_info ? EXP_OTLP_RETRY : EXP_OTLP_PERMANENT;    /* RESOURCE_EXHAUSTED */
    default: return EXP_OTLP_PERMANENT;
    }
}

static const char *exp_otlp_item_name(enum og_signal s)
{
    static const char *const names[] = { "spans", "metric_points", "log_records" };
    return names[s];
}

/* ---- the exporter thread: dispatching ---- */

static void exp_otlp_retry_insert(struct exp_otlp *e, struct exp_otlp_batch *b)
{
    struct exp_otlp_batch **pp = &e->retries;

    while (*pp != NULL && (*pp)->due_ms <= b->due_ms)
        pp = &(*pp)->next;
    b->next = *pp;
    *pp = b;
}

/* The next batch to send: a due retry first (older data), else the queue's oldest. */
static struct exp_otlp_batch *exp_otlp_next(struct exp_otlp *e, int64_t now)
{
    struct exp_otlp_batch *b = e->retries;

    if (b != NULL && b->due_ms <= now) {
        e->retries = b->next;
        b->next = NULL;
        return b;
    }
    return exp_otlp_queue_take(&e->queue);
}

/* Fills the connection's free streams. */
static void exp_otlp_pump(struct exp_otlp *e)
{
    int64_t now = exp_otlp_now_ms();
    unsigned room = exp_otlp_conn_room(e->conn, e->consumers);

    while (room-- > 0 && !e->final) {
        struct exp_otlp_batch *b = exp_otlp_next(e, now);
        if (b == NULL)
            return;
        if (b->first_try_ms == 0)
            b->first_try_ms = now;
        b->attempts++;
        if (exp_otlp_conn_submit(e->conn, b, now) != 0) {
            b->due_ms = now + EXP_OTLP_TICK_MS;     /* out of memory or session refused: soon again */
            exp_otlp_retry_insert(e, b);
            return;
        }
    }
}

static void exp_otlp_drop(struct exp_otlp *e, struct exp_otlp_batch *b, _Atomic uint64_t *counter,
                          const char *what, const struct exp_otlp_answer *a)
{
    atomic_fetch_add(&counter[b->signal], b->items);
    log_warn(e->id, "%s %llu %s: %s (grpc-status %d)", what, (unsigned long long)b->items,
             exp_otlp_item_name(b->signal), a->message[0] ? a->message : "no message", a->grpc_status);
    exp_otlp_queue_release(&e->queue, b);
}

/* A retryable answer: back to the retry list after its backoff, unless retries are off or out of time. */
static void exp_otlp_on_retryable(struct exp_otlp *e, struct exp_otlp_batch *b, const struct exp_otlp_answer *a)
{
    const struct exp_otlp_retry_conf *rc = &e->conf->retry;
    int64_t now = exp_otlp_now_ms(), delay = rc->initial_interval_ms;

    for (unsigned i = 1; i < b->attempts && delay < rc->max_interval_ms; i++)
        delay *= 2;
    if (delay > rc->max_interval_ms)
        delay = rc->max_interval_ms;
    delay = exp_otlp_jitter(delay);
    if (a->retry_after_ms > 0)
        delay = a->retry_after_ms;      /* the upstream's own word wins */
    if (!rc->enabled) {
        exp_otlp_drop(e, b, e->counts.dropped, "retry_on_failure disabled, dropping", a);
        return;
    }
    if (rc->max_elapsed_time_ms > 0 && now + delay - b->first_try_ms > rc->max_elapsed_time_ms) {
        exp_otlp_drop(e, b, e->counts.dropped, "max_elapsed_time reached, dropping", a);
        return;
    }
    atomic_fetch_add(&e->counts.retried[b->signal], b->items);
    log_debug(e->id, "retrying %llu %s in %lldms: %s", (unsigned long long)b->items,
              exp_otlp_item_name(b->signal), (long long)delay, a->message);
    b->due_ms = now + delay;
    exp_otlp_retry_insert(e, b);
}

static void exp_otlp_on_answer(void *arg, struct exp_otlp_batch *b, const struct exp_otlp_answer *a)
{
    struct exp_otlp *e = arg;

    if (e->final) {
        atomic_fetch_add(&e->counts.dropped[b->signal], b->items);
        exp_otlp_queue_release(&e->queue, b);
        return;
    }
    switch (exp_otlp_classify(a)) {
    case EXP_OTLP_OK: {
        uint64_t rejected = a->rejected > 0 ? (uint64_t)a->rejected : 0;
        if (rejected > b->items)
            rejected = b->items;
        if (rejected > 0) {
            atomic_fetch_add(&e->counts.failed[b->signal], rejected);
            log_warn(e->id, "partial success: upstream rejected %llu of %llu %s: %s", (unsigned long long)rejected,
                     (unsigned long long)b->items, exp_otlp_item_name(b->signal), a->message);
        }
        atomic_fetch_add(&e->counts.sent[b->signal], b->items - rejected);
        e->reconnect_ms = 0;            /* the upstream works: the next reconnect is quick */
        exp_otlp_queue_release(&e->queue, b);
        return;
    }
    case EXP_OTLP_RETRY: exp_otlp_on_retryable(e, b, a); return;
    case EXP_OTLP_PERMANENT: exp_otlp_drop(e, b, e->counts.failed, "permanent error, dropping", a); return;
    }
}

static void exp_otlp_on_ready(void *arg)
{
    exp_otlp_pump(arg);
}

static void exp_otlp_on_closed(void *arg, const char *why)
{
    struct exp_otlp *e = arg;
    struct timeval tv;

    e->conn = NULL;
    if (e->final)
        return;
    if (strcmp(why, e->last_conn_error) != 0) {     /* once per reason, not once per reconnect */
        log_warn(e->id, "%s", why);
        snprintf(e->last_conn_error, sizeof e->last_conn_error, "%s", why);
    }
    e->reconnect_ms = e->reconnect_ms == 0 ? EXP_OTLP_RECONNECT_MIN_MS : e->reconnect_ms * 2;
    if (e->reconnect_ms > e->conf->retry.max_interval_ms)
        e->reconnect_ms = e->conf->retry.max_interval_ms;
    int64_t ms = exp_otlp_jitter(e->reconnect_ms);
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    event_add(e->reconnect_ev, &tv);
}

static void exp_otlp_connect(struct exp_otlp *e)
{
    struct exp_otlp_conn_env env = {
        .base = e->base, .id = e->id, .host = e->host, .port = e->port,
        .header_names = e->hnames, .header_values = e->hvalues, .n_headers = e->n_headers,
        .gzip = e->conf->compression == EXP_OTLP_GZIP,
        .on_answer = exp_otlp_on_answer, .on_ready = exp_otlp_on_ready, .on_closed = exp_otlp_on_closed, .arg = e,
    };
    char err[EXP_OTLP_MESSAGE_MAX];

    e->conn = exp_otlp_conn_open(&env, err, sizeof err);
    if (e->conn == NULL)
        exp_otlp_on_closed(e, err);
}

static void exp_otlp_on_reconnect(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    exp_otlp_connect(arg);
}

static void exp_otlp_on_wake(evutil_socket_t fd, short what, void *arg)
{
    uint64_t n;
    (void)what;

    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        return;
    exp_otlp_conn_kick(((struct exp_otlp *)arg)->conn);   /* fills free streams, then writes */
}

/* ---- stopping ---- */

/* Gives up on everything still held: counted as dropped and logged. */
static void exp_otlp_give_up(struct exp_otlp *e)
{
    uint64_t lost[OG_SIGNAL_COUNT] = { 0 };

    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        lost[s] = atomic_load(&e->counts.dropped[s]);
    e->final = true;
    if (e->conn != NULL)
        exp_otlp_conn_close(e->conn, "stopping");
    while (e->retries != NULL) {
        struct exp_otlp_batch *b = e->retries;
        e->retries = b->next;
        atomic_fetch_add(&e->counts.dropped[b->signal], b->items);
        exp_otlp_queue_release(&e->queue, b);
    }
    for (struct exp_otlp_batch *b; (b = exp_otlp_queue_take(&e->queue)) != NULL;) {
        atomic_fetch_add(&e->counts.dropped[b->signal], b->items);
        exp_otlp_queue_release(&e->queue, b);
    }
    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        lost[s] = atomic_load(&e->counts.dropped[s]) - lost[s];
    if (lost[0] + lost[1] + lost[2] > 0)
        log_error(e->id, "stopping with unsent data, lost: spans=%llu metric_points=%llu log_records=%llu",
                  (unsigned long long)lost[0], (unsigned long long)lost[1], (unsigned long long)lost[2]);
}

static bool exp_otlp_idle(struct exp_otlp *e)
{
    bool empty;

    pthread_mutex_lock(&e->queue.lock);
    empty = e->queue.bytes == 0;
    pthread_mutex_unlock(&e->queue.lock);
    return empty;
}

static void exp_otlp_on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct exp_otlp *e = arg;
    int64_t now = exp_otlp_now_ms();
    (void)fd;
    (void)what;

    exp_otlp_conn_expire(e->conn, now, e->conf->timeout_ms);
    exp_otlp_conn_kick(e->conn);        /* writes the resets, sends due retries */
    if (!atomic_load(&e->stopping))
        return;
    if (e->stop_deadline_ms == 0) {
        e->stop_deadline_ms = now + EXP_OTLP_STOP_WAIT_MS;
        for (struct exp_otlp_batch *b = e->retries; b != NULL; b = b->next)
            b->due_ms = now;            /* stopping: one more try each, no waiting out backoffs */
    }
    if (exp_otlp_idle(e) || now >= e->stop_deadline_ms) {
        exp_otlp_give_up(e);
        event_base_loopbreak(e->base);
    }
}

static void *exp_otlp_main(void *arg)
{
    struct exp_otlp *e = arg;

    exp_otlp_connect(e);
    event_base_dispatch(e->base);
    if (!e->final)
        exp_otlp_give_up(e);
    return NULL;
}

/* ---- workers ---- */

/* Frames <p> as one gRPC message (gzip-compressed when configured) in a new batch, returned owned; NULL when
 * out of memory or when deflate failed. Worker thread <zs>: one deflate stream per worker, reset per use. */
static struct exp_otlp_batch *exp_otlp_batch_create(const struct exp_otlp *e, z_stream *zs,
                                                    const struct otlp_payload *p)
{
    bool gzip = e->conf->compression == EXP_OTLP_GZIP;
    size_t room = gzip ? deflateBound(zs, p->len) : p->len, tlen = strlen(p->tenant) + 1;
    struct exp_otlp_batch *b = malloc(sizeof *b + tlen + 5 + room);

    if (b == NULL)
        return NULL;
    uint8_t *data = (uint8_t *)(b + 1) + tlen;
    memcpy((char *)(b + 1), p->tenant, tlen);
    size_t len = p->len;
    if (gzip) {
        deflateReset(zs);
        zs->next_in = (Bytef *)p->data;
        zs->avail_in = (uInt)p->len;
        zs->next_out = data + 5;
        zs->avail_out = (uInt)room;
        if (deflate(zs, Z_FINISH) != Z_STREAM_END) {
            free(b);
            return NULL;
        }
        len = room - zs->avail_out;
    } else {
        memcpy(data + 5, p->data, p->len);
    }
    data[0] = gzip ? 1 : 0;
    data[1] = (uint8_t)(len >> 24);
    data[2] = (uint8_t)(len >> 16);
    data[3] = (uint8_t)(len >> 8);
    data[4] = (uint8_t)len;
    *b = (struct exp_otlp_batch){ .signal = p->signal, .items = p->items, .tenant = (const char *)(b + 1),
                                  .data = data, .len = len + 5 };
    return b;
}

/* Queues one request. Worker <r>; never blocks beyond the queue's short lock. Returns 0 when queued, OG_RETRY
 * when the queue is full, stopping or out of memory (the client retries), -1 when the request is too large
 * to frame. */
static int exp_otlp_consume(struct component *c, struct reactor *r, const struct otlp_payload *p)
{
    struct exp_otlp *e = c->state;
    int was_empty = 0;

    if (p->len > UINT32_MAX - 64)
        return -1;
    if (atomic_load(&e->stopping))
        return OG_RETRY;
    struct exp_otlp_batch *b = exp_otlp_batch_create(e, &e->zs[reactor_id(r) % e->n_zs], p);
    if (b == NULL)
        return OG_RETRY;
    if (exp_otlp_queue_put(&e->queue, b, &was_empty) != 0) {
        atomic_fetch_add(&e->counts.enqueue_failed[p->signal], p->items);
        free(b);
        return OG_RETRY;
    }
    if (was_empty) {
        uint64_t one = 1;
        ssize_t w = write(e->wake_fd, &one, sizeof one);    /* fails only when a wake-up is pending anyway */
        (void)w;
    }
    return 0;
}

/* ---- lifecycle ---- */

static void exp_otlp_log_counts(const struct exp_otlp *e)
{
    const struct exp_otlp_counts *n = &e->counts;

    log_info(e->id, "stopped: otelcol_exporter_sent_spans=%llu otelcol_exporter_sent_metric_points=%llu "
             "otelcol_exporter_sent_log_records=%llu otelcol_exporter_send_failed_spans=%llu "
             "otelcol_exporter_send_failed_metric_points=%llu otelcol_exporter_send_failed_log_records=%llu "
             "dropped_spans=%llu dropped_metric_points=%llu dropped_log_records=%llu "
             "retried_spans=%llu retried_metric_points=%llu retried_log_records=%llu "
             "otelcol_exporter_enqueue_failed_spans=%llu otelcol_exporter_enqueue_failed_metric_points=%llu "
             "otelcol_exporter_enqueue_failed_log_records=%llu",
             (unsigned long long)n->sent[0], (unsigned long long)n->sent[1], (unsigned long long)n->sent[2],
             (unsigned long long)n->failed[0], (unsigned long long)n->failed[1], (unsigned long long)n->failed[2],
             (unsigned long long)n->dropped[0], (unsigned long long)n->dropped[1],
             (unsigned long long)n->dropped[2], (unsigned long long)n->retried[0],
             (unsigned long long)n->retried[1], (unsigned long long)n->retried[2],
             (unsigned long long)n->enqueue_failed[0], (unsigned long long)n->enqueue_failed[1],
             (unsigned long long)n->enqueue_failed[2]);
}

static void exp_otlp_stop(struct component *c)
{
    struct exp_otlp *e = c->state;

    if (e == NULL)
        return;
    if (e->thread_started) {
        uint64_t one = 1;
        atomic_store(&e->stopping, true);
        ssize_t w = write(e->wake_fd, &one, sizeof one);
        (void)w;
        pthread_join(e->thread, NULL);
        exp_otlp_log_counts(e);
    }
    if (e->wake_ev != NULL)
        event_free(e->wake_ev);
    if (e->tick_ev != NULL)
        event_free(e->tick_ev);
    if (e->reconnect_ev != NULL)
        event_free(e->reconnect_ev);
    if (e->base != NULL)
        event_base_free(e->base);
    if (e->queue_ready)
        exp_otlp_queue_dispose(&e->queue, NULL, NULL);
    for (unsigned i = 0; e->zs != NULL && i < e->n_zs; i++)
        deflateEnd(&e->zs[i]);
    free(e->zs);
    if (e->wake_fd != -1)
        close(e->wake_fd);
    free(e->hbuf);
    free(e);
    c->state = NULL;
}

/* Splits the endpoint; ":port" means this host. Returns 0, or -1 when a part is too long. */
static int exp_otlp_split_endpoint(struct exp_otlp *e, const char *ep)
{
    if (endpoint_split(ep, e->host, sizeof e->host, e->port, sizeof e->port) != 0)
        return -1;
    if (e->host[0] == '\0')
        snprintf(e->host, sizeof e->host, "localhost");
    return 0;
}

/* "Name=value" entries into lower-case names (HTTP/2 wants them) and values. */
static int exp_otlp_split_headers(struct exp_otlp *e, char *err, size_t errlen)
{
    const struct config_strlist *h = &e->conf->headers;
    size_t total = 0;

    for (size_t i = 0; i < h->n; i++)
        total += strlen(h->v[i]) + 1;
    e->hbuf = malloc(total + 1);
    if (e->hbuf == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char *p = e->hbuf;
    for (size_t i = 0; i < h->n && i < EXP_OTLP_MAX_HEADERS; i++) {
        size_t n = strlen(h->v[i]) + 1;
        memcpy(p, h->v[i], n);
        char *eq = strchr(p, '=');
        *eq = '\0';
        for (char *q = p; *q; q++)
            if (*q >= 'A' && *q <= 'Z')
                *q = (char)(*q - 'A' + 'a');
        e->hnames[e->n_headers] = p;
        e->hvalues[e->n_headers++] = eq + 1;
        p += n;
    }
    return 0;
}

static int exp_otlp_start_thread(struct exp_otlp *e, char *err, size_t errlen)
{
    struct timeval tick = { 0, EXP_OTLP_TICK_MS * 1000 };

    e->base = event_base_new();
    if (e->base == NULL)
        goto nomem;
    e->wake_ev = event_new(e->base, e->wake_fd, EV_READ | EV_PERSIST, exp_otlp_on_wake, e);
    e->tick_ev = event_new(e->base, -1, EV_PERSIST, exp_otlp_on_tick, e);
    e->reconnect_ev = evtimer_new(e->base, exp_otlp_on_reconnect, e);
    if (e->wake_ev == NULL || e->tick_ev == NULL || e->reconnect_ev == NULL || event_add(e->wake_ev, NULL) != 0 ||
        event_add(e->tick_ev, &tick) != 0)
        goto nomem;
    int rc = pthread_create(&e->thread, NULL, exp_otlp_main, e);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the exporter thread: %s", strerror(rc));
        return -1;
    }
    e->thread_started = true;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int exp_otlp_start(struct component *c, struct gateway *gw, char *err, size_t errlen)
{
    struct exp_otlp *e = calloc(1, sizeof *e);

    if (e == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->state = e;
    e->id = c->id;
    e->conf = c->conf;
    e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    e->consumers = (unsigned)e->conf->queue.num_consumers;
    if (e->wake_fd == -1) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        return -1;
    }
    if (exp_otlp_split_endpoint(e, e->conf->endpoint) != 0) {
        snprintf(err, errlen, "endpoint %s: host name too long", e->conf->endpoint);
        return -1;
    }
    if (exp_otlp_split_headers(e, err, errlen) != 0)
        return -1;
    /* Without a queue, hold one request per stream; the limit is bytes, so count a generous request. */
    uint64_t max = e->conf->queue.enabled ? e->conf->queue.queue_size : 1;
    if (exp_otlp_queue_init(&e->queue, max) != 0) {
        snprintf(err, errlen, "cannot create the queue lock");
        return -1;
    }
    e->queue_ready = true;
    e->n_zs = reactor_pool_size(gateway_workers(gw));
    e->zs = calloc(e->n_zs ? e->n_zs : 1, sizeof *e->zs);
    if (e->zs == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < e->n_zs; i++) {
        if (deflateInit2(&e->zs[i], 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            e->n_zs = i;
            snprintf(err, errlen, "cannot initialise gzip");
            return -1;
        }
    }
    if (exp_otlp_start_thread(e, err, errlen) != 0)
        return -1;
    log_info(c->id, "exporting endpoint=%s compression=%s num_consumers=%u queue_size=%llu", e->conf->endpoint,
             exp_otlp_compressions[e->conf->compression], e->consumers, (unsigned long long)max);
    return 0;
}

/* What the key table cannot say: headers are "Name=value" with a valid name, and tls may only be insecure. */
static int exp_otlp_check(const void *conf, const char *id, const struct cfg_node *key, const struct cfg_node *val,
                          struct config_diag *d)
{
    const struct exp_otlp_conf *cf = conf;
    int rc = 0;

    if (cf->tls.enabled && !cf->tls.insecure) {
        config_diag_error(d, key->line, key->col, "exporters.%s.tls: only 'insecure: true' is supported for now", id);
        rc = -1;
    }
    if (cf->headers.n > EXP_OTLP_MAX_HEADERS) {
        config_diag_error(d, key->line, key->col, "exporters.%s.headers: at most %d headers", id,
                          EXP_OTLP_MAX_HEADERS);
        rc = -1;
    }
    for (size_t i = 0; i < cf->headers.n; i++) {
        const char *h = cf->headers.v[i], *eq = strchr(h, '=');
        bool ok = eq != NULL && eq > h && h[0] != ':' && strcspn(h, " \t\r\n:") >= (size_t)(eq - h) &&
                  strcspn(eq, "\r\n") == strlen(eq);
        if (!ok) {
            config_diag_error(d, key->line, key->col, "exporters.%s.headers: '%s' is not Name=value", id, h);
            rc = -1;
        }
    }
    (void)val;
    return rc;
}

const struct og_component_type exp_otlp_type = {
    .name = "otlp",
    .kind = OG_KIND_EXPORTER,
    .keys = exp_otlp_keys,
    .conf_size = sizeof(struct exp_otlp_conf),
    .signals = OG_SIGNAL_ALL,
    .check = exp_otlp_check,
    .start = exp_otlp_start,
    .consume = exp_otlp_consume,
    .stop = exp_otlp_stop,
};
