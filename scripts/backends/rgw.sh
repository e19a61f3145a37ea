#!/usr/bin/env bash
# A one-node Ceph cluster serving S3 on 127.0.0.1 for Quiver's tests: one monitor, one
# BlueStore OSD on a sparse file and one radosgw, all under $BACKENDS_DIR/rgw/ with their own
# ceph.conf and fsid (the system's /etc/ceph and /var/lib/ceph are never read or written).
#
#   rgw.sh up        start whatever is not running (creating the cluster on first use) and
#                    wait until the gateway answers S3 requests
#   rgw.sh down      stop every daemon and remove the cluster's files
#   rgw.sh kill 0    kill -9 the radosgw process (the only member)
#   rgw.sh start 0   start radosgw again on the existing cluster and wait until it serves
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/ports.sh"
source "$here/lib.sh"
BACKENDS_DIR="${BACKENDS_DIR:-$here/../../build/backends}"
mkdir -p "$BACKENDS_DIR"
dir="$(cd "$BACKENDS_DIR" && pwd)/rgw"
conf="$dir/ceph.conf"
start_timeout=60

log() { echo "rgw: $*" >&2; }
die() { log "$*"; exit 1; }

write_conf() {
  local fsid="$1"
  # auth none everywhere keeps the daemons and tools keyring-free; `ms mon client mode = crc`
  # is needed with it, or clients retry the monitor's auth for 300 s and give up. The memory
  # settings (small caches, pg logs and memtables) keep the three daemons near 140 MB idle and
  # about 200 MB after a burst of 64 MB objects, on a machine that runs tests beside them.
  cat > "$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$CEPH_MON_PORT
mon initial members = a
public network = 127.0.0.0/8
ms bind msgr1 = false
ms bind ipv4 = true
ms bind ipv6 = false
ms mon client mode = crc
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
run dir = $dir/run
log file = $dir/log/\$name.log
log to stderr = false
err to stderr = true
mon cluster log file = $dir/log/cluster.log
crash dir = $dir/crash
keyring = $dir/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon allow pool delete = true
osd crush chooseleaf type = 0
debug ms = 0
debug mon = 0
debug osd = 0
debug rgw = 0

[mon]
admin socket = $dir/run/\$name.asok
mon data = $dir/mon.\$id
# The disk is shared with everything else: warn or stop only when it is nearly full.
mon data avail warn = 5
mon data avail crit = 1

[osd]
admin socket = $dir/run/\$name.asok
osd data = $dir/osd.\$id
osd objectstore = bluestore
bluestore block path = $dir/osd.\$id.block
bluestore block create = true
bluestore block size = 10737418240
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mount = false
bluestore cache autotune = false
bluestore cache size = 33554432
osd op num shards = 1
osd op num threads per shard = 2
osd max object size = 134217728
osd min pg log entries = 100
osd max pg log entries = 500
bluestore rocksdb options = compression=kNoCompression,max_write_buffer_number=2,min_write_buffer_number_to_merge=1,recycle_log_file_num=2,write_buffer_size=16777216,writable_file_max_buffer_size=0,compaction_readahead_size=2097152,max_background_compactions=1,max_total_wal_size=134217728

# tcp_nodelay: without it each small GET waits 40 ms (Nagle against the client's delayed ACK).
[client.rgw.a]
admin socket = $dir/run/\$name.asok
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw dns name = localhost
rgw thread pool size = 32
rgw enable usage log = false
rgw cache lru size = 1000
CONF
}

pid_file() { echo "$dir/run/$1.pid"; }

# The program each daemon we start runs.
binary_of() { case "$1" in mon.a) echo ceph-mon ;; osd.0) echo ceph-osd ;; rgw) echo radosgw ;; esac; }

# The pid of daemon `name` (mon.a, osd.0, rgw) if the process we started still runs.
running() { pid_from_file "$(pid_file "$1")" "$(binary_of "$1") -c $conf "; }

# Starts daemon `name` in the foreground of its own session, detached from the caller.
start_member() {
  local name="$1"; shift
  running "$name" > /dev/null && return 0
  # glibc would keep the freed buffers of large objects in its heap (Debian's Ceph does not use
  # tcmalloc): a fixed mmap threshold hands them back to the system.
  launch_detached "$(pid_file "$name")" "$dir/log/$name.out" \
    env MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=262144 "$(binary_of "$name")" -c "$conf" "$@" -f
}
start_mon() { start_member mon.a -i a; }
start_osd() { start_member osd.0 -i 0; }
start_rgw() { start_member rgw -n client.rgw.a; }

# SIGTERM, then SIGKILL after a few seconds, to the daemons named that we started.
stop() {
  local pids=() name pid
  for name in "$@"; do
    if pid="$(running "$name")"; then pids+=("$pid"); fi
  done
  stop_pids 5 "${pids[@]}"
}

# The monitor goes last: a stopping OSD waits for it to acknowledge.
stop_all() {
  stop rgw osd.0
  stop mon.a
}

ceph_cmd() { timeout 20 ceph -c "$conf" --connect-timeout 10 "$@"; }

# Waits until `command...` succeeds; gives up start_timeout seconds after the script started.
wait_for() {
  local what="$1"
  shift
  until "$@" > /dev/null 2>&1; do
    [ $SECONDS -lt $start_timeout ] || die "$what did not come up within ${start_timeout}s; see $dir/log/"
    sleep 0.3
  done
}

osd_up() { ceph_cmd osd dump 2>/dev/null | grep -q '^osd\.0 up'; }
# Any HTTP answer (even an S3 error) means the gateway listens.
s3_answers() { curl -s -o /dev/null -m 2 "http://127.0.0.1:$RGW_PORT/"; }
# A signed listing of the user's buckets reads from the OSD: the whole path serves.
s3_serves() {
  [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
    -u "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "http://127.0.0.1:$RGW_PORT/")" = 200 ]
}

create_mon() {
  local fsid="$1"
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$CEPH_MON_PORT]" "$dir/monmap" > /dev/null
  ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' > /dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
}

create_osd() {
  local uuid
  uuid="$(cat /proc/sys/kernel/random/uuid)"
  mkdir -p "$dir/osd.0"
  [ "$(ceph_cmd osd new "$uuid")" = 0 ] || die "the monitor did not hand out osd id 0"
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" > "$dir/log/osd-mkfs.out" 2>&1 ||
    die "ceph-osd --mkfs failed: $(tail -n 5 "$dir/log/osd-mkfs.out")"
}

# The pools radosgw would create one by one on first use (the data pools only with the first
# bucket and upload): made up front, beside the OSD's creation, they cost no extra time.
# Best effort: radosgw still creates any that is missing.
rgw_pools=(.rgw.root default.rgw.log default.rgw.control default.rgw.meta default.rgw.buckets.index
  default.rgw.buckets.data default.rgw.buckets.non-ec)
create_pools() {
  local pool
  for pool in "${rgw_pools[@]}"; do
    { ceph_cmd osd pool create "$pool" && ceph_cmd osd pool application enable "$pool" rgw; } > /dev/null 2>&1 &
  done
  wait
}

create_user() {
  radosgw-admin -c "$conf" user create --uid=quiver --display-name=Quiver \
    --access-key="$RGW_ACCESS_KEY" --secret-key="$RGW_SECRET_KEY" > /dev/null
}

up() {
  local fresh=0
  if [ ! -f "$dir/created" ]; then
    # What an interrupted first `up` left behind is of no use: start over.
    stop_all
    rm -rf "$dir"
    fresh=1
  fi
  mkdir -p "$dir/run" "$dir/log" "$dir/crash"
  if [ $fresh = 1 ]; then
    local fsid
    fsid="$(cat /proc/sys/kernel/random/uuid)"
    write_conf "$fsid"
    create_mon "$fsid"
  fi
  start_mon
  wait_for "ceph-mon" ceph_cmd mon stat
  if [ $fresh = 1 ]; then
    create_pools &
    create_osd
    wait $!
  fi
  start_osd
  wait_for "ceph-osd" osd_up
  start_rgw
  if [ $fresh = 1 ]; then
    wait_for "radosgw" s3_answers
    create_user
    touch "$dir/created"
  fi
  wait_for "radosgw" s3_serves
  log "radosgw serves S3 on 127.0.0.1:$RGW_PORT"
}

member() {
  [ "${1:-}" = 0 ] || die "rgw has one member, 0 (the radosgw gateway); got '${1:-}'"
}

case "${1:-}" in
  up) up ;;
  down)
    if [ -d "$dir" ]; then stop_all; fi
    rm -rf "$dir"
    ;;
  kill)
    member "${2:-}"
    if pid="$(running rgw)"; then
      kill -KILL "$pid"
      wait_gone 5 "$pid" || die "process $pid is still alive"
    fi
    ;;
  start)
    member "${2:-}"
    [ -f "$dir/created" ] || die "no cluster under $dir; run '$0 up' first"
    start_rgw
    wait_for "radosgw" s3_serves
    ;;
  *)
    echo "usage: $0 up | down | kill 0 | start 0" >&2
    exit 2
    ;;
esac
