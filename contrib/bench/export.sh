#!/bin/bash
# export.sh: receiver to upstream through the otlp exporter. otelgen send
# (with --retry) -> otelgate (workers: 1, CPU 0) -> otlp exporter ->
# otelgen sink (CPU 1, with the sender). Timed until the sink holds every
# span, once per exporter compression. Prints spans/s end to end and the
# gateway's CPU seconds per 1M spans. The queue is in memory until the spool
# is wired in; then this becomes the durable passthrough benchmark.
#
#   contrib/bench/export.sh [OTELGATE] [OTELGEN]      (run from the tree)
#   SPANS=2000000 contrib/bench/export.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
otelgate=${1:-$here/../../otelgate}
otelgen=${2:-$here/../../otelgen}
spans=${SPANS:-1000000}
tmp=$(mktemp -d)
sink= gw=
trap 'kill $gw $sink 2>/dev/null || true; rm -rf "$tmp"' EXIT

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# unique: "spans time": the sink's unique spans and when it took its last new one (last_unique_us, in seconds),
# the end of the run once it holds them all (not the moment this poll, with its Python start-up, saw it)
unique() {
    curl -s http://127.0.0.1:19319/stats |
        python3 -c 'import json, sys; t = json.load(sys.stdin)["traces"]; print(t["unique"], t["last_unique_us"] / 1e6)'
}

# run COMPRESSION
run() {
    cat >"$tmp/gw.yaml" <<YAML
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:19417 } } }
exporters:
  otlp: { endpoint: 127.0.0.1:19317, compression: $1 }
service:
  workers: 1
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp] }
YAML
    taskset -c 1 "$otelgen" sink --grpc 127.0.0.1:19317 --http 127.0.0.1:19318 --control 127.0.0.1:19319 \
        >/dev/null 2>&1 &
    sink=$!
    taskset -c 0 "$otelgate" -c "$tmp/gw.yaml" 2>"$tmp/gw.$1.log" &
    gw=$!
    sleep 1
    local c0 c1 t0 t1 u=0
    c0=$(cpu_ticks "$gw")
    t0=$(date +%s.%N)
    taskset -c 1 "$otelgen" send --protocol grpc -n $((spans / 100)) -c 32 --retry 127.0.0.1:19417 >/dev/null
    for _ in $(seq 1200); do
        read -r u t1 < <(unique)
        [ "${u:-0}" -ge "$spans" ] && break
        sleep 0.05
    done
    c1=$(cpu_ticks "$gw")
    [ "${u:-0}" -ge "$spans" ] || t1=$(date +%s.%N)
    python3 -c 'import sys; spans, t0, t1, c0, c1, hz, u, name = sys.argv[1:]
secs = float(t1) - float(t0); cpu = (int(c1) - int(c0)) / int(hz)
print("compression %-5s %9.0f spans/s end to end  %5.2f gateway CPU s per 1M spans  (%s of %s spans arrived)"
      % (name, int(spans) / secs, cpu / (int(spans) / 1e6), u, spans))' \
        "$spans" "$t0" "$t1" "$c0" "$c1" "$(getconf CLK_TCK)" "$u" "$1"
    kill -TERM "$gw" "$sink"
    wait "$gw" "$sink" 2>/dev/null || true
    gw= sink=
}
echo "otelgen send -> otelgate (workers: 1, CPU 0) -> otlp exporter -> otelgen sink, $spans spans"
run none
run gzip
