#!/usr/bin/env python3
"""A member of a consumer group (classic protocol) with confluent-kafka's Consumer
(librdkafka), for compat-tests/groups_check.sh.

Usage: group_consume.py BOOTSTRAP TOPIC GROUP [--assignor NAMES] [--instance-id ID]
                        [--session-timeout-ms N] [--record FILE] [--count N] [--timeout-s N]

Subscribes to TOPIC in GROUP with enable.auto.commit=false and auto.offset.reset=earliest;
every other setting is librdkafka's default unless given: --assignor sets
partition.assignment.strategy (default "range,roundrobin"; e.g. cooperative-sticky),
--instance-id makes it a static member (group.instance.id), --session-timeout-ms sets
session.timeout.ms.

Each batch from consume() is processed (appended to the --record file as
"r MS PARTITION OFFSET VALUE" lines and flushed), then committed synchronously with the
offsets after those records; each acknowledged commit adds "c MS PARTITION NEXT_OFFSET"
lines. Revoked partitions are committed in on_revoke. Output on stdout:
"joined: member=ID" after every rebalance that assigns, "assigned: TOPIC:0,1,2" whenever
the assignment changes (sorted; empty list when none) and "done: ..." at the end.

Runs until --count records were processed (0, the default: no limit), --timeout-s passes
(exit 1) or SIGTERM/SIGINT; then commits, prints "done:" and closes the consumer (a
dynamic member leaves the group, a static member does not).
"""
import argparse
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

stop = False


def on_signal(_signum, _frame):
    global stop
    stop = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bootstrap")
    ap.add_argument("topic")
    ap.add_argument("group")
    ap.add_argument("--assignor")
    ap.add_argument("--instance-id")
    ap.add_argument("--session-timeout-ms")
    ap.add_argument("--record")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--timeout-s", type=float, default=0)
    args = ap.parse_args()
    topic = args.topic

    conf = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "client.id": "group-consume-" + (args.instance_id or str(__import__("os").getpid())),
    }
    if args.assignor:
        conf["partition.assignment.strategy"] = args.assignor
    if args.instance_id:
        conf["group.instance.id"] = args.instance_id
    if args.session_timeout_ms:
        conf["session.timeout.ms"] = int(args.session_timeout_ms)
    record = open(args.record, "a", encoding="utf-8") if args.record else None

    owned = set()
    pending = {}  # partition -> next offset, processed but not committed
    consumer = Consumer(conf)

    def show():
        print("assigned: %s:%s" % (topic, ",".join(str(p) for p in sorted(owned))), flush=True)

    def commit(only, why):
        # A batch from consume() can hold records fetched before a revoke that happened
        # within the same call: those are not committed here (a commit from a member that
        # no longer owns the partition could overwrite its new owner's progress); the new
        # owner reads them again (uncommitted work).
        wanted = only if only is not None else owned
        offsets = [TopicPartition(topic, p, o) for p, o in pending.items() if p in wanted]
        pending_keep = {p: o for p, o in pending.items() if only is not None and p not in only}
        pending.clear()
        pending.update(pending_keep)
        if not offsets:
            return
        try:
            result = consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as e:
            # The records are consumed again by the partition's next owner (uncommitted work).
            print("group_consume: commit (%s) failed: %s" % (why, e), file=sys.stderr, flush=True)
            return
        now = int(time.time() * 1000)
        for tp in result or []:
            if tp.error is not None:
                print("group_consume: commit (%s) of partition %d failed: %s" % (why, tp.partition, tp.error),
                      file=sys.stderr, flush=True)
            elif record:
                record.write("c %d %d %d\n" % (now, tp.partition, tp.offset))
        if record:
            record.flush()

    def on_assign(c, partitions):
        print("joined: member=%s" % c.memberid(), flush=True)
        before = set(owned)
        owned.update(tp.partition for tp in partitions if tp.topic == topic)
        if owned != before:
            show()
        # Not calling (incremental_)assign here: confluent-kafka then does it itself.

    def on_revoke(c, partitions):
        revoked = {tp.partition for tp in partitions if tp.topic == topic}
        commit(revoked, "partitions revoked")
        if owned & revoked:
            owned.difference_update(revoked)
            show()

    def on_lost(c, partitions):
        lost = {tp.partition for tp in partitions if tp.topic == topic}
        for p in lost:
            pending.pop(p, None)
        if owned & lost:
            owned.difference_update(lost)
            show()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)

    deadline = time.monotonic() + args.timeout_s if args.timeout_s > 0 else None
    seen = 0
    distinct = {}
    why = None
    exit_code = 0
    while why is None:
        msgs = consumer.consume(num_messages=500, timeout=0.2)
        now = int(time.time() * 1000)
        for m in msgs:
            if m.error():
                if m.error().code() != KafkaError._PARTITION_EOF:
                    print("group_consume: consume error: %s" % m.error(), file=sys.stderr, flush=True)
                continue
            seen += 1
            distinct.setdefault(m.partition(), set()).add(m.offset())
            if record:
                value = m.value().decode("utf-8", "replace") if m.value() is not None else ""
                record.write("r %d %d %d %s\n" % (now, m.partition(), m.offset(), value))
            pending[m.partition()] = m.offset() + 1
        if record:
            record.flush()
        commit(None, "after processing")
        if stop:
            why = "signalled"
        elif args.count > 0 and seen >= args.count:
            why = "saw %d records" % seen
        elif deadline is not None and time.monotonic() > deadline:
            why = "timed out after %ss with %d records" % (args.timeout_s, seen)
            exit_code = 1
    commit(None, "final")
    positions = ",".join("%d@%d" % (p, max(offs) + 1) for p, offs in sorted(distinct.items()))
    print("done: %s; %d records (%d distinct) from %s as %s, next offsets %s:%s" % (
        why, seen, sum(len(o) for o in distinct.values()), topic, args.group, topic, positions), flush=True)
    consumer.close()
    if record:
        record.close()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
