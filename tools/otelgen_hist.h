/* otelgen_hist.h: the latency histogram of `otelgen send`, in the manner of HdrHistogram: log-spaced buckets
 * with 64 linear sub-buckets per power of two, so any value from 1 ns to about 4000 s is kept within 1.6 %
 * (half of that from the middle of its bucket), in a fixed array. Recording is an index computation and
 * an increment; one histogram per thread, merged at the end by adding buckets. */
#ifndef OTELGEN_HIST_H
#define OTELGEN_HIST_H

#include <stdint.h>

#define OTELGEN_HIST_SUB_BITS 7                         /* 2^7 values exact, then 2^6 sub-buckets per octave */
#define OTELGEN_HIST_MAX_BITS 42                        /* values up to 2^42 ns (73 min); longer are clamped */
#define OTELGEN_HIST_BUCKETS ((OTELGEN_HIST_MAX_BITS - OTELGEN_HIST_SUB_BITS + 2) << (OTELGEN_HIST_SUB_BITS - 1))

/* Public so that it is embedded by value in per-thread stats: recording must never allocate. All zero is an
 * empty histogram. */
struct otelgen_hist {
    uint64_t count;
    uint64_t max;                                       /* exact, not bucketed */
    uint64_t buckets[OTELGEN_HIST_BUCKETS];
};

/* Counts one value (nanoseconds). Cannot fail; values past the range count in the last bucket. */
void otelgen_hist_record(struct otelgen_hist *h, uint64_t value);

/* Adds every count of <src> to <dst>. */
void otelgen_hist_merge(struct otelgen_hist *dst, const struct otelgen_hist *src);

/* The value below which <percent> (0 < percent <= 100) of the recorded values fall: the middle of the
 * bucket holding that rank, never above the exact maximum; 100 gives the maximum. Returns 0 when empty. */
uint64_t otelgen_hist_percentile(const struct otelgen_hist *h, double percent);

#endif
