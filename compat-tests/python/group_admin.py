#!/usr/bin/env python3
"""Consumer-group administration with confluent-kafka's AdminClient (librdkafka), the calls
kafka-consumer-groups makes, for compat-tests/groups_check.sh.

Usage: group_admin.py BOOTSTRAP active GROUP TOPIC PARTITIONS COMMITTED
       group_admin.py BOOTSTRAP empty GROUP TOPIC PARTITIONS COMMITTED
       group_admin.py BOOTSTRAP delete GROUP TOPIC
       group_admin.py BOOTSTRAP topic-delete GROUP TOPIC

active: GROUP has one live member (classic protocol, range assignor) owning all PARTITIONS
  of TOPIC, each committed at COMMITTED. list_consumer_groups with and without state
  filters, describe_consumer_groups (state, type, assignor, member, assignment,
  coordinator), list_consumer_group_offsets; alter_consumer_group_offsets must fail with
  UNKNOWN_MEMBER_ID and delete_consumer_groups with NON_EMPTY_GROUP, as Apache Kafka 4.x
  answers, leaving the offsets alone.
empty: the member has left: state Empty, no members; alter_consumer_group_offsets resets
  partition 0 to the earliest offset (list_offsets) and partition 1 to 7 with metadata,
  and fails for a partition that does not exist (PARTITIONS must be 3).
delete: delete_consumer_groups succeeds; afterwards the group is gone from
  list_consumer_groups, describe_consumer_groups shows it Dead (librdkafka uses
  DescribeGroups v5, where Kafka answers so; v6 would be GROUP_ID_NOT_FOUND),
  delete_consumer_groups gives GROUP_ID_NOT_FOUND, list_consumer_group_offsets returns no
  offsets.
topic-delete: creates TOPIC (2 partitions), commits offsets for it in GROUP (a new group),
  deletes the topic: its offsets must be gone, as Apache Kafka removes the offsets of
  deleted partitions, and stay gone when a topic of the same name is created again.
(confluent-kafka has no delete_consumer_group_offsets; the Java check covers OffsetDelete.)

One "ok"/"FAIL" line per check; exit 0 if none failed, 1 otherwise, 2 on bad usage.
"""
import sys

from confluent_kafka import (ConsumerGroupState, ConsumerGroupTopicPartitions, ConsumerGroupType, KafkaError,
                             KafkaException, TopicPartition)
from confluent_kafka.admin import AdminClient, OffsetSpec

TIMEOUT = 20


class Checks:
    def __init__(self):
        self.failed = []

    def ok(self, cond, what, detail=""):
        if cond:
            print("ok   python: %s" % what)
        else:
            line = "python: %s -- %s" % (what, detail)
            print("FAIL " + line)
            self.failed.append(line)


def error_code(exc):
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0].code()
    return None


def error_name(code):
    if code is None:
        return "?"
    return KafkaError(code).name()


def listed(admin, **kwargs):
    result = admin.list_consumer_groups(request_timeout=TIMEOUT, **kwargs).result(TIMEOUT + 5)
    return {g.group_id: g for g in result.valid}, result.errors


def describe(admin, group):
    return admin.describe_consumer_groups([group], request_timeout=TIMEOUT)[group].result(TIMEOUT + 5)


def offsets(admin, group, partitions=None):
    req = ConsumerGroupTopicPartitions(group, partitions)
    res = admin.list_consumer_group_offsets([req], request_timeout=TIMEOUT)[group].result(TIMEOUT + 5)
    return {(tp.topic, tp.partition): tp for tp in res.topic_partitions}


def fmt_offsets(offs):
    return ", ".join("%s-%d: %d%s%s" % (t, p, tp.offset, " %r" % tp.metadata if tp.metadata else "",
                                       " (%s)" % tp.error if tp.error else "")
                     for (t, p), tp in sorted(offs.items()))


def expect_error(c, fn, want, what):
    """fn() must raise a KafkaException with code want, or return partitions carrying it."""
    try:
        res = fn()
    except KafkaException as e:
        c.ok(error_code(e) == want, "%s fails with %s" % (what, error_name(want)),
             "got %s: %s" % (error_name(error_code(e)), e))
        return
    errs = [tp.error for tp in getattr(res, "topic_partitions", None) or [] if tp.error]
    if errs:
        c.ok(all(e.code() == want for e in errs), "%s fails with %s" % (what, error_name(want)),
             "partition errors %s" % errs)
    else:
        shown = fmt_offsets({(tp.topic, tp.partition): tp for tp in res.topic_partitions}) \
            if getattr(res, "topic_partitions", None) else res
        c.ok(False, what, "succeeded (%s); Apache Kafka fails it with %s" % (shown, error_name(want)))


def check_listing(c, admin, group, want_state):
    groups, errors = listed(admin)
    c.ok(not errors, "list_consumer_groups: no errors", errors)
    g = groups.get(group)
    c.ok(g is not None, "list_consumer_groups lists %s" % group, sorted(groups))
    if g is not None:
        c.ok(g.state == want_state, "list_consumer_groups: %s is %s" % (group, want_state.name), g.state)
        c.ok(not g.is_simple_consumer_group, "list_consumer_groups: not a simple consumer group", vars(g))
        c.ok(g.type in (ConsumerGroupType.CLASSIC, ConsumerGroupType.UNKNOWN, None),
             "list_consumer_groups: type Classic (or not reported)", g.type)
    other = ConsumerGroupState.EMPTY if want_state == ConsumerGroupState.STABLE else ConsumerGroupState.STABLE
    groups, _ = listed(admin, states={want_state})
    c.ok(group in groups, "list_consumer_groups(states=%s) lists %s" % (want_state.name, group), sorted(groups))
    groups, _ = listed(admin, states={other})
    c.ok(group not in groups, "list_consumer_groups(states=%s) leaves out %s" % (other.name, group), sorted(groups))


def check_coordinator(c, d, bootstrap):
    co = d.coordinator
    c.ok(co is not None and co.id >= 0 and "%s:%d" % (co.host, co.port) == bootstrap,
         "describe_consumer_groups: coordinator is the broker %s" % bootstrap, co)


def active(c, admin, bootstrap, group, topic, partitions, committed):
    check_listing(c, admin, group, ConsumerGroupState.STABLE)
    d = describe(admin, group)
    c.ok(d.state == ConsumerGroupState.STABLE, "describe_consumer_groups: state Stable", d.state)
    c.ok(d.partition_assignor == "range", "describe_consumer_groups: assignor range", d.partition_assignor)
    c.ok(not d.is_simple_consumer_group, "describe_consumer_groups: not a simple consumer group", "")
    c.ok(d.type in (ConsumerGroupType.CLASSIC, ConsumerGroupType.UNKNOWN), "describe_consumer_groups: type Classic "
         "(or not reported)", d.type)
    check_coordinator(c, d, bootstrap)
    c.ok(len(d.members) == 1, "describe_consumer_groups: one member", d.members)
    if len(d.members) == 1:
        m = d.members[0]
        got = sorted((tp.topic, tp.partition) for tp in m.assignment.topic_partitions)
        want = [(topic, p) for p in range(partitions)]
        c.ok(got == want, "describe_consumer_groups: the member owns all %d partitions" % partitions, got)
        c.ok(m.member_id and m.client_id.startswith("group-consume-"), "describe_consumer_groups: member id and "
             "client id", (m.member_id, m.client_id))
        c.ok(m.host == "/127.0.0.1", "describe_consumer_groups: member host /127.0.0.1", m.host)
        c.ok(m.group_instance_id is None, "describe_consumer_groups: no group instance id", m.group_instance_id)
    offs = offsets(admin, group)
    c.ok(sorted(offs) == [(topic, p) for p in range(partitions)] and all(tp.offset == committed for tp in offs.values()),
         "list_consumer_group_offsets: every partition committed at %d" % committed, fmt_offsets(offs))

    def alter():
        req = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 0)])
        return admin.alter_consumer_group_offsets([req], request_timeout=TIMEOUT)[group].result(TIMEOUT + 5)
    expect_error(c, alter, KafkaError.UNKNOWN_MEMBER_ID, "alter_consumer_group_offsets on an active group")

    def delete():
        return admin.delete_consumer_groups([group], request_timeout=TIMEOUT)[group].result(TIMEOUT + 5)
    expect_error(c, delete, KafkaError.NON_EMPTY_GROUP, "delete_consumer_groups on an active group")
    after = offsets(admin, group)
    c.ok({k: tp.offset for k, tp in after.items()} == {k: tp.offset for k, tp in offs.items()},
         "list_consumer_group_offsets: refused changes left the offsets alone", fmt_offsets(after))


def empty(c, admin, bootstrap, group, topic, partitions, committed):
    if partitions != 3:
        raise SystemExit("the empty phase needs a 3-partition topic")
    check_listing(c, admin, group, ConsumerGroupState.EMPTY)
    d = describe(admin, group)
    c.ok(d.state == ConsumerGroupState.EMPTY, "describe_consumer_groups: state Empty", d.state)
    c.ok(not d.members, "describe_consumer_groups: no members", d.members)
    c.ok(d.partition_assignor == "", "describe_consumer_groups: no assignor (empty protocol)", d.partition_assignor)
    check_coordinator(c, d, bootstrap)
    tp0 = TopicPartition(topic, 0)
    earliest = admin.list_offsets({tp0: OffsetSpec.earliest()}, request_timeout=TIMEOUT)[tp0].result(TIMEOUT + 5).offset
    req = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, earliest),
                                               TopicPartition(topic, 1, 7, "groups_check reset")])
    try:
        res = admin.alter_consumer_group_offsets([req], request_timeout=TIMEOUT)[group].result(TIMEOUT + 5)
        errs = [tp for tp in res.topic_partitions if tp.error]
        c.ok(not errs, "alter_consumer_group_offsets on an Empty group: %s-0 to earliest (%d), %s-1 to 7"
             % (topic, earliest, topic), errs)
    except KafkaException as e:
        c.ok(False, "alter_consumer_group_offsets on an Empty group", e)
    offs = offsets(admin, group)
    o0, o1, o2 = (offs.get((topic, p)) for p in range(3))
    c.ok(o0 is not None and o0.offset == earliest and o1 is not None and o1.offset == 7
         and o1.metadata == "groups_check reset" and o2 is not None and o2.offset == committed,
         "list_consumer_group_offsets shows the reset (%d, 7 with metadata, %d)" % (earliest, committed),
         fmt_offsets(offs))

    def alter_missing():
        req = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 99, 1)])
        return admin.alter_consumer_group_offsets([req], request_timeout=TIMEOUT)[group].result(TIMEOUT + 5)
    expect_error(c, alter_missing, KafkaError.UNKNOWN_TOPIC_OR_PART,
                 "alter_consumer_group_offsets for a partition that does not exist")
    c.ok(describe(admin, group).state == ConsumerGroupState.EMPTY, "the group is still Empty after the offset changes")


def delete(c, admin, group, topic):
    try:
        admin.delete_consumer_groups([group], request_timeout=TIMEOUT)[group].result(TIMEOUT + 5)
        c.ok(True, "delete_consumer_groups on an Empty group")
    except KafkaException as e:
        c.ok(False, "delete_consumer_groups on an Empty group", e)
    groups, _ = listed(admin)
    c.ok(group not in groups, "list_consumer_groups: %s gone after the delete" % group)
    # librdkafka sends DescribeGroups v5: Apache Kafka 4.x answers an unknown group there
    # with state Dead and no error (GROUP_ID_NOT_FOUND only from v6, KIP-1043).
    try:
        d = describe(admin, group)
        c.ok(d.state == ConsumerGroupState.DEAD and not d.members,
             "describe_consumer_groups (DescribeGroups v5) of the deleted group: state Dead, no members",
             "state %s, %d members" % (d.state, len(d.members)))
    except KafkaException as e:
        c.ok(False, "describe_consumer_groups (DescribeGroups v5) of the deleted group: state Dead, no members",
             "failed: %s" % e)
    offs = offsets(admin, group)
    c.ok(not offs, "list_consumer_group_offsets of the deleted group: no offsets", fmt_offsets(offs))

    def again():
        return admin.delete_consumer_groups([group], request_timeout=TIMEOUT)[group].result(TIMEOUT + 5)
    expect_error(c, again, KafkaError.GROUP_ID_NOT_FOUND, "delete_consumer_groups of the deleted group")


def topic_delete(c, admin, group, topic):
    """Offsets of a deleted topic go with it (Kafka's onPartitionsDeleted), also when a topic of
    the same name is created again."""
    from confluent_kafka.admin import NewTopic
    import time
    admin.create_topics([NewTopic(topic, 2, 1)], operation_timeout=15)[topic].result(TIMEOUT + 5)
    req = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 5), TopicPartition(topic, 1, 6)])
    res = admin.alter_consumer_group_offsets([req], request_timeout=TIMEOUT)[group].result(TIMEOUT + 5)
    c.ok(not [tp for tp in res.topic_partitions if tp.error], "alter_consumer_group_offsets on a new group: %s 5 and 6"
         % topic, fmt_offsets({(tp.topic, tp.partition): tp for tp in res.topic_partitions}))
    admin.delete_topics([topic], operation_timeout=15)[topic].result(TIMEOUT + 5)
    deadline = time.monotonic() + 5
    while True:
        offs = {k: tp for k, tp in offsets(admin, group).items() if k[0] == topic}
        if not offs or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    c.ok(not offs, "list_consumer_group_offsets: the deleted topic's offsets are gone", fmt_offsets(offs))
    admin.create_topics([NewTopic(topic, 2, 1)], operation_timeout=15)[topic].result(TIMEOUT + 5)
    offs = {k: tp for k, tp in offsets(admin, group).items() if k[0] == topic}
    c.ok(not offs, "list_consumer_group_offsets: a new topic of the same name has no committed offsets",
         fmt_offsets(offs))


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    bootstrap, mode, group = argv[1], argv[2], argv[3]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    c = Checks()
    if mode in ("active", "empty") and len(argv) == 7:
        (active if mode == "active" else empty)(c, admin, bootstrap, group, argv[4], int(argv[5]), int(argv[6]))
    elif mode == "delete" and len(argv) == 5:
        delete(c, admin, group, argv[4])
    elif mode == "topic-delete" and len(argv) == 5:
        topic_delete(c, admin, group, argv[4])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    if c.failed:
        print("%d check(s) failed" % len(c.failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
