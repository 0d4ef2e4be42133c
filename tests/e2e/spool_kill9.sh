#!/bin/sh
# spool_kill9.sh: at-least-once across kill -9. Two senders (spans over OTLP/gRPC for tenants a and b, log
# records over OTLP/HTTP) keep sending with --retry, as SDKs would, into otelgate with its sending queue in
# the spool, while the sink refuses half the exports (UNAVAILABLE). otelgate is killed with SIGKILL at a
# random moment and restarted on the same spool directory, cycle after cycle, in turn without the batch
# processor, with it and gzip, with it uncompressed, and with sending_queue.batch (requests stored alone,
# merged on the way upstream). At the end the fault is cleared and the spool drains: every item a sender saw
# acknowledged must have arrived (duplicates are allowed and reported, losses fail).
#
# Parameters (environment), so that contrib/soak/spool_kill9.sh can run the same for longer:
#   SPOOL_KILL9_CYCLES   kill -9 cycles (20)
#   SPOOL_KILL9_MIN_MS   shortest life of otelgate in a cycle, ms (200)
#   SPOOL_KILL9_MAX_MS   longest, ms (1500)
#   SPOOL_KILL9_RATE     requests a second of each sender (40), 100 items each
#   SPOOL_KILL9_DRAIN    seconds the final drain may take (60)
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/spool_lib.sh"

CYCLES=${SPOOL_KILL9_CYCLES:-20}
MIN_MS=${SPOOL_KILL9_MIN_MS:-200}
MAX_MS=${SPOOL_KILL9_MAX_MS:-1500}
RATE=${SPOOL_KILL9_RATE:-40}
DRAIN=${SPOOL_KILL9_DRAIN:-60}

if ! start_sink; then
    echo "Bail out! otelgen sink did not start"
    exit 1
fi
set_faults '[{"mode": "unavailable", "ratio": 0.5, "retry_after": 0}]'

rm -rf "$SPOOL_DIR"
spool_config kill9.0.yaml batch=0
spool_config kill9.1.yaml batch=1 compression=gzip
spool_config kill9.2.yaml batch=1             # the batch's own buffer goes to the spool, uncompressed
spool_config kill9.3.yaml qbatch="min_size: 400, flush_timeout: 100ms"   # requests stored alone, merged upstream

if ! start_daemon kill9.0.yaml; then
    echo "Bail out! otelgate did not start"
    exit 1
fi

# The senders outlive every otelgate: they retry what a killed one left unanswered, and are stopped
# (SIGINT: no new request, the ones in flight answered) once the last otelgate runs.
# Open loop (--rate), over 4 connections each: several requests in flight when otelgate dies, and a volume
# that does not depend on how fast this machine is.
send_bg tsend grpc --signal traces --tenants a,b --rate "$RATE" -c 4 --duration 24h --retry --retry-max-elapsed 120s
send_bg lsend http/protobuf --signal logs --rate "$RATE" -c 4 --duration 24h --retry --retry-max-elapsed 120s

t_start=$(now_ms)
restarts_failed=0 corrupt=0 senders_died=0
for ((cycle = 1; cycle <= CYCLES; cycle++)); do
    ms_sleep "$MIN_MS" "$MAX_MS"
    kill -KILL "$DAEMON_PID" 2>/dev/null
    { wait_exit "$DAEMON_PID" 10; } 2>/dev/null     # no "Killed" line from bash for each cycle
    og_forget "$DAEMON_PID"
    if ! spool_ok "$SPOOL_DIR"; then
        corrupt=$((corrupt + 1))
        diag "cycle $cycle: mdb_stat cannot read the spool after kill -9: $(mdb_stat -a "$SPOOL_DIR" 2>&1 | tail -n 1)"
    fi
    if ! start_daemon "kill9.$((cycle % 4)).yaml"; then
        restarts_failed=$((restarts_failed + 1))
        diag "cycle $cycle: otelgate did not restart on the spool; trying once more"
        start_daemon "kill9.$((cycle % 4)).yaml" || break
    fi
    # Checked with otelgate up, so that what the other sender had acknowledged can still drain and be counted.
    for s in "$tsend" "$lsend"; do
        if ! proc_alive "${s% *}"; then
            senders_died=1
            wait "${s% *}" 2>/dev/null
            diag "cycle $cycle: a sender exited early, status $?; the last lines of its stderr:"
            tail -n 5 "${s#* }.err" | sed 's/^/#   /'
        fi
    done
    [ "$senders_died" = 0 ] || break
    if [ $((cycle % 100)) = 0 ]; then
        diag "cycle $cycle: $(count traces.unique logs.unique) unique at the sink, $(queued_entries) batches spooled"
    fi
done
t_cycles=$(now_ms)
cycles_done=$((cycle > CYCLES ? CYCLES : cycle))

is "$restarts_failed:$corrupt" "0:0" \
    "$cycles_done kill -9 cycles: every restart on the spool came up healthy, mdb_stat read the spool each time"
is "$senders_died" 0 "both senders ran through every cycle"
check "the last otelgate runs" proc_alive "$DAEMON_PID"

# The last otelgate stays: let the senders finish against it, then drain with the fault cleared.
clear_faults
sleep 3     # the senders' backoffs from the last outage run out: their retries get through
send_bg_wait "$lsend" 60 INT
l_rc=$S_RC l_req=$S_REQS l_ack=$S_ACK_ITEMS l_failed=$S_FAILED l_answers=$S_ANSWERS l_json=$S_JSON
send_bg_wait "$tsend" 60 INT
t_rc=$S_RC t_req=$S_REQS t_ack=$S_ACK_ITEMS t_failed=$S_FAILED t_answers=$S_ANSWERS t_json=$S_JSON
diag "traces sender: exit $t_rc, $t_req requests answered, $t_ack spans acknowledged, $t_failed failed; answers: $t_answers"
diag "logs sender:   exit $l_rc, $l_req requests answered, $l_ack records acknowledged, $l_failed failed; answers: $l_answers"
for j in "$t_json" "$l_json"; do
    python3 -c '
import json, sys
d = json.loads(sys.argv[1])
for k in ("errors", "connection_errors"):
    for m, n in d.get(k, {}).items():
        print("# %s %s: %s" % (d.get("signal"), k.replace("_", " "), "%d x %s" % (n, m)))' "$j" 2>/dev/null
done
all_true "both senders reported a summary with acknowledged items, and exited 0 (every request acknowledged)" \
    "$([ "${t_ack:-?}" != "?" ] && [ "$t_ack" -gt 0 ] && echo 0 || echo "traces sender: ${t_json:-no summary}")" \
    "$([ "${l_ack:-?}" != "?" ] && [ "$l_ack" -gt 0 ] && echo 0 || echo "logs sender: ${l_json:-no summary}")" \
    "$([ "$t_rc:$l_rc" = 0:0 ] && echo 0 || echo "exit statuses: traces $t_rc, logs $l_rc")"
[ "$t_ack" = "?" ] && t_ack=0
[ "$l_ack" = "?" ] && l_ack=0

t0=$(now_ms)
wait_until "$DRAIN" unique_at_least traces "$t_ack"
wait_until "$DRAIN" unique_at_least logs "$l_ack"
wait_until "$DRAIN" entries_is 0
t_drain=$(now_ms)
sleep 0.5
diag "cycles took $(((t_cycles - t_start) / 1000)) s, the drain $(((t_drain - t0) / 1000)) s; spool entries left: $(queued_entries)"

# One sender run per signal: the sink's per-run count is this sender's.
dups=0
for sig in traces logs; do
    [ "$sig" = traces ] && ack=$t_ack || ack=$l_ack
    set -- $(count "$sig.unique" "$sig.duplicates" "$sig.runs" "$sig.runs.0.unique" "$sig.other_runs_unique")
    diag "$sig: acknowledged $ack, unique at the sink $1 (in the sender's run: $4), duplicates $2"
    [ "${2:-?}" != "?" ] && dups=$((dups + $2))
    all_true "$sig: every acknowledged item arrived after $cycles_done kill -9 (unique >= acknowledged, one run)" \
        "$([ "$3" = 1 ] && [ "${5:-?}" = 0 ] && echo 0 || echo "expected one sender run at the sink, got runs=$3 other=$5")" \
        "$([ "${4:-?}" != "?" ] && [ "$4" -ge "$ack" ] && echo 0 ||
            echo "lost: $((ack - ${4//[!0-9]/0})) of $ack acknowledged items (at the sink: ${4:-?})")"
done
echo "# duplicates: $dups"
all_true "both tenants' spans were delivered" \
    "$([ "$(tenant_items a traces)" != "?" ] && [ "$(tenant_items a traces)" -gt 0 ] && echo 0 || echo "tenant a: $(tenant_items a traces)")" \
    "$([ "$(tenant_items b traces)" != "?" ] && [ "$(tenant_items b traces)" -gt 0 ] && echo 0 || echo "tenant b: $(tenant_items b traces)")"

stop_daemon
is "$DAEMON_RC:$(stop_log_counter spooled_batches)" "0:0" "after the drain: SIGTERM -> exit 0, nothing left spooled"
stop_sink
sanitizer_clean
