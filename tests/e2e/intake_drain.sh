#!/bin/sh
# intake_drain.sh: SIGTERM while a client is still uploading: the request is
# finished and answered (with Connection: close), new connections are
# refused, idle keep-alive connections are closed, and the process exits 0
# once nothing is in flight; what was answered 200 is in the exporter's file.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/intake_lib.sh"

cfg=$OG_TMP/drain.yaml
intake_config "$cfg"
printf '  shutdown_timeout: 10s\n' >>"$cfg"
if ! start_daemon "$cfg"; then
    fail "otelgate starts"
    done_testing
    exit 0
fi

# A client sends the headers and half the body, waits for the test to send
# SIGTERM (it touches $OG_TMP/go when ready and waits for $OG_TMP/sent),
# then sends the rest and prints the status line and Connection header.
python3 - "$HTTP_PORT" "$BENCH/traces_100.pb" "$OG_TMP" >"$OG_TMP/client.out" 2>&1 <<'PY' &
import os, socket, sys, time
port, path, tmp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = open(path, "rb").read()
idle = socket.create_connection(("127.0.0.1", port), timeout=10)   # keep-alive, never used
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body) + body[:len(body) // 2])
open(os.path.join(tmp, "go"), "w").close()
for _ in range(100):
    if os.path.exists(os.path.join(tmp, "sent")):
        break
    time.sleep(0.05)
time.sleep(0.3)
s.sendall(body[len(body) // 2:])
data = b""
while True:
    c = s.recv(4096)
    if not c:
        break
    data += c
lines = data.split(b"\r\n")
print(lines[0].decode(), "|", "close" if b"Connection: close" in data else "keep-alive")
print("idle:", "closed" if idle.recv(1) == b"" else "open")
PY
client=$!
wait_until 5 test -e "$OG_TMP/go"
kill -TERM "$DAEMON_PID"
touch "$OG_TMP/sent"
sleep 0.2
if port_listening "$HTTP_PORT"; then
    fail "after SIGTERM no new connection is accepted"
else
    pass "after SIGTERM no new connection is accepted"
fi
wait_exit "$client" 10
out=$(cat "$OG_TMP/client.out")
has_line "$out" "HTTP/1.1 200 OK | close" "the upload in progress at SIGTERM is answered 200, Connection: close"
has_line "$out" "idle: closed" "an idle keep-alive connection is closed by the drain"
wait_exit "$DAEMON_PID" 10
is "$OG_RC" 0 "the drained daemon exits 0"
expect_counts "100 0 0" "the answered request is in the exporter's file"
sanitizer_clean
done_testing
