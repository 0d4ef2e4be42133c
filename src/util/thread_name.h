/* thread_name.h: names the daemon's threads for top -H, ps -L and perf ("worker/0", "spool", "exp/otlp"). */
#ifndef OG_UTIL_THREAD_NAME_H
#define OG_UTIL_THREAD_NAME_H

#include <pthread.h>

/* Names <t> after <prefix> and <id>, cut to the kernel's 15 characters; a failure only leaves it unnamed. */
void thread_name(pthread_t t, const char *prefix, const char *id);

#endif
