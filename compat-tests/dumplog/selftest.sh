#!/usr/bin/env bash
# selftest.sh: proves check.sh passes a log Apache Kafka itself wrote and fails
# on damaged copies of it. No Petrel, no cargo. Needs install.sh to have run.
# Writes the Kafka log with WriteKafkaLog (UnifiedLog.appendAsLeader, 40 batches
# of 5 records, rolls every 10 batches, leader epochs 0 then 3).
# Prints one line per case and a closing 'N passed, N failed'; exit 1 if any failed.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHECK="$HERE/check.sh"
W="$(mktemp -d /tmp/dumplog-selftest.XXXXXX)"
trap 'rm -rf "$W"' EXIT
passed=0; failed=0

java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$HERE/target/petrel-dumplog.jar:$HERE/target/lib/*" \
    dev.petrel.dumplog.WriteKafkaLog "$W/kafka" >"$W/expected.txt" || { echo "FAIL: WriteKafkaLog"; exit 1; }
GOOD="$W/kafka/sample-0"
SEG1=00000000000000000050

# case NAME WANT(pass|fail) GREP-PATTERN MUTATION...: copies the good log, applies
# the mutation (a shell snippet run in the copy, with $EXP the EXPECTED copy),
# runs check.sh and compares exit status (and, when failing, that the output
# names the reason).
case_() {
    local name="$1" want="$2" pattern="$3" mutation="$4"
    local d="$W/case-$name"
    rm -rf "$d"; mkdir -p "$d"; cp -r "$GOOD" "$d/sample-0"; cp "$W/expected.txt" "$d/expected.txt"
    (cd "$d/sample-0" && EXP="$d/expected.txt" && eval "$mutation") || { echo "FAIL: $name (mutation failed)"; failed=$((failed+1)); return; }
    local out rc
    out="$(KEEP_OUT="$d/out" ${CASE_ENV:-} "$CHECK" "$d/sample-0" "$d/expected.txt" 2>&1)"; rc=$?
    if [ "$want" = pass ] && [ $rc -eq 0 ]; then
        echo "ok:   $name -> ${out%%$'\n'*}"; passed=$((passed+1))
    elif [ "$want" = fail ] && [ $rc -eq 1 ] && grep -Eq "$pattern" <<<"$out"; then
        echo "ok:   $name -> $(grep -m1 '^FAIL' <<<"$out")"; passed=$((passed+1))
    else
        echo "FAIL: $name (want $want, check.sh exit $rc)"; sed 's/^/      /' <<<"$out" | head -30; failed=$((failed+1))
    fi
}
# flip BYTE-OFFSET FILE: XOR one byte with 0x01.
flip() { python3 -c 'import sys; p,o=sys.argv[2],int(sys.argv[1]); b=bytearray(open(p,"rb").read()); b[o]^=1; open(p,"wb").write(b)' "$1" "$2"; }
export -f flip

case_ kafka-written      pass ''                                   ':'
# 196-byte batches: byte 150 of the 2nd batch (position 196) is inside a record value.
case_ flipped-value-byte fail 'not valid \(CRC'                     "flip \$((196+150)) $SEG1.log"
case_ flipped-crc-byte   fail 'not valid \(CRC'                     "flip 20 $SEG1.log"
case_ truncated-log      fail 'invalid bytes|decoded|EXPECTED'      "truncate -s -7 $SEG1.log"
case_ wrong-value        fail 'differs from EXPECTED'               "sed -i 's/^offset=77 key=key-15-2 value=value-15-2\$/offset=77 key=key-15-2 value=value-15-X/' \"\$EXP\""
case_ missing-line       fail 'differs from EXPECTED'               "sed -i '/^offset=120 /d' \"\$EXP\""
case_ extra-line         fail 'differs from EXPECTED'               "echo 'offset=200 key=key-40-0 value=value-40-0' >> \"\$EXP\""
case_ index-position     fail 'Mismatches|not a batch start|exceeds end' "flip 4 $SEG1.index"
case_ index-offset       fail 'Mismatches|ends at'                  "flip 3 $SEG1.index"
case_ index-bad-length   fail 'sanity'                              "printf 'xyz' >> $SEG1.index"
case_ timeindex-ts       fail 'timestamp mismatch|maxTimestamp'     "flip 7 $SEG1.timeindex"
case_ missing-index      fail 'has no .index'                       "rm $SEG1.index"
case_ epoch-file-garbled fail 'leader-epoch-checkpoint rejected'    "printf '0\n3\n0 0\n3 100\n' > leader-epoch-checkpoint"
case_ epoch-wrong-offset fail 'lacks epoch 3'                       "printf '0\n2\n0 0\n3 95\n' > leader-epoch-checkpoint"
CASE_ENV="env EXPECT_HEADER_KEYS=x" case_ header-keys fail 'headerKeys'  ':'

echo "dumplog selftest: $passed passed, $failed failed"
[ $failed -eq 0 ]
