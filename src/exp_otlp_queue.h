/* exp_otlp_queue.h: the batch the otlp exporters send, and their in-memory
 * sending queue (exporters without sending_queue.storage), behind put, take,
 * release. */
#ifndef OG_EXP_OTLP_QUEUE_H
#define OG_EXP_OTLP_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "component.h"

/* Bytes every batch allocation keeps in front of its data for a transport's
 * framing (the 5-byte gRPC message prefix), so nothing copies the data to
 * frame it. */
#define EXP_OTLP_BATCH_HEADROOM 8

/* Bytes of a spooled batch a transport reads from the spool at a time (b->read) as it writes the batch. */
#define EXP_OTLP_SLICE (64 * 1024)

struct exp_otlp_tq;
struct exp_otlp_batch;

/* One stored request of a spooled batch: its key, and where its bytes are in the batch's. A spooled batch is
 * a run of consecutive stored requests sent upstream as one (sending_queue.batch), or a run of one. */
struct exp_otlp_part {
    uint64_t seq;
    size_t off, len;
};

/* Reads <n> bytes of a spooled batch's data, from byte <off>, into <dst>. Returns 0, or -1 when the batch is
 * no longer in the spool (max_age or drop_oldest deleted it) or could not be read. */
typedef int (*exp_otlp_read_fn)(void *arg, const struct exp_otlp_batch *b, size_t off, size_t n, uint8_t *dst);

/* One export request: the OTLP bytes of an Export*ServiceRequest (several
 * requests appended when batched), gzip-compressed when <gzip>. One
 * allocation holds the struct, the tenant, the headroom and the bytes
 * (a spooled batch's bytes stay in the spool: see read). */
struct exp_otlp_batch {
    struct exp_otlp_batch *next;    /* queue or retry-list link */
    enum og_signal signal;
    uint64_t items;
    const char *tenant;             /* "" for none; points into the allocation */
    uint8_t *data;                  /* points into the allocation, after the headroom */
    size_t len;
    bool gzip;
    int64_t first_try_ms;           /* monotonic; 0 until the first attempt */
    int64_t due_ms;                 /* a retry is not sent before this */
    unsigned attempts;
    /* spooled batches: the queue they were read from, their stored requests (seq: the first one's key) and
     * when the oldest was first stored (realtime) */
    struct exp_otlp_tq *tq;
    uint64_t seq;
    struct exp_otlp_part *parts;        /* in the batch's allocation */
    unsigned nparts;
    int64_t enqueued_ms;
    /* spooled batches: data is NULL; the transport reads the bytes from the spool as it writes them, a slice
     * at a time, so memory holds a slice of a batch, not all of it */
    exp_otlp_read_fn read;
    void *read_arg;
};

/* A batch with room for <len> bytes of data and the tenant, fields zeroed
 * but tenant, data, len; NULL when out of memory. Free with free(). */
struct exp_otlp_batch *exp_otlp_batch_new(const char *tenant, size_t len);

/* Counted bytes: <len> of them at *room, one reference (a slice of a spooled batch the gRPC transport
 * writes); NULL when out of memory. */
void *exp_otlp_bytes_new(size_t len, uint8_t **room);
void *exp_otlp_bytes_ref(void *own);                    /* another reference; returns <own> */
void exp_otlp_bytes_unref(void *own);                   /* NULL is fine */

struct exp_otlp_queue {
    pthread_mutex_t lock;           /* guards every field below */
    struct exp_otlp_batch *head, *tail;     /* waiting to be taken */
    uint64_t bytes;                 /* queued + taken and not yet released */
    uint64_t max_bytes;
};

int exp_otlp_queue_init(struct exp_otlp_queue *q, uint64_t max_bytes);

/* Frees what is still queued (not what was taken) and the lock. Returns the
 * batches and items it freed through the out-parameters (may be NULL). */
void exp_otlp_queue_dispose(struct exp_otlp_queue *q, uint64_t *batches, uint64_t *items);

/* Appends <b> (taken: freed by the queue from now on). Refuses it, leaving
 * <b> to the caller, when it would push the queue past max_bytes: returns
 * OG_RETRY. An empty queue takes any batch, so one larger than the limit is
 * not refused forever. Returns 0 when queued; *was_empty says whether the
 * consumer may be asleep. Any thread; never blocks beyond the short lock. */
int exp_otlp_queue_put(struct exp_otlp_queue *q, struct exp_otlp_batch *b, int *was_empty);

/* The oldest waiting batch, returned owned but still counted in bytes until
 * exp_otlp_queue_release; NULL when none waits. */
struct exp_otlp_batch *exp_otlp_queue_take(struct exp_otlp_queue *q);

/* Forgets a taken batch for good (acknowledged, rejected or expired): frees
 * it and its bytes' room. */
void exp_otlp_queue_release(struct exp_otlp_queue *q, struct exp_otlp_batch *b);

#endif
