# sink_lib.sh: otelgen sink as the upstream of a test: start, stop, faults, and its counts (/stats on its
# control endpoint). Sourced after lib.sh by the export tests (export_otlp.sh, spool_lib.sh).
#
# Environment, besides lib.sh's:
#   OTELGEN      absolute path of otelgen (set by make check)

if [ -z "${OTELGEN:-}" ] || [ ! -x "$OTELGEN" ]; then
    echo "Bail out! OTELGEN is not set to an executable otelgen (got '${OTELGEN:-}')"
    exit 1
fi

SINK_PID='' SINK_G='' SINK_H='' SINK_C=''

sink_ready()
{
    ! proc_alive "$SINK_PID" ||
        [ "$(curl -s --noproxy '*' --max-time 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SINK_C/stats")" = 200 ]
}

# start_sink [ARGS...]: a sink on SINK_G (gRPC), SINK_H (OTLP/HTTP) and SINK_C (control), ports picked once and
# kept across restarts, so that a configured exporter finds it again.
start_sink()
{
    og_seq=$((og_seq + 1))
    [ -n "$SINK_G" ] || { SINK_G=$(free_port) && SINK_H=$(free_port) && SINK_C=$(free_port); } || return 1
    "$OTELGEN" sink --grpc "127.0.0.1:$SINK_G" --http "127.0.0.1:$SINK_H" --control "127.0.0.1:$SINK_C" "$@" \
        >"$OG_TMP/sink.$og_seq.out" 2>"$OG_TMP/sink.$og_seq.err" </dev/null &
    SINK_PID=$!
    og_pids="$og_pids $SINK_PID"
    wait_until 10 sink_ready && proc_alive "$SINK_PID"
}

# stop_sink: the upstream goes away (its counts with it).
stop_sink()
{
    [ -n "$SINK_PID" ] || return 0
    kill -TERM "$SINK_PID" 2>/dev/null
    wait_exit "$SINK_PID" 10
    og_forget "$SINK_PID"
    SINK_PID=''
}

ctl()   # METHOD PATH [CURL ARGS...]: a request to the sink's control endpoint
{
    local method=$1 path=$2
    shift 2
    http "$method" "http://127.0.0.1:$SINK_C$path" "$@"
}

set_faults()    # JSON: the sink's fault rules, replacing the ones in force
{
    ctl PUT /faults --data-binary "$1"
    [ "$HTTP_CODE" = 200 ] || diag "set_faults: the sink answered $HTTP_CODE: $HTTP_BODY"
}

clear_faults()
{
    ctl DELETE /faults
}

reset_sink()
{
    ctl POST /reset
}

# json_get JSON PATH...: each PATH a dotted path into JSON ("traces.unique", "traces.runs.0.unique"), printed
# space-separated; "?" for a path that is absent, or for all when JSON does not parse.
json_get()
{
    python3 -c '
import json, sys
try:
    d = json.loads(sys.argv[1])
except ValueError:
    print(" ".join("?" for _ in sys.argv[2:]))
    sys.exit(0)
out = []
for p in sys.argv[2:]:
    v = d
    try:
        for k in p.split("."):
            v = v[int(k)] if isinstance(v, list) else v[k]
        if isinstance(v, list):
            v = len(v)
    except (KeyError, IndexError, ValueError, TypeError):
        v = "?"
    out.append(str(v))
print(" ".join(out))' "$@" 2>/dev/null || echo "?"
}

# count PATH...: from the sink's /stats (a list counts its elements: "traces.runs" is the number of runs).
count()
{
    ctl GET /stats
    json_get "$HTTP_BODY" "$@"
}

unique_is()     # SIGNAL COUNT: true once the sink holds COUNT unique items of SIGNAL
{
    [ "$(count "$1.unique")" = "$2" ]
}

unique_at_least()   # SIGNAL COUNT
{
    local u
    u=$(count "$1.unique")
    [ "$u" != "?" ] && [ "$u" -ge "$2" ]
}

# tenant_items TENANT SIGNAL: the items of TENANT the sink took (a tenant it never took a request of is absent
# from /stats: 0).
tenant_items()
{
    local v
    v=$(count "tenants.$1.$2.items")
    [ "$v" = "?" ] && [ -n "$HTTP_BODY" ] && v=0
    echo "$v"
}

tenant_items_is()   # TENANT SIGNAL COUNT
{
    [ "$(tenant_items "$1" "$2")" = "$3" ]
}

# stop_log_counter NAME: the value of NAME= in the exporter's stop line of the last daemon ("" if absent).
stop_log_counter()
{
    daemon_log | grep -E ' (otlp|otlphttp): stopped: ' | tail -n 1 | sed -n "s/.* $1=\([0-9]*\).*/\1/p"
}
