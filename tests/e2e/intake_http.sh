#!/bin/sh
# intake_http.sh: OTLP/HTTP with curl, as SDKs send it: protobuf and JSON,
# gzip, chunked bodies, keep-alive, 100-continue, pipelining, h2c; every
# answer of the OTLP specification's table; counts read back from the file
# exporter so that nothing accepted is missing and nothing refused is there.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/intake_lib.sh"

cfg=$OG_TMP/intake.yaml
intake_config "$cfg" "max_request_body_size: 2MiB" "max_json_body_size: 1MiB"
if ! start_daemon "$cfg"; then
    fail "otelgate starts with the otlp receiver and a file exporter"
    done_testing
    exit 0
fi
base=http://127.0.0.1:$HTTP_PORT

# ---- accepted ----
post /v1/traces "$BENCH/traces_100.pb" application/x-protobuf
all_true "protobuf traces: 200, empty protobuf answer" \
    "$([ "$HTTP_CODE" = 200 ] && echo 0 || echo "status $HTTP_CODE: $HTTP_BODY")" \
    "$(grep -qi '^content-type: application/x-protobuf' <<<"$HTTP_HEADERS" && echo 0 || echo "headers: $HTTP_HEADERS")" \
    "$([ -z "$HTTP_BODY" ] && echo 0 || echo "body not empty")"
post /v1/traces "$BENCH/traces_100.json" application/json
all_true "JSON traces: 200 with {}" \
    "$([ "$HTTP_CODE" = 200 ] && echo 0 || echo "status $HTTP_CODE: $HTTP_BODY")" \
    "$([ "$HTTP_BODY" = '{}' ] && echo 0 || echo "body: $HTTP_BODY")" \
    "$(grep -qi '^content-type: application/json' <<<"$HTTP_HEADERS" && echo 0 || echo "headers: $HTTP_HEADERS")"
post /v1/traces "$BENCH/traces_100.pb.gz" application/x-protobuf -H 'Content-Encoding: gzip'
is "$HTTP_CODE" 200 "gzip protobuf traces: 200"
post /v1/traces "$BENCH/traces_100.pb" 'application/x-protobuf; charset=utf-8' -H 'Transfer-Encoding: chunked'
is "$HTTP_CODE" 200 "chunked protobuf body: 200"
post /v1/traces "$BENCH/traces_100.pb" application/x-protobuf -H 'Expect: 100-continue'
is "$HTTP_CODE" 200 "Expect: 100-continue: 200"
post /v1/metrics "$BENCH/metrics_100.pb" application/x-protobuf
is "$HTTP_CODE" 200 "protobuf metrics: 200"
post /v1/metrics "$BENCH/metrics_100.json" application/json
is "$HTTP_CODE" 200 "JSON metrics: 200"
post /v1/logs "$BENCH/logs_100.pb" application/x-protobuf
is "$HTTP_CODE" 200 "protobuf logs: 200"
post /v1/logs "$BENCH/logs_100.json" application/json
is "$HTTP_CODE" 200 "JSON logs: 200"
post /v1/logs "$BENCH/logs_100.pb.gz" application/x-protobuf -H 'Content-Encoding: gzip'
is "$HTTP_CODE" 200 "gzip protobuf logs: 200"

# keep-alive: three requests, one connection
conns=$(curl -s --noproxy '*' --max-time 10 -o /dev/null -w '%{http_code}:%{num_connects} ' \
    -H 'Content-Type: application/x-protobuf' --data-binary "@$BENCH/traces_100.pb" "$base/v1/traces" \
    --next -s -o /dev/null -w '%{http_code}:%{num_connects} ' \
    -H 'Content-Type: application/x-protobuf' --data-binary "@$BENCH/traces_100.pb" "$base/v1/traces" \
    --next -s -o /dev/null -w '%{http_code}:%{num_connects}' \
    -H 'Content-Type: application/json' --data-binary "@$BENCH/traces_100.json" "$base/v1/traces")
is "$conns" "200:1 200:0 200:0" "keep-alive: three requests on one connection"

# HTTP/2 with prior knowledge on the same port
h2=$(curl -s --noproxy '*' --max-time 5 --http2-prior-knowledge -o /dev/null -w '%{http_version} %{http_code}' \
    -H 'Content-Type: application/x-protobuf' --data-binary "@$BENCH/traces_100.pb" "$base/v1/traces")
is "$h2" "2 200" "h2c prior knowledge on the HTTP port: 200"

# traces: pb, json, gz, chunked, expect, 3 keep-alive, h2 = 9 x 100
expect_counts "900 200 300" "file exporter holds every accepted span, point and log record"

# ---- refused, with the status the OTLP specification gives ----
check_refused()   # FILE CT STATUS DESC [CURL ARGS...]
{
    local file=$1 ct=$2 want=$3 desc=$4
    shift 4
    post /v1/traces "$file" "$ct" "$@"
    is "$HTTP_CODE" "$want" "$desc"
}
check_refused "$BENCH/bad/truncated_traces_100.pb" application/x-protobuf 400 "truncated protobuf: 400"
is "$(rpc_status_code)" 3 "400 carries a google.rpc.Status with INVALID_ARGUMENT"
check_refused "$BENCH/bad/invalid_wire_type_7.pb" application/x-protobuf 400 "wire type 7: 400"
check_refused "$BENCH/bad/length_overrun.pb" application/x-protobuf 400 "length overrun: 400"
check_refused "$BENCH/bad/wrong_wire_type_span_kind.pb" application/x-protobuf 400 "known field with the wrong wire type: 400"
check_refused "$BENCH/bad/invalid_syntax.json" application/json 400 "invalid JSON: 400"
contains "$HTTP_BODY" '"code":3' "JSON error answer is a JSON google.rpc.Status"
check_refused "$BENCH/bad/base64_ids.json" application/json 400 "base64 ids: 400"
contains "$HTTP_BODY" "hex" "base64 ids: the message says ids must be hex"
printf '' >"$OG_TMP/empty.json"
check_refused "$OG_TMP/empty.json" application/json 400 "0-byte JSON body: 400"
python3 -c 'import sys; sys.stdout.write("{\"resourceSpans\":[]" + " " * 1100000 + "}")' >"$OG_TMP/big.json"
check_refused "$OG_TMP/big.json" application/json 413 "JSON body over max_json_body_size: 413"
check_refused "$BENCH/bad/empty.pb" application/x-protobuf 200 "empty protobuf request: 200"
check_refused "$BENCH/bad/empty_object.json" application/json 200 "{} JSON request: 200"
check_refused "$BENCH/bad/gzip_bomb_65MiB.pb.gz" application/x-protobuf 413 "gzip bomb over max_request_body_size: 413" \
    -H 'Content-Encoding: gzip'
head -c 3000 "$BENCH/traces_100.pb" >"$OG_TMP/not.gz"
check_refused "$OG_TMP/not.gz" application/x-protobuf 400 "bad gzip: 400" -H 'Content-Encoding: gzip'
check_refused "$BENCH/traces_100.pb" application/x-protobuf 415 "unknown Content-Encoding: 415" -H 'Content-Encoding: br'
check_refused "$BENCH/traces_100.pb" text/plain 415 "wrong content type: 415"
head -c 2200000 /dev/zero >"$OG_TMP/big.pb"
check_refused "$OG_TMP/big.pb" application/x-protobuf 413 "body over max_request_body_size (Content-Length): 413"
check_refused "$OG_TMP/big.pb" application/x-protobuf 413 "body over max_request_body_size (chunked): 413" \
    -H 'Transfer-Encoding: chunked'
http POST "$base/v1/spans" -H 'Content-Type: application/x-protobuf' --data-binary "@$BENCH/traces_100.pb"
is "$HTTP_CODE" 404 "unknown path: 404"
http GET "$base/v1/traces"
all_true "GET: 405 with Allow: POST" \
    "$([ "$HTTP_CODE" = 405 ] && echo 0 || echo "status $HTTP_CODE")" \
    "$(grep -qi '^allow: POST' <<<"$HTTP_HEADERS" && echo 0 || echo "headers: $HTTP_HEADERS")"
hdrs=()
for i in $(seq 1 120); do hdrs+=(-H "X-Filler-$i: $i"); done
post /v1/traces "$BENCH/traces_100.pb" application/x-protobuf "${hdrs[@]}"
is "$HTTP_CODE" 431 "more than max_headers headers: 431"
post /v1/traces "$BENCH/traces_100.pb" application/x-protobuf -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)"
is "$HTTP_CODE" 431 "headers over max_header_bytes: 431"
post /v1/traces "$BENCH/traces_100.pb" application/x-protobuf -H "Content-Type: $(head -c 300 /dev/zero | tr '\0' a)"
is "$HTTP_CODE" 431 "an over-long Content-Type: 431"

# pipelined requests are answered in order; a malformed one closes only its connection
pipelined=$(python3 - "$HTTP_PORT" "$BENCH/traces_100.pb" <<'PY'
import re, socket, sys
body = open(sys.argv[2], "rb").read()
def req(path):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(req(b"/v1/traces") + req(b"/nope") + req(b"/v1/traces") + b"GARBAGE\r\n\r\n")
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
print(" ".join(m.decode() for m in re.findall(rb"(?m)^HTTP/1\.1 (\d{3}) ", data)))
PY
)
is "$pipelined" "200 404 200 400" "pipelined requests answered in order, then 400 for garbage"
post /v1/traces "$BENCH/traces_100.pb" application/x-protobuf
is "$HTTP_CODE" 200 "other connections unaffected by a malformed one"

expect_counts "1200 200 300" "refused requests added nothing; the pipelined and the last request added 300 spans"

stop_daemon TERM
is "$DAEMON_RC" 0 "SIGTERM: exit 0"
matches "$(daemon_log)" "otlp: stopped accepted_spans=1200 accepted_metric_points=200 accepted_log_records=300" \
    "the receiver's counters match what arrived"
sanitizer_clean
done_testing
