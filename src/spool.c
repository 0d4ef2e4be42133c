/* spool.c: the LMDB spool's environment, queues, puts and reads (the writer thread is spool_writer.c).
 * Workers copy a batch into the writer's input (a locked list, bounded by max_pending bytes) and return at
 * once; the writer commits everything queued in one transaction and posts each completion to its worker's
 * reactor. Readers use MDB_NOTLS read transactions, never blocked by the writer; the only thing they wait
 * for is a map resize, which cannot run while a read holds pointers into the old map. */
#include "autoconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <lmdb.h>

#include "spool.h"
#include "spool_int.h"

#define SPOOL_DEFAULT_MAX_SIZE    (1ull << 30)
#define SPOOL_DEFAULT_MAX_PENDING (64ull << 20)
#define SPOOL_INITIAL_MAP         (8ull << 20)

int64_t spool_now_ms(int clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void spool_key_encode(uint8_t out[8], uint64_t seq)
{
    for (int i = 7; i >= 0; i--, seq >>= 8)
        out[i] = (uint8_t)seq;
}

uint64_t spool_key_decode(const MDB_val *key)
{
    const uint8_t *p = key->mv_data;
    uint64_t seq = 0;

    if (key->mv_size != 8)
        return 0;
    for (int i = 0; i < 8; i++)
        seq = seq << 8 | p[i];
    return seq;
}

static void spool_le_put(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t spool_le_get(const uint8_t *p, int n)
{
    uint64_t v = 0;

    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Header layout, little-endian: version u8, signal u8, header size u16, attempts u32, items u64,
 * first_enqueue_ms i64, encoding u8, 7 bytes reserved (zero). The header size lets a later version append
 * fields that older readers skip. */
void spool_header_encode(uint8_t *p, enum og_signal signal, uint64_t items, int64_t enq_ms, uint32_t attempts,
                         unsigned encoding)
{
    memset(p, 0, SPOOL_HEADER_SIZE);
    p[0] = (uint8_t)SPOOL_FORMAT_VERSION;
    p[1] = (uint8_t)signal;
    spool_le_put(p + 2, SPOOL_HEADER_SIZE, 2);
    spool_le_put(p + 4, attempts, 4);
    spool_le_put(p + 8, items, 8);
    spool_le_put(p + 16, (uint64_t)enq_ms, 8);
    p[24] = (uint8_t)encoding;
}

int spool_header_decode(const MDB_val *val, uint64_t seq, struct spool_item *it)
{
    const uint8_t *p = val->mv_data;
    size_t hlen;

    if (val->mv_size < SPOOL_HEADER_SIZE || p[0] == 0 || p[0] > SPOOL_FORMAT_VERSION)
        return -1;
    hlen = (size_t)spool_le_get(p + 2, 2);
    if (hlen < SPOOL_HEADER_SIZE || hlen > val->mv_size || p[1] >= OG_SIGNAL_COUNT)
        return -1;
    it->seq = seq;
    it->signal = (enum og_signal)p[1];
    it->attempts = (uint32_t)spool_le_get(p + 4, 4);
    it->items = spool_le_get(p + 8, 8);
    it->first_enqueue_ms = (int64_t)spool_le_get(p + 16, 8);
    it->encoding = p[24];
    it->data = p + hlen;
    it->len = val->mv_size - hlen;
    return 0;
}

/* What one stored value costs in the map: a value over about half a page goes to its own overflow pages;
 * smaller ones share leaf pages (node header and key included). */
uint64_t spool_disk_estimate(const struct spool *sp, size_t len)
{
    uint64_t v = (uint64_t)len + SPOOL_HEADER_SIZE;

    if (v > sp->psize / 2)
        return (v + 16 + sp->psize - 1) / sp->psize * sp->psize;
    return v + 8 + 16;
}

/* ---- the map-resize gate ---- */

void spool_gate_enter(struct spool *sp)
{
    pthread_mutex_lock(&sp->gate);
    while (sp->growing)
        pthread_cond_wait(&sp->gate_cond, &sp->gate);
    sp->readers++;
    pthread_mutex_unlock(&sp->gate);
}

void spool_gate_leave(struct spool *sp)
{
    pthread_mutex_lock(&sp->gate);
    if (--sp->readers == 0)
        pthread_cond_broadcast(&sp->gate_cond);
    pthread_mutex_unlock(&sp->gate);
}

/* The head of every LMDB page in the file (MDB_page in lmdb's mdb.c; the on-disk format of every 0.9 release,
 * which mdb_stat and mdb_dump read too): its number in the file, then its kind. A meta page follows it with
 * the magic number. */
struct spool_lmdb_page {
    size_t pgno;
    uint16_t pad;
    uint16_t flags;
    uint32_t lower_upper;
};
#define SPOOL_LMDB_P_BRANCH   0x01
#define SPOOL_LMDB_P_LEAF     0x02
#define SPOOL_LMDB_P_OVERFLOW 0x04
#define SPOOL_LMDB_P_META     0x08
#define SPOOL_LMDB_MAGIC      0xBEEFC0DEu

/* LMDB does not say where its map starts, but a key is stored in its leaf page and a page's head says its
 * number: the start is that far before. The start found must hold LMDB's meta page, checked once per move
 * of the map (it moves only when it grows, with no read open). */
uintptr_t spool_map_base(struct spool *sp, const void *key)
{
    uintptr_t psize = sp->psize, page = (uintptr_t)key & ~(psize - 1), base;
    struct spool_lmdb_page head;
    uint32_t magic;

    memcpy(&head, (const void *)page, sizeof(head));
    if ((head.flags & (SPOOL_LMDB_P_BRANCH | SPOOL_LMDB_P_LEAF | SPOOL_LMDB_P_OVERFLOW | SPOOL_LMDB_P_META)) !=
            SPOOL_LMDB_P_LEAF || head.pgno == 0 || head.pgno > page / psize)
        return 0;
    base = page - head.pgno * psize;
    if (base == atomic_load(&sp->map_base))
        return base;
    memcpy(&head, (const void *)base, sizeof(head));
    memcpy(&magic, (const uint8_t *)base + sizeof(head), sizeof(magic));
    if (head.pgno != 0 || !(head.flags & SPOOL_LMDB_P_META) || magic != SPOOL_LMDB_MAGIC)
        return 0;
    atomic_store(&sp->map_base, base);
    return base;
}

/* ---- open ---- */

static struct spool_queue *spool_queue_new(struct spool *sp, const char *name, MDB_dbi dbi, bool created)
{
    struct spool_queue *q = calloc(1, sizeof(*q));

    if (q == NULL)
        return NULL;
    q->sp = sp;
    snprintf(q->name, sizeof(q->name), "%s", name);
    q->dbi = dbi;
    q->created = created;
    q->max_bytes = sp->max_size;
    q->when_full = SPOOL_REJECT;
    q->next_seq = q->t_next_seq = 1;     /* a commit running now publishes t_next_seq: it must not be 0 */
    sp->queues[sp->nqueues++] = q;
    return q;
}

/* Counts a queue's batches and bytes and finds its last seq, so puts continue after it. */
static int spool_queue_count(struct spool *sp, MDB_txn *txn, struct spool_queue *q)
{
    MDB_cursor *c;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, q->dbi, &c);

    if (rc != 0)
        return rc;
    while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
        uint64_t seq = spool_key_decode(&k);
        size_t hlen = v.mv_size >= SPOOL_HEADER_SIZE ? SPOOL_HEADER_SIZE : v.mv_size;
        q->items++;
        q->bytes += v.mv_size - hlen;
        q->disk += spool_disk_estimate(sp, v.mv_size - hlen);
        if (seq >= q->next_seq)
            q->next_seq = seq + 1;
    }
    mdb_cursor_close(c);
    atomic_store(&q->queued_items, q->items);
    atomic_store(&q->queued_bytes, q->bytes);
    sp->disk += q->disk;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Finds every "q/..." database of the main database and counts it. */
static int spool_scan_queues(struct spool *sp, MDB_txn *txn)
{
    MDB_dbi main_dbi;
    MDB_cursor *c;
    MDB_val k, v;
    size_t plen = strlen(SPOOL_QUEUE_PREFIX);
    int rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);

    if (rc == 0)
        rc = mdb_cursor_open(txn, main_dbi, &c);
    if (rc != 0)
        return rc;
    while (rc == 0 && (rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
        char name[SPOOL_NAME_MAX + 3];
        MDB_dbi dbi;
        if (k.mv_size <= plen || k.mv_size >= sizeof(name) || memcmp(k.mv_data, SPOOL_QUEUE_PREFIX, plen) != 0)
            continue;
        if (sp->nqueues >= SPOOL_MAX_QUEUES)
            break;
        memcpy(name, k.mv_data, k.mv_size);
        name[k.mv_size] = '\0';
        rc = mdb_dbi_open(txn, name, 0, &dbi);
        struct spool_queue *q = rc == 0 ? spool_queue_new(sp, name + plen, dbi, true) : NULL;
        if (rc == 0)
            rc = q == NULL ? ENOMEM : spool_queue_count(sp, txn, q);
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Reads the format version from the meta database, writing ours into a new environment. */
static int spool_check_format(struct spool *sp, MDB_txn *txn, char *err, size_t errlen)
{
    MDB_val k = { 6, (void *)"format" }, v;
    uint8_t ours[4];
    int rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &sp->meta);

    if (rc == 0)
        rc = mdb_get(txn, sp->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        spool_le_put(ours, SPOOL_FORMAT_VERSION, 4);
        v = (MDB_val){ sizeof(ours), ours };
        rc = mdb_put(txn, sp->meta, &k, &v, 0);
    } else if (rc == 0 && (v.mv_size != 4 || spool_le_get(v.mv_data, 4) > SPOOL_FORMAT_VERSION)) {
        snprintf(err, errlen,
                 "spool directory %s was written by a newer otelgate (spool format %llu; this one reads up to %u): "
                 "upgrade otelgate or move the directory away",
                 sp->directory, v.mv_size == 4 ? (unsigned long long)spool_le_get(v.mv_data, 4) : 0ull,
                 SPOOL_FORMAT_VERSION);
        return -1;
    }
    if (rc != 0)
        snprintf(err, errlen, "spool %s: meta database: %s", sp->directory, mdb_strerror(rc));
    return rc == 0 ? 0 : -1;
}

static int spool_env_open(struct spool *sp, const struct spool_conf *conf, char *err, size_t errlen)
{
    unsigned flags = MDB_NOTLS | (conf->sync == SPOOL_SYNC_INTERVAL ? MDB_NOSYNC : 0);
    uint64_t initial = sp->max_size < SPOOL_INITIAL_MAP ? sp->max_size : SPOOL_INITIAL_MAP;
    MDB_envinfo info;
    MDB_stat st;
    int rc = mdb_env_create(&sp->env);

    if (rc == 0)
        rc = mdb_env_set_maxdbs(sp->env, SPOOL_MAX_QUEUES + 1);
    if (rc == 0)
        rc = mdb_env_set_mapsize(sp->env, (size_t)initial);
    if (rc == 0)
        rc = mdb_env_open(sp->env, conf->directory, flags, 0640);
    if (rc == 0)
        rc = mdb_env_info(sp->env, &info);
    if (rc == 0)
        rc = mdb_env_stat(sp->env, &st);
    if (rc != 0) {
        snprintf(err, errlen, "cannot open spool %s: %s", conf->directory, mdb_strerror(rc));
        return -1;
    }
    atomic_store(&sp->mapsize, (uint64_t)info.me_mapsize);   /* an existing file may be larger */
    sp->psize = st.ms_psize;
    return 0;
}

static int spool_init_locks(struct spool *sp)
{
    pthread_condattr_t ca;

    if (pthread_condattr_init(&ca) != 0)
        return -1;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* the writer's deadlines ignore clock steps */
    int rc = pthread_mutex_init(&sp->lock, NULL) | pthread_cond_init(&sp->cond, &ca) |
             pthread_mutex_init(&sp->gate, NULL) | pthread_cond_init(&sp->gate_cond, NULL) |
             pthread_mutex_init(&sp->qlock, NULL);
    pthread_condattr_destroy(&ca);
    return rc == 0 ? 0 : -1;
}

static void spool_free(struct spool *sp)
{
    for (unsigned i = 0; i < sp->nqueues; i++) {
        free(sp->queues[i]);
        sp->queues[i] = NULL;
    }
    if (sp->env != NULL)
        mdb_env_close(sp->env);
    free(sp->directory);
    free(sp);
}

int spool_open(struct spool **out, const struct spool_conf *conf, char *err, size_t errlen)
{
    struct spool *sp = calloc(1, sizeof(*sp));
    MDB_txn *txn = NULL;
    int rc;

    if (sp == NULL || (sp->directory = strdup(conf->directory)) == NULL || spool_init_locks(sp) != 0) {
        snprintf(err, errlen, "out of memory");
        if (sp != NULL)
            spool_free(sp);
        return -1;
    }
    sp->max_size = conf->max_size ? conf->max_size : SPOOL_DEFAULT_MAX_SIZE;
    sp->max_pending = conf->max_pending ? conf->max_pending : SPOOL_DEFAULT_MAX_PENDING;
    sp->sync = conf->sync;
    sp->sync_interval_ms = conf->sync_interval_ms > 0 ? conf->sync_interval_ms : 1000;
    if (spool_env_open(sp, conf, err, errlen) != 0)
        goto fail;
    if ((rc = mdb_txn_begin(sp->env, NULL, 0, &txn)) != 0) {
        snprintf(err, errlen, "spool %s: %s", conf->directory, mdb_strerror(rc));
        goto fail;
    }
    if (spool_check_format(sp, txn, err, errlen) != 0)
        goto fail;
    if ((rc = spool_scan_queues(sp, txn)) == 0)
        rc = mdb_txn_commit(txn);   /* frees the transaction even when it fails */
    else
        mdb_txn_abort(txn);
    txn = NULL;
    if (rc != 0) {
        snprintf(err, errlen, "spool %s: counting queues: %s", conf->directory, mdb_strerror(rc));
        goto fail;
    }
    if (spool_writer_start(sp, err, errlen) != 0)
        goto fail;
    *out = sp;
    return 0;
fail:
    if (txn != NULL)
        mdb_txn_abort(txn);
    spool_free(sp);
    return -1;
}

void spool_close(struct spool *sp)
{
    if (sp == NULL)
        return;
    spool_writer_stop(sp);
    spool_free(sp);
}

/* ---- queues ---- */

static struct spool_queue *spool_queue_find(struct spool *sp, const char *name)
{
    for (unsigned i = 0; i < sp->nqueues; i++)
        if (strcmp(sp->queues[i]->name, name) == 0)
            return sp->queues[i];
    return NULL;
}

int spool_queue_open(struct spool *sp, const char *name, uint64_t max_bytes, enum spool_when_full when_full,
                     int64_t max_age_ms, struct spool_queue **out, char *err, size_t errlen)
{
    struct spool_queue *q;

    if (strlen(name) > SPOOL_NAME_MAX) {
        snprintf(err, errlen, "spool queue name too long (%zu bytes, at most %d)", strlen(name), SPOOL_NAME_MAX);
        return -1;
    }
    pthread_mutex_lock(&sp->qlock);
    q = spool_queue_find(sp, name);
    if (q == NULL && sp->nqueues >= SPOOL_MAX_QUEUES)
        snprintf(err, errlen, "too many spool queues (at most %u)", SPOOL_MAX_QUEUES);
    else if (q == NULL && (q = spool_queue_new(sp, name, 0, false)) == NULL)
        snprintf(err, errlen, "out of memory");
    if (q != NULL) {
        q->opened = true;
        atomic_store(&q->max_bytes, max_bytes ? max_bytes : sp->max_size);
        atomic_store(&q->when_full, when_full);
        atomic_store(&q->max_age_ms, max_age_ms > 0 ? max_age_ms : 0);
    }
    pthread_mutex_unlock(&sp->qlock);
    if (q == NULL)
        return -1;
    *out = q;
    return 0;
}

unsigned spool_queues(struct spool *sp, const char *prefix, struct spool_queue **out, unsigned max)
{
    size_t plen = strlen(prefix);
    unsigned n = 0;

    pthread_mutex_lock(&sp->qlock);
    for (unsigned i = 0; i < sp->nqueues; i++) {
        if (strncmp(sp->queues[i]->name, prefix, plen) != 0)
            continue;
        if (n < max)
            out[n] = sp->queues[i];
        n++;
    }
    pthread_mutex_unlock(&sp->qlock);
    return n;
}

unsigned spool_unserved(struct spool *sp, struct spool_queue **out, unsigned max)
{
    unsigned n = 0;

    pthread_mutex_lock(&sp->qlock);
    for (unsigned i = 0; i < sp->nqueues && n < max; i++)
        if (!sp->queues[i]->opened && atomic_load(&sp->queues[i]->queued_items) > 0)
            out[n++] = sp->queues[i];
    pthread_mutex_unlock(&sp->qlock);
    return n;
}

const char *spool_queue_name(const struct spool_queue *q)
{
    return q->name;
}

void spool_queue_stats(const struct spool_queue *q, struct spool_stats *st)
{
    st->queued_items = atomic_load(&q->queued_items);
    st->queued_bytes = atomic_load(&q->queued_bytes);
    st->dropped_full = atomic_load(&q->dropped_full);
    st->dropped_age = atomic_load(&q->dropped_age);
    st->dropped_full_items = atomic_load(&q->dropped_full_items);
    st->dropped_age_items = atomic_load(&q->dropped_age_items);
    st->refused = atomic_load(&q->refused);
    st->failed = atomic_load(&q->failed);
}

uint64_t spool_map_size(struct spool *sp)
{
    return atomic_load(&sp->mapsize);
}

/* ---- the writer's input ---- */

/* Appends <op> to the writer's input unless closing or (for puts) over max_pending. */
static int spool_submit(struct spool *sp, struct spool_op *op)
{
    int rc = 0;

    pthread_mutex_lock(&sp->lock);
    if (sp->stopping)
        rc = -1;
    else if (op->kind == SPOOL_OP_PUT && sp->pending + op->len > sp->max_pending)
        rc = OG_RETRY;
    if (rc == 0) {
        op->next = NULL;
        if (sp->tail != NULL)
            sp->tail->next = op;
        else
            sp->head = op;
        sp->tail = op;
        sp->pending += op->len;
        sp->has_put |= op->kind == SPOOL_OP_PUT;
        pthread_cond_signal(&sp->cond);
    }
    pthread_mutex_unlock(&sp->lock);
    return rc;
}

void spool_put_drop(uint8_t *data, struct evbuffer *buf)
{
    free(data);
    if (buf != NULL)
        evbuffer_free(buf);
}

/* The put of <len> bytes in <data> or <buf>, taken. */
static int spool_put_op(struct spool_queue *q, enum og_signal signal, uint64_t items, unsigned encoding,
                        uint8_t *data, struct evbuffer *buf, size_t len, struct reactor *r, spool_done_fn done,
                        void *arg)
{
    struct spool_op *op;
    int rc;

    if ((uint64_t)len > atomic_load(&q->max_bytes)) {
        spool_put_drop(data, buf);
        return -1;
    }
    if ((op = calloc(1, sizeof(*op))) == NULL) {
        spool_put_drop(data, buf);
        return OG_RETRY;   /* out of memory now is a reason to retry later, not to fail the batch */
    }
    op->kind = SPOOL_OP_PUT;
    op->q = q;
    op->signal = signal;
    op->items = items;
    op->encoding = encoding;
    op->enq_ms = spool_now_ms(CLOCK_REALTIME);
    op->r = r;
    op->done = done;
    op->arg = arg;
    op->len = len;
    op->data = data;
    op->buf = buf;
    if ((rc = spool_submit(q->sp, op)) != 0) {
        spool_put_drop(data, buf);
        free(op);
    }
    return rc;
}

int spool_put_buf(struct spool_queue *q, enum og_signal signal, uint64_t items, unsigned encoding,
                  struct evbuffer *buf, struct reactor *r, spool_done_fn done, void *arg)
{
    return spool_put_op(q, signal, items, encoding, NULL, buf, evbuffer_get_length(buf), r, done, arg);
}

int spool_put(struct spool_queue *q, enum og_signal signal, uint64_t items, unsigned encoding, const uint8_t *data,
              size_t len, struct reactor *r, spool_done_fn done, void *arg)
{
    uint8_t *copy = NULL;

    if ((uint64_t)len > atomic_load(&q->max_bytes))
        return -1;
    if (len > 0 && (copy = malloc(len)) == NULL)
        return OG_RETRY;
    if (len > 0)
        memcpy(copy, data, len);
    return spool_put_op(q, signal, items, encoding, copy, NULL, len, r, done, arg);
}

int spool_op_submit_seq(struct spool_queue *q, enum spool_op_kind kind, uint64_t seq)
{
    struct spool_op *op = calloc(1, sizeof(*op));

    if (op == NULL)
        return -1;
    op->kind = kind;
    op->q = q;
    op->seq = seq;
    if (spool_submit(q->sp, op) != 0) {
        free(op);
        return -1;
    }
    return 0;
}

int spool_ack(struct spool_queue *q, uint64_t seq)
{
    return spool_op_submit_seq(q, SPOOL_OP_ACK, seq);
}
