/* otelgen_sink.h: `otelgen sink`, an OTLP upstream that counts what it receives (per signal, per tenant,
 * unique and duplicated items) and injects faults on demand, for loss tests and benchmarks. */
#ifndef OTELGEN_SINK_H
#define OTELGEN_SINK_H

/* Runs `otelgen sink`; argv[0] is its name. Serves until SIGTERM or SIGINT, then prints the final report
 * (JSON) on stdout. Returns the exit status: 0 after a signal, 1 when it cannot start (an endpoint is taken,
 * --out cannot be opened), 2 for a usage error (said on stderr with the usage). */
int otelgen_sink_main(int argc, char **argv);

#endif
