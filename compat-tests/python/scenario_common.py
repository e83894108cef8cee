"""Shared part of the Python compatibility drivers (ck_driver.py for confluent-kafka,
kp_driver.py for kafka-python): the record conventions of ../SCENARIOS.md, the checks
every driver makes the same way, and the command line / exit-code contract.

Standard library only, so each driver can import it next to its own client library.
A driver turns what its client returns into `Rec` tuples and plain dicts/sets, and leaves
the judging to this module, so both clients are held to exactly the same rules.

Exit codes (SCENARIOS.md): 0 pass, 1 fail (what differed is printed), 77 the client cannot
do the scenario (last stdout line `UNSUPPORTED: <reason>`).
"""
import argparse
import collections
import os
import random
import sys
import threading
import time
import traceback

PARTITIONS = 6
RECORD_WAIT_S = 30.0      # SCENARIOS.md: the wait for expected records is bounded (30 s)
GROUP_WAIT_S = 45.0       # group-rebalance: each wait bounded by 45 s
DRAIN_S = 0.5             # after the expected records: keep polling this long to catch extras
WATCHDOG_S = 85.0         # the harness kills a run at 90 s; fail a little earlier, with a message

SCENARIOS = [
    "metadata",
    "produce-consume-none", "produce-consume-gzip", "produce-consume-snappy",
    "produce-consume-lz4", "produce-consume-zstd",
    "key-partitioning", "large-record", "seek-offset", "seek-timestamp", "admin",
    "group-rebalance", "commit-resume", "idempotence",
]

# One consumed record, whatever the client: key/value are bytes or None, headers a list of
# (str, bytes-or-None) in wire order, timestamp in ms (None where the client hides it).
Rec = collections.namedtuple("Rec", "partition offset key value headers timestamp")


class Failure(Exception):
    """The broker (or client) did not do what the scenario requires: exit 1."""


class Unsupported(Exception):
    """The client library cannot do this scenario at all: exit 77."""


def log(msg):
    print(msg, flush=True)


def check(condition, message):
    if not condition:
        raise Failure(message)


# --- record conventions (SCENARIOS.md "Record conventions") --------------------------

def record_key(i):
    return None if i % 10 == 9 else f"key-{i % 20}".encode()


def record_value(i):
    return None if i % 7 == 6 else f"value-{i}".encode()


def record_headers(i):
    headers = [("idx", str(i).encode())]
    if i % 5 == 0:
        headers.append(("empty", b""))
    return headers


def large_payload(size, seed):
    """Pseudo-random (incompressible) bytes, reproducible so a failure can be replayed."""
    return random.Random(seed).randbytes(size)


def record_index(rec):
    """The `i` of a consumed record, from its first header `idx`; None if it has none."""
    if not rec.headers or rec.headers[0][0] != "idx" or rec.headers[0][1] is None:
        return None
    try:
        return int(rec.headers[0][1].decode())
    except (UnicodeDecodeError, ValueError):
        return None


def describe(rec):
    return (f"p{rec.partition}@{rec.offset} key={rec.key!r} "
            f"value={_short(rec.value)} headers={rec.headers!r}")


def _short(value):
    if value is None or len(value) <= 40:
        return repr(value)
    return f"<{len(value)} bytes>"


# --- verifying what was read back -----------------------------------------------------

def record_errors(i, rec, key_of=record_key, value_of=record_value):
    """What differs between consumed `rec` and record i (key, value, headers, byte-exact;
    None and empty are different)."""
    errors = []
    if rec.key != key_of(i):
        errors.append(f"record {i}: key {rec.key!r}, expected {key_of(i)!r}")
    if rec.value != value_of(i):
        errors.append(f"record {i}: value {_short(rec.value)}, expected {_short(value_of(i))}")
    if list(rec.headers) != record_headers(i):
        errors.append(f"record {i}: headers {rec.headers!r}, expected {record_headers(i)!r}")
    return errors


def verify_record(i, rec, what, key_of=record_key, value_of=record_value):
    errors = record_errors(i, rec, key_of, value_of)
    check(not errors, f"{what}: " + "; ".join(errors))


class RecordLog:
    """Consumed records of one scenario, checked against the conventions as they arrive.

    `key_of(i)` gives record i's expected key (the conventions' unless the scenario uses
    its own keys); `delivered` optionally maps i -> (partition, offset) from the producer's
    delivery reports, so a record must come back exactly where the broker said it stored it.
    """

    def __init__(self, count, key_of=record_key, value_of=record_value, delivered=None):
        self.count = count
        self.key_of = key_of
        self.value_of = value_of
        self.delivered = delivered
        self.seen = {}                                   # i -> Rec
        self.errors = []
        self.last_in_partition = {}                      # partition -> (offset, i)
        self.key_partitions = collections.defaultdict(set)

    def add(self, rec):
        i = record_index(rec)
        if i is None or not 0 <= i < self.count:
            self.errors.append(f"unexpected record (idx header missing or not in 0..{self.count - 1}): "
                               f"{describe(rec)}")
            return
        if i in self.seen:
            self.errors.append(f"record {i} read twice: {describe(self.seen[i])} and {describe(rec)}")
            return
        self.seen[i] = rec
        self.errors.extend(record_errors(i, rec, self.key_of, self.value_of))
        if self.delivered is not None and self.delivered.get(i) != (rec.partition, rec.offset):
            self.errors.append(f"record {i}: read at p{rec.partition}@{rec.offset}, "
                               f"delivery report said {self.delivered.get(i)}")
        previous = self.last_in_partition.get(rec.partition)
        if previous is not None and (rec.offset <= previous[0] or i <= previous[1]):
            self.errors.append(f"partition {rec.partition}: record {i} at offset {rec.offset} "
                               f"follows record {previous[1]} at offset {previous[0]}")
        self.last_in_partition[rec.partition] = (rec.offset, i)
        want_key = self.key_of(i)
        if want_key is not None:
            self.key_partitions[want_key].add(rec.partition)

    def complete(self):
        return len(self.seen) == self.count

    def verify(self):
        """Raises Failure listing what differed; returns a one-line summary otherwise."""
        errors = list(self.errors)
        missing = [i for i in range(self.count) if i not in self.seen]
        if missing:
            errors.append(f"{len(missing)} of {self.count} records never read, e.g. {missing[:10]}")
        for key, partitions in sorted(self.key_partitions.items()):
            if len(partitions) > 1:
                errors.append(f"key {key!r} found in partitions {sorted(partitions)}")
        if errors:
            shown = errors[:15] + ([f"... and {len(errors) - 15} more"] if len(errors) > 15 else [])
            raise Failure("\n  ".join(["record check failed:"] + shown))
        per_partition = collections.Counter(rec.partition for rec in self.seen.values())
        return (f"{self.count} records verified (key, value, headers, exactly once, in order); "
                f"per partition: {dict(sorted(per_partition.items()))}")


def read_records(poll, record_log, what, timeout=RECORD_WAIT_S, drain=DRAIN_S):
    """Feeds `poll(max_wait_s) -> [Rec]` into `record_log` until it is complete (bounded by
    `timeout`), then keeps polling `drain` seconds so duplicates or extra records show up."""
    started = time.monotonic()
    deadline = started + timeout
    while not record_log.complete() and time.monotonic() < deadline:
        for rec in poll(min(1.0, max(0.0, deadline - time.monotonic()))):
            record_log.add(rec)
    if not record_log.complete():
        log(f"{what}: only {len(record_log.seen)} of {record_log.count} records "
            f"after {timeout:.0f} s")
    drain_end = time.monotonic() + drain
    while time.monotonic() < drain_end:
        for rec in poll(max(0.0, drain_end - time.monotonic())):
            record_log.add(rec)
    log(f"{what}: read {len(record_log.seen)} records in {time.monotonic() - started:.2f} s")


def read_count(poll, count, what, timeout=RECORD_WAIT_S, drain=DRAIN_S):
    """Returns every record `poll` yields until `count` arrived (bounded by `timeout`) plus
    whatever follows within `drain` seconds; the caller checks there is nothing extra."""
    records = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        records.extend(poll(min(1.0, max(0.0, deadline - time.monotonic()))))
    check(len(records) >= count, f"{what}: read {len(records)} of {count} records in {timeout:.0f} s")
    drain_end = time.monotonic() + drain
    while time.monotonic() < drain_end:
        records.extend(poll(max(0.0, drain_end - time.monotonic())))
    return records


def verify_end_offsets(end_offsets, delivered_per_partition):
    """On a fresh topic each partition's end offset is the number of records acknowledged
    there: anything more means a record was stored that the producer does not know about."""
    expected = {p: delivered_per_partition.get(p, 0) for p in range(PARTITIONS)}
    check(dict(end_offsets) == expected,
          f"end offsets {dict(sorted(end_offsets.items()))}, expected {expected}")


def read_until_idle(poll, ready, idle_s=5.0, limit=RECORD_WAIT_S + 15):
    """Polls until nothing arrived for `idle_s` seconds, counted from the moment `ready()`
    (the consumer owns partitions) first held; bounded by `limit` seconds overall."""
    records = []
    deadline = time.monotonic() + limit
    quiet_since = None
    while time.monotonic() < deadline:
        batch = poll(0.5)
        records.extend(batch)
        now = time.monotonic()
        if batch or (quiet_since is None and ready()):
            quiet_since = now
        if quiet_since is not None and now - quiet_since >= idle_s:
            return records
    raise Failure(f"consumer did not go idle within {limit:.0f} s "
                  f"(ready={ready()}, {len(records)} records read)")


def drain_partition(poll, partition, first_offset, what, wait_s=2.0):
    """Reads whatever else partition `partition` yields within `wait_s` and fails if
    anything at or after `first_offset` appears (e.g. a refused record that was stored)."""
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        for rec in poll(max(0.0, end - time.monotonic())):
            check(not (rec.partition == partition and rec.offset >= first_offset),
                  f"{what}: unexpected record {describe(rec)}")


def verify_delivery(delivered, count, partition=None):
    """Delivery reports: every record acknowledged, offsets unique per partition, and (with
    an explicit partition) in that partition; returns the per-partition counts."""
    check(len(delivered) == count, f"only {len(delivered)} of {count} records acknowledged")
    by_position = {}
    for i, (p, offset) in sorted(delivered.items()):
        check(0 <= p < PARTITIONS, f"record {i} acknowledged in partition {p}")
        check(partition is None or p == partition,
              f"record {i} acknowledged in partition {p}, sent to partition {partition}")
        check((p, offset) not in by_position,
              f"records {by_position.get((p, offset))} and {i} both acknowledged at p{p}@{offset}")
        by_position[(p, offset)] = i
    return collections.Counter(p for p, _ in delivered.values())


def verify_metadata(bootstrap, brokers, partition_leaders):
    """`brokers`: [(node_id, host, port)]; `partition_leaders`: {partition: leader node id}."""
    host, port = bootstrap.rsplit(":", 1)
    check(len(brokers) == 1, f"expected exactly one broker, got {brokers}")
    node_id, b_host, b_port = brokers[0]
    check((b_host, int(b_port)) == (host, int(port)),
          f"broker advertises {b_host}:{b_port}, bootstrap was {bootstrap}")
    check(sorted(partition_leaders) == list(range(PARTITIONS)),
          f"topic has partitions {sorted(partition_leaders)}, expected 0..{PARTITIONS - 1}")
    bad = {p: leader for p, leader in partition_leaders.items() if leader != node_id}
    check(not bad, f"partitions not led by broker {node_id}: {bad}")
    log(f"metadata: one broker (node {node_id}) at {b_host}:{b_port}; "
        f"{PARTITIONS} partitions, all led by it")


def read_back_and_verify(open_reader, poll_of, end_offsets, delivered, count,
                         key_of=record_key):
    """The read-back half of the produce scenarios, for any client: the acknowledgements
    cover records 0..count-1; a fresh reader (`open_reader()`, polled through
    `poll_of(consumer)`) over every partition reads each record exactly once as produced;
    and the partitions' end offsets (`end_offsets()`) hold nothing more. Returns the
    RecordLog and its summary line."""
    per_partition = verify_delivery(delivered, count)
    consumer = open_reader()
    try:
        record_log = RecordLog(count, key_of=key_of, delivered=delivered)
        read_records(poll_of(consumer), record_log, "consumer")
    finally:
        consumer.close()
    summary = record_log.verify()
    verify_end_offsets(end_offsets(), per_partition)
    return record_log, summary


def verify_key_partitioning(record_log, key_count):
    """key-partitioning: beyond the record checks (already done by read_back_and_verify),
    every key was seen and >= 2 partitions used."""
    check(len(record_log.key_partitions) == key_count,
          f"{len(record_log.key_partitions)} distinct keys read, expected {key_count}")
    used = set().union(*record_log.key_partitions.values())
    check(len(used) >= 2, f"all keys went to one partition: {sorted(used)}")
    log(f"key-partitioning: {key_count} keys, each in exactly one partition; "
        f"{len(used)} partitions used")


def verify_commit_resume(first, second, total, committed, end_offsets):
    """commit-resume: C1's and C2's records are disjoint and together all `total` (each
    verified; a record read by both shows up as read twice); the group's committed offset of
    each partition is its end offset (an empty partition may have no commit at all)."""
    record_log = RecordLog(total)
    for rec in first + second:
        record_log.add(rec)
    record_log.verify()
    wrong = {p: (committed.get(p), end)
             for p, end in sorted(end_offsets.items())
             if committed.get(p) != end and not (end == 0 and committed.get(p) is None)}
    check(not wrong, "committed offset != end offset for partitions {p: (committed, end)}: "
          f"{wrong}")
    log(f"commit-resume: C1 read {len(first)}, C2 read {len(second)}, disjoint, all {total} "
        f"verified; committed offsets = end offsets {dict(sorted(end_offsets.items()))}")


def wait_until(condition, timeout, what, describe_state=lambda: ""):
    """Polls `condition()` every 0.1 s up to `timeout` seconds; Failure when it never holds."""
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() >= deadline:
            raise Failure(f"timed out after {timeout:.0f} s waiting until {what} {describe_state()}")
        time.sleep(0.1)


def settle(get, want, what, timeout=5.0):
    """Admin reads after an admin write: Kafka propagates metadata and configs to its brokers
    asynchronously, so a describe may show the old state for a moment. Polls `get()` until it
    equals `want` (bounded by `timeout` s); the log says when it took more than one read."""
    seen = []

    def matches():
        seen.append(get())
        return seen[-1] == want
    took = wait_until(matches, timeout, f"{what} is {want!r}", lambda: f"(last seen {seen[-1]!r})")
    retried = f" (on read {len(seen)}, after {took:.1f} s; first read {seen[0]!r})" if len(seen) > 1 else ""
    log(f"{what}: {want!r}{retried}")


# --- group-rebalance: one thread per consumer -----------------------------------------

class GroupMember(threading.Thread):
    """Runs one group consumer in its own thread, as an application's poll loop would, and
    publishes the partitions it currently owns. Every call on the consumer, including
    close, happens on this thread (neither client is safe to share across threads)."""

    def __init__(self, name, open_consumer, poll_once, owned_partitions, close_consumer):
        super().__init__(name=name, daemon=True)
        self._open, self._poll, self._owned, self._close = (
            open_consumer, poll_once, owned_partitions, close_consumer)
        self.owned = frozenset()
        self.error = None
        self.closed = False
        self._stop_event = threading.Event()

    def run(self):
        consumer = None
        try:
            consumer = self._open()
            while not self._stop_event.is_set():
                self._poll(consumer)
                self.owned = frozenset(self._owned(consumer))
        except Exception:  # reported by the main thread
            self.error = traceback.format_exc()
        finally:
            if consumer is not None:
                try:
                    self._close(consumer)
                    self.closed = True
                except Exception:
                    self.error = (self.error or "") + traceback.format_exc()

    def stop(self, timeout=20.0):
        self._stop_event.set()
        self.join(timeout)
        check(not self.is_alive(), f"consumer {self.name} did not close within {timeout:.0f} s")
        check(self.error is None, f"consumer {self.name} failed:\n{self.error}")
        check(self.closed, f"consumer {self.name} was not closed")


def run_group_rebalance(make_member):
    """group-rebalance: `make_member(name)` returns an unstarted GroupMember of group TOPIC-g."""
    everything = frozenset(range(PARTITIONS))
    a = make_member("A")
    b = make_member("B")

    def state():
        return f"(A owns {sorted(a.owned)}, B owns {sorted(b.owned)}; " \
               f"A error: {a.error}, B error: {b.error})"

    def healthy(cond):
        return lambda: (a.error is None and b.error is None) and cond()

    a.start()
    try:
        took = wait_until(healthy(lambda: a.owned == everything), GROUP_WAIT_S,
                          "A owns all 6 partitions", state)
        log(f"group-rebalance: A owns {sorted(a.owned)} after {took:.1f} s")
        b.start()
        took = wait_until(healthy(lambda: a.owned and b.owned and not (a.owned & b.owned)
                                  and (a.owned | b.owned) == everything),
                          GROUP_WAIT_S, "A and B split the 6 partitions", state)
        log(f"group-rebalance: A owns {sorted(a.owned)}, B owns {sorted(b.owned)} "
            f"after {took:.1f} s")
        b.stop()
        log("group-rebalance: B closed")
        took = wait_until(healthy(lambda: a.owned == everything), GROUP_WAIT_S,
                          "A owns all 6 partitions again", state)
        log(f"group-rebalance: A owns {sorted(a.owned)} again after {took:.1f} s")
    finally:
        for member in (b, a):
            if member.is_alive():
                member._stop_event.set()
                member.join(20.0)
    check(a.error is None, f"consumer A failed:\n{a.error}")
    check(a.closed, "consumer A was not closed")


# --- command line and exit codes ------------------------------------------------------

def _watchdog():
    time.sleep(WATCHDOG_S)
    print(f"FAIL: driver still running after {WATCHDOG_S:.0f} s (a wait that should be "
          f"bounded was not)", flush=True)
    os._exit(1)


def main(client, scenarios):
    """Parses `--bootstrap --scenario --topic`, runs `scenarios[name](args)` and exits
    0 / 1 / 77. `scenarios` maps each SCENARIOS.md name to a function, or to a string:
    the reason this client cannot do it."""
    parser = argparse.ArgumentParser(description=f"{client} compatibility driver")
    parser.add_argument("--bootstrap", required=True, help="HOST:PORT of the broker")
    parser.add_argument("--scenario", required=True, choices=SCENARIOS)
    parser.add_argument("--topic", required=True, help="existing, empty 6-partition topic")
    args = parser.parse_args()
    threading.Thread(target=_watchdog, daemon=True).start()

    log(f"{client}: scenario {args.scenario}, topic {args.topic}, bootstrap {args.bootstrap}")
    handler = scenarios.get(args.scenario)
    started = time.monotonic()
    try:
        if handler is None:
            raise Failure(f"driver has no implementation of {args.scenario}")
        if isinstance(handler, str):
            raise Unsupported(handler)
        handler(args)
    except Unsupported as unsupported:
        print(f"UNSUPPORTED: {unsupported}", flush=True)
        sys.exit(77)
    except Failure as failure:
        print(f"FAIL: {failure}", flush=True)
        sys.exit(1)
    except Exception:
        print(f"FAIL: unexpected error\n{traceback.format_exc()}", flush=True)
        sys.exit(1)
    log(f"PASS ({time.monotonic() - started:.1f} s)")
    sys.exit(0)
