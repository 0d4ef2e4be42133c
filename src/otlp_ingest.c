/* otlp_ingest.c: the step both front ends share once a request is protobuf
 * bytes: validate and count them without decoding (otlp_scan), then hand
 * them to the pipelines as they are. */
#include "autoconf.h"

#include <event2/buffer.h>

#include "otlp_scan.h"
#include "pipeline.h"
#include "reactor.h"
#include "recv_otlp.h"

enum otlp_ingest_result otlp_ingest(struct recv_otlp_route *route, enum og_signal signal, const char *tenant,
                                    struct evbuffer *pb, uint64_t *items, const char **why)
{
    size_t len = evbuffer_get_length(pb);
    const uint8_t *data = len > 0 ? evbuffer_pullup(pb, -1) : (const uint8_t *)"";
    struct otlp_counts counts;

    *items = 0;
    if (route->npipelines[signal] == 0) {
        *why = "no pipeline for this signal on this receiver";
        return OTLP_INGEST_UNROUTED;
    }
    if (data == NULL) {
        *why = "out of memory";
        return OTLP_INGEST_FAILED;
    }
    if (otlp_scan(signal, data, len, &counts, why) != 0)
        return OTLP_INGEST_INVALID;
    *items = counts.items;
    struct otlp_payload p = {
        .signal = signal, .data = data, .len = len,
        .resources = counts.resources, .items = counts.items, .tenant = tenant,
    };
    int rc = pipeline_consume(route->pipelines[signal], route->npipelines[signal], reactor_self(), &p);
    if (rc == 0) {
        atomic_fetch_add(&route->accepted[signal], counts.items);
        return OTLP_INGEST_OK;
    }
    atomic_fetch_add(&route->refused[signal], counts.items);
    if (rc == OG_RETRY) {
        *why = "the gateway cannot take more now; retry later";
        return OTLP_INGEST_RETRY;
    }
    *why = "an exporter failed";
    return OTLP_INGEST_FAILED;
}
