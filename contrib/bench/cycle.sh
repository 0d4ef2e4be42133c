#!/bin/bash
# cycle.sh: where the time of one batch goes on the durable path. The load of passthrough.sh (otelgen send ->
# otelgate, workers: 1 on CPU 0 -> batch -> spool, sync: always -> otlp -> otelgen sink on CPU 1), with the
# gateway's system calls recorded by perf trace, then each batch split into:
#
#   commit    the worker hands the batch to the spool writer (futex wake) -> the writer posts the commit's
#             completion (eventfd write): LMDB's copy, the write, fdatasync, the meta page
#   answer    that completion -> the worker writes the answers (writev)
#   refill    the answers -> the next batch handed over: the clients' turnaround and the worker's parsing
#
# perf trace slows every system call down, so the sum is longer than passthrough.sh's cycle: compare runs of
# this script with each other, not with passthrough.sh. Needs perf (linux-perf) and root. BATCH, COMPRESSION,
# SYNC and STREAMS set the path as in passthrough.sh.
#
#   contrib/bench/cycle.sh [OTELGATE] [OTELGEN]        (run from the tree)
#   REQUESTS=20000 contrib/bench/cycle.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/durable_lib.sh"
pt=
trap 'kill $pt $gw $sink 2>/dev/null || true; rm -rf "$tmp"' EXIT

start_sink
start_gateway
perf trace -p "$gw" -e 'writev,futex,write,read' -o "$tmp/trace" 2>/dev/null &
pt=$!
sleep 0.5
taskset -c 1 "$otelgen" send --protocol grpc -n "${REQUESTS:-10000}" --concurrency 256 --retry 127.0.0.1:19417 \
    >/dev/null 2>&1
sleep 0.3
kill -INT "$pt"
wait "$pt" || true
pt=

python3 - "$tmp/trace" <<'PY'
import re, statistics, sys

ev = []
for line in open(sys.argv[1]):
    m = re.match(r'\s*([\d.]+) \(\s*[\d.]* ?m?s?\): (\S+)/\d+ (\w+)\((fd: \d+)?(.*)', line)
    if m and '[continued]' not in line:
        ev.append((float(m.group(1)), m.group(2), m.group(3), m.group(5)))
ev.sort()
state, handed, committed, answered = 'idle', 0.0, 0.0, 0.0
commit, answer, refill, cycle = [], [], [], []
for t, comm, call, rest in ev:
    worker = comm.startswith('worker')
    if state in ('idle', 'answered') and worker and call == 'futex' and 'WAKE' in rest:
        if state == 'answered':
            refill.append(t - answered)
            cycle.append(t - handed)
        handed, state = t, 'handed'
    elif state == 'handed' and comm.startswith('spool') and call == 'write':
        committed, state = t, 'committed'
        commit.append(t - handed)
    elif state == 'committed' and worker and call == 'writev':
        answered, state = t, 'answered'
        answer.append(t - committed)

def show(name, xs):
    xs = sorted(xs)
    return "%s %.2f ms (p90 %.2f)" % (name, statistics.median(xs), xs[int(0.9 * len(xs))])

if len(cycle) < 10:
    sys.exit("cycle.sh: only %d batch cycles in the trace" % len(cycle))
print("%d batches, medians: %s, %s, %s; cycle %s" % (len(cycle), show("commit", commit), show("answer", answer),
      show("refill", refill), show("", cycle).strip()))
PY
