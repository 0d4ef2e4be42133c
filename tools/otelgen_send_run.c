/* otelgen_send_run.c: carries out a plan of `otelgen send`. Resolves the endpoint and prepares the payload
 * once; gives each thread its worker and its share of requests, connections and concurrency, and request
 * numbers i, i + T, i + 2T, ... so that the threads' ids never collide and an open loop's schedule stays
 * one evenly spaced schedule; then waits. The main thread does nothing on the hot path: once a second on
 * a terminal it prints what the workers published, and it turns the first SIGINT or SIGTERM into a clean
 * stop (no new request, the answers in flight still awaited). At the end it merges the threads' stats and
 * prints the summary. */
#include "autoconf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "otelgen_send_int.h"
#include "otelgen_signal.h"
#include "otelgen_stats.h"
#include "otelgen_worker.h"

#define OTELGEN_SEND_RUN_NS 1000000000LL
#define OTELGEN_SEND_RUN_TICK_LAG_NS 50000000LL   /* print just after the workers published their second */

struct otelgen_send_run_thread {
    pthread_t id;
    bool started;
    struct otelgen_stats *stats;
    struct otelgen_worker *worker;
    int done_fd;                                /* written once the worker is done */
};

/* The main thread's state for one run. */
struct otelgen_send_run {
    const struct otelgen_send_plan *plan;
    struct otelgen_payload *payload;
    struct otelgen_addr *addrs;
    struct otelgen_send_run_thread *threads;
    struct otelgen_stats_feed *feed;            /* NULL: no progress line */
    struct otelgen_stats_interval *snapshot;    /* what one progress line shows */
    const char *items;
    long long per_request;
    int stop_pipe[2], done_pipe[2], signal_fd;
    sigset_t old_mask;
    int64_t start_ns;
};

static int64_t otelgen_send_run_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * OTELGEN_SEND_RUN_NS + ts.tv_nsec;
}

/* The <i>-th of <parts> nearly equal shares of <n>. */
static uint64_t otelgen_send_run_share(uint64_t n, unsigned parts, unsigned i)
{
    if (n == OTELGEN_WORKER_UNLIMITED)
        return n;
    return n / parts + (i < n % parts);
}

static void otelgen_send_run_worker_conf(const struct otelgen_send_run *r, unsigned i, struct otelgen_worker_conf *wc)
{
    const struct otelgen_send_plan *p = r->plan;
    unsigned conns = (unsigned)otelgen_send_run_share(p->conns, p->threads, i);
    uint64_t concurrency = p->concurrency > 0 ? otelgen_send_run_share(p->concurrency, p->threads, i) : 0;

    *wc = (struct otelgen_worker_conf){
        .client = p->client,
        .target = p->target,
        .payload = r->payload,
        .requests = otelgen_send_run_share(p->requests, p->threads, i),
        .seq_first = i,
        .seq_stride = p->threads,
        .conns = conns,
        .depth = p->depth,
        .concurrency = concurrency,
        .ns_per_request = p->rate > 0 ? 1e9 / p->rate : 0,
        .retry_max_elapsed_ms = p->retry_max_elapsed_ms,
        .feed = r->feed,
        .stop_fd = r->stop_pipe[0],
    };
    /* --concurrency over gRPC: the thread's share spread over its connections, as streams. */
    if (concurrency > 0 && p->client == &otelgen_grpc_client)
        wc->depth = (unsigned)((concurrency + conns - 1) / conns);
}

/* ---- set-up and tear-down ---- */

static int otelgen_send_run_pipes(struct otelgen_send_run *r, char *err, size_t errlen)
{
    if (pipe2(r->stop_pipe, O_CLOEXEC) != 0 || pipe2(r->done_pipe, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* SIGINT and SIGTERM are read from a signalfd by the main thread: blocked here, before any thread starts,
 * so that every thread inherits the mask and none is interrupted. Without a signalfd they keep their
 * default action. */
static void otelgen_send_run_signals(struct otelgen_send_run *r)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    r->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (r->signal_fd >= 0)
        pthread_sigmask(SIG_BLOCK, &set, &r->old_mask);
}

static int otelgen_send_run_feed(struct otelgen_send_run *r)
{
    if (r->plan->json || !isatty(STDOUT_FILENO))
        return 0;
    r->feed = calloc(1, sizeof *r->feed);
    r->snapshot = calloc(1, sizeof *r->snapshot);
    if (r->feed == NULL || r->snapshot == NULL || pthread_mutex_init(&r->feed->lock, NULL) != 0) {
        free(r->feed);
        r->feed = NULL;
        return -1;
    }
    return 0;
}

static int otelgen_send_run_prepare(struct otelgen_send_run *r, char *err, size_t errlen)
{
    const struct otelgen_send_plan *p = r->plan;
    struct otelgen_worker_conf wc;

    if (otelgen_endpoint_resolve(p->endpoint, &r->addrs, &p->target->n_addrs, err, errlen) != 0 ||
        otelgen_payload_create(&r->payload, &p->payload, err, errlen) != 0 ||
        otelgen_send_run_pipes(r, err, errlen) != 0)
        return -1;
    p->target->addrs = r->addrs;
    r->items = otelgen_signal_info(p->payload.signal)->items;
    r->per_request = otelgen_payload_items(r->payload);
    r->threads = calloc(p->threads, sizeof *r->threads);
    if (r->threads == NULL || otelgen_send_run_feed(r) != 0)
        goto oom;
    for (unsigned i = 0; i < p->threads; i++) {
        otelgen_send_run_worker_conf(r, i, &wc);
        r->threads[i].done_fd = r->done_pipe[1];
        if (otelgen_stats_create(&r->threads[i].stats, r->items, r->per_request) != 0)
            goto oom;
        if (otelgen_worker_create(&r->threads[i].worker, &wc, r->threads[i].stats, err, errlen) != 0)
            return -1;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static void otelgen_send_run_dispose(struct otelgen_send_run *r)
{
    for (unsigned i = 0; r->threads != NULL && i < r->plan->threads; i++) {
        otelgen_worker_destroy(r->threads[i].worker);
        otelgen_stats_destroy(r->threads[i].stats);
    }
    free(r->threads);
    if (r->feed != NULL)
        pthread_mutex_destroy(&r->feed->lock);
    free(r->feed);
    free(r->snapshot);
    for (int i = 0; i < 2; i++) {
        if (r->stop_pipe[i] >= 0)
            close(r->stop_pipe[i]);
        if (r->done_pipe[i] >= 0)
            close(r->done_pipe[i]);
    }
    otelgen_payload_destroy(r->payload);
    free(r->addrs);
}

/* ---- running ---- */

static void *otelgen_send_run_thread_main(void *arg)
{
    struct otelgen_send_run_thread *t = arg;
    char done = 1;

    otelgen_worker_run(t->worker);
    while (write(t->done_fd, &done, 1) == -1 && errno == EINTR)
        ;
    return NULL;
}

/* Stops the workers: each reads nothing from the pipe, only sees it readable. Harmless when repeated. */
static void otelgen_send_run_stop(struct otelgen_send_run *r)
{
    char stop = 1;

    (void)!write(r->stop_pipe[1], &stop, 1);
}

static int otelgen_send_run_start(struct otelgen_send_run *r, char *err, size_t errlen)
{
    int e;

    for (unsigned i = 0; i < r->plan->threads; i++) {
        e = pthread_create(&r->threads[i].id, NULL, otelgen_send_run_thread_main, &r->threads[i]);
        if (e != 0) {
            snprintf(err, errlen, "cannot start thread %u: %s", i + 1, strerror(e));
            otelgen_send_run_stop(r);
            return -1;
        }
        r->threads[i].started = true;
    }
    return 0;
}

static void otelgen_send_run_progress(struct otelgen_send_run *r, double elapsed, double interval)
{
    struct otelgen_stats_interval *iv = r->snapshot;
    uint64_t errors;
    double per_s;
    char p50[32], p99[32];

    pthread_mutex_lock(&r->feed->lock);
    *iv = r->feed->pending;
    memset(&r->feed->pending, 0, sizeof r->feed->pending);
    errors = r->feed->errors_total;
    pthread_mutex_unlock(&r->feed->lock);
    per_s = interval > 0 ? (double)iv->answers / interval : 0;
    otelgen_stats_format_ms(otelgen_hist_percentile(&iv->latency, 50), p50, sizeof p50);
    otelgen_stats_format_ms(otelgen_hist_percentile(&iv->latency, 99), p99, sizeof p99);
    printf("%5.0fs %9.0f req/s", elapsed, per_s);
    if (r->per_request >= 0)
        printf(" %11.0f %s/s", per_s * (double)r->per_request, r->items);
    printf("  errors %llu  p50 %s ms  p99 %s ms\n", (unsigned long long)errors, p50, p99);
    fflush(stdout);
}

/* The first SIGINT or SIGTERM stops the run cleanly; a second one ends the process at once. */
static void otelgen_send_run_on_signal(struct otelgen_send_run *r, unsigned *signals)
{
    struct signalfd_siginfo si;

    while (read(r->signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (++*signals > 1) {
            fflush(stdout);
            _exit(130);
        }
        fputs("otelgen: interrupted: waiting for the answers in flight (interrupt again to quit)\n", stderr);
        otelgen_send_run_stop(r);
    }
}

/* Waits for every worker, printing the progress line on time and reading signals meanwhile. */
static void otelgen_send_run_wait(struct otelgen_send_run *r)
{
    struct pollfd fds[2] = { { .fd = r->done_pipe[0], .events = POLLIN }, { .fd = r->signal_fd, .events = POLLIN } };
    int64_t tick = r->start_ns + OTELGEN_SEND_RUN_NS + OTELGEN_SEND_RUN_TICK_LAG_NS, now;
    unsigned done = 0, signals = 0;
    char buf[64];
    ssize_t n;

    while (done < r->plan->threads) {
        now = otelgen_send_run_now();
        int timeout = r->feed == NULL ? -1 : tick > now ? (int)((tick - now + 999999) / 1000000) : 0;
        if (poll(fds, r->signal_fd >= 0 ? 2 : 1, timeout) > 0) {
            if (fds[0].revents & POLLIN && (n = read(r->done_pipe[0], buf, sizeof buf)) > 0)
                done += (unsigned)n;
            if (r->signal_fd >= 0 && fds[1].revents & POLLIN)
                otelgen_send_run_on_signal(r, &signals);
        }
        now = otelgen_send_run_now();
        /* Each worker published its last second just before the tick: the line covers one second. */
        if (r->feed != NULL && now >= tick && done < r->plan->threads) {
            otelgen_send_run_progress(r, (double)(tick - OTELGEN_SEND_RUN_TICK_LAG_NS - r->start_ns) / 1e9, 1.0);
            tick += OTELGEN_SEND_RUN_NS;
        }
    }
}

static int otelgen_send_run_report(struct otelgen_send_run *r)
{
    struct otelgen_stats *all = r->threads[0].stats;

    for (unsigned i = 1; i < r->plan->threads; i++)
        if (otelgen_stats_merge(all, r->threads[i].stats) != 0)
            fputs("otelgen: out of memory: some failure messages are missing from the summary\n", stderr);
    if (r->plan->json)
        otelgen_stats_print_json(all, r->plan->protocol, otelgen_signal_info(r->plan->payload.signal)->name, stdout);
    else
        otelgen_stats_print(all, stdout);
    fflush(stdout);
    return otelgen_stats_all_ok(all, r->plan->retry_max_elapsed_ms > 0) ? 0 : 1;
}

/* Signals that came after the last worker was done are dropped; then the old mask comes back. */
static void otelgen_send_run_restore_signals(struct otelgen_send_run *r)
{
    struct signalfd_siginfo si;

    if (r->signal_fd < 0)
        return;
    while (read(r->signal_fd, &si, sizeof si) == (ssize_t)sizeof si)
        ;
    pthread_sigmask(SIG_SETMASK, &r->old_mask, NULL);
    close(r->signal_fd);
}

int otelgen_send_run(const struct otelgen_send_plan *plan)
{
    struct otelgen_send_run r = { .plan = plan, .stop_pipe = { -1, -1 }, .done_pipe = { -1, -1 }, .signal_fd = -1 };
    char err[1200];
    int rc = 1;

    if (otelgen_send_run_prepare(&r, err, sizeof err) != 0) {
        fprintf(stderr, "otelgen: %s\n", err);
        otelgen_send_run_dispose(&r);
        return 1;
    }
    otelgen_send_run_signals(&r);
    r.start_ns = otelgen_send_run_now();
    for (unsigned i = 0; i < plan->threads; i++)
        otelgen_worker_set_start(r.threads[i].worker, r.start_ns,
                                 plan->duration_ms > 0 ? r.start_ns + plan->duration_ms * 1000000 : 0);
    if (otelgen_send_run_start(&r, err, sizeof err) != 0)
        fprintf(stderr, "otelgen: %s\n", err);
    else
        otelgen_send_run_wait(&r);
    for (unsigned i = 0; i < plan->threads; i++)
        if (r.threads[i].started)
            pthread_join(r.threads[i].id, NULL);
    if (r.threads[plan->threads - 1].started)
        rc = otelgen_send_run_report(&r);
    otelgen_send_run_restore_signals(&r);
    otelgen_send_run_dispose(&r);
    return rc;
}
