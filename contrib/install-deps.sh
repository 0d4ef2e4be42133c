#!/bin/sh
# install-deps.sh: installs every Debian package otelgate needs to build,
# test and run. README, .ci/run and users all call this one script.
set -eu

packages="
  build-essential autoconf automake libtool pkg-config
  libevent-dev libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler
  liblmdb-dev lmdb-utils libyaml-dev zlib1g-dev libssl-dev libhttp-parser-dev libjansson-dev
  android-libboringssl-dev
  libcmocka-dev mandoc curl nghttp2-client python3 procps iproute2
  clang libclang-rt-14-dev python3-grpcio python3-grpc-tools python3-protobuf
"

# Node.js (for tests/interop, the official JS SDKs) is not in this list:
# Debian 12's nodejs is too old for the SDK; the interop test uses the node
# on PATH and skips without one.

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root (apt-get install needs it)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $packages
