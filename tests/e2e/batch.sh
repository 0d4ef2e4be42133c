#!/bin/sh
# batch.sh: the batch processor between the otlp receiver and a file
# exporter. The file exporter writes one line per request it takes, so the
# lines of its file are the batches the processor sent; count_items checks
# that every span arrived and that each concatenated batch is one valid
# request. Requests are answered with their batch's verdict: by size, by
# timeout, at once with timeout 0, and at SIGTERM.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/intake_lib.sh"

# batch_config PATH [BATCH KEY LINES...]: intake_config (otlp on gRPC and
# HTTP, a json file exporter into $OUT) with one worker, so every request
# meets the same open batch, and the traces pipeline through a batch
# processor with these keys.
batch_config()
{
    local path=$1 l
    shift
    intake_config "$path"
    sed -i -e 's/^  workers: 2$/  workers: 1/' -e 's/^    traces:$/&\n      processors: [batch]/' "$path"
    {
        echo "  shutdown_timeout: 30s"
        echo "processors:"
        echo "  batch:"
        for l in "$@"; do echo "    $l"; done
    } >>"$path"
}

# two_pipelines_config PATH [BATCH KEY LINES...]: batch_config with a
# second traces pipeline through the same batch processor to its own file
# exporter, whose file is $OUT_B.
two_pipelines_config()
{
    local path=$1
    batch_config "$@"
    OUT_B=${path%.yaml}.b.json
    sed -i -e 's/^    traces:$/    traces\/a:/' \
        -e 's/^  pipelines:$/&\n    traces\/b:\n      receivers: [otlp]\n      processors: [batch]\n      exporters: [file\/b]/' \
        -e "s|^exporters:$|&\n  file/b:\n    path: $OUT_B\n    flush_interval: 20ms|" "$path"
}

# expect_batches FILE SPANS RECORDS DESC: waits until FILE holds SPANS
# spans, then checks that they came in RECORDS requests (batches).
expect_batches()
{
    local keep=$OUT
    OUT=$1
    expect_counts "$2 0 0" "$4: the file holds the $2 spans sent"
    is "$(wc -l <"$1" 2>/dev/null | tr -d ' ')" "$3" "$4: $3 batch(es) of them"
    OUT=$keep
}

# record_spans FILE: the spans of each record (batch) in FILE, sorted.
record_spans()
{
    python3 - "$1" <<'PY'
import json, sys
n = []
for line in open(sys.argv[1]).read().splitlines():
    d = json.loads(line)
    n.append(sum(len(ss.get("spans", [])) for rs in d.get("resourceSpans", []) for ss in rs.get("scopeSpans", [])))
print(" ".join(str(x) for x in sorted(n)))
PY
}

# send_concurrently N [FILE [CURL ARGS...]]: N POSTs of FILE (traces_100.pb)
# at once, each on its own connection; sets CODES to their statuses, sorted
# and counted ("20 200").
send_concurrently()
{
    local n=$1 file=${2:-$BENCH/traces_100.pb} i pids= codes=$OG_TMP/codes.$BASHPID
    shift
    [ $# -gt 0 ] && shift
    for i in $(seq 1 "$n"); do
        curl -s --noproxy '*' --max-time 15 -o /dev/null -w '%{http_code}\n' "$@" \
            -H 'Content-Type: application/x-protobuf' --data-binary "@$file" \
            "http://127.0.0.1:$HTTP_PORT/v1/traces" >>"$codes" 2>/dev/null &
        pids="$pids $!"
    done
    # shellcheck disable=SC2086  # one argument per pid
    wait $pids
    CODES=$(sort "$codes" | uniq -c | awk '{ print $1, $2 }' | tr '\n' ' ' | sed 's/ $//')
    rm -f "$codes"
}

# send_in_background NAME N [FILE [CURL ARGS...]]: send_concurrently in the
# background; its CODES go to $OG_TMP/NAME.codes.
senders=
send_in_background()
{
    local name=$1
    shift
    (send_concurrently "$@" && echo "$CODES" >"$OG_TMP/$name.codes") &
    senders="$senders $!"
}

# term_after_senders: a second for every request to reach its open batch,
# then SIGTERM, which sends the batches; waits for the senders, then for the
# daemon (its status in OG_RC).
term_after_senders()
{
    local p
    sleep 1
    kill -TERM "$DAEMON_PID"
    for p in $senders; do wait_exit "$p" 20; done
    senders=
    wait_exit "$DAEMON_PID" 10
}

# started DESC: a case that fails when the daemon did not start; true if it did.
started()
{
    if start_daemon "$cfg"; then return 0; fi
    fail "$1: otelgate starts"
    return 1
}

# ---- 1: size trigger: 20 requests of 100 spans, send_batch_size 1000 ----
# The timeout (30s) is longer than curl waits (15s): only the size trigger
# can answer them. One batch processor serves two pipelines: each keeps its
# own batches, so each exporter gets every span once (case 4 below).
cfg=$OG_TMP/size.yaml
two_pipelines_config "$cfg" "send_batch_size: 1000" "timeout: 30s"
if started "size trigger"; then
    send_concurrently 20
    is "$CODES" "20 200" "size trigger: 20 concurrent requests, all answered 200 before the timeout"
    expect_batches "$OUT" 2000 2 "size trigger, pipeline a: 20 requests of 100 spans, send_batch_size 1000"
    expect_batches "$OUT_B" 2000 2 "size trigger, pipeline b (the same batch processor)"
    stop_daemon TERM
    is "$DAEMON_RC" 0 "size trigger: SIGTERM, exit 0"
fi

# ---- 2: timeout trigger ----
cfg=$OG_TMP/timeout.yaml
batch_config "$cfg" "send_batch_size: 1000" "timeout: 300ms"
if started "timeout trigger"; then
    t0=$(now_ms)
    post /v1/traces "$BENCH/traces_100.pb" application/x-protobuf
    elapsed=$(($(now_ms) - t0))
    all_true "timeout 300ms: a lone request is answered 200 after the timeout (took ${elapsed}ms)" \
        "$([ "$HTTP_CODE" = 200 ] && echo 0 || echo "status $HTTP_CODE: $HTTP_BODY")" \
        "$([ "$elapsed" -ge 250 ] && echo 0 || echo "answered after ${elapsed}ms, before the batch could be due")"
    expect_batches "$OUT" 100 1 "timeout 300ms"
    stop_daemon TERM
fi

# ---- 3: timeout 0: no batching ----
# 20 gRPC calls in flight on one connection arrive in one read of the
# worker: a batch open for even 0ms would merge them.
cfg=$OG_TMP/zero.yaml
batch_config "$cfg" "timeout: 0s"
if [ -z "${OTELGEN:-}" ] || [ ! -x "$OTELGEN" ]; then
    skip "timeout 0: one record per request" "OTELGEN is not set to an executable otelgen"
elif started "timeout 0"; then
    run_cmd 30 "$OTELGEN" send --protocol grpc --file "$BENCH/traces_100.pb" -n 20 --concurrency 20 -c 1 \
        "127.0.0.1:$GRPC_PORT"
    all_true "timeout 0: 20 concurrent gRPC calls on one connection answered OK" \
        "$([ "$RC" = 0 ] && echo 0 || echo "otelgen exit $RC: $ERR")" \
        "$(grep -q 'OK=20' <<<"$OUT$ERR" && echo 0 || echo "otelgen: $OUT $ERR")"
    expect_batches "$OG_TMP/out.json" 2000 20 "timeout 0: one record per request, none merged"
    stop_daemon TERM
fi

# ---- 4: batches never mix what must stay apart ----
# Tenant a sends 3 x 100 spans, tenant b 3 x 1000, concurrently; nothing is
# full or due before SIGTERM: one batch per tenant, never a mixed one.
# Pipelines never share a batch either: case 1 above.
cfg=$OG_TMP/tenants.yaml
batch_config "$cfg" "send_batch_size: 100000" "timeout: 1h"
sed -i 's/^  otlp:$/&\n    tenant_header: X-Tenant-Id/' "$cfg"
run_cmd 10 "$OTELGATE" --validate -c "$cfg"
if [ "$RC" != 0 ]; then
    skip "two tenants never share a batch" "this build's otlp receiver has no tenant_header: $ERR"
elif started "two tenants"; then
    OUT=$OG_TMP/out.json     # run_cmd set OUT to what --validate printed
    send_in_background tenant_a 3 "$BENCH/traces_100.pb" -H 'X-Tenant-Id: a'
    send_in_background tenant_b 3 "$BENCH/traces_1000.pb" -H 'X-Tenant-Id: b'
    term_after_senders
    is "$(cat "$OG_TMP/tenant_a.codes" "$OG_TMP/tenant_b.codes" 2>/dev/null)" "3 200
3 200" "two tenants: 6 concurrent requests answered 200"
    expect_counts "3300 0 0" "two tenants: the file holds the 3300 spans sent"
    is "$(record_spans "$OUT")" "300 3000" "two tenants never share a batch: one of 300 spans (a), one of 3000 (b)"
fi

# Small requests are copied into the batch, large ones moved in as their own
# buffer (PROC_BATCH_MOVE_MIN, 4 KiB): one batch of both, interleaved, is one
# valid request holding every span (the json file exporters decode it whole).
# The pipeline fans the batch out to two exporters, which both get all of it:
# the first from the batch's chains made one piece, the second after that.
cfg=$OG_TMP/mixed.yaml
batch_config "$cfg" "send_batch_size: 100000" "timeout: 1h"
sed -i -e '/^    traces:$/,/exporters:/ s/exporters: \[file\]/exporters: [file, file\/b]/' \
    -e "s|^exporters:$|&\n  file/b:\n    path: $OG_TMP/mixed.b.json\n    flush_interval: 20ms|" "$cfg"
if [ -z "${OTELGEN:-}" ] || [ ! -x "$OTELGEN" ]; then
    skip "small and large requests in one batch" "OTELGEN is not set to an executable otelgen"
elif started "small and large requests"; then
    : >"$OG_TMP/out.json"
    send_in_background mixed_large 4
    "$OTELGEN" send --protocol grpc --spans-per-request 3 -n 40 --concurrency 40 -c 1 "127.0.0.1:$GRPC_PORT" \
        >"$OG_TMP/mixed_small.out" 2>&1 &
    senders="$senders $!"
    term_after_senders
    is "$(cat "$OG_TMP/mixed_large.codes" 2>/dev/null)/$(sed -n 's/^answers: //p' "$OG_TMP/mixed_small.out")" "4 200/OK=40" \
        "small and large: the 4 large (HTTP) and 40 small (gRPC) requests answered OK"
    is "$(record_spans "$OG_TMP/out.json")/$(record_spans "$OG_TMP/mixed.b.json")" "520/520" \
        "small and large: one batch of 40 requests of 3 spans (copied) and 4 of 100 (moved), every span in it, to both exporters"
fi

# metadata_cardinality_limit 1: each request opens a batch in pipeline a,
# then one in pipeline b, which sends a's to make room, and so on: every
# batch holds one request, though none is full or due.
cfg=$OG_TMP/card.yaml
two_pipelines_config "$cfg" "send_batch_size: 1000" "timeout: 1h" "metadata_cardinality_limit: 1"
if started "metadata_cardinality_limit"; then
    send_in_background card 3
    term_after_senders     # SIGTERM sends the one batch left open
    is "$(cat "$OG_TMP/card.codes" 2>/dev/null)" "3 200" "metadata_cardinality_limit 1: 3 requests answered 200"
    is "$(record_spans "$OUT")" "100 100 100" "metadata_cardinality_limit 1: pipeline a sent one batch per request"
    is "$(record_spans "$OUT_B")" "100 100 100" "metadata_cardinality_limit 1: pipeline b sent one batch per request"
fi

# ---- 5: configuration errors ----
cfg=$OG_TMP/bad.yaml
batch_config "$cfg" "send_batch_size: 100" "send_batch_max_size: 50"
line=$(grep -n 'send_batch_max_size' "$cfg" | cut -d: -f1)
run_cmd 10 "$OTELGATE" --validate -c "$cfg"
all_true "send_batch_max_size below send_batch_size: file:line:col error at the value, exit 1" \
    "$([ "$RC" = 1 ] && echo 0 || echo "exit $RC")" \
    "$(grep -qF "$cfg:$line:26: processors.batch.send_batch_max_size: 50 is below send_batch_size (100)" <<<"$ERR" &&
        echo 0 || echo "stderr: $ERR")"
batch_config "$cfg" "send_batch_size: 100" "send_batch_max_size: 100"
run_cmd 10 "$OTELGATE" --validate -c "$cfg"
is "$RC:$OUT" "0:configuration OK" "send_batch_max_size equal to send_batch_size is valid"
batch_config "$cfg" "timeout: -1s"
line=$(grep -n 'timeout: -1s' "$cfg" | cut -d: -f1)
run_cmd 10 "$OTELGATE" --validate -c "$cfg"
all_true "a negative timeout: file:line:col error, exit 1" \
    "$([ "$RC" = 1 ] && echo 0 || echo "exit $RC")" \
    "$(grep -qF "$cfg:$line:14: processors.batch.timeout: '-1s'" <<<"$ERR" && echo 0 || echo "stderr: $ERR")"
batch_config "$cfg"
run_cmd 10 "$OTELGATE" --print-config -c "$cfg"
for l in "    send_batch_size: 8192" "    timeout: 200ms" "    send_batch_max_size: 0" \
    "    metadata_cardinality_limit: 1000"; do
    has_line "$OUT" "$l" "batch default printed: ${l#    }"
done

# ---- 6: SIGTERM with an open batch ----
# timeout 1h and shutdown_timeout 30s: only the drain's flush can answer the
# request before the test gives up on it (10s).
cfg=$OG_TMP/term.yaml
batch_config "$cfg" "send_batch_size: 100000" "timeout: 1h"
if started "SIGTERM"; then
    curl -s --noproxy '*' --max-time 20 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/x-protobuf' \
        --data-binary "@$BENCH/traces_100.pb" "http://127.0.0.1:$HTTP_PORT/v1/traces" >"$OG_TMP/term.code" 2>/dev/null &
    client=$!
    sleep 0.5
    still=$(proc_alive "$client" && echo waiting || echo answered)
    is "$still" waiting "SIGTERM: before it, the request waits in its open batch"
    kill -TERM "$DAEMON_PID"
    wait_exit "$client" 10
    is "$(cat "$OG_TMP/term.code")" 200 "SIGTERM: the held request is answered 200"
    wait_exit "$DAEMON_PID" 10
    is "$OG_RC" 0 "SIGTERM: the daemon exits 0 once the batch is sent"
    expect_counts "100 0 0" "SIGTERM: the batch's 100 spans are in the file"
fi

# ---- 7: send_batch_max_size: flush before the limit, never split ----
# No size trigger and a long timeout: only the limit sends batches until
# SIGTERM sends the last one.
cfg=$OG_TMP/max.yaml
batch_config "$cfg" "send_batch_size: 0" "send_batch_max_size: 250" "timeout: 1h"
if started "send_batch_max_size"; then
    post /v1/traces "$BENCH/traces_1000.pb" application/x-protobuf
    is "$HTTP_CODE" 200 "send_batch_max_size 250: a request of 1000 spans goes on alone at once, answered 200"
    send_in_background max 5
    term_after_senders
    is "$(cat "$OG_TMP/max.codes" 2>/dev/null)" "5 200" "send_batch_max_size 250: 5 concurrent requests answered 200"
    is "$OG_RC" 0 "send_batch_max_size 250: exit 0 after SIGTERM"
    expect_counts "1500 0 0" "send_batch_max_size 250: the file holds the 1500 spans sent"
    is "$(record_spans "$OUT")" "100 200 200 1000" \
        "send_batch_max_size 250: 5 requests of 100 spans in batches of at most 250; the 1000 one not split"
fi

sanitizer_clean
done_testing
