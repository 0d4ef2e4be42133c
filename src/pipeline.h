/* pipeline.h: a configured pipeline at run time: its started processors, in
 * order, and the exporters it fans out to. */
#ifndef OG_PIPELINE_H
#define OG_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "component.h"

struct config_pipeline;

struct pipeline {
    const struct config_pipeline *conf;
    struct component **processors;
    size_t nprocessors;
    struct component **exporters;
    size_t nexporters;
    bool exporters_batch;       /* every exporter batches by itself: batch processors pass requests on */
    bool exporters_store;       /* an exporter answers once the data is stored: batches are group commits */
};

/* Runs <p> through <pl> from processor <from> on (== nprocessors: straight
 * to the exporters, each of which gets it), on worker <r>. Returns 0 when
 * every exporter took it, OG_RETRY when one refused it for now (the others
 * may have taken it: a retry can duplicate, never lose), -1 on a hard error,
 * or OG_PENDING when <w> is held and its verdict comes later; synchronous
 * results of the other exporters are then already merged into w->status. */
int pipeline_run(struct pipeline *pl, size_t from, struct reactor *r, const struct otlp_payload *p,
                 struct og_wait *w);

/* pipeline_run of every one of <n> pipelines from their first processor.
 * Returns as pipeline_run. */
int pipeline_consume(struct pipeline *const *v, size_t n, struct reactor *r, const struct otlp_payload *p,
                     struct og_wait *w);

#endif
