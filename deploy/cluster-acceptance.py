#!/usr/bin/env python3
"""Acceptance run of a 3-node Petrel cluster (the metadata-quorum issue's acceptance points).

Starts three `petrel` processes itself, each a controller (Raft voter) and a broker on its own
loopback address (127.0.0.31..33 by default; Linux routes all of 127.0.0.0/8 to the loopback
interface, other systems need the aliases added first), with the client port 9092, the
controller port 9093 and the metrics port 9464 on every node's address, data in a temporary
directory. Then, in order:

  a. waits until every node serves Metadata listing the 3 brokers;
  b. creates topic acc-1 (6 partitions, replication factor 3) through node 1 and measures how
     soon node 2 and node 3 list it;
  c. checks every broker leads at least one partition of acc-1;
  d. produces 1000 records (acks=all) bootstrapped from node 2 only and consumes them in group
     acc-g bootstrapped from node 3 only;
  e. kill -9 of the active controller: time until another node leads the quorum, then creates
     topic acc-2 through a survivor (retrying as a client would);
  f. restarts the killed node and waits until it lists acc-2 and the 3 brokers;
  g. SIGSTOP of the controller for 3 s: another node must lead with a higher term, and the
     resumed node must step down within 5 s;
  h. SIGSTOP of another broker: time until it is fenced (no longer listed, its partitions led
     elsewhere), then SIGCONT and time until it is listed again.

Timings are measured and printed against their targets but never fail the run; a check that
does not hold, or a wait that runs out, does (exit status 1). Every wait is bounded and every
process is killed at exit. The active controller is read from each node's Prometheus metrics:
the gauges `petrel_raft_is_leader` (0/1) and `petrel_raft_term`.

Needs confluent_kafka; run it with the compat-tests interpreter:
  compat-tests/.venv/bin/python deploy/cluster-acceptance.py --bin target/release/petrel
"""
import argparse
import atexit
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

try:
    from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError:  # pragma: no cover - depends on the interpreter
    sys.exit("confluent_kafka is missing: run with compat-tests/.venv/bin/python "
             "(compat-tests/install.sh creates it)")

CLIENT_PORT = 9092
CONTROLLER_PORT = 9093
METRICS_PORT = 9464
NODE_IDS = (1, 2, 3)
SESSION_TIMEOUT_MS = 9000  # petrel's default --broker-session-timeout-ms
ELECTION_TIMEOUT_MAX_MS = 1000  # petrel's default --raft-election-timeout-max-ms
RECORDS = 1000


class AcceptanceFailure(Exception):
    """A check that did not hold or a bounded wait that ran out."""


# ---------------------------------------------------------------------------------------------
# Results table


class Results:
    """The measured figures, printed as a table at the end."""

    def __init__(self):
        self.rows = []

    def add(self, step, what, seconds, target=None):
        """Records and prints one measurement; `target` is an upper bound in seconds or None."""
        verdict = ""
        if target is not None:
            verdict = "target met" if seconds <= target else "target missed"
        self.rows.append((step, what, seconds, target, verdict))
        target_text = f" (target < {target:g} s: {verdict})" if target is not None else ""
        print(f"  {what}: {seconds * 1000:.0f} ms{target_text}")

    def print_table(self):
        """Prints every measurement recorded so far."""
        if not self.rows:
            return
        print("\nSummary")
        print(f"  {'step':<4} {'measurement':<58} {'ms':>8}  {'target':<8} result")
        for step, what, seconds, target, verdict in self.rows:
            target_text = f"< {target:g} s" if target is not None else ""
            print(f"  {step:<4} {what:<58} {seconds * 1000:8.0f}  {target_text:<8} {verdict}")


# ---------------------------------------------------------------------------------------------
# Processes


class Node:
    """One petrel process: its addresses, command line, data directory and log."""

    def __init__(self, node_id, ip, binary, workdir, voters):
        self.id = node_id
        self.ip = ip
        self.data_dir = os.path.join(workdir, f"node{node_id}")
        self.log_path = os.path.join(workdir, f"node{node_id}.log")
        self.argv = [
            binary,
            f"--node-id={node_id}",
            "--roles=controller,broker",
            f"--data-dir={self.data_dir}",
            f"--listen={ip}:{CLIENT_PORT}",
            f"--advertised-listen={ip}:{CLIENT_PORT}",
            f"--controller-listen={ip}:{CONTROLLER_PORT}",
            f"--voters={voters}",
            f"--metrics-listen={ip}:{METRICS_PORT}",
        ]
        self.proc = None
        self.spawned_at = None
        self.paused = False

    @property
    def client(self):
        """The node's Kafka client address."""
        return f"{self.ip}:{CLIENT_PORT}"

    def spawn(self):
        """Starts the process (again, after a kill) with the same arguments; logs are appended."""
        os.makedirs(self.data_dir, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"--- spawn: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.spawned_at = time.monotonic()
        self.paused = False

    def running(self):
        """True while the process exists (a SIGSTOPped process counts as running)."""
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        """Sends `sig` to the process if it still exists."""
        if self.running():
            self.proc.send_signal(sig)

    def kill9(self):
        """SIGKILL, and reaps the process."""
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)
        self.paused = False

    def pause(self):
        """SIGSTOP: the process keeps its sockets but answers nothing."""
        self.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        """SIGCONT."""
        self.signal(signal.SIGCONT)
        self.paused = False

    def stop(self, grace_s=5.0):
        """SIGCONT + SIGTERM, then SIGKILL after `grace_s`; safe to call more than once."""
        if not self.running():
            return
        self.proc.send_signal(signal.SIGCONT)  # a stopped process would hold SIGTERM
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_tail(self, lines=25):
        """The last lines of the node's log."""
        try:
            with open(self.log_path, "rb") as log:
                return b"".join(log.readlines()[-lines:]).decode(errors="replace")
        except OSError as error:
            return f"(no log: {error})"


class Cluster:
    """The three nodes and their temporary directory; `close` stops everything."""

    def __init__(self, binary, base_ip, first_host, workdir):
        ips = [f"{base_ip}{first_host + i}" for i in range(len(NODE_IDS))]
        voters = ",".join(f"{n}@{ip}:{CONTROLLER_PORT}" for n, ip in zip(NODE_IDS, ips))
        self.workdir = workdir
        self.nodes = {n: Node(n, ip, binary, workdir, voters) for n, ip in zip(NODE_IDS, ips)}
        self.killed = set()  # ids of nodes deliberately not running

    def node(self, node_id):
        """The node with this id."""
        return self.nodes[node_id]

    def others(self, *excluded):
        """The nodes other than `excluded` (Node objects), in id order."""
        ids = {n.id for n in excluded}
        return [node for node in self.nodes.values() if node.id not in ids]

    def check_running(self):
        """Fails if a node that should be running has exited."""
        for node in self.nodes.values():
            if node.id not in self.killed and not node.running():
                raise AcceptanceFailure(f"node {node.id} exited with status {node.proc.returncode} "
                                        f"(its log: {node.log_path})")

    def close(self):
        """Stops every node (idempotent)."""
        for node in self.nodes.values():
            try:
                node.stop()
            except Exception as error:  # keep stopping the others
                print(f"stopping node {node.id}: {error}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Waiting


def wait_until(predicate, timeout_s, what, cluster=None, interval_s=0.02):
    """Calls `predicate` every `interval_s` until it returns a truthy value; returns
    (value, elapsed seconds). Exceptions from the predicate count as "not yet". Raises
    AcceptanceFailure after `timeout_s`, or at once if a node of `cluster` exited."""
    start = time.monotonic()
    last_error = None
    while True:
        if cluster is not None:
            cluster.check_running()
        try:
            value = predicate()
            if value:
                return value, time.monotonic() - start
        except Exception as error:  # not yet: connection refused, timeouts, ...
            last_error = error
        if time.monotonic() - start >= timeout_s:
            detail = f" (last error: {last_error})" if last_error else ""
            raise AcceptanceFailure(f"{what}: not within {timeout_s:g} s{detail}")
        time.sleep(interval_s)


# ---------------------------------------------------------------------------------------------
# Metadata, hand-encoded: the answer must come from one given node, which a librdkafka client
# does not promise (after bootstrap it asks whichever broker it likes).


class Reader:
    """Big-endian reader over a response body."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, fmt):
        """Unpacks one struct format at the current position."""
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values[0] if len(values) == 1 else values

    def string(self):
        """A nullable INT16-length string."""
        length = self.take(">h")
        if length < 0:
            return None
        text = self.data[self.pos:self.pos + length].decode()
        self.pos += length
        return text

    def array(self, read_item):
        """An INT32-count array of items read by `read_item`."""
        return [read_item() for _ in range(max(self.take(">i"), 0))]


def recv_exact(sock, size):
    """Reads exactly `size` bytes."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed by the broker")
        data += chunk
    return data


def metadata(address, timeout_s=1.0, correlation_id=7):
    """Metadata v1 for all topics (asking for all never auto-creates one) from exactly the node
    at `address`. Returns {"brokers": {id: "host:port"}, "controller": id,
    "topics": {name: {"error": code, "partitions": {index: {"leader": id, "replicas": [...],
    "isr": [...]}}}}}."""
    host, port = address.rsplit(":", 1)
    client_id = b"cluster-acceptance"
    body = struct.pack(">hhih", 3, 1, correlation_id, len(client_id)) + client_id
    body += struct.pack(">i", -1)  # topics: null = all
    with socket.create_connection((host, int(port)), timeout=timeout_s) as sock:
        sock.settimeout(timeout_s)
        sock.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", recv_exact(sock, 4))[0]
        reader = Reader(recv_exact(sock, size))
    if reader.take(">i") != correlation_id:
        raise ValueError("Metadata answer with a foreign correlation id")

    def broker():
        node_id, host_name, port_number = reader.take(">i"), reader.string(), reader.take(">i")
        reader.string()  # rack
        return node_id, f"{host_name}:{port_number}"

    def partition():
        error, index, leader = reader.take(">hii")
        replicas = reader.array(lambda: reader.take(">i"))
        isr = reader.array(lambda: reader.take(">i"))
        return index, {"error": error, "leader": leader, "replicas": replicas, "isr": isr}

    def topic():
        error, name, _internal = reader.take(">h"), reader.string(), reader.take(">?")
        return name, {"error": error, "partitions": dict(reader.array(partition))}

    brokers = dict(reader.array(broker))
    controller = reader.take(">i")
    topics = dict(reader.array(topic))
    return {"brokers": brokers, "controller": controller, "topics": topics}


def topic_ready(md, name, partitions):
    """True if Metadata `md` lists topic `name` without error, with `partitions` partitions
    that all have a leader."""
    topic = md["topics"].get(name)
    return (topic is not None and topic["error"] == 0 and len(topic["partitions"]) == partitions
            and all(p["leader"] >= 0 for p in topic["partitions"].values()))


def leaders(md, name):
    """{partition index: leader id} of topic `name` in Metadata `md`."""
    return {index: p["leader"] for index, p in md["topics"][name]["partitions"].items()}


# ---------------------------------------------------------------------------------------------
# Metrics


GAUGE_LINE = re.compile(r"^(petrel_raft_is_leader|petrel_raft_term)(\{[^}]*\})?\s+(\S+)")


def raft_gauges(node, timeout_s=0.3):
    """(is_leader, term) from the node's /metrics, or None if it does not answer (a stopped or
    killed node) or lacks the gauges."""
    url = f"http://{node.ip}:{METRICS_PORT}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            text = response.read().decode(errors="replace")
    except (OSError, ValueError):
        return None
    values = {}
    for line in text.splitlines():
        match = GAUGE_LINE.match(line)
        if match:
            values[match.group(1)] = float(match.group(3))
    if "petrel_raft_is_leader" not in values or "petrel_raft_term" not in values:
        return None
    return values["petrel_raft_is_leader"] == 1, int(values["petrel_raft_term"])


def leader_among(nodes, min_term=None):
    """(node, term) of a node in `nodes` reporting itself the quorum leader (with a term above
    `min_term` if given), else None. Paused nodes are skipped: their metrics would not answer."""
    for node in nodes:
        if node.paused or not node.running():
            continue
        gauges = raft_gauges(node)
        if gauges and gauges[0] and (min_term is None or gauges[1] > min_term):
            return node, gauges[1]
    return None


def is_follower(node):
    """True if the node's metrics answer and report petrel_raft_is_leader 0."""
    gauges = raft_gauges(node)
    return gauges is not None and not gauges[0]


def current_controller(cluster):
    """(node, term) of the active controller, waiting up to 10 s for one."""
    found, _ = wait_until(lambda: leader_among(cluster.nodes.values()), 10,
                          "a node reporting petrel_raft_is_leader 1", cluster)
    return found


# ---------------------------------------------------------------------------------------------
# Kafka clients (confluent_kafka)


def client_config(bootstrap, verbose, **extra):
    """librdkafka settings: the given bootstrap address; errors of deliberately killed or
    stopped nodes are not logged unless --verbose."""
    config = {"bootstrap.servers": bootstrap, "client.id": "cluster-acceptance"}
    if not verbose:
        config["log_level"] = 2
        config["error_cb"] = lambda error: None
    config.update(extra)
    return config


def create_topic(bootstrap, name, partitions, replication, verbose, timeout_s):
    """CreateTopics through an AdminClient bootstrapped from `bootstrap`; raises KafkaException
    or a timeout on failure. An "already exists" answer counts as success (an earlier attempt
    may have committed)."""
    admin = AdminClient(client_config(bootstrap, verbose))
    futures = admin.create_topics([NewTopic(name, partitions, replication)],
                                  operation_timeout=timeout_s, request_timeout=timeout_s + 1)
    try:
        futures[name].result(timeout=timeout_s + 2)
    except KafkaException as error:
        if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise


# ---------------------------------------------------------------------------------------------
# The steps


def step_a_start(cluster, results):
    """a. Starts the three nodes and waits until each serves Metadata listing 3 brokers, each
    advertising its own address."""
    print("a. start 3 nodes, wait for Metadata listing 3 brokers on each")
    for node in cluster.nodes.values():
        node.spawn()
    expected = {node.id: node.client for node in cluster.nodes.values()}
    for node in cluster.nodes.values():
        wait_until(lambda n=node: len(metadata(n.client)["brokers"]) == 3, 30,
                   f"node {node.id} listing 3 brokers", cluster)
        results.add("a", f"node {node.id}: Metadata lists 3 brokers (from spawn)",
                    time.monotonic() - node.spawned_at)
    brokers = metadata(cluster.node(1).client)["brokers"]
    if brokers != expected:
        raise AcceptanceFailure(f"advertised brokers {brokers}, expected {expected}")
    print(f"  brokers: {brokers}")


def step_b_create_topic(cluster, results, verbose):
    """b. Creates acc-1 (6 partitions, RF 3) through node 1 and measures when node 2 and node 3
    each list it (from the CreateTopics answer; < 1 s targeted, 10 s allowed)."""
    print("b. create acc-1 (6 partitions, RF 3) through node 1; propagation to nodes 2 and 3")
    admin = AdminClient(client_config(cluster.node(1).client, verbose))
    sent = time.monotonic()
    future = admin.create_topics([NewTopic("acc-1", 6, 3)], operation_timeout=10,
                                 request_timeout=15)["acc-1"]
    watchers = [cluster.node(2), cluster.node(3)]
    seen = {}
    acked = None
    deadline = sent + 15
    while True:
        cluster.check_running()
        now = time.monotonic()
        if acked is None and future.done():
            future.result()  # raises the creation error, if any
            acked = now
            results.add("b", "CreateTopics acc-1 answered by node 1 (from request)", acked - sent)
            deadline = acked + 10
        for node in watchers:
            if node.id not in seen:
                try:
                    if topic_ready(metadata(node.client), "acc-1", 6):
                        seen[node.id] = time.monotonic()
                except OSError:
                    pass
        if acked is not None and len(seen) == len(watchers):
            break
        if now > deadline:
            missing = [n.id for n in watchers if n.id not in seen]
            state = "no CreateTopics answer" if acked is None else f"not on node(s) {missing}"
            raise AcceptanceFailure(f"acc-1: {state} within the bound")
        time.sleep(0.01)
    for node in watchers:
        results.add("b", f"acc-1 listed by node {node.id} (after the answer)",
                    max(0.0, seen[node.id] - acked), target=1.0)


def step_c_leaders(cluster, results):
    """c. Every broker leads at least one partition of acc-1, every partition has 3 replicas."""
    print("c. partition leaders of acc-1")
    md = metadata(cluster.node(1).client)
    partitions = md["topics"]["acc-1"]["partitions"]
    for index, p in sorted(partitions.items()):
        if len(set(p["replicas"])) != 3:
            raise AcceptanceFailure(f"acc-1 partition {index} has replicas {p['replicas']}")
    counts = {node_id: 0 for node_id in NODE_IDS}
    for leader in leaders(md, "acc-1").values():
        counts[leader] = counts.get(leader, 0) + 1
    print(f"  leaders per broker: {counts}")
    idle = [node_id for node_id, count in counts.items() if count == 0]
    if idle:
        raise AcceptanceFailure(f"broker(s) {idle} lead no partition of acc-1")


def step_d_produce_consume(cluster, results, verbose):
    """d. 1000 records with acks=all from a producer bootstrapped from node 2 only, all read
    back by a consumer in group acc-g bootstrapped from node 3 only."""
    print(f"d. produce {RECORDS} records (acks=all) via node 2, consume (group acc-g) via node 3")
    expected = {f"acc-{i:04d}" for i in range(RECORDS)}
    failures = []

    def on_delivery(error, _message):
        if error is not None:
            failures.append(error)

    producer = Producer(client_config(cluster.node(2).client, verbose, acks="all",
                                      **{"linger.ms": 5, "message.timeout.ms": 30000}))
    start = time.monotonic()
    for i in range(RECORDS):
        producer.produce("acc-1", key=f"k{i}", value=f"acc-{i:04d}", on_delivery=on_delivery)
        producer.poll(0)
    remaining = producer.flush(40)
    if remaining or failures:
        raise AcceptanceFailure(f"produce: {remaining} undelivered, errors {failures[:3]}")
    results.add("d", f"{RECORDS} records produced and acknowledged (acks=all)",
                time.monotonic() - start)

    consumer = Consumer(client_config(cluster.node(3).client, verbose, **{
        "group.id": "acc-g", "auto.offset.reset": "earliest", "enable.auto.commit": True}))
    received = []
    start = time.monotonic()
    try:
        consumer.subscribe(["acc-1"])
        while len(received) < RECORDS and time.monotonic() - start < 60:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                if message.error().code() != KafkaError._PARTITION_EOF:
                    print(f"  consumer error: {message.error()}")
                continue
            received.append(message.value().decode())
    finally:
        consumer.close()
    results.add("d", f"{len(received)} records consumed (group acc-g, from subscribe)",
                time.monotonic() - start)
    if len(received) != RECORDS or set(received) != expected:
        missing = len(expected - set(received))
        raise AcceptanceFailure(f"consumed {len(received)} records, {missing} missing, "
                                f"{len(received) - len(set(received))} duplicates")


def step_e_kill_controller(cluster, results, verbose):
    """e. kill -9 of the active controller; time until another node leads the quorum (< 3 s
    targeted), then acc-2 is created through a survivor, retried for up to 10 s. Returns the
    killed node."""
    print("e. kill -9 the active controller")
    controller, term = current_controller(cluster)
    print(f"  active controller: node {controller.id} (term {term})")
    controller.kill9()
    cluster.killed.add(controller.id)
    survivors = cluster.others(controller)
    (successor, new_term), elapsed = wait_until(lambda: leader_among(survivors), 15,
                                                "a new quorum leader", cluster)
    print(f"  new controller: node {successor.id} (term {new_term})")
    results.add("e", "new quorum leader after kill -9 (from the kill)", elapsed, target=3.0)

    # RF 2: until the killed broker is fenced it may or may not count as usable; 2 of the 3
    # are alive either way, so the creation must succeed.
    via = survivors[0]
    attempts = []

    def attempt():
        try:
            create_topic(via.client, "acc-2", 3, 2, verbose, timeout_s=3)
            return True
        except Exception as error:  # NOT_CONTROLLER, timeouts: retry as a client would
            attempts.append(error)
            time.sleep(0.2)
            return False

    _, elapsed = wait_until(attempt, 10, f"creating acc-2 through node {via.id}", cluster)
    print(f"  acc-2 created through node {via.id} after {len(attempts)} failed attempt(s)"
          + (f", last: {attempts[-1]}" if attempts else ""))
    results.add("e", f"CreateTopics acc-2 through node {via.id} succeeded (from first try)",
                elapsed)
    return controller


def step_f_restart(cluster, results, killed):
    """f. Restarts the killed node with its arguments; waits until it lists acc-2 and the 3
    brokers."""
    print(f"f. restart node {killed.id}")
    killed.spawn()
    cluster.killed.discard(killed.id)

    def caught_up():
        md = metadata(killed.client)
        return len(md["brokers"]) == 3 and topic_ready(md, "acc-2", 3)

    _, elapsed = wait_until(caught_up, 30, f"restarted node {killed.id} listing acc-2", cluster)
    results.add("f", f"restarted node {killed.id} lists acc-2 and 3 brokers (from spawn)",
                time.monotonic() - killed.spawned_at)


def step_g_pause_controller(cluster, results):
    """g. SIGSTOP of the controller for 3 s: another node must lead with a higher term within
    that time; after SIGCONT the old controller must report itself follower within 5 s."""
    print("g. SIGSTOP the active controller for 3 s")
    controller, term = current_controller(cluster)
    print(f"  active controller: node {controller.id} (term {term})")
    controller.pause()
    paused_at = time.monotonic()
    try:
        (successor, new_term), elapsed = wait_until(
            lambda: leader_among(cluster.others(controller), min_term=term), 3,
            "a new leader with a higher term while the controller is stopped", cluster)
        print(f"  new controller: node {successor.id} (term {new_term})")
        results.add("g", "new leader with a higher term (from SIGSTOP; bound 3 s)", elapsed)
        time.sleep(max(0.0, 3.0 - (time.monotonic() - paused_at)))
    finally:
        controller.resume()
    _, elapsed = wait_until(lambda: is_follower(controller), 5,
                            f"resumed node {controller.id} reporting petrel_raft_is_leader 0",
                            cluster)
    results.add("g", f"resumed node {controller.id} reports follower (from SIGCONT; bound 5 s)",
                elapsed)


def step_h_fence_broker(cluster, results):
    """h. SIGSTOP of a broker that is not the controller: time until a live node's Metadata no
    longer lists it and every acc-1 partition it led has another leader (about the broker
    session timeout, 9 s); then SIGCONT and time until it is listed again."""
    print("h. SIGSTOP a broker that is not the controller (fencing)")
    controller, _ = current_controller(cluster)
    observer_md = metadata(controller.client)
    led = {}
    for node in cluster.others(controller):
        led[node.id] = [i for i, leader in leaders(observer_md, "acc-1").items()
                        if leader == node.id]
    victim = max(cluster.others(controller), key=lambda n: len(led[n.id]))
    observer = cluster.others(victim)[0]
    its_partitions = led[victim.id]
    print(f"  stopping node {victim.id} (leads acc-1 partitions {its_partitions}); "
          f"observing through node {observer.id}")
    victim.pause()
    try:
        def fenced():
            md = metadata(observer.client)
            moved = all(md["topics"]["acc-1"]["partitions"][i]["leader"] not in (victim.id, -1)
                        for i in its_partitions)
            return victim.id not in md["brokers"] and moved

        _, elapsed = wait_until(fenced, 30, f"node {victim.id} fenced and its partitions moved",
                                cluster, interval_s=0.1)
        results.add("h", f"node {victim.id} fenced, its leaders moved (from SIGSTOP; "
                    f"session {SESSION_TIMEOUT_MS / 1000:g} s)", elapsed)
    finally:
        victim.resume()
    _, elapsed = wait_until(lambda: victim.id in metadata(observer.client)["brokers"], 30,
                            f"node {victim.id} listed again after SIGCONT", cluster,
                            interval_s=0.1)
    results.add("h", f"node {victim.id} unfenced, listed again (from SIGCONT)", elapsed)


# ---------------------------------------------------------------------------------------------
# Main


def parse_args():
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=None,
                        help="petrel binary [default: target/release/petrel, else target/debug/petrel]")
    parser.add_argument("--base-ip", default="127.0.0.",
                        help="node addresses are BASE-IP + 31, 32, 33 [default: 127.0.0.]")
    parser.add_argument("--first-host", type=int, default=31,
                        help="last address byte of node 1 [default: 31]")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary data directory and logs (always kept on failure)")
    parser.add_argument("--verbose", action="store_true", help="show librdkafka's error logs")
    return parser.parse_args()


def find_binary(given):
    """The petrel binary: --bin, else the repository's release build, else its debug build."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates = [given] if given else [os.path.join(repo, "target", kind, "petrel")
                                        for kind in ("release", "debug")]
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    sys.exit(f"no petrel binary at {' or '.join(candidates)}; "
             "build one (cargo build --release --bin petrel) or pass --bin")


def install_exit_handlers(cluster):
    """Stops the nodes at interpreter exit, and turns SIGTERM/SIGHUP into a normal exit so that
    happens for them too."""
    atexit.register(cluster.close)

    def exit_on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGHUP, exit_on_signal)


def main():
    """Runs the steps in order; prints the summary; exits 1 at the first failure."""
    args = parse_args()
    binary = find_binary(args.bin)
    workdir = tempfile.mkdtemp(prefix="petrel-acceptance-")
    cluster = Cluster(binary, args.base_ip, args.first_host, workdir)
    install_exit_handlers(cluster)
    results = Results()
    print(f"binary {binary}; data and logs in {workdir}")
    print("nodes: " + ", ".join(f"{n.id}@{n.ip}" for n in cluster.nodes.values()))
    started = time.monotonic()
    failed = True
    try:
        step_a_start(cluster, results)
        step_b_create_topic(cluster, results, args.verbose)
        step_c_leaders(cluster, results)
        step_d_produce_consume(cluster, results, args.verbose)
        killed = step_e_kill_controller(cluster, results, args.verbose)
        step_f_restart(cluster, results, killed)
        step_g_pause_controller(cluster, results)
        step_h_fence_broker(cluster, results)
        failed = False
    except AcceptanceFailure as failure:
        print(f"\nFAILED: {failure}")
    except KafkaException as error:
        print(f"\nFAILED: client error {error}")
    except KeyboardInterrupt:
        print("\nFAILED: interrupted")
    except Exception:  # a bug here or an answer the parser did not expect: still clean up
        print("\nFAILED: unexpected error")
        traceback.print_exc(file=sys.stdout)
    finally:
        cluster.close()
        results.print_table()
    print(f"\ntotal {time.monotonic() - started:.1f} s")
    if failed:
        for node in cluster.nodes.values():
            print(f"\n--- node {node.id} log tail ({node.log_path}) ---\n{node.log_tail()}")
        print(f"\nacceptance FAILED; data and logs kept in {workdir}")
        return 1
    if args.keep:
        print(f"data and logs kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print("acceptance passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
