#!/bin/sh
# export_otlp.sh: the otlp (OTLP/gRPC) exporter end to end: otelgen send -> otelgate (otlp receiver ->
# otlp exporter) -> otelgen sink, counting unique and duplicated items at the sink. Happy path for every
# signal, a batch processor before the in-memory queue, a flapping upstream (UNAVAILABLE 50 %), an upstream
# down at first, permanent rejections, a full sending queue (the sender is told to retry, nothing accepted is
# lost), a bounded stop with a backlog (what is lost is counted), configured headers, the otlphttp exporter's
# URLs, config errors.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sink_lib.sh"
cd "$OG_TMP" || exit 0

N=20            # requests per send, 100 items each
ITEMS=$((N * 100))

# otlp_config PATH [EXPORTER LINES...]: otlp receiver (gRPC) -> otlp exporter to the sink, every signal;
# OTLP_EXPORTER=otlphttp OTLP_ENDPOINT=URL for the OTLP/HTTP one.
otlp_config()
{
    local path=$1 exporter=${OTLP_EXPORTER:-otlp}
    shift
    HEALTH_PORT=$(free_port) GRPC_PORT=$(free_port)
    {
        echo "receivers:"
        echo "  otlp:"
        echo "    protocols:"
        echo "      grpc:"
        echo "        endpoint: 127.0.0.1:$GRPC_PORT"
        echo "exporters:"
        echo "  $exporter:"
        echo "    endpoint: ${OTLP_ENDPOINT:-127.0.0.1:$SINK_G}"
        echo "    timeout: 1s"
        echo "    retry_on_failure: {initial_interval: 50ms, max_interval: 500ms}"
        for l in "$@"; do echo "    $l"; done
        echo "extensions:"
        echo "  health_check:"
        echo "    endpoint: 127.0.0.1:$HEALTH_PORT"
        echo "service:"
        echo "  extensions: [health_check]"
        echo "  workers: 2"
        echo "  pipelines:"
        for s in traces metrics logs; do
            echo "    $s:"
            echo "      receivers: [otlp]"
            echo "      exporters: [$exporter]"
        done
    } >"$path"
}

send()  # ARGS...: otelgen send to the daemon's gRPC port
{
    run_cmd 30 "$OTELGEN" send --protocol grpc "$@" "127.0.0.1:$GRPC_PORT"
}

answers()
{
    printf '%s\n' "$OUT" | sed -n 's/^answers: //p'
}

if ! start_sink; then
    echo "Bail out! otelgen sink did not start"
    exit 1
fi

# ------------------------------------------------------ 1. happy path ----

otlp_config cfg1.yaml
if start_daemon cfg1.yaml; then
    bad=''
    for sig in traces metrics logs; do
        send --signal "$sig" -n "$N" -c 4
        [ "$RC" = 0 ] && [ "$(answers)" = "OK=$N" ] || bad="$bad $sig: exit $RC, answers $(answers);"
    done
    is "${bad:-none}" none "happy path: $N requests of each signal answered OK"
    for sig in traces metrics logs; do
        wait_until 10 unique_is "$sig" "$ITEMS"
        is "$(count "$sig.unique" "$sig.duplicates")" "$ITEMS 0" "happy path: sink has exactly $ITEMS unique $sig, 0 duplicates"
    done
    stop_daemon
    is "$DAEMON_RC" 0 "happy path: SIGTERM -> exit 0"
    is "$(stop_log_counter otelcol_exporter_sent_spans):$(stop_log_counter otelcol_exporter_sent_metric_points):$(stop_log_counter otelcol_exporter_sent_log_records)" \
        "$ITEMS:$ITEMS:$ITEMS" "happy path: the stop line counts sent spans, points and records"
else
    fail "happy path: otelgate did not start"
fi

# A batch processor before the in-memory queue: its batches (each request's buffer moved in) reach the
# upstream whole, plain (copied straight from the batch's chains) and gzip (made one piece, then compressed).
for comp in none gzip; do
    ctl POST /reset
    otlp_config "cfg1b.$comp.yaml" "compression: $comp"
    sed -i -e 's/^      receivers: \[otlp\]$/&\n      processors: [batch]/' \
        -e 's/^exporters:$/processors:\n  batch: { send_batch_size: 1000, timeout: 30s }\n&/' "cfg1b.$comp.yaml"
    if start_daemon "cfg1b.$comp.yaml"; then
        send --signal traces -n "$N" -c 1 --concurrency "$N"
        is "$RC:$(answers)" "0:OK=$N" "batch processor, compression $comp: $N requests answered OK"
        wait_until 10 unique_is traces "$ITEMS"
        is "$(count traces.unique traces.duplicates traces.requests)" "$ITEMS 0 $((ITEMS / 1000))" \
            "batch processor, compression $comp: $ITEMS spans upstream in batches of 1000"
        stop_daemon
    else
        fail "batch processor, compression $comp: otelgate did not start"
    fi
done

# --------------------------------------- 2. upstream UNAVAILABLE 50 % ----

ctl POST /reset
ctl PUT /faults --data-binary '[{"mode": "unavailable", "ratio": 0.5, "retry_after": 0}]'
otlp_config cfg2.yaml
if start_daemon cfg2.yaml; then
    send --signal traces -n "$N" -c 4
    is "$RC:$(answers)" "0:OK=$N" "flapping upstream: otelgate accepted all $N requests"
    wait_until 15 unique_is traces "$ITEMS"
    set -- $(count traces.unique traces.duplicates faults.unavailable)
    is "$1" "$ITEMS" "flapping upstream: exactly $ITEMS unique spans arrive"
    diag "flapping upstream: $2 duplicated spans, $3 UNAVAILABLE answers given"
    check "flapping upstream: the sink refused some requests (the fault was exercised)" test "${3:-0}" -gt 0
    stop_daemon
    check "flapping upstream: retries counted in the stop line" test "$(stop_log_counter retried_spans)" -gt 0
else
    fail "flapping upstream: otelgate did not start"
fi
ctl DELETE /faults

# -------------------------------------------- 3. upstream down at first ----

stop_sink
otlp_config cfg3.yaml
if start_daemon cfg3.yaml; then
    send --signal logs -n "$N" -c 4
    is "$RC:$(answers)" "0:OK=$N" "upstream down: otelgate queued all $N requests"
    sleep 1
    if start_sink; then
        wait_until 15 unique_is logs "$ITEMS"
        is "$(count logs.unique logs.duplicates)" "$ITEMS 0" "upstream down, then up: all $ITEMS log records arrive once"
    else
        fail "upstream down, then up: the sink did not restart"
    fi
    stop_daemon
else
    fail "upstream down: otelgate did not start"
fi

# ------------------------------------------------ 4. permanent rejection ----

ctl POST /reset
ctl PUT /faults --data-binary '[{"mode": "reject", "signal": "metrics"}]'
otlp_config cfg4.yaml
if start_daemon cfg4.yaml; then
    send --signal metrics -n 5 -c 1
    send --signal traces -n 5 -c 1
    wait_until 10 unique_is traces 500
    wait_until 5 eval '[ "$(count faults.reject)" = 5 ]'
    sleep 1     # a retry would come within 500 ms (max_interval)
    is "$(count faults.reject metrics.unique traces.unique)" "5 0 500" \
        "permanent rejection: 5 metric requests rejected once each, none retried; traces still flow"
    stop_daemon
    is "$(stop_log_counter otelcol_exporter_send_failed_metric_points)" 500 \
        "permanent rejection: 500 metric points counted as failed"
    check "permanent rejection: the reason is logged" grep -q 'permanent error, dropping.*fault reject' "$DAEMON_LOG"
else
    fail "permanent rejection: otelgate did not start"
fi
ctl DELETE /faults

# ------------------------------------------------------- 5. queue full ----

ctl POST /reset
ctl PUT /faults --data-binary '[{"mode": "blackhole"}]'
otlp_config cfg5.yaml "sending_queue: {queue_size: 24KiB, num_consumers: 2}"
if start_daemon cfg5.yaml; then
    send --signal traces -n "$N" -c 1
    ok=$(printf '%s\n' "$OUT" | sed -n 's/^answers: .*OK=\([0-9]*\).*/\1/p')
    refused=$(printf '%s\n' "$OUT" | sed -n 's/^answers: .*UNAVAILABLE=\([0-9]*\).*/\1/p')
    diag "queue full: answers: $(answers)"
    all_true "queue full: the sender saw UNAVAILABLE answers and exited 1" \
        "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
        "$([ "${refused:-0}" -gt 0 ] && echo 0 || echo "no UNAVAILABLE answer: $(answers)")"
    ctl DELETE /faults
    wait_until 15 unique_is traces "$((${ok:-0} * 100))"
    is "$(count traces.unique)" "$((${ok:-0} * 100))" \
        "queue full: after the sink recovers, every accepted span (${ok:-0} requests) arrives"
    stop_daemon
    check "queue full: refusals counted in the stop line" \
        test "$(stop_log_counter otelcol_exporter_enqueue_failed_spans)" = "$((${refused:-0} * 100))"
else
    fail "queue full: otelgate did not start"
fi
ctl DELETE /faults

# ------------------------------------------------- 6. stop with a backlog ----

ctl POST /reset
ctl PUT /faults --data-binary '[{"mode": "blackhole"}]'
otlp_config cfg8.yaml
if start_daemon cfg8.yaml; then
    send --signal traces -n 5 -c 1
    is "$RC:$(answers)" "0:OK=5" "stop with a backlog: 5 requests queued while the upstream never answers"
    stop_within 7000 "stop with a backlog: SIGTERM -> exit 0 within the bounded wait (5 s + 2 s slack)" TERM 15
    is "$(daemon_log | grep -c 'stopping with unsent data, lost: spans=500 metric_points=0 log_records=0'):$(stop_log_counter dropped_spans)" \
        "1:500" "stop with a backlog: the 500 lost spans are logged and counted as dropped"
else
    fail "stop with a backlog: otelgate did not start"
fi
ctl DELETE /faults

# -------------------------------------------------- 7. headers, tenant ----

ctl POST /reset
otlp_config cfg6.yaml 'headers: ["X-Tenant-Id=edge-1", "X-Other=yes"]' "compression: none"
if start_daemon cfg6.yaml; then
    send --signal traces -n 5 -c 1
    wait_until 10 unique_is traces 500
    is "$(count tenants.edge-1.traces.items)" 500 "configured X-Tenant-Id header reaches the sink (500 spans counted for edge-1)"
    stop_daemon
else
    fail "headers: otelgate did not start"
fi

# ------------------------------------------------------ 8. otlphttp URLs ----
# A signal's own URL is used as it is; endpoint is a base that /v1/<signal> is appended to (its trailing '/'
# dropped). The sink serves only /v1/<signal>: metrics sent to /base/v1/metrics get 404, a permanent error.

ctl POST /reset
OTLP_EXPORTER=otlphttp OTLP_ENDPOINT=http://127.0.0.1:$SINK_H/ otlp_config cfg8.yaml \
    "traces_endpoint: http://127.0.0.1:$SINK_H/v1/traces" "metrics_endpoint: http://127.0.0.1:$SINK_H/base/v1/metrics"
if start_daemon cfg8.yaml; then
    send --signal traces -n 5 -c 1
    send --signal logs -n 5 -c 1
    send --signal metrics -n 5 -c 1
    wait_until 10 unique_is traces 500
    wait_until 10 unique_is logs 500
    sleep 1     # a retry of metrics would come within 500 ms (max_interval)
    is "$(count traces.unique logs.unique metrics.unique)" "500 500 0" \
        "otlphttp: traces_endpoint used as it is, endpoint/ + /v1/logs, metrics_endpoint's own path (404 there)"
    stop_daemon
    is "$(stop_log_counter otelcol_exporter_send_failed_metric_points)" 500 \
        "otlphttp: the 404 from metrics_endpoint is permanent: 500 points counted as failed"
else
    fail "otlphttp URLs: otelgate did not start"
fi

# ------------------------------------------------ 9. config validation ----

otlp_config cfg7.yaml 'headers: ["no equals sign"]' 'tls: {insecure: false}'
run_cmd 10 "$OTELGATE" --validate -c cfg7.yaml
all_true "bad headers and tls: --validate exits 1 naming both" \
    "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
    "$(printf '%s\n' "$ERR" | grep -q "is not Name=value" && echo 0 || echo "no headers error: $ERR")" \
    "$(printf '%s\n' "$ERR" | grep -q "only 'insecure: true'" && echo 0 || echo "no tls error: $ERR")"

stop_sink
sanitizer_clean
