#!/usr/bin/env python3
"""Petrel side by side with Apache Kafka on this machine, in one run (issue 8).

Run through bench.sh (installs, then runs this with the benchmark's own venv python):

    compat-tests/bench/kafka/bench.sh [--rounds 3] [--records 1000000] [--quick] ...

Three broker set-ups run on one loopback address (default 127.0.0.28), one at a time, each
from a fresh temp data dir: Kafka, Petrel (default: fsync before answering acks=all) and
Petrel with --fsync-acks-all false (acks=all answered from the page cache, as Kafka does by
default; only acks=all workloads, since acks=1 is the same in both Petrel set-ups). Every
workload uses Kafka's own Java tools (kafka-tools, same release as the broker) and
librdkafka's rdkafka_performance with their defaults except the options named here, against
every set-up. Rounds rotate which set-up goes first. Two phases:

  1. "throughput" sessions (one broker start per round per broker):
     - produce at max rate: ProducerPerformance --throughput -1 --num-records RECORDS
       --record-size 1024, acks=1 and acks=all, on fresh topics of 1/6/32 partitions;
       Kafka twice: its default (no fsync) and a topic with flush.messages=1 (fsync per append)
     - the same with rdkafka_performance -P (its defaults, e.g. linger.ms 1000)
     - consume: ConsumerPerformance of the acks=1 default topic of each partition count
       (RECORDS records): "cold" right after sync + drop_caches (if /proc/sys/vm/drop_caches
       is writable), then "warm" (second read, page cache hot)
  2. "latency" sessions: ProducerPerformance at a fixed rate = LATENCY_FRACTION (0.5) x Kafka
     (default) median max records/s of phase 1 for the same acks/partitions, for
     LATENCY_SECONDS; its percentiles are send-to-acknowledgement (produce) latency, NOT end to
     end. EndToEndLatency sends one record, waits until its consumer sees it, then sends the
     next (one in flight, no fixed rate). End to end at a fixed rate comes from a pair of
     rdkafka_performance -l processes: a consumer (-C, every partition, from the beginning)
     and a producer at -r R' records/s (R' = LATENCY_FRACTION x Kafka's median
     rdkafka_performance max rate, linger.ms 5 = librdkafka's own default instead of the
     tool's 1000) whose payloads carry the send time; the consumer writes every record's
     produce -> consume latency (us) to a file, and its percentiles are computed here after
     leaving out the first second's worth of records (connection set-up).
Per broker session: start-up time (launch -> first answered Metadata, metadata_probe.py), RSS
at idle (3 s after start) and max RSS under load (sampled every 100 ms during produce runs),
CPU seconds (utime+stime from /proc/PID/stat) per GB produced in each max-rate run.
Machine limits, same run: loopback TCP throughput (one connection, 1 MiB sends) and
sequential write + fdatasync at 16 KiB (the producer's default batch.size, which both
brokers receive) and at 1 MiB, on the file system holding the brokers' data.

Writes results.json (every raw figure), BENCHMARKS.md (medians, min-max spread, ratios) and
PNG charts next to this file.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.dirname(os.path.dirname(HERE))
PROBE = os.path.join(COMPAT, "tools", "metadata_probe.py")
RUN_BROKER = os.path.join(HERE, "run_broker.sh")
RECORD_SIZE = 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The JVM options of Kafka's bin/kafka-producer-perf-test.sh etc. (512 MiB heap), for every tool.
TOOL_JAVA = ["java", "-Xmx512M", "-Dlog4j2.configurationFile=" + os.path.join(HERE, "tools-log4j2.properties"),
             "-cp", os.path.join(HERE, "lib", "*")]
# librdkafka's rdkafka_performance, built by compat-tests/librdkafka (optional extra client).
RDKAFKA_PERF_GLOB_ROOT = os.path.join(COMPAT, "librdkafka", "build")

# Broker set-ups: the extra command-line flags of each (run_broker.sh). Kafka's fsync choice is
# a topic config (a variant below); Petrel's is a broker flag, hence two Petrel set-ups.
BROKER_FLAGS = {
    "kafka": [],
    "petrel": [],
    "petrel-nofsync": ["--fsync-acks-all", "false"],
}
# Variants: (variant name, broker set-up, topic configs, acks it runs or None for all).
# Petrel never fsyncs for acks=1, so the no-fsync set-up only runs acks=all.
VARIANTS = [
    ("kafka", "kafka", {}, None),
    ("kafka-flush", "kafka", {"flush.messages": "1"}, None),
    ("petrel", "petrel", {}, None),
    ("petrel-nofsync", "petrel-nofsync", {}, ["all"]),
]

children = []  # every Popen we started and have not reaped, for cleanup on exit/signal


def log(msg):
    print(f"[{datetime.datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def run_tool(args, timeout):
    """Runs a client tool in its own process group; returns (rc, stdout+stderr text)."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    children.append(proc)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        out += f"\n[bench.py: killed after {timeout} s timeout]"
        proc.returncode = 124
    finally:
        children.remove(proc)
    return proc.returncode, out


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def proc_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RssSampler:
    """Max VmRSS of a process, sampled every 100 ms while active."""

    def __init__(self, pid):
        self.pid, self.max_kib, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.max_kib = max(self.max_kib, proc_rss_kib(self.pid))
            except OSError:
                return
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class Broker:
    """One broker process (Kafka or Petrel) on HOST, from a fresh temp dir."""

    def __init__(self, kind, host, workdir):
        self.kind, self.host = kind, host
        self.dir = tempfile.mkdtemp(prefix=f"bench-{kind}-", dir=workdir)
        self.port = 19092 if kind == "kafka" else 29092
        self.admin = None
        self.bootstrap = f"{host}:{self.port}"
        self.proc = None

    def start(self):
        if self.kind == "kafka":
            rc, out = run_tool([RUN_BROKER, "kafka-format", self.dir, self.host, str(self.port), "19093"], 120)
            if rc != 0:
                raise RuntimeError(f"kafka storage format failed:\n{out}")
            args = [RUN_BROKER, "kafka", self.dir]
        else:
            args = [RUN_BROKER, "petrel", self.dir, self.host, str(self.port), "29464"] + BROKER_FLAGS[self.kind]
        logf = open(os.path.join(self.dir, "broker.out"), "w")
        start_ns = time.time_ns()
        self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        children.append(self.proc)
        rc, out = run_tool([sys.executable, PROBE, self.bootstrap, "--wait", "60", "--since-ns", str(start_ns)], 70)
        m = re.search(r"first Metadata after (\d+) ms", out)
        if rc != 0 or not m:
            raise RuntimeError(f"{self.kind} did not answer Metadata: {out}\n{self.tail_log()}")
        self.startup_ms = int(m.group(1))
        from confluent_kafka.admin import AdminClient
        # log.connection.close off: the broker's stop at the end of a session is expected.
        self.admin = AdminClient({"bootstrap.servers": self.bootstrap, "log.connection.close": False})
        return self.startup_ms

    def tail_log(self):
        try:
            with open(os.path.join(self.dir, "broker.out")) as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def stop(self):
        self.admin = None  # its connections go before the broker does
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                log(f"{self.kind} still running 30 s after SIGTERM: SIGKILL")
                self.proc.kill()
                self.proc.wait()
        if self.proc in children:
            children.remove(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)

    def create_topic(self, topic, partitions, configs):
        # An AdminClient (confluent-kafka) rather than a TopicCommand JVM per topic: topic
        # handling is not measured, and a JVM start per topic cost minutes per run.
        from confluent_kafka.admin import NewTopic
        futures = self.admin.create_topics([NewTopic(topic, partitions, 1, config=dict(configs))],
                                           operation_timeout=30, request_timeout=60)
        futures[topic].result(timeout=90)

    def delete_topic(self, topic):
        """Deletes a topic whose data is no longer needed, so a run's disk use stays bounded."""
        futures = self.admin.delete_topics([topic], operation_timeout=30, request_timeout=60)
        try:
            futures[topic].result(timeout=90)
        except Exception as e:  # noqa: BLE001 - disk space only; the run goes on
            log(f"  (deleting {topic} on {self.kind} failed: {e})")


PERF_RE = re.compile(
    r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, "
    r"([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th")


def producer_perf(bootstrap, topic, records, acks, throughput, timeout):
    rc, out = run_tool(TOOL_JAVA + [
        "org.apache.kafka.tools.ProducerPerformance", "--bootstrap-server", bootstrap, "--topic", topic,
        "--num-records", str(records), "--record-size", str(RECORD_SIZE), "--throughput", str(throughput),
        "--command-property", f"acks={acks}"], timeout)
    matches = PERF_RE.findall(out)
    if rc != 0 or not matches:
        return {"error": out[-2000:]}
    g = matches[-1]
    return {"records": int(g[0]), "records_per_s": float(g[1]), "mib_per_s": float(g[2]),
            "lat_avg_ms": float(g[3]), "lat_max_ms": float(g[4]), "lat_p50_ms": int(g[5]),
            "lat_p95_ms": int(g[6]), "lat_p99_ms": int(g[7]), "lat_p999_ms": int(g[8])}


def consumer_perf(bootstrap, topic, records, timeout):
    rc, out = run_tool(TOOL_JAVA + [
        "org.apache.kafka.tools.ConsumerPerformance", "--bootstrap-server", bootstrap, "--topic", topic,
        "--num-records", str(records), "--timeout", "30000"], timeout)
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("start.time") and i + 1 < len(lines):
            values = [v.strip() for v in lines[i + 1].split(",")]
            names = [n.strip() for n in line.split(",")]
            row = dict(zip(names, values))
            try:
                result = {"mib": float(row["data.consumed.in.MB"]), "mib_per_s": float(row["MB.sec"]),
                          "records": int(row["data.consumed.in.nMsg"]),
                          "records_per_s": float(row["nMsg.sec"]),
                          "rebalance_ms": int(row["rebalance.time.ms"]), "fetch_ms": int(row["fetch.time.ms"]),
                          "fetch_mib_per_s": float(row["fetch.MB.sec"])}
            except (KeyError, ValueError):
                break
            if result["records"] < records or rc != 0:
                result["error"] = f"consumed {result['records']} of {records}: " + out[-1000:]
            return result
    return {"error": out[-2000:]}


def end_to_end(bootstrap, topic, records, acks, timeout):
    rc, out = run_tool(TOOL_JAVA + [
        "org.apache.kafka.tools.EndToEndLatency", "--bootstrap-server", bootstrap, "--topic", topic,
        "--num-records", str(records), "--producer-acks", acks, "--record-size", str(RECORD_SIZE)], timeout)
    avg = re.search(r"Avg latency: ([\d.]+) ms", out)
    pct = re.search(r"Percentiles: 50th = (\d+), 99th = (\d+), 99\.9th = (\d+)", out)
    if rc != 0 or not avg or not pct:
        return {"error": out[-2000:]}
    return {"e2e_avg_ms": float(avg.group(1)), "e2e_p50_ms": int(pct.group(1)),
            "e2e_p99_ms": int(pct.group(2)), "e2e_p999_ms": int(pct.group(3))}


def find_rdkafka_performance():
    for root, _dirs, files in os.walk(RDKAFKA_PERF_GLOB_ROOT):
        if "rdkafka_performance" in files and root.endswith("examples"):
            path = os.path.join(root, "rdkafka_performance")
            if os.access(path, os.X_OK):
                return path
    return None


def rdkafka_perf(binary, bootstrap, topic, records, acks, timeout):
    # -P produce, -s size, -c count, -a required acks; librdkafka's own defaults otherwise.
    rc, out = run_tool([binary, "-P", "-t", topic, "-b", bootstrap, "-s", str(RECORD_SIZE), "-c", str(records),
                        "-a", "-1" if acks == "all" else acks, "-q"], timeout)
    # Its closing summary: "% N messages produced (B bytes), D delivered (offset O, F failed) in T ms:
    # R msgs/s and M MB/s, ..." (R counts delivered messages). Untested here so far: see README.md.
    m = re.findall(r"(\d+) messages produced \((\d+) bytes\), (\d+) delivered \(offset -?\d+, (\d+) failed\) "
                   r"in (\d+)ms: (\d+) msgs/s", out)
    if rc != 0 or not m:
        return {"error": out[-2000:]}
    produced, _bytes, delivered, failed, _ms, rate = (int(x) for x in m[-1])
    result = {"records": delivered, "records_per_s": float(rate), "mib_per_s": rate * RECORD_SIZE / 2**20}
    if failed or delivered < records:
        result["error"] = f"{delivered} of {records} delivered, {failed} failed: " + out[-1000:]
    return result


def percentile(sorted_values, q):
    """Nearest-rank percentile (q in 0..100) of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil(n * q / 100)
    return sorted_values[int(min(rank, len(sorted_values))) - 1]


def rdkafka_e2e(binary, bootstrap, topic, partitions, acks, rate, seconds, timeout, workdir):
    """Produce -> consume latency at a fixed rate with two rdkafka_performance -l processes.

    The producer (-P -r RATE -l) puts its send time (wall clock, us) in every payload; the
    consumer (-C on every partition from the beginning, -l -A FILE) writes now - send time for
    each record to FILE. linger.ms=5 is librdkafka's own default; rdkafka_performance's 1000
    would make every figure ~a batch-fill time (measured: a 200 ms saw-tooth at 4k rec/s).
    """
    n = max(1, int(rate * seconds))
    lat_file = os.path.join(workdir, f"latency-{topic}.txt")
    consumer_args = [binary, "-C", "-t", topic, "-b", bootstrap, "-o", "beginning", "-c", str(n),
                     "-l", "-A", lat_file, "-q"]
    for p in range(partitions):
        consumer_args += ["-p", str(p)]
    consumer = subprocess.Popen(consumer_args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
    children.append(consumer)
    try:
        time.sleep(2)  # connected and fetching before the first record is sent
        rc, out = run_tool([binary, "-P", "-t", topic, "-b", bootstrap, "-s", str(RECORD_SIZE), "-c", str(n),
                            "-a", "-1" if acks == "all" else acks, "-r", str(int(rate)), "-l", "-q",
                            "-X", "linger.ms=5"], timeout)
        try:
            c_out, _ = consumer.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(consumer.pid, signal.SIGKILL)
            c_out, _ = consumer.communicate()
            c_out += "\n[bench.py: consumer killed 60 s after the producer ended]"
    finally:
        if consumer.poll() is None:
            os.killpg(consumer.pid, signal.SIGKILL)
            consumer.wait()
        children.remove(consumer)
    try:
        with open(lat_file) as f:
            latencies_us = [int(line) for line in f if line.strip()]
        os.unlink(lat_file)
    except (OSError, ValueError):
        latencies_us = []
    produced = re.findall(r"(\d+) messages produced \(\d+ bytes\), (\d+) delivered \(offset -?\d+, (\d+) "
                          r"failed\) in (\d+)ms: (\d+) msgs/s", out)
    result = {"target_records_per_s": int(rate), "records": len(latencies_us)}
    if produced:
        result["records_per_s"] = float(produced[-1][4])
    # Leave out the first second's worth of records: they include the producer's connection
    # and metadata set-up, the same for both brokers.
    steady = sorted(latencies_us[int(rate):])
    if rc != 0 or consumer.returncode != 0 or len(latencies_us) < n or not produced or not steady:
        result["error"] = (f"producer rc {rc}, consumer rc {consumer.returncode}, {len(latencies_us)} of {n} "
                           f"latencies:\n{out[-1000:]}\n{c_out[-1000:]}")
    if steady:
        result.update({f"e2e_{name}_ms": percentile(steady, q) / 1000
                       for name, q in (("p50", 50), ("p99", 99), ("p999", 99.9))})
        result["e2e_max_ms"] = steady[-1] / 1000
        result["e2e_avg_ms"] = statistics.fmean(steady) / 1000
    return result


def drop_caches():
    subprocess.run(["sync"], timeout=300)
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------- machine limits

def loopback_tcp(host, seconds=3.0):
    """One TCP connection over loopback, 1 MiB sendall()s for SECONDS; receiver in a child process."""
    import multiprocessing
    srv = socket.socket()
    srv.bind((host, 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def receive(sock):
        conn, _ = sock.accept()
        buf = bytearray(1 << 20)
        while conn.recv_into(buf):
            pass

    child = multiprocessing.get_context("fork").Process(target=receive, args=(srv,))
    child.start()
    srv.close()
    data = b"\0" * (1 << 20)
    sent = 0
    with socket.create_connection((host, port)) as c:
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            c.sendall(data)
            sent += len(data)
        c.shutdown(socket.SHUT_WR)
        elapsed = time.monotonic() - start
    child.join(30)
    if child.is_alive():
        child.kill()
    return {"mib_per_s": sent / elapsed / 2**20, "seconds": elapsed}


def write_fdatasync(directory, block, seconds=3.0):
    """Sequential write(BLOCK) + fdatasync, repeated for SECONDS, into a new file in DIRECTORY."""
    path = os.path.join(directory, f"fdatasync-{block}.bin")
    data = os.urandom(block)
    n = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            os.write(fd, data)
            os.fdatasync(fd)
            n += 1
        elapsed = time.monotonic() - start
    finally:
        os.close(fd)
        os.unlink(path)
    return {"block_bytes": block, "writes_per_s": n / elapsed, "mib_per_s": n * block / elapsed / 2**20}


# ---------------------------------------------------------------- the run

def variants_of(kind, acks):
    """The variants a broker set-up runs for ACKS."""
    return [(name, cfg) for name, k, cfg, only in VARIANTS if k == kind and (only is None or acks in only)]


def record(results, r, what, summary):
    """Keeps run result R and logs it: `summary(r)` when it has figures, its error otherwise."""
    results.append(r)
    log(f"  {what}: " + (summary(r) if "error" not in r else "ERROR " + r["error"][-300:]))


def produced(r):
    return f"{r['mib_per_s']:.1f} MiB/s" + (f", broker CPU {r['broker_cpu_s']:.1f} s" if "broker_cpu_s" in r else "")


def throughput_session(broker, rnd, cfg, results, rdkafka):
    pid = broker.proc.pid
    consume_topics = {}  # partitions -> the acks=1 topic of this set-up's first variant
    with RssSampler(pid) as rss:
        for acks in cfg.acks:
            for parts in cfg.partitions:
                for index, (variant, topic_cfg) in enumerate(variants_of(broker.kind, acks)):
                    topic = f"max-{variant}-acks{acks}-p{parts}-r{rnd}"
                    broker.create_topic(topic, parts, topic_cfg)
                    cpu0 = proc_cpu_seconds(pid)
                    r = producer_perf(broker.bootstrap, topic, cfg.records, acks, -1, cfg.timeout)
                    cpu = proc_cpu_seconds(pid) - cpu0
                    r.update(workload="produce-max", client="java", variant=variant, acks=acks, partitions=parts,
                             round=rnd, broker_cpu_s=cpu,
                             cpu_s_per_gb=cpu / (cfg.records * RECORD_SIZE / 1e9))
                    record(results, r, f"produce-max java {variant} acks={acks} p={parts}", produced)
                    if acks == "1" and index == 0:
                        consume_topics[parts] = (variant, topic)
                    else:
                        broker.delete_topic(topic)
                    if rdkafka:
                        topic = f"rdk-{variant}-acks{acks}-p{parts}-r{rnd}"
                        broker.create_topic(topic, parts, topic_cfg)
                        r = rdkafka_perf(rdkafka, broker.bootstrap, topic, cfg.records, acks, cfg.timeout)
                        r.update(workload="produce-max", client="rdkafka", variant=variant, acks=acks,
                                 partitions=parts, round=rnd)
                        record(results, r, f"produce-max rdkafka {variant} acks={acks} p={parts}", produced)
                        broker.delete_topic(topic)
    session = {"rss_load_kib": rss.max_kib}
    # Consume: the acks=1 topic of the set-up's default variant, RECORDS records of 1 KiB.
    for parts, (variant, topic) in sorted(consume_topics.items()):
        for temp in ("cold", "warm"):
            dropped = drop_caches() if temp == "cold" else None
            r = consumer_perf(broker.bootstrap, topic, cfg.records, cfg.timeout)
            r.update(workload=f"consume-{temp}", client="java", variant=variant, partitions=parts, round=rnd,
                     caches_dropped=dropped)
            record(results, r, f"consume-{temp} {variant} p={parts}",
                   lambda r: f"{r['mib_per_s']:.1f} MiB/s (fetch {r['fetch_mib_per_s']:.1f})")
        broker.delete_topic(topic)
    return session


def kafka_max_rates(results, client):
    """Kafka's (default variant) median max records/s per (acks, partitions) for CLIENT."""
    rates = {}
    for r in results:
        if r.get("workload") == "produce-max" and r.get("client") == client and r["variant"] == "kafka" \
                and "error" not in r:
            rates.setdefault((r["acks"], r["partitions"]), []).append(r["records_per_s"])
    return {k: statistics.median(v) for k, v in rates.items()}


def latency_session(broker, rnd, cfg, results, rates, rdkafka, rdkafka_rates, workdir):
    pid = broker.proc.pid
    with RssSampler(pid) as rss:
        for acks in cfg.acks:
            for parts in cfg.partitions:
                rate = rates.get((acks, parts))
                rdk_rate = rdkafka_rates.get((acks, parts))
                for variant, topic_cfg in variants_of(broker.kind, acks):
                    if rate:
                        topic = f"rate-{variant}-acks{acks}-p{parts}-r{rnd}"
                        broker.create_topic(topic, parts, topic_cfg)
                        n = max(1, int(rate * cfg.latency_seconds))
                        r = producer_perf(broker.bootstrap, topic, n, acks, int(rate), cfg.timeout)
                        r.update(workload="produce-rate", client="java", variant=variant, acks=acks,
                                 partitions=parts, round=rnd, target_records_per_s=int(rate))
                        record(results, r, f"produce-rate java {variant} acks={acks} p={parts} @{int(rate)}/s",
                               lambda r: f"p50 {r['lat_p50_ms']} p99 {r['lat_p99_ms']} p99.9 {r['lat_p999_ms']} ms")
                        broker.delete_topic(topic)
                    topic = f"e2e-{variant}-acks{acks}-p{parts}-r{rnd}"
                    broker.create_topic(topic, parts, topic_cfg)
                    r = end_to_end(broker.bootstrap, topic, cfg.e2e_records, acks, cfg.timeout)
                    r.update(workload="end-to-end", client="java", variant=variant, acks=acks, partitions=parts,
                             round=rnd)
                    record(results, r, f"end-to-end java {variant} acks={acks} p={parts}",
                           lambda r: f"avg {r['e2e_avg_ms']:.3f} p99 {r['e2e_p99_ms']} ms")
                    broker.delete_topic(topic)
                    if rdkafka and rdk_rate:
                        topic = f"e2e-rate-{variant}-acks{acks}-p{parts}-r{rnd}"
                        broker.create_topic(topic, parts, topic_cfg)
                        r = rdkafka_e2e(rdkafka, broker.bootstrap, topic, parts, acks, rdk_rate, cfg.latency_seconds,
                                        cfg.timeout, workdir)
                        r.update(workload="e2e-rate", client="rdkafka", variant=variant, acks=acks,
                                 partitions=parts, round=rnd)
                        record(results, r, f"e2e-rate rdkafka {variant} acks={acks} p={parts} @{int(rdk_rate)}/s",
                               lambda r: f"p50 {r['e2e_p50_ms']:.1f} p99 {r['e2e_p99_ms']:.1f} "
                                         f"p99.9 {r['e2e_p999_ms']:.1f} ms")
                        broker.delete_topic(topic)
    return {"rss_load_kib": rss.max_kib}


def run_session(kind, phase, rnd, cfg, workdir, results, sessions, fn, *args):
    broker = Broker(kind, cfg.host, workdir)
    try:
        run_session_on(broker, kind, phase, rnd, cfg, results, sessions, fn, *args)
    except Exception as e:  # noqa: BLE001 - one broken session must not lose an hour of results
        log(f"{phase} round {rnd}: {kind} session failed: {e}")
        results.append({"workload": f"{phase}-session", "variant": kind, "round": rnd, "partitions": "–",
                        "error": str(e)[-2000:]})
    finally:
        broker.stop()


def run_session_on(broker, kind, phase, rnd, cfg, results, sessions, fn, *args):
    """Starts BROKER, measures start-up and idle RSS, warms it up, then runs FN on it."""
    startup = broker.start()
    time.sleep(3)
    idle = proc_rss_kib(broker.proc.pid)
    log(f"{phase} round {rnd}: {kind} up in {startup} ms, idle RSS {idle / 1024:.0f} MiB")
    if cfg.warmup_records:
        # Untimed, the same for every set-up: a fresh JVM (Kafka) runs interpreted code at
        # first; without this the first timed run of each Kafka session measures JIT warm-up.
        broker.create_topic("warmup", 6, {})
        r = producer_perf(broker.bootstrap, "warmup", cfg.warmup_records, "1", -1, cfg.timeout)
        if "error" in r:
            raise RuntimeError(f"warm-up produce to {kind} failed: {r['error']}")
        broker.delete_topic("warmup")
    s = fn(broker, rnd, cfg, results, *args)
    s.update(broker=kind, phase=phase, round=rnd, startup_ms=startup, rss_idle_kib=idle)
    sessions.append(s)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--records", type=int, default=500_000, help="records per max-rate produce run (1 KiB each)")
    ap.add_argument("--warmup-records", type=int, default=100_000,
                    help="untimed produce (acks=1, 6 partitions) after each broker start, 0 = none")
    ap.add_argument("--latency-seconds", type=float, default=10.0, help="length of each fixed-rate run")
    ap.add_argument("--latency-fraction", type=float, default=0.5, help="fixed rate as a fraction of Kafka's max")
    ap.add_argument("--e2e-records", type=int, default=2000, help="records per EndToEndLatency run")
    ap.add_argument("--partitions", default="1,6,32")
    ap.add_argument("--acks", default="1,all")
    ap.add_argument("--host", default="127.0.0.28")
    ap.add_argument("--timeout", type=int, default=900, help="bound on each client run, seconds")
    ap.add_argument("--out", default=HERE, help="where BENCHMARKS.md, results.json and the PNGs go")
    ap.add_argument("--no-rdkafka", action="store_true", help="skip rdkafka_performance even if built")
    cfg = ap.parse_args()
    cfg.partitions = [int(p) for p in cfg.partitions.split(",")]
    cfg.acks = cfg.acks.split(",")

    workdir = tempfile.mkdtemp(prefix="petrel-vs-kafka-")
    started = time.time()
    results, sessions = [], []
    rdkafka = None if cfg.no_rdkafka else find_rdkafka_performance()
    petrel_bin = os.environ.get("PETREL_BIN", "/tmp/petrel-bin/petrel")
    meta = {
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": cfg.host, "rounds": cfg.rounds, "records": cfg.records, "record_size": RECORD_SIZE,
        "latency_seconds": cfg.latency_seconds, "latency_fraction": cfg.latency_fraction,
        "e2e_records": cfg.e2e_records, "warmup_records": cfg.warmup_records, "partitions": cfg.partitions, "acks": cfg.acks,
        "kafka_version": next((f[len("kafka_2.13-"):-4] for f in os.listdir(os.path.join(HERE, "lib"))
                               if f.startswith("kafka_2.13-")), "?"),
        "petrel_bin": petrel_bin,
        "petrel_version": subprocess.run([petrel_bin, "--version"], capture_output=True, text=True).stdout.strip(),
        "rdkafka_performance": rdkafka,
        "cpus": os.cpu_count(), "kernel": os.uname().release,
        "cpu_model": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
        "mem_total_kib": next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0),
    }
    try:
        log(f"machine limits (temp dir {workdir})")
        limits = {"loopback_tcp": loopback_tcp(cfg.host),
                  "fdatasync_16k": write_fdatasync(workdir, 16384),
                  "fdatasync_1m": write_fdatasync(workdir, 1 << 20)}
        log(f"  loopback {limits['loopback_tcp']['mib_per_s']:.0f} MiB/s; write+fdatasync 16 KiB "
            f"{limits['fdatasync_16k']['writes_per_s']:.0f}/s ({limits['fdatasync_16k']['mib_per_s']:.1f} MiB/s), "
            f"1 MiB {limits['fdatasync_1m']['mib_per_s']:.0f} MiB/s")
        kinds = ["kafka", "petrel"] + (["petrel-nofsync"] if "all" in cfg.acks else [])

        def rotated(rnd):  # round r starts with set-up r mod n: each goes first equally often
            return kinds[rnd % len(kinds):] + kinds[:rnd % len(kinds)]

        for rnd in range(cfg.rounds):
            for kind in rotated(rnd):
                run_session(kind, "throughput", rnd, cfg, workdir, results, sessions, throughput_session, rdkafka)
        rates = {k: v * cfg.latency_fraction for k, v in kafka_max_rates(results, "java").items()}
        rdkafka_rates = {k: v * cfg.latency_fraction for k, v in kafka_max_rates(results, "rdkafka").items()}
        meta["fixed_rates"] = {f"acks={a} p={p}": int(v) for (a, p), v in rates.items()}
        meta["fixed_rates_rdkafka"] = {f"acks={a} p={p}": int(v) for (a, p), v in rdkafka_rates.items()}
        for rnd in range(cfg.rounds):
            for kind in rotated(rnd):
                run_session(kind, "latency", rnd, cfg, workdir, results, sessions, latency_session, rates,
                            rdkafka, rdkafka_rates, workdir)
    finally:
        for proc in list(children):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(workdir, ignore_errors=True)
    meta["duration_s"] = round(time.time() - started)
    doc = {"meta": meta, "machine_limits": limits, "sessions": sessions, "runs": results}
    with open(os.path.join(cfg.out, "results.json"), "w") as f:
        json.dump(doc, f, indent=1)
    import report
    report.write(doc, cfg.out)
    log(f"done in {meta['duration_s']} s: {os.path.join(cfg.out, 'BENCHMARKS.md')}")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
