#!/bin/bash
# intake.sh: how fast one worker core takes in OTLP. otelgate runs with
# workers: 1 pinned to CPU 0, the debug exporter logging one request in
# 100000; h2load runs on CPU 1 and sends the reference payloads over gRPC
# and HTTP/1.1 (plain and gzip). Prints one line per scenario: spans/s, CPU
# seconds of the gateway per million spans, and its peak RSS.
#
#   contrib/bench/intake.sh [OTELGATE] [BENCH_DIR]      (run from the tree)
#   REQUESTS=200000 CLIENTS=8 STREAMS=32 contrib/bench/intake.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
otelgate=${1:-$here/../../otelgate}
bench=${2:-$here/../../../shared/bench}
requests=${REQUESTS:-100000}
clients=${CLIENTS:-8}
streams=${STREAMS:-32}
spans_per_request=100
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT

command -v h2load >/dev/null || { echo "h2load missing: apt-get install nghttp2-client" >&2; exit 1; }
cat >"$tmp/bench.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:14317 }
      http: { endpoint: 127.0.0.1:14318 }
exporters:
  debug: { verbosity: basic, sampling_initial: 1, sampling_thereafter: 100000 }
service:
  workers: 1
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
YAML

# cpu_ticks PID: utime + stime in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run NAME H2LOAD-ARGS...: one scenario against the running gateway.
run() {
    local name=$1
    shift
    local t0 c0 t1 c1 ok
    c0=$(cpu_ticks "$pid")
    t0=$(date +%s.%N)
    taskset -c 1 h2load "$@" >"$tmp/h2load.out" 2>&1 || true
    t1=$(date +%s.%N)
    c1=$(cpu_ticks "$pid")
    ok=$(awk '/^status codes:/ { print $3 }' "$tmp/h2load.out")
    [ -n "$ok" ] || { cat "$tmp/h2load.out"; return 1; }
    awk -v name="$name" -v ok="$ok" -v spr=$spans_per_request -v t0="$t0" -v t1="$t1" \
        -v c0="$c0" -v c1="$c1" -v hz="$(getconf CLK_TCK)" -v rss="$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")" '
        BEGIN {
            spans = ok * spr; secs = t1 - t0; cpu = (c1 - c0) / hz
            printf "%-22s %10.0f spans/s  %6.3f CPU s per 1M spans  peak RSS %5.1f MiB  (%d requests 2xx)\n",
                name, spans / secs, cpu / (spans / 1e6), rss / 1024, ok
        }'
}

taskset -c 0 "$otelgate" -c "$tmp/bench.yaml" 2>"$tmp/otelgate.log" &
pid=$!
for _ in $(seq 50); do
    curl -s -o /dev/null http://127.0.0.1:14318/ 2>/dev/null && break
    sleep 0.1
done
grpc_path=/opentelemetry.proto.collector.trace.v1.TraceService/Export
gzip -c <"$bench/traces_100.pb" | python3 -c '
import sys; d = sys.stdin.buffer.read(); sys.stdout.buffer.write(b"\x01" + len(d).to_bytes(4, "big") + d)' \
    >"$tmp/traces_100.grpc.gz"
echo "otelgate $("$otelgate" --version | head -1 | cut -d" " -f2), workers: 1 on CPU 0, h2load on CPU 1," \
     "$requests requests of $spans_per_request spans, $clients connections"
run "grpc" -n "$requests" -c "$clients" -m "$streams" -d "$bench/traces_100.grpc" \
    -H 'content-type: application/grpc' -H 'te: trailers' "http://127.0.0.1:14317$grpc_path"
run "grpc gzip" -n "$requests" -c "$clients" -m "$streams" -d "$tmp/traces_100.grpc.gz" \
    -H 'content-type: application/grpc' -H 'te: trailers' -H 'grpc-encoding: gzip' \
    "http://127.0.0.1:14317$grpc_path"
run "http/1.1 protobuf" --h1 -n "$requests" -c "$clients" -d "$bench/traces_100.pb" \
    -H 'content-type: application/x-protobuf' http://127.0.0.1:14318/v1/traces
run "http/1.1 protobuf gzip" --h1 -n "$requests" -c "$clients" -d "$bench/traces_100.pb.gz" \
    -H 'content-type: application/x-protobuf' -H 'content-encoding: gzip' http://127.0.0.1:14318/v1/traces
run "http/1.1 json" --h1 -n "$((requests / 10))" -c "$clients" -d "$bench/traces_100.json" \
    -H 'content-type: application/json' http://127.0.0.1:14318/v1/traces
kill -TERM "$pid"
wait "$pid" || true
grep -E "stopped accepted" "$tmp/otelgate.log" | sed 's/^/# /'
