/* exp_otlp.c: the Collector's otlp (OTLP/gRPC over h2c) and otlphttp
 * (OTLP/HTTP over HTTP/1.1) exporters: configuration, start and stop, and
 * what workers do with each request or batch. Workers compress it once
 * (gzip) and either append it to the in-memory sending queue (answered at
 * once; lost on crash, as documented) or, with sending_queue.storage, put
 * it in the tenant's spool queue and hold the client's answer until the
 * spool committed it. The exporter's own thread (exp_otlp_sender.c) sends,
 * through the transport (exp_otlp_conn.c for gRPC, exp_otlp_http.c for
 * HTTP), retries and deletes. */
#include "autoconf.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "exp_otlp_int.h"
#include "ext_spool.h"
#include "gateway.h"
#include "log.h"
#include "reactor.h"
#include "util/endpoint.h"

static const char *const exp_otlp_compressions[] = { "gzip", "none", NULL };
static const char *const exp_otlp_when_full[] = { "reject", "drop_oldest", NULL };

static const struct og_config_key exp_otlp_retry_keys[] = {
    { "enabled", KEY_BOOL, "true", offsetof(struct exp_otlp_retry_conf, enabled),
      .doc = "retry retryable failures; off: drop them" },
    { "initial_interval", KEY_DURATION, "5s", offsetof(struct exp_otlp_retry_conf, initial_interval_ms), 1, 3600000,
      .doc = "first backoff, doubled per attempt, with +-50% jitter" },
    { "max_interval", KEY_DURATION, "30s", offsetof(struct exp_otlp_retry_conf, max_interval_ms), 1, 3600000,
      .doc = "backoff cap" },
    { "max_elapsed_time", KEY_DURATION, "300s", offsetof(struct exp_otlp_retry_conf, max_elapsed_time_ms), 0,
      INT64_C(86400000) * 365,
      .doc = "in-memory queue: give up on a batch this long after its first attempt; 0: never. "
             "Spooled batches are retried until sending_queue.max_age" },
    { NULL },
};

static const char *const exp_otlp_sizers[] = { "items", NULL };

static const struct og_config_key exp_otlp_batch_keys[] = {
    { "flush_timeout", KEY_DURATION, "200ms", offsetof(struct exp_otlp_batch_conf, flush_timeout_ms), 1, 3600000,
      .doc = "a request stored this long goes upstream with what is stored after it, however few items" },
    { "min_size", KEY_INT, "8192", offsetof(struct exp_otlp_batch_conf, min_size), 0, 2147483647,
      .doc = "items (spans, data points, log records) that make stored requests go at once; 0: no size trigger" },
    { "max_size", KEY_INT, "0", offsetof(struct exp_otlp_batch_conf, max_size), 0, 2147483647,
      .doc = "most items in one request upstream (0: no limit); a stored request larger goes alone, never split" },
    { "sizer", KEY_ENUM, "items", offsetof(struct exp_otlp_batch_conf, sizer), .values = exp_otlp_sizers,
      .doc = "what min_size and max_size count" },
    { NULL },
};

static const struct og_config_key exp_otlp_queue_keys[] = {
    { "enabled", KEY_BOOL, "true", offsetof(struct exp_otlp_queue_conf, enabled),
      .doc = "false: hold one request at a time, so clients are refused sooner" },
    { "queue_size", KEY_SIZE, "64MiB", offsetof(struct exp_otlp_queue_conf, queue_size), 1024, UINT64_C(1) << 40,
      .doc = "in-memory queue: bytes queued (compressed); beyond, clients are told to retry" },
    { "num_consumers", KEY_INT, "10", offsetof(struct exp_otlp_queue_conf, num_consumers), 1, 1000,
      .doc = "requests in flight per queue (per tenant with storage)" },
    { "storage", KEY_STRING, NULL, offsetof(struct exp_otlp_queue_conf, storage),
      .doc = "id of a spool extension: batches are kept there, and clients answered once they are" },
    { "max_size", KEY_SIZE, "0", offsetof(struct exp_otlp_queue_conf, max_size), 0, INT64_MAX,
      .doc = "storage: bytes each tenant's queue may hold; 0: as much as the spool" },
    { "when_full", KEY_ENUM, "reject", offsetof(struct exp_otlp_queue_conf, when_full), .values = exp_otlp_when_full,
      .doc = "storage: reject (clients retry) or drop_oldest (counted) when a queue or the spool is full" },
    { "max_age", KEY_DURATION, "168h", offsetof(struct exp_otlp_queue_conf, max_age_ms), 0, INT64_C(86400000) * 3650,
      .doc = "storage: batches older than this are dropped and counted; 0: no limit" },
    { "batch", KEY_SECTION, NULL, offsetof(struct exp_otlp_queue_conf, batch), .flags = OG_KEY_PRESENCE,
      .sub = exp_otlp_batch_keys,
      .doc = "storage: clients are answered once their request is stored; consecutive stored requests go "
             "upstream merged, as the batch processor would have merged them" },
    { NULL },
};

static const struct og_config_key exp_otlp_tls_keys[] = {
    { "insecure", KEY_BOOL, "true", offsetof(struct exp_otlp_tls_conf, insecure),
      .doc = "must be true: no TLS yet" },
    { NULL },
};

/* The keys both exporters share, after their endpoint keys. */
#define EXP_OTLP_COMMON_KEYS \
    { "headers", KEY_STRLIST, NULL, offsetof(struct exp_otlp_conf, headers), \
      .doc = "extra request headers, each \"Name=value\"" }, \
    { "compression", KEY_ENUM, "gzip", offsetof(struct exp_otlp_conf, compression), \
      .values = exp_otlp_compressions, .doc = "gzip: compressed once, when queued; none" }, \
    { "timeout", KEY_DURATION, "5s", offsetof(struct exp_otlp_conf, timeout_ms), 1, 600000, \
      .doc = "deadline of one export request" }, \
    { "retry_on_failure", KEY_SECTION, NULL, offsetof(struct exp_otlp_conf, retry), .sub = exp_otlp_retry_keys, \
      .doc = "backoff of retryable failures" }, \
    { "sending_queue", KEY_SECTION, NULL, offsetof(struct exp_otlp_conf, queue), .sub = exp_otlp_queue_keys, \
      .doc = "the queue in front of the upstream: in memory, or in the spool" }, \
    { "tls", KEY_SECTION, NULL, offsetof(struct exp_otlp_conf, tls), .flags = OG_KEY_PRESENCE, \
      .sub = exp_otlp_tls_keys, .doc = "only {insecure: true} for now" }, \
    { NULL }

static const struct og_config_key exp_otlp_keys[] = {
    { "endpoint", KEY_ENDPOINT, NULL, offsetof(struct exp_otlp_conf, endpoint), .flags = OG_KEY_REQUIRED,
      .doc = "upstream host:port (h2c)" },
    EXP_OTLP_COMMON_KEYS,
};

static const struct og_config_key exp_otlphttp_keys[] = {
    { "endpoint", KEY_STRING, NULL, offsetof(struct exp_otlp_conf, endpoint),
      .doc = "base URL http://host:port[/prefix]; /v1/traces, /v1/metrics, /v1/logs are appended" },
    { "traces_endpoint", KEY_STRING, NULL, offsetof(struct exp_otlp_conf, signal_endpoint[OG_SIGNAL_TRACES]),
      .doc = "full URL for traces, instead of endpoint + /v1/traces" },
    { "metrics_endpoint", KEY_STRING, NULL, offsetof(struct exp_otlp_conf, signal_endpoint[OG_SIGNAL_METRICS]),
      .doc = "full URL for metrics, instead of endpoint + /v1/metrics" },
    { "logs_endpoint", KEY_STRING, NULL, offsetof(struct exp_otlp_conf, signal_endpoint[OG_SIGNAL_LOGS]),
      .doc = "full URL for logs, instead of endpoint + /v1/logs" },
    EXP_OTLP_COMMON_KEYS,
};

/* ---- workers ---- */

static struct exp_otlp_worker *exp_otlp_worker_of(struct exp_otlp *e, struct reactor *r)
{
    return &e->workers[reactor_id(r) % e->n_workers];
}

/* <p>'s bytes as the exporter sends them: gzip-compressed into the worker's buffer, or <p>'s own. Returns 0,
 * or -1 when out of memory or deflate failed. */
static int exp_otlp_encode(struct exp_otlp *e, struct exp_otlp_worker *wk, const struct otlp_payload *p,
                           const uint8_t **data, size_t *len)
{
    const uint8_t *in = otlp_payload_bytes(p);

    if (in == NULL)
        return -1;
    if (e->conf->compression != EXP_OTLP_GZIP) {
        *data = in;
        *len = p->len;
        return 0;
    }
    size_t room = deflateBound(&wk->zs, p->len);
    if (room > wk->cap) {
        uint8_t *nb = realloc(wk->buf, room);
        if (nb == NULL)
            return -1;
        wk->buf = nb;
        wk->cap = room;
    }
    deflateReset(&wk->zs);
    wk->zs.next_in = (Bytef *)in;
    wk->zs.avail_in = (uInt)p->len;
    wk->zs.next_out = wk->buf;
    wk->zs.avail_out = (uInt)room;
    if (deflate(&wk->zs, Z_FINISH) != Z_STREAM_END)
        return -1;
    *data = wk->buf;
    *len = room - wk->zs.avail_out;
    return 0;
}

/* Queues one request in memory: answered now. OG_RETRY when the queue is full, stopping or out of memory. */
static int exp_otlp_mem_consume(struct exp_otlp *e, struct exp_otlp_worker *wk, const struct otlp_payload *p)
{
    bool gzip = e->conf->compression == EXP_OTLP_GZIP;
    const uint8_t *data = NULL;
    size_t len = p->len;
    int was_empty = 0;

    /* a batch's chains are copied into the queued batch as they are: making them one piece first would copy
     * them twice */
    if ((gzip || p->data != NULL) && exp_otlp_encode(e, wk, p, &data, &len) != 0)
        return OG_RETRY;
    struct exp_otlp_batch *b = exp_otlp_batch_new(p->tenant, len);
    if (b == NULL)
        return OG_RETRY;
    if (data != NULL)
        memcpy(b->data, data, len);
    else
        evbuffer_copyout(p->buf, b->data, len);
    b->signal = p->signal;
    b->items = p->items;
    b->gzip = gzip;
    if (exp_otlp_queue_put(&e->queue, b, &was_empty) != 0) {
        atomic_fetch_add(&e->counts.enqueue_failed[p->signal], p->items);
        free(b);
        return OG_RETRY;
    }
    if (was_empty)
        exp_otlp_wake(e);
    return 0;
}

/* Opens (creating) the spool queue of <tenant>. Blocks on LMDB's write lock: once per tenant and run. */
static struct exp_otlp_tq *exp_otlp_tq_open(struct exp_otlp *e, const char *tenant, char *err, size_t errlen)
{
    const struct exp_otlp_queue_conf *qc = &e->conf->queue;
    char name[SPOOL_NAME_MAX_LEN + 1];
    struct exp_otlp_tq *tq = calloc(1, sizeof(*tq));

    if (tq == NULL || (tq->tenant = strdup(tenant)) == NULL) {
        free(tq);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(name, sizeof(name), "%s|%s", e->id, tenant);
    if (spool_queue_open(e->spool, name, qc->max_size, (enum spool_when_full)qc->when_full, qc->max_age_ms, &tq->sq,
                         err, errlen) != 0) {
        free(tq->tenant);
        free(tq);
        return NULL;
    }
    if ((tq->retries = calloc(e->consumers, sizeof(*tq->retries))) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(tq->tenant);
        free(tq);
        return NULL;
    }
    return tq;
}

/* The queue of <tenant>, created on first use. NULL when no more queues can be made (logged once). */
static struct exp_otlp_tq *exp_otlp_tq_get(struct exp_otlp *e, struct exp_otlp_worker *wk, const char *tenant)
{
    char err[256];

    if (wk->last != NULL && strcmp(wk->last->tenant, tenant) == 0)
        return wk->last;
    unsigned n = atomic_load(&e->ntq);
    for (unsigned i = 0; i < n; i++)
        if (strcmp(e->tqs[i]->tenant, tenant) == 0)
            return wk->last = e->tqs[i];
    pthread_mutex_lock(&e->tq_lock);
    struct exp_otlp_tq *tq = NULL;
    n = atomic_load(&e->ntq);
    for (unsigned i = 0; i < n && tq == NULL; i++)
        if (strcmp(e->tqs[i]->tenant, tenant) == 0)
            tq = e->tqs[i];
    if (tq == NULL && n < EXP_OTLP_MAX_QUEUES && (tq = exp_otlp_tq_open(e, tenant, err, sizeof err)) != NULL) {
        e->tqs[n] = tq;
        atomic_store(&e->ntq, n + 1);   /* published after the slot is filled: readers scan up to ntq */
    } else if (tq == NULL && !atomic_exchange(&e->tq_full_logged, true)) {
        log_error(e->id, "cannot open a spool queue for tenant '%s': %s", tenant,
                  n < EXP_OTLP_MAX_QUEUES ? err : "too many tenants");
    }
    pthread_mutex_unlock(&e->tq_lock);
    return wk->last = tq;
}

/* A spool put on its way: what its completion needs. */
struct exp_otlp_put {
    struct exp_otlp *e;
    struct og_wait *w;
    enum og_signal signal;
    uint64_t items;
};

static void exp_otlp_on_put(struct reactor *r, void *arg, int status)
{
    struct exp_otlp_put *put = arg;
    (void)r;

    if (status == 0)
        exp_otlp_wake(put->e);
    else
        atomic_fetch_add(&put->e->counts.enqueue_failed[put->signal], put->items);
    og_wait_release(put->w, status);
    free(put);
}

/* Puts one request or batch in its tenant's spool queue; the answer waits for the commit. */
static int exp_otlp_spool_consume(struct exp_otlp *e, struct exp_otlp_worker *wk, struct reactor *r,
                                  const struct otlp_payload *p, struct og_wait *w)
{
    struct exp_otlp_tq *tq = exp_otlp_tq_get(e, wk, p->tenant);
    struct exp_otlp_put *put = malloc(sizeof(*put));
    bool gzip = e->conf->compression == EXP_OTLP_GZIP;
    bool take = !gzip && p->give_buf != NULL && *p->give_buf != NULL;
    const uint8_t *data = NULL;
    size_t len = 0;

    if (tq == NULL || put == NULL || (!take && exp_otlp_encode(e, wk, p, &data, &len) != 0)) {
        free(put);
        return OG_RETRY;
    }
    *put = (struct exp_otlp_put){ .e = e, .w = w, .signal = p->signal, .items = p->items };
    unsigned enc = gzip ? EXP_OTLP_SPOOL_GZIP : 0;
    int rc;
    if (take) {
        /* a request's message buffer, or a batch's chains, go to the spool writer as they are: it copies
         * them into LMDB's pages, the one copy between the socket and the file */
        rc = spool_put_buf(tq->sq, p->signal, p->items, enc, *p->give_buf, r, exp_otlp_on_put, put);
        *p->give_buf = NULL;
    } else {
        rc = spool_put(tq->sq, p->signal, p->items, enc, data, len, r, exp_otlp_on_put, put);
    }
    if (rc != 0) {
        free(put);
        if (rc == OG_RETRY)
            atomic_fetch_add(&e->counts.enqueue_failed[p->signal], p->items);
        return rc;
    }
    og_wait_hold(w);
    return OG_PENDING;
}

/* Worker <r>; never blocks (a new tenant's spool queue is created by the spool writer). */
static int exp_otlp_consume(struct component *c, struct reactor *r, const struct otlp_payload *p, struct og_wait *w)
{
    struct exp_otlp *e = c->state;

    if (p->len > UINT32_MAX - 64)
        return -1;
    if (atomic_load(&e->stopping))
        return OG_RETRY;
    if (e->spool != NULL)
        return exp_otlp_spool_consume(e, exp_otlp_worker_of(e, r), r, p, w);
    return exp_otlp_mem_consume(e, exp_otlp_worker_of(e, r), p);
}

/* ---- lifecycle ---- */

static void exp_otlp_log_counts(const struct exp_otlp *e)
{
    const struct exp_otlp_counts *n = &e->counts;
    uint64_t queued = 0, dropped_full = 0, dropped_age = 0;

    for (unsigned i = 0; i < atomic_load(&e->ntq); i++) {
        struct spool_stats st;
        spool_queue_stats(e->tqs[i]->sq, &st);
        queued += st.queued_items;
        dropped_full += st.dropped_full_items;
        dropped_age += st.dropped_age_items;
    }
    log_info(e->id, "stopped: otelcol_exporter_sent_spans=%llu otelcol_exporter_sent_metric_points=%llu "
             "otelcol_exporter_sent_log_records=%llu otelcol_exporter_send_failed_spans=%llu "
             "otelcol_exporter_send_failed_metric_points=%llu otelcol_exporter_send_failed_log_records=%llu "
             "dropped_spans=%llu dropped_metric_points=%llu dropped_log_records=%llu "
             "retried_spans=%llu retried_metric_points=%llu retried_log_records=%llu "
             "otelcol_exporter_enqueue_failed_spans=%llu otelcol_exporter_enqueue_failed_metric_points=%llu "
             "otelcol_exporter_enqueue_failed_log_records=%llu spooled_batches=%llu spool_dropped_full_items=%llu "
             "spool_dropped_age_items=%llu",
             (unsigned long long)n->sent[0], (unsigned long long)n->sent[1], (unsigned long long)n->sent[2],
             (unsigned long long)n->failed[0], (unsigned long long)n->failed[1], (unsigned long long)n->failed[2],
             (unsigned long long)n->dropped[0], (unsigned long long)n->dropped[1],
             (unsigned long long)n->dropped[2], (unsigned long long)n->retried[0],
             (unsigned long long)n->retried[1], (unsigned long long)n->retried[2],
             (unsigned long long)n->enqueue_failed[0], (unsigned long long)n->enqueue_failed[1],
             (unsigned long long)n->enqueue_failed[2], (unsigned long long)queued, (unsigned long long)dropped_full,
             (unsigned long long)dropped_age);
}

static void exp_otlp_stop(struct component *c)
{
    struct exp_otlp *e = c->state;

    if (e == NULL)
        return;
    if (e->thread_started) {
        exp_otlp_sender_stop(e);
        exp_otlp_log_counts(e);
    }
    exp_otlp_sender_stop(e);            /* frees the events of a sender that never started */
    if (e->queue_ready)
        exp_otlp_queue_dispose(&e->queue, NULL, NULL);
    for (unsigned i = 0; i < atomic_load(&e->ntq); i++) {
        free(e->tqs[i]->retries);
        free(e->tqs[i]->tenant);
        free(e->tqs[i]);
    }
    spool_reader_destroy(e->reader);
    free(e->stored);
    if (e->tq_lock_ready)
        pthread_mutex_destroy(&e->tq_lock);
    for (unsigned i = 0; e->workers != NULL && i < e->n_workers; i++) {
        if (e->workers[i].zs_ready)
            deflateEnd(&e->workers[i].zs);
        free(e->workers[i].buf);
    }
    free(e->workers);
    if (e->wake_fd != -1)
        close(e->wake_fd);
    free(e->hbuf);
    free(e);
    c->state = NULL;
}

/* gRPC: every signal to "host:port" (":port" means this host). */
static int exp_otlp_targets_grpc(struct exp_otlp *e, char *err, size_t errlen)
{
    if (endpoint_split(e->conf->endpoint, e->hosts[0], sizeof e->hosts[0], e->ports[0], sizeof e->ports[0]) != 0) {
        snprintf(err, errlen, "endpoint %s: host name too long", e->conf->endpoint);
        return -1;
    }
    if (e->hosts[0][0] == '\0')
        snprintf(e->hosts[0], sizeof e->hosts[0], "localhost");
    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        e->targets[s] = (struct exp_otlp_target){ .host = e->hosts[0], .port = e->ports[0], .path = "" };
    return 0;
}

/* OTLP/HTTP: each signal's URL, its own or endpoint + /v1/<signal> (the base's trailing '/' dropped). */
static int exp_otlp_targets_http(struct exp_otlp *e, char *err, size_t errlen)
{
    for (int s = 0; s < OG_SIGNAL_COUNT; s++) {
        const char *url = e->conf->signal_endpoint[s] != NULL ? e->conf->signal_endpoint[s] : e->conf->endpoint;
        const char *why = NULL;
        if (endpoint_parse_url(url, e->hosts[s], sizeof e->hosts[s], e->ports[s], sizeof e->ports[s], e->paths[s],
                               sizeof e->paths[s], &why) != 0) {
            snprintf(err, errlen, "%s: %s", url, why);
            return -1;
        }
        if (e->conf->signal_endpoint[s] == NULL) {
            size_t n = strlen(e->paths[s]);
            if (n > 0 && e->paths[s][n - 1] == '/')
                e->paths[s][--n] = '\0';
            snprintf(e->paths[s] + n, sizeof e->paths[s] - n, "/v1/%s", component_signal_name((enum og_signal)s));
        } else if (e->paths[s][0] == '\0') {
            snprintf(e->paths[s], sizeof e->paths[s], "/");
        }
        e->targets[s] = (struct exp_otlp_target){ .host = e->hosts[s], .port = e->ports[s], .path = e->paths[s] };
    }
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

/* With storage: the spool, and the queues earlier runs left ("<id>|<tenant>"), so their batches go first. */
static int exp_otlp_start_spool(struct exp_otlp *e, struct gateway *gw, char *err, size_t errlen)
{
    const char *id = e->conf->queue.storage;
    struct component *ext = gateway_component(gw, OG_KIND_EXTENSION, id);
    struct spool_queue *found[EXP_OTLP_MAX_QUEUES];
    char prefix[SPOOL_NAME_MAX_LEN + 1];

    if (ext == NULL || (e->spool = ext_spool_of(ext)) == NULL) {
        snprintf(err, errlen, "sending_queue.storage: '%s' is not a spool extension listed in service.extensions", id);
        return -1;
    }
    if (spool_reader_create(e->spool, &e->reader, err, errlen) != 0)
        return -1;
    e->stored = calloc(e->conf->queue.batch.enabled ? EXP_OTLP_RUN_MAX : 1, sizeof(*e->stored));
    if (e->stored == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (pthread_mutex_init(&e->tq_lock, NULL) != 0) {
        snprintf(err, errlen, "cannot create a lock");
        return -1;
    }
    e->tq_lock_ready = true;
    snprintf(prefix, sizeof prefix, "%s|", e->id);
    unsigned n = spool_queues(e->spool, prefix, found, EXP_OTLP_MAX_QUEUES);
    for (unsigned i = 0; i < n && i < EXP_OTLP_MAX_QUEUES; i++) {
        struct exp_otlp_tq *tq = exp_otlp_tq_open(e, spool_queue_name(found[i]) + strlen(prefix), err, errlen);
        if (tq == NULL)
            return -1;
        e->tqs[i] = tq;
        atomic_store(&e->ntq, i + 1);
    }
    return 0;
}

static int exp_otlp_start(struct component *c, struct gateway *gw, char *err, size_t errlen)
{
    struct exp_otlp *e = calloc(1, sizeof *e);
    bool http = c->type->keys == exp_otlphttp_keys;

    if (e == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->state = e;
    e->id = c->id;
    e->conf = c->conf;
    e->transport = http ? &exp_otlp_http_transport : &exp_otlp_grpc_transport;
    e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    e->consumers = (unsigned)e->conf->queue.num_consumers;
    if (e->wake_fd == -1) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        return -1;
    }
    if ((http ? exp_otlp_targets_http(e, err, errlen) : exp_otlp_targets_grpc(e, err, errlen)) != 0 ||
        exp_otlp_split_headers(e, err, errlen) != 0)
        return -1;
    e->n_workers = reactor_pool_size(gateway_workers(gw));
    e->workers = calloc(e->n_workers ? e->n_workers : 1, sizeof *e->workers);
    if (e->workers == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < e->n_workers; i++) {
        if (deflateInit2(&e->workers[i].zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            snprintf(err, errlen, "cannot initialise gzip");
            return -1;
        }
        e->workers[i].zs_ready = true;
    }
    if (e->conf->queue.storage != NULL) {
        if (exp_otlp_start_spool(e, gw, err, errlen) != 0)
            return -1;
    } else {
        /* Without a queue, hold one request per stream; the limit is bytes, so count a generous request. */
        uint64_t max = e->conf->queue.enabled ? e->conf->queue.queue_size : 1;
        if (exp_otlp_queue_init(&e->queue, max) != 0) {
            snprintf(err, errlen, "cannot create the queue lock");
            return -1;
        }
        e->queue_ready = true;
    }
    if (exp_otlp_sender_start(e, err, errlen) != 0)
        return -1;
    const struct exp_otlp_batch_conf *bc = &e->conf->queue.batch;
    char batching[96] = "";
    if (bc->enabled)
        snprintf(batching, sizeof batching, " batch=min_size:%lld,max_size:%lld,flush_timeout:%lldms",
                 (long long)bc->min_size, (long long)bc->max_size, (long long)bc->flush_timeout_ms);
    log_info(c->id, "exporting endpoint=%s transport=%s compression=%s num_consumers=%u queue=%s%s%s",
             e->conf->endpoint != NULL ? e->conf->endpoint : e->conf->signal_endpoint[0], e->transport->name,
             exp_otlp_compressions[e->conf->compression], e->consumers,
             e->spool != NULL ? "spool:" : "memory", e->spool != NULL ? e->conf->queue.storage : "", batching);
    return 0;
}

/* What the key tables cannot say: header syntax, tls only insecure, otlphttp's URLs, a spool queue name. */
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
    const struct exp_otlp_batch_conf *bc = &cf->queue.batch;
    int line, col;
    if (bc->enabled && cf->queue.storage == NULL) {
        config_yaml_pos(key, val, "sending_queue.batch", &line, &col);
        config_diag_error(d, line, col, "exporters.%s.sending_queue.batch: needs sending_queue.storage "
                          "(without a spool, put the batch processor in the pipeline)", id);
        rc = -1;
    }
    if (bc->enabled && bc->max_size > 0 && bc->max_size < bc->min_size) {
        config_yaml_pos(key, val, "sending_queue.batch.max_size", &line, &col);
        config_diag_error(d, line, col, "exporters.%s.sending_queue.batch.max_size: %lld is below min_size (%lld); "
                          "write 0 for no limit, or at least %lld", id, (long long)bc->max_size,
                          (long long)bc->min_size, (long long)bc->min_size);
        rc = -1;
    }
    if (cf->queue.storage != NULL && (strchr(id, '|') != NULL || strlen(id) > 64)) {
        config_diag_error(d, key->line, key->col,
                          "exporters.%s: with sending_queue.storage the id must be at most 64 bytes without '|'", id);
        rc = -1;
    }
    return rc;
}

/* otlphttp: endpoint, or all three signal URLs; each one http:// with a host. */
static int exp_otlphttp_check(const void *conf, const char *id, const struct cfg_node *key,
                              const struct cfg_node *val, struct config_diag *d)
{
    static const char *const names[] = { "traces_endpoint", "metrics_endpoint", "logs_endpoint" };
    static const char *const reserved[] = {
        "host", "content-length", "content-type", "content-encoding", "transfer-encoding", "connection",
    };
    const struct exp_otlp_conf *cf = conf;
    char host[256], port[8], path[256];
    int rc = exp_otlp_check(conf, id, key, val, d), line, col;

    for (size_t i = 0; i < cf->headers.n; i++)
        for (size_t j = 0; j < sizeof reserved / sizeof reserved[0]; j++)
            if (strncasecmp(cf->headers.v[i], reserved[j], strlen(reserved[j])) == 0 &&
                cf->headers.v[i][strlen(reserved[j])] == '=') {
                config_diag_error(d, key->line, key->col, "exporters.%s.headers: %s is written by the exporter", id,
                                  reserved[j]);
                rc = -1;
            }

    for (int s = -1; s < OG_SIGNAL_COUNT; s++) {
        const char *url = s < 0 ? cf->endpoint : cf->signal_endpoint[s], *name = s < 0 ? "endpoint" : names[s];
        const char *why = NULL;
        if (s >= 0 && url == NULL && cf->endpoint == NULL) {
            config_diag_error(d, key->line, key->col, "exporters.%s: set endpoint, or %s", id, name);
            rc = -1;
        }
        if (url != NULL && endpoint_parse_url(url, host, sizeof host, port, sizeof port, path, sizeof path, &why)) {
            config_yaml_pos(key, val, name, &line, &col);
            config_diag_error(d, line, col, "exporters.%s.%s: '%s': %s", id, name, url, why);
            rc = -1;
        }
    }
    return rc;
}

/* sending_queue.batch: stored requests merged on the way upstream, so a batch processor in front would only
 * hold its clients back (their requests wait for a batch to fill, then for its commit). */
static bool exp_otlp_batches(const struct component *c)
{
    const struct exp_otlp_conf *conf = c->conf;

    return conf->queue.batch.enabled;
}

static bool exp_otlp_stores(const struct component *c)
{
    const struct exp_otlp_conf *conf = c->conf;

    return conf->queue.storage != NULL;
}

#define EXP_OTLP_TYPE(type_name, key_table, check_fn) \
    { .name = type_name, .kind = OG_KIND_EXPORTER, .keys = key_table, .conf_size = sizeof(struct exp_otlp_conf), \
      .signals = OG_SIGNAL_ALL, .check = check_fn, .start = exp_otlp_start, .consume = exp_otlp_consume, \
      .batches = exp_otlp_batches, .stores = exp_otlp_stores, .stop = exp_otlp_stop }

const struct og_component_type exp_otlp_type = EXP_OTLP_TYPE("otlp", exp_otlp_keys, exp_otlp_check);
const struct og_component_type exp_otlp_grpc_type = EXP_OTLP_TYPE("otlp_grpc", exp_otlp_keys, exp_otlp_check);
const struct og_component_type exp_otlphttp_type = EXP_OTLP_TYPE("otlphttp", exp_otlphttp_keys, exp_otlphttp_check);
const struct og_component_type exp_otlp_http_type = EXP_OTLP_TYPE("otlp_http", exp_otlphttp_keys, exp_otlphttp_check);
