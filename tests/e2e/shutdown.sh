#!/bin/sh
# shutdown.sh: the life of the daemon under signals: SIGTERM and SIGINT
# drain and exit 0, shutdown_grace keeps serving 503 first, a second signal
# exits at once with 1, SIGHUP is refused with a warning; and the spool lock.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

# line_no TEXT FIXED: number of the first line of TEXT containing FIXED, or 0.
line_no()
{
    local n
    n=$(printf '%s\n' "$1" | grep -nF -- "$2" | head -n 1 | cut -d: -f1)
    echo "${n:-0}"
}

# health_code URL: the status code of one GET (000 when nothing answered).
health_code()
{
    curl -s --noproxy '*' --max-time 2 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null || true
}

# ---- SIGTERM, and the spool lock while running ----
port=$(free_port)
# '$$' in the file is one '$' on disk: checks the expansion end to end too.
spool_cfg="$OG_TMP/spool\$\$dir"
spool_dir="$OG_TMP/spool\$dir"
health_config "$OG_TMP/term.yaml" "$port" "$spool_cfg" "shutdown_timeout: 3s"
if start_daemon "$OG_TMP/term.yaml"; then
    pass "SIGTERM: the daemon starts"
    check "the spool directory is created ('\$\$' in the file is one '\$')" test -d "$spool_dir"
    lock=$spool_dir/otelgate.lock
    is "$(cat "$lock" 2>/dev/null)" "$DAEMON_PID" "the spool lock file exists while running and holds the pid"
    t0=$(now_ms)
    stop_daemon TERM 8      # shutdown_timeout (3 s) and a margin
    elapsed=$(($(now_ms) - t0))
    is "$DAEMON_RC" 0 "SIGTERM: exit status 0"
    diag "SIGTERM to exit: ${elapsed} ms"
    check "SIGTERM with nothing in flight: gone well within shutdown_timeout" test "$elapsed" -lt 3000
    log=$(daemon_log)
    d=$(line_no "$log" "Terminated: draining")
    s=$(line_no "$log" "info  otelgate: stopped")
    check "SIGTERM: the log says draining, then stopped" test "$d" -gt 0 -a "$s" -gt "$d"
    contains "$log" "drained: no request in flight" "SIGTERM: the log says the drain found nothing in flight"
    check "SIGTERM: the health port is closed afterwards" eval "! port_listening $port"
    if start_daemon "$OG_TMP/term.yaml"; then
        pass "after SIGTERM the spool lock is free: the same config starts again"
        stop_daemon TERM 8
    else
        fail "after SIGTERM the spool lock is free: the same config starts again"
    fi
else
    fail "SIGTERM: the daemon starts"
fi

# ---- shutdown_grace: 503 first, still serving, then exit 0 ----
port=$(free_port)
health_config "$OG_TMP/grace.yaml" "$port" "" "shutdown_grace: 2s" "shutdown_timeout: 2s" "workers: 2"
if start_daemon "$OG_TMP/grace.yaml"; then
    t0=$(now_ms)
    kill -TERM "$DAEMON_PID"
    wait_until 2 eval '[ "$(health_code "$DAEMON_URL")" = 503 ]'
    http GET "$DAEMON_URL"
    is "$HTTP_CODE" 503 "shutdown_grace: after SIGTERM the health check answers 503"
    contains "$HTTP_BODY" '"status":"Server not available"' 'shutdown_grace: the 503 body says "Server not available"'
    has_line "$HTTP_HEADERS" "Content-Type: application/json" "shutdown_grace: the 503 is application/json"
    sleep 0.8
    alive=no
    proc_alive "$DAEMON_PID" && alive=yes
    http GET "$DAEMON_URL"
    is "$alive:$HTTP_CODE" "yes:503" "shutdown_grace: 1 s into the grace it still runs and answers 503"
    wait_exit "$DAEMON_PID" 10
    DAEMON_RC=$OG_RC
    elapsed=$(($(now_ms) - t0))
    is "$DAEMON_RC" 0 "shutdown_grace: exit status 0 after the grace"
    diag "SIGTERM to exit: ${elapsed} ms"
    check "shutdown_grace: exits after the 2 s grace, not before nor much later" \
        test "$elapsed" -ge 1900 -a "$elapsed" -lt 6000
    contains "$(daemon_log)" "shutdown_grace=2000ms" "shutdown_grace: the draining line states the grace"
else
    fail "shutdown_grace: the daemon starts"
fi

# ---- a second SIGTERM during the grace: exit 1 at once ----
port=$(free_port)
health_config "$OG_TMP/second.yaml" "$port" "" "shutdown_grace: 5s"
if start_daemon "$OG_TMP/second.yaml"; then
    kill -TERM "$DAEMON_PID"
    wait_until 2 eval '[ "$(health_code "$DAEMON_URL")" = 503 ]'
    t0=$(now_ms)
    stop_daemon TERM 4
    elapsed=$(($(now_ms) - t0))
    is "$DAEMON_RC" 1 "a second SIGTERM during the grace: exit status 1"
    diag "second SIGTERM to exit: ${elapsed} ms"
    check "a second SIGTERM during the grace: exits at once" test "$elapsed" -lt 1500
    contains "$(daemon_log)" "second signal Terminated: exiting now without draining" \
        "a second SIGTERM: the log says it exits without draining"
else
    fail "a second SIGTERM during the grace: the daemon starts"
fi

# ---- SIGINT behaves like SIGTERM ----
port=$(free_port)
health_config "$OG_TMP/int.yaml" "$port" "" "shutdown_timeout: 3s"
if start_daemon "$OG_TMP/int.yaml"; then
    stop_daemon INT 8
    is "$DAEMON_RC" 0 "SIGINT: exit status 0"
    log=$(daemon_log)
    d=$(line_no "$log" "Interrupt: draining")
    s=$(line_no "$log" "info  otelgate: stopped")
    check "SIGINT: the log says draining, then stopped" test "$d" -gt 0 -a "$s" -gt "$d"
else
    fail "SIGINT: the daemon starts"
fi

# ---- SIGHUP: no reload yet; keeps running and says so ----
port=$(free_port)
health_config "$OG_TMP/hup.yaml" "$port" "" "shutdown_timeout: 3s"
if start_daemon "$OG_TMP/hup.yaml"; then
    kill -HUP "$DAEMON_PID"
    wait_until 3 eval 'grep -qF "SIGHUP" "$DAEMON_LOG"'
    sleep 0.2
    alive=no
    proc_alive "$DAEMON_PID" && alive=yes
    http GET "$DAEMON_URL"
    is "$alive:$HTTP_CODE" "yes:200" "SIGHUP: still running, health check still 200"
    contains "$(daemon_log)" \
        "warn  otelgate: SIGHUP: configuration reload is not supported yet; restart to apply changes" \
        "SIGHUP: the log warns that reload is not supported"
    stop_daemon TERM 8
    is "$DAEMON_RC" 0 "SIGHUP then SIGTERM: exit status 0 (SIGHUP did not count as a first signal)"
else
    fail "SIGHUP: the daemon starts"
fi

sanitizer_clean
