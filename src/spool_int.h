/* spool_int.h: what spool.c, spool_writer.c and spool_reader.c share; not for other modules. */
#ifndef OG_SPOOL_INT_H
#define OG_SPOOL_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "spool.h"

#define SPOOL_NAME_MAX SPOOL_NAME_MAX_LEN
#define SPOOL_QUEUE_PREFIX "q/"     /* a queue's database is "q/<name>" */
#define SPOOL_DROP_LOG_MS 10000     /* drops are logged at most this often per queue */
#define SPOOL_UNMAP_EVERY 16        /* deletes between two unmaps of what they faulted in, within a commit */

enum spool_op_kind {
    SPOOL_OP_PUT,       /* store a batch; has a completion */
    SPOOL_OP_ACK,       /* delete <seq>: the upstream acknowledged it */
    SPOOL_OP_EXPIRE,    /* delete <seq> if still there, counted as dropped_age */
};

/* One message to the writer; a put owns its bytes (data or buf: the writer frees them once they are in a
 * commit, or refused) and is freed by the completion on the worker's reactor. */
struct spool_op {
    struct spool_op *next;
    enum spool_op_kind kind;
    struct spool_queue *q;
    uint64_t seq;                   /* ack/expire: the target; put: set by the writer */
    int status;                     /* put: what done() receives */
    bool skip;                      /* put: refused before the transaction (not applied) */
    enum og_signal signal;
    uint64_t items;
    unsigned encoding;
    int64_t enq_ms;
    struct reactor *r;
    spool_done_fn done;
    void *arg;
    size_t len;
    uint8_t *data;                  /* put: owned (malloc'd), freed once the commit no longer needs it */
    struct evbuffer *buf;           /* put: or the bytes are in this, owned the same way */
};

/* Frees the bytes of a put: <data> or <buf> (either may be NULL). */
void spool_put_drop(uint8_t *data, struct evbuffer *buf);

struct spool_queue {
    struct spool *sp;
    char name[SPOOL_NAME_MAX + 1];
    MDB_dbi dbi;                    /* valid once created (or in the writer's transaction that creates it) */
    _Atomic bool created;           /* its database is in a commit: readers may use dbi */
    bool t_created;                 /* writer: dbi is valid in the open transaction */
    bool create_logged;             /* writer: the failure to create its database was logged */
    bool opened;                    /* by spool_queue_open since start: an exporter serves it (qlock) */
    _Atomic uint64_t max_bytes;
    _Atomic int when_full;          /* enum spool_when_full */
    _Atomic int64_t max_age_ms;     /* 0: none */
    /* writer thread only (and spool_open before it starts): committed state, then the open transaction's */
    uint64_t next_seq, items, bytes, disk;
    uint64_t t_next_seq, t_items, t_bytes, t_disk, t_dropped_full, t_dropped_age;
    uint64_t t_dropped_full_items, t_dropped_age_items;
    int64_t drop_logged_ms;         /* when drops were last logged (monotonic) */
    _Atomic uint64_t queued_items, queued_bytes, dropped_full, dropped_age, refused, failed;
    _Atomic uint64_t dropped_full_items, dropped_age_items;
};

struct spool {
    MDB_env *env;
    MDB_dbi meta;
    unsigned psize;
    char *directory;
    uint64_t max_size, max_pending;
    enum spool_sync sync;
    int64_t sync_interval_ms;
    _Atomic uint64_t mapsize;

    pthread_t writer;
    bool writer_running;
    pthread_mutex_t lock;           /* guards the input list, pending, has_put and stopping */
    pthread_cond_t cond;            /* CLOCK_MONOTONIC */
    struct spool_op *head, *tail;
    uint64_t pending;
    bool has_put;                   /* the input holds a put, not only deletes */
    bool stopping;

    pthread_mutex_t gate;           /* map resize vs open read transactions */
    pthread_cond_t gate_cond;
    unsigned readers;
    bool growing;
    _Atomic uintptr_t map_base;     /* where the map starts, once a reader found it; 0 after it moved */

    pthread_mutex_t qlock;          /* guards queues[] and nqueues */
    struct spool_queue *queues[SPOOL_MAX_QUEUES];
    unsigned nqueues;

    /* writer thread only */
    uint64_t disk, t_disk;          /* estimated bytes of map all queues use, committed / in the transaction */
    bool dirty;                     /* sync: interval: committed since the last mdb_env_sync */
    bool freed, t_freed;            /* the last commit (the open transaction) deleted batches */
    unsigned t_touched;             /* deletes since the last spool_writer_unmap */
    int64_t next_sync_ms, next_sweep_ms;
    int64_t deletes_until_ms;       /* deletes alone in the input: when they commit without a put; 0: none */
    struct spool_op *unposted;      /* completions reactor_post could not take yet */
};

int64_t spool_now_ms(int clock);
void spool_key_encode(uint8_t out[8], uint64_t seq);
uint64_t spool_key_decode(const MDB_val *key);
void spool_header_encode(uint8_t *p, enum og_signal signal, uint64_t items, int64_t enq_ms, uint32_t attempts,
                         unsigned encoding);
int spool_header_decode(const MDB_val *val, uint64_t seq, struct spool_item *it);
/* Where the map starts, from the leaf page holding <key> (within a read, under the gate); 0 if unknown. */
uintptr_t spool_map_base(struct spool *sp, const void *key);
uint64_t spool_disk_estimate(const struct spool *sp, size_t len);
void spool_gate_enter(struct spool *sp);
void spool_gate_leave(struct spool *sp);
int spool_op_submit_seq(struct spool_queue *q, enum spool_op_kind kind, uint64_t seq);

int spool_writer_start(struct spool *sp, char *err, size_t errlen);
void spool_writer_stop(struct spool *sp);

#endif
