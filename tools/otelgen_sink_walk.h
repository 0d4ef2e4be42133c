/* otelgen_sink_walk.h: finds the id of every item in the protobuf bytes of an Export*ServiceRequest, the
 * ids otelgen send makes unique: a span's span_id, a log record's span_id, and for a metric data point the
 * span_id of its first exemplar that has one. A wire walk that reads only the fields on the way to those ids
 * and skips the rest by their length, so that it costs far less than the intake's own scan. */
#ifndef OTELGEN_SINK_WALK_H
#define OTELGEN_SINK_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "component.h"

/* Writes the ids of the items in <buf> to ids[0..cap), in the order of the bytes, as big-endian 64-bit
 * numbers (so otelgen's run is the top 24 bits); an item with no id, or one that is not 8 bytes, adds
 * nothing. Borrows <buf>, which should have passed otlp_scan; on bytes that did not, it stops at the first
 * malformed field and never reads outside <buf>. Returns how many ids it found, at most <cap>. */
size_t otelgen_sink_walk(enum og_signal signal, const uint8_t *buf, size_t len, uint64_t *ids, size_t cap);

#endif
