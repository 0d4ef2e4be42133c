/* exp_otlp_queue.h: the otlp exporter's sending queue, behind the four calls
 * the exporter uses (put, take, release, bytes), so the LMDB spool can
 * replace this in-memory storage without touching the exporter. */
#ifndef OG_EXP_OTLP_QUEUE_H
#define OG_EXP_OTLP_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "component.h"

/* One queued export request: the gRPC message (5-byte prefix + protobuf,
 * gzip-compressed when the exporter compresses) ready to be sent as is. One
 * allocation holds the struct, the tenant and the bytes. */
struct exp_otlp_batch {
    struct exp_otlp_batch *next;    /* queue or retry-list link */
    enum og_signal signal;
    uint64_t items;
    const char *tenant;             /* "" for none; points into the allocation */
    const uint8_t *data;            /* points into the allocation */
    size_t len;
    int64_t first_try_ms;           /* monotonic; 0 until the first attempt */
    int64_t due_ms;                 /* a retry is not sent before this */
    unsigned attempts;
};

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
