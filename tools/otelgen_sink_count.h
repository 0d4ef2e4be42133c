/* otelgen_sink_count.h: what the sink counts. Each worker keeps its own counters and id sets, touched by its
 * thread only; a report merges them on the main thread, one worker at a time while that worker waits, so
 * the hot path takes no lock. An item's id tells unique items from duplicates; otelgen send's ids also name
 * the run and the item's number in it, so a report can say, per run, how many items arrived and the highest
 * number seen, from which a test derives what was lost. */
#ifndef OTELGEN_SINK_COUNT_H
#define OTELGEN_SINK_COUNT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "component.h"
#include "http_req.h"
#include "otelgen_sink_faults.h"
#include "otelgen_sink_idset.h"

#define OTELGEN_SINK_MAX_TENANTS 64         /* per worker; more are counted together as other_tenants */

/* How a request was answered. */
enum otelgen_sink_answer {
    OTELGEN_SINK_ANSWER_OK,                 /* taken and counted */
    OTELGEN_SINK_ANSWER_REFUSED,            /* refused by the OTLP front end: bad request, unknown path, ... */
    OTELGEN_SINK_ANSWER_UNAVAILABLE,        /* fault: 503 / UNAVAILABLE */
    OTELGEN_SINK_ANSWER_REJECTED,           /* fault: 400 / INVALID_ARGUMENT */
    OTELGEN_SINK_ANSWER_CLOSED,             /* fault: connection or stream reset */
    OTELGEN_SINK_ANSWER_UNANSWERED,         /* held (blackhole, delay) and let go without an answer */
    OTELGEN_SINK_ANSWERS,
};

struct otelgen_sink_signal_counts {
    uint64_t requests, items;               /* counted requests and their items */
    uint64_t ids;                           /* items with an id */
    uint64_t fresh, duplicates, untracked;  /* what the id set made of them */
    int64_t last_fresh_us;                  /* wall clock of the last request with a new id; 0: none */
};

struct otelgen_sink_tenant_counts {
    char name[HTTP_REQ_VALUE_MAX];
    uint64_t requests[OG_SIGNAL_COUNT], items[OG_SIGNAL_COUNT];
};

/* One worker's counters. Its thread only, but for a report or a reset while it waits. */
struct otelgen_sink_count {
    struct otelgen_sink_signal_counts signals[OG_SIGNAL_COUNT];
    struct otelgen_sink_idset ids[OG_SIGNAL_COUNT];
    struct otelgen_sink_tenant_counts tenants[OTELGEN_SINK_MAX_TENANTS];
    size_t n_tenants;
    struct otelgen_sink_tenant_counts other_tenants;
    uint64_t answers[OTELGEN_SINK_ANSWERS];
    uint64_t fault_hits[OTELGEN_SINK_FAULT_MODES];
    uint64_t *idbuf;                        /* the ids of the request being counted */
    size_t idcap;
};

/* Empty counters keeping at most <max_ids> ids per signal. Cannot fail. */
void otelgen_sink_count_init(struct otelgen_sink_count *c, size_t max_ids);
void otelgen_sink_count_dispose(struct otelgen_sink_count *c);

/* Zeroes every counter and forgets every id. */
void otelgen_sink_count_reset(struct otelgen_sink_count *c);

/* Counts one taken request: its items for its signal and tenant, and its ids. Items whose ids cannot be
 * looked at (out of memory) are counted as untracked. Cannot fail. */
void otelgen_sink_count_add(struct otelgen_sink_count *c, const struct otlp_payload *p);

/* ---- reports: the merge of every worker's counters ---- */

struct otelgen_sink_report;

/* Returns 0, or -1 when out of memory. */
int otelgen_sink_report_create(struct otelgen_sink_report **out, unsigned nworkers);
void otelgen_sink_report_destroy(struct otelgen_sink_report *r);

/* Adds one worker's counters. Runs while <c> does not change (on its worker's thread). Ids that cannot be
 * merged for want of memory are reported as untracked. */
void otelgen_sink_report_add(struct otelgen_sink_report *r, const struct otelgen_sink_count *c);

/* The report as JSON, once every worker was added; <held> is the number of requests held now and <seconds>
 * the time the counts cover. Returns a new reference, or NULL when out of memory. */
json_t *otelgen_sink_report_json(struct otelgen_sink_report *r, uint64_t held, double seconds);

#endif
