/* otelgen_send.h: `otelgen send`, which sends OTLP requests (a number of them or for a while, in a closed or
 * an open loop, over connections spread across threads) and reports the answers, throughput and latency. */
#ifndef OTELGEN_SEND_H
#define OTELGEN_SEND_H

/* Runs `otelgen send`; argv[0] is "send". Returns the exit status: 0 when every request finally got a
 * success answer, 1 when any finally failed, a connection failed or the run could not start, 2 for a usage
 * error (said on stderr with the usage). */
int otelgen_send_main(int argc, char **argv);

#endif
