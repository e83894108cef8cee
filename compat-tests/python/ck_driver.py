#!/usr/bin/env python3
"""Compatibility driver for confluent-kafka (librdkafka): every scenario of ../SCENARIOS.md
with the library's Producer, Consumer and AdminClient, used as an application would.

  ck_driver.py --bootstrap HOST:PORT --scenario NAME --topic TOPIC

Record conventions, checks and exit codes live in scenario_common.py.
"""
import time

import confluent_kafka
from confluent_kafka import (OFFSET_BEGINNING, TIMESTAMP_CREATE_TIME, Consumer,
                             ConsumerGroupTopicPartitions, KafkaError, KafkaException, Producer,
                             TopicCollection, TopicPartition)
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                   ConfigSource, NewPartitions, NewTopic, OffsetSpec,
                                   ResourceType)

import scenario_common as sc
from scenario_common import Failure, Rec, check, log

CLIENT = f"confluent-kafka {confluent_kafka.__version__} (librdkafka {confluent_kafka.libversion()[0]})"
FLUSH_S = 30.0
ADMIN_S = 15.0


# --- client plumbing --------------------------------------------------------------------

def produce(args, indices, config=None, partition=None, key_of=sc.record_key,
            value_of=sc.record_value, timestamp_of=None):
    """Produces records `indices` with one Producer and flushes it. Returns
    ({i: (partition, offset)} for acknowledged records, {i: KafkaError} for refused ones)."""
    producer = Producer({"bootstrap.servers": args.bootstrap, "acks": "all", **(config or {})})
    delivered, refused = {}, {}

    def on_delivery(i):
        def report(err, msg):
            if err is not None:
                refused[i] = err
            else:
                delivered[i] = (msg.partition(), msg.offset())
        return report

    for i in indices:
        kwargs = {"key": key_of(i), "value": value_of(i), "headers": sc.record_headers(i),
                  "on_delivery": on_delivery(i)}
        if partition is not None:
            kwargs["partition"] = partition
        if timestamp_of is not None:
            kwargs["timestamp"] = timestamp_of(i)
        while True:
            try:
                producer.produce(args.topic, **kwargs)
                break
            except BufferError:          # local queue full: let deliveries drain
                producer.poll(0.1)
        producer.poll(0)
    left = producer.flush(FLUSH_S)
    check(left == 0, f"{left} records still unacknowledged after {FLUSH_S:.0f} s flush")
    return delivered, refused


def produce_ok(args, indices, **kwargs):
    delivered, refused = produce(args, indices, **kwargs)
    check(not refused, f"{len(refused)} records refused, e.g. "
                       f"{dict(list(sorted(refused.items()))[:3])}")
    return delivered


def open_reader(args, partitions, offset=OFFSET_BEGINNING):
    """A consumer outside any group: assign (with the start offset, librdkafka's way of
    seeking a partition that is not fetched yet). librdkafka insists on a group.id even
    then; nothing is committed under it."""
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": f"{args.topic}-reader",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(args.topic, p, offset) for p in partitions])
    return consumer


def to_rec(msg):
    return Rec(msg.partition(), msg.offset(), msg.key(), msg.value(),
               msg.headers() or [], msg.timestamp())


def poller(consumer):
    """poll(max_wait_s) -> [Rec] for scenario_common's readers; client errors fail the run
    only when fatal (librdkafka reports transient connection trouble the same way)."""
    def poll(max_wait):
        recs = []
        # consume() waits for the full timeout unless the batch fills: keep each wait short
        for msg in consumer.consume(num_messages=500, timeout=min(max_wait, 0.1)):
            err = msg.error()
            if err is None:
                recs.append(to_rec(msg))
            elif err.fatal():
                raise Failure(f"consumer error: {err}")
            else:
                log(f"consumer reported (non-fatal): {err}")
        return recs
    return poll


def end_offsets(args, partitions=range(sc.PARTITIONS)):
    """High watermarks via the AdminClient (ListOffsets latest). Not through the reading
    consumer: its ListOffsets would queue behind its own long-polling Fetch (a broker answers
    one connection's requests in order), adding ~0.5 s per partition."""
    client = AdminClient({"bootstrap.servers": args.bootstrap})
    futures = client.list_offsets({TopicPartition(args.topic, p): OffsetSpec.latest()
                                   for p in partitions}, request_timeout=10)
    return {tp.partition: future.result(timeout=ADMIN_S).offset for tp, future in futures.items()}


# --- scenarios ---------------------------------------------------------------------------

def read_all_and_verify(args, count, delivered, key_of=sc.record_key):
    return sc.read_back_and_verify(lambda: open_reader(args, range(sc.PARTITIONS)), poller,
                                   lambda: end_offsets(args), delivered, count, key_of)


def metadata(args):
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    md = admin.list_topics(timeout=ADMIN_S)
    topic = md.topics.get(args.topic)
    check(topic is not None and topic.error is None,
          f"topic {args.topic} not listed: {topic.error if topic else 'missing'}")
    errors = {p: pm.error for p, pm in topic.partitions.items() if pm.error is not None}
    check(not errors, f"partition errors: {errors}")
    sc.verify_metadata(args.bootstrap, [(b.id, b.host, b.port) for b in md.brokers.values()],
                       {p: pm.leader for p, pm in topic.partitions.items()})


def produce_consume(codec):
    def scenario(args):
        count = 1000
        started = time.monotonic()
        delivered = produce_ok(args, range(count), config={"compression.type": codec})
        log(f"produced {count} records with compression.type={codec} in "
            f"{time.monotonic() - started:.2f} s")
        log(read_all_and_verify(args, count, delivered)[1])
    return scenario


def key_partitioning(args):
    count, keys, producers = 600, 30, 3
    key_of = lambda i: f"k-{i % keys}".encode()
    delivered = {}
    per_producer = count // producers
    for n in range(producers):     # a fresh Producer instance each time
        delivered.update(produce_ok(args, range(n * per_producer, (n + 1) * per_producer),
                                    key_of=key_of))
    log(f"produced {count} records with {producers} producers")
    record_log, summary = read_all_and_verify(args, count, delivered, key_of=key_of)
    sc.verify_key_partitioning(record_log, keys)
    log(summary)


def large_record(args):
    fits, too_big = sc.large_payload(190_000, 1), sc.large_payload(250_000, 2)
    value_of = lambda i: fits if i == 0 else too_big
    # librdkafka's own limit (message.max.bytes, default 1,000,000) is already above
    # 250,000; set it explicitly so the broker, not the client, has to refuse.
    config = {"message.max.bytes": 1_000_000}
    delivered = produce_ok(args, [0], partition=0, value_of=value_of, config=config)
    check(delivered[0] == (0, 0), f"190,000-byte record acknowledged at {delivered[0]}, expected p0@0")
    consumer = open_reader(args, [0])
    try:
        poll = poller(consumer)
        records = sc.read_count(poll, 1, "190,000-byte record")
        check(len(records) == 1, f"expected one record, read {[sc.describe(r) for r in records]}")
        sc.verify_record(0, records[0], "190,000-byte record", value_of=value_of)
        check(records[0].offset == 0, f"record read at offset {records[0].offset}")
        log("190,000-byte record read back byte-exact")

        delivered, refused = produce(args, [1], partition=0, value_of=value_of, config=config)
        check(not delivered, f"250,000-byte record was accepted at {delivered.get(1)}")
        err = refused.get(1)
        check(err is not None and err.code() == KafkaError.MSG_SIZE_TOO_LARGE,
              f"250,000-byte record refused with {err}, expected MESSAGE_TOO_LARGE (10)")
        log(f"250,000-byte record refused: {err.name()} ({err.code()}): {err.str()}")
        sc.drain_partition(poll, 0, 1, "after the refused record")
        ends = end_offsets(args, [0])
        check(ends == {0: 1}, f"partition 0 end offset {ends[0]} after the refusal, expected 1")
        log("refused record not readable; partition 0 end offset is 1")
    finally:
        consumer.close()


def seek_offset(args):
    count = 100
    delivered = produce_ok(args, range(count), partition=0)
    sc.verify_delivery(delivered, count, partition=0)
    check(all(delivered[i] == (0, i) for i in range(count)),
          "record i was not stored at offset i of partition 0")
    consumer = open_reader(args, [0], offset=42)    # assign with offset = seek before fetching
    try:
        poll = poller(consumer)
        records = sc.read_count(poll, count - 42, "from offset 42")
        check([r.offset for r in records] == list(range(42, count)),
              f"offsets read after seeking to 42: {[r.offset for r in records]}")
        for rec in records:
            sc.verify_record(rec.offset, rec, f"offset {rec.offset}")
        log("seek to 42: read offsets 42..99 in order, values value-42..value-99")
        consumer.seek(TopicPartition(args.topic, 0, OFFSET_BEGINNING))
        records = sc.read_count(poll, 1, "after seeking to the beginning", drain=0)
        check(records[0].offset == 0, f"first record after seek to beginning at offset {records[0].offset}")
        sc.verify_record(0, records[0], "offset 0")
        log("seek to beginning: first record is offset 0")
    finally:
        consumer.close()


def seek_timestamp(args):
    count = 100
    now = int(time.time() * 1000)
    t0 = now - 3_600_000
    delivered = produce_ok(args, range(count), partition=0, timestamp_of=lambda i: t0 + i * 1000)
    sc.verify_delivery(delivered, count, partition=0)
    consumer = open_reader(args, [0])
    try:
        lookups = [(t0 + 42_000, 42), (t0 + 41_500, 42), (t0 - 5_000, 0), (now + 3_600_000, -1)]
        for ts, want in lookups:
            found = consumer.offsets_for_times([TopicPartition(args.topic, 0, ts)], timeout=10)[0]
            check(found.error is None, f"offsets_for_times({ts}) failed: {found.error}")
            check(found.offset == want, f"offset for timestamp T0{ts - t0:+d} ms is {found.offset}, "
                                        f"expected {want}")
            log(f"offset for T0{ts - t0:+d} ms: {found.offset}")
        start = consumer.offsets_for_times([TopicPartition(args.topic, 0, t0 + 42_000)], timeout=10)[0]
        consumer.assign([start])
        records = sc.read_count(poller(consumer), 1, "from the offset for T0+42000", drain=0)
        sc.verify_record(42, records[0], "first record after the time lookup")
        check(records[0].timestamp == (TIMESTAMP_CREATE_TIME, t0 + 42_000),
              f"first record has timestamp {records[0].timestamp}, expected CreateTime T0+42000 "
              f"= {t0 + 42_000}")
        log("consumed from it: value-42 with CreateTime T0+42000")
    finally:
        consumer.close()


def admin(args):
    client = AdminClient({"bootstrap.servers": args.bootstrap})
    name = f"{args.topic}-admin"

    def create():
        return client.create_topics([NewTopic(name, num_partitions=3, replication_factor=1,
                                              config={"retention.ms": "3600000"})],
                                    operation_timeout=10)[name].result(timeout=ADMIN_S)

    def partition_count():
        desc = client.describe_topics(TopicCollection([name]))[name].result(timeout=ADMIN_S)
        return len(desc.partitions)

    def retention():
        res = ConfigResource(ResourceType.TOPIC, name)
        entry = client.describe_configs([res])[res].result(timeout=ADMIN_S)["retention.ms"]
        return entry.value, ConfigSource(entry.source).name

    create()
    log(f"created {name} with 3 partitions, retention.ms=3600000")
    try:
        create()
        raise Failure("creating the topic a second time succeeded")
    except KafkaException as e:
        code = e.args[0].code()
        check(code == KafkaError.TOPIC_ALREADY_EXISTS,
              f"second create failed with {e.args[0]}, expected TOPIC_ALREADY_EXISTS (36)")
        log(f"second create refused: {e.args[0].name()} ({code})")
    sc.settle(lambda: name in client.list_topics(timeout=ADMIN_S).topics, True, "listed")
    sc.settle(partition_count, 3, "describe: partition count")
    sc.settle(retention, ("3600000", ConfigSource.DYNAMIC_TOPIC_CONFIG.name),
              "describe configs: retention.ms (value, source = topic override)")
    res = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[
        ConfigEntry("retention.ms", "7200000", incremental_operation=AlterConfigOpType.SET)])
    client.incremental_alter_configs([res])[res].result(timeout=ADMIN_S)
    sc.settle(lambda: retention()[0], "7200000", "after incremental alter: retention.ms")
    client.create_partitions([NewPartitions(name, 5)], operation_timeout=10)[name].result(timeout=ADMIN_S)
    sc.settle(partition_count, 5, "after create_partitions: partition count")
    client.delete_topics([name], operation_timeout=10)[name].result(timeout=ADMIN_S)
    took = sc.wait_until(lambda: name not in client.list_topics(timeout=ADMIN_S).topics, 10,
                         f"{name} disappears from the topic list")
    log(f"deleted; gone from the topic list after {took:.1f} s")


def group_rebalance(args):
    def make_member(name):
        def open_consumer():
            consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": f"{args.topic}-g",
                                 "client.id": f"{args.topic}-{name}"})
            consumer.subscribe([args.topic])
            return consumer

        def poll_once(consumer):
            msg = consumer.poll(0.2)   # also serves the rebalance callbacks
            if msg is not None and msg.error() is not None and msg.error().fatal():
                raise Failure(f"consumer {name}: {msg.error()}")

        return sc.GroupMember(name, open_consumer, poll_once,
                              lambda consumer: {tp.partition for tp in consumer.assignment()},
                              lambda consumer: consumer.close())
    sc.run_group_rebalance(make_member)


def commit_resume(args):
    count = 100
    group = f"{args.topic}-c"
    delivered = produce_ok(args, range(count))
    sc.verify_delivery(delivered, count)

    def open_member():
        consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": group,
                             "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        consumer.subscribe([args.topic])
        return consumer

    def commit(consumer, records):
        """Commits, per partition, the offset after the last processed record."""
        last = {}
        for rec in records:
            last[rec.partition] = max(last.get(rec.partition, -1), rec.offset)
        if last:
            consumer.commit(offsets=[TopicPartition(args.topic, p, o + 1) for p, o in last.items()],
                            asynchronous=False)
        return {p: o + 1 for p, o in sorted(last.items())}

    c1 = open_member()
    try:
        first = []
        deadline = time.monotonic() + sc.RECORD_WAIT_S
        while len(first) < 40 and time.monotonic() < deadline:
            msg = c1.poll(0.5)          # one record at a time: process exactly what we count
            if msg is not None:
                check(msg.error() is None or not msg.error().fatal(), f"C1: {msg.error()}")
                if msg.error() is None:
                    first.append(to_rec(msg))
        check(len(first) >= 40, f"C1 read only {len(first)} records in {sc.RECORD_WAIT_S:.0f} s")
        log(f"C1 processed {len(first)} records, committed {commit(c1, first)}")
    finally:
        c1.close()

    c2 = open_member()
    try:
        second = sc.read_until_idle(poller(c2), lambda: bool(c2.assignment()))
        log(f"C2 processed {len(second)} records (then idle 5 s), committed {commit(c2, second)}")
        ends = end_offsets(args)
    finally:
        c2.close()

    client = AdminClient({"bootstrap.servers": args.bootstrap})
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(args.topic, p)
                                                  for p in range(sc.PARTITIONS)])
    result = client.list_consumer_group_offsets([request])[group].result(timeout=ADMIN_S)
    committed = {tp.partition: (tp.offset if tp.offset >= 0 else None)
                 for tp in result.topic_partitions}
    sc.verify_commit_resume(first, second, count, committed, ends)


def idempotence(args):
    count = 2000
    started = time.monotonic()
    delivered = produce_ok(args, range(count), config={
        "enable.idempotence": True, "max.in.flight.requests.per.connection": 5})
    log(f"idempotent producer: {count} records acknowledged in {time.monotonic() - started:.2f} s")
    log(read_all_and_verify(args, count, delivered)[1])


SCENARIOS = {
    "metadata": metadata,
    **{f"produce-consume-{codec}": produce_consume(codec)
       for codec in ("none", "gzip", "snappy", "lz4", "zstd")},
    "key-partitioning": key_partitioning,
    "large-record": large_record,
    "seek-offset": seek_offset,
    "seek-timestamp": seek_timestamp,
    "admin": admin,
    "group-rebalance": group_rebalance,
    "commit-resume": commit_resume,
    "idempotence": idempotence,
}

if __name__ == "__main__":
    sc.main(CLIENT, SCENARIOS)
