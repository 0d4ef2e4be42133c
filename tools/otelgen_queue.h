/* otelgen_queue.h: the two waiting rooms of a worker's requests: a FIFO of requests ready to go again
 * (given back by a connection, or due for retry), and a heap of retries ordered by the time they are due.
 * Both grow by doubling and never shrink, so a run in steady state allocates nothing per request. */
#ifndef OTELGEN_QUEUE_H
#define OTELGEN_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otelgen_conn.h"

/* A ring; all zero is an empty one. */
struct otelgen_queue_fifo {
    struct otelgen_req *reqs;
    size_t head, len, cap;
};

struct otelgen_queue_timed {
    int64_t due_ns;
    struct otelgen_req req;
};

/* A binary min-heap on due_ns; all zero is an empty one. */
struct otelgen_queue_heap {
    struct otelgen_queue_timed *items;
    size_t len, cap;
};

/* Appends a copy of <req>. Returns 0, or -1 when out of memory (<q> is unchanged). */
int otelgen_queue_push(struct otelgen_queue_fifo *q, const struct otelgen_req *req);
/* Takes the oldest request into <req>; false when empty. */
bool otelgen_queue_pop(struct otelgen_queue_fifo *q, struct otelgen_req *req);
void otelgen_queue_dispose(struct otelgen_queue_fifo *q);

/* Adds <req>, due at <due_ns>. Returns 0, or -1 when out of memory (<h> is unchanged). */
int otelgen_queue_heap_push(struct otelgen_queue_heap *h, int64_t due_ns, const struct otelgen_req *req);
/* Takes the earliest request when it is due at or before <now_ns>; false otherwise. */
bool otelgen_queue_heap_pop_due(struct otelgen_queue_heap *h, int64_t now_ns, struct otelgen_req *req);
/* When the earliest request is due; only when h->len > 0. */
int64_t otelgen_queue_heap_first(const struct otelgen_queue_heap *h);
void otelgen_queue_heap_dispose(struct otelgen_queue_heap *h);

#endif
