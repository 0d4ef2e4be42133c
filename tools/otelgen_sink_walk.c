/* otelgen_sink_walk.c: the id walk. Every level of the request is a loop over its fields that descends into
 * the one repeated field leading to the items and skips everything else by its length, so attributes,
 * names and bodies are never looked at. It takes the first id field of an item, where encoders put the only
 * one; protobuf's "last one wins" matters only to bytes no encoder writes. */
#include "autoconf.h"

#include <stdbool.h>

#include "otelgen_sink_walk.h"

/* Field numbers on the way to the ids (opentelemetry-proto v1). */
enum {
    OTELGEN_SINK_WALK_RESOURCES = 1,        /* Export*ServiceRequest.resource_{spans,metrics,logs} */
    OTELGEN_SINK_WALK_SCOPES = 2,           /* Resource*.scope_* */
    OTELGEN_SINK_WALK_ITEMS = 2,            /* ScopeSpans.spans, ScopeMetrics.metrics, ScopeLogs.log_records */
    OTELGEN_SINK_WALK_SPAN_ID = 2,          /* Span.span_id */
    OTELGEN_SINK_WALK_LOG_SPAN_ID = 10,     /* LogRecord.span_id */
    OTELGEN_SINK_WALK_GAUGE = 5,            /* Metric.data oneof ... */
    OTELGEN_SINK_WALK_SUM = 7,
    OTELGEN_SINK_WALK_HISTOGRAM = 9,
    OTELGEN_SINK_WALK_EXP_HISTOGRAM = 10,
    OTELGEN_SINK_WALK_SUMMARY = 11,         /* ... whose points have no exemplars */
    OTELGEN_SINK_WALK_POINTS = 1,           /* {Gauge,Sum,Histogram,...}.data_points */
    OTELGEN_SINK_WALK_NUMBER_EXEMPLARS = 5, /* NumberDataPoint.exemplars */
    OTELGEN_SINK_WALK_HIST_EXEMPLARS = 8,   /* HistogramDataPoint.exemplars */
    OTELGEN_SINK_WALK_EXP_EXEMPLARS = 11,   /* ExponentialHistogramDataPoint.exemplars */
    OTELGEN_SINK_WALK_EXEMPLAR_SPAN_ID = 4, /* Exemplar.span_id */
};

struct otelgen_sink_walk_ids {
    uint64_t *v;
    size_t n, cap;
};

struct otelgen_sink_walk_field {
    uint32_t number;
    unsigned type;
    const uint8_t *data;                    /* wire type 2: the field's bytes */
    size_t len;
};

typedef void (*otelgen_sink_walk_fn)(const uint8_t *p, const uint8_t *end, struct otelgen_sink_walk_ids *ids);

static bool otelgen_sink_walk_varint_slow(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t x = 0;

    for (unsigned shift = 0; *p < end && shift < 70; shift += 7) {
        uint8_t b = *(*p)++;
        x |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 63);
        if (b < 0x80) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* Tags and most lengths are one byte: that case stays inline. */
static inline bool otelgen_sink_walk_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    if (*p < end && **p < 0x80) {
        *v = *(*p)++;
        return true;
    }
    return otelgen_sink_walk_varint_slow(p, end, v);
}

/* Reads the field at *p and moves past it. Returns false at the end of the message or on bytes that are not
 * protobuf (a group, a length past the end). */
static inline bool otelgen_sink_walk_next(const uint8_t **p, const uint8_t *end, struct otelgen_sink_walk_field *f)
{
    uint64_t tag, v;

    if (!otelgen_sink_walk_varint(p, end, &tag))
        return false;
    f->number = (uint32_t)(tag >> 3);
    f->type = (unsigned)(tag & 7);
    switch (f->type) {
    case 0:
        return otelgen_sink_walk_varint(p, end, &v);
    case 1:
    case 5: {
        size_t n = f->type == 1 ? 8 : 4;
        if ((size_t)(end - *p) < n)
            return false;
        *p += n;
        return true;
    }
    case 2:
        if (!otelgen_sink_walk_varint(p, end, &v) || v > (uint64_t)(end - *p))
            return false;
        f->data = *p;
        f->len = (size_t)v;
        *p += v;
        return true;
    default:
        return false;
    }
}

/* Calls fn on the bytes of every occurrence of message field <number> in [p, end). */
static void otelgen_sink_walk_each(const uint8_t *p, const uint8_t *end, uint32_t number, otelgen_sink_walk_fn fn,
                                   struct otelgen_sink_walk_ids *ids)
{
    struct otelgen_sink_walk_field f;

    while (otelgen_sink_walk_next(&p, end, &f))
        if (f.number == number && f.type == 2)
            fn(f.data, f.data + f.len, ids);
}

/* Appends the first 8-byte bytes field <number> of the message in [p, end). Returns whether there was one. */
static bool otelgen_sink_walk_id(const uint8_t *p, const uint8_t *end, uint32_t number,
                                 struct otelgen_sink_walk_ids *ids)
{
    struct otelgen_sink_walk_field f;

    while (otelgen_sink_walk_next(&p, end, &f)) {
        if (f.number != number || f.type != 2 || f.len != 8)
            continue;
        uint64_t id = 0;
        for (size_t i = 0; i < 8; i++)
            id = id << 8 | f.data[i];
        if (ids->n < ids->cap)
            ids->v[ids->n++] = id;
        return true;
    }
    return false;
}

static void otelgen_sink_walk_span(const uint8_t *p, const uint8_t *end, struct otelgen_sink_walk_ids *ids)
{
    otelgen_sink_walk_id(p, end, OTELGEN_SINK_WALK_SPAN_ID, ids);
}

static void otelgen_sink_walk_log(const uint8_t *p, const uint8_t *end, struct otelgen_sink_walk_ids *ids)
{
    otelgen_sink_walk_id(p, end, OTELGEN_SINK_WALK_LOG_SPAN_ID, ids);
}

/* A data point's id: the span_id of its first exemplar that has one. */
static void otelgen_sink_walk_point(const uint8_t *p, const uint8_t *end, uint32_t exemplars,
                                    struct otelgen_sink_walk_ids *ids)
{
    struct otelgen_sink_walk_field f;

    while (otelgen_sink_walk_next(&p, end, &f))
        if (f.number == exemplars && f.type == 2 &&
            otelgen_sink_walk_id(f.data, f.data + f.len, OTELGEN_SINK_WALK_EXEMPLAR_SPAN_ID, ids))
            return;
}

static void otelgen_sink_walk_number_point(const uint8_t *p, const uint8_t *end, struct otelgen_sink_walk_ids *ids)
{
    otelgen_sink_walk_point(p, end, OTELGEN_SINK_WALK_NUMBER_EXEMPLARS, ids);
}

static void otelgen_sink_walk_hist_point(const uint8_t *p, const uint8_t *end, struct otelgen_sink_walk_ids *ids)
{
    otelgen_sink_walk_point(p, end, OTELGEN_SINK_WALK_HIST_EXEMPLARS, ids);
}

static void otelgen_sink_walk_exp_point(const uint8_t *p, const uint8_t *end, struct otelgen_sink_walk_ids *ids)
{
    otelgen_sink_walk_point(p, end, OTELGEN_SINK_WALK_EXP_EXEMPLARS, ids);
}

/* Metric.data is a oneof: a later member replaces an earlier one, so its ids replace theirs, as the intake's
 * scan counts only the last member's points. */
static void otelgen_sink_walk_metric(const uint8_t *p, const uint8_t *end, struct otelgen_sink_walk_ids *ids)
{
    struct otelgen_sink_walk_field f;
    size_t start = ids->n;

    while (otelgen_sink_walk_next(&p, end, &f)) {
        otelgen_sink_walk_fn point = NULL;
        if (f.type != 2)
            continue;
        if (f.number == OTELGEN_SINK_WALK_GAUGE || f.number == OTELGEN_SINK_WALK_SUM)
            point = otelgen_sink_walk_number_point;
        else if (f.number == OTELGEN_SINK_WALK_HISTOGRAM)
            point = otelgen_sink_walk_hist_point;
        else if (f.number == OTELGEN_SINK_WALK_EXP_HISTOGRAM)
            point = otelgen_sink_walk_exp_point;
        else if (f.number != OTELGEN_SINK_WALK_SUMMARY)
            continue;
        ids->n = start;
        if (point != NULL)
            otelgen_sink_walk_each(f.data, f.data + f.len, OTELGEN_SINK_WALK_POINTS, point, ids);
    }
}

/* The three container levels every signal shares: request -> resource -> scope -> item. */
static void otelgen_sink_walk_scope(const uint8_t *p, const uint8_t *end, struct otelgen_sink_walk_ids *ids,
                                    otelgen_sink_walk_fn item)
{
    struct otelgen_sink_walk_field f;

    while (otelgen_sink_walk_next(&p, end, &f))
        if (f.number == OTELGEN_SINK_WALK_ITEMS && f.type == 2)
            item(f.data, f.data + f.len, ids);
}

static void otelgen_sink_walk_resource(const uint8_t *p, const uint8_t *end, struct otelgen_sink_walk_ids *ids,
                                       otelgen_sink_walk_fn item)
{
    struct otelgen_sink_walk_field f;

    while (otelgen_sink_walk_next(&p, end, &f))
        if (f.number == OTELGEN_SINK_WALK_SCOPES && f.type == 2)
            otelgen_sink_walk_scope(f.data, f.data + f.len, ids, item);
}

size_t otelgen_sink_walk(enum og_signal signal, const uint8_t *buf, size_t len, uint64_t *ids, size_t cap)
{
    static const otelgen_sink_walk_fn items[OG_SIGNAL_COUNT] = {
        [OG_SIGNAL_TRACES] = otelgen_sink_walk_span,
        [OG_SIGNAL_METRICS] = otelgen_sink_walk_metric,
        [OG_SIGNAL_LOGS] = otelgen_sink_walk_log,
    };
    struct otelgen_sink_walk_ids out = { .v = ids, .cap = cap };
    struct otelgen_sink_walk_field f;
    const uint8_t *p = buf, *end = buf + len;

    if (len == 0 || (unsigned)signal >= OG_SIGNAL_COUNT)
        return 0;
    while (otelgen_sink_walk_next(&p, end, &f))
        if (f.number == OTELGEN_SINK_WALK_RESOURCES && f.type == 2)
            otelgen_sink_walk_resource(f.data, f.data + f.len, &out, items[signal]);
    return out.n;
}
