#!/usr/bin/env python3
"""Golden-byte capture: records the request frames that 7 stock Kafka clients send while
they run the compatibility scenarios, and keeps the first frame of every (client, API,
version) as a test fixture for protocol/tests/golden.rs. Run it through capture.sh:

  compat-tests/capture/capture.sh --petrel BINARY [FIXTURES_DIR]
  compat-tests/capture/capture.sh UPSTREAM [FIXTURES_DIR]

--petrel starts BINARY on free CAPTURE_HOST ports with a temporary data dir, advertising the
proxy's address, so every connection a client opens goes through the proxy. UPSTREAM is a
broker already running; unless it advertises CAPTURE_HOST:PROXY_PORT and PROXY_PORT is set,
clients' later connections bypass the proxy and only first connections are captured.
FIXTURES_DIR defaults to protocol/tests/fixtures.

Per client (label = fixture name prefix), one capture_proxy.py instance records everything
while it runs, in order: the client's small describe command (kcat -L, list_topics.py,
kafka_python_describe.py, Java DescribeCluster; these gave the first fixtures, and going
first keeps those frames), then its scenario driver (compat-tests/SCENARIOS.md, invoked as
tools/harness.py's CLIENTS table says) for each of CAPTURE_SCENARIOS. Topics are created
beforehand with tools/create_topic.py, directly against the broker, so the tool's own
frames are not recorded.

Kept as FIXTURES_DIR/<label>-<Api>-v<version>.bin (whole frame, length prefix included):
the first frame of each (label, API, version) whose API and version the broker listed in
its ApiVersions answer to that client, plus ApiVersions requests newer than listed (the
KIP-511 fallback path), at most 256 KiB each. A client that captured frames has its old
fixtures replaced; one that captured nothing keeps them. CAPTURED.txt lists every fixture
with its size and sha256, and the client versions.

Env: CAPTURE_HOST (default 127.0.0.1), PROXY_PORT (UPSTREAM mode), CAPTURE_CLIENTS and
CAPTURE_SCENARIOS (comma-separated subsets), CAPTURE_TIMEOUT (seconds per command, default
90), KEEP_RAW=DIR keeps every captured frame, .resp.bin responses included.
Exit 1 when a client captured nothing, the broker's ApiVersions answer was unreadable, or a
command failed or timed out (a driver's 77, "unsupported", is fine); the fixtures are written
from whatever was captured all the same, so check the summary before keeping them.
"""
import datetime
import hashlib
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
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent  # compat-tests/capture
CT = HERE.parent
REPO = CT.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(CT / "tools"))
import capture_proxy  # noqa: E402  (API name table, shared with the proxy)
import harness  # noqa: E402  (driver command lines and pinned client versions)

PY = str(CT / ".venv" / "bin" / "python")
JAVA_CP = f"{CT}/java/target/petrel-compat-java.jar:{CT}/java/target/lib/*"
MAX_FIXTURE = 256 * 1024
DEFAULT_SCENARIOS = "metadata,seek-timestamp,commit-resume,admin,idempotence"

# label -> (client name in harness.CLIENTS, describe command run first, or None).
# "librdkafka" is confluent-kafka-python: the label predates the scenario drivers, and
# fixture names stay stable.
CLIENTS = {
    "kcat": ("kcat", lambda a: ["kcat", "-L", "-m", "15", "-b", a]),
    "librdkafka": ("confluent-kafka", lambda a: [PY, str(CT / "python" / "list_topics.py"), a]),
    "kafka-python": ("kafka-python",
                     lambda a: [PY, str(CT / "python" / "kafka_python_describe.py"), a]),
    "java": ("java", lambda a: ["java", "-cp", JAVA_CP, "dev.petrel.compat.DescribeCluster", a]),
    "franz-go": ("franz-go", None),
    "sarama": ("sarama", None),
    "kafkajs": ("kafkajs", None),
}


def say(msg):
    print(msg, flush=True)


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def run_bounded(cmd, timeout, log):
    """Runs cmd in its own process group (killed whole on timeout); returns (rc, seconds)."""
    started = time.monotonic()
    with open(log, "a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            rc = None
        out.write(f"[exit {rc}]\n")
    return rc, time.monotonic() - started


class Proxy:
    """One capture_proxy.py process, stopped when the with-block ends."""

    def __init__(self, host, port, upstream, outdir, label, work):
        ready = work / f"{label}.ready"
        ready.unlink(missing_ok=True)
        self.log = work / f"{label}.proxy.log"
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(HERE / "capture_proxy.py"), "--listen", f"{host}:{port}",
                 "--upstream", upstream, "--outdir", str(outdir), "--label", label,
                 "--responses", "--ready-file", str(ready)],
                stderr=err)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc.poll() is None:
            if ready.exists() and ready.read_text().strip():
                break
            time.sleep(0.05)
        if not (ready.exists() and ready.read_text().strip()):
            self.stop()
            sys.exit(f"capture: proxy for {label} did not start:\n{self.log.read_text()}")
        self.addr = ready.read_text().strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def uvarint(buf, pos):
    value, shift = 0, 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def api_versions_ranges(frame, version):
    """{api_key: (min, max)} from an ApiVersions response frame, or None if it is an error.

    ApiVersions responses always have header v0 (just the correlation id), even when the
    body is flexible (v3+), so that a client can read one from any broker.
    """
    pos = 8  # int32 length, int32 correlation id
    (error,) = struct.unpack_from(">h", frame, pos)
    pos += 2
    if error != 0:
        return None
    if version >= 3:
        count, pos = uvarint(frame, pos)
        count -= 1
    else:
        (count,) = struct.unpack_from(">i", frame, pos)
        pos += 4
    ranges = {}
    for _ in range(max(count, 0)):
        key, lo, hi = struct.unpack_from(">hhh", frame, pos)
        pos += 6
        if version >= 3:  # per-entry tagged fields
            tags, pos = uvarint(frame, pos)
            for _ in range(tags):
                _, pos = uvarint(frame, pos)
                size, pos = uvarint(frame, pos)
                pos += size
        ranges[key] = (lo, hi)
    return ranges


def advertised(raw, label):
    """The ranges the broker listed in its first successful ApiVersions answer to label."""
    pattern = re.compile(rf"^{re.escape(label)}-ApiVersions-v(\d+)-(\d+)\.resp\.bin$")
    answers = sorted((int(m.group(2)), int(m.group(1)), p) for p in raw.iterdir()
                     if (m := pattern.match(p.name)))
    for _, version, path in answers:
        ranges = api_versions_ranges(path.read_bytes(), version)
        if ranges:
            return ranges
    return None


def select_fixtures(raw, label, ranges):
    """{fixture name: frame bytes}: the first frame per (API, version) worth keeping, and
    {name: reason} for first frames left out."""
    first = re.compile(rf"^{re.escape(label)}-[A-Za-z0-9]+-v\d+-0\.bin$")
    kept, skipped = {}, {}
    for path in sorted(raw.iterdir()):
        if not first.match(path.name):
            continue
        frame = path.read_bytes()
        key, version = struct.unpack_from(">hh", frame, 4)
        name = f"{label}-{capture_proxy.api_name(key)}-v{version}.bin"
        listed = ranges.get(key)
        if listed is None:
            skipped[name] = "API not served by the broker"
        elif not listed[0] <= version <= listed[1] and key != 18:
            skipped[name] = f"version outside the broker's {listed[0]}-{listed[1]}"
        elif len(frame) > MAX_FIXTURE:
            skipped[name] = f"{len(frame)} bytes > {MAX_FIXTURE}"
        else:
            kept[name] = frame
    return kept, skipped


def old_fixture_names(fix, label):
    pattern = re.compile(rf"^{re.escape(label)}-[A-Za-z]+-v\d+\.bin$")
    return [p for p in fix.iterdir() if pattern.match(p.name)]


def write_manifest(fix, upstream, versions):
    lines = [
        "# Golden request frames from stock Kafka clients, written by compat-tests/capture/capture.sh.",
        "# Each file: one full request frame (int32 length prefix + header + body), as the client sent it:",
        "# the first frame of each (client, API, version) seen while the client ran its describe",
        "# command and the scenario drivers (compat-tests/SCENARIOS.md) through the capture proxy.",
        f"# Last capture: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%M:%SZ} against {upstream}",
        "# label = client: kcat = Debian kcat (librdkafka); librdkafka = confluent-kafka-python;",
        "#   kafka-python; java = Apache kafka-clients; franz-go; sarama; kafkajs",
    ]
    lines += [f"# {label}: {versions[label]}" for label in CLIENTS if label in versions]
    lines.append("# file  bytes  sha256")
    for path in sorted(fix.glob("*.bin")):
        data = path.read_bytes()
        lines.append(f"{path.name}  {len(data)}  {hashlib.sha256(data).hexdigest()}")
    (fix / "CAPTURED.txt").write_text("\n".join(lines) + "\n")


def previous_versions(fix):
    """Client version lines of the last manifest, for clients not captured this time."""
    versions = {}
    manifest = fix / "CAPTURED.txt"
    if manifest.exists():
        for line in manifest.read_text().splitlines():
            m = re.match(r"^# ([a-z-]+): (.+)$", line)
            if m and m.group(1) in CLIENTS:
                versions[m.group(1)] = m.group(2)
    return versions


def start_petrel(binary, host, proxy_port, workdir):
    port, metrics = free_port(host), free_port(host)
    log = open(workdir / "petrel.log", "w")
    proc = subprocess.Popen(
        [binary, "--data-dir", str(workdir / "data"), "--listen", f"{host}:{port}",
         "--metrics-listen", f"{host}:{metrics}", "--advertised-listen", f"{host}:{proxy_port}"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PETREL_")})
    if not harness.wait_for_port(host, port, 20):
        proc.kill()
        sys.exit(f"capture: petrel did not listen on {host}:{port} within 20 s")
    return proc, f"{host}:{port}"


def main():
    args = sys.argv[1:]
    petrel_bin = None
    if args[:1] == ["--petrel"] and len(args) in (2, 3):
        petrel_bin, args = args[1], args[2:]
        upstream = None
    elif len(args) in (1, 2) and not args[0].startswith("-"):
        upstream, args = args[0], args[1:]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    fix = Path(args[0]) if args else REPO / "protocol" / "tests" / "fixtures"
    host = os.environ.get("CAPTURE_HOST", "127.0.0.1")
    timeout = int(os.environ.get("CAPTURE_TIMEOUT", "90"))
    labels = [c for c in os.environ.get("CAPTURE_CLIENTS", ",".join(CLIENTS)).split(",") if c]
    scenarios = [s for s in os.environ.get("CAPTURE_SCENARIOS", DEFAULT_SCENARIOS).split(",") if s]
    for label in labels:
        if label not in CLIENTS:
            sys.exit(f"capture: unknown client {label} (known: {', '.join(CLIENTS)})")
    for scenario in scenarios:
        if scenario not in harness.SCENARIOS:
            sys.exit(f"capture: unknown scenario {scenario}")
    if not (Path(PY).exists() and shutil.which("kcat")
            and (CT / "java" / "target" / "petrel-compat-java.jar").exists()):
        sys.exit("capture: run compat-tests/install.sh first")
    fix.mkdir(parents=True, exist_ok=True)

    work = Path(tempfile.mkdtemp(prefix="petrel-capture-"))
    keep_raw = os.environ.get("KEEP_RAW")
    raw = Path(keep_raw) if keep_raw else work / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    if any(raw.iterdir()):  # frames of an earlier run would pass for this run's
        shutil.rmtree(work)
        sys.exit(f"capture: KEEP_RAW directory {raw} is not empty")
    petrel = None
    failures = []
    try:
        if petrel_bin:
            proxy_port = free_port(host)
            petrel, upstream = start_petrel(petrel_bin, host, proxy_port, work)
            say(f"== petrel on {upstream}, advertising the proxy at {host}:{proxy_port}")
        elif os.environ.get("PROXY_PORT"):
            proxy_port = int(os.environ["PROXY_PORT"])
        else:
            proxy_port = 0
            say("== PROXY_PORT unset: connections to the broker's advertised address bypass "
                "the proxy, so mostly first connections are captured")

        # Topics first, each straight to the broker. The tool still follows the advertised
        # address (its CreateTopics goes to the controller it learned from Metadata), so a
        # proxy recording into a scratch dir stands in on the proxy port meanwhile.
        run_id = uuid.uuid4().hex[:8]
        topics = {(label, s): f"cap-{label}-{s}-{run_id}" for label in labels for s in scenarios}
        say(f"== creating {len(topics)} topics")
        with Proxy(host, proxy_port, upstream, work / "scratch", "setup", work):
            for (label, scenario), topic in topics.items():
                configs = harness.TOPIC_CONFIGS.get(scenario, [])
                rc, _ = run_bounded([PY, str(CT / "tools" / "create_topic.py"), upstream, topic,
                                     str(harness.PARTITIONS), *configs], 60, work / "setup.log")
                if rc != 0:
                    sys.exit(f"capture: could not create {topic}:\n"
                             + (work / "setup.log").read_text()[-2000:])
        shutil.rmtree(work / "scratch", ignore_errors=True)

        all_versions = harness.client_versions()
        versions = previous_versions(fix)
        empty = []
        for label in labels:
            client, describe = CLIENTS[label]
            with Proxy(host, proxy_port, upstream, raw, label, work) as proxy:
                runs = []
                if describe:
                    runs.append(("describe", describe(proxy.addr)))
                for scenario in scenarios:
                    runs.append((scenario, harness.CLIENTS[client] + [
                        "--bootstrap", proxy.addr, "--scenario", scenario,
                        "--topic", topics[(label, scenario)]]))
                for what, cmd in runs:
                    log = work / f"{label}--{what}.log"
                    rc, seconds = run_bounded(cmd, timeout, log)
                    # 77 is a driver's "the client cannot do this" (e.g. kcat admin).
                    ok = rc == 0 or (rc == harness.UNSUPPORTED_EXIT and what != "describe")
                    status = f"exit {rc}" if rc is not None else f"timed out after {timeout} s"
                    say(f"   {label:13} {what:15} {status} in {seconds:4.1f} s"
                        + ("" if ok else "   FAILED; its output ends:"))
                    if not ok:
                        failures.append(f"{label} {what} ({status})")
                        for line in log.read_text(errors="replace").splitlines()[-15:]:
                            say(f"      | {line}")
                    if petrel is not None and petrel.poll() is not None:
                        sys.exit(f"capture: petrel exited ({petrel.returncode}) during "
                                 f"{label} {what}; its log: {work / 'petrel.log'} (kept "
                                 "with KEEP_RAW)")
                time.sleep(0.5)  # let the proxy write trailing frames
            frames = [p for p in raw.iterdir()
                      if p.name.startswith(label + "-") and not p.name.endswith(".resp.bin")]
            ranges = advertised(raw, label)
            if not frames or ranges is None:
                why = "no request frames" if not frames else "no readable ApiVersions answer"
                say(f"== {label}: {why}; its fixtures are left as they were")
                empty.append(label)
                continue
            kept, skipped = select_fixtures(raw, label, ranges)
            for old in old_fixture_names(fix, label):
                old.unlink()
            for name, frame in kept.items():
                (fix / name).write_bytes(frame)
            versions[label] = all_versions.get(client, "?")
            say(f"== {label} ({versions[label]}): {len(frames)} request frames, "
                f"{len(kept)} fixtures: {', '.join(sorted(n[len(label) + 1:-4] for n in kept))}")
            for name, why in sorted(skipped.items()):
                say(f"     not kept: {name}: {why}")

        write_manifest(fix, upstream, versions)
        say(f"== {len(list(fix.glob('*.bin')))} fixtures in {fix} (CAPTURED.txt updated)")
        if keep_raw:
            say(f"== raw frames kept in {raw}")
        if empty:
            say(f"capture: nothing usable captured from {', '.join(empty)}")
        if failures:
            say(f"capture: {len(failures)} command(s) failed (fixtures were still written from "
                f"what they sent): " + "; ".join(failures))
        return 1 if empty or failures else 0
    finally:
        if petrel is not None:
            petrel.send_signal(signal.SIGTERM)
            try:
                petrel.wait(15)
            except subprocess.TimeoutExpired:
                petrel.kill()
                petrel.wait()
        if keep_raw:  # the client, proxy and broker logs, beside the frames
            shutil.copytree(work, raw / "logs", dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("raw", "data", "scratch", "*.ready"))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
