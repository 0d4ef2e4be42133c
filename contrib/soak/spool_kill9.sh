#!/bin/bash
# contrib/soak/spool_kill9.sh: the kill -9 test of the spool (tests/e2e/spool_kill9.sh) for a long time:
# senders with --retry keep sending through otelgate, with its sending queue in the LMDB spool, to an
# otelgen sink that refuses half the exports; otelgate is killed with SIGKILL at a random moment and
# restarted on the same spool, CYCLES times; then the spool drains and every item a sender saw
# acknowledged must have arrived. Not part of make check: 1000 cycles take about 20 minutes.
#
# usage: contrib/soak/spool_kill9.sh [BUILDDIR]     (BUILDDIR holds otelgate and otelgen; default .)
# environment:
#   CYCLES      kill -9 cycles (1000)
#   MIN_MS      shortest life of otelgate in a cycle, ms (200)
#   MAX_MS      longest, ms (1500)
#   RATE        requests a second of each of the two senders, 100 items each (10; at 20, with half the
#               exports refused and otelgate killed every second, the backlog stayed under 20 batches
#               over 400 cycles; more makes it grow until the spool is full, a harsher test)
#   DRAIN       seconds the final drain may take (300)
#   LOG         where the test's TAP output goes (spool_kill9.soak.log in the current directory)
#   OG_E2E_KEEP set: keep the temporary directory (daemon logs of every cycle, configs, the spool)
# Prints a summary; exits 0 when every check passed, 1 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
test_script=$here/../../tests/e2e/spool_kill9.sh
build=$(cd "${1:-.}" && pwd) || exit 1
export OTELGATE=${OTELGATE:-$build/otelgate} OTELGEN=${OTELGEN:-$build/otelgen}
for b in "$OTELGATE" "$OTELGEN"; do
    [ -x "$b" ] || { echo "spool_kill9: $b is not an executable (give the build directory)" >&2; exit 1; }
done
export SPOOL_KILL9_CYCLES=${CYCLES:-1000} SPOOL_KILL9_MIN_MS=${MIN_MS:-200} SPOOL_KILL9_MAX_MS=${MAX_MS:-1500}
export SPOOL_KILL9_RATE=${RATE:-10} SPOOL_KILL9_DRAIN=${DRAIN:-300}
log=${LOG:-$PWD/spool_kill9.soak.log}

echo "spool_kill9 soak: $SPOOL_KILL9_CYCLES cycles, otelgate lives ${SPOOL_KILL9_MIN_MS}-${SPOOL_KILL9_MAX_MS} ms," \
     "$SPOOL_KILL9_RATE requests/s per sender; TAP in $log"
start=$(date +%s)
# The test prints a diagnostic every 100 cycles: shown as progress.
bash "$test_script" 2>&1 | tee "$log" | grep --line-buffered -E '^# cycle [0-9]+:|^not ok'
end=$(date +%s)

passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^not ok ' "$log")
plan=$(sed -n 's/^1\.\.//p' "$log" | tail -n 1)
echo "---- summary ----"
echo "time:        $((end - start)) s"
grep -E '^# (traces|logs) sender:|^# (traces|logs): acknowledged|^# duplicates:|^# cycles took' "$log" | sed 's/^# //'
echo "checks:      $passed passed, $failed failed, plan ${plan:-missing}"
if [ "$failed" -gt 0 ] || [ "$passed" = 0 ] || [ "${plan:-x}" != $((passed + failed)) ] ||
    grep -qE '^Bail out!|^# interrupted' "$log"; then
    grep -E '^not ok|^Bail out!|^# interrupted' "$log"
    echo "RESULT: FAIL"
    exit 1
fi
echo "RESULT: PASS"
