/* reactor.h: the worker reactors. One thread per worker, each running its own
 * libevent base; nothing on the hot path is shared between them. Other
 * threads talk to a worker only by posting it a message. */
#ifndef OG_REACTOR_H
#define OG_REACTOR_H

#include <stddef.h>

struct event_base;
struct reactor;
struct reactor_pool;

typedef void (*reactor_fn)(struct reactor *r, void *arg);

/* Creates <n> reactors (not yet running). Returns 0, or -1 with err set. */
int reactor_pool_create(struct reactor_pool **out, unsigned n, char *err, size_t errlen);

/* Starts one thread per reactor. Returns 0, or -1 with err set (the threads
 * already started are stopped again). */
int reactor_pool_start(struct reactor_pool *pool, char *err, size_t errlen);

/* Stops every reactor after the callbacks it is running return, and joins
 * its thread. Safe on a pool that never started. */
void reactor_pool_stop(struct reactor_pool *pool);

/* Frees a stopped pool; NULL is fine. */
void reactor_pool_destroy(struct reactor_pool *pool);

unsigned reactor_pool_size(const struct reactor_pool *pool);
struct reactor *reactor_pool_get(struct reactor_pool *pool, unsigned i);

/* Runs fn(r, arg) on r's thread, soon. Callable from any thread; the
 * message's memory is the poster's business. Returns 0, or -1 when out of
 * memory (nothing is posted). */
int reactor_post(struct reactor *r, reactor_fn fn, void *arg);

/* Runs fn(r, arg) on r's thread and waits until it returned. Not from r's
 * own thread. Returns 0, or -1 when it could not be posted. */
int reactor_call(struct reactor *r, reactor_fn fn, void *arg);

struct event_base *reactor_base(struct reactor *r);

/* The worker the calling thread runs, or NULL outside the workers. */
struct reactor *reactor_self(void);
unsigned reactor_id(const struct reactor *r);

#endif
