#!/usr/bin/env python3
"""Topic administration with confluent-kafka's AdminClient (librdkafka), before and after a
broker restart. Used by compat-tests/admin_restart.sh; also runnable by hand.

Usage: admin_ops.py BOOTSTRAP phase1|phase2 PREFIX STATE_FILE

phase1 creates four topics named PREFIX-*, changes them and checks after every change that
list_topics (Metadata, all topics) and describe_topics (Metadata by name) show it at once:
  PREFIX-conf    3 partitions, retention.ms, max.message.bytes and cleanup.policy set at
                 creation; then incremental_alter_configs SET segment.bytes and DELETE
                 max.message.bytes; then create_partitions grows it to 5
  PREFIX-plain   2 partitions, no configs: every config must be Kafka's default
  PREFIX-legacy  1 partition, retention.ms set at creation; then alter_configs (the legacy,
                 whole-set replacement) sets max.message.bytes and segment.ms, which drops
                 retention.ms back to its default
  PREFIX-gone    4 partitions, deleted at the end of phase 1
plus a few refusals Kafka gives (existing topic, bad config, not-a-growth, deleted topic;
a name colliding with an existing one over '.' vs '_' is only a WARN).
It writes the topic ids to STATE_FILE (JSON).
phase2 (after the restart) checks the same state: the three topics with their partition
counts, leaders and topic ids, every config and its source; PREFIX-gone absent. Finally it
creates PREFIX-gone again and checks it gets a new topic id.

Prints one "ok"/"FAIL" line per check ("WARN" for a difference from Apache Kafka 4.x that does
not fail the check); exit 0 if no check failed, 1 otherwise, 2 on bad usage.
"""
import base64
import json
import sys
import warnings

from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    ResourceType,
)

TIMEOUT = 15  # seconds per admin call

# Apache Kafka 4.x topic-config defaults (https://kafka.apache.org/documentation/#topicconfigs).
KAFKA_DEFAULTS = {
    "cleanup.policy": "delete",
    "max.message.bytes": "1048588",
    "retention.bytes": "-1",
    "retention.ms": "604800000",
    "segment.bytes": "1073741824",
    "segment.ms": "604800000",
    "min.insync.replicas": "1",
    "message.timestamp.type": "CreateTime",
    "compression.type": "producer",
}

# What each surviving topic must look like at the end of phase 1 and after the restart:
# partitions, and the configs expected as topic overrides (DYNAMIC_TOPIC_CONFIG); every
# other config in KAFKA_DEFAULTS must be the default (DEFAULT_CONFIG).
FINAL = {
    "conf": (5, {"retention.ms": "3600000", "cleanup.policy": "delete", "segment.bytes": "536870912"}),
    "plain": (2, {}),
    "legacy": (1, {"max.message.bytes": "500000", "segment.ms": "3600000"}),
}


class Checks:
    def __init__(self, label):
        self.label = label
        self.failed = []

    def ok(self, cond, what, detail=""):
        if cond:
            print("ok   %s: %s" % (self.label, what))
        else:
            line = "%s: %s%s" % (self.label, what, (" -- " + detail) if detail else "")
            print("FAIL " + line)
            self.failed.append(line)
        return cond

    def warn(self, cond, what, detail=""):
        """A difference from Apache Kafka that does not break the client: reported, not failed."""
        if cond:
            print("ok   %s: %s" % (self.label, what))
        else:
            print("WARN %s: %s%s" % (self.label, what, (" -- " + detail) if detail else ""))
        return cond

    def call(self, what, fn):
        """Runs fn(); an exception is a failed check. Returns (True, value) or (False, None)."""
        try:
            value = fn()
        except Exception as e:  # noqa: BLE001 - any client error is a FAIL with its text
            self.ok(False, what, describe_error(e))
            return False, None
        self.ok(True, what)
        return True, value


def describe_error(e):
    if isinstance(e, KafkaException) and e.args and isinstance(e.args[0], KafkaError):
        err = e.args[0]
        return "%s (%d): %s" % (err.name(), err.code(), err.str())
    return repr(e)


def error_name(e):
    if isinstance(e, KafkaException) and e.args and isinstance(e.args[0], KafkaError):
        return e.args[0].name()
    return type(e).__name__


def topic_id_str(uuid):
    """Kafka's text form of a Uuid: url-safe base64 of the 16 bytes, unpadded."""
    raw = (uuid.get_most_significant_bits() & (2**64 - 1)).to_bytes(8, "big") + (
        uuid.get_least_significant_bits() & (2**64 - 1)
    ).to_bytes(8, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Admin:
    def __init__(self, bootstrap, checks):
        self.c = checks
        self.errors = []
        self.admin = AdminClient({
            "bootstrap.servers": bootstrap,
            "client.id": "petrel-compat-admin-python",
            "socket.timeout.ms": 10000,
            "reconnect.backoff.ms": 200,
            "reconnect.backoff.max.ms": 1000,
            "error_cb": lambda err: self.errors.append(str(err)),
        })
        self.broker_id = None

    # --- Metadata views -------------------------------------------------------------
    def cluster(self):
        md = self.admin.list_topics(timeout=TIMEOUT)
        return md

    def check_listed(self, step, expected, absent=()):
        """list_topics (Metadata for all topics): each expected topic with its partition
        count and this broker leading every partition; absent topics not listed."""
        ok, md = self.c.call("%s: list_topics" % step, lambda: self.cluster())
        if not ok:
            return
        if self.broker_id is None and md.brokers:
            self.broker_id = sorted(md.brokers)[0]
        for name, partitions in expected.items():
            t = md.topics.get(name)
            if not self.c.ok(t is not None, "%s: list_topics shows %s" % (step, name),
                             "not among %d topics" % len(md.topics)):
                continue
            ids = sorted(t.partitions)
            leaders = {p.leader for p in t.partitions.values()}
            errors = [p.error for p in t.partitions.values() if p.error is not None]
            self.c.ok(t.error is None and ids == list(range(partitions)) and leaders == {self.broker_id}
                      and not errors,
                      "%s: list_topics %s has partitions 0..%d led by broker %s"
                      % (step, name, partitions - 1, self.broker_id),
                      "error %s, partitions %s, leaders %s, partition errors %s"
                      % (t.error, ids, leaders, errors))
        for name in absent:
            self.c.ok(name not in md.topics, "%s: list_topics does not show %s" % (step, name))

    def describe_topics(self, names):
        futures = self.admin.describe_topics(TopicCollection(list(names)), request_timeout=TIMEOUT)
        return futures

    def check_described(self, step, expected, ids=None):
        """describe_topics (Metadata by name, allow_auto_topic_creation false): partitions,
        leader, replicas, isr and topic id. Returns {name: topic id string}."""
        seen = {}
        futures = self.describe_topics(expected)
        for name, partitions in expected.items():
            ok, d = self.c.call("%s: describe_topics %s" % (step, name),
                                lambda: futures[name].result(TIMEOUT))
            if not ok:
                continue
            tid = topic_id_str(d.topic_id)
            seen[name] = tid
            self.c.ok(d.topic_id.get_most_significant_bits() != 0 or d.topic_id.get_least_significant_bits() != 0,
                      "%s: describe_topics %s has a topic id (%s)" % (step, name, tid))
            if ids is not None and name in ids:
                self.c.ok(tid == ids[name], "%s: %s keeps topic id %s" % (step, name, ids[name]), "now %s" % tid)
            parts = sorted(d.partitions, key=lambda p: p.id)
            shape = [(p.id, p.leader.id if p.leader else None, [r.id for r in p.replicas], [r.id for r in p.isr])
                     for p in parts]
            want = [(i, self.broker_id, [self.broker_id], [self.broker_id]) for i in range(partitions)]
            self.c.ok(shape == want and not d.is_internal,
                      "%s: describe_topics %s: %d partitions, leader/replicas/isr = broker %s"
                      % (step, name, partitions, self.broker_id),
                      "got (id, leader, replicas, isr) %s, internal %s" % (shape, d.is_internal))
        return seen

    def check_not_described(self, step, name):
        f = self.describe_topics([name])[name]
        try:
            d = f.result(TIMEOUT)
            self.c.ok(False, "%s: describe_topics %s fails with UNKNOWN_TOPIC_OR_PART" % (step, name),
                      "it succeeded: %d partitions, id %s" % (len(d.partitions), topic_id_str(d.topic_id)))
        except Exception as e:  # noqa: BLE001
            self.c.ok(error_name(e) == "UNKNOWN_TOPIC_OR_PART",
                      "%s: describe_topics %s fails with UNKNOWN_TOPIC_OR_PART" % (step, name), describe_error(e))

    # --- configs ----------------------------------------------------------------------
    def describe_configs(self, name):
        res = ConfigResource(ResourceType.TOPIC, name)
        return self.admin.describe_configs([res], request_timeout=TIMEOUT)[res].result(TIMEOUT)

    def check_configs(self, step, name, overrides):
        """Every config in `overrides` is set with source DYNAMIC_TOPIC_CONFIG; every other
        config in KAFKA_DEFAULTS has Kafka's default with source DEFAULT_CONFIG."""
        ok, configs = self.c.call("%s: describe_configs %s" % (step, name), lambda: self.describe_configs(name))
        if not ok:
            return
        for key in sorted(set(KAFKA_DEFAULTS) | set(overrides)):
            entry = configs.get(key)
            if key in overrides:
                want = (overrides[key], ConfigSource.DYNAMIC_TOPIC_CONFIG.value, False, False)
            else:
                want = (KAFKA_DEFAULTS[key], ConfigSource.DEFAULT_CONFIG.value, True, False)
            got = None if entry is None else (entry.value, ConfigSource(entry.source).value, entry.is_default,
                                              entry.is_read_only)
            self.c.ok(got == want,
                      "%s: %s %s=%s (%s)" % (step, name, key, want[0], ConfigSource(want[1]).name),
                      "got (value, source, is_default, read_only) %s" % (
                          ("missing" if got is None else (got[0], ConfigSource(got[1]).name, got[2], got[3])),))

    # --- changes ----------------------------------------------------------------------
    def create(self, step, topics, validate_only=False):
        futures = self.admin.create_topics(topics, request_timeout=TIMEOUT, validate_only=validate_only)
        for t in topics:
            self.c.call("%s: create_topics %s (%d partitions, configs %s)" % (step, t.topic, t.num_partitions, t.config),
                        lambda: futures[t.topic].result(TIMEOUT))

    def expect_error(self, what, expected, fn, check=None):
        check = check or self.c.ok
        try:
            fn()
            return check(False, "%s fails with %s" % (what, expected), "it succeeded")
        except Exception as e:  # noqa: BLE001
            return check(error_name(e) == expected, "%s fails with %s" % (what, expected), describe_error(e))

    def incremental(self, step, name, ops):
        entries = [ConfigEntry(k, v, incremental_operation=op) for k, v, op in ops]
        res = ConfigResource(ResourceType.TOPIC, name, incremental_configs=entries)
        desc = ", ".join("%s %s%s" % (op.name, k, "=" + v if v is not None else "") for k, v, op in ops)
        return self.c.call("%s: incremental_alter_configs %s: %s" % (step, name, desc),
                           lambda: self.admin.incremental_alter_configs([res], request_timeout=TIMEOUT)[res].result(TIMEOUT))[0]

    def legacy_alter(self, step, name, configs):
        res = ConfigResource(ResourceType.TOPIC, name, set_config=configs)
        return self.c.call("%s: alter_configs (legacy) %s = %s" % (step, name, configs),
                           lambda: self.admin.alter_configs([res], request_timeout=TIMEOUT)[res].result(TIMEOUT))[0]


def phase1(a, prefix, state_file):
    c = a.c
    conf, plain, legacy, gone = ("%s-%s" % (prefix, s) for s in ("conf", "plain", "legacy", "gone"))
    ok, md = c.call("list_topics before any change", a.cluster)
    if not ok:
        return
    a.broker_id = sorted(md.brokers)[0] if md.brokers else None
    c.ok(a.broker_id is not None and md.cluster_id, "cluster has a broker (%s) and a cluster id (%s)"
         % (a.broker_id, md.cluster_id))

    # validate_only creates nothing.
    a.create("create(validate_only)", [NewTopic(gone, num_partitions=4, replication_factor=1)], validate_only=True)
    a.check_listed("after validate_only create", {}, absent=[gone])

    a.create("create", [
        NewTopic(conf, num_partitions=3, replication_factor=1,
                 config={"retention.ms": "3600000", "max.message.bytes": "2097152", "cleanup.policy": "delete"}),
        NewTopic(plain, num_partitions=2, replication_factor=1),
        NewTopic(legacy, num_partitions=1, replication_factor=1, config={"retention.ms": "86400000"}),
        NewTopic(gone, num_partitions=4, replication_factor=1),
    ])
    created = {conf: 3, plain: 2, legacy: 1, gone: 4}
    a.check_listed("after create", created)
    ids = a.check_described("after create", created)
    a.check_configs("after create", conf, {"retention.ms": "3600000", "max.message.bytes": "2097152",
                                           "cleanup.policy": "delete"})
    a.check_configs("after create", plain, {})
    a.check_configs("after create", legacy, {"retention.ms": "86400000"})

    # Refusals Kafka gives.
    a.expect_error("create existing topic %s" % plain, "TOPIC_ALREADY_EXISTS",
                   lambda: a.admin.create_topics([NewTopic(plain, num_partitions=1, replication_factor=1)],
                                                 request_timeout=TIMEOUT)[plain].result(TIMEOUT))
    bad = "%s-bad" % prefix
    a.expect_error("create %s with retention.ms=soon" % bad, "INVALID_CONFIG",
                   lambda: a.admin.create_topics([NewTopic(bad, num_partitions=1, replication_factor=1,
                                                           config={"retention.ms": "soon"})],
                                                 request_timeout=TIMEOUT)[bad].result(TIMEOUT))
    a.check_listed("after refused creates", {plain: 2}, absent=[bad])
    # Kafka refuses a name that equals an existing one once '.' and '_' are unified (their
    # metric names would collide): INVALID_TOPIC_EXCEPTION. Reported, not failed.
    dotted, underscored = "%s-coll.x" % prefix, "%s-coll_x" % prefix
    a.create("create", [NewTopic(dotted, num_partitions=1, replication_factor=1)])
    if not a.expect_error("create %s next to %s" % (underscored, dotted), "TOPIC_EXCEPTION",
                          lambda: a.admin.create_topics([NewTopic(underscored, num_partitions=1, replication_factor=1)],
                                                        request_timeout=TIMEOUT)[underscored].result(TIMEOUT),
                          check=c.warn):
        c.call("delete_topics %s" % underscored,
               lambda: a.admin.delete_topics([underscored], request_timeout=TIMEOUT)[underscored].result(TIMEOUT))
    c.call("delete_topics %s" % dotted,
           lambda: a.admin.delete_topics([dotted], request_timeout=TIMEOUT)[dotted].result(TIMEOUT))

    # IncrementalAlterConfigs: SET one, DELETE another.
    a.incremental("alter", conf, [("segment.bytes", "536870912", AlterConfigOpType.SET),
                                  ("max.message.bytes", None, AlterConfigOpType.DELETE)])
    a.check_configs("after incremental_alter_configs", conf, {"retention.ms": "3600000", "cleanup.policy": "delete",
                                                             "segment.bytes": "536870912"})
    res = ConfigResource(ResourceType.TOPIC, conf, incremental_configs=[
        ConfigEntry("no.such.config", "1", incremental_operation=AlterConfigOpType.SET)])
    a.expect_error("incremental_alter_configs SET no.such.config on %s" % conf, "INVALID_CONFIG",
                   lambda: a.admin.incremental_alter_configs([res], request_timeout=TIMEOUT)[res].result(TIMEOUT))

    # AlterConfigs (legacy): the given set replaces every override.
    a.legacy_alter("alter", legacy, {"max.message.bytes": "500000", "segment.ms": "3600000"})
    a.check_configs("after alter_configs", legacy, {"max.message.bytes": "500000", "segment.ms": "3600000"})

    # CreatePartitions: grow 3 -> 5.
    f = a.admin.create_partitions([NewPartitions(conf, 5)], request_timeout=TIMEOUT)[conf]
    c.call("create_partitions %s 3 -> 5" % conf, lambda: f.result(TIMEOUT))
    a.check_listed("after create_partitions", {conf: 5})
    a.check_described("after create_partitions", {conf: 5}, ids)
    a.expect_error("create_partitions %s 5 -> 5" % conf, "INVALID_PARTITIONS",
                   lambda: a.admin.create_partitions([NewPartitions(conf, 5)],
                                                     request_timeout=TIMEOUT)[conf].result(TIMEOUT))

    # DeleteTopics.
    f = a.admin.delete_topics([gone], request_timeout=TIMEOUT)[gone]
    c.call("delete_topics %s" % gone, lambda: f.result(TIMEOUT))
    a.check_listed("after delete_topics", {conf: 5, plain: 2, legacy: 1}, absent=[gone, dotted])
    a.check_not_described("after delete_topics", gone)
    a.expect_error("describe_configs deleted %s" % gone, "UNKNOWN_TOPIC_OR_PART", lambda: a.describe_configs(gone))

    # The state phase 2 must find.
    a.check_described("end of phase 1", {conf: 5, plain: 2, legacy: 1}, ids)
    for suffix, (partitions, overrides) in FINAL.items():
        a.check_configs("end of phase 1", "%s-%s" % (prefix, suffix), overrides)
    with open(state_file, "w") as f:
        json.dump({"prefix": prefix, "ids": ids}, f)


def phase2(a, prefix, state_file):
    c = a.c
    with open(state_file) as f:
        ids = json.load(f)["ids"]
    gone = "%s-gone" % prefix
    expected = {"%s-%s" % (prefix, s): p for s, (p, _) in FINAL.items()}
    a.check_listed("after restart", expected, absent=[gone, "%s-coll.x" % prefix])
    a.check_described("after restart", expected, ids)
    for suffix, (partitions, overrides) in FINAL.items():
        a.check_configs("after restart", "%s-%s" % (prefix, suffix), overrides)
    a.check_not_described("after restart", gone)
    # A deleted topic's name is free again, under a new id.
    a.create("after restart", [NewTopic(gone, num_partitions=1, replication_factor=1)])
    new = a.check_described("after restart, re-created", {gone: 1})
    if gone in new and gone in ids:
        c.ok(new[gone] != ids[gone], "re-created %s has a new topic id" % gone, "same id %s" % ids[gone])
    a.check_configs("after restart, re-created", gone, {})


def main(argv):
    if len(argv) != 5 or argv[2] not in ("phase1", "phase2"):
        print("usage: admin_ops.py BOOTSTRAP phase1|phase2 PREFIX STATE_FILE", file=sys.stderr)
        return 2
    bootstrap, phase, prefix, state_file = argv[1:]
    # alter_configs (the legacy API) is exercised on purpose.
    warnings.filterwarnings("ignore", message="alter_configs has been deprecated", category=DeprecationWarning)
    checks = Checks("confluent-kafka %s" % phase)
    a = Admin(bootstrap, checks)
    try:
        (phase1 if phase == "phase1" else phase2)(a, prefix, state_file)
    except Exception as e:  # noqa: BLE001 - an unexpected error ends the phase as a FAIL
        checks.ok(False, "%s ended early" % phase, describe_error(e))
    for err in a.errors:
        print("  client error: %s" % err, file=sys.stderr)
    if checks.failed:
        print("%d check(s) failed" % len(checks.failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
