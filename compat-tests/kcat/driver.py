#!/usr/bin/env python3
"""kcat compatibility driver for compat-tests (see ../SCENARIOS.md for the contract).

    driver.py --bootstrap HOST:PORT --scenario NAME --topic TOPIC

Runs the scenarios by invoking the `kcat` command line (kcat 1.7.1 / librdkafka 2.0.2,
Debian package) the way a user would: -L, -P with -K/-H/-z/-p/-X, -C with -o/-e/-f/-J,
-G for consumer groups and -Q for offsets by timestamp. Standard library only, so it
runs with the system python3. Exit 0 pass, 1 fail, 77 unsupported.

Two kcat facts shape the driver:
  * `-H name=value` attaches the same headers to every message of one kcat run; kcat 1.7.1
    cannot take per-message headers from its input (edenhill/kcat#202, #244). Scenarios
    that only need a handful of records therefore run one `kcat -P` per record, so every
    record gets its own `idx` header as the conventions require. The bulk scenarios are
    about producer instances sending real multi-record batches (produce-consume-<codec>
    and idempotence: one instance; key-partitioning: three), which per-record runs would
    not do (librdkafka even sends a one-message batch uncompressed), so they use one run
    per instance and verify every record against that run's header set instead; the log
    says so. librdkafka's `-d msg` lines confirm the batches were compressed/idempotent.
  * Output is parsed binary-safely: -J JSON is decoded as Latin-1 (yajl writes payload
    bytes verbatim and escapes only control characters as \\u00XX, so Latin-1 round-trips
    every byte); -f output carries %K/%S lengths (-1 = null) in front of the raw bytes.
"""
import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

KCAT = "kcat"
EXIT_PASS, EXIT_FAIL, EXIT_UNSUPPORTED = 0, 1, 77
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
# -f layout: a text line with partition, offset, timestamp, key length, value length and
# the %h header CSV, then the raw key and value bytes (lengths known), then a newline.
FMT = "%p %o %T %K %S %h\\n%k%s\\n"


class Fail(Exception):
    """A check failed; the message says what differed."""


class Unsupported(Exception):
    """kcat has no way to do what the scenario needs."""


def log(msg):
    print(msg, flush=True)


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------- record conventions

def conv_key(i):
    return None if i % 10 == 9 else b"key-%d" % (i % 20)


def conv_value(i):
    return None if i % 7 == 6 else b"value-%d" % i


def conv_headers(i):
    hdrs = [("idx", str(i).encode())]
    if i % 5 == 0:
        hdrs.append(("empty", b""))
    return hdrs


class Rec:
    """One consumed record; key/value are bytes or None, headers a list of (name, bytes|None)."""

    def __init__(self, partition, offset, ts, key, value, headers, tstype=None):
        self.partition, self.offset, self.ts = partition, offset, ts
        self.key, self.value, self.headers, self.tstype = key, value, headers, tstype

    def __repr__(self):
        return "p%d@%d key=%r value=%s headers=%r" % (
            self.partition, self.offset, self.key, short(self.value), self.headers)


def short(b):
    if b is None or len(b) <= 40:
        return repr(b)
    return "<%d bytes %r...>" % (len(b), b[:16])


# ---------------------------------------------------------------- running kcat

class Kcat:
    def __init__(self, bootstrap):
        self.bootstrap = bootstrap
        # Keep a user's kcat.conf (or KCAT_CONFIG) out of the test: "-F none" stops the
        # default config-file search, the env vars are dropped.
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("KCAT_CONFIG", "KAFKACAT_CONFIG")}

    def argv(self, args):
        return [KCAT, "-F", "none", "-b", self.bootstrap] + list(args)

    def run(self, args, stdin=b"", timeout=30, ok_codes=(0,)):
        """Runs kcat to completion; returns (rc, stdout bytes, stderr text)."""
        try:
            p = subprocess.run(self.argv(args), input=stdin, capture_output=True,
                               timeout=timeout, env=self.env)
        except subprocess.TimeoutExpired:
            raise Fail("kcat %s did not finish within %ss" % (" ".join(args), timeout))
        err = p.stderr.decode("utf-8", "replace")
        if ok_codes is not None and p.returncode not in ok_codes:
            raise Fail("kcat %s exited %d:\n%s" % (" ".join(args), p.returncode, err.strip()))
        return p.returncode, p.stdout, err

    def popen(self, args, stdout=subprocess.DEVNULL):
        return subprocess.Popen(self.argv(args), stdin=subprocess.DEVNULL, stdout=stdout,
                                stderr=subprocess.PIPE, env=self.env)

    # -- producing

    @staticmethod
    def header_args(headers):
        out = []
        for name, value in headers:
            out += ["-H", name if value is None else "%s=%s" % (name, value.decode())]
        return out

    def produce_lines(self, topic, pairs, headers, extra=(), timeout=60):
        """One `kcat -P` run producing (key, value) pairs read from stdin.

        -K '\\t' splits key from value; -Z turns an empty key or value into null, so a
        missing key is written as an empty field. The conventions never use empty keys or
        values, and a TAB or newline inside one would break the framing: both are refused.
        """
        lines = []
        for key, value in pairs:
            for part in (key, value):
                if part is not None and (part == b"" or b"\t" in part or b"\n" in part):
                    raise Fail("driver bug: %r cannot be framed for kcat -K/-D" % part)
            lines.append((key or b"") + b"\t" + (value or b"") + b"\n")
        args = ["-P", "-t", topic, "-K", "\\t", "-Z", "-X", "acks=all"]
        return self.run(args + self.header_args(headers) + list(extra),
                        stdin=b"".join(lines), timeout=timeout)

    def produce_record(self, topic, i, partition=None, extra=()):
        """Record i of the conventions, alone in its own kcat run (its own idx header)."""
        extra = list(extra) + (["-p", str(partition)] if partition is not None else [])
        self.produce_lines(topic, [(conv_key(i), conv_value(i))], conv_headers(i), extra,
                           timeout=20)

    # -- consuming

    def consume_json(self, args, timeout=30):
        _, out, _ = self.run(["-C", "-J", "-X", "check.crcs=true"] + list(args),
                             timeout=timeout)
        return parse_json_lines(out)

    def consume_fmt(self, args, timeout=30):
        _, out, _ = self.run(["-C", "-f", FMT, "-X", "check.crcs=true"] + list(args),
                             timeout=timeout)
        return parse_fmt(out)

    def query_offset(self, topic, partition, ts):
        """kcat -Q: the offset of the first record with timestamp >= ts (-1: none)."""
        _, out, _ = self.run(["-Q", "-J", "-t", "%s:%d:%d" % (topic, partition, ts)])
        try:
            return json.loads(out.decode())[topic][str(partition)]["offset"]
        except (ValueError, KeyError) as e:
            raise Fail("kcat -Q output not understood (%s): %r" % (e, out))


def parse_json_lines(out):
    recs = []
    for line in out.split(b"\n"):
        if not line.strip():
            continue
        try:
            o = json.loads(line.decode("latin-1"))
        except ValueError as e:
            raise Fail("kcat -J line is not JSON (%s): %r" % (e, line[:200]))
        raw = o.get("headers") or []
        headers = [(raw[j], None if raw[j + 1] is None else raw[j + 1].encode("latin-1"))
                   for j in range(0, len(raw), 2)]
        enc = (lambda s: None if s is None else s.encode("latin-1"))
        recs.append(Rec(o["partition"], o["offset"], o.get("ts"), enc(o["key"]),
                        enc(o["payload"]), headers, o.get("tstype")))
    return recs


def parse_fmt(out):
    """Parses FMT output; %h prints a null header value as NULL (the conventions never
    use the literal string NULL as a header value, so it is read back as null)."""
    recs, pos = [], 0
    while pos < len(out):
        nl = out.find(b"\n", pos)
        if nl < 0:
            raise Fail("kcat -f output ends inside a record: %r" % out[pos:pos + 100])
        fields = out[pos:nl].decode("latin-1").split(" ", 5)
        if len(fields) != 6:
            raise Fail("kcat -f line not understood: %r" % out[pos:nl])
        p, o, ts, klen, vlen = (int(x) for x in fields[:5])
        pos = nl + 1
        key = None if klen < 0 else out[pos:pos + klen]
        pos += max(klen, 0)
        value = None if vlen < 0 else out[pos:pos + vlen]
        pos += max(vlen, 0)
        if out[pos:pos + 1] != b"\n":
            raise Fail("kcat -f record at p%d@%d is not framed as expected" % (p, o))
        pos += 1
        headers = []
        for item in fields[5].split(",") if fields[5] else []:
            name, _, val = item.partition("=")
            headers.append((name, None if val == "NULL" else val.encode("latin-1")))
        recs.append(Rec(p, o, ts, key, value, headers))
    return recs


# ---------------------------------------------------------------- verification

def index_by_idx_header(recs):
    idxs = []
    for r in recs:
        vals = [v for n, v in r.headers if n == "idx"]
        if len(vals) != 1 or vals[0] is None or not vals[0].isdigit():
            raise Fail("record without a usable idx header: %r" % r)
        idxs.append(int(vals[0]))
    return idxs


def index_by_content(recs, n, key_fn, value_fn):
    """For single-run scenarios (one header set for every record) a record is identified
    by its value `value-<i>`; a null-value record takes the first unused index after the
    previous record of its partition whose key matches and whose value is null. Checking
    the result (exactly once, increasing per partition) then verifies content and order."""
    used, last, idxs = set(), {}, []
    for r in recs:
        if r.value is not None:
            m = re.fullmatch(rb"value-(\d+)", r.value)
            if not m:
                raise Fail("unexpected value in %r" % r)
            i = int(m.group(1))
        else:
            i = next((j for j in range(last.get(r.partition, -1) + 1, n)
                      if j not in used and value_fn(j) is None and key_fn(j) == r.key), None)
            if i is None:
                raise Fail("null-value record matches no expected record: %r" % r)
        used.add(i)
        last[r.partition] = i
        idxs.append(i)
    return idxs


def verify(recs, n, headers_fn, by_content=False, key_fn=conv_key, value_fn=conv_value):
    """Checks records 0..n-1 against the conventions: key, value (null vs empty) and headers
    byte-exact, each read exactly once, within a partition offsets and i increasing, every
    non-null key in one partition. Raises Fail listing the first differences."""
    errors = []
    idxs = (index_by_content(recs, n, key_fn, value_fn) if by_content
            else index_by_idx_header(recs))
    seen, last_off, last_i, key_parts = {}, {}, {}, {}
    for r, i in zip(recs, idxs):
        if not 0 <= i < n:
            errors.append("index %d out of range: %r" % (i, r))
            continue
        want = (key_fn(i), value_fn(i), headers_fn(i))
        if (r.key, r.value, r.headers) != want:
            errors.append("record %d differs: got %r, want key=%r value=%s headers=%r"
                          % (i, r, want[0], short(want[1]), want[2]))
        seen[i] = seen.get(i, 0) + 1
        if r.offset <= last_off.get(r.partition, -1):
            errors.append("partition %d: offset %d read after offset %d"
                          % (r.partition, r.offset, last_off[r.partition]))
        if i <= last_i.get(r.partition, -1):
            errors.append("partition %d: record %d at offset %d after record %d"
                          % (r.partition, i, r.offset, last_i[r.partition]))
        last_off[r.partition], last_i[r.partition] = r.offset, i
        if r.key is not None:
            key_parts.setdefault(r.key, set()).add(r.partition)
    missing = [i for i in range(n) if i not in seen]
    dups = sorted(i for i, c in seen.items() if c > 1)
    if missing:
        errors.append("%d records never read, e.g. %s" % (len(missing), missing[:10]))
    if dups:
        errors.append("%d records read more than once, e.g. %s" % (len(dups), dups[:10]))
    split = {k: sorted(p) for k, p in key_parts.items() if len(p) > 1}
    if split:
        errors.append("keys in more than one partition: %s" % dict(list(split.items())[:5]))
    if errors:
        raise Fail("\n  ".join(["%d problem(s):" % len(errors)] + errors[:20]))
    parts = sorted({r.partition for r in recs})
    log("verified %d records (key, value, headers, exactly once, order); partitions used %s"
        % (n, parts))
    return key_parts


def expect(cond, what):
    if not cond:
        raise Fail(what)
    log("ok: " + what)


# ---------------------------------------------------------------- consumer groups

class GroupMember:
    """A `kcat -G` process. kcat logs every rebalance on stderr, e.g.
    "% Group g rebalanced (memberid m): assigned: t [0], t [3]" (eager protocol, the
    default assignor) or "... incremental assignment of 2 partition(s) (...): t [0], ..."
    (cooperative); a reader thread turns those lines into the current assignment."""

    REBAL = re.compile(r"rebalanced(?: \(memberid .*?\))?: (assigned|revoked): (.*)$")
    INCR = re.compile(r"rebalanced: incremental (assignment|revoke) of \d+ partition\(s\) "
                      r"\(memberid .*?\): (.*)$")
    PART = re.compile(r"(\S+) \[(\d+)\]")

    def __init__(self, kc, name, topic, group, extra=(), capture=False):
        self.name, self.topic = name, topic
        self.cond = threading.Condition()
        self.assigned, self.stderr_lines, self.out_lines = set(), [], []
        self.last_event = time.monotonic()
        args = ["-G", group, "-J", "-u", "-X", "check.crcs=true"] + list(extra) + [topic]
        self.proc = kc.popen(args, stdout=subprocess.PIPE if capture else subprocess.DEVNULL)
        self.threads = [threading.Thread(target=self._read_stderr, daemon=True)]
        if capture:
            self.threads.append(threading.Thread(target=self._read_stdout, daemon=True))
        for t in self.threads:
            t.start()

    def _parts(self, text):
        return {int(p) for t, p in self.PART.findall(text) if t == self.topic}

    def _read_stderr(self):
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                self.stderr_lines.append(line)
                m, inc = self.REBAL.search(line), self.INCR.search(line)
                if m:
                    self.assigned = self._parts(m.group(2)) if m.group(1) == "assigned" else set()
                elif inc:
                    # New set objects (not in-place updates): other threads read them.
                    parts = self._parts(inc.group(2))
                    self.assigned = (self.assigned | parts if inc.group(1) == "assignment"
                                     else self.assigned - parts)
                if m or inc:
                    self.last_event = time.monotonic()
                self.cond.notify_all()

    def _read_stdout(self):
        for line in self.proc.stdout:
            with self.cond:
                self.out_lines.append(line)
                self.last_event = time.monotonic()
                self.cond.notify_all()

    def records(self):
        with self.cond:
            return parse_json_lines(b"".join(self.out_lines))

    def close(self, timeout=20):
        """SIGTERM is kcat's Ctrl-C: it leaves the loop, closes the consumer (final offset
        commit, LeaveGroup) and exits 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise Fail("%s (kcat -G) did not exit within %ss" % (self.name, timeout))
        for t in self.threads:
            t.join(5)
        if rc != 0:
            raise Fail("%s (kcat -G) exited %d:\n%s" % (self.name, rc, self.stderr_text()))
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr_text(self):
        with self.cond:
            return "\n".join(self.stderr_lines[-30:])


def wait_until(members, pred, timeout, what):
    """Polls (bounded) until pred() holds over the members' parsed assignments."""
    deadline = time.monotonic() + timeout
    while True:
        if pred():
            log("ok: %s (%s)" % (what, ", ".join(
                "%s owns %s" % (m.name, sorted(m.assigned)) for m in members)))
            return
        for m in members:
            if m.proc.poll() is not None:
                raise Fail("%s (kcat -G) exited early (%s):\n%s"
                           % (m.name, m.proc.returncode, m.stderr_text()))
        if time.monotonic() > deadline:
            raise Fail("timed out after %ss waiting until %s; %s" % (timeout, what, "; ".join(
                "%s owns %s, stderr:\n%s" % (m.name, sorted(m.assigned), m.stderr_text())
                for m in members)))
        time.sleep(0.1)


# ---------------------------------------------------------------- scenarios

def sc_metadata(kc, topic):
    _, out, _ = kc.run(["-L", "-J"])
    md = json.loads(out.decode())
    brokers = md.get("brokers", [])
    expect(len(brokers) == 1, "exactly one broker in metadata (got %r)" % brokers)
    expect(brokers[0]["name"] == kc.bootstrap,
           "broker address %s equals --bootstrap %s" % (brokers[0]["name"], kc.bootstrap))
    t = [x for x in md.get("topics", []) if x["topic"] == topic]
    expect(len(t) == 1 and "error" not in t[0], "topic %s listed without error" % topic)
    parts = t[0]["partitions"]
    expect(sorted(p["partition"] for p in parts) == list(range(6)),
           "topic has partitions 0..5 (got %s)" % sorted(p["partition"] for p in parts))
    bad = [p for p in parts if p["leader"] != brokers[0]["id"] or "error" in p]
    expect(not bad, "every partition led by broker %d without error (bad: %s)"
           % (brokers[0]["id"], bad))


def produce_stats(stderr):
    """(codec, PID, base sequence) of each batch from librdkafka's -d msg debug lines."""
    return re.findall(r"Produce MessageSet with \d+ message\(s\) \(.*?BaseSeq (-?\d+), "
                      r"PID\{([^}]*)\}, (\w+)\)", stderr)


def sc_produce_consume(kc, topic, codec):
    n = 1000
    run_headers = [("idx", b"run"), ("empty", b"")]
    log("producing records 0..%d in one kcat -P run with -z %s (kcat -H applies one header "
        "set to a whole run, so every record carries %r instead of idx=<i>)"
        % (n - 1, codec, run_headers))
    _, _, err = kc.produce_lines(topic, [(conv_key(i), conv_value(i)) for i in range(n)],
                                 run_headers, ["-z", codec, "-d", "msg"])
    codecs = {c for _, _, c in produce_stats(err)}
    if codec == "none":
        expect(codecs == {"uncompressed"}, "librdkafka sent only uncompressed batches")
    else:
        expect(codec in codecs, "librdkafka sent %s-compressed batches (saw %s)"
               % (codec, sorted(codecs)))
    recs = kc.consume_json(["-t", topic, "-o", "beginning", "-e"])
    verify(recs, n, lambda i: run_headers, by_content=True)


def sc_key_partitioning(kc, topic):
    key_fn = lambda i: b"k-%d" % (i % 30)
    recs_per, runs = 200, 3
    for run in range(runs):
        lo = run * recs_per
        kc.produce_lines(topic, [(key_fn(i), conv_value(i)) for i in range(lo, lo + recs_per)],
                         [("producer", str(run).encode())])
        log("producer instance %d (its own kcat -P run) produced records %d..%d"
            % (run, lo, lo + recs_per - 1))
    recs = kc.consume_json(["-t", topic, "-o", "beginning", "-e"])
    key_parts = verify(recs, runs * recs_per, lambda i: [("producer", b"%d" % (i // recs_per))],
                       by_content=True, key_fn=key_fn)
    expect(len(key_parts) == 30, "all 30 keys read back (got %d)" % len(key_parts))
    used = {next(iter(p)) for p in key_parts.values()}
    expect(len(used) >= 2, "keys spread over at least 2 partitions (used %s)" % sorted(used))


def sc_large_record(kc, topic):
    rng = random.Random(20250190)
    small, big = rng.randbytes(190_000), rng.randbytes(250_000)
    with tempfile.TemporaryDirectory(prefix="kcat-large-") as d:
        paths = []
        for name, data in (("small", small), ("big", big)):
            paths.append(os.path.join(d, name))
            with open(paths[-1], "wb") as f:
                f.write(data)
        # A file argument makes kcat send the whole file as one message (binary-safe);
        # -k/-H give it record i's key and headers. librdkafka's own limit
        # (message.max.bytes, default 1000000) is set explicitly above both sizes so the
        # broker is the one to judge the 250,000-byte record.
        base = ["-P", "-t", topic, "-p", "0", "-X", "acks=all", "-X", "message.max.bytes=1000000"]
        kc.run(base + ["-k", "key-0"] + kc.header_args(conv_headers(0)) + [paths[0]])
        log("produced a 190,000-byte value to partition 0")
        recs = kc.consume_fmt(["-t", topic, "-p", "0", "-o", "beginning", "-e"])
        expect(len(recs) == 1 and recs[0].offset == 0 and recs[0].key == b"key-0"
               and recs[0].headers == conv_headers(0),
               "read back one record at offset 0 with key-0 and record 0's headers (got %r)" % recs)
        expect(recs[0].value == small, "190,000-byte value read back byte-exact (got %s)"
               % short(recs[0].value))
        rc, _, err = kc.run(base + ["-k", "key-1"] + kc.header_args(conv_headers(1)) + [paths[1]],
                            ok_codes=None)
    expect(rc != 0 and "Message size too large" in err,
           "250,000-byte record refused with MESSAGE_TOO_LARGE (kcat rc=%d, stderr: %s)"
           % (rc, err.strip()[-300:]))
    recs = kc.consume_fmt(["-t", topic, "-p", "0", "-o", "beginning", "-e"])
    expect([r.offset for r in recs] == [0] and recs[0].value == small,
           "refused record is not readable: partition 0 still holds only offset 0 (got %s)"
           % [(r.offset, short(r.value)) for r in recs])


def sc_seek_offset(kc, topic):
    n = 100
    for i in range(n):
        kc.produce_record(topic, i, partition=0)
    log("produced records 0..99 to partition 0, one kcat -P run (and idx header) each")
    recs = kc.consume_fmt(["-t", topic, "-p", "0", "-o", "42", "-e"])
    expect([r.offset for r in recs] == list(range(42, n)),
           "-o 42 reads offsets 42..99 in order (got %s)" % [r.offset for r in recs][:10])
    bad = [r for r in recs if (r.key, r.value, r.headers)
           != (conv_key(r.offset), conv_value(r.offset), conv_headers(r.offset))]
    expect(not bad, "offset i holds record i: value-42..value-99 (null where the conventions "
           "say so), keys and headers byte-exact (bad: %s)" % bad[:3])
    recs = kc.consume_fmt(["-t", topic, "-p", "0", "-o", "beginning", "-c", "1", "-e"])
    expect(len(recs) == 1 and recs[0].offset == 0 and recs[0].value == conv_value(0),
           "-o beginning: first record is offset 0, value-0 (got %s)" % recs)


def sc_seek_timestamp(kc, topic):
    # kcat cannot set a record's timestamp (librdkafka stamps CreateTime = now), so this
    # uses the scenario's fallback: two halves with a gap, and lookups of times observed
    # around the kcat runs.
    n, half = 100, 50
    spans = []
    t0 = now_ms()
    for i in range(n):
        if i == half:
            time.sleep(0.05)
        start = now_ms()
        kc.produce_record(topic, i, partition=0)
        spans.append((start, now_ms()))
    gap = (spans[half - 1][1] + spans[half][0]) // 2
    log("produced records 0..99 to partition 0 (one kcat run each), 50 ms pause before "
        "record 50; lookup time in the pause: %d" % gap)
    recs = kc.consume_json(["-t", topic, "-p", "0", "-o", "beginning", "-e"])
    verify(recs, n, conv_headers)
    expect([r.offset for r in recs] == list(range(n)), "record i is at offset i")
    expect(all(r.tstype == "create" for r in recs), "every timestamp is a CreateTime")
    ts = [r.ts for r in recs]
    off_span = [i for i in range(n) if not spans[i][0] - 1 <= ts[i] <= spans[i][1] + 1]
    expect(not off_span, "every CreateTime lies within its kcat run (outside: %s)" % off_span[:5])
    expect(all(ts[i] < ts[i + 1] for i in range(n - 1)), "timestamps strictly increase")
    expect(ts[half - 1] < gap < ts[half], "record 49 is before and 50 after the pause")
    lookups = [("timestamp of record 42", ts[42], 42),
               ("1 ms after record 41", ts[41] + 1, 42),
               ("the pause between the halves", gap, half),
               ("T0 - 5000", t0 - 5000, 0),
               ("now + 1 hour", now_ms() + 3_600_000, -1)]
    for what, q, want in lookups:
        got = kc.query_offset(topic, 0, q)
        expect(got == want, "kcat -Q %s (%d) -> offset %d (got %d)" % (what, q, want, got))
    start = kc.query_offset(topic, 0, ts[42])
    recs = kc.consume_fmt(["-t", topic, "-p", "0", "-o", str(start), "-c", "1", "-e"])
    expect(len(recs) == 1 and recs[0].value == conv_value(42) and recs[0].ts == ts[42],
           "consuming from offset %d: first record is value-42 with timestamp %d (got %s)"
           % (start, ts[42], [(r.offset, r.value, r.ts) for r in recs]))


def sc_group_rebalance(kc, topic):
    group = topic + "-g"
    a = GroupMember(kc, "A", topic, group)
    b = None
    try:
        wait_until([a], lambda: a.assigned == set(range(6)), 45, "A owns all 6 partitions")
        b = GroupMember(kc, "B", topic, group)
        wait_until([a, b], lambda: a.assigned and b.assigned and not a.assigned & b.assigned
                   and a.assigned | b.assigned == set(range(6)), 45,
                   "A and B own disjoint non-empty sets covering all 6")
        b.close()
        log("ok: B closed (SIGTERM -> consumer close -> LeaveGroup), exit 0")
        wait_until([a], lambda: a.assigned == set(range(6)), 45, "A owns all 6 partitions again")
        a.close()
    finally:
        for m in (a, b):
            if m:
                m.kill()


def committed_positions(kc, topic, group):
    """The group's committed offsets, read through kcat: a plain -C consumer with
    -o stored starts each partition at the offset the group has committed (OffsetFetch);
    with auto.offset.reset=earliest a partition without a commit starts at 0. The start
    is the first offset read, or, with nothing to read, the EOF offset. Side effect: when
    it stops, this consumer commits where it stopped, so it is called once, last."""
    _, out, err = kc.run(["-C", "-J", "-t", topic, "-o", "stored", "-e", "-X", "group.id=" + group,
                          "-X", "auto.offset.reset=earliest"])
    pos = {int(p): int(o) for p, o in re.findall(r"Reached end of topic \S+ \[(\d+)\] at offset (\d+)", err)}
    for r in parse_json_lines(out):
        pos[r.partition] = min(pos.get(r.partition, r.offset), r.offset)
    return pos


def sc_commit_resume(kc, topic):
    n, group = 100, topic + "-c"
    for i in range(n):
        kc.produce_record(topic, i)
    log("produced records 0..99 (no explicit partition), one kcat -P run each")
    ends = {p: kc.query_offset(topic, p, -1) for p in range(6)}  # -1 = latest
    log("end offsets (kcat -Q ...:-1): %s" % ends)
    # kcat -G has no commit command and no way to turn auto-commit off: kcat hands
    # "-X enable.auto.commit=..." (and auto.commit.interval.ms) to librdkafka's legacy
    # topic-level property of that name, which the KafkaConsumer ignores. So kcat commits
    # the offsets librdkafka stored for messages it handed to kcat (-c 40 stops after
    # exactly 40), every 5 s and, synchronously, in rd_kafka_consumer_close(). -o is not
    # used because kcat -G applies it on every assignment, overriding committed offsets.
    common = ["-X", "auto.offset.reset=earliest"]
    log("kcat -G cannot switch auto-commit off; C1 commits on close what it consumed")
    c1 = GroupMember(kc, "C1", topic, group, common + ["-c", "40"], capture=True)
    try:
        c1.wait(45)
    finally:
        c1.kill()
    r1 = c1.records()
    expect(len(r1) == 40, "C1 processed exactly 40 records (-c 40) and exited 0 (got %d)" % len(r1))
    c2 = GroupMember(kc, "C2", topic, group, common, capture=True)
    try:
        deadline = time.monotonic() + 45
        while True:
            with c2.cond:
                idle = time.monotonic() - c2.last_event
                ready = bool(c2.assigned)
            if ready and idle >= 5:
                break
            if c2.proc.poll() is not None or time.monotonic() > deadline:
                raise Fail("C2 did not get an assignment and go idle within 45 s:\n"
                           + c2.stderr_text())
            time.sleep(0.1)
        c2.close()
    finally:
        c2.kill()
    r2 = c2.records()
    log("C2 read %d records, idle 5 s, closed (SIGTERM -> commit, leave)" % len(r2))
    verify(r1 + r2, n, conv_headers)
    log("ok: C1's and C2's records are disjoint and together all %d" % n)
    got = committed_positions(kc, topic, group)
    expect(got == ends, "committed offsets equal end offsets (committed %s, end %s)" % (got, ends))


def sc_idempotence(kc, topic):
    n = 2000
    run_headers = [("idx", b"run"), ("empty", b"")]
    log("producing records 0..%d in one idempotent kcat -P run (kcat -H applies one header "
        "set to a whole run, so every record carries %r instead of idx=<i>)" % (n - 1, run_headers))
    # Small batches so the run really pipelines several requests per partition.
    _, _, err = kc.produce_lines(topic, [(conv_key(i), conv_value(i)) for i in range(n)],
                                 run_headers,
                                 ["-X", "enable.idempotence=true",
                                  "-X", "max.in.flight.requests.per.connection=5",
                                  "-X", "batch.num.messages=50", "-d", "msg"])
    batches = produce_stats(err)
    pids = {pid for _, pid, _ in batches}
    expect(batches and all(pid.startswith("Id:") for pid in pids),
           "every batch carried a producer id (PIDs %s)" % sorted(pids))
    expect(any(int(seq) > 0 for seq, _, _ in batches),
           "%d batches, later ones with base sequence > 0" % len(batches))
    recs = kc.consume_json(["-t", topic, "-o", "beginning", "-e"])
    verify(recs, n, lambda i: run_headers, by_content=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--topic", required=True)
    a = ap.parse_args()
    scenarios = {
        "metadata": sc_metadata,
        "key-partitioning": sc_key_partitioning,
        "large-record": sc_large_record,
        "seek-offset": sc_seek_offset,
        "seek-timestamp": sc_seek_timestamp,
        "group-rebalance": sc_group_rebalance,
        "commit-resume": sc_commit_resume,
        "idempotence": sc_idempotence,
    }
    for codec in CODECS:
        scenarios["produce-consume-" + codec] = (
            lambda kc, t, c=codec: sc_produce_consume(kc, t, c))
    # On SIGTERM (e.g. a harness timeout) unwind normally so the finally blocks stop the
    # kcat -G processes this driver started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(EXIT_FAIL))
    kc = Kcat(a.bootstrap)
    try:
        version = subprocess.run([KCAT, "-V"], capture_output=True, text=True, timeout=10)
        log(" ".join(re.findall(r"Version [^ ]+|librdkafka [0-9.]+", version.stdout + version.stderr)))
    except (OSError, subprocess.TimeoutExpired) as e:
        log("FAIL: cannot run kcat: %s" % e)
        return EXIT_FAIL
    try:
        if a.scenario == "admin":
            raise Unsupported("kcat has no admin API (no topic create/delete, config "
                              "describe/alter or partition add)")
        if a.scenario not in scenarios:
            raise Fail("unknown scenario %r" % a.scenario)
        scenarios[a.scenario](kc, a.topic)
    except Unsupported as e:
        log("UNSUPPORTED: %s" % e)
        return EXIT_UNSUPPORTED
    except Fail as e:
        log("FAIL: %s" % e)
        return EXIT_FAIL
    except Exception:  # a driver bug or unparseable kcat output: still a clean failure
        log("FAIL: driver error\n" + traceback.format_exc())
        return EXIT_FAIL
    log("PASS")
    return EXIT_PASS


if __name__ == "__main__":
    sys.exit(main())
