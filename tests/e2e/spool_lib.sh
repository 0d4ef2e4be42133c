# spool_lib.sh: shared helpers of the spool tests (spool_export.sh, spool_kill9.sh, spool_full.sh) and of
# contrib/soak/spool_kill9.sh. Sourced by each after its re-exec into bash; it sources lib.sh (TAP, ports,
# daemons, clean-up). The picture is always the same: otelgen send -> otelgate (otlp receiver -> otlp or
# otlphttp exporter with sending_queue.storage: spool) -> otelgen sink, the sink counting unique and
# duplicated items per signal, per tenant and per sender run.
#
# Environment, besides lib.sh's:
#   OTELGEN      absolute path of otelgen (set by make check)

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/sink_lib.sh"     # before the cd: the path may be relative
SPOOL_TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)     # this directory, for the tests' helpers
cd "$OG_TMP" || exit 0

if ! command -v mdb_stat >/dev/null 2>&1; then
    echo "Bail out! mdb_stat (lmdb-utils) is not installed"
    exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "Bail out! python3 is not installed"
    exit 1
fi

# ------------------------------------------------------------- config ----

GRPC_PORT='' HTTP_PORT='' HEALTH_PORT=''
SPOOL_DIR=$OG_TMP/spool

# spool_config PATH [KEY=VALUE...]: otlp receiver (gRPC and HTTP, tenant header X-Tenant-Id) -> [batch] -> an
# exporter to the sink with its sending queue in the spool, for every signal. The daemon's ports are picked
# on the first call and kept, so a restarted daemon is found where the senders left it. Keys (defaults):
#   exporter=otlp | otlphttp       compression=none | gzip   num_consumers=4
#   batch=0 | 1 (the batch processor)  batch_size=8192 (its send_batch_size)  batch_timeout=200ms
#   max_size=0  when_full=reject  max_age=168h  qbatch= (sending_queue; qbatch: the keys of its batch, as
#   "min_size: 1000, flush_timeout: 1s")   timeout=2s  recv_mib=4 (the gRPC receiver's max_recv_msg_size_mib)
#   dir=$SPOOL_DIR  spool_max=1GiB  sync=always  (the spool extension)
spool_config()
{
    local path=$1 kv k v
    shift
    local exporter=otlp compression=none batch=0 num_consumers=4 max_size=0 when_full=reject max_age=168h
    local dir=$SPOOL_DIR spool_max=1GiB sync=always timeout=2s recv_mib=4 qbatch='' batch_size=8192 batch_timeout=200ms
    local endpoint
    for kv in "$@"; do
        k=${kv%%=*} v=${kv#*=}
        case $k in
        exporter | compression | batch | num_consumers | max_size | when_full | max_age | dir | spool_max | sync | timeout | \
            recv_mib | qbatch | batch_size | batch_timeout)
            printf -v "$k" '%s' "$v" ;;
        *) echo "spool_config: unknown key $k" >&2; return 1 ;;
        esac
    done
    [ -n "$GRPC_PORT" ] || { GRPC_PORT=$(free_port) && HTTP_PORT=$(free_port) && HEALTH_PORT=$(free_port); } ||
        return 1
    mkdir -p "$dir"
    if [ "$exporter" = otlphttp ]; then
        endpoint=http://127.0.0.1:$SINK_H
    else
        endpoint=127.0.0.1:$SINK_G
    fi
    {
        echo "receivers:"
        echo "  otlp:"
        echo "    tenant_header: X-Tenant-Id"
        echo "    protocols:"
        echo "      grpc: { endpoint: 127.0.0.1:$GRPC_PORT, max_recv_msg_size_mib: $recv_mib }"
        echo "      http: { endpoint: 127.0.0.1:$HTTP_PORT }"
        if [ "$batch" = 1 ]; then
            echo "processors:"
            echo "  batch: { send_batch_size: $batch_size, timeout: $batch_timeout }"
        fi
        echo "exporters:"
        echo "  $exporter:"
        echo "    endpoint: $endpoint"
        echo "    compression: $compression"
        echo "    timeout: $timeout"
        echo "    retry_on_failure: { initial_interval: 100ms, max_interval: 1s }"
        echo "    sending_queue: { storage: spool, num_consumers: $num_consumers, max_size: $max_size," \
             "when_full: $when_full, max_age: $max_age${qbatch:+, batch: { $qbatch \}} }"
        echo "extensions:"
        echo "  health_check: { endpoint: 127.0.0.1:$HEALTH_PORT }"
        echo "  spool: { directory: $dir, max_size: $spool_max, sync: $sync }"
        echo "service:"
        echo "  extensions: [health_check, spool]"
        echo "  workers: 2"
        echo "  pipelines:"
        for s in traces metrics logs; do
            if [ "$batch" = 1 ]; then
                echo "    $s: { receivers: [otlp], processors: [batch], exporters: [$exporter] }"
            else
                echo "    $s: { receivers: [otlp], exporters: [$exporter] }"
            fi
        done
    } >"$path"
}

# ------------------------------------------------------------- sending ----

# The last send's summary, from otelgen send --json: S_RC (exit status), S_JSON, S_REQS (answered),
# S_ACK (acknowledged requests), S_ACK_ITEMS, S_FAILED, S_ANSWERS ("OK=3 UNAVAILABLE=2", sorted by name).
S_RC='' S_JSON='' S_REQS='' S_ACK='' S_ACK_ITEMS='' S_FAILED='' S_ANSWERS=''

send_endpoint()     # PROTOCOL: where otelgen send reaches the daemon with it
{
    case $1 in
    grpc) echo "127.0.0.1:$GRPC_PORT" ;;
    *) echo "http://127.0.0.1:$HTTP_PORT" ;;
    esac
}

# send_parse RC JSON: sets the S_ variables from a summary.
send_parse()
{
    S_RC=$1
    S_JSON=$(printf '%s\n' "$2" | grep '^{' | tail -n 1)
    set -- $(json_get "$S_JSON" requests acknowledged_requests acknowledged_items failed_requests)
    S_REQS=$1 S_ACK=$2 S_ACK_ITEMS=$3 S_FAILED=$4
    S_ANSWERS=$(python3 -c '
import json, sys
try:
    a = json.loads(sys.argv[1])["answers"]
except (ValueError, KeyError):
    print("?")
    sys.exit(0)
print(" ".join("%s=%d" % (k, a[k]) for k in sorted(a)))' "$S_JSON" 2>/dev/null)
}

# send PROTOCOL ARGS...: otelgen send --json in the foreground (120 s at most).
send()
{
    local proto=$1
    shift
    run_cmd 120 "$OTELGEN" send --json --protocol "$proto" "$@" "$(send_endpoint "$proto")"
    send_parse "$RC" "$OUT"
    [ "$S_RC" = 0 ] || [ "$S_RC" = 1 ] || diag "otelgen send exited $S_RC: $(printf '%s' "$ERR" | tail -n 3)"
}

# send_one_by_one N [C [ARGS...]]: N trace requests (of 100 spans, unless ARGS say otherwise) over OTLP/gRPC
# from C clients (1) that each send a request once their last was answered, as the SDKs' batch processors do;
# SEND_MS gets how long the send took.
send_one_by_one()
{
    local n=$1 c=${2:-1} t0
    shift $(($# < 2 ? $# : 2))
    t0=$(now_ms)
    send grpc --signal traces -n "$n" -c 1 --concurrency "$c" "$@"
    SEND_MS=$(($(now_ms) - t0))
}

# send_bg VAR PROTOCOL ARGS...: otelgen send --json in the background; VAR gets "PID OUTFILE".
send_bg()
{
    local var=$1 proto=$2
    shift 2
    og_seq=$((og_seq + 1))
    local out=$OG_TMP/send.$og_seq.out
    "$OTELGEN" send --json --protocol "$proto" "$@" "$(send_endpoint "$proto")" >"$out" 2>"$out.err" </dev/null &
    og_pids="$og_pids $!"
    printf -v "$var" '%s %s' "$!" "$out"
}

# send_bg_wait "PID OUTFILE" SECONDS [SIGNAL]: sends SIGNAL (none: let it finish) to a background sender,
# waits for it (SECONDS at most) and parses its summary. Returns 1 when it had to be killed.
send_bg_wait()
{
    local pid=${1% *} out=${1#* } r=0
    [ -n "${3:-}" ] && kill -s "$3" "$pid" 2>/dev/null
    wait_exit "$pid" "$2" || r=1
    og_forget "$pid"
    send_parse "$OG_RC" "$(cat "$out")"
    return $r
}

# ------------------------------------------------------------ the spool ----

# queued_entries [DIR] [QUEUE]: the entries of every queue (or of q/QUEUE) of the spool in DIR, per mdb_stat;
# "?" when mdb_stat fails.
queued_entries()
{
    local dir=${1:-$SPOOL_DIR} q=${2:-} text
    text=$(mdb_stat -a "$dir" 2>/dev/null) || { echo "?"; return 0; }
    printf '%s\n' "$text" | awk -v q="$q" '
        /^Status of / { name = substr($0, 11); take = q == "" ? name ~ /^q\// : name == "q/" q; next }
        take && $1 == "Entries:" { n += $2 }
        END { print n + 0 }'
}

entries_is()    # COUNT [DIR] [QUEUE]
{
    [ "$(queued_entries "${2:-$SPOOL_DIR}" "${3:-}")" = "$1" ]
}

# spool_ok DIR: mdb_stat reads the environment (it is not corrupt).
spool_ok()
{
    mdb_stat -a "${1:-$SPOOL_DIR}" >/dev/null 2>&1
}

# ms_sleep MIN MAX: sleeps a random time between MIN and MAX milliseconds.
ms_sleep()
{
    local ms=$(($1 + RANDOM % ($2 - $1 + 1)))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
}
