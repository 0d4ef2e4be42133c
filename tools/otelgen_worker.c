/* otelgen_worker.c: a worker's reactor and the policy around requests and connections. Requests: hand out
 * the next one when it is due (closed loop: while fewer than the concurrency are begun; open loop: at its
 * place in the schedule, which never waits for answers), count each answer, park a retryable one in the
 * retry heap, and end the run when every request due is settled. Connections: open them, try the next
 * address when a connect fails, replace one the server closed in an orderly way (or, with --retry, one that
 * failed after connecting), and fail what is left when none remains. Connections that asked for work when
 * there was none wait in a list; one deferred "kick" event serves them when work appears, so that no
 * client is re-entered from inside its own callbacks. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "otelgen_payload.h"
#include "otelgen_queue.h"
#include "otelgen_retry.h"
#include "otelgen_worker.h"

#define OTELGEN_WORKER_NS 1000000000LL

struct otelgen_worker_conn {
    void *conn;
    size_t addr;                        /* index into target->addrs */
    bool live;
    bool waiting;                       /* in the waiting list */
    struct otelgen_worker *w;           /* for the reopen timer */
    struct event *reopen;               /* --retry: pending replacement of a failed connection */
    int64_t failing_since_ns;           /* --retry: first failure since it last connected; 0: none */
    uint32_t failures;                  /* in a row, for the backoff */
};

struct otelgen_worker {
    struct otelgen_worker_conf conf;
    int64_t start_ns, deadline_ns;      /* otelgen_worker_set_start */
    struct otelgen_stats *stats;
    struct event_base *base;
    struct event *finish;               /* deferred, so no client is closed from inside its own callback */
    struct event *kick;                 /* deferred: serve the waiting connections */
    struct event *rate_timer;           /* open loop: the next request falls due */
    struct event *retry_timer;          /* the earliest retry falls due */
    struct event *deadline_timer;       /* closed loop with --duration */
    struct event *progress_timer;       /* publish the interval to the feed */
    struct event *stop;                 /* conf.stop_fd became readable */
    struct otelgen_payload_ctx *payload_ctx;
    struct otelgen_worker_conn *conns;
    unsigned n_conns, live, reopening;
    unsigned *waiting;                  /* slots that asked for work and got none, each once */
    unsigned *kicking;                  /* the list being served: those served may wait again meanwhile */
    unsigned n_waiting;
    uint64_t issued;                    /* new requests handed out, from 0 */
    uint64_t settled;                   /* of those, finally answered or failed */
    bool no_more_new;                   /* no new request will be issued */
    bool stopping;                      /* interrupted: no new request, no retry */
    bool closing;
    struct otelgen_queue_fifo ready;    /* given back or due for retry: sent first */
    struct otelgen_queue_heap retries;
    uint64_t rng;
    size_t good_addr;                   /* the last address that accepted a connection */
    uint64_t conn_errors;               /* connections that failed without losing a request */
    char conn_error[256];               /* the first such failure */
    char last_error[256];               /* the last failure: why unsent requests fail */
};

static void otelgen_worker_open(struct otelgen_worker *w, unsigned slot, size_t addr);

static int64_t otelgen_worker_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * OTELGEN_WORKER_NS + ts.tv_nsec;
}

/* Arms <ev> to fire at <at_ns> (CLOCK_MONOTONIC); at once if that is past, or if libevent cannot keep the
 * timer (out of memory): early is better than never, which would stall the run. */
static void otelgen_worker_arm(struct event *ev, int64_t at_ns, int64_t now_ns)
{
    int64_t d = at_ns > now_ns ? at_ns - now_ns : 0;
    struct timeval tv = { .tv_sec = d / OTELGEN_WORKER_NS, .tv_usec = (d % OTELGEN_WORKER_NS + 999) / 1000 };

    if (tv.tv_usec >= 1000000) {
        tv.tv_sec++;
        tv.tv_usec -= 1000000;
    }
    if (event_add(ev, &tv) != 0)
        event_active(ev, EV_TIMEOUT, 0);
}

/* A failure is said on stderr as it happens, but not again while it repeats: however many connections or
 * requests hit it. */
static void otelgen_worker_say(struct otelgen_worker *w, const char *why)
{
    if (strcmp(why, w->last_error) != 0)
        fprintf(stderr, "otelgen: %s\n", why);
    snprintf(w->last_error, sizeof w->last_error, "%s", why);
}

static void otelgen_worker_note_error(struct otelgen_worker *w, const char *why, bool costs_requests)
{
    otelgen_worker_say(w, why);
    if (costs_requests)
        return;
    if (w->conn_errors++ == 0)
        snprintf(w->conn_error, sizeof w->conn_error, "%s", why);
}

/* ---- the end of the run ---- */

static bool otelgen_worker_has_work(const struct otelgen_worker *w)
{
    return !w->closing && (w->ready.len > 0 || w->retries.len > 0 || !w->no_more_new);
}

/* When no new request will come and every one begun is settled, the run is over. */
static void otelgen_worker_maybe_finish(struct otelgen_worker *w)
{
    if (!w->no_more_new || w->settled < w->issued || w->closing)
        return;
    otelgen_stats_stop(w->stats);
    event_active(w->finish, 0, 0);
}

/* Called whenever a connection is gone: when none is left (nor about to be), the run is over. */
static void otelgen_worker_check_done(struct otelgen_worker *w)
{
    uint64_t unsent;

    if (w->live > 0 || w->reopening > 0)
        return;
    unsent = w->issued - w->settled;
    if (!w->no_more_new && w->conf.requests != OTELGEN_WORKER_UNLIMITED)
        unsent += w->conf.requests - w->issued;
    if (!w->closing)
        otelgen_stats_stop(w->stats);               /* the run ends here, not at a last answer */
    if (unsent > 0) {
        /* Nothing left to send them: they fail for the reason the last connection failed. */
        otelgen_stats_add_unsent(w->stats, unsent, w->last_error[0] != '\0' ? w->last_error : "no connection left");
    } else {
        for (uint64_t i = 0; i < w->conn_errors; i++)
            otelgen_stats_add_conn_error(w->stats, w->conn_error);
    }
    w->settled = w->issued;
    w->no_more_new = true;
    w->conn_errors = 0;
    event_base_loopexit(w->base, NULL);
}

static void otelgen_worker_on_finish(evutil_socket_t fd, short what, void *arg)
{
    struct otelgen_worker *w = arg;
    (void)fd;
    (void)what;

    w->closing = true;
    for (unsigned i = 0; i < w->n_conns; i++) {
        if (w->conns[i].reopen != NULL && event_pending(w->conns[i].reopen, EV_TIMEOUT, NULL)) {
            event_del(w->conns[i].reopen);
            w->reopening--;
        }
        if (w->conns[i].live)
            w->conf.client->close(w->conns[i].conn);
    }
    otelgen_worker_check_done(w);
}

/* ---- handing out requests ---- */

/* Serves the waiting connections later, from the loop, when there may be work for them. */
static void otelgen_worker_want_kick(struct otelgen_worker *w)
{
    if (w->n_waiting > 0 && !w->closing)
        event_active(w->kick, 0, 0);
}

static void otelgen_worker_on_kick(evutil_socket_t fd, short what, void *arg)
{
    struct otelgen_worker *w = arg;
    unsigned *serve = w->waiting, n = w->n_waiting;
    (void)fd;
    (void)what;

    /* Serve the ones waiting now from a list of their own; those still without work wait again, in the
     * other one. */
    w->waiting = w->kicking;
    w->kicking = serve;
    w->n_waiting = 0;
    for (unsigned i = 0; i < n; i++)
        w->conns[serve[i]].waiting = false;
    for (unsigned i = 0; i < n && !w->closing; i++)
        if (w->conns[serve[i]].live)
            w->conf.client->kick(w->conns[serve[i]].conn);
}

static void otelgen_worker_wait(struct otelgen_worker *w, unsigned slot)
{
    if (w->conns[slot].waiting || !otelgen_worker_has_work(w))
        return;
    w->conns[slot].waiting = true;
    w->waiting[w->n_waiting++] = slot;
}

/* Open loop: request number n is due at start + n * interval, whether or not earlier ones are answered. */
static int64_t otelgen_worker_due(const struct otelgen_worker *w, uint64_t seq)
{
    return w->start_ns + (int64_t)((double)seq * w->conf.ns_per_request);
}

static void otelgen_worker_no_more(struct otelgen_worker *w)
{
    w->no_more_new = true;
    otelgen_worker_maybe_finish(w);
}

/* A new request, when one is due. */
static bool otelgen_worker_new_request(struct otelgen_worker *w, struct otelgen_req *req)
{
    uint64_t seq = w->conf.seq_first + w->issued * w->conf.seq_stride;
    int64_t now, due;

    if (w->no_more_new)
        return false;
    if (w->conf.concurrency > 0 && w->issued - w->settled >= w->conf.concurrency)
        return false;
    now = otelgen_worker_now();
    due = now;
    if (w->conf.ns_per_request > 0) {
        due = otelgen_worker_due(w, seq);
        if (w->deadline_ns > 0 && due >= w->deadline_ns) {
            otelgen_worker_no_more(w);
            return false;
        }
        if (due > now) {
            if (!event_pending(w->rate_timer, EV_TIMEOUT, NULL))
                otelgen_worker_arm(w->rate_timer, due, now);
            return false;
        }
    } else if (w->deadline_ns > 0 && now >= w->deadline_ns) {
        otelgen_worker_no_more(w);
        return false;
    }
    *req = (struct otelgen_req){ .seq = seq, .due_ns = due, .first_ns = due };
    if (++w->issued == w->conf.requests)
        w->no_more_new = true;
    return true;
}

bool otelgen_worker_next(struct otelgen_worker *w, unsigned slot, struct otelgen_req *req)
{
    if (w->closing)
        return false;
    if (otelgen_queue_pop(&w->ready, req) || otelgen_worker_new_request(w, req))
        return true;
    otelgen_worker_wait(w, slot);
    return false;
}

static void otelgen_worker_on_rate(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    otelgen_worker_want_kick(arg);
}

static void otelgen_worker_on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    otelgen_worker_no_more(arg);
}

/* ---- answers and retries ---- */

static void otelgen_worker_settle(struct otelgen_worker *w, enum otelgen_stats_outcome outcome, const char *why)
{
    otelgen_stats_settle(w->stats, outcome, why);
    w->settled++;
    if (w->conf.concurrency > 0 && w->issued - w->settled == w->conf.concurrency - 1)
        otelgen_worker_want_kick(w);                    /* the gate just opened */
    otelgen_worker_maybe_finish(w);
}

/* <n> requests begun fail without being sent (again); otelgen_stats_add_unsent counts their outcome. */
static void otelgen_worker_fail_unsent(struct otelgen_worker *w, uint64_t n, const char *why)
{
    otelgen_stats_add_unsent(w->stats, n, why);
    w->settled += n;
    otelgen_worker_maybe_finish(w);
}

static void otelgen_worker_on_retry_due(evutil_socket_t fd, short what, void *arg)
{
    struct otelgen_worker *w = arg;
    int64_t now = otelgen_worker_now();
    struct otelgen_req req;
    (void)fd;
    (void)what;

    while (otelgen_queue_heap_pop_due(&w->retries, now, &req)) {
        req.due_ns = now;
        if (otelgen_queue_push(&w->ready, &req) != 0)
            otelgen_worker_fail_unsent(w, 1, "out of memory");
    }
    if (w->retries.len > 0)
        otelgen_worker_arm(w->retry_timer, otelgen_queue_heap_first(&w->retries), now);
    otelgen_worker_want_kick(w);
}

/* Parks <req> for another attempt when --retry is on, the answer calls for it, and the wait still ends
 * within --retry-max-elapsed of the first attempt. Returns false when the request is to be settled now. */
static bool otelgen_worker_retry(struct otelgen_worker *w, const struct otelgen_req *req,
                                 const struct otelgen_answer *a, int64_t now)
{
    struct otelgen_req again = *req;
    int64_t delay_ns, due;

    if (w->conf.retry_max_elapsed_ms == 0 || w->stopping || !otelgen_retry_wanted(a))
        return false;
    again.attempt++;
    delay_ns = otelgen_retry_delay_ms(a, again.attempt, &w->rng) * 1000000;
    due = now + delay_ns;
    if (due - req->first_ns > w->conf.retry_max_elapsed_ms * 1000000)
        return false;
    if (otelgen_queue_heap_push(&w->retries, due, &again) != 0)
        return false;
    if (otelgen_queue_heap_first(&w->retries) == due)
        otelgen_worker_arm(w->retry_timer, due, now);
    otelgen_stats_add_retry(w->stats);
    return true;
}

static bool otelgen_worker_is_success(const struct otelgen_answer *a)
{
    return a->kind == OTELGEN_ANSWER_GRPC ? a->code == 0 : a->kind == OTELGEN_ANSWER_HTTP && a->code / 100 == 2;
}

void otelgen_worker_answered(struct otelgen_worker *w, const struct otelgen_req *req, const struct otelgen_answer *a)
{
    int64_t now = otelgen_worker_now();
    uint64_t latency = now > req->due_ns ? (uint64_t)(now - req->due_ns) : 0;

    otelgen_stats_add(w->stats, a, latency);
    if (a->kind == OTELGEN_ANSWER_FAILED)
        otelgen_worker_say(w, a->message);
    if (otelgen_worker_is_success(a))
        otelgen_worker_settle(w, OTELGEN_STATS_ACKNOWLEDGED, NULL);
    else if (!otelgen_worker_retry(w, req, a, now))
        otelgen_worker_settle(w, a->kind == OTELGEN_ANSWER_FAILED ? OTELGEN_STATS_UNANSWERED : OTELGEN_STATS_REFUSED,
                              a->message);
}

void otelgen_worker_give_back(struct otelgen_worker *w, const struct otelgen_req *req)
{
    if (otelgen_queue_push(&w->ready, req) != 0) {
        /* Cannot keep it for later: it fails instead of vanishing. */
        static const struct otelgen_answer oom = { .kind = OTELGEN_ANSWER_FAILED, .message = "out of memory" };
        otelgen_worker_answered(w, req, &oom);
        return;
    }
    otelgen_worker_want_kick(w);
}

/* ---- connections ---- */

static void otelgen_worker_on_reopen(evutil_socket_t fd, short what, void *arg)
{
    struct otelgen_worker_conn *c = arg;
    struct otelgen_worker *w = c->w;
    (void)fd;
    (void)what;

    w->reopening--;
    if (otelgen_worker_has_work(w))
        otelgen_worker_open(w, (unsigned)(c - w->conns), w->good_addr);
    otelgen_worker_check_done(w);
}

/* --retry: a failed connection is replaced after a backoff, as an SDK reconnects, for as long as
 * --retry-max-elapsed since its failures began; it is then no error by itself (its requests' outcomes
 * are). Returns false when it is not to be replaced. */
static bool otelgen_worker_reopen_later(struct otelgen_worker *w, struct otelgen_worker_conn *c, const char *why)
{
    static const struct otelgen_answer failed = { .kind = OTELGEN_ANSWER_FAILED };
    int64_t now, delay_ms;
    struct timeval tv;

    if (w->conf.retry_max_elapsed_ms == 0 || !otelgen_worker_has_work(w))
        return false;
    now = otelgen_worker_now();
    if (c->failing_since_ns == 0)
        c->failing_since_ns = now;
    delay_ms = otelgen_retry_delay_ms(&failed, ++c->failures, &w->rng);
    if (now + delay_ms * 1000000 - c->failing_since_ns > w->conf.retry_max_elapsed_ms * 1000000)
        return false;
    tv = (struct timeval){ .tv_sec = delay_ms / 1000, .tv_usec = delay_ms % 1000 * 1000 };
    if (event_add(c->reopen, &tv) != 0)
        return false;
    w->reopening++;
    otelgen_worker_note_error(w, why, true);
    return true;
}

void otelgen_worker_conn_ended(struct otelgen_worker *w, unsigned slot, const char *why, bool connected,
                               uint64_t answered, unsigned lost)
{
    struct otelgen_worker_conn *c = &w->conns[slot];

    c->live = false;
    c->conn = NULL;
    w->live--;
    if (connected) {
        w->good_addr = c->addr;
        c->failing_since_ns = 0;
        c->failures = 0;
    }
    if (why != NULL && !connected && c->addr + 1 < w->conf.target->n_addrs && !w->closing) {
        otelgen_worker_open(w, slot, c->addr + 1);      /* "localhost" may be ::1 first, the server on IPv4 */
    } else if (why != NULL && otelgen_worker_reopen_later(w, c, why)) {
        /* its requests are parked for retry; the connection comes back after the backoff */
    } else if (why != NULL) {
        otelgen_worker_note_error(w, why, lost > 0);
    } else if (otelgen_worker_has_work(w) && answered == 0) {
        /* An orderly close before any answer would be replaced forever: it is a failure. */
        otelgen_worker_note_error(w, "the server closed the connection without answering", false);
    } else if (otelgen_worker_has_work(w)) {
        otelgen_worker_open(w, slot, w->good_addr);     /* keep-alive ended, GOAWAY: go on elsewhere */
    }
    otelgen_worker_check_done(w);
}

static void otelgen_worker_open(struct otelgen_worker *w, unsigned slot, size_t addr)
{
    struct otelgen_conn_env env = {
        .base = w->base,
        .target = w->conf.target,
        .payload = w->conf.payload,
        .payload_ctx = w->payload_ctx,
        .worker = w,
        .slot = slot,
        .depth = w->conf.depth,
        .addr = &w->conf.target->addrs[addr],
    };
    char err[256];

    w->conns[slot].addr = addr;
    if (w->conf.client->open(&w->conns[slot].conn, &env, err, sizeof err) != 0) {
        otelgen_worker_note_error(w, err, false);
        return;
    }
    w->conns[slot].live = true;
    w->live++;
}

/* ---- progress and interruption ---- */

static void otelgen_worker_on_progress(evutil_socket_t fd, short what, void *arg)
{
    struct otelgen_worker *w = arg;
    (void)fd;
    (void)what;

    otelgen_stats_publish(w->stats, w->conf.feed);
}

/* The run is cut short (SIGINT): no new request and no retry; what is in flight still gets its answer. */
static void otelgen_worker_on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct otelgen_worker *w = arg;
    struct otelgen_req req;
    (void)fd;
    (void)what;

    event_del(w->stop);                 /* the pipe stays readable for the other workers */
    w->stopping = true;
    while (otelgen_queue_heap_pop_due(&w->retries, INT64_MAX, &req) || otelgen_queue_pop(&w->ready, &req))
        otelgen_worker_fail_unsent(w, 1, "interrupted before it could be sent again");
    event_del(w->retry_timer);
    otelgen_worker_no_more(w);
}

/* ---- lifecycle ---- */

static int otelgen_worker_events(struct otelgen_worker *w)
{
    w->finish = event_new(w->base, -1, 0, otelgen_worker_on_finish, w);
    w->kick = event_new(w->base, -1, 0, otelgen_worker_on_kick, w);
    w->rate_timer = evtimer_new(w->base, otelgen_worker_on_rate, w);
    w->retry_timer = evtimer_new(w->base, otelgen_worker_on_retry_due, w);
    w->deadline_timer = evtimer_new(w->base, otelgen_worker_on_deadline, w);
    if (w->finish == NULL || w->kick == NULL || w->rate_timer == NULL || w->retry_timer == NULL ||
        w->deadline_timer == NULL)
        return -1;
    if (w->conf.feed != NULL &&
        (w->progress_timer = event_new(w->base, -1, EV_PERSIST, otelgen_worker_on_progress, w)) == NULL)
        return -1;
    if (w->conf.stop_fd >= 0 &&
        (w->stop = event_new(w->base, w->conf.stop_fd, EV_READ, otelgen_worker_on_stop, w)) == NULL)
        return -1;
    for (unsigned i = 0; i < w->n_conns; i++) {
        w->conns[i].w = w;
        if ((w->conns[i].reopen = evtimer_new(w->base, otelgen_worker_on_reopen, &w->conns[i])) == NULL)
            return -1;
    }
    return 0;
}

/* An open loop wants its timers on time, not rounded to the millisecond of epoll_wait. */
static struct event_base *otelgen_worker_base_new(bool precise)
{
    struct event_config *cfg = event_config_new();
    struct event_base *base;

    if (cfg == NULL)
        return NULL;
    if (precise)
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

int otelgen_worker_create(struct otelgen_worker **out, const struct otelgen_worker_conf *conf,
                          struct otelgen_stats *stats, char *err, size_t errlen)
{
    struct otelgen_worker *w = calloc(1, sizeof *w);

    *out = NULL;
    if (w == NULL)
        goto oom;
    w->conf = *conf;
    w->stats = stats;
    w->n_conns = conf->requests < conf->conns ? (unsigned)conf->requests : conf->conns;
    w->no_more_new = conf->requests == 0;
    w->base = otelgen_worker_base_new(conf->ns_per_request > 0);
    w->conns = calloc(w->n_conns != 0 ? w->n_conns : 1, sizeof *w->conns);
    w->waiting = calloc(w->n_conns != 0 ? w->n_conns : 1, sizeof *w->waiting);
    w->kicking = calloc(w->n_conns != 0 ? w->n_conns : 1, sizeof *w->kicking);
    if (w->base == NULL || w->conns == NULL || w->waiting == NULL || w->kicking == NULL ||
        otelgen_worker_events(w) != 0 ||
        otelgen_payload_ctx_create(&w->payload_ctx, conf->payload, err, errlen) != 0)
        goto oom;
    *out = w;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    otelgen_worker_destroy(w);
    return -1;
}

void otelgen_worker_set_start(struct otelgen_worker *w, int64_t start_ns, int64_t deadline_ns)
{
    w->start_ns = start_ns;
    w->deadline_ns = deadline_ns;
    w->rng = (w->conf.seq_first + 1) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)start_ns;   /* jitter differs per thread */
    if (w->rng == 0)
        w->rng = 1;
}

void otelgen_worker_run(struct otelgen_worker *w)
{
    struct timeval second = { 1, 0 };

    otelgen_stats_start(w->stats);
    /* Without these (out of memory) the run only loses its progress line, or its clean stop. */
    if (w->progress_timer != NULL)
        (void)event_add(w->progress_timer, &second);
    if (w->stop != NULL)
        (void)event_add(w->stop, NULL);
    if (w->deadline_ns > 0 && w->conf.ns_per_request == 0)
        otelgen_worker_arm(w->deadline_timer, w->deadline_ns, otelgen_worker_now());
    for (unsigned i = 0; i < w->n_conns; i++)
        otelgen_worker_open(w, i, 0);
    if (w->live == 0) {
        otelgen_worker_check_done(w);
        return;
    }
    event_base_dispatch(w->base);
    if (w->progress_timer != NULL)
        otelgen_stats_publish(w->stats, w->conf.feed);
}

static void otelgen_worker_event_free(struct event *ev)
{
    if (ev != NULL)
        event_free(ev);
}

void otelgen_worker_destroy(struct otelgen_worker *w)
{
    if (w == NULL)
        return;
    for (unsigned i = 0; w->conns != NULL && i < w->n_conns; i++)
        otelgen_worker_event_free(w->conns[i].reopen);
    otelgen_worker_event_free(w->finish);
    otelgen_worker_event_free(w->kick);
    otelgen_worker_event_free(w->rate_timer);
    otelgen_worker_event_free(w->retry_timer);
    otelgen_worker_event_free(w->deadline_timer);
    otelgen_worker_event_free(w->progress_timer);
    otelgen_worker_event_free(w->stop);
    if (w->base != NULL)
        event_base_free(w->base);
    otelgen_payload_ctx_destroy(w->payload_ctx);
    otelgen_queue_dispose(&w->ready);
    otelgen_queue_heap_dispose(&w->retries);
    free(w->conns);
    free(w->waiting);
    free(w->kicking);
    free(w);
}
