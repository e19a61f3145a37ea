#!/usr/bin/env bash
# Installs every build and test dependency from Debian's packages and the npm registry.
# Idempotent: installs only what is missing, so `make` can call it on every run cheaply.
#   scripts/install-deps.sh             what building and running Quiver needs
#   scripts/install-deps.sh --services  also the servers the tests and `make backends` start
#                                       (etcd, NATS, Ceph's radosgw)
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libyaml-cpp-dev libfaiss-dev libhnswlib-dev libopenblas-dev libspdlog-dev libfmt-dev libcpp-httplib-dev
  nlohmann-json3-dev libzstd-dev zlib1g-dev libgtest-dev libgmock-dev libbenchmark-dev
  curl libcurl4-openssl-dev libssl-dev libnats-dev golang-etcd-server-dev
)
if [ "${1:-}" = "--services" ]; then
  DEB_PACKAGES+=(etcd-server etcd-client nats-server radosgw ceph-mon ceph-osd ceph-common)
fi
# Node.js may come from elsewhere (a newer build); Debian's is enough when there is none.
command -v node >/dev/null && command -v npm >/dev/null || DEB_PACKAGES+=(nodejs npm)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Node SDK is both the protocol source (tools/gen-proto) and the client of our e2e tests.
if [ ! -d node_modules/@zilliz/milvus2-sdk-node ] || [ package.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund --loglevel=error
fi
