#!/bin/sh
# intake_grpc.sh: OTLP/gRPC as clients send it: Debian's grpcio with stubs
# generated from the OTLP .proto files (the three Export methods, gzip, many
# calls on one channel, concurrent calls, raw messages for every status the
# receiver answers), nghttp for the framing (gRPC prefixes, trailers, gzip
# bomb, wrong content type), curl for HTTP/1.1 on the gRPC port, and h2load
# for 2000 calls on 4 connections. Counts are read back from the file
# exporters, so that nothing accepted is missing and nothing refused is there.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/intake_lib.sh"
. "$(dirname "$0")/grpc_lib.sh"

CLIENT=$(cd "$(dirname "$0")" && pwd)/grpc_client.py
TRACES=/opentelemetry.proto.collector.trace.v1.TraceService/Export
METRICS=/opentelemetry.proto.collector.metrics.v1.MetricsService/Export

# grpc_config PATH: the otlp receiver on gRPC for every signal into the json
# file exporter ($OUT); otlp/traces_only, a receiver only the traces pipeline
# has; otlp/bulk, for h2load, into a proto file exporter ($BULK_OUT), so that
# 200000 spans are counted without decoding 200 MiB of JSON. Sets
# HEALTH_PORT, GRPC_PORT, TRACES_ONLY_PORT, BULK_PORT, OUT and BULK_OUT.
grpc_config()
{
    HEALTH_PORT=$(free_port) GRPC_PORT=$(free_port) TRACES_ONLY_PORT=$(free_port) BULK_PORT=$(free_port)
    OUT=$OG_TMP/out.json
    BULK_OUT=$OG_TMP/bulk.pb
    write_file "$1" <<EOF
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$GRPC_PORT
  otlp/traces_only:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$TRACES_ONLY_PORT
  otlp/bulk:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$BULK_PORT
exporters:
  file:
    path: $OUT
    flush_interval: 20ms
  file/bulk:
    path: $BULK_OUT
    format: proto
    flush_interval: 20ms
    # h2load does not retry: a buffer that fills under a slow disk would turn
    # into UNAVAILABLE answers it counts as success (seen on a loaded box)
    max_buffer: 1GiB
extensions:
  health_check:
    endpoint: 127.0.0.1:$HEALTH_PORT
service:
  extensions: [health_check]
  workers: 2
  pipelines:
    traces:
      receivers: [otlp, otlp/traces_only]
      exporters: [file]
    metrics:
      receivers: [otlp]
      exporters: [file]
    logs:
      receivers: [otlp]
      exporters: [file]
    traces/bulk:
      receivers: [otlp/bulk]
      exporters: [file/bulk]
EOF
}

cfg=$OG_TMP/grpc.yaml
grpc_config "$cfg"
out_file=$OUT   # run_cmd sets OUT to a command's stdout: keep the path here

# run_tool SECONDS CMD...: run_cmd, but OUT (read by expect_counts) keeps the
# file exporter's path; the command's stdout is in TOOL_OUT.
TOOL_OUT=''
run_tool()
{
    run_cmd "$@"
    TOOL_OUT=$OUT
    OUT=$out_file
}

# client PORT COMMAND ARGS...: grpc_client.py against 127.0.0.1:PORT; sets
# CODES (its one line of status names) and RC.
CODES=''
client()
{
    local port=$1
    shift
    run_tool 40 "$PY" "$CLIENT" "$OG_TMP/stubs" "127.0.0.1:$port" "$@"
    CODES=$TOOL_OUT
}

# healthy: "0" when the daemon still runs and its health check answers 200,
# else a diagnostic line (an argument for all_true).
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

# expect_status GOT WANT DESC: one case: the status, and the daemon healthy after.
expect_status()
{
    all_true "$3" \
        "$([ "$1" = "$2" ] && echo 0 || printf 'expected %s, got %s (exit %s)\n%s' "$2" "${1:-nothing}" "$RC" "$ERR")" \
        "$(healthy)"
}

# ngcall PORT PATH FILE [NGHTTP ARGS...]: one POST with nghttp (h2c, prior
# knowledge), content-type $NG_CT (application/grpc when unset). Sets
# NG_STATUS (:status), NG_GRPC (grpc-status, "none" when absent), NG_MESSAGE
# (grpc-message) and NG_DATA (lengths of the DATA frames received).
NG_STATUS='' NG_GRPC='' NG_MESSAGE='' NG_DATA=''
ngcall()
{
    local port=$1 path=$2 file=$3
    shift 3
    run_tool 20 nghttp -v -n -t 10 -H ':method: POST' -H "content-type: ${NG_CT:-application/grpc}" -H 'te: trailers' \
        "$@" -d "$file" "http://127.0.0.1:$port$path"
    NG_STATUS=$(sed -n 's/.*recv (stream_id=[0-9]*) :status: \([0-9]*\).*/\1/p' <<<"$TOOL_OUT" | tail -n 1)
    NG_GRPC=$(sed -n 's/.*recv (stream_id=[0-9]*) grpc-status: \([0-9]*\).*/\1/p' <<<"$TOOL_OUT" | tail -n 1)
    NG_MESSAGE=$(sed -n 's/.*recv (stream_id=[0-9]*) grpc-message: //p' <<<"$TOOL_OUT" | tail -n 1)
    NG_DATA=$(sed -n 's/.*recv DATA frame <length=\([0-9]*\), .*/\1/p' <<<"$TOOL_OUT" | tr '\n' ' ' | sed 's/ $//')
    : "${NG_STATUS:=none}" "${NG_GRPC:=none}"
}

# bulk_spans: spans in the proto file exporter's output (4-byte big-endian
# length + ExportTraceServiceRequest per request), by walking the wire format.
bulk_spans()
{
    python3 - "$BULK_OUT" <<'PY'
import sys
def fields(b, start, end):
    i = start
    while i < end:
        key = 0; shift = 0
        while True:
            c = b[i]; i += 1
            key |= (c & 0x7f) << shift; shift += 7
            if c < 0x80:
                break
        wt = key & 7
        if wt == 2:
            n = 0; shift = 0
            while True:
                c = b[i]; i += 1
                n |= (c & 0x7f) << shift; shift += 7
                if c < 0x80:
                    break
            yield key >> 3, i, i + n
            i += n
        elif wt == 0:
            while b[i] & 0x80:
                i += 1
            i += 1
        elif wt == 1:
            i += 8
        elif wt == 5:
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
try:
    b = open(sys.argv[1], "rb").read()
except OSError:
    b = b""
spans = pos = 0
while pos + 4 <= len(b):
    n = int.from_bytes(b[pos:pos + 4], "big")
    pos += 4
    for f, s, e in fields(b, pos, pos + n):               # ResourceSpans
        if f == 1:
            for f2, s2, e2 in fields(b, s, e):            # ScopeSpans
                if f2 == 2:
                    spans += sum(1 for f3, _, _ in fields(b, s2, e2) if f3 == 2)
    pos += n
print(spans)
PY
}

if ! start_daemon "$cfg"; then
    fail "otelgate starts with three otlp gRPC receivers and two file exporters"
    done_testing
    exit 0
fi

# ---- stubs: the 8 OTLP .proto files through grpc_tools.protoc ----
grpc_stubs

# ---- grpcio: the generated stubs ----
client "$GRPC_PORT" export traces "$BENCH/traces_100.pb"
expect_status "$CODES" OK "TraceService/Export of traces_100 through the stub: OK"
expect_counts "100 0 0" "the file exporter holds the 100 spans"
client "$GRPC_PORT" export metrics "$BENCH/metrics_100.pb"
expect_status "$CODES" OK "MetricsService/Export of metrics_100 through the stub: OK"
expect_counts "100 100 0" "the file exporter holds the 100 data points"
client "$GRPC_PORT" export logs "$BENCH/logs_100.pb"
expect_status "$CODES" OK "LogsService/Export of logs_100 through the stub: OK"
expect_counts "100 100 100" "the file exporter holds the 100 log records"

# gzip: the trace shows the message really went compressed
GRPC_VERBOSITY=debug GRPC_TRACE=http client "$GRPC_PORT" export traces "$BENCH/traces_100.pb" gzip
all_true "grpc.Compression.Gzip (grpc-encoding: gzip): OK" \
    "$([ "$CODES" = OK ] && echo 0 || echo "got ${CODES:-nothing} (exit $RC)")" \
    "$(grep -q 'grpc-encoding: gzip' <<<"$ERR" && echo 0 || echo "the client did not send grpc-encoding: gzip")" \
    "$(healthy)"
expect_counts "200 100 100" "the gzip call added 100 spans"

client "$GRPC_PORT" sequential metrics "$BENCH/metrics_100.pb" 5
expect_status "$CODES" "OK OK OK OK OK" "5 calls one after the other on one channel: all OK"
client "$GRPC_PORT" concurrent logs "$BENCH/logs_100.pb" 16
expect_status "$CODES" "$(printf 'OK %.0s' $(seq 16) | sed 's/ $//')" "16 concurrent calls (futures) on one channel: all OK"
expect_counts "200 600 1700" "the file exporter holds the 5 x 100 points and 16 x 100 records"

# ---- grpcio: raw messages, every refusal ----
client "$GRPC_PORT" raw "$TRACES" "$BENCH/bad/truncated_traces_100.pb"
expect_status "$CODES" INVALID_ARGUMENT "truncated message: INVALID_ARGUMENT, daemon healthy"
client "$GRPC_PORT" raw "$TRACES" "$BENCH/bad/invalid_wire_type_7.pb"
expect_status "$CODES" INVALID_ARGUMENT "wire type 7: INVALID_ARGUMENT, daemon healthy"
client "$GRPC_PORT" raw "$TRACES" "$BENCH/bad/length_overrun.pb"
expect_status "$CODES" INVALID_ARGUMENT "length overrun inside the message: INVALID_ARGUMENT, daemon healthy"
client "$GRPC_PORT" raw "$TRACES" "$BENCH/bad/wrong_wire_type_span_kind.pb"
expect_status "$CODES" INVALID_ARGUMENT "known field with the wrong wire type: INVALID_ARGUMENT (as OTLP/HTTP's 400)"
client "$GRPC_PORT" raw "$TRACES" "$BENCH/bad/empty.pb"
expect_status "$CODES" OK "empty message (a valid empty request): OK"
# 100 x traces_100.pb: one valid 5,383,000-byte request (10000 spans) > 4 MiB
client "$GRPC_PORT" raw_repeat "$TRACES" "$BENCH/traces_100.pb" 100
expect_status "$CODES" RESOURCE_EXHAUSTED "a 5 MiB message over max_recv_msg_size_mib 4: RESOURCE_EXHAUSTED"
client "$GRPC_PORT" raw /opentelemetry.proto.collector.trace.v1.TraceService/Exports "$BENCH/traces_100.pb"
expect_status "$CODES" UNIMPLEMENTED "unknown method: UNIMPLEMENTED"
client "$GRPC_PORT" raw /opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export "$BENCH/bad/empty.pb"
expect_status "$CODES" UNIMPLEMENTED "unknown service: UNIMPLEMENTED"
client "$TRACES_ONLY_PORT" export metrics "$BENCH/metrics_100.pb"
expect_status "$CODES" UNIMPLEMENTED "metrics to a receiver only a traces pipeline has: UNIMPLEMENTED"
client "$TRACES_ONLY_PORT" raw "$METRICS" "$BENCH/bad/empty.pb"
expect_status "$CODES" UNIMPLEMENTED "an empty metrics request there too: UNIMPLEMENTED"
client "$TRACES_ONLY_PORT" export traces "$BENCH/traces_100.pb"
expect_status "$CODES" OK "traces to that receiver: OK"
expect_counts "300 600 1700" "refused calls added nothing; the traces-only receiver's 100 spans arrived"

# ---- nghttp: the framing as bytes ----
ngcall "$GRPC_PORT" "$TRACES" "$BENCH/traces_100.grpc"
all_true "nghttp traces_100.grpc: :status 200, one 5-byte response message, grpc-status 0 in the trailers" \
    "$([ "$NG_STATUS" = 200 ] && echo 0 || echo ":status $NG_STATUS")" \
    "$([ "$NG_DATA" = 5 ] && echo 0 || echo "DATA frames: ${NG_DATA:-none}")" \
    "$([ "$NG_GRPC" = 0 ] && echo 0 || echo "grpc-status $NG_GRPC $NG_MESSAGE")" \
    "$(grep -qE 'recv \(stream_id=[0-9]+\) grpc-status: 0' <<<"$(sed -n '/recv DATA frame/,$p' <<<"$TOOL_OUT")" &&
        echo 0 || echo "grpc-status not after the message (not in trailers)")"
# A stream's window is the largest message (4 MiB and its 5-byte prefix): a client sends a whole message
# without waiting for a WINDOW_UPDATE
all_true "stream window advertised: max_recv_msg_size_mib 4 + 5 bytes" \
    "$(grep -qF '[SETTINGS_INITIAL_WINDOW_SIZE(0x04):4194309]' <<<"$TOOL_OUT" && echo 0 ||
        echo "$(grep -o 'SETTINGS_INITIAL_WINDOW_SIZE[^]]*' <<<"$TOOL_OUT" | head -1)")"
{ printf '\001'; "$PY" -c 'import sys; sys.stdout.buffer.write(int(sys.argv[1]).to_bytes(4, "big"))' \
    "$(stat -c %s "$BENCH/traces_100.pb.gz")"; cat "$BENCH/traces_100.pb.gz"; } >"$OG_TMP/traces_100.gz.grpc"
ngcall "$GRPC_PORT" "$TRACES" "$OG_TMP/traces_100.gz.grpc" -H 'grpc-encoding: gzip'
is "$NG_GRPC" 0 "nghttp compressed message (flag 1, grpc-encoding: gzip): grpc-status 0"
ngcall "$GRPC_PORT" "$TRACES" "$BENCH/bad/length_overrun.grpc"
expect_status "$NG_GRPC" 3 "nghttp length_overrun.grpc (prefix says 1 MiB, 1000 bytes): grpc-status 3"
ngcall "$GRPC_PORT" "$TRACES" "$BENCH/bad/empty.grpc"
expect_status "$NG_GRPC" 0 "nghttp empty.grpc: grpc-status 0"
ngcall "$GRPC_PORT" "$TRACES" "$OG_TMP/traces_100.gz.grpc"
expect_status "$NG_GRPC" 13 "nghttp compressed flag without grpc-encoding: grpc-status 13 (INTERNAL)"
vm_hwm_kb()
{
    sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DAEMON_PID/status" 2>/dev/null
}
hwm_before=$(vm_hwm_kb)
ngcall "$GRPC_PORT" "$TRACES" "$BENCH/bad/gzip_bomb_65MiB.grpc" -H 'grpc-encoding: gzip'
expect_status "$NG_GRPC" 8 "nghttp gzip bomb (65 MiB of zeros): grpc-status 8 (RESOURCE_EXHAUSTED)"
hwm=$(vm_hwm_kb)
diag "otelgate VmHWM: ${hwm_before:-?} kB before the gzip bomb, ${hwm:-?} kB after"
if grep -q __asan_init "$OTELGATE"; then
    # ASan's quarantine keeps freed memory: its RSS grows with every request
    all_true "the bomb was not inflated: peak RSS (VmHWM) grew by less than 32 MiB (ASan build)" \
        "$([ -n "$hwm_before" ] && [ -n "$hwm" ] && [ $((hwm - hwm_before)) -lt 32768 ] && echo 0 ||
            echo "VmHWM ${hwm_before:-?} kB before, ${hwm:-?} kB after")"
else
    all_true "the bomb was not inflated: peak RSS (VmHWM) below 64 MiB" \
        "$([ -n "$hwm" ] && [ "$hwm" -lt 65536 ] && echo 0 || echo "VmHWM ${hwm:-unknown} kB")"
fi
NG_CT=text/plain ngcall "$GRPC_PORT" "$TRACES" "$BENCH/traces_100.grpc"
all_true "nghttp content-type text/plain: HTTP 415, no grpc-status" \
    "$([ "$NG_STATUS" = 415 ] && echo 0 || echo ":status $NG_STATUS")" \
    "$([ "$NG_GRPC" = none ] && echo 0 || echo "grpc-status $NG_GRPC")" \
    "$(healthy)"
expect_counts "500 600 1700" "nghttp: the two accepted calls added 200 spans, the refused ones nothing"

# ---- HTTP/1.1 on the gRPC port ----
http POST "http://127.0.0.1:$GRPC_PORT$TRACES" --http1.1 -H 'Content-Type: application/grpc' \
    --data-binary "@$BENCH/traces_100.grpc"
all_true "HTTP/1.1 request on the gRPC port: a readable 505 that says h2c, Connection: close" \
    "$([ "$HTTP_CODE" = 505 ] && echo 0 || echo "status $HTTP_CODE")" \
    "$(grep -q h2c <<<"$HTTP_BODY" && echo 0 || echo "body: $HTTP_BODY")" \
    "$(grep -qi '^connection: close' <<<"$HTTP_HEADERS" && echo 0 || echo "headers: $HTTP_HEADERS")" \
    "$(healthy)"
# the same on a socket: after the answer, nothing but the close
h1=$(python3 - "$GRPC_PORT" "$BENCH/traces_100.grpc" <<'PY'
import re, socket, sys, time
body = open(sys.argv[2], "rb").read()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"POST /opentelemetry.proto.collector.trace.v1.TraceService/Export HTTP/1.1\r\nHost: x\r\n"
          b"Content-Type: application/grpc\r\nContent-Length: %d\r\n\r\n" % len(body))
try:
    s.sendall(body)
except OSError:
    pass
data, closed = b"", False
end = time.time() + 5
try:
    while time.time() < end:
        c = s.recv(65536)
        if not c:
            closed = True
            break
        data += c
except OSError:
    closed = True    # a reset is a close too
head, _, rest = data.partition(b"\r\n\r\n")
m = re.search(rb"(?im)^content-length: *(\d+)", head)
n = int(m.group(1)) if m else -1
print("status=%s closed=%s extra=%d" % (head[9:12].decode("latin-1"), closed, len(rest) - n))
if len(rest) != n:
    print("after the answer (hex): %s" % rest[max(n, 0):][:100].hex())
PY
)
is "$h1" "status=505 closed=True extra=0" "HTTP/1.1 on the gRPC port: the 505 and its body are all the server sends, then it closes"

# ---- h2load: 2000 calls, 4 connections, 8 streams each ----
run_tool 60 h2load -n 2000 -c 4 -m 8 -d "$BENCH/traces_100.grpc" -H 'content-type: application/grpc' \
    -H 'te: trailers' "http://127.0.0.1:$BULK_PORT$TRACES"
matches "$TOOL_OUT" '^requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout' \
    "h2load: 2000 calls done (it counts only :status)"
bulk_is_200000() { [ "$(bulk_spans)" = 200000 ]; }
wait_until 10 bulk_is_200000
is "$(bulk_spans)" 200000 "h2load: exactly 200000 spans reached the file exporter"
expect_counts "500 600 1700" "h2load's receiver did not feed the other pipelines"
all_true "otelgate healthy after h2load" "$(healthy)"

stop_daemon TERM
is "$DAEMON_RC" 0 "SIGTERM: exit 0"
matches "$(daemon_log)" "otlp: stopped accepted_spans=400 accepted_metric_points=600 accepted_log_records=1700 " \
    "the otlp receiver's counters match what arrived"
matches "$(daemon_log)" "otlp/bulk: stopped accepted_spans=200000 " "the bulk receiver counted 200000 spans"
sanitizer_clean
done_testing
