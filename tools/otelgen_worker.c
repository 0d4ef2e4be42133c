/* otelgen_worker.c: a worker's reactor and the policy around connections: open them, hand out request
 * numbers, try the next address when a connect fails, replace a connection the server closed in an orderly
 * way, fail what is left when no connection remains, and stop when every request is settled. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "otelgen_payload.h"
#include "otelgen_worker.h"

struct otelgen_worker_conn {
    void *conn;
    size_t addr;                        /* index into target->addrs */
    bool live;
};

struct otelgen_worker {
    struct otelgen_worker_conf conf;
    struct otelgen_stats *stats;
    struct event_base *base;
    struct event *finish;               /* deferred, so no client is closed from inside its own callback */
    struct otelgen_payload_ctx *payload_ctx;
    struct otelgen_worker_conn *conns;
    unsigned n_conns, live;
    uint64_t next;                      /* requests handed out, from 0 */
    uint64_t settled;                   /* answered or failed */
    uint64_t *returned;                 /* given back, to be sent again first */
    size_t n_returned, cap_returned;
    size_t good_addr;                   /* the last address that accepted a connection */
    bool closing;
    uint64_t conn_errors;               /* connections that failed without losing a request */
    char conn_error[256];               /* the first such failure */
    char last_error[256];               /* the last failure: why unsent requests fail */
};

static void otelgen_worker_open(struct otelgen_worker *w, unsigned slot, size_t addr);

/* Each distinct connection failure is said once on stderr, however many connections hit it. */
static void otelgen_worker_note_error(struct otelgen_worker *w, const char *why, bool costs_requests)
{
    if (strcmp(why, w->last_error) != 0)
        fprintf(stderr, "otelgen: %s\n", why);
    snprintf(w->last_error, sizeof w->last_error, "%s", why);
    if (costs_requests)
        return;
    if (w->conn_errors++ == 0)
        snprintf(w->conn_error, sizeof w->conn_error, "%s", why);
}

static bool otelgen_worker_has_work(const struct otelgen_worker *w)
{
    return !w->closing && (w->n_returned > 0 || w->next < w->conf.requests);
}

/* Called whenever a connection is gone: when none is left, the run is over. */
static void otelgen_worker_check_done(struct otelgen_worker *w)
{
    if (w->live > 0)
        return;
    if (w->settled < w->conf.requests) {
        /* Nothing left to send them: they fail for the reason the last connection failed. */
        otelgen_stats_add_unsent(w->stats, w->conf.requests - w->settled,
                                 w->last_error[0] != '\0' ? w->last_error : "no connection left");
        w->settled = w->conf.requests;
        otelgen_stats_stop(w->stats);
    } else {
        for (uint64_t i = 0; i < w->conn_errors; i++)
            otelgen_stats_add_conn_error(w->stats, w->conn_error);
    }
    w->conn_errors = 0;
    event_base_loopexit(w->base, NULL);
}

static void otelgen_worker_on_finish(evutil_socket_t fd, short what, void *arg)
{
    struct otelgen_worker *w = arg;
    (void)fd;
    (void)what;

    w->closing = true;
    for (unsigned i = 0; i < w->n_conns; i++)
        if (w->conns[i].live)
            w->conf.client->close(w->conns[i].conn);
    otelgen_worker_check_done(w);
}

bool otelgen_worker_next(struct otelgen_worker *w, uint64_t *seq)
{
    if (w->closing)
        return false;
    if (w->n_returned > 0) {
        *seq = w->returned[--w->n_returned];
        return true;
    }
    if (w->next == w->conf.requests)
        return false;
    *seq = w->conf.first_seq + w->next++;
    return true;
}

void otelgen_worker_give_back(struct otelgen_worker *w, uint64_t seq)
{
    if (w->n_returned == w->cap_returned) {
        size_t cap = w->cap_returned != 0 ? w->cap_returned * 2 : 64;
        uint64_t *r = realloc(w->returned, cap * sizeof *r);
        if (r == NULL) {
            /* Cannot keep it for later: it fails instead of vanishing. */
            otelgen_worker_answered(w, &(struct otelgen_answer){ OTELGEN_ANSWER_FAILED, 0, "out of memory" });
            return;
        }
        w->returned = r;
        w->cap_returned = cap;
    }
    w->returned[w->n_returned++] = seq;
}

void otelgen_worker_answered(struct otelgen_worker *w, const struct otelgen_answer *a)
{
    if (otelgen_stats_add(w->stats, a))
        fprintf(stderr, "otelgen: %s\n", a->message);
    if (a->kind == OTELGEN_ANSWER_FAILED)
        snprintf(w->last_error, sizeof w->last_error, "%s", a->message);
    if (++w->settled == w->conf.requests) {
        otelgen_stats_stop(w->stats);
        event_active(w->finish, 0, 0);
    }
}

void otelgen_worker_conn_ended(struct otelgen_worker *w, unsigned slot, const char *why, bool connected,
                               uint64_t answered, unsigned lost)
{
    struct otelgen_worker_conn *c = &w->conns[slot];

    c->live = false;
    c->conn = NULL;
    w->live--;
    if (connected)
        w->good_addr = c->addr;
    if (why != NULL && !connected && c->addr + 1 < w->conf.target->n_addrs && !w->closing) {
        otelgen_worker_open(w, slot, c->addr + 1);      /* "localhost" may be ::1 first, the server on IPv4 */
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
    w->base = event_base_new();
    w->conns = calloc(w->n_conns != 0 ? w->n_conns : 1, sizeof *w->conns);
    if (w->base == NULL || w->conns == NULL)
        goto oom;
    w->finish = event_new(w->base, -1, 0, otelgen_worker_on_finish, w);
    if (w->finish == NULL || otelgen_payload_ctx_create(&w->payload_ctx, conf->payload, err, errlen) != 0)
        goto oom;
    *out = w;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    otelgen_worker_destroy(w);
    return -1;
}

void otelgen_worker_run(struct otelgen_worker *w)
{
    otelgen_stats_start(w->stats);
    for (unsigned i = 0; i < w->n_conns; i++)
        otelgen_worker_open(w, i, 0);
    if (w->live == 0) {
        otelgen_worker_check_done(w);
        return;
    }
    event_base_dispatch(w->base);
}

void otelgen_worker_destroy(struct otelgen_worker *w)
{
    if (w == NULL)
        return;
    if (w->finish != NULL)
        event_free(w->finish);
    if (w->base != NULL)
        event_base_free(w->base);
    otelgen_payload_ctx_destroy(w->payload_ctx);
    free(w->conns);
    free(w->returned);
    free(w);
}
