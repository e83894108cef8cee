#!/usr/bin/env bash
# Installs everything the stock-client smoke checks (smoke.sh) and the
# golden-byte capture (capture/capture.sh) need. Idempotent; safe to re-run.
#   - kcat (librdkafka CLI) from Debian's packages, only if missing
#   - Python venv at compat-tests/.venv with PINNED confluent-kafka and kafka-python
#   - the Java describeCluster check, built with PINNED kafka-clients (see java/pom.xml)
#   - the franz-go check go/bin/petrel-compat, built with PINNED franz-go (see go/go.mod)
#   - the sarama driver (sarama/install.sh), kafkajs (node/install.sh) and librdkafka's own
#     test suite (librdkafka/install.sh), each pinned in its own directory
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"

# PINNED client versions. Bump deliberately; the Java one lives in java/pom.xml.
CONFLUENT_KAFKA_VERSION="2.16.1"
KAFKA_PYTHON_VERSION="3.0.12"

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

# --- kcat ---------------------------------------------------------------
if ! command -v kcat >/dev/null 2>&1; then
    echo "== installing kcat (apt)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq kcat >/dev/null
fi
for tool in timeout java mvn python3 go; do
    command -v "$tool" >/dev/null 2>&1 || { echo "install.sh: required tool '$tool' not found" >&2; exit 1; }
done

# --- Python venv --------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating venv $VENV"
    python3 -m venv "$VENV"
fi
want_py() {
    "$VENV/bin/python" - "$CONFLUENT_KAFKA_VERSION" "$KAFKA_PYTHON_VERSION" <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    ok = version("confluent-kafka") == sys.argv[1] and version("kafka-python") == sys.argv[2]
except PackageNotFoundError:
    ok = False
sys.exit(0 if ok else 1)
PY
}
if ! want_py; then
    echo "== installing Python clients into venv"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
        "confluent-kafka==$CONFLUENT_KAFKA_VERSION" "kafka-python==$KAFKA_PYTHON_VERSION"
fi

# Codec packages kafka-python needs for snappy/lz4/zstd (the kp_driver.py scenarios),
# pinned in python/requirements-drivers.txt; reinstalled only when that file changes.
req="$HERE/python/requirements-drivers.txt"
req_stamp="$VENV/.drivers-requirements"
if [ "$(cat "$req_stamp" 2>/dev/null)" != "$(sha256sum "$req" | cut -d' ' -f1)" ]; then
    echo "== installing kafka-python codec packages into venv"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
    sha256sum "$req" | cut -d' ' -f1 > "$req_stamp"
fi

# --- Java check ---------------------------------------------------------
JAVA_DIR="$HERE/java"
JAR="$JAVA_DIR/target/petrel-compat-java.jar"
stamp="$JAVA_DIR/target/.built-from"
src_hash="$(cat "$JAVA_DIR/pom.xml" $(find "$JAVA_DIR/src" -type f | sort) | sha256sum | cut -d' ' -f1)"
if [ ! -f "$JAR" ] || [ ! -d "$JAVA_DIR/target/lib" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$src_hash" ]; then
    echo "== building Java check (maven)"
    rm -rf "$JAVA_DIR/target/lib"
    mkdir -p "$JAVA_DIR/target"
    if ! mvn -B -Dstyle.color=never -f "$JAVA_DIR/pom.xml" package >"$JAVA_DIR/target/mvn-build.log" 2>&1; then
        tail -n 40 "$JAVA_DIR/target/mvn-build.log" >&2
        echo "install.sh: maven build failed (full log: $JAVA_DIR/target/mvn-build.log)" >&2
        exit 1
    fi
    echo "$src_hash" > "$stamp"
fi

# --- Go (franz-go) check -----------------------------------------------
# Modules come from the Go module proxy at the versions in go/go.mod (go.sum pins
# their hashes); rebuilt only when go.mod, go.sum or a .go file changes.
GO_DIR="$HERE/go"
GO_BIN="$GO_DIR/bin/petrel-compat"
go_stamp="$GO_DIR/bin/.built-from"
go_hash="$(cat "$GO_DIR/go.mod" "$GO_DIR/go.sum" $(find "$GO_DIR" -maxdepth 1 -name '*.go' | sort) | sha256sum | cut -d' ' -f1)"
if [ ! -x "$GO_BIN" ] || [ "$(cat "$go_stamp" 2>/dev/null)" != "$go_hash" ]; then
    echo "== building franz-go check (go build)"
    mkdir -p "$GO_DIR/bin"
    if ! (cd "$GO_DIR" && GOFLAGS="-mod=mod -buildvcs=false" go build -o "$GO_BIN" .) >"$GO_DIR/bin/go-build.log" 2>&1; then
        tail -n 40 "$GO_DIR/bin/go-build.log" >&2
        echo "install.sh: go build failed (full log: $GO_DIR/bin/go-build.log)" >&2
        exit 1
    fi
    echo "$go_hash" > "$go_stamp"
fi

# --- sarama, kafkajs, librdkafka's test suite ----------------------------
# Each has its own idempotent installer next to its code.
"$HERE/sarama/install.sh"
"$HERE/node/install.sh"
"$HERE/librdkafka/install.sh"

# --- report -------------------------------------------------------------
echo "== installed client versions"
echo "kcat:            $(kcat -V 2>&1 | grep -m1 -o 'Version [0-9.]*' | cut -d' ' -f2) (librdkafka $(kcat -V 2>&1 | grep -m1 -o 'librdkafka [0-9.]*' | cut -d' ' -f2), Debian package $(dpkg-query -W -f='${Version}' kcat 2>/dev/null || echo '?'))"
"$VENV/bin/python" - <<'PY'
import confluent_kafka, kafka
print("confluent-kafka: %s (bundled librdkafka %s)" % (confluent_kafka.__version__, confluent_kafka.libversion()[0]))
print("kafka-python:    %s" % kafka.__version__)
PY
echo "kafka-clients:   $(ls "$JAVA_DIR/target/lib" | sed -n 's/^kafka-clients-\(.*\)\.jar$/\1/p')"
echo "franz-go:        $(cd "$GO_DIR" && go list -m -f '{{.Version}}' github.com/twmb/franz-go) (kadm $(cd "$GO_DIR" && go list -m -f '{{.Version}}' github.com/twmb/franz-go/pkg/kadm))"
echo "sarama:          $(cd "$HERE/sarama" && go list -m -f '{{.Version}}' github.com/IBM/sarama)"
echo "kafkajs:         $(cd "$HERE/node" && node -p 'require("kafkajs/package.json").version')"
echo "java:            $(java -version 2>&1 | head -1)"
echo "go:              $(go version | cut -d' ' -f3)"
