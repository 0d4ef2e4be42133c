/* otelgen_gen.c: the common part of request generation: an arena for the protobuf-c message tree (built
 * once per run, freed at once), attributes, resources, scopes, and the catalogue of services. The
 * per-signal shapes are in otelgen_gen_traces.c, otelgen_gen_metrics.c and otelgen_gen_logs.c. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otelgen_gen_int.h"

#define OTELGEN_GEN_BLOCK (256 * 1024)

struct otelgen_gen_block {
    struct otelgen_gen_block *next;
    size_t used, cap;
    max_align_t data[];
};

/* The services the telemetry pretends to come from: the shop of the reference payloads in bench/. */
const struct otelgen_gen_service otelgen_gen_services[OTELGEN_GEN_SERVICES] = {
    { "api-gateway", "2.3.1", "nodejs", "1.28.0",
      { { "@opentelemetry/instrumentation-http", "0.57.0" }, { "@opentelemetry/instrumentation-express", "0.47.0" } },
      { { "GET", "/api/orders/{id}" }, { "POST", "/api/orders" }, { "GET", "/api/products" },
        { "GET", "/api/cart/{id}" } } },
    { "order-service", "1.14.0", "java", "1.44.1",
      { { "io.opentelemetry.spring-webmvc-6.0", "2.10.0-alpha" }, { "io.opentelemetry.jdbc", "2.10.0-alpha" } },
      { { "GET", "/orders/{id}" }, { "POST", "/orders" }, { "GET", "/orders" }, { "DELETE", "/orders/{id}" } } },
    { "payment-service", "0.9.7", "go", "1.32.0",
      { { "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "0.58.0" },
        { "go.opentelemetry.io/contrib/instrumentation/database/sql/otelsql", "0.58.0" } },
      { { "POST", "/payments/charge" }, { "GET", "/payments/{id}" }, { "POST", "/payments/refund" },
        { "GET", "/payments" } } },
    { "inventory-service", "3.0.2", "python", "1.29.0",
      { { "opentelemetry.instrumentation.flask", "0.50b0" }, { "opentelemetry.instrumentation.psycopg2", "0.50b0" } },
      { { "GET", "/inventory/{id}" }, { "POST", "/inventory/reserve" }, { "POST", "/inventory/release" },
        { "GET", "/inventory" } } },
    { "notification-worker", "1.2.0", "dotnet", "1.10.0",
      { { "OpenTelemetry.Instrumentation.AspNetCore", "1.10.1" }, { "OpenTelemetry.Instrumentation.Http", "1.10.1" } },
      { { "POST", "/notify/email" }, { "POST", "/notify/sms" }, { "POST", "/notify/push" },
        { "GET", "/notify/status/{id}" } } },
};

void *otelgen_gen_alloc(struct otelgen_gen *g, size_t size)
{
    struct otelgen_gen_block *b = g->blocks;
    size_t need = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);

    if (b == NULL || b->cap - b->used < need) {
        size_t cap = need > OTELGEN_GEN_BLOCK ? need : OTELGEN_GEN_BLOCK;
        b = malloc(sizeof *b + cap);
        if (b == NULL) {
            g->failed = true;
            return NULL;
        }
        b->next = g->blocks;
        b->used = 0;
        b->cap = cap;
        g->blocks = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += need;
    memset(p, 0, size);
    return p;
}

void *otelgen_gen_new(struct otelgen_gen *g, const ProtobufCMessageDescriptor *d)
{
    void *m = otelgen_gen_alloc(g, d->sizeof_message);

    if (m != NULL)
        protobuf_c_message_init(d, m);
    return m;
}

char *otelgen_gen_strf(struct otelgen_gen *g, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = n >= 0 ? otelgen_gen_alloc(g, (size_t)n + 1) : NULL;
    if (s == NULL) {
        g->failed = true;
        return (char *)"";
    }
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* xorshift64*: fixed seed, so a given size always yields the same request. */
uint32_t otelgen_gen_rand(struct otelgen_gen *g, uint32_t n)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return (uint32_t)(((g->rng * 0x2545F4914F6CDD1DULL) >> 32) % n);
}

bool otelgen_gen_chance(struct otelgen_gen *g, unsigned percent)
{
    return otelgen_gen_rand(g, 100) < percent;
}

static Opentelemetry__Proto__Common__V1__AnyValue *otelgen_gen_value(struct otelgen_gen *g)
{
    return otelgen_gen_new(g, &opentelemetry__proto__common__v1__any_value__descriptor);
}

static void otelgen_gen_attr_add(struct otelgen_gen *g, struct otelgen_gen_attrs *a, const char *key,
                                 Opentelemetry__Proto__Common__V1__AnyValue *v)
{
    Opentelemetry__Proto__Common__V1__KeyValue *kv;

    if (v == NULL || a->n == OTELGEN_GEN_MAX_ATTRS)
        return;
    kv = otelgen_gen_new(g, &opentelemetry__proto__common__v1__key_value__descriptor);
    if (kv == NULL)
        return;
    kv->key = (char *)key;              /* protobuf-c wants char *; packing only reads it */
    kv->value = v;
    a->kv[a->n++] = kv;
}

void otelgen_gen_attr_str(struct otelgen_gen *g, struct otelgen_gen_attrs *a, const char *key, const char *value)
{
    Opentelemetry__Proto__Common__V1__AnyValue *v = otelgen_gen_value(g);

    if (v != NULL) {
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        v->string_value = (char *)value;
    }
    otelgen_gen_attr_add(g, a, key, v);
}

void otelgen_gen_attr_int(struct otelgen_gen *g, struct otelgen_gen_attrs *a, const char *key, int64_t value)
{
    Opentelemetry__Proto__Common__V1__AnyValue *v = otelgen_gen_value(g);

    if (v != NULL) {
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
        v->int_value = value;
    }
    otelgen_gen_attr_add(g, a, key, v);
}

void otelgen_gen_attr_double(struct otelgen_gen *g, struct otelgen_gen_attrs *a, const char *key, double value)
{
    Opentelemetry__Proto__Common__V1__AnyValue *v = otelgen_gen_value(g);

    if (v != NULL) {
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
        v->double_value = value;
    }
    otelgen_gen_attr_add(g, a, key, v);
}

void otelgen_gen_attr_bool(struct otelgen_gen *g, struct otelgen_gen_attrs *a, const char *key, bool value)
{
    Opentelemetry__Proto__Common__V1__AnyValue *v = otelgen_gen_value(g);

    if (v != NULL) {
        v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
        v->bool_value = value;
    }
    otelgen_gen_attr_add(g, a, key, v);
}

void otelgen_gen_attr_strs(struct otelgen_gen *g, struct otelgen_gen_attrs *a, const char *key,
                           const char *const *values, size_t n)
{
    Opentelemetry__Proto__Common__V1__AnyValue *v = otelgen_gen_value(g);
    Opentelemetry__Proto__Common__V1__ArrayValue *arr =
        otelgen_gen_new(g, &opentelemetry__proto__common__v1__array_value__descriptor);
    Opentelemetry__Proto__Common__V1__AnyValue **elems = otelgen_gen_alloc(g, n * sizeof *elems);

    if (v == NULL || arr == NULL || elems == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        elems[i] = otelgen_gen_value(g);
        if (elems[i] == NULL)
            return;
        elems[i]->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
        elems[i]->string_value = (char *)values[i];
    }
    arr->n_values = n;
    arr->values = elems;
    v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_ARRAY_VALUE;
    v->array_value = arr;
    otelgen_gen_attr_add(g, a, key, v);
}

void otelgen_gen_attrs_store(struct otelgen_gen *g, const struct otelgen_gen_attrs *a, size_t *n,
                             Opentelemetry__Proto__Common__V1__KeyValue ***kv)
{
    Opentelemetry__Proto__Common__V1__KeyValue **arr = otelgen_gen_alloc(g, a->n * sizeof *arr);

    if (arr == NULL)
        return;
    memcpy(arr, a->kv, a->n * sizeof *arr);
    *n = a->n;
    *kv = arr;
}

void otelgen_gen_attrs_store_item(struct otelgen_gen *g, const struct otelgen_gen_attrs *a, size_t *n,
                                  Opentelemetry__Proto__Common__V1__KeyValue ***kv)
{
    size_t total = a->n + g->extra_attrs;
    Opentelemetry__Proto__Common__V1__KeyValue **arr = otelgen_gen_alloc(g, total * sizeof *arr);
    struct otelgen_gen_attrs extra = { .n = 0 };

    if (arr == NULL)
        return;
    memcpy(arr, a->kv, a->n * sizeof *arr);
    for (unsigned i = 0; i < g->extra_attrs; i++) {
        extra.n = 0;
        otelgen_gen_attr_str(g, &extra, otelgen_gen_strf(g, "app.extra.%u", i),
                             otelgen_gen_strf(g, "value-%u-%u", i, (unsigned)otelgen_gen_rand(g, 1000)));
        arr[a->n + i] = extra.kv[0];
    }
    *n = total;
    *kv = arr;
}

Opentelemetry__Proto__Resource__V1__Resource *otelgen_gen_resource(struct otelgen_gen *g, unsigned svc)
{
    const struct otelgen_gen_service *s = &otelgen_gen_services[svc];
    Opentelemetry__Proto__Resource__V1__Resource *r =
        otelgen_gen_new(g, &opentelemetry__proto__resource__v1__resource__descriptor);
    struct otelgen_gen_attrs a = { .n = 0 };

    if (r == NULL)
        return NULL;
    otelgen_gen_attr_str(g, &a, "service.name", s->name);
    otelgen_gen_attr_str(g, &a, "service.version", s->version);
    otelgen_gen_attr_str(g, &a, "service.namespace", "shop");
    otelgen_gen_attr_str(g, &a, "service.instance.id",
                         otelgen_gen_strf(g, "%08x-%04x-4%03x-a%03x-%06x%06x", otelgen_gen_rand(g, UINT32_MAX),
                                          otelgen_gen_rand(g, 0x10000), otelgen_gen_rand(g, 0x1000),
                                          otelgen_gen_rand(g, 0x1000), otelgen_gen_rand(g, 0x1000000),
                                          otelgen_gen_rand(g, 0x1000000)));
    otelgen_gen_attr_str(g, &a, "host.name", otelgen_gen_strf(g, "ip-10-0-%u-%u.eu-west-1.compute.internal", svc,
                                                               10 + svc * 7));
    otelgen_gen_attr_str(g, &a, "host.arch", "amd64");
    otelgen_gen_attr_str(g, &a, "os.type", "linux");
    otelgen_gen_attr_int(g, &a, "process.pid", 1 + svc * 17);
    otelgen_gen_attr_str(g, &a, "telemetry.sdk.name", "opentelemetry");
    otelgen_gen_attr_str(g, &a, "telemetry.sdk.language", s->language);
    otelgen_gen_attr_str(g, &a, "telemetry.sdk.version", s->sdk_version);
    otelgen_gen_attr_str(g, &a, "deployment.environment.name", "production");
    otelgen_gen_attr_str(g, &a, "k8s.namespace.name", "shop-prod");
    otelgen_gen_attr_str(g, &a, "k8s.pod.name", otelgen_gen_strf(g, "%s-7d9f8c6b5-%05x", s->name,
                                                                  otelgen_gen_rand(g, 0x100000)));
    otelgen_gen_attr_str(g, &a, "cloud.provider", "aws");
    otelgen_gen_attr_str(g, &a, "cloud.region", "eu-west-1");
    otelgen_gen_attrs_store(g, &a, &r->n_attributes, &r->attributes);
    return r;
}

Opentelemetry__Proto__Common__V1__InstrumentationScope *otelgen_gen_scope(struct otelgen_gen *g, const char *name,
                                                                          const char *version)
{
    Opentelemetry__Proto__Common__V1__InstrumentationScope *s =
        otelgen_gen_new(g, &opentelemetry__proto__common__v1__instrumentation_scope__descriptor);

    if (s != NULL) {
        s->name = (char *)name;
        s->version = (char *)(version != NULL ? version : "");
    }
    return s;
}

/* Every item gets its own span id; a trace id is shared by ten items (one trace, or the exemplars and logs
 * of one request through the shop). Initial values only matter until the first stamp. */
static void otelgen_gen_ids_create(struct otelgen_gen *g, size_t items, size_t traces)
{
    g->ids.span = otelgen_gen_alloc(g, items * sizeof *g->ids.span);
    g->ids.trace = otelgen_gen_alloc(g, traces * sizeof *g->ids.trace);
    if (g->ids.span == NULL || g->ids.trace == NULL)
        return;
    g->ids.n_span = items;
    g->ids.n_trace = traces;
    for (size_t i = 0; i < items; i++)
        g->ids.span[i][7] = (uint8_t)(i + 1);
    for (size_t i = 0; i < traces; i++)
        g->ids.trace[i][15] = (uint8_t)(i + 1);
}

int otelgen_gen_create(struct otelgen_gen **out, enum otelgen_signal signal, size_t items, unsigned extra_attrs,
                       char *err, size_t errlen)
{
    struct otelgen_gen *g = calloc(1, sizeof *g);
    struct timespec now;

    *out = NULL;
    if (items == 0 || items > OTELGEN_GEN_MAX_ITEMS) {
        snprintf(err, errlen, "cannot generate %zu items (1 to %d)", items, OTELGEN_GEN_MAX_ITEMS);
        free(g);
        return -1;
    }
    if (g == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    g->now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    g->rng = 0x9E3779B97F4A7C15ULL;
    g->extra_attrs = extra_attrs > OTELGEN_GEN_MAX_EXTRA_ATTRS ? OTELGEN_GEN_MAX_EXTRA_ATTRS : extra_attrs;
    otelgen_gen_ids_create(g, items, (items + 9) / 10);
    if (!g->failed && signal == OTELGEN_SIGNAL_TRACES)
        otelgen_gen_traces_build(g, items);
    else if (!g->failed && signal == OTELGEN_SIGNAL_METRICS)
        otelgen_gen_metrics_build(g, items);
    else if (!g->failed)
        otelgen_gen_logs_build(g, items);
    if (g->failed || g->root == NULL) {
        snprintf(err, errlen, "out of memory generating %zu %s", items, otelgen_signal_info(signal)->items);
        otelgen_gen_destroy(g);
        return -1;
    }
    *out = g;
    return 0;
}

void otelgen_gen_destroy(struct otelgen_gen *g)
{
    if (g == NULL)
        return;
    while (g->blocks != NULL) {
        struct otelgen_gen_block *next = g->blocks->next;
        free(g->blocks);
        g->blocks = next;
    }
    free(g);
}

const ProtobufCMessage *otelgen_gen_message(const struct otelgen_gen *g)
{
    return g->root;
}

const struct otelgen_ids *otelgen_gen_ids(const struct otelgen_gen *g)
{
    return &g->ids;
}
