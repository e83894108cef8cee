#!/usr/bin/env bash
# Golden-byte capture: records the request frames stock clients send to a
# running broker, through capture_proxy.py, and keeps the ApiVersions and
# Metadata ones as test fixtures.
#
#   compat-tests/capture/capture.sh UPSTREAM [FIXTURES_DIR]
#     UPSTREAM      the running broker, e.g. 127.0.0.1:9092
#     FIXTURES_DIR  default: protocol/tests/fixtures
#
# Clients (each through its own proxy instance, label = fixture name prefix):
#   kcat          kcat -L                     (Debian's kcat, librdkafka 2.0.x)
#   librdkafka    confluent-kafka list_topics (librdkafka bundled in the wheel)
#   kafka-python  KafkaAdminClient.describe_cluster (pure-Python client)
#   java          AdminClient.describeCluster (Apache kafka-clients)
# Fixture names: <label>-<ApiVersions|Metadata>-v<version>.bin, the first frame
# of that (client, api, version); the full frame, 4-byte length prefix included.
# A client that sends nothing through the proxy leaves its old fixtures alone.
# CAPTURED.txt in FIXTURES_DIR lists the files with client versions and sha256.
#
# Clients learn the broker's advertised address from Metadata and may open
# later connections directly to it; the first connection's ApiVersions and
# Metadata still go through the proxy. To capture everything, start the broker
# advertising the proxy's address and pass PROXY_PORT=<that port>.
# Env: KEEP_RAW=DIR keeps every captured frame (requests and .resp.bin
# responses) there; CAPTURE_TIMEOUT seconds per client (default 45).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CT="$(dirname "$HERE")"
REPO="$(dirname "$CT")"
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 UPSTREAM [FIXTURES_DIR]" >&2
    exit 2
fi
UPSTREAM="$1"
FIX="${2:-$REPO/protocol/tests/fixtures}"
T="${CAPTURE_TIMEOUT:-45}"
PY="$CT/.venv/bin/python"
JAVA_CP="$CT/java/target/petrel-compat-java.jar:$CT/java/target/lib/*"
[ -x "$PY" ] && command -v kcat >/dev/null && [ -f "$CT/java/target/petrel-compat-java.jar" ] \
    || { echo "capture.sh: run compat-tests/install.sh first" >&2; exit 2; }

if [ -n "${KEEP_RAW:-}" ]; then RAW="$KEEP_RAW"; mkdir -p "$RAW"; else RAW="$(mktemp -d)"; fi
WORK="$(mktemp -d)"
PROXY_PID=""
cleanup() {
    if [ -n "$PROXY_PID" ]; then kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; fi
    rm -rf "$WORK"
    [ -n "${KEEP_RAW:-}" ] || rm -rf "$RAW"
}
trap cleanup EXIT
mkdir -p "$FIX"

start_proxy() {  # LABEL -> sets PROXY_PID, PROXY_ADDR
    local label="$1" ready="$WORK/$1.ready"
    "$PY" "$HERE/capture_proxy.py" --listen "127.0.0.1:${PROXY_PORT:-0}" --upstream "$UPSTREAM" \
        --outdir "$RAW" --label "$label" --responses --ready-file "$ready" \
        2>"$WORK/$label.proxy.log" &
    PROXY_PID=$!
    for _ in $(seq 100); do
        [ -s "$ready" ] && break
        kill -0 "$PROXY_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -s "$ready" ]; then
        echo "capture.sh: proxy for $label did not start:" >&2
        cat "$WORK/$label.proxy.log" >&2
        exit 1
    fi
    PROXY_ADDR="$(cat "$ready")"
}
stop_proxy() {
    kill "$PROXY_PID" 2>/dev/null
    wait "$PROXY_PID" 2>/dev/null
    PROXY_PID=""
}

KCAT_VER="kcat $(kcat -V 2>&1 | grep -m1 -o 'Version [0-9.]*' | cut -d' ' -f2), librdkafka $(kcat -V 2>&1 | grep -m1 -o 'librdkafka [0-9.]*' | cut -d' ' -f2)"
PYLIB_VER="$("$PY" -c 'import confluent_kafka as c; print("confluent-kafka %s, librdkafka %s" % (c.__version__, c.libversion()[0]))')"
KP_VER="kafka-python $("$PY" -c 'import kafka; print(kafka.__version__)')"
JAVA_VER="kafka-clients $(ls "$CT/java/target/lib" | sed -n 's/^kafka-clients-\(.*\)\.jar$/\1/p')"

declare -A VERSION_OF
fails=0
run_client() {  # LABEL VERSION_STRING CMD... (CMD gets the proxy address appended)
    local label="$1" ver="$2"; shift 2
    VERSION_OF[$label]="$ver"
    start_proxy "$label"
    timeout -k 5 "$T" "$@" "$PROXY_ADDR" >"$WORK/$label.client.log" 2>&1
    local rc=$?
    sleep 0.5  # let the proxy flush trailing frames
    stop_proxy
    local n
    n=$(find "$RAW" -maxdepth 1 -name "$label-*.bin" ! -name '*.resp.bin' | wc -l)
    echo "== $label ($ver): client exit $rc, $n request frames captured"
    grep -E 'request|unanswered|closed' "$WORK/$label.proxy.log" | sed 's/^capture_proxy: /    /'
    if [ "$rc" -ne 0 ]; then
        echo "   client output (tail):"
        tail -n 20 "$WORK/$label.client.log" | sed 's/^/    | /'
    fi
    if [ "$n" -eq 0 ]; then
        fails=$((fails + 1))
        return
    fi
    # Replace this client's fixtures with the new capture.
    rm -f "$FIX/$label"-ApiVersions-v*.bin "$FIX/$label"-Metadata-v*.bin
    local f base
    for f in "$RAW/$label"-ApiVersions-v*-0.bin "$RAW/$label"-Metadata-v*-0.bin; do
        [ -e "$f" ] || continue
        base="$(basename "$f" -0.bin)"
        cp "$f" "$FIX/$base.bin"
    done
}

run_client kcat "$KCAT_VER" kcat -L -m 15 -b
run_client librdkafka "$PYLIB_VER" "$PY" "$CT/python/list_topics.py"
run_client kafka-python "$KP_VER" "$PY" "$CT/python/kafka_python_describe.py"
run_client java "$JAVA_VER" java -cp "$JAVA_CP" dev.petrel.compat.DescribeCluster

# Manifest of everything in FIXTURES_DIR written by this tool.
{
    echo "# Golden request frames from stock Kafka clients, written by compat-tests/capture/capture.sh."
    echo "# Each file: one full request frame (int32 length prefix + header + body), as the client sent it."
    echo "# Last capture: $(date -u +%Y-%m-%dT%H:%M:%SZ) against $UPSTREAM"
    echo "# label = client: kcat = Debian kcat (librdkafka); librdkafka = confluent-kafka-python;"
    echo "#                 kafka-python = kafka-python; java = Apache kafka-clients AdminClient"
    for label in kcat librdkafka kafka-python java; do
        [ -n "${VERSION_OF[$label]:-}" ] && echo "# $label: ${VERSION_OF[$label]}"
    done
    echo "# file  bytes  sha256"
    for f in "$FIX"/*-ApiVersions-v*.bin "$FIX"/*-Metadata-v*.bin; do
        [ -e "$f" ] || continue
        echo "$(basename "$f")  $(stat -c %s "$f")  $(sha256sum "$f" | cut -d' ' -f1)"
    done
} >"$FIX/CAPTURED.txt"

echo "== fixtures in $FIX:"
grep -v '^#' "$FIX/CAPTURED.txt" | awk '{printf "    %-34s %5s bytes\n", $1, $2}'
[ -n "${KEEP_RAW:-}" ] && echo "== raw frames kept in $RAW"
if [ "$fails" -gt 0 ]; then
    echo "capture: $fails client(s) sent nothing through the proxy"
    exit 1
fi
