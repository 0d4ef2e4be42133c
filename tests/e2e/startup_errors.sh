#!/bin/sh
# startup_errors.sh: what the daemon says and does when it cannot start: a
# port held by someone else, a spool directory locked by another otelgate or
# impossible to create, an invalid config. Each must exit 1 quickly with a
# clear line and leave nothing listening.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

# hold_port PORT [REUSEPORT]: a python3 listener on 127.0.0.1:PORT, with
# SO_REUSEADDR and, when REUSEPORT is 1, SO_REUSEPORT (as a second
# otelgate would have). Sets HOLDER; returns 1 if it did not come up.
hold_port()
{
    rm -f "$OG_TMP/holder.ready"
    python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if sys.argv[2] == "1":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
open(sys.argv[3], "w").close()
time.sleep(30)
' "$1" "${2:-0}" "$OG_TMP/holder.ready" 2>"$OG_TMP/holder.err" &
    HOLDER=$!
    og_pids="$og_pids $HOLDER"
    wait_until 10 test -e "$OG_TMP/holder.ready"
}

release_port()
{
    kill "$HOLDER" 2>/dev/null
    wait "$HOLDER" 2>/dev/null
}

# start_fails DESC CONFIG: runs the daemon in the foreground (5 s at most)
# and checks it exits 1 within 5 s; sets ERR and ELAPSED for more checks.
start_fails()
{
    local t0
    t0=$(now_ms)
    run_cmd 5 "$OTELGATE" -c "$2"
    ELAPSED=$(($(now_ms) - t0))
    if [ "$RC" = 1 ]; then
        pass "$1: exit status 1"
        diag "exited after ${ELAPSED} ms"
    else
        fail "$1: exit status 1" "exit status $RC after ${ELAPSED} ms (124: still running after 5 s)" "stderr:" "$ERR"
    fi
}

# ---- the health port is held by another program ----
port=$(free_port)
health_config "$OG_TMP/held.yaml" "$port" "$OG_TMP/spool-held"
for reuseport in 0 1; do
    what="port held by a python listener"
    [ "$reuseport" = 1 ] && what="port held by a python listener with SO_REUSEPORT"
    if hold_port "$port" "$reuseport"; then
        start_fails "$what" "$OG_TMP/held.yaml"
        contains "$ERR" "cannot listen on 127.0.0.1:$port" "$what: the message says 'cannot listen on 127.0.0.1:PORT'"
        contains "$ERR" "Address already in use" "$what: the message says 'Address already in use'"
        release_port
    else
        fail "$what: the listener started" "$(cat "$OG_TMP/holder.err")"
    fi
done

# ---- the health port is held by another otelgate ----
port=$(free_port)
health_config "$OG_TMP/first.yaml" "$port" "$OG_TMP/spool-first"
health_config "$OG_TMP/same-port.yaml" "$port" "$OG_TMP/spool-same-port"
if start_daemon "$OG_TMP/first.yaml"; then
    first_pid=$DAEMON_PID
    start_fails "a second otelgate on the same health port" "$OG_TMP/same-port.yaml"
    contains "$ERR" "cannot listen on 127.0.0.1:$port" "second otelgate, same port: says 'cannot listen on 127.0.0.1:PORT'"
    contains "$ERR" "Address already in use" "second otelgate, same port: says 'Address already in use'"
    # with SO_REUSEPORT a second process could silently share the port and
    # take half the connections: every one must still reach the first.
    codes=""
    for i in 1 2 3 4 5 6 7 8 9 10; do
        codes="$codes$(curl -s --noproxy '*' --max-time 2 -o /dev/null -w '%{http_code}' "$DAEMON_URL")"
    done
    is "$codes" "200200200200200200200200200200" "second otelgate, same port: the first one still answers every request"

    # ---- the spool directory is locked by the first ----
    port2=$(free_port)
    health_config "$OG_TMP/same-spool.yaml" "$port2" "$OG_TMP/spool-first"
    start_fails "a second otelgate on the same spool directory" "$OG_TMP/same-spool.yaml"
    contains "$ERR" "spool directory $OG_TMP/spool-first is in use by another otelgate (pid $first_pid)" \
        "second otelgate, same spool: says the directory is in use by another otelgate, with its pid"
    check "second otelgate, same spool: its health port is not left listening" eval "! port_listening $port2"
    http GET "$DAEMON_URL"
    is "$HTTP_CODE" 200 "the first otelgate still runs after both refusals"
    stop_daemon TERM 10
    is "$DAEMON_RC" 0 "the first otelgate stops with status 0"
else
    fail "a second otelgate on the same health port (the first did not start)"
fi

# ---- the spool directory cannot be created ----
port=$(free_port)
: >"$OG_TMP/regular"
health_config "$OG_TMP/under-file.yaml" "$port" "$OG_TMP/regular/spool"
start_fails "a spool directory under a regular file" "$OG_TMP/under-file.yaml"
contains "$ERR" "extension spool: cannot create directory $OG_TMP/regular/spool: Not a directory" \
    "spool under a regular file: says which directory cannot be created and why"
check "spool under a regular file: the health port is not left listening" eval "! port_listening $port"

health_config "$OG_TMP/is-file.yaml" "$port" "$OG_TMP/regular"
start_fails "a spool directory that is a regular file" "$OG_TMP/is-file.yaml"
contains "$ERR" "extension spool: $OG_TMP/regular is not a directory" \
    "spool that is a regular file: says it is not a directory"

if as_unprivileged; then
    mkdir -p "$OG_TMP/rootonly"
    chmod 555 "$OG_TMP/rootonly"
    health_config "$OG_TMP/denied.yaml" "$port" "$OG_TMP/rootonly/spool"
    chmod 644 "$OG_TMP/denied.yaml"
    run_cmd 5 "${UNPRIV[@]}" "$OTELGATE" -c "$OG_TMP/denied.yaml"
    all_true "a spool directory the user may not create: exit 1, says Permission denied" \
        "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
        "$(printf '%s' "$ERR" | grep -qF "cannot create directory $OG_TMP/rootonly/spool: Permission denied" && echo 0 || echo "stderr: $ERR")"
else
    skip "a spool directory the user may not create" "$UNPRIV_WHY"
fi

# ---- an address that is not on this host ----
health_config "$OG_TMP/foreign.yaml" "$port" ""
sed -i "s/127.0.0.1:$port/192.0.2.1:$port/" "$OG_TMP/foreign.yaml"
start_fails "an endpoint on an address this host does not have" "$OG_TMP/foreign.yaml"
contains "$ERR" "cannot listen on 192.0.2.1:$port" "foreign address: says 'cannot listen on 192.0.2.1:PORT'"

# ---- an invalid config: exit 1 before anything is opened ----
port=$(free_port)
health_config "$OG_TMP/invalid.yaml" "$port" "$OG_TMP/spool-invalid" "workers: 0"
start_fails "an invalid config" "$OG_TMP/invalid.yaml"
is "$ERR" "$OG_TMP/invalid.yaml:8:12: service.workers: '0' is out of range (1 to 256)" \
    "an invalid config: stderr is the one error line, nothing started"
check "an invalid config: nothing listens on its health port" eval "! port_listening $port"
check "an invalid config: its spool directory is not created" test ! -e "$OG_TMP/spool-invalid"

sanitizer_clean
