#!/bin/sh
# man_lint.sh: each man page passes `mandoc -Tlint -W warning`: no warning,
# no error. One TAP case per page.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"

: "${OG_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
n=0
for page in otelgate.8 otelgate.yaml.5 otelgen.1; do
    n=$((n + 1))
    path=$OG_SRCDIR/man/$page
    if [ -z "${MANDOC:-}" ] || ! command -v "$MANDOC" >/dev/null 2>&1; then
        echo "ok $n - mandoc -Tlint $page # SKIP mandoc not found (MANDOC='${MANDOC:-}')"
        continue
    fi
    if [ ! -r "$path" ]; then
        echo "not ok $n - mandoc -Tlint $page"
        echo "# cannot read $path"
        continue
    fi
    out=$("$MANDOC" -Tlint -W warning "$path" 2>&1)
    rc=$?
    if [ "$rc" = 0 ] && [ -z "$out" ]; then
        echo "ok $n - mandoc -Tlint $page"
    else
        echo "not ok $n - mandoc -Tlint $page"
        echo "# mandoc exit status $rc"
        printf '%s\n' "$out" | sed 's/^/# /'
    fi
done
echo "1..$n"
exit 0
