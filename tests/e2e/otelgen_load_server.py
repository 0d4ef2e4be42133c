#!/usr/bin/python3
# otelgen_load_server.py: the scripted receivers of otelgen_load.sh, which see what otelgate does not
# record (headers, requests in flight) and answer what a test needs (503 with Retry-After, UNAVAILABLE
# with grpc-retry-pushback-ms, RESOURCE_EXHAUSTED with a RetryInfo). Run it with /usr/bin/python3 for
# the grpc kind (Debian's grpcio).
#
#   otelgen_load_server.py KIND PORTFILE LOG [--script S] [--delay SECONDS] [--tenant-header NAME]
#
# KIND is http (HTTP/1.1 with keep-alive, any POST) or grpc (h2c, any method). The server listens on a
# free loopback port, writes it to PORTFILE, and appends one line per request to LOG:
#   <n> <tenant or -> <requests in flight, this one included> <answer>
# S is a comma-separated list of answers for the first requests; then every request gets a success, or
# the last answer again when S ends with '*'. An answer is, for http: 200, 503, 503/1 (503 with
# Retry-After: 1); for grpc: OK, UNAVAILABLE, UNAVAILABLE/pushback=100 (grpc-retry-pushback-ms),
# RESOURCE_EXHAUSTED, RESOURCE_EXHAUSTED/info=300 (a google.rpc.RetryInfo of 300 ms in
# grpc-status-details-bin). Each request is held --delay seconds before its answer. The server exits on
# SIGTERM or after 60 s.
import argparse
import os
import threading
import time

LOCK = threading.Lock()
STATE = {"n": 0, "inflight": 0}


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=("http", "grpc"))
    p.add_argument("portfile")
    p.add_argument("log")
    p.add_argument("--script", default="")
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--tenant-header", default="x-tenant-id")
    return p.parse_args()


ARGS = parse_args()
SCRIPT = [a for a in ARGS.script.split(",") if a]
REPEAT = bool(SCRIPT) and SCRIPT[-1].endswith("*")
if REPEAT:
    SCRIPT[-1] = SCRIPT[-1][:-1]


def begin(tenant):
    """Counts the request in; returns its number (from 1) and its scripted answer (None: success)."""
    with LOCK:
        STATE["n"] += 1
        STATE["inflight"] += 1
        n, inflight = STATE["n"], STATE["inflight"]
    answer = None
    if n <= len(SCRIPT):
        answer = SCRIPT[n - 1]
    elif REPEAT:
        answer = SCRIPT[-1]
    if ARGS.delay > 0:
        time.sleep(ARGS.delay)
    return n, inflight, answer


def end(n, tenant, inflight, answer):
    """Counts the request out; called before its answer leaves, so that the next one cannot overlap."""
    with LOCK:
        STATE["inflight"] -= 1
        with open(ARGS.log, "a") as f:
            f.write("%d %s %d %s\n" % (n, tenant or "-", inflight, answer))


def varint(v):
    out = b""
    while True:
        b, v = v & 0x7F, v >> 7
        if not v:
            return out + bytes([b])
        out += bytes([b | 0x80])


def field(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def retry_info_status(code, message, ms):
    """A google.rpc.Status with one google.rpc.RetryInfo of <ms> in its details."""
    duration = varint(1 << 3) + varint(ms // 1000) + varint(2 << 3) + varint(ms % 1000 * 1000000)
    detail = field(1, b"type.googleapis.com/google.rpc.RetryInfo") + field(2, field(1, duration))
    return varint(1 << 3) + varint(code) + field(2, message.encode()) + field(3, detail)


def serve_http():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            tenant = self.headers.get(ARGS.tenant_header)
            n, inflight, answer = begin(tenant)
            end(n, tenant, inflight, answer or "200")
            code, _, retry_after = (answer or "200").partition("/")
            self.send_response(int(code))
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            if retry_after:
                self.send_header("Retry-After", retry_after)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    write_port(server.server_address[1])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve_grpc():
    from concurrent import futures

    import grpc

    class Handler(grpc.GenericRpcHandler):
        def service(self, details):
            return grpc.unary_unary_rpc_method_handler(self.call)

        def call(self, request, context):
            tenant = dict(context.invocation_metadata()).get(ARGS.tenant_header)
            n, inflight, answer = begin(tenant)
            end(n, tenant, inflight, answer or "OK")
            if not answer or answer == "OK":
                return b""
            name, _, extra = answer.partition("/")
            code = getattr(grpc.StatusCode, name)
            if extra.startswith("pushback="):
                context.set_trailing_metadata((("grpc-retry-pushback-ms", extra[9:]),))
            elif extra.startswith("info="):
                status = retry_info_status(code.value[0], "slow down", int(extra[5:]))
                context.set_trailing_metadata((("grpc-status-details-bin", status),))
            context.abort(code, name.lower().replace("_", " "))

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    server.add_generic_rpc_handlers((Handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    write_port(port)
    return server


def write_port(port):
    with open(ARGS.portfile + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(ARGS.portfile + ".tmp", ARGS.portfile)


if __name__ == "__main__":
    open(ARGS.log, "a").close()
    # Kept referenced: a grpc server that is garbage-collected stops listening.
    SERVER = serve_http() if ARGS.kind == "http" else serve_grpc()
    time.sleep(60)
