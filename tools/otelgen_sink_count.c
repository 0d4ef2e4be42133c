/* otelgen_sink_count.c: a worker's counters (per signal, per tenant, per answer, per fault) and their merge
 * into one report. With one worker its id sets are the answer; with several, an id may have reached two of
 * them (a retry on another connection), so the report builds the union of their sets to count it once. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otelgen_sink_count.h"
#include "otelgen_sink_walk.h"

#define OTELGEN_SINK_RUN_BITS 24            /* otelgen send: the run, then a 40-bit item number */
#define OTELGEN_SINK_ITEM_MASK ((1ULL << (64 - OTELGEN_SINK_RUN_BITS)) - 1)
#define OTELGEN_SINK_RUNS_SLOTS 8192        /* runs told apart per signal; twice the most kept */
#define OTELGEN_SINK_RUNS_MAX 4096
#define OTELGEN_SINK_RUNS_LISTED 16         /* the largest runs, in the JSON */
#define OTELGEN_SINK_MERGE_BATCH 4096

void otelgen_sink_count_init(struct otelgen_sink_count *c, size_t max_ids)
{
    memset(c, 0, sizeof *c);
    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        otelgen_sink_idset_init(&c->ids[s], max_ids);
}

void otelgen_sink_count_dispose(struct otelgen_sink_count *c)
{
    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        otelgen_sink_idset_clear(&c->ids[s]);
    free(c->idbuf);
    c->idbuf = NULL;
    c->idcap = 0;
}

void otelgen_sink_count_reset(struct otelgen_sink_count *c)
{
    size_t max_ids = c->ids[0].max;

    otelgen_sink_count_dispose(c);
    otelgen_sink_count_init(c, max_ids);
}

/* The counters of <name>: found by a linear search, as a test run has a handful of tenants. */
static struct otelgen_sink_tenant_counts *otelgen_sink_count_tenant(struct otelgen_sink_count *c, const char *name)
{
    for (size_t i = 0; i < c->n_tenants; i++)
        if (strcmp(c->tenants[i].name, name) == 0)
            return &c->tenants[i];
    if (c->n_tenants == OTELGEN_SINK_MAX_TENANTS || strlen(name) >= sizeof c->tenants[0].name)
        return &c->other_tenants;
    struct otelgen_sink_tenant_counts *t = &c->tenants[c->n_tenants++];
    snprintf(t->name, sizeof t->name, "%s", name);
    return t;
}

/* Makes room for <n> ids of one request. Returns 0, or -1 when out of memory. */
static int otelgen_sink_count_reserve(struct otelgen_sink_count *c, size_t n)
{
    if (n <= c->idcap)
        return 0;
    size_t cap = n > 2 * c->idcap ? n : 2 * c->idcap;
    uint64_t *v = realloc(c->idbuf, cap * sizeof *v);
    if (v == NULL)
        return -1;
    c->idbuf = v;
    c->idcap = cap;
    return 0;
}

/* Wall clock in microseconds: the report's times are compared with other processes' clocks. */
static int64_t otelgen_sink_count_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void otelgen_sink_count_add(struct otelgen_sink_count *c, const struct otlp_payload *p)
{
    struct otelgen_sink_signal_counts *sc = &c->signals[p->signal];
    struct otelgen_sink_tenant_counts *t = otelgen_sink_count_tenant(c, p->tenant != NULL ? p->tenant : "");
    struct otelgen_sink_idset_added added = { 0 };

    sc->requests++;
    sc->items += p->items;
    t->requests[p->signal]++;
    t->items[p->signal] += p->items;
    if (p->items > SIZE_MAX / sizeof(uint64_t) || otelgen_sink_count_reserve(c, (size_t)p->items) != 0) {
        sc->ids += p->items;
        sc->untracked += p->items;
        return;
    }
    size_t n = otelgen_sink_walk(p->signal, p->data, p->len, c->idbuf, (size_t)p->items);
    otelgen_sink_idset_add(&c->ids[p->signal], c->idbuf, n, &added);
    sc->ids += n;
    sc->fresh += added.fresh;
    if (added.fresh > 0)
        sc->last_fresh_us = otelgen_sink_count_now_us();
    sc->duplicates += added.duplicates;
    sc->untracked += added.untracked;
}

/* ---- the report ---- */

struct otelgen_sink_run {
    uint32_t key;                           /* run + 1; 0 = free slot */
    uint64_t unique, max_item;
};

struct otelgen_sink_runs {
    struct otelgen_sink_run slots[OTELGEN_SINK_RUNS_SLOTS];
    size_t n;
    uint64_t overflow;                      /* unique ids of runs past OTELGEN_SINK_RUNS_MAX */
};

struct otelgen_sink_report {
    unsigned nworkers;
    struct otelgen_sink_signal_counts signals[OG_SIGNAL_COUNT];
    struct otelgen_sink_idset merged[OG_SIGNAL_COUNT];     /* the union, with several workers */
    uint64_t unique[OG_SIGNAL_COUNT];
    struct otelgen_sink_runs runs[OG_SIGNAL_COUNT];
    struct otelgen_sink_tenant_counts *tenants;
    size_t n_tenants;
    struct otelgen_sink_tenant_counts other_tenants;
    uint64_t answers[OTELGEN_SINK_ANSWERS];
    uint64_t fault_hits[OTELGEN_SINK_FAULT_MODES];
};

int otelgen_sink_report_create(struct otelgen_sink_report **out, unsigned nworkers)
{
    struct otelgen_sink_report *r = calloc(1, sizeof *r);

    *out = r;
    if (r == NULL)
        return -1;
    r->nworkers = nworkers;
    r->tenants = calloc((size_t)nworkers * OTELGEN_SINK_MAX_TENANTS, sizeof *r->tenants);
    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        otelgen_sink_idset_init(&r->merged[s], SIZE_MAX);
    if (r->tenants == NULL) {
        otelgen_sink_report_destroy(r);
        *out = NULL;
        return -1;
    }
    return 0;
}

void otelgen_sink_report_destroy(struct otelgen_sink_report *r)
{
    if (r == NULL)
        return;
    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        otelgen_sink_idset_clear(&r->merged[s]);
    free(r->tenants);
    free(r);
}

static void otelgen_sink_report_run(uint64_t id, void *arg)
{
    struct otelgen_sink_runs *runs = arg;
    uint32_t key = (uint32_t)(id >> (64 - OTELGEN_SINK_RUN_BITS)) + 1;
    size_t i = (size_t)((key * 0x9E3779B9u) % OTELGEN_SINK_RUNS_SLOTS);

    while (runs->slots[i].key != key && runs->slots[i].key != 0)
        i = (i + 1) % OTELGEN_SINK_RUNS_SLOTS;
    if (runs->slots[i].key == 0) {
        if (runs->n == OTELGEN_SINK_RUNS_MAX) {
            runs->overflow++;
            return;
        }
        runs->slots[i].key = key;
        runs->n++;
    }
    runs->slots[i].unique++;
    if ((id & OTELGEN_SINK_ITEM_MASK) > runs->slots[i].max_item)
        runs->slots[i].max_item = id & OTELGEN_SINK_ITEM_MASK;
}

/* Feeds a worker's ids into the union in batches, counting those another worker had as duplicates. */
struct otelgen_sink_report_merge {
    struct otelgen_sink_idset *into;
    uint64_t batch[OTELGEN_SINK_MERGE_BATCH];
    size_t n;
    struct otelgen_sink_idset_added added;
};

static void otelgen_sink_report_merge_flush(struct otelgen_sink_report_merge *m)
{
    otelgen_sink_idset_add(m->into, m->batch, m->n, &m->added);
    m->n = 0;
}

static void otelgen_sink_report_merge_one(uint64_t id, void *arg)
{
    struct otelgen_sink_report_merge *m = arg;

    m->batch[m->n++] = id;
    if (m->n == OTELGEN_SINK_MERGE_BATCH)
        otelgen_sink_report_merge_flush(m);
}

static void otelgen_sink_report_add_ids(struct otelgen_sink_report *r, int s, const struct otelgen_sink_idset *ids)
{
    if (r->nworkers == 1) {
        r->unique[s] = ids->n;
        otelgen_sink_idset_each(ids, otelgen_sink_report_run, &r->runs[s]);
        return;
    }
    struct otelgen_sink_report_merge *m = calloc(1, sizeof *m);
    if (m == NULL) {
        r->signals[s].untracked += ids->n;
        return;
    }
    m->into = &r->merged[s];
    otelgen_sink_idset_each(ids, otelgen_sink_report_merge_one, m);
    otelgen_sink_report_merge_flush(m);
    r->signals[s].duplicates += m->added.duplicates;
    r->signals[s].untracked += m->added.untracked;
    free(m);
}

static void otelgen_sink_report_add_tenant(struct otelgen_sink_report *r, const struct otelgen_sink_tenant_counts *t,
                                           struct otelgen_sink_tenant_counts *into)
{
    for (size_t i = 0; into == NULL && i < r->n_tenants; i++)
        if (strcmp(r->tenants[i].name, t->name) == 0)
            into = &r->tenants[i];
    if (into == NULL) {
        into = &r->tenants[r->n_tenants++];     /* room for every worker's every tenant */
        memcpy(into->name, t->name, sizeof into->name);
    }
    for (int s = 0; s < OG_SIGNAL_COUNT; s++) {
        into->requests[s] += t->requests[s];
        into->items[s] += t->items[s];
    }
}

void otelgen_sink_report_add(struct otelgen_sink_report *r, const struct otelgen_sink_count *c)
{
    for (int s = 0; s < OG_SIGNAL_COUNT; s++) {
        const struct otelgen_sink_signal_counts *from = &c->signals[s];
        struct otelgen_sink_signal_counts *to = &r->signals[s];
        to->requests += from->requests;
        to->items += from->items;
        to->ids += from->ids;
        to->fresh += from->fresh;
        to->duplicates += from->duplicates;
        to->untracked += from->untracked;
        if (from->last_fresh_us > to->last_fresh_us)
            to->last_fresh_us = from->last_fresh_us;
        otelgen_sink_report_add_ids(r, s, &c->ids[s]);
    }
    for (size_t i = 0; i < c->n_tenants; i++)
        otelgen_sink_report_add_tenant(r, &c->tenants[i], NULL);
    otelgen_sink_report_add_tenant(r, &c->other_tenants, &r->other_tenants);
    for (int a = 0; a < OTELGEN_SINK_ANSWERS; a++)
        r->answers[a] += c->answers[a];
    for (int m = 0; m < OTELGEN_SINK_FAULT_MODES; m++)
        r->fault_hits[m] += c->fault_hits[m];
}

/* A tenant as a JSON key: jansson wants UTF-8, a header may hold any byte. Returns <name>, or <buf> holding
 * it with every byte that is not printable ASCII as '?'. */
static const char *otelgen_sink_report_key(const char *name, char *buf, size_t len)
{
    json_t *j = json_string(name);
    size_t i;

    if (j != NULL) {
        json_decref(j);
        return name;
    }
    for (i = 0; name[i] != '\0' && i + 1 < len; i++)
        buf[i] = (unsigned char)name[i] >= 0x20 && (unsigned char)name[i] < 0x7f ? name[i] : '?';
    buf[i] = '\0';
    return buf;
}

static int otelgen_sink_report_run_cmp(const void *a, const void *b)
{
    const struct otelgen_sink_run *x = a, *y = b;

    if (x->unique != y->unique)
        return x->unique > y->unique ? -1 : 1;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* The largest runs, most items first; the others add up in other_runs_unique. */
static json_t *otelgen_sink_report_runs_json(struct otelgen_sink_runs *runs, json_t *signal)
{
    json_t *list = json_array();
    uint64_t other = runs->overflow;
    size_t k = 0;
    char hex[16];

    /* Compacting the slots in place ends the map's life: the report is printed once. */
    for (size_t i = 0; i < OTELGEN_SINK_RUNS_SLOTS; i++)
        if (runs->slots[i].key != 0)
            runs->slots[k++] = runs->slots[i];
    qsort(runs->slots, k, sizeof runs->slots[0], otelgen_sink_report_run_cmp);
    for (size_t i = 0; list != NULL && i < k; i++) {
        if (i >= OTELGEN_SINK_RUNS_LISTED) {
            other += runs->slots[i].unique;
            continue;
        }
        json_t *o = json_object();
        snprintf(hex, sizeof hex, "%06x", (unsigned)(runs->slots[i].key - 1));
        json_object_set_new(o, "run", json_string(hex));
        json_object_set_new(o, "unique", json_integer((json_int_t)runs->slots[i].unique));
        json_object_set_new(o, "max_item", json_integer((json_int_t)runs->slots[i].max_item));
        json_array_append_new(list, o);
    }
    json_object_set_new(signal, "runs", list);
    json_object_set_new(signal, "other_runs_unique", json_integer((json_int_t)other));
    return signal;
}

static json_t *otelgen_sink_report_signal_json(struct otelgen_sink_report *r, int s)
{
    const struct otelgen_sink_signal_counts *c = &r->signals[s];
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "requests", json_integer((json_int_t)c->requests));
    json_object_set_new(o, "items", json_integer((json_int_t)c->items));
    json_object_set_new(o, "unique", json_integer((json_int_t)r->unique[s]));
    json_object_set_new(o, "duplicates", json_integer((json_int_t)c->duplicates));
    json_object_set_new(o, "without_id", json_integer((json_int_t)(c->items - c->ids)));
    json_object_set_new(o, "untracked", json_integer((json_int_t)c->untracked));
    json_object_set_new(o, "last_unique_us", json_integer((json_int_t)c->last_fresh_us));
    return otelgen_sink_report_runs_json(&r->runs[s], o);
}

static json_t *otelgen_sink_report_tenant_json(const struct otelgen_sink_tenant_counts *t)
{
    json_t *o = json_object();

    for (int s = 0; o != NULL && s < OG_SIGNAL_COUNT; s++) {
        json_t *c = json_object();
        json_object_set_new(c, "requests", json_integer((json_int_t)t->requests[s]));
        json_object_set_new(c, "items", json_integer((json_int_t)t->items[s]));
        json_object_set_new(o, component_signal_name((enum og_signal)s), c);
    }
    return o;
}

static json_t *otelgen_sink_report_counters_json(const char *const *names, const uint64_t *v, size_t n)
{
    json_t *o = json_object();

    for (size_t i = 0; o != NULL && i < n; i++)
        json_object_set_new(o, names[i], json_integer((json_int_t)v[i]));
    return o;
}

json_t *otelgen_sink_report_json(struct otelgen_sink_report *r, uint64_t held, double seconds)
{
    static const char *const answers[OTELGEN_SINK_ANSWERS] = {
        "ok", "refused", "unavailable", "rejected", "closed", "unanswered",
    };
    const char *modes[OTELGEN_SINK_FAULT_MODES];
    json_t *o = json_object(), *tenants = json_object();
    char key[HTTP_REQ_VALUE_MAX];

    for (int m = 0; m < OTELGEN_SINK_FAULT_MODES; m++)
        modes[m] = otelgen_sink_fault_mode_name((enum otelgen_sink_fault_mode)m);
    for (int s = 0; r->nworkers > 1 && s < OG_SIGNAL_COUNT; s++) {
        r->unique[s] = r->merged[s].n;
        otelgen_sink_idset_each(&r->merged[s], otelgen_sink_report_run, &r->runs[s]);
    }
    if (o == NULL || tenants == NULL) {
        json_decref(o);
        json_decref(tenants);
        return NULL;
    }
    json_object_set_new(o, "seconds", json_real(seconds));
    for (int s = 0; s < OG_SIGNAL_COUNT; s++)
        json_object_set_new(o, component_signal_name((enum og_signal)s), otelgen_sink_report_signal_json(r, s));
    for (size_t i = 0; i < r->n_tenants; i++)
        json_object_set_new(tenants, otelgen_sink_report_key(r->tenants[i].name, key, sizeof key),
                            otelgen_sink_report_tenant_json(&r->tenants[i]));
    json_object_set_new(o, "tenants", tenants);
    json_object_set_new(o, "other_tenants", otelgen_sink_report_tenant_json(&r->other_tenants));
    json_object_set_new(o, "answers", otelgen_sink_report_counters_json(answers, r->answers, OTELGEN_SINK_ANSWERS));
    json_object_set_new(o, "held", json_integer((json_int_t)held));
    json_object_set_new(o, "faults", otelgen_sink_report_counters_json(modes, r->fault_hits, OTELGEN_SINK_FAULT_MODES));
    return o;
}
