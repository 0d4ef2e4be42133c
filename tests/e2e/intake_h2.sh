#!/bin/sh
# intake_h2.sh: OTLP/HTTP over HTTP/2 with prior knowledge (h2c) on the HTTP
# port, with curl --http2-prior-knowledge and nghttp: protobuf and JSON,
# gzip, every refusal of intake_http.sh, max_concurrent_streams, and a body
# over max_request_body_size refused early (with and without content-length)
# instead of buffered. Counts are read back from the file exporter, so that
# nothing accepted is missing and nothing refused is there.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/intake_lib.sh"

cfg=$OG_TMP/intake_h2.yaml
intake_config "$cfg" "max_request_body_size: 1MiB" "max_concurrent_streams: 4"
out_file=$OUT   # run_cmd sets OUT to a command's stdout: keep the path here
if ! start_daemon "$cfg"; then
    fail "otelgate starts with the otlp receiver and a file exporter"
    done_testing
    exit 0
fi
base=http://127.0.0.1:$HTTP_PORT

# h2post PATH FILE CONTENT-TYPE [CURL ARGS...]: one POST over h2c with prior
# knowledge. Sets HTTP_CODE, HTTP_BODY, HTTP_HEADERS (as http does) and
# HTTP_VERSION ("2" when HTTP/2 was used).
HTTP_VERSION=''
h2post()
{
    local path=$1 file=$2 ct=$3
    shift 3
    http POST "$base$path" --http2-prior-knowledge -w '%{http_version}\n%{http_code}' -H "Content-Type: $ct" \
        --data-binary "@$file" "$@"
    # our -w replaced http()'s: the version, a newline, the code
    HTTP_VERSION=${HTTP_CODE%%$'\n'*}
    HTTP_CODE=${HTTP_CODE##*$'\n'}
}

# run_tool SECONDS CMD...: run_cmd, but OUT (read by expect_counts) keeps the
# file exporter's path; the command's stdout is in TOOL_OUT.
TOOL_OUT=''
run_tool()
{
    run_cmd "$@"
    TOOL_OUT=$OUT
    OUT=$out_file
}

# ng PATH FILE CONTENT-TYPE [NGHTTP ARGS...]: POST with nghttp (h2c, prior
# knowledge, verbose). Sets NG_STATUSES (every :status received, space-
# separated), NG_RESETS (error codes of the RST_STREAM frames received) and
# NG_SENT (request body bytes sent, over all streams).
NG_STATUSES='' NG_RESETS='' NG_SENT=''
ng()
{
    local path=$1 file=$2 ct=$3
    shift 3
    run_tool 30 nghttp -v -n -t 20 -H ':method: POST' -H "content-type: $ct" "$@" -d "$file" "$base$path"
    NG_STATUSES=$(sed -n 's/.*recv (stream_id=[0-9]*) :status: \([0-9]*\).*/\1/p' <<<"$TOOL_OUT" | tr '\n' ' ' | sed 's/ $//')
    NG_RESETS=$(sed -n '/recv RST_STREAM frame/{n;s/.*error_code=\([A-Z_]*\).*/\1/p}' <<<"$TOOL_OUT" | tr '\n' ' ' | sed 's/ $//')
    NG_SENT=$(sed -n 's/.*send DATA frame <length=\([0-9]*\),.*/\1/p' <<<"$TOOL_OUT" | awk '{s += $1} END {print s + 0}')
}

healthy()
{
    if ! proc_alive "$DAEMON_PID"; then
        echo "otelgate is gone"
    elif ! og_health_is_200 "$DAEMON_URL"; then
        echo "the health check does not answer 200"
    else
        echo 0
    fi
}

vm_hwm_kb()
{
    sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DAEMON_PID/status" 2>/dev/null
}

# ---- accepted ----
h2post /v1/traces "$BENCH/traces_100.pb" application/x-protobuf
all_true "h2c protobuf traces: HTTP/2 200, empty protobuf answer" \
    "$([ "$HTTP_VERSION $HTTP_CODE" = "2 200" ] && echo 0 || echo "HTTP/$HTTP_VERSION $HTTP_CODE: $HTTP_BODY")" \
    "$(grep -qi '^content-type: application/x-protobuf' <<<"$HTTP_HEADERS" && echo 0 || echo "headers: $HTTP_HEADERS")" \
    "$([ -z "$HTTP_BODY" ] && echo 0 || echo "body not empty")"
h2post /v1/traces "$BENCH/traces_100.json" application/json
all_true "h2c JSON traces: HTTP/2 200 with {}" \
    "$([ "$HTTP_VERSION $HTTP_CODE" = "2 200" ] && echo 0 || echo "HTTP/$HTTP_VERSION $HTTP_CODE: $HTTP_BODY")" \
    "$([ "$HTTP_BODY" = '{}' ] && echo 0 || echo "body: $HTTP_BODY")" \
    "$(grep -qi '^content-type: application/json' <<<"$HTTP_HEADERS" && echo 0 || echo "headers: $HTTP_HEADERS")"
h2post /v1/traces "$BENCH/traces_100.pb.gz" application/x-protobuf -H 'Content-Encoding: gzip'
is "$HTTP_VERSION $HTTP_CODE" "2 200" "h2c gzip protobuf traces: 200"
h2post /v1/metrics "$BENCH/metrics_100.pb" application/x-protobuf
is "$HTTP_VERSION $HTTP_CODE" "2 200" "h2c protobuf metrics: 200"
h2post /v1/metrics "$BENCH/metrics_100.json" application/json
is "$HTTP_VERSION $HTTP_CODE" "2 200" "h2c JSON metrics: 200"
h2post /v1/logs "$BENCH/logs_100.pb" application/x-protobuf
is "$HTTP_VERSION $HTTP_CODE" "2 200" "h2c protobuf logs: 200"
h2post /v1/logs "$BENCH/logs_100.json" application/json
is "$HTTP_VERSION $HTTP_CODE" "2 200" "h2c JSON logs: 200"
h2post /v1/logs "$BENCH/logs_100.pb.gz" application/x-protobuf -H 'Content-Encoding: gzip'
is "$HTTP_VERSION $HTTP_CODE" "2 200" "h2c gzip protobuf logs: 200"
ng /v1/traces "$BENCH/traces_100.pb" application/x-protobuf
is "$NG_STATUSES" 200 "nghttp protobuf traces: 200"
ng /v1/metrics "$BENCH/metrics_100.pb" application/x-protobuf --no-content-length
is "$NG_STATUSES" 200 "nghttp protobuf metrics without content-length: 200"
expect_counts "400 300 300" "file exporter holds every accepted span, point and log record"

# ---- refused, with the status the OTLP specification gives ----
check_refused()   # FILE CT STATUS DESC [CURL ARGS...]
{
    local file=$1 ct=$2 want=$3 desc=$4
    shift 4
    h2post /v1/traces "$file" "$ct" "$@"
    all_true "$desc" \
        "$([ "$HTTP_VERSION $HTTP_CODE" = "2 $want" ] && echo 0 || echo "got HTTP/$HTTP_VERSION $HTTP_CODE: $HTTP_BODY")" \
        "$(healthy)"
}
check_refused "$BENCH/bad/truncated_traces_100.pb" application/x-protobuf 400 "h2c truncated protobuf: 400"
is "$(rpc_status_code)" 3 "400 carries a google.rpc.Status with INVALID_ARGUMENT"
check_refused "$BENCH/bad/invalid_wire_type_7.pb" application/x-protobuf 400 "h2c wire type 7: 400"
check_refused "$BENCH/bad/length_overrun.pb" application/x-protobuf 400 "h2c length overrun: 400"
check_refused "$BENCH/bad/wrong_wire_type_span_kind.pb" application/x-protobuf 400 "h2c known field with the wrong wire type: 400"
check_refused "$BENCH/bad/invalid_syntax.json" application/json 400 "h2c invalid JSON: 400"
contains "$HTTP_BODY" '"code":3' "JSON error answer is a JSON google.rpc.Status"
check_refused "$BENCH/bad/base64_ids.json" application/json 400 "h2c base64 ids: 400"
printf '' >"$OG_TMP/empty.json"
check_refused "$OG_TMP/empty.json" application/json 400 "h2c 0-byte JSON body: 400"
check_refused "$BENCH/bad/empty.pb" application/x-protobuf 200 "h2c empty protobuf request: 200"
check_refused "$BENCH/bad/empty_object.json" application/json 200 "h2c {} JSON request: 200"
check_refused "$BENCH/bad/gzip_bomb_65MiB.pb.gz" application/x-protobuf 413 "h2c gzip bomb over max_request_body_size: 413" \
    -H 'Content-Encoding: gzip'
head -c 3000 "$BENCH/traces_100.pb" >"$OG_TMP/not.gz"
check_refused "$OG_TMP/not.gz" application/x-protobuf 400 "h2c bad gzip: 400" -H 'Content-Encoding: gzip'
check_refused "$BENCH/traces_100.pb" application/x-protobuf 415 "h2c unknown Content-Encoding: 415" -H 'Content-Encoding: br'
check_refused "$BENCH/traces_100.pb" text/plain 415 "h2c wrong content type: 415"
http POST "$base/v1/spans" --http2-prior-knowledge -H 'Content-Type: application/x-protobuf' \
    --data-binary "@$BENCH/traces_100.pb"
is "$HTTP_CODE" 404 "h2c unknown path: 404"
http GET "$base/v1/traces" --http2-prior-knowledge
all_true "h2c GET: 405 with allow: POST" \
    "$([ "$HTTP_CODE" = 405 ] && echo 0 || echo "status $HTTP_CODE")" \
    "$(grep -qi '^allow: POST' <<<"$HTTP_HEADERS" && echo 0 || echo "headers: $HTTP_HEADERS")"
hdrs=()
for i in $(seq 1 120); do hdrs+=(-H "x-filler-$i: $i"); done
ng /v1/traces "$BENCH/traces_100.pb" application/x-protobuf "${hdrs[@]}"
all_true "h2c more than max_headers headers: 431 or the stream reset, never accepted" \
    "$([ "$NG_STATUSES" = 431 ] || { [ -z "$NG_STATUSES" ] && [ -n "$NG_RESETS" ]; } && echo 0 ||
        echo "statuses '$NG_STATUSES', resets '$NG_RESETS'")" \
    "$(healthy)"
expect_counts "400 300 300" "refused requests added nothing"

# ---- a 5 MiB body under a 1 MiB limit: answered early, not buffered ----
# With nghttp: curl 7.88 drops an answer that comes before the end of its
# upload when RST_STREAM(NO_ERROR) follows it (RFC 9113 8.1 allows both).
# 100 x traces_100.pb: a valid 5,383,000-byte request (10000 spans)
for i in $(seq 100); do cat "$BENCH/traces_100.pb"; done >"$OG_TMP/5mib.pb"
hwm_before=$(vm_hwm_kb)
ng /v1/traces "$OG_TMP/5mib.pb" application/x-protobuf
all_true "5 MiB with content-length: 413 before the body, the stream reset (NO_ERROR), under 2 MiB sent" \
    "$([ "$NG_STATUSES" = 413 ] && echo 0 || echo "statuses '$NG_STATUSES'")" \
    "$([ "$NG_RESETS" = NO_ERROR ] && echo 0 || echo "resets '$NG_RESETS'")" \
    "$([ "$NG_SENT" -lt 2097152 ] && echo 0 || echo "the client sent $NG_SENT bytes")" \
    "$(healthy)"
ng /v1/traces "$OG_TMP/5mib.pb" application/x-protobuf --no-content-length
all_true "5 MiB without content-length: 413 once over the limit, the stream reset (NO_ERROR), under 2 MiB sent" \
    "$([ "$NG_STATUSES" = 413 ] && echo 0 || echo "statuses '$NG_STATUSES'")" \
    "$([ "$NG_RESETS" = NO_ERROR ] && echo 0 || echo "resets '$NG_RESETS'")" \
    "$([ "$NG_SENT" -lt 2097152 ] && echo 0 || echo "the client sent $NG_SENT bytes")" \
    "$(healthy)"
hwm_after=$(vm_hwm_kb)
diag "otelgate VmHWM: ${hwm_before:-?} kB before the 5 MiB bodies, ${hwm_after:-?} kB after"
# A buffered 5 MiB body adds >= 5257 kB; ASan's quarantine adds ~3.5 MiB of
# its own for the ~1.6 MiB the daemon reads before the reset.
hwm_limit=4096
grep -q __asan_init "$OTELGATE" && hwm_limit=6144
all_true "the daemon's peak RSS grew by less than $((hwm_limit / 1024)) MiB (the 5 MiB bodies were not buffered)" \
    "$([ -n "$hwm_before" ] && [ -n "$hwm_after" ] && [ $((hwm_after - hwm_before)) -lt $hwm_limit ] && echo 0 ||
        echo "VmHWM ${hwm_before:-?} kB before, ${hwm_after:-?} kB after")"
h2post /v1/traces "$BENCH/traces_100.pb" application/x-protobuf
is "$HTTP_VERSION $HTTP_CODE" "2 200" "a request after the refusals: 200"
expect_counts "500 300 300" "the refused 5 MiB bodies added nothing"

# ---- max_concurrent_streams: 4 ----
# A client that knows the limit queues: nghttp -M 4 takes it as already
# received, so 20 streams go at most 4 at a time; all must complete.
ng /v1/traces "$BENCH/traces_100.pb" application/x-protobuf -m 20 -M 4
all_true "max_concurrent_streams 4 and a 1 MiB stream window advertised; 20 streams queued by the client: 20 x 200" \
    "$(grep -qF '[SETTINGS_MAX_CONCURRENT_STREAMS(0x03):4]' <<<"$TOOL_OUT" && echo 0 || echo "no SETTINGS_MAX_CONCURRENT_STREAMS 4")" \
    "$(grep -qF '[SETTINGS_INITIAL_WINDOW_SIZE(0x04):1048576]' <<<"$TOOL_OUT" && echo 0 ||
        echo "stream window not max_request_body_size (1 MiB)")" \
    "$([ "$NG_STATUSES" = "$(printf '200 %.0s' $(seq 20) | sed 's/ $//')" ] && echo 0 ||
        echo "statuses '$NG_STATUSES', resets '$NG_RESETS', exit $RC")"
expect_counts "2500 300 300" "the 20 queued streams added 2000 spans"
# nghttp -m 20 as is: its 20 HEADERS leave before the server's SETTINGS
# arrive. The server may refuse the streams over its limit, but only with
# REFUSED_STREAM (unprocessed, safe to retry), and must process the others.
ng /v1/traces "$BENCH/traces_100.pb" application/x-protobuf -m 20
ok200=$(wc -w <<<"${NG_STATUSES//[!0-9 ]/}")
refused=$(grep -o REFUSED_STREAM <<<"$NG_RESETS" | wc -l)
all_true "nghttp -m 20 before SETTINGS: each stream 200 or REFUSED_STREAM, at least 4 answered" \
    "$([ "$NG_STATUSES" = "$(printf '200 %.0s' $(seq "$ok200") | sed 's/ $//')" ] && echo 0 || echo "statuses '$NG_STATUSES'")" \
    "$([ $((ok200 + refused)) = 20 ] && [ "$(wc -w <<<"$NG_RESETS")" = "$refused" ] && echo 0 ||
        echo "$ok200 answered, resets '$NG_RESETS'")" \
    "$([ "$ok200" -ge 4 ] && echo 0 || echo "only $ok200 answered")"
diag "nghttp -m 20 without -M: $ok200 streams answered 200, $refused refused (REFUSED_STREAM)"
expect_counts "$((2500 + ok200 * 100)) 300 300" "exactly the answered streams' spans arrived"
all_true "otelgate healthy after the concurrency cases" "$(healthy)"

stop_daemon TERM
is "$DAEMON_RC" 0 "SIGTERM: exit 0"
matches "$(daemon_log)" "otlp: stopped accepted_spans=$((2500 + ok200 * 100)) accepted_metric_points=300 accepted_log_records=300" \
    "the receiver's counters match what arrived"
sanitizer_clean
done_testing
