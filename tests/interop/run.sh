#!/bin/sh
# run.sh: otelgate's intake against the official OpenTelemetry JS SDK
# exporters (npm, versions pinned by package-lock.json): OTLP/gRPC,
# OTLP/HTTP protobuf and OTLP/HTTP JSON, for traces, metrics and logs, plain
# and gzip. Each export must be acknowledged as a success by the exporter,
# and the file exporter must hold exactly the items sent, per protocol and
# per signal, with ids and attributes intact. See README in this directory.
#
# Skipped (1..0 # SKIP) when node or npm is missing, node is too old for the
# pinned SDK, or npm ci cannot reach the registry; any other npm ci failure
# is a failed case.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/../e2e/intake_lib.sh"

interop_dir=$(cd "$(dirname "$0")" && pwd)

skip_all()
{
    printf '1..0 # SKIP %s\n' "$1"
    # shellcheck disable=SC2034  # read by lib.sh's exit trap: no second plan
    og_planned=1
    exit 0
}

# The exporters read OTEL_* (endpoints, headers, timeouts) and grpc-js
# honours grpc_proxy: none of the caller's may redirect them.
for v in $(env | sed -n 's/^\(OTEL_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
unset grpc_proxy GRPC_PROXY no_grpc_proxy NODE_OPTIONS

command -v node >/dev/null 2>&1 || skip_all "node is not installed"
command -v npm >/dev/null 2>&1 || skip_all "npm is not installed"
node_version=$(node -p 'process.versions.node' 2>/dev/null)
node -e '
const [a, b] = process.versions.node.split(".").map(Number);
process.exit(a > 20 || (a === 20 && b >= 6) || (a === 18 && b >= 19) ? 0 : 1);' ||
    skip_all "node $node_version is too old for the pinned OpenTelemetry SDK (needs ^18.19 or >=20.6)"

# npm ci in a copy: the source directory may be read-only (distcheck).
work=$OG_TMP/interop
mkdir -p "$work"
cp "$interop_dir/package.json" "$interop_dir/package-lock.json" "$interop_dir/send.mjs" "$work/"
run_cmd 240 sh -c "cd '$work' && npm ci --ignore-scripts --prefer-offline --no-audit --no-fund"
if [ "$RC" != 0 ]; then
    if grep -qE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network' <<<"$ERR"; then
        skip_all "npm ci cannot reach the registry: $(grep -m1 -E 'npm (ERR|error) (code|network)' <<<"$ERR")"
    fi
    fail "npm ci installs the pinned exporters" "npm ci exited with $RC:" "$ERR"
    done_testing
    exit 0
fi
versions=$(cd "$work" && node -p '["exporter-trace-otlp-grpc", "exporter-metrics-otlp-proto", "exporter-logs-otlp-http", "sdk-trace-base", "sdk-metrics", "sdk-logs"].map(p => p + "@" + require("@opentelemetry/" + p + "/package.json").version).join(" ")' 2>&1)
pass "npm ci installs the pinned exporters (node $node_version)"
diag "$versions"

cfg=$OG_TMP/interop.yaml
intake_config "$cfg"
out_file=$OUT   # run_cmd sets OUT to a command's stdout: keep the path here

# run_node SECONDS ARGS...: run_cmd for node, leaving OUT (the file
# exporter's path, which expect_counts reads) alone; stdout in NODE_OUT.
NODE_OUT=''
run_node()
{
    local limit=$1
    shift
    run_cmd "$limit" node "$@"
    NODE_OUT=$OUT
    OUT=$out_file
}
if ! start_daemon "$cfg"; then
    fail "otelgate starts with the otlp receiver and a file exporter"
    done_testing
    exit 0
fi

# send PROTOCOL SIGNAL N [gzip]: one run of the sender, one TAP case.
send()
{
    local proto=$1 signal=$2 n=$3 gz=${4:-} port=$HTTP_PORT
    [ "$proto" = grpc ] && port=$GRPC_PORT
    # shellcheck disable=SC2086  # no argument at all when not gzip
    run_node 40 "$work/send.mjs" "$proto" "$signal" "http://127.0.0.1:$port" "$n" $gz
    all_true "$proto $signal${gz:+ $gz}: the exporter reports success for $n items" \
        "$([ "$RC" = 0 ] && echo 0 || echo "send.mjs exited with $RC")" \
        "$(grep -qE "^$signal $n exported in [0-9]+ batches$" <<<"$NODE_OUT" && echo 0 || echo "stdout: $NODE_OUT")" \
        "$([ "$RC" = 0 ] || printf 'stderr: %s' "$ERR" | head -n 30)"
}

# counts_by_protocol: "PROTOCOL:SPANS,POINTS,LOGS ..." for grpc, proto and
# http, from the resource attribute interop.protocol the sender sets.
counts_by_protocol()
{
    python3 - "$OUT" <<'PY'
import json, sys
kinds = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")
c = {p: [0, 0, 0] for p in ("grpc", "proto", "http")}
def proto_of(res):
    for a in res.get("attributes", []):
        if a["key"] == "interop.protocol":
            return a["value"].get("stringValue")
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    lines = []
for line in lines:
    d = json.loads(line)
    for rs in d.get("resourceSpans", []):
        p = proto_of(rs.get("resource", {}))
        c.setdefault(p, [0, 0, 0])[0] += sum(len(ss.get("spans", [])) for ss in rs.get("scopeSpans", []))
    for rm in d.get("resourceMetrics", []):
        p = proto_of(rm.get("resource", {}))
        for sm in rm.get("scopeMetrics", []):
            for m in sm.get("metrics", []):
                for k in kinds:
                    if k in m:
                        c.setdefault(p, [0, 0, 0])[1] += len(m[k].get("dataPoints", []))
    for rl in d.get("resourceLogs", []):
        p = proto_of(rl.get("resource", {}))
        c.setdefault(p, [0, 0, 0])[2] += sum(len(sl.get("logRecords", [])) for sl in rl.get("scopeLogs", []))
print(" ".join("%s:%d,%d,%d" % (p, *v) for p, v in c.items()))
PY
}

# the 9 combinations, each followed by the exact totals so far
N_SPANS=250 N_POINTS=230 N_LOGS=270
s=0 p=0 l=0
for proto in grpc proto http; do
    send "$proto" traces $N_SPANS
    s=$((s + N_SPANS))
    expect_counts "$s $p $l" "$proto traces: the file exporter holds exactly $s spans"
    send "$proto" metrics $N_POINTS
    p=$((p + N_POINTS))
    expect_counts "$s $p $l" "$proto metrics: the file exporter holds exactly $p data points"
    send "$proto" logs $N_LOGS
    l=$((l + N_LOGS))
    expect_counts "$s $p $l" "$proto logs: the file exporter holds exactly $l log records"
done
is "$(counts_by_protocol)" \
    "grpc:$N_SPANS,$N_POINTS,$N_LOGS proto:$N_SPANS,$N_POINTS,$N_LOGS http:$N_SPANS,$N_POINTS,$N_LOGS" \
    "every protocol delivered exactly its own spans, points and records"

# what arrived is what the SDK made: ids, attributes, 64-bit ints, links,
# events, status and the five kinds of metric points, for each protocol
content=$(python3 - "$OUT" "$N_SPANS" "$N_POINTS" "$N_LOGS" <<'PY'
import json, re, sys
n_spans, n_points, n_logs = map(int, sys.argv[2:5])
hexid = lambda s, n: isinstance(s, str) and re.fullmatch("[0-9a-f]{%d}" % n, s) is not None
def attrs(x):
    out = {}
    for a in x.get("attributes", []):
        v = a["value"]
        out[a["key"]] = v.get("intValue", v.get("stringValue", v.get("doubleValue", v.get("boolValue", v.get("arrayValue")))))
    return out
bad, seen = [], {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    for rs in d.get("resourceSpans", []):
        p = attrs(rs["resource"]).get("interop.protocol")
        for ss in rs["scopeSpans"]:
            if ss.get("scope", {}).get("name") != "otelgate-interop":
                bad.append("%s: scope %r" % (p, ss.get("scope")))
            for sp in ss["spans"]:
                a = attrs(sp)
                i = int(a["item.index"])
                k = seen.setdefault((p, "spans"), set())
                k.add(i)
                if int(a["item.big"]) != 2**53 - 1 - i:
                    bad.append("%s span %d: item.big %r" % (p, i, a["item.big"]))
                if not (hexid(sp.get("traceId"), 32) and hexid(sp.get("spanId"), 16)):
                    bad.append("%s span %d: ids %r %r" % (p, i, sp.get("traceId"), sp.get("spanId")))
                if i % 5 and not hexid(sp.get("parentSpanId"), 16):
                    bad.append("%s span %d: no parent" % (p, i))
                if i % 11 == 0 and sp.get("status", {}).get("code") != 2:
                    bad.append("%s span %d: status %r" % (p, i, sp.get("status")))
                if i % 4 == 0 and [e.get("name") for e in sp.get("events", [])] != ["cache.miss"]:
                    bad.append("%s span %d: events %r" % (p, i, sp.get("events")))
                links = sp.get("links", [])
                if i % 9 == 0 and i > 0 and not (len(links) == 1 and hexid(links[0].get("traceId"), 32)
                                                 and hexid(links[0].get("spanId"), 16)):
                    bad.append("%s span %d: links %r" % (p, i, links))
    for rm in d.get("resourceMetrics", []):
        p = attrs(rm["resource"]).get("interop.protocol")
        for sm in rm["scopeMetrics"]:
            for m in sm["metrics"]:
                for kind in ("sum", "gauge", "histogram", "exponentialHistogram"):
                    for dp in m.get(kind, {}).get("dataPoints", []):
                        i = int(attrs(dp)["point.index"])
                        seen.setdefault((p, kind), set()).add(i)
                        if m["name"] == "interop.counter" and float(dp.get("asInt", dp.get("asDouble", -1))) != i + 1:
                            bad.append("%s counter point %d: %r" % (p, i, dp))
                        if kind in ("histogram", "exponentialHistogram") and int(dp.get("count", 0)) != 2:
                            bad.append("%s %s point %d: count %r" % (p, kind, i, dp.get("count")))
    for rl in d.get("resourceLogs", []):
        p = attrs(rl["resource"]).get("interop.protocol")
        for sl in rl["scopeLogs"]:
            for r in sl["logRecords"]:
                i = int(attrs(r)["record.index"])
                seen.setdefault((p, "logs"), set()).add(i)
                if i % 2 == 0 and not (hexid(r.get("traceId"), 32) and hexid(r.get("spanId"), 16)):
                    bad.append("%s log %d: ids %r %r" % (p, i, r.get("traceId"), r.get("spanId")))
for p in ("grpc", "proto", "http"):
    # exactly the indexes sent: none lost, none twice (the sets and counts agree)
    if seen.get((p, "spans")) != set(range(n_spans)):
        bad.append("%s: span indexes differ from 0..%d" % (p, n_spans - 1))
    if seen.get((p, "logs")) != set(range(n_logs)):
        bad.append("%s: log indexes differ from 0..%d" % (p, n_logs - 1))
    pts = set()
    for kind in ("sum", "gauge", "histogram", "exponentialHistogram"):
        if not seen.get((p, kind)):
            bad.append("%s: no %s points" % (p, kind))
        pts |= seen.get((p, kind), set())
    if pts != set(range(n_points)):
        bad.append("%s: point indexes differ from 0..%d" % (p, n_points - 1))
print("\n".join(bad[:20]) if bad else "intact")
PY
)
is "$content" intact "ids, attributes, links, events and every kind of point arrive as the SDK made them"

# compressed exports
for proto in grpc proto http; do
    send "$proto" traces 120 gzip
    s=$((s + 120))
    send "$proto" logs 80 gzip
    l=$((l + 80))
done
expect_counts "$s $p $l" "gzip exports from every protocol: the file exporter holds exactly $s spans and $l records"

# a refusal is seen by the exporter as a failure (so the cases above can fail)
run_node 40 "$work/send.mjs" grpc traces "http://127.0.0.1:$HTTP_PORT" 5
all_true "the gRPC exporter against the OTLP/HTTP port reports a failure" \
    "$([ "$RC" = 1 ] && echo 0 || echo "send.mjs exited with $RC: $NODE_OUT $ERR")"
expect_counts "$s $p $l" "a failed export added nothing"

stop_daemon TERM
is "$DAEMON_RC" 0 "SIGTERM: exit 0"
matches "$(daemon_log)" "otlp: stopped accepted_spans=$s accepted_metric_points=$p accepted_log_records=$l refused_spans=0 " \
    "the receiver's counters match what the exporters sent"
sanitizer_clean
done_testing
