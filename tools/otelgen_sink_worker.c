/* otelgen_sink_worker.c: a sink worker. Its conn_serve handler decides on a fault first; a request no rule
 * hits goes to otelgate's own gRPC or HTTP front end, whose only pipeline ends in this file's "sink"
 * exporter, which counts it. A request a rule delays or blackholes stays with the handler (the codec keeps
 * its connection alive meanwhile) until a timer, a rule change or the end lets it go. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "conn.h"
#include "http_req.h"
#include "otelgen_signal.h"
#include "otelgen_sink_count.h"
#include "otelgen_sink_worker.h"
#include "pipeline.h"
#include "recv_otlp.h"

#define OTELGEN_SINK_MAX_MESSAGE (64u << 20)        /* a gateway's batches may be large */
#define OTELGEN_SINK_MAX_HELD 10000                 /* per worker; past it a held request is closed */
#define OTELGEN_SINK_IDLE_MS (5 * 60 * 1000)

/* google.rpc.Code values of fault answers. */
#define OTELGEN_SINK_CODE_INVALID_ARGUMENT 3
#define OTELGEN_SINK_CODE_UNAVAILABLE 14

/* One protocol of one worker: its conn_serve's ctx. */
struct otelgen_sink_front {
    struct otelgen_sink_worker *w;
    struct recv_otlp_proto proto;
    void (*inner)(void *ctx, struct http_req *req);    /* grpc_handle or otlp_http_handle */
    struct conn_listener *listeners;                    /* one per address */
    unsigned naddrs;
};

/* A request a rule delays (timer set) or blackholes. */
struct otelgen_sink_held {
    struct otelgen_sink_held *prev, *next;
    struct otelgen_sink_front *front;
    struct http_req *req;
    struct event *timer;
};

struct otelgen_sink_worker {
    const struct otelgen_sink_conf *conf;
    struct reactor *r;
    struct otelgen_sink_front fronts[OTELGEN_SINK_PROTOCOLS];
    struct recv_otlp_route route;
    struct pipeline pipeline;
    struct component sink;
    struct component *exporters[1];
    struct otelgen_sink_count count;
    uint64_t taken;                     /* requests the sink exporter counted */
    struct otelgen_sink_faults faults;
    uint64_t rule_hits[OTELGEN_SINK_MAX_FAULTS];
    uint64_t rng;
    struct otelgen_sink_held *held;
    size_t n_held;
};

/* ---- the exporter at the end of the pipeline ---- */

/* Takes a request after --out did: a request the file refuses (its buffer is full) is not counted, and the
 * client is told to retry. */
static int otelgen_sink_worker_consume(struct component *c, struct reactor *r, const struct otlp_payload *p,
                                       struct og_wait *wait)
{
    struct otelgen_sink_worker *w = c->state;
    struct component *file = w->conf->file;

    if (file != NULL) {
        int rc = file->type->consume(file, r, p, wait);    /* the file exporter answers at once */
        if (rc != 0)
            return rc;
    }
    otelgen_sink_count_add(&w->count, p);
    w->taken++;
    return 0;
}

static const struct og_config_key otelgen_sink_worker_keys[] = { { .name = NULL } };

static const struct og_component_type otelgen_sink_worker_type = {
    .name = "sink", .kind = OG_KIND_EXPORTER, .keys = otelgen_sink_worker_keys, .signals = OG_SIGNAL_ALL,
    .consume = otelgen_sink_worker_consume,
};

/* ---- answers ---- */

/* Hands the request to the OTLP front end, which answers it, counted or refused. */
static void otelgen_sink_worker_serve(struct otelgen_sink_front *f, struct http_req *req)
{
    struct otelgen_sink_worker *w = f->w;
    uint64_t before = w->taken;

    f->inner(&f->proto, req);
    w->count.answers[w->taken != before ? OTELGEN_SINK_ANSWER_OK : OTELGEN_SINK_ANSWER_REFUSED]++;
}

static void otelgen_sink_worker_varint(struct evbuffer *out, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;

    do {
        b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
    evbuffer_add(out, b, n);
}

/* A fault's error answer, as the OTLP front ends write theirs: gRPC status in trailers, or an HTTP status
 * with a google.rpc.Status body in the request's encoding. */
static void otelgen_sink_worker_error(struct otelgen_sink_front *f, struct http_req *req, int status, int code,
                                      const char *msg)
{
    struct http_resp *r = &req->resp;

    evbuffer_drain(r->body, evbuffer_get_length(r->body));
    if (f->proto.serve.grpc) {
        r->status = 200;
        r->content_type = "application/grpc";
        r->grpc = true;
        r->grpc_status = code;
        snprintf(r->grpc_message, sizeof r->grpc_message, "%s", msg);
        return;
    }
    r->status = status;
    if (strncasecmp(req->content_type, "application/json", 16) == 0) {
        r->content_type = "application/json";
        evbuffer_add_printf(r->body, "{\"code\":%d,\"message\":\"%s\"}", code, msg);
        return;
    }
    r->content_type = "application/x-protobuf";
    evbuffer_add(r->body, "\x08", 1);
    otelgen_sink_worker_varint(r->body, (uint64_t)code);
    evbuffer_add(r->body, "\x12", 1);
    otelgen_sink_worker_varint(r->body, strlen(msg));
    evbuffer_add(r->body, msg, strlen(msg));
}

static void otelgen_sink_worker_answer(struct otelgen_sink_worker *w, struct http_req *req,
                                       enum otelgen_sink_answer answer)
{
    w->count.answers[answer]++;
    req->done(req);
}

/* ---- held requests ---- */

/* Lets go of <h>: served now (a delay is over), or dropped without an answer. */
static void otelgen_sink_worker_release(struct otelgen_sink_worker *w, struct otelgen_sink_held *h, bool serve)
{
    struct otelgen_sink_front *f = h->front;
    struct http_req *req = h->req;

    if (h->prev != NULL)
        h->prev->next = h->next;
    else
        w->held = h->next;
    if (h->next != NULL)
        h->next->prev = h->prev;
    w->n_held--;
    if (h->timer != NULL)
        event_free(h->timer);
    free(h);
    if (serve) {
        otelgen_sink_worker_serve(f, req);
        return;
    }
    req->resp.drop = true;
    otelgen_sink_worker_answer(w, req, OTELGEN_SINK_ANSWER_UNANSWERED);
}

static void otelgen_sink_worker_on_delay(evutil_socket_t fd, short what, void *arg)
{
    struct otelgen_sink_held *h = arg;

    otelgen_sink_worker_release(h->front->w, h, true);
}

/* Keeps <req> for <delay_ms>, or until let go when <delay_ms> is negative. Past OTELGEN_SINK_MAX_HELD, or
 * out of memory, the request is closed instead: a fault injector must not grow without bound. */
static void otelgen_sink_worker_hold(struct otelgen_sink_front *f, struct http_req *req, int64_t delay_ms)
{
    struct otelgen_sink_worker *w = f->w;
    struct otelgen_sink_held *h = w->n_held < OTELGEN_SINK_MAX_HELD ? calloc(1, sizeof *h) : NULL;
    struct timeval tv = { .tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000 };

    if (h != NULL && delay_ms >= 0) {
        h->timer = evtimer_new(reactor_base(w->r), otelgen_sink_worker_on_delay, h);
        if (h->timer == NULL || evtimer_add(h->timer, &tv) != 0) {
            if (h->timer != NULL)
                event_free(h->timer);
            free(h);
            h = NULL;
        }
    }
    if (h == NULL) {
        req->resp.drop = true;
        otelgen_sink_worker_answer(w, req, OTELGEN_SINK_ANSWER_CLOSED);
        return;
    }
    h->front = f;
    h->req = req;
    h->next = w->held;
    if (w->held != NULL)
        w->held->prev = h;
    w->held = h;
    w->n_held++;
}

/* Lets go of every held request, or only the blackholed ones (no timer). */
static void otelgen_sink_worker_release_all(struct otelgen_sink_worker *w, bool blackholed_only)
{
    for (struct otelgen_sink_held *h = w->held, *next; h != NULL; h = next) {
        next = h->next;
        if (!blackholed_only || h->timer == NULL)
            otelgen_sink_worker_release(w, h, false);
    }
}

/* ---- the handler ---- */

/* The signal an OTLP export request is for, or -1 for anything else (left to the front end to refuse). */
static int otelgen_sink_worker_signal(const struct otelgen_sink_front *f, const struct http_req *req)
{
    if (req->method != HTTP_REQ_POST || req->too_large || req->too_long)
        return -1;
    for (int s = 0; s < OG_SIGNAL_COUNT; s++) {
        const struct otelgen_signal_info *info = otelgen_signal_info((enum otelgen_signal)s);
        if (strcmp(req->path, f->proto.serve.grpc ? info->grpc_path : f->proto.paths[info->og]) == 0)
            return (int)info->og;
    }
    return -1;
}

static void otelgen_sink_worker_apply(struct otelgen_sink_front *f, struct http_req *req,
                                      const struct otelgen_sink_fault *fault)
{
    struct otelgen_sink_worker *w = f->w;

    w->count.fault_hits[fault->mode]++;
    switch (fault->mode) {
    case OTELGEN_SINK_FAULT_UNAVAILABLE:
        otelgen_sink_worker_error(f, req, 503, OTELGEN_SINK_CODE_UNAVAILABLE, "otelgen sink: fault unavailable");
        req->resp.retry_after = fault->retry_after;
        otelgen_sink_worker_answer(w, req, OTELGEN_SINK_ANSWER_UNAVAILABLE);
        return;
    case OTELGEN_SINK_FAULT_REJECT:
        otelgen_sink_worker_error(f, req, 400, OTELGEN_SINK_CODE_INVALID_ARGUMENT, "otelgen sink: fault reject");
        otelgen_sink_worker_answer(w, req, OTELGEN_SINK_ANSWER_REJECTED);
        return;
    case OTELGEN_SINK_FAULT_CLOSE:
        req->resp.drop = true;
        otelgen_sink_worker_answer(w, req, OTELGEN_SINK_ANSWER_CLOSED);
        return;
    case OTELGEN_SINK_FAULT_DELAY:
        otelgen_sink_worker_hold(f, req, fault->delay_ms);
        return;
    default:
        otelgen_sink_worker_hold(f, req, -1);
        return;
    }
}

static void otelgen_sink_worker_on_request(void *ctx, struct http_req *req)
{
    struct otelgen_sink_front *f = ctx;
    struct otelgen_sink_worker *w = f->w;
    int signal = w->faults.n > 0 ? otelgen_sink_worker_signal(f, req) : -1;
    int rule = signal >= 0 ? otelgen_sink_faults_pick(&w->faults, signal, req->tenant, &w->rng) : -1;

    if (rule < 0) {
        otelgen_sink_worker_serve(f, req);
        return;
    }
    w->rule_hits[rule]++;
    otelgen_sink_worker_apply(f, req, &w->faults.v[rule]);
}

/* ---- life cycle ---- */

static void otelgen_sink_worker_setup_front(struct otelgen_sink_worker *w, int p)
{
    struct otelgen_sink_front *f = &w->fronts[p];
    bool grpc = p == OTELGEN_SINK_GRPC;

    f->w = w;
    f->inner = grpc ? grpc_handle : otlp_http_handle;
    f->proto.route = &w->route;
    f->proto.max_message_bytes = OTELGEN_SINK_MAX_MESSAGE;
    f->proto.max_json_bytes = OTELGEN_SINK_MAX_MESSAGE;
    for (int s = 0; s < OG_SIGNAL_COUNT; s++) {
        const struct otelgen_signal_info *info = otelgen_signal_info((enum otelgen_signal)s);
        f->proto.paths[info->og] = info->http_path;
    }
    f->proto.serve = (struct conn_serve){
        .grpc = grpc, .max_body_bytes = OTELGEN_SINK_MAX_MESSAGE + (grpc ? 5 : 0), .max_header_bytes = 16384,
        .max_headers = 100, .max_concurrent_streams = 1000, .max_connections = 10000,
        .idle_timeout_ms = OTELGEN_SINK_IDLE_MS, .handle = otelgen_sink_worker_on_request, .ctx = f,
        .id = "otelgen sink", .tenant_header = w->conf->tenant_header,
    };
}

static uint64_t otelgen_sink_worker_seed(unsigned id)
{
    uint64_t seed;

    if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
        seed = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL;
    seed ^= id;
    return seed != 0 ? seed : 1;
}

struct otelgen_sink_worker *otelgen_sink_worker_create(const struct otelgen_sink_conf *conf, struct reactor *r)
{
    struct otelgen_sink_worker *w = calloc(1, sizeof *w);

    if (w == NULL)
        return NULL;
    w->conf = conf;
    w->r = r;
    w->rng = otelgen_sink_worker_seed(reactor_id(r));
    w->sink = (struct component){ .type = &otelgen_sink_worker_type, .id = "sink", .state = w };
    w->exporters[0] = &w->sink;
    w->pipeline = (struct pipeline){ .exporters = w->exporters, .nexporters = 1 };
    w->route.id = "sink";
    for (int s = 0; s < OG_SIGNAL_COUNT; s++) {
        w->route.pipelines[s][0] = &w->pipeline;
        w->route.npipelines[s] = 1;
    }
    for (int p = 0; p < OTELGEN_SINK_PROTOCOLS; p++)
        otelgen_sink_worker_setup_front(w, p);
    otelgen_sink_count_init(&w->count, conf->max_ids);
    return w;
}

struct otelgen_sink_worker_open_job {
    struct otelgen_sink_worker *w;
    struct reactor_listen *listen;
    int rc;
};

static void otelgen_sink_worker_on_open(struct reactor *r, void *arg)
{
    struct otelgen_sink_worker_open_job *job = arg;
    unsigned i = reactor_id(r);

    for (int p = 0; p < OTELGEN_SINK_PROTOCOLS; p++) {
        struct otelgen_sink_front *f = &job->w->fronts[p];
        struct reactor_listen *l = &job->listen[p];
        for (unsigned a = 0; a < f->naddrs; a++) {
            int *fd = &l->fds[i * l->naddrs + a];
            if (conn_listener_open(&f->listeners[a], reactor_base(r), *fd, &f->proto.serve) != 0)
                job->rc = -1;
            *fd = -1;   /* taken, even on failure */
        }
    }
}

int otelgen_sink_worker_open(struct otelgen_sink_worker *w, struct reactor_listen listen[OTELGEN_SINK_PROTOCOLS])
{
    struct otelgen_sink_worker_open_job job = { .w = w, .listen = listen, .rc = 0 };

    for (int p = 0; p < OTELGEN_SINK_PROTOCOLS; p++) {
        w->fronts[p].listeners = calloc(listen[p].naddrs, sizeof(struct conn_listener));
        if (w->fronts[p].listeners == NULL)
            return -1;
        w->fronts[p].naddrs = listen[p].naddrs;
    }
    if (reactor_call(w->r, otelgen_sink_worker_on_open, &job) != 0)
        return -1;
    return job.rc;
}

/* What a control message carries to a worker's thread. */
struct otelgen_sink_worker_job {
    struct otelgen_sink_worker *w;
    const struct otelgen_sink_faults *faults;
    uint64_t *hits;
};

static void otelgen_sink_worker_on_set_faults(struct reactor *r, void *arg)
{
    struct otelgen_sink_worker_job *job = arg;
    struct otelgen_sink_worker *w = job->w;

    w->faults = *job->faults;
    memset(w->rule_hits, 0, sizeof w->rule_hits);
    otelgen_sink_worker_release_all(w, true);
}

void otelgen_sink_worker_set_faults(struct otelgen_sink_worker *w, const struct otelgen_sink_faults *f)
{
    struct otelgen_sink_worker_job job = { .w = w, .faults = f };

    reactor_call(w->r, otelgen_sink_worker_on_set_faults, &job);
}

static void otelgen_sink_worker_on_close(struct reactor *r, void *arg)
{
    struct otelgen_sink_worker *w = arg;

    otelgen_sink_worker_release_all(w, false);
    for (int p = 0; p < OTELGEN_SINK_PROTOCOLS; p++)
        for (unsigned a = 0; w->fronts[p].listeners != NULL && a < w->fronts[p].naddrs; a++)
            conn_listener_close(&w->fronts[p].listeners[a]);
}

void otelgen_sink_worker_close(struct otelgen_sink_worker *w)
{
    reactor_call(w->r, otelgen_sink_worker_on_close, w);
}

void otelgen_sink_worker_destroy(struct otelgen_sink_worker *w)
{
    if (w == NULL)
        return;
    for (int p = 0; p < OTELGEN_SINK_PROTOCOLS; p++)
        free(w->fronts[p].listeners);
    otelgen_sink_count_dispose(&w->count);
    free(w);
}

/* ---- all workers ---- */

struct otelgen_sink_worker_report_job {
    struct otelgen_sink_worker *w;
    struct otelgen_sink_report *report;
    bool reset;
    uint64_t held;
};

static void otelgen_sink_worker_on_report(struct reactor *r, void *arg)
{
    struct otelgen_sink_worker_report_job *job = arg;
    struct otelgen_sink_worker *w = job->w;

    otelgen_sink_report_add(job->report, &w->count);
    job->held += w->n_held;
    if (job->reset) {
        otelgen_sink_count_reset(&w->count);
        memset(w->rule_hits, 0, sizeof w->rule_hits);
    }
}

json_t *otelgen_sink_workers_report(struct otelgen_sink_worker *const *w, unsigned n, bool reset, double seconds)
{
    struct otelgen_sink_worker_report_job job = { .reset = reset };
    json_t *j;

    if (otelgen_sink_report_create(&job.report, n) != 0)
        return NULL;
    for (unsigned i = 0; i < n; i++) {
        job.w = w[i];
        reactor_call(w[i]->r, otelgen_sink_worker_on_report, &job);
    }
    j = otelgen_sink_report_json(job.report, job.held, seconds);
    otelgen_sink_report_destroy(job.report);
    return j;
}

static void otelgen_sink_worker_on_hits(struct reactor *r, void *arg)
{
    struct otelgen_sink_worker_job *job = arg;

    for (size_t i = 0; i < OTELGEN_SINK_MAX_FAULTS; i++)
        job->hits[i] += job->w->rule_hits[i];
}

void otelgen_sink_workers_rule_hits(struct otelgen_sink_worker *const *w, unsigned n, uint64_t *hits)
{
    memset(hits, 0, OTELGEN_SINK_MAX_FAULTS * sizeof *hits);
    for (unsigned i = 0; i < n; i++) {
        struct otelgen_sink_worker_job job = { .w = w[i], .hits = hits };
        reactor_call(w[i]->r, otelgen_sink_worker_on_hits, &job);
    }
}

void otelgen_sink_workers_set_faults(struct otelgen_sink_worker *const *w, unsigned n,
                                     const struct otelgen_sink_faults *f)
{
    for (unsigned i = 0; i < n; i++)
        otelgen_sink_worker_set_faults(w[i], f);
}
