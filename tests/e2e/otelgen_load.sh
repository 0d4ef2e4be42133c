#!/bin/sh
# otelgen_load.sh: `otelgen send` as a load generator, against the real otelgate (items counted at its file
# exporter) and small scripted receivers (otelgen_load_server.py, which see headers and requests in flight):
# --rate holds its rate within 5 % over 5 s and sends exactly the requests due; --concurrency bounds what is
# in flight; --duration ends the run; --json is one object with the documented fields; --tenants takes
# turns; --retry honours Retry-After, grpc-retry-pushback-ms and RetryInfo, backs off without them, and gives
# up after --retry-max-elapsed; a progress line shows on a terminal only; SIGINT ends a run cleanly.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
if [ -z "${OTELGEN:-}" ] || [ ! -x "$OTELGEN" ]; then
    echo "Bail out! OTELGEN is not set to an executable otelgen (got '${OTELGEN:-}'); run through make check or set it"
    exit 1
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/intake_lib.sh"
cd "$OG_TMP" || exit 0

SERVER=$OG_SRCDIR/tests/e2e/otelgen_load_server.py
# The gRPC receiver needs Debian's grpcio, which a python3 first on PATH may lack.
GRPC_PYTHON=/usr/bin/python3
have_grpc_python() { "$GRPC_PYTHON" -c 'import grpc' 2>/dev/null; }

# json_check JSON PYTHON-EXPR: prints 0 when EXPR (over d, the parsed JSON) is true, else a diagnostic.
json_check()
{
    python3 - "$1" "$2" <<'PY'
import json, sys
try:
    d = json.loads(sys.argv[1])
    ok = eval(sys.argv[2])
except Exception as e:
    print("not JSON or no such field (%s): %s" % (e, sys.argv[1][:300]))
    sys.exit(0)
print(0 if ok else "false: %s in %s" % (sys.argv[2], sys.argv[1][:400]))
PY
}

# start_server KIND ARGS...: starts otelgen_load_server.py; sets SRV_PORT, SRV_LOG. Returns 1 when it did
# not listen within 10 s.
srv_n=0
start_server()
{
    local kind=$1 python=python3
    shift
    srv_n=$((srv_n + 1))
    SRV_LOG=$OG_TMP/server.$srv_n.requests
    [ "$kind" = grpc ] && python=$GRPC_PYTHON
    "$python" "$SERVER" "$kind" "$OG_TMP/server.$srv_n.port" "$SRV_LOG" "$@" \
        >"$OG_TMP/server.$srv_n.log" 2>&1 </dev/null &
    og_pids="$og_pids $!"
    SRV_PID=$!
    wait_until 10 test -s "$OG_TMP/server.$srv_n.port" || { diag "$(cat "$OG_TMP/server.$srv_n.log")"; return 1; }
    SRV_PORT=$(cat "$OG_TMP/server.$srv_n.port")
}

stop_server()
{
    kill -TERM "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
}

# The log column COL (2: tenant, 3: in flight, 4: answer) of the last server, one value per line.
srv_column() { awk -v c="$1" '{ print $c }' "$SRV_LOG"; }

# elapsed CMD...: runs run_cmd and sets SECS to the wall time it took.
timed_run()
{
    local t0 t1
    t0=$(now_ms)
    run_cmd "$@"
    t1=$(now_ms)
    SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
}

# ---- otelgate with a file exporter: items counted where they arrive ----
intake_config "$OG_TMP/gate.yaml"
if ! start_daemon "$OG_TMP/gate.yaml"; then
    fail "otelgate starts"
    exit 0
fi
GRPC=127.0.0.1:$GRPC_PORT
HTTP=127.0.0.1:$HTTP_PORT
EXPORTED=$OUT

# exported_counts WANT DESC: expect_counts on the file exporter's output (run_cmd takes OUT for stdout).
exported_counts()
{
    local OUT=$EXPORTED
    expect_counts "$@"
}

# ---- --rate: open loop, exact schedule ----
run_cmd 30 "$OTELGEN" send --rate 200 --duration 5s --spans-per-request 1 --json "$GRPC"
rate_json=$OUT
all_true "grpc --rate 200 --duration 5s: exit 0, exactly the 1000 requests due, all acknowledged, rate within 5 %" \
    "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC; stderr: $ERR")" \
    "$(json_check "$OUT" 'd["requests"] == 1000 and d["acknowledged_requests"] == 1000 and d["failed_requests"] == 0')" \
    "$(json_check "$OUT" 'abs(d["requests"] / d["seconds"] - 200) <= 10 and abs(d["requests_per_second"] - 200) <= 10')" \
    "$(json_check "$OUT" '4.9 <= d["seconds"] <= 5.5')"
exported_counts "1000 0 0" "the file exporter received the 1000 spans of the --rate run"
is "$(printf '%s\n' "$OUT" | wc -l | tr -d ' ')" 1 "--json prints one line"

fields='["protocol", "signal", "item", "items_per_request", "requests", "items", "acknowledged_requests",
 "acknowledged_items", "failed_requests", "unanswered_requests", "retries", "answers", "errors",
 "connection_errors", "seconds", "requests_per_second", "items_per_second", "latency_ms"]'
all_true "--json has every documented field, with its type" \
    "$(json_check "$rate_json" "all(k in d for k in $fields)")" \
    "$(json_check "$rate_json" 'd["protocol"] == "grpc" and d["signal"] == "traces" and d["item"] == "spans"')" \
    "$(json_check "$rate_json" 'd["items_per_request"] == 1 and d["items"] == 1000 and d["acknowledged_items"] == 1000')" \
    "$(json_check "$rate_json" 'd["answers"] == {"OK": 1000} and d["errors"] == {} and d["connection_errors"] == {}')" \
    "$(json_check "$rate_json" 'sorted(d["latency_ms"]) == ["max", "p50", "p90", "p99"]')" \
    "$(json_check "$rate_json" 'all(isinstance(v, (int, float)) and v >= 0 for v in d["latency_ms"].values())')" \
    "$(json_check "$rate_json" 'd["latency_ms"]["p50"] <= d["latency_ms"]["p90"] <= d["latency_ms"]["p99"] <= d["latency_ms"]["max"]')"

run_cmd 20 "$OTELGEN" send --protocol http/protobuf --rate 100/s --duration 2s --spans-per-request 1 --threads 2 \
    --json "$HTTP"
all_true "http/protobuf --rate 100/s --duration 2s --threads 2: the 200 requests due, rate within 5 %" \
    "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC; stderr: $ERR")" \
    "$(json_check "$OUT" 'd["requests"] == 200 and d["acknowledged_requests"] == 200')" \
    "$(json_check "$OUT" 'abs(d["requests_per_second"] - 100) <= 5 and d["protocol"] == "http/protobuf"')"
exported_counts "1200 0 0" "the file exporter received the 200 spans of the HTTP --rate run"

# ---- --concurrency and --duration: closed loop ----
run_cmd 20 "$OTELGEN" send --concurrency 8 --duration 1s -c 2 --threads 2 --spans-per-request 1 "$GRPC"
sent=$(printf '%s\n' "$OUT" | sed -n 's/^sent \([0-9]*\) requests.* in \([0-9.]*\) s .*/\1 \2/p')
all_true "--concurrency 8 --duration 1s --threads 2: exit 0, requests sent for about 1 s, no progress line off a terminal" \
    "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC; stderr: $ERR")" \
    "$(awk -v s="$sent" 'BEGIN { split(s, a, " "); print (a[1] > 8 && a[2] >= 0.9 && a[2] < 2.5) ? 0 : "sent line: " s }')" \
    "$(printf '%s\n' "$OUT" | grep -q 'req/s' && echo "progress line on a pipe: $OUT" || echo 0)" \
    "$(printf '%s\n' "$OUT" | grep -qxF 'answers: OK='"${sent%% *}" && echo 0 || echo "stdout: $OUT")"
exported_counts "$((1200 + ${sent%% *})) 0 0" "the file exporter received every span of the --duration run"

run_cmd 20 "$OTELGEN" send --concurrency 3 -n 30 --spans-per-request 2 "$GRPC"
has_line "$OUT" "acknowledged: 30 requests, 60 spans; failed: 0 requests" "--concurrency 3 -n 30: the 30 requests"

if start_server http --delay 0.05; then
    run_cmd 20 "$OTELGEN" send --protocol http/protobuf --concurrency 3 -n 30 "127.0.0.1:$SRV_PORT"
    all_true "http --concurrency 3: 3 connections, never more than 3 requests in flight, and 3 reached" \
        "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC; stderr: $ERR")" \
        "$([ "$(wc -l <"$SRV_LOG")" = 30 ] && echo 0 || echo "the server saw $(wc -l <"$SRV_LOG") requests")" \
        "$([ "$(srv_column 3 | sort -n | tail -n 1)" = 3 ] && echo 0 || echo "most in flight: $(srv_column 3 | sort -n | tail -n 1)")"
    stop_server
else
    fail "the HTTP test server starts"
fi
if have_grpc_python && start_server grpc --delay 0.05; then
    run_cmd 20 "$OTELGEN" send --concurrency 5 -c 2 -n 40 "127.0.0.1:$SRV_PORT"
    all_true "grpc --concurrency 5 over 2 connections: never more than 5 requests in flight, and 5 reached" \
        "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC; stderr: $ERR")" \
        "$([ "$(wc -l <"$SRV_LOG")" = 40 ] && echo 0 || echo "the server saw $(wc -l <"$SRV_LOG") requests")" \
        "$([ "$(srv_column 3 | sort -n | tail -n 1)" = 5 ] && echo 0 || echo "most in flight: $(srv_column 3 | sort -n | tail -n 1)")"
    stop_server
else
    skip "grpc --concurrency 5 over 2 connections: never more than 5 in flight" "no grpcio for $GRPC_PYTHON"
fi

# ---- --tenants: one tenant per request, in turn ----
if start_server http; then
    run_cmd 20 "$OTELGEN" send --protocol http/protobuf --tenants acme,globex -n 6 "127.0.0.1:$SRV_PORT"
    is "$RC:$(srv_column 2 | tr '\n' ' ')" "0:acme globex acme globex acme globex " \
        "http --tenants acme,globex: X-Tenant-Id alternates, request after request"
    stop_server
else
    fail "the HTTP test server starts"
fi
if have_grpc_python && start_server grpc --tenant-header x-scope-orgid; then
    run_cmd 20 "$OTELGEN" send --tenants a,b,c --tenant-header X-Scope-OrgID --concurrency 1 -n 6 "127.0.0.1:$SRV_PORT"
    is "$RC:$(srv_column 2 | tr '\n' ' ')" "0:a b c a b c " "grpc --tenants a,b,c --tenant-header X-Scope-OrgID: in turn"
    stop_server
else
    skip "grpc --tenants with --tenant-header: in turn" "no grpcio for $GRPC_PYTHON"
fi
if start_server http; then
    run_cmd 20 "$OTELGEN" send --protocol http/protobuf --tenants acme,globex -n 40 --threads 2 -c 4 \
        "127.0.0.1:$SRV_PORT"
    is "$RC:$(srv_column 2 | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')" "0:acme=20 globex=20 " \
        "--tenants over 2 threads and 4 connections: each tenant gets half the requests"
    stop_server
fi

# ---- --retry ----
if start_server http --script 503/1,503/1; then
    timed_run 20 "$OTELGEN" send --protocol http/protobuf --retry -n 1 --json "127.0.0.1:$SRV_PORT"
    all_true "http 503 + Retry-After: 1, twice, then 200: --retry succeeds after 2 retries, waiting as told" \
        "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC; stdout: $OUT; stderr: $ERR")" \
        "$(json_check "$OUT" 'd["retries"] == 2 and d["answers"] == {"200": 1, "503": 2}')" \
        "$(json_check "$OUT" 'd["acknowledged_requests"] == 1 and d["acknowledged_items"] == 100 and d["failed_requests"] == 0')" \
        "$(awk -v s="$SECS" 'BEGIN { print (s >= 1.9) ? 0 : "took " s " s: Retry-After ignored" }')" \
        "$([ "$(wc -l <"$SRV_LOG")" = 3 ] && echo 0 || echo "the server saw $(wc -l <"$SRV_LOG") requests")"
    stop_server
else
    fail "the HTTP test server starts"
fi
if start_server http --script 503/1; then
    run_cmd 20 "$OTELGEN" send --protocol http/protobuf -n 1 "127.0.0.1:$SRV_PORT"
    all_true "without --retry a 503 is final: exit 1, counted failed" \
        "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
        "$(printf '%s\n' "$OUT" | grep -qxF 'acknowledged: 0 requests, 0 spans; failed: 1 request' && echo 0 || echo "stdout: $OUT")" \
        "$(printf '%s\n' "$OUT" | grep -q '^retries' && echo "retried: $OUT" || echo 0)"
    stop_server
fi
if start_server http --script '503/1*'; then
    timed_run 20 "$OTELGEN" send --protocol http/protobuf --retry --retry-max-elapsed 1500ms -n 1 --json \
        "127.0.0.1:$SRV_PORT"
    all_true "503 + Retry-After: 1 for ever, --retry-max-elapsed 1500ms: one retry, then the request fails" \
        "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
        "$(json_check "$OUT" 'd["retries"] == 1 and d["answers"] == {"503": 2} and d["failed_requests"] == 1')" \
        "$(json_check "$OUT" 'd["acknowledged_requests"] == 0 and d["acknowledged_items"] == 0')" \
        "$(awk -v s="$SECS" 'BEGIN { print (s < 1.8) ? 0 : "took " s " s" }')"
    stop_server
fi
if start_server http --script 503,503,400; then
    timed_run 20 "$OTELGEN" send --protocol http/protobuf --retry -n 2 "127.0.0.1:$SRV_PORT"
    all_true "503 without Retry-After is retried after a short backoff; 400 is never retried" \
        "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
        "$(printf '%s\n' "$OUT" | grep -qxF 'answers: 200=1 400=1 503=2' && echo 0 || echo "stdout: $OUT")" \
        "$(printf '%s\n' "$OUT" | grep -qxF 'retries: 2' && echo 0 || echo "stdout: $OUT")" \
        "$(awk -v s="$SECS" 'BEGIN { print (s < 1.5) ? 0 : "took " s " s" }')"
    stop_server
fi
if have_grpc_python && start_server grpc --script UNAVAILABLE/pushback=100,RESOURCE_EXHAUSTED/info=300; then
    timed_run 20 "$OTELGEN" send --retry -n 1 --json "127.0.0.1:$SRV_PORT"
    all_true "grpc UNAVAILABLE (pushback 100 ms), RESOURCE_EXHAUSTED with RetryInfo (300 ms), then OK: --retry succeeds" \
        "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC; stderr: $ERR")" \
        "$(json_check "$OUT" 'd["retries"] == 2 and d["answers"] == {"OK": 1, "RESOURCE_EXHAUSTED": 1, "UNAVAILABLE": 1}')" \
        "$(awk -v s="$SECS" 'BEGIN { print (s >= 0.38) ? 0 : "took " s " s: the delays were not honoured" }')"
    stop_server
    start_server grpc --script RESOURCE_EXHAUSTED
    run_cmd 20 "$OTELGEN" send --retry -n 1 --json "127.0.0.1:$SRV_PORT"
    all_true "grpc RESOURCE_EXHAUSTED without RetryInfo is final, even with --retry" \
        "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
        "$(json_check "$OUT" 'd["retries"] == 0 and d["failed_requests"] == 1')"
    stop_server
else
    skip "grpc --retry honours pushback and RetryInfo" "no grpcio for $GRPC_PYTHON"
    skip "grpc RESOURCE_EXHAUSTED without RetryInfo is final" "no grpcio for $GRPC_PYTHON"
fi
port=$(free_port)
timed_run 20 "$OTELGEN" send --retry --retry-max-elapsed 1s -n 2 "127.0.0.1:$port"
all_true "--retry with nothing listening: reconnects for --retry-max-elapsed, then both requests fail" \
    "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
    "$(printf '%s\n' "$OUT" | grep -qxF "failed: 2 requests: cannot connect to 127.0.0.1:$port: Connection refused" && echo 0 || echo "stdout: $OUT")" \
    "$(awk -v s="$SECS" 'BEGIN { print (s >= 0.5 && s < 3) ? 0 : "took " s " s" }')"

# ---- progress line on a terminal; SIGINT ----
if command -v script >/dev/null 2>&1; then
    run_cmd 20 script -qec "$OTELGEN send --rate 50 --duration 2500ms --spans-per-request 1 $GRPC" /dev/null
    all_true "on a terminal, a progress line once a second, then the summary" \
        "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC")" \
        "$(printf '%s\n' "$OUT" | tr -d '\r' | grep -qE '^ +1s +[0-9]+ req/s +[0-9]+ spans/s  errors 0  p50 [0-9.]+ ms  p99 [0-9.]+ ms$' && echo 0 || echo "stdout: $OUT")" \
        "$(printf '%s\n' "$OUT" | tr -d '\r' | grep -qE '^sent 125 requests, 125 spans in ' && echo 0 || echo "stdout: $OUT")"
else
    skip "on a terminal, a progress line once a second" "script(1) is not installed"
fi
"$OTELGEN" send --concurrency 2 --duration 30s --spans-per-request 1 "$GRPC" >"$OG_TMP/int.out" 2>"$OG_TMP/int.err" &
int_pid=$!
og_pids="$og_pids $int_pid"
sleep 1
kill -INT "$int_pid"
wait_exit "$int_pid" 10
all_true "SIGINT ends a --duration run cleanly: exit 0 with the summary" \
    "$([ "$OG_RC" = 0 ] && echo 0 || echo "exit status $OG_RC")" \
    "$(grep -qE '^sent [1-9][0-9]* requests' "$OG_TMP/int.out" && echo 0 || echo "stdout: $(cat "$OG_TMP/int.out")")" \
    "$(grep -qF 'interrupted' "$OG_TMP/int.err" && echo 0 || echo "stderr: $(cat "$OG_TMP/int.err")")"

stop_daemon
is "$DAEMON_RC" 0 "otelgate stops cleanly"
sanitizer_clean
