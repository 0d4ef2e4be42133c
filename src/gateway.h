/* gateway.h: the running gateway: worker reactors plus one started instance
 * per configured component in use, and the drain state the health check and
 * the receivers read. */
#ifndef OG_GATEWAY_H
#define OG_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "component.h"

struct config;
struct event_base;
struct gateway;
struct reactor_pool;

/* Starts the workers, then the extensions in service.extensions order, then
 * the components of every pipeline, exporters before receivers so nothing is
 * accepted before it can go somewhere. Returns 0, or -1 with err set to a line
 * naming the component that failed; what had started is stopped again. */
int gateway_start(struct gateway **out, const struct config *cfg, char *err, size_t errlen);

/* Stops the components in reverse start order, then the workers, and frees
 * the gateway. NULL is fine. */
void gateway_stop(struct gateway *gw);

/* Marks the gateway as draining: the health check answers 503 from now on.
 * Any thread may read the flag; only the main thread sets it. */
void gateway_set_draining(struct gateway *gw);
bool gateway_draining(const struct gateway *gw);

/* Fills <out> with up to <max> pipelines of <signal> that receiver
 * <receiver_id> feeds; returns how many there are (possibly more than
 * <max>). Valid from the receivers' start on. */
struct pipeline;
size_t gateway_pipelines_of(struct gateway *gw, const char *receiver_id, int signal, struct pipeline **out,
                            size_t max);

/* Asks every component to stop taking new work (receivers close their
 * listeners); main thread, at the start of the drain. */
void gateway_drain(struct gateway *gw);

/* Requests still being served by all components. */
uint64_t gateway_inflight(const struct gateway *gw);

/* The workers <cfg> asks for: service.workers, or one per CPU this process may run on. */
unsigned gateway_worker_count(const struct config *cfg);
struct reactor_pool *gateway_workers(struct gateway *gw);

/* Every configured pipeline, <*n> of them; built once every exporter and processor started. */
struct pipeline *gateway_pipelines(struct gateway *gw, size_t *n);

/* The started component <id> of <kind> (an extension an exporter names), or
 * NULL. Main thread, from start() on. */
struct component *gateway_component(struct gateway *gw, enum og_kind kind, const char *id);

/* Start time, for the health check: ISO 8601 UTC text and seconds since. */
const char *gateway_started_iso(const struct gateway *gw);
double gateway_uptime(const struct gateway *gw);

#endif
