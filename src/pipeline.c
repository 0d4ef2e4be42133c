/* pipeline.c: one request through the processors of the pipelines fed by its
 * receiver, then fanned out to their exporters. Anyone on the way may hold
 * the request (OG_PENDING); a guard hold on the og_wait keeps done() from
 * running before the fan-out has finished, so a caller sees either a result
 * now or exactly one done() later. */
#include "autoconf.h"

#include "pipeline.h"

/* Ends a guard hold taken when <w> had <before> holders: the result now, or OG_PENDING when a holder came
 * since (levels nest: a fan-out inside a fan-out). */
static int pipeline_settle(struct og_wait *w, unsigned before)
{
    if (w->pending == before + 1) {
        w->pending = before;
        return w->status;
    }
    w->pending--;
    return OG_PENDING;
}

int pipeline_run(struct pipeline *pl, size_t from, struct reactor *r, const struct otlp_payload *p,
                 struct og_wait *w)
{
    if (from < pl->nprocessors) {
        struct component *c = pl->processors[from];
        return c->type->process(c, pl, from + 1, r, p, w);
    }
    if (pl->nexporters == 1)
        return pl->exporters[0]->type->consume(pl->exporters[0], r, p, w);
    unsigned before = w->pending;
    struct otlp_payload shared = *p;
    shared.give_buf = NULL;             /* the others would find the bytes gone */
    og_wait_hold(w);
    for (size_t j = 0; j < pl->nexporters; j++) {
        struct component *ex = pl->exporters[j];
        og_wait_merge(w, ex->type->consume(ex, r, j + 1 < pl->nexporters ? &shared : p, w));
    }
    return pipeline_settle(w, before);
}

int pipeline_consume(struct pipeline *const *v, size_t n, struct reactor *r, const struct otlp_payload *p,
                     struct og_wait *w)
{
    if (n == 1)
        return pipeline_run(v[0], 0, r, p, w);
    unsigned before = w->pending;
    struct otlp_payload shared = *p;
    shared.give_buf = NULL;
    og_wait_hold(w);
    for (size_t i = 0; i < n; i++)
        og_wait_merge(w, pipeline_run(v[i], 0, r, i + 1 < n ? &shared : p, w));
    return pipeline_settle(w, before);
}
