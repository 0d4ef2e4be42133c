/* spool_reader.c: reading a spool queue oldest first. A reader keeps one MDB_NOTLS read transaction and
 * resets it between reads (mdb_txn_reset / mdb_txn_renew), so reading costs no allocation and an idle
 * reader pins no old snapshot: the writer can reuse the pages acknowledged batches freed. */
#include "autoconf.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "spool.h"
#include "spool_int.h"

struct spool_reader {
    struct spool *sp;
    MDB_txn *txn;           /* reset unless a read is open */
    bool open;
    int fd;                 /* the data file: batches are read with pread, not through the map */
    uintptr_t base;         /* where the map starts in the open read; 0: unknown (read through the map) */
};

int spool_reader_create(struct spool *sp, struct spool_reader **out, char *err, size_t errlen)
{
    struct spool_reader *rd = calloc(1, sizeof(*rd));
    int rc;

    if (rd == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    rd->sp = sp;
    if ((rc = mdb_env_get_fd(sp->env, &rd->fd)) != 0) {
        snprintf(err, errlen, "spool reader: %s", mdb_strerror(rc));
        free(rd);
        return -1;
    }
    spool_gate_enter(sp);
    rc = mdb_txn_begin(sp->env, NULL, MDB_RDONLY, &rd->txn);
    if (rc == 0)
        mdb_txn_reset(rd->txn);
    spool_gate_leave(sp);
    if (rc != 0) {
        snprintf(err, errlen, "spool reader: %s", mdb_strerror(rc));
        free(rd);
        return -1;
    }
    *out = rd;
    return 0;
}

void spool_reader_destroy(struct spool_reader *rd)
{
    if (rd == NULL)
        return;
    mdb_txn_abort(rd->txn);
    free(rd);
}

/* Reads <len> bytes of the value at <at> in the map from the file instead. Returns 0, or -1. */
static int spool_reader_pread(const struct spool_reader *rd, const void *at, void *dst, size_t len)
{
    uintptr_t off = (uintptr_t)at - rd->base;

    if (rd->base == 0 || (uintptr_t)at < rd->base || off + len > atomic_load(&rd->sp->mapsize))
        return -1;
    for (size_t done = 0; done < len;) {
        ssize_t n = pread(rd->fd, (uint8_t *)dst + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* Decodes the header of the stored value <v>, reading it from the file when the map's start is known: the
 * value's pages then never enter this process's resident set. */
static int spool_reader_decode(struct spool_reader *rd, const MDB_val *v, uint64_t seq, struct spool_item *it)
{
    uint8_t head[SPOOL_HEADER_SIZE];
    MDB_val hv = *v;

    if (spool_reader_pread(rd, v->mv_data, head, v->mv_size < sizeof(head) ? v->mv_size : sizeof(head)) == 0)
        hv.mv_data = head;
    if (spool_header_decode(&hv, seq, it) != 0)
        return -1;
    it->data = (const uint8_t *)v->mv_data + (it->data - (const uint8_t *)hv.mv_data);
    return 0;
}

/* Asks the writer to delete an expired batch; if that cannot be queued now, the sweep will. */
static void spool_reader_expire(struct spool_queue *q, uint64_t seq)
{
    (void)spool_op_submit_seq(q, SPOOL_OP_EXPIRE, seq);
}

/* Walks <q> from the first seq > <after>, filling <items>. */
static int spool_reader_walk(struct spool_reader *rd, struct spool_queue *q, uint64_t after,
                             struct spool_item *items, size_t max, size_t *n)
{
    int64_t max_age = atomic_load(&q->max_age_ms);
    int64_t oldest = max_age > 0 ? spool_now_ms(CLOCK_REALTIME) - max_age : INT64_MIN;
    uint8_t kbuf[8];
    MDB_val k = { sizeof(kbuf), kbuf }, v;
    MDB_cursor *c;
    int rc = mdb_cursor_open(rd->txn, q->dbi, &c);

    if (rc != 0)
        return rc;
    spool_key_encode(kbuf, after + 1);
    for (int op = MDB_SET_RANGE; *n < max && (rc = mdb_cursor_get(c, &k, &v, op)) == 0; op = MDB_NEXT) {
        struct spool_item *it = &items[*n];
        if (rd->base == 0)
            rd->base = spool_map_base(rd->sp, k.mv_data);
        if (spool_reader_decode(rd, &v, spool_key_decode(&k), it) != 0)
            continue;   /* not ours to read: never misread, never deleted */
        if (it->first_enqueue_ms < oldest) {
            spool_reader_expire(q, it->seq);
            continue;
        }
        (*n)++;
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int spool_read(struct spool_queue *q, uint64_t after, struct spool_item *items, size_t max, size_t *n,
               struct spool_reader *rd)
{
    int rc;

    *n = 0;
    if (rd->open)
        return -1;   /* its items are still borrowed: renewing would pull them from under the caller */
    if (!atomic_load(&q->created))
        return 0;   /* its database comes with the writer's next commit: nothing stored yet */
    spool_gate_enter(rd->sp);
    rd->open = true;
    rd->base = 0;           /* the map may have moved since the last read */
    if ((rc = mdb_txn_renew(rd->txn)) != 0) {
        rd->open = false;
        spool_gate_leave(rd->sp);
        return -1;
    }
    if ((rc = spool_reader_walk(rd, q, after, items, max, n)) != 0) {
        *n = 0;
        spool_read_end(rd);
        return -1;
    }
    return 0;
}

void spool_read_end(struct spool_reader *rd)
{
    if (!rd->open)
        return;
    mdb_txn_reset(rd->txn);
    rd->open = false;
    spool_gate_leave(rd->sp);
}

int spool_item_copy(struct spool_reader *rd, const struct spool_item *it, size_t off, size_t n, uint8_t *dst)
{
    if (!rd->open || off > it->len || n > it->len - off)
        return -1;
    if (rd->base != 0)
        return spool_reader_pread(rd, it->data + off, dst, n);
    memcpy(dst, it->data + off, n);     /* the map's start is unknown: not an LMDB we know, read it as it is */
    return 0;
}
