# grpc_lib.sh: Debian's grpcio for the tests that talk gRPC through it (sourced after lib.sh).
PY=/usr/bin/python3    # Debian's python3-grpcio; another python3 may lack it

# grpc_stubs: the 8 OTLP .proto files through grpc_tools.protoc into $OG_TMP/stubs, checked (OUT is kept).
# python3-grpc-tools 1.14 embeds protoc 3.5.1, which rejects proto3 "optional" (metrics.proto, 6 fields).
# Dropping the keyword keeps the wire format (bench/README.md); the stubs need no field presence.
grpc_stubs()
{
    local protos keep=$OUT
    mkdir -p "$OG_TMP/proto" "$OG_TMP/stubs"
    cp -R "$OG_SRCDIR/src/proto/opentelemetry" "$OG_TMP/proto/"
    chmod -R u+w "$OG_TMP/proto"
    sed -i 's/^\(\s*\)optional /\1/' "$OG_TMP/proto/opentelemetry/proto/metrics/v1/metrics.proto"
    protos=$(cd "$OG_TMP/proto" && find opentelemetry -name '*.proto' | sort)
    # shellcheck disable=SC2086  # one argument per file
    run_cmd 60 "$PY" -m grpc_tools.protoc -I"$OG_TMP/proto" --python_out="$OG_TMP/stubs" \
        --grpc_python_out="$OG_TMP/stubs" $protos
    all_true "grpc_tools.protoc generates the stubs of the 8 OTLP .proto files" \
        "$([ "$RC" = 0 ] && echo 0 || echo "protoc exited with $RC: $ERR")" \
        "$([ "$(wc -w <<<"$protos")" = 8 ] && echo 0 || echo "proto files: $protos")" \
        "$([ -f "$OG_TMP/stubs/opentelemetry/proto/collector/logs/v1/logs_service_pb2_grpc.py" ] && echo 0 ||
            echo "no logs_service_pb2_grpc.py")"
    OUT=$keep
}
