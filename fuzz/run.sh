#!/usr/bin/env bash
# Builds the decode_frame fuzz target with libFuzzer on stable Rust and runs it.
#
#   fuzz/run.sh [SECONDS]      (default 60)
#
# Exits non-zero if the fuzzer finds a crash (panic, abort, timeout, RSS over 1 GiB), or if
# the build fails or the binary turns out not to be coverage-instrumented. Ends with one
# summary line starting "fuzz decode_frame:". Crash inputs land in fuzz/artifacts/.
#
# Environment: FUZZ_JOBS (cargo -j, default 1), FUZZ_EXTRA_ARGS (more libFuzzer flags).
set -euo pipefail

DURATION="${1:-60}"
if ! [[ "$DURATION" =~ ^[0-9]+$ ]] || [ "$DURATION" -lt 1 ]; then
    echo "usage: $0 [SECONDS]" >&2
    exit 2
fi

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$FUZZ_DIR"

TARGET_NAME=decode_frame
HOST="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="$FUZZ_DIR/target"

# Stable-Rust equivalent of what cargo-fuzz passes (minus its nightly-only -Z sanitizer
# flags): SanitizerCoverage with inline 8-bit counters + PC table (what libFuzzer's
# coverage feedback reads) and compare tracing (lets it solve magic values such as API
# keys and versions). --target is given explicitly so these flags reach only the fuzzed
# code, never build scripts or proc-macros.
unset CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing"

echo "== building $TARGET_NAME (stable, sancov, target dir $CARGO_TARGET_DIR)"
build_start=$(date +%s)
cargo build -j"${FUZZ_JOBS:-1}" --release --target "$HOST" --bin "$TARGET_NAME"
build_secs=$(( $(date +%s) - build_start ))
BIN="$CARGO_TARGET_DIR/$HOST/release/$TARGET_NAME"

mkdir -p corpus artifacts
LOG="artifacts/last-run.log"
artifacts_before=$(find artifacts -maxdepth 1 -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | wc -l)

echo "== fuzzing $TARGET_NAME for ${DURATION}s (log: fuzz/$LOG)"
# New interesting inputs go into corpus/ (first dir); seeds/ is only read.
set +e
# shellcheck disable=SC2086
"$BIN" \
    -max_total_time="$DURATION" \
    -rss_limit_mb=1024 \
    -timeout=10 \
    -print_final_stats=1 \
    -artifact_prefix="$FUZZ_DIR/artifacts/" \
    ${FUZZ_EXTRA_ARGS:-} \
    corpus seeds 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e

artifacts_after=$(find artifacts -maxdepth 1 -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'timeout-*' -o -name 'leak-*' \) | wc -l)
stat() { sed -n "s/^stat::$1: *//p" "$LOG" | tail -n1; }
execs=$(stat number_of_executed_units)
exec_per_sec=$(stat average_exec_per_sec)
peak_rss=$(stat peak_rss_mb)
last_status=$(grep -E '^#[0-9]+.* cov: ' "$LOG" | tail -n1 || true)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last_status")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last_status")
corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last_status")
counters=$(sed -n 's/.*INFO: Loaded [0-9]* modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$LOG" | head -n1)

verdict=OK
rc=0
if [ "$status" -ne 0 ] || [ "$artifacts_after" -gt "$artifacts_before" ]; then
    verdict="CRASH (fuzzer exit $status; input in fuzz/artifacts/, see fuzz/$LOG)"
    rc=1
elif [ -z "$counters" ] || [ "$counters" -eq 0 ]; then
    verdict="NOT INSTRUMENTED (no inline 8-bit counters: RUSTFLAGS did not take effect)"
    rc=1
fi

echo "fuzz $TARGET_NAME: $verdict; ${DURATION}s, ${execs:-?} execs (${exec_per_sec:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?}, counters ${counters:-?}, peak RSS ${peak_rss:-?} MB, build ${build_secs}s"
exit "$rc"
