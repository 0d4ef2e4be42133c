/* otelgen_sink_faults.h: the sink's fault rules: what to do to a request instead of taking it (answer
 * unavailable, reject it, delay the answer, close the connection, never answer), how often, and for which
 * tenant and signal. Rules are written as --fault specs or as JSON on the control endpoint; both go through
 * one parser, so they take the same keys and fail with the same messages. */
#ifndef OTELGEN_SINK_FAULTS_H
#define OTELGEN_SINK_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "http_req.h"

#define OTELGEN_SINK_MAX_FAULTS 16

enum otelgen_sink_fault_mode {
    OTELGEN_SINK_FAULT_UNAVAILABLE,     /* HTTP 503 + Retry-After, gRPC UNAVAILABLE: retry later */
    OTELGEN_SINK_FAULT_REJECT,          /* HTTP 400, gRPC INVALID_ARGUMENT: permanent */
    OTELGEN_SINK_FAULT_DELAY,           /* taken and answered, <delay_ms> late */
    OTELGEN_SINK_FAULT_CLOSE,           /* no answer: the connection (HTTP/1) or stream (HTTP/2) is reset */
    OTELGEN_SINK_FAULT_BLACKHOLE,       /* no answer until the rules change or the sink stops */
    OTELGEN_SINK_FAULT_MODES,
};

struct otelgen_sink_fault {
    enum otelgen_sink_fault_mode mode;
    double ratio;                       /* share of the matching requests it hits, 0..1 */
    bool any_tenant;
    char tenant[HTTP_REQ_VALUE_MAX];    /* when !any_tenant; "" = requests without the tenant header */
    int signal;                         /* enum og_signal, or -1 for all */
    int64_t delay_ms;                   /* delay */
    int retry_after;                    /* unavailable: seconds, 0 = no Retry-After */
};

/* A whole rule set: a plain value, copied to every worker when it changes. */
struct otelgen_sink_faults {
    size_t n;
    struct otelgen_sink_fault v[OTELGEN_SINK_MAX_FAULTS];
};

/* "unavailable", ... */
const char *otelgen_sink_fault_mode_name(enum otelgen_sink_fault_mode mode);

/* Parses one --fault spec, MODE[,KEY=VALUE]... with keys ratio, tenant, signal, delay (delay only) and
 * retry_after (unavailable only). <tenancy> says whether the sink reads a tenant header: without one, a
 * tenant= rule could never match and is refused. Returns 0 with <out> set, or -1 with a one-line reason in
 * <err> (<out> is then undefined). */
int otelgen_sink_fault_parse(const char *spec, bool tenancy, struct otelgen_sink_fault *out, char *err,
                             size_t errlen);

/* Parses a control request body: a JSON array of rule objects ({"mode": "delay", "delay": "200ms"}), or an
 * object with such an array under "faults"; an empty body or [] clears the rules. Returns 0 with <out> set,
 * or -1 with a one-line reason in <err> naming the rule at fault. */
int otelgen_sink_faults_from_json(const char *body, size_t len, bool tenancy, struct otelgen_sink_faults *out,
                                  char *err, size_t errlen);

/* The rules as a JSON array of objects in the input's shape; with <hits> (one per rule) each gets its count.
 * Returns a new reference, or NULL when out of memory. */
json_t *otelgen_sink_faults_to_json(const struct otelgen_sink_faults *f, const uint64_t *hits);

/* The first rule that fires for a request of <signal> (enum og_signal) from <tenant>, drawing one random
 * number per matching rule from *rng (xorshift state, nonzero). Returns its index, or -1 when none fires. */
int otelgen_sink_faults_pick(const struct otelgen_sink_faults *f, int signal, const char *tenant, uint64_t *rng);

#endif
