#!/usr/bin/env python3
"""Compatibility driver for kafka-python: the scenarios of ../SCENARIOS.md with the library's
KafkaProducer, KafkaConsumer and KafkaAdminClient, used as an application would.

  kp_driver.py --bootstrap HOST:PORT --scenario NAME --topic TOPIC

kafka-python compresses with optional packages (python-snappy, lz4, zstandard; pinned in
requirements-drivers.txt). With them it has every codec, so a missing package is a broken
install (exit 1), not a client limitation.
Record conventions, checks and exit codes live in scenario_common.py.
"""
import time

import kafka
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka import codec as kafka_codec
from kafka import errors as kafka_errors
from kafka.admin import ConfigResource, ConfigResourceType, OffsetSpec
from kafka.serializer import Serializer
from kafka.structs import OffsetAndMetadata

import scenario_common as sc
from scenario_common import Failure, Rec, check, log

CLIENT = f"kafka-python {kafka.__version__}"
FLUSH_S = 30.0
TIMEOUT_MS = 15_000
CODEC_AVAILABLE = {"none": lambda: True, "gzip": kafka_codec.has_gzip,
                   "snappy": kafka_codec.has_snappy, "lz4": kafka_codec.has_lz4,
                   "zstd": kafka_codec.has_zstd}
CODEC_PACKAGE = {"snappy": "python-snappy", "lz4": "lz4", "zstd": "zstandard"}


# --- client plumbing --------------------------------------------------------------------

NULL_VALUE = object()


class NullableValue(Serializer):
    """KafkaProducer.send() rejects key=None together with value=None ("Need at least one:
    key or value") before serializing, yet the conventions need such records (i % 70 == 69)
    and the protocol allows them. The application-level answer is a value serializer: the
    driver passes NULL_VALUE for a null value and this serializer hands the client a null,
    so the client still builds the record itself, with a null key and a null value."""

    def serialize(self, topic, headers, data):
        return None if data is NULL_VALUE else data


def send_value(value):
    return NULL_VALUE if value is None else value


def produce(args, indices, config=None, partition=None, key_of=sc.record_key,
            value_of=sc.record_value, timestamp_of=None):
    """Produces records `indices` with one KafkaProducer, flushes and closes it. Returns
    ({i: (partition, offset)} for acknowledged records, {i: KafkaError} for refused ones)."""
    producer = KafkaProducer(bootstrap_servers=args.bootstrap, acks="all",
                             value_serializer=NullableValue(), **(config or {}))
    try:
        futures = {i: producer.send(args.topic, key=key_of(i), value=send_value(value_of(i)),
                                    headers=sc.record_headers(i), partition=partition,
                                    timestamp_ms=timestamp_of(i) if timestamp_of else None)
                   for i in indices}
        producer.flush(timeout=FLUSH_S)
        delivered, refused = {}, {}
        for i, future in futures.items():
            try:
                meta = future.get(timeout=FLUSH_S)
                delivered[i] = (meta.partition, meta.offset)
            except kafka_errors.KafkaError as err:
                refused[i] = err
        return delivered, refused
    finally:
        producer.close(timeout=10)


def produce_ok(args, indices, **kwargs):
    delivered, refused = produce(args, indices, **kwargs)
    check(not refused, f"{len(refused)} records refused, e.g. "
                       f"{dict(list(sorted(refused.items()))[:3])}")
    return delivered


def open_reader(args, partitions):
    """A consumer outside any group, assigned `partitions` from their beginning."""
    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, group_id=None,
                             enable_auto_commit=False)
    tps = [TopicPartition(args.topic, p) for p in partitions]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    return consumer


def to_rec(record):
    return Rec(record.partition, record.offset, record.key, record.value,
               list(record.headers or []), (record.timestamp_type, record.timestamp))


def poller(consumer, max_records=None):
    """poll(max_wait_s) -> [Rec], in offset order within each partition."""
    def poll(max_wait):
        batches = consumer.poll(timeout_ms=int(max_wait * 1000), max_records=max_records)
        return [to_rec(r) for records in batches.values() for r in records]
    return poll


def end_offsets(args, partitions=range(sc.PARTITIONS)):
    """High watermarks (ListOffsets latest) through the admin client, on its own connection."""
    admin = KafkaAdminClient(bootstrap_servers=args.bootstrap)
    try:
        found = admin.list_partition_offsets(
            {TopicPartition(args.topic, p): OffsetSpec.LATEST for p in partitions})
        return {tp.partition: result.offset for tp, result in found.items()}
    finally:
        admin.close()


# --- scenarios ---------------------------------------------------------------------------

def metadata(args):
    # Brokers come from describe_cluster (DescribeCluster), the topic's partitions and
    # leaders from describe_topics (Metadata): kafka-python has no public call that returns
    # a Metadata response's broker list.
    admin = KafkaAdminClient(bootstrap_servers=args.bootstrap)
    try:
        cluster = admin.describe_cluster()
        topics = admin.describe_topics([args.topic])
    finally:
        admin.close()
    check(len(topics) == 1 and topics[0]["name"] == args.topic and topics[0]["error_code"] == 0,
          f"topic {args.topic} not described: {topics}")
    partitions = topics[0]["partitions"]
    errors = {p["partition_index"]: p["error_code"] for p in partitions if p["error_code"]}
    check(not errors, f"partition errors: {errors}")
    sc.verify_metadata(args.bootstrap,
                       [(b["broker_id"], b["host"], b["port"]) for b in cluster["brokers"]],
                       {p["partition_index"]: p["leader_id"] for p in partitions})


def read_all_and_verify(args, count, delivered, key_of=sc.record_key):
    return sc.read_back_and_verify(lambda: open_reader(args, range(sc.PARTITIONS)), poller,
                                   lambda: end_offsets(args), delivered, count, key_of)


def produce_consume(codec):
    def scenario(args):
        if not CODEC_AVAILABLE[codec]():
            raise Failure(f"kafka-python cannot use {codec}: the {CODEC_PACKAGE[codec]} package "
                          f"is not installed (compat-tests/python/requirements-drivers.txt)")
        count = 1000
        started = time.monotonic()
        # Otherwise the producer's defaults, as an application gets them (kafka-python
        # 3.x is idempotent by default, like the Java client).
        delivered = produce_ok(args, range(count),
                               config={"compression_type": None if codec == "none" else codec})
        log(f"produced {count} records with compression_type={codec} in "
            f"{time.monotonic() - started:.2f} s")
        log(read_all_and_verify(args, count, delivered)[1])
    return scenario


def key_partitioning(args):
    count, keys, producers = 600, 30, 3
    key_of = lambda i: f"k-{i % keys}".encode()
    delivered = {}
    per_producer = count // producers
    for n in range(producers):     # a fresh KafkaProducer instance each time
        delivered.update(produce_ok(args, range(n * per_producer, (n + 1) * per_producer),
                                    key_of=key_of))
    log(f"produced {count} records with {producers} producers")
    record_log, summary = read_all_and_verify(args, count, delivered, key_of=key_of)
    sc.verify_key_partitioning(record_log, keys)
    log(summary)


def large_record(args):
    fits, too_big = sc.large_payload(190_000, 1), sc.large_payload(250_000, 2)
    value_of = lambda i: fits if i == 0 else too_big
    # The client's own limit (max_request_size, default 1 MiB) is already above 250,000;
    # set it explicitly so the broker, not the client, has to refuse.
    config = {"max_request_size": 1_048_576}
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
        check(isinstance(err, kafka_errors.MessageSizeTooLargeError) and err.errno == 10,
              f"250,000-byte record refused with {err!r}, expected MESSAGE_TOO_LARGE (10)")
        log(f"250,000-byte record refused: {err!r}")
        sc.drain_partition(poll, 0, 1, "after the refused record")
    finally:
        consumer.close()
    ends = end_offsets(args, [0])
    check(ends == {0: 1}, f"partition 0 end offset {ends[0]} after the refusal, expected 1")
    log("refused record not readable; partition 0 end offset is 1")


def seek_offset(args):
    count = 100
    delivered = produce_ok(args, range(count), partition=0)
    sc.verify_delivery(delivered, count, partition=0)
    check(all(delivered[i] == (0, i) for i in range(count)),
          "record i was not stored at offset i of partition 0")
    tp = TopicPartition(args.topic, 0)
    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, group_id=None,
                             enable_auto_commit=False)
    try:
        consumer.assign([tp])
        consumer.seek(tp, 42)
        poll = poller(consumer)
        records = sc.read_count(poll, count - 42, "from offset 42")
        check([r.offset for r in records] == list(range(42, count)),
              f"offsets read after seeking to 42: {[r.offset for r in records]}")
        for rec in records:
            sc.verify_record(rec.offset, rec, f"offset {rec.offset}")
        log("seek to 42: read offsets 42..99 in order, values value-42..value-99")
        consumer.seek_to_beginning(tp)
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
    tp = TopicPartition(args.topic, 0)
    consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, group_id=None,
                             enable_auto_commit=False)
    try:
        consumer.assign([tp])
        lookups = [(t0 + 42_000, 42), (t0 + 41_500, 42), (t0 - 5_000, 0), (now + 3_600_000, None)]
        for ts, want in lookups:
            found = consumer.offsets_for_times({tp: ts}, timeout_ms=TIMEOUT_MS)[tp]
            offset = None if found is None else found.offset
            check(offset == want, f"offset for timestamp T0{ts - t0:+d} ms is {found}, expected {want}")
            log(f"offset for T0{ts - t0:+d} ms: {offset}")
        start = consumer.offsets_for_times({tp: t0 + 42_000}, timeout_ms=TIMEOUT_MS)[tp]
        consumer.seek(tp, start.offset)
        records = sc.read_count(poller(consumer), 1, "from the offset for T0+42000", drain=0)
        sc.verify_record(42, records[0], "first record after the time lookup")
        check(records[0].timestamp == (0, t0 + 42_000),
              f"first record has (timestamp type, timestamp) {records[0].timestamp}, expected "
              f"CreateTime (0) T0+42000 = {t0 + 42_000}")
        log("consumed from it: value-42 with CreateTime T0+42000")
    finally:
        consumer.close()


def admin(args):
    client = KafkaAdminClient(bootstrap_servers=args.bootstrap)
    name = f"{args.topic}-admin"
    resource = lambda configs=None: ConfigResource(ConfigResourceType.TOPIC, name, configs)

    def partition_count():
        topics = client.describe_topics([name])
        check(topics and topics[0]["error_code"] == 0, f"describe {name}: {topics}")
        return len(topics[0]["partitions"])

    def retention():
        configs = client.describe_configs([resource()], config_filter="all")["topic"][name]
        entry = configs.get("retention.ms")
        check(entry is not None, f"describe configs of {name} has no retention.ms: {sorted(configs)}")
        return entry["value"], entry["config_source"]

    try:
        spec = {name: {"num_partitions": 3, "replication_factor": 1,
                       "configs": {"retention.ms": "3600000"}}}
        client.create_topics(spec, timeout_ms=TIMEOUT_MS)
        log(f"created {name} with 3 partitions, retention.ms=3600000")
        try:
            client.create_topics(spec, timeout_ms=TIMEOUT_MS)
            raise Failure("creating the topic a second time succeeded")
        except kafka_errors.BrokerResponseError as err:
            check(err.errno == 36, f"second create failed with {err!r}, expected TOPIC_ALREADY_EXISTS (36)")
            log(f"second create refused: {type(err).__name__} ({err.errno})")
        sc.settle(lambda: name in client.list_topics(), True, "listed")
        sc.settle(partition_count, 3, "describe: partition count")
        sc.settle(retention, ("3600000", "DYNAMIC_TOPIC_CONFIG"),
                  "describe configs: retention.ms (value, source = topic override)")
        result = client.alter_configs([resource({"retention.ms": "7200000"})], incremental=True)
        check(result == {"topic": {name: "OK"}}, f"incremental alter: {result}")
        sc.settle(lambda: retention()[0], "7200000", "after incremental alter: retention.ms")
        client.create_partitions({name: 5}, timeout_ms=TIMEOUT_MS)
        sc.settle(partition_count, 5, "after create_partitions: partition count")
        client.delete_topics([name], timeout_ms=TIMEOUT_MS)
        took = sc.wait_until(lambda: name not in client.list_topics(), 10,
                             f"{name} disappears from the topic list")
        log(f"deleted; gone from the topic list after {took:.1f} s")
    finally:
        client.close()


def group_rebalance(args):
    def make_member(name):
        def open_consumer():
            consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, group_id=f"{args.topic}-g",
                                     client_id=f"{args.topic}-{name}")
            consumer.subscribe([args.topic])
            return consumer

        return sc.GroupMember(name, open_consumer,
                              lambda consumer: consumer.poll(timeout_ms=200),
                              lambda consumer: {tp.partition for tp in consumer.assignment()},
                              lambda consumer: consumer.close())
    sc.run_group_rebalance(make_member)


def commit_resume(args):
    count = 100
    group = f"{args.topic}-c"
    delivered = produce_ok(args, range(count))
    sc.verify_delivery(delivered, count)

    def open_member():
        consumer = KafkaConsumer(bootstrap_servers=args.bootstrap, group_id=group,
                                 enable_auto_commit=False, auto_offset_reset="earliest")
        consumer.subscribe([args.topic])
        return consumer

    def commit(consumer, records):
        """Commits, per partition, the offset after the last processed record."""
        last = {}
        for rec in records:
            last[rec.partition] = max(last.get(rec.partition, -1), rec.offset)
        if last:
            consumer.commit({TopicPartition(args.topic, p): OffsetAndMetadata(o + 1, "", -1)
                             for p, o in last.items()})
        return {p: o + 1 for p, o in sorted(last.items())}

    c1 = open_member()
    try:
        first = []
        poll = poller(c1, max_records=1)   # one record at a time: process exactly what we count
        deadline = time.monotonic() + sc.RECORD_WAIT_S
        while len(first) < 40 and time.monotonic() < deadline:
            first.extend(poll(0.5))
        check(len(first) >= 40, f"C1 read only {len(first)} records in {sc.RECORD_WAIT_S:.0f} s")
        log(f"C1 processed {len(first)} records, committed {commit(c1, first)}")
    finally:
        c1.close(autocommit=False)

    c2 = open_member()
    try:
        second = sc.read_until_idle(poller(c2), lambda: bool(c2.assignment()))
        log(f"C2 processed {len(second)} records (then idle 5 s), committed {commit(c2, second)}")
    finally:
        c2.close(autocommit=False)

    client = KafkaAdminClient(bootstrap_servers=args.bootstrap)
    try:
        offsets = client.list_group_offsets(
            {group: [TopicPartition(args.topic, p) for p in range(sc.PARTITIONS)]})[group]
    finally:
        client.close()
    committed = {tp.partition: (meta.offset if meta.offset >= 0 else None)
                 for tp, meta in offsets.items()}
    sc.verify_commit_resume(first, second, count, committed, end_offsets(args))


def idempotence(args):
    count = 2000
    started = time.monotonic()
    delivered = produce_ok(args, range(count), config={
        "enable_idempotence": True, "max_in_flight_requests_per_connection": 5})
    log(f"idempotent producer: {count} records acknowledged in {time.monotonic() - started:.2f} s")
    log(read_all_and_verify(args, count, delivered)[1])


SCENARIOS = {
    "metadata": metadata,
    **{f"produce-consume-{codec}": produce_consume(codec) for codec in CODEC_AVAILABLE},
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
