#!/usr/bin/env bash
# The produce/consume verification matrix at scale: client x codec, COUNT records each.
#   compat-tests/bench/million.sh PETREL_BINARY [COUNT]          (COUNT default 1000000)
# Long; not run in CI. Starts PETREL_BINARY on free ports with a temp data dir; then per codec
# (none gzip snappy lz4 zstd) and per client, each on its own 6-partition topic:
#   confluent-kafka  python/produce_consume.py --codecs C (idempotence off and on: two rows;
#                    per-phase consume with assign(), then a full re-read from offset 0)
#   java             ProduceConsume (producer defaults, i.e. idempotent; assign + seekToBeginning)
#   franz-go         go/bin/petrel-compat produce-consume (skipped with a note if not built)
# Each checks every record's key, value, headers, partition and offset against its produce
# result, no duplicates, and same key -> same partition. Prints a table of client x codec with
# PASS/FAIL, produce and consume records/s (as the client measured them) and the client's
# peak RSS. Exit 1 if any run failed.
# Env: MILLION_CODECS ("none gzip snappy lz4 zstd"), MILLION_CLIENTS ("python java go"),
#      MILLION_COUNTS (per-codec COUNT overrides, e.g. "gzip=200000 lz4=200000"),
#      PY_IDEMPOTENCE (both|on|off, default both), MILLION_TIMEOUT (seconds per client run,
#      default 300 + COUNT/500), MILLION_JAVA_OPTS (JVM options, default -Xmx1g),
#      TMPDIR (where the temp data dir goes).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 PETREL_BINARY [COUNT (default 1000000)]" >&2
    exit 2
fi
BIN="$(realpath "$1")"
COUNT="${2:-1000000}"
CODECS=(${MILLION_CODECS:-none gzip snappy lz4 zstd})
CLIENTS=(${MILLION_CLIENTS:-python java go})
PY_IDEMPOTENCE="${PY_IDEMPOTENCE:-both}"
# The JVM's default heap cap is a quarter of RAM and it grows lazily towards it; the live set
# is ~200 MB at 1M records (mostly the producer's in-flight records), so cap it.
JAVA_OPTS="${MILLION_JAVA_OPTS--Xmx1g}"
GO_BIN="$COMPAT_DIR/go/bin/petrel-compat"

bench_require_binary "$BIN"
bench_require_clients ProduceConsume

count_for() {
    local codec="$1" kv
    for kv in ${MILLION_COUNTS:-}; do
        if [ "${kv%%=*}" = "$codec" ]; then
            echo "${kv#*=}"
            return
        fi
    done
    echo "$COUNT"
}

BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/petrel-million.XXXXXX")"
trap 'bench_cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
LOGS="$BENCH_TMP/logs"
mkdir -p "$LOGS"
ROWS="$BENCH_TMP/rows"   # client|codec|count|result|produce rec/s|consume rec/s|rss MiB|wall s|note
: >"$ROWS"

echo "== million: $("$BIN" --version 2>/dev/null) ($BIN), COUNT=$COUNT, codecs: ${CODECS[*]}, clients: ${CLIENTS[*]}"
[ -n "${MILLION_COUNTS:-}" ] && echo "   per-codec counts: $MILLION_COUNTS"
echo "   java options: ${JAVA_OPTS:-(none)}"
echo "   machine: $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
bench_start_petrel "$BIN" "$BENCH_TMP/data" "$BENCH_TMP/petrel.log" || exit 1
echo "   petrel pid $PETREL_PID on $BOOTSTRAP, data in $BENCH_TMP/data"
run_started=$SECONDS

GO_NOTE=""
if [[ " ${CLIENTS[*]} " == *" go "* ]] && [ ! -x "$GO_BIN" ]; then
    GO_NOTE="franz-go skipped: $GO_BIN not built (compat-tests/install.sh builds it)"
    echo "   $GO_NOTE"
fi
if [ -x "$GO_BIN" ]; then
    GO_VERSION="$(cd "$COMPAT_DIR/go" && sed -n 's|^[[:space:]]*github.com/twmb/franz-go \(v[^ ]*\)$|\1|p' go.mod | head -n 1)"
fi
PY_VERSION="$("$VENV_PY" -c 'import confluent_kafka as c; print(c.__version__)' 2>/dev/null)"
JAVA_VERSION="$(ls "$COMPAT_DIR/java/target/lib" | sed -n 's/^kafka-clients-\(.*\)\.jar$/\1/p')"

# run_client LOG CMD...: bounded run (bench_run, stdout and stderr to LOG); sets RC, WALL, RSS_MIB.
run_client() {
    local log="$1" t0 t1
    shift
    t0="$(bench_now)"
    bench_run "$T" "$log.time" "$log" "$log" "$@"
    RC=$?
    t1="$(bench_now)"
    WALL="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')"
    RSS_MIB="$(bench_time_line "$log.time" | awk '{ printf "%.0f", $3 / 1024 }')"
    [ -n "$RSS_MIB" ] || RSS_MIB="-"
}

# rates LINE: "PRODUCE CONSUME" from the first two "(N rec/s)" in LINE.
rates() {
    grep -oE '\(([0-9.]+) rec/s\)' <<<"$1" | grep -oE '[0-9.]+' | head -n 2 | tr '\n' ' '
}

add_row() { # client codec count result produce consume rss wall note
    local IFS='|'
    echo "$*" >>"$ROWS"
}

failure_detail() { # name log
    echo "---- $1: exit $RC after ${WALL}s; last lines of its output:" >>"$BENCH_TMP/failures"
    tail -n 25 "$2" | cut -c1-400 >>"$BENCH_TMP/failures"
}

for codec in "${CODECS[@]}"; do
    n="$(count_for "$codec")"
    T="${MILLION_TIMEOUT:-$((300 + n / 500))}"
    inner=$((120 + n / 2000))   # the clients' own consume/flush bound, seconds
    echo "== codec $codec, $n records per client (bound ${T}s per client run)"
    for client in "${CLIENTS[@]}"; do
        case "$client" in
        python)
            log="$LOGS/python-$codec.log"
            run_client "$log" "$VENV_PY" "$COMPAT_DIR/python/produce_consume.py" "$BOOTSTRAP" "$n" \
                --codecs "$codec" --idempotence "$PY_IDEMPOTENCE" --timeout "$inner"
            sed 's/^/   /' "$log" | grep -v '^   *$' | tail -n 6 | cut -c1-300
            for idem in off on; do
                [ "$PY_IDEMPOTENCE" = both ] || [ "$PY_IDEMPOTENCE" = "$idem" ] || continue
                line="$(grep -E " $codec idempotence=$idem: produced" "$log" | tail -n 1)"
                read -r prate crate <<<"$(rates "$line")"
                if [ "$RC" -eq 0 ] && [ -n "$line" ]; then result=PASS; else result=FAIL; fi
                add_row "confluent-kafka $PY_VERSION idem=$idem" "$codec" "$n" "$result" "${prate:--}" "${crate:--}" \
                    "$RSS_MIB" "$WALL" "one process for both rows"
            done
            reread="$(grep -oE 're-read all [0-9]+ records from offset 0 in [0-9.]+s \([0-9]+ rec/s\)' "$log")"
            [ -n "$reread" ] && add_row "  (confluent-kafka $codec, both rows: $reread)" "$codec" "" "" "" "" "" "" ""
            [ "$RC" -eq 0 ] || failure_detail "confluent-kafka $codec" "$log"
            ;;
        java)
            log="$LOGS/java-$codec.log"
            # shellcheck disable=SC2086
            run_client "$log" java $JAVA_OPTS -cp "$JAVA_CP" dev.petrel.compat.ProduceConsume "$BOOTSTRAP" \
                "java-million-$codec-$$" "$n" "$codec" "$inner" 6
            sed 's/^/   /' "$log" | grep -v WARN | tail -n 3 | cut -c1-300
            warns="$(grep -c WARN "$log")"
            [ "$warns" -gt 0 ] && echo "   ($warns client WARN lines, e.g.: $(grep -m1 WARN "$log" | sed 's/.*WARN //' | cut -c1-240))"
            line="$(grep -E '^java kafka-clients .*: produced' "$log" | tail -n 1)"
            read -r prate crate <<<"$(rates "$line")"
            if [ "$RC" -eq 0 ] && grep -q "produced and verified $n records" "$log"; then result=PASS; else result=FAIL; fi
            add_row "java kafka-clients $JAVA_VERSION" "$codec" "$n" "$result" "${prate:--}" "${crate:--}" "$RSS_MIB" "$WALL" \
                "$([ "$warns" -gt 0 ] && echo "$warns WARN lines")"
            [ "$RC" -eq 0 ] || failure_detail "java $codec" "$log"
            ;;
        go)
            if [ ! -x "$GO_BIN" ]; then
                add_row "franz-go" "$codec" "$n" "SKIP" "-" "-" "-" "-" "binary not built"
                continue
            fi
            log="$LOGS/go-$codec.log"
            run_client "$log" "$GO_BIN" produce-consume "$BOOTSTRAP" "$n" "$codec"
            sed 's/^/   /' "$log" | tail -n 3 | cut -c1-300
            line="$(grep -E "^franz-go .* $codec: +produced" "$log" | tail -n 1)"
            read -r prate crate <<<"$(rates "$line")"
            if [ "$RC" -eq 0 ] && grep -q 'all verified' "$log"; then result=PASS; else result=FAIL; fi
            add_row "franz-go $GO_VERSION" "$codec" "$n" "$result" "${prate:--}" "${crate:--}" "$RSS_MIB" "$WALL" ""
            [ "$RC" -eq 0 ] || failure_detail "franz-go $codec" "$log"
            ;;
        *)
            echo "unknown client '$client' in MILLION_CLIENTS" >&2
            exit 2
            ;;
        esac
    done
done

petrel_hwm="$(awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$PETREL_PID/status" 2>/dev/null)"
petrel_rss="$(awk '/VmRSS/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$PETREL_PID/status" 2>/dev/null)"
echo
echo "== million: $((SECONDS - run_started)) s in all; petrel RSS now $petrel_rss, peak $petrel_hwm; data dir $(du -sh "$BENCH_TMP/data" | cut -f1); load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-30s %-7s %8s %-6s %12s %12s %9s %8s  %s\n' client codec records result "produce r/s" "consume r/s" "RSS MiB" "wall s" note
while IFS='|' read -r client codec n result p c rss wall note; do
    if [ -z "$codec" ] || [ -z "$n" ]; then
        printf '%s\n' "$client"
        continue
    fi
    printf '%-30s %-7s %8s %-6s %12s %12s %9s %8s  %s\n' "$client" "$codec" "$n" "$result" "$p" "$c" "$rss" "$wall" "$note"
done <"$ROWS"
echo "produce/consume r/s are the clients' own figures (produce: first send to all acked; consume: from"
echo "assign to the last record verified, verification included). RSS = the client process's peak."
[ -n "$GO_NOTE" ] && echo "$GO_NOTE"
if grep -qE '^[^ ]+ +(WARN|ERROR) ' "$BENCH_TMP/petrel.log"; then
    echo "petrel log: $(grep -cE '^[^ ]+ +(WARN|ERROR) ' "$BENCH_TMP/petrel.log") WARN/ERROR lines; first ones:"
    grep -E '^[^ ]+ +(WARN|ERROR) ' "$BENCH_TMP/petrel.log" | head -n 5 | cut -c1-300 | sed 's/^/   /'
fi
if [ -s "$BENCH_TMP/failures" ]; then
    echo
    echo "== failures"
    cat "$BENCH_TMP/failures"
fi
if grep -q '|FAIL|' "$ROWS"; then
    echo "million: FAILED"
    exit 1
fi
echo "million: all runs passed"
