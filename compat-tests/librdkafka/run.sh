#!/usr/bin/env bash
# Runs librdkafka's own upstream test suite (tests/test-runner, built by
# install.sh) against Petrel, one test id per runner process.
#
#   ./run.sh PETREL_BINARY             run every entry of expected-pass.txt;
#                                      exit 1 if any of them did not pass
#   RUN_ALL=1 ./run.sh PETREL_BINARY   run every broker test id the runner knows,
#                                      to discover new passes; always exits 0
#   ./run.sh PETREL_BINARY 0012 0045:noautocreate   run just these ids
#
# A test id is a librdkafka test number (0012), which the runner expands to
# every non-local sub-test with that number (e.g. 0045_subscribe_update*), or
# NUMBER:noautocreate for the sub-tests that need a broker with topic
# auto-creation off (librdkafka's "noautocreate" scenario).
#
# expected-pass.txt lines are "ID MODE [FILTER]":
#   MODE full   runs the test as written;
#   MODE quick  passes the runner's -Q, which shrinks message counts and SKIPS
#               every sub-test not marked SUB_TEST_QUICK (some tests then do
#               nothing at all, e.g. 0018), so it is used only where it still
#               runs something that full mode cannot (see FINDINGS.md);
#   FILTER      (rest of the line) is passed as SUBTESTS, the runner's
#               sub-test name filter, to run only the sub-tests of a test that
#               work against Petrel; the entry passes only if a sub-test whose
#               name contains FILTER ran and passed.
# Ids from the command line or RUN_ALL run in MODE (default full).
#
# Every run: local-only tests filtered out (-L means "don't run local tests";
# -l would mean "only local"), sub-tests one at a time (-p1: otherwise the
# runner runs them concurrently and stretches every timeout by that factor),
# TEST_KAFKA_VERSION=4.0.0 (Petrel speaks the Kafka 4.0 protocol; the runner
# skips or adapts tests by this version), CI unset (it would stretch timeouts
# and change request.timeout.ms, so local and CI runs would differ), and a hard
# time bound per entry.
# An entry PASSes when the runner exits 0 and its JSON report shows at least
# one sub-test PASSED and none FAILED/RUNNING; if all its sub-tests were skipped
# it prints SKIP, which counts as a failure for an expected-pass entry.
#
# Broker: librdkafka's default test scenario (tests/scenarios/default.json and
# trivup's server.properties) is auto.create.topics.enable=true and
# num.partitions=4, Kafka defaults otherwise (group.initial.rebalance.delay.ms
# stays 3000). Petrel gets the same. Each job slot has its own broker, which
# serves consecutive entries and is restarted with a fresh data dir after any
# entry that did not pass (so a failure cannot leak into the next) and when the
# scenario changes.
#
# Environment knobs:
#   PETREL_HOST   loopback address to bind (default 127.0.0.1); ports are free ones
#   JOBS          entries run at once, each slot with its own broker (default 4:
#                 most tests wait on timers, not CPU)
#   TEST_TIMEOUT  seconds per entry (default 240)
#   MODE          full|quick for ids not taken from expected-pass.txt (default full)
#   LOG_DIR       where per-entry logs go (default: a temp dir, kept only if
#                 something failed)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIBRDKAFKA_VERSION="2.12.1"   # keep in step with install.sh
TESTS_DIR="$HERE/build/librdkafka-$LIBRDKAFKA_VERSION/tests"
RUNNER="$TESTS_DIR/test-runner"

PETREL="${1:-}"
[ -n "$PETREL" ] && [ -x "$PETREL" ] || { echo "usage: $0 PETREL_BINARY [TEST_ID...]" >&2; exit 2; }
PETREL="$(cd "$(dirname "$PETREL")" && pwd)/$(basename "$PETREL")"
shift
[ -x "$RUNNER" ] || { echo "run.sh: $RUNNER missing; run $HERE/install.sh first" >&2; exit 2; }
for tool in python3 timeout flock ps; do
    command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: needs $tool" >&2; exit 2; }
done

HOST="${PETREL_HOST:-127.0.0.1}"
JOBS="${JOBS:-4}"
TEST_TIMEOUT="${TEST_TIMEOUT:-240}"
DEFAULT_MODE="${MODE:-full}"
WORK="$(mktemp -d /tmp/petrel-librdkafka.XXXXXX)"
LOG_DIR="${LOG_DIR:-$WORK/logs}"
mkdir -p "$LOG_DIR"
SLOT_PIDS=""

# Signals a process and all its descendants, children first (by pid: the
# runner sits under `timeout`, which has its own process group).
kill_tree() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
    kill "$1" 2>/dev/null
}

cleanup() {
    # Normally the slots are done; on an interrupt, stop them, their runners
    # and their brokers (a slot's EXIT trap also stops its broker).
    for pid in $SLOT_PIDS; do kill_tree "$pid"; done
    for pid in $SLOT_PIDS; do wait "$pid" 2>/dev/null; done
    # Keep the logs only when they are needed to diagnose a failure (and
    # always when the caller chose LOG_DIR, which lives outside $WORK).
    if grep -qv '^PASS' "$WORK/results" 2>/dev/null && [ "$LOG_DIR" = "$WORK/logs" ]; then
        find "$WORK" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# All test ids in the runner's table that have a sub-test that is neither
# local-only (mock cluster, unit tests) nor manual, one per scenario we can
# offer (default, noautocreate). Read from test.c, the runner's own source.
all_ids() {
    python3 - "$TESTS_DIR/test.c" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
table = src[src.index("struct test tests[] = {"):]
table = table[:table.index("{NULL}")]
ids = []
for chunk in table.split("_TEST(")[1:]:
    name, flags = [x.strip() for x in chunk.split(",")[:2]]
    if "TEST_F_LOCAL" in flags or "TEST_F_MANUAL" in flags:
        continue
    sc = re.search(r'\.scenario\s*=\s*"([^"]*)"', chunk)
    for s in (sc.group(1).split(",") if sc else ["default"]):
        if s not in ("default", "noautocreate"):
            continue  # e.g. ak23: a cluster pinned to Kafka 2.3
        i = name[:4] if s == "default" else f"{name[:4]}:{s}"
        if i not in ids:
            ids.append(i)
print("\n".join(ids))
PY
}

# The work queue: one "ID MODE [FILTER]" line per entry.
QUEUE="$WORK/queue"
if [ $# -gt 0 ]; then
    printf '%s '"$DEFAULT_MODE"'\n' "$@" >"$QUEUE"
elif [ "${RUN_ALL:-}" = 1 ]; then
    all_ids | sed "s/\$/ $DEFAULT_MODE/" >"$QUEUE"
else
    sed 's/#.*//' "$HERE/expected-pass.txt" | awk 'NF' >"$QUEUE"
fi
: >"$WORK/results"

# Pops the next queue line (empty when the queue is empty); slots share it.
next_entry() {
    (
        flock 9
        head -n 1 "$QUEUE"
        sed -i 1d "$QUEUE"
    ) 9>"$WORK/queue.lock"
}

# --- one job slot: its own broker, entries until the queue is empty ---------
slot() {
    local slot_id="$1" dir="$WORK/slot$1"
    local broker_pid="" broker_scenario="" broker_port=""
    mkdir -p "$dir"

    free_port() {
        python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$HOST"
    }
    port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

    stop_broker() {
        [ -n "$broker_pid" ] || return 0
        kill "$broker_pid" 2>/dev/null
        # Bounded wait for a clean exit, then force.
        for _ in $(seq 50); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$broker_pid" 2>/dev/null
        wait "$broker_pid" 2>/dev/null
        broker_pid=""; broker_scenario=""
        rm -rf "$dir"/data.*
    }
    trap stop_broker EXIT
    trap 'exit 130' TERM INT

    # start_broker SCENARIO (default | noautocreate), on a fresh data dir.
    # Tries three times: a "free" port can be taken by someone else between
    # the probe and petrel's bind.
    start_broker() {
        local autocreate=true mport data attempt
        [ "$1" = noautocreate ] && autocreate=false
        for attempt in 1 2 3; do
            broker_port="$(free_port)"; mport="$(free_port)"
            data="$(mktemp -d "$dir/data.XXXXXX")"
            "$PETREL" --data-dir "$data" --listen "$HOST:$broker_port" --metrics-listen "$HOST:$mport" \
                --num-partitions 4 --auto-create-topics-enable "$autocreate" \
                --log-level warn </dev/null >>"$LOG_DIR/petrel-slot$slot_id.log" 2>&1 &
            broker_pid=$!
            broker_scenario="$1"
            for _ in $(seq 100); do
                port_open "$broker_port" && break
                kill -0 "$broker_pid" 2>/dev/null || break
                sleep 0.1
            done
            if kill -0 "$broker_pid" 2>/dev/null && port_open "$broker_port"; then
                # The runner reads librdkafka properties (and test.* knobs) from this.
                echo "bootstrap.servers=$HOST:$broker_port" >"$dir/test.conf"
                return 0
            fi
            echo "run.sh: petrel did not start, attempt $attempt (see $LOG_DIR/petrel-slot$slot_id.log)" >&2
            stop_broker
        done
        return 1
    }

    # run_entry NUM SCENARIO MODE FILTER LOG -> prints "VERDICT reason"
    run_entry() {
        local num="$1" scenario="$2" mode="$3" filter="$4" log="$5" rc t0 quick_flag=""
        local report="$dir/report.json"
        [ "$mode" = quick ] && quick_flag="-Q"
        rm -f "$report"
        # A scratch cwd, as the runner drops stats_*.json files where it runs;
        # tests open ../src/statistics_schema.json, hence the src link beside it.
        rm -rf "$dir/tree"; mkdir -p "$dir/tree/tests"
        ln -s "$TESTS_DIR/../src" "$dir/tree/src"
        local filter_env=()
        [ -n "$filter" ] && filter_env=("SUBTESTS=$filter")
        t0=$SECONDS
        # shellcheck disable=SC2086 # quick_flag is empty or one word
        ( cd "$dir/tree/tests" && env -u CI -u SUBTESTS "${filter_env[@]}" \
            LD_LIBRARY_PATH="$TESTS_DIR/../src:$TESTS_DIR/../src-cpp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
            RDKAFKA_TEST_CONF="$dir/test.conf" TEST_KAFKA_VERSION=4.0.0 \
            TESTS="$num" TEST_REPORT="$report" \
            timeout --kill-after=10 "$TEST_TIMEOUT" "$RUNNER" $quick_flag -L -p1 -s "$scenario" ) \
            </dev/null >"$log" 2>&1
        rc=$?
        if [ $((SECONDS - t0)) -ge "$TEST_TIMEOUT" ]; then echo "FAIL killed after ${TEST_TIMEOUT}s (TEST_TIMEOUT)"; return; fi
        if [ ! -s "$report" ]; then echo "FAIL runner exited $rc without a report"; return; fi
        python3 - "$report" "$num" "$rc" "$log" "$filter" <<'PY'
import json, re, sys
path, num, rc, log, flt = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
raw = open(path, errors="replace").read()
try:
    tests = json.loads(raw)["tests"]
    states = {n: t["state"] for n, t in tests.items() if n.startswith(num + "_")}
except (ValueError, KeyError):
    # The runner does not escape its free-text fields; fall back to a regex.
    states = dict(re.findall(r'"name": "(%s_\w+)", "state": "(\w+)"' % num, raw))
ran = {n: s for n, s in states.items() if s != "SKIPPED"}
bad = sorted(n for n, s in ran.items() if s != "PASSED")
if bad:
    print("FAIL " + ", ".join(f"{n}={ran[n]}" for n in bad))
elif rc != 0:
    print(f"FAIL runner exit status {rc}")
elif not ran:
    print("SKIP all sub-tests skipped")
elif flt:
    # The filter must have selected something, or the entry tests nothing.
    text = re.sub(r"\x1b\[[0-9;]*m", "", open(log, errors="replace").read())
    hits = [l for l in text.splitlines() if "[ " in l and flt in l and ": PASS (" in l]
    print(f"PASS {len(hits)} sub-test(s)" if hits else f"SKIP no sub-test matching '{flt}' ran")
else:
    print("PASS " + ", ".join(sorted(ran)))
PY
    }

    local entry id mode filter num scenario label log res verdict t0
    while entry="$(next_entry)"; [ -n "$entry" ]; do
        read -r id mode filter <<<"$entry"
        mode="${mode:-full}"
        num="${id%%:*}"; scenario=default
        [ "$id" != "$num" ] && scenario="${id#*:}"
        label="$id${filter:+[$filter]}"
        log="$LOG_DIR/$(printf '%s' "$label" | tr -c 'A-Za-z0-9_.-' '_').log"
        if [ "$broker_scenario" != "$scenario" ] || ! kill -0 "$broker_pid" 2>/dev/null \
            || ! port_open "$broker_port"; then
            stop_broker
            start_broker "$scenario" || { echo "FAIL $label $mode 0 broker did not start" >>"$WORK/results"; continue; }
        fi
        t0=$SECONDS
        res="$(run_entry "$num" "$scenario" "$mode" "$filter" "$log")"
        [ -n "$res" ] || res="FAIL no verdict (interrupted?)"
        verdict="${res%% *}"
        printf '%-4s %-46s %-5s %4ss  %s\n' "$verdict" "$label" "$mode" "$((SECONDS - t0))" "${res#* }"
        printf '%s\t%s\t%s\t%s\n' "$verdict" "$label" "$mode" "$((SECONDS - t0))" >>"$WORK/results"
        [ "$verdict" = PASS ] || stop_broker   # a fresh broker for the next entry
    done
}

echo "librdkafka $LIBRDKAFKA_VERSION test suite vs $PETREL, $JOBS job(s) (logs: $LOG_DIR)"
SECONDS=0
for s in $(seq "$JOBS"); do
    slot "$s" &
    SLOT_PIDS="$SLOT_PIDS $!"
done
for pid in $SLOT_PIDS; do wait "$pid"; done
SLOT_PIDS=""

PASSED=$(grep -c '^PASS' "$WORK/results")
SKIPPED=$(grep -c '^SKIP' "$WORK/results")
FAILED=$(grep -vc -e '^PASS' -e '^SKIP' "$WORK/results")
echo "librdkafka: $PASSED passed, $FAILED failed, $SKIPPED skipped in ${SECONDS}s"
if grep -qv '^PASS' "$WORK/results"; then
    echo "not passed (logs in $LOG_DIR):"
    grep -v '^PASS' "$WORK/results" | cut -f1,2 | sed 's/^/  /'
fi
[ "${RUN_ALL:-}" = 1 ] && exit 0
# For listed entries a SKIP is a regression too: the entry no longer tests anything.
! grep -qv '^PASS' "$WORK/results"
