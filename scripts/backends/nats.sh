#!/usr/bin/env bash
# A 3-node NATS JetStream cluster (nats-server 2.9) on 127.0.0.1: Quiver's WAL.
#
#   nats.sh up        start every node not already running, wait until JetStream serves
#   nats.sh down      stop every node (SIGTERM, then SIGKILL) and remove the data
#   nats.sh kill N    kill -9 node N (0, 1 or 2)
#   nats.sh start N   start node N again on its data and wait until it serves
#
# Node i: client port NATS_CLIENT_PORTS[i], cluster (route) port NATS_CLUSTER_PORTS[i],
# monitoring (HTTP) port NATS_MONITOR_PORTS[i] (default client + 200: 24420..24422).
# Files: $BACKENDS_DIR/nats/n<i>/{nats.conf,nats.log,nats.pid,store/}.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/ports.sh"
source "$here/lib.sh"
BACKENDS_DIR="${BACKENDS_DIR:-$here/../../build/backends}"
NATS_MONITOR_PORTS=(${NATS_MONITOR_PORTS:-24420 24421 24422})
root="$BACKENDS_DIR/nats"
members=(0 1 2)
start_timeout=60

die() {
  echo "nats: $*" >&2
  exit 1
}

node_dir() { echo "$root/n$1"; }
pid_file() { echo "$(node_dir "$1")/nats.pid"; }

# The pid of node $1 if the process recorded in its pid file is the nats-server we started.
running_pid() { pid_from_file "$(pid_file "$1")" "nats-server -c $(node_dir "$1")/nats.conf"; }

write_config() {
  local i=$1 dir routes=""
  dir="$(node_dir "$i")"
  for j in "${members[@]}"; do
    routes+="    nats-route://127.0.0.1:${NATS_CLUSTER_PORTS[$j]}"$'\n'
  done
  # max_payload: a WAL record is one NATS message, and a Milvus insert may be up to 64 MB
  # (the gRPC limit), so the server takes the largest payload NATS allows.
  cat > "$dir/nats.conf.tmp" <<CONF
# Written by scripts/backends/nats.sh
server_name: quiver-nats-$i
listen: 127.0.0.1:${NATS_CLIENT_PORTS[$i]}
http: 127.0.0.1:${NATS_MONITOR_PORTS[$i]}
max_payload: 67108864
max_pending: 134217728
log_file: "$dir/nats.log"
jetstream {
  store_dir: "$dir/store"
  max_memory_store: 67108864
  max_file_store: 8589934592
}
cluster {
  name: quiver
  listen: 127.0.0.1:${NATS_CLUSTER_PORTS[$i]}
  routes: [
$routes  ]
}
CONF
  mv "$dir/nats.conf.tmp" "$dir/nats.conf"
}

launch() {
  local i=$1 dir
  dir="$(node_dir "$i")"
  mkdir -p "$dir/store"
  write_config "$i"
  rm -f "$(pid_file "$i")"
  launch_detached "$(pid_file "$i")" "$dir/nats.out" nats-server -c "$dir/nats.conf"
}

# True once node $1 answers on its monitoring port, knows the JetStream meta leader and
# reports itself healthy (its JetStream assets are current).
serves() {
  local port=${NATS_MONITOR_PORTS[$1]} jsz
  jsz="$(curl -sf --max-time 2 "http://127.0.0.1:$port/jsz" 2>/dev/null)" || return 1
  grep -Eq '"leader": *"[^"]+"' <<< "$jsz" || return 1
  curl -sf --max-time 2 "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"ok"'
}

wait_serving() {
  local deadline=$((SECONDS + start_timeout)) pending
  while :; do
    pending=()
    for i in "$@"; do serves "$i" || pending+=("$i"); done
    [ "${#pending[@]}" = 0 ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      for i in "${pending[@]}"; do
        echo "nats: node $i does not serve JetStream after ${start_timeout}s; end of $(node_dir "$i")/nats.log:" >&2
        tail -n 20 "$(node_dir "$i")/nats.log" >&2 2>/dev/null || true
        tail -n 5 "$(node_dir "$i")/nats.out" >&2 2>/dev/null || true
      done
      exit 1
    fi
    sleep 0.5
  done
}

check_member() {
  [[ "${1:-}" =~ ^[0-2]$ ]] || die "member must be 0, 1 or 2, not '${1:-}'"
}

command -v nats-server > /dev/null || die "nats-server is not installed (scripts/install-deps.sh)"
command -v curl > /dev/null || die "curl is not installed"

case "${1:-}" in
  up)
    for i in "${members[@]}"; do running_pid "$i" > /dev/null || launch "$i"; done
    wait_serving "${members[@]}"
    echo "nats: JetStream cluster serves on 127.0.0.1:${NATS_CLIENT_PORTS[*]} (monitoring ${NATS_MONITOR_PORTS[*]})"
    ;;
  down)
    pids=()
    for i in "${members[@]}"; do
      if pid="$(running_pid "$i")"; then pids+=("$pid"); fi
    done
    stop_pids 5 "${pids[@]}"
    rm -rf "$root"
    ;;
  kill)
    check_member "${2:-}"
    if pid="$(running_pid "$2")"; then
      kill -KILL "$pid"
      wait_gone 5 "$pid" || die "process $pid is still alive"
    fi
    ;;
  start)
    check_member "${2:-}"
    running_pid "$2" > /dev/null || launch "$2"
    wait_serving "$2"
    ;;
  *)
    echo "usage: $0 up|down|kill N|start N" >&2
    exit 2
    ;;
esac
