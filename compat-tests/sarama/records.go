// records.go: the record conventions of SCENARIOS.md and the checks of a record
// read back against the one produced.
package main

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"
)

// record is one produced record: what was sent and, once acked, where it went.
type record struct {
	i          int
	key, value []byte // nil is a null key/value
	headers    []sarama.RecordHeader
	timestamp  time.Time // zero: the producer stamps it
	partition  int32     // the explicit partition with a manual partitioner, then the ack's
	offset     int64
}

// convRecord is record i: key key-<i%20> (null when i%10 == 9), value value-<i> (null
// when i%7 == 6), header idx=<i>, plus header empty="" when i%5 == 0.
func convRecord(i int) *record {
	r := &record{i: i}
	if i%10 != 9 {
		r.key = []byte(fmt.Sprintf("key-%d", i%20))
	}
	if i%7 != 6 {
		r.value = []byte(fmt.Sprintf("value-%d", i))
	}
	r.headers = []sarama.RecordHeader{{Key: []byte("idx"), Value: []byte(strconv.Itoa(i))}}
	if i%5 == 0 {
		// []byte{} (not nil) is encoded as a zero-length value, nil would be a null one.
		r.headers = append(r.headers, sarama.RecordHeader{Key: []byte("empty"), Value: []byte{}})
	}
	return r
}

func convRecords(n int) []*record {
	rs := make([]*record, n)
	for i := range rs {
		rs[i] = convRecord(i)
	}
	return rs
}

// message is the record as a ProducerMessage; Metadata points back at the record so
// the ack can be matched to it.
func (r *record) message(topic string) *sarama.ProducerMessage {
	m := &sarama.ProducerMessage{Topic: topic, Headers: r.headers, Partition: r.partition, Timestamp: r.timestamp, Metadata: r}
	// A nil Encoder is a null key/value; ByteEncoder(nil) would not be.
	if r.key != nil {
		m.Key = sarama.ByteEncoder(r.key)
	}
	if r.value != nil {
		m.Value = sarama.ByteEncoder(r.value)
	}
	return m
}

// acked records where the broker put the message.
func acked(m *sarama.ProducerMessage) {
	r := m.Metadata.(*record)
	r.partition, r.offset = m.Partition, m.Offset
}

// recordIndex is i from a message's idx header.
func recordIndex(m *sarama.ConsumerMessage) (int, bool) {
	if len(m.Headers) == 0 || m.Headers[0] == nil || string(m.Headers[0].Key) != "idx" {
		return 0, false
	}
	i, err := strconv.Atoi(string(m.Headers[0].Value))
	return i, err == nil
}

// sameBytes is byte equality that also tells null (nil) from empty.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func showBytes(b []byte) string {
	if b == nil {
		return "null"
	}
	return fmt.Sprintf("%.60q", b)
}

func showHeaders(hs []*sarama.RecordHeader) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = string(h.Key) + "=" + showBytes(h.Value)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// diff compares a fetched message's key, value and headers (in order) with the
// record; "" when they are byte-exact.
func (r *record) diff(m *sarama.ConsumerMessage) string {
	if !sameBytes(m.Key, r.key) {
		return fmt.Sprintf("key %s, want %s", showBytes(m.Key), showBytes(r.key))
	}
	if !sameBytes(m.Value, r.value) {
		return fmt.Sprintf("value %s (%d bytes), want %s (%d bytes)", showBytes(m.Value), len(m.Value), showBytes(r.value), len(r.value))
	}
	same := len(m.Headers) == len(r.headers)
	for j := 0; same && j < len(m.Headers); j++ {
		same = bytes.Equal(m.Headers[j].Key, r.headers[j].Key) && sameBytes(m.Headers[j].Value, r.headers[j].Value)
	}
	if !same {
		want := make([]*sarama.RecordHeader, len(r.headers))
		for j := range r.headers {
			want[j] = &r.headers[j]
		}
		return fmt.Sprintf("headers %s, want %s", showHeaders(m.Headers), showHeaders(want))
	}
	return ""
}

// readChecker checks messages read back against the produced records: each read
// once, byte-exact, where its ack said, i increasing with the offset within a
// partition (= produce order), every non-null key in one partition.
type readChecker struct {
	produced     []*record
	seen         []bool
	lastI        map[int32]int
	keyPartition map[string]int32
}

func newReadChecker(produced []*record) *readChecker {
	return &readChecker{produced: produced, seen: make([]bool, len(produced)),
		lastI: make(map[int32]int), keyPartition: make(map[string]int32)}
}

func (c *readChecker) check(m *sarama.ConsumerMessage) {
	i, ok := recordIndex(m)
	if !ok || i < 0 || i >= len(c.produced) {
		fail("partition %d offset %d: not a produced record (headers %s)", m.Partition, m.Offset, showHeaders(m.Headers))
	}
	if c.seen[i] {
		fail("record %d read twice (again at partition %d offset %d)", i, m.Partition, m.Offset)
	}
	c.seen[i] = true
	want := c.produced[i]
	if m.Partition != want.partition || m.Offset != want.offset {
		fail("record %d read at partition %d offset %d, acked at %d/%d", i, m.Partition, m.Offset, want.partition, want.offset)
	}
	if d := want.diff(m); d != "" {
		fail("record %d (partition %d offset %d): %s", i, m.Partition, m.Offset, d)
	}
	if last, ok := c.lastI[m.Partition]; ok && i <= last {
		fail("partition %d: record %d at offset %d comes after record %d (want produce order)", m.Partition, i, m.Offset, last)
	}
	c.lastI[m.Partition] = i
	if m.Key != nil {
		if p, ok := c.keyPartition[string(m.Key)]; ok && p != m.Partition {
			fail("key %q in partitions %d and %d", m.Key, p, m.Partition)
		}
		c.keyPartition[string(m.Key)] = m.Partition
	}
}
