#!/bin/sh
# cli.sh: the command line: --version, -h, usage errors (exit 2), the log
# level checks, --print-config and where the configuration comes from.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

USAGE_LINE='usage: otelgate [-c FILE] [--validate] [--print-config] [-l LEVEL] [--version] [-h]'
LEVEL_WORDS='is not one of debug, info, warn, error'
cd "$OG_TMP" || exit 0

# ---- --version ----
run_cmd 10 "$OTELGATE" --version
all_true "--version exits 0 with an empty stderr" \
    "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC")" \
    "$([ -z "$ERR" ] && echo 0 || echo "stderr: $ERR")"
pkg_version=$(sed -n 's/^AC_INIT(\[otelgate\], *\[\([^]]*\)\].*/\1/p' "$OG_SRCDIR/configure.ac")
is "$(printf '%s\n' "$OUT" | head -n 1)" "otelgate ${pkg_version:-?}" \
    "--version: first line is otelgate and the version of configure.ac"
for lib in libevent nghttp2 protobuf-c lmdb libyaml zlib; do
    matches "$OUT" "^$lib [^0-9]*[0-9]+\\.[0-9]+" "--version lists $lib with a version"
done
matches "$OUT" '^tls [^ ]' "--version has a tls line"

# ---- help ----
run_cmd 10 "$OTELGATE" -h
all_true "-h: usage on stdout, nothing on stderr, exit 0" \
    "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC")" \
    "$([ "$(printf '%s\n' "$OUT" | head -n 1)" = "$USAGE_LINE" ] && echo 0 || echo "stdout: $OUT")" \
    "$([ -z "$ERR" ] && echo 0 || echo "stderr: $ERR")"
h_out=$OUT
for opt in -c --config --validate --print-config -l --log-level --version --help; do
    :   # every option is explained in the help text
    printf '%s\n' "$h_out" | grep -qE -- "(^|[ ,])$opt([ ,]|$)" || missing="${missing:-} $opt"
done
is "${missing:-}" "" "-h explains every option"
run_cmd 10 "$OTELGATE" --help
is "$RC:$OUT" "0:$h_out" "--help prints the same text as -h, exit 0"

# ---- usage errors: exit 2, usage on stderr, nothing on stdout ----
usage_error()   # DESC EXPECTED_FIRST_STDERR_LINE_ERE ARGS...
{
    local desc=$1 first=$2
    shift 2
    run_cmd 10 "$OTELGATE" "$@"
    all_true "$desc" \
        "$([ "$RC" = 2 ] && echo 0 || echo "exit status $RC, expected 2")" \
        "$([ -z "$OUT" ] && echo 0 || echo "stdout not empty: $OUT")" \
        "$(printf '%s\n' "$ERR" | head -n 1 | grep -qE -- "$first" && echo 0 || echo "first stderr line should match: $first; it is: $(printf '%s\n' "$ERR" | head -n 1)")" \
        "$(printf '%s\n' "$ERR" | grep -qxF -- "$USAGE_LINE" && echo 0 || echo "no usage line on stderr")" \
        "$([ -n "$ERR" ] && echo 0 || echo "stderr is empty")"
}
usage_error "unknown long option: exit 2, names it" "^otelgate: unknown option '--bogus'\$" --bogus
usage_error "unknown short option: exit 2, names it" "^otelgate: unknown option '-x'\$" -x
usage_error "unknown short option in a group (-xy): exit 2, names -x" "^otelgate: unknown option '-x'\$" --validate -xy
usage_error "extra argument: exit 2, says which" "^otelgate: unexpected argument 'extra'\$" --validate extra
usage_error "-c without its argument: exit 2" "^otelgate: option '-c' needs a value\$" -c
usage_error "--config without its argument: exit 2" "^otelgate: option '--config' needs a value\$" --config
usage_error "-c with an empty file name: exit 2" "^otelgate: -c needs a file name\$" -c ''
usage_error "--validate with --print-config: exit 2" \
    "^otelgate: --validate and --print-config exclude each other\$" --validate --print-config
usage_error "invalid -l: exit 2, names the level" "^otelgate: log level 'loud' $LEVEL_WORDS\$" -l loud --validate
usage_error "invalid --log-level=: exit 2" "^otelgate: log level 'trace' $LEVEL_WORDS\$" --log-level=trace

run_cmd 10 "$OTELGATE" -l warn --validate
is "$RC:$OUT" "0:configuration OK" "-l warn is accepted"
run_cmd 10 "$OTELGATE" -l ERROR --validate
is "$RC:$OUT" "0:configuration OK" "-l is case-insensitive (ERROR)"

# ---- OTELGATE_LOG_LEVEL ----
run_cmd 10 env OTELGATE_LOG_LEVEL=loud "$OTELGATE" --validate
all_true "invalid OTELGATE_LOG_LEVEL: exit 1, one clear line, no 'configuration OK'" \
    "$([ "$RC" = 1 ] && echo 0 || echo "exit status $RC, expected 1")" \
    "$([ "$ERR" = "otelgate: OTELGATE_LOG_LEVEL='loud' $LEVEL_WORDS" ] && echo 0 || echo "stderr: $ERR")" \
    "$([ -z "$OUT" ] && echo 0 || echo "stdout: $OUT")"
run_cmd 10 env OTELGATE_LOG_LEVEL=debug "$OTELGATE" --validate
is "$RC:$OUT:$ERR" "0:configuration OK:" "OTELGATE_LOG_LEVEL=debug is accepted"

# ---- --print-config of the embedded default ----
run_cmd 10 env -u STATE_DIRECTORY -u OTELGATE_CONFIG "$OTELGATE" --print-config
default_out=$OUT
is "$RC:$ERR" "0:" "--print-config of the embedded default: exit 0, nothing on stderr"
matches "$OUT" '^# effective configuration of .*embedded' "--print-config starts with a comment naming the embedded default"
for section in receivers processors exporters extensions service; do
    matches "$OUT" "^$section:" "--print-config prints the $section section"
done
for line in '  workers: auto' '  shutdown_timeout: 10s' '  shutdown_grace: 0s' \
    '  extensions: [health_check, spool]' '      level: info' \
    '    path: /' '    directory: otelgate-spool'; do
    has_line "$OUT" "$line" "default config prints '${line#"${line%%[! ]*}"}'"
done
matches "$OUT" '^    endpoint: "?localhost:13133"?$' "default config prints 'endpoint: localhost:13133'"
printf '%s\n' "$OUT" >printed.yaml
run_cmd 10 "$OTELGATE" --validate -c printed.yaml
is "$RC:$OUT:$ERR" "0:configuration OK:" "--print-config output loads back (--validate: configuration OK)"
run_cmd 10 "$OTELGATE" --print-config -c printed.yaml
is "$(printf '%s\n' "$OUT" | sed 1d)" "$(printf '%s\n' "$default_out" | sed 1d)" \
    "--print-config of the printed config prints it again (a fixed point)"
run_cmd 10 env -u STATE_DIRECTORY "$OTELGATE" --print-config -c "$OG_SRCDIR/etc/otelgate.yaml"
is "$(printf '%s\n' "$OUT" | sed 1d)" "$(printf '%s\n' "$default_out" | sed 1d)" \
    "the embedded default is etc/otelgate.yaml"
run_cmd 10 env STATE_DIRECTORY=/var/lib/otelgate "$OTELGATE" --print-config
has_line "$OUT" '    directory: /var/lib/otelgate' "STATE_DIRECTORY (systemd) sets the default spool directory"
run_cmd 10 env -u OTELGATE_CONFIG "$OTELGATE" --validate
is "$RC:$OUT:$ERR" "0:configuration OK:" "--validate of the embedded default: configuration OK"

# ---- where the configuration comes from ----
printf 'service:\n  workers: 3\n' >env.yaml
printf 'service:\n  workers: 5\n' >arg.yaml
run_cmd 10 env OTELGATE_CONFIG="$OG_TMP/env.yaml" "$OTELGATE" --print-config
all_true "OTELGATE_CONFIG picks the file" \
    "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC: $ERR")" \
    "$(printf '%s\n' "$OUT" | grep -qxF '  workers: 3' && echo 0 || echo "no 'workers: 3' in: $OUT")" \
    "$(printf '%s\n' "$OUT" | head -n 1 | grep -qF "$OG_TMP/env.yaml" && echo 0 || echo "header does not name env.yaml")"
run_cmd 10 env OTELGATE_CONFIG="$OG_TMP/env.yaml" "$OTELGATE" --print-config -c arg.yaml
all_true "-c beats OTELGATE_CONFIG" \
    "$([ "$RC" = 0 ] && echo 0 || echo "exit status $RC: $ERR")" \
    "$(printf '%s\n' "$OUT" | grep -qxF '  workers: 5' && echo 0 || echo "no 'workers: 5' in: $OUT")"
run_cmd 10 env OTELGATE_CONFIG= STATE_DIRECTORY= "$OTELGATE" --print-config
is "$(printf '%s\n' "$OUT" | sed 1d)" "$(printf '%s\n' "$default_out" | sed 1d)" \
    "an empty OTELGATE_CONFIG means the embedded default"
run_cmd 10 env OTELGATE_CONFIG="$OG_TMP/nope.yaml" "$OTELGATE" --validate
is "$RC:$OUT:$ERR" "1::$OG_TMP/nope.yaml: cannot read: No such file or directory" \
    "OTELGATE_CONFIG naming a missing file: exit 1, says so"
run_cmd 10 "$OTELGATE" --print-config -c nope.yaml
is "$RC:$OUT:$ERR" "1::nope.yaml: cannot read: No such file or directory" \
    "--print-config of a missing file: exit 1, nothing on stdout"

sanitizer_clean
