/* pipeline.h: a configured pipeline at run time: its processors (none yet)
 * and the started exporters it fans out to. */
#ifndef OG_PIPELINE_H
#define OG_PIPELINE_H

#include <stddef.h>

#include "component.h"

struct config_pipeline;

struct pipeline {
    const struct config_pipeline *conf;
    struct component **exporters;
    size_t nexporters;
};

/* Runs one request through <n> pipelines on worker <r>: every exporter of
 * every pipeline gets it. Returns 0 when all took it, OG_RETRY when one
 * refused it for now (the others may have taken it: a retry can duplicate,
 * never lose), -1 on a hard error. */
int pipeline_consume(struct pipeline *const *v, size_t n, struct reactor *r, const struct otlp_payload *p);

#endif
