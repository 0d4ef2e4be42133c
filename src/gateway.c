/* gateway.c: start-up and shut-down order of the running parts. */
#include "autoconf.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "component.h"
#include "config.h"
#include "gateway.h"
#include "log.h"
#include "pipeline.h"
#include "reactor.h"

struct gateway {
    const struct config *cfg;
    struct reactor_pool *workers;
    atomic_bool draining;
    struct timespec started;
    char started_iso[40];
    struct component *components;       /* started ones, in start order */
    size_t ncomponents, capacity;
    struct pipeline *pipelines;         /* one per configured pipeline */
    size_t npipelines;
};

static struct component *gateway_find(struct gateway *gw, const struct config_component *cc)
{
    for (size_t i = 0; i < gw->ncomponents; i++)
        if (gw->components[i].conf == cc->conf)
            return &gw->components[i];
    return NULL;
}

struct component *gateway_component(struct gateway *gw, enum og_kind kind, const char *id)
{
    for (size_t i = 0; i < gw->ncomponents; i++)
        if (gw->components[i].type->kind == kind && strcmp(gw->components[i].id, id) == 0)
            return &gw->components[i];
    return NULL;
}

/* Links every pipeline to its started exporters; runs before the receivers
 * start, so a receiver finds its routes complete. */
static int gateway_build_pipelines(struct gateway *gw, char *err, size_t errlen)
{
    const struct config *cfg = gw->cfg;

    gw->pipelines = calloc(cfg->npipelines ? cfg->npipelines : 1, sizeof(*gw->pipelines));
    if (gw->pipelines == NULL)
        goto oom;
    for (size_t i = 0; i < cfg->npipelines; i++) {
        struct pipeline *p = &gw->pipelines[i];
        const struct config_pipeline *cp = &cfg->pipelines[i];
        p->conf = cp;
        p->exporters = calloc(cp->nexporters ? cp->nexporters : 1, sizeof(*p->exporters));
        p->processors = calloc(cp->nprocessors ? cp->nprocessors : 1, sizeof(*p->processors));
        gw->npipelines = i + 1;
        if (p->exporters == NULL || p->processors == NULL)
            goto oom;
        for (size_t j = 0; j < cp->nprocessors; j++)
            p->processors[p->nprocessors++] = gateway_find(gw, cp->processors[j]);
        p->exporters_batch = cp->nexporters > 0;
        for (size_t j = 0; j < cp->nexporters; j++) {
            struct component *ex = p->exporters[p->nexporters++] = gateway_find(gw, cp->exporters[j]);
            p->exporters_batch = p->exporters_batch && ex->type->batches != NULL && ex->type->batches(ex);
            p->exporters_store = p->exporters_store || (ex->type->stores != NULL && ex->type->stores(ex));
        }
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

struct pipeline *gateway_pipelines(struct gateway *gw, size_t *n)
{
    *n = gw->npipelines;
    return gw->pipelines;
}

size_t gateway_pipelines_of(struct gateway *gw, const char *receiver_id, int signal,
                            struct pipeline **out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < gw->npipelines; i++) {
        const struct config_pipeline *cp = gw->pipelines[i].conf;
        if ((int)cp->signal != signal)
            continue;
        for (size_t j = 0; j < cp->nreceivers; j++) {
            if (strcmp(cp->receivers[j]->id, receiver_id) != 0)
                continue;
            if (n < max)
                out[n] = &gw->pipelines[i];
            n++;
        }
    }
    return n;
}

void gateway_drain(struct gateway *gw)
{
    for (size_t i = gw->ncomponents; i-- > 0;)
        if (gw->components[i].type->drain != NULL)
            gw->components[i].type->drain(&gw->components[i]);
}

unsigned gateway_worker_count(const struct config *cfg)
{
    if (cfg->service.workers > 0)
        return (unsigned)cfg->service.workers;
    cpu_set_t set;

    /* The CPUs we may run on (taskset, cgroup cpusets), not all online ones. */
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static bool gateway_has(const struct gateway *gw, const struct config_component *cc)
{
    for (size_t i = 0; i < gw->ncomponents; i++)
        if (gw->components[i].conf == cc->conf)
            return true;
    return false;
}

/* Starts <cc> unless a pipeline before already did (a receiver may feed
 * several pipelines: it still is one instance). */
static int gateway_start_one(struct gateway *gw, const struct config_component *cc, char *err, size_t errlen)
{
    char why[384] = "";

    if (gateway_has(gw, cc))
        return 0;
    struct component *c = &gw->components[gw->ncomponents];
    c->type = cc->type;
    c->id = cc->id;
    c->conf = cc->conf;
    c->state = NULL;
    gw->ncomponents++;
    if (cc->type->start != NULL && cc->type->start(c, gw, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s %s: %s", component_kind_name(cc->type->kind), cc->id, why);
        return -1;
    }
    log_debug("otelgate", "started %s %s", component_kind_name(cc->type->kind), cc->id);
    return 0;
}

static int gateway_start_kind(struct gateway *gw, enum og_kind kind, char *err, size_t errlen)
{
    const struct config *cfg = gw->cfg;

    for (size_t p = 0; p < cfg->npipelines; p++) {
        const struct config_pipeline *pl = &cfg->pipelines[p];
        struct config_component **v = kind == OG_KIND_RECEIVER ? pl->receivers
                                    : kind == OG_KIND_PROCESSOR ? pl->processors : pl->exporters;
        size_t n = kind == OG_KIND_RECEIVER ? pl->nreceivers
                 : kind == OG_KIND_PROCESSOR ? pl->nprocessors : pl->nexporters;
        for (size_t i = 0; i < n; i++)
            if (gateway_start_one(gw, v[i], err, errlen) != 0)
                return -1;
    }
    return 0;
}

static void gateway_set_started(struct gateway *gw)
{
    struct timespec now;
    struct tm tm;

    clock_gettime(CLOCK_MONOTONIC, &gw->started);
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(gw->started_iso, sizeof(gw->started_iso), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(gw->started_iso + n, sizeof(gw->started_iso) - n, ".%03dZ", (int)(now.tv_nsec / 1000000));
}

int gateway_start(struct gateway **out, const struct config *cfg, char *err, size_t errlen)
{
    struct gateway *gw = calloc(1, sizeof(*gw));
    unsigned nworkers = gateway_worker_count(cfg);

    if (gw == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    gw->cfg = cfg;
    atomic_init(&gw->draining, false);
    gateway_set_started(gw);
    for (int k = 0; k < OG_KIND_COUNT; k++)
        gw->capacity += cfg->sections[k].n;
    gw->components = calloc(gw->capacity ? gw->capacity : 1, sizeof(*gw->components));
    if (gw->components == NULL) {
        free(gw);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (reactor_pool_create(&gw->workers, nworkers, err, errlen) != 0 ||
        reactor_pool_start(gw->workers, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < cfg->nextensions; i++)
        if (gateway_start_one(gw, cfg->extensions[i], err, errlen) != 0)
            goto fail;
    if (gateway_start_kind(gw, OG_KIND_EXPORTER, err, errlen) != 0 ||
        gateway_start_kind(gw, OG_KIND_PROCESSOR, err, errlen) != 0 ||
        gateway_build_pipelines(gw, err, errlen) != 0 ||
        gateway_start_kind(gw, OG_KIND_RECEIVER, err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < gw->ncomponents; i++)
        if (gw->components[i].type->started != NULL)
            gw->components[i].type->started(&gw->components[i]);
    log_info("otelgate", "started workers=%u extensions=%zu pipelines=%zu config=%s", nworkers, cfg->nextensions,
             cfg->npipelines, cfg->path);
    *out = gw;
    return 0;
fail:
    gateway_stop(gw);
    return -1;
}

void gateway_stop(struct gateway *gw)
{
    if (gw == NULL)
        return;
    for (size_t i = gw->ncomponents; i-- > 0;) {
        struct component *c = &gw->components[i];
        if (c->type->stop != NULL)
            c->type->stop(c);
    }
    reactor_pool_stop(gw->workers);
    reactor_pool_destroy(gw->workers);
    for (size_t i = 0; i < gw->npipelines; i++) {
        free(gw->pipelines[i].exporters);
        free(gw->pipelines[i].processors);
    }
    free(gw->pipelines);
    free(gw->components);
    free(gw);
}

void gateway_set_draining(struct gateway *gw)
{
    atomic_store(&gw->draining, true);
}

bool gateway_draining(const struct gateway *gw)
{
    return atomic_load(&gw->draining);
}

uint64_t gateway_inflight(const struct gateway *gw)
{
    uint64_t n = 0;

    for (size_t i = 0; i < gw->ncomponents; i++)
        if (gw->components[i].type->inflight != NULL)
            n += gw->components[i].type->inflight(&gw->components[i]);
    return n;
}

struct reactor_pool *gateway_workers(struct gateway *gw)
{
    return gw->workers;
}

const char *gateway_started_iso(const struct gateway *gw)
{
    return gw->started_iso;
}

double gateway_uptime(const struct gateway *gw)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - gw->started.tv_sec) + (double)(now.tv_nsec - gw->started.tv_nsec) / 1e9;
}
