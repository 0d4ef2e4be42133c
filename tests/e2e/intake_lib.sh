# intake_lib.sh: helpers of the intake tests, on top of lib.sh: a config with
# the otlp receiver and a file exporter, and item counts read back from what
# the file exporter wrote (OTLP/JSON lines).

BENCH=${OG_BENCH_DIR:-$OG_SRCDIR/../shared/bench}

# intake_config PATH: writes a config with health_check, otlp (gRPC and
# HTTP) and a json file exporter into $OG_TMP/out.json for every signal.
# Sets HEALTH_PORT, GRPC_PORT, HTTP_PORT, OUT. Extra arguments are lines
# appended under the http protocol (e.g. "max_request_body_size: 64KiB").
intake_config()
{
    local path=$1
    shift
    HEALTH_PORT=$(free_port) GRPC_PORT=$(free_port) HTTP_PORT=$(free_port)
    OUT=$OG_TMP/out.json
    {
        echo "receivers:"
        echo "  otlp:"
        echo "    protocols:"
        echo "      grpc:"
        echo "        endpoint: 127.0.0.1:$GRPC_PORT"
        echo "      http:"
        echo "        endpoint: 127.0.0.1:$HTTP_PORT"
        for l in "$@"; do echo "        $l"; done
        echo "exporters:"
        echo "  file:"
        echo "    path: $OUT"
        echo "    flush_interval: 20ms"
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
            echo "      exporters: [file]"
        done
    } >"$path"
}

# count_items FILE: prints "spans points logs" found in the OTLP/JSON lines.
count_items()
{
    python3 - "$1" <<'PY'
import json, sys
spans = points = logs = 0
kinds = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    lines = []
for line in lines:
    d = json.loads(line)
    for rs in d.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            spans += len(ss.get("spans", []))
    for rm in d.get("resourceMetrics", []):
        for sm in rm.get("scopeMetrics", []):
            for m in sm.get("metrics", []):
                for k in kinds:
                    if k in m:
                        points += len(m[k].get("dataPoints", []))
    for rl in d.get("resourceLogs", []):
        for sl in rl.get("scopeLogs", []):
            logs += len(sl.get("logRecords", []))
print(spans, points, logs)
PY
}

# expect_counts WANT DESC: waits (5 s at most, the exporter flushes every
# 20 ms) until the file exporter's output holds exactly WANT ("s p l").
expect_counts()
{
    local want=$1 desc=$2 got
    og_counts_are() { [ "$(count_items "$OUT")" = "$want" ]; }
    wait_until 5 og_counts_are
    got=$(count_items "$OUT")
    is "$got" "$want" "$desc"
}

# post PATH FILE CONTENT-TYPE [CURL ARGS...]: POST to the HTTP receiver.
post()
{
    local path=$1 file=$2 ct=$3
    shift 3
    http POST "http://127.0.0.1:$HTTP_PORT$path" -H "Content-Type: $ct" --data-binary "@$file" "$@"
}

# rpc_status_code: the code field of the google.rpc.Status in HTTP_BODY
# (protobuf), or "none".
rpc_status_code()
{
    python3 -c '
import sys
b = sys.stdin.buffer.read()
print(b[1] if len(b) >= 2 and b[0] == 8 else "none")' <<<"$HTTP_BODY"
}
