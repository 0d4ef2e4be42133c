/* otelgen_gen_int.h: what the per-signal generators (otelgen_gen_traces.c, _metrics.c, _logs.c) share with
 * otelgen_gen.c: the arena every message of a request lives in, a small random generator, attribute lists,
 * and the catalogue of services the generated telemetry comes from. Not for use outside otelgen_gen*.c. */
#ifndef OTELGEN_GEN_INT_H
#define OTELGEN_GEN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opentelemetry/proto/common/v1/common.pb-c.h"
#include "opentelemetry/proto/resource/v1/resource.pb-c.h"

#include "otelgen_gen.h"

#define OTELGEN_GEN_MAX_ATTRS 24        /* per attribute list; the richest span has 14 */
#define OTELGEN_GEN_SERVICES 5

struct otelgen_gen_block;

struct otelgen_gen {
    struct otelgen_gen_block *blocks;   /* the arena: everything below is freed with it */
    ProtobufCMessage *root;
    struct otelgen_ids ids;
    uint64_t rng;
    uint64_t now_ns;                    /* wall clock when generation began */
    bool failed;                        /* an allocation failed: the message is incomplete */
    unsigned extra_attrs;               /* --attributes: more attributes on each item */
};

struct otelgen_gen_service {
    const char *name, *version, *language, *sdk_version;
    const char *scopes[2][2];           /* instrumentation scope name, version; second may be NULL */
    const char *ops[4][2];              /* HTTP method and route served, four different ones */
};

/* An attribute list being built on the stack; otelgen_gen_attrs_store() moves it into the arena. */
struct otelgen_gen_attrs {
    Opentelemetry__Proto__Common__V1__KeyValue *kv[OTELGEN_GEN_MAX_ATTRS];
    size_t n;
};

extern const struct otelgen_gen_service otelgen_gen_services[OTELGEN_GEN_SERVICES];

/* As otelgen_gen_attrs_store(), for an item (span, data point, log record): adds the --attributes extras. */
void otelgen_gen_attrs_store_item(struct otelgen_gen *g, const struct otelgen_gen_attrs *a, size_t *n,
                                  Opentelemetry__Proto__Common__V1__KeyValue ***kv);

/* Zeroed memory from the arena; NULL (and g->failed set) when out of memory. Callers check before use. */
void *otelgen_gen_alloc(struct otelgen_gen *g, size_t size);
/* A message of type <d>, initialised to its defaults. */
void *otelgen_gen_new(struct otelgen_gen *g, const ProtobufCMessageDescriptor *d);
/* A formatted string in the arena; "" when out of memory (g->failed is set). */
char *otelgen_gen_strf(struct otelgen_gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Uniform in [0, n), n > 0. */
uint32_t otelgen_gen_rand(struct otelgen_gen *g, uint32_t n);
/* True with probability <percent>/100. */
bool otelgen_gen_chance(struct otelgen_gen *g, unsigned percent);

void otelgen_gen_attr_str(struct otelgen_gen *g, struct otelgen_gen_attrs *a, const char *key, const char *value);
void otelgen_gen_attr_int(struct otelgen_gen *g, struct otelgen_gen_attrs *a, const char *key, int64_t value);
void otelgen_gen_attr_double(struct otelgen_gen *g, struct otelgen_gen_attrs *a, const char *key, double value);
void otelgen_gen_attr_bool(struct otelgen_gen *g, struct otelgen_gen_attrs *a, const char *key, bool value);
void otelgen_gen_attr_strs(struct otelgen_gen *g, struct otelgen_gen_attrs *a, const char *key,
                           const char *const *values, size_t n);
/* Copies the list into the arena and sets *n and *kv (a message's n_attributes and attributes). */
void otelgen_gen_attrs_store(struct otelgen_gen *g, const struct otelgen_gen_attrs *a, size_t *n,
                             Opentelemetry__Proto__Common__V1__KeyValue ***kv);

Opentelemetry__Proto__Resource__V1__Resource *otelgen_gen_resource(struct otelgen_gen *g, unsigned svc);
Opentelemetry__Proto__Common__V1__InstrumentationScope *otelgen_gen_scope(struct otelgen_gen *g, const char *name,
                                                                          const char *version);

/* The per-signal builders: each sets g->root and the id arrays, or leaves g->failed set. */
void otelgen_gen_traces_build(struct otelgen_gen *g, size_t spans);
void otelgen_gen_metrics_build(struct otelgen_gen *g, size_t points);
void otelgen_gen_logs_build(struct otelgen_gen *g, size_t records);

#endif
