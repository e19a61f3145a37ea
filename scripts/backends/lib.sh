# Process handling shared by the service scripts (sourced by etcd.sh, nats.sh, rgw.sh).
# Only processes recorded in our own pid files, whose command line is the one we started,
# are ever signalled: pid files go stale and pids are recycled.

# True while process $1 runs; a zombie (exited, not reaped yet) counts as gone.
pid_alive() { [ -r "/proc/$1/stat" ] && ! awk '{ exit $3 == "Z" ? 0 : 1 }' "/proc/$1/stat" 2>/dev/null; }

# The pid recorded in file $1, if that process is alive and its command line contains $2.
pid_from_file() {
  local pid
  [ -f "$1" ] || return 1
  pid="$(cat "$1" 2>/dev/null)"
  [ -n "$pid" ] && pid_alive "$pid" || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  echo "$pid"
}

# Waits up to $1 seconds for every pid that follows to exit; false if one is still there.
wait_gone() {
  local deadline=$((SECONDS + $1)) pid
  shift
  for pid in "$@"; do
    while pid_alive "$pid"; do
      [ $SECONDS -lt $deadline ] || return 1
      sleep 0.1
    done
  done
}

# SIGTERM to the pids that follow, SIGKILL to those still there after $1 seconds.
stop_pids() {
  local grace=$1
  shift
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  wait_gone "$grace" "$@" && return 0
  kill -KILL "$@" 2>/dev/null || true
  wait_gone 5 "$@" || echo "processes $* outlived SIGKILL" >&2
}

# Runs `command...` in a session of its own, so it outlives the calling shell, with its
# output appended to $2 and its pid written to $1 (setsid execs in place: $! is the command).
launch_detached() {
  local pid_file=$1 log=$2
  shift 2
  setsid nohup "$@" >> "$log" 2>&1 < /dev/null &
  echo $! > "$pid_file"
}
