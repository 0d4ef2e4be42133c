/* proc_batch.c: the Collector's batch processor. Each worker keeps one open
 * batch per (pipeline, tenant) and appends requests to it as wire bytes
 * (protobuf concatenation of Export*ServiceRequests is one request holding
 * both: nothing is decoded). A batch goes down the pipeline when it holds
 * send_batch_size items or is timeout old, and every request in it is
 * answered with the batch's verdict, so "accept means durable" holds
 * through batching. In a pipeline whose exporter stores what it takes
 * (sending_queue.storage), a client waits for the commit, so there the
 * batch is a group commit: it goes at once when no batch of its (pipeline,
 * tenant) is being stored, and at the answer of the last one that was; while
 * one is, it goes at half of send_batch_size, so that the next is ready when
 * the disk is. Waiting for send_batch_size or the timer instead left the
 * disk idle while the clients waited: clients with fewer items in flight
 * than one batch got one batch per timeout (passthrough.sh, 4 clients of 512
 * spans with one request each in flight: 12,500 spans/s, 660,000 with the
 * group commit), and those with a little more than one batch in flight got
 * one batch per commit and refill, not two overlapping (10,000 and 16,384
 * spans in flight: 14 % and 27 % more with it). In a pipeline whose
 * exporters all batch by themselves (sending_queue.batch) requests go on as
 * they come. Worker state only: no locks. */
#include "autoconf.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "component.h"
#include "config.h"
#include "gateway.h"
#include "log.h"
#include "pipeline.h"
#include "reactor.h"

/* Flushed batches kept per worker for their waiter arrays: steady traffic
 * reuses them instead of growing new ones, and a burst of tenants does not
 * pin memory after it is gone. */
#define PROC_BATCH_IDLE_MAX 4
#define PROC_BATCH_FIRST_WAITERS 16
/* A request this large is moved into its batch (its buffer's chains): below,
 * copying it is cheaper than a chain per request (a malloc, up to half of it
 * slack, one more piece for the spool writer to copy from). */
#define PROC_BATCH_MOVE_MIN 4096

struct proc_batch_conf {
    int64_t send_batch_size;
    int64_t timeout_ms;
    int64_t send_batch_max_size;
    int64_t metadata_cardinality_limit;
};

static const struct og_config_key proc_batch_keys[] = {
    { "send_batch_size", KEY_INT, "8192", offsetof(struct proc_batch_conf, send_batch_size), 0, 2147483647,
      .doc = "items (spans, data points, log records) that send a batch at once; 0: no size trigger" },
    { "timeout", KEY_DURATION, "200ms", offsetof(struct proc_batch_conf, timeout_ms), 0, 3600000,
      .doc = "a batch is sent this long after its first request; 0: every request goes on alone" },
    { "send_batch_max_size", KEY_INT, "0", offsetof(struct proc_batch_conf, send_batch_max_size), 0, 2147483647,
      .doc = "most items in a batch (0: no limit); a larger request goes alone, never split" },
    { "metadata_cardinality_limit", KEY_INT, "1000", offsetof(struct proc_batch_conf, metadata_cardinality_limit),
      1, 1000000, .doc = "most open batches (pipeline, tenant) per worker; beyond, the oldest is sent" },
    { NULL },
};

struct proc_batch_worker;

/* One batch: open (on the worker's open list, timer running), flushing
 * (on the flushing list, waiting for the pipeline's verdict), idle (on the
 * idle list, only its buffers kept), or orphaned by stop() (on no list,
 * worker NULL: the verdict frees it). */
struct proc_batch {
    struct proc_batch_worker *worker;
    TAILQ_ENTRY(proc_batch) link;
    struct pipeline *pl;
    size_t from;                        /* the pipeline step after this processor */
    enum og_signal signal;
    char *tenant;                       /* owned */
    /* The requests' bytes, appended: a request's own buffer is moved in
     * whole (its chains, no copy) when its receiver gives it up, as gRPC
     * and OTLP/HTTP do, and it is not small; the spool writer copies the
     * chains into LMDB. NULL until the first request, and after an exporter
     * took it. */
    struct evbuffer *buf;
    uint64_t items, resources;
    struct og_wait **waiters;           /* the held requests, answered with the verdict */
    size_t nwaiters, capwaiters;
    struct og_wait wait;                /* the batch's own, while flushing */
    struct event *timer;
};

TAILQ_HEAD(proc_batch_list, proc_batch);

struct proc_batch_worker {
    const struct proc_batch_conf *conf;
    struct reactor *r;
    struct proc_batch_list open;        /* oldest first: the first to go when over the cardinality limit */
    struct proc_batch_list flushing;
    struct proc_batch_list idle;
    int64_t nopen;
    unsigned nidle;
    bool draining;                      /* after drain(): requests go on alone, no batch opens */
};

struct proc_batch_set {
    struct gateway *gw;
    unsigned nworkers;
    struct proc_batch_worker *workers;
};

/* The open batch of (<pl>, <tenant>) on <wk>, or NULL. A linear walk: the
 * list is short unless there are many tenants, and bounded by
 * metadata_cardinality_limit. */
static struct proc_batch *proc_batch_find(struct proc_batch_worker *wk, const struct pipeline *pl, const char *tenant)
{
    struct proc_batch *b;

    TAILQ_FOREACH(b, &wk->open, link)
        if (b->pl == pl && strcmp(b->tenant, tenant) == 0)
            return b;
    return NULL;
}

/* True when a batch of (<pl>, <tenant>) on <wk> waits for its verdict. A
 * linear walk: batches wait for a commit or two, so the list is short. */
static bool proc_batch_storing(struct proc_batch_worker *wk, const struct pipeline *pl, const char *tenant)
{
    struct proc_batch *b;

    TAILQ_FOREACH(b, &wk->flushing, link)
        if (b->pl == pl && strcmp(b->tenant, tenant) == 0)
            return true;
    return false;
}

/* A verdict sends the next batch, whose own verdict may come at once: the two call each other. */
static void proc_batch_flush(struct proc_batch *b);

static void proc_batch_destroy(struct proc_batch *b)
{
    if (b->timer != NULL)
        event_free(b->timer);
    free(b->tenant);
    if (b->buf != NULL)
        evbuffer_free(b->buf);
    free(b->waiters);
    free(b);
}

/* Empties a batch that left every list and keeps it for reuse, or frees it
 * (orphaned, or enough idle ones kept). */
static void proc_batch_retire(struct proc_batch *b)
{
    struct proc_batch_worker *wk = b->worker;

    free(b->tenant);
    b->tenant = NULL;
    b->items = b->resources = 0;
    b->nwaiters = 0;
    if (wk == NULL || wk->nidle >= PROC_BATCH_IDLE_MAX) {
        proc_batch_destroy(b);
        return;
    }
    TAILQ_INSERT_HEAD(&wk->idle, b, link);
    wk->nidle++;
}

/* Answers every request of <b> with <status>, then retires <b>. In front of
 * a store, the open batch of <b>'s pipeline and tenant goes first when no
 * other is being stored: the writer takes it while the clients are answered.
 * The batch is on no list while the clients are answered: an answer may run
 * the next request of its connection at once, which must find a consistent
 * worker and must not append to this batch. */
static void proc_batch_on_verdict(struct proc_batch *b, int status)
{
    struct proc_batch_worker *wk = b->worker;
    struct og_wait **ws = b->waiters;
    size_t n = b->nwaiters;
    struct proc_batch *next;

    if (wk != NULL) {
        TAILQ_REMOVE(&wk->flushing, b, link);
        if (b->pl->exporters_store && !proc_batch_storing(wk, b->pl, b->tenant) &&
            (next = proc_batch_find(wk, b->pl, b->tenant)) != NULL)
            proc_batch_flush(next);
    }
    b->waiters = NULL;
    b->nwaiters = 0;
    for (size_t i = 0; i < n; i++)
        og_wait_release(ws[i], status);
    b->waiters = ws;
    proc_batch_retire(b);
}

static void proc_batch_on_done(struct og_wait *w)
{
    struct proc_batch *b = (struct proc_batch *)((char *)w - offsetof(struct proc_batch, wait));

    proc_batch_on_verdict(b, w->status);
}

/* Takes an open batch off the open list: it takes no more requests. */
static void proc_batch_close(struct proc_batch *b)
{
    struct proc_batch_worker *wk = b->worker;

    evtimer_del(b->timer);
    TAILQ_REMOVE(&wk->open, b, link);
    wk->nopen--;
    TAILQ_INSERT_TAIL(&wk->flushing, b, link);
}

/* Sends a closed batch down the rest of its pipeline. Returns OG_PENDING
 * when the verdict comes later through b->wait; else the verdict, already
 * given to every waiter, and <b> is retired: the caller must not touch it.
 * The exporters took the bytes or copied what they keep before
 * pipeline_run returned: a batch waiting for its verdict holds none. */
static int proc_batch_send(struct proc_batch *b)
{
    struct otlp_payload p = {
        .signal = b->signal, .buf = b->buf, .len = b->buf != NULL ? evbuffer_get_length(b->buf) : 0,
        .resources = b->resources, .items = b->items, .tenant = b->tenant, .give_buf = b->buf != NULL ? &b->buf : NULL,
    };

    if (p.len == 0)
        p.data = (const uint8_t *)"";
    b->wait = (struct og_wait){ .done = proc_batch_on_done };
    int rc = pipeline_run(b->pl, b->from, b->worker->r, &p, &b->wait);
    if (b->buf != NULL)
        evbuffer_drain(b->buf, evbuffer_get_length(b->buf));
    if (rc != OG_PENDING)
        proc_batch_on_verdict(b, rc);
    return rc;
}

static void proc_batch_flush(struct proc_batch *b)
{
    proc_batch_close(b);
    (void)proc_batch_send(b);   /* the verdict goes to the waiters */
}

static void proc_batch_on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    proc_batch_flush(arg);
}

/* Opens an empty batch for (<pl>, <tenant>) and starts its timer. Returns
 * it, or NULL when out of memory (nothing changed). */
static struct proc_batch *proc_batch_open(struct proc_batch_worker *wk, struct pipeline *pl, size_t from,
                                          const struct otlp_payload *p)
{
    struct proc_batch *b = TAILQ_FIRST(&wk->idle);
    char *tenant = strdup(p->tenant);

    if (tenant == NULL)
        return NULL;
    if (b != NULL) {
        TAILQ_REMOVE(&wk->idle, b, link);
        wk->nidle--;
    } else {
        b = calloc(1, sizeof(*b));
        if (b != NULL)
            b->timer = evtimer_new(reactor_base(wk->r), proc_batch_on_timer, b);
        if (b == NULL || b->timer == NULL) {
            free(b);
            free(tenant);
            return NULL;
        }
        b->worker = wk;
    }
    b->pl = pl;
    b->from = from;
    b->signal = p->signal;
    b->tenant = tenant;
    TAILQ_INSERT_TAIL(&wk->open, b, link);
    wk->nopen++;
    struct timeval tv = { .tv_sec = wk->conf->timeout_ms / 1000, .tv_usec = wk->conf->timeout_ms % 1000 * 1000 };
    evtimer_add(b->timer, &tv);
    return b;
}

/* Grows <*v> (of <*cap> elements of <size>) to hold <need>, doubling from
 * <first>. Returns 0, or -1 when out of memory (<*v> unchanged). */
static int proc_batch_reserve(void **v, size_t *cap, size_t need, size_t size, size_t first)
{
    size_t n = *cap > 0 ? *cap : first;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    void *nv = realloc(*v, n * size);
    if (nv == NULL)
        return -1;
    *v = nv;
    *cap = n;
    return 0;
}

/* Appends the bytes and counts of <p> to <b> (taking the request's buffer
 * when offered), and makes room for one more waiter, so that
 * proc_batch_hold cannot fail. Returns 0, or -1 when out of memory (<b>
 * unchanged). */
static int proc_batch_append(struct proc_batch *b, const struct otlp_payload *p)
{
    const uint8_t *data = NULL;

    if ((b->buf == NULL && (b->buf = evbuffer_new()) == NULL) ||
        proc_batch_reserve((void **)&b->waiters, &b->capwaiters, b->nwaiters + 1, sizeof(*b->waiters),
                           PROC_BATCH_FIRST_WAITERS) != 0)
        return -1;
    if (p->len >= PROC_BATCH_MOVE_MIN && p->give_buf != NULL && *p->give_buf != NULL) {
        if (evbuffer_add_buffer(b->buf, *p->give_buf) != 0)
            return -1;
        evbuffer_free(*p->give_buf);
        *p->give_buf = NULL;
    } else if (p->len > 0 && ((data = otlp_payload_bytes(p)) == NULL || evbuffer_add(b->buf, data, p->len) != 0)) {
        return -1;
    }
    b->items += p->items;
    b->resources += p->resources;
    return 0;
}

/* Holds <w> until the verdict of <b>; room was made by proc_batch_append. */
static void proc_batch_hold(struct proc_batch *b, struct og_wait *w)
{
    b->waiters[b->nwaiters++] = w;
    og_wait_hold(w);
}

/* Gives back the empty batch just opened for a request that could not be
 * added to it. */
static void proc_batch_drop(struct proc_batch *b)
{
    struct proc_batch_worker *wk = b->worker;

    evtimer_del(b->timer);
    TAILQ_REMOVE(&wk->open, b, link);
    wk->nopen--;
    proc_batch_retire(b);
}

/* Adds <p> to its open batch, opening one (and sending the oldest when the
 * worker is at metadata_cardinality_limit), and sends the batch when it
 * reached send_batch_size or, in front of an exporter that stores, when no
 * batch of its pipeline and tenant is being stored or it reached half of
 * send_batch_size while one is. A request that would take the batch past
 * send_batch_max_size sends the batch first; one larger than
 * send_batch_max_size goes on alone. A batch sent may answer clients at
 * once, and an answer may run the next request of its connection here: so
 * the batch is looked up again after every send, and the request that fills
 * a batch is held only when the verdict comes later, never released before
 * this returns. Returns OG_PENDING with <w> held, the verdict when it came
 * within the call, or OG_RETRY when out of memory. */
static int proc_batch_process(struct component *c, struct pipeline *pl, size_t next, struct reactor *r,
                              const struct otlp_payload *p, struct og_wait *w)
{
    struct proc_batch_set *set = c->state;
    struct proc_batch_worker *wk = &set->workers[reactor_id(r)];
    const struct proc_batch_conf *conf = c->conf;
    uint64_t max = (uint64_t)conf->send_batch_max_size;
    bool alone = max > 0 && p->items > max;
    struct proc_batch *b;

    if (conf->timeout_ms == 0 || wk->draining || pl->exporters_batch)
        return pipeline_run(pl, next, r, p, w);
    for (;;) {
        b = proc_batch_find(wk, pl, p->tenant);
        if (b != NULL && max > 0 && b->items + p->items > max)
            proc_batch_flush(b);
        else if (b == NULL && !alone && wk->nopen >= conf->metadata_cardinality_limit)
            proc_batch_flush(TAILQ_FIRST(&wk->open));
        else
            break;
    }
    if (alone)
        return pipeline_run(pl, next, r, p, w);
    if (b == NULL)
        b = proc_batch_open(wk, pl, next, p);
    if (b == NULL || proc_batch_append(b, p) != 0) {
        if (b != NULL && b->nwaiters == 0)
            proc_batch_drop(b);
        return OG_RETRY;
    }
    /* In front of a store, a group commit: with none being stored the batch waits for nobody, its clients
     * would wait with the disk idle; with one, it goes at half the size, to be ready when the disk is. */
    uint64_t size = (uint64_t)conf->send_batch_size, at = pl->exporters_store ? size / 2 : size;
    bool go = (size > 0 && b->items >= at) || (pl->exporters_store && !proc_batch_storing(wk, pl, p->tenant));
    if (!go) {
        proc_batch_hold(b, w);
        return OG_PENDING;
    }
    proc_batch_close(b);
    int rc = proc_batch_send(b);
    if (rc == OG_PENDING)
        proc_batch_hold(b, w);
    return rc;
}

/* Sends every open batch of the worker; from now on requests go on alone
 * (a drain has begun: nothing may wait for a timer any more). */
static void proc_batch_on_worker_drain(struct reactor *r, void *arg)
{
    struct proc_batch_set *set = arg;
    struct proc_batch_worker *wk = &set->workers[reactor_id(r)];
    struct proc_batch *b;

    wk->draining = true;
    while ((b = TAILQ_FIRST(&wk->open)) != NULL)
        proc_batch_flush(b);
}

/* Drains, then frees what the worker owns. A batch still waiting for its
 * verdict is orphaned, not freed: the exporter that holds it answers it
 * later (or never, when it is stopped first) and the verdict frees it. */
static void proc_batch_on_worker_stop(struct reactor *r, void *arg)
{
    struct proc_batch_set *set = arg;
    struct proc_batch_worker *wk = &set->workers[reactor_id(r)];
    struct proc_batch *b;

    proc_batch_on_worker_drain(r, arg);
    while ((b = TAILQ_FIRST(&wk->flushing)) != NULL) {
        TAILQ_REMOVE(&wk->flushing, b, link);
        b->worker = NULL;
    }
    while ((b = TAILQ_FIRST(&wk->idle)) != NULL) {
        TAILQ_REMOVE(&wk->idle, b, link);
        proc_batch_destroy(b);
    }
    wk->nidle = 0;
}

static void proc_batch_each_worker(struct proc_batch_set *set, reactor_fn fn)
{
    struct reactor_pool *pool = gateway_workers(set->gw);

    for (unsigned i = 0; i < set->nworkers; i++)
        reactor_call(reactor_pool_get(pool, i), fn, set);
}

static int proc_batch_start(struct component *c, struct gateway *gw, char *err, size_t errlen)
{
    const struct proc_batch_conf *conf = c->conf;
    struct reactor_pool *pool = gateway_workers(gw);
    struct proc_batch_set *set = calloc(1, sizeof(*set));
    unsigned n = reactor_pool_size(pool);

    if (set != NULL)
        set->workers = calloc(n, sizeof(*set->workers));
    if (set == NULL || set->workers == NULL) {
        free(set);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    set->gw = gw;
    set->nworkers = n;
    for (unsigned i = 0; i < n; i++) {
        struct proc_batch_worker *wk = &set->workers[i];
        wk->conf = conf;
        wk->r = reactor_pool_get(pool, i);
        TAILQ_INIT(&wk->open);
        TAILQ_INIT(&wk->flushing);
        TAILQ_INIT(&wk->idle);
    }
    c->state = set;
    log_info(c->id, "batching send_batch_size=%lld timeout=%lldms send_batch_max_size=%lld "
             "metadata_cardinality_limit=%lld", (long long)conf->send_batch_size, (long long)conf->timeout_ms,
             (long long)conf->send_batch_max_size, (long long)conf->metadata_cardinality_limit);
    return 0;
}

/* Names the pipelines where this processor passes requests through or makes group commits, once at start. */
static void proc_batch_started(struct component *c)
{
    struct proc_batch_set *set = c->state;
    size_t n;
    struct pipeline *pls = gateway_pipelines(set->gw, &n);

    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < pls[i].nprocessors; j++) {
            if (pls[i].processors[j] != c)
                continue;
            if (pls[i].exporters_batch)
                log_info(c->id, "pipeline %s: requests go on unbatched, its exporters batch them (sending_queue.batch)",
                         pls[i].conf->id);
            else if (pls[i].exporters_store)
                log_info(c->id, "pipeline %s: a batch goes at once when none is being stored, at half of "
                         "send_batch_size while one is (its exporters store: group commit)", pls[i].conf->id);
        }
}

static void proc_batch_drain(struct component *c)
{
    if (c->state != NULL)
        proc_batch_each_worker(c->state, proc_batch_on_worker_drain);
}

static void proc_batch_stop(struct component *c)
{
    struct proc_batch_set *set = c->state;

    if (set == NULL)
        return;
    proc_batch_each_worker(set, proc_batch_on_worker_stop);
    free(set->workers);
    free(set);
    c->state = NULL;
}

/* What the key table cannot say: a limit below the trigger could never be
 * met, as in the Collector. */
static int proc_batch_check(const void *conf, const char *id, const struct cfg_node *key, const struct cfg_node *val,
                            struct config_diag *d)
{
    const struct proc_batch_conf *cf = conf;
    int line, col;

    if (cf->send_batch_max_size == 0 || cf->send_batch_max_size >= cf->send_batch_size)
        return 0;
    config_yaml_pos(key, val, "send_batch_max_size", &line, &col);
    config_diag_error(d, line, col,
                      "processors.%s.send_batch_max_size: %lld is below send_batch_size (%lld); "
                      "write 0 for no limit, or at least %lld", id, (long long)cf->send_batch_max_size,
                      (long long)cf->send_batch_size, (long long)cf->send_batch_size);
    return -1;
}

const struct og_component_type proc_batch_type = {
    .name = "batch",
    .kind = OG_KIND_PROCESSOR,
    .keys = proc_batch_keys,
    .conf_size = sizeof(struct proc_batch_conf),
    .signals = OG_SIGNAL_ALL,
    .check = proc_batch_check,
    .start = proc_batch_start,
    .started = proc_batch_started,
    .drain = proc_batch_drain,
    .process = proc_batch_process,
    .stop = proc_batch_stop,
};
