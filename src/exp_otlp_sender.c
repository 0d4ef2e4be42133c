/* exp_otlp_sender.c: the exporter's own thread ("exporter reactor"): takes
 * batches from the in-memory queue or from the spool, keeps up to
 * num_consumers requests in flight per queue through the transport,
 * classifies every answer as the OTLP specification says, and retries with
 * exponential backoff and jitter.
 *
 * Spooled batches are read oldest first, by where their bytes are: the
 * transport reads them from the spool as it writes them, a slice at a time
 * (a read transaction must not stay open: it blocks the map's growth). With
 * sending_queue.batch, a batch is a run of consecutive stored requests sent
 * as one. A batch is deleted only after the upstream's success or a
 * permanent answer; a retryable answer puts it back to be read again when
 * its backoff is over, so memory holds at most slices of what is in flight,
 * order is kept as far as in-flight allows, and nothing is lost on a crash.
 * Each tenant's queue backs off on its own and the queues take turns, so one
 * tenant's failing or slow upstream never holds up another's. */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "exp_otlp_int.h"
#include "log.h"
#include "util/thread.h"

#define EXP_OTLP_TICK_MS 50                 /* deadlines, due retries and stop are checked this often */
#define EXP_OTLP_STOP_WAIT_MS 5000          /* stop() sends what is queued in memory for this long at most */
#define EXP_OTLP_RECONNECT_MIN_MS 100

static int64_t exp_otlp_clock_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t exp_otlp_now_ms(void)
{
    return exp_otlp_clock_ms(CLOCK_MONOTONIC);
}

/* One write per wake-up, not per caller: every request committed alone (sending_queue.batch) wakes the
 * exporter, and on_wake looks at every queue anyway. */
void exp_otlp_wake(struct exp_otlp *e)
{
    uint64_t one = 1;

    if (atomic_exchange(&e->wake_pending, true))
        return;
    ssize_t w = write(e->wake_fd, &one, sizeof one);    /* fails only when a wake-up is pending anyway */
    (void)w;
}

/* A delay of <ms> +-50%, as the Collector's randomization_factor 0.5; spreads retries of many batches. */
static int64_t exp_otlp_jitter(int64_t ms)
{
    if (ms < 2)
        return ms;
    return ms / 2 + (int64_t)((uint64_t)random() % (uint64_t)ms);
}

/* initial_interval doubled per failure in a row, capped, jittered; the upstream's own delay wins. */
static int64_t exp_otlp_backoff(const struct exp_otlp *e, unsigned failures, const struct exp_otlp_answer *a)
{
    const struct exp_otlp_retry_conf *rc = &e->conf->retry;
    int64_t delay = rc->initial_interval_ms;

    if (a->retry_after_ms > 0)
        return a->retry_after_ms;
    for (unsigned i = 1; i < failures && delay < rc->max_interval_ms; i++)
        delay *= 2;
    if (delay > rc->max_interval_ms)
        delay = rc->max_interval_ms;
    return exp_otlp_jitter(delay);
}

/* ---- classification ---- */

enum exp_otlp_verdict { EXP_OTLP_OK, EXP_OTLP_RETRY, EXP_OTLP_PERMANENT };

/* The OTLP specification's rule: these codes are retryable, RESOURCE_EXHAUSTED only with RetryInfo; an HTTP
 * status without grpc-status: 429/502/503/504 are retryable, other 2xx success, the rest permanent. */
static enum exp_otlp_verdict exp_otlp_classify(const struct exp_otlp_answer *a)
{
    if (a->transport)
        return EXP_OTLP_RETRY;
    if (a->grpc_status < 0) {
        int h = a->http_status;
        if (h >= 200 && h < 300)
            return EXP_OTLP_OK;
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

static void exp_otlp_log_drop(const struct exp_otlp *e, const struct exp_otlp_batch *b, const char *what,
                              const struct exp_otlp_answer *a)
{
    log_warn(e->id, "%s %llu %s: %s (%s %d)", what, (unsigned long long)b->items, exp_otlp_item_name(b->signal),
             a->message[0] ? a->message : "no message", a->grpc_status >= 0 ? "grpc-status" : "http status",
             a->grpc_status >= 0 ? a->grpc_status : a->http_status);
}

/* Counts a success, minus what a partial success says the upstream rejected. */
static void exp_otlp_count_ok(struct exp_otlp *e, const struct exp_otlp_batch *b, const struct exp_otlp_answer *a)
{
    uint64_t rejected = a->rejected > 0 ? (uint64_t)a->rejected : 0;

    if (rejected > b->items)
        rejected = b->items;
    if (rejected > 0) {
        atomic_fetch_add(&e->counts.failed[b->signal], rejected);
        log_warn(e->id, "partial success: upstream rejected %llu of %llu %s: %s", (unsigned long long)rejected,
                 (unsigned long long)b->items, exp_otlp_item_name(b->signal), a->message);
    }
    atomic_fetch_add(&e->counts.sent[b->signal], b->items - rejected);
    e->reconnect_ms = 0;                /* the upstream works: the next reconnect is quick */
}

/* ---- the in-memory queue ---- */

static void exp_otlp_retry_insert(struct exp_otlp *e, struct exp_otlp_batch *b)
{
    struct exp_otlp_batch **pp = &e->retries;

    while (*pp != NULL && (*pp)->due_ms <= b->due_ms)
        pp = &(*pp)->next;
    b->next = *pp;
    *pp = b;
}

/* The next batch to send: a due retry first (older data), else the queue's oldest. */
static struct exp_otlp_batch *exp_otlp_mem_next(struct exp_otlp *e, int64_t now)
{
    struct exp_otlp_batch *b = e->retries;

    if (b != NULL && b->due_ms <= now) {
        e->retries = b->next;
        b->next = NULL;
        return b;
    }
    return exp_otlp_queue_take(&e->queue);
}

static void exp_otlp_mem_pump(struct exp_otlp *e, int64_t now)
{
    while (!e->final && e->transport->room(e->conn, OG_SIGNAL_TRACES, e->consumers) > 0) {
        struct exp_otlp_batch *b = exp_otlp_mem_next(e, now);
        if (b == NULL)
            return;
        if (e->transport->room(e->conn, b->signal, e->consumers) == 0) {
            b->due_ms = now;            /* that signal's target is busy: first in line next time */
            exp_otlp_retry_insert(e, b);
            return;
        }
        if (b->first_try_ms == 0)
            b->first_try_ms = now;
        b->attempts++;
        if (e->transport->submit(e->conn, b, now) != 0) {
            b->due_ms = now + EXP_OTLP_TICK_MS;     /* out of memory or session refused: soon again */
            exp_otlp_retry_insert(e, b);
            return;
        }
    }
}

static void exp_otlp_mem_drop(struct exp_otlp *e, struct exp_otlp_batch *b, _Atomic uint64_t *counter,
                              const char *what, const struct exp_otlp_answer *a)
{
    atomic_fetch_add(&counter[b->signal], b->items);
    exp_otlp_log_drop(e, b, what, a);
    exp_otlp_queue_release(&e->queue, b);
}

static void exp_otlp_mem_answer(struct exp_otlp *e, struct exp_otlp_batch *b, const struct exp_otlp_answer *a)
{
    const struct exp_otlp_retry_conf *rc = &e->conf->retry;
    int64_t now = exp_otlp_now_ms();

    switch (exp_otlp_classify(a)) {
    case EXP_OTLP_OK:
        exp_otlp_count_ok(e, b, a);
        exp_otlp_queue_release(&e->queue, b);
        return;
    case EXP_OTLP_PERMANENT:
        exp_otlp_mem_drop(e, b, e->counts.failed, "permanent error, dropping", a);
        return;
    case EXP_OTLP_RETRY:
        break;
    }
    int64_t delay = exp_otlp_backoff(e, b->attempts, a);
    if (!rc->enabled) {
        exp_otlp_mem_drop(e, b, e->counts.dropped, "retry_on_failure disabled, dropping", a);
        return;
    }
    if (rc->max_elapsed_time_ms > 0 && now + delay - b->first_try_ms > rc->max_elapsed_time_ms) {
        exp_otlp_mem_drop(e, b, e->counts.dropped, "max_elapsed_time reached, dropping", a);
        return;
    }
    atomic_fetch_add(&e->counts.retried[b->signal], b->items);
    log_debug(e->id, "retrying %llu %s in %lldms: %s", (unsigned long long)b->items, exp_otlp_item_name(b->signal),
              (long long)delay, a->message);
    b->due_ms = now + delay;
    exp_otlp_retry_insert(e, b);
}

/* ---- the spool ---- */

/* Deletes <b>'s stored requests from its queue: acknowledged, or permanently refused. A delete that cannot be
 * queued (closing, out of memory) leaves one stored: it is sent again after a restart (at-least-once). */
static void exp_otlp_tq_ack(struct exp_otlp_tq *tq, const struct exp_otlp_batch *b)
{
    for (unsigned i = 0; i < b->nparts; i++)
        (void)spool_ack(tq->sq, b->parts[i].seq);
}

/* exp_otlp_read_fn of spooled batches: each stored request's bytes come from it still stored under its seq,
 * checked in the read transaction they are read in, so that one max_age or drop_oldest deleted meanwhile,
 * whose pages the spool may have given to newer data, is never sent. */
static int exp_otlp_tq_read_slice(void *arg, const struct exp_otlp_batch *b, size_t off, size_t n, uint8_t *dst)
{
    struct exp_otlp *e = arg;

    for (unsigned i = 0; i < b->nparts && n > 0; i++) {
        const struct exp_otlp_part *pt = &b->parts[i];
        struct spool_item it;
        size_t got;
        int rc = -1;

        if (off >= pt->off + pt->len)
            continue;
        size_t from = off - pt->off, m = pt->len - from < n ? pt->len - from : n;
        if (spool_read(b->tq->sq, pt->seq - 1, &it, 1, &got, e->reader) != 0)
            return -1;
        if (got == 1 && it.seq == pt->seq && it.len == pt->len)
            rc = spool_item_copy(e->reader, &it, from, m, dst);
        spool_read_end(e->reader);
        if (rc != 0)
            return -1;
        off += m;
        dst += m;
        n -= m;
    }
    return n == 0 ? 0 : -1;
}

/* Adds stored request <it> to the run <st> is making, if it may join: one signal and encoding, never past
 * max_size unless alone. Closes the run when it cannot grow any more: min_size reached (at once without
 * sending_queue.batch), EXP_OTLP_RUN_MAX requests, or <it> refused. Returns whether <it> joined. */
static bool exp_otlp_run_add(const struct exp_otlp *e, struct exp_otlp_run *st, const struct spool_item *it)
{
    const struct exp_otlp_batch_conf *bc = &e->conf->queue.batch;

    if (st->n > 0 && (it->signal != st->signal || it->encoding != st->encoding ||
                      (bc->max_size > 0 && st->items + it->items > (uint64_t)bc->max_size))) {
        st->closed = true;
        return false;
    }
    if (st->n++ == 0) {
        st->signal = it->signal;
        st->encoding = it->encoding;
        st->first_ms = it->first_enqueue_ms;
    }
    st->items += it->items;
    st->last = it->seq;
    st->closed = !bc->enabled || (bc->min_size > 0 && st->items >= (uint64_t)bc->min_size) ||
                 st->n == EXP_OTLP_RUN_MAX;
    return true;
}

/* A batch of the <k> stored requests <it> (read from <tq>): it only says where their bytes are, for the
 * transport to read from the spool as it writes them. NULL when out of memory. */
static struct exp_otlp_batch *exp_otlp_run_batch(struct exp_otlp_tq *tq, struct exp_otlp *e,
                                                 const struct spool_item *it, unsigned k)
{
    const size_t align = _Alignof(struct exp_otlp_part);
    struct exp_otlp_batch *b = exp_otlp_batch_new(tq->tenant, k * sizeof(struct exp_otlp_part) + align);
    size_t len = 0;
    uint64_t items = 0;

    if (b == NULL)
        return NULL;
    b->parts = (struct exp_otlp_part *)(((uintptr_t)b->data + align - 1) & ~(uintptr_t)(align - 1));
    for (unsigned i = 0; i < k; i++) {
        b->parts[i] = (struct exp_otlp_part){ .seq = it[i].seq, .off = len, .len = it[i].len };
        len += it[i].len;
        items += it[i].items;
    }
    b->nparts = k;
    b->data = NULL;
    b->len = len;
    b->read = exp_otlp_tq_read_slice;
    b->read_arg = e;
    b->signal = it[0].signal;
    b->items = items;
    b->gzip = it[0].encoding == EXP_OTLP_SPOOL_GZIP;
    b->tq = tq;
    b->seq = it[0].seq;
    b->enqueued_ms = it[0].first_enqueue_ms;
    return b;
}

/* The batch of what is still stored of <tq> after seq <after> up to seq <last>, a run of <max> stored requests
 * decided before (a retry's, or one that grew over several reads), *out: NULL when none of it is left.
 * Returns 0, or -1 when it could not look (out of memory, LMDB). */
static int exp_otlp_tq_read(struct exp_otlp *e, struct exp_otlp_tq *tq, uint64_t after, uint64_t last,
                            unsigned max, struct exp_otlp_batch **out)
{
    size_t n;
    unsigned k = 0;

    *out = NULL;
    if (spool_read(tq->sq, after, e->stored, max, &n, e->reader) != 0)
        return -1;
    while (k < n && e->stored[k].seq <= last)
        k++;
    spool_read_end(e->reader);
    if (k > 0 && (*out = exp_otlp_run_batch(tq, e, e->stored, k)) == NULL)
        return -1;
    return 0;
}

/* The next new batch of <tq>, after its cursor: the run of stored requests it makes grows with each call, by
 * what was stored since the last (so a run waiting for more is not read again whole each time), and goes
 * once it cannot grow any more or its oldest request is flush_timeout old. NULL when none goes now. */
static struct exp_otlp_batch *exp_otlp_tq_take(struct exp_otlp *e, struct exp_otlp_tq *tq)
{
    const struct exp_otlp_batch_conf *bc = &e->conf->queue.batch;
    struct exp_otlp_run *st = &tq->run;
    struct exp_otlp_batch *b = NULL;
    bool fresh = st->n == 0;
    size_t n = 0, used = 0;

    if (!st->closed) {
        if (spool_read(tq->sq, fresh ? tq->cursor : st->last, e->stored, bc->enabled ? EXP_OTLP_RUN_MAX - st->n : 1,
                       &n, e->reader) != 0)
            return NULL;
        while (used < n && !st->closed && exp_otlp_run_add(e, st, &e->stored[used]))
            used++;
        spool_read_end(e->reader);
    }
    if (st->n == 0 || (!st->closed && exp_otlp_clock_ms(CLOCK_REALTIME) < st->first_ms + bc->flush_timeout_ms))
        return NULL;                    /* nothing stored, or a run that may still grow */
    if (fresh && used == st->n)
        b = exp_otlp_run_batch(tq, e, e->stored, st->n);   /* all of it came in this read */
    else if (exp_otlp_tq_read(e, tq, tq->cursor, st->last, st->n, &b) != 0)
        return NULL;                    /* the run stays as it is: next time */
    if (b == NULL && fresh && used == st->n)
        return NULL;                    /* out of memory: next time */
    tq->cursor = st->last;
    *st = (struct exp_otlp_run){ 0 };
    return b;
}

/* The retry of <tq> due first, if one is due by <now>: its index, or -1. */
static int exp_otlp_tq_due(const struct exp_otlp_tq *tq, int64_t now)
{
    int best = -1;

    for (unsigned i = 0; i < tq->nretries; i++)
        if (tq->retries[i].due_ms <= now && (best < 0 || tq->retries[i].due_ms < tq->retries[best].due_ms))
            best = (int)i;
    return best;
}

static void exp_otlp_tq_retry_add(struct exp_otlp_tq *tq, const struct exp_otlp_batch *b, int64_t due_ms,
                                  unsigned attempts)
{
    tq->retries[tq->nretries++] = (struct exp_otlp_retry){
        .seq = b->seq, .last = b->parts[b->nparts - 1].seq, .n = b->nparts, .due_ms = due_ms, .attempts = attempts,
    };
}

/* The next batch of <tq>: a due retry first (older data), else the next run after the cursor while fewer than
 * num_consumers are held. NULL when none. A retry whose requests are all gone (max_age deleted them) is
 * forgotten. */
static struct exp_otlp_batch *exp_otlp_tq_next(struct exp_otlp *e, struct exp_otlp_tq *tq, int64_t now)
{
    struct exp_otlp_batch *b;
    int k;

    while ((k = exp_otlp_tq_due(tq, now)) >= 0) {
        struct exp_otlp_retry r = tq->retries[k];
        if (exp_otlp_tq_read(e, tq, r.seq - 1, r.last, r.n, &b) != 0) {
            tq->retries[k].due_ms = now + EXP_OTLP_TICK_MS;     /* soon again */
            return NULL;
        }
        tq->retries[k] = tq->retries[--tq->nretries];
        if (b != NULL) {
            b->attempts = r.attempts;
            return b;
        }
        tq->held--;                     /* deleted meanwhile (max_age): nothing to retry */
    }
    if (tq->held >= e->consumers || (b = exp_otlp_tq_take(e, tq)) == NULL)
        return NULL;
    tq->held++;
    return b;
}

/* Sends one batch of <tq>. Returns true when one went. */
static bool exp_otlp_tq_send(struct exp_otlp *e, struct exp_otlp_tq *tq, int64_t now)
{
    struct exp_otlp_batch *b = exp_otlp_tq_next(e, tq, now);

    if (b == NULL)
        return false;
    if (e->transport->room(e->conn, b->signal, e->consumers * atomic_load(&e->ntq)) == 0 ||
        e->transport->submit(e->conn, b, now) != 0) {
        exp_otlp_tq_retry_add(tq, b, now, b->attempts);  /* that signal's target is busy: first next time */
        free(b);
        return false;
    }
    return true;
}

/* True when the transport could take a batch of some signal: checked before reading one, as reading copies it. */
static bool exp_otlp_has_room(struct exp_otlp *e)
{
    unsigned want = e->consumers * atomic_load(&e->ntq);

    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        if (e->transport->room(e->conn, (enum og_signal)s, want) > 0)
            return true;
    return false;
}

/* Round-robin over the queues, one batch each per turn, until no queue can send. */
static void exp_otlp_spool_pump(struct exp_otlp *e, int64_t now)
{
    bool sent = true;

    /* Stopping takes nothing more: it is safe where it is. What is in flight is still answered and acked. */
    while (sent && !e->final && !atomic_load(&e->stopping) && e->conn != NULL) {
        unsigned n = atomic_load(&e->ntq);
        sent = false;
        for (unsigned k = 0; k < n && e->conn != NULL; k++) {
            struct exp_otlp_tq *tq = e->tqs[(e->rr + k) % n];
            if (!exp_otlp_has_room(e))
                return;
            if (exp_otlp_tq_send(e, tq, now))
                sent = true;
        }
        if (n > 0)
            e->rr = (e->rr + 1) % n;
    }
}

static void exp_otlp_spool_answer(struct exp_otlp *e, struct exp_otlp_batch *b, const struct exp_otlp_answer *a)
{
    struct exp_otlp_tq *tq = b->tq;
    int64_t now = exp_otlp_now_ms();

    if (e->final) {                     /* stopping: what was not acknowledged stays in the spool */
        tq->held--;
        free(b);
        return;
    }
    switch (exp_otlp_classify(a)) {
    case EXP_OTLP_OK:
        exp_otlp_count_ok(e, b, a);
        exp_otlp_tq_ack(tq, b);
        tq->held--;
        break;
    case EXP_OTLP_PERMANENT:
        atomic_fetch_add(&e->counts.failed[b->signal], b->items);
        exp_otlp_log_drop(e, b, "permanent error, dropping", a);
        exp_otlp_tq_ack(tq, b);
        tq->held--;
        break;
    case EXP_OTLP_RETRY:
        if (!e->conf->retry.enabled) {
            atomic_fetch_add(&e->counts.dropped[b->signal], b->items);
            exp_otlp_log_drop(e, b, "retry_on_failure disabled, dropping", a);
            exp_otlp_tq_ack(tq, b);
            tq->held--;
            break;
        }
        /* The batch keeps its place among the held ones but not its bytes: they are read again when due.
         * The queue goes on with the others, so a share of failures slows it down instead of stopping it,
         * and an upstream that fails them all leaves num_consumers batches waiting, not a flood. */
        atomic_fetch_add(&e->counts.retried[b->signal], b->items);
        int64_t delay = exp_otlp_backoff(e, b->attempts + 1, a);
        exp_otlp_tq_retry_add(tq, b, now + delay, b->attempts + 1);
        log_debug(e->id, "tenant '%s': retrying batch %llu in %lldms: %s", tq->tenant, (unsigned long long)b->seq,
                  (long long)delay, a->message);
        break;
    }
    free(b);
}

/* ---- the transport's callbacks ---- */

static void exp_otlp_pump(struct exp_otlp *e)
{
    int64_t now = exp_otlp_now_ms();

    if (e->conn == NULL)
        return;
    if (e->spool != NULL)
        exp_otlp_spool_pump(e, now);
    else
        exp_otlp_mem_pump(e, now);
}

static void exp_otlp_on_answer(void *arg, struct exp_otlp_batch *b, const struct exp_otlp_answer *a)
{
    struct exp_otlp *e = arg;

    if (a->transport && !e->final && strcmp(a->message, e->last_conn_error) != 0) {
        log_warn(e->id, "%s", a->message);     /* once per reason: the upstream down is one line, not a flood */
        snprintf(e->last_conn_error, sizeof e->last_conn_error, "%s", a->message);
    }
    if (e->spool != NULL) {
        exp_otlp_spool_answer(e, b, a);
    } else if (e->final) {
        atomic_fetch_add(&e->counts.dropped[b->signal], b->items);
        exp_otlp_queue_release(&e->queue, b);
    } else {
        exp_otlp_mem_answer(e, b, a);
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
        .base = e->base, .id = e->id,
        .header_names = e->hnames, .header_values = e->hvalues, .n_headers = e->n_headers,
        /* OTLP/HTTP connections per upstream: four queues' worth; more tenants take turns on them */
        .max_inflight = e->consumers * (e->spool != NULL ? 4u : 1u),
        .on_answer = exp_otlp_on_answer, .on_ready = exp_otlp_on_ready, .on_closed = exp_otlp_on_closed, .arg = e,
    };
    char err[EXP_OTLP_MESSAGE_MAX];

    memcpy(env.targets, e->targets, sizeof env.targets);
    e->conn = e->transport->open(&env, err, sizeof err);
    if (e->conn == NULL)
        exp_otlp_on_closed(e, err);
}

static void exp_otlp_on_reconnect(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    exp_otlp_connect(arg);
}

static void exp_otlp_kick(struct exp_otlp *e)
{
    if (e->conn != NULL)
        e->transport->kick(e->conn);    /* fills free room (on_ready), then writes */
}

static void exp_otlp_on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct exp_otlp *e = arg;
    uint64_t n;
    (void)what;

    atomic_store(&e->wake_pending, false);      /* before the look: a wake after it writes again */
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        return;
    exp_otlp_kick(e);
}

/* ---- stopping ---- */

/* Ends the connection; in memory, gives up on everything still held (counted as dropped and logged). */
static void exp_otlp_give_up(struct exp_otlp *e)
{
    uint64_t lost[OG_SIGNAL_COUNT] = { 0 };

    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        lost[s] = atomic_load(&e->counts.dropped[s]);
    e->final = true;
    if (e->conn != NULL)
        e->transport->close(e->conn, "stopping");
    if (e->spool != NULL)
        return;                         /* everything not acknowledged stays spooled for the next start */
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

/* Nothing left to wait for at stop: in memory, an empty queue; spooled, nothing in flight (the rest waits in
 * the spool for the next start). */
static bool exp_otlp_idle(struct exp_otlp *e)
{
    bool empty = true;

    if (e->spool != NULL) {
        unsigned n = atomic_load(&e->ntq);
        for (unsigned i = 0; i < n; i++)
            empty = empty && e->tqs[i]->held == e->tqs[i]->nretries;     /* retries wait for the next start */
        return empty;
    }
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

    if (e->conn != NULL)
        e->transport->expire(e->conn, now, e->conf->timeout_ms);
    if (atomic_load(&e->stopping) && e->stop_deadline_ms == 0) {
        e->stop_deadline_ms = now + (e->spool != NULL ? e->conf->timeout_ms : EXP_OTLP_STOP_WAIT_MS);
        for (struct exp_otlp_batch *b = e->retries; b != NULL; b = b->next)
            b->due_ms = now;            /* stopping: one more try each, no waiting out backoffs */
    }
    exp_otlp_kick(e);                   /* writes the resets, sends due retries */
    if (e->stop_deadline_ms != 0 && (exp_otlp_idle(e) || now >= e->stop_deadline_ms)) {
        exp_otlp_give_up(e);
        event_base_loopbreak(e->base);
    }
}

static void *exp_otlp_main(void *arg)
{
    struct exp_otlp *e = arg;

    exp_otlp_connect(e);
    event_base_dispatch(e->base);
    if (!e->final || e->conn != NULL)
        exp_otlp_give_up(e);
    return NULL;
}

int exp_otlp_sender_start(struct exp_otlp *e, char *err, size_t errlen)
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
    thread_name(e->thread, "exp/", e->id);
    (void)thread_bulk(e->thread);       /* the workers answer clients; this only has to keep up */
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

void exp_otlp_sender_stop(struct exp_otlp *e)
{
    if (e->thread_started) {
        atomic_store(&e->stopping, true);
        exp_otlp_wake(e);
        pthread_join(e->thread, NULL);
        e->thread_started = false;
    }
    if (e->wake_ev != NULL)
        event_free(e->wake_ev);
    if (e->tick_ev != NULL)
        event_free(e->tick_ev);
    if (e->reconnect_ev != NULL)
        event_free(e->reconnect_ev);
    if (e->base != NULL)
        event_base_free(e->base);
    e->wake_ev = e->tick_ev = e->reconnect_ev = NULL;
    e->base = NULL;
}
