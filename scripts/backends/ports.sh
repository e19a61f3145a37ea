# Fixed loopback ports and credentials of the test services (sourced by scripts/backends*.sh).
# Each can be overridden from the environment, e.g. when another etcd already uses them.
ETCD_CLIENT_PORTS=(${ETCD_CLIENT_PORTS:-23790 23791 23792})
ETCD_PEER_PORTS=(${ETCD_PEER_PORTS:-23890 23891 23892})
NATS_CLIENT_PORTS=(${NATS_CLIENT_PORTS:-24220 24221 24222})
NATS_CLUSTER_PORTS=(${NATS_CLUSTER_PORTS:-24320 24321 24322})
RGW_PORT=${RGW_PORT:-27480}
CEPH_MON_PORT=${CEPH_MON_PORT:-26789}
RGW_ACCESS_KEY=${RGW_ACCESS_KEY:-quiveraccesskey0000}
RGW_SECRET_KEY=${RGW_SECRET_KEY:-quiversecretkey000000000000000000000000}
