#!/bin/sh
# validate.sh: --validate on good and bad files. A bad file must give exit 1
# and exactly the `file:line:col: message` line DESIGN.md promises; a good
# one `configuration OK`, exit 0, without opening a port or a directory.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

ncfg=0
VCASE_ENV=()

# vcase [--first] DESC RC EXPECTED_STDERR < CONFIG: writes CONFIG to a new
# file F, runs otelgate --validate -c F and checks the exit status, stdout
# ("configuration OK" when RC is 0, else nothing) and stderr, in which @F@
# stands for the file's path. With --first only stderr's first line must
# equal EXPECTED_STDERR (later lines may follow up on the first).
vcase()
{
    local first=0
    [ "$1" = --first ] && { first=1; shift; }
    local desc=$1 rc=$2 experr=$3 expout='' goterr
    ncfg=$((ncfg + 1))
    F=$OG_TMP/case$ncfg.yaml
    write_file "$F"
    experr=${experr//@F@/$F}
    [ "$rc" = 0 ] && expout="configuration OK"
    run_cmd 10 env -u OG_E2E_UNSET "${VCASE_ENV[@]}" "$OTELGATE" --validate -c "$F"
    goterr=$ERR
    [ "$first" = 1 ] && goterr=$(printf '%s\n' "$ERR" | head -n 1)
    if [ "$RC" = "$rc" ] && [ "$OUT" = "$expout" ] && [ "$goterr" = "$experr" ]; then
        pass "$desc"
    else
        fail "$desc" "config:" "$(cat "$F")" "expected: exit $rc, stdout '$expout', stderr$([ $first = 1 ] && echo ' (first line)'):" \
            "$experr" "got: exit $RC, stdout '$OUT', stderr:" "$ERR"
    fi
}

# ---- a good file: OK, and nothing is opened ----
port=$(free_port)
spool=$OG_TMP/spool-never-created
health_config "$OG_TMP/good.yaml" "$port" "$spool"
# Hold the health port with a listener: a validate that tried to bind it
# would fail with "Address already in use" instead of saying OK.
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
open(sys.argv[2], "w").close()
time.sleep(30)
' "$port" "$OG_TMP/holder.ready" &
holder=$!
og_pids="$og_pids $holder"
if wait_until 10 test -e "$OG_TMP/holder.ready"; then
    run_cmd 10 "$OTELGATE" --validate -c "$OG_TMP/good.yaml"
    is "$RC:$OUT:$ERR" "0:configuration OK:" "--validate on a good file: configuration OK, exit 0 (with its port held by another process)"
    run_cmd 10 "$OTELGATE" --print-config -c "$OG_TMP/good.yaml"
    is "$RC:$ERR" "0:" "--print-config on the same file: exit 0, binds nothing"
else
    fail "--validate on a good file (port holder did not start)"
    fail "--print-config on the same file (port holder did not start)"
fi
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
check "--validate and --print-config create no spool directory" test ! -e "$spool"
run_cmd 10 "$OTELGATE" --validate -c "$OG_TMP/good.yaml"
check "--validate leaves nothing listening on the health port" eval '[ "$RC:$OUT" = "0:configuration OK" ] && ! port_listening '"$port"

# ---- keys ----
vcase "typo key under extensions.health_check suggests the right one" 1 \
    "@F@:3:5: unknown key 'endpiont' in extensions.health_check (did you mean 'endpoint'?)" <<'EOF'
extensions:
  health_check:
    endpiont: localhost:14000
service:
  extensions: [health_check]
EOF
vcase "unknown top-level key suggests the right one" 1 \
    "@F@:1:1: unknown top-level key 'extension' (did you mean 'extensions'?)" <<'EOF'
extension:
  health_check:
service:
  extensions: []
EOF
vcase "unknown top-level key far from any name: no suggestion" 1 \
    "@F@:3:1: unknown top-level key 'zzzzqqqq'" <<'EOF'
service:
  workers: 1
zzzzqqqq: 1
EOF
vcase "typo in service suggests the right key" 1 \
    "@F@:2:3: unknown key 'shutdown_timout' in service (did you mean 'shutdown_timeout'?)" <<'EOF'
service:
  shutdown_timout: 5s
EOF

# ---- wrong kinds ----
vcase "a mapping where a scalar is expected" 1 \
    "@F@:4:7: extensions.health_check.endpoint: expected a value, found a mapping" <<'EOF'
extensions:
  health_check:
    endpoint:
      host: localhost
service:
  extensions: [health_check]
EOF
vcase "a list where a mapping is expected" 1 \
    "@F@:1:10: service: expected a mapping, found a list" <<'EOF'
service: [workers]
EOF
vcase "a scalar where a list of ids is expected" 1 \
    "@F@:2:15: service.extensions: extensions must be a list of ids, found a scalar" <<'EOF'
service:
  extensions: health_check
EOF

# ---- values ----
vcase "service.workers: 0 is out of range" 1 "@F@:2:12: service.workers: '0' is out of range (1 to 256)" <<'EOF'
service:
  workers: 0
EOF
vcase "service.workers: 1000 is out of range" 1 "@F@:2:12: service.workers: '1000' is out of range (1 to 256)" <<'EOF'
service:
  workers: 1000
EOF
vcase "service.workers: not an integer" 1 "@F@:2:12: service.workers: 'two': not an integer" <<'EOF'
service:
  workers: two
EOF
vcase "shutdown_timeout: 2h is out of range" 1 \
    "@F@:2:21: service.shutdown_timeout: '2h' is out of range (0s to 1h)" <<'EOF'
service:
  shutdown_timeout: 2h
EOF
vcase "a bad duration unit" 1 \
    "@F@:2:21: service.shutdown_timeout: '10x': unknown duration unit (use ms, s, m or h)" <<'EOF'
service:
  shutdown_timeout: 10x
EOF
vcase "a duration without unit" 1 \
    "@F@:2:19: service.shutdown_grace: '5': missing unit in duration (write 5s, 200ms, 1m or 1h)" <<'EOF'
service:
  shutdown_grace: 5
EOF
vcase "a negative duration" 1 "@F@:2:21: service.shutdown_timeout: '-1s': negative duration" <<'EOF'
service:
  shutdown_timeout: -1s
EOF
vcase "an enum value that is not allowed" 1 \
    "@F@:4:14: service.telemetry.logs.level: 'loud' is not one of: debug, info, warn, error" <<'EOF'
service:
  telemetry:
    logs:
      level: loud
EOF
vcase "durations, workers and log level at legal values" 0 "" <<'EOF'
service:
  workers: 256
  shutdown_timeout: 1h
  shutdown_grace: 1500ms
  telemetry:
    logs:
      level: warn
EOF

# ---- endpoints ----
vcase "an endpoint without port" 1 \
    "@F@:3:15: extensions.health_check.endpoint: 'localhost': expected 'host:port' (for example localhost:4317)" <<'EOF'
extensions:
  health_check:
    endpoint: localhost
service:
  extensions: [health_check]
EOF
vcase "an endpoint with port 70000" 1 \
    "@F@:3:15: extensions.health_check.endpoint: 'localhost:70000': port must be a number from 1 to 65535" <<'EOF'
extensions:
  health_check:
    endpoint: localhost:70000
service:
  extensions: [health_check]
EOF
vcase "an endpoint with an empty port" 1 \
    "@F@:3:15: extensions.health_check.endpoint: 'localhost:': port must be a number from 1 to 65535" <<'EOF'
extensions:
  health_check:
    endpoint: "localhost:"
service:
  extensions: [health_check]
EOF
vcase "an IPv6 endpoint without brackets" 1 \
    "@F@:3:15: extensions.health_check.endpoint: '::1:4317': an IPv6 address needs brackets: '[::1]:4317'" <<'EOF'
extensions:
  health_check:
    endpoint: ::1:4317
service:
  extensions: [health_check]
EOF
vcase "health_check.path without a leading slash (with its position)" 1 \
    "@F@:3:11: extensions.health_check.path: 'ready' must start with '/'" <<'EOF'
extensions:
  health_check:
    path: ready
service:
  extensions: [health_check]
EOF

# ---- components and references ----
vcase --first "unknown extension type suggests the right one" 1 \
    "@F@:2:3: unknown extension type 'helth_check' (did you mean 'health_check'?)" <<'EOF'
extensions:
  helth_check:
service:
  extensions: [helth_check]
EOF
vcase "unknown extension type far from any: lists the known ones" 1 \
    "@F@:2:3: unknown extension type 'zzzzzzzzzz' (this build has: health_check, spool)" <<'EOF'
extensions:
  zzzzzzzzzz:
service:
  extensions: []
EOF
vcase "an id with an empty name after the slash" 1 \
    "@F@:2:3: invalid extension id 'health_check/' (write type or type/name)" <<'EOF'
extensions:
  health_check/:
service:
  extensions: []
EOF
vcase "two instances of a type with type/name ids" 0 "" <<'EOF'
extensions:
  health_check/a:
    endpoint: 127.0.0.1:14001
  health_check/b:
    endpoint: 127.0.0.1:14002
service:
  extensions: [health_check/a, health_check/b]
EOF
vcase "a pipeline naming undefined components" 1 \
    "@F@:4:19: pipeline 'traces' names receiver 'otlp', which is not defined in receivers
@F@:5:19: pipeline 'traces' names exporter 'otlp', which is not defined in exporters" <<'EOF'
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
EOF
vcase "service.extensions naming an undefined extension" 1 \
    "@F@:2:16: service.extensions names extension 'health_check', which is not defined in extensions" <<'EOF'
service:
  extensions: [health_check]
EOF
vcase "service.extensions listing one twice" 1 \
    "@F@:4:30: service.extensions lists extension 'health_check' twice" <<'EOF'
extensions:
  health_check:
service:
  extensions: [health_check, health_check]
EOF
vcase "an invalid pipeline id" 1 \
    "@F@:3:5: invalid pipeline id 'spans' (write traces, metrics or logs, optionally /name)" <<'EOF'
service:
  pipelines:
    spans:
      receivers: [otlp]
EOF
vcase "an unused extension: a warning, still OK" 0 \
    "@F@:2:3: warning: extension 'health_check' is defined but not listed in service.extensions" <<'EOF'
extensions:
  health_check:
  spool:
    directory: /nonexistent/otelgate-e2e
service:
  extensions: [spool]
EOF
vcase "a connectors section is refused" 1 "@F@:2:3: connectors are not supported by otelgate" <<'EOF'
connectors:
  forward:
service:
  extensions: []
EOF
vcase "an empty connectors section is accepted" 0 "" <<'EOF'
connectors: {}
service:
  extensions: []
EOF

# ---- YAML itself ----
vcase "a duplicate key" 1 "@F@:3:3: duplicate key 'workers'" <<'EOF'
service:
  workers: 1
  workers: 2
EOF
vcase "a duplicate top-level section" 1 "@F@:3:1: duplicate key 'service'" <<'EOF'
service:
  workers: 1
service:
  workers: 2
EOF
vcase "a tab in indentation" 1 "@F@:2:1: tab character in indentation (YAML indents with spaces only)" \
    < <(printf 'service:\n\tworkers: 1\n')
vcase "an empty file" 1 "@F@: configuration is empty" </dev/null
vcase "a file of comments only" 1 "@F@: configuration is empty" <<'EOF'
# nothing here

# but comments
EOF
vcase "a file that is not YAML" 1 \
    "@F@:2:1: not valid YAML: did not find expected ',' or ']' while parsing a flow sequence" <<'EOF'
a: [b
EOF
vcase "a top-level scalar" 1 \
    "@F@:1:1: the top level must be a mapping of sections (receivers, exporters, service, ...)" <<'EOF'
hello
EOF
vcase "a top-level list" 1 \
    "@F@:1:1: the top level must be a mapping of sections (receivers, exporters, service, ...)" <<'EOF'
- service
- extensions
EOF

# ---- files ----
run_cmd 10 "$OTELGATE" --validate -c "$OG_TMP/missing.yaml"
is "$RC:$OUT:$ERR" "1::$OG_TMP/missing.yaml: cannot read: No such file or directory" "a missing file"
mkdir "$OG_TMP/adir.yaml"
run_cmd 10 "$OTELGATE" --validate -c "$OG_TMP/adir.yaml"
is "$RC:$OUT:$ERR" "1::$OG_TMP/adir.yaml: cannot read: Is a directory" "a directory given as the file"
if as_unprivileged; then
    printf 'service:\n  workers: 1\n' >"$OG_TMP/unreadable.yaml"
    chmod 000 "$OG_TMP/unreadable.yaml"
    run_cmd 10 "${UNPRIV[@]}" "$OTELGATE" --validate -c "$OG_TMP/unreadable.yaml"
    is "$RC:$OUT:$ERR" "1::$OG_TMP/unreadable.yaml: cannot read: Permission denied" "an unreadable file (mode 000)"
    chmod 644 "$OG_TMP/unreadable.yaml"
    run_cmd 10 "${UNPRIV[@]}" "$OTELGATE" --validate -c "$OG_TMP/unreadable.yaml"
    is "$RC:$OUT:$ERR" "0:configuration OK:" "the same file made readable is OK (the refusal was the mode)"
else
    skip "an unreadable file" "$UNPRIV_WHY"
    skip "the same file made readable is OK" "$UNPRIV_WHY"
fi

# ---- ${...} expansion; --print-config shows the result ----
env_config()   # VALUE: a config whose spool directory is VALUE
{
    printf 'extensions:\n  spool:\n    directory: %s\nservice:\n  extensions: [spool]\n' "$1"
}
vcase '${env:X} unset: the error names X' 1 \
    "@F@:3:16: environment variable 'OG_E2E_UNSET' is not set (write \${env:OG_E2E_UNSET:-default} to give a default)" \
    < <(env_config '${env:OG_E2E_UNSET}')
vcase '${X} unset: the error names X' 1 \
    "@F@:3:16: environment variable 'OG_E2E_UNSET' is not set (write \${env:OG_E2E_UNSET:-default} to give a default)" \
    < <(env_config '/a/${OG_E2E_UNSET}')
vcase '${X:-default} without env: is refused with the fix' 1 \
    "@F@:3:16: '\${OG_E2E_UNSET:-...}' needs the env: prefix (write \${env:OG_E2E_UNSET:-default})" \
    < <(env_config '${OG_E2E_UNSET:-x}')
vcase 'an unsupported provider ${file:...}' 1 \
    "@F@:3:16: unsupported config provider 'file' (only env is supported)" < <(env_config '${file:/etc/passwd}')
vcase 'an unterminated ${' 1 "@F@:3:16: unterminated '\${' in value" < <(env_config '/x${env:HOME')

# print_dir VALUE [VAR=VAL...]: the spool directory --print-config shows.
print_dir()
{
    local v=$1
    shift
    env_config "$v" >"$OG_TMP/expand.yaml"
    run_cmd 10 env -u OG_E2E_UNSET "$@" "$OTELGATE" --print-config -c "$OG_TMP/expand.yaml"
    [ "$RC" = 0 ] || { echo "exit $RC: $ERR"; return; }
    printf '%s\n' "$OUT" | sed -n 's/^    directory: //p'
}
is "$(print_dir '${env:OG_E2E_UNSET:-/var/tmp/dflt}')" /var/tmp/dflt '${env:X:-default} unset: the default is used'
is "$(print_dir '${env:OG_E2E_SET:-/var/tmp/dflt}' OG_E2E_SET=)" /var/tmp/dflt \
    '${env:X:-default} set but empty: the default is used (as in the shell)'
is "$(print_dir '${env:OG_E2E_SET:-/var/tmp/dflt}' OG_E2E_SET=/srv/q)" /srv/q '${env:X:-default} set: the value is used'
is "$(print_dir '${OG_E2E_SET}/spool' OG_E2E_SET=/srv/q)" /srv/q/spool '${X} set: the value is used'
is "$(print_dir '${env:OG_E2E_SET}/spool' OG_E2E_SET=/srv/q)" /srv/q/spool '${env:X} set: the value is used'
# --print-config doubles a '$' so that its output expands back to the same
# value; the value itself is checked on disk by shutdown.sh.
is "$(print_dir '/srv/a$$b')" '/srv/a$$b' '$$ is a literal $ (printed escaped again as $$)'
is "$(print_dir '/srv/${OG_E2E_SET}' 'OG_E2E_SET=x$${y}')" '/srv/x$$$${y}' \
    'an expanded value is not expanded again (its $ are printed escaped)'
env_config '/srv/${OG_E2E_SET}' >"$OG_TMP/expand.yaml"
run_cmd 10 env 'OG_E2E_SET=x$${y}' "$OTELGATE" --print-config -c "$OG_TMP/expand.yaml"
printf '%s\n' "$OUT" >"$OG_TMP/reprint.yaml"
run_cmd 10 env -u OG_E2E_SET "$OTELGATE" --print-config -c "$OG_TMP/reprint.yaml"
is "$RC:$(printf '%s\n' "$OUT" | sed -n 's/^    directory: //p')" '0:/srv/x$$$${y}' \
    'the printed config loads back to the same value, with the variable unset'

sanitizer_clean
