#!/usr/bin/env bash
# Consumer groups (classic protocol) with stock clients against a Petrel broker it starts.
#   compat-tests/groups_check.sh PETREL_BINARY      e.g. compat-tests/groups_check.sh target/release/petrel
#
# Starts PETREL_BINARY on private 127.0.0.1 ports with a fresh data dir (Kafka's default
# group.initial.rebalance.delay.ms, 3000) and runs, each scenario on its own topics and groups:
#   1. one group, three clients: kafka-clients (java GroupConsume), librdkafka
#      (python/group_consume.py) and franz-go (go/bin/petrel-compat group-consume), all with
#      the range assignor and session.timeout.ms 10000, on a 6-partition topic while a
#      producer keeps writing: 2+2+2 partitions; (a) the Java member stops with SIGTERM
#      (LeaveGroup) -> 3+3; (b) a second group, the librdkafka member is killed (SIGKILL, no
#      LeaveGroup) -> 3+3 once its session expires. Every produced record is processed at
#      least once, and none is read again below a commit the broker acknowledged.
#   2. each client alone, two members with its own default assignor (Java [range,
#      cooperative-sticky] -> range; librdkafka range,roundrobin -> range; franz-go
#      cooperative-sticky), plus Java and librdkafka configured with cooperative-sticky:
#      3+3, the group's protocol in DescribeGroups, and whether the first member kept its
#      partitions through the second member's join (cooperative, KIP-429) or gave up all of
#      them (eager); then the first member leaves and the other takes all 6.
#   3. the broker is killed (SIGKILL) and restarted on the same data dir with the three
#      clients of scenario 1 running: (a) idle, everything committed: the committed offsets
#      are those acknowledged before the kill and, once partitions move, nothing is read
#      twice; (b) while records are being produced and consumed: nothing skipped, nothing
#      read again below an acknowledged commit (duplicates only from uncommitted work).
#   4. static membership: two Java members with group.instance.id; one stops (a static
#      member sends no LeaveGroup) and comes back within the session timeout: same
#      generation and partitions, the other member sees no rebalance, DescribeGroups shows
#      the new member id under the same instance id.
#   5. kafka-consumer-groups operations through the Java AdminClient (java GroupAdmin) and
#      confluent-kafka's AdminClient (python/group_admin.py), each on its own group: list
#      (with states), describe, list offsets; on an active group alter offsets must fail
#      with UNKNOWN_MEMBER_ID, delete offsets with GROUP_SUBSCRIBED_TO_TOPIC, delete group
#      with NON_EMPTY_GROUP; on the Empty group alter/delete offsets work and a consumer
#      resumes at the reset offsets; delete group works, then GROUP_ID_NOT_FOUND; deleting a
#      topic deletes the groups' offsets for it; JoinGroup outside Kafka's session timeout
#      bounds fails with INVALID_SESSION_TIMEOUT.
# Prints PASS/FAIL per check (details indented), exits 1 if any failed, 2 on bad usage or
# missing clients. Every wait is bounded; the whole run is stopped after GROUPS_CHECK_MAX
# seconds (default 900; a normal run takes about 3-4 minutes). Every process and temp dir it
# starts is removed on exit.
# Env: GROUPS_CHECK_VERBOSE=1 shows client output on PASS too; GROUPS_CHECK_LOG_LEVEL sets
#      petrel's --log-level (default info); GROUPS_CHECK_KEEP=1 keeps the work dir;
#      GROUPS_CHECK_ONLY="1 3" runs only those scenarios.
# Run compat-tests/install.sh first.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -ne 1 ]; then
    echo "usage: $0 PETREL_BINARY (e.g. target/release/petrel)" >&2
    exit 2
fi
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
PY="$HERE/.venv/bin/python"
JAVA_CP="${GROUPS_CHECK_JAVA_CP:-$HERE/java/target/petrel-compat-java.jar:$HERE/java/target/lib/*}"
GO_BIN="$HERE/go/bin/petrel-compat"
VERIFY="python3 $HERE/tools/group_verify.py"
MAX="${GROUPS_CHECK_MAX:-900}"
ONLY="${GROUPS_CHECK_ONLY:-1 2 3 4 5}"
VERBOSE="${GROUPS_CHECK_VERBOSE:-0}"
# A client that outlives its scenario exits by itself after this many seconds.
CLIENT_MAX=300

if [ ! -x "$BIN" ] || ! "$BIN" --help >/dev/null 2>&1; then
    echo "groups_check.sh: $1 is not a runnable petrel binary ('$1 --help' failed)" >&2
    exit 2
fi
missing=()
[ -x "$PY" ] || missing+=("$HERE/.venv")
[ -x "$GO_BIN" ] || missing+=("$GO_BIN")
case "$("$GO_BIN" group-consume 2>&1)" in *--balancer*) ;; *) missing+=("$GO_BIN with group-consume --balancer") ;; esac
for cls in GroupConsume GroupAdmin; do
    # Without arguments each prints its usage and exits 2; anything else means no such class.
    java -cp "$JAVA_CP" "dev.petrel.compat.$cls" >/dev/null 2>&1
    [ $? -eq 2 ] || missing+=("dev.petrel.compat.$cls in $JAVA_CP")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "groups_check.sh: missing: ${missing[*]} -- run compat-tests/install.sh" >&2
    exit 2
fi

# The broker reads PETREL_* variables over its flags: keep the caller's out of it.
for var in $(compgen -e | grep '^PETREL_' || true); do unset "$var"; done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/petrel-groups-check.XXXXXX")"
DATA="$WORK/data"
broker_pid=""
broker_wrapper=""
broker_n=0
declare -A PIDS=()     # member/producer name -> pid (still to be collected)
declare -A WRAPPERS=() # name -> the subshell waiting for it
declare -A RCS=()      # name -> exit status once collected
watchdog=""
cleanup() {
    local name
    if [ -n "$watchdog" ]; then kill "$watchdog" 2>/dev/null; wait "$watchdog" 2>/dev/null; fi
    for name in "${!PIDS[@]}"; do kill -KILL "${PIDS[$name]}" 2>/dev/null; done
    for name in "${!PIDS[@]}"; do wait "${WRAPPERS[$name]}" 2>/dev/null; done
    if [ -n "$broker_pid" ]; then kill -KILL "$broker_pid" 2>/dev/null; fi
    if [ -n "$broker_wrapper" ]; then wait "$broker_wrapper" 2>/dev/null; fi
    if [ "${GROUPS_CHECK_KEEP:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'echo "groups_check: terminated (SIGTERM; the run is bounded by GROUPS_CHECK_MAX=${MAX}s)"; exit 124' TERM
# Whole-run bound: SIGTERM to this script, whose trap cleans up. The watchdog's own sleep
# ends with it.
(
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    sleep "$MAX" &
    sleeper=$!
    wait "$sleeper" && kill -TERM $$ 2>/dev/null
) >/dev/null 2>&1 &
watchdog=$!

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT="$(free_port)"
METRICS_PORT="$(free_port)"
while [ "$METRICS_PORT" = "$PORT" ]; do METRICS_PORT="$(free_port)"; done
BOOTSTRAP="127.0.0.1:$PORT"
RUN="$(date +%s)-$$"
T0=$SECONDS

failed=()
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1"; failed+=("$1"); }
indent() { sed 's/^/    /'; }
# show FILE...: client output, indented (the start and the end of long ones).
show() {
    local f
    for f in "$@"; do
        [ -s "$f" ] || continue
        echo "    -- ${f#"$WORK"/}"
        if [ "$(wc -l <"$f")" -gt 40 ]; then
            head -n 12 "$f" | indent
            echo "    ... ($(($(wc -l <"$f") - 32)) lines skipped) ..."
            tail -n 20 "$f" | indent
        else
            indent <"$f"
        fi
    done
}
# result NAME OK DETAIL_FILE [FILES_SHOWN_ON_FAIL...]: PASS/FAIL with the detail indented.
result() {
    local name="$1" ok="$2" detail="$3"
    shift 3
    if [ "$ok" = 0 ]; then
        pass "$name"
        [ -s "$detail" ] && indent <"$detail"
        if [ "$VERBOSE" = 1 ]; then show "$@"; fi
    else
        fail "$name"
        [ -s "$detail" ] && indent <"$detail"
        show "$@"
    fi
}

# --- the broker -----------------------------------------------------------------------
# start_broker: on $DATA and the same ports every time; waits (20 s at most) for Metadata.
start_broker() {
    local log t0
    broker_n=$((broker_n + 1))
    log="$WORK/petrel-$broker_n.log"
    t0=$(date +%s%N)
    (
        "$BIN" --listen "$BOOTSTRAP" --metrics-listen "127.0.0.1:$METRICS_PORT" --data-dir "$DATA" \
            --log-level "${GROUPS_CHECK_LOG_LEVEL:-info}" >"$log" 2>&1 &
        echo $! >"$log.pid"
        wait $!
        echo $? >"$log.exit"
    ) 2>/dev/null &
    broker_wrapper=$!
    for _ in $(seq 50); do [ -s "$log.pid" ] && break; sleep 0.1; done
    broker_pid="$(cat "$log.pid" 2>/dev/null)"
    [ -n "$broker_pid" ] || return 1
    for _ in $(seq 20); do
        [ -e "$log.exit" ] && return 1
        python3 "$HERE/tools/metadata_probe.py" "$BOOTSTRAP" --wait 1 --since-ns "$t0" >"$log.probe" 2>&1 && return 0
    done
    return 1
}
# stop_broker SIGNAL: waits 15 s at most; returns the exit status (KILL: 137 expected).
stop_broker() {
    local log="$WORK/petrel-$broker_n.log"
    kill "-$1" "$broker_pid" 2>/dev/null
    for _ in $(seq 150); do [ -e "$log.exit" ] && break; sleep 0.1; done
    [ -e "$log.exit" ] || kill -KILL "$broker_pid" 2>/dev/null
    wait "$broker_wrapper" 2>/dev/null
    broker_pid=""
    broker_wrapper=""
    return "$(cat "$log.exit" 2>/dev/null || echo 255)"
}
broker_log_tail() {
    echo "    -- petrel log (last 25 lines of $(basename "$WORK/petrel-$broker_n.log"))"
    tail -n 25 "$WORK/petrel-$broker_n.log" | indent
}

# --- clients --------------------------------------------------------------------------
# Each runs in the background with stdout in $WORK/NAME.out, stderr in $WORK/NAME.err and
# its processed records and acknowledged commits in $WORK/NAME.rec.
# The process runs under a subshell that waits for it, so that bash's "Killed" notice for a
# SIGKILLed one goes to that subshell's (dropped) stderr; WRAPPERS holds the subshells.
spawn() {
    local name="$1"
    shift
    rm -f "$WORK/$name.pid"
    (
        "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
        echo $! >"$WORK/$name.pid"
        wait $!
    ) 2>/dev/null &
    WRAPPERS[$name]=$!
    for _ in $(seq 100); do [ -s "$WORK/$name.pid" ] && break; sleep 0.02; done
    PIDS[$name]="$(cat "$WORK/$name.pid")"
}
# start_member CLIENT NAME TOPIC GROUP [--assignor A] [--session-ms N] [--instance-id ID] [--count N]
start_member() {
    local client="$1" name="$2" topic="$3" group="$4"
    shift 4
    local assignor="" session="" instance="" count=0
    while [ $# -gt 0 ]; do
        case "$1" in
            --assignor) assignor="$2" ;;
            --session-ms) session="$2" ;;
            --instance-id) instance="$2" ;;
            --count) count="$2" ;;
        esac
        shift 2
    done
    local rec="$WORK/$name.rec" extra=()
    case "$client" in
        java)
            [ -n "$assignor" ] && extra+=(--assignor "$assignor")
            [ -n "$session" ] && extra+=(--session-timeout-ms "$session")
            [ -n "$instance" ] && extra+=(--instance-id "$instance")
            spawn "$name" java -cp "$JAVA_CP" dev.petrel.compat.GroupConsume "$BOOTSTRAP" "$topic" "$group" \
                --record "$rec" --count "$count" --timeout-s "$CLIENT_MAX" "${extra[@]}" ;;
        python)
            [ -n "$assignor" ] && extra+=(--assignor "$assignor")
            [ -n "$session" ] && extra+=(--session-timeout-ms "$session")
            [ -n "$instance" ] && extra+=(--instance-id "$instance")
            spawn "$name" "$PY" "$HERE/python/group_consume.py" "$BOOTSTRAP" "$topic" "$group" \
                --record "$rec" --count "$count" --timeout-s "$CLIENT_MAX" "${extra[@]}" ;;
        go)
            [ -n "$assignor" ] && extra+=(--balancer "$assignor")
            [ -n "$session" ] && extra+=(--session-timeout "$((session / 1000))s")
            [ -n "$instance" ] && extra+=(--instance-id "$instance")
            # Keeps retrying through a broker restart instead of giving up after 10 errors.
            spawn "$name" "$GO_BIN" group-consume "$BOOTSTRAP" "$topic" "$group" "$count" \
                --record "$rec" --timeout "${CLIENT_MAX}s" --max-group-errors 0 "${extra[@]}" ;;
    esac
}
# collect NAME: waits for NAME's exit (40 s at most, then SIGKILL) and records its status in RCS.
collect() {
    local name="$1" pid="${PIDS[$1]}" rc
    for _ in $(seq 400); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
    wait "${WRAPPERS[$name]}" 2>/dev/null
    rc=$?
    RCS[$name]=$rc
    unset "PIDS[$name]" "WRAPPERS[$name]"
    return "$rc"
}
# stop_member NAME: SIGTERM, then collect. OK if the member printed "done:" and exited 0
# (or 143: the JVM's status after a SIGTERM it handled with its shutdown hook).
stop_member() {
    local name="$1" rc
    kill -TERM "${PIDS[$name]}" 2>/dev/null
    collect "$name"
    rc=${RCS[$name]}
    if grep -q '^done: ' "$WORK/$name.out" && { [ "$rc" -eq 0 ] || [ "$rc" -eq 143 ]; }; then
        return 0
    fi
    echo "$name: exit status $rc after SIGTERM$(grep -q '^done: ' "$WORK/$name.out" || echo ', no "done:" line')" >>"$WORK/stop-problems"
    return 1
}
kill_member() {
    kill -KILL "${PIDS[$1]}" 2>/dev/null
    collect "$1"
}
# produce NAME TOPIC PARTITIONS [--count N] [--rate R]: in the background, into $WORK/NAME.produced.
produce() {
    local name="$1" topic="$2" partitions="$3"
    shift 3
    spawn "$name" "$PY" "$HERE/python/group_produce.py" "$BOOTSTRAP" "$topic" "$partitions" "$WORK/$name.produced" "$@"
}
# stop_producer NAME: SIGTERM; the producer waits for its deliveries (60 s at most).
stop_producer() {
    kill -TERM "${PIDS[$1]}" 2>/dev/null
    for _ in $(seq 700); do kill -0 "${PIDS[$1]}" 2>/dev/null || break; sleep 0.1; done
    collect "$1"
    producer_report "$1"
}
# wait_producer NAME: a --count producer's end (60 s at most).
wait_producer() {
    for _ in $(seq 600); do kill -0 "${PIDS[$1]}" 2>/dev/null || break; sleep 0.1; done
    collect "$1"
    producer_report "$1"
}
# producer_report NAME: a FAIL line if the producer did not deliver everything it sent.
producer_report() {
    if [ "${RCS[$1]}" -ne 0 ]; then
        fail "producer $1 (exit ${RCS[$1]}): every record delivered"
        show "$WORK/$1.out" "$WORK/$1.err"
    fi
}
outs() { local n; for n in "$@"; do echo "$WORK/$n.out" "$WORK/$n.err"; done; }
recs() { local n; for n in "$@"; do echo "$n=$WORK/$n.rec"; done; }
# assigned_lines NAME: how many "assigned:" lines NAME has printed.
assigned_lines() { grep -c '^assigned: ' "$WORK/$1.out" 2>/dev/null || true; }
last_assigned() { grep '^assigned: ' "$WORK/$1.out" 2>/dev/null | tail -n 1 | sed 's/^assigned: [^:]*://'; }
# stop_report LABEL: one FAIL line if members stopped since the last report did not stop cleanly.
stop_report() {
    local label="$1"
    if [ -s "$WORK/stop-problems" ]; then
        fail "$label: members stop cleanly on SIGTERM"
        indent <"$WORK/stop-problems"
        rm -f "$WORK/stop-problems"
    fi
}

echo "groups_check: $BIN ($("$BIN" --version 2>/dev/null | head -n 1)) on $BOOTSTRAP, work dir $WORK"
echo "clients: kafka-clients $(ls "$HERE/java/target/lib" | sed -n 's/^kafka-clients-\(.*\)\.jar$/\1/p'), confluent-kafka $("$PY" -c 'import confluent_kafka as c; print("%s (librdkafka %s)" % (c.__version__, c.libversion()[0]))'), franz-go $(cd "$HERE/go" && sed -n 's|^[[:space:]]*github.com/twmb/franz-go \(v[^ ]*\)$|\1|p' go.mod)"
if ! start_broker; then
    fail "broker start"
    cat "$WORK/petrel-1.log.probe" 2>/dev/null | indent
    broker_log_tail
    exit 1
fi
pass "broker start (group.initial.rebalance.delay.ms: Kafka's default 3000)"

want() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# --- 1. three clients in one range group -------------------------------------------------
# scenario1 VARIANT STOP: VARIANT leave|kill; STOP the member stopped (SIGTERM or SIGKILL).
scenario1() {
    local variant="$1" victim="$2" topic="g1-$1-$RUN" group="g1-$1-$RUN" members=(java python go)
    local p="s1$variant" rest=() m d="$WORK/s1$variant.detail" rc
    for m in "${members[@]}"; do [ "$m" = "$victim" ] || rest+=("$m"); done
    produce "$p-prod" "$topic" 6 --rate 150
    sleep 1
    for m in "${members[@]}"; do
        start_member "$m" "$p-$m" "$topic" "$group" --assignor range --session-ms 10000
    done
    $VERIFY wait-assignment --timeout 60 --partitions 6 --stable 2 \
        "java=$WORK/$p-java.out:2" "python=$WORK/$p-python.out:2" "go=$WORK/$p-go.out:2" >"$d" 2>&1
    rc=$?
    result "1$variant: kafka-clients + librdkafka + franz-go share a range group on 6 partitions: 2+2+2" "$rc" "$d" \
        $(outs "$p-java" "$p-python" "$p-go")
    if [ "$rc" -ne 0 ]; then
        for m in "${members[@]}"; do kill_member "$p-$m"; done
        stop_producer "$p-prod"
        return
    fi
    sleep 2
    if [ "$variant" = leave ]; then
        stop_member "$p-$victim"
        stop_report "1$variant: $victim member"
    else
        kill_member "$p-$victim"
    fi
    $VERIFY wait-assignment --timeout 40 --partitions 6 --stable 2 \
        "${rest[0]}=$WORK/$p-${rest[0]}.out:3" "${rest[1]}=$WORK/$p-${rest[1]}.out:3" >"$d" 2>&1
    rc=$?
    if [ "$variant" = leave ]; then
        result "1$variant: the $victim member stops (SIGTERM: LeaveGroup) -> ${rest[0]} and ${rest[1]} own 3+3" "$rc" "$d" \
            $(outs "$p-${rest[0]}" "$p-${rest[1]}" "$p-$victim")
    else
        result "1$variant: the $victim member is killed (SIGKILL, no LeaveGroup; session.timeout.ms 10000) -> ${rest[0]} and ${rest[1]} own 3+3" \
            "$rc" "$d" $(outs "$p-${rest[0]}" "$p-${rest[1]}")
    fi
    sleep 2
    stop_producer "$p-prod"
    $VERIFY caught-up --timeout 40 --produced "$WORK/$p-prod.produced" $(recs "$p-java" "$p-python" "$p-go") >"$d" 2>&1 \
        || { fail "1$variant: the remaining members catch up"; indent <"$d"; }
    for m in "${rest[@]}"; do stop_member "$p-$m"; done
    stop_report "1$variant: remaining members"
    $VERIFY check --produced "$WORK/$p-prod.produced" $(recs "$p-java" "$p-python" "$p-go") >"$d" 2>&1
    rc=$?
    cat "$WORK/$p-prod.out" >>"$d"
    result "1$variant: every produced record processed, none read again below an acknowledged commit" "$rc" "$d" \
        $(outs "$p-prod")
}
if want 1; then
    scenario1 leave java
    scenario1 kill python
fi

# --- 2. each client alone with its default assignor; cooperative rebalancing ------------------
# The first member's "assigned:" lines while the second joins tell eager (it gives up all
# partitions: a line with fewer than it keeps) from cooperative (it keeps 3 throughout).
# rebalance_kind NAME FROM_LINE KEEP: "cooperative" or "eager" from NAME's assigned lines after FROM_LINE.
rebalance_kind() {
    local name="$1" from="$2" keep="$3" line n kind=cooperative
    while read -r line; do
        line="${line#assigned: }"
        line="${line##*:}"
        if [ -z "$line" ]; then n=0; else n=$(tr ',' '\n' <<<"$line" | wc -l); fi
        [ "$n" -lt "$keep" ] && kind=eager
    done < <(grep '^assigned: ' "$WORK/$name.out" | tail -n +"$((from + 1))")
    echo "$kind"
}
# cfg_id CLIENT ASSIGNOR: e.g. java-default, python-coop.
cfg_id() {
    case "$2" in
        -) echo "$1-default" ;;
        cooperative-sticky) echo "$1-coop" ;;
        *) echo "$1-$2" ;;
    esac
}
scenario2() {
    local topic="g2-$RUN" d="$WORK/s2.detail" configs c client assignor want_protocol want_kind
    local -A n0=() groups=() protocol=() rc=()
    # config: CLIENT ASSIGNOR(- = default) EXPECTED_PROTOCOL EXPECTED_KIND
    configs=(
        "java - range eager"
        "python - range eager"
        "go - cooperative-sticky cooperative"
        "java cooperative-sticky cooperative-sticky cooperative"
        "python cooperative-sticky cooperative-sticky cooperative"
    )
    produce s2-prod "$topic" 6 --rate 100
    sleep 1
    for c in "${configs[@]}"; do
        read -r client assignor _ _ <<<"$c"
        local id
        id=$(cfg_id "$client" "$assignor")
        groups[$id]="g2-$id-$RUN"
        local opts=()
        [ "$assignor" != - ] && opts=(--assignor "$assignor")
        start_member "$client" "s2-$id-1" "$topic" "${groups[$id]}" "${opts[@]}"
    done
    # The first member of each group alone: all 6 partitions.
    for c in "${configs[@]}"; do
        read -r client assignor want_protocol want_kind <<<"$c"
        local id
        id=$(cfg_id "$client" "$assignor")
        $VERIFY wait-assignment --timeout 60 --partitions 6 "first=$WORK/s2-$id-1.out:6" >"$d.$id" 2>&1
        rc[$id]=$?
        n0[$id]=$(assigned_lines "s2-$id-1")
        local opts=()
        [ "$assignor" != - ] && opts=(--assignor "$assignor")
        [ "${rc[$id]}" -eq 0 ] && start_member "$client" "s2-$id-2" "$topic" "${groups[$id]}" "${opts[@]}"
    done
    for c in "${configs[@]}"; do
        read -r client assignor want_protocol want_kind <<<"$c"
        local id label
        id=$(cfg_id "$client" "$assignor")
        label="$client with $([ "$assignor" = - ] && echo "its default assignor" || echo "$assignor")"
        if [ "${rc[$id]}" -ne 0 ]; then
            result "2 $label: the first member owns all 6 partitions" 1 "$d.$id" $(outs "s2-$id-1")
            continue
        fi
        $VERIFY wait-assignment --timeout 60 --partitions 6 --stable 2 \
            "first=$WORK/s2-$id-1.out:3" "second=$WORK/s2-$id-2.out:3" >>"$d.$id" 2>&1
        rc[$id]=$?
        result "2 $label: a second member joins -> 3+3" "${rc[$id]}" "$d.$id" $(outs "s2-$id-1" "s2-$id-2")
    done
    # The protocol each group chose (DescribeGroups), and how the first member lived through the join.
    local all_groups=()
    for c in "${configs[@]}"; do
        read -r client assignor _ _ <<<"$c"
        local id
        id=$(cfg_id "$client" "$assignor")
        all_groups+=("${groups[$id]}")
    done
    java -cp "$JAVA_CP" dev.petrel.compat.GroupAdmin "$BOOTSTRAP" describe "${all_groups[@]}" >"$WORK/s2.describe" 2>"$WORK/s2.describe.err"
    for c in "${configs[@]}"; do
        read -r client assignor want_protocol want_kind <<<"$c"
        local id label kind got line
        id=$(cfg_id "$client" "$assignor")
        [ "${rc[$id]}" -eq 0 ] || continue
        label="$client with $([ "$assignor" = - ] && echo "its default assignor" || echo "$assignor")"
        line=$(grep "^group=${groups[$id]} " "$WORK/s2.describe")
        got=$(sed -n 's/.* assignor=\([^ ]*\) .*/\1/p' <<<"$line")
        kind=$(rebalance_kind "s2-$id-1" "${n0[$id]}" 3)
        {
            echo "DescribeGroups: $line"
            echo "first member's assignments: $(grep '^assigned: ' "$WORK/s2-$id-1.out" | sed 's/^assigned: [^:]*://; s/^$/none/' | sed 's/^$/none/' | paste -sd' ' | sed 's/ / -> /g')"
        } >"$d.$id"
        if [ "$got" = "$want_protocol" ] && [ "$kind" = "$want_kind" ]; then ok=0; else ok=1; fi
        result "2 $label: group protocol $want_protocol, $want_kind rebalance (saw $got, $kind)" "$ok" "$d.$id" \
            $(outs "s2-$id-1" "s2-$id-2") "$WORK/s2.describe.err"
    done
    # The first member leaves: the second takes all 6 (cooperative: keeping its own 3).
    for c in "${configs[@]}"; do
        read -r client assignor _ _ <<<"$c"
        local id
        id=$(cfg_id "$client" "$assignor")
        [ "${rc[$id]}" -eq 0 ] || continue
        n0[$id]=$(assigned_lines "s2-$id-2")
        stop_member "s2-$id-1"
    done
    stop_report "2: first members"
    for c in "${configs[@]}"; do
        read -r client assignor want_protocol want_kind <<<"$c"
        local id label kind
        id=$(cfg_id "$client" "$assignor")
        [ "${rc[$id]}" -eq 0 ] || continue
        label="$client with $([ "$assignor" = - ] && echo "its default assignor" || echo "$assignor")"
        $VERIFY wait-assignment --timeout 40 --partitions 6 "second=$WORK/s2-$id-2.out:6" >"$d.$id" 2>&1
        ok=$?
        kind=$(rebalance_kind "s2-$id-2" "${n0[$id]}" 3)
        echo "second member's rebalance: $kind" >>"$d.$id"
        [ "$kind" = "$want_kind" ] || ok=1
        result "2 $label: the first member leaves -> the second owns all 6" "$ok" "$d.$id" $(outs "s2-$id-1" "s2-$id-2")
    done
    stop_producer s2-prod
    for c in "${configs[@]}"; do
        read -r client assignor _ _ <<<"$c"
        local id label
        id=$(cfg_id "$client" "$assignor")
        label="$client with $([ "$assignor" = - ] && echo "its default assignor" || echo "$assignor")"
        $VERIFY caught-up --timeout 30 --produced "$WORK/s2-prod.produced" $(recs "s2-$id-1" "s2-$id-2") >"$d.$id" 2>&1
        [ -n "${PIDS[s2-$id-2]:-}" ] && stop_member "s2-$id-2"
        [ -n "${PIDS[s2-$id-1]:-}" ] && kill_member "s2-$id-1"
        $VERIFY check --produced "$WORK/s2-prod.produced" $(recs "s2-$id-1" "s2-$id-2") >>"$d.$id" 2>&1
        result "2 $label: every produced record processed, none read again below an acknowledged commit" "$?" "$d.$id"
    done
    stop_report "2: second members"
}
if want 2; then
    scenario2
fi

# --- 3. the broker is killed and restarted under a running group ----------------------------
# end_offsets PRODUCED...: "PARTITION END" lines, the offset after each partition's last record.
end_offsets() {
    cat "$@" | awk '{ if (!($1 in e) || $2 + 1 > e[$1]) e[$1] = $2 + 1 } END { for (p in e) print p, e[p] }' | sort -n
}
# joined_count NAME: how many rebalances a Java member has completed.
joined_count() { grep -c '^joined: ' "$WORK/$1.out" 2>/dev/null || true; }
scenario3() {
    local topic="g3-$RUN" group="g3-$RUN" d="$WORK/s3.detail" m rc joins_before joins_after
    local members=(java python go)
    produce s3-prod1 "$topic" 6 --count 1200
    wait_producer s3-prod1
    for m in "${members[@]}"; do
        start_member "$m" "s3-$m" "$topic" "$group" --assignor range --session-ms 10000
    done
    {
        $VERIFY wait-assignment --timeout 60 --partitions 6 --stable 2 \
            "java=$WORK/s3-java.out:2" "python=$WORK/s3-python.out:2" "go=$WORK/s3-go.out:2" &&
        $VERIFY caught-up --timeout 40 --produced "$WORK/s3-prod1.produced" $(recs s3-java s3-python s3-go)
    } >"$d" 2>&1
    rc=$?
    result "3a: three clients (range) processed and committed 1200 records" "$rc" "$d" \
        $(outs s3-prod1 s3-java s3-python s3-go)
    if [ "$rc" -ne 0 ]; then
        for m in "${members[@]}"; do kill_member "s3-$m"; done
        return
    fi
    # Idle: everything processed and committed (acknowledged) before the kill.
    joins_before=$(joined_count s3-java)
    stop_broker KILL
    rc=$?
    start_broker
    if [ "$rc" -ne 137 ] || [ -z "$broker_pid" ]; then
        fail "3a: broker killed (SIGKILL, exit $rc) and restarted on the same data dir"
        broker_log_tail
        for m in "${members[@]}"; do kill_member "s3-$m"; done
        [ -n "$broker_pid" ] || start_broker
        return
    fi
    pass "3a: broker killed (SIGKILL) with the group Stable and everything committed, restarted on the same data dir"
    java -cp "$JAVA_CP" dev.petrel.compat.GroupAdmin "$BOOTSTRAP" offsets "$group" 2>"$d.err" |
        awk '{ print $3, $4 }' | sort -n >"$WORK/s3.offsets"
    end_offsets "$WORK/s3-prod1.produced" >"$WORK/s3.ends"
    {
        echo "committed (OffsetFetch): $(paste -sd' ' "$WORK/s3.offsets" | sed 's/ \([0-9]*\) / \1, /g')"
        echo "acknowledged before the kill (= end offsets): $(paste -sd' ' "$WORK/s3.ends" | sed 's/ \([0-9]*\) / \1, /g')"
    } >"$d"
    cmp -s "$WORK/s3.offsets" "$WORK/s3.ends"
    result "3a: after the restart the committed offsets are those acknowledged before the kill" "$?" "$d" "$d.err"
    # Give the members a few heartbeats against the restarted broker.
    sleep 6
    joins_after=$(joined_count s3-java)
    if [ "$joins_after" -eq "$joins_before" ]; then
        echo "    (info) the restarted broker kept the group: no rebalance (Java member still in generation $(grep '^joined: ' "$WORK/s3-java.out" | tail -n 1 | sed 's/.*generation=\([0-9]*\).*/\1/'))"
    else
        echo "    (info) the members rejoined after the restart: Java member's generations $(grep '^joined: ' "$WORK/s3-java.out" | sed 's/.*generation=\([0-9]*\).*/\1/' | paste -sd' ' | sed 's/ / -> /g')"
    fi
    # Move partitions, so that their new owners start from the committed offsets.
    stop_member s3-java
    stop_report "3a: java member"
    $VERIFY wait-assignment --timeout 40 --partitions 6 --stable 2 \
        "python=$WORK/s3-python.out:3" "go=$WORK/s3-go.out:3" >"$d" 2>&1
    rc=$?
    result "3a: the Java member leaves after the restart -> python and go own 3+3" "$rc" "$d" \
        $(outs s3-java s3-python s3-go) 
    produce s3-prod2 "$topic" 6 --count 600
    wait_producer s3-prod2
    $VERIFY caught-up --timeout 40 --produced "$WORK/s3-prod1.produced" --produced "$WORK/s3-prod2.produced" \
        $(recs s3-java s3-python s3-go) >"$d" 2>&1
    $VERIFY check --no-rereads --produced "$WORK/s3-prod1.produced" --produced "$WORK/s3-prod2.produced" \
        $(recs s3-java s3-python s3-go) >>"$d" 2>&1
    result "3a: consumption continues at the committed offsets: 600 more records, nothing skipped, nothing read twice" \
        "$?" "$d" $(outs s3-prod2 s3-python s3-go)

    # Busy: the broker dies while records are produced, processed and committed.
    start_member java s3-java2 "$topic" "$group" --assignor range --session-ms 10000
    $VERIFY wait-assignment --timeout 60 --partitions 6 --stable 2 \
        "java=$WORK/s3-java2.out:2" "python=$WORK/s3-python.out:2" "go=$WORK/s3-go.out:2" >"$d" 2>&1
    rc=$?
    result "3b: a Java member joins again -> 2+2+2" "$rc" "$d" $(outs s3-java2 s3-python s3-go)
    produce s3-prod3 "$topic" 6 --rate 150
    sleep 4
    joins_before=$(joined_count s3-java2)
    stop_broker KILL
    rc=$?
    sleep 1
    start_broker
    if [ "$rc" -ne 137 ] || [ -z "$broker_pid" ]; then
        fail "3b: broker killed (SIGKILL, exit $rc) while busy and restarted on the same data dir"
        broker_log_tail
        [ -n "$broker_pid" ] || start_broker
    else
        pass "3b: broker killed (SIGKILL) while records are produced and consumed, restarted on the same data dir"
    fi
    sleep 6
    $VERIFY wait-assignment --timeout 60 --partitions 6 --stable 2 \
        "java=$WORK/s3-java2.out:2" "python=$WORK/s3-python.out:2" "go=$WORK/s3-go.out:2" >"$d" 2>&1
    rc=$?
    joins_after=$(joined_count s3-java2)
    if [ "$joins_after" -eq "$joins_before" ]; then
        echo "(info) no rebalance after the restart" >>"$d"
    else
        echo "(info) the members rejoined after the restart: Java member's generations $(grep '^joined: ' "$WORK/s3-java2.out" | sed 's/.*generation=\([0-9]*\).*/\1/' | paste -sd' ' | sed 's/ / -> /g')" >>"$d"
    fi
    result "3b: after the restart the group is back to 2+2+2" "$rc" "$d" $(outs s3-java2 s3-python s3-go)
    sleep 3
    stop_producer s3-prod3
    $VERIFY caught-up --timeout 60 --produced "$WORK/s3-prod1.produced" --produced "$WORK/s3-prod2.produced" \
        --produced "$WORK/s3-prod3.produced" $(recs s3-java s3-java2 s3-python s3-go) >"$d" 2>&1
    for m in s3-java2 s3-python s3-go; do stop_member "$m"; done
    stop_report "3b: members"
    $VERIFY check --produced "$WORK/s3-prod1.produced" --produced "$WORK/s3-prod2.produced" \
        --produced "$WORK/s3-prod3.produced" $(recs s3-java s3-java2 s3-python s3-go) >>"$d" 2>&1
    rc=$?
    cat "$WORK/s3-prod3.out" >>"$d"
    result "3b: nothing skipped; records read twice only above the last acknowledged commit (uncommitted work)" "$rc" "$d" \
        $(outs s3-prod3 s3-java2 s3-python s3-go)
}
if want 3; then
    scenario3
fi

# --- 4. static membership (KIP-345) ------------------------------------------------------------
# last_generation NAME: the generation of NAME's last completed rebalance (Java members).
last_generation() { grep '^joined: ' "$WORK/$1.out" | tail -n 1 | sed 's/.*generation=\([0-9]*\).*/\1/'; }
scenario4() {
    local topic="g4-$RUN" group="g4-$RUN" d="$WORK/s4.detail" rc gen_a assign_a lines_b t_stop waited
    local session=15000
    produce s4-prod "$topic" 6 --rate 100
    sleep 1
    start_member java s4-a "$topic" "$group" --assignor range --session-ms "$session" --instance-id static-a
    start_member java s4-b "$topic" "$group" --assignor range --session-ms "$session" --instance-id static-b
    $VERIFY wait-assignment --timeout 60 --partitions 6 --stable 3 "a=$WORK/s4-a.out:3" "b=$WORK/s4-b.out:3" >"$d" 2>&1
    rc=$?
    java -cp "$JAVA_CP" dev.petrel.compat.GroupAdmin "$BOOTSTRAP" describe "$group" 2>&1 | sed "s/$topic://g" >"$WORK/s4.describe1"
    cat "$WORK/s4.describe1" >>"$d"
    grep -q ' instance=static-a ' "$WORK/s4.describe1" && grep -q ' instance=static-b ' "$WORK/s4.describe1" || rc=1
    result "4: two static Java members (group.instance.id static-a, static-b; session.timeout.ms $session) -> 3+3" "$rc" "$d" \
        $(outs s4-a s4-b)
    if [ "$rc" -ne 0 ]; then
        kill_member s4-a
        kill_member s4-b
        stop_producer s4-prod
        return
    fi
    gen_a=$(last_generation s4-a)
    assign_a=$(last_assigned s4-a)
    lines_b=$(wc -l <"$WORK/s4-b.out")
    t_stop=$SECONDS
    stop_member s4-a
    stop_report "4: static member static-a"
    java -cp "$JAVA_CP" dev.petrel.compat.GroupAdmin "$BOOTSTRAP" describe "$group" 2>&1 | sed "s/$topic://g" >"$WORK/s4.describe2"
    grep -q "^group=$group state=Stable .* members=2 " "$WORK/s4.describe2" &&
        grep -q " id=$(grep ' instance=static-a ' "$WORK/s4.describe1" | sed 's/.* id=\([^ ]*\) .*/\1/') instance=static-a " "$WORK/s4.describe2"
    result "4: static-a closes (SIGTERM): no LeaveGroup, the group stays Stable with its member" "$?" "$WORK/s4.describe2" \
        $(outs s4-a)
    start_member java s4-a2 "$topic" "$group" --assignor range --session-ms "$session" --instance-id static-a
    $VERIFY wait-assignment --timeout 20 --partitions 6 --stable 1 "a=$WORK/s4-a2.out:3" "b=$WORK/s4-b.out:3" >"$d" 2>&1
    rc=$?
    {
        echo "static-a before: generation $gen_a, partitions $assign_a; after the restart: generation $(last_generation s4-a2), partitions $(last_assigned s4-a2)"
    } >>"$d"
    [ "$(last_generation s4-a2)" = "$gen_a" ] && [ "$(last_assigned s4-a2)" = "$assign_a" ] || rc=1
    result "4: static-a restarts within the session timeout ($((SECONDS - t_stop)) s after its stop): same generation, same partitions" \
        "$rc" "$d" $(outs s4-a2 s4-b)
    # Past the old session's end: still no rebalance for static-b.
    waited=$(( session / 1000 + 3 - (SECONDS - t_stop) ))
    [ "$waited" -gt 0 ] && sleep "$waited"
    java -cp "$JAVA_CP" dev.petrel.compat.GroupAdmin "$BOOTSTRAP" describe "$group" 2>&1 | sed "s/$topic://g" >"$WORK/s4.describe3"
    {
        echo "static-b's output since static-a stopped: $(tail -n +"$((lines_b + 1))" "$WORK/s4-b.out" | paste -sd'|')"
        cat "$WORK/s4.describe3"
    } >"$d"
    rc=0
    [ "$(wc -l <"$WORK/s4-b.out")" -eq "$lines_b" ] || rc=1
    grep -q "^group=$group state=Stable .* members=2 " "$WORK/s4.describe3" || rc=1
    # static-b keeps its member id; static-a has a new one.
    local id_a1 id_a3 id_b1 id_b3
    id_a1=$(grep ' instance=static-a ' "$WORK/s4.describe1" | sed 's/.* id=\([^ ]*\) .*/\1/')
    id_a3=$(grep ' instance=static-a ' "$WORK/s4.describe3" | sed 's/.* id=\([^ ]*\) .*/\1/')
    id_b1=$(grep ' instance=static-b ' "$WORK/s4.describe1" | sed 's/.* id=\([^ ]*\) .*/\1/')
    id_b3=$(grep ' instance=static-b ' "$WORK/s4.describe3" | sed 's/.* id=\([^ ]*\) .*/\1/')
    { [ -n "$id_a3" ] && [ "$id_a3" != "$id_a1" ] && [ "$id_b3" = "$id_b1" ]; } || rc=1
    result "4: no rebalance: static-b saw nothing $((SECONDS - t_stop)) s after static-a's stop; DescribeGroups: Stable, static-a under a new member id" \
        "$rc" "$d" $(outs s4-a2 s4-b)
    # A static member that does not come back is removed when its session expires.
    lines_b=$(wc -l <"$WORK/s4-b.out")
    t_stop=$SECONDS
    stop_member s4-a2
    $VERIFY wait-assignment --timeout $((session / 1000 + 25)) --partitions 6 "b=$WORK/s4-b.out:6" >"$d" 2>&1
    rc=$?
    echo "static-b owns all 6 $((SECONDS - t_stop)) s after static-a stopped for good" >>"$d"
    [ "$((SECONDS - t_stop))" -ge $((session / 1000 - 2)) ] || { rc=1; echo "that is before the session timeout (${session} ms)" >>"$d"; }
    result "4: static-a stops for good -> removed when its session expires, static-b owns all 6" "$rc" "$d" $(outs s4-b)
    stop_producer s4-prod
    $VERIFY caught-up --timeout 30 --produced "$WORK/s4-prod.produced" $(recs s4-a s4-a2 s4-b) >"$d" 2>&1
    stop_member s4-b
    stop_report "4: static members"
    $VERIFY check --no-rereads --produced "$WORK/s4-prod.produced" $(recs s4-a s4-a2 s4-b) >>"$d" 2>&1
    result "4: every produced record processed once across the restarts" "$?" "$d" $(outs s4-prod)
}
if want 4; then
    scenario4
fi

# --- 5. kafka-consumer-groups operations through the AdminClients ---------------------------------
# first_offsets NAME: "PARTITION FIRST_OFFSET COUNT" per partition NAME processed.
first_offsets() {
    awk '$1 == "r" { if (!($3 in f) || $4 < f[$3]) f[$3] = $4; n[$3]++ }
         END { for (p in f) print p, f[p], n[p] }' "$WORK/$1.rec" 2>/dev/null |
        sort -n | awk '{ printf "%sp%s from %s (%s)", (NR > 1 ? ", " : ""), $1, $2, $3 } END { print "" }'
}
scenario5() {
    local topic="g5-$RUN" gj="g5-java-$RUN" gp="g5-python-$RUN" d="$WORK/s5.detail" rc
    produce s5-prod "$topic" 3 --count 90
    wait_producer s5-prod
    start_member java s5-j "$topic" "$gj" --assignor range
    start_member python s5-p "$topic" "$gp" --assignor range
    {
        $VERIFY wait-assignment --timeout 60 --partitions 3 "java=$WORK/s5-j.out:3" &&
        $VERIFY wait-assignment --timeout 30 --partitions 3 "python=$WORK/s5-p.out:3" &&
        $VERIFY caught-up --timeout 30 --produced "$WORK/s5-prod.produced" $(recs s5-j) &&
        $VERIFY caught-up --timeout 30 --produced "$WORK/s5-prod.produced" $(recs s5-p)
    } >"$d" 2>&1
    rc=$?
    result "5: a Java and a librdkafka group each consumed and committed 90 records (30 per partition)" "$rc" "$d" \
        $(outs s5-prod s5-j s5-p)
    if [ "$rc" -ne 0 ]; then
        kill_member s5-j
        kill_member s5-p
        return
    fi
    # admin_step NAME LOG CMD...: one PASS/FAIL for an AdminClient run (its failed checks shown).
    admin_step() {
        local name="$1" log="$2" rc n
        shift 2
        timeout -k 5 90 "$@" >"$log" 2>"$log.err"
        rc=$?
        n=$(grep -c '^ok ' "$log")
        if [ "$rc" -eq 0 ]; then
            pass "$name ($n checks)"
            if [ "$VERBOSE" = 1 ]; then indent <"$log"; fi
        else
            fail "$name ($n checks passed, exit $rc)"
            grep -v '^ok ' "$log" | indent
            tail -n 15 "$log.err" | indent
        fi
    }
    # JoinGroup outside Kafka's group.min/max.session.timeout.ms (6000/1800000): INVALID_SESSION_TIMEOUT.
    : >"$d"
    rc=0
    for ms in 5999 1800001; do
        timeout -k 5 60 java -cp "$JAVA_CP" dev.petrel.compat.GroupConsume "$BOOTSTRAP" "$topic" "g5-session-$ms-$RUN" \
            --session-timeout-ms "$ms" --timeout-s 30 >"$WORK/s5-session-$ms.out" 2>"$WORK/s5-session-$ms.err"
        grep -q '^done: failed: .*InvalidSessionTimeoutException' "$WORK/s5-session-$ms.out" || rc=1
        echo "session.timeout.ms $ms: $(grep '^done: ' "$WORK/s5-session-$ms.out" | cut -c1-120)" >>"$d"
    done
    result "5: JoinGroup with session.timeout.ms 5999 or 1800001 fails with INVALID_SESSION_TIMEOUT (Kafka's bounds 6000-1800000)" \
        "$rc" "$d" $(outs s5-session-5999 s5-session-1800001)
    local JA=(java -cp "$JAVA_CP" dev.petrel.compat.GroupAdmin "$BOOTSTRAP")
    local PA=("$PY" "$HERE/python/group_admin.py" "$BOOTSTRAP")
    admin_step "5 kafka-clients AdminClient, active group: list/describe/offsets; alter offsets -> UNKNOWN_MEMBER_ID, delete offsets -> GROUP_SUBSCRIBED_TO_TOPIC, delete group -> NON_EMPTY_GROUP" \
        "$WORK/s5-java-active.log" "${JA[@]}" active "$gj" "$topic" 3 30
    admin_step "5 confluent-kafka AdminClient, active group: list/describe/offsets; alter offsets -> UNKNOWN_MEMBER_ID, delete group -> NON_EMPTY_GROUP" \
        "$WORK/s5-python-active.log" "${PA[@]}" active "$gp" "$topic" 3 30
    stop_member s5-j
    stop_member s5-p
    stop_report "5: members"
    admin_step "5 kafka-clients AdminClient, Empty group: list/describe; alter offsets (earliest, 7), delete offsets of partition 2" \
        "$WORK/s5-java-empty.log" "${JA[@]}" empty "$gj" "$topic" 3 30
    admin_step "5 confluent-kafka AdminClient, Empty group: list/describe; alter offsets (earliest, 7)" \
        "$WORK/s5-python-empty.log" "${PA[@]}" empty "$gp" "$topic" 3 30
    # Consumers resume where the AdminClients put the offsets: partition 0 from 0, 1 from 7,
    # 2 from the start (Java: offset deleted, auto.offset.reset=earliest) or from 30
    # (python: nothing left).
    start_member java s5-j2 "$topic" "$gj" --assignor range --count 83
    start_member python s5-p2 "$topic" "$gp" --assignor range --count 53
    collect s5-j2
    collect s5-p2
    {
        echo "java group: $(first_offsets s5-j2) -- want p0 from 0 (30), p1 from 7 (23), p2 from 0 (30)"
        echo "librdkafka group: $(first_offsets s5-p2) -- want p0 from 0 (30), p1 from 7 (23)"
    } >"$d"
    rc=0
    [ "$(first_offsets s5-j2)" = "p0 from 0 (30), p1 from 7 (23), p2 from 0 (30)" ] || rc=1
    [ "$(first_offsets s5-p2)" = "p0 from 0 (30), p1 from 7 (23)" ] || rc=1
    result "5: consumers resume at the offsets the AdminClients set" "$rc" "$d" $(outs s5-j2 s5-p2)
    admin_step "5 kafka-clients AdminClient: delete the Empty group; then GROUP_ID_NOT_FOUND (describe, delete, delete offsets), no offsets" \
        "$WORK/s5-java-delete.log" "${JA[@]}" delete "$gj" "$topic"
    admin_step "5 confluent-kafka AdminClient: delete the Empty group; then describe (v5): Dead, delete: GROUP_ID_NOT_FOUND, no offsets" \
        "$WORK/s5-python-delete.log" "${PA[@]}" delete "$gp" "$topic"
    admin_step "5 confluent-kafka AdminClient: deleting a topic deletes the groups' offsets for it (also when it is created again)" \
        "$WORK/s5-python-topic-delete.log" "${PA[@]}" topic-delete "g5-topic-delete-$RUN" "g5-deleted-$RUN"
}
if want 5; then
    scenario5
fi

# --- final verdict ------------------------------------------------------------------------
if grep -l -i 'panicked' "$WORK"/petrel-*.log >/dev/null 2>&1; then
    fail "broker log has a panic"
    grep -h -i -A5 'panicked' "$WORK"/petrel-*.log | head -n 30 | indent
fi
if [ -n "$broker_pid" ]; then
    stop_broker TERM
    rc=$?
    if [ "$rc" -eq 0 ]; then pass "broker stops with SIGTERM"; else fail "broker stops with SIGTERM (exit $rc)"; broker_log_tail; fi
fi
echo "groups_check: took $((SECONDS - T0)) s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "groups_check: ${#failed[@]} failed:"
    printf '    %s\n' "${failed[@]}"
    exit 1
fi
echo "groups_check: all checks passed"
