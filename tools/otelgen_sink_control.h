/* otelgen_sink_control.h: the sink's control endpoint, a small HTTP/1.1 server (libevent's evhttp) on the
 * main thread's loop: GET /stats, POST /reset, GET, PUT (or POST) and DELETE /faults. It reaches the workers
 * through otelgen_sink_workers_*, so a change is in force on every worker before it is answered. */
#ifndef OTELGEN_SINK_CONTROL_H
#define OTELGEN_SINK_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <jansson.h>

#include "otelgen_sink_faults.h"
#include "otelgen_sink_worker.h"

/* How reports and rules are printed: indented for a person, reals as a person writes them (0.5, 12.34). */
#define OTELGEN_SINK_JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(9))

struct otelgen_sink_control;

/* Serves listening sockets fds[0..n_fds) (taken: closed by otelgen_sink_control_close, or here on failure)
 * on <base>, for <n> workers whose rules are <faults> now. <tenancy>: whether tenant= rules can match.
 * Returns 0, or -1 with <err> set. */
int otelgen_sink_control_open(struct otelgen_sink_control **out, struct event_base *base, int *fds, unsigned n_fds,
                              struct otelgen_sink_worker *const *w, unsigned n, const struct otelgen_sink_faults *faults,
                              bool tenancy, char *err, size_t errlen);

/* The report GET /stats would give now, for the time since the start or the last reset. Returns a new
 * reference, or NULL when out of memory. */
json_t *otelgen_sink_control_report(struct otelgen_sink_control *c);

/* Stops serving and frees; NULL is fine. */
void otelgen_sink_control_close(struct otelgen_sink_control *c);

#endif
