/* ext_health_check.c: the Collector's health_check extension. Every worker
 * serves it on its own SO_REUSEPORT socket, so a worker whose loop is stuck
 * fails the checks routed to it instead of hiding behind a healthy thread.
 * 200 while running, 503 from the first SIGTERM on. */
#include "autoconf.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component.h"
#include "gateway.h"
#include "log.h"
#include "reactor.h"
#include "reactor_listen.h"

struct ext_health_check_conf {
    char *endpoint;
    char *path;
};

static const struct og_config_key ext_health_check_keys[] = {
    { "endpoint", KEY_ENDPOINT, "localhost:13133", offsetof(struct ext_health_check_conf, endpoint),
      .doc = "address the health check listens on" },
    { "path", KEY_STRING, "/", offsetof(struct ext_health_check_conf, path),
      .doc = "URL path answered with the status (/health is answered too)" },
    { NULL },
};

struct ext_health_check_worker {
    struct ext_health_check *hc;
    struct evhttp *http;
    unsigned index;
};

struct ext_health_check {
    const struct ext_health_check_conf *conf;
    struct gateway *gw;
    struct reactor_listen listen;
    struct ext_health_check_worker *workers;
    unsigned nworkers;
};

static int ext_health_check_check(const void *conf, const char *id, const struct cfg_node *key,
                                  const struct cfg_node *val, struct config_diag *d)
{
    const struct ext_health_check_conf *c = conf;
    int line, col;

    if (c->path[0] != '/') {
        config_yaml_pos(key, val, "path", &line, &col);
        config_diag_error(d, line, col, "extensions.%s.path: '%s' must start with '/'", id, c->path);
        return -1;
    }
    return 0;
}

static void ext_health_check_reply(struct evhttp_request *req, int code, const char *reason, const char *body)
{
    struct evbuffer *out = evbuffer_new();
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    if (out == NULL) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    evhttp_add_header(h, "Content-Type", code == 200 || code == 503 ? "application/json" : "text/plain");
    evhttp_add_header(h, "Cache-Control", "no-store");
    if (code == 405)
        evhttp_add_header(h, "Allow", "GET, HEAD");
    if (evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
        evbuffer_add(out, body, strlen(body));
    evhttp_send_reply(req, code, reason, out);
    evbuffer_free(out);
}

static bool ext_health_check_path_ok(const struct ext_health_check *hc, struct evhttp_request *req)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

    if (path == NULL || path[0] == '\0')
        path = "/";
    return strcmp(path, hc->conf->path) == 0 || strcmp(path, "/health") == 0;
}

static void ext_health_check_on_request(struct evhttp_request *req, void *arg)
{
    struct ext_health_check_worker *w = arg;
    struct ext_health_check *hc = w->hc;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    char body[256];

    if (!ext_health_check_path_ok(hc, req)) {
        ext_health_check_reply(req, 404, "Not Found", "not found\n");
        return;
    }
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        ext_health_check_reply(req, 405, "Method Not Allowed", "method not allowed\n");
        return;
    }
    bool draining = gateway_draining(hc->gw);
    snprintf(body, sizeof(body), "{\"status\":\"%s\",\"upSince\":\"%s\",\"uptime\":\"%.3fs\"}\n",
             draining ? "Server not available" : "Server available", gateway_started_iso(hc->gw),
             gateway_uptime(hc->gw));
    if (draining)
        ext_health_check_reply(req, 503, "Service Unavailable", body);
    else
        ext_health_check_reply(req, 200, "OK", body);
}

/* Worker thread: serve this worker's sockets. A failure leaves w->http NULL,
 * which the main thread turns into a start error. */
static void ext_health_check_on_worker_start(struct reactor *r, void *arg)
{
    struct ext_health_check_worker *w = arg;
    struct ext_health_check *hc = w->hc;
    struct reactor_listen *l = &hc->listen;

    w->http = evhttp_new(reactor_base(r));
    if (w->http == NULL)
        return;
    evhttp_set_timeout(w->http, 10);
    evhttp_set_max_headers_size(w->http, 8192);
    evhttp_set_max_body_size(w->http, 1024);
    evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(w->http, ext_health_check_on_request, w);
    for (unsigned a = 0; a < l->naddrs; a++) {
        int *fd = &l->fds[w->index * l->naddrs + a];
        if (evhttp_accept_socket_with_handle(w->http, *fd) == NULL) {
            evhttp_free(w->http);
            w->http = NULL;
            return;
        }
        *fd = -1;   /* the evhttp owns it now and closes it when freed */
    }
}

static void ext_health_check_on_worker_stop(struct reactor *r, void *arg)
{
    struct ext_health_check_worker *w = arg;

    if (w->http != NULL)
        evhttp_free(w->http);
    w->http = NULL;
}

static void ext_health_check_stop(struct component *c)
{
    struct ext_health_check *hc = c->state;

    if (hc == NULL)
        return;
    for (unsigned i = 0; i < hc->nworkers; i++)
        reactor_call(reactor_pool_get(gateway_workers(hc->gw), i), ext_health_check_on_worker_stop, &hc->workers[i]);
    reactor_listen_close(&hc->listen);
    free(hc->workers);
    free(hc);
    c->state = NULL;
}

static int ext_health_check_start(struct component *c, struct gateway *gw, char *err, size_t errlen)
{
    struct ext_health_check *hc = calloc(1, sizeof(*hc));
    struct reactor_pool *pool = gateway_workers(gw);

    if (hc == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->state = hc;
    hc->conf = c->conf;
    hc->gw = gw;
    if (reactor_listen_open(&hc->listen, hc->conf->endpoint, reactor_pool_size(pool), err, errlen) != 0)
        return -1;
    hc->workers = calloc(reactor_pool_size(pool), sizeof(*hc->workers));
    if (hc->workers == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < reactor_pool_size(pool); i++) {
        struct ext_health_check_worker *w = &hc->workers[i];
        w->hc = hc;
        w->index = i;
        hc->nworkers = i + 1;
        if (reactor_call(reactor_pool_get(pool, i), ext_health_check_on_worker_start, w) != 0 || w->http == NULL) {
            snprintf(err, errlen, "worker %u cannot serve %s", i, hc->conf->endpoint);
            return -1;
        }
    }
    for (unsigned a = 0; a < hc->listen.naddrs; a++)
        log_info(c->id, "listening endpoint=%s address=%s", hc->conf->endpoint, hc->listen.addrs[a]);
    return 0;
}

const struct og_component_type ext_health_check_type = {
    .name = "health_check",
    .kind = OG_KIND_EXTENSION,
    .keys = ext_health_check_keys,
    .conf_size = sizeof(struct ext_health_check_conf),
    .check = ext_health_check_check,
    .start = ext_health_check_start,
    .stop = ext_health_check_stop,
};
