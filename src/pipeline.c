/* pipeline.c: fan-out of one request to the exporters of the pipelines fed
 * by its receiver. Synchronous for now: every exporter answers at once. */
#include "autoconf.h"

#include "pipeline.h"

int pipeline_consume(struct pipeline *const *v, size_t n, struct reactor *r, const struct otlp_payload *p)
{
    int result = 0;

    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < v[i]->nexporters; j++) {
            struct component *ex = v[i]->exporters[j];
            int rc = ex->type->consume(ex, r, p);
            if (rc < 0)
                return -1;
            if (rc == OG_RETRY)
                result = OG_RETRY;
        }
    }
    return result;
}
