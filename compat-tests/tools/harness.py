#!/usr/bin/env python3
"""The compatibility-suite harness behind `compat-tests/run` (see compat-tests/README.md).

Starts one Petrel broker on a free loopback port with a temporary data directory, then for
every client x scenario of SCENARIOS.md creates a fresh 6-partition topic, runs that client's
driver once (bounded in time), and records pass / fail / not-yet-supported. Writes
compat-tests/MATRIX.md (the matrix, pinned client versions, reasons) and
compat-tests/matrix.json (the same, machine-readable); each run's output is kept under
compat-tests/results/. Exit status 1 when a run expected to pass did not.

Expectations live in compat-tests/expected-unsupported.txt: the (client, scenario) pairs whose
driver is expected to answer "unsupported" (exit 77), because the client library itself cannot
do it. Every other pair must pass. A driver that says "unsupported" where that is not expected
fails the run, so a driver cannot quietly give up; an expected-unsupported pair that passes is
reported so the list can shrink.

Standard library only; topics are created with the pinned confluent-kafka venv
(tools/create_topic.py).
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # compat-tests/
VENV_PY = HERE / ".venv" / "bin" / "python"
JAVA_CP = f"{HERE}/java/target/petrel-compat-java.jar:{HERE}/java/target/lib/*"

SCENARIOS = [
    "metadata",
    "produce-consume-none",
    "produce-consume-gzip",
    "produce-consume-snappy",
    "produce-consume-lz4",
    "produce-consume-zstd",
    "key-partitioning",
    "large-record",
    "seek-offset",
    "seek-timestamp",
    "admin",
    "group-rebalance",
    "commit-resume",
    "idempotence",
]

# Per-scenario topic configs the harness sets when it creates the run's topic.
TOPIC_CONFIGS = {"large-record": ["max.message.bytes=200000"]}
PARTITIONS = 6

# Client -> driver command prefix (the harness appends --bootstrap/--scenario/--topic).
CLIENTS = {
    "kcat": ["python3", str(HERE / "kcat" / "driver.py")],
    "confluent-kafka": [str(VENV_PY), str(HERE / "python" / "ck_driver.py")],
    "kafka-python": [str(VENV_PY), str(HERE / "python" / "kp_driver.py")],
    "java": ["java", "-cp", JAVA_CP, "dev.petrel.compat.Driver"],
    "franz-go": [str(HERE / "go" / "bin" / "petrel-compat"), "driver"],
    "sarama": [str(HERE / "sarama" / "bin" / "sarama-driver")],
    "kafkajs": ["node", str(HERE / "node" / "driver.js")],
}

# Features Petrel has not built yet: listed in the matrix, not run.
NOT_YET_SUPPORTED = [
    ("transactions", "Petrel does not implement transactions yet (no issue yet); EndTxn and friends are not advertised in ApiVersions"),
    ("sasl-tls", "Petrel has no SASL or TLS listener yet (no issue yet)"),
    ("replication-failover", "single node only until the Raft/cluster issue (7) and replication land"),
]

UNSUPPORTED_EXIT = 77

# Where a client makes a driver depart from SCENARIOS.md's letter, in the drivers' own words
# (each driver's code comments say more). Printed under the matrix.
CLIENT_NOTES = {
    "kcat": "`kcat -P` puts the same headers (`-H`) on every record of a run, so scenarios "
            "producing many records in one run check one header set per run (allowed by "
            "SCENARIOS.md); kcat cannot set a record timestamp, so `seek-timestamp` uses the "
            "two-halves variant; `commit-resume` relies on librdkafka's auto-commit of what "
            "kcat consumed (kcat has no commit command).",
    "kafka-python": "`send()` refuses a record whose key and value are both null, so the "
                    "driver hands it a placeholder that its value serializer turns into null: "
                    "the client still builds and sends a null-key, null-value record.",
    "kafkajs": "consumers are group-only, so assign+seek reads use a one-member group and "
               "`seek()`; `fetchTopicOffsetsByTimestamp` answers a future timestamp with the "
               "end offset instead of -1; no incremental alter configs (legacy AlterConfigs "
               "is used); zstd through a small codec around @mongodb-js/zstd.",
}


def client_versions():
    """Pinned versions of each client, read from what is installed (not from a list here)."""
    versions = {}

    def run(cmd, cwd=None):
        try:
            return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    kcat = run(["kcat", "-V"])
    m = re.search(r"Version ([0-9.]+).*?librdkafka ([0-9.]+)", kcat, re.S)
    versions["kcat"] = f"kcat {m.group(1)} (librdkafka {m.group(2)}, Debian)" if m else "?"
    py = run([str(VENV_PY), "-c",
              "import confluent_kafka, kafka; print(confluent_kafka.__version__, confluent_kafka.libversion()[0], kafka.__version__)"]).split()
    if len(py) == 3:
        versions["confluent-kafka"] = f"confluent-kafka {py[0]} (librdkafka {py[1]}, PyPI)"
        versions["kafka-python"] = f"kafka-python {py[2]} (PyPI)"
    lib = HERE / "java" / "target" / "lib"
    jars = sorted(p.name for p in lib.glob("kafka-clients-*.jar")) if lib.is_dir() else []
    versions["java"] = (jars[0].removeprefix("kafka-clients-").removesuffix(".jar")
                        if jars else "?")
    versions["java"] = f"kafka-clients {versions['java']} (Maven Central)"
    franz = run(["go", "list", "-m", "-f", "{{.Version}}", "github.com/twmb/franz-go"], cwd=HERE / "go").strip()
    versions["franz-go"] = f"franz-go {franz or '?'} (Go proxy)"
    sarama = run(["go", "list", "-m", "-f", "{{.Version}}", "github.com/IBM/sarama"], cwd=HERE / "sarama").strip()
    versions["sarama"] = f"sarama {sarama or '?'} (Go proxy)"
    try:
        lock = json.loads((HERE / "node" / "package-lock.json").read_text())
        kjs = lock["packages"]["node_modules/kafkajs"]["version"]
    except (OSError, KeyError, ValueError):
        kjs = "?"
    versions["kafkajs"] = f"kafkajs {kjs} (npm)"
    return versions


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(host, port, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def load_expected_unsupported(path):
    expected = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        client, scenario = line.split()[:2]
        expected[(client, scenario)] = True
    return expected


def last_unsupported_reason(output):
    for line in reversed(output.splitlines()):
        if line.startswith("UNSUPPORTED:"):
            return line.removeprefix("UNSUPPORTED:").strip()
    return ""


def run_driver(client, scenario, topic, bootstrap, timeout, log_path):
    cmd = CLIENTS[client] + ["--bootstrap", bootstrap, "--scenario", scenario, "--topic", topic]
    started = time.monotonic()
    # Own process group, so a timeout kills the driver's children (kcat, JVM threads) too.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace", start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        rc = None
    seconds = time.monotonic() - started
    log_path.write_text(f"$ {' '.join(cmd)}\n{output}\n[exit {rc}, {seconds:.1f} s]\n")
    return rc, output, seconds


def outcome_of(rc, output, expected_unsupported, timeout):
    """(status, detail, ok): status is pass / fail / unsupported."""
    if rc == 0:
        if expected_unsupported:
            return "pass", "passes although listed in expected-unsupported.txt: remove it there", True
        return "pass", "", True
    if rc == UNSUPPORTED_EXIT:
        reason = last_unsupported_reason(output) or "driver gave no reason"
        if expected_unsupported:
            return "unsupported", reason, True
        return "fail", f"driver says unsupported, not expected: {reason}", False
    if rc is None:
        return "fail", f"timed out after {timeout} s", False
    tail = [l for l in output.strip().splitlines() if l.strip()][-1:] or [""]
    return "fail", f"exit {rc}: {tail[0][:200]}", False


def start_petrel(binary, host, workdir):
    port, metrics_port = free_port(host), free_port(host)
    data = workdir / "data"
    log = open(workdir / "petrel.log", "w")
    proc = subprocess.Popen(
        [binary, "--data-dir", str(data), "--listen", f"{host}:{port}",
         "--metrics-listen", f"{host}:{metrics_port}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PETREL_")})
    if not wait_for_port(host, port, 20):
        proc.kill()
        sys.exit(f"harness: petrel did not listen on {host}:{port} within 20 s (log: {workdir}/petrel.log)")
    return proc, f"{host}:{port}"


def write_matrix(results, versions, clients, scenarios, broker_version, out_md, out_json, wall_s):
    by_cell = {(r["client"], r["scenario"]): r for r in results}
    symbol = {"pass": "pass", "fail": "**FAIL**", "unsupported": "n/a¹"}
    lines = [
        "# Compatibility matrix",
        "",
        "Generated by `compat-tests/run` — do not edit by hand. Scenarios are defined in",
        "[SCENARIOS.md](SCENARIOS.md); each cell is one run of that client's driver against one",
        f"Petrel broker ({broker_version}), on a fresh 6-partition topic. Wall time {wall_s:.0f} s.",
        "",
        "| scenario | " + " | ".join(clients) + " |",
        "| --- | " + " | ".join("---" for _ in clients) + " |",
    ]
    for scenario in scenarios:
        cells = []
        for client in clients:
            r = by_cell.get((client, scenario))
            cells.append(symbol[r["status"]] if r else "not run")
        lines.append(f"| `{scenario}` | " + " | ".join(cells) + " |")
    for feature, reason in NOT_YET_SUPPORTED:
        lines.append(f"| `{feature}` | " + " | ".join("not yet²" for _ in clients) + " |")
    lines += ["", "## Clients (pinned)", ""]
    lines += [f"- **{c}**: {versions.get(c, '?')}" for c in clients]
    notes = [f"- **{c}**: {CLIENT_NOTES[c]}" for c in clients if c in CLIENT_NOTES]
    if notes:
        lines += ["", "## How drivers adapt to their client", ""] + notes
    lines += ["", "## ¹ Not supported by the client library", ""]
    unsupported = [r for r in results if r["status"] == "unsupported"]
    lines += [f"- {r['client']} / `{r['scenario']}`: {r['detail']}" for r in unsupported] or ["- none"]
    lines += ["", "## ² Not yet supported by Petrel", ""]
    lines += [f"- `{f}`: {reason}" for f, reason in NOT_YET_SUPPORTED]
    failures = [r for r in results if r["status"] == "fail"]
    unexpected_passes = [r for r in results if r["status"] == "pass" and r["detail"]]
    lines += ["", "## Failures", ""]
    lines += [f"- {r['client']} / `{r['scenario']}`: {r['detail']}" for r in failures] or ["- none"]
    if unexpected_passes:
        lines += ["", "## Passing although expected unsupported", ""]
        lines += [f"- {r['client']} / `{r['scenario']}`: {r['detail']}" for r in unexpected_passes]
    out_md.write_text("\n".join(lines) + "\n")
    out_json.write_text(json.dumps({
        "broker": broker_version,
        "clients": {c: versions.get(c, "?") for c in clients},
        "scenarios": scenarios,
        "not_yet_supported": [{"feature": f, "reason": r} for f, r in NOT_YET_SUPPORTED],
        "results": results,
        "passed": sum(r["status"] == "pass" for r in results),
        "failed": len(failures),
        "unsupported": len(unsupported),
    }, indent=2) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--petrel", required=True, help="path of the petrel binary")
    parser.add_argument("--clients", default=",".join(CLIENTS), help="comma-separated subset")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated subset")
    parser.add_argument("--timeout", type=int, default=90, help="seconds per driver run")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--out", default=str(HERE), help="directory for MATRIX.md and matrix.json")
    args = parser.parse_args()
    clients = [c for c in args.clients.split(",") if c]
    scenarios = [s for s in args.scenarios.split(",") if s]
    for c in clients:
        if c not in CLIENTS:
            sys.exit(f"harness: unknown client {c} (known: {', '.join(CLIENTS)})")
    for s in scenarios:
        if s not in SCENARIOS:
            sys.exit(f"harness: unknown scenario {s} (known: {', '.join(SCENARIOS)})")
    expected = load_expected_unsupported(HERE / "expected-unsupported.txt")
    results_dir = HERE / "results"
    shutil.rmtree(results_dir, ignore_errors=True)
    results_dir.mkdir()
    versions = client_versions()
    broker_version = subprocess.run([args.petrel, "--version"], capture_output=True,
                                    text=True).stdout.strip() or "petrel"
    workdir = Path(tempfile.mkdtemp(prefix="petrel-compat-"))
    petrel, bootstrap = start_petrel(args.petrel, args.host, workdir)
    results = []
    started = time.monotonic()
    try:
        for client in clients:
            for scenario in scenarios:
                topic = f"compat-{client}-{scenario}"
                create = subprocess.run(
                    [str(VENV_PY), str(HERE / "tools" / "create_topic.py"), bootstrap, topic,
                     str(PARTITIONS), *TOPIC_CONFIGS.get(scenario, [])],
                    capture_output=True, text=True, timeout=60)
                log_path = results_dir / f"{client}--{scenario}.log"
                if create.returncode != 0:
                    status, detail, ok, seconds = "fail", f"harness could not create {topic}: {create.stderr.strip()[-200:]}", False, 0.0
                    log_path.write_text(create.stdout + create.stderr)
                else:
                    rc, output, seconds = run_driver(client, scenario, topic, bootstrap,
                                                     args.timeout, log_path)
                    status, detail, ok = outcome_of(rc, output, (client, scenario) in expected,
                                                    args.timeout)
                if petrel.poll() is not None:
                    status, detail, ok = "fail", f"petrel exited ({petrel.returncode}) during this run", False
                results.append({"client": client, "scenario": scenario, "status": status,
                                "detail": detail, "ok": ok, "seconds": round(seconds, 1),
                                "log": str(log_path.relative_to(HERE))})
                mark = "PASS" if status == "pass" else ("N/A " if status == "unsupported" and ok else "FAIL")
                print(f"{mark} {client:16} {scenario:22} {seconds:5.1f}s {detail}", flush=True)
                if petrel.poll() is not None:
                    break
            if petrel.poll() is not None:
                break
    finally:
        if petrel.poll() is None:
            petrel.send_signal(signal.SIGTERM)
            try:
                petrel.wait(15)
            except subprocess.TimeoutExpired:
                petrel.kill()
        shutil.copy(workdir / "petrel.log", results_dir / "petrel.log")
        shutil.rmtree(workdir, ignore_errors=True)
    wall = time.monotonic() - started
    out = Path(args.out)
    write_matrix(results, versions, clients, scenarios, broker_version,
                 out / "MATRIX.md", out / "matrix.json", wall)
    bad = [r for r in results if not r["ok"]]
    print(f"\n{len(results)} runs in {wall:.0f} s: "
          f"{sum(r['status'] == 'pass' for r in results)} pass, "
          f"{sum(r['status'] == 'unsupported' for r in results)} not supported by the client, "
          f"{len(bad)} unexpected; matrix in {out / 'MATRIX.md'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
