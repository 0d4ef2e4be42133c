#!/bin/sh
# export_grpc_answers.sh: the otlp exporter against an upstream on the reference gRPC implementation
# (Debian's grpcio: grpc_upstream.py), which answers each call as scripted. The OTLP specification's
# rules, checked on real gRPC answers, one request of 100 spans at a time:
#   1. OK with partial_success: the rejected spans counted as failed, the reason logged, nothing resent
#   2. RESOURCE_EXHAUSTED with RetryInfo (google.rpc.Status in grpc-status-details-bin): retryable, and
#      retried after the upstream's delay, not the configured backoff
#   3. RESOURCE_EXHAUSTED without RetryInfo: permanent, dropped and counted, never retried
#   4. UNAVAILABLE: retried
#   5. INVALID_ARGUMENT with a message grpcio percent-encodes: permanent, the message logged decoded
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sink_lib.sh"
. "$(dirname "$0")/grpc_lib.sh"
cd "$OG_TMP" || exit 0

UPSTREAM=$(cd "$(dirname "$0")" && pwd)/grpc_upstream.py
RETRY_MS=1500       # the upstream's RetryInfo delay: 30 times the configured initial_interval

grpc_stubs

UP_PORT=$(free_port) GRPC_PORT=$(free_port) HEALTH_PORT=$(free_port)
"$PY" "$UPSTREAM" "$OG_TMP/stubs" "$UP_PORT" "partial:7:spans older than 1h" "exhausted_retry:$RETRY_MS" ok \
    exhausted "status:UNAVAILABLE:busy" ok "status:INVALID_ARGUMENT:span 3: 100% invalid, see docs" \
    >"$OG_TMP/upstream.out" 2>"$OG_TMP/upstream.err" </dev/null &
UP_PID=$!
og_pids="$og_pids $UP_PID"
if ! wait_until 20 grep -q '^listening$' "$OG_TMP/upstream.out"; then
    echo "Bail out! grpc_upstream.py did not start: $(cat "$OG_TMP/upstream.err")"
    exit 1
fi

cat >cfg.yaml <<EOF
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:$GRPC_PORT } } }
exporters:
  otlp:
    endpoint: 127.0.0.1:$UP_PORT
    timeout: 5s
    retry_on_failure: { initial_interval: 50ms, max_interval: 500ms }
extensions:
  health_check: { endpoint: 127.0.0.1:$HEALTH_PORT }
service:
  extensions: [health_check]
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp] }
EOF

calls() { grep -c '^[0-9]' "$OG_TMP/upstream.out"; }
call_field() { awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$OG_TMP/upstream.out"; }  # CALL FIELD
# send_until CALLS: one request of 100 spans, acknowledged; then until the upstream has had CALLS calls
send_until()
{
    run_cmd 30 "$OTELGEN" send --protocol grpc -n 1 "127.0.0.1:$GRPC_PORT"
    [ "$RC" = 0 ] || diag "otelgen send exited $RC: $OUT $ERR"
    wait_until 10 eval '[ "$(calls)" -ge "$1" ]'
}

if ! start_daemon cfg.yaml; then
    fail "otelgate starts with the otlp exporter to grpc_upstream.py"
    done_testing
    exit 0
fi

# 1. partial success
send_until 1
is "$(call_field 1 3) $(call_field 1 4)" "100 partial:7:spans" "partial success: the upstream had the 100 spans once"

# 2. RESOURCE_EXHAUSTED with RetryInfo
send_until 3
gap=$(($(call_field 3 2) - $(call_field 2 2)))
all_true "RESOURCE_EXHAUSTED with RetryInfo ${RETRY_MS}ms: sent again ${RETRY_MS}ms later, not after the 50ms backoff" \
    "$([ "$(call_field 3 3)" = 100 ] && echo 0 || echo "call 3 had '$(call_field 3 3)' spans")" \
    "$([ "$gap" -ge "$RETRY_MS" ] && [ "$gap" -lt $((RETRY_MS + 5000)) ] && echo 0 || echo "sent again after ${gap}ms")"

# 3. RESOURCE_EXHAUSTED without RetryInfo
send_until 4
sleep 1     # a retry would come within max_interval (500ms)
is "$(calls)" 4 "RESOURCE_EXHAUSTED without RetryInfo: permanent, not sent again"

# 4. UNAVAILABLE
send_until 6
is "$(call_field 5 4) $(call_field 6 3)" "status:UNAVAILABLE:busy 100" "UNAVAILABLE: the 100 spans sent again"

# 5. INVALID_ARGUMENT, its message percent-encoded on the wire
send_until 7
sleep 1
is "$(calls)" 7 "INVALID_ARGUMENT: permanent, not sent again"

stop_daemon
is "$(stop_log_counter otelcol_exporter_sent_spans) $(stop_log_counter otelcol_exporter_send_failed_spans)" "293 207" \
    "counters: sent 93 + 100 + 100 spans; failed the 7 rejected, and the two permanently refused 100"
check "partial success logged with the upstream's count and message" \
    grep -qF 'partial success: upstream rejected 7 of 100 spans: spans older than 1h' "$DAEMON_LOG"
check "RESOURCE_EXHAUSTED without RetryInfo logged as a permanent error, grpc-status 8" \
    grep -qE 'permanent error, dropping 100 spans: .*\(grpc-status 8\)' "$DAEMON_LOG"
check "INVALID_ARGUMENT logged with grpcio's percent-encoded message decoded" \
    grep -qF 'permanent error, dropping 100 spans: span 3: 100% invalid, see docs (grpc-status 3)' "$DAEMON_LOG"
sanitizer_clean
done_testing
