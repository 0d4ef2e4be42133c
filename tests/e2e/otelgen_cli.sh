#!/bin/sh
# otelgen_cli.sh: otelgen's own command line, with no server anywhere: --version, help, usage errors (exit 2,
# usage on stderr, nothing on stdout), a missing or malformed payload file, and unreachable endpoints
# (exit 1 with one clear line on stderr and the summary on stdout).
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
if [ -z "${OTELGEN:-}" ] || [ ! -x "$OTELGEN" ]; then
    echo "Bail out! OTELGEN is not set to an executable otelgen (got '${OTELGEN:-}'); run through make check or set it"
    exit 1
fi
# lib.sh wants a daemon binary; this test never starts one, so otelgen can stand in when otelgate is absent.
[ -n "${OTELGATE:-}" ] && [ -x "$OTELGATE" ] || OTELGATE=$OTELGEN
. "$(dirname "$0")/lib.sh"
cd "$OG_TMP" || exit 0

SEND_USAGE='usage: otelgen send [--protocol P] [--gzip] [--signal S] [--file PAYLOAD] [-n N] [-c CONNS]'
MAIN_USAGE='usage: otelgen COMMAND [OPTIONS] | --version | -h'

# ---- --version and help ----
run_cmd 10 "$OTELGEN" --version
pkg_version=$(sed -n 's/^AC_INIT(\[otelgate\], *\[\([^]]*\)\].*/\1/p' "$OG_SRCDIR/configure.ac")
is "$RC:$(printf '%s\n' "$OUT" | head -n 1):$ERR" "0:otelgen ${pkg_version:-?}:" \
    "--version: exit 0, first line otelgen and the version of configure.ac"
for lib in libevent nghttp2 protobuf-c zlib http-parser; do
    matches "$OUT" "^$lib [0-9]+\\.[0-9]+" "--version lists $lib with a version"
done

run_cmd 10 "$OTELGEN" -h
all_true "-h: the command list on stdout, exit 0, nothing on stderr" \
    "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC")" \
    "$([ "$(printf '%s\n' "$OUT" | head -n 1)" = "$MAIN_USAGE" ] && echo 0 || echo "stdout: $OUT")" \
    "$(printf '%s\n' "$OUT" | grep -qE '^  send ' && echo 0 || echo "no send command listed")" \
    "$([ -z "$ERR" ] && echo 0 || echo "stderr: $ERR")"
h_out=$OUT
run_cmd 10 "$OTELGEN" --help
is "$RC:$OUT" "0:$h_out" "--help prints the same as -h"

run_cmd 10 "$OTELGEN" send -h
all_true "send -h: usage on stdout, exit 0, nothing on stderr" \
    "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC")" \
    "$([ "$(printf '%s\n' "$OUT" | head -n 1)" = "$SEND_USAGE" ] && echo 0 || echo "stdout: $OUT")" \
    "$([ -z "$ERR" ] && echo 0 || echo "stderr: $ERR")"
missing=
for opt in --protocol --gzip --signal --file -n -c -H --header --spans-per-request --attributes --timeout --help \
    --rate --concurrency --duration --threads --tenants --tenant-header --retry --retry-max-elapsed --json \
    grpc http/protobuf http/json traces metrics logs ENDPOINT 4317 4318; do
    printf '%s\n' "$OUT" | grep -qE -- "(^|[ ,(])$opt([ ,);:]|$)" || missing="$missing $opt"
done
is "$missing" "" "send -h explains every option, protocol, signal and the default ports"
run_cmd 10 "$OTELGEN" send --help
is "$RC" 0 "send --help exits 0"

# ---- usage errors: exit 2, first stderr line says what is wrong, usage follows, stdout empty ----
usage_error()   # DESC FIRST_STDERR_LINE_ERE USAGE_LINE ARGS...
{
    local desc=$1 first=$2 usage=$3
    shift 3
    run_cmd 10 "$OTELGEN" "$@"
    all_true "$desc" \
        "$([ "$RC" = 2 ] && echo 0 || echo "exit status $RC, expected 2")" \
        "$([ -z "$OUT" ] && echo 0 || echo "stdout not empty: $OUT")" \
        "$(printf '%s\n' "$ERR" | head -n 1 | grep -qE -- "$first" && echo 0 || echo "first stderr line should match: $first; stderr: $ERR")" \
        "$(printf '%s\n' "$ERR" | grep -qxF -- "$usage" && echo 0 || echo "no usage line on stderr")"
}
usage_error "no command: exit 2" '^otelgen: missing COMMAND$' "$MAIN_USAGE"
usage_error "unknown command: exit 2, names it" "^otelgen: unknown command 'bogus'\$" "$MAIN_USAGE" bogus
usage_error "unknown global option: exit 2" "^otelgen: unrecognized option '--bogus'\$" "$MAIN_USAGE" --bogus
usage_error "send: unknown long option" "^otelgen send: unrecognized option '--bogus'\$" "$SEND_USAGE" \
    send --bogus 127.0.0.1:4317
usage_error "send: unknown short option" "invalid option -- 'x'" "$SEND_USAGE" send -x 127.0.0.1:4317
usage_error "send: option without its argument" "requires an argument" "$SEND_USAGE" send 127.0.0.1:4317 -n
usage_error "send: missing ENDPOINT" '^otelgen send: missing ENDPOINT$' "$SEND_USAGE" send -n 3
usage_error "send: two ENDPOINTs" "^otelgen send: unexpected argument 'b:2'\$" "$SEND_USAGE" send a:1 b:2
usage_error "send: unknown --protocol" \
    "^otelgen send: --protocol 'http' is not one of grpc, http/protobuf, http/json\$" "$SEND_USAGE" \
    send --protocol http 127.0.0.1:4317
usage_error "send: unknown --signal" "^otelgen send: --signal 'spans' is not one of traces, metrics, logs\$" \
    "$SEND_USAGE" send --signal spans 127.0.0.1:4317
for bad in 0 -1 abc 1.5 ''; do
    usage_error "send: -n '$bad' is refused" "^otelgen send: -n '$bad': expects a whole number from 1 to" \
        "$SEND_USAGE" send -n "$bad" 127.0.0.1:4317
done
usage_error "send: -c 0 is refused" "^otelgen send: -c '0': expects a whole number from 1 to 10000\$" \
    "$SEND_USAGE" send -c 0 127.0.0.1:4317
usage_error "send: -c above 10000 is refused" "^otelgen send: -c '10001'" "$SEND_USAGE" send -c 10001 127.0.0.1:4317
usage_error "send: --spans-per-request 0 is refused" "^otelgen send: --spans-per-request '0': expects" \
    "$SEND_USAGE" send --spans-per-request 0 127.0.0.1:4317
usage_error "send: --attributes 65 is refused" "^otelgen send: --attributes '65': expects" \
    "$SEND_USAGE" send --attributes 65 127.0.0.1:4317
usage_error "send: --attributes with --file is refused" "^otelgen send: --attributes is for generated requests" \
    "$SEND_USAGE" send --attributes 2 --file "$OG_TMP/x.pb" 127.0.0.1:4317
usage_error "send: --header without '='" "^otelgen send: --header 'X-Tenant': expects NAME=VALUE\$" \
    "$SEND_USAGE" send --header X-Tenant 127.0.0.1:4317
usage_error "send: --header with a space in the name" "the name may not contain spaces" "$SEND_USAGE" \
    send -H 'X Tenant=a' 127.0.0.1:4317
usage_error "send: --header Content-Length is otelgen's" "otelgen sets this header itself" "$SEND_USAGE" \
    send -H Content-Length=5 127.0.0.1:4317
usage_error "send: --timeout without a unit" "^otelgen send: --timeout '5': missing unit" "$SEND_USAGE" \
    send --timeout 5 127.0.0.1:4317
usage_error "send: --file of an unknown kind" "^otelgen send: --file 'x.txt': unknown kind of file" \
    "$SEND_USAGE" send --file x.txt 127.0.0.1:4317
usage_error "send: a .json file needs http/json" "is OTLP/JSON: it needs --protocol http/json\$" "$SEND_USAGE" \
    send --file traces.json 127.0.0.1:4317
usage_error "send: http/json needs a .json file" "is protobuf: --protocol http/json sends a .json file\$" \
    "$SEND_USAGE" send --protocol http/json --file traces.pb 127.0.0.1:4318
usage_error "send: --spans-per-request with --file" "^otelgen send: --spans-per-request is for generated" \
    "$SEND_USAGE" send --spans-per-request 5 --file traces.pb 127.0.0.1:4317
usage_error "send: https:// is refused (no TLS)" "^otelgen send: ENDPOINT 'https://h:1': https:// is not supported" \
    "$SEND_USAGE" send https://h:1
usage_error "send: a path without http://" "a path needs a URL" "$SEND_USAGE" send h:1/v1/traces
usage_error "send: a URL path with grpc" "gRPC has no use for the path '/v1/traces'\$" "$SEND_USAGE" \
    send http://h:4317/v1/traces
usage_error "send: port out of range" "the port must be a number from 1 to 65535\$" "$SEND_USAGE" send h:65536
usage_error "send: empty host" "^otelgen send: ENDPOINT ':4317': no host\$" "$SEND_USAGE" send :4317

# ---- the load generator's options: bad values and combinations ----
for bad in 0 -5 abc 1e3 0x10 1.2.3 . 20000000 '5/m' ''; do
    usage_error "send: --rate '$bad' is refused" "^otelgen send: --rate '$bad': expects requests a second" \
        "$SEND_USAGE" send --rate "$bad" -n 1 127.0.0.1:4317
done
usage_error "send: --concurrency 0 is refused" "^otelgen send: --concurrency '0': expects a whole number from 1 to" \
    "$SEND_USAGE" send --concurrency 0 -n 1 127.0.0.1:4317
usage_error "send: --threads above 256 is refused" "^otelgen send: --threads '257': expects a whole number from 1 to 256\$" \
    "$SEND_USAGE" send --threads 257 127.0.0.1:4317
usage_error "send: --duration without a unit" "^otelgen send: --duration '5': missing unit" "$SEND_USAGE" \
    send --duration 5 127.0.0.1:4317
usage_error "send: --duration 0 is refused" "^otelgen send: --duration '0': expects a duration from 1ms to 24h\$" \
    "$SEND_USAGE" send --duration 0 127.0.0.1:4317
usage_error "send: --retry-max-elapsed that is not a duration" "^otelgen send: --retry-max-elapsed 'soon': " \
    "$SEND_USAGE" send --retry --retry-max-elapsed soon 127.0.0.1:4317
usage_error "send: -n with --duration" "^otelgen send: -n and --duration both say when to stop: give one of them\$" \
    "$SEND_USAGE" send -n 5 --duration 1s 127.0.0.1:4317
usage_error "send: --rate with --concurrency" \
    "^otelgen send: --rate \\(open loop\\) and --concurrency \\(closed loop\\) do not go together\$" \
    "$SEND_USAGE" send --rate 10 --concurrency 2 --duration 1s 127.0.0.1:4317
usage_error "send: --rate without -n or --duration" "^otelgen send: --rate needs -n N or --duration D" \
    "$SEND_USAGE" send --rate 10 127.0.0.1:4317
usage_error "send: --concurrency without -n or --duration" "^otelgen send: --concurrency needs -n N or --duration D" \
    "$SEND_USAGE" send --concurrency 4 127.0.0.1:4317
usage_error "send: fewer connections than threads" "^otelgen send: -c 2 is fewer connections than --threads 4\$" \
    "$SEND_USAGE" send -c 2 --threads 4 127.0.0.1:4317
usage_error "send: --concurrency below --threads" "^otelgen send: --concurrency 2 is below --threads 4" \
    "$SEND_USAGE" send --concurrency 2 --threads 4 -n 10 127.0.0.1:4317
usage_error "send: --concurrency below -c" "^otelgen send: --concurrency 2 is below -c 4: some connections would stay idle\$" \
    "$SEND_USAGE" send --concurrency 2 -c 4 -n 10 127.0.0.1:4317
usage_error "send: http --concurrency above -c" \
    "^otelgen send: --concurrency 8 over http/protobuf needs as many connections .*; -c is 2\$" \
    "$SEND_USAGE" send --protocol http/protobuf --concurrency 8 -c 2 -n 10 127.0.0.1:4318
usage_error "send: --tenant-header without --tenants" "^otelgen send: --tenant-header needs --tenants\$" \
    "$SEND_USAGE" send --tenant-header X-Scope-OrgID 127.0.0.1:4317
for bad in '' ',' 'acme,' ',acme' 'acme,,globex'; do
    usage_error "send: --tenants '$bad' is refused" "^otelgen send: --tenants '$bad': expects names separated by commas" \
        "$SEND_USAGE" send --tenants "$bad" 127.0.0.1:4317
done
usage_error "send: --tenants with a control character" "a tenant may not contain control characters\$" \
    "$SEND_USAGE" send --tenants "$(printf 'a\tb')" 127.0.0.1:4317
usage_error "send: --tenant-header with a space" "^otelgen send: --tenant-header 'X Tenant': expects a header name" \
    "$SEND_USAGE" send --tenants a --tenant-header 'X Tenant' 127.0.0.1:4317
usage_error "send: --tenants and --header set the same header" \
    "^otelgen send: --tenants and --header x-tenant-id both set the header x-tenant-id\$" \
    "$SEND_USAGE" send --tenants a,b -H X-Tenant-Id=c 127.0.0.1:4317
usage_error "send: --retry-max-elapsed without --retry" "^otelgen send: --retry-max-elapsed needs --retry\$" \
    "$SEND_USAGE" send --retry-max-elapsed 5s 127.0.0.1:4317
usage_error "send: --json takes no value" "doesn't allow an argument" "$SEND_USAGE" send --json=yes 127.0.0.1:4317

# ---- payload files: exit 1, one line, nothing sent ----
port=$(free_port)
run_cmd 10 "$OTELGEN" send --file "$OG_TMP/nope/traces_100.pb" "127.0.0.1:$port"
is "$RC:$OUT:$ERR" "1::otelgen: $OG_TMP/nope/traces_100.pb: No such file or directory" \
    "a missing --file: exit 1, one line naming it, nothing on stdout"
printf '\000\000\000\001\000abc' >short.grpc
run_cmd 10 "$OTELGEN" send --file short.grpc "127.0.0.1:$port"
is "$RC:$OUT:$ERR" \
    "1::otelgen: short.grpc: not one gRPC message: prefix says flag 0, 256 bytes; the file has 3 after it" \
    "a .grpc file whose prefix does not match: exit 1, says why"
printf 'not gzip' >bad.pb.gz
run_cmd 10 "$OTELGEN" send --file bad.pb.gz "127.0.0.1:$port"
all_true "a .pb.gz file that is not gzip: exit 1, says so" \
    "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
    "$(printf '%s\n' "$ERR" | grep -qE '^otelgen: bad.pb.gz: ' && echo 0 || echo "stderr: $ERR")"

# ---- unreachable endpoints: exit 1, a clear line, the summary counts the failure ----
for proto in grpc http/protobuf http/json; do
    run_cmd 20 "$OTELGEN" send --protocol "$proto" -n 3 -c 2 "127.0.0.1:$port"
    all_true "$proto, nothing listening: exit 1, 'Connection refused' once on stderr, 3 failed requests" \
        "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
        "$([ "$ERR" = "otelgen: cannot connect to 127.0.0.1:$port: Connection refused" ] && echo 0 || echo "stderr: $ERR")" \
        "$(printf '%s\n' "$OUT" | grep -qxF "failed: 3 requests: cannot connect to 127.0.0.1:$port: Connection refused" && echo 0 || echo "stdout: $OUT")" \
        "$(printf '%s\n' "$OUT" | grep -qx 'sent 0 requests, 0 [a-z ]* in [0-9.]* s (0 [a-z ]*/s)' && echo 0 || echo "no 'sent 0 requests' line: $OUT")"
done
run_cmd 20 "$OTELGEN" send --protocol http/protobuf "http://localhost:$port/custom/path"
all_true "an http:// URL names host and port in the error" \
    "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC")" \
    "$(printf '%s\n' "$ERR" | grep -qE "^otelgen: cannot connect to http://localhost:$port/custom/path \\((127\\.0\\.0\\.1|\\[::1\\]):$port\\): Connection refused\$" && echo 0 || echo "stderr: $ERR")"

run_cmd 30 "$OTELGEN" send no-such-host.invalid
if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then
    skip "an unresolvable host: exit 1, says so" "the resolver did not answer within 30 s"
else
    is "$RC:$OUT:$ERR" "1::otelgen: cannot resolve 'no-such-host.invalid': Name or service not known" \
        "an unresolvable host: exit 1, one line, nothing on stdout"
fi

sanitizer_clean
