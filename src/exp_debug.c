/* exp_debug.c: the Collector's debug exporter: a log line per request with
 * its counts (basic), plus the request as OTLP/JSON (normal: cut to one
 * line; detailed: whole). Sampled per worker thread and second, as the
 * Collector's sampling_initial / sampling_thereafter, so a busy gateway is
 * not slowed down by its own log. */
#include "autoconf.h"

#include <event2/buffer.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "component.h"
#include "gateway.h"
#include "log.h"
#include "reactor.h"
#include "otlp_json.h"

enum exp_debug_verbosity { EXP_DEBUG_BASIC, EXP_DEBUG_NORMAL, EXP_DEBUG_DETAILED };

/* normal verbosity cuts the JSON to keep the log line readable */
#define EXP_DEBUG_NORMAL_MAX 512

struct exp_debug_conf {
    int verbosity;
    int64_t sampling_initial;
    int64_t sampling_thereafter;
};

static const char *const exp_debug_verbosities[] = { "basic", "normal", "detailed", NULL };

static const struct og_config_key exp_debug_keys[] = {
    { "verbosity", KEY_ENUM, "basic", offsetof(struct exp_debug_conf, verbosity),
      .values = exp_debug_verbosities, .doc = "basic: counts; normal: plus a cut JSON line; detailed: all" },
    { "sampling_initial", KEY_INT, "2", offsetof(struct exp_debug_conf, sampling_initial), 0, 1000000000,
      .doc = "requests logged per second and worker before sampling" },
    { "sampling_thereafter", KEY_INT, "1", offsetof(struct exp_debug_conf, sampling_thereafter), 1, 1000000000,
      .doc = "after that, one request in this many is logged" },
    { NULL },
};

/* The sampling window of one exporter on one worker: each worker touches
 * only its own, so no lock and no shared cache line is written. */
struct exp_debug_window {
    time_t second;
    int64_t seen;
    char pad[48];
};

static int exp_debug_start(struct component *c, struct gateway *gw, char *err, size_t errlen)
{
    c->state = calloc(reactor_pool_size(gateway_workers(gw)), sizeof(struct exp_debug_window));
    if (c->state == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void exp_debug_stop(struct component *c)
{
    free(c->state);
    c->state = NULL;
}

static bool exp_debug_sampled(const struct exp_debug_conf *conf, struct exp_debug_window *w)
{
    time_t now = time(NULL);

    if (now != w->second) {
        w->second = now;
        w->seen = 0;
    }
    int64_t n = ++w->seen;
    if (n <= conf->sampling_initial)
        return true;
    return (n - conf->sampling_initial) % conf->sampling_thereafter == 0;
}

static const char *exp_debug_item_name(enum og_signal s)
{
    static const char *const names[] = { "spans", "data_points", "log_records" };
    return names[s];
}

static void exp_debug_dump(const struct component *c, const struct exp_debug_conf *conf,
                           const struct otlp_payload *p)
{
    char err[256];
    const uint8_t *data = otlp_payload_bytes(p);
    struct evbuffer *json = data != NULL ? evbuffer_new() : NULL;

    if (json == NULL)
        return;
    if (otlp_proto_to_json(p->signal, data, p->len, json, err, sizeof(err)) != 0) {
        log_warn(c->id, "cannot show the request as JSON: %s", err);
    } else if (conf->verbosity == EXP_DEBUG_NORMAL) {
        char cut[EXP_DEBUG_NORMAL_MAX + 1];
        size_t n = evbuffer_copyout(json, cut, EXP_DEBUG_NORMAL_MAX);
        cut[n] = '\0';
        log_info(c->id, "%s%s", cut, evbuffer_get_length(json) > EXP_DEBUG_NORMAL_MAX ? "..." : "");
    } else {
        /* detailed: the whole request, as one line of its own on stderr */
        evbuffer_add(json, "\n", 1);
        while (evbuffer_get_length(json) > 0 && evbuffer_write(json, STDERR_FILENO) > 0)
            ;
    }
    evbuffer_free(json);
}

static int exp_debug_consume(struct component *c, struct reactor *r, const struct otlp_payload *p, struct og_wait *w)
{
    const struct exp_debug_conf *conf = c->conf;

    (void)w;    /* answers at once: never holds the request */

    if (!exp_debug_sampled(conf, (struct exp_debug_window *)c->state + reactor_id(r)))
        return 0;
    log_info(c->id, "%s resources=%llu %s=%llu bytes=%zu", component_signal_name(p->signal),
             (unsigned long long)p->resources, exp_debug_item_name(p->signal), (unsigned long long)p->items, p->len);
    if (conf->verbosity != EXP_DEBUG_BASIC)
        exp_debug_dump(c, conf, p);
    return 0;
}

const struct og_component_type exp_debug_type = {
    .name = "debug",
    .kind = OG_KIND_EXPORTER,
    .keys = exp_debug_keys,
    .conf_size = sizeof(struct exp_debug_conf),
    .signals = OG_SIGNAL_ALL,
    .start = exp_debug_start,
    .consume = exp_debug_consume,
    .stop = exp_debug_stop,
};
