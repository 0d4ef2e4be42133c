/* exp_otlp_queue.c: the in-memory sending queue of the otlp exporter: a
 * byte-bounded FIFO under one mutex. Workers append, the exporter's thread
 * takes. A taken batch keeps its room until released, so retries never let
 * the queue grow past its limit. Lost on crash or stop, as documented. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "exp_otlp_queue.h"

struct exp_otlp_batch *exp_otlp_batch_new(const char *tenant, size_t len)
{
    size_t tlen = strlen(tenant) + 1;
    struct exp_otlp_batch *b = malloc(sizeof(*b) + tlen + EXP_OTLP_BATCH_HEADROOM + len);

    if (b == NULL)
        return NULL;
    char *t = (char *)(b + 1);
    memcpy(t, tenant, tlen);
    *b = (struct exp_otlp_batch){ .tenant = t, .data = (uint8_t *)t + tlen + EXP_OTLP_BATCH_HEADROOM, .len = len };
    return b;
}

/* A slice of a spooled batch, counted: its stream holds one reference, and the gRPC transport's output
 * buffer one per DATA frame it sends straight from the slice. The output may outlive the stream (an upstream
 * can answer before it read the whole body), so the last of them frees the bytes. Exporter thread only. */
struct exp_otlp_bytes {
    unsigned refs;
    uint8_t room[];
};

void *exp_otlp_bytes_new(size_t len, uint8_t **room)
{
    struct exp_otlp_bytes *bytes = malloc(sizeof(*bytes) + len);

    if (bytes == NULL)
        return NULL;
    bytes->refs = 1;
    *room = bytes->room;
    return bytes;
}

void *exp_otlp_bytes_ref(void *own)
{
    struct exp_otlp_bytes *bytes = own;

    bytes->refs++;
    return bytes;
}

void exp_otlp_bytes_unref(void *own)
{
    struct exp_otlp_bytes *bytes = own;

    if (bytes != NULL && --bytes->refs == 0)
        free(bytes);
}

int exp_otlp_queue_init(struct exp_otlp_queue *q, uint64_t max_bytes)
{
    *q = (struct exp_otlp_queue){ .max_bytes = max_bytes };
    return pthread_mutex_init(&q->lock, NULL) == 0 ? 0 : -1;
}

void exp_otlp_queue_dispose(struct exp_otlp_queue *q, uint64_t *batches, uint64_t *items)
{
    uint64_t nb = 0, ni = 0;

    while (q->head != NULL) {
        struct exp_otlp_batch *b = q->head;
        q->head = b->next;
        nb++;
        ni += b->items;
        free(b);
    }
    q->tail = NULL;
    if (batches != NULL)
        *batches = nb;
    if (items != NULL)
        *items = ni;
    pthread_mutex_destroy(&q->lock);
}

int exp_otlp_queue_put(struct exp_otlp_queue *q, struct exp_otlp_batch *b, int *was_empty)
{
    int rc = 0;

    b->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->bytes > 0 && q->bytes + b->len > q->max_bytes) {
        rc = OG_RETRY;
    } else {
        *was_empty = q->head == NULL;
        if (q->tail != NULL)
            q->tail->next = b;
        else
            q->head = b;
        q->tail = b;
        q->bytes += b->len;
    }
    pthread_mutex_unlock(&q->lock);
    return rc;
}

struct exp_otlp_batch *exp_otlp_queue_take(struct exp_otlp_queue *q)
{
    pthread_mutex_lock(&q->lock);
    struct exp_otlp_batch *b = q->head;
    if (b != NULL) {
        q->head = b->next;
        if (q->head == NULL)
            q->tail = NULL;
        b->next = NULL;
    }
    pthread_mutex_unlock(&q->lock);
    return b;
}

void exp_otlp_queue_release(struct exp_otlp_queue *q, struct exp_otlp_batch *b)
{
    pthread_mutex_lock(&q->lock);
    q->bytes -= b->len;
    pthread_mutex_unlock(&q->lock);
    free(b);
}
