/* otelgen_send.h: `otelgen send`, which sends N OTLP requests over C connections and reports the answers. */
#ifndef OTELGEN_SEND_H
#define OTELGEN_SEND_H

/* Runs `otelgen send`; argv[0] is "send". Returns the exit status: 0 when every request got a success
 * answer, 1 when any failed or the run could not start, 2 for a usage error (said on stderr with the
 * usage). */
int otelgen_send_main(int argc, char **argv);

#endif
