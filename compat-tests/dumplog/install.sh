#!/usr/bin/env bash
# Builds compat-tests/dumplog: Apache Kafka's DumpLogSegments (org.apache.kafka:kafka-tools,
# version PINNED in pom.xml) and its runtime deps into target/lib, plus the two small
# helpers in target/petrel-dumplog.jar. Idempotent: rebuilds only when pom.xml or
# src/ changed. Needs java and mvn (Maven Central only).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for tool in java mvn python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "install.sh: required tool '$tool' not found" >&2; exit 1; }
done

JAR="$HERE/target/petrel-dumplog.jar"
stamp="$HERE/target/.built-from"
src_hash="$(cat "$HERE/pom.xml" $(find "$HERE/src" -type f | sort) | sha256sum | cut -d' ' -f1)"
if [ ! -f "$JAR" ] || [ ! -d "$HERE/target/lib" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$src_hash" ]; then
    echo "== building compat-tests/dumplog (maven)"
    rm -rf "$HERE/target/lib"
    mkdir -p "$HERE/target"
    if ! mvn -q -B -Dstyle.color=never -f "$HERE/pom.xml" package >"$HERE/target/mvn-build.log" 2>&1; then
        tail -n 40 "$HERE/target/mvn-build.log" >&2
        echo "install.sh: maven build failed (full log: $HERE/target/mvn-build.log)" >&2
        exit 1
    fi
    echo "$src_hash" > "$stamp"
fi

echo "kafka-tools (DumpLogSegments): $(ls "$HERE/target/lib" | sed -n 's/^kafka-tools-\([0-9][0-9.]*\)\.jar$/\1/p') (pinned in compat-tests/dumplog/pom.xml)"
