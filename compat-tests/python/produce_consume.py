#!/usr/bin/env python3
"""Produce/consume round trip with confluent-kafka (librdkafka), every codec.

Usage: produce_consume.py BOOTSTRAP [COUNT] [--codecs none,gzip,...] [--idempotence off|on|both]
                          [--timeout SECONDS] [--skip-final-reread]

Creates a 6-partition topic with the AdminClient and, per codec (none, gzip, snappy, lz4, zstd,
or the --codecs subset) and idempotence setting (off and on, or the --idempotence one),
produces COUNT keyed records with a header, then reads that phase's records back with one
consumer that was assign()ed to every partition at offset 0 before anything was produced.
Every record read is checked against its delivery report: partition, offset, key, value and
its one header; no record may come back twice and every key must stay in one partition. The
delivery reports themselves must give each partition one contiguous offset range per phase,
in send order when idempotent (without idempotence, records stored out of send order are
counted and reported in the phase's line).
After the last phase a new consumer reads the whole topic again from offset 0 (every codec
mixed in its fetches) with the same checks, and checks that nothing more follows and that each
partition's high watermark is its last delivered offset + 1 (--skip-final-reread skips this
pass); finally it seeks to an offset. Exits non-zero on any mismatch.

Prints one line per phase, e.g.
    confluent-kafka 2.16.1 zstd idempotence=on: produced 1000 in 0.21s (4762 rec/s), consumed 1000 in 0.05s (20000 rec/s), 6 partitions, verified

Memory: delivery reports are kept in per-phase arrays (9 bytes a record) and a one-byte-per-
record "seen" map, so millions of records stay within a few hundred MB.
"""
import argparse
import sys
import time
import uuid
from array import array

import confluent_kafka
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
PARTITIONS = 6
KEYS = 50


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bootstrap")
    parser.add_argument("count", nargs="?", type=int, default=2000)
    parser.add_argument("--codecs", default=",".join(CODECS),
                        help="comma-separated subset of " + ",".join(CODECS))
    parser.add_argument("--idempotence", choices=["off", "on", "both"], default="both")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds each flush and each consume pass may take (default 60)")
    parser.add_argument("--skip-final-reread", action="store_true")
    args = parser.parse_args()
    args.codecs = [c for c in args.codecs.split(",") if c]
    if not args.codecs or any(c not in CODECS for c in args.codecs):
        parser.error("--codecs must be a comma-separated subset of " + ",".join(CODECS))
    return args


class Phase:
    """One codec x idempotence setting: what the producer was told for each record."""

    def __init__(self, number, codec, idempotent, count):
        self.number, self.codec, self.idempotent, self.count = number, codec, idempotent, count
        self.prefix = f"{codec}-{idempotent}-"
        self.partition = array("b", [-1]) * count
        self.offset = array("q", [-1]) * count
        self.errors = []

    def send_order(self):
        """Checks the delivery reports: per partition, this phase's offsets must be one
        contiguous range; returns how many records got a lower offset than a record sent
        before them to the same partition (0 is required with idempotence, which guarantees
        order; without it the client may retry out of order, so it is only reported)."""
        first, last, counts, inversions = {}, {}, {}, 0
        for p, offset in zip(self.partition, self.offset):
            if p in last:
                if offset < last[p]:
                    inversions += 1
                else:
                    last[p] = offset
                first[p] = min(first[p], offset)
            else:
                first[p] = last[p] = offset
            counts[p] = counts.get(p, 0) + 1
        for p, n in counts.items():
            if last[p] - first[p] + 1 != n:
                raise SystemExit(f"{self.label()}: partition {p} got {n} records at offsets "
                                 f"{first[p]}..{last[p]}, not one contiguous range")
        if inversions and self.idempotent:
            raise SystemExit(f"{self.label()}: {inversions} records got a lower offset than a record "
                             f"sent before them to the same partition")
        return inversions

    def label(self):
        return f"{self.codec} idempotence={'on' if self.idempotent else 'off'}"


def produce(bootstrap, topic, phase, timeout):
    producer = Producer({"bootstrap.servers": bootstrap, "compression.type": phase.codec,
                         "enable.idempotence": phase.idempotent, "linger.ms": 5})
    prefix_len = len(phase.prefix)

    def on_delivery(err, msg):
        if err:
            phase.errors.append(err)
            return
        i = int(msg.value()[prefix_len:])
        phase.partition[i] = msg.partition()
        phase.offset[i] = msg.offset()

    start = time.perf_counter()
    for i in range(phase.count):
        while True:
            try:
                producer.produce(topic, key=f"key-{i % KEYS}", value=f"{phase.prefix}{i}",
                                 headers=[("i", str(i).encode())], on_delivery=on_delivery)
                break
            except BufferError:  # local queue full (queue.buffering.max.messages): let it drain
                producer.poll(0.05)
        if i % 10000 == 0:
            producer.poll(0)
    if producer.flush(timeout) != 0 or phase.errors:
        raise SystemExit(f"{phase.label()}: {len(phase.errors)} delivery errors {phase.errors[:2]}")
    took = time.perf_counter() - start
    missing = sum(1 for p in phase.partition if p < 0)
    if missing:
        raise SystemExit(f"{phase.label()}: {missing} records without a delivery report")
    return took, phase.send_order()


class Verifier:
    """Checks consumed records against the phases' delivery reports."""

    def __init__(self, phases):
        self.by_prefix = {phase.prefix: phase for phase in phases}
        self.seen = {phase.prefix: bytearray(phase.count) for phase in phases}
        self.key_partitions = {}

    def check(self, message, only_phase=None):
        if message.error():
            raise SystemExit(f"consume error: {message.error()}")
        where = f"partition {message.partition()} offset {message.offset()}"
        value = message.value().decode()
        prefix, _, number = value.rpartition("-")
        prefix += "-"
        phase = self.by_prefix.get(prefix)
        if phase is None or (only_phase is not None and phase is not only_phase):
            raise SystemExit(f"unexpected record {value!r} at {where}")
        i = int(number)
        if not 0 <= i < phase.count or number != str(i):
            raise SystemExit(f"unexpected record {value!r} at {where}")
        if message.partition() != phase.partition[i] or message.offset() != phase.offset[i]:
            raise SystemExit(f"record {value!r} read at {where}, delivered to partition "
                             f"{phase.partition[i]} offset {phase.offset[i]}")
        key = f"key-{i % KEYS}"
        if message.key() is None or message.key().decode() != key:
            raise SystemExit(f"record {value!r} at {where}: key {message.key()!r}, expected {key!r}")
        if message.headers() != [("i", number.encode())]:
            raise SystemExit(f"record {value!r} at {where}: headers {message.headers()!r}")
        seen = self.seen[prefix]
        if seen[i]:
            raise SystemExit(f"record {value!r} returned twice, again at {where}")
        seen[i] = 1
        self.key_partitions.setdefault(key, set()).add(message.partition())


def consume(consumer, verifier, want, timeout, only_phase=None):
    got = 0
    start = time.perf_counter()
    deadline = start + timeout
    while got < want and time.perf_counter() < deadline:
        for message in consumer.consume(1000, 1.0):
            verifier.check(message, only_phase)
            got += 1
    took = time.perf_counter() - start
    if got != want:
        raise SystemExit(f"consumed {got} of {want} within {timeout:.0f}s")
    return took


def main():
    args = parse_args()
    bootstrap, count = args.bootstrap, args.count
    topic = f"py-roundtrip-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)]).values():
        future.result(15)
    settings = {"off": (False,), "on": (True,), "both": (False, True)}[args.idempotence]
    phases = []
    for codec in args.codecs:
        for idempotent in settings:
            phases.append(Phase(len(phases), codec, idempotent, count))

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    verifier = Verifier(phases)
    for phase in phases:
        produce_took, inversions = produce(bootstrap, topic, phase, args.timeout)
        consume_took = consume(consumer, verifier, count, args.timeout, only_phase=phase)
        note = f" (note: {inversions} records stored out of send order)" if inversions else ""
        print(f"confluent-kafka {confluent_kafka.__version__} {phase.label()}: "
              f"produced {count} in {produce_took:.2f}s ({count / produce_took:.0f} rec/s), "
              f"consumed {count} in {consume_took:.2f}s ({count / consume_took:.0f} rec/s), "
              f"{PARTITIONS} partitions, verified{note}", flush=True)
    consumer.close()
    total = count * len(phases)
    if any(len(parts) != 1 for parts in verifier.key_partitions.values()):
        raise SystemExit("a key landed in more than one partition")

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    if not args.skip_final_reread:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        verifier = Verifier(phases)
        took = consume(consumer, verifier, total, args.timeout)
        extra = consumer.consume(1000, 1.0)
        if extra:
            raise SystemExit(f"{len(extra)} records after the last one produced, first at partition "
                             f"{extra[0].partition()} offset {extra[0].offset()}")
        if any(len(parts) != 1 for parts in verifier.key_partitions.values()):
            raise SystemExit("a key landed in more than one partition")
        last = [-1] * PARTITIONS
        for phase in phases:
            for p, offset in zip(phase.partition, phase.offset):
                if offset > last[p]:
                    last[p] = offset
        for p in range(PARTITIONS):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=15)
            if high != last[p] + 1:
                raise SystemExit(f"partition {p}: high watermark {high}, last delivered offset {last[p]}")
        print(f"confluent-kafka {confluent_kafka.__version__}: re-read all {total} records from offset 0 "
              f"in {took:.2f}s ({total / took:.0f} rec/s), verified; high watermarks match", flush=True)
        consumer.seek(TopicPartition(topic, 0, 3))
    else:
        consumer.assign([TopicPartition(topic, 0, 3)])
    messages = consumer.consume(1, 10.0)
    if not messages or messages[0].offset() != 3:
        raise SystemExit("seek to offset 3 did not land on offset 3")
    consumer.close()
    print(f"confluent-kafka: {total} records over {len(args.codecs)} codecs x idempotence "
          f"{args.idempotence}, all verified")


if __name__ == "__main__":
    main()
