#!/bin/sh
# otelgen_sink.sh: `otelgen sink` driven by `otelgen send`: exact counts of unique and duplicated items for
# every signal over every protocol, per tenant and per run; each fault mode as the sender sees it (answers,
# exit status) and as /stats counts it (only acknowledged items); ratios, per-tenant and per-signal rules,
# rule changes through the control endpoint; --out, SIGTERM's final report, and usage errors (exit 2).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
if [ -z "${OTELGEN:-}" ] || [ ! -x "$OTELGEN" ]; then
    echo "Bail out! OTELGEN is not set to an executable otelgen (got '${OTELGEN:-}'); run through make check or set it"
    exit 1
fi
# lib.sh wants a daemon binary; this test never starts one, so otelgen can stand in when otelgate is absent.
[ -n "${OTELGATE:-}" ] && [ -x "$OTELGATE" ] || OTELGATE=$OTELGEN
. "$(dirname "$0")/lib.sh"
cd "$OG_TMP" || exit 0

SINK_USAGE='usage: otelgen sink [--grpc ENDPOINT] [--http ENDPOINT] [--control ENDPOINT]'

# ------------------------------------------------------------ helpers ----

SINK_PID='' SINK_OUT='' SINK_LOG='' SINK_G='' SINK_H='' SINK_C='' SINK_RC=''

sink_ready()
{
    ! proc_alive "$SINK_PID" ||
        [ "$(curl -s --noproxy '*' --max-time 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SINK_C/stats")" = 200 ]
}

# start_sink ARGS...: a sink on three free loopback ports (gRPC, HTTP, control), stdout (the final report)
# and stderr to files; waits until /stats answers. Returns 1, with the sink's stderr as diagnostics, when
# it did not come up.
start_sink()
{
    og_seq=$((og_seq + 1))
    SINK_G=$(free_port) && SINK_H=$(free_port) && SINK_C=$(free_port) || return 1
    SINK_OUT=$OG_TMP/sink.$og_seq.out
    SINK_LOG=$OG_TMP/sink.$og_seq.log
    "$OTELGEN" sink --grpc "127.0.0.1:$SINK_G" --http "127.0.0.1:$SINK_H" --control "127.0.0.1:$SINK_C" "$@" \
        >"$SINK_OUT" 2>"$SINK_LOG" </dev/null &
    SINK_PID=$!
    og_pids="$og_pids $SINK_PID"
    wait_until 10 sink_ready
    if ! proc_alive "$SINK_PID" || ! sink_ready; then
        diag "the sink did not come up (otelgen sink $*):"
        sed 's/^/#   /' "$SINK_LOG"
        return 1
    fi
}

# stop_sink [SIGNAL]: SIGTERM (or SIGNAL), then waits; SINK_RC is its exit status.
stop_sink()
{
    kill -s "${1:-TERM}" "$SINK_PID" 2>/dev/null
    wait_exit "$SINK_PID" 10
    SINK_RC=$OG_RC
}

# ctl METHOD PATH [CURL ARGS...]: one control request; sets HTTP_CODE, HTTP_BODY, HTTP_HEADERS.
ctl()
{
    local method=$1 path=$2
    shift 2
    http "$method" "http://127.0.0.1:$SINK_C$path" "$@"
}

# jget JSON PATH: the value at dotted PATH ("traces.runs.0.unique"); "?" when absent.
jget()
{
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    d = d[int(k)] if isinstance(d, list) else d[k]
print(json.dumps(d) if isinstance(d, (dict, list)) else d)' "$1" "$2" 2>/dev/null || echo "?"
}

# stats: STATS is GET /stats's body.
STATS=''
stats()
{
    ctl GET /stats
    STATS=$HTTP_BODY
}

# send PROTOCOL ARGS...: otelgen send to the sink's endpoint for PROTOCOL (grpc, http/protobuf, http/json).
send()
{
    local proto=$1 ep=127.0.0.1:$SINK_H
    shift
    [ "$proto" = grpc ] && ep=127.0.0.1:$SINK_G
    run_cmd 30 "$OTELGEN" send --protocol "$proto" "$@" "$ep"
}

answers()
{
    printf '%s\n' "$OUT" | sed -n 's/^answers: //p'
}

# ------------------------------------------------------- usage errors ----

run_cmd 10 "$OTELGEN" sink -h
all_true "sink -h: usage on stdout naming every option, exit 0" \
    "$([ "$RC" = 0 ] && [ -z "$ERR" ] && echo 0 || echo "exit status $RC, stderr: $ERR")" \
    "$([ "$(printf '%s\n' "$OUT" | head -n 1)" = "$SINK_USAGE" ] && echo 0 || echo "stdout: $OUT")" \
    "$(for o in --grpc --http --control --tenant-header --threads --max-ids --out --fault --help unavailable \
        reject delay close blackhole; do printf '%s\n' "$OUT" | grep -q -- "$o" || echo "missing $o"; done | \
        tr '\n' ' ' | sed 's/^$/0/')"
run_cmd 10 "$OTELGEN" -h
matches "$OUT" '^  sink ' "otelgen -h lists sink"

usage_error()   # DESC FIRST_STDERR_LINE_ERE ARGS...
{
    local desc=$1 first=$2
    shift 2
    run_cmd 10 "$OTELGEN" sink "$@"
    all_true "$desc" \
        "$([ "$RC" = 2 ] && echo 0 || echo "exit status $RC, expected 2")" \
        "$([ -z "$OUT" ] && echo 0 || echo "stdout not empty: $OUT")" \
        "$(printf '%s\n' "$ERR" | head -n 1 | grep -qE -- "$first" && echo 0 || echo "first stderr line should match: $first; stderr: $ERR")" \
        "$(printf '%s\n' "$ERR" | grep -qxF -- "$SINK_USAGE" && echo 0 || echo "no usage line on stderr")"
}
usage_error "unknown option" "^otelgen sink: unrecognized option '--bogus'\$" --bogus
usage_error "an argument" "^otelgen sink: unexpected argument 'x'\$" x
usage_error "option without its argument" "requires an argument" --grpc
usage_error "bad endpoint" "^otelgen sink: --http 'nohost': " --http nohost
usage_error "--threads 0" "^otelgen sink: --threads '0': expects a whole number from 1 to 256\$" --threads 0
usage_error "--tenant-header with a space" "^otelgen sink: --tenant-header 'X T': expects a header name" \
    --tenant-header 'X T'
usage_error "--fault: unknown mode" "^otelgen sink: --fault 'slow': unknown fault mode 'slow'" --fault slow
usage_error "--fault: ratio above 1" "^otelgen sink: --fault 'reject,ratio=1.5': ratio '1.5': expects a number from 0 to 1\$" \
    --fault reject,ratio=1.5
usage_error "--fault: delay= on another mode" "delay= is for mode delay, not reject\$" --fault reject,delay=1s
usage_error "--fault: bad duration" "^otelgen sink: --fault 'delay,delay=5': delay '5': missing unit" \
    --fault delay,delay=5
usage_error "--fault: unknown key" "unknown key 'tennant'" --fault close,tennant=a

# ------------------------------------- counting: signals x protocols ----

N=5         # requests per send, 100 items each
if start_sink --tenant-header X-Tenant; then
    bad=''
    for sig in traces metrics logs; do
        for p in "grpc" "grpc --gzip" "http/protobuf" "http/json --gzip"; do
            # shellcheck disable=SC2086  # $p is the protocol and maybe --gzip
            send $p --signal "$sig" -n "$N" -c 2 -H X-Tenant=t1
            [ "$RC" = 0 ] && [ "$(answers)" = "$([ "${p%% *}" = grpc ] && echo OK || echo 200)=$N" ] ||
                bad="$bad${bad:+
}$sig over $p: exit $RC, answers: $(answers), stderr: $ERR"
        done
    done
    all_true "12 sends (3 signals x grpc, grpc+gzip, http/protobuf, http/json+gzip): all answered OK" "${bad:-0}"
    stats
    for sig in traces metrics logs; do
        want=$((4 * N * 100))
        is "$(jget "$STATS" "$sig.items"):$(jget "$STATS" "$sig.unique"):$(jget "$STATS" "$sig.duplicates"):$(jget "$STATS" "$sig.without_id")" \
            "$want:$want:0:0" "$sig: $want items, all unique, 0 duplicates, all with an id"
        is "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1])[sys.argv[2]]["runs"]; print(len(r), sorted({(x["unique"], x["max_item"]) for x in r}))' "$STATS" "$sig")" \
            "4 [($((N * 100)), $((N * 100 - 1)))]" "$sig: 4 runs of $((N * 100)) unique items, numbered 0 to $((N * 100 - 1))"
    done
    is "$(jget "$STATS" tenants.t1.logs.items):$(jget "$STATS" answers.ok)" "$((4 * N * 100)):$((12 * N))" \
        "per tenant and per answer"

    # The same file twice: its ids repeat, so the second copy is all duplicates.
    bench=${OG_BENCH_DIR:-}/traces_100.pb
    if [ -r "$bench" ]; then
        send http/protobuf --file "$bench" -n 2
        stats
        is "$(jget "$STATS" traces.items):$(jget "$STATS" traces.unique):$(jget "$STATS" traces.duplicates)" \
            "$((4 * N * 100 + 200)):$((4 * N * 100 + 100)):100" "a file sent twice: 100 duplicates"
    else
        skip "a file sent twice: 100 duplicates" "no bench payloads at '$bench'"
    fi

    ctl POST /reset
    reset_items=$(jget "$HTTP_BODY" traces.items)
    stats
    is "$HTTP_CODE:$((reset_items > 0)):$(jget "$STATS" traces.items):$(jget "$STATS" traces.unique):$(jget "$STATS" answers.ok):$(jget "$STATS" traces.last_unique_us)" \
        "200:1:0:0:0:0" "POST /reset answers the counts it zeroed; /stats starts again from 0 (last_unique_us too)"
    before=$(date +%s%6N)
    send grpc -n 2
    after=$(date +%s%6N)
    stats
    is "$(jget "$STATS" traces.unique):$(jget "$STATS" traces.duplicates)" "200:0" "after a reset, ids are new again"
    first_at=$(jget "$STATS" traces.last_unique_us)
    is "$([ "$first_at" -ge "$before" ] && [ "$first_at" -le "$after" ] && echo in || echo "$before <= $first_at <= $after")" \
        in "last_unique_us: the wall clock of the last new id, within the send"
    for sig in traces metrics logs; do
        send http/protobuf --signal "$sig" --attributes 16 -n 3
    done
    send http/json --attributes 16 -n 1
    stats
    is "$(jget "$STATS" traces.unique):$(jget "$STATS" metrics.unique):$(jget "$STATS" logs.unique)" "600:300:300" \
        "--attributes 16: heavier items, every one counted once"
    if [ -r "$bench" ]; then
        send http/protobuf --file "$bench" -n 1
        stats
        new_at=$(jget "$STATS" traces.last_unique_us)
        send http/protobuf --file "$bench" -n 1
        stats
        is "$([ "$new_at" -gt "$first_at" ] && echo moved)/$(jget "$STATS" traces.last_unique_us)" "moved/$new_at" \
            "last_unique_us: moved by new ids, not by duplicates"
    else
        skip "last_unique_us: moved by new ids, not by duplicates" "no bench payloads at '$bench'"
    fi
    stop_sink
else
    fail "a sink starts"
fi

# ---------------------------------------------------- fault modes ----

# fault_case DESC PROTOCOL SEND_ARGS EXIT ANSWERS STATS_ITEMS [ANSWER_KEY=N]: sends, then checks the
# sender's exit status and answer line and what /stats counted since the last reset.
fault_case()
{
    local desc=$1 proto=$2 args=$3 rc=$4 ans=$5 items=$6 key=${7:-}
    # shellcheck disable=SC2086  # $args holds several arguments
    send "$proto" $args
    stats
    ctl POST /reset
    all_true "$desc" \
        "$([ "$RC" = "$rc" ] && echo 0 || echo "otelgen send exit status $RC, expected $rc")" \
        "$([ "$(answers)" = "$ans" ] && echo 0 || echo "answers: '$(answers)', expected '$ans'; stdout: $OUT")" \
        "$([ "$(jget "$STATS" traces.items)" = "$items" ] && echo 0 || echo "/stats counted $(jget "$STATS" traces.items) spans, expected $items")" \
        "$([ -z "$key" ] || [ "$(jget "$STATS" "answers.${key%=*}")" = "${key#*=}" ] && echo 0 || echo "answers.${key%=*} is $(jget "$STATS" "answers.${key%=*}"), expected ${key#*=}")"
}

if start_sink --tenant-header X-Tenant --fault unavailable,retry_after=7; then
    fault_case "unavailable (--fault): gRPC UNAVAILABLE, exit 1, nothing counted" grpc "-n 4" 1 "UNAVAILABLE=4" 0 \
        unavailable=4
    fault_case "unavailable: HTTP 503, nothing counted" http/protobuf "-n 3" 1 "503=3" 0 unavailable=3
    http POST "http://127.0.0.1:$SINK_H/v1/logs" -H 'Content-Type: application/json' --data-binary '{}'
    all_true "unavailable: Retry-After as configured, a google.rpc.Status body in JSON" \
        "$([ "$HTTP_CODE" = 503 ] && echo 0 || echo "status $HTTP_CODE")" \
        "$(printf '%s\n' "$HTTP_HEADERS" | grep -qix 'retry-after: 7' && echo 0 || echo "headers: $HTTP_HEADERS")" \
        "$([ "$(jget "$HTTP_BODY" code)" = 14 ] && echo 0 || echo "body: $HTTP_BODY")"
    ctl GET /faults
    is "$(jget "$HTTP_BODY" faults.0.mode):$(jget "$HTTP_BODY" faults.0.retry_after):$(jget "$HTTP_BODY" faults.0.hits)" \
        "unavailable:7:1" "GET /faults shows the --fault rule and its hits since the last reset"

    ctl PUT /faults --data-binary '[{"mode": "reject"}]'
    is "$HTTP_CODE:$(jget "$HTTP_BODY" faults.0.mode)" "200:reject" "PUT /faults replaces the rules"
    ctl POST /reset
    fault_case "reject: gRPC INVALID_ARGUMENT, nothing counted" grpc "-n 4" 1 "INVALID_ARGUMENT=4" 0 rejected=4
    fault_case "reject: HTTP 400, nothing counted" http/json "-n 2" 1 "400=2" 0 rejected=2

    ctl PUT /faults --data-binary '[{"mode": "close"}]'
    fault_case "close: gRPC streams reset, no answer, nothing counted" grpc "-n 3" 1 "none" 0 closed=3
    all_true "close: the sender says the stream was reset" \
        "$(printf '%s\n' "$OUT" | grep -q '^failed: 3 requests: .*stream reset by the server' && echo 0 || echo "stdout: $OUT")"
    fault_case "close: HTTP connection closed, no answer, nothing counted" http/protobuf "-n 1" 1 "none" 0 closed=1

    ctl PUT /faults --data-binary '[{"mode": "delay", "delay": "400ms"}]'
    t0=$(now_ms)
    fault_case "delay: answered OK and counted" http/protobuf "-n 2" 0 "200=2" 200 ok=2
    t1=$(now_ms)
    all_true "delay: two requests on one HTTP/1.1 connection take 2 x 400 ms" \
        "$([ $((t1 - t0)) -ge 800 ] && echo 0 || echo "took $((t1 - t0)) ms")"

    ctl PUT /faults --data-binary '{"faults": [{"mode": "blackhole"}]}'
    send grpc -n 2 --timeout 500ms
    stats
    all_true "blackhole: no answer (the sender times out), requests held, nothing counted" \
        "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
        "$(printf '%s\n' "$OUT" | grep -q '^failed: 2 requests: .*no answer within 500ms' && echo 0 || echo "stdout: $OUT")" \
        "$([ "$(jget "$STATS" held):$(jget "$STATS" traces.items):$(jget "$STATS" faults.blackhole)" = 2:0:2 ] && echo 0 || echo "stats: $STATS")"
    ctl DELETE /faults
    stats
    is "$HTTP_CODE:$(jget "$STATS" held):$(jget "$STATS" answers.unanswered)" "200:0:2" \
        "clearing the rules lets the held requests go, unanswered"
    ctl POST /reset

    ctl PUT /faults --data-binary '[{"mode": "unavailable", "ratio": 0.5}]'
    send grpc -n 200 -c 4
    ok=$(answers | sed -n 's/.*OK=\([0-9]*\).*/\1/p')
    bad=$(answers | sed -n 's/.*UNAVAILABLE=\([0-9]*\).*/\1/p')
    stats
    ctl POST /reset
    all_true "ratio 0.5: about half refused; /stats counts exactly the acknowledged spans" \
        "$([ "${bad:-0}" -ge 60 ] && [ "${bad:-0}" -le 140 ] && echo 0 || echo "UNAVAILABLE=$bad of 200")" \
        "$([ $((${ok:-0} + ${bad:-0})) = 200 ] && echo 0 || echo "answers: $(answers)")" \
        "$([ "$(jget "$STATS" traces.items):$(jget "$STATS" traces.unique)" = "$((${ok:-0} * 100)):$((${ok:-0} * 100))" ] && echo 0 || echo "stats: $(jget "$STATS" traces), OK=$ok")"

    ctl PUT /faults --data-binary '[{"mode": "reject", "tenant": "a"}, {"mode": "close", "signal": "logs"}]'
    fault_case "per tenant: tenant a is rejected" grpc "-n 2 -H X-Tenant=a" 1 "INVALID_ARGUMENT=2" 0
    fault_case "per tenant: tenant b is not" grpc "-n 2 -H X-Tenant=b" 0 "OK=2" 200
    fault_case "per tenant: no tenant is not" http/protobuf "-n 2" 0 "200=2" 200
    send http/protobuf --signal logs -n 1
    stats
    ctl POST /reset
    is "$RC:$(jget "$STATS" answers.closed):$(jget "$STATS" logs.items)" "1:1:0" "per signal: logs are closed"

    ctl PUT /faults --data-binary '[{"mode": "delay", "ratio": 2}]'
    is "$HTTP_CODE:$(jget "$HTTP_BODY" error)" "400:faults[0]: ratio '2': expects a number from 0 to 1" \
        "a bad rule: 400 with the reason"
    ctl PUT /faults --data-binary '[{"mode": '
    is "$HTTP_CODE:$(jget "$HTTP_BODY" error | cut -c1-12)" "400:invalid JSON" "bad JSON: 400"
    ctl GET /faults
    is "$(jget "$HTTP_BODY" faults.1.signal)" "logs" "a refused change leaves the rules as they were"
    ctl GET /nope
    is "$HTTP_CODE" 404 "unknown control path: 404"
    ctl DELETE /stats
    is "$HTTP_CODE:$(printf '%s\n' "$HTTP_HEADERS" | grep -i '^allow:')" "405:Allow: GET, HEAD" "wrong method: 405 with Allow"

    # A delay longer than the client waits: the client fails, yet the sink takes the request when the delay
    # ends, as a slow upstream would (the sender's retry would be a duplicate).
    ctl PUT /faults --data-binary '[{"mode": "delay", "delay": "700ms"}]'
    ctl POST /reset
    send grpc -n 1 --timeout 200ms
    wait_until 5 eval '[ "$(jget "$(curl -s --max-time 1 "http://127.0.0.1:$SINK_C/stats")" traces.items)" = 100 ]'
    stats
    is "$RC:$(jget "$STATS" traces.items):$(jget "$STATS" answers.ok)" "1:100:1" \
        "delay past the client's timeout: the client fails, the sink still counts it"

    # Requests still held at the end are let go without an answer; SIGTERM prints the final report.
    ctl PUT /faults --data-binary '[{"mode": "blackhole"}]'
    send http/protobuf -n 1 --timeout 200ms
    send grpc -n 2 --timeout 200ms
    stop_sink
    report=$(cat "$SINK_OUT")
    is "$SINK_RC:$(jget "$report" held):$(jget "$report" answers.unanswered):$(jget "$report" faults.blackhole)" \
        "0:0:3:3" "SIGTERM: exit 0, held requests let go unanswered, the final report on stdout"
else
    fail "a sink with --fault starts"
fi

# ---------------------------------------------- threads, --out, SIGINT ----

if start_sink --threads 2 --out "$OG_TMP/out.bin"; then
    send grpc -n 40 -c 8
    send http/protobuf -n 40 -c 8 --signal metrics
    dups=0 files=0
    if [ -r "$bench" ]; then
        # Four copies over four connections, which the kernel spreads over both threads: the report
        # finds the duplicates across threads too.
        send http/protobuf --file "$bench" -n 4 -c 4
        dups=300 files=4
    fi
    stop_sink INT
    report=$(cat "$SINK_OUT")
    is "$SINK_RC:$(jget "$report" traces.unique):$(jget "$report" metrics.unique):$(jget "$report" traces.duplicates)" \
        "0:$((4000 + files / 4 * 100)):4000:$dups" \
        "2 threads: exact unique and duplicate counts merged; SIGINT prints the report and exits 0"
    is "$(python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read(); n = o = 0
while o + 4 <= len(b):
    o += 4 + struct.unpack(">I", b[o:o + 4])[0]; n += 1
print(n, o == len(b))' "$OG_TMP/out.bin")" "$((80 + files)) True" "--out: one length-prefixed record per request"
else
    fail "a sink with --threads 2 --out starts"
fi

# A taken port: exit 1 with the reason, not a usage error.
if start_sink; then
    run_cmd 10 "$OTELGEN" sink --grpc "127.0.0.1:$SINK_G" --http "127.0.0.1:$(free_port)" --control "127.0.0.1:$(free_port)"
    all_true "an endpoint in use: exit 1, says which" \
        "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
        "$(printf '%s\n' "$ERR" | grep -q "127.0.0.1:$SINK_G" && echo 0 || echo "stderr: $ERR")"
    stop_sink
fi

sanitizer_clean
