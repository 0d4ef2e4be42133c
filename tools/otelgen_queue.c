/* otelgen_queue.c: a growing ring and a binary heap of requests. Both hold few entries in a healthy run
 * (refused streams, retries), but a server refusing everything can park thousands: hence growth. */
#include "autoconf.h"

#include <stdlib.h>

#include "otelgen_queue.h"

/* ---- FIFO ---- */

static int otelgen_queue_grow(struct otelgen_queue_fifo *q)
{
    size_t cap = q->cap != 0 ? q->cap * 2 : 64;
    struct otelgen_req *r = malloc(cap * sizeof *r);

    if (r == NULL)
        return -1;
    /* Unroll the ring into the front of the new array: head becomes 0. */
    for (size_t i = 0; i < q->len; i++)
        r[i] = q->reqs[(q->head + i) % q->cap];
    free(q->reqs);
    q->reqs = r;
    q->cap = cap;
    q->head = 0;
    return 0;
}

int otelgen_queue_push(struct otelgen_queue_fifo *q, const struct otelgen_req *req)
{
    if (q->len == q->cap && otelgen_queue_grow(q) != 0)
        return -1;
    q->reqs[(q->head + q->len) % q->cap] = *req;
    q->len++;
    return 0;
}

bool otelgen_queue_pop(struct otelgen_queue_fifo *q, struct otelgen_req *req)
{
    if (q->len == 0)
        return false;
    *req = q->reqs[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return true;
}

void otelgen_queue_dispose(struct otelgen_queue_fifo *q)
{
    free(q->reqs);
    *q = (struct otelgen_queue_fifo){ 0 };
}

/* ---- heap ---- */

static void otelgen_queue_swap(struct otelgen_queue_timed *a, struct otelgen_queue_timed *b)
{
    struct otelgen_queue_timed t = *a;

    *a = *b;
    *b = t;
}

int otelgen_queue_heap_push(struct otelgen_queue_heap *h, int64_t due_ns, const struct otelgen_req *req)
{
    size_t i;

    if (h->len == h->cap) {
        size_t cap = h->cap != 0 ? h->cap * 2 : 64;
        struct otelgen_queue_timed *items = realloc(h->items, cap * sizeof *items);
        if (items == NULL)
            return -1;
        h->items = items;
        h->cap = cap;
    }
    i = h->len++;
    h->items[i] = (struct otelgen_queue_timed){ due_ns, *req };
    for (; i > 0 && h->items[(i - 1) / 2].due_ns > h->items[i].due_ns; i = (i - 1) / 2)
        otelgen_queue_swap(&h->items[(i - 1) / 2], &h->items[i]);
    return 0;
}

static void otelgen_queue_sift_down(struct otelgen_queue_heap *h)
{
    size_t i = 0;

    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->len && h->items[l].due_ns < h->items[m].due_ns)
            m = l;
        if (r < h->len && h->items[r].due_ns < h->items[m].due_ns)
            m = r;
        if (m == i)
            return;
        otelgen_queue_swap(&h->items[i], &h->items[m]);
        i = m;
    }
}

bool otelgen_queue_heap_pop_due(struct otelgen_queue_heap *h, int64_t now_ns, struct otelgen_req *req)
{
    if (h->len == 0 || h->items[0].due_ns > now_ns)
        return false;
    *req = h->items[0].req;
    h->items[0] = h->items[--h->len];
    otelgen_queue_sift_down(h);
    return true;
}

int64_t otelgen_queue_heap_first(const struct otelgen_queue_heap *h)
{
    return h->items[0].due_ns;
}

void otelgen_queue_heap_dispose(struct otelgen_queue_heap *h)
{
    free(h->items);
    *h = (struct otelgen_queue_heap){ 0 };
}
