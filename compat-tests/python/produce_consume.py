#!/usr/bin/env python3
"""Produce/consume round trip with confluent-kafka (librdkafka), every codec.

Usage: produce_consume.py BOOTSTRAP [COUNT]

Creates a 6-partition topic with the AdminClient, produces COUNT keyed records with a header
per codec (none, gzip, snappy, lz4, zstd), idempotence off and on, then consumes everything
back with assign() and checks each record's key, value, header and that every key stayed in
one partition; finally seeks to an offset. Exits non-zero on any mismatch.
"""
import sys
import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def main():
    bootstrap = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    topic = f"py-roundtrip-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)]).values():
        future.result(15)
    expected = {}
    for codec in CODECS:
        for idempotent in (False, True):
            producer = Producer({"bootstrap.servers": bootstrap, "compression.type": codec,
                                 "enable.idempotence": idempotent, "linger.ms": 5})
            errors = []
            for i in range(count):
                value = f"{codec}-{idempotent}-{i}"
                expected[value] = (f"key-{i % 50}", str(i))
                producer.produce(topic, key=f"key-{i % 50}", value=value, headers=[("i", str(i).encode())],
                                 on_delivery=lambda err, msg: errors.append(err) if err else None)
            if producer.flush(30) != 0 or errors:
                raise SystemExit(f"{codec} idempotent={idempotent}: {len(errors)} delivery errors {errors[:2]}")
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(6)])
    seen, key_partitions = 0, {}
    deadline = time.time() + 60
    while seen < len(expected) and time.time() < deadline:
        for message in consumer.consume(1000, 1.0):
            if message.error():
                raise SystemExit(f"consume error: {message.error()}")
            key, header = expected[message.value().decode()]
            if message.key().decode() != key or dict(message.headers())["i"].decode() != header:
                raise SystemExit(f"mismatch at offset {message.offset()} partition {message.partition()}")
            key_partitions.setdefault(key, set()).add(message.partition())
            seen += 1
    if seen != len(expected):
        raise SystemExit(f"consumed {seen} of {len(expected)}")
    if any(len(parts) != 1 for parts in key_partitions.values()):
        raise SystemExit("a key landed in more than one partition")
    consumer.seek(TopicPartition(topic, 0, 3))
    messages = consumer.consume(1, 10.0)
    if not messages or messages[0].offset() != 3:
        raise SystemExit("seek to offset 3 did not land on offset 3")
    consumer.close()
    print(f"confluent-kafka: {len(expected)} records over 5 codecs x idempotence on/off, all verified")


if __name__ == "__main__":
    main()
