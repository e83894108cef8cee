#!/usr/bin/env bash
# Starts one broker for compat-tests/bench/kafka in the foreground (exec: the PID the caller
# gets is the broker's own, which bench.py reads /proc/PID/{stat,status} of).
#
#   run_broker.sh kafka-format DIR HOST PORT CONTROLLER_PORT  # write DIR/server.properties, format DIR/data
#   run_broker.sh kafka DIR                                   # Apache Kafka, KRaft combined node
#   run_broker.sh petrel DIR HOST PORT METRICS_PORT           # Petrel ($PETREL_BIN, default /tmp/petrel-bin/petrel)
#
# Kafka runs with the JVM options of the distribution's bin/kafka-server-start.sh and
# kafka-run-class.sh (1 GiB heap, G1, 20 ms pause goal); settings in server.properties.in.
# Petrel runs with its defaults plus the two settings the benchmark sets on both brokers
# (1 partition for unknown topics: never used, topics are created explicitly; and no initial
# rebalance delay). Needs install.sh to have run (lib/).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:?usage: run_broker.sh kafka-format|kafka|petrel DIR ...}"
dir="${2:?DIR}"

case "$cmd" in
kafka-format)
    host="$3" port="$4" cport="$5"
    mkdir -p "$dir/data"
    sed -e "s|@HOST@|$host|g" -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$cport|g" \
        -e "s|@LOG_DIR@|$dir/data|g" "$HERE/server.properties.in" >"$dir/server.properties"
    cluster_id="$(java -Dlog4j2.configurationFile="$HERE/tools-log4j2.properties" -cp "$HERE/lib/*" kafka.tools.StorageTool random-uuid)"
    exec java -Dlog4j2.configurationFile="$HERE/tools-log4j2.properties" -cp "$HERE/lib/*" \
        kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties"
    ;;
kafka)
    exec java -Xmx1G -Xms1G -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
        -XX:MaxInlineLevel=15 -Djava.awt.headless=true \
        -Dkafka.logs.dir="$dir" -Dlog4j2.configurationFile="$HERE/log4j2.properties" \
        -cp "$HERE/lib/*" kafka.Kafka "$dir/server.properties"
    ;;
petrel)
    host="$3" port="$4" mport="$5"
    mkdir -p "$dir/data"
    exec "${PETREL_BIN:-/tmp/petrel-bin/petrel}" --data-dir "$dir/data" \
        --listen "$host:$port" --metrics-listen "$host:$mport" \
        --num-partitions 1 --group-initial-rebalance-delay-ms 0
    ;;
*)
    echo "run_broker.sh: unknown command '$cmd'" >&2
    exit 2
    ;;
esac
