#!/bin/bash
# generator.sh: the ceiling of the measuring tools themselves: otelgen send
# on CPU 1 against otelgen sink on CPU 0, over gRPC and HTTP/1.1. A gateway
# figure from intake.sh is only meaningful well below these. Prints one line
# per scenario: spans/s, CPU seconds per 1M spans of the sink and of the
# sender, and the sink's peak RSS.
#
#   contrib/bench/generator.sh [OTELGEN]              (run from the tree)
#   DURATION=10s CONNS=8 contrib/bench/generator.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
otelgen=${1:-$here/../../otelgen}
duration=${DURATION:-10s}
conns=${CONNS:-8}
tmp=$(mktemp -d)
trap 'kill $sink 2>/dev/null || true; rm -rf "$tmp"' EXIT

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

taskset -c 0 "$otelgen" sink --grpc 127.0.0.1:16317 --http 127.0.0.1:16318 --control 127.0.0.1:16319 \
    >"$tmp/sink.out" 2>"$tmp/sink.err" &
sink=$!
for _ in $(seq 50); do
    curl -s -o /dev/null http://127.0.0.1:16319/stats && break
    sleep 0.1
done
echo "otelgen sink on CPU 0, otelgen send on CPU 1, $duration of 100-span requests over $conns connections"

# run NAME SEND-ARGS...
run() {
    local name=$1 s0 s1 hz out
    shift
    hz=$(getconf CLK_TCK)
    s0=$(cpu_ticks "$sink")
    out=$( { /usr/bin/time -f '%U %S' taskset -c 1 "$otelgen" send --json --duration "$duration" -c "$conns" \
        "$@" 2>&1 >"$tmp/send.json"; } 2>&1 | tail -1)
    s1=$(cpu_ticks "$sink")
    python3 - "$name" "$tmp/send.json" "$s0" "$s1" "$hz" "$out" \
        "$(awk '/VmHWM/ { print $2 }' "/proc/$sink/status")" <<'PY'
import json, sys
name, path, s0, s1, hz, times, rss = sys.argv[1:]
d = json.load(open(path))
items = d["acknowledged_items"]
send_cpu = sum(float(x) for x in times.split())
sink_cpu = (int(s1) - int(s0)) / int(hz)
print("%-14s %10.0f spans/s  sink %5.3f, send %5.3f CPU s per 1M spans  sink peak RSS %5.1f MiB"
      % (name, items / d["seconds"], sink_cpu / (items / 1e6), send_cpu / (items / 1e6), int(rss) / 1024))
PY
}
run grpc --protocol grpc 127.0.0.1:16317
run http/protobuf --protocol http/protobuf 127.0.0.1:16318
kill -TERM "$sink"
wait "$sink" || true
