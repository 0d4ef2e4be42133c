/* otelgen_send.c: `otelgen send`: its command line, checked strictly (a usage error is exit 2 before anything
 * is sent), then the run: resolve ENDPOINT, prepare the payload, let one worker send, print the summary. */
#include "autoconf.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otelgen_endpoint.h"
#include "otelgen_gen.h"
#include "otelgen_payload.h"
#include "otelgen_send.h"
#include "otelgen_worker.h"
#include "util/units.h"

#define OTELGEN_SEND_MAX_CONNS 10000
#define OTELGEN_SEND_MAX_REQUESTS 1000000000000LL  /* 2^40 request numbers fit in a trace id */
#define OTELGEN_SEND_DEFAULT_ITEMS 100
#define OTELGEN_SEND_DEFAULT_TIMEOUT "10s"

enum otelgen_send_protocol {
    OTELGEN_SEND_GRPC,
    OTELGEN_SEND_HTTP_PROTOBUF,
    OTELGEN_SEND_HTTP_JSON,
};

static const struct {
    const char *name, *content_type;
    unsigned default_port;
} otelgen_send_protocols[] = {
    [OTELGEN_SEND_GRPC] = { "grpc", "application/grpc", 4317 },
    [OTELGEN_SEND_HTTP_PROTOBUF] = { "http/protobuf", "application/x-protobuf", 4318 },
    [OTELGEN_SEND_HTTP_JSON] = { "http/json", "application/json", 4318 },
};

struct otelgen_send_opts {
    enum otelgen_send_protocol protocol;
    bool gzip;
    bool signal_given;
    enum otelgen_signal signal;
    const char *file;
    enum otelgen_file_kind file_kind;
    long long requests, conns, items;
    bool items_given;
    int64_t timeout_ms;
    char timeout_text[32];
    struct otelgen_header *headers;     /* at most argc of them */
    size_t n_headers;
    const char *endpoint;
};

static void otelgen_send_usage(FILE *out)
{
    fputs("usage: otelgen send [--protocol P] [--gzip] [--signal S] [--file PAYLOAD] [-n N] [-c CONNS]\n"
          "                    [--header K=V]... [--spans-per-request K] [--timeout D] ENDPOINT\n"
          "      --protocol P           grpc (default), http/protobuf or http/json\n"
          "      --gzip                 gzip request bodies (grpc-encoding, Content-Encoding)\n"
          "      --signal S             traces (default), metrics or logs; with --file, the first\n"
          "                             word of the file name when it is one of those\n"
          "      --file PAYLOAD         send this file: .pb, .pb.gz, .grpc, or .json, .json.gz for\n"
          "                             http/json; without it, a generated request\n"
          "  -n N                       requests in all (default 1)\n"
          "  -c CONNS                   connections they are spread over (default 1)\n"
          "  -H, --header K=V           add a header to every request; repeatable\n"
          "      --spans-per-request K  spans, data points or log records per generated request\n"
          "                             (default 100)\n"
          "      --timeout D            connect timeout and longest wait for an answer (default 10s)\n"
          "  -h, --help                 this text\n"
          "ENDPOINT: host[:port] (port 4317 for grpc, 4318 for http/*) or http://host[:port][/path]\n",
          out);
}

static int otelgen_send_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int otelgen_send_usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("otelgen send: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    otelgen_send_usage(stderr);
    return 2;
}

static int otelgen_send_parse_count(const char *opt, const char *s, long long max, long long *out)
{
    int64_t v;
    const char *why;

    if (units_parse_int(s, &v, &why) != 0 || v < 1 || v > max)
        return otelgen_send_usage_error("%s '%s': expects a whole number from 1 to %lld", opt, s, max);
    *out = v;
    return 0;
}

static int otelgen_send_parse_protocol(const char *s, struct otelgen_send_opts *o)
{
    for (size_t i = 0; i < sizeof otelgen_send_protocols / sizeof otelgen_send_protocols[0]; i++) {
        if (strcmp(s, otelgen_send_protocols[i].name) == 0) {
            o->protocol = (enum otelgen_send_protocol)i;
            return 0;
        }
    }
    return otelgen_send_usage_error("--protocol '%s' is not one of grpc, http/protobuf, http/json", s);
}

/* K=V: K a header name (no space, ':' or control character), V without CR or LF. The framing headers are
 * otelgen's own. Names are lowercased, as HTTP/2 requires and HTTP/1.1 does not mind. */
static int otelgen_send_parse_header(char *s, struct otelgen_send_opts *o)
{
    char *eq = strchr(s, '=');

    if (eq == NULL || eq == s)
        return otelgen_send_usage_error("--header '%s': expects NAME=VALUE", s);
    *eq = '\0';
    for (char *p = s; *p != '\0'; p++) {
        if (*p <= ' ' || *p == ':' || *p == 0x7f) {
            *eq = '=';
            return otelgen_send_usage_error("--header '%s': the name may not contain spaces, ':' or control "
                                            "characters", s);
        }
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    }
    if (strpbrk(eq + 1, "\r\n") != NULL || strcmp(s, "content-length") == 0 ||
        strcmp(s, "transfer-encoding") == 0) {
        *eq = '=';
        return otelgen_send_usage_error("--header '%s': %s", s,
                                        strpbrk(eq + 1, "\r\n") != NULL ? "the value may not contain a line break"
                                                                        : "otelgen sets this header itself");
    }
    o->headers[o->n_headers++] = (struct otelgen_header){ s, eq + 1 };
    return 0;
}

static int otelgen_send_parse_timeout(const char *s, struct otelgen_send_opts *o)
{
    const char *why;

    if (units_parse_duration(s, &o->timeout_ms, &why) != 0)
        return otelgen_send_usage_error("--timeout '%s': %s", s, why);
    if (o->timeout_ms < 1 || o->timeout_ms > 24 * 3600 * 1000)
        return otelgen_send_usage_error("--timeout '%s': expects a duration from 1ms to 24h", s);
    units_format_duration(o->timeout_ms, o->timeout_text, sizeof o->timeout_text);
    return 0;
}

enum {
    OTELGEN_SEND_OPT_PROTOCOL = 256,
    OTELGEN_SEND_OPT_GZIP,
    OTELGEN_SEND_OPT_SIGNAL,
    OTELGEN_SEND_OPT_FILE,
    OTELGEN_SEND_OPT_ITEMS,
    OTELGEN_SEND_OPT_TIMEOUT,
};

static int otelgen_send_parse_option(int c, char *arg, struct otelgen_send_opts *o)
{
    switch (c) {
    case OTELGEN_SEND_OPT_PROTOCOL: return otelgen_send_parse_protocol(arg, o);
    case OTELGEN_SEND_OPT_GZIP: o->gzip = true; return 0;
    case OTELGEN_SEND_OPT_SIGNAL:
        o->signal_given = true;
        if (otelgen_signal_parse(arg, &o->signal) != 0)
            return otelgen_send_usage_error("--signal '%s' is not one of traces, metrics, logs", arg);
        return 0;
    case OTELGEN_SEND_OPT_FILE: o->file = arg; return 0;
    case OTELGEN_SEND_OPT_ITEMS:
        o->items_given = true;
        return otelgen_send_parse_count("--spans-per-request", arg, OTELGEN_GEN_MAX_ITEMS, &o->items);
    case OTELGEN_SEND_OPT_TIMEOUT: return otelgen_send_parse_timeout(arg, o);
    case 'n': return otelgen_send_parse_count("-n", arg, OTELGEN_SEND_MAX_REQUESTS, &o->requests);
    case 'c': return otelgen_send_parse_count("-c", arg, OTELGEN_SEND_MAX_CONNS, &o->conns);
    case 'H': return otelgen_send_parse_header(arg, o);
    case 'h': otelgen_send_usage(stdout); return 1;
    default: otelgen_send_usage(stderr); return 2;  /* getopt said what is wrong */
    }
}

/* Returns 0 with <o> filled, 1 after --help, 2 after a usage error. */
static int otelgen_send_parse_args(int argc, char **argv, struct otelgen_send_opts *o)
{
    static const struct option longopts[] = {
        { "protocol", required_argument, NULL, OTELGEN_SEND_OPT_PROTOCOL },
        { "gzip", no_argument, NULL, OTELGEN_SEND_OPT_GZIP },
        { "signal", required_argument, NULL, OTELGEN_SEND_OPT_SIGNAL },
        { "file", required_argument, NULL, OTELGEN_SEND_OPT_FILE },
        { "spans-per-request", required_argument, NULL, OTELGEN_SEND_OPT_ITEMS },
        { "timeout", required_argument, NULL, OTELGEN_SEND_OPT_TIMEOUT },
        { "header", required_argument, NULL, 'H' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "n:c:H:h", longopts, NULL)) != -1)
        if ((rc = otelgen_send_parse_option(c, optarg, o)) != 0)
            return rc;
    if (optind == argc)
        return otelgen_send_usage_error("missing ENDPOINT");
    if (optind + 1 < argc)
        return otelgen_send_usage_error("unexpected argument '%s'", argv[optind + 1]);
    o->endpoint = argv[optind];
    return 0;
}

/* What the options mean together: the payload must suit the protocol. */
static int otelgen_send_check(struct otelgen_send_opts *o)
{
    bool json = o->protocol == OTELGEN_SEND_HTTP_JSON;

    if (o->file == NULL)
        return 0;
    if (o->items_given)
        return otelgen_send_usage_error("--spans-per-request is for generated requests, not with --file");
    if (otelgen_file_kind_of(o->file, &o->file_kind) != 0)
        return otelgen_send_usage_error("--file '%s': unknown kind of file (use .pb, .pb.gz, .grpc, .json or "
                                        ".json.gz)", o->file);
    if (otelgen_file_kind_is_json(o->file_kind) && !json)
        return otelgen_send_usage_error("--file '%s' is OTLP/JSON: it needs --protocol http/json", o->file);
    if (!otelgen_file_kind_is_json(o->file_kind) && json)
        return otelgen_send_usage_error("--file '%s' is protobuf: --protocol http/json sends a .json file",
                                        o->file);
    if (!o->signal_given && otelgen_signal_from_file_name(o->file, &o->signal) != 0)
        o->signal = OTELGEN_SIGNAL_TRACES;
    return 0;
}

static int otelgen_send_target(const struct otelgen_send_opts *o, struct otelgen_endpoint *ep,
                               struct otelgen_target *t)
{
    const struct otelgen_signal_info *info = otelgen_signal_info(o->signal);
    char err[1200];

    if (otelgen_endpoint_parse(o->endpoint, otelgen_send_protocols[o->protocol].default_port, ep, err,
                               sizeof err) != 0)
        return otelgen_send_usage_error("%s", err);
    if (o->protocol == OTELGEN_SEND_GRPC && ep->path[0] != '\0')
        return otelgen_send_usage_error("ENDPOINT '%s': gRPC has no use for the path '%s'", o->endpoint, ep->path);
    *t = (struct otelgen_target){
        .endpoint = o->endpoint,
        .authority = ep->authority,
        .path = o->protocol == OTELGEN_SEND_GRPC ? info->grpc_path : ep->path[0] != '\0' ? ep->path : info->http_path,
        .content_type = otelgen_send_protocols[o->protocol].content_type,
        .gzip = o->gzip,
        .headers = o->headers,
        .n_headers = o->n_headers,
        .timeout = { .tv_sec = o->timeout_ms / 1000, .tv_usec = (o->timeout_ms % 1000) * 1000 },
        .timeout_text = o->timeout_text,
    };
    return 0;
}

/* The run itself: everything here can only fail with exit status 1. */
static int otelgen_send_run(const struct otelgen_send_opts *o, struct otelgen_target *t,
                            const struct otelgen_endpoint *ep)
{
    struct otelgen_payload_conf pc = {
        .signal = o->signal, .file = o->file, .file_kind = o->file_kind, .items = (size_t)o->items,
        .json = o->protocol == OTELGEN_SEND_HTTP_JSON, .gzip = o->gzip,
        .grpc_framing = o->protocol == OTELGEN_SEND_GRPC,
    };
    struct otelgen_addr *addrs = NULL;
    struct otelgen_payload *payload = NULL;
    struct otelgen_stats *stats = NULL;
    struct otelgen_worker *w = NULL;
    char err[1200];
    int rc = 1;
    bool ran = false;

    if (otelgen_endpoint_resolve(ep, &addrs, &t->n_addrs, err, sizeof err) != 0 ||
        otelgen_payload_create(&payload, &pc, err, sizeof err) != 0)
        goto out;
    t->addrs = addrs;
    if (otelgen_stats_create(&stats, otelgen_signal_info(o->signal)->items, otelgen_payload_items(payload)) != 0) {
        snprintf(err, sizeof err, "out of memory");
        goto out;
    }
    struct otelgen_worker_conf wc = {
        .client = o->protocol == OTELGEN_SEND_GRPC ? &otelgen_grpc_client : &otelgen_http_client,
        .target = t, .payload = payload, .requests = (uint64_t)o->requests, .first_seq = 0,
        .conns = (unsigned)o->conns,
    };
    if (otelgen_worker_create(&w, &wc, stats, err, sizeof err) != 0)
        goto out;
    otelgen_worker_run(w);
    ran = true;
    otelgen_stats_print(stats, stdout);
    rc = otelgen_stats_all_ok(stats) ? 0 : 1;
out:
    if (!ran)
        fprintf(stderr, "otelgen: %s\n", err);
    otelgen_worker_destroy(w);
    otelgen_stats_destroy(stats);
    otelgen_payload_destroy(payload);
    free(addrs);
    return rc;
}

int otelgen_send_main(int argc, char **argv)
{
    struct otelgen_send_opts o = {
        .protocol = OTELGEN_SEND_GRPC, .signal = OTELGEN_SIGNAL_TRACES, .requests = 1, .conns = 1,
        .items = OTELGEN_SEND_DEFAULT_ITEMS,
    };
    struct otelgen_endpoint ep;
    struct otelgen_target t;
    int rc;

    o.headers = calloc((size_t)argc, sizeof *o.headers);
    if (o.headers == NULL) {
        fprintf(stderr, "otelgen: out of memory\n");
        return 1;
    }
    rc = otelgen_send_parse_timeout(OTELGEN_SEND_DEFAULT_TIMEOUT, &o);
    if (rc == 0)
        rc = otelgen_send_parse_args(argc, argv, &o);
    if (rc == 0)
        rc = otelgen_send_check(&o);
    if (rc == 0)
        rc = otelgen_send_target(&o, &ep, &t);
    if (rc == 1)
        rc = 0;                         /* --help */
    else if (rc == 0)
        rc = otelgen_send_run(&o, &t, &ep);
    free(o.headers);
    return rc;
}
