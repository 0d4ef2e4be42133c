#!/bin/sh
# health.sh: the health_check extension as a load balancer or systemd sees
# it: status codes, methods, paths, the JSON body, one and several workers.
[ -n "$BASH_VERSION" ] || exec bash "$0" "$@"
. "$(dirname "$0")/lib.sh"

# body_fields: the status, upSince and uptime of the JSON in HTTP_BODY, one
# line "status|upSince|uptime", or "invalid JSON: ..." .
body_fields()
{
    printf '%s' "$HTTP_BODY" | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    print("%s|%s|%s" % (d.get("status"), d.get("upSince"), d.get("uptime")))
except Exception as e:
    print("invalid JSON: %s" % e)
'
}

# raw_http PORT REQUEST: sends REQUEST as is on a new connection and prints
# everything the server sends until it closes (5 s at most).
raw_http()
{
    python3 - "$1" "$2" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode())
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except socket.timeout:
    data += b"<timeout>"
sys.stdout.write(data.decode("latin-1").replace("\r", ""))
EOF
}

# ---- one worker, default path ----
port=$(free_port)
health_config "$OG_TMP/one.yaml" "$port" "" "workers: 1"
url=http://127.0.0.1:$port
if start_daemon "$OG_TMP/one.yaml"; then
    pass "workers: 1: the daemon starts and its health check answers"
    contains "$(daemon_log)" "started workers=1 " "workers: 1: the log says workers=1"

    http GET "$url/"
    is "$HTTP_CODE" 200 "GET / answers 200"
    has_line "$HTTP_HEADERS" "Content-Type: application/json" "GET / is application/json"
    fields=$(body_fields)
    is "${fields%%|*}" "Server available" 'GET /: "status":"Server available"'
    up_since=$(printf '%s' "$fields" | cut -d'|' -f2)
    uptime1=$(printf '%s' "$fields" | cut -d'|' -f3)
    matches "$up_since" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$' \
        "GET /: upSince is an RFC 3339 UTC time"
    matches "$uptime1" '^[0-9]+(\.[0-9]+)?s$' "GET /: uptime is a duration in seconds"
    sleep 0.3
    http GET "$url/"
    fields=$(body_fields)
    uptime2=$(printf '%s' "$fields" | cut -d'|' -f3)
    check "uptime grows and upSince stays" eval \
        '[ "$(printf "%s" "$fields" | cut -d"|" -f2)" = "$up_since" ] &&
         python3 -c "import sys; sys.exit(0 if float(sys.argv[2][:-1]) - float(sys.argv[1][:-1]) >= 0.25 else 1)" "$uptime1" "$uptime2"'

    http GET "$url/health"
    is "$HTTP_CODE:$(body_fields | cut -d'|' -f1)" "200:Server available" "GET /health answers 200, Server available"
    http GET "$url/?verbose=true"
    is "$HTTP_CODE" 200 "GET /?query answers 200 (the query is not part of the path)"

    resp=$(raw_http "$port" $'HEAD / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n')
    status_line=$(printf '%s\n' "$resp" | head -n 1)
    after_headers=$(printf '%s\n' "$resp" | sed '1,/^$/d')
    all_true "HEAD / answers 200 with no body" \
        "$([ "$status_line" = "HTTP/1.1 200 OK" ] || [ "$status_line" = "HTTP/1.0 200 OK" ] && echo 0 || echo "status line: $status_line")" \
        "$([ -z "$after_headers" ] && echo 0 || echo "body: $after_headers")"

    http POST "$url/" --data 'x=1'
    is "$HTTP_CODE" 405 "POST / answers 405"
    has_line "$HTTP_HEADERS" "Allow: GET, HEAD" "POST /: the 405 says Allow: GET, HEAD"
    http DELETE "$url/health"
    is "$HTTP_CODE" 405 "DELETE /health answers 405"
    http GET "$url/nope"
    is "$HTTP_CODE" 404 "GET /nope answers 404"

    stop_daemon TERM 15
    is "$DAEMON_RC" 0 "workers: 1: SIGTERM ends it with status 0"
else
    fail "workers: 1: the daemon starts and its health check answers"
fi

# ---- four workers, custom path ----
port=$(free_port)
{
    echo "extensions:"
    echo "  health_check:"
    echo "    endpoint: 127.0.0.1:$port"
    echo "    path: /ready"
    echo "service:"
    echo "  extensions: [health_check]"
    echo "  workers: 4"
} >"$OG_TMP/four.yaml"
url=http://127.0.0.1:$port
if start_daemon "$OG_TMP/four.yaml"; then
    pass "workers: 4, path: /ready: the daemon starts and /ready answers"
    contains "$(daemon_log)" "started workers=4 " "workers: 4: the log says workers=4"
    http GET "$url/ready"
    is "$HTTP_CODE:$(body_fields | cut -d'|' -f1)" "200:Server available" "path: /ready: GET /ready answers 200"
    http GET "$url/"
    is "$HTTP_CODE" 404 "path: /ready: GET / answers 404"
    http GET "$url/health"
    is "$HTTP_CODE" 200 "path: /ready: GET /health still answers 200"
    http GET "$url/ready/x"
    is "$HTTP_CODE" 404 "path: /ready: GET /ready/x answers 404"

    # Each request on a new connection, so the kernel spreads them over the
    # four SO_REUSEPORT sockets: every worker must answer.
    codes=$(python3 - "$port" <<'EOF'
import http.client, sys
codes = {}
for i in range(50):
    try:
        c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
        c.request("GET", "/ready")
        r = c.getresponse()
        r.read()
        code = str(r.status)
        c.close()
    except Exception as e:
        code = type(e).__name__
    codes[code] = codes.get(code, 0) + 1
print(" ".join("%s*%d" % kv for kv in sorted(codes.items())))
EOF
)
    is "$codes" "200*50" "workers: 4: 50 sequential requests on new connections all get 200"
    stop_daemon TERM 15
    is "$DAEMON_RC" 0 "workers: 4: SIGTERM ends it with status 0"
else
    fail "workers: 4, path: /ready: the daemon starts and /ready answers"
fi

# ---- two health checks (type/name ids) ----
port_a=$(free_port)
port_b=$(free_port)
cat >"$OG_TMP/two.yaml" <<EOF
extensions:
  health_check/a:
    endpoint: 127.0.0.1:$port_a
  health_check/b:
    endpoint: 127.0.0.1:$port_b
    path: /b
service:
  extensions: [health_check/a, health_check/b]
  workers: 2
EOF
if start_daemon "$OG_TMP/two.yaml"; then
    http GET "http://127.0.0.1:$port_a/"
    code_a=$HTTP_CODE
    http GET "http://127.0.0.1:$port_b/b"
    is "$code_a:$HTTP_CODE" 200:200 "health_check/a and health_check/b: both serve"
    stop_daemon TERM 15
else
    fail "health_check/a and health_check/b: both serve"
fi

sanitizer_clean
