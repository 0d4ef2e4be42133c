/* otelgen_sink.c: `otelgen sink`: its command line, checked strictly (a usage error is exit 2 before any
 * socket is opened), then the run: --out's file exporter, the workers and their sockets, the control
 * endpoint and the signals on the main thread's loop, and at the end the final report on stdout. */
#include "autoconf.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "config_schema.h"
#include "log.h"
#include "reactor.h"
#include "reactor_listen.h"
#include "registry.h"
#include "otelgen_sink.h"
#include "otelgen_sink_control.h"
#include "otelgen_sink_faults.h"
#include "otelgen_sink_worker.h"
#include "util/units.h"

#define OTELGEN_SINK_MAX_THREADS 256
#define OTELGEN_SINK_DEFAULT_MAX_IDS 16000000LL     /* a full set of this many is 256 MiB */
#define OTELGEN_SINK_MAX_MAX_IDS (1LL << 38)

struct otelgen_sink_opts {
    const char *endpoints[OTELGEN_SINK_PROTOCOLS];
    const char *control;
    char tenant_header[HTTP_REQ_VALUE_MAX];
    long long threads, max_ids;
    const char *out;
    const char **fault_specs;           /* at most argc of them, parsed once the tenant header is known */
    size_t n_fault_specs;
    struct otelgen_sink_faults faults;
};

static void otelgen_sink_usage(FILE *out)
{
    fputs("usage: otelgen sink [--grpc ENDPOINT] [--http ENDPOINT] [--control ENDPOINT]\n"
          "                    [--tenant-header NAME] [--threads N] [--max-ids N] [--out FILE]\n"
          "                    [--fault SPEC]...\n"
          "      --grpc ENDPOINT       OTLP/gRPC listens here (default localhost:4317)\n"
          "      --http ENDPOINT       OTLP/HTTP listens here (default localhost:4318)\n"
          "      --control ENDPOINT    the control endpoint: GET /stats, POST /reset, GET, PUT or\n"
          "                            DELETE /faults (default localhost:4319)\n"
          "      --tenant-header NAME  count per tenant, named by this request header\n"
          "                            (default X-Tenant-Id, as otelgen send --tenants sets it)\n"
          "      --threads N           worker threads, each serving both protocols (default 1)\n"
          "      --max-ids N           item ids kept per signal and thread to find duplicates\n"
          "                            (default 16000000)\n"
          "      --out FILE            write every request taken to FILE: a 4-byte big-endian length,\n"
          "                            then the protobuf request\n"
          "      --fault SPEC          a fault rule, repeatable, tried in order:\n"
          "                            MODE[,ratio=R][,tenant=T][,signal=S][,delay=D][,retry_after=N]\n"
          "                            MODE: unavailable, reject, delay, close or blackhole\n"
          "  -h, --help                this text\n"
          "ENDPOINT: host:port, [v6]:port, or :port for every interface\n"
          "SIGTERM or SIGINT stops the sink; it then prints its counts as JSON on stdout\n",
          out);
}

static int otelgen_sink_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int otelgen_sink_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("otelgen sink: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    otelgen_sink_usage(stderr);
    return 2;
}

static int otelgen_sink_parse_count(const char *opt, const char *s, long long max, long long *out)
{
    int64_t v;
    const char *why;

    if (units_parse_int(s, &v, &why) != 0 || v < 1 || v > max)
        return otelgen_sink_usage_error("%s '%s': expects a whole number from 1 to %lld", opt, s, max);
    *out = v;
    return 0;
}

static int otelgen_sink_parse_endpoint(const char *opt, const char *s, const char **out)
{
    const char *why;

    if (config_schema_check_endpoint(s, &why) != 0)
        return otelgen_sink_usage_error("%s '%s': %s", opt, s, why);
    *out = s;
    return 0;
}

/* A header name: an HTTP token, stored in lower case as the codecs compare it. */
static int otelgen_sink_parse_tenant_header(const char *s, struct otelgen_sink_opts *o)
{
    size_t n = strlen(s);

    if (n == 0 || n >= sizeof o->tenant_header || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                            "0123456789!#$%&'*+-.^_`|~") != n)
        return otelgen_sink_usage_error("--tenant-header '%s': expects a header name (letters, digits, '-', at "
                                        "most %zu characters)", s, sizeof o->tenant_header - 1);
    for (size_t i = 0; i <= n; i++)
        o->tenant_header[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    return 0;
}

enum {
    OTELGEN_SINK_OPT_GRPC = 256,
    OTELGEN_SINK_OPT_HTTP,
    OTELGEN_SINK_OPT_CONTROL,
    OTELGEN_SINK_OPT_TENANT_HEADER,
    OTELGEN_SINK_OPT_THREADS,
    OTELGEN_SINK_OPT_MAX_IDS,
    OTELGEN_SINK_OPT_OUT,
    OTELGEN_SINK_OPT_FAULT,
};

static int otelgen_sink_parse_option(int c, char *arg, struct otelgen_sink_opts *o)
{
    switch (c) {
    case OTELGEN_SINK_OPT_GRPC: return otelgen_sink_parse_endpoint("--grpc", arg, &o->endpoints[OTELGEN_SINK_GRPC]);
    case OTELGEN_SINK_OPT_HTTP: return otelgen_sink_parse_endpoint("--http", arg, &o->endpoints[OTELGEN_SINK_HTTP]);
    case OTELGEN_SINK_OPT_CONTROL: return otelgen_sink_parse_endpoint("--control", arg, &o->control);
    case OTELGEN_SINK_OPT_TENANT_HEADER: return otelgen_sink_parse_tenant_header(arg, o);
    case OTELGEN_SINK_OPT_THREADS: return otelgen_sink_parse_count("--threads", arg, OTELGEN_SINK_MAX_THREADS, &o->threads);
    case OTELGEN_SINK_OPT_MAX_IDS: return otelgen_sink_parse_count("--max-ids", arg, OTELGEN_SINK_MAX_MAX_IDS, &o->max_ids);
    case OTELGEN_SINK_OPT_OUT:
        if (arg[0] == '\0')
            return otelgen_sink_usage_error("--out: expects a file name");
        o->out = arg;
        return 0;
    case OTELGEN_SINK_OPT_FAULT: o->fault_specs[o->n_fault_specs++] = arg; return 0;
    case 'h': otelgen_sink_usage(stdout); return 1;
    default: otelgen_sink_usage(stderr); return 2;  /* getopt said what is wrong */
    }
}

static int otelgen_sink_parse_faults(struct otelgen_sink_opts *o)
{
    char err[512];

    if (o->n_fault_specs > OTELGEN_SINK_MAX_FAULTS)
        return otelgen_sink_usage_error("at most %d --fault rules", OTELGEN_SINK_MAX_FAULTS);
    for (size_t i = 0; i < o->n_fault_specs; i++)
        if (otelgen_sink_fault_parse(o->fault_specs[i], o->tenant_header[0] != '\0', &o->faults.v[i], err,
                                     sizeof err) != 0)
            return otelgen_sink_usage_error("--fault '%s': %s", o->fault_specs[i], err);
    o->faults.n = o->n_fault_specs;
    return 0;
}

/* Returns 0 with <o> filled, 1 after --help, 2 after a usage error. */
static int otelgen_sink_parse_args(int argc, char **argv, struct otelgen_sink_opts *o)
{
    static const struct option longopts[] = {
        { "grpc", required_argument, NULL, OTELGEN_SINK_OPT_GRPC },
        { "http", required_argument, NULL, OTELGEN_SINK_OPT_HTTP },
        { "control", required_argument, NULL, OTELGEN_SINK_OPT_CONTROL },
        { "tenant-header", required_argument, NULL, OTELGEN_SINK_OPT_TENANT_HEADER },
        { "threads", required_argument, NULL, OTELGEN_SINK_OPT_THREADS },
        { "max-ids", required_argument, NULL, OTELGEN_SINK_OPT_MAX_IDS },
        { "out", required_argument, NULL, OTELGEN_SINK_OPT_OUT },
        { "fault", required_argument, NULL, OTELGEN_SINK_OPT_FAULT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1)
        if ((rc = otelgen_sink_parse_option(c, optarg, o)) != 0)
            return rc;
    if (optind < argc)
        return otelgen_sink_usage_error("unexpected argument '%s'", argv[optind]);
    return otelgen_sink_parse_faults(o);
}

/* ---- the run ---- */

/* --out is otelgate's own file exporter in its proto format, started without a gateway: it needs none. */
struct otelgen_sink_out {
    struct component c;
    void *conf;
};

static int otelgen_sink_out_start(struct otelgen_sink_out *out, const char *path, char *err, size_t errlen)
{
    const struct og_component_type *type = registry_find(registry_types, OG_KIND_EXPORTER, "file");
    struct cfg_node k[2] = { { .kind = CFG_SCALAR, .value = (char *)"path" },
                             { .kind = CFG_SCALAR, .value = (char *)"format" } };
    struct cfg_node v[2] = { { .kind = CFG_SCALAR, .value = (char *)path },
                             { .kind = CFG_SCALAR, .value = (char *)"proto" } };
    struct cfg_node *keys[2] = { &k[0], &k[1] }, *vals[2] = { &v[0], &v[1] };
    struct cfg_node map = { .kind = CFG_MAP, .n = 2, .keys = keys, .items = vals };
    struct config_diag d;

    config_diag_init(&d, "otelgen sink --out", stderr);
    if (type == NULL || (out->conf = calloc(1, type->conf_size)) == NULL) {
        snprintf(err, errlen, type == NULL ? "--out: this build has no file exporter" : "out of memory");
        return -1;
    }
    out->c = (struct component){ .type = type, .id = "otelgen sink", .conf = out->conf };
    if (config_schema_apply(type->keys, &map, out->conf, "--out", &d) != 0) {
        snprintf(err, errlen, "--out '%s' is refused by the file exporter", path);
        return -1;
    }
    return type->start(&out->c, NULL, err, errlen);
}

static void otelgen_sink_out_stop(struct otelgen_sink_out *out)
{
    if (out->conf == NULL)
        return;
    out->c.type->stop(&out->c);
    config_schema_free(out->c.type->keys, out->conf);
    free(out->conf);
    out->conf = NULL;
}

struct otelgen_sink_run {
    const struct otelgen_sink_opts *opts;
    struct otelgen_sink_conf conf;
    struct otelgen_sink_out out;
    struct reactor_pool *pool;
    struct reactor_listen listen[OTELGEN_SINK_PROTOCOLS];
    struct reactor_listen control_listen;
    struct otelgen_sink_worker **workers;
    unsigned n;
    struct event_base *base;
    struct otelgen_sink_control *control;
};

/* Workers, with their rules, then their sockets: the first request already meets the rules. */
static int otelgen_sink_run_workers(struct otelgen_sink_run *run, char *err, size_t errlen)
{
    run->workers = calloc(run->n, sizeof *run->workers);
    if (run->workers == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < run->n; i++) {
        run->workers[i] = otelgen_sink_worker_create(&run->conf, reactor_pool_get(run->pool, i));
        if (run->workers[i] == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        otelgen_sink_worker_set_faults(run->workers[i], &run->opts->faults);
    }
    for (unsigned i = 0; i < run->n; i++) {
        if (otelgen_sink_worker_open(run->workers[i], run->listen) != 0) {
            snprintf(err, errlen, "worker %u cannot accept on its sockets", i);
            return -1;
        }
    }
    return 0;
}

static int otelgen_sink_run_start(struct otelgen_sink_run *run, char *err, size_t errlen)
{
    const struct otelgen_sink_opts *o = run->opts;

    if (o->out != NULL && otelgen_sink_out_start(&run->out, o->out, err, errlen) != 0)
        return -1;
    run->conf = (struct otelgen_sink_conf){
        .tenant_header = o->tenant_header[0] != '\0' ? o->tenant_header : NULL,
        .max_ids = (size_t)o->max_ids, .file = o->out != NULL ? &run->out.c : NULL,
    };
    run->n = (unsigned)o->threads;
    if (reactor_pool_create(&run->pool, run->n, err, errlen) != 0 || reactor_pool_start(run->pool, err, errlen) != 0)
        return -1;
    for (int p = 0; p < OTELGEN_SINK_PROTOCOLS; p++)
        if (reactor_listen_open(&run->listen[p], o->endpoints[p], run->n, err, errlen) != 0)
            return -1;
    if (reactor_listen_open(&run->control_listen, o->control, 1, err, errlen) != 0 ||
        otelgen_sink_run_workers(run, err, errlen) != 0)
        return -1;
    return otelgen_sink_control_open(&run->control, run->base, run->control_listen.fds, run->control_listen.naddrs,
                                     run->workers, run->n, &o->faults, run->conf.tenant_header != NULL, err, errlen);
}

/* Closes the workers' sockets, prints the final report, then stops and frees everything; safe after a
 * start that failed anywhere. Returns 0, or 1 when the report could not be printed. */
static int otelgen_sink_run_stop(struct otelgen_sink_run *run, bool report)
{
    int rc = 0;

    for (unsigned i = 0; run->workers != NULL && i < run->n; i++)
        if (run->workers[i] != NULL)
            otelgen_sink_worker_close(run->workers[i]);
    if (report) {
        json_t *j = otelgen_sink_control_report(run->control);
        if (j == NULL || json_dumpf(j, stdout, OTELGEN_SINK_JSON_FLAGS) != 0 || fputc('\n', stdout) == EOF ||
            fflush(stdout) != 0)
            rc = 1;
        json_decref(j);
    }
    otelgen_sink_control_close(run->control);
    reactor_pool_stop(run->pool);
    for (unsigned i = 0; run->workers != NULL && i < run->n; i++)
        otelgen_sink_worker_destroy(run->workers[i]);
    free(run->workers);
    reactor_pool_destroy(run->pool);
    for (int p = 0; p < OTELGEN_SINK_PROTOCOLS; p++)
        reactor_listen_close(&run->listen[p]);
    reactor_listen_close(&run->control_listen);
    otelgen_sink_out_stop(&run->out);
    return rc;
}

static void otelgen_sink_on_signal(evutil_socket_t sig, short what, void *arg)
{
    event_base_loopbreak(arg);
}

/* Says where it listens, on stderr, once everything is ready: a script may wait for this line. */
static void otelgen_sink_say_ready(const struct otelgen_sink_run *run)
{
    fprintf(stderr, "otelgen sink: listening grpc=%s http=%s control=%s threads=%u\n",
            run->listen[OTELGEN_SINK_GRPC].addrs[0], run->listen[OTELGEN_SINK_HTTP].addrs[0],
            run->control_listen.addrs[0], run->n);
}

static int otelgen_sink_run(const struct otelgen_sink_opts *o)
{
    struct otelgen_sink_run run = { .opts = o };
    struct event *sigs[2] = { NULL, NULL };
    const int signums[2] = { SIGTERM, SIGINT };
    char err[1024] = "cannot watch signals";
    int rc = 1;

    log_set_level(LOG_LEVEL_WARN);
    /* jansson seeds its hashes on first use: here, not on two workers decoding OTLP/JSON at once */
    json_object_seed(0);
    run.base = event_base_new();
    if (run.base == NULL) {
        fprintf(stderr, "otelgen sink: cannot create the main event loop\n");
        return 1;
    }
    for (int i = 0; i < 2; i++)
        if ((sigs[i] = evsignal_new(run.base, signums[i], otelgen_sink_on_signal, run.base)) == NULL ||
            evsignal_add(sigs[i], NULL) != 0)
            goto failed;
    if (otelgen_sink_run_start(&run, err, sizeof err) != 0)
        goto failed;
    otelgen_sink_say_ready(&run);
    event_base_dispatch(run.base);
    rc = otelgen_sink_run_stop(&run, true);
    goto out;
failed:
    fprintf(stderr, "otelgen sink: %s\n", err);
    otelgen_sink_run_stop(&run, false);
out:
    for (int i = 0; i < 2; i++)
        if (sigs[i] != NULL)
            event_free(sigs[i]);
    event_base_free(run.base);
    return rc;
}

int otelgen_sink_main(int argc, char **argv)
{
    struct otelgen_sink_opts o = {
        .endpoints = { [OTELGEN_SINK_GRPC] = "localhost:4317", [OTELGEN_SINK_HTTP] = "localhost:4318" },
        .control = "localhost:4319", .threads = 1, .max_ids = OTELGEN_SINK_DEFAULT_MAX_IDS,
        .tenant_header = "x-tenant-id",     /* what otelgen send --tenants sets */
    };
    int rc;

    o.fault_specs = calloc((size_t)argc, sizeof *o.fault_specs);
    if (o.fault_specs == NULL) {
        fprintf(stderr, "otelgen sink: out of memory\n");
        return 1;
    }
    rc = otelgen_sink_parse_args(argc, argv, &o);
    if (rc == 1)
        rc = 0;                         /* --help */
    else if (rc == 0)
        rc = otelgen_sink_run(&o);
    free(o.fault_specs);
    return rc;
}
