/* recv_otlp.c: the Collector's otlp receiver: OTLP/gRPC and OTLP/HTTP
 * endpoints, each served by every worker on its own SO_REUSEPORT socket.
 * This file owns the configuration and the life cycle; grpc.c and
 * otlp_http.c answer the requests. */
#include "autoconf.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "component.h"
#include "conn.h"
#include "gateway.h"
#include "http_req.h"
#include "log.h"
#include "reactor.h"
#include "reactor_listen.h"
#include "recv_otlp.h"

enum { RECV_OTLP_GRPC, RECV_OTLP_HTTP, RECV_OTLP_PROTOCOLS };

#define RECV_OTLP_STOP_WAIT_MS 5000     /* stop() waits this long for requests the pipelines hold */

struct recv_otlp_grpc_conf {
    bool enabled;
    char *endpoint;
    int64_t max_recv_msg_size_mib;
    int64_t max_concurrent_streams;
    int64_t max_connections;
    int64_t idle_timeout_ms;
    uint64_t max_header_bytes;
    int64_t max_headers;
};

struct recv_otlp_http_conf {
    bool enabled;
    char *endpoint;
    uint64_t max_request_body_size;
    uint64_t max_json_body_size;
    char *traces_url_path, *metrics_url_path, *logs_url_path;
    int64_t max_concurrent_streams;
    int64_t max_connections;
    int64_t idle_timeout_ms;
    uint64_t max_header_bytes;
    int64_t max_headers;
};

struct recv_otlp_conf {
    struct recv_otlp_grpc_conf grpc;
    struct recv_otlp_http_conf http;
    char *tenant_header;
};

#define RECV_OTLP_LIMIT_KEYS(type)                                                                              \
    { "max_concurrent_streams", KEY_INT, "100", offsetof(type, max_concurrent_streams), 1, 10000,               \
      .doc = "HTTP/2 streams in flight per connection" },                                                      \
    { "max_connections", KEY_INT, "1024", offsetof(type, max_connections), 1, 1000000,                          \
      .doc = "open connections per worker; more are closed at accept" },                                      \
    { "max_header_bytes", KEY_SIZE, "16KiB", offsetof(type, max_header_bytes), 1024, 1 << 20,                  \
      .doc = "request line and headers of one request" },                                                     \
    { "max_headers", KEY_INT, "100", offsetof(type, max_headers), 1, 10000,                                   \
      .doc = "header fields of one request" }

static const struct og_config_key recv_otlp_grpc_keys[] = {
    { "endpoint", KEY_ENDPOINT, "localhost:4317", offsetof(struct recv_otlp_grpc_conf, endpoint),
      .doc = "address OTLP/gRPC listens on" },
    { "max_recv_msg_size_mib", KEY_INT, "4", offsetof(struct recv_otlp_grpc_conf, max_recv_msg_size_mib), 1, 1024,
      .doc = "largest message, after decompression, in MiB" },
    { "idle_timeout", KEY_DURATION, "5m", offsetof(struct recv_otlp_grpc_conf, idle_timeout_ms), 1000, 86400000,
      .doc = "a connection silent this long is closed" },
    RECV_OTLP_LIMIT_KEYS(struct recv_otlp_grpc_conf),
    { NULL },
};

static const struct og_config_key recv_otlp_http_keys[] = {
    { "endpoint", KEY_ENDPOINT, "localhost:4318", offsetof(struct recv_otlp_http_conf, endpoint),
      .doc = "address OTLP/HTTP listens on" },
    { "max_request_body_size", KEY_SIZE, "20MiB", offsetof(struct recv_otlp_http_conf, max_request_body_size),
      1024, 1 << 30, .doc = "largest body, also after decompression" },
    { "max_json_body_size", KEY_SIZE, "4MiB", offsetof(struct recv_otlp_http_conf, max_json_body_size),
      1024, 1 << 30, .doc = "largest JSON body after decompression: parsing holds about 12x its size" },
    { "traces_url_path", KEY_STRING, "/v1/traces", offsetof(struct recv_otlp_http_conf, traces_url_path),
      .doc = "path of trace exports" },
    { "metrics_url_path", KEY_STRING, "/v1/metrics", offsetof(struct recv_otlp_http_conf, metrics_url_path),
      .doc = "path of metric exports" },
    { "logs_url_path", KEY_STRING, "/v1/logs", offsetof(struct recv_otlp_http_conf, logs_url_path),
      .doc = "path of log exports" },
    { "idle_timeout", KEY_DURATION, "1m", offsetof(struct recv_otlp_http_conf, idle_timeout_ms), 1000, 86400000,
      .doc = "a keep-alive connection silent this long is closed" },
    RECV_OTLP_LIMIT_KEYS(struct recv_otlp_http_conf),
    { NULL },
};

static const struct og_config_key recv_otlp_protocols_keys[] = {
    { "grpc", KEY_SECTION, NULL, offsetof(struct recv_otlp_conf, grpc), .flags = OG_KEY_PRESENCE,
      .sub = recv_otlp_grpc_keys, .doc = "OTLP/gRPC; on when present" },
    { "http", KEY_SECTION, NULL, offsetof(struct recv_otlp_conf, http), .flags = OG_KEY_PRESENCE,
      .sub = recv_otlp_http_keys, .doc = "OTLP/HTTP; on when present" },
    { NULL },
};

static const struct og_config_key recv_otlp_keys[] = {
    { "protocols", KEY_SECTION, NULL, 0, .sub = recv_otlp_protocols_keys, .doc = "grpc and/or http" },
    { "tenant_header", KEY_STRING, NULL, offsetof(struct recv_otlp_conf, tenant_header),
      .doc = "request header whose value is the tenant (X-Tenant-Id, X-Scope-OrgID); unset: one tenant, \"\"" },
    { NULL },
};

struct recv_otlp {
    const char *id;
    struct gateway *gw;
    struct recv_otlp_route route;
    struct recv_otlp_proto proto[RECV_OTLP_PROTOCOLS];
    bool enabled[RECV_OTLP_PROTOCOLS];
    struct reactor_listen listen[RECV_OTLP_PROTOCOLS];
    struct conn_listener *listeners[RECV_OTLP_PROTOCOLS];  /* one per worker */
    char tenant_header[HTTP_REQ_VALUE_MAX];                 /* lower case; "" for none */
    unsigned nworkers;
};

static int recv_otlp_check(const void *conf, const char *id, const struct cfg_node *key,
                           const struct cfg_node *val, struct config_diag *d)
{
    const struct recv_otlp_conf *c = conf;
    const char *paths[3] = { c->http.traces_url_path, c->http.metrics_url_path, c->http.logs_url_path };
    static const char *const names[3] = { "protocols.http.traces_url_path", "protocols.http.metrics_url_path",
                                          "protocols.http.logs_url_path" };
    int line, col;

    if (c->tenant_header != NULL && (strlen(c->tenant_header) >= HTTP_REQ_VALUE_MAX ||
                                     strspn(c->tenant_header, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                              "0123456789-_.") != strlen(c->tenant_header) ||
                                     c->tenant_header[0] == '\0')) {
        config_yaml_pos(key, val, "tenant_header", &line, &col);
        config_diag_error(d, line, col, "receivers.%s.tenant_header: '%s' is not a header name", id, c->tenant_header);
        return -1;
    }
    if (!c->grpc.enabled && !c->http.enabled) {
        config_yaml_pos(key, val, "protocols", &line, &col);
        config_diag_error(d, line, col, "receivers.%s: enable at least one of protocols.grpc and protocols.http",
                          id);
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        config_yaml_pos(key, val, names[i], &line, &col);
        if (paths[i][0] != '/' || strchr(paths[i], '?') != NULL) {
            config_diag_error(d, line, col, "receivers.%s: url path '%s' must start with '/' and hold no '?'", id,
                              paths[i]);
            return -1;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(paths[i], paths[j]) == 0) {
                config_diag_error(d, line, col, "receivers.%s: two signals share the url path '%s'", id, paths[i]);
                return -1;
            }
        }
    }
    return 0;
}

static void recv_otlp_setup_protocols(struct recv_otlp *ro, const struct recv_otlp_conf *c)
{
    struct recv_otlp_proto *g = &ro->proto[RECV_OTLP_GRPC], *h = &ro->proto[RECV_OTLP_HTTP];
    const char *tenant_header = NULL;

    if (c->tenant_header != NULL && c->tenant_header[0] != '\0') {
        size_t i = 0;
        for (; c->tenant_header[i] != '\0' && i + 1 < sizeof(ro->tenant_header); i++)
            ro->tenant_header[i] = (char)tolower((unsigned char)c->tenant_header[i]);
        ro->tenant_header[i] = '\0';
        tenant_header = ro->tenant_header;
    }

    ro->enabled[RECV_OTLP_GRPC] = c->grpc.enabled;
    g->route = &ro->route;
    g->max_message_bytes = (uint64_t)c->grpc.max_recv_msg_size_mib << 20;
    g->serve = (struct conn_serve){
        .grpc = true, .max_body_bytes = g->max_message_bytes + 5, .max_header_bytes = c->grpc.max_header_bytes,
        .max_headers = (uint32_t)c->grpc.max_headers, .max_concurrent_streams = (uint32_t)c->grpc.max_concurrent_streams,
        .max_connections = (uint32_t)c->grpc.max_connections, .idle_timeout_ms = c->grpc.idle_timeout_ms,
        .handle = grpc_handle, .ctx = g, .id = ro->id, .tenant_header = tenant_header,
    };
    ro->enabled[RECV_OTLP_HTTP] = c->http.enabled;
    h->route = &ro->route;
    h->max_message_bytes = c->http.max_request_body_size;
    h->max_json_bytes = c->http.max_json_body_size;
    h->paths[OG_SIGNAL_TRACES] = c->http.traces_url_path;
    h->paths[OG_SIGNAL_METRICS] = c->http.metrics_url_path;
    h->paths[OG_SIGNAL_LOGS] = c->http.logs_url_path;
    h->serve = (struct conn_serve){
        .grpc = false, .max_body_bytes = c->http.max_request_body_size, .max_header_bytes = c->http.max_header_bytes,
        .max_headers = (uint32_t)c->http.max_headers, .max_concurrent_streams = (uint32_t)c->http.max_concurrent_streams,
        .max_connections = (uint32_t)c->http.max_connections, .idle_timeout_ms = c->http.idle_timeout_ms,
        .handle = otlp_http_handle, .ctx = h, .id = ro->id, .tenant_header = tenant_header,
    };
}

struct recv_otlp_job {
    struct recv_otlp *ro;
    int rc;
};

static void recv_otlp_on_worker_open(struct reactor *r, void *arg)
{
    struct recv_otlp_job *job = arg;
    struct recv_otlp *ro = job->ro;
    unsigned w = reactor_id(r);

    for (int p = 0; p < RECV_OTLP_PROTOCOLS; p++) {
        struct reactor_listen *l = &ro->listen[p];
        if (!ro->enabled[p])
            continue;
        for (unsigned a = 0; a < l->naddrs; a++) {
            int *fd = &l->fds[w * l->naddrs + a];
            struct conn_listener *cl = &ro->listeners[p][w * l->naddrs + a];
            int rc = conn_listener_open(cl, reactor_base(r), *fd, &ro->proto[p].serve);
            *fd = -1;   /* taken, even on failure */
            if (rc != 0)
                job->rc = -1;
        }
    }
}

static void recv_otlp_on_worker_drain(struct reactor *r, void *arg)
{
    struct recv_otlp *ro = arg;
    unsigned w = reactor_id(r);

    for (int p = 0; p < RECV_OTLP_PROTOCOLS; p++)
        for (unsigned a = 0; ro->listeners[p] != NULL && a < ro->listen[p].naddrs; a++)
            conn_listener_drain(&ro->listeners[p][w * ro->listen[p].naddrs + a]);
}

static void recv_otlp_on_worker_close(struct reactor *r, void *arg)
{
    struct recv_otlp *ro = arg;
    unsigned w = reactor_id(r);

    for (int p = 0; p < RECV_OTLP_PROTOCOLS; p++)
        for (unsigned a = 0; ro->listeners[p] != NULL && a < ro->listen[p].naddrs; a++)
            conn_listener_close(&ro->listeners[p][w * ro->listen[p].naddrs + a]);
}

static void recv_otlp_each_worker(struct recv_otlp *ro, reactor_fn fn, void *arg)
{
    struct reactor_pool *pool = gateway_workers(ro->gw);

    for (unsigned i = 0; i < ro->nworkers; i++)
        reactor_call(reactor_pool_get(pool, i), fn, arg);
}

static int recv_otlp_listen(struct recv_otlp *ro, const struct recv_otlp_conf *c, char *err, size_t errlen)
{
    const char *endpoints[RECV_OTLP_PROTOCOLS] = { c->grpc.endpoint, c->http.endpoint };

    for (int p = 0; p < RECV_OTLP_PROTOCOLS; p++) {
        if (!ro->enabled[p])
            continue;
        if (reactor_listen_open(&ro->listen[p], endpoints[p], ro->nworkers, err, errlen) != 0)
            return -1;
        ro->listeners[p] = calloc((size_t)ro->nworkers * ro->listen[p].naddrs, sizeof(struct conn_listener));
        if (ro->listeners[p] == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }
    struct recv_otlp_job job = { .ro = ro, .rc = 0 };
    recv_otlp_each_worker(ro, recv_otlp_on_worker_open, &job);
    if (job.rc != 0) {
        snprintf(err, errlen, "a worker cannot accept on its socket");
        return -1;
    }
    for (int p = 0; p < RECV_OTLP_PROTOCOLS; p++)
        for (unsigned a = 0; ro->enabled[p] && a < ro->listen[p].naddrs; a++)
            log_info(ro->id, "listening protocol=%s endpoint=%s address=%s", p == RECV_OTLP_GRPC ? "grpc" : "http",
                     endpoints[p], ro->listen[p].addrs[a]);
    return 0;
}

static int recv_otlp_start(struct component *c, struct gateway *gw, char *err, size_t errlen)
{
    struct recv_otlp *ro = calloc(1, sizeof(*ro));

    if (ro == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->state = ro;
    ro->id = c->id;
    ro->gw = gw;
    ro->nworkers = reactor_pool_size(gateway_workers(gw));
    ro->route.id = c->id;
    for (int s = 0; s < OG_SIGNAL_COUNT; s++) {
        size_t n = gateway_pipelines_of(gw, c->id, s, ro->route.pipelines[s], RECV_OTLP_MAX_PIPELINES);
        if (n > RECV_OTLP_MAX_PIPELINES) {
            snprintf(err, errlen, "feeds more than %d %s pipelines", RECV_OTLP_MAX_PIPELINES,
                     component_signal_name((enum og_signal)s));
            return -1;
        }
        ro->route.npipelines[s] = n;
    }
    recv_otlp_setup_protocols(ro, c->conf);
    return recv_otlp_listen(ro, c->conf, err, errlen);
}

static void recv_otlp_drain(struct component *c)
{
    struct recv_otlp *ro = c->state;

    if (ro != NULL)
        recv_otlp_each_worker(ro, recv_otlp_on_worker_drain, ro);
}

static uint64_t recv_otlp_inflight(const struct component *c)
{
    const struct recv_otlp *ro = c->state;
    uint64_t n = 0;

    /* After the drain began, an open connection is one whose client is still
     * sending or being answered: the drain waits for it too. */
    for (int p = 0; ro != NULL && p < RECV_OTLP_PROTOCOLS; p++)
        for (unsigned i = 0; ro->listeners[p] != NULL && i < ro->nworkers * ro->listen[p].naddrs; i++)
            n += atomic_load(&ro->listeners[p][i].inflight) + atomic_load(&ro->listeners[p][i].connections);
    return n;
}

static void recv_otlp_stop(struct component *c)
{
    struct recv_otlp *ro = c->state;

    if (ro == NULL)
        return;
    recv_otlp_each_worker(ro, recv_otlp_on_worker_close, ro);
    /* Requests the pipelines still hold (a batch filling, a spool commit) are answered on their workers,
     * which are running, through connections that point at our listeners: wait for them. */
    for (int i = 0; i < RECV_OTLP_STOP_WAIT_MS / 10 && recv_otlp_inflight(c) > 0; i++)
        usleep(10000);
    bool held = recv_otlp_inflight(c) > 0;
    if (held)
        log_warn(c->id, "stopping with %llu requests still held by the pipelines; they are answered when released",
                 (unsigned long long)recv_otlp_inflight(c));
    log_info(c->id, "stopped accepted_spans=%llu accepted_metric_points=%llu accepted_log_records=%llu "
             "refused_spans=%llu refused_metric_points=%llu refused_log_records=%llu",
             (unsigned long long)atomic_load(&ro->route.accepted[OG_SIGNAL_TRACES]),
             (unsigned long long)atomic_load(&ro->route.accepted[OG_SIGNAL_METRICS]),
             (unsigned long long)atomic_load(&ro->route.accepted[OG_SIGNAL_LOGS]),
             (unsigned long long)atomic_load(&ro->route.refused[OG_SIGNAL_TRACES]),
             (unsigned long long)atomic_load(&ro->route.refused[OG_SIGNAL_METRICS]),
             (unsigned long long)atomic_load(&ro->route.refused[OG_SIGNAL_LOGS]));
    for (int p = 0; p < RECV_OTLP_PROTOCOLS; p++)
        reactor_listen_close(&ro->listen[p]);
    if (held)
        return;     /* their connections still point here: left to the exit rather than freed under them */
    for (int p = 0; p < RECV_OTLP_PROTOCOLS; p++)
        free(ro->listeners[p]);
    free(ro);
    c->state = NULL;
}

const struct og_component_type recv_otlp_type = {
    .name = "otlp",
    .kind = OG_KIND_RECEIVER,
    .keys = recv_otlp_keys,
    .conf_size = sizeof(struct recv_otlp_conf),
    .signals = OG_SIGNAL_ALL,
    .check = recv_otlp_check,
    .start = recv_otlp_start,
    .drain = recv_otlp_drain,
    .inflight = recv_otlp_inflight,
    .stop = recv_otlp_stop,
};
