#!/usr/bin/env bash
# check.sh LOGDIR EXPECTED
#
# Judges one partition directory (Kafka on-disk layout) with Apache Kafka's own
# DumpLogSegments (the class behind bin/kafka-dump-log.sh), pinned in pom.xml.
# Exit 0 and one PASS line only if, for every segment:
#   - the tool decodes every .log batch (deep iteration, data printed): magic 2,
#     isvalid: true (CRC-32C ok), count/offsets/max timestamp consistent with
#     the records, no trailing invalid bytes, offsets contiguous across segments;
#   - the (offset, key, value) of every record equals the lines of EXPECTED
#     (`offset=<o> key=<k> value=<v>`, in order), and every record carries the
#     header keys $EXPECT_HEADER_KEYS (default "h"; empty string = don't check;
#     the tool prints header keys, not header values);
#   - .index and .timeindex pass --index-sanity-check and --verify-index-only,
#     and the full index dump reports no mismatch (offset index entry = last
#     offset of the batch at that position; time index entry = max timestamp
#     and last offset of a batch, timestamps strictly increasing);
#   - leader-epoch-checkpoint (which DumpLogSegments ignores) parses with
#     Kafka's LeaderEpochCheckpointFile and agrees with the batches' epochs.
# Anything else: exit 1 with the tool lines that show why. Exit 2: usage/setup.
# KEEP_OUT=DIR keeps the raw tool output there (it is kept anyway on failure).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LIB="$HERE/target/lib"
JAR="$HERE/target/petrel-dumplog.jar"
TOOL=org.apache.kafka.tools.DumpLogSegments

if [ $# -ne 2 ]; then
    echo "usage: $0 LOGDIR EXPECTED" >&2
    exit 2
fi
LOGDIR="$(cd "$1" 2>/dev/null && pwd)" || { echo "check.sh: no such directory: $1" >&2; exit 2; }
EXPECTED="$2"
[ -f "$EXPECTED" ] || { echo "check.sh: no such file: $EXPECTED" >&2; exit 2; }
if [ ! -f "$JAR" ] || ! ls "$LIB"/kafka-tools-*.jar >/dev/null 2>&1; then
    echo "check.sh: $HERE/target not built; run compat-tests/dumplog/install.sh first" >&2
    exit 2
fi
case "$LOGDIR" in *,*) echo "check.sh: LOGDIR must not contain a comma (the tool's --files is comma-separated)" >&2; exit 2;; esac
KAFKA_VERSION="$(ls "$LIB" | sed -n 's/^kafka-tools-\([0-9][0-9.]*\)\.jar$/\1/p')"

if [ -n "${KEEP_OUT:-}" ]; then
    OUT="$KEEP_OUT"; mkdir -p "$OUT"
else
    OUT="$(mktemp -d /tmp/dumplog-check.XXXXXX)"
fi

JAVA=(java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$JAR:$LIB/*")

# The tool runs on a copy: it is not read-only (dumping a .timeindex whose
# .index is missing creates an empty .index, for one).
ORIG="$LOGDIR"
rm -rf "$OUT/partition"; mkdir -p "$OUT/partition"
cp -a "$ORIG" "$OUT/partition/"
LOGDIR="$OUT/partition/$(basename "$ORIG")"

# Files by kind, in base-offset order (names are zero-padded, so lexical order is numeric).
mapfile -t LOGS < <(find "$LOGDIR" -maxdepth 1 -type f -name '*.log' | sort)
mapfile -t IDXS < <(find "$LOGDIR" -maxdepth 1 -type f \( -name '*.index' -o -name '*.timeindex' \) | sort)
mapfile -t OTHERS < <(find "$LOGDIR" -maxdepth 1 -type f \( -name '*.snapshot' -o -name '*.txnindex' \) | sort)
if [ ${#LOGS[@]} -eq 0 ]; then
    echo "FAIL: no .log segment in $LOGDIR" >&2
    exit 1
fi
join_commas() { local IFS=,; echo "$*"; }

# run NAME ARGS...: runs the tool, keeping stdout/stderr/rc under $OUT.
run() {
    local name="$1"; shift
    set +e
    "${JAVA[@]}" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
    echo $? >"$OUT/$name.rc"
    set -e
}
run log "$TOOL" --deep-iteration --print-data-log --files "$(join_commas "${LOGS[@]}")"
if [ ${#IDXS[@]} -gt 0 ]; then
    run sanity "$TOOL" --index-sanity-check --files "$(join_commas "${IDXS[@]}")"
    run verify "$TOOL" --verify-index-only --files "$(join_commas "${IDXS[@]}")"
    run index "$TOOL" --files "$(join_commas "${IDXS[@]}")"
fi
if [ ${#OTHERS[@]} -gt 0 ]; then
    run other "$TOOL" --files "$(join_commas "${OTHERS[@]}")"
fi
if [ -e "$LOGDIR/leader-epoch-checkpoint" ]; then
    run epoch dev.petrel.dumplog.ReadLeaderEpochCheckpoint "$LOGDIR/leader-epoch-checkpoint"
fi

set +e
python3 - "$LOGDIR" "$EXPECTED" "$OUT" "$KAFKA_VERSION" "${EXPECT_HEADER_KEYS-h}" "$ORIG" <<'PY'
import os, re, sys

logdir, expected_path, out, kafka_version, want_hdrs, orig = sys.argv[1:7]
fails, warns = [], []

def fail(msg, lines=()):
    # Name the caller's directory, not the copy the tool ran on.
    fails.append((msg.replace(logdir, orig), [ln.replace(logdir, orig) for ln in lines]))

def read(name, ext):
    p = os.path.join(out, name + "." + ext)
    if not os.path.exists(p):
        return None
    with open(p, encoding="utf-8", errors="replace") as f:
        return f.read()

def tool_run(name, what):
    """Returns (stdout lines, stderr lines) of a tool run that exited 0; None if
    it did not run or failed (a non-zero exit fails with its last lines)."""
    rc = read(name, "rc")
    if rc is None:
        return None
    so, se = read(name, "out").splitlines(), read(name, "err").splitlines()
    if rc.strip() != "0":
        fail(f"{what}: tool exited {rc.strip()}", so[-3:] + se[:12])
        return None
    return so, se

def sections(lines):
    """Splits tool stdout at its 'Dumping <path>' lines."""
    cur, res = None, {}
    for ln in lines:
        if ln.startswith("Dumping "):
            cur = ln[len("Dumping "):]
            res[cur] = []
        elif cur is None:
            res.setdefault("<before any Dumping line>", []).append(ln)
        else:
            res[cur].append(ln)
    return res

def base_of(path):
    name = os.path.basename(path)
    m = re.fullmatch(r"(\d{20})\.(log|index|timeindex|snapshot|txnindex)", name)
    return int(m.group(1)) if m else None

# ---------------------------------------------------------------- directory
# (of the caller's directory: the tool may have added files to the copy)
for name in sorted(os.listdir(orig)):
    if base_of(name) is None and name not in ("leader-epoch-checkpoint", "partition.metadata"):
        warns.append(f"file not in Kafka's layout (ignored): {name}")
logs = sorted(n for n in os.listdir(orig) if n.endswith(".log"))
for n in logs:
    if base_of(n) is None:
        fail(f"segment name is not <20-digit base offset>.log: {n}")
    for ext in ("index", "timeindex"):
        if not os.path.exists(os.path.join(orig, n[:-4] + "." + ext)):
            fail(f"segment {n} has no .{ext} (Kafka keeps both index files for every segment)")
for n in os.listdir(orig):
    if n.endswith((".index", ".timeindex")) and not os.path.exists(os.path.join(orig, n.rsplit(".", 1)[0] + ".log")):
        fail(f"index file without its segment: {n}")

# ---------------------------------------------------------------- .log dump
BATCH = re.compile(
    r"baseOffset: (\d+) lastOffset: (\d+) count: (\S+) baseSequence: (-?\d+) lastSequence: (-?\d+) "
    r"producerId: (-?\d+) producerEpoch: (-?\d+) partitionLeaderEpoch: (-?\d+) isTransactional: (\w+) "
    r"isControl: (\w+) deleteHorizonMs: (\S+) position: (\d+) (\w+): (-?\d+) size: (\d+) magic: (\d+) "
    r"compresscodec: (\w+) crc: (\d+) isvalid: (\w+)")
RECORD = re.compile(
    r"\| offset: (\d+) (\w+): (-?\d+) keySize: (-?\d+) valueSize: (-?\d+) sequence: (-?\d+) "
    r"headerKeys: \[(.*?)\](?: key: (.*?))?(?: payload: (.*))?")
SUSPECT = re.compile(r"corrupt|mismatch|exception|invalid|error", re.I)

segments = []          # [{path, base, batches: [...]}]
records = []           # (offset, key, value) of data records, log order
res = tool_run("log", "DumpLogSegments --deep-iteration --print-data-log")
if res is not None:
    so, se = res
    secs = sections(so)
    for path, lines in secs.items():
        base = base_of(path)
        seg = {"path": path, "base": base, "batches": []}
        segments.append(seg)
        batch = None
        for ln in lines:
            if ln.startswith("Log starting offset: "):
                if int(ln.split(": ")[1]) != base:
                    fail(f"{path}: tool read base offset {ln}", [ln])
                continue
            m = BATCH.fullmatch(ln)
            if m:
                g = m.groups()
                batch = {"base": int(g[0]), "last": int(g[1]), "count": g[2], "epoch": int(g[7]),
                         "control": g[9] == "true", "pos": int(g[11]), "tstype": g[12], "maxts": int(g[13]),
                         "size": int(g[14]), "magic": int(g[15]), "valid": g[18], "line": ln, "recs": []}
                seg["batches"].append(batch)
                continue
            m = RECORD.fullmatch(ln)
            if m and batch is not None:
                off, tstype, ts, ksz, vsz, seq, hdrs, key, val = m.groups()
                batch["recs"].append({"off": int(off), "ts": int(ts), "ksz": int(ksz), "vsz": int(vsz),
                                      "hdrs": hdrs, "key": key, "val": val, "line": ln})
                continue
            if re.fullmatch(r"Found \d+ invalid bytes at the end of .*", ln):
                fail(f"{path}: bytes after the last whole batch", [ln])
                continue
            if ln.startswith("offset: ") and " magic: " in ln:
                fail(f"{path}: legacy (magic < 2) message set, not a v2 record batch", [ln])
                continue
            fail(f"{path}: unexpected tool output", [ln])
    # The tool's per-file record counter starts at -1, so every segment but the
    # one at offset 0 gets "-1 is followed by <base>": that one line is expected.
    i = 0
    while i < len(se):
        ln = se[i]
        m = re.fullmatch(r"Non-consecutive offsets in (.*)", ln)
        if m:
            base = base_of(m.group(1))
            j = i + 1
            while j < len(se) and se[j].startswith("  "):
                if se[j].strip() != f"-1 is followed by {base}":
                    fail(f"{m.group(1)}: non-consecutive record offsets", [ln, se[j]])
                j += 1
            i = j
            continue
        fail("DumpLogSegments (.log) wrote to stderr", se[i:i + 12])
        break

expected_next = None
n_batches = 0
for seg in segments:
    path, b0 = seg["path"], seg["base"]
    if seg["batches"] and seg["batches"][0]["base"] != b0:
        fail(f"{path}: first batch starts at {seg['batches'][0]['base']}, segment base offset is {b0}",
             [seg["batches"][0]["line"]])
    if expected_next is not None and b0 is not None and seg["batches"] and b0 != expected_next:
        fail(f"{path}: segment base offset {b0}, previous segment ended before {expected_next}")
    pos = 0
    for b in seg["batches"]:
        n_batches += 1
        ln = b["line"]
        if b["magic"] != 2:
            fail(f"{path}: batch magic {b['magic']}, want 2", [ln])
        if b["valid"] != "true":
            fail(f"{path}: batch at position {b['pos']} is not valid (CRC-32C mismatch)", [ln])
        if b["pos"] != pos:
            fail(f"{path}: batch position {b['pos']}, want {pos}", [ln])
        pos += b["size"]
        if expected_next is not None and b["base"] != expected_next:
            fail(f"{path}: batch baseOffset {b['base']}, want {expected_next} (gap or overlap)", [ln])
        expected_next = b["last"] + 1
        n = b["last"] - b["base"] + 1
        if b["count"] != str(n):
            fail(f"{path}: batch count {b['count']} but lastOffset-baseOffset+1 = {n}", [ln])
        recs = b["recs"]
        if len(recs) != n:
            fail(f"{path}: batch {b['base']}..{b['last']} decoded {len(recs)} records, want {n}", [ln])
        if recs:
            offs = [r["off"] for r in recs]
            if offs != list(range(b["base"], b["base"] + len(recs))):
                fail(f"{path}: record offsets {offs[0]}..{offs[-1]} not consecutive from baseOffset {b['base']}",
                     [ln] + [r["line"] for r in recs])
            if b["tstype"] == "CreateTime" and max(r["ts"] for r in recs) != b["maxts"]:
                fail(f"{path}: batch maxTimestamp {b['maxts']} != max record timestamp "
                     f"{max(r['ts'] for r in recs)}", [ln])
        if b["control"]:
            continue
        for r in recs:
            key, val = r["key"], r["val"]
            if key is not None and len(key.encode()) != r["ksz"]:
                fail(f"{path}: keySize {r['ksz']} != decoded key length", [r["line"]])
            if val is not None and len(val.encode()) != r["vsz"]:
                fail(f"{path}: valueSize {r['vsz']} != decoded value length", [r["line"]])
            if want_hdrs and r["hdrs"] != want_hdrs:
                fail(f"{path}: headerKeys [{r['hdrs']}], want [{want_hdrs}]", [r["line"]])
            records.append(f"offset={r['off']} key={'<null>' if key is None else key} "
                           f"value={'<null>' if val is None else val}")
    seg["end"] = pos

# ---------------------------------------------------------------- EXPECTED
with open(expected_path, encoding="utf-8") as f:
    expected = f.read().splitlines()
while expected and expected[-1] == "":
    expected.pop()
if records != expected:
    for i in range(max(len(records), len(expected))):
        got = records[i] if i < len(records) else "<no more records>"
        want = expected[i] if i < len(expected) else "<end of EXPECTED>"
        if got != want:
            fail(f"record #{i} differs from EXPECTED line {i + 1} "
                 f"({len(records)} records decoded, {len(expected)} expected)",
                 [f"tool:     {got}", f"EXPECTED: {want}"])
            break

# ---------------------------------------------------------------- indexes
by_path = {s["path"]: s for s in segments}
def seg_for(idx_path):
    return by_path.get(idx_path.rsplit(".", 1)[0] + ".log")

n_idx = n_tidx = 0
idx_paths = sorted(os.path.join(logdir, n) for n in os.listdir(logdir) if n.endswith((".index", ".timeindex")))
res = tool_run("sanity", "DumpLogSegments --index-sanity-check")
if res is not None:
    so, se = res
    secs = sections(so)
    for p in idx_paths:
        lines = secs.get(p)
        if lines is None:
            fail(f"--index-sanity-check did not reach {p}")
            continue
        if lines not in ([f"{p} passed sanity check."], [f"{p} is empty."]):
            fail(f"{p}: index sanity check did not pass", lines)
    if se:
        fail("DumpLogSegments --index-sanity-check wrote to stderr", se[:12])

res = tool_run("verify", "DumpLogSegments --verify-index-only")
if res is not None:
    so, se = res
    for p, lines in sections(so).items():
        for ln in lines:
            if ln != f"{p} is empty.":
                fail(f"{p}: --verify-index-only output", [ln])
    if se:
        fail("DumpLogSegments --verify-index-only reported problems", se[:60])

res = tool_run("index", "DumpLogSegments (index dump)")
if res is not None:
    so, se = res
    if se:
        fail("DumpLogSegments index dump reported problems", se[:60])
    for p, lines in sections(so).items():
        seg = seg_for(p)
        batches = seg["batches"] if seg else []
        by_pos = {b["pos"]: b for b in batches}
        by_last = {b["last"]: b for b in batches}
        if p.endswith(".index"):
            prev = None
            for ln in lines:
                if ln == f"{p} is empty.":
                    continue
                m = re.fullmatch(r"offset: (\d+) position: (\d+)", ln)
                if not m:
                    fail(f"{p}: unexpected index dump line", [ln]); continue
                n_idx += 1
                off, pos = int(m.group(1)), int(m.group(2))
                b = by_pos.get(pos)
                if b is None:
                    fail(f"{p}: entry position {pos} is not a batch start in the .log", [ln])
                elif b["last"] != off:
                    fail(f"{p}: entry offset {off}, batch at {pos} ends at {b['last']}", [ln, b["line"]])
                if prev and (off <= prev[0] or pos <= prev[1]):
                    fail(f"{p}: entries not strictly increasing", [ln])
                prev = (off, pos)
        else:
            prev_ts = None
            last_ln = None
            for ln in lines:
                m = re.fullmatch(r"timestamp: (-?\d+) offset: (\d+)", ln)
                if not m:
                    fail(f"{p}: unexpected time index dump line", [ln]); continue
                n_tidx += 1
                ts, off = int(m.group(1)), int(m.group(2))
                b = by_last.get(off)
                if b is None:
                    fail(f"{p}: entry offset {off} is not the last offset of a batch", [ln])
                elif b["maxts"] != ts:
                    fail(f"{p}: entry timestamp {ts}, batch {b['base']}..{b['last']} maxTimestamp {b['maxts']}",
                         [ln, b["line"]])
                if prev_ts is not None and ts <= prev_ts:
                    fail(f"{p}: timestamps not strictly increasing", [ln])
                prev_ts, last_ln = ts, ln
            if batches:
                seg_max = max(b["maxts"] for b in batches)
                if prev_ts != seg_max:
                    warns.append(f"{os.path.basename(p)}: last entry is {last_ln or 'none'}, segment max timestamp is "
                                 f"{seg_max} (Kafka appends it on roll/close and reloads the segment's "
                                 f"max timestamp from it, e.g. for time retention)")

res = tool_run("other", "DumpLogSegments (.snapshot/.txnindex)")
if res is not None and res[1]:
    fail("DumpLogSegments (.snapshot/.txnindex) reported problems", res[1][:40])

# ---------------------------------------------------------------- leader epochs
n_epochs = 0
rc = read("epoch", "rc")
if rc is None:
    if any(b["epoch"] >= 0 for s in segments for b in s["batches"]):
        fail("no leader-epoch-checkpoint, but batches carry partitionLeaderEpoch >= 0")
else:
    so, se = read("epoch", "out").splitlines(), read("epoch", "err").splitlines()
    if rc.strip() != "0" or se:
        fail("leader-epoch-checkpoint rejected", se or so)
    else:
        cp = []
        for ln in so:
            m = re.fullmatch(r"epoch=(\d+) startOffset=(\d+)", ln)
            cp.append((int(m.group(1)), int(m.group(2))))
        n_epochs = len(cp)
        firsts, last_epoch = [], None
        for s in segments:
            for b in s["batches"]:
                e = b["epoch"]
                if e < 0:
                    continue
                if last_epoch is not None and e < last_epoch:
                    fail(f"batch epochs go backwards: {e} after {last_epoch}", [b["line"]])
                if e != last_epoch:
                    firsts.append((e, b["base"]))
                last_epoch = e
        for e, off in firsts:
            if (e, off) not in cp:
                fail(f"leader-epoch-checkpoint lacks epoch {e} starting at offset {off} "
                     f"(the first batch with that partitionLeaderEpoch)", [f"checkpoint: {cp}"])
        for e, off in cp:
            if (e, off) not in firsts:
                warns.append(f"leader-epoch-checkpoint entry epoch={e} startOffset={off} matches no batch")

# ---------------------------------------------------------------- catch-all
for name in ("log", "sanity", "verify", "index", "other", "epoch"):
    for ext in ("out", "err"):
        txt = read(name, ext)
        for ln in (txt or "").splitlines():
            if not ln.startswith("| offset: ") and SUSPECT.search(ln):
                if not any(ln.replace(logdir, orig) in l for _, lines in fails for l in lines):
                    fail(f"suspicious tool output ({name}.{ext})", [ln])
                    break

for w in warns:
    print(f"WARN: {w}")
if fails:
    for msg, lines in fails[:30]:
        print(f"FAIL: {msg}")
        for ln in lines[:20]:
            print(f"    {ln}")
    if len(fails) > 30:
        print(f"FAIL: ... and {len(fails) - 30} more")
    sys.exit(1)
n_segs = len(segments)
print(f"PASS: Kafka {kafka_version} DumpLogSegments decoded {n_segs} segments, {n_batches} batches (all isvalid/CRC ok), "
      f"{len(records)} records == EXPECTED; {n_idx} offset-index + {n_tidx} time-index entries verified, "
      f"sanity-checked; {n_epochs} leader epochs checked")
PY
rc=$?
set -e
if [ $rc -ne 0 ] || [ -n "${KEEP_OUT:-}" ]; then
    echo "(raw tool output kept in $OUT)"
else
    rm -rf "$OUT"
fi
exit $rc
