#!/usr/bin/env bash
# Consume throughput of stock clients against Petrel, next to machine-limit references.
#   compat-tests/bench/consume_bench.sh PETREL_BINARY [GIB]       (GIB default 3; may be fractional)
# Long; not run in CI. Starts PETREL_BINARY on free ports with a temp data dir, fills a
# 6-partition topic with GIB of 1 KiB values (Java producer, FillTopic: acks=1, 1 MB batches),
# then, BENCH_RUNS (default 3) rounds, each consumer reads the whole topic without a group
# (assign + seek to beginning):
#   java     ConsumeBench (kafka-clients; fetch.max.bytes 64 MiB, max.partition.fetch.bytes 16 MiB)
#   kcat     one kcat for all partitions, -f '%s' to /dev/null
#   kcat-6p  six kcats in parallel, one per partition (-p N)
# and the references: `cat` of the topic's segment files to /dev/null, and the same bytes over
# one loopback TCP connection with sendfile (loopback_sendfile.py). Before and after every
# consume it reads petrel_bytes_sent_zero_copy_total and petrel_bytes_sent_total from
# /metrics, and petrel's CPU time from /proc. Prints per-run figures, then medians.
# MiB/s are segment-file bytes (what the broker sends) per second, for every row alike.
# Env: BENCH_RUNS (3), BENCH_TIMEOUT (seconds per consume, default 600), TMPDIR (where the
# temp data dir goes), KCAT_OPTS (extra -X options for kcat).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 PETREL_BINARY [GIB (default 3)]" >&2
    exit 2
fi
BIN="$(realpath "$1")"
GIB="${2:-3}"
RUNS="${BENCH_RUNS:-3}"
T="${BENCH_TIMEOUT:-600}"
PARTITIONS=6
VALUE_BYTES=1024
KCAT_X=(-X fetch.message.max.bytes=16777216 -X fetch.max.bytes=67108864 -X receive.message.max.bytes=134217728)
# shellcheck disable=SC2206
KCAT_X+=(${KCAT_OPTS:-})

bench_require_binary "$BIN"
bench_require_clients FillTopic ConsumeBench
command -v fincore >/dev/null 2>&1 || echo "note: fincore not found; page-cache residency not reported"

FILL_BYTES="$(awk -v g="$GIB" 'BEGIN { printf "%.0f", g * 1073741824 }')"
if [ "$FILL_BYTES" -lt 1048576 ]; then
    echo "GIB must be at least 0.001" >&2
    exit 2
fi
TMPBASE="${TMPDIR:-/tmp}"
avail_kib="$(df -Pk "$TMPBASE" | awk 'NR == 2 { print $4 }')"
need_kib=$((FILL_BYTES / 1024 * 11 / 10 + 1048576))
if [ "$avail_kib" -lt "$need_kib" ]; then
    echo "not enough room in $TMPBASE: $((avail_kib / 1024)) MiB free, need $((need_kib / 1024)) MiB; pass a smaller GIB" >&2
    exit 2
fi

BENCH_TMP="$(mktemp -d "$TMPBASE/petrel-consume-bench.XXXXXX")"
trap 'bench_cleanup' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
DATA="$BENCH_TMP/data"
LOGS="$BENCH_TMP/logs"
mkdir -p "$LOGS"

echo "== consume_bench: $("$BIN" --version 2>/dev/null) ($BIN), $GIB GiB, $RUNS runs per consumer"
echo "   machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
echo "   load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

bench_start_petrel "$BIN" "$DATA" "$BENCH_TMP/petrel.log" || exit 1
echo "   petrel pid $PETREL_PID on $BOOTSTRAP, metrics on $METRICS_ADDR, data in $DATA"
CLK_TCK="$(getconf CLK_TCK)"
petrel_cpu() { awk -v hz="$CLK_TCK" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$PETREL_PID/stat"; }

# --- fill ---------------------------------------------------------------------
TOPIC="consume-bench-$$"
echo "== filling $TOPIC ($PARTITIONS partitions) with $FILL_BYTES bytes of ${VALUE_BYTES}-byte values (Java producer, acks=1)"
fill_timeout=$(awk -v b="$FILL_BYTES" 'BEGIN { printf "%.0f", 300 + b / 1048576 }')   # >= 1 MiB/s
bench_run "$fill_timeout" "$LOGS/fill.time" "$LOGS/fill.out" "$LOGS/fill.err" \
    java -Xmx1g -cp "$JAVA_CP" dev.petrel.compat.FillTopic "$BOOTSTRAP" "$TOPIC" "$PARTITIONS" "$FILL_BYTES" "$VALUE_BYTES"
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "fill failed (exit $rc$([ "$rc" -eq 124 ] && echo ", timed out after ${fill_timeout}s")):" >&2
    tail -n 20 "$LOGS/fill.err" >&2
    exit 1
fi
cat "$LOGS/fill.out"
if [ -s "$LOGS/fill.err" ]; then
    echo "   producer stderr ($(wc -l <"$LOGS/fill.err") lines), first lines:"
    head -n 5 "$LOGS/fill.err" | cut -c1-300 | sed 's/^/     /'
fi
RECORDS="$(sed -n 's/.*records=\([0-9]*\).*/\1/p' "$LOGS/fill.out")"
mapfile -t SEGMENTS < <(find "$DATA" -path "$DATA/$TOPIC-*" -name '*.log' -type f | sort)
if [ ${#SEGMENTS[@]} -eq 0 ]; then
    echo "no segment files for $TOPIC under $DATA" >&2
    exit 1
fi
LOG_BYTES="$(stat -c %s "${SEGMENTS[@]}" | awk '{ s += $1 } END { printf "%.0f", s }')"
LOG_MIB="$(awk -v b="$LOG_BYTES" 'BEGIN { printf "%.1f", b / 1048576 }')"
echo "   $RECORDS records; ${#SEGMENTS[@]} segment files, $LOG_BYTES bytes ($LOG_MIB MiB) on disk"
page_cache() {
    if command -v fincore >/dev/null 2>&1; then
        fincore --bytes --noheadings --output RES "${SEGMENTS[@]}" |
            awk -v t="$LOG_BYTES" '{ s += $1 } END { printf "%.1f of %.1f MiB of segment files in page cache (%.1f%%)", s / 1048576, t / 1048576, 100 * s / t }'
    else
        echo "unknown (no fincore)"
    fi
}
echo "   page cache: $(page_cache) (nothing is dropped; every read below is from memory if this is ~100%)"

# --- runs ---------------------------------------------------------------------
RESULTS="$BENCH_TMP/results"   # lines: name run wall_s consume_s zero_copy_bytes sent_bytes petrel_cpu client_cpu
: >"$RESULTS"

# measure NAME RUN STDOUT CMD...: runs CMD (stdout to STDOUT) with bench_run, petrel's
# metrics and CPU time read before and after.
measure() {
    local name="$1" run="$2" out="$3"
    shift 3
    local zc0 st0 cpu0 t0 t1 zc1 st1 cpu1 rc
    zc0="$(bench_metric petrel_bytes_sent_zero_copy_total)"
    st0="$(bench_metric petrel_bytes_sent_total)"
    cpu0="$(petrel_cpu)"
    t0="$(bench_now)"
    bench_run "$T" "$LOGS/$name-$run.time" "$out" "$LOGS/$name-$run.err" "$@"
    rc=$?
    t1="$(bench_now)"
    zc1="$(bench_metric petrel_bytes_sent_zero_copy_total)"
    st1="$(bench_metric petrel_bytes_sent_total)"
    cpu1="$(petrel_cpu)"
    if [ "$rc" -ne 0 ]; then
        echo "   $name run $run FAILED (exit $rc$([ "$rc" -eq 124 ] && echo ", timed out after ${T}s")); stderr:"
        tail -n 15 "$LOGS/$name-$run.err" | cut -c1-300 | sed 's/^/     /'
        FAILURES+=("$name run $run")
        return 1
    fi
    local wall timed ccpu pcpu
    wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
    timed="$wall"
    case "$name" in
        java | ref-sendfile) timed="$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' "$out")" ;;
    esac
    ccpu="$(bench_time_line "$LOGS/$name-$run.time" | awk '{ printf "%.2f", $1 + $2 }')"
    pcpu="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }')"
    echo "$name $run $wall $timed $((zc1 - zc0)) $((st1 - st0)) $pcpu $ccpu" >>"$RESULTS"
    awk -v n="$name" -v r="$run" -v w="$wall" -v t="$timed" -v lb="$LOG_BYTES" -v zc=$((zc1 - zc0)) -v st=$((st1 - st0)) \
        -v pc="$pcpu" -v cc="$ccpu" 'BEGIN {
        printf "   %-12s run %d: wall %7.2fs  timed %7.2fs  %7.1f MiB/s  sendfile %7.1f MiB of %7.1f MiB sent  petrel cpu %6.2fs  client cpu %6.2fs\n",
            n, r, w, t, lb / 1048576 / t, zc / 1048576, st / 1048576, pc, cc }'
}

KCAT_ONE='exec kcat -C -b "$1" -t "$2" -o beginning -e -q -f "%s" "${@:3}"'
KCAT_PER_PARTITION='b="$1" t="$2" n="$3"; shift 3; rc=0; pids=()
for p in $(seq 0 $((n - 1))); do
    kcat -C -b "$b" -t "$t" -p "$p" -o beginning -e -q -f "%s" "$@" & pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc'

run_one() {
    local name="$1" run="$2"
    case "$name" in
        ref-cat) measure "$name" "$run" /dev/null cat "${SEGMENTS[@]}" ;;
        ref-sendfile) measure "$name" "$run" "$LOGS/$name-$run.out" python3 "$HERE/loopback_sendfile.py" "${SEGMENTS[@]}" ;;
        java) measure "$name" "$run" "$LOGS/$name-$run.out" \
            java -Xmx2g -cp "$JAVA_CP" dev.petrel.compat.ConsumeBench "$BOOTSTRAP" "$TOPIC" "$T" ;;
        kcat) measure "$name" "$run" /dev/null bash -c "$KCAT_ONE" kcat "$BOOTSTRAP" "$TOPIC" "${KCAT_X[@]}" ;;
        kcat-6p) measure "$name" "$run" /dev/null \
            bash -c "$KCAT_PER_PARTITION" kcat-6p "$BOOTSTRAP" "$TOPIC" "$PARTITIONS" "${KCAT_X[@]}" ;;
    esac
}

FAILURES=()
NAMES=(ref-cat ref-sendfile java kcat kcat-6p)
echo "== $RUNS rounds; each round runs every row once, the order rotated by one per round"
for run in $(seq 1 "$RUNS"); do
    for k in $(seq 0 $((${#NAMES[@]} - 1))); do
        run_one "${NAMES[$(((k + run - 1) % ${#NAMES[@]}))]}" "$run"
    done
    echo "   (load average after round $run: $(cut -d' ' -f1-3 /proc/loadavg))"
done
if grep -q '^java 1 ' "$RESULTS"; then
    echo "   java ConsumeBench run 1: $(cat "$LOGS/java-1.out")"
fi

# kcat's timed runs write values to /dev/null; one untimed pass counts what it returns.
echo "== kcat count check (untimed): records per partition vs ListOffsets"
if ! bench_run "$T" "$LOGS/kcat-count.time" "$LOGS/kcat-count.raw" "$LOGS/kcat-count.err" \
    kcat -C -b "$BOOTSTRAP" -t "$TOPIC" -o beginning -e -q -f '%p %o\n' "${KCAT_X[@]}"; then
    echo "   kcat count pass failed:"
    tail -n 5 "$LOGS/kcat-count.err" | sed 's/^/     /'
fi
awk '{ n[$1]++; if ($2 != next_[$1] + 0) bad++; next_[$1] = $2 + 1 } END {
        for (p in n) { total += n[p]; printf "   partition %s: %d records, offsets 0..%d%s\n", p, n[p], next_[p] - 1, "" }
        printf "   total %d records, %d out-of-order/gap offsets\n", total, bad + 0 }' "$LOGS/kcat-count.raw" | sort >"$LOGS/kcat-count.out"
rm -f "$LOGS/kcat-count.raw"
cat "$LOGS/kcat-count.out"
counted="$(sed -n 's/.*total \([0-9]*\) records.*/\1/p' "$LOGS/kcat-count.out")"
if [ "${counted:-0}" != "$RECORDS" ] || ! grep -q ' 0 out-of-order' "$LOGS/kcat-count.out"; then
    echo "   kcat count check FAILED: counted ${counted:-0} of $RECORDS"
    FAILURES+=("kcat count check")
fi
echo "   page cache after the runs: $(page_cache)"
echo "   load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- summary --------------------------------------------------------------------
med() { bench_median $(awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$RESULTS"); }
ref_sendfile_s="$(med ref-sendfile 4)"
ref_cat_s="$(med ref-cat 4)"
echo
echo "== medians of $RUNS runs: $RECORDS records, $LOG_MIB MiB of segment files ($GIB GiB of values), $PARTITIONS partitions, all in page cache unless noted above"
printf '%-13s %8s %8s %11s %9s %18s %9s %9s %9s %9s\n' \
    consumer "wall s" "timed s" "records/s" "MiB/s" "sendfile/sent MiB" "petrel" "client" "vs" "vs"
printf '%-13s %8s %8s %11s %9s %18s %9s %9s %9s %9s\n' \
    "" "" "" "" "" "" "cpu s" "cpu s" "sendfile" "cat"
for name in "${NAMES[@]}"; do
    grep -q "^$name " "$RESULTS" || { printf '%-13s (no successful run)\n' "$name"; continue; }
    awk -v n="$name" -v w="$(med "$name" 3)" -v t="$(med "$name" 4)" -v zc="$(med "$name" 5)" -v st="$(med "$name" 6)" \
        -v pc="$(med "$name" 7)" -v cc="$(med "$name" 8)" -v rec="$RECORDS" -v lb="$LOG_BYTES" \
        -v rs="$ref_sendfile_s" -v rc="$ref_cat_s" 'BEGIN {
        recs = (n ~ /^ref-/) ? "-" : sprintf("%.0f", rec / t)
        zcs = (n ~ /^ref-/) ? "-" : sprintf("%.0f/%.0f", zc / 1048576, st / 1048576)
        pcs = (n ~ /^ref-/) ? "-" : sprintf("%.2f", pc)
        printf "%-13s %8.2f %8.2f %11s %9.1f %18s %9s %9.2f %8.2fx %8.2fx\n",
            n, w, t, recs, lb / 1048576 / t, zcs, pcs, cc, rs / t, rc / t }'
done
echo "timed s: java = ConsumeBench's own clock (first poll to last record, JVM start and metadata excluded);"
echo "ref-sendfile = the transfer itself; others = process wall time. MiB/s = segment-file MiB / timed s."
echo "vs sendfile / vs cat = row throughput / reference throughput (1.00x = as fast as the reference)."
echo "sendfile/sent MiB = deltas of petrel_bytes_sent_zero_copy_total / petrel_bytes_sent_total over the run."
if grep -qE '^[^ ]+ +(WARN|ERROR) ' "$BENCH_TMP/petrel.log"; then
    echo "petrel log has $(grep -cE '^[^ ]+ +(WARN|ERROR) ' "$BENCH_TMP/petrel.log") WARN/ERROR lines; first ones:"
    grep -E '^[^ ]+ +(WARN|ERROR) ' "$BENCH_TMP/petrel.log" | head -n 5 | cut -c1-300 | sed 's/^/   /'
fi
if [ ${#FAILURES[@]} -gt 0 ]; then
    echo "consume_bench: ${#FAILURES[@]} failure(s): ${FAILURES[*]}"
    exit 1
fi
echo "consume_bench: done"
