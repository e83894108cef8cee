#!/usr/bin/env bash
# Stock-client smoke checks against a running broker.
#   compat-tests/smoke.sh BOOTSTRAP        e.g. compat-tests/smoke.sh 127.0.0.1:9092
# Runs: kcat -L (librdkafka), confluent-kafka list_topics (librdkafka via Python),
# produce/consume round trips with kcat, confluent-kafka (every codec, idempotence on
# and off) and the Java producer/consumer (defaults: idempotence on; every codec),
# franz-go (default producer: idempotent; every codec; assign+seek consumer),
# Apache Kafka Java AdminClient describeCluster. Prints PASS/FAIL per client and
# exits non-zero if any failed. Run compat-tests/install.sh first.
# Env: SMOKE_TIMEOUT (seconds per check, default 45), SMOKE_VERBOSE=1 to show
# client output on PASS too.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -ne 1 ]; then
    echo "usage: $0 BOOTSTRAP (e.g. 127.0.0.1:9092)" >&2
    exit 2
fi
BOOTSTRAP="$1"
T="${SMOKE_TIMEOUT:-45}"
PY="$HERE/.venv/bin/python"
JAVA_CP="$HERE/java/target/petrel-compat-java.jar:$HERE/java/target/lib/*"
GO_BIN="$HERE/go/bin/petrel-compat"

missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
[ -x "$PY" ] || missing+=("$HERE/.venv")
[ -f "$HERE/java/target/petrel-compat-java.jar" ] || missing+=("java check jar")
[ -x "$GO_BIN" ] || missing+=("franz-go check $GO_BIN")
if [ ${#missing[@]} -gt 0 ]; then
    echo "smoke.sh: missing: ${missing[*]} -- run compat-tests/install.sh" >&2
    exit 2
fi

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
failed=()

# report NAME RC LOGFILE [REASON]
report() {
    local name="$1" rc="$2" log="$3" reason="${4:-}"
    if [ "$rc" -eq 0 ] && [ -z "$reason" ]; then
        echo "PASS $name"
        if [ "${SMOKE_VERBOSE:-0}" = 1 ]; then sed 's/^/    /' "$log"; fi
    else
        if [ "$rc" -eq 124 ]; then reason="timed out after ${T}s${reason:+; $reason}"; fi
        echo "FAIL $name (exit $rc${reason:+: $reason})"
        # Clients repeat connect errors many times: show the start and the end.
        if [ "$(wc -l <"$log")" -gt 40 ]; then
            head -n 10 "$log" | sed 's/^/    /'
            echo "    ... ($(($(wc -l <"$log") - 35)) lines skipped) ..."
            tail -n 25 "$log" | sed 's/^/    /'
        else
            sed 's/^/    /' "$log"
        fi
        failed+=("$name")
    fi
}

# (a) kcat -L: librdkafka 2.0.2 (Debian's kcat)
timeout -k 5 "$T" kcat -L -b "$BOOTSTRAP" -m 15 >"$OUT/kcat.log" 2>&1
rc=$?
reason=""
if [ "$rc" -eq 0 ] && ! grep -Eq '^ *[1-9][0-9]* brokers:' "$OUT/kcat.log"; then
    reason="no '<N> brokers:' line in output"
fi
report "kcat (librdkafka $(kcat -V 2>&1 | grep -m1 -o 'librdkafka [0-9.]*' | cut -d' ' -f2))" "$rc" "$OUT/kcat.log" "$reason"

# (b) confluent-kafka AdminClient.list_topics (librdkafka bundled in the wheel)
timeout -k 5 "$T" "$PY" "$HERE/python/list_topics.py" "$BOOTSTRAP" >"$OUT/python.log" 2>&1
rc=$?
report "confluent-kafka-python $("$PY" -c 'import confluent_kafka as c; print(c.__version__)' 2>/dev/null)" "$rc" "$OUT/python.log"

# (c) Apache Kafka Java AdminClient.describeCluster
timeout -k 5 "$T" java -cp "$JAVA_CP" dev.petrel.compat.DescribeCluster "$BOOTSTRAP" >"$OUT/java.log" 2>&1
rc=$?
report "java kafka-clients $(ls "$HERE/java/target/lib" | sed -n 's/^kafka-clients-\(.*\)\.jar$/\1/p')" "$rc" "$OUT/java.log"

# (d) kcat: produce 1000 keyed records, consume them back
topic="kcat-roundtrip-$$"
seq 1 1000 | sed 's/^/k\t/' | timeout -k 5 "$T" kcat -P -b "$BOOTSTRAP" -t "$topic" -K '\t' >"$OUT/kcat-p.log" 2>&1
rc=$?
consumed=$(timeout -k 5 "$T" kcat -C -b "$BOOTSTRAP" -t "$topic" -o beginning -e -q -f '%s\n' 2>>"$OUT/kcat-p.log" | wc -l)
reason=""
if [ "$rc" -eq 0 ] && [ "$consumed" -ne 1000 ]; then reason="consumed $consumed of 1000"; fi
report "kcat produce/consume" "$rc" "$OUT/kcat-p.log" "$reason"

# (e) confluent-kafka: every codec, idempotence off and on, assign + seek
timeout -k 5 120 "$PY" "$HERE/python/produce_consume.py" "$BOOTSTRAP" 1000 >"$OUT/python-pc.log" 2>&1
report "confluent-kafka produce/consume" "$?" "$OUT/python-pc.log"

# (f) Java producer with default settings (idempotence on) and consumer, every codec
for codec in none gzip snappy lz4 zstd; do
    timeout -k 5 120 java -cp "$JAVA_CP" dev.petrel.compat.ProduceConsume "$BOOTSTRAP" "java-roundtrip-$codec-$$" 2000 "$codec" >"$OUT/java-pc-$codec.log" 2>&1
    report "java kafka-clients produce/consume ($codec)" "$?" "$OUT/java-pc-$codec.log"
done

# (g) franz-go: default producer (idempotent), every codec, assign + seek consumer
timeout -k 5 120 "$GO_BIN" produce-consume "$BOOTSTRAP" 2000 >"$OUT/go-pc.log" 2>&1
rc=$?
franz_go_version=$(cd "$HERE/go" && sed -n 's|^[[:space:]]*github.com/twmb/franz-go \(v[^ ]*\)$|\1|p' go.mod)
report "franz-go $franz_go_version produce/consume" "$rc" "$OUT/go-pc.log"

if [ ${#failed[@]} -gt 0 ]; then
    echo "smoke: ${#failed[@]} failed: ${failed[*]}"
    exit 1
fi
echo "smoke: all checks passed"
