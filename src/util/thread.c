/* thread.c: the daemon's threads: names and scheduling class. */
#include "autoconf.h"

#include <sched.h>
#include <string.h>

#include "thread.h"

void thread_name(pthread_t t, const char *prefix, const char *id)
{
    char name[16];
    size_t n = strlen(prefix);

    if (n >= sizeof(name))
        n = sizeof(name) - 1;
    memcpy(name, prefix, n);
    size_t m = strlen(id);
    if (m > sizeof(name) - 1 - n)
        m = sizeof(name) - 1 - n;
    memcpy(name + n, id, m);
    name[n + m] = '\0';
    (void)pthread_setname_np(t, name);
}

int thread_bulk(pthread_t t)
{
    struct sched_param p = { .sched_priority = 0 };

    return pthread_setschedparam(t, SCHED_BATCH, &p);
}
