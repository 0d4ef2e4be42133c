# durable_lib.sh: the durable path passthrough.sh and cycle.sh measure, sourced by both: its configuration
# and how its processes start. otelgen sink on CPU 1 (the upstream), otelgate on CPU 0 with workers: 1 ->
# batch -> LMDB spool -> otlp exporter to the sink. The caller sets here (its directory) and sources this
# with its own arguments, OTELGATE and OTELGEN (default: the build tree's); this sets otelgate, otelgen and
# tmp, a new scratch directory the caller removes. The environment sets BATCH (send_batch_size, 8192),
# BATCHER (processor: the batch processor batches in memory; exporter: the exporter's sending_queue.batch
# merges requests stored one by one, with BATCH as min_size), COMPRESSION (none | gzip), SYNC (always |
# interval) and STREAMS (the receiver's max_concurrent_streams, 100).
otelgate=${1:-$here/../../otelgate}
otelgen=${2:-$here/../../otelgen}
tmp=$(mktemp -d)
batch=${BATCH:-8192}
compression=${COMPRESSION:-none}
sink= gw=

if [ "${BATCHER:-processor}" = exporter ]; then
    processors=
    queue_batch=", batch: { min_size: $batch, flush_timeout: 200ms }"
else
    processors=batch
    queue_batch=
fi
cat >"$tmp/gw.yaml" <<YAML
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:19417, max_concurrent_streams: ${STREAMS:-100} } } }
processors:
  batch: { send_batch_size: $batch, timeout: 200ms }
exporters:
  otlp:
    endpoint: 127.0.0.1:19317
    compression: $compression
    retry_on_failure: { initial_interval: 100ms, max_interval: 1s }
    sending_queue: { storage: spool, num_consumers: 8$queue_batch }
extensions:
  spool: { directory: $tmp/spool, max_size: 8GiB, sync: ${SYNC:-always} }
service:
  workers: 1
  extensions: [spool]
  pipelines:
    traces: { receivers: [otlp], processors: [$processors], exporters: [otlp] }
YAML

start_sink() {     # sets sink; returns at once (the sink listens a moment later)
    taskset -c 1 "$otelgen" sink --grpc 127.0.0.1:19317 --http 127.0.0.1:19318 --control 127.0.0.1:19319 \
        >/dev/null 2>&1 &
    sink=$!
}
start_gateway() {  # sets gw; returns once it had a second to start
    taskset -c 0 "$otelgate" -c "$tmp/gw.yaml" 2>>"$tmp/gw.log" &
    gw=$!
    sleep 1
}
