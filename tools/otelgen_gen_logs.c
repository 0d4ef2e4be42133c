/* otelgen_gen_logs.c: generated logs. The shop's services log through two loggers each, mostly INFO with
 * some DEBUG, WARN and ERROR lines; every record is correlated with a trace, and its span id is the
 * record's unique id. */
#include "autoconf.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"

#include "otelgen_gen_int.h"

#define OTELGEN_GEN_LOGS_MS 1000000ULL

struct otelgen_gen_logs {
    struct otelgen_gen *g;
    size_t record;                  /* next record = its span id index */
    size_t total;
};

static const char *otelgen_gen_logs_body(struct otelgen_gen *g, Opentelemetry__Proto__Logs__V1__SeverityNumber sev,
                                         unsigned svc)
{
    unsigned order = 40000 + otelgen_gen_rand(g, 9999), pick = otelgen_gen_rand(g, 2);

    switch (sev) {
    case OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR:
        return pick ? otelgen_gen_strf(g, "Failed to reserve inventory for order %u: timeout after 5000 ms", order)
                    : otelgen_gen_strf(g, "Payment declined for order %u: card expired", order);
    case OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN:
        return pick ? otelgen_gen_strf(g, "Slow query on orders took %u ms (threshold 250 ms)",
                                       250 + otelgen_gen_rand(g, 2000))
                    : otelgen_gen_strf(g, "Retrying call to payment-service (attempt %u of 3)",
                                       1 + otelgen_gen_rand(g, 3));
    case OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_DEBUG:
        return pick ? otelgen_gen_strf(g, "Cache lookup for key cart:%u took %u us", order, otelgen_gen_rand(g, 900))
                    : otelgen_gen_strf(g, "Connection pool stats: active=%u idle=%u waiting=0",
                                       otelgen_gen_rand(g, 20), otelgen_gen_rand(g, 10));
    default:
        if (pick)
            return otelgen_gen_strf(g, "%s %s completed with 200 in %u ms", otelgen_gen_services[svc].ops[0][0],
                                    otelgen_gen_services[svc].ops[0][1], 3 + otelgen_gen_rand(g, 300));
        return otelgen_gen_strf(g, "Order %u placed by user u-%05u, total %u.%02u EUR", order,
                                1 + otelgen_gen_rand(g, 5000), otelgen_gen_rand(g, 500), otelgen_gen_rand(g, 100));
    }
}

static Opentelemetry__Proto__Logs__V1__SeverityNumber otelgen_gen_logs_severity(struct otelgen_gen *g,
                                                                                const char **text)
{
    unsigned u = otelgen_gen_rand(g, 100);

    if (u < 8) {
        *text = "ERROR";
        return OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR;
    }
    if (u < 20) {
        *text = "WARN";
        return OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_WARN;
    }
    if (u < 30) {
        *text = "DEBUG";
        return OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_DEBUG;
    }
    *text = "INFO";
    return OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_INFO;
}

static Opentelemetry__Proto__Logs__V1__LogRecord *otelgen_gen_logs_record(struct otelgen_gen_logs *l, unsigned svc)
{
    struct otelgen_gen *g = l->g;
    Opentelemetry__Proto__Logs__V1__LogRecord *r =
        otelgen_gen_new(g, &opentelemetry__proto__logs__v1__log_record__descriptor);
    Opentelemetry__Proto__Common__V1__AnyValue *body =
        otelgen_gen_new(g, &opentelemetry__proto__common__v1__any_value__descriptor);
    struct otelgen_gen_attrs a = { .n = 0 };
    const char *text;

    if (r == NULL || body == NULL)
        return NULL;
    r->time_unix_nano = g->now_ns - (l->total - l->record) * OTELGEN_GEN_LOGS_MS;
    r->observed_time_unix_nano = r->time_unix_nano + (1 + otelgen_gen_rand(g, 5)) * OTELGEN_GEN_LOGS_MS;
    r->severity_number = otelgen_gen_logs_severity(g, &text);
    r->severity_text = (char *)text;
    body->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
    body->string_value = (char *)otelgen_gen_logs_body(g, r->severity_number, svc);
    r->body = body;
    r->trace_id = (ProtobufCBinaryData){ 16, g->ids.trace[l->record / 10] };
    r->span_id = (ProtobufCBinaryData){ 8, g->ids.span[l->record] };
    r->flags = 1;                   /* sampled */
    otelgen_gen_attr_str(g, &a, "thread.name", otelgen_gen_strf(g, "http-nio-8080-exec-%u", 1 + otelgen_gen_rand(g, 10)));
    otelgen_gen_attr_str(g, &a, "code.function.name", otelgen_gen_rand(g, 2) ? "handle" : "process");
    otelgen_gen_attr_str(g, &a, "http.route", otelgen_gen_services[svc].ops[otelgen_gen_rand(g, 4)][1]);
    otelgen_gen_attr_str(g, &a, "user.id", otelgen_gen_strf(g, "u-%05u", 1 + otelgen_gen_rand(g, 5000)));
    if (r->severity_number == OPENTELEMETRY__PROTO__LOGS__V1__SEVERITY_NUMBER__SEVERITY_NUMBER_ERROR) {
        otelgen_gen_attr_str(g, &a, "exception.type", "java.util.concurrent.TimeoutException");
        otelgen_gen_attr_str(g, &a, "exception.message", "timeout after 5000 ms");
    }
    otelgen_gen_attrs_store_item(g, &a, &r->n_attributes, &r->attributes);
    l->record++;
    return r;
}

static Opentelemetry__Proto__Logs__V1__ScopeLogs *otelgen_gen_logs_scope(struct otelgen_gen_logs *l, unsigned svc,
                                                                        const char *logger, size_t n)
{
    struct otelgen_gen *g = l->g;
    Opentelemetry__Proto__Logs__V1__ScopeLogs *sl =
        otelgen_gen_new(g, &opentelemetry__proto__logs__v1__scope_logs__descriptor);
    Opentelemetry__Proto__Logs__V1__LogRecord **records = otelgen_gen_alloc(g, n * sizeof *records);

    if (sl == NULL || records == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        records[i] = otelgen_gen_logs_record(l, svc);
    sl->scope = otelgen_gen_scope(g, otelgen_gen_strf(g, "com.shop.%.5s.%s", otelgen_gen_services[svc].name, logger),
                                  NULL);
    sl->n_log_records = n;
    sl->log_records = records;
    return sl;
}

/* <n> records of service <svc>, split between its two loggers. */
static Opentelemetry__Proto__Logs__V1__ResourceLogs *otelgen_gen_logs_resource(struct otelgen_gen_logs *l, unsigned svc,
                                                                              size_t n)
{
    struct otelgen_gen *g = l->g;
    Opentelemetry__Proto__Logs__V1__ResourceLogs *rl =
        otelgen_gen_new(g, &opentelemetry__proto__logs__v1__resource_logs__descriptor);
    Opentelemetry__Proto__Logs__V1__ScopeLogs **scopes = otelgen_gen_alloc(g, 2 * sizeof *scopes);

    if (rl == NULL || scopes == NULL)
        return NULL;
    scopes[rl->n_scope_logs++] = otelgen_gen_logs_scope(l, svc, "web", (n + 1) / 2);
    if (n / 2 > 0)
        scopes[rl->n_scope_logs++] = otelgen_gen_logs_scope(l, svc, "store", n / 2);
    rl->resource = otelgen_gen_resource(g, svc);
    rl->scope_logs = scopes;
    rl->schema_url = (char *)"https://opentelemetry.io/schemas/1.26.0";
    return rl;
}

void otelgen_gen_logs_build(struct otelgen_gen *g, size_t records)
{
    struct otelgen_gen_logs l = { .g = g, .total = records };
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req =
        otelgen_gen_new(g, &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor);
    Opentelemetry__Proto__Logs__V1__ResourceLogs **rls = otelgen_gen_alloc(g, OTELGEN_GEN_SERVICES * sizeof *rls);

    if (req == NULL || rls == NULL)
        return;
    for (unsigned svc = 0; svc < OTELGEN_GEN_SERVICES && !g->failed; svc++) {
        size_t n = records / OTELGEN_GEN_SERVICES + (svc < records % OTELGEN_GEN_SERVICES);
        if (n > 0)
            rls[req->n_resource_logs++] = otelgen_gen_logs_resource(&l, svc, n);
    }
    req->resource_logs = rls;
    g->root = &req->base;
}
