#!/usr/bin/env python3
"""kafka-python (pure-Python client) against BOOTSTRAP: KafkaAdminClient.describe_cluster().

Used by capture/capture.sh for golden bytes; also runnable by hand.
Exit 0 if it got at least one broker and a cluster id, else 1.
Usage: kafka_python_describe.py BOOTSTRAP
"""
import logging
import sys


def main(argv):
    if len(argv) < 2:
        print("usage: kafka_python_describe.py BOOTSTRAP", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    from kafka.admin import KafkaAdminClient

    try:
        admin = KafkaAdminClient(
            bootstrap_servers=argv[1],
            client_id="petrel-compat-kafka-python",
            request_timeout_ms=15000,
        )
    except Exception as e:  # noqa: BLE001 - any failure is a FAIL
        print("FAIL: KafkaAdminClient(): %r" % (e,), file=sys.stderr)
        return 1
    try:
        cluster = admin.describe_cluster()
    except Exception as e:  # noqa: BLE001
        print("FAIL: describe_cluster(): %r" % (e,), file=sys.stderr)
        return 1
    finally:
        try:
            admin.close()
        except Exception:  # noqa: BLE001
            pass
    print("cluster: %r" % (cluster,))
    if not cluster.get("brokers") or not cluster.get("cluster_id"):
        print("FAIL: missing brokers or cluster id", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
