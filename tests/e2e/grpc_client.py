#!/usr/bin/python3
# grpc_client.py: the gRPC client of intake_grpc.sh, on Debian's grpcio.
# Run it with /usr/bin/python3 (a python3 first on PATH may lack grpc).
#
#   grpc_client.py STUBS TARGET COMMAND ARGS...
#
# STUBS is a directory with the Python modules grpc_tools.protoc generated
# from the 8 OTLP .proto files; TARGET is host:port. Every call has a 10 s
# deadline. Prints one status code name per call (OK, INVALID_ARGUMENT...),
# space-separated, on one line; the details of every non-OK status go to
# stderr. Commands:
#
#   export SIGNAL FILE [gzip]     one call through the generated stub of
#                                 SIGNAL (traces, metrics, logs) with FILE
#                                 (a .pb) parsed into the request message
#   sequential SIGNAL FILE N      N calls, one after the other, on one channel
#   concurrent SIGNAL FILE N      N calls in flight at once (futures), one channel
#   raw PATH FILE                 FILE's bytes as the message, unchecked, to
#                                 the method PATH (a generic unary call)
#   raw_repeat PATH FILE COPIES   the same with FILE repeated COPIES times
import sys

import grpc

DEADLINE = 10
SIGNALS = {
    "traces": ("opentelemetry.proto.collector.trace.v1.trace_service_pb2",
               "opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc",
               "ExportTraceServiceRequest", "TraceServiceStub"),
    "metrics": ("opentelemetry.proto.collector.metrics.v1.metrics_service_pb2",
                "opentelemetry.proto.collector.metrics.v1.metrics_service_pb2_grpc",
                "ExportMetricsServiceRequest", "MetricsServiceStub"),
    "logs": ("opentelemetry.proto.collector.logs.v1.logs_service_pb2",
             "opentelemetry.proto.collector.logs.v1.logs_service_pb2_grpc",
             "ExportLogsServiceRequest", "LogsServiceStub"),
}


def code_of(fn):
    """Runs fn() (a call or future.result); returns the status code name."""
    try:
        fn()
        return "OK"
    except grpc.RpcError as e:
        sys.stderr.write("status %s: %s\n" % (e.code().name, e.details()))
        return e.code().name


def stub_and_request(channel, signal, path):
    import importlib
    pb2_name, grpc_name, req_name, stub_name = SIGNALS[signal]
    pb2 = importlib.import_module(pb2_name)
    pb2_grpc = importlib.import_module(grpc_name)
    req = getattr(pb2, req_name)()
    with open(path, "rb") as f:
        req.ParseFromString(f.read())
    return getattr(pb2_grpc, stub_name)(channel), req


def main(argv):
    stubs, target, cmd = argv[1], argv[2], argv[3]
    args = argv[4:]
    sys.path.insert(0, stubs)
    options = [("grpc.max_send_message_length", 64 << 20),
               ("grpc.max_receive_message_length", 64 << 20),
               ("grpc.enable_retries", 0)]
    with grpc.insecure_channel(target, options=options) as channel:
        grpc.channel_ready_future(channel).result(timeout=DEADLINE)
        codes = []
        if cmd == "export":
            stub, req = stub_and_request(channel, args[0], args[1])
            comp = grpc.Compression.Gzip if args[2:] == ["gzip"] else grpc.Compression.NoCompression
            codes.append(code_of(lambda: stub.Export(req, timeout=DEADLINE, compression=comp)))
        elif cmd == "sequential":
            stub, req = stub_and_request(channel, args[0], args[1])
            for _ in range(int(args[2])):
                codes.append(code_of(lambda: stub.Export(req, timeout=DEADLINE)))
        elif cmd == "concurrent":
            stub, req = stub_and_request(channel, args[0], args[1])
            futures = [stub.Export.future(req, timeout=DEADLINE) for _ in range(int(args[2]))]
            for f in futures:
                codes.append(code_of(f.result))
        elif cmd in ("raw", "raw_repeat"):
            with open(args[1], "rb") as f:
                msg = f.read()
            if cmd == "raw_repeat":
                msg = msg * int(args[2])
            call = channel.unary_unary(args[0], request_serializer=lambda b: b,
                                       response_deserializer=lambda b: b)
            codes.append(code_of(lambda: call(msg, timeout=DEADLINE)))
        else:
            sys.stderr.write("unknown command %s\n" % cmd)
            return 2
    print(" ".join(codes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
