/* thread.h: the daemon's threads: their names for top -H, ps -L and perf ("worker/0", "spool", "exp/otlp"),
 * and which of them may make the others wait for a core. */
#ifndef OG_UTIL_THREAD_H
#define OG_UTIL_THREAD_H

#include <pthread.h>

/* Names <t> after <prefix> and <id>, cut to the kernel's 15 characters; a failure only leaves it unnamed. */
void thread_name(pthread_t t, const char *prefix, const char *id);

/* Makes <t> bulk work (SCHED_BATCH): it gets its fair share of a core, but waking up it does not take the core
 * from a running thread. For the exporters: on a box with fewer cores than threads, an exporter woken by a
 * commit would take the core from the worker about to answer that commit's requests, and clients would wait
 * milliseconds for answers that are ready. A failure leaves <t> as it was, which only costs latency.
 * Returns 0 or an errno. */
int thread_bulk(pthread_t t);

#endif
