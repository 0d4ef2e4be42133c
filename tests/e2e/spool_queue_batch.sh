#!/bin/sh
# spool_queue_batch.sh: sending_queue.batch, end to end: otelgen send -> otelgate (otlp receiver -> otlp or
# otlphttp exporter, each request stored in the spool on its own and answered once committed) -> otelgen
# sink, which counts the requests the exporter merged the stored ones into. Merging by min_size over both
# exporters, with gzip (one gzip member per stored request) and without; clients answered before their batch
# is full; flush_timeout; a batch processor in front passing requests on; max_size, and a request larger
# than it; signals never merged together; a run refused (503) and sent again whole; a stored request deleted
# (max_age) while its run is sent; the configuration errors.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/spool_lib.sh"

if ! start_sink; then
    echo "Bail out! otelgen sink did not start"
    exit 1
fi

# requests_is SIGNAL COUNT: true once the sink took COUNT requests of SIGNAL.
requests_is() { [ "$(count "$1.requests")" = "$2" ]; }

# ------------------------------------------------ 1. merged by min_size ----

# 50 requests of 100 spans, min_size 1000: the upstream gets 5 requests of 1000, every span once. Half come
# over OTLP/gRPC, half over OTLP/HTTP, so both receivers feed the same stored queue.
for exporter in otlp otlphttp; do
    for comp in none gzip; do
        what="$exporter, compression $comp"
        rm -rf "$SPOOL_DIR"
        reset_sink
        spool_config "cfg1.$exporter.$comp.yaml" exporter="$exporter" compression="$comp" \
            qbatch="min_size: 1000, flush_timeout: 30s"
        if ! start_daemon "cfg1.$exporter.$comp.yaml"; then
            fail "$what: otelgate did not start"
            continue
        fi
        send grpc --signal traces -n 25 -c 2
        rg=$S_RC:$S_ACK_ITEMS
        send http/protobuf --signal traces -n 25 -c 2
        is "$rg $S_RC:$S_ACK_ITEMS" "0:2500 0:2500" "$what: 5000 spans acknowledged over gRPC and HTTP"
        wait_until 15 unique_is traces 5000
        is "$(count traces.unique traces.duplicates traces.requests)" "5000 0 5" \
            "$what: the upstream got 5000 spans, once, in 5 requests of 1000"
        wait_until 10 entries_is 0
        is "$(queued_entries)" 0 "$what: acknowledged requests leave the spool"
        stop_daemon
        is "$DAEMON_RC" 0 "$what: exit 0"
    done
done

# -------------------------- 2. answered before the batch is full; flush_timeout ----

# Clients are answered once their request is stored, not once min_size items are: 3 requests of 100 are
# acknowledged while nothing goes upstream, and go as one request when flush_timeout (1 s) is over.
rm -rf "$SPOOL_DIR"
reset_sink
spool_config cfg2.yaml qbatch="min_size: 1000, flush_timeout: 1s"
if start_daemon cfg2.yaml; then
    send_one_by_one 3
    is "$S_RC:$S_ACK_ITEMS:$(count traces.requests)" "0:300:0" \
        "3 requests of 100 with min_size 1000: acknowledged, none upstream yet"
    check "the 3 answers came before flush_timeout (took $SEND_MS ms of 1000)" test $SEND_MS -lt 900
    wait_until 10 unique_is traces 300
    is "$(count traces.unique traces.requests)" "300 1" "flush_timeout: the 300 spans go upstream as one request"
    stop_daemon
    is "$DAEMON_RC" 0 "flush_timeout: exit 0"
else
    fail "flush_timeout: otelgate did not start"
fi

# A batch processor in front of an exporter that batches by itself passes requests on: they are answered once
# stored, not after its timeout (30 s here), and still go upstream merged by the exporter. Without
# sending_queue.batch the same processor batches (spool_export.sh and batch.sh).
rm -rf "$SPOOL_DIR"
reset_sink
spool_config cfg2b.yaml batch=1 batch_timeout=30s qbatch="min_size: 1000, flush_timeout: 1s"
if start_daemon cfg2b.yaml; then
    send_one_by_one 3
    is "$S_RC:$S_ACK_ITEMS" "0:300" "batch processor (timeout 30s) before sending_queue.batch: 3 requests acknowledged"
    check "... one after the other, each answered once stored, not after the processor's 30 s (took $SEND_MS ms)" \
        test $SEND_MS -lt 10000
    wait_until 10 unique_is traces 300
    is "$(count traces.unique traces.requests)" "300 1" "... and merged by the exporter: 300 spans upstream in one request"
    check "the batch processor logs which pipelines it passes requests through" \
        grep -q "batch: pipeline traces: requests go on unbatched, its exporters batch them (sending_queue.batch)" \
        "$DAEMON_LOG"
    stop_daemon
    is "$DAEMON_RC" 0 "batch processor before sending_queue.batch: exit 0"
else
    fail "batch processor before sending_queue.batch: otelgate did not start"
fi

# --------------------------------------------------- 3. max_size ----

# min_size and max_size 250: 10 requests of 100 make runs of 200 (a third would make 300); four go, the fifth
# waits for more (flush_timeout 30 s). A request of 300, larger than max_size, ends it and goes alone, whole.
rm -rf "$SPOOL_DIR"
reset_sink
spool_config cfg3.yaml qbatch="min_size: 250, max_size: 250, flush_timeout: 30s"
if start_daemon cfg3.yaml; then
    send grpc --signal traces -n 10 -c 1
    is "$S_RC:$S_ACK_ITEMS" "0:1000" "max_size: 1000 spans acknowledged"
    wait_until 10 unique_is traces 800
    is "$(count traces.unique traces.requests)" "800 4" "max_size 250: 10 requests of 100 make runs of 200; 4 go"
    send grpc --signal traces -n 1 --spans-per-request 300
    wait_until 10 unique_is traces 1300
    is "$(count traces.unique traces.requests)" "1300 6" \
        "max_size 250: a request of 300 sends the fifth run, then goes alone, whole"
    stop_daemon
    is "$DAEMON_RC" 0 "max_size: exit 0"
else
    fail "max_size: otelgate did not start"
fi

# ------------------------------------------- 4. signals are not merged ----

# Spans and log records of one tenant share its queue; each signal goes upstream in requests of its own.
rm -rf "$SPOOL_DIR"
reset_sink
spool_config cfg4.yaml qbatch="min_size: 500, flush_timeout: 1s"
if start_daemon cfg4.yaml; then
    send_bg a grpc --signal traces -n 10 -c 1 --concurrency 1
    send_bg b grpc --signal logs -n 10 -c 1 --concurrency 1
    send_bg_wait "$a" 30
    ra=$S_RC:$S_ACK_ITEMS
    send_bg_wait "$b" 30
    is "$ra $S_RC:$S_ACK_ITEMS" "0:1000 0:1000" "signals: 1000 spans and 1000 log records acknowledged"
    wait_until 10 unique_is logs 1000
    wait_until 10 unique_is traces 1000
    is "$(count traces.unique traces.duplicates logs.unique logs.duplicates)" "1000 0 1000 0" \
        "signals: every span and log record arrives once, each in requests of its own signal"
    stop_daemon
    is "$DAEMON_RC" 0 "signals: exit 0"
else
    fail "signals: otelgate did not start"
fi

# ------------------------------------------ 5. a refused run goes again ----

# The upstream answers 503 to everything for a while: the merged request is retried, then all of it arrives.
rm -rf "$SPOOL_DIR"
reset_sink
set_faults '[{"mode": "unavailable", "retry_after": 0}]'
spool_config cfg5.yaml qbatch="min_size: 1000, flush_timeout: 30s"
if start_daemon cfg5.yaml; then
    send grpc --signal traces -n 10 -c 1
    is "$S_RC:$S_ACK_ITEMS" "0:1000" "refused run: 1000 spans acknowledged into the spool"
    wait_until 10 test "$(count faults.unavailable)" -ge 2
    clear_faults
    wait_until 15 unique_is traces 1000
    is "$(count traces.unique traces.duplicates traces.requests)" "1000 0 1" \
        "refused run: retried whole after the 503s, every span once, in one request"
    stop_daemon
    is "$DAEMON_RC" 0 "refused run: exit 0"
else
    fail "refused run: otelgate did not start"
fi
clear_faults

# ----------------------- 6. a stored request leaves the spool while its run is sent ----

# A run of two stored requests, A (200 spans, about 100 KB) then B (400 spans, stored 1.5 s later). The
# upstream grants no window beyond 65,535 bytes, so the send stops inside A; max_age (3 s) deletes A, not yet
# B. When the window opens, the rest of A must not come from the file (nor from B, which a read of "the next
# stored request" would find there): the stream is reset, no byte more, no end. The run is retried with what
# is still stored of it: B alone, sent whole on a new stream.
stream_data() { awk -v s="$1" '$1 == "data" && $2 == s { n += $3 } END { print n + 0 }' "$OG_TMP/stall/events"; }
stop_sink
rm -rf "$SPOOL_DIR" "$OG_TMP/stall"
mkdir -p "$OG_TMP/stall"
python3 "$SPOOL_TESTS/h2_stall_upstream.py" "$SINK_G" "$OG_TMP/stall" >"$OG_TMP/stall.out" 2>&1 </dev/null &
og_pids="$og_pids $!"
spool_config cfg7.yaml max_age=3s timeout=5s qbatch="min_size: 300, flush_timeout: 30s"
if wait_until 10 grep -q '^listening$' "$OG_TMP/stall.out" && start_daemon cfg7.yaml; then
    send grpc --signal traces -n 1 --spans-per-request 200
    ms_sleep 1500 1500
    send grpc --signal traces -n 1 --spans-per-request 400
    is "$S_RC:$S_ACK_ITEMS:$(queued_entries)" "0:400:2" "part gone mid-run: A and B acknowledged, stored apart"
    wait_until 10 test "$(stream_data 1)" -ge 65535
    is "$(stream_data 1)" 65535 "part gone mid-run: the run's stream holds at 65,535 bytes, inside A"
    wait_until 10 entries_is 1
    is "$(queued_entries)" 1 "part gone mid-run: max_age deleted A, B is still stored"
    touch "$OG_TMP/stall/open"
    wait_until 10 grep -q ' end$' "$OG_TMP/stall/events"
    is "$(grep -c '^rst 1 ' "$OG_TMP/stall/events"):$(stream_data 1):$(grep -c '^data 1 .* end$' "$OG_TMP/stall/events")" \
        "1:65535:0" "part gone mid-run: the run's stream is reset, no byte more, no end"
    b=$(awk '$1 == "data" && $2 != 1 && / end$/ { print $2; exit }' "$OG_TMP/stall/events")
    check "part gone mid-run: B goes whole on stream ${b:-?} ($(stream_data "${b:-0}") bytes)" \
        test -n "$b" -a "$(stream_data "${b:-0}")" -gt 150000
    check "part gone mid-run: the exporter says why" \
        grep -q "the batch could not be read from the spool while it was sent" "$DAEMON_LOG"
    stop_daemon
    is "$DAEMON_RC" 0 "part gone mid-run: exit 0"
else
    fail "part gone mid-run: h2_stall_upstream.py or otelgate did not start"
fi

# ------------------------------------------------ 7. configuration ----

# refused DESC WANT: otelgate --validate refuses the configuration on standard input, saying WANT.
refused()
{
    write_file bad.yaml
    run_cmd 10 "$OTELGATE" --validate -c bad.yaml
    is "$RC" 1 "$1: exit 1"
    contains "$OUT$ERR" "$2" "$1: the message says why"
}

refused "sending_queue.batch without storage" "exporters.otlp.sending_queue.batch: needs sending_queue.storage" <<EOF
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:$(free_port) } } }
exporters:
  otlp: { endpoint: 127.0.0.1:1, sending_queue: { batch: { min_size: 100 } } }
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp] }
EOF
refused "sending_queue.batch.max_size below min_size" "sending_queue.batch.max_size: 50 is below min_size (100)" <<EOF
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:$(free_port) } } }
exporters:
  otlp:
    endpoint: 127.0.0.1:1
    sending_queue: { storage: spool, batch: { min_size: 100, max_size: 50 } }
extensions:
  spool: { directory: $OG_TMP/spool-bad }
service:
  extensions: [spool]
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp] }
EOF

stop_sink
sanitizer_clean
