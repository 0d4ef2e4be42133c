/* otelgen_send.c: `otelgen send`'s command line, checked strictly: a usage error (a bad value, options that
 * do not go together) is exit 2 before anything is sent. The options become a plan with every number
 * settled (threads, connections, depth, concurrency, rate), which otelgen_send_run.c carries out. */
#include "autoconf.h"

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otelgen_endpoint.h"
#include "otelgen_gen.h"
#include "otelgen_payload.h"
#include "otelgen_retry.h"
#include "otelgen_send.h"
#include "otelgen_send_int.h"
#include "otelgen_worker.h"
#include "util/units.h"

#define OTELGEN_SEND_MAX_CONNS 10000
#define OTELGEN_SEND_MAX_THREADS 256
#define OTELGEN_SEND_MAX_CONCURRENCY 1000000
#define OTELGEN_SEND_MAX_RATE 10000000.0                /* requests a second */
#define OTELGEN_SEND_MAX_TENANTS 1000
#define OTELGEN_SEND_MAX_REQUESTS 1000000000000LL  /* 2^40 request numbers fit in a trace id */
#define OTELGEN_SEND_DEFAULT_ITEMS 100
#define OTELGEN_SEND_DEFAULT_TIMEOUT "10s"
#define OTELGEN_SEND_DEFAULT_TENANT_HEADER "x-tenant-id"
#define OTELGEN_SEND_MAX_DURATION_MS (24LL * 3600 * 1000)

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
    long long requests, conns, items, threads, concurrency, attributes;
    bool items_given, requests_given, conns_given, attributes_given;
    double rate;                        /* 0: not given */
    int64_t duration_ms;                /* 0: not given */
    int64_t timeout_ms;
    char timeout_text[32];
    struct otelgen_header *headers;     /* at most argc of them */
    size_t n_headers;
    char *tenant_list;                  /* --tenants as given, cut up in place */
    char *tenant_header_arg;            /* --tenant-header as given, lowercased in place */
    const char *tenant_header;          /* that, or the default */
    struct otelgen_header *tenants;
    size_t n_tenants;
    bool retry, json;
    int64_t retry_max_elapsed_ms;
    const char *retry_max_elapsed_text; /* when given */
    const char *endpoint;
};

static void otelgen_send_usage(FILE *out)
{
    fputs("usage: otelgen send [--protocol P] [--gzip] [--signal S] [--file PAYLOAD] [-n N] [-c CONNS]\n"
          "                    [--header K=V]... [--spans-per-request K] [--attributes A] [--timeout D]\n"
          "                    [--rate R | --concurrency C] [--duration D] [--threads T]\n"
          "                    [--tenants A,B,... [--tenant-header NAME]]\n"
          "                    [--retry [--retry-max-elapsed D]] [--json] ENDPOINT\n"
          "      --protocol P           grpc (default), http/protobuf or http/json\n"
          "      --gzip                 gzip request bodies (grpc-encoding, Content-Encoding)\n"
          "      --signal S             traces (default), metrics or logs; with --file, the first\n"
          "                             word of the file name when it is one of those\n"
          "      --file PAYLOAD         send this file: .pb, .pb.gz, .grpc, or .json, .json.gz for\n"
          "                             http/json; without it, a generated request\n"
          "  -n N                       requests in all (default 1)\n"
          "  -c CONNS                   connections they are spread over (default: one per thread;\n"
          "                             C with --concurrency C over http/*)\n"
          "  -H, --header K=V           add a header to every request; repeatable\n"
          "      --spans-per-request K  spans, data points or log records per generated request\n"
          "                             (default 100)\n"
          "      --attributes A         extra attributes on each generated item (default 0, at most 64)\n"
          "      --timeout D            connect timeout and longest wait for an answer (default 10s)\n"
          "      --rate R               open loop: R requests a second, each sent at its due time\n"
          "                             whatever the answers; latency counts from that time\n"
          "      --concurrency C        closed loop: C requests in flight in all\n"
          "      --duration D           send for D (5s, 1m) instead of -n requests\n"
          "      --threads T            T threads, one event loop each (default 1)\n"
          "      --tenants A,B,...      a tenant header on each request, A, B, ... in turn\n"
          "      --tenant-header NAME   the header --tenants sets (default X-Tenant-Id)\n"
          "      --retry                send again after 429, 502, 503, 504, gRPC UNAVAILABLE and the\n"
          "                             like, or a failed connection: backoff or Retry-After\n"
          "      --retry-max-elapsed D  give a request up D after its first attempt (default 30s)\n"
          "      --json                 print the summary as one JSON object\n"
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

/* A header name has no space, ':' or control character. It is lowercased in place, as HTTP/2 requires and
 * HTTP/1.1 does not mind. Returns false, leaving <s> as it was, for a bad name. */
static bool otelgen_send_header_name(char *s)
{
    for (const char *p = s; *p != '\0'; p++)
        if (*p <= ' ' || *p == ':' || *p == 0x7f)
            return false;
    for (char *p = s; *p != '\0'; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return s[0] != '\0';
}

/* K=V: K a header name, V without CR or LF. The framing headers are otelgen's own. */
static int otelgen_send_parse_header(char *s, struct otelgen_send_opts *o)
{
    char *eq = strchr(s, '=');

    if (eq == NULL || eq == s)
        return otelgen_send_usage_error("--header '%s': expects NAME=VALUE", s);
    *eq = '\0';
    if (!otelgen_send_header_name(s)) {
        *eq = '=';
        return otelgen_send_usage_error("--header '%s': the name may not contain spaces, ':' or control "
                                        "characters", s);
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

static int otelgen_send_parse_duration(const char *opt, const char *s, int64_t max_ms, int64_t *out)
{
    const char *why;
    char max[32];

    if (units_parse_duration(s, out, &why) != 0)
        return otelgen_send_usage_error("%s '%s': %s", opt, s, why);
    units_format_duration(max_ms, max, sizeof max);
    if (*out < 1 || *out > max_ms)
        return otelgen_send_usage_error("%s '%s': expects a duration from 1ms to %s", opt, s, max);
    return 0;
}

/* R or R/s: a positive decimal number of requests a second, digits and at most one '.', nothing else. */
static int otelgen_send_parse_rate(const char *s, struct otelgen_send_opts *o)
{
    size_t digits = strspn(s, "0123456789."), dots = 0;
    double r = 0;

    for (size_t i = 0; i < digits; i++)
        dots += s[i] == '.';
    if (digits > 0 && dots <= 1 && (s[digits] == '\0' || strcmp(s + digits, "/s") == 0) &&
        strspn(s, ".") < digits)
        r = strtod(s, NULL);
    if (!isfinite(r) || r <= 0 || r > OTELGEN_SEND_MAX_RATE)
        return otelgen_send_usage_error("--rate '%s': expects requests a second, a number above 0 and up to %.0f "
                                        "(200, 0.5, 1000/s)", s, OTELGEN_SEND_MAX_RATE);
    o->rate = r;
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
    OTELGEN_SEND_OPT_ATTRIBUTES,
    OTELGEN_SEND_OPT_TIMEOUT,
    OTELGEN_SEND_OPT_RATE,
    OTELGEN_SEND_OPT_CONCURRENCY,
    OTELGEN_SEND_OPT_DURATION,
    OTELGEN_SEND_OPT_THREADS,
    OTELGEN_SEND_OPT_TENANTS,
    OTELGEN_SEND_OPT_TENANT_HEADER,
    OTELGEN_SEND_OPT_RETRY,
    OTELGEN_SEND_OPT_RETRY_MAX_ELAPSED,
    OTELGEN_SEND_OPT_JSON,
};

/* The options of the load generator proper; the others are in otelgen_send_parse_option. */
static int otelgen_send_parse_load_option(int c, char *arg, struct otelgen_send_opts *o)
{
    switch (c) {
    case OTELGEN_SEND_OPT_RATE: return otelgen_send_parse_rate(arg, o);
    case OTELGEN_SEND_OPT_CONCURRENCY:
        return otelgen_send_parse_count("--concurrency", arg, OTELGEN_SEND_MAX_CONCURRENCY, &o->concurrency);
    case OTELGEN_SEND_OPT_DURATION:
        return otelgen_send_parse_duration("--duration", arg, OTELGEN_SEND_MAX_DURATION_MS, &o->duration_ms);
    case OTELGEN_SEND_OPT_THREADS:
        return otelgen_send_parse_count("--threads", arg, OTELGEN_SEND_MAX_THREADS, &o->threads);
    case OTELGEN_SEND_OPT_TENANTS: o->tenant_list = arg; return 0;
    case OTELGEN_SEND_OPT_TENANT_HEADER: o->tenant_header_arg = arg; return 0;
    case OTELGEN_SEND_OPT_RETRY: o->retry = true; return 0;
    case OTELGEN_SEND_OPT_RETRY_MAX_ELAPSED:
        o->retry_max_elapsed_text = arg;
        return otelgen_send_parse_duration("--retry-max-elapsed", arg, OTELGEN_SEND_MAX_DURATION_MS,
                                           &o->retry_max_elapsed_ms);
    case OTELGEN_SEND_OPT_JSON: o->json = true; return 0;
    default: otelgen_send_usage(stderr); return 2;  /* getopt said what is wrong */
    }
}

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
    case OTELGEN_SEND_OPT_ATTRIBUTES:
        o->attributes_given = true;
        if (strcmp(arg, "0") == 0)
            return 0;
        return otelgen_send_parse_count("--attributes", arg, OTELGEN_GEN_MAX_EXTRA_ATTRS, &o->attributes);
    case OTELGEN_SEND_OPT_TIMEOUT: return otelgen_send_parse_timeout(arg, o);
    case 'n':
        o->requests_given = true;
        return otelgen_send_parse_count("-n", arg, OTELGEN_SEND_MAX_REQUESTS, &o->requests);
    case 'c':
        o->conns_given = true;
        return otelgen_send_parse_count("-c", arg, OTELGEN_SEND_MAX_CONNS, &o->conns);
    case 'H': return otelgen_send_parse_header(arg, o);
    case 'h': otelgen_send_usage(stdout); return 1;
    default: return otelgen_send_parse_load_option(c, arg, o);
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
        { "attributes", required_argument, NULL, OTELGEN_SEND_OPT_ATTRIBUTES },
        { "timeout", required_argument, NULL, OTELGEN_SEND_OPT_TIMEOUT },
        { "rate", required_argument, NULL, OTELGEN_SEND_OPT_RATE },
        { "concurrency", required_argument, NULL, OTELGEN_SEND_OPT_CONCURRENCY },
        { "duration", required_argument, NULL, OTELGEN_SEND_OPT_DURATION },
        { "threads", required_argument, NULL, OTELGEN_SEND_OPT_THREADS },
        { "tenants", required_argument, NULL, OTELGEN_SEND_OPT_TENANTS },
        { "tenant-header", required_argument, NULL, OTELGEN_SEND_OPT_TENANT_HEADER },
        { "retry", no_argument, NULL, OTELGEN_SEND_OPT_RETRY },
        { "retry-max-elapsed", required_argument, NULL, OTELGEN_SEND_OPT_RETRY_MAX_ELAPSED },
        { "json", no_argument, NULL, OTELGEN_SEND_OPT_JSON },
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
static int otelgen_send_check_payload(struct otelgen_send_opts *o)
{
    bool json = o->protocol == OTELGEN_SEND_HTTP_JSON;

    if (o->file == NULL)
        return 0;
    if (o->items_given)
        return otelgen_send_usage_error("--spans-per-request is for generated requests, not with --file");
    if (o->attributes_given)
        return otelgen_send_usage_error("--attributes is for generated requests, not with --file");
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

/* When to stop and how fast: -n or --duration; --rate or --concurrency; enough connections for both. */
static int otelgen_send_check_load(struct otelgen_send_opts *o)
{
    bool http = o->protocol != OTELGEN_SEND_GRPC;

    if (o->requests_given && o->duration_ms > 0)
        return otelgen_send_usage_error("-n and --duration both say when to stop: give one of them");
    if (o->rate > 0 && o->concurrency > 0)
        return otelgen_send_usage_error("--rate (open loop) and --concurrency (closed loop) do not go together");
    if ((o->rate > 0 || o->concurrency > 0) && !o->requests_given && o->duration_ms == 0)
        return otelgen_send_usage_error("%s needs -n N or --duration D to know when to stop",
                                        o->rate > 0 ? "--rate" : "--concurrency");
    if (o->conns_given && o->conns < o->threads)
        return otelgen_send_usage_error("-c %lld is fewer connections than --threads %lld", o->conns, o->threads);
    if (o->concurrency > 0 && o->concurrency < o->threads)
        return otelgen_send_usage_error("--concurrency %lld is below --threads %lld: a thread would have nothing "
                                        "to send", o->concurrency, o->threads);
    if (o->concurrency > 0 && o->conns_given && o->concurrency < o->conns)
        return otelgen_send_usage_error("--concurrency %lld is below -c %lld: some connections would stay idle",
                                        o->concurrency, o->conns);
    if (o->concurrency > 0 && o->conns_given && http && o->concurrency > o->conns)
        return otelgen_send_usage_error("--concurrency %lld over %s needs as many connections (an HTTP/1.1 "
                                        "connection carries one request at a time); -c is %lld", o->concurrency,
                                        otelgen_send_protocols[o->protocol].name, o->conns);
    if (!o->conns_given)
        o->conns = o->concurrency > 0 && http ? o->concurrency : o->threads;
    if (o->conns > OTELGEN_SEND_MAX_CONNS)
        return otelgen_send_usage_error("--concurrency %lld over %s would take more than %d connections",
                                        o->concurrency, otelgen_send_protocols[o->protocol].name,
                                        OTELGEN_SEND_MAX_CONNS);
    return 0;
}

/* --tenants A,B,...: each a header value (no control character), none empty; the header is --tenant-header
 * (lowercased) and no --header sets it too. The list is cut up in place. */
static int otelgen_send_check_tenants(struct otelgen_send_opts *o)
{
    const char *list = o->tenant_list;
    size_t n = 1;

    if (o->tenant_header_arg != NULL && list == NULL)
        return otelgen_send_usage_error("--tenant-header needs --tenants");
    if (list == NULL)
        return 0;
    if (o->tenant_header_arg != NULL && !otelgen_send_header_name(o->tenant_header_arg))
        return otelgen_send_usage_error("--tenant-header '%s': expects a header name, without spaces, ':' or "
                                        "control characters", o->tenant_header_arg);
    o->tenant_header = o->tenant_header_arg != NULL ? o->tenant_header_arg : OTELGEN_SEND_DEFAULT_TENANT_HEADER;
    for (const char *p = list; *p != '\0'; p++) {
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            return otelgen_send_usage_error("--tenants '%s': a tenant may not contain control characters", list);
        n += *p == ',';
    }
    if (list[0] == '\0' || list[0] == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,") != NULL)
        return otelgen_send_usage_error("--tenants '%s': expects names separated by commas, none empty", list);
    if (n > OTELGEN_SEND_MAX_TENANTS)
        return otelgen_send_usage_error("--tenants: at most %d tenants", OTELGEN_SEND_MAX_TENANTS);
    for (size_t i = 0; i < o->n_headers; i++)
        if (strcmp(o->headers[i].name, o->tenant_header) == 0)
            return otelgen_send_usage_error("--tenants and --header %s both set the header %s", o->headers[i].name,
                                            o->tenant_header);
    return 0;
}

static int otelgen_send_split_tenants(struct otelgen_send_opts *o)
{
    size_t n = 1;

    if (o->tenant_list == NULL)
        return 0;
    for (const char *p = o->tenant_list; *p != '\0'; p++)
        n += *p == ',';
    o->tenants = calloc(n, sizeof *o->tenants);
    if (o->tenants == NULL)
        return -1;
    for (char *save = NULL, *t = strtok_r(o->tenant_list, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
        o->tenants[o->n_tenants++] = (struct otelgen_header){ o->tenant_header, t };
    return 0;
}

static int otelgen_send_check_retry(struct otelgen_send_opts *o)
{
    if (o->retry_max_elapsed_text != NULL && !o->retry)
        return otelgen_send_usage_error("--retry-max-elapsed needs --retry");
    if (o->retry && o->retry_max_elapsed_text == NULL)
        return otelgen_send_parse_duration("--retry-max-elapsed", OTELGEN_RETRY_DEFAULT_MAX_ELAPSED,
                                           OTELGEN_SEND_MAX_DURATION_MS, &o->retry_max_elapsed_ms);
    return 0;
}

static int otelgen_send_check(struct otelgen_send_opts *o)
{
    int rc = otelgen_send_check_payload(o);

    if (rc == 0)
        rc = otelgen_send_check_load(o);
    if (rc == 0)
        rc = otelgen_send_check_tenants(o);
    if (rc == 0)
        rc = otelgen_send_check_retry(o);
    return rc;
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
        .tenants = o->tenants,
        .n_tenants = o->n_tenants,
        .timeout = { .tv_sec = o->timeout_ms / 1000, .tv_usec = (o->timeout_ms % 1000) * 1000 },
        .timeout_text = o->timeout_text,
    };
    return 0;
}

static void otelgen_send_plan_of(const struct otelgen_send_opts *o, struct otelgen_target *t,
                                 const struct otelgen_endpoint *ep, struct otelgen_send_plan *plan)
{
    bool grpc = o->protocol == OTELGEN_SEND_GRPC;

    *plan = (struct otelgen_send_plan){
        .client = grpc ? &otelgen_grpc_client : &otelgen_http_client,
        .protocol = otelgen_send_protocols[o->protocol].name,
        .target = t,
        .endpoint = ep,
        .payload = {
            .signal = o->signal, .file = o->file, .file_kind = o->file_kind, .items = (size_t)o->items,
            .attributes = (unsigned)o->attributes, .json = o->protocol == OTELGEN_SEND_HTTP_JSON, .gzip = o->gzip, .grpc_framing = grpc,
        },
        .requests = o->duration_ms > 0 ? OTELGEN_WORKER_UNLIMITED : (uint64_t)o->requests,
        .threads = (unsigned)o->threads,
        .conns = (unsigned)o->conns,
        .concurrency = (uint64_t)o->concurrency,
        .depth = !grpc ? 1 : o->rate > 0 ? OTELGEN_SEND_OPEN_DEPTH : OTELGEN_SEND_DEFAULT_DEPTH,
        .rate = o->rate,
        .duration_ms = o->duration_ms,
        .retry_max_elapsed_ms = o->retry ? o->retry_max_elapsed_ms : 0,
        .json = o->json,
    };
}

int otelgen_send_main(int argc, char **argv)
{
    struct otelgen_send_opts o = {
        .protocol = OTELGEN_SEND_GRPC, .signal = OTELGEN_SIGNAL_TRACES, .requests = 1, .conns = 1, .threads = 1,
        .items = OTELGEN_SEND_DEFAULT_ITEMS,
    };
    struct otelgen_endpoint ep;
    struct otelgen_target t;
    struct otelgen_send_plan plan;
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
    if (rc == 0 && otelgen_send_split_tenants(&o) != 0) {
        fprintf(stderr, "otelgen: out of memory\n");
        rc = 3;                         /* exit 1, below */
    }
    if (rc == 0)
        rc = otelgen_send_target(&o, &ep, &t);
    if (rc == 1) {
        rc = 0;                         /* --help */
    } else if (rc == 0) {
        otelgen_send_plan_of(&o, &t, &ep, &plan);
        rc = otelgen_send_run(&plan);
    } else if (rc == 3) {
        rc = 1;
    }
    free(o.tenants);
    free(o.headers);
    return rc;
}
