/* otelgen.c: otelgen's main: global options (--version, --help) and the table of subcommands. Each
 * subcommand is one file with one entry point, so `sink` and the load generator are one line more here. */
#include "autoconf.h"

#include <http_parser.h>
#include <nghttp2/nghttp2.h>
#include <protobuf-c/protobuf-c.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include <event2/event.h>

#include "otelgen_send.h"
#include "otelgen_sink.h"

struct otelgen_command {
    const char *name;
    const char *prog;                       /* what its messages start with */
    int (*main)(int argc, char **argv);     /* argv[0] is the command's name; returns the exit status */
    const char *summary;
};

static const struct otelgen_command otelgen_commands[] = {
    { "send", "otelgen send", otelgen_send_main, "send OTLP requests to a receiver and report its answers" },
    { "sink", "otelgen sink", otelgen_sink_main, "receive OTLP, count items and duplicates, inject faults" },
};

static void otelgen_usage(FILE *out)
{
    fputs("usage: otelgen COMMAND [OPTIONS] | --version | -h\n", out);
    fputs("commands:\n", out);
    for (size_t i = 0; i < sizeof otelgen_commands / sizeof otelgen_commands[0]; i++)
        fprintf(out, "  %-6s %s\n", otelgen_commands[i].name, otelgen_commands[i].summary);
    fputs("'otelgen COMMAND -h' describes a command's options\n", out);
}

static void otelgen_version(FILE *out)
{
    unsigned long hp = http_parser_version();

    fprintf(out, "otelgen %s\n", PACKAGE_VERSION);
    fprintf(out, "libevent %s\n", event_get_version());
    fprintf(out, "nghttp2 %s\n", nghttp2_version(0)->version_str);
    fprintf(out, "protobuf-c %s\n", protobuf_c_version());
    fprintf(out, "zlib %s\n", zlibVersion());
    fprintf(out, "http-parser %lu.%lu.%lu\n", hp >> 16 & 255, hp >> 8 & 255, hp & 255);
}

int main(int argc, char **argv)
{
    /* A server closing its end while we write must be an error to report, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        fputs("otelgen: missing COMMAND\n", stderr);
        otelgen_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        otelgen_usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        otelgen_version(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof otelgen_commands / sizeof otelgen_commands[0]; i++) {
        if (strcmp(argv[1], otelgen_commands[i].name) == 0) {
            argv[1] = (char *)otelgen_commands[i].prog;    /* getopt's messages name the command */
            return otelgen_commands[i].main(argc - 1, argv + 1);
        }
    }
    if (argv[1][0] == '-')
        fprintf(stderr, "otelgen: unrecognized option '%s'\n", argv[1]);
    else
        fprintf(stderr, "otelgen: unknown command '%s'\n", argv[1]);
    otelgen_usage(stderr);
    return 2;
}
