#!/bin/sh
# tests/fuzz/run.sh: one seeded libFuzzer run of one target, reported as a TAP test. `make check` calls it
# with tests/fuzz/<target>.fuzz (a stamp next to the binary); by hand, give the binary and libFuzzer flags:
#   tests/fuzz/run.sh tests/fuzz/fuzz_otlp_scan -max_total_time=3600 -jobs=2
# Seeds: tests/fuzz/corpus/<name>/ plus payloads from $OG_BENCH_DIR (each with the target's prefix bytes).
# Environment: FUZZ_RUNS (default 20000), FUZZ_SEED (default 1, for a reproducible `make check`),
# OG_SRCDIR, OG_BENCH_DIR. A crash is kept as tests/fuzz/<target>-crash-* in the current directory.
set -u

target=${1:?usage: run.sh tests/fuzz/<target>[.fuzz] [libFuzzer flags]}
shift
bin=${target%.fuzz}
name=$(basename "$bin")            # fuzz_otlp_scan
short=${name#fuzz_}                # otlp_scan
srcdir=${OG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
runs=${FUZZ_RUNS:-20000}
max_len=65536
[ "$short" = inflate ] && max_len=16384   # each run inflates up to 256 KiB twice: keep inputs small

echo "1..1"
if [ ! -x "$bin" ]; then
    echo "not ok 1 - $name: $bin is not built"
    exit 0
fi

bench=${OG_BENCH_DIR:-}
for d in "$bench" "$srcdir/../shared/bench" /work/shared/bench; do
    if [ -n "$d" ] && [ -d "$d" ]; then bench=$d; break; fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/og-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
mkdir "$work/corpus" "$work/seeds"
if [ -d "$srcdir/tests/fuzz/corpus/$short" ]; then
    cp "$srcdir/tests/fuzz/corpus/$short"/* "$work/seeds/" 2>/dev/null
fi

# seed <prefix as printf octal escapes> <file>: the target reads its mode from the first bytes.
seed() {
    [ -f "$2" ] || return 0
    { printf "$1"; cat "$2"; } > "$work/seeds/bench_$(basename "$2")"
}
if [ -d "$bench" ]; then
    case $short in
    otlp_scan)
        for f in "$bench"/traces_*.pb "$bench"/bad/*.pb; do seed '\000' "$f"; done
        for f in "$bench"/metrics_*.pb; do seed '\001' "$f"; done
        for f in "$bench"/logs_*.pb; do seed '\002' "$f"; done
        ;;
    inflate)
        # gzip with a 4 KiB limit, and the bomb with a 256 KiB one
        for f in "$bench"/*.pb.gz; do seed '\010\000' "$f"; done
        seed '\016\003' "$bench/bad/gzip_bomb_65MiB.pb.gz"
        ;;
    otlp_json)
        # JSON -> protobuf (signal in bits 0-1), protobuf -> JSON (bit 7)
        seed '\000' "$bench/traces_100.json"; seed '\001' "$bench/metrics_100.json"
        seed '\002' "$bench/logs_100.json"
        for f in "$bench"/bad/*.json; do seed '\000' "$f"; done
        for f in "$bench"/traces_*.pb "$bench"/bad/*.pb; do seed '\200' "$f"; done
        seed '\201' "$bench/metrics_100.pb"; seed '\202' "$bench/logs_100.pb"
        ;;
    request)
        # 1: one OTLP/HTTP request (second byte: path, type, gzip, chunked); 2: one gRPC call over h2c
        seed '\001\000' "$bench/traces_100.pb"; seed '\001\004' "$bench/traces_100.json"
        seed '\001\010' "$bench/traces_100.pb.gz"; seed '\001\025' "$bench/metrics_100.pb"
        seed '\001\006' "$bench/logs_100.json"; seed '\001\004' "$bench/bad/base64_ids.json"
        seed '\002\040' "$bench/traces_100.pb"; seed '\002\041' "$bench/metrics_100.pb"
        seed '\002\040' "$bench/bad/truncated_traces_100.pb"
        ;;
    esac
fi

if [ $# -eq 0 ]; then
    set -- -runs="$runs"
    what="$runs runs"
else
    what="$*"
fi
"$bin" -seed="${FUZZ_SEED:-1}" -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$work/" "$@" \
    "$work/corpus" "$work/seeds" > "$work/log" 2>&1
rc=$?

stats=$(grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec)' "$work/log" | tr '\n' ' ')
if [ $rc -eq 0 ]; then
    echo "ok 1 - $name $what"
    echo "# $stats"
    exit 0
fi
echo "not ok 1 - $name $what (exit $rc)"
for crash in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
    [ -f "$crash" ] || continue
    cp "$crash" "./$name-$(basename "$crash")" && echo "# input kept as ./$name-$(basename "$crash")"
done
grep -v '^#[0-9]' "$work/log" | tail -n 40 | sed 's/^/# /'
exit 0
