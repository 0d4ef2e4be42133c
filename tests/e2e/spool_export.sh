#!/bin/sh
# spool_export.sh: exporters with sending_queue.storage: spool, end to end: otelgen send -> otelgate (otlp
# receiver -> otlp or otlphttp exporter, queue in the LMDB spool) -> otelgen sink, counting items sent,
# acknowledged and received. Happy path for each signal over both exporters with and without the batch
# processor; an upstream down for the whole send (the backlog is in the spool, then delivered); permanent
# rejections (dropped, counted, the queue moves on); one tenant's upstream failing while the other's flows;
# SIGTERM with a backlog, and a restart that delivers it; an exporter renamed over a backlog; the upstream
# killed in the middle of a batch; the batch processor's group commits; a batch deleted
# (max_age) while it is sent, over each exporter.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/spool_lib.sh"

N=20            # requests per send, 100 items each
ITEMS=$((N * 100))

if ! start_sink; then
    echo "Bail out! otelgen sink did not start"
    exit 1
fi

# ------------------------------------------------------ 1. happy path ----

# Each signal through each exporter, with and without the batch processor; the client alternates between
# OTLP/gRPC and OTLP/HTTP so that both receivers feed the spool.
for exporter in otlp otlphttp; do
    for batch in 0 1; do
        what="happy path ($exporter exporter, batch processor $([ $batch = 1 ] && echo on || echo off))"
        rm -rf "$SPOOL_DIR"
        reset_sink
        comp=none
        [ "$batch" = 1 ] && comp=gzip
        spool_config "cfg1.$exporter.$batch.yaml" exporter="$exporter" batch="$batch" compression="$comp"
        if ! start_daemon "cfg1.$exporter.$batch.yaml"; then
            fail "$what: otelgate did not start"
            continue
        fi
        if [ "$exporter:$batch" = otlp:0 ]; then
            names=" $(cat /proc/"$DAEMON_PID"/task/*/comm 2>/dev/null | sort | tr '\n' ' ')"
            all_true "the daemon's threads are named (top -H): worker/0, spool, exp/otlp" \
                "$(for n in worker/0 spool exp/otlp; do case $names in *" $n "*) ;; *) echo "no $n in:$names" ;; esac; done |
                   head -n 1 | grep . || echo 0)"
            # policy, field 41 of /proc/<tid>/stat (the 39th after the name): 0 SCHED_OTHER, 3 SCHED_BATCH
            policies=$(for t in /proc/"$DAEMON_PID"/task/*; do
                           echo "$(cat "$t/comm")=$(sed 's/.*) //' "$t/stat" | awk '{ print $39 }')"
                       done | grep -E '^(worker/0|spool|exp/otlp)=' | sort | tr '\n' ' ')
            is "$policies" "exp/otlp=3 spool=0 worker/0=0 " \
                "the exporter thread runs SCHED_BATCH (never preempts the worker on waking), the others SCHED_OTHER"
        fi
        bad=''
        proto=grpc
        for sig in traces metrics logs; do
            send "$proto" --signal "$sig" -n "$N" -c 4
            [ "$S_RC:$S_ACK:$S_ACK_ITEMS" = "0:$N:$ITEMS" ] ||
                bad="$bad $sig over $proto: exit $S_RC, answers $S_ANSWERS;"
            [ "$proto" = grpc ] && proto=http/protobuf || proto=grpc
        done
        is "${bad:-none}" none "$what: $N requests of each signal acknowledged"
        for sig in traces metrics logs; do
            wait_until 20 unique_is "$sig" "$ITEMS"
        done
        is "$(count traces.unique traces.duplicates metrics.unique metrics.duplicates logs.unique logs.duplicates)" \
            "$ITEMS 0 $ITEMS 0 $ITEMS 0" "$what: the sink has exactly $ITEMS unique items of each signal, 0 duplicates"
        wait_until 10 entries_is 0
        is "$(queued_entries)" 0 "$what: mdb_stat shows 0 entries left in the spool's queues"
        stop_daemon
        is "$DAEMON_RC:$(stop_log_counter otelcol_exporter_sent_spans):$(stop_log_counter spooled_batches)" \
            "0:$ITEMS:0" "$what: SIGTERM -> exit 0; the stop line counts $ITEMS sent spans, 0 spooled"
    done
done

# ---------------------------------------- 2. upstream down for the send ----

stop_sink
rm -rf "$SPOOL_DIR"
spool_config cfg2.yaml
if start_daemon cfg2.yaml; then
    bad=''
    for sig in traces metrics logs; do
        send grpc --signal "$sig" -n "$N" -c 4
        [ "$S_RC:$S_ANSWERS" = "0:OK=$N" ] || bad="$bad $sig: exit $S_RC, answers $S_ANSWERS;"
    done
    is "${bad:-none}" none "upstream down: otelgate acknowledged $N requests of each signal"
    sleep 1     # a few connection attempts fail meanwhile
    # One batch per request (no batch processor), all of the one tenant "" queue.
    is "$(queued_entries)" "$((3 * N))" "upstream down: mdb_stat shows the backlog: $((3 * N)) entries"
    if start_sink; then
        for sig in traces metrics logs; do
            wait_until 30 unique_is "$sig" "$ITEMS"
        done
        is "$(count traces.unique traces.duplicates metrics.unique metrics.duplicates logs.unique logs.duplicates)" \
            "$ITEMS 0 $ITEMS 0 $ITEMS 0" "upstream down, then up: all $ITEMS items of each signal arrive, once"
        wait_until 10 entries_is 0
        is "$(queued_entries)" 0 "upstream down, then up: the spool is empty again"
    else
        fail "upstream down, then up: the sink did not start"
    fi
    stop_daemon
    is "$DAEMON_RC" 0 "upstream down, then up: SIGTERM -> exit 0"
else
    fail "upstream down: otelgate did not start"
fi

# ------------------------------------------------ 3. permanent rejection ----

reset_sink
set_faults '[{"mode": "reject", "signal": "metrics"}]'
rm -rf "$SPOOL_DIR"
spool_config cfg3.yaml
if start_daemon cfg3.yaml; then
    send grpc --signal metrics -n 5 -c 1
    m_rc=$S_RC:$S_ANSWERS
    send grpc --signal traces -n 5 -c 1
    is "$m_rc $S_RC:$S_ANSWERS" "0:OK=5 0:OK=5" "permanent rejection: otelgate acknowledged 5 metric and 5 trace requests"
    wait_until 20 unique_is traces 500
    wait_until 10 eval '[ "$(count faults.reject)" = 5 ]'
    sleep 1.5   # a retry would come within 1 s (max_interval)
    is "$(count faults.reject metrics.unique traces.unique)" "5 0 500" \
        "permanent rejection: 5 metric requests rejected once each, not retried; the queue moved on to the traces"
    wait_until 10 entries_is 0
    is "$(queued_entries)" 0 "permanent rejection: the rejected batches left the spool"
    stop_daemon
    is "$DAEMON_RC:$(stop_log_counter otelcol_exporter_send_failed_metric_points):$(stop_log_counter otelcol_exporter_sent_spans)" \
        "0:500:500" "permanent rejection: the stop line counts 500 failed metric points and 500 sent spans"
else
    fail "permanent rejection: otelgate did not start"
fi
clear_faults

# ------------------------------------ 4. one tenant's upstream failing ----

reset_sink
set_faults '[{"mode": "unavailable", "tenant": "a", "retry_after": 0}]'
rm -rf "$SPOOL_DIR"
spool_config cfg4.yaml
if start_daemon cfg4.yaml; then
    send grpc --signal traces -n "$N" -c 2 --tenants a,b
    is "$S_RC:$S_ANSWERS" "0:OK=$N" "two tenants: otelgate acknowledged $N requests, half for each tenant"
    t0=$(now_ms)
    wait_until 15 tenant_items_is b traces "$((ITEMS / 2))"
    t1=$(now_ms)
    all_true "two tenants, a's upstream UNAVAILABLE: all of b's $((ITEMS / 2)) spans arrive promptly (< 5 s)" \
        "$([ "$(tenant_items b traces)" = "$((ITEMS / 2))" ] && echo 0 ||
            echo "b has $(tenant_items b traces) spans after $((t1 - t0)) ms")" \
        "$([ $((t1 - t0)) -lt 5000 ] && echo 0 || echo "took $((t1 - t0)) ms")"
    sleep 1
    is "$(tenant_items a traces):$(queued_entries "$SPOOL_DIR" 'otlp|a'):$(queued_entries "$SPOOL_DIR" 'otlp|b')" \
        "0:$((N / 2)):0" "two tenants: a's spans stay spooled ($((N / 2)) entries in q/otlp|a), b's queue is empty"
    check "two tenants: the sink did refuse a's requests" test "$(count faults.unavailable)" -gt 0
    clear_faults
    wait_until 30 unique_is traces "$ITEMS"
    is "$(count traces.unique tenants.a.traces.items tenants.b.traces.items)" "$ITEMS $((ITEMS / 2)) $((ITEMS / 2))" \
        "two tenants, fault cleared: a's spans arrive too, none lost ($ITEMS unique)"
    wait_until 10 entries_is 0
    stop_daemon
    is "$DAEMON_RC:$(queued_entries)" "0:0" "two tenants: SIGTERM -> exit 0, the spool is empty"
else
    fail "two tenants: otelgate did not start"
fi
clear_faults

# ---------------------------------------- 5. SIGTERM with a backlog ----

stop_sink
rm -rf "$SPOOL_DIR"
spool_config cfg5.yaml
if start_daemon cfg5.yaml; then
    send grpc --signal logs -n "$N" -c 4
    is "$S_RC:$S_ANSWERS" "0:OK=$N" "stop with a backlog: otelgate acknowledged $N requests while the upstream is down"
    sleep 0.5
    stop_within 5000 "stop with a backlog: SIGTERM -> exit 0 within 5 s" TERM 20
    # One batch per request (no batch processor).
    is "$(stop_log_counter spooled_batches):$(stop_log_counter dropped_log_records)" "$N:0" \
        "stop with a backlog: the stop line says spooled_batches=$N, nothing dropped"
    is "$(queued_entries)" "$N" "stop with a backlog: mdb_stat shows the $N batches after the exit"
    # The exporter renamed: its queue is no one's now, and the start says so, with what it holds.
    spool_config cfg5r.yaml exporter=otlp/renamed
    if start_daemon cfg5r.yaml; then
        stop_daemon
        is "$(daemon_log | grep -c "warn  spool: queue 'otlp|' holds $N batches .* that no configured exporter sends")" \
            1 "exporter renamed: the start warns that queue 'otlp|' holds $N batches no configured exporter sends"
    else
        fail "exporter renamed: otelgate did not start"
    fi
    if start_sink && start_daemon cfg5.yaml; then
        wait_until 30 unique_is logs "$ITEMS"
        is "$(count logs.unique logs.duplicates)" "$ITEMS 0" \
            "stop with a backlog, restart with the upstream up: all $ITEMS log records arrive, once"
        wait_until 10 entries_is 0
        stop_daemon
        is "$DAEMON_RC:$(stop_log_counter otelcol_exporter_sent_log_records):$(stop_log_counter spooled_batches)" \
            "0:$ITEMS:0" "stop with a backlog, restart: the second run sent the $ITEMS records, the spool is empty"
    else
        fail "stop with a backlog, restart: the sink or otelgate did not start"
    fi
else
    fail "stop with a backlog: otelgate did not start"
fi

# ------------------------------- 6. the upstream dies in the middle of a batch ----

# A backlog of large batches; then, four times, an upstream that takes requests without ever answering
# (blackhole) is killed with SIGKILL once it holds the first batch, while the exporter writes the next one
# to it (the batch's bytes are still referred to by the connection's output when it goes). Nothing was
# acknowledged, so a last, healthy upstream gets every item, once.
holds_one() { [ "$(count faults.blackhole)" -ge 1 ] 2>/dev/null; }
stop_sink
rm -rf "$SPOOL_DIR"
spool_config cfg6.yaml batch=1
if start_daemon cfg6.yaml; then
    send grpc --signal traces -n $((N * 2)) --spans-per-request 1000 -c 4
    is "$S_RC:$S_ACK_ITEMS" "0:$((ITEMS * 20))" "upstream killed mid-batch: $((ITEMS * 20)) spans acknowledged into the spool"
    for i in 1 2 3 4; do
        start_sink --fault blackhole || break
        wait_until 10 holds_one
        ms_sleep 0 5
        kill -KILL "$SINK_PID" 2>/dev/null
        wait_exit "$SINK_PID" 10
        og_forget "$SINK_PID"
        SINK_PID=''
    done
    if start_sink; then
        wait_until 30 unique_is traces $((ITEMS * 20))
        is "$(count traces.unique traces.duplicates)" "$((ITEMS * 20)) 0" \
            "upstream killed mid-batch four times: the next upstream gets all $((ITEMS * 20)) spans, once"
        wait_until 10 entries_is 0
        stop_daemon
        is "$DAEMON_RC:$(stop_log_counter spooled_batches)" "0:0" "upstream killed mid-batch: exit 0, nothing left"
        check "upstream killed mid-batch: the exporter saw the connection go" \
            grep -qE "127.0.0.1:$SINK_G(: Connection reset by peer| closed the connection)" "$DAEMON_LOG"
    else
        fail "upstream killed mid-batch: the sink did not start"
    fi
else
    fail "upstream killed mid-batch: otelgate did not start"
fi

# ------------------------ 7. the batch processor makes group commits ----

# In front of an exporter that stores, a client waits for the commit, so a batch goes at once when none of its
# pipeline and tenant is being stored, goes when the last one being stored is answered, and goes at half of
# send_batch_size while one is; never after the processor's timeout (2 s here) while the disk is idle.
# 1. A client sending one request at a time is answered once its request is stored; each goes upstream alone.
# 2. 40 requests sent at once: the first goes alone, the others arrive while it is stored and go together when
#    it is answered (or in a few batches), not after the timeout; the upstream gets 2 to 39 requests.
# 3. Four clients, one request of 512 spans each in flight (2048 spans, a quarter of send_batch_size): each
#    request waited for the timeout before the group commit, 40 took 20 s.
# 4. send_batch_size 1000, timeout 30 s, 40 requests of 100 spans at once: while the first is stored the
#    others go in batches of 500, half the size, so 3900 spans make 8 batches or more: 9 upstream requests at
#    least (5 when they went at 1000).
rm -rf "$SPOOL_DIR"
reset_sink
spool_config cfg7g.yaml batch=1 batch_timeout=2s
if start_daemon cfg7g.yaml; then
    send_one_by_one 3
    is "$S_RC:$S_ACK_ITEMS" "0:300" "group commit: 3 requests sent one at a time, acknowledged"
    check "... each answered once stored, not after the batch processor's 2 s (took $SEND_MS ms)" \
        test $SEND_MS -lt 1900
    wait_until 10 unique_is traces 300
    is "$(count traces.unique traces.requests)" "300 3" "... and each went upstream alone: 300 spans in 3 requests"
    reset_sink
    send_one_by_one 40 40 --spans-per-request 10
    is "$S_RC:$S_ACK_ITEMS" "0:400" "group commit: 40 requests sent at once, acknowledged"
    check "... answered once stored, not after the batch processor's 2 s (took $SEND_MS ms)" test $SEND_MS -lt 1900
    wait_until 10 unique_is traces 400
    got=$(count traces.requests)
    check "... the first went upstream alone, the others batched after it: $got requests of 40 (2 to 39)" \
        test "${got:-0}" -ge 2 -a "${got:-0}" -le 39
    reset_sink
    send_one_by_one 40 4 --spans-per-request 512
    is "$S_RC:$S_ACK_ITEMS" "0:20480" "group commit: 4 clients with one request of 512 spans each in flight"
    check "... answered once stored, not after the batch processor's 2 s (40 requests took $SEND_MS ms)" \
        test $SEND_MS -lt 1900
    wait_until 10 unique_is traces 20480
    is "$(count traces.unique)" 20480 "... and all arrived upstream"
    check "the batch processor logs the pipelines where it makes group commits" grep -q \
        "batch: pipeline traces: a batch goes at once when none is being stored, at half of send_batch_size" \
        "$DAEMON_LOG"
    stop_daemon
    is "$DAEMON_RC" 0 "group commit: exit 0"
else
    fail "group commit: otelgate did not start"
fi
rm -rf "$SPOOL_DIR"
reset_sink
spool_config cfg7h.yaml batch=1 batch_size=1000 batch_timeout=30s
if start_daemon cfg7h.yaml; then
    send grpc --signal traces -n 40 -c 1 --concurrency 40
    is "$S_RC:$S_ACK_ITEMS" "0:4000" "group commit: 40 requests of 100 spans at once, send_batch_size 1000"
    wait_until 10 unique_is traces 4000
    got=$(count traces.requests)
    check "... batched at 500 spans while one was being stored: $got upstream requests (9 or more)" \
        test "${got:-0}" -ge 9
    stop_daemon
    is "$DAEMON_RC" 0 "group commit, send_batch_size 1000: exit 0"
else
    fail "group commit, send_batch_size 1000: otelgate did not start"
fi

# ------------------------ 8. a batch leaves the spool while it is sent ----

# The exporter reads a spooled batch from the spool as it writes it. An upstream that grants no flow-control
# window beyond HTTP/2's first 65,535 bytes holds a 1 MB batch half sent; max_age deletes the batch meanwhile
# (its pages may then be given to newer data). When the window opens, the rest must not come from the file:
# the exporter resets the stream, and the upstream never sees the batch end.
stream_bytes() { awk '$1 == "data" && $2 == 1 { n += $3 } END { print n + 0 }' "$OG_TMP/stall/events"; }
stop_sink
rm -rf "$SPOOL_DIR" "$OG_TMP/stall"
mkdir -p "$OG_TMP/stall"
python3 "$SPOOL_TESTS/h2_stall_upstream.py" "$SINK_G" "$OG_TMP/stall" >"$OG_TMP/stall.out" 2>&1 </dev/null &
og_pids="$og_pids $!"
spool_config cfg7.yaml max_age=1s timeout=60s
if wait_until 10 grep -q '^listening$' "$OG_TMP/stall.out" && start_daemon cfg7.yaml; then
    send grpc --signal traces -n 1 --spans-per-request 2000
    is "$S_RC:$S_ACK_ITEMS" "0:2000" "batch gone mid-send: 2000 spans acknowledged into the spool"
    wait_until 10 test "$(stream_bytes)" -ge 65535
    is "$(stream_bytes)" 65535 "batch gone mid-send: the upstream holds the send at 65,535 bytes of its body"
    wait_until 10 entries_is 0
    is "$(queued_entries)" 0 "batch gone mid-send: max_age (1s) deleted it from the spool meanwhile"
    touch "$OG_TMP/stall/open"
    wait_until 10 grep -q '^rst 1 ' "$OG_TMP/stall/events"
    is "$(grep -c ' end$' "$OG_TMP/stall/events"):$(stream_bytes):$(grep '^rst 1 ' "$OG_TMP/stall/events")" \
        "0:65535:rst 1 2" \
        "batch gone mid-send: once the window opens, the stream is reset (INTERNAL_ERROR), no byte more sent"
    check "batch gone mid-send: the exporter says why" \
        grep -q "the batch could not be read from the spool while it was sent" "$DAEMON_LOG"
    stop_daemon
    is "$DAEMON_RC" 0 "batch gone mid-send: exit 0"
else
    fail "batch gone mid-send: h2_stall_upstream.py or otelgate did not start"
fi

# ------------------ 9. a batch leaves the spool while it is sent over OTLP/HTTP ----

# The same over HTTP/1.1, where a request cannot be reset alone: an upstream that stops reading after 64 KiB
# of a 9 MB body holds the send (the kernel takes about 3 MB of it into the socket, the exporter 256 KiB more)
# while max_age deletes the batch. When it reads again, the exporter must close the connection before the
# body ends rather than read the rest from the file; a copy of the batch taken before the send would arrive
# whole.
h1_event() { awk -v k="$1" '$1 == k { print $2 }' "$OG_TMP/stall1/events" | tail -n 1; }
rm -rf "$SPOOL_DIR" "$OG_TMP/stall1"
mkdir -p "$OG_TMP/stall1"
python3 "$SPOOL_TESTS/h1_stall_upstream.py" "$SINK_H" "$OG_TMP/stall1" >"$OG_TMP/stall1.out" 2>&1 </dev/null &
og_pids="$og_pids $!"
spool_config cfg8.yaml exporter=otlphttp max_age=1s timeout=60s recv_mib=16
if wait_until 10 grep -q '^listening$' "$OG_TMP/stall1.out" && start_daemon cfg8.yaml; then
    send grpc --signal traces -n 1 --spans-per-request 20000
    is "$S_RC:$S_ACK_ITEMS" "0:20000" "batch gone mid-send (OTLP/HTTP): 20000 spans acknowledged into the spool"
    wait_until 10 test -n "$(h1_event held)"
    length=$(h1_event head)
    check "batch gone mid-send (OTLP/HTTP): the upstream holds the body at 64 KiB of $length bytes" \
        test "$(h1_event held)" = 65536 -a "${length:-0}" -gt 8000000
    wait_until 10 entries_is 0
    is "$(queued_entries)" 0 "batch gone mid-send (OTLP/HTTP): max_age (1s) deleted it from the spool meanwhile"
    touch "$OG_TMP/stall1/open"
    wait_until 10 grep -qE '^(closed|end) ' "$OG_TMP/stall1/events"
    got=$(h1_event closed)
    check "batch gone mid-send (OTLP/HTTP): the connection closes after ${got:-?} of $length body bytes" \
        test -n "$got" -a "${got:-0}" -lt "${length:-0}" -a -z "$(h1_event end)"
    check "batch gone mid-send (OTLP/HTTP): the exporter says why" \
        grep -q "the batch could not be read from the spool while it was sent" "$DAEMON_LOG"
    stop_daemon
    is "$DAEMON_RC" 0 "batch gone mid-send (OTLP/HTTP): exit 0"
else
    fail "batch gone mid-send (OTLP/HTTP): h1_stall_upstream.py or otelgate did not start"
fi

stop_sink
sanitizer_clean
