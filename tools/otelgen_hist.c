/* otelgen_hist.c: a log-bucket histogram. Bucket i < 128 holds the value i; above, a value with its highest
 * bit at position b lands in octave m = b - 6, sub-bucket (value >> m) (64..127), so bucket index
 * m * 64 + (value >> m) runs on from 128 without gaps. */
#include "autoconf.h"

#include "otelgen_hist.h"

#define OTELGEN_HIST_EXACT (1ULL << OTELGEN_HIST_SUB_BITS)
#define OTELGEN_HIST_HALF (1U << (OTELGEN_HIST_SUB_BITS - 1))

static unsigned otelgen_hist_index(uint64_t v)
{
    unsigned top, shift;

    if (v < OTELGEN_HIST_EXACT)
        return (unsigned)v;
    if (v >> OTELGEN_HIST_MAX_BITS != 0)
        return OTELGEN_HIST_BUCKETS - 1;
    top = 63 - (unsigned)__builtin_clzll(v);
    shift = top - (OTELGEN_HIST_SUB_BITS - 1);
    return shift * OTELGEN_HIST_HALF + (unsigned)(v >> shift);
}

/* The smallest value of bucket <i> and the width of the bucket. */
static void otelgen_hist_bounds(unsigned i, uint64_t *low, uint64_t *width)
{
    unsigned shift;

    if (i < OTELGEN_HIST_EXACT) {
        *low = i;
        *width = 1;
        return;
    }
    shift = i / OTELGEN_HIST_HALF - 1;
    *low = (uint64_t)(i - shift * OTELGEN_HIST_HALF) << shift;
    *width = 1ULL << shift;
}

void otelgen_hist_record(struct otelgen_hist *h, uint64_t value)
{
    h->buckets[otelgen_hist_index(value)]++;
    h->count++;
    if (value > h->max)
        h->max = value;
}

void otelgen_hist_merge(struct otelgen_hist *dst, const struct otelgen_hist *src)
{
    if (src->count == 0)
        return;
    for (unsigned i = 0; i < OTELGEN_HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t otelgen_hist_percentile(const struct otelgen_hist *h, double percent)
{
    uint64_t rank, seen = 0, low, width, mid;
    double want = percent / 100 * (double)h->count;

    if (h->count == 0)
        return 0;
    if (percent >= 100)
        return h->max;
    rank = (uint64_t)want;
    if ((double)rank < want || rank == 0)
        rank++;                                         /* the nearest-rank method: ceil(p * n) */
    for (unsigned i = 0; i < OTELGEN_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen < rank)
            continue;
        otelgen_hist_bounds(i, &low, &width);
        mid = low + (width - 1) / 2;
        return mid < h->max ? mid : h->max;
    }
    return h->max;
}
