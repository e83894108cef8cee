#!/usr/bin/env bash
# Installs what compat-tests/bench/kafka needs, from Maven Central and PyPI only:
#   lib/    Apache Kafka broker + perf tools + runtime deps (versions PINNED in pom.xml),
#           via `mvn dependency:copy-dependencies`
#   .venv/  matplotlib (charts) and confluent-kafka (topic create/delete), PINNED below, in a
#           venv of its own
#   compat-tests/librdkafka/build/: librdkafka's rdkafka_performance, built from the rdkafka-sys
#           crate's source by compat-tests/librdkafka/install.sh (apt build deps, cargo fetch)
# Idempotent and quick when already installed: lib/ is refetched only when pom.xml changed,
# the venv only when the pin changed. Needs java (17+), mvn and python3 (with venv).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MATPLOTLIB_VERSION=3.10.7   # PINNED
CONFLUENT_KAFKA_VERSION=2.16.1   # PINNED, as in compat-tests/install.sh
PIP_PINS="matplotlib==$MATPLOTLIB_VERSION confluent-kafka==$CONFLUENT_KAFKA_VERSION"

for tool in java mvn python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "install.sh: required tool '$tool' not found" >&2; exit 1; }
done

stamp="$HERE/lib/.fetched-from"
pom_hash="$(sha256sum "$HERE/pom.xml" | cut -d' ' -f1)"
if [ ! -d "$HERE/lib" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$pom_hash" ]; then
    echo "== fetching Apache Kafka jars (maven) into $HERE/lib"
    rm -rf "$HERE/lib"
    if ! mvn -q -B -Dstyle.color=never -f "$HERE/pom.xml" dependency:copy-dependencies \
        -DoutputDirectory="$HERE/lib" -DincludeScope=runtime >"$HERE/mvn.log" 2>&1; then
        tail -n 40 "$HERE/mvn.log" >&2
        echo "install.sh: maven failed (full log: $HERE/mvn.log)" >&2
        exit 1
    fi
    echo "$pom_hash" >"$stamp"
fi

venv_stamp="$HERE/.venv/.installed"
if [ "$(cat "$venv_stamp" 2>/dev/null)" != "$PIP_PINS" ]; then
    echo "== creating $HERE/.venv with $PIP_PINS"
    rm -rf "$HERE/.venv"
    python3 -m venv "$HERE/.venv"
    # shellcheck disable=SC2086 # a list of pins
    "$HERE/.venv/bin/pip" install -q --disable-pip-version-check $PIP_PINS
    echo "$PIP_PINS" >"$venv_stamp"
fi

"$HERE/../../librdkafka/install.sh"

echo "kafka: $(ls "$HERE/lib" | sed -n 's/^kafka_2\.13-\([0-9][0-9.]*\)\.jar$/\1/p'), kafka-tools: $(ls "$HERE/lib" | sed -n 's/^kafka-tools-\([0-9][0-9.]*\)\.jar$/\1/p'), $PIP_PINS"
