#!/usr/bin/env python3
"""Smoke check: confluent-kafka (librdkafka) AdminClient.list_topics() against BOOTSTRAP.

Exit 0 if the broker answered with at least one broker and a non-empty cluster id, else 1.
Usage: list_topics.py BOOTSTRAP [--debug]
"""
import sys

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient


def main(argv):
    if len(argv) < 2:
        print("usage: list_topics.py BOOTSTRAP [--debug]", file=sys.stderr)
        return 2
    conf = {
        "bootstrap.servers": argv[1],
        "client.id": "petrel-compat-python",
        "socket.timeout.ms": 10000,
        "reconnect.backoff.ms": 500,
        "reconnect.backoff.max.ms": 2000,
    }
    if "--debug" in argv[2:]:
        conf["debug"] = "broker,protocol"
    errors = []
    conf["error_cb"] = lambda err: errors.append(str(err))
    admin = AdminClient(conf)
    try:
        md = admin.list_topics(timeout=10)
    except KafkaException as e:
        print("FAIL: list_topics: %s" % e, file=sys.stderr)
        for err in errors:
            print("  client error: %s" % err, file=sys.stderr)
        return 1
    print("cluster id: %s" % md.cluster_id)
    print("controller id: %s" % md.controller_id)
    print("orig broker: %s (%s)" % (md.orig_broker_id, md.orig_broker_name))
    print("brokers (%d):" % len(md.brokers))
    for b in sorted(md.brokers.values(), key=lambda b: b.id):
        print("  id=%d host=%s port=%d" % (b.id, b.host, b.port))
    print("topics (%d): %s" % (len(md.topics), ", ".join(sorted(md.topics)) or "-"))
    ok = True
    if not md.brokers:
        print("FAIL: no brokers in metadata", file=sys.stderr)
        ok = False
    if not md.cluster_id:
        print("FAIL: no cluster id in metadata", file=sys.stderr)
        ok = False
    for err in errors:
        print("  client error: %s" % err, file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
