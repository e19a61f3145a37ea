#!/usr/bin/env bash
# Starts or stops the real backend services on 127.0.0.1 for Quiver and its tests:
#   3 etcd members (metadata), 3 NATS JetStream nodes (WAL), one Ceph radosgw (object storage).
#
#   scripts/backends.sh up     start whatever is not running, wait until all serve, and write
#                              $BACKENDS_DIR/quiver.yaml (a config pointing Quiver at them)
#                              and quiver.env (the same as QUIVER_* environment variables)
#   scripts/backends.sh down   stop them all and remove their data
#
# Each service has its own script beside this one (scripts/backends/{etcd,nats,rgw}.sh) with
# the same `up` / `down` plus `kill N` (kill -9 member N) and `start N`, for fault tests.
# BACKENDS_DIR defaults to build/backends.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export BACKENDS_DIR="${BACKENDS_DIR:-$here/../build/backends}"
mkdir -p "$BACKENDS_DIR"
BACKENDS_DIR="$(cd "$BACKENDS_DIR" && pwd)"
source "$here/backends/ports.sh"
services=(etcd nats rgw)

write_config() {
  cat > "$BACKENDS_DIR/quiver.yaml.tmp" <<YAML
# Written by scripts/backends.sh: Quiver on the services it started on 127.0.0.1.
# quiver run standalone --config $BACKENDS_DIR/quiver.yaml
metastore:
  type: etcd
etcd:
  endpoints: [127.0.0.1:${ETCD_CLIENT_PORTS[0]}, 127.0.0.1:${ETCD_CLIENT_PORTS[1]}, 127.0.0.1:${ETCD_CLIENT_PORTS[2]}]
  rootPath: quiver
common:
  storageType: minio
minio:
  address: 127.0.0.1
  port: ${RGW_PORT}
  accessKeyID: ${RGW_ACCESS_KEY}
  secretAccessKey: ${RGW_SECRET_KEY}
  useSSL: false
  bucketName: quiver
  rootPath: files
mq:
  type: natsmq
natsmq:
  servers: [nats://127.0.0.1:${NATS_CLIENT_PORTS[0]}, nats://127.0.0.1:${NATS_CLIENT_PORTS[1]}, nats://127.0.0.1:${NATS_CLIENT_PORTS[2]}]
  replicas: 3
YAML
  mv "$BACKENDS_DIR/quiver.yaml.tmp" "$BACKENDS_DIR/quiver.yaml"
  # The same settings as QUIVER_<SECTION>_<KEY> variables (the e2e harness adds its own
  # namespace to each server it starts).
  cat > "$BACKENDS_DIR/quiver.env" <<ENV
QUIVER_METASTORE_TYPE=etcd
QUIVER_ETCD_ENDPOINTS=127.0.0.1:${ETCD_CLIENT_PORTS[0]},127.0.0.1:${ETCD_CLIENT_PORTS[1]},127.0.0.1:${ETCD_CLIENT_PORTS[2]}
QUIVER_COMMON_STORAGETYPE=minio
QUIVER_MINIO_ADDRESS=127.0.0.1
QUIVER_MINIO_PORT=${RGW_PORT}
QUIVER_MINIO_ACCESSKEYID=${RGW_ACCESS_KEY}
QUIVER_MINIO_SECRETACCESSKEY=${RGW_SECRET_KEY}
QUIVER_MINIO_USESSL=false
QUIVER_MINIO_BUCKETNAME=quiver
QUIVER_MQ_TYPE=natsmq
QUIVER_NATSMQ_SERVERS=nats://127.0.0.1:${NATS_CLIENT_PORTS[0]},nats://127.0.0.1:${NATS_CLIENT_PORTS[1]},nats://127.0.0.1:${NATS_CLIENT_PORTS[2]}
QUIVER_NATSMQ_REPLICAS=3
ENV
}

case "${1:-}" in
  up)
    # Started side by side: radosgw alone takes ~17 s.
    pids=()
    for s in "${services[@]}"; do
      "$here/backends/$s.sh" up > "$BACKENDS_DIR/$s-up.log" 2>&1 & pids+=($!)
    done
    failed=0
    for i in "${!services[@]}"; do
      if ! wait "${pids[$i]}"; then
        echo "backends: ${services[$i]} did not start; its log:" >&2
        tail -n 40 "$BACKENDS_DIR/${services[$i]}-up.log" >&2
        failed=1
      fi
    done
    [ "$failed" = 0 ] || exit 1
    write_config
    echo "backends: etcd, NATS JetStream and radosgw serve; config in $BACKENDS_DIR/quiver.yaml"
    ;;
  down)
    status=0
    for s in "${services[@]}"; do "$here/backends/$s.sh" down || status=1; done
    rm -f "$BACKENDS_DIR/quiver.yaml" "$BACKENDS_DIR/quiver.env"
    exit $status
    ;;
  *)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
