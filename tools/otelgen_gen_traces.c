/* otelgen_gen_traces.c: generated traces. A request holds traces of about ten spans: an api-gateway SERVER
 * span at the root, then HTTP calls between the shop's services (CLIENT + SERVER pairs), database calls and
 * internal work, with the attributes, events, links and statuses real instrumentation records. */
#include "autoconf.h"

#include <string.h>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#include "otelgen_gen_int.h"

#define OTELGEN_GEN_TRACES_MS 1000000ULL

struct otelgen_gen_traces_meta {
    unsigned svc, scope;
};

struct otelgen_gen_traces {
    struct otelgen_gen *g;
    Opentelemetry__Proto__Trace__V1__Span **spans;  /* in creation order: index = span id index */
    struct otelgen_gen_traces_meta *meta;
    size_t n;                                       /* spans made */
    size_t trace;                                   /* current trace = trace id index */
    size_t trace_first;                             /* its first span */
    size_t *roots;                                  /* root span of every trace */
    uint64_t t0;                                    /* start of the current trace */
};

static const char *const otelgen_gen_traces_sql[][4] = {
    { "postgresql", "orders", "SELECT", "SELECT id, status, total FROM orders WHERE id = $1" },
    { "postgresql", "orders", "UPDATE", "UPDATE orders SET status = $1 WHERE id = $2" },
    { "postgresql", "inventory", "SELECT", "SELECT sku, qty FROM stock WHERE sku = ANY($1)" },
    { "redis", "0", "GET", "GET cart:{id}" },
    { "mysql", "payments", "INSERT", "INSERT INTO charges (order_id, amount) VALUES (?, ?)" },
};

static const char *const otelgen_gen_traces_flags[] = { "new-checkout", "dark-mode", "fast-pay", "beta-search" };

/* What every span of the shop carries besides its own attributes. */
static void otelgen_gen_traces_common_attrs(struct otelgen_gen *g, struct otelgen_gen_attrs *a)
{
    unsigned f = otelgen_gen_rand(g, 3);

    otelgen_gen_attr_str(g, a, "user.id", otelgen_gen_strf(g, "u-%05u", 1 + otelgen_gen_rand(g, 5000)));
    otelgen_gen_attr_double(g, a, "app.sample.weight", otelgen_gen_rand(g, 10000) / 10000.0);
    otelgen_gen_attr_bool(g, a, "app.cache.hit", otelgen_gen_chance(g, 30));
    otelgen_gen_attr_strs(g, a, "app.feature_flags", otelgen_gen_traces_flags + f, 2);
}

static void otelgen_gen_traces_times(struct otelgen_gen_traces *t, int parent,
                                     Opentelemetry__Proto__Trace__V1__Span *s)
{
    struct otelgen_gen *g = t->g;

    if (parent < 0) {
        s->start_time_unix_nano = t->t0;
        s->end_time_unix_nano = t->t0 + (20 + otelgen_gen_rand(g, 380)) * OTELGEN_GEN_TRACES_MS;
        return;
    }
    uint64_t ps = t->spans[parent]->start_time_unix_nano, pe = t->spans[parent]->end_time_unix_nano;
    uint64_t st = ps + (pe - ps) * (2 + otelgen_gen_rand(g, 38)) / 100;
    uint64_t len = (pe - st) * (30 + otelgen_gen_rand(g, 65)) / 100;
    s->start_time_unix_nano = st;
    s->end_time_unix_nano = st + (len > 1000 ? len : 1000);
}

/* Appends a span to the current trace; returns its index, or -1 when out of memory. */
static int otelgen_gen_traces_span(struct otelgen_gen_traces *t, int parent, unsigned svc, unsigned scope,
                                   Opentelemetry__Proto__Trace__V1__Span__SpanKind kind, const char *name,
                                   struct otelgen_gen_attrs *a)
{
    struct otelgen_gen *g = t->g;
    Opentelemetry__Proto__Trace__V1__Span *s = otelgen_gen_new(g, &opentelemetry__proto__trace__v1__span__descriptor);
    size_t i = t->n;

    if (s == NULL)
        return -1;
    s->trace_id = (ProtobufCBinaryData){ 16, g->ids.trace[t->trace] };
    s->span_id = (ProtobufCBinaryData){ 8, g->ids.span[i] };
    s->flags = 0x101;                   /* sampled; parent is known not to be remote */
    if (parent >= 0) {
        s->parent_span_id = (ProtobufCBinaryData){ 8, g->ids.span[parent] };
        if (t->meta[parent].svc != svc)
            s->flags = 0x301;           /* sampled; remote parent */
    }
    s->name = (char *)name;
    s->kind = kind;
    otelgen_gen_traces_times(t, parent, s);
    otelgen_gen_traces_common_attrs(g, a);
    otelgen_gen_attrs_store_item(g, a, &s->n_attributes, &s->attributes);
    t->spans[i] = s;
    t->meta[i] = (struct otelgen_gen_traces_meta){ svc, scope };
    t->n++;
    return (int)i;
}

static void otelgen_gen_traces_status(struct otelgen_gen *g, Opentelemetry__Proto__Trace__V1__Span *s,
                                      Opentelemetry__Proto__Trace__V1__Status__StatusCode code, const char *message)
{
    Opentelemetry__Proto__Trace__V1__Status *st =
        otelgen_gen_new(g, &opentelemetry__proto__trace__v1__status__descriptor);

    if (st == NULL)
        return;
    st->code = code;
    st->message = (char *)message;
    s->status = st;
}

static const char *otelgen_gen_traces_path(struct otelgen_gen *g, const char *route)
{
    const char *id = strstr(route, "{id}");

    if (id == NULL)
        return route;
    return otelgen_gen_strf(g, "%.*s%u%s", (int)(id - route), route, 1000 + otelgen_gen_rand(g, 99000), id + 4);
}

static int otelgen_gen_traces_server(struct otelgen_gen_traces *t, int parent, unsigned svc)
{
    struct otelgen_gen *g = t->g;
    const char *const *op = otelgen_gen_services[svc].ops[otelgen_gen_rand(g, 4)];
    unsigned code = otelgen_gen_chance(g, 3) ? 503 : otelgen_gen_rand(g, 22) < 20 ? 200
                                                   : otelgen_gen_rand(g, 2) ? 201 : 404;
    struct otelgen_gen_attrs a = { .n = 0 };

    otelgen_gen_attr_str(g, &a, "http.request.method", op[0]);
    otelgen_gen_attr_str(g, &a, "url.path", otelgen_gen_traces_path(g, op[1]));
    otelgen_gen_attr_str(g, &a, "http.route", op[1]);
    otelgen_gen_attr_int(g, &a, "http.response.status_code", code);
    otelgen_gen_attr_str(g, &a, "server.address",
                         otelgen_gen_strf(g, "%s.shop-prod.svc", otelgen_gen_services[svc].name));
    otelgen_gen_attr_int(g, &a, "server.port", 8080);
    otelgen_gen_attr_str(g, &a, "client.address", otelgen_gen_strf(g, "10.42.%u.%u", otelgen_gen_rand(g, 4),
                                                                    2 + otelgen_gen_rand(g, 250)));
    otelgen_gen_attr_str(g, &a, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) shop-web/4.1");
    otelgen_gen_attr_str(g, &a, "network.protocol.version", "1.1");
    int i = otelgen_gen_traces_span(t, parent, svc, 0, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER,
                                    otelgen_gen_strf(g, "%s %s", op[0], op[1]), &a);
    if (i >= 0)
        otelgen_gen_traces_status(g, t->spans[i],
                                  code >= 500 ? OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR
                                              : OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_OK,
                                  code >= 500 ? "HTTP 503" : "");
    return i;
}

/* An HTTP call from <parent>'s service to another one: a CLIENT span and the callee's SERVER span. */
static void otelgen_gen_traces_call(struct otelgen_gen_traces *t, int parent)
{
    struct otelgen_gen *g = t->g;
    unsigned svc = t->meta[parent].svc;
    unsigned callee = 1 + otelgen_gen_rand(g, OTELGEN_GEN_SERVICES - 1);
    const char *const *op;
    struct otelgen_gen_attrs a = { .n = 0 };
    const char *host;

    if (callee == svc)
        callee = callee % (OTELGEN_GEN_SERVICES - 1) + 1;
    op = otelgen_gen_services[callee].ops[otelgen_gen_rand(g, 4)];
    host = otelgen_gen_strf(g, "%s.shop-prod.svc", otelgen_gen_services[callee].name);
    otelgen_gen_attr_str(g, &a, "http.request.method", op[0]);
    otelgen_gen_attr_str(g, &a, "url.full", otelgen_gen_strf(g, "http://%s:8080%s", host,
                                                              otelgen_gen_traces_path(g, op[1])));
    otelgen_gen_attr_str(g, &a, "server.address", host);
    otelgen_gen_attr_int(g, &a, "server.port", 8080);
    otelgen_gen_attr_int(g, &a, "http.response.status_code", 200);
    int c = otelgen_gen_traces_span(t, parent, svc, 0, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT,
                                    otelgen_gen_strf(g, "%s", op[0]), &a);
    if (c >= 0)
        otelgen_gen_traces_server(t, c, callee);
}

static void otelgen_gen_traces_db(struct otelgen_gen_traces *t, int parent)
{
    struct otelgen_gen *g = t->g;
    const char *const *q = otelgen_gen_traces_sql[otelgen_gen_rand(g, 5)];
    struct otelgen_gen_attrs a = { .n = 0 };

    otelgen_gen_attr_str(g, &a, "db.system.name", q[0]);
    otelgen_gen_attr_str(g, &a, "db.namespace", q[1]);
    otelgen_gen_attr_str(g, &a, "db.operation.name", q[2]);
    otelgen_gen_attr_str(g, &a, "db.query.text", q[3]);
    otelgen_gen_attr_str(g, &a, "server.address", otelgen_gen_strf(g, "%s.shop-prod.svc", q[0]));
    otelgen_gen_attr_int(g, &a, "server.port", q[0][0] == 'p' ? 5432 : q[0][0] == 'r' ? 6379 : 3306);
    otelgen_gen_attr_int(g, &a, "db.response.returned_rows", otelgen_gen_rand(g, 50));
    otelgen_gen_traces_span(t, parent, t->meta[parent].svc, 1,
                            OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT,
                            otelgen_gen_strf(g, "%s %s", q[2], q[1]), &a);
}

static void otelgen_gen_traces_internal(struct otelgen_gen_traces *t, int parent)
{
    static const char *const fns[] = { "validate", "price", "serialize", "authorize", "render" };
    struct otelgen_gen *g = t->g;
    unsigned svc = t->meta[parent].svc;
    const char *fn = fns[otelgen_gen_rand(g, 5)];
    struct otelgen_gen_attrs a = { .n = 0 };

    otelgen_gen_attr_str(g, &a, "code.function.name", fn);
    otelgen_gen_attr_str(g, &a, "code.namespace", otelgen_gen_strf(g, "com.shop.%.5s", otelgen_gen_services[svc].name));
    otelgen_gen_attr_int(g, &a, "thread.id", 1 + otelgen_gen_rand(g, 200));
    otelgen_gen_attr_str(g, &a, "thread.name", otelgen_gen_strf(g, "worker-%u", 1 + otelgen_gen_rand(g, 16)));
    otelgen_gen_traces_span(t, parent, svc, 1, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL,
                            otelgen_gen_strf(g, "%s.%s", otelgen_gen_services[svc].name, fn), &a);
}

/* A random SERVER or INTERNAL span of the current trace: the ones that do work and call others. */
static int otelgen_gen_traces_pick_parent(struct otelgen_gen_traces *t)
{
    size_t candidates = 0, k;

    for (size_t i = t->trace_first; i < t->n; i++)
        if (t->spans[i]->kind != OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT)
            candidates++;
    if (candidates == 0)
        return (int)t->trace_first;
    k = otelgen_gen_rand(t->g, (uint32_t)candidates);
    for (size_t i = t->trace_first; i < t->n; i++)
        if (t->spans[i]->kind != OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_CLIENT && k-- == 0)
            return (int)i;
    return (int)t->trace_first;
}

static Opentelemetry__Proto__Trace__V1__Span__Event *otelgen_gen_traces_event(struct otelgen_gen *g, const char *name,
                                                                              uint64_t time, bool exception)
{
    Opentelemetry__Proto__Trace__V1__Span__Event *e =
        otelgen_gen_new(g, &opentelemetry__proto__trace__v1__span__event__descriptor);
    struct otelgen_gen_attrs a = { .n = 0 };

    if (e == NULL)
        return NULL;
    e->name = (char *)name;
    e->time_unix_nano = time;
    if (exception) {
        otelgen_gen_attr_str(g, &a, "exception.type", "java.lang.IllegalStateException");
        otelgen_gen_attr_str(g, &a, "exception.message", "inventory reservation failed");
        otelgen_gen_attr_str(g, &a, "exception.stacktrace",
                             "java.lang.IllegalStateException: inventory reservation failed\n"
                             "\tat com.shop.orders.OrderService.reserve(OrderService.java:212)\n"
                             "\tat com.shop.orders.OrderService.place(OrderService.java:97)\n"
                             "\tat com.shop.orders.OrderController.create(OrderController.java:41)\n"
                             "Caused by: java.net.SocketTimeoutException: Read timed out");
    } else {
        otelgen_gen_attr_str(g, &a, "cache.key", "order:4821");
        otelgen_gen_attr_int(g, &a, "cache.tier", 2);
    }
    otelgen_gen_attrs_store(g, &a, &e->n_attributes, &e->attributes);
    return e;
}

/* Now and then a span records an exception (and fails) or a cache miss, or links to an earlier trace. */
static void otelgen_gen_traces_extras(struct otelgen_gen_traces *t, Opentelemetry__Proto__Trace__V1__Span *s)
{
    struct otelgen_gen *g = t->g;
    unsigned u = otelgen_gen_rand(g, 100);
    Opentelemetry__Proto__Trace__V1__Span__Event **ev = otelgen_gen_alloc(g, sizeof *ev);

    if (ev != NULL && u < 8) {
        ev[0] = otelgen_gen_traces_event(g, u < 3 ? "exception" : "cache.miss",
                                         u < 3 ? s->end_time_unix_nano - 1000 : s->start_time_unix_nano + 2000, u < 3);
        s->n_events = ev[0] != NULL;
        s->events = ev;
        if (u < 3)
            otelgen_gen_traces_status(g, s, OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR,
                                      "inventory reservation failed");
    }
    if (t->trace == 0 || !otelgen_gen_chance(g, 3))
        return;
    size_t earlier = otelgen_gen_rand(g, (uint32_t)t->trace);
    Opentelemetry__Proto__Trace__V1__Span__Link *l =
        otelgen_gen_new(g, &opentelemetry__proto__trace__v1__span__link__descriptor);
    Opentelemetry__Proto__Trace__V1__Span__Link **ls = otelgen_gen_alloc(g, sizeof *ls);
    struct otelgen_gen_attrs a = { .n = 0 };
    if (l == NULL || ls == NULL)
        return;
    l->trace_id = (ProtobufCBinaryData){ 16, g->ids.trace[earlier] };
    l->span_id = (ProtobufCBinaryData){ 8, g->ids.span[t->roots[earlier]] };
    l->flags = 0x101;
    otelgen_gen_attr_str(g, &a, "link.reason", "batch-trigger");
    otelgen_gen_attrs_store(g, &a, &l->n_attributes, &l->attributes);
    ls[0] = l;
    s->n_links = 1;
    s->links = ls;
}

static void otelgen_gen_traces_one(struct otelgen_gen_traces *t, size_t size)
{
    struct otelgen_gen *g = t->g;

    t->trace_first = t->n;
    t->roots[t->trace] = t->n;
    if (otelgen_gen_traces_server(t, -1, 0) < 0)
        return;
    while (t->n - t->trace_first < size && !g->failed) {
        int parent = otelgen_gen_traces_pick_parent(t);
        unsigned r = otelgen_gen_rand(g, 10);
        if (r < 4 && size - (t->n - t->trace_first) >= 2)
            otelgen_gen_traces_call(t, parent);
        else if (r < 7)
            otelgen_gen_traces_db(t, parent);
        else
            otelgen_gen_traces_internal(t, parent);
    }
    for (size_t i = t->trace_first; i < t->n && !g->failed; i++)
        otelgen_gen_traces_extras(t, t->spans[i]);
}

static Opentelemetry__Proto__Trace__V1__ScopeSpans *otelgen_gen_traces_scope(struct otelgen_gen_traces *t,
                                                                            unsigned svc, unsigned scope)
{
    struct otelgen_gen *g = t->g;
    size_t n = 0, k = 0;

    for (size_t i = 0; i < t->n; i++)
        n += t->meta[i].svc == svc && t->meta[i].scope == scope;
    if (n == 0)
        return NULL;                    /* no empty ScopeSpans envelopes */
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss =
        otelgen_gen_new(g, &opentelemetry__proto__trace__v1__scope_spans__descriptor);
    Opentelemetry__Proto__Trace__V1__Span **spans = otelgen_gen_alloc(g, n * sizeof *spans);
    if (ss == NULL || spans == NULL)
        return NULL;
    for (size_t i = 0; i < t->n; i++)
        if (t->meta[i].svc == svc && t->meta[i].scope == scope)
            spans[k++] = t->spans[i];
    ss->scope = otelgen_gen_scope(g, otelgen_gen_services[svc].scopes[scope][0],
                                  otelgen_gen_services[svc].scopes[scope][1]);
    ss->n_spans = n;
    ss->spans = spans;
    return ss;
}

static Opentelemetry__Proto__Trace__V1__ResourceSpans *otelgen_gen_traces_resource(struct otelgen_gen_traces *t,
                                                                                  unsigned svc)
{
    struct otelgen_gen *g = t->g;
    Opentelemetry__Proto__Trace__V1__ScopeSpans *scopes[2];
    size_t n = 0;

    for (unsigned sc = 0; sc < 2; sc++) {
        scopes[n] = otelgen_gen_traces_scope(t, svc, sc);
        n += scopes[n] != NULL;
    }
    if (n == 0)
        return NULL;
    Opentelemetry__Proto__Trace__V1__ResourceSpans *rs =
        otelgen_gen_new(g, &opentelemetry__proto__trace__v1__resource_spans__descriptor);
    Opentelemetry__Proto__Trace__V1__ScopeSpans **arr = otelgen_gen_alloc(g, n * sizeof *arr);
    if (rs == NULL || arr == NULL)
        return NULL;
    memcpy(arr, scopes, n * sizeof *arr);
    rs->resource = otelgen_gen_resource(g, svc);
    rs->n_scope_spans = n;
    rs->scope_spans = arr;
    rs->schema_url = (char *)"https://opentelemetry.io/schemas/1.26.0";
    return rs;
}

static void otelgen_gen_traces_request(struct otelgen_gen_traces *t)
{
    struct otelgen_gen *g = t->g;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req =
        otelgen_gen_new(g, &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor);
    Opentelemetry__Proto__Trace__V1__ResourceSpans **rs = otelgen_gen_alloc(g, OTELGEN_GEN_SERVICES * sizeof *rs);

    if (req == NULL || rs == NULL)
        return;
    for (unsigned svc = 0; svc < OTELGEN_GEN_SERVICES; svc++) {
        rs[req->n_resource_spans] = otelgen_gen_traces_resource(t, svc);
        req->n_resource_spans += rs[req->n_resource_spans] != NULL;
    }
    req->resource_spans = rs;
    g->root = &req->base;
}

void otelgen_gen_traces_build(struct otelgen_gen *g, size_t spans)
{
    size_t traces = g->ids.n_trace;
    struct otelgen_gen_traces t = {
        .g = g,
        .spans = otelgen_gen_alloc(g, spans * sizeof *t.spans),
        .meta = otelgen_gen_alloc(g, spans * sizeof *t.meta),
        .roots = otelgen_gen_alloc(g, traces * sizeof *t.roots),
        .t0 = g->now_ns - 60 * 1000 * OTELGEN_GEN_TRACES_MS,
    };

    if (g->failed)
        return;
    for (t.trace = 0; t.trace < traces && !g->failed; t.trace++) {
        otelgen_gen_traces_one(&t, spans / traces + (t.trace < spans % traces));
        t.t0 += (50 + otelgen_gen_rand(g, 450)) * OTELGEN_GEN_TRACES_MS / 10;
    }
    if (!g->failed)
        otelgen_gen_traces_request(&t);
}
