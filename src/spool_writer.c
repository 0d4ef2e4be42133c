/* spool_writer.c: the spool's one writer thread. It owns every write transaction (queue creation aside):
 * it takes everything queued since the last commit, applies it in one transaction, commits (one fsync with
 * sync: always; none with sync: interval, which syncs every sync_interval instead) and posts each put's
 * completion to its worker. Limits are checked on estimates before LMDB is asked, so a full queue or
 * environment is refused (or drops its oldest) before LMDB says MDB_MAP_FULL; if LMDB or the disk is full
 * anyway (MDB_MAP_FULL, ENOSPC), the batches of that transaction are refused and the environment stays as
 * the last commit left it. */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <time.h>

#include <event2/buffer.h>
#include <lmdb.h>

#include "log.h"
#include "reactor.h"
#include "spool.h"
#include "spool_int.h"
#include "util/thread.h"

#define SPOOL_SWEEP_MS      1000    /* how often max_age is enforced on queues nobody reads */
#define SPOOL_GROW_WAIT_MS  100     /* how long a map resize waits for open reads before giving up */
#define SPOOL_REPOST_MS     10      /* retry of a completion reactor_post could not take */

static const char spool_log[] = "spool";

static void spool_writer_unmap(struct spool *sp);

/* ---- per-transaction queue state ---- */

static void spool_writer_txn_reset(struct spool *sp)
{
    pthread_mutex_lock(&sp->qlock);
    for (unsigned i = 0; i < sp->nqueues; i++) {
        struct spool_queue *q = sp->queues[i];
        q->t_created = atomic_load(&q->created);
        q->t_next_seq = q->next_seq;
        q->t_items = q->items;
        q->t_bytes = q->bytes;
        q->t_disk = q->disk;
        q->t_dropped_full = q->t_dropped_age = q->t_dropped_full_items = q->t_dropped_age_items = 0;
    }
    pthread_mutex_unlock(&sp->qlock);
    sp->t_disk = sp->disk;
    sp->t_freed = false;
}

/* Says that a queue deleted unsent batches: at once the first time, then at most every SPOOL_DROP_LOG_MS with
 * the totals, so a queue dropping at every commit is a line now and then, not a flood. */
static void spool_writer_log_drops(struct spool_queue *q)
{
    int64_t now = spool_now_ms(CLOCK_MONOTONIC);

    if (q->t_dropped_full + q->t_dropped_age == 0)
        return;
    if (q->drop_logged_ms != 0 && now - q->drop_logged_ms < SPOOL_DROP_LOG_MS)
        return;
    q->drop_logged_ms = now;
    log_warn(spool_log, "queue %s: deleted unsent, in all: %llu items to make room (when_full: drop_oldest), "
             "%llu items older than max_age", q->name, (unsigned long long)atomic_load(&q->dropped_full_items),
             (unsigned long long)atomic_load(&q->dropped_age_items));
}

/* After a successful commit the transaction's counts become the committed ones and are published. */
static void spool_writer_txn_publish(struct spool *sp)
{
    pthread_mutex_lock(&sp->qlock);
    for (unsigned i = 0; i < sp->nqueues; i++) {
        struct spool_queue *q = sp->queues[i];
        if (q->t_created && !atomic_load(&q->created))
            atomic_store(&q->created, true);    /* after the commit: a read from now on sees the database */
        q->next_seq = q->t_next_seq;
        q->items = q->t_items;
        q->bytes = q->t_bytes;
        q->disk = q->t_disk;
        atomic_store(&q->queued_items, q->items);
        atomic_store(&q->queued_bytes, q->bytes);
        atomic_fetch_add(&q->dropped_full, q->t_dropped_full);
        atomic_fetch_add(&q->dropped_age, q->t_dropped_age);
        atomic_fetch_add(&q->dropped_full_items, q->t_dropped_full_items);
        atomic_fetch_add(&q->dropped_age_items, q->t_dropped_age_items);
        spool_writer_log_drops(q);
    }
    pthread_mutex_unlock(&sp->qlock);
    sp->disk = sp->t_disk;
    sp->freed = sp->t_freed;
}

/* The item count in a stored value's header (0 when it is not ours to read). */
static uint64_t spool_writer_items_of(const MDB_val *v)
{
    struct spool_item it;

    return spool_header_decode(v, 0, &it) == 0 ? it.items : 0;
}

static void spool_writer_forget(struct spool *sp, struct spool_queue *q, size_t vlen)
{
    size_t len = vlen >= SPOOL_HEADER_SIZE ? vlen - SPOOL_HEADER_SIZE : 0;
    uint64_t d = spool_disk_estimate(sp, len);

    q->t_items--;
    q->t_bytes -= len <= q->t_bytes ? len : q->t_bytes;
    q->t_disk -= d <= q->t_disk ? d : q->t_disk;
    sp->t_disk -= d <= sp->t_disk ? d : sp->t_disk;
    sp->t_freed = true;
}

/* ---- operations inside the transaction ---- */

/* Deletes the oldest batch of <q> (drop_oldest making room). Returns 0 or an LMDB error. */
static int spool_writer_drop_first(struct spool *sp, MDB_txn *txn, struct spool_queue *q)
{
    MDB_cursor *c;
    MDB_val k, v;
    uint64_t items = 0;
    int rc = mdb_cursor_open(txn, q->dbi, &c);

    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    if (rc == 0) {
        items = spool_writer_items_of(&v);     /* before the delete frees its pages */
        rc = mdb_cursor_del(c, 0);
    }
    mdb_cursor_close(c);
    if (rc != 0)
        return rc;
    spool_writer_forget(sp, q, v.mv_size);
    q->t_dropped_full++;
    q->t_dropped_full_items += items;
    return 0;
}

/* True when <len> more bytes fit the queue's max_bytes and the environment's budget: three quarters of
 * max_size, since LMDB's copy-on-write needs free pages beside the live ones (more while readers pin old
 * snapshots). */
static int spool_writer_fits(const struct spool *sp, const struct spool_queue *q, size_t len)
{
    uint64_t d = spool_disk_estimate(sp, len);

    return q->t_bytes + len <= atomic_load(&q->max_bytes) && sp->t_disk + d <= sp->max_size / 4 * 3;
}

/* Stores one put, first making room (drop_oldest) or refusing it (reject). Returns 0 (op->status says
 * what happened) or an LMDB error, MDB_MAP_FULL included, which aborts the transaction. */
static int spool_writer_put(struct spool *sp, MDB_txn *txn, struct spool_op *op)
{
    struct spool_queue *q = op->q;
    uint8_t kbuf[8];
    MDB_val k = { sizeof(kbuf), kbuf }, v = { SPOOL_HEADER_SIZE + op->len, NULL };
    int rc;

    if (!q->t_created) {
        op->status = OG_RETRY;      /* its database could not be created (logged): refused, retryable */
        return 0;
    }
    while (!spool_writer_fits(sp, q, op->len)) {
        if (atomic_load(&q->when_full) == SPOOL_REJECT || q->t_items == 0) {
            op->status = OG_RETRY;
            return 0;
        }
        if ((rc = spool_writer_drop_first(sp, txn, q)) != 0)
            return rc;
    }
    spool_key_encode(kbuf, q->t_next_seq);
    if ((rc = mdb_put(txn, q->dbi, &k, &v, MDB_APPEND | MDB_RESERVE)) != 0)
        return rc;
    spool_header_encode(v.mv_data, op->signal, op->items, op->enq_ms, 0, op->encoding);
    if (op->buf != NULL)
        evbuffer_copyout(op->buf, (uint8_t *)v.mv_data + SPOOL_HEADER_SIZE, op->len);
    else if (op->len > 0)
        memcpy((uint8_t *)v.mv_data + SPOOL_HEADER_SIZE, op->data, op->len);
    op->seq = q->t_next_seq++;
    op->status = 0;
    q->t_items++;
    q->t_bytes += op->len;
    q->t_disk += spool_disk_estimate(sp, op->len);
    sp->t_disk += spool_disk_estimate(sp, op->len);
    return 0;
}

/* Deletes <op->seq> (ack or expiry); a seq already gone is fine. */
static int spool_writer_delete(struct spool *sp, MDB_txn *txn, struct spool_op *op)
{
    uint8_t kbuf[8];
    MDB_val k = { sizeof(kbuf), kbuf }, v;
    uint64_t items = 0;
    int rc;

    if (!op->q->t_created)
        return 0;   /* nothing of it was ever stored */
    spool_key_encode(kbuf, op->seq);
    rc = mdb_get(txn, op->q->dbi, &k, &v);
    if (rc == 0) {
        items = spool_writer_items_of(&v);     /* before the delete frees its pages */
        rc = mdb_del(txn, op->q->dbi, &k, NULL);
        /* The delete read the batch's first page through the map, and the fault mapped its neighbours too
         * (fault-around, 64 KiB): a commit deleting a thousand small batches (sending_queue.batch) would
         * keep 64 MiB of them resident. Unmapped every so often, not each time: each unmap flushes TLBs. */
        if (++sp->t_touched == SPOOL_UNMAP_EVERY)
            spool_writer_unmap(sp);
    }
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc == 0) {
        spool_writer_forget(sp, op->q, v.mv_size);
        if (op->kind == SPOOL_OP_EXPIRE) {
            op->q->t_dropped_age++;
            op->q->t_dropped_age_items += items;
        }
    }
    return rc;
}

static int spool_writer_apply(struct spool *sp, MDB_txn *txn, struct spool_op *op)
{
    switch (op->kind) {
    case SPOOL_OP_PUT:
        return op->skip ? 0 : spool_writer_put(sp, txn, op);
    case SPOOL_OP_ACK:
    case SPOOL_OP_EXPIRE:
        return spool_writer_delete(sp, txn, op);
    }
    return 0;
}

/* Creates, in <txn>, the database of every queue opened since the last commit. Only this thread opens
 * databases once the spool runs, as LMDB asks: a worker meeting a new tenant never waits for a commit. A
 * queue whose database cannot be created is logged and its puts are refused (t_created stays false) while
 * the others go on, unless LMDB broke the transaction (full map or disk): then the error is returned. */
static int spool_writer_create(struct spool *sp, MDB_txn *txn)
{
    pthread_mutex_lock(&sp->qlock);
    unsigned n = sp->nqueues;
    pthread_mutex_unlock(&sp->qlock);
    for (unsigned i = 0; i < n; i++) {
        struct spool_queue *q = sp->queues[i];
        char dbname[SPOOL_NAME_MAX + 3];
        int rc;
        if (q->t_created)
            continue;
        snprintf(dbname, sizeof(dbname), SPOOL_QUEUE_PREFIX "%s", q->name);
        if ((rc = mdb_dbi_open(txn, dbname, MDB_CREATE, &q->dbi)) == 0) {
            q->t_created = true;
            continue;
        }
        if (!q->create_logged) {
            log_error(spool_log, "queue %s: cannot create its database: %s", q->name, mdb_strerror(rc));
            q->create_logged = true;
        }
        if (rc != MDB_DBS_FULL && rc != MDB_INCOMPATIBLE && rc != MDB_BAD_VALSIZE)
            return rc;      /* the transaction is broken */
    }
    return 0;
}

/* One transaction over <ops>: applies them in order and commits. When a put meets MDB_MAP_FULL, that put
 * and every later one are marked skip (refused) and *again is set: the caller runs the transaction again
 * without them. Returns 0 or the LMDB/errno code of the failure (the transaction is gone either way). */
static int spool_writer_txn(struct spool *sp, struct spool_op *ops, bool *again)
{
    MDB_txn *txn;
    int rc;

    *again = false;
    spool_writer_txn_reset(sp);
    if ((rc = mdb_txn_begin(sp->env, NULL, 0, &txn)) != 0)
        return rc;
    if (spool_writer_create(sp, txn) != 0) {
        /* The map or the disk is full: again without the new databases, so that acks still free space;
         * the new queues' puts are refused (retryable) until a commit can create them. */
        mdb_txn_abort(txn);
        spool_writer_txn_reset(sp);
        if ((rc = mdb_txn_begin(sp->env, NULL, 0, &txn)) != 0)
            return rc;
    }
    for (struct spool_op *op = ops; op != NULL; op = op->next) {
        if ((rc = spool_writer_apply(sp, txn, op)) == 0)
            continue;
        mdb_txn_abort(txn);
        if (rc == MDB_MAP_FULL && op->kind == SPOOL_OP_PUT) {
            for (struct spool_op *o = op; o != NULL; o = o->next)
                if (o->kind == SPOOL_OP_PUT && !o->skip) {
                    o->skip = true;
                    o->status = OG_RETRY;
                }
            *again = true;
        }
        return rc;
    }
    return mdb_txn_commit(txn);
}

/* ---- the map ---- */

/* Resizes the map to <target> bytes. LMDB allows mdb_env_set_mapsize only while this process has no
 * transaction open, so new reads wait at the gate and the open ones are given SPOOL_GROW_WAIT_MS to end;
 * if they do not, the map stays as it is and what does not fit is refused. Returns true when it grew. */
static bool spool_writer_resize(struct spool *sp, uint64_t target)
{
    struct timespec until;
    bool grown = false;

    target = (target + (1u << 20) - 1) & ~(uint64_t)((1u << 20) - 1);
    if (target > sp->max_size)
        target = sp->max_size / sp->psize * sp->psize;
    if (target <= atomic_load(&sp->mapsize))
        return false;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += SPOOL_GROW_WAIT_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&sp->gate);
    sp->growing = true;
    while (sp->readers > 0 && pthread_cond_timedwait(&sp->gate_cond, &sp->gate, &until) == 0)
        ;
    if (sp->readers == 0) {
        atomic_store(&sp->map_base, 0);     /* the map may move */
        int rc = mdb_env_set_mapsize(sp->env, (size_t)target);
        if (rc == 0)
            atomic_store(&sp->mapsize, target);
        else
            log_warn(spool_log, "cannot grow the map to %llu bytes: %s", (unsigned long long)target,
                     mdb_strerror(rc));
        grown = rc == 0;
    }
    sp->growing = false;
    pthread_cond_broadcast(&sp->gate_cond);
    pthread_mutex_unlock(&sp->gate);
    return grown;
}

/* Grows the map (at least doubling, up to max_size) when the pages in use plus twice what <ops> may need
 * would not fit, so that LMDB rarely gets to say MDB_MAP_FULL. */
static void spool_writer_grow(struct spool *sp, const struct spool_op *ops)
{
    uint64_t need = 64, map = atomic_load(&sp->mapsize);
    MDB_envinfo info;

    for (const struct spool_op *op = ops; op != NULL; op = op->next)
        need += spool_disk_estimate(sp, op->len) / sp->psize + 2;
    if (map >= sp->max_size || mdb_env_info(sp->env, &info) != 0)
        return;
    uint64_t want = ((uint64_t)info.me_last_pgno + 1 + 2 * need) * sp->psize;
    if (want > map)
        spool_writer_resize(sp, want > 2 * map ? want : 2 * map);
}

/* Unmaps from this process every page of the map that reading faulted in: LMDB's own reads in the commits
 * (a delete reads the first page of the batch it frees), the exporters' header reads. They stay in the page
 * cache; the resident set just does not grow with the file. Harmless at any time: the map is read-only, and
 * a page read again is faulted in again. */
static void spool_writer_unmap(struct spool *sp)
{
    uintptr_t base = atomic_load(&sp->map_base);
    MDB_envinfo info;

    sp->t_touched = 0;
    if (base != 0 && mdb_env_info(sp->env, &info) == 0)
        (void)madvise((void *)base, ((size_t)info.me_last_pgno + 1) * sp->psize, MADV_DONTNEED);
}

/* ---- completions ---- */

/* A chain of completions for one reactor (linked by next), run in order. */
static void spool_writer_on_done(struct reactor *r, void *arg)
{
    struct spool_op *next;

    for (struct spool_op *op = arg; op != NULL; op = next) {
        next = op->next;
        op->done(r, op->arg, op->status);
        free(op);
    }
}

/* Posts a chain of completions to their reactor in one message, or keeps it to post again later when the
 * reactor cannot take it now (out of memory): the worker's clients are waiting for it. */
static void spool_writer_post(struct spool *sp, struct spool_op *chain, struct spool_op *last)
{
    if (reactor_post(chain->r, spool_writer_on_done, chain) != 0) {
        last->next = sp->unposted;
        sp->unposted = chain;
    }
}

/* The completions of one group commit, one chain per reactor: a commit of 100 requests stored one by one
 * (sending_queue.batch) wakes their worker once, not 100 times. */
#define SPOOL_POST_CHAINS 16

struct spool_writer_chains {
    struct { struct spool_op *head, *tail; } v[SPOOL_POST_CHAINS];
    unsigned n;
};

static void spool_writer_post_chains(struct spool *sp, struct spool_writer_chains *c)
{
    for (unsigned i = 0; i < c->n; i++)
        spool_writer_post(sp, c->v[i].head, c->v[i].tail);
    c->n = 0;
}

static void spool_writer_chain(struct spool *sp, struct spool_writer_chains *c, struct spool_op *op)
{
    unsigned i = 0;

    while (i < c->n && c->v[i].head->r != op->r)
        i++;
    if (i == SPOOL_POST_CHAINS) {       /* more reactors than chains: post what we have */
        spool_writer_post_chains(sp, c);
        i = 0;
    }
    if (i == c->n) {
        c->v[c->n++].head = op;
    } else {
        c->v[i].tail->next = op;
    }
    c->v[i].tail = op;
}

/* Posts each put's completion to its reactor and frees the other ops. */
static void spool_writer_complete(struct spool *sp, struct spool_op *ops)
{
    struct spool_writer_chains chains = { .n = 0 };
    struct spool_op *next;

    for (struct spool_op *op = ops; op != NULL; op = next) {
        next = op->next;
        spool_put_drop(op->data, op->buf);     /* in LMDB now, or refused: either way no longer needed */
        op->data = NULL;
        op->buf = NULL;
        if (op->kind != SPOOL_OP_PUT) {
            free(op);
            continue;
        }
        if (op->status == OG_RETRY)
            atomic_fetch_add(&op->q->refused, 1);
        else if (op->status != 0)
            atomic_fetch_add(&op->q->failed, 1);
        op->next = NULL;
        spool_writer_chain(sp, &chains, op);
    }
    spool_writer_post_chains(sp, &chains);
}

/* Posts again, one by one, the completions no reactor could take before. */
static void spool_writer_repost(struct spool *sp)
{
    struct spool_op *ops = sp->unposted, *next;

    sp->unposted = NULL;
    for (struct spool_op *op = ops; op != NULL; op = next) {
        next = op->next;
        op->next = NULL;
        spool_writer_post(sp, op, op);
    }
}

/* ---- the group commit ---- */

static bool spool_writer_is_full(int rc)
{
    return rc == MDB_MAP_FULL || rc == ENOSPC || rc == EDQUOT || rc == EFBIG;
}

/* True when the disk holding the spool has less free space than <ops> need. LMDB reports a write cut
 * short by a full disk as EIO, not ENOSPC: this tells a full disk (refuse, retry later) from a broken one. */
static bool spool_writer_disk_short(const struct spool *sp, const struct spool_op *ops)
{
    uint64_t need = 64ull * sp->psize;
    struct statvfs vfs;

    for (const struct spool_op *op = ops; op != NULL; op = op->next)
        need += spool_disk_estimate(sp, op->len);
    if (statvfs(sp->directory, &vfs) != 0)
        return false;
    return (uint64_t)vfs.f_bavail * vfs.f_frsize < need;
}

/* Sets the status of every put not yet refused; other ops are left alone. */
static void spool_writer_fail_puts(struct spool_op *ops, int status)
{
    for (struct spool_op *op = ops; op != NULL; op = op->next)
        if (op->kind == SPOOL_OP_PUT && !op->skip)
            op->status = status;
}

/* Commits a tiny write to the meta database. LMDB reuses the pages a commit freed only two transactions
 * later (the previous snapshot must survive a torn meta page), and a refused transaction does not count:
 * on a full disk, the space acks freed would stay out of reach until some other write came along. */
static int spool_writer_touch(struct spool *sp)
{
    uint8_t now[8];
    MDB_val k = { 7, (void *)"touched" }, v = { sizeof(now), now };
    MDB_txn *txn;
    int rc;

    spool_key_encode(now, (uint64_t)spool_now_ms(CLOCK_REALTIME));
    if ((rc = mdb_txn_begin(sp->env, NULL, 0, &txn)) != 0)
        return rc;
    if ((rc = mdb_put(txn, sp->meta, &k, &v, 0)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

/* Runs the transaction over <ops>, growing the map once on MDB_MAP_FULL and, when the disk is full right
 * after a commit that deleted batches, making that space reusable and trying once more. */
static int spool_writer_try(struct spool *sp, struct spool_op *ops, bool *again)
{
    bool touched = false;
    int rc = 0;

    for (int tries = 0; tries < 4; tries++) {
        if ((rc = spool_writer_txn(sp, ops, again)) == 0)
            break;
        if (*again && spool_writer_resize(sp, 2 * atomic_load(&sp->mapsize))) {
            /* MDB_MAP_FULL on a put: the estimate fell short, and the map could still grow */
        } else if (!touched && sp->freed && (rc == ENOSPC || rc == EIO) && spool_writer_touch(sp) == 0) {
            touched = true;
            sp->freed = false;
        } else if (!*again) {
            break;
        } else {
            continue;   /* the puts from the one that met MDB_MAP_FULL on are skipped: commit the rest */
        }
        for (struct spool_op *op = ops; op != NULL; op = op->next)
            op->skip = false;
    }
    return rc;
}

/* Commits <ops>, refusing what does not fit. When the commit itself fails, the puts are refused (full) or
 * failed (I/O error), and the deletes are tried once more on their own: they free space, and
 * an ack that is never applied would leave a batch to be sent again after a restart. */
static void spool_writer_group(struct spool *sp, struct spool_op *ops)
{
    bool again = false;
    int rc;

    spool_writer_grow(sp, ops);
    rc = spool_writer_try(sp, ops, &again);
    if (rc == 0) {
        spool_writer_txn_publish(sp);
        sp->dirty = true;
        spool_writer_unmap(sp);
    } else {
        bool full = spool_writer_is_full(rc) || (rc == EIO && spool_writer_disk_short(sp, ops));
        spool_writer_fail_puts(ops, full ? OG_RETRY : -1);
        if (full)
            log_warn(spool_log, "spool %s full, refusing batches: %s", sp->directory,
                     mdb_strerror(rc == EIO ? ENOSPC : rc));
        else
            log_error(spool_log, "spool %s: commit failed: %s", sp->directory, mdb_strerror(rc));
        for (struct spool_op *op = ops; op != NULL; op = op->next)
            if (op->kind == SPOOL_OP_PUT)
                op->skip = true;
        if (spool_writer_txn(sp, ops, &again) == 0)
            spool_writer_txn_publish(sp);
    }
    spool_writer_complete(sp, ops);
}

/* ---- periodic work ---- */

/* Deletes (counting dropped_age) the batches at the head of each queue older than its max_age. */
static void spool_writer_sweep(struct spool *sp, int64_t now_ms)
{
    struct spool_op *ops = NULL;

    pthread_mutex_lock(&sp->qlock);
    unsigned n = sp->nqueues;
    pthread_mutex_unlock(&sp->qlock);
    for (unsigned i = 0; i < n; i++) {
        struct spool_queue *q = sp->queues[i];
        int64_t max_age = atomic_load(&q->max_age_ms);
        MDB_txn *txn;
        MDB_cursor *c;
        MDB_val k, v;
        if (max_age <= 0 || q->items == 0 || !atomic_load(&q->created) ||
            mdb_txn_begin(sp->env, NULL, MDB_RDONLY, &txn) != 0)
            continue;
        if (mdb_cursor_open(txn, q->dbi, &c) == 0) {
            struct spool_item it;
            for (int op = MDB_FIRST; mdb_cursor_get(c, &k, &v, op) == 0; op = MDB_NEXT) {
                uint64_t seq = spool_key_decode(&k);
                if (spool_header_decode(&v, seq, &it) != 0 || it.first_enqueue_ms >= now_ms - max_age)
                    break;
                struct spool_op *e = calloc(1, sizeof(*e));
                if (e == NULL)
                    break;
                *e = (struct spool_op){ .next = ops, .kind = SPOOL_OP_EXPIRE, .q = q, .seq = seq };
                ops = e;
            }
            mdb_cursor_close(c);
        }
        mdb_txn_abort(txn);
    }
    if (ops != NULL)
        spool_writer_group(sp, ops);
}

static int64_t spool_writer_deadline(const struct spool *sp)
{
    int64_t d = sp->next_sweep_ms;

    if (sp->sync == SPOOL_SYNC_INTERVAL && sp->dirty && sp->next_sync_ms < d)
        d = sp->next_sync_ms;
    if (sp->unposted != NULL)
        d = spool_now_ms(CLOCK_MONOTONIC) + SPOOL_REPOST_MS;
    return d;
}

static void spool_writer_periodic(struct spool *sp)
{
    int64_t now = spool_now_ms(CLOCK_MONOTONIC);

    if (sp->sync == SPOOL_SYNC_INTERVAL && sp->dirty && now >= sp->next_sync_ms) {
        int rc = mdb_env_sync(sp->env, 1);
        if (rc != 0)
            log_error(spool_log, "spool %s: sync failed: %s", sp->directory, mdb_strerror(rc));
        sp->dirty = false;
        sp->next_sync_ms = now + sp->sync_interval_ms;
    }
    if (now >= sp->next_sweep_ms) {
        spool_writer_sweep(sp, spool_now_ms(CLOCK_REALTIME));
        sp->next_sweep_ms = now + SPOOL_SWEEP_MS;
    }
    if (sp->unposted != NULL)
        spool_writer_repost(sp);
}

/* True when the input is worth a commit now. Deletes (acks, expiries) alone wait up to SPOOL_DELETE_WAIT_MS
 * for a put to share its commit: under load the exporter's acks came between two puts and cost a sync each,
 * as much as a put, and a put waited behind that sync. Deferring them is safe: until they commit, the
 * batches are only sent again after a restart (at-least-once), and a full queue sees their space freed by
 * the very commit of the put that needs it, as they come first in the input. The wait is short because it
 * is what a crash sends twice: acks of the last 100 ms made 5,400 duplicates in 40 kill -9 cycles of the
 * soak (200 without the wait), those of the last 10 ms 1,600, with nearly all of the syncs saved under
 * load (passthrough.sh: 129 for 122 batches; 242 without). Under the input's lock. */
static bool spool_writer_ready(struct spool *sp, int64_t now)
{
    if (sp->head == NULL)
        return false;
    if (sp->has_put || sp->stopping)
        return true;
    if (sp->deletes_until_ms == 0)
        sp->deletes_until_ms = now + SPOOL_DELETE_WAIT_MS;
    return now >= sp->deletes_until_ms;
}

/* Takes the whole input, waiting for some or for the next deadline. Sets *stop when closing. */
static struct spool_op *spool_writer_take(struct spool *sp, bool *stop)
{
    struct spool_op *ops;
    int64_t d = spool_writer_deadline(sp), now;

    pthread_mutex_lock(&sp->lock);
    while (!spool_writer_ready(sp, now = spool_now_ms(CLOCK_MONOTONIC)) && !sp->stopping && now < d) {
        int64_t w = sp->head != NULL && sp->deletes_until_ms < d ? sp->deletes_until_ms : d;
        struct timespec until = { (time_t)(w / 1000), (long)(w % 1000) * 1000000L };
        pthread_cond_timedwait(&sp->cond, &sp->lock, &until);
    }
    ops = sp->head;
    sp->head = sp->tail = NULL;
    sp->pending = 0;
    sp->has_put = false;
    sp->deletes_until_ms = 0;
    *stop = sp->stopping;
    pthread_mutex_unlock(&sp->lock);
    return ops;
}

static void *spool_writer_main(void *arg)
{
    struct spool *sp = arg;
    bool stop = false;

    sp->next_sweep_ms = spool_now_ms(CLOCK_MONOTONIC) + SPOOL_SWEEP_MS;
    sp->next_sync_ms = spool_now_ms(CLOCK_MONOTONIC) + sp->sync_interval_ms;
    for (;;) {
        struct spool_op *ops = spool_writer_take(sp, &stop);
        if (ops != NULL)
            spool_writer_group(sp, ops);
        spool_writer_periodic(sp);
        if (stop && ops == NULL && sp->unposted == NULL)
            break;
    }
    if (sp->sync == SPOOL_SYNC_INTERVAL && mdb_env_sync(sp->env, 1) != 0)
        log_error(spool_log, "spool %s: final sync failed", sp->directory);
    return NULL;
}

int spool_writer_start(struct spool *sp, char *err, size_t errlen)
{
    int rc = pthread_create(&sp->writer, NULL, spool_writer_main, sp);

    if (rc != 0) {
        snprintf(err, errlen, "cannot start the spool writer: %s", strerror(rc));
        return -1;
    }
    sp->writer_running = true;
    thread_name(sp->writer, "spool", "");
    return 0;
}

void spool_writer_stop(struct spool *sp)
{
    if (!sp->writer_running)
        return;
    pthread_mutex_lock(&sp->lock);
    sp->stopping = true;
    pthread_cond_signal(&sp->cond);
    pthread_mutex_unlock(&sp->lock);
    pthread_join(sp->writer, NULL);
    sp->writer_running = false;
}
