#!/usr/bin/env python3
"""Creates one topic through confluent-kafka's AdminClient (run with compat-tests/.venv's
python) and waits until Metadata lists all its partitions. Used by compat-tests/run to
give every scenario run a fresh topic.

  create_topic.py BOOTSTRAP TOPIC PARTITIONS [CONFIG=VALUE ...]

Exit 0 when the topic exists with PARTITIONS partitions, 1 otherwise.
"""
import sys
import time

from confluent_kafka.admin import AdminClient, NewTopic


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    bootstrap, topic, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
    configs = dict(arg.split("=", 1) for arg in sys.argv[4:])
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1, config=configs)],
        operation_timeout=10,
    )
    futures[topic].result(timeout=20)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = admin.list_topics(topic=topic, timeout=5).topics.get(topic)
        if listed is not None and listed.error is None and len(listed.partitions) == partitions:
            return 0
        time.sleep(0.1)
    print(f"create_topic.py: {topic} not listed with {partitions} partitions", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
