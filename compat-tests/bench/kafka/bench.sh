#!/usr/bin/env bash
# The one command for issue 8: Petrel side by side with Apache Kafka on this machine.
#   compat-tests/bench/kafka/bench.sh [bench.py options]     e.g. --rounds 3 --records 1000000
# Installs what is missing (install.sh: Kafka jars from Maven Central, matplotlib venv), builds
# Petrel in release mode unless PETREL_BIN names a binary, then runs bench.py, which rewrites
# BENCHMARKS.md, results.json and the PNG charts next to this file. See README.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
"$HERE/install.sh"
if [ -z "${PETREL_BIN:-}" ]; then
    echo "== cargo build --release --bin petrel"
    (cd "$REPO" && cargo build --release --bin petrel)
    export PETREL_BIN="$REPO/target/release/petrel"
fi
exec "$HERE/.venv/bin/python" "$HERE/bench.py" "$@"
