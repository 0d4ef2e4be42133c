/* otelgen_sink_idset.h: the set of 64-bit item ids one sink worker has seen for one signal, to tell unique
 * items from duplicates. Open addressing with linear probing in one array of ids (8 bytes a slot, 0 marks a
 * free slot, at most half full), so a million ids cost 16 to 32 MiB and a lookup touches one cache line. */
#ifndef OTELGEN_SINK_IDSET_H
#define OTELGEN_SINK_IDSET_H

#include <stddef.h>
#include <stdint.h>

struct otelgen_sink_idset {
    uint64_t *slots;            /* NULL until the first id */
    unsigned bits;              /* capacity is 1 << bits slots */
    size_t n;                   /* ids held */
    size_t max;                 /* most ids held; past it, ids are not kept */
};

/* What adding a batch of ids found. */
struct otelgen_sink_idset_added {
    uint64_t fresh;             /* not seen before: now held */
    uint64_t duplicates;        /* seen before */
    uint64_t untracked;         /* not kept: the set is at <max> or memory ran out */
};

/* An empty set that will hold at most <max> ids. Cannot fail: memory comes with the first id. */
void otelgen_sink_idset_init(struct otelgen_sink_idset *s, size_t max);

/* Frees the ids; the set is empty again and can be reused. */
void otelgen_sink_idset_clear(struct otelgen_sink_idset *s);

/* Adds ids[0..n) (nonzero: 0 is refused as untracked, it is no valid span id) and adds what it found to
 * <out>. Prefetches the slots a few ids ahead, so that a request's ids cost about one memory latency, not
 * one per id. Grows the array by doubling; when that fails, the ids that do not fit are untracked. */
void otelgen_sink_idset_add(struct otelgen_sink_idset *s, const uint64_t *ids, size_t n,
                            struct otelgen_sink_idset_added *out);

/* Calls fn(id, arg) for every id held, in no particular order. The set must not change meanwhile. */
void otelgen_sink_idset_each(const struct otelgen_sink_idset *s, void (*fn)(uint64_t id, void *arg), void *arg);

#endif
