#!/usr/bin/env python3
"""Produces numbered records for compat-tests/groups_check.sh with confluent-kafka.

Usage: group_produce.py BOOTSTRAP TOPIC PARTITIONS OUT [--count N] [--rate R] [--prefix P]

Creates TOPIC with PARTITIONS partitions if it does not exist (AdminClient), then sends
records with values "P-<i>" (P defaults to the topic name), record i to partition
i % PARTITIONS, at most R records a second (default: as fast as it goes). It stops after
--count records (default 0: no limit) or on SIGTERM/SIGINT, then waits for every
outstanding delivery (at most 60 s). Each delivered record is appended to OUT as
"PARTITION OFFSET VALUE". The last line on stdout is "produced: N delivered, F failed";
exit 1 if any delivery failed.
"""
import argparse
import signal
import sys
import time

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

stop = False


def on_signal(_signum, _frame):
    global stop
    stop = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bootstrap")
    ap.add_argument("topic")
    ap.add_argument("partitions", type=int)
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--rate", type=float, default=0)
    ap.add_argument("--prefix")
    args = ap.parse_args()
    prefix = args.prefix or args.topic

    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    fut = admin.create_topics([NewTopic(args.topic, args.partitions, 1)], operation_timeout=15)[args.topic]
    try:
        fut.result(timeout=30)
    except KafkaException as e:
        if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    out = open(args.out, "a", encoding="utf-8")
    delivered = [0]
    failed = []

    def on_delivery(err, msg):
        if err is not None:
            failed.append(err)
            print("group_produce: delivery failed: %s" % err, file=sys.stderr, flush=True)
            return
        delivered[0] += 1
        out.write("%d %d %s\n" % (msg.partition(), msg.offset(), msg.value().decode()))

    # Idempotent, so that retries across a broker restart add no second copy of a record.
    producer = Producer({"bootstrap.servers": args.bootstrap, "linger.ms": 5, "enable.idempotence": True})
    start = time.monotonic()
    i = 0
    while not stop and (args.count == 0 or i < args.count):
        if args.rate > 0:
            due = start + i / args.rate
            now = time.monotonic()
            if due > now:
                producer.poll(min(due - now, 0.1))
                continue
        try:
            producer.produce(args.topic, value=("%s-%d" % (prefix, i)).encode(), partition=i % args.partitions,
                             on_delivery=on_delivery)
        except BufferError:
            producer.poll(0.1)
            continue
        i += 1
        producer.poll(0)
    left = producer.flush(60)
    out.close()
    print("produced: %d delivered, %d failed, %d undelivered" % (delivered[0], len(failed), left), flush=True)
    return 1 if failed or left else 0


if __name__ == "__main__":
    sys.exit(main())
