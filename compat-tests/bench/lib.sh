# Shared helpers for the compat-tests benchmarks (sourced, not run).
# Each script sets BENCH_TMP (its temp dir) and calls bench_cleanup from its EXIT trap.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
COMPAT_DIR="$(cd "$BENCH_DIR/.." && pwd)"
JAVA_CP="$COMPAT_DIR/java/target/petrel-compat-java.jar:$COMPAT_DIR/java/target/lib/*"
VENV_PY="$COMPAT_DIR/.venv/bin/python"

PETREL_PID=""
BENCH_CHILD=""

# A free TCP port from the kernel's ephemeral range (not a fixed one: other runs on this
# machine use fixed ports).
bench_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bench_start_petrel BINARY DATA_DIR LOG [EXTRA_ARGS...]
# Starts petrel on two free ports; sets PETREL_PID, BOOTSTRAP, METRICS_ADDR. Waits (at most
# 30 s) until /metrics answers and a Metadata request (kcat -L) succeeds.
bench_start_petrel() {
    local bin="$1" data="$2" log="$3"
    shift 3
    local port mport
    port="$(bench_free_port)"
    mport="$(bench_free_port)"
    while [ "$mport" = "$port" ]; do mport="$(bench_free_port)"; done
    BOOTSTRAP="127.0.0.1:$port"
    METRICS_ADDR="127.0.0.1:$mport"
    "$bin" --listen "$BOOTSTRAP" --metrics-listen "$METRICS_ADDR" --data-dir "$data" "$@" >"$log" 2>&1 &
    PETREL_PID=$!
    local deadline=$((SECONDS + 30))
    until curl -fsS -m 2 "http://$METRICS_ADDR/metrics" >/dev/null 2>&1 &&
        timeout -k 2 5 kcat -L -b "$BOOTSTRAP" -m 3 >/dev/null 2>&1; do
        if ! kill -0 "$PETREL_PID" 2>/dev/null; then
            echo "petrel exited during startup; its log:" >&2
            tail -n 20 "$log" >&2
            PETREL_PID=""
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "petrel did not answer on $BOOTSTRAP / $METRICS_ADDR within 30 s; its log:" >&2
            tail -n 20 "$log" >&2
            return 1
        fi
        sleep 0.2
    done
}

# Stops a process we started: SIGTERM, up to 15 s, then SIGKILL.
bench_stop_pid() {
    local pid="$1" i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "pid $pid still running 15 s after SIGTERM; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    return 0
}

bench_stop_petrel() {
    bench_stop_pid "$PETREL_PID"
    PETREL_PID=""
}

# bench_run SECONDS TIMEFILE STDOUT STDERR CMD...: (STDERR may equal STDOUT) runs CMD bounded by `timeout` (which
# makes itself a process group leader and, when signalled, signals its whole group) under
# /usr/bin/time (TIMEFILE gets "USER_S SYS_S MAXRSS_KIB"). Runs in the background and waits,
# so a signal to this script is handled at once; bench_cleanup then ends the run's group.
# Returns CMD's exit status (124 on timeout).
bench_run() {
    local secs="$1" timefile="$2" out="$3" err="$4" rc
    shift 4
    if [ "$err" = "$out" ]; then
        timeout -k 5 "$secs" /usr/bin/time -f '%U %S %M' -o "$timefile" "$@" >"$out" 2>&1 </dev/null &
    else
        timeout -k 5 "$secs" /usr/bin/time -f '%U %S %M' -o "$timefile" "$@" >"$out" 2>"$err" </dev/null &
    fi
    BENCH_CHILD=$!
    wait "$BENCH_CHILD"
    rc=$?
    BENCH_CHILD=""
    return $rc
}

# The "USER_S SYS_S MAXRSS_KIB" line /usr/bin/time wrote to TIMEFILE.
bench_time_line() {
    grep -E '^[0-9.]+ [0-9.]+ [0-9]+$' "$1" 2>/dev/null | tail -n 1
}

bench_cleanup() {
    local child="$BENCH_CHILD" i
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null   # timeout passes it on to its process group
        for i in $(seq 50); do
            kill -0 "$child" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$child" 2>/dev/null
        wait "$child" 2>/dev/null
    fi
    BENCH_CHILD=""
    bench_stop_petrel
    if [ -n "${BENCH_TMP:-}" ] && [ -d "$BENCH_TMP" ]; then
        rm -rf "$BENCH_TMP"
    fi
}

# bench_metric NAME: the sum of NAME's samples on /metrics (0 if absent).
bench_metric() {
    curl -fsS -m 5 "http://$METRICS_ADDR/metrics" |
        awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $NF } END { printf "%.0f\n", s + 0 }'
}

# bench_median V1 V2 ...: the median (the middle one; the mean of the two middle ones).
bench_median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) printf "%.6f\n", v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_now: seconds since the epoch, microsecond resolution.
bench_now() {
    echo "${EPOCHREALTIME/,/.}"
}

bench_require_binary() {
    local bin="$1"
    if [ ! -x "$bin" ]; then
        echo "petrel binary '$bin' not found or not executable" >&2
        exit 2
    fi
    if ! timeout 10 "$bin" --help >/dev/null 2>&1; then
        echo "'$bin --help' failed; is it a petrel binary?" >&2
        exit 2
    fi
}

bench_require_clients() {
    local missing=() class
    command -v kcat >/dev/null 2>&1 || missing+=(kcat)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    [ -x "$VENV_PY" ] || missing+=("$COMPAT_DIR/.venv")
    for class in "$@"; do
        if ! unzip -l "$COMPAT_DIR/java/target/petrel-compat-java.jar" "dev/petrel/compat/$class.class" >/dev/null 2>&1; then
            missing+=("java class $class in the jar")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "missing: ${missing[*]} -- run compat-tests/install.sh" >&2
        exit 2
    fi
}
