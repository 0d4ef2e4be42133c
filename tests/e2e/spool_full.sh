#!/bin/sh
# spool_full.sh: the limits of a spooled sending queue, end to end (otelgen send -> otelgate -> otelgen sink):
# a full queue with when_full: reject (clients told to retry; what was acknowledged is delivered), with
# when_full: drop_oldest (the oldest batches go, the newest arrive, the drop is counted), a full disk
# (a small tmpfs: refusals, no crash, delivery once the upstream is back), and sending_queue.max_age
# (expired batches are dropped and counted, never sent).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/spool_lib.sh"

if ! start_sink; then
    echo "Bail out! otelgen sink did not start"
    exit 1
fi

# answer_count LABEL: how many answers of LABEL ("OK", "UNAVAILABLE", "503") the last send got.
answer_count()
{
    local n
    n=$(printf '%s\n' $S_ANSWERS | sed -n "s/^$1=//p")
    echo "${n:-0}"
}

# ----------------------------------------- 7. queue full, when_full: reject ----

stop_sink
rm -rf "$SPOOL_DIR"
spool_config cfg7.yaml max_size=1MiB when_full=reject
if start_daemon cfg7.yaml; then
    # About 50 KiB a request (100 spans, no compression): 150 of them are 7 times what fits.
    send grpc --signal traces -n 150 -c 4
    t_ack=$S_ACK_ITEMS t_refused=$(answer_count UNAVAILABLE)
    diag "queue full (gRPC, no retry): exit $S_RC, answers: $S_ANSWERS"
    all_true "queue full: a gRPC sender without --retry sees UNAVAILABLE once the queue is full" \
        "$([ "$S_RC" = 1 ] && echo 0 || echo "exit status $S_RC")" \
        "$([ "$t_refused" -gt 0 ] && echo 0 || echo "no UNAVAILABLE answer: $S_ANSWERS")" \
        "$([ "$(answer_count OK)" -gt 0 ] && echo 0 || echo "nothing was accepted before the queue filled: $S_ANSWERS")" \
        "$([ "$(answer_count OK)" -eq "$S_ACK" ] && [ "$(answer_count OK)" -eq $((150 - t_refused)) ] && echo 0 ||
            echo "answers other than OK and UNAVAILABLE: $S_ANSWERS")"
    # The same over OTLP/HTTP. Generated requests differ a little in size: one may still fit in what is left.
    send http/protobuf --signal traces -n 10 -c 2
    t_ack=$((t_ack + S_ACK_ITEMS))
    diag "queue full (OTLP/HTTP, no retry): exit $S_RC, answers: $S_ANSWERS"
    all_true "queue full: an OTLP/HTTP sender without --retry gets 503" \
        "$([ "$S_RC" = 1 ] && echo 0 || echo "exit status $S_RC")" \
        "$([ "$(answer_count 503)" -ge 9 ] && echo 0 || echo "fewer than 9 answers 503: $S_ANSWERS")" \
        "$([ $(($(answer_count 200) + $(answer_count 503))) = 10 ] && echo 0 || echo "answers other than 200 and 503: $S_ANSWERS")"
    t_refused=$((t_refused + $(answer_count 503)))
    check "otelgate still answers its health check with the queue full" og_health_is_200 "$DAEMON_URL"

    # A sender that retries like an SDK: refused while the sink is down, accepted once the queue drains.
    send_bg bg grpc --signal logs -n 40 -c 2 --retry --retry-max-elapsed 90s
    sleep 2
    if start_sink; then
        send_bg_wait "$bg" 100
        is "$S_RC:$S_ACK" "0:40" "queue full: the retrying sender got all 40 requests acknowledged once the sink was up"
        l_ack=$S_ACK_ITEMS
        wait_until 30 unique_at_least logs "$l_ack"
        wait_until 30 unique_at_least traces "$t_ack"
        wait_until 10 entries_is 0
        sleep 0.5
        is "$(count traces.unique logs.unique)" "$t_ack $l_ack" \
            "queue full: every acknowledged item arrives ($t_ack spans, $l_ack log records), nothing else"
        is "$(count traces.duplicates logs.duplicates)" "0 0" "queue full: no duplicates"
    else
        fail "queue full: the sink did not start"
    fi
    stop_daemon
    is "$DAEMON_RC:$(stop_log_counter otelcol_exporter_enqueue_failed_spans)" "0:$((t_refused * 100))" \
        "queue full: exit 0; the stop line counts the $((t_refused * 100)) refused spans as enqueue_failed"
else
    fail "queue full (reject): otelgate did not start"
fi

# ------------------------------------ 8. queue full, when_full: drop_oldest ----

stop_sink
rm -rf "$SPOOL_DIR"
spool_config cfg8.yaml max_size=1MiB when_full=drop_oldest
if start_daemon cfg8.yaml; then
    send grpc --signal traces -n 150 -c 1
    is "$S_RC:$S_ACK" "0:150" "drop_oldest: all 150 requests acknowledged though only some fit"
    kept=$(queued_entries)
    diag "drop_oldest: $kept of 150 batches kept in the spool"
    check "drop_oldest: the queue holds fewer than 150 batches (some were dropped)" test "${kept:-150}" -lt 150
    if start_sink; then
        wait_until 30 entries_is 0
        wait_until 10 unique_is traces "$((kept * 100))"
        sleep 0.5
        set -- $(count traces.unique traces.duplicates traces.runs.0.max_item)
        missing='?'
        [ "${1:-?}" != "?" ] && missing=$((15000 - $1))
        is "$1 $2" "$((kept * 100)) 0" "drop_oldest: the kept $kept batches arrive ($((kept * 100)) spans), once"
        is "$3" 14999 "drop_oldest: the newest span (item 14999) is among them: the oldest were dropped"
    else
        fail "drop_oldest: the sink did not start"
        missing='?'
    fi
    stop_daemon
    is "$DAEMON_RC" 0 "drop_oldest: SIGTERM -> exit 0"
    is "$(stop_log_counter spool_dropped_full_items)" "$missing" \
        "drop_oldest: the stop line counts the $missing missing spans (spool_dropped_full_items)"
else
    fail "drop_oldest: otelgate did not start"
fi

# ------------------------------------------------------- 9. full disk ----

stop_sink
DISK=$OG_TMP/disk
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=8m tmpfs "$DISK" 2>"$OG_TMP/mount.err"; then
    skip "full disk: refusals, no crash, delivery afterwards" "cannot mount a tmpfs: $(head -n 1 "$OG_TMP/mount.err")"
else
    og_mounts="$og_mounts $DISK"
    spool_config cfg9.yaml dir="$DISK/spool" spool_max=1GiB
    if start_daemon cfg9.yaml; then
        # 8 MiB of disk, about 50 KiB a request: 600 requests are 3-4 times what the disk holds.
        send grpc --signal traces -n 600 -c 4
        t_ack=$S_ACK_ITEMS
        diag "full disk: exit $S_RC, answers: $S_ANSWERS; $(df -k "$DISK" | awk 'NR == 2 { print $3 " KiB used of " $2 }')"
        all_true "full disk: some requests accepted, then UNAVAILABLE" \
            "$([ "$(answer_count OK)" -gt 0 ] && echo 0 || echo "nothing accepted: $S_ANSWERS")" \
            "$([ "$(answer_count UNAVAILABLE)" -gt 0 ] && echo 0 || echo "no UNAVAILABLE answer: $S_ANSWERS")"
        check "full disk: otelgate is still running" proc_alive "$DAEMON_PID"
        check "full disk: otelgate still answers its health check" og_health_is_200 "$DAEMON_URL"
        send http/protobuf --signal logs -n 5 -c 1
        l_ack=$S_ACK_ITEMS
        all_true "full disk: otelgate still answers requests (OK or 503, nothing else)" \
            "$([ "$(answer_count 200)" -eq "$S_ACK" ] && [ $(($(answer_count 200) + $(answer_count 503))) = 5 ] && echo 0 ||
                echo "answers: $S_ANSWERS")"
        if start_sink; then
            wait_until 60 unique_at_least traces "$t_ack"
            wait_until 10 unique_at_least logs "$l_ack"
            wait_until 20 entries_is 0 "$DISK/spool"
            is "$(count traces.unique logs.unique)" "$t_ack $l_ack" \
                "full disk, sink back: every acknowledged item arrives ($t_ack spans, $l_ack log records)"
            send grpc --signal metrics -n 10 -c 1
            is "$S_RC:$S_ANSWERS" "0:OK=10" "full disk, drained: new requests are accepted again"
            wait_until 20 unique_is metrics 1000
            is "$(count metrics.unique)" 1000 "full disk, drained: and delivered"
        else
            fail "full disk: the sink did not start"
        fi
        stop_daemon
        is "$DAEMON_RC" 0 "full disk: SIGTERM -> exit 0"
        grep -E 'spool .*(full|commit failed)' "$DAEMON_LOG" | sort -u -k3 | head -n 3 | sed 's/^/# log: /'
    else
        fail "full disk: otelgate did not start"
    fi
    umount "$DISK" 2>/dev/null || umount -l "$DISK"
    og_mounts=''
fi

# -------------------------------------------------------- 10. max_age ----

stop_sink
rm -rf "$SPOOL_DIR"
spool_config cfg10.yaml max_age=2s
if start_daemon cfg10.yaml; then
    send grpc --signal traces -n 10 -c 1
    is "$S_RC:$S_ANSWERS" "0:OK=10" "max_age: 10 requests acknowledged while the sink is down"
    sleep 4
    if start_sink; then
        wait_until 10 entries_is 0
        sleep 3     # time for anything still held to be sent
        is "$(count traces.unique):$(queued_entries)" "0:0" \
            "max_age 2s, sink up after 4 s: nothing arrives, the expired batches are gone from the spool"
    else
        fail "max_age: the sink did not start"
    fi
    stop_daemon
    is "$DAEMON_RC" 0 "max_age: SIGTERM -> exit 0"
    is "$(stop_log_counter spool_dropped_age_items):$(stop_log_counter otelcol_exporter_sent_spans)" "1000:0" \
        "max_age: the stop line counts the 1000 expired spans (spool_dropped_age_items), none sent"
else
    fail "max_age: otelgate did not start"
fi

stop_sink
sanitizer_clean
