/* otelgen_sink_control.c: the control endpoint's routes. Every answer is JSON; an error is {"error": "..."}
 * with a one-line reason, 400 for a bad rule, 404 or 405 for a request it does not serve. Reports and rule
 * changes run through each worker in turn while this (main) thread waits: the endpoint is for tests and
 * operators, a few requests a second, and never slows the workers' hot path. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "otelgen_sink_control.h"

#define OTELGEN_SINK_CONTROL_MAX_BODY (64 * 1024)

struct otelgen_sink_control {
    struct evhttp *http;
    struct otelgen_sink_worker *const *workers;
    unsigned n;
    struct otelgen_sink_faults faults;  /* the rules in force */
    bool tenancy;
    struct timespec since;              /* start, or the last reset */
};

static double otelgen_sink_control_seconds(const struct otelgen_sink_control *c)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - c->since.tv_sec) + (double)(now.tv_nsec - c->since.tv_nsec) / 1e9;
}

static const char *otelgen_sink_control_path(struct evhttp_request *req)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

    return path != NULL ? path : "";
}

/* Sends <j> (taken; NULL means out of memory) with <code>. */
static void otelgen_sink_control_reply(struct evhttp_request *req, int code, json_t *j)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char *text = j != NULL ? json_dumps(j, OTELGEN_SINK_JSON_FLAGS) : NULL;
    struct evbuffer *out = evbuffer_new();

    json_decref(j);
    if (text == NULL || out == NULL) {
        free(text);
        if (out != NULL)
            evbuffer_free(out);
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (code == 405) {
        const char *path = otelgen_sink_control_path(req);
        evhttp_add_header(h, "Allow", strcmp(path, "/stats") == 0 ? "GET, HEAD"
                                      : strcmp(path, "/reset") == 0 ? "POST" : "GET, HEAD, PUT, POST, DELETE");
    }
    if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD) {
        evbuffer_add(out, text, strlen(text));
        evbuffer_add(out, "\n", 1);
    }
    evhttp_send_reply(req, code, NULL, out);
    evbuffer_free(out);
    free(text);
}

static void otelgen_sink_control_error(struct evhttp_request *req, int code, const char *why)
{
    otelgen_sink_control_reply(req, code, json_pack("{ss}", "error", why));
}

static json_t *otelgen_sink_control_faults_json(struct otelgen_sink_control *c)
{
    uint64_t hits[OTELGEN_SINK_MAX_FAULTS];

    otelgen_sink_workers_rule_hits(c->workers, c->n, hits);
    return json_pack("{so}", "faults", otelgen_sink_faults_to_json(&c->faults, hits));
}

/* PUT or POST /faults: the body replaces every rule; DELETE clears them. */
static void otelgen_sink_control_set_faults(struct otelgen_sink_control *c, struct evhttp_request *req, bool clear)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
    struct otelgen_sink_faults f = { .n = 0 };
    char err[512];

    if (!clear && (body == NULL || otelgen_sink_faults_from_json(body, len, c->tenancy, &f, err, sizeof err) != 0)) {
        otelgen_sink_control_error(req, 400, body == NULL ? "out of memory" : err);
        return;
    }
    c->faults = f;
    otelgen_sink_workers_set_faults(c->workers, c->n, &f);
    otelgen_sink_control_reply(req, 200, otelgen_sink_control_faults_json(c));
}

static bool otelgen_sink_control_is(const char *path, const char *want)
{
    return strcmp(path, want) == 0;
}

static void otelgen_sink_control_on_request(struct evhttp_request *req, void *arg)
{
    struct otelgen_sink_control *c = arg;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    const char *path = otelgen_sink_control_path(req);
    bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD;
    bool set = cmd == EVHTTP_REQ_PUT || cmd == EVHTTP_REQ_POST || cmd == EVHTTP_REQ_DELETE;

    if (otelgen_sink_control_is(path, "/stats") && get) {
        otelgen_sink_control_reply(req, 200, otelgen_sink_control_report(c));
    } else if (otelgen_sink_control_is(path, "/reset") && cmd == EVHTTP_REQ_POST) {
        double seconds = otelgen_sink_control_seconds(c);
        clock_gettime(CLOCK_MONOTONIC, &c->since);
        otelgen_sink_control_reply(req, 200, otelgen_sink_workers_report(c->workers, c->n, true, seconds));
    } else if (otelgen_sink_control_is(path, "/faults") && get) {
        otelgen_sink_control_reply(req, 200, otelgen_sink_control_faults_json(c));
    } else if (otelgen_sink_control_is(path, "/faults") && set) {
        otelgen_sink_control_set_faults(c, req, cmd == EVHTTP_REQ_DELETE);
    } else if (otelgen_sink_control_is(path, "/stats") || otelgen_sink_control_is(path, "/reset") ||
               otelgen_sink_control_is(path, "/faults")) {
        otelgen_sink_control_error(req, 405, "method not allowed");
    } else {
        otelgen_sink_control_error(req, 404, "unknown path: the control endpoint serves /stats, /reset and /faults");
    }
}

int otelgen_sink_control_open(struct otelgen_sink_control **out, struct event_base *base, int *fds, unsigned n_fds,
                              struct otelgen_sink_worker *const *w, unsigned n, const struct otelgen_sink_faults *faults,
                              bool tenancy, char *err, size_t errlen)
{
    struct otelgen_sink_control *c = calloc(1, sizeof *c);
    unsigned i = 0;

    *out = c;
    if (c != NULL && (c->http = evhttp_new(base)) != NULL) {
        c->workers = w;
        c->n = n;
        c->faults = *faults;
        c->tenancy = tenancy;
        clock_gettime(CLOCK_MONOTONIC, &c->since);
        evhttp_set_timeout(c->http, 10);
        evhttp_set_max_body_size(c->http, OTELGEN_SINK_CONTROL_MAX_BODY);
        evhttp_set_allowed_methods(c->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                                EVHTTP_REQ_DELETE);
        evhttp_set_gencb(c->http, otelgen_sink_control_on_request, c);
        for (; i < n_fds && evhttp_accept_socket_with_handle(c->http, fds[i]) != NULL; i++)
            fds[i] = -1;
    }
    if (c != NULL && c->http != NULL && i == n_fds)
        return 0;
    snprintf(err, errlen, "control endpoint: %s", c == NULL || c->http == NULL ? "out of memory"
                                                                                : "cannot accept on its socket");
    for (; i < n_fds; i++) {
        close(fds[i]);
        fds[i] = -1;
    }
    otelgen_sink_control_close(c);
    *out = NULL;
    return -1;
}

json_t *otelgen_sink_control_report(struct otelgen_sink_control *c)
{
    return otelgen_sink_workers_report(c->workers, c->n, false, otelgen_sink_control_seconds(c));
}

void otelgen_sink_control_close(struct otelgen_sink_control *c)
{
    if (c == NULL)
        return;
    if (c->http != NULL)
        evhttp_free(c->http);
    free(c);
}
