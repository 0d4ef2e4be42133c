/* reactor.c: worker threads, each with an event_base of its own. The only
 * cross-thread path is the mailbox: a short locked list plus an eventfd that
 * wakes the loop. It carries control messages (start a listener, drain,
 * stop), never per-request traffic, so its lock is off the hot path. */
#include "autoconf.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "reactor.h"
#include "util/thread.h"

struct reactor_msg {
    reactor_fn fn;
    void *arg;
    struct reactor_msg *next;
};

struct reactor {
    unsigned id;
    struct event_base *base;
    pthread_t thread;
    bool running;
    int wake_fd;
    struct event *wake_ev;
    pthread_mutex_t lock;               /* guards head/tail only */
    struct reactor_msg *head, *tail;
};

struct reactor_pool {
    unsigned n;
    struct reactor *v;
};

/* The reactor of the calling worker thread; NULL on other threads. */
static _Thread_local struct reactor *reactor_current;

struct reactor *reactor_self(void)
{
    return reactor_current;
}

static void reactor_on_wake(evutil_socket_t fd, short what, void *arg)
{
    struct reactor *r = arg;
    uint64_t count;
    struct reactor_msg *m;

    if (read(fd, &count, sizeof(count)) == -1 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&r->lock);
    m = r->head;
    r->head = r->tail = NULL;
    pthread_mutex_unlock(&r->lock);
    while (m != NULL) {
        struct reactor_msg *next = m->next;
        m->fn(r, m->arg);
        free(m);
        m = next;
    }
}

int reactor_post(struct reactor *r, reactor_fn fn, void *arg)
{
    struct reactor_msg *m = malloc(sizeof(*m));
    uint64_t one = 1;

    if (m == NULL)
        return -1;
    m->fn = fn;
    m->arg = arg;
    m->next = NULL;
    pthread_mutex_lock(&r->lock);
    bool first = r->tail == NULL;
    if (!first)
        r->tail->next = m;
    else
        r->head = m;
    r->tail = m;
    pthread_mutex_unlock(&r->lock);
    /* Only the message that finds the mailbox empty wakes the loop: the
     * others are taken with it (reactor_on_wake empties the mailbox after
     * reading the eventfd). A spool commit answering 100 requests made 100
     * writes and as many wake-ups. An eventfd write fails only when the
     * counter would overflow, and then a wake-up is pending anyway. */
    if (first) {
        ssize_t w = write(r->wake_fd, &one, sizeof(one));
        (void)w;
    }
    return 0;
}

struct reactor_sync {
    reactor_fn fn;
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
};

static void reactor_on_sync(struct reactor *r, void *arg)
{
    struct reactor_sync *s = arg;

    s->fn(r, s->arg);
    pthread_mutex_lock(&s->lock);
    s->done = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

int reactor_call(struct reactor *r, reactor_fn fn, void *arg)
{
    struct reactor_sync s = { .fn = fn, .arg = arg, .done = false };

    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    int rc = reactor_post(r, reactor_on_sync, &s);
    if (rc == 0) {
        pthread_mutex_lock(&s.lock);
        while (!s.done)
            pthread_cond_wait(&s.cond, &s.lock);
        pthread_mutex_unlock(&s.lock);
    }
    pthread_cond_destroy(&s.cond);
    pthread_mutex_destroy(&s.lock);
    return rc;
}

static void *reactor_main(void *arg)
{
    struct reactor *r = arg;

    reactor_current = r;
    event_base_loop(r->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int reactor_init(struct reactor *r, unsigned id, char *err, size_t errlen)
{
    r->id = id;
    r->wake_fd = -1;
    pthread_mutex_init(&r->lock, NULL);
    r->base = event_base_new();
    if (r->base == NULL) {
        snprintf(err, errlen, "worker %u: cannot create event base", id);
        return -1;
    }
    r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->wake_fd == -1) {
        snprintf(err, errlen, "worker %u: eventfd: %s", id, strerror(errno));
        return -1;
    }
    r->wake_ev = event_new(r->base, r->wake_fd, EV_READ | EV_PERSIST, reactor_on_wake, r);
    if (r->wake_ev == NULL || event_add(r->wake_ev, NULL) != 0) {
        snprintf(err, errlen, "worker %u: cannot watch its mailbox", id);
        return -1;
    }
    return 0;
}

int reactor_pool_create(struct reactor_pool **out, unsigned n, char *err, size_t errlen)
{
    struct reactor_pool *pool = calloc(1, sizeof(*pool));

    if (pool == NULL || (pool->v = calloc(n, sizeof(*pool->v))) == NULL) {
        free(pool);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        pool->n = i + 1;
        if (reactor_init(&pool->v[i], i, err, errlen) != 0) {
            reactor_pool_destroy(pool);
            return -1;
        }
    }
    *out = pool;
    return 0;
}

int reactor_pool_start(struct reactor_pool *pool, char *err, size_t errlen)
{
    sigset_t all, old;

    /* Workers never take signals: the main thread's loop handles them all. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < pool->n; i++) {
        struct reactor *r = &pool->v[i];
        int rc = pthread_create(&r->thread, NULL, reactor_main, r);
        if (rc != 0) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            snprintf(err, errlen, "worker %u: cannot start thread: %s", i, strerror(rc));
            reactor_pool_stop(pool);
            return -1;
        }
        r->running = true;
        char id[12];
        snprintf(id, sizeof(id), "%u", i);
        thread_name(r->thread, "worker/", id);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}

static void reactor_on_stop(struct reactor *r, void *arg)
{
    event_base_loopbreak(r->base);
}

void reactor_pool_stop(struct reactor_pool *pool)
{
    if (pool == NULL)
        return;
    for (unsigned i = 0; i < pool->n; i++)
        if (pool->v[i].running)
            reactor_post(&pool->v[i], reactor_on_stop, NULL);
    for (unsigned i = 0; i < pool->n; i++) {
        if (!pool->v[i].running)
            continue;
        pthread_join(pool->v[i].thread, NULL);
        pool->v[i].running = false;
    }
}

void reactor_pool_destroy(struct reactor_pool *pool)
{
    if (pool == NULL)
        return;
    for (unsigned i = 0; i < pool->n; i++) {
        struct reactor *r = &pool->v[i];
        struct reactor_msg *m = r->head;
        while (m != NULL) {
            struct reactor_msg *next = m->next;
            free(m);
            m = next;
        }
        if (r->wake_ev != NULL)
            event_free(r->wake_ev);
        if (r->wake_fd != -1)
            close(r->wake_fd);
        if (r->base != NULL)
            event_base_free(r->base);
        pthread_mutex_destroy(&r->lock);
    }
    free(pool->v);
    free(pool);
}

unsigned reactor_pool_size(const struct reactor_pool *pool)
{
    return pool->n;
}

struct reactor *reactor_pool_get(struct reactor_pool *pool, unsigned i)
{
    return &pool->v[i];
}

struct event_base *reactor_base(struct reactor *r)
{
    return r->base;
}

unsigned reactor_id(const struct reactor *r)
{
    return r->id;
}
