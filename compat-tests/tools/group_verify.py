#!/usr/bin/env python3
"""Helpers for compat-tests/groups_check.sh: wait for assignments, wait for consumers to
catch up, and check what group consumers processed against what was produced.
Standard library only.

  group_verify.py wait-assignment --timeout S --partitions P [--stable S2] NAME=LOG:COUNT ...
      Waits until the last "assigned: TOPIC:p,p,..." line of each LOG lists COUNT
      partitions, the lists are disjoint and together cover 0..P-1, and that has held
      for --stable seconds (default 1). Prints the assignment; exit 1 on timeout.

  group_verify.py caught-up --timeout S --produced FILE NAME=RECORD ...
      Waits until every produced record has been processed ("r" lines) and every
      partition's acknowledged commits ("c" lines) reached its end. Exit 1 on timeout.

  group_verify.py check --produced FILE [--produced FILE] [--no-rereads] NAME=RECORD ...
      Every produced record processed at least once with the same value (no skip, no
      offset holding another record); prints the duplicates, and fails if a record was
      read again although, when it was read again, the latest acknowledged commit of its
      partition was already past it (a commit the broker acknowledged was lost or
      ignored). With --no-rereads any record read twice fails the check.

Produced files hold "PARTITION OFFSET VALUE" lines (python/group_produce.py); record files
"r MS PARTITION OFFSET VALUE" and "c MS PARTITION NEXT_OFFSET" lines (the group-consume
programs' --record).
"""
import argparse
import sys
import time
from collections import defaultdict


def last_assignment(path):
    last = None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("assigned: ") and line.endswith("\n"):
                    last = line
    except FileNotFoundError:
        return None
    if last is None:
        return None
    parts = last.strip().rsplit(":", 1)[1]
    return sorted(int(p) for p in parts.split(",") if p)


def parse_specs(specs, with_count):
    out = []
    for spec in specs:
        name, rest = spec.split("=", 1)
        if with_count:
            path, count = rest.rsplit(":", 1)
            out.append((name, path, int(count)))
        else:
            out.append((name, rest))
    return out


def wait_assignment(args):
    members = parse_specs(args.members, True)
    start = time.monotonic()
    deadline = start + args.timeout
    good_since = None
    state = ""
    while True:
        got = [(name, last_assignment(path), count) for name, path, count in members]
        state = "  ".join("%s=%s" % (name, "-" if a is None else ",".join(map(str, a)) or "none")
                          for name, a, _ in got)
        ok = all(a is not None and len(a) == count for _, a, count in got)
        if ok:
            union = [p for _, a, _ in got for p in a]
            ok = sorted(union) == list(range(args.partitions))
        now = time.monotonic()
        if ok:
            if good_since is None:
                good_since = now
            if now - good_since >= args.stable:
                print("%s (after %.1f s)" % (state, good_since - start))
                return 0
        else:
            good_since = None
        if now > deadline:
            print("timed out after %.0f s; last assignment: %s" % (args.timeout, state))
            return 1
        time.sleep(0.2)


def read_produced(paths):
    produced = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                fields = line.split()
                if len(fields) == 3:
                    produced[(int(fields[0]), int(fields[1]))] = fields[2]
    return produced


def read_record(path):
    """(reads, commits): reads [(ms, partition, offset, value)], commits [(ms, partition, next)]."""
    reads, commits = [], []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.endswith("\n"):
                    break  # being written
                fields = line.split()
                try:
                    if fields[0] == "r" and len(fields) >= 4:
                        reads.append((int(fields[1]), int(fields[2]), int(fields[3]),
                                      fields[4] if len(fields) > 4 else ""))
                    elif fields[0] == "c" and len(fields) == 4:
                        commits.append((int(fields[1]), int(fields[2]), int(fields[3])))
                except ValueError:
                    continue
    except FileNotFoundError:
        pass
    return reads, commits


def caught_up(args):
    produced = read_produced(args.produced)
    end = defaultdict(int)
    for (p, o) in produced:
        end[p] = max(end[p], o + 1)
    records = parse_specs(args.records, False)
    if not produced:
        print("nothing was produced")
        return 1
    deadline = time.monotonic() + args.timeout
    while True:
        seen = set()
        committed = defaultdict(int)
        for _, path in records:
            reads, commits = read_record(path)
            seen.update((p, o) for _, p, o, _ in reads)
            for _, p, x in commits:
                committed[p] = max(committed[p], x)
        missing = [k for k in produced if k not in seen]
        behind = {p: (committed[p], e) for p, e in end.items() if committed[p] < e}
        if not missing and not behind:
            print("all %d produced records processed and committed" % len(produced))
            return 0
        if time.monotonic() > deadline:
            print("timed out after %.0f s: %d of %d produced records not processed; commits behind "
                  "(partition: committed/end): %s" % (args.timeout, len(missing), len(produced),
                                                     ", ".join("%d: %d/%d" % (p, c, e) for p, (c, e) in sorted(behind.items()))))
            return 1
        time.sleep(0.3)


def check(args):
    produced = read_produced(args.produced)
    records = parse_specs(args.records, False)
    reads = []  # (ms, name, partition, offset, value)
    commits = defaultdict(list)  # partition -> [(ms, next)]
    per_member = {}
    for name, path in records:
        r, c = read_record(path)
        per_member[name] = (len(r), len(c))
        reads.extend((ms, name, p, o, v) for ms, p, o, v in r)
        for ms, p, x in c:
            commits[p].append((ms, x))
    for p in commits:
        commits[p].sort()
    reads.sort(key=lambda r: r[0])

    problems = []
    first_read = {}
    dups = defaultdict(list)
    lost_commit = []
    foreign = []
    for ms, name, p, o, v in reads:
        want = produced.get((p, o))
        if want is None:
            foreign.append((name, p, o, v))
        elif want != v:
            problems.append("%s read %d@%d = %r, but the producer was told %r is there" % (name, p, o, v, want))
        if (p, o) not in first_read:
            first_read[(p, o)] = (ms, name)
            continue
        dups[p].append((o, name))
        # The latest acknowledged commit of the partition before this read.
        latest = None
        for cms, x in commits.get(p, []):
            if cms < ms:
                latest = x
            else:
                break
        if latest is not None and latest > o:
            lost_commit.append("%s read %d@%d again at %d, after a commit of %d@%d was acknowledged "
                               "(first read by %s)" % (name, p, o, ms, p, latest, first_read[(p, o)][1]))
    if not produced:
        problems.append("nothing was produced (see the producer's output)")
    missing = sorted(k for k in produced if k not in first_read)
    print("produced %d records; read %d (%d distinct) by %s" % (
        len(produced), len(reads), len(first_read),
        ", ".join("%s %d reads/%d commits" % (n, r, c) for n, (r, c) in per_member.items())))
    ndups = sum(len(v) for v in dups.values())
    if ndups:
        print("read more than once: %d (%s)" % (ndups, "; ".join(
            "partition %d: %d, offsets %d-%d by %s" % (p, len(v), min(o for o, _ in v), max(o for o, _ in v),
                                                        ",".join(sorted({n for _, n in v})))
            for p, v in sorted(dups.items()))))
    else:
        print("no record read twice")
    if foreign:
        print("read but not in the producer's delivery reports: %d (e.g. %s)" % (
            len(foreign), ", ".join("%d@%d=%s" % (p, o, v) for _, p, o, v in foreign[:5])))
    if missing:
        problems.append("%d produced record(s) never read, e.g. %s" % (
            len(missing), ", ".join("%d@%d" % k for k in missing[:10])))
    if lost_commit:
        problems.append("%d record(s) read again below an acknowledged commit, e.g. %s" % (
            len(lost_commit), "; ".join(lost_commit[:5])))
    if args.no_rereads and ndups:
        problems.append("%d record(s) read twice where none may be" % ndups)
    for p in problems:
        print("PROBLEM: " + p)
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wait-assignment")
    w.add_argument("--timeout", type=float, required=True)
    w.add_argument("--partitions", type=int, required=True)
    w.add_argument("--stable", type=float, default=1.0)
    w.add_argument("members", nargs="+")
    c = sub.add_parser("caught-up")
    c.add_argument("--timeout", type=float, required=True)
    c.add_argument("--produced", action="append", required=True)
    c.add_argument("records", nargs="+")
    k = sub.add_parser("check")
    k.add_argument("--produced", action="append", required=True)
    k.add_argument("--no-rereads", action="store_true")
    k.add_argument("records", nargs="+")
    args = ap.parse_args()
    return {"wait-assignment": wait_assignment, "caught-up": caught_up, "check": check}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
