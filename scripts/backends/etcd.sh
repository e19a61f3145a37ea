#!/usr/bin/env bash
# A 3-member etcd cluster on 127.0.0.1 for Quiver's MetaKV (see scripts/backends.sh).
#
#   etcd.sh up        start every member not running, wait until the cluster has a leader
#                     and every member serves
#   etcd.sh down      stop all members (SIGTERM, then SIGKILL) and remove their data
#   etcd.sh kill N    kill -9 member N (0-based)
#   etcd.sh start N   start member N again on its data and wait until it serves
#
# Ports come from ports.sh; data, logs and pid files live in $BACKENDS_DIR/etcd/
# (m<i>/ data, m<i>.log, m<i>.pid). Only processes recorded in those pid files are signalled.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/ports.sh"
source "$here/lib.sh"
BACKENDS_DIR="${BACKENDS_DIR:-$here/../../build/backends}"
mkdir -p "$BACKENDS_DIR"
dir="$(cd "$BACKENDS_DIR" && pwd)/etcd"
members=${#ETCD_CLIENT_PORTS[@]}
start_timeout=60

client_url() { echo "http://127.0.0.1:${ETCD_CLIENT_PORTS[$1]}"; }
peer_url() { echo "http://127.0.0.1:${ETCD_PEER_PORTS[$1]}"; }

initial_cluster() {
  local i list=()
  for ((i = 0; i < members; i++)); do list+=("m$i=$(peer_url "$i")"); done
  (IFS=,; echo "${list[*]}")
}

all_endpoints() {
  local i list=()
  for ((i = 0; i < members; i++)); do list+=("127.0.0.1:${ETCD_CLIENT_PORTS[$i]}"); done
  (IFS=,; echo "${list[*]}")
}

# The pid of member N if it is alive and is the etcd we started.
member_pid() { pid_from_file "$dir/m$1.pid" "--data-dir $dir/m$1 "; }

check_member() {
  if ! [[ "$1" =~ ^[0-9]+$ ]] || (($1 >= members)); then
    echo "etcd: no member '$1' (members are 0..$((members - 1)))" >&2
    exit 2
  fi
}

# Starts member N in its own session so it outlives the calling shell. A member that has
# data rejoins the existing cluster; one without bootstraps a new cluster with the others.
launch_member() {
  local i=$1 state=new
  [ -d "$dir/m$i/member" ] && state=existing
  mkdir -p "$dir"
  # Short Raft timers suit loopback: a killed leader is replaced in about a second.
  # Compaction keeps 10 minutes of history, far more than any watch-from-revision needs.
  launch_detached "$dir/m$i.pid" "$dir/m$i.log" \
    etcd --name "m$i" --data-dir "$dir/m$i" \
    --listen-client-urls "$(client_url "$i")" --advertise-client-urls "$(client_url "$i")" \
    --listen-peer-urls "$(peer_url "$i")" --initial-advertise-peer-urls "$(peer_url "$i")" \
    --initial-cluster "$(initial_cluster)" --initial-cluster-token quiver-test-etcd \
    --initial-cluster-state "$state" \
    --heartbeat-interval 100 --election-timeout 1000 \
    --auto-compaction-mode periodic --auto-compaction-retention 10m \
    --max-txn-ops 10000 --logger zap --log-outputs stderr
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    member_pid "$i" > /dev/null && return 0
    sleep 0.1
  done
  echo "etcd: member m$i did not start; its log:" >&2
  tail -n 20 "$dir/m$i.log" >&2
  return 1
}

# Waits until every endpoint in $1 answers a linearizable read (which needs a leader) and
# the members in $2 (the ones just started) are still running.
wait_healthy() {
  local endpoints=$1 started=$2 deadline=$((SECONDS + start_timeout)) i
  until ETCDCTL_API=3 etcdctl --endpoints="$endpoints" --dial-timeout=1s --command-timeout=2s \
      endpoint health > /dev/null 2>&1 && members_alive "$started"; do
    for i in $started; do
      if ! member_pid "$i" > /dev/null; then
        echo "etcd: member m$i exited; its log:" >&2
        tail -n 20 "$dir/m$i.log" >&2
        return 1
      fi
    done
    if ((SECONDS >= deadline)); then
      echo "etcd: $endpoints not healthy after ${start_timeout}s:" >&2
      ETCDCTL_API=3 etcdctl --endpoints="$endpoints" --dial-timeout=1s endpoint health >&2 || true
      for ((i = 0; i < members; i++)); do echo "--- m$i.log" >&2; tail -n 10 "$dir/m$i.log" >&2 || true; done
      return 1
    fi
    sleep 0.2
  done
}

members_alive() {
  local i
  for i in $1; do member_pid "$i" > /dev/null || return 1; done
}

case "${1:-}" in
  up)
    started=""
    for ((i = 0; i < members; i++)); do
      member_pid "$i" > /dev/null || { launch_member "$i" || exit 1; started+=" $i"; }
    done
    wait_healthy "$(all_endpoints)" "$started"
    echo "etcd: $members members serve on $(all_endpoints)"
    ;;
  down)
    pids=()
    for ((i = 0; i < members; i++)); do
      if pid="$(member_pid "$i")"; then pids+=("$pid"); fi
    done
    # SIGKILL after 2 s: a leader stopping beside its followers would otherwise spend 7 s
    # trying to hand over leadership, and the data is removed anyway.
    stop_pids 2 "${pids[@]}"
    rm -rf "$dir"
    ;;
  kill)
    check_member "${2:-}"
    if pid="$(member_pid "$2")"; then
      kill -KILL "$pid"
      wait_gone 5 "$pid" || { echo "etcd: process $pid is still alive" >&2; exit 1; }
      rm -f "$dir/m$2.pid"
    fi
    ;;
  start)
    check_member "${2:-}"
    member_pid "$2" > /dev/null || launch_member "$2"
    wait_healthy "127.0.0.1:${ETCD_CLIENT_PORTS[$2]}" "$2"
    ;;
  *)
    echo "usage: $0 up|down|kill N|start N" >&2
    exit 2
    ;;
esac
