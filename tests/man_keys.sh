#!/bin/sh
# man_keys.sh: every key --print-config shows, for a config that defines a
# component of every type this build has, is documented in
# man/otelgate.yaml.5 under its full dotted name (extensions.spool.directory),
# as the page's KEYS section writes them. One TAP case per key.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/e2e/lib.sh"

page=$OG_SRCDIR/man/otelgate.yaml.5

# types_of SECTION: the types of that section this build has, from the
# loader's own "unknown ... type" message, which lists them.
types_of()
{
    printf '%s:\n  qqqqqqqqqqqqqqqqqqqqqqqq:\n' "$1" >"$OG_TMP/probe.yaml"
    "$OTELGATE" --validate -c "$OG_TMP/probe.yaml" 2>&1 |
        sed -n 's/.*unknown [a-z]* type .qqqqqqqqqqqqqqqqqqqqqqqq. (this build has: \(.*\))$/\1/p' |
        tr -d ',' | head -n 1
}

# A config defining one component of each type, every setting left to its
# default, and the extensions listed so nothing is unused.
cfg=$OG_TMP/every.yaml
: >"$cfg"
extensions=
for section in receivers processors exporters extensions; do
    types=$(types_of "$section")
    [ -n "$types" ] || continue
    echo "$section:" >>"$cfg"
    for t in $types; do
        # The loader lists alias types too: otlp_grpc and otlp_http are the
        # otlp and otlphttp exporters under their other names, with the same
        # keys, documented once under exporters.otlp and exporters.otlphttp.
        case "$section/$t" in
        exporters/otlp_*) continue ;;
        esac
        echo "  $t:" >>"$cfg"
        # what a type needs to load, and its optional sections switched on
        # so that their keys are printed too
        case "$section/$t" in
        receivers/otlp) printf '    protocols:\n      grpc:\n      http:\n' >>"$cfg" ;;
        exporters/file) printf '    path: %s/out\n    rotation:\n' "$OG_TMP" >>"$cfg" ;;
        exporters/otlp) printf '    endpoint: 127.0.0.1:4317\n' >>"$cfg" ;;
        exporters/otlphttp) printf '    endpoint: http://127.0.0.1:4318\n' >>"$cfg" ;;
        esac
        [ "$section" = extensions ] && extensions="$extensions${extensions:+, }$t"
    done
done
if [ -z "$extensions" ]; then
    fail "the build lists its extension types" "expected '(this build has: ...)' from:" \
        "$("$OTELGATE" --validate -c "$OG_TMP/probe.yaml" 2>&1)"
fi
printf 'service:\n  extensions: [%s]\n' "$extensions" >>"$cfg"

run_cmd 10 "$OTELGATE" --print-config -c "$cfg"
if [ "$RC" != 0 ]; then
    fail "--print-config of a config enabling every component type" "config:" "$(cat "$cfg")" "exit $RC:" "$ERR"
    exit 0
fi

# Dotted names of every key printed; a component id counts as its type.
keys=$(printf '%s\n' "$OUT" | awk '
    /^[ ]*#/ || !/:/ { next }
    {
        match($0, /^ */)
        depth = RLENGTH / 2
        key = $1
        sub(/:.*/, "", key)
        if (depth == 1 && (path[0] == "receivers" || path[0] == "processors" ||
                           path[0] == "exporters" || path[0] == "extensions"))
            sub(/\/.*/, "", key)
        path[depth] = key
        name = path[0]
        for (i = 1; i <= depth; i++)
            name = name "." path[i]
        if (!(name in seen)) { seen[name] = 1; print name }
    }')

if [ ! -r "$page" ]; then
    fail "man/otelgate.yaml.5 exists" "cannot read $page"
    exit 0
fi
if [ -n "${MANDOC:-}" ] && command -v "$MANDOC" >/dev/null 2>&1; then
    text=$("$MANDOC" -Tascii "$page" 2>/dev/null | sed 's/.\x08//g')
else
    diag "MANDOC not set: searching the page source"
    text=$(sed 's/\\&//g' "$page")
fi

for k in $keys; do
    if printf '%s\n' "$text" | grep -qwF -- "$k"; then
        pass "otelgate.yaml(5) documents $k"
    else
        fail "otelgate.yaml(5) documents $k" "'$k' (printed by --print-config) is not in $page"
    fi
done
