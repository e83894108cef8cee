#!/usr/bin/env bash
# Topic administration through stock AdminClients, visible in Metadata at once and after a
# broker restart.
#   compat-tests/admin_restart.sh PETREL_BINARY      e.g. compat-tests/admin_restart.sh target/release/petrel
#
# Twice, each time with a fresh data directory and private ports on 127.0.0.1:
#   1. start PETREL_BINARY, run phase 1 of python/admin_ops.py (confluent-kafka AdminClient)
#      and of java AdminOps (Apache kafka-clients AdminClient): create topics with partition
#      counts and configs, list/describe them, describe configs (values, sources, Kafka's
#      defaults), incrementalAlterConfigs SET/DELETE, legacy alterConfigs (confluent-kafka),
#      create partitions, delete topics -- checking Metadata after every change;
#   2. stop the broker: with SIGTERM (variant "sigterm", must log "petrel stopped" and exit 0)
#      or with SIGKILL (variant "sigkill");
#   3. start it again on the same data directory and run phase 2 of both clients: the same
#      topics, partition counts, topic ids and configs; the deleted topics absent;
#   4. stop it with SIGTERM.
# Prints PASS/FAIL per step (WARN lines under a PASS are differences from Apache Kafka that
# do not fail the check), exits 1 if any step failed, 2 on bad usage or missing clients.
# Every process and temp dir it starts is removed on exit. Each client run is bounded by
# ADMIN_RESTART_TIMEOUT seconds (default 90), start-up by 20 s and stops by 15 s, so a run
# takes at most about 15 minutes (normally under 10 s).
# Env: ADMIN_RESTART_VERBOSE=1 shows every client check, not only failures;
#      ADMIN_RESTART_JAVA_CP overrides the Java classpath (default: the jar install.sh builds).
# Run compat-tests/install.sh first.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -ne 1 ]; then
    echo "usage: $0 PETREL_BINARY (e.g. target/release/petrel)" >&2
    exit 2
fi
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
T="${ADMIN_RESTART_TIMEOUT:-90}"
PY="$HERE/.venv/bin/python"
JAVA_CP="${ADMIN_RESTART_JAVA_CP:-$HERE/java/target/petrel-compat-java.jar:$HERE/java/target/lib/*}"

if [ ! -x "$BIN" ] || ! "$BIN" --help >/dev/null 2>&1; then
    echo "admin_restart.sh: $1 is not a runnable petrel binary ('$1 --help' failed)" >&2
    exit 2
fi
missing=()
[ -x "$PY" ] || missing+=("$HERE/.venv")
# AdminOps without arguments prints its usage and exits 2; anything else means no such class.
java -cp "$JAVA_CP" dev.petrel.compat.AdminOps >/dev/null 2>&1
[ $? -eq 2 ] || missing+=("dev.petrel.compat.AdminOps in $JAVA_CP")
if [ ${#missing[@]} -gt 0 ]; then
    echo "admin_restart.sh: missing: ${missing[*]} -- run compat-tests/install.sh" >&2
    exit 2
fi

# The broker reads PETREL_* variables over its flags: keep the caller's out of it.
for var in $(compgen -e | grep '^PETREL_' || true); do unset "$var"; done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/petrel-admin-restart.XXXXXX")"
broker_pid=""    # the petrel process
wrapper_pid=""   # the subshell that waits for it and records its exit status
stop_reason=""
cleanup() {
    if [ -n "$broker_pid" ]; then kill -KILL "$broker_pid" 2>/dev/null; fi
    if [ -n "$wrapper_pid" ]; then wait "$wrapper_pid" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT="$(free_port)"
METRICS_PORT="$(free_port)"
while [ "$METRICS_PORT" = "$PORT" ]; do METRICS_PORT="$(free_port)"; done
BOOTSTRAP="127.0.0.1:$PORT"
PY_VERSION="$("$PY" -c 'import confluent_kafka as c; print(c.__version__)' 2>/dev/null)"
# The kafka-clients jar on the classpath, e.g. .../lib/kafka-clients-4.4.0.jar -> 4.4.0.
JAVA_VERSION="?"
IFS=: read -r -a cp_entries <<<"$JAVA_CP"
for entry in "${cp_entries[@]}"; do
    for f in $entry; do  # unquoted: lib/* is a glob
        case "$f" in */kafka-clients-*.jar) JAVA_VERSION="${f##*/kafka-clients-}"; JAVA_VERSION="${JAVA_VERSION%.jar}" ;; esac
    done
done
echo "admin_restart: $BIN ($("$BIN" --version 2>/dev/null | head -n 1)) on $BOOTSTRAP, work dir $WORK"

failed=()
# show_log FILE: the client's failures in full, the rest only when verbose.
show_log() {
    if [ "${ADMIN_RESTART_VERBOSE:-0}" = 1 ]; then
        sed 's/^/    /' "$1"
    elif [ "$(wc -l <"$1")" -gt 60 ]; then
        # Checks print ok/FAIL/WARN lines; keep the non-ok ones and the end.
        grep -v '^ok ' "$1" | head -n 60 | sed 's/^/    /'
    else
        grep -v '^ok ' "$1" | sed 's/^/    /'
    fi
}
# report NAME RC LOG [REASON]
report() {
    local name="$1" rc="$2" log="$3" reason="${4:-}"
    local checks warns
    checks=$(grep -c '^ok ' "$log" 2>/dev/null)
    warns=$(grep -c '^WARN ' "$log" 2>/dev/null)
    if [ "$rc" -eq 0 ] && [ -z "$reason" ]; then
        if [ "$warns" -gt 0 ]; then
            echo "PASS $name ($checks checks; $warns difference(s) from Apache Kafka that do not fail it)"
        else
            echo "PASS $name ($checks checks)"
        fi
        if [ "${ADMIN_RESTART_VERBOSE:-0}" = 1 ]; then
            sed 's/^/    /' "$log"
        else
            grep '^WARN ' "$log" | sed 's/^/    /'
        fi
    else
        if [ "$rc" -eq 124 ]; then reason="timed out after ${T}s${reason:+; $reason}"; fi
        echo "FAIL $name (exit $rc${reason:+: $reason}; $checks checks passed)"
        show_log "$log"
        failed+=("$name")
    fi
}

# start_broker DATA_DIR LOG: starts the broker and waits (20 s at most) for Metadata.
# The broker runs under a subshell that writes its pid to LOG.pid and, once it has ended,
# its exit status to LOG.exit (the subshell's stderr is dropped, so bash's "Killed" notice
# for the SIGKILL variant stays out of the output; petrel's own output goes to LOG).
start_broker() {
    local data="$1" log="$2" t0
    t0=$(date +%s%N)
    (
        "$BIN" --listen "$BOOTSTRAP" --metrics-listen "127.0.0.1:$METRICS_PORT" --data-dir "$data" >"$log" 2>&1 &
        echo $! >"$log.pid"
        wait $!
        echo $? >"$log.exit"
    ) 2>/dev/null &
    wrapper_pid=$!
    for _ in $(seq 50); do [ -s "$log.pid" ] && break; sleep 0.1; done
    broker_pid="$(cat "$log.pid" 2>/dev/null)"
    [ -n "$broker_pid" ] || return 1
    # Probe in 1 s slices so that a broker that exits early is noticed at once.
    for _ in $(seq 20); do
        if [ -e "$log.exit" ]; then
            echo "petrel exited with status $(cat "$log.exit") during start-up" >>"$log.probe"
            return 1
        fi
        if python3 "$HERE/tools/metadata_probe.py" "$BOOTSTRAP" --wait 1 --since-ns "$t0" >"$log.probe" 2>&1; then
            return 0
        fi
    done
    return 1
}

# stop_broker SIGNAL LOG: SIGTERM must end in "petrel stopped" and exit 0 within 15 s.
# Sets stop_reason on failure.
stop_broker() {
    local signal="$1" log="$2" rc
    stop_reason=""
    kill "-$signal" "$broker_pid" 2>/dev/null
    for _ in $(seq 150); do [ -e "$log.exit" ] && break; sleep 0.1; done
    if [ ! -e "$log.exit" ]; then
        kill -KILL "$broker_pid" 2>/dev/null
        stop_reason="still running 15 s after SIG$signal; killed"
    fi
    wait "$wrapper_pid" 2>/dev/null
    broker_pid=""
    wrapper_pid=""
    [ -z "$stop_reason" ] || return 1
    rc="$(cat "$log.exit")"
    if [ "$signal" = TERM ]; then
        if [ "$rc" -ne 0 ]; then stop_reason="exit status $rc after SIGTERM"; return 1; fi
        if ! grep -q "petrel stopped" "$log"; then stop_reason="no 'petrel stopped' in the log after SIGTERM"; return 1; fi
    elif [ "$rc" -ne 137 ]; then
        stop_reason="exit status $rc after SIGKILL (expected 137)"
        return 1
    fi
    return 0
}

# broker_step NAME LOG RC [REASON]: a broker start/stop step; shows the broker log on failure.
broker_step() {
    local name="$1" log="$2" rc="$3" reason="${4:-}"
    if [ "$rc" -eq 0 ]; then
        echo "PASS $name"
    else
        echo "FAIL $name${reason:+ ($reason)}"
        cat "$log.probe" 2>/dev/null | sed 's/^/    probe: /'
        tail -n 30 "$log" | sed 's/^/    /'
        failed+=("$name")
    fi
}

# clients VARIANT PHASE: both AdminClients, each with its own topics.
# (The exit status is saved first: a $(...) in report's arguments would overwrite $?.)
clients() {
    local variant="$1" phase="$2" dir="$WORK/$1" rc
    timeout -k 5 "$T" "$PY" "$HERE/python/admin_ops.py" "$BOOTSTRAP" "$phase" "$PY_PREFIX" "$dir/python.state" \
        >"$dir/python-$phase.log" 2>&1
    rc=$?
    report "$variant: confluent-kafka $PY_VERSION $phase" "$rc" "$dir/python-$phase.log"
    timeout -k 5 "$T" java -cp "$JAVA_CP" dev.petrel.compat.AdminOps "$BOOTSTRAP" "$phase" "$JAVA_PREFIX" "$dir/java.state" \
        >"$dir/java-$phase.log" 2>&1
    rc=$?
    report "$variant: kafka-clients $JAVA_VERSION $phase" "$rc" "$dir/java-$phase.log"
}

for variant in sigterm sigkill; do
    dir="$WORK/$variant"
    mkdir -p "$dir"
    signal=TERM
    [ "$variant" = sigkill ] && signal=KILL
    run_id="$(date +%s)-$$"
    PY_PREFIX="adm-py-$variant-$run_id"
    JAVA_PREFIX="adm-java-$variant-$run_id"

    start_broker "$dir/data" "$dir/petrel-1.log"
    rc=$?
    broker_step "$variant: start on an empty data dir" "$dir/petrel-1.log" "$rc"
    if [ "$rc" -ne 0 ]; then stop_broker KILL "$dir/petrel-1.log"; continue; fi
    clients "$variant" phase1

    stop_broker "$signal" "$dir/petrel-1.log"
    broker_step "$variant: stop with SIG$signal" "$dir/petrel-1.log" "$?" "$stop_reason"

    start_broker "$dir/data" "$dir/petrel-2.log"
    rc=$?
    broker_step "$variant: restart on the same data dir" "$dir/petrel-2.log" "$rc"
    if [ "$rc" -ne 0 ]; then stop_broker KILL "$dir/petrel-2.log"; continue; fi
    clients "$variant" phase2

    stop_broker TERM "$dir/petrel-2.log"
    broker_step "$variant: stop with SIGTERM after the restart" "$dir/petrel-2.log" "$?" "$stop_reason"

    # Whatever the clients saw, the broker must not have panicked.
    if grep -l -i 'panicked' "$dir"/petrel-*.log >/dev/null 2>&1; then
        echo "FAIL $variant: broker log has a panic"
        grep -h -i -A5 'panicked' "$dir"/petrel-*.log | head -n 30 | sed 's/^/    /'
        failed+=("$variant: broker panic")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "admin_restart: ${#failed[@]} failed:"
    printf '    %s\n' "${failed[@]}"
    exit 1
fi
echo "admin_restart: all checks passed"
