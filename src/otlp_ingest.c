/* otlp_ingest.c: the step both front ends share once a request is protobuf
 * bytes: validate and count them without decoding (otlp_scan), then hand
 * them to the pipelines as they are. The verdict comes now or, when the
 * spool or a batch holds the request, later through the front end's
 * answer(): the client is told OK only once its data is durable. */
#include "autoconf.h"

#include <stddef.h>

#include <event2/buffer.h>

#include "otlp_scan.h"
#include "pipeline.h"
#include "reactor.h"
#include "recv_otlp.h"

/* Counts a settled request and turns the pipelines' status into a verdict. */
static enum otlp_ingest_result otlp_ingest_verdict(struct otlp_ingest *in, int status, const char **why)
{
    struct recv_otlp_route *route = in->route;

    if (status == 0) {
        atomic_fetch_add(&route->accepted[in->signal], in->items);
        return OTLP_INGEST_OK;
    }
    atomic_fetch_add(&route->refused[in->signal], in->items);
    if (status == OG_RETRY) {
        *why = "the gateway cannot take more now; retry later";
        return OTLP_INGEST_RETRY;
    }
    *why = "an exporter failed";
    return OTLP_INGEST_FAILED;
}

static void otlp_ingest_on_done(struct og_wait *w)
{
    struct otlp_ingest *in = (struct otlp_ingest *)((char *)w - offsetof(struct otlp_ingest, wait));
    const char *why = NULL;
    enum otlp_ingest_result r = otlp_ingest_verdict(in, w->status, &why);

    in->answer(in, r, why);
}

enum otlp_ingest_result otlp_ingest(struct otlp_ingest *in, const char *tenant, struct evbuffer *pb,
                                    const char **why)
{
    struct recv_otlp_route *route = in->route;
    enum og_signal signal = in->signal;
    size_t len = evbuffer_get_length(pb);
    const uint8_t *data = len > 0 ? evbuffer_pullup(pb, -1) : (const uint8_t *)"";
    struct otlp_counts counts;

    in->items = 0;
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
    in->items = counts.items;
    in->wait = (struct og_wait){ .done = otlp_ingest_on_done };
    struct otlp_payload p = {
        .signal = signal, .data = data, .len = len,
        .resources = counts.resources, .items = counts.items, .tenant = tenant,
        .give_buf = in->give != NULL && *in->give == pb ? in->give : NULL,
    };
    int rc = pipeline_consume(route->pipelines[signal], route->npipelines[signal], reactor_self(), &p, &in->wait);
    if (rc == OG_PENDING)
        return OTLP_INGEST_PENDING;
    return otlp_ingest_verdict(in, rc, why);
}
