#!/usr/bin/env bash
# A 3-node Petrel cluster on loopback, as three background processes (every node is both a
# controller, i.e. a voter of the Raft metadata quorum, and a broker).
#
#   node  client           controller       metrics          data / log
#   1     127.0.0.1:9092   127.0.0.1:9093   127.0.0.1:9464   DIR/node1, DIR/node1.log
#   2     127.0.0.1:9192   127.0.0.1:9193   127.0.0.1:9564   DIR/node2, DIR/node2.log
#   3     127.0.0.1:9292   127.0.0.1:9293   127.0.0.1:9664   DIR/node3, DIR/node3.log
#
# Usage: deploy/local-cluster.sh start|stop|status [--bin PATH] [--dir DIR]
#   start   launches the nodes that are not running, waits (at most 20 s) until every client
#           port accepts a TCP connection (a node serves clients once it is registered with
#           the quorum), then prints the bootstrap string for clients.
#   stop    SIGTERM to every node, waits up to 10 s, then SIGKILL.
#   status  which nodes run (pid, addresses).
# --bin defaults to target/release/petrel, else target/debug/petrel (relative to the repo).
# --dir defaults to ./local-cluster (relative to the current directory); it holds the data
# directories, logs and pid files. `rm -rf DIR` after `stop` forgets the cluster.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
nodes=(1 2 3)
start_wait_s=20
stop_wait_s=10

usage() {
  echo "usage: $0 start|stop|status [--bin PATH] [--dir DIR]" >&2
  exit 2
}

client_port() { echo $((9092 + ($1 - 1) * 100)); }
controller_port() { echo $((9093 + ($1 - 1) * 100)); }
metrics_port() { echo $((9464 + ($1 - 1) * 100)); }

voters() { # 1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293
  local n list=""
  for n in "${nodes[@]}"; do
    list+="${list:+,}$n@127.0.0.1:$(controller_port "$n")"
  done
  echo "$list"
}

bootstrap() { # 127.0.0.1:9092,127.0.0.1:9192,127.0.0.1:9292
  local n list=""
  for n in "${nodes[@]}"; do
    list+="${list:+,}127.0.0.1:$(client_port "$n")"
  done
  echo "$list"
}

find_binary() {
  if [ -n "$bin" ]; then
    [ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 1; }
    return
  fi
  local candidate
  for candidate in "$repo/target/release/petrel" "$repo/target/debug/petrel"; do
    if [ -x "$candidate" ]; then
      bin=$candidate
      if [ "$bin" = "$repo/target/release/petrel" ] && [ "$repo/target/debug/petrel" -nt "$bin" ]; then
        echo "note: target/debug/petrel is newer than target/release/petrel; using the release build (--bin to choose)" >&2
      fi
      return
    fi
  done
  echo "no petrel binary in $repo/target/{release,debug}; build one with" >&2
  echo "  cargo build --release --bin petrel   (or pass --bin PATH)" >&2
  exit 1
}

pid_file() { echo "$dir/node$1.pid"; }

running_pid() { # prints the node's pid and succeeds if it is alive
  local file pid
  file=$(pid_file "$1")
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # A recycled pid is not our node: the command line must name this node's data directory.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--data-dir $dir/node$1 " || return 1
  echo "$pid"
}

port_open() { # TCP connect to 127.0.0.1:$1 (bash's /dev/tcp, no extra tools)
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_node() {
  local n=$1 pid
  if pid=$(running_pid "$n"); then
    echo "node $n already running (pid $pid)"
    return
  fi
  mkdir -p "$dir/node$n"
  # setsid: the node gets its own session, so it outlives this shell and a Ctrl-C in it.
  setsid "$bin" \
    --node-id "$n" \
    --roles controller,broker \
    --data-dir "$dir/node$n" \
    --listen "127.0.0.1:$(client_port "$n")" \
    --advertised-listen "127.0.0.1:$(client_port "$n")" \
    --controller-listen "127.0.0.1:$(controller_port "$n")" \
    --voters "$(voters)" \
    --metrics-listen "127.0.0.1:$(metrics_port "$n")" \
    </dev/null >>"$dir/node$n.log" 2>&1 &
  echo $! >"$(pid_file "$n")"
  echo "node $n started (pid $!, log $dir/node$n.log)"
}

cmd_start() {
  find_binary
  mkdir -p "$dir"
  echo "binary: $bin"
  local n
  for n in "${nodes[@]}"; do start_node "$n"; done

  local deadline=$((SECONDS + start_wait_s)) waiting
  while :; do
    waiting=()
    for n in "${nodes[@]}"; do
      if ! running_pid "$n" >/dev/null; then
        echo "node $n exited; last lines of $dir/node$n.log:" >&2
        tail -n 20 "$dir/node$n.log" >&2
        cmd_stop
        exit 1
      fi
      port_open "$(client_port "$n")" || waiting+=("$n")
    done
    [ "${#waiting[@]}" -eq 0 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "client port of node(s) ${waiting[*]} not open after ${start_wait_s}s; see $dir/node*.log" >&2
      echo "(the nodes keep running; '$0 stop --dir $dir' stops them)" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "cluster up; bootstrap servers:"
  bootstrap
}

cmd_stop() {
  local n pid pids=()
  for n in "${nodes[@]}"; do
    if pid=$(running_pid "$n"); then
      kill -CONT "$pid" 2>/dev/null || true # a stopped (SIGSTOP) process would hold SIGTERM
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$n:$pid")
    fi
    rm -f "$(pid_file "$n")"
  done
  [ "${#pids[@]}" -eq 0 ] && { echo "no node running"; return; }

  local deadline=$((SECONDS + stop_wait_s)) alive entry
  while :; do
    alive=()
    for entry in "${pids[@]}"; do
      kill -0 "${entry#*:}" 2>/dev/null && alive+=("$entry")
    done
    [ "${#alive[@]}" -eq 0 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then
      for entry in "${alive[@]}"; do
        echo "node ${entry%%:*} (pid ${entry#*:}) still running after ${stop_wait_s}s: SIGKILL"
        kill -KILL "${entry#*:}" 2>/dev/null || true
      done
      break
    fi
    sleep 0.2
  done
  for entry in "${pids[@]}"; do echo "node ${entry%%:*} stopped (pid ${entry#*:})"; done
}

cmd_status() {
  local n pid state up=0
  for n in "${nodes[@]}"; do
    if pid=$(running_pid "$n"); then
      up=$((up + 1))
      if port_open "$(client_port "$n")"; then state="serving clients"; else state="not serving clients yet"; fi
      echo "node $n: running (pid $pid), $state on 127.0.0.1:$(client_port "$n"), controller 127.0.0.1:$(controller_port "$n"), metrics http://127.0.0.1:$(metrics_port "$n")/metrics"
    else
      echo "node $n: not running"
    fi
  done
  echo "$up of ${#nodes[@]} nodes running (dir $dir); bootstrap servers: $(bootstrap)"
}

[ $# -ge 1 ] || usage
command=$1
shift
bin=""
dir="./local-cluster"
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) [ $# -ge 2 ] || usage; bin=$2; shift 2 ;;
    --bin=*) bin=${1#--bin=}; shift ;;
    --dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
    --dir=*) dir=${1#--dir=}; shift ;;
    *) usage ;;
  esac
done
# Absolute paths: the pid files and the nodes' data directories must not depend on the cwd.
dir=$(realpath -m -- "$dir")
if [ -n "$bin" ]; then bin=$(realpath -m -- "$bin"); fi

case "$command" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) usage ;;
esac
