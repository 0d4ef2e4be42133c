/* main.c: the command line, the signals and the life of the daemon: load the
 * config, start the gateway, serve until SIGTERM, drain, exit. */
#include "autoconf.h"

#include <event2/event.h>
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "default_config.h"
#include "gateway.h"
#include "log.h"
#include "registry.h"
#include "version.h"

/* How often the drain looks whether the last requests are done. */
#define MAIN_DRAIN_POLL_MS 20

enum main_phase {
    MAIN_RUNNING,
    MAIN_GRACE,         /* health check says 503, still accepting */
    MAIN_DRAINING,      /* waiting for in-flight requests */
};

struct main_daemon {
    const struct config *cfg;
    struct event_base *base;
    struct gateway *gw;
    enum main_phase phase;
    struct event *timer;
    struct timespec drain_deadline;
};

struct main_options {
    const char *config_path;
    const char *log_level;
    int validate;
    int print_config;
};

static void main_usage(FILE *out)
{
    fputs("usage: otelgate [-c FILE] [--validate] [--print-config] [-l LEVEL] [--version] [-h]\n"
          "  -c, --config FILE   configuration file (default: $OTELGATE_CONFIG, else the embedded\n"
          "                      default, etc/otelgate.yaml)\n"
          "      --validate      check the configuration, print 'configuration OK' or the errors, exit\n"
          "      --print-config  print the effective configuration, every default filled in, exit\n"
          "  -l, --log-level L   debug, info, warn or error (overrides the file and $OTELGATE_LOG_LEVEL)\n"
          "      --version       print the versions of otelgate and its libraries, exit\n"
          "  -h, --help          this text\n",
          out);
}

/* Returns 0 with <o> filled, 1 after printing help or the version (exit 0),
 * or 2 after a usage error. */
static int main_parse_args(int argc, char **argv, struct main_options *o)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "log-level", required_argument, NULL, 'l' },
        { "validate", no_argument, NULL, 'V' },
        { "print-config", no_argument, NULL, 'P' },
        { "version", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    opterr = 0;     /* our own messages, prefixed "otelgate:" */
    while ((c = getopt_long(argc, argv, ":c:l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (optarg[0] == '\0') {
                fprintf(stderr, "otelgate: -c needs a file name\n");
                main_usage(stderr);
                return 2;
            }
            o->config_path = optarg;
            break;
        case 'l': {
            enum log_level unused;
            if (log_level_parse(optarg, &unused) != 0) {
                fprintf(stderr, "otelgate: log level '%s' is not one of debug, info, warn, error\n", optarg);
                main_usage(stderr);
                return 2;
            }
            o->log_level = optarg;
            break;
        }
        case 'V': o->validate = 1; break;
        case 'P': o->print_config = 1; break;
        case 'v': version_print(stdout); return 1;
        case 'h': main_usage(stdout); return 1;
        case ':':
            if (strncmp(argv[optind - 1], "--", 2) == 0)
                fprintf(stderr, "otelgate: option '%s' needs a value\n", argv[optind - 1]);
            else
                fprintf(stderr, "otelgate: option '-%c' needs a value\n", optopt);
            main_usage(stderr);
            return 2;
        default:
            if (optopt != 0)    /* glibc leaves 0 for an unknown long option */
                fprintf(stderr, "otelgate: unknown option '-%c'\n", optopt);
            else
                fprintf(stderr, "otelgate: unknown option '%s'\n", argv[optind - 1]);
            main_usage(stderr);
            return 2;
        }
    }
    if (o->validate && o->print_config) {
        fprintf(stderr, "otelgate: --validate and --print-config exclude each other\n");
        main_usage(stderr);
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "otelgate: unexpected argument '%s'\n", argv[optind]);
        main_usage(stderr);
        return 2;
    }
    return 0;
}

static struct config *main_load_config(const struct main_options *o)
{
    const char *path = o->config_path ? o->config_path : getenv("OTELGATE_CONFIG");

    if (path != NULL && path[0] != '\0')
        return config_load_file(path, registry_types, stderr);
    return config_load_text(CONFIG_EMBEDDED_NAME, default_config_text, default_config_len, registry_types,
                            stderr);
}

/* Command line beats environment beats file. Returns 0, or -1 after saying
 * which level is not one. */
static int main_set_log_level(const struct main_options *o, const struct config *cfg)
{
    const char *env = getenv("OTELGATE_LOG_LEVEL");
    enum log_level level = (enum log_level)cfg->service.log_level;

    if (o->log_level == NULL && env != NULL && env[0] != '\0' && log_level_parse(env, &level) != 0) {
        fprintf(stderr, "otelgate: OTELGATE_LOG_LEVEL='%s' is not one of debug, info, warn, error\n", env);
        return -1;
    }
    if (o->log_level != NULL)
        log_level_parse(o->log_level, &level);   /* checked by main_parse_args */
    log_set_level(level);
    return 0;
}

static void main_arm(struct main_daemon *d, int64_t ms)
{
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

    evtimer_add(d->timer, &tv);
}

static bool main_drain_expired(const struct main_daemon *d)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > d->drain_deadline.tv_sec ||
           (now.tv_sec == d->drain_deadline.tv_sec && now.tv_nsec >= d->drain_deadline.tv_nsec);
}

static void main_begin_drain(struct main_daemon *d)
{
    int64_t ms = d->cfg->service.shutdown_timeout_ms;

    d->phase = MAIN_DRAINING;
    gateway_drain(d->gw);
    clock_gettime(CLOCK_MONOTONIC, &d->drain_deadline);
    d->drain_deadline.tv_sec += ms / 1000;
    d->drain_deadline.tv_nsec += (ms % 1000) * 1000000;
    if (d->drain_deadline.tv_nsec >= 1000000000) {
        d->drain_deadline.tv_sec++;
        d->drain_deadline.tv_nsec -= 1000000000;
    }
    main_arm(d, 0);
}

static void main_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct main_daemon *d = arg;
    uint64_t inflight;

    if (d->phase == MAIN_GRACE) {
        main_begin_drain(d);
        return;
    }
    inflight = gateway_inflight(d->gw);
    if (inflight == 0) {
        log_info("otelgate", "drained: no request in flight");
        event_base_loopbreak(d->base);
    } else if (main_drain_expired(d)) {
        log_warn("otelgate", "shutdown_timeout reached with requests in flight inflight=%llu",
                 (unsigned long long)inflight);
        event_base_loopbreak(d->base);
    } else {
        main_arm(d, MAIN_DRAIN_POLL_MS);
    }
}

static void main_on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct main_daemon *d = arg;

    if (sig == SIGHUP) {
        log_warn("otelgate", "SIGHUP: configuration reload is not supported yet; restart to apply changes");
        return;
    }
    if (d->phase != MAIN_RUNNING) {
        log_warn("otelgate", "second signal %s: exiting now without draining", strsignal((int)sig));
        _exit(1);
    }
    log_info("otelgate", "%s: draining shutdown_grace=%lldms shutdown_timeout=%lldms", strsignal((int)sig),
             (long long)d->cfg->service.shutdown_grace_ms, (long long)d->cfg->service.shutdown_timeout_ms);
    gateway_set_draining(d->gw);
    d->phase = MAIN_GRACE;
    main_arm(d, d->cfg->service.shutdown_grace_ms);
}

/* Serves until a signal ends it. Returns the exit status. */
static int main_run(const struct config *cfg)
{
    struct main_daemon d = { .cfg = cfg, .phase = MAIN_RUNNING };
    struct event *sigs[3] = { NULL, NULL, NULL };
    const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
    char err[512];
    int status = 1;

    signal(SIGPIPE, SIG_IGN);
    d.base = event_base_new();
    if (d.base == NULL) {
        fprintf(stderr, "otelgate: cannot create the main event loop\n");
        return 1;
    }
    d.timer = evtimer_new(d.base, main_on_timer, &d);
    for (int i = 0; i < 3; i++) {
        sigs[i] = evsignal_new(d.base, signums[i], main_on_signal, &d);
        if (sigs[i] == NULL || evsignal_add(sigs[i], NULL) != 0)
            goto out;
    }
    if (gateway_start(&d.gw, cfg, err, sizeof(err)) != 0) {
        log_error("otelgate", "cannot start: %s", err);
        goto out;
    }
    event_base_dispatch(d.base);
    gateway_stop(d.gw);
    log_info("otelgate", "stopped");
    status = 0;
out:
    for (int i = 0; i < 3; i++)
        if (sigs[i] != NULL)
            event_free(sigs[i]);
    if (d.timer != NULL)
        event_free(d.timer);
    event_base_free(d.base);
    return status;
}

int main(int argc, char **argv)
{
    struct main_options o = { 0 };
    int rc = main_parse_args(argc, argv, &o);

    if (rc != 0)
        return rc == 1 ? 0 : 2;
    struct config *cfg = main_load_config(&o);
    if (cfg == NULL)
        return 1;
    if (main_set_log_level(&o, cfg) != 0) {
        config_free(cfg);
        return 1;
    }
    if (o.validate) {
        printf("configuration OK\n");
    } else if (o.print_config) {
        config_print(cfg, stdout);
    } else {
        /* jansson seeds its hash function from /dev/urandom on first use:
         * do it here, not on a worker in the middle of a request */
        json_object_seed(0);
        /* Batches are megabytes and live for milliseconds: glibc would mmap and munmap each one, so every
         * batch cost page faults and zeroing of fresh pages (a fifth of the durable path's CPU, measured with
         * perf). Keep them in the heap, and let the heap keep what the busiest moment needed. A batch is
         * made on a worker and freed by the spool writer, and the exporter threads make their own: with an
         * arena per thread, as glibc gives, each kept its own busiest moment (a third more resident memory
         * in contrib/bench/passthrough.sh). One arena per worker is enough: small blocks come from each
         * thread's cache without the arena's lock. */
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 16 << 20);
        mallopt(M_ARENA_MAX, (int)gateway_worker_count(cfg));
        log_info("otelgate", "otelgate %s starting pid=%ld", PACKAGE_VERSION, (long)getpid());
        rc = main_run(cfg);
    }
    config_free(cfg);
    return rc;
}
