# lib.sh: shared helpers of the end-to-end tests, sourced by each test after
# its re-exec into bash. They print TAP, run the real otelgate on loopback
# ports nobody else uses, and bound every wait so that no test can hang.
#
# Environment (set by `make check`, see AM_TESTS_ENVIRONMENT in Makefile.am):
#   OTELGATE     absolute path of the binary under test (required)
#   OG_SRCDIR    absolute source directory (default: two levels above this file)
#   OG_BUILDDIR  absolute build directory (not used to find anything)
#   MANDOC       mandoc(1), for the man page tests
#   OG_E2E_WAIT  seconds a daemon may take to answer its health check (10)
#   OG_E2E_KEEP  when set, the temporary directory is kept for inspection

# ---------------------------------------------------------------- TAP ----

og_n=0          # cases printed so far
og_failed=0     # cases that failed
og_planned=0    # plan already printed

# The last started daemon; start_daemon sets them, stop_daemon reads them.
DAEMON_PID=
DAEMON_LOG=
DAEMON_URL=
DAEMON_RC=

diag()
{
    printf '%s\n' "$@" | sed 's/^/# /'
}

pass()
{
    og_n=$((og_n + 1))
    printf 'ok %d - %s\n' "$og_n" "$1"
}

# fail DESC [DIAG...]: a failed case, its diagnostics, then the log of the
# last daemon (if any) so the reader sees what the daemon said.
fail()
{
    og_n=$((og_n + 1))
    og_failed=$((og_failed + 1))
    printf 'not ok %d - %s\n' "$og_n" "$1"
    shift
    [ $# -gt 0 ] && diag "$@"
    if [ -n "$DAEMON_LOG" ] && [ -s "$DAEMON_LOG" ]; then
        diag "---- daemon log $DAEMON_LOG (last 40 lines) ----"
        tail -n 40 "$DAEMON_LOG" | sed 's/^/# /'
    fi
    return 0
}

skip()
{
    og_n=$((og_n + 1))
    printf 'ok %d - %s # SKIP %s\n' "$og_n" "$1" "$2"
}

# check DESC CMD...: passes when CMD succeeds.
check()
{
    local desc=$1
    shift
    if "$@"; then pass "$desc"; else fail "$desc" "command failed: $*"; fi
}

# is GOT EXPECTED DESC: exact string equality.
is()
{
    if [ "$1" = "$2" ]; then
        pass "$3"
    else
        fail "$3" "expected: $(printf '%s' "$2" | sed -n l)" "got:      $(printf '%s' "$1" | sed -n l)"
    fi
}

# has_line TEXT LINE DESC: LINE is one whole line of TEXT.
has_line()
{
    if printf '%s\n' "$1" | grep -qxF -- "$2"; then
        pass "$3"
    else
        fail "$3" "no line equal to: $2" "in:" "$1"
    fi
}

# contains TEXT SUBSTRING DESC
contains()
{
    case $1 in
    *"$2"*) pass "$3" ;;
    *) fail "$3" "missing: $2" "in:" "$1" ;;
    esac
}

# matches TEXT ERE DESC: some line of TEXT matches the extended regex.
matches()
{
    if printf '%s\n' "$1" | grep -qE -- "$2"; then
        pass "$3"
    else
        fail "$3" "no line matches: $2" "in:" "$1"
    fi
}

# all_true DESC COND_TEXT...: for compound checks built by the caller; each
# argument is "0" (true) or a diagnostic line explaining what went wrong.
# Example: all_true "x" "$( [ $rc = 0 ] && echo 0 || echo "rc=$rc")"
all_true()
{
    local desc=$1 bad=
    shift
    for c in "$@"; do
        [ "$c" = 0 ] || bad="$bad${bad:+
}$c"
    done
    if [ -z "$bad" ]; then pass "$desc"; else fail "$desc" "$bad"; fi
}

done_testing()
{
    [ "$og_planned" = 1 ] && return 0
    og_planned=1
    printf '1..%d\n' "$og_n"
}

# ------------------------------------------------------------ set-up ----

og_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${OG_SRCDIR:=$(cd "$og_lib_dir/../.." && pwd)}"
: "${OG_E2E_WAIT:=10}"
export OG_SRCDIR

if [ -z "${OTELGATE:-}" ] || [ ! -x "$OTELGATE" ]; then
    echo "Bail out! OTELGATE is not set to an executable otelgate (got '${OTELGATE:-}'); run through make check or set it"
    exit 1
fi
case $OTELGATE in
/*) ;;
*) OTELGATE=$(cd "$(dirname "$OTELGATE")" && pwd)/$(basename "$OTELGATE") ;;
esac
export OTELGATE

# The daemon's log must not depend on the caller's environment.
unset OTELGATE_CONFIG OTELGATE_LOG_LEVEL STATE_DIRECTORY
# curl must never go through a proxy to reach loopback.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

OG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/otelgate-e2e.XXXXXX") || {
    echo "Bail out! cannot create a temporary directory"
    exit 1
}
og_pids=""      # every process started in the background, killed on exit
og_mounts=""    # mount points (a small tmpfs for a full disk), unmounted on exit once the processes are gone
og_seq=0        # numbers the log files

og_cleanup()
{
    local p
    for p in $og_pids; do
        proc_alive "$p" && kill -KILL "$p" 2>/dev/null
    done
    for p in $og_pids; do
        wait "$p" 2>/dev/null
    done
    for p in $og_mounts; do
        mountpoint -q "$p" 2>/dev/null && { umount "$p" 2>/dev/null || umount -l "$p" 2>/dev/null; }
    done
    if [ -n "${OG_E2E_KEEP:-}" ]; then
        diag "temporary directory kept: $OG_TMP"
    else
        chmod -R u+rwx "$OG_TMP" 2>/dev/null
        rm -rf "$OG_TMP"
    fi
    done_testing
    # tap-driver counts the "not ok" lines; the exit status is ours to keep 0.
    exit 0
}
trap og_cleanup EXIT
trap 'diag "interrupted"; exit 0' INT TERM HUP

# ------------------------------------------------------------ helpers ----

# proc_alive PID: true while PID runs (a zombie, exited but not yet
# reaped by wait, counts as dead: kill -0 would still succeed on it).
proc_alive()
{
    local state
    [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# wait_until SECONDS CMD...: polls CMD every 50 ms; false when time runs out.
wait_until()
{
    local limit=$1 start now
    shift
    start=$(date +%s%N)
    while :; do
        "$@" && return 0
        now=$(date +%s%N)
        [ $(((now - start) / 1000000)) -ge $((limit * 1000)) ] && return 1
        sleep 0.05
    done
}

# now_ms: milliseconds, for measuring short intervals.
now_ms()
{
    echo $(($(date +%s%N) / 1000000))
}

# free_port: prints a loopback TCP port that is free now. It is drawn at
# random below the kernel's ephemeral range, so outgoing connections (curl,
# the daemon's own) never take it between this check and its use, and never
# the default 13133 or a port this test already handed out.
og_ports=""
free_port()
{
    local p
    # shellcheck disable=SC2086  # one argument per port
    p=$(python3 - $og_ports <<'EOF'
import random, socket, sys
taken = {int(a) for a in sys.argv[1:]} | {13133, 4317, 4318}
try:
    lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
except OSError:
    lo, hi = 32768, 60999
a, b = (20000, lo) if lo > 21000 else (hi + 1, 65535)
for _ in range(500):
    p = random.randrange(a, b)
    if p in taken:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))   # no SO_REUSEADDR: TIME_WAIT counts as taken
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    sys.exit(0)
sys.exit(1)
EOF
) || { echo "free_port: no free port found" >&2; return 1; }
    og_ports="$og_ports $p"
    echo "$p"
}

# port_listening PORT: true when something accepts on 127.0.0.1:PORT.
port_listening()
{
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# run_cmd SECONDS CMD...: runs CMD in the foreground, bounded in time; sets
# RC, OUT (stdout) and ERR (stderr). A command still running after SECONDS is
# killed and RC is 124 (137 if it had to be killed hard).
RC='' OUT='' ERR=''
run_cmd()
{
    local limit=$1
    shift
    og_seq=$((og_seq + 1))
    timeout -k 2 "$limit" "$@" >"$OG_TMP/run.$og_seq.out" 2>"$OG_TMP/run.$og_seq.err" </dev/null
    RC=$?
    OUT=$(cat "$OG_TMP/run.$og_seq.out")
    ERR=$(cat "$OG_TMP/run.$og_seq.err")
    return 0
}

# write_file PATH: stdin to PATH.
write_file()
{
    cat >"$1"
}

# health_url_of CONFIG: the URL of the health check CONFIG sets up, from
# the daemon's own --print-config (so defaults count as the daemon sees them).
health_url_of()
{
    "$OTELGATE" --print-config -c "$1" 2>/dev/null | awk '
        /^[^ #]/ { section = $1 }
        section == "extensions:" && /^  [^ ]/ { ext = $1 }
        section == "extensions:" && ext ~ /^health_check(\/.*)?:$/ && $1 == "endpoint:" { ep = $2 }
        section == "extensions:" && ext ~ /^health_check(\/.*)?:$/ && $1 == "path:" { path = $2 }
        END {
            gsub(/"/, "", ep); gsub(/"/, "", path)
            if (ep != "") print "http://" ep (path == "" ? "/" : path)
        }'
}

# http METHOD URL [CURL ARGS...]: one request on a new connection, bounded.
# Sets HTTP_CODE ("000" when nothing answered), HTTP_BODY, HTTP_HEADERS.
HTTP_CODE='' HTTP_BODY='' HTTP_HEADERS=''
http()
{
    local method=$1 url=$2
    shift 2
    local m=(-X "$method")
    [ "$method" = HEAD ] && m=(-I)
    HTTP_CODE=$(curl -s --noproxy '*' --max-time 5 "${m[@]}" -D "$OG_TMP/http.headers" \
        -o "$OG_TMP/http.body" -w '%{http_code}' "$@" "$url" 2>/dev/null)
    [ -n "$HTTP_CODE" ] || HTTP_CODE=000
    HTTP_BODY=$(cat "$OG_TMP/http.body" 2>/dev/null)
    HTTP_HEADERS=$(tr -d '\r' <"$OG_TMP/http.headers" 2>/dev/null)
    rm -f "$OG_TMP/http.body" "$OG_TMP/http.headers"
}

og_health_is_200()
{
    [ "$(curl -s --noproxy '*' --max-time 1 -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" = 200 ]
}

og_daemon_gone_or_healthy()
{
    ! proc_alive "$DAEMON_PID" || og_health_is_200 "$DAEMON_URL"
}

# start_daemon CONFIG [ARGS...]: starts "$OTELGATE -c CONFIG ARGS" in the
# background, stderr to a log file, and waits (OG_E2E_WAIT seconds at most)
# until its health check answers 200. Sets DAEMON_PID, DAEMON_LOG and
# DAEMON_URL. Returns 1 (after printing why as diagnostics) when the daemon
# exited or did not become healthy in time; a still-running one is killed.
start_daemon()
{
    local config=$1
    shift
    og_seq=$((og_seq + 1))
    DAEMON_LOG=$OG_TMP/daemon.$og_seq.log
    DAEMON_RC=
    DAEMON_URL=$(health_url_of "$config")
    if [ -z "$DAEMON_URL" ]; then
        DAEMON_PID=
        diag "start_daemon: $config enables no health_check (or is invalid):"
        "$OTELGATE" --validate -c "$config" 2>&1 | sed 's/^/#   /'
        return 1
    fi
    "$OTELGATE" -c "$config" "$@" >"$DAEMON_LOG.stdout" 2>"$DAEMON_LOG" </dev/null &
    DAEMON_PID=$!
    og_pids="$og_pids $DAEMON_PID"
    wait_until "$OG_E2E_WAIT" og_daemon_gone_or_healthy
    if ! proc_alive "$DAEMON_PID"; then
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_RC=$?
        diag "start_daemon: otelgate exited with status $DAEMON_RC before its health check answered"
        diag "---- daemon log ----"
        sed 's/^/# /' "$DAEMON_LOG"
        return 1
    fi
    if ! og_health_is_200 "$DAEMON_URL"; then
        diag "start_daemon: no 200 from $DAEMON_URL within ${OG_E2E_WAIT}s"
        diag "---- daemon log ----"
        sed 's/^/# /' "$DAEMON_LOG"
        kill -KILL "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_RC=killed
        return 1
    fi
    return 0
}

# wait_exit PID SECONDS: waits for PID (a child of this shell) to exit; sets
# OG_RC to its status. Returns 1 if it still runs after SECONDS (it is then
# killed with SIGKILL and OG_RC is "timeout").
OG_RC=
wait_exit()
{
    if wait_until "$2" eval '! proc_alive '"$1"; then
        wait "$1" 2>/dev/null
        OG_RC=$?
        og_forget "$1"
        return 0
    fi
    kill -KILL "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    OG_RC=timeout
    og_forget "$1"
    return 1
}

# og_forget PID: a process reaped is no longer ours to kill at exit: its PID may belong to another process
# by then (a kill -9 loop reaps an otelgate every second or so).
og_forget()
{
    local p rest=
    for p in $og_pids; do
        [ "$p" = "$1" ] || rest="$rest $p"
    done
    og_pids=$rest
}

# stop_daemon [SIGNAL [SECONDS]]: sends SIGNAL (TERM) to the last daemon and
# waits for it to exit (15 s at most). Sets DAEMON_RC to its exit status, or
# "timeout" after killing it. Returns 1 on a timeout.
stop_daemon()
{
    local sig=${1:-TERM} limit=${2:-15}
    [ -n "$DAEMON_PID" ] || return 1
    kill -s "$sig" "$DAEMON_PID" 2>/dev/null
    wait_exit "$DAEMON_PID" "$limit"
    local r=$?
    DAEMON_RC=$OG_RC
    return $r
}

# stop_within MS NAME [SIGNAL [SECONDS]]: stop_daemon, then one TAP case NAME: it exited 0 within MS ms.
stop_within()
{
    local limit=$1 name=$2 t0 t1
    shift 2
    t0=$(now_ms)
    stop_daemon "$@"
    t1=$(now_ms)
    all_true "$name" \
        "$([ "$DAEMON_RC" = 0 ] && echo 0 || echo "exit status $DAEMON_RC")" \
        "$([ $((t1 - t0)) -le "$limit" ] && echo 0 || echo "took $((t1 - t0)) ms")"
}

# daemon_log: the log of the last daemon, as text.
daemon_log()
{
    cat "$DAEMON_LOG" 2>/dev/null
}

# sanitizer_clean: one TAP case saying no ASan/UBSan/LSan report appeared
# in any output of this test (daemon logs and stderr of foreground runs).
sanitizer_clean()
{
    local hits
    hits=$(grep -lE 'Sanitizer|runtime error:' "$OG_TMP"/*.log "$OG_TMP"/*.err 2>/dev/null)
    if [ -z "$hits" ]; then
        pass "no sanitizer report in any otelgate output"
    else
        local f
        fail "no sanitizer report in any otelgate output" "reports in: $hits"
        for f in $hits; do
            grep -E -A 12 'Sanitizer|runtime error:' "$f" | head -n 40 | sed 's/^/# /'
        done
    fi
}

# health_config PATH PORT [SPOOLDIR] [EXTRA SERVICE LINES...]: writes a
# config with health_check on 127.0.0.1:PORT and, when SPOOLDIR is given,
# a spool there. Extra arguments become lines of the service section.
health_config()
{
    local path=$1 port=$2 spool=${3:-}
    shift 2
    [ $# -gt 0 ] && shift
    {
        echo "extensions:"
        echo "  health_check:"
        echo "    endpoint: 127.0.0.1:$port"
        if [ -n "$spool" ]; then
            echo "  spool:"
            echo "    directory: $spool"
        fi
        echo "service:"
        if [ -n "$spool" ]; then
            echo "  extensions: [health_check, spool]"
        else
            echo "  extensions: [health_check]"
        fi
        for l in "$@"; do
            echo "  $l"
        done
    } >"$path"
}

# as_unprivileged: sets UNPRIV to a command prefix under which file modes
# apply (root ignores them): empty when not root, else setpriv to nobody.
# Returns 1 with the reason in UNPRIV_WHY when that cannot be arranged.
UNPRIV=() UNPRIV_WHY=
as_unprivileged()
{
    UNPRIV=()
    UNPRIV_WHY=
    [ "$(id -u)" = 0 ] || return 0
    if ! command -v setpriv >/dev/null 2>&1; then
        UNPRIV_WHY="running as root and setpriv (util-linux) is not installed"
        return 1
    fi
    UNPRIV=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    chmod 755 "$OG_TMP"
    if ! "${UNPRIV[@]}" test -x "$OG_TMP" 2>/dev/null; then
        UNPRIV_WHY="user nobody cannot reach $OG_TMP"
        return 1
    fi
    if ! "${UNPRIV[@]}" test -x "$OTELGATE" 2>/dev/null; then
        UNPRIV_WHY="user nobody cannot run $OTELGATE"
        return 1
    fi
    return 0
}
