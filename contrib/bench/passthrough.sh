#!/bin/bash
# passthrough.sh: the durable path end to end. otelgen send (gRPC, --retry)
# -> otelgate (workers: 1; the whole process, spool writer and exporter
# threads included, pinned to CPU 0) -> batch -> LMDB spool (sync: always)
# -> otlp exporter -> otelgen sink (CPU 1, with the sender).
#
# 1. passthrough: timed until the sink holds every span; spans/s end to end,
#    the gateway's CPU seconds per 1M spans, its peak RSS, loss/duplicates.
# 2. replay: the same spans sent while the sink is down (all spooled), then
#    the sink starts: from the first span it receives (the exporter's
#    reconnect backoff is not replay) until it holds them all.
#
# The requests are rounded up to whole batches, so that with BATCHER=exporter
# the last run goes on min_size, not after flush_timeout: the figure is
# throughput (the batch processor's group commit sends its last batch once
# the one before it is committed).
#
#   contrib/bench/passthrough.sh [OTELGATE] [OTELGEN]      (run from the tree)
#   SPANS=2000000 COMPRESSION=gzip contrib/bench/passthrough.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/durable_lib.sh"
trap 'kill $gw $sink $poller 2>/dev/null || true; rm -rf "$tmp"' EXIT
poller=
per_request=${SPANS_PER_REQUEST:-100}
per_batch=$(((batch + per_request - 1) / per_request))    # requests per batch
requests=$((((${SPANS:-1000000} / per_request + per_batch - 1) / per_batch) * per_batch))
spans=$((requests * per_request))

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# cpu_times: "busy total" jiffies of CPU 0 and of CPU 1 (busy: not idle, not iowait), to tell a run bound by the
# cores from one bound by waiting
cpu_times() { awk '/^cpu[01] / { t = 0; for (i = 2; i <= 9; i++) t += $i; printf "%d %d ", t - $5 - $6, t }' /proc/stat; }
exec {tick}<> <(:)      # read -t on a pipe nobody writes: a sleep without a fork
peak_rss_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
# sample_rss PID: largest anonymous and file-backed RSS seen, sampled every 50 ms until killed; LMDB's
# map pages the exporter reads count as file-backed (page cache, reclaimable), the rest is anonymous. Bash
# builtins only: an awk and a sleep forked 20 times a second took 5-9 % of a core from the path measured
sample_rss() {
    local k v _ a f ma=0 mf=0
    trap 'echo "$ma $mf" > "$tmp/rss.$1"; exit 0' TERM
    while a= f= && { while read -r k v _; do
                         case $k in RssAnon:) a=$v ;; RssFile:) f=$v ;; esac
                     done < "/proc/$1/status"; } 2>/dev/null && [ -n "$a" ]; do
        [ "$a" -gt "$ma" ] && ma=$a
        [ "$f" -gt "$mf" ] && mf=$f
        read -rt 0.05 -u "$tick" _ || true
    done
}
# sink_poll: polls the sink's counters every 50 ms (a poll walks the sink's id set: often, it costs the sink
# a share of CPU 1), from a Python on CPU 1 started before the clock does (its ~130 ms of start-up, counted
# after the send, was 10 % of a 1M-span run). Prints "ready" once loaded, then "first unique duplicates time"
# at the first poll that finds a span, and "all unique duplicates time" once the sink holds every span (or
# after 60 s without progress), with the time the sink took the last new one (its last_unique_us). Run in
# the background into $tmp/poll; poll_wait waits for a line
sink_poll() {
    taskset -c 1 python3 -u - "$spans" <<'PY'
import http.client, json, sys, time
want, first = int(sys.argv[1]), False
last, still, conn = -1, time.time(), None
print("ready")
while True:
    try:
        conn = conn or http.client.HTTPConnection("127.0.0.1", 19319, timeout=5)
        conn.request("GET", "/stats")
        t = json.load(conn.getresponse())["traces"]
        u, d, at = t["unique"], t["duplicates"], t["last_unique_us"] / 1e6
    except (OSError, http.client.HTTPException):
        u, d, at, conn = 0, 0, 0, None
    now = time.time()
    if u > 0 and not first:
        print("first", u, d, "%.4f" % now)
        first = True
    if u >= want or now - still > 60:
        print("all", u, d, "%.4f" % (at if u >= want else now))
        break
    if u != last:
        last, still = u, now
    time.sleep(0.05)
PY
}
# poll_wait WORD: waits until the poller's file has the line starting with WORD, prints the rest
poll_wait() {
    local k rest
    while :; do
        while read -r k rest; do
            [ "$k" = "$1" ] && { echo "$rest"; return; }
        done < "$tmp/poll"
        read -rt 0.01 -u "$tick" _ || true
    done
}
# send_spans: all the spans over gRPC from CPU 1; the sender's CPU seconds go to $tmp/send.cpu
send_spans() {
    local TIMEFORMAT=%3U+%3S
    { time taskset -c 1 "$otelgen" send --protocol grpc -n $requests --spans-per-request $per_request \
        --concurrency ${CONCURRENCY:-256} -c ${CONNS:-1} \
        --retry 127.0.0.1:19417 >/dev/null 2>&1; } 2>"$tmp/send.time"
    python3 -c 'import sys; print(eval(open(sys.argv[1]).read()))' "$tmp/send.time" >"$tmp/send.cpu"
}
report() {  # NAME T0 C0 SAMPLER SINK-C0 SENDER-CPU-SECONDS CPU-TIMES-AT-T0 [SPANS-AT-T0]
    local t1 c1 s1 u d anon file k1
    read -r u d t1 < <(poll_wait all)
    c1=$(cpu_ticks "$gw") s1=$(cpu_ticks "$sink") k1=$(cpu_times)
    kill -TERM "$4"; wait "$4" 2>/dev/null || true
    read -r anon file < "$tmp/rss.$gw"
    python3 -c 'import sys; name, spans, t0, t1, c0, c1, s0, s1, send, hz, rss, anon, file, u, d, k0, k1, base = sys.argv[1:]
secs = float(t1) - float(t0); per = int(spans) / 1e6; hz = int(hz); cpu = (int(c1) - int(c0)) / hz / per
k = [int(b) - int(a) for a, b in zip(k0.split(), k1.split())]
busy = tuple(100 * k[i] / k[i + 1] if k[i + 1] > 0 else 0 for i in (0, 2))
print("%-11s %9.0f spans/s  %5.2f gateway CPU s per 1M spans  peak RSS %5.1f MiB (anon %5.1f, file %5.1f)  "
      "%s/%s arrived, %s duplicates\n%-11s gateway: %.0f spans per CPU second; CPU s per 1M spans on CPU 1: "
      "sender %.2f, sink %.2f; cores busy: CPU 0 %.0f %%, CPU 1 %.0f %%" % ((name, (int(spans) - int(base)) / secs,
      cpu, int(rss) / 1024, int(anon) / 1024, int(file) / 1024, u, spans, d, "", 1e6 / cpu if cpu > 0 else 0,
      float(send) / per, (int(s1) - int(s0)) / hz / per) + busy))' \
        "$1" "$spans" "$2" "$t1" "$3" "$c1" "$5" "$s1" "$6" "$(getconf CLK_TCK)" "$(peak_rss_kib "$gw")" "$anon" "$file" \
        "$u" "$d" "$7" "$k1" "${8:-0}"
}

echo "otelgen send -> otelgate (workers: 1, CPU 0) -> batch (${BATCHER:-processor}) -> spool (sync: ${SYNC:-always}) ->" \
     "otlp ($compression)" \
     "-> otelgen sink; $spans spans in requests of $per_request"
start_sink
sleep 0.5
start_gateway
: > "$tmp/poll"; sink_poll > "$tmp/poll" & poller=$!; poll_wait ready >/dev/null
sample_rss "$gw" & sampler=$!
c0=$(cpu_ticks "$gw") s0=$(cpu_ticks "$sink") k0=$(cpu_times) t0=$(date +%s.%N)
send_spans
report passthrough "$t0" "$c0" "$sampler" "$s0" "$(cat "$tmp/send.cpu")" "$k0"
kill -TERM "$sink"; wait "$sink" 2>/dev/null || true

# replay: spool everything with the sink down, then time the drain alone
send_spans
echo "spooled: $(du -sh "$tmp/spool" | cut -f1) on disk"
sample_rss "$gw" & sampler=$!
c0=$(cpu_ticks "$gw")
: > "$tmp/poll"; sink_poll > "$tmp/poll" & poller=$!; poll_wait ready >/dev/null
start_sink     # polled at once: the exporter may reconnect within the 0.5 s a sleep here would take
read -r u0 _ t0 < <(poll_wait first)
report replay "$t0" "$c0" "$sampler" 0 0 "$(cpu_times)" "$u0"     # the sink is new: all its CPU is the replay's
kill -TERM "$gw" "$sink"
wait "$gw" "$sink" 2>/dev/null || true
gw= sink=
