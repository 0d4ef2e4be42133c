/* otelgen_sink_idset.c: the id set of a sink worker. otelgen's ids are sequential within a request, so an
 * id's slot keeps its low 3 bits and hashes the others (Fibonacci): eight neighbours share a cache line, a
 * request's hundred ids touch some thirteen lines, and random ids (an SDK's) spread as with any hash. Lines
 * are prefetched a few ids ahead. Huge pages were tried: their compaction cost more than they saved. */
#include "autoconf.h"

#include <stdlib.h>

#include "otelgen_sink_idset.h"

#define OTELGEN_SINK_IDSET_FIRST_BITS 16        /* 512 KiB at the first id */
#define OTELGEN_SINK_IDSET_MAX_BITS 40
#define OTELGEN_SINK_IDSET_LINE_BITS 3          /* 8 ids of 8 bytes: a 64-byte cache line */
#define OTELGEN_SINK_IDSET_AHEAD 16             /* ids prefetched ahead of the one inserted */

void otelgen_sink_idset_init(struct otelgen_sink_idset *s, size_t max)
{
    *s = (struct otelgen_sink_idset){ .max = max };
}

void otelgen_sink_idset_clear(struct otelgen_sink_idset *s)
{
    free(s->slots);
    *s = (struct otelgen_sink_idset){ .max = s->max };
}

static size_t otelgen_sink_idset_home(const struct otelgen_sink_idset *s, uint64_t id)
{
    uint64_t line = ((id >> OTELGEN_SINK_IDSET_LINE_BITS) * 0x9E3779B97F4A7C15ULL) >>
                    (64 - (s->bits - OTELGEN_SINK_IDSET_LINE_BITS));

    return (size_t)(line << OTELGEN_SINK_IDSET_LINE_BITS | (id & ((1u << OTELGEN_SINK_IDSET_LINE_BITS) - 1)));
}

/* The slot holding <id>, or the free slot where it belongs. There is always a free slot: the set is kept at
 * most half full. */
static size_t otelgen_sink_idset_probe(const uint64_t *slots, unsigned bits, size_t home, uint64_t id)
{
    size_t mask = ((size_t)1 << bits) - 1, i = home;

    while (slots[i] != id && slots[i] != 0)
        i = (i + 1) & mask;
    return i;
}

/* Doubles the array, moving every id. Returns 0, or -1 (the set unchanged) when out of memory. */
static int otelgen_sink_idset_grow(struct otelgen_sink_idset *s)
{
    unsigned bits = s->slots == NULL ? OTELGEN_SINK_IDSET_FIRST_BITS : s->bits + 1;
    struct otelgen_sink_idset bigger = { .bits = bits, .n = s->n, .max = s->max };

    if (bits > OTELGEN_SINK_IDSET_MAX_BITS || (bigger.slots = calloc((size_t)1 << bits, sizeof(uint64_t))) == NULL)
        return -1;
    for (size_t i = 0; s->slots != NULL && i < (size_t)1 << s->bits; i++)
        if (s->slots[i] != 0)
            bigger.slots[otelgen_sink_idset_probe(bigger.slots, bits, otelgen_sink_idset_home(&bigger, s->slots[i]),
                                                  s->slots[i])] = s->slots[i];
    free(s->slots);
    *s = bigger;
    return 0;
}

/* How many of <want> more ids fit without passing half full or <max>, growing the array as needed. */
static size_t otelgen_sink_idset_room(struct otelgen_sink_idset *s, size_t want)
{
    size_t limit = s->max - (s->n < s->max ? s->n : s->max);

    if (want > limit)
        want = limit;
    while (want > 0 && (s->slots == NULL || s->n + want > (size_t)1 << (s->bits - 1)))
        if (otelgen_sink_idset_grow(s) != 0)
            break;
    if (s->slots == NULL)
        return 0;
    size_t half = (size_t)1 << (s->bits - 1);
    return s->n + want <= half ? want : half - s->n;
}

void otelgen_sink_idset_add(struct otelgen_sink_idset *s, const uint64_t *ids, size_t n,
                            struct otelgen_sink_idset_added *out)
{
    size_t room = otelgen_sink_idset_room(s, n);

    if (s->slots == NULL) {
        out->untracked += n;
        return;
    }
    for (size_t i = 0; i < n && i < OTELGEN_SINK_IDSET_AHEAD; i++)
        __builtin_prefetch(&s->slots[otelgen_sink_idset_home(s, ids[i])], 1);
    for (size_t i = 0; i < n; i++) {
        if (i + OTELGEN_SINK_IDSET_AHEAD < n)
            __builtin_prefetch(&s->slots[otelgen_sink_idset_home(s, ids[i + OTELGEN_SINK_IDSET_AHEAD])], 1);
        if (ids[i] == 0) {
            out->untracked++;
            continue;
        }
        size_t at = otelgen_sink_idset_probe(s->slots, s->bits, otelgen_sink_idset_home(s, ids[i]), ids[i]);
        if (s->slots[at] == ids[i]) {
            out->duplicates++;
        } else if (room == 0) {
            out->untracked++;       /* full: a known id is still recognised, a new one is not kept */
        } else {
            s->slots[at] = ids[i];
            s->n++;
            room--;                 /* room counts new ids only, so the set never passes half full */
            out->fresh++;
        }
    }
}

void otelgen_sink_idset_each(const struct otelgen_sink_idset *s, void (*fn)(uint64_t id, void *arg), void *arg)
{
    for (size_t i = 0; s->slots != NULL && i < (size_t)1 << s->bits; i++)
        if (s->slots[i] != 0)
            fn(s->slots[i], arg);
}
