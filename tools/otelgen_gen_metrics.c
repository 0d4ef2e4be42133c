/* otelgen_gen_metrics.c: generated metrics. Each service reports the same five metrics (a latency
 * histogram, cumulative and delta sums, an up-down counter, a gauge), each as several series told apart by
 * their attributes; every data point carries one exemplar, whose span id is the point's unique id. */
#include "autoconf.h"

#include <string.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"

#include "otelgen_gen_int.h"

#define OTELGEN_GEN_METRICS_KINDS 5
#define OTELGEN_GEN_METRICS_S 1000000000ULL

enum otelgen_gen_metrics_shape {
    OTELGEN_GEN_METRICS_HISTOGRAM,
    OTELGEN_GEN_METRICS_SUM_INT_UPDOWN,     /* cumulative, not monotonic */
    OTELGEN_GEN_METRICS_SUM_DOUBLE,         /* cumulative, monotonic */
    OTELGEN_GEN_METRICS_GAUGE_DOUBLE,
    OTELGEN_GEN_METRICS_SUM_INT_DELTA,      /* delta, monotonic */
};

struct otelgen_gen_metrics_def {
    const char *name, *description, *unit;
    enum otelgen_gen_metrics_shape shape;
    const char *key_a, *values_a[4];        /* first dimension; the histogram's comes from the routes */
    const char *key_b, *values_b[4];        /* second dimension, or NULL */
    const char *key_series;                 /* an int dimension, added when the two above run out */
};

static const struct otelgen_gen_metrics_def otelgen_gen_metrics_defs[OTELGEN_GEN_METRICS_KINDS] = {
    { "http.server.request.duration", "Duration of HTTP server requests.", "s", OTELGEN_GEN_METRICS_HISTOGRAM,
      "http.route", { NULL }, "http.response.status_code", { "200", "201", "404", "503" }, "server.port" },
    { "http.server.active_requests", "Number of active HTTP server requests.", "{request}",
      OTELGEN_GEN_METRICS_SUM_INT_UPDOWN, "http.request.method", { "GET", "POST", "PUT", "DELETE" }, "url.scheme",
      { "http", "https" }, "server.port" },
    { "process.cpu.time", "Total CPU seconds broken down by different CPU modes.", "s",
      OTELGEN_GEN_METRICS_SUM_DOUBLE, "cpu.mode", { "user", "system", "wait" }, NULL, { NULL }, "thread.id" },
    { "system.cpu.utilization", "Difference in system.cpu.time since the last measurement, divided by the "
      "elapsed time and number of logical CPUs.", "1", OTELGEN_GEN_METRICS_GAUGE_DOUBLE, "cpu.mode",
      { "user", "system", "idle", "iowait" }, NULL, { NULL }, "cpu.logical_number" },
    { "messaging.client.sent.messages", "Number of messages producer attempted to send to the broker.",
      "{message}", OTELGEN_GEN_METRICS_SUM_INT_DELTA, "messaging.destination.name",
      { "orders", "payments", "notifications", "inventory" }, "messaging.system", { "kafka" }, "messaging.partition" },
};

/* OTel's default bucket boundaries for http.server.request.duration. */
static const double otelgen_gen_metrics_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
                                                     0.5, 0.75, 1, 2.5, 5, 7.5, 10 };
#define OTELGEN_GEN_METRICS_BOUNDS (sizeof otelgen_gen_metrics_bounds / sizeof otelgen_gen_metrics_bounds[0])

struct otelgen_gen_metrics {
    struct otelgen_gen *g;
    size_t point;                           /* next data point = its span id index */
    uint64_t start_ns;                      /* cumulative series start: the process started an hour ago */
};

static size_t otelgen_gen_metrics_count(const char *const *values)
{
    size_t n = 0;

    while (n < 4 && values[n] != NULL)
        n++;
    return n;
}

/* The attributes of series <j> of metric <def> in service <svc>. */
static void otelgen_gen_metrics_attrs(struct otelgen_gen *g, const struct otelgen_gen_metrics_def *def,
                                      unsigned svc, size_t j, struct otelgen_gen_attrs *a)
{
    size_t na = def->values_a[0] != NULL ? otelgen_gen_metrics_count(def->values_a) : 4;
    size_t nb = def->key_b != NULL ? otelgen_gen_metrics_count(def->values_b) : 1;

    if (def->values_a[0] != NULL)
        otelgen_gen_attr_str(g, a, def->key_a, def->values_a[j % na]);
    else
        otelgen_gen_attr_str(g, a, def->key_a, otelgen_gen_services[svc].ops[j % na][1]);
    if (def->key_b != NULL)
        otelgen_gen_attr_str(g, a, def->key_b, def->values_b[j / na % nb]);
    if (j >= na * nb)
        otelgen_gen_attr_int(g, a, def->key_series, (int64_t)(j / (na * nb)));
}

static Opentelemetry__Proto__Metrics__V1__Exemplar **otelgen_gen_metrics_exemplar(struct otelgen_gen_metrics *m,
                                                                                  double value)
{
    struct otelgen_gen *g = m->g;
    Opentelemetry__Proto__Metrics__V1__Exemplar *e =
        otelgen_gen_new(g, &opentelemetry__proto__metrics__v1__exemplar__descriptor);
    Opentelemetry__Proto__Metrics__V1__Exemplar **arr = otelgen_gen_alloc(g, sizeof *arr);

    if (e == NULL || arr == NULL)
        return NULL;
    e->time_unix_nano = g->now_ns - otelgen_gen_rand(g, 60000) * 1000000ULL;
    e->span_id = (ProtobufCBinaryData){ 8, g->ids.span[m->point] };
    e->trace_id = (ProtobufCBinaryData){ 16, g->ids.trace[m->point / 10] };
    e->value_case = OPENTELEMETRY__PROTO__METRICS__V1__EXEMPLAR__VALUE_AS_DOUBLE;
    e->as_double = value;
    arr[0] = e;
    return arr;
}

static Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *otelgen_gen_metrics_histogram_point(
    struct otelgen_gen_metrics *m, struct otelgen_gen_attrs *a)
{
    struct otelgen_gen *g = m->g;
    Opentelemetry__Proto__Metrics__V1__HistogramDataPoint *p =
        otelgen_gen_new(g, &opentelemetry__proto__metrics__v1__histogram_data_point__descriptor);
    uint64_t *counts = otelgen_gen_alloc(g, (OTELGEN_GEN_METRICS_BOUNDS + 1) * sizeof *counts);

    if (p == NULL || counts == NULL)
        return NULL;
    for (size_t b = 0; b <= OTELGEN_GEN_METRICS_BOUNDS; b++) {
        unsigned peak = b < 6 ? (unsigned)b : (unsigned)(OTELGEN_GEN_METRICS_BOUNDS - b) / 2;  /* most near 75 ms */
        counts[b] = otelgen_gen_rand(g, 40 * peak + 2);
        p->count += counts[b];
        p->sum += (double)counts[b] * (b < OTELGEN_GEN_METRICS_BOUNDS ? otelgen_gen_metrics_bounds[b] * 0.7 : 12.0);
    }
    p->min = 0.0011;
    p->max = p->count > 0 ? 0.75 + otelgen_gen_rand(g, 1000) / 1000.0 : 0;
    p->n_bucket_counts = OTELGEN_GEN_METRICS_BOUNDS + 1;
    p->bucket_counts = counts;
    p->n_explicit_bounds = OTELGEN_GEN_METRICS_BOUNDS;
    p->explicit_bounds = (double *)otelgen_gen_metrics_bounds;     /* protobuf-c wants double *; packing only reads */
    p->start_time_unix_nano = m->start_ns;
    p->time_unix_nano = g->now_ns;
    p->exemplars = otelgen_gen_metrics_exemplar(m, 0.042 + otelgen_gen_rand(g, 100) / 1000.0);
    p->n_exemplars = p->exemplars != NULL;
    otelgen_gen_attrs_store_item(g, a, &p->n_attributes, &p->attributes);
    m->point++;
    return p;
}

static Opentelemetry__Proto__Metrics__V1__NumberDataPoint *otelgen_gen_metrics_number_point(
    struct otelgen_gen_metrics *m, enum otelgen_gen_metrics_shape shape, struct otelgen_gen_attrs *a)
{
    struct otelgen_gen *g = m->g;
    Opentelemetry__Proto__Metrics__V1__NumberDataPoint *p =
        otelgen_gen_new(g, &opentelemetry__proto__metrics__v1__number_data_point__descriptor);
    double v;

    if (p == NULL)
        return NULL;
    p->start_time_unix_nano = shape == OTELGEN_GEN_METRICS_SUM_INT_DELTA ? g->now_ns - 60 * OTELGEN_GEN_METRICS_S
                              : shape == OTELGEN_GEN_METRICS_GAUGE_DOUBLE ? 0 : m->start_ns;
    p->time_unix_nano = g->now_ns;
    if (shape == OTELGEN_GEN_METRICS_SUM_DOUBLE || shape == OTELGEN_GEN_METRICS_GAUGE_DOUBLE) {
        v = shape == OTELGEN_GEN_METRICS_SUM_DOUBLE ? otelgen_gen_rand(g, 3600000) / 1000.0
                                                    : otelgen_gen_rand(g, 1000) / 1000.0;
        p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
        p->as_double = v;
    } else {
        v = otelgen_gen_rand(g, shape == OTELGEN_GEN_METRICS_SUM_INT_DELTA ? 5000 : 64);
        p->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
        p->as_int = (int64_t)v;
    }
    p->exemplars = otelgen_gen_metrics_exemplar(m, v);
    p->n_exemplars = p->exemplars != NULL;
    otelgen_gen_attrs_store_item(g, a, &p->n_attributes, &p->attributes);
    m->point++;
    return p;
}

static void otelgen_gen_metrics_histogram(struct otelgen_gen_metrics *m, Opentelemetry__Proto__Metrics__V1__Metric *metric,
                                          unsigned svc, unsigned kind, size_t n)
{
    struct otelgen_gen *g = m->g;
    const struct otelgen_gen_metrics_def *def = &otelgen_gen_metrics_defs[kind];
    Opentelemetry__Proto__Metrics__V1__Histogram *h =
        otelgen_gen_new(g, &opentelemetry__proto__metrics__v1__histogram__descriptor);
    Opentelemetry__Proto__Metrics__V1__HistogramDataPoint **points = otelgen_gen_alloc(g, n * sizeof *points);

    if (h == NULL || points == NULL)
        return;
    for (size_t j = 0; j < n; j++) {
        struct otelgen_gen_attrs a = { .n = 0 };
        otelgen_gen_metrics_attrs(g, def, svc, j, &a);
        points[j] = otelgen_gen_metrics_histogram_point(m, &a);
    }
    h->aggregation_temporality =
        OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
    h->n_data_points = n;
    h->data_points = points;
    metric->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
    metric->histogram = h;
}

/* A gauge or a sum, by the shape of metric <kind>. */
static void otelgen_gen_metrics_numbers(struct otelgen_gen_metrics *m, Opentelemetry__Proto__Metrics__V1__Metric *metric,
                                        unsigned svc, unsigned kind, size_t n)
{
    struct otelgen_gen *g = m->g;
    const struct otelgen_gen_metrics_def *def = &otelgen_gen_metrics_defs[kind];
    Opentelemetry__Proto__Metrics__V1__NumberDataPoint **points = otelgen_gen_alloc(g, n * sizeof *points);
    Opentelemetry__Proto__Metrics__V1__Gauge *ga = NULL;
    Opentelemetry__Proto__Metrics__V1__Sum *s = NULL;

    if (def->shape == OTELGEN_GEN_METRICS_GAUGE_DOUBLE)
        ga = otelgen_gen_new(g, &opentelemetry__proto__metrics__v1__gauge__descriptor);
    else
        s = otelgen_gen_new(g, &opentelemetry__proto__metrics__v1__sum__descriptor);
    if (points == NULL || (ga == NULL && s == NULL))
        return;
    for (size_t j = 0; j < n; j++) {
        struct otelgen_gen_attrs a = { .n = 0 };
        otelgen_gen_metrics_attrs(g, def, svc, j, &a);
        points[j] = otelgen_gen_metrics_number_point(m, def->shape, &a);
    }
    if (ga != NULL) {
        ga->n_data_points = n;
        ga->data_points = points;
        metric->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
        metric->gauge = ga;
        return;
    }
    s->aggregation_temporality =
        def->shape == OTELGEN_GEN_METRICS_SUM_INT_DELTA
            ? OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_DELTA
            : OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
    s->is_monotonic = def->shape != OTELGEN_GEN_METRICS_SUM_INT_UPDOWN;
    s->n_data_points = n;
    s->data_points = points;
    metric->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
    metric->sum = s;
}

static Opentelemetry__Proto__Metrics__V1__Metric *otelgen_gen_metrics_metric(struct otelgen_gen_metrics *m,
                                                                            unsigned svc, unsigned kind, size_t n)
{
    struct otelgen_gen *g = m->g;
    const struct otelgen_gen_metrics_def *def = &otelgen_gen_metrics_defs[kind];
    Opentelemetry__Proto__Metrics__V1__Metric *metric =
        otelgen_gen_new(g, &opentelemetry__proto__metrics__v1__metric__descriptor);

    if (metric == NULL)
        return NULL;
    metric->name = (char *)def->name;
    metric->description = (char *)def->description;
    metric->unit = (char *)def->unit;
    if (def->shape == OTELGEN_GEN_METRICS_HISTOGRAM)
        otelgen_gen_metrics_histogram(m, metric, svc, kind, n);
    else
        otelgen_gen_metrics_numbers(m, metric, svc, kind, n);
    return metric;
}

/* One service's metrics: up to five, <per_metric> points each, until <left> points are used up. */
static Opentelemetry__Proto__Metrics__V1__ResourceMetrics *otelgen_gen_metrics_resource(
    struct otelgen_gen_metrics *m, unsigned svc, size_t per_metric, size_t *left)
{
    struct otelgen_gen *g = m->g;
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics *rm =
        otelgen_gen_new(g, &opentelemetry__proto__metrics__v1__resource_metrics__descriptor);
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics *sm =
        otelgen_gen_new(g, &opentelemetry__proto__metrics__v1__scope_metrics__descriptor);
    Opentelemetry__Proto__Metrics__V1__ScopeMetrics **sms = otelgen_gen_alloc(g, sizeof *sms);
    Opentelemetry__Proto__Metrics__V1__Metric **metrics = otelgen_gen_alloc(g, OTELGEN_GEN_METRICS_KINDS * sizeof *metrics);

    if (rm == NULL || sm == NULL || sms == NULL || metrics == NULL)
        return NULL;
    for (unsigned k = 0; k < OTELGEN_GEN_METRICS_KINDS && *left > 0; k++) {
        size_t n = per_metric < *left ? per_metric : *left;
        metrics[sm->n_metrics++] = otelgen_gen_metrics_metric(m, svc, k, n);
        *left -= n;
    }
    sm->scope = otelgen_gen_scope(g, otelgen_gen_services[svc].scopes[0][0], otelgen_gen_services[svc].scopes[0][1]);
    sm->metrics = metrics;
    sms[0] = sm;
    rm->resource = otelgen_gen_resource(g, svc);
    rm->n_scope_metrics = 1;
    rm->scope_metrics = sms;
    rm->schema_url = (char *)"https://opentelemetry.io/schemas/1.26.0";
    return rm;
}

void otelgen_gen_metrics_build(struct otelgen_gen *g, size_t points)
{
    struct otelgen_gen_metrics m = { .g = g, .start_ns = g->now_ns - 3600 * OTELGEN_GEN_METRICS_S };
    size_t per_metric = (points + OTELGEN_GEN_SERVICES * OTELGEN_GEN_METRICS_KINDS - 1) /
                        (OTELGEN_GEN_SERVICES * OTELGEN_GEN_METRICS_KINDS);
    size_t left = points;
    Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest *req =
        otelgen_gen_new(g, &opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor);
    Opentelemetry__Proto__Metrics__V1__ResourceMetrics **rms = otelgen_gen_alloc(g, OTELGEN_GEN_SERVICES * sizeof *rms);

    if (req == NULL || rms == NULL)
        return;
    for (unsigned svc = 0; svc < OTELGEN_GEN_SERVICES && left > 0 && !g->failed; svc++)
        rms[req->n_resource_metrics++] = otelgen_gen_metrics_resource(&m, svc, per_metric, &left);
    req->resource_metrics = rms;
    g->root = &req->base;
}
