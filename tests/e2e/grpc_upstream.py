#!/usr/bin/python3
# grpc_upstream.py: an OTLP/gRPC upstream on Debian's grpcio (the gRPC C core),
# for export_grpc_answers.sh: it answers each TraceService/Export call as a
# script says, to check that the otlp exporter classifies real gRPC answers as
# the OTLP specification says. Run it with /usr/bin/python3.
#
#   grpc_upstream.py STUBS PORT ANSWER...
#
# STUBS: the modules grpc_tools.protoc generated from the OTLP .proto files.
# The N-th call gets the N-th ANSWER, and every call after the last gets OK:
#
#   ok                      OK, an empty ExportTraceServiceResponse
#   partial:N:MESSAGE       OK with partial_success {rejected_spans: N,
#                           error_message: MESSAGE}
#   exhausted               RESOURCE_EXHAUSTED, MESSAGE-less, no details
#   exhausted_retry:MS      RESOURCE_EXHAUSTED with a google.rpc.Status in
#                           grpc-status-details-bin carrying RetryInfo
#                           {retry_delay: MS}
#   status:CODE:MESSAGE     that status code (a grpc.StatusCode name) and
#                           message; grpcio percent-encodes it on the wire
#
# Prints "listening" once it serves, then one line per call, flushed:
# "CALL MONOTONIC_MS SPANS ANSWER".
import sys
import time
from concurrent import futures

import grpc


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, payload):
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def retry_info_status(code, message, delay_ms):
    """google.rpc.Status {code, message, details: [Any(google.rpc.RetryInfo {retry_delay})]}, encoded by
    hand: Debian has no google.rpc modules for Python."""
    duration = varint(1 << 3) + varint(delay_ms // 1000) + varint(2 << 3) + varint((delay_ms % 1000) * 1000000)
    retry_info = field(1, duration)
    any_msg = field(1, b"type.googleapis.com/google.rpc.RetryInfo") + field(2, retry_info)
    return varint(1 << 3) + varint(code) + field(2, message.encode()) + field(3, any_msg)


def main(argv):
    stubs, port, script = argv[1], int(argv[2]), argv[3:]
    sys.path.insert(0, stubs)
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as pb2_grpc

    calls = []

    class Trace(pb2_grpc.TraceServiceServicer):
        def Export(self, request, context):
            n = len(calls)
            answer = script[n] if n < len(script) else "ok"
            calls.append(answer)
            spans = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
            print("%d %d %d %s" % (n + 1, time.monotonic() * 1000, spans, answer), flush=True)
            kind, _, rest = answer.partition(":")
            if kind == "partial":
                rejected, _, message = rest.partition(":")
                resp = pb2.ExportTraceServiceResponse()
                resp.partial_success.rejected_spans = int(rejected)
                resp.partial_success.error_message = message
                return resp
            if kind == "exhausted":
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "")
            if kind == "exhausted_retry":
                message = "slow down"
                context.set_trailing_metadata(
                    (("grpc-status-details-bin", retry_info_status(8, message, int(rest))),))
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, message)
            if kind == "status":
                code, _, message = rest.partition(":")
                context.abort(grpc.StatusCode[code], message)
            return pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=[("grpc.max_receive_message_length", 64 << 20)])
    pb2_grpc.add_TraceServiceServicer_to_server(Trace(), server)
    server.add_insecure_port("127.0.0.1:%d" % port)
    server.start()
    print("listening", flush=True)
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
