// driver.go: the `driver` subcommand, franz-go's driver for compat-tests/run.
// It implements every scenario of ../SCENARIOS.md (the contract: command line, exit
// codes, record conventions, checks) with kgo and kadm, used as an application would.
//
//	petrel-compat driver --bootstrap HOST:PORT --scenario NAME --topic TOPIC
//
// Exit 0 pass, 1 fail (the reason is the last line on stdout), 2 bad usage.
// franz-go has every feature the scenarios need, so this driver never exits 77.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	drvPartitions  = 6                // every scenario topic has 6 partitions
	drvWait        = 30 * time.Second // bound on waiting for expected records (SCENARIOS.md)
	drvGroupWait   = 45 * time.Second // bound on each group-rebalance wait (SCENARIOS.md)
	drvRequestWait = 15 * time.Second // bound on a single admin call or produce batch
	drvDeadline    = 85 * time.Second // whole run; the harness kills us at 90 s
)

var drvScenarios = map[string]func(*driver){
	"metadata":               (*driver).metadata,
	"produce-consume-none":   func(d *driver) { d.produceConsume("none") },
	"produce-consume-gzip":   func(d *driver) { d.produceConsume("gzip") },
	"produce-consume-snappy": func(d *driver) { d.produceConsume("snappy") },
	"produce-consume-lz4":    func(d *driver) { d.produceConsume("lz4") },
	"produce-consume-zstd":   func(d *driver) { d.produceConsume("zstd") },
	"key-partitioning":       (*driver).keyPartitioning,
	"large-record":           (*driver).largeRecord,
	"seek-offset":            (*driver).seekOffset,
	"seek-timestamp":         (*driver).seekTimestamp,
	"admin":                  (*driver).admin,
	"group-rebalance":        (*driver).groupRebalance,
	"commit-resume":          (*driver).commitResume,
	"idempotence":            (*driver).idempotence,
}

type driver struct {
	bootstrap, topic string
	cl               *kgo.Client // plain client for admin requests (kadm)
	adm              *kadm.Client
}

func runDriver(args []string) {
	fs := flag.NewFlagSet("driver", flag.ExitOnError)
	bootstrap := fs.String("bootstrap", "", "broker HOST:PORT")
	scenario := fs.String("scenario", "", "scenario name (see SCENARIOS.md)")
	topic := fs.String("topic", "", "the scenario's fresh 6-partition topic")
	fs.Parse(args)
	run, ok := drvScenarios[*scenario]
	if *bootstrap == "" || *topic == "" || !ok || fs.NArg() > 0 {
		usageExit("driver takes --bootstrap HOST:PORT --scenario NAME --topic TOPIC with a scenario of SCENARIOS.md")
	}
	// Backstop only: every wait below has its own, shorter bound.
	time.AfterFunc(drvDeadline, func() { dfail("scenario did not finish within %s", drvDeadline) })

	cl, err := kgo.NewClient(baseOpts(*bootstrap)...)
	if err != nil {
		dfail("client: %v", err)
	}
	d := &driver{bootstrap: *bootstrap, topic: *topic, cl: cl, adm: kadm.NewClient(cl)}
	dlog("franz-go %s, scenario %s, topic %s", franzVersion(), *scenario, *topic)
	run(d)
	cl.Close()
	dlog("PASS")
}

var drvStart = time.Now()

// dlog prints one line of the run's log (stdout, kept by the harness), stamped with
// the seconds since the start so slow steps show.
func dlog(format string, args ...any) {
	fmt.Printf("%6.2fs "+format+"\n", append([]any{time.Since(drvStart).Seconds()}, args...)...)
}

// dfail prints what differed and exits 1.
func dfail(format string, args ...any) {
	dlog("FAIL: "+format, args...)
	os.Exit(1)
}

func ctxFor(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

// ---- record conventions (SCENARIOS.md "Record conventions") ----

// convRecord is record i of a scenario: key key-<i%20> (null when i%10 == 9), value
// value-<i> (null when i%7 == 6), header idx=<i>, plus header empty="" when i%5 == 0.
func convRecord(topic string, i int) *kgo.Record {
	r := &kgo.Record{Topic: topic}
	if i%10 != 9 {
		r.Key = []byte(fmt.Sprintf("key-%d", i%20))
	}
	if i%7 != 6 {
		r.Value = []byte(fmt.Sprintf("value-%d", i))
	}
	r.Headers = []kgo.RecordHeader{{Key: "idx", Value: []byte(strconv.Itoa(i))}}
	if i%5 == 0 {
		// []byte{} (not nil) is encoded as a zero-length value, nil would be a null one.
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: "empty", Value: []byte{}})
	}
	return r
}

// convRecords is records 0..n-1. Their Partition is 0, which only a producer with
// kgo.ManualPartitioner uses; otherwise the client's partitioner picks.
func convRecords(topic string, n int) []*kgo.Record {
	rs := make([]*kgo.Record, n)
	for i := range rs {
		rs[i] = convRecord(topic, i)
	}
	return rs
}

// recordIndex is i from a record's idx header.
func recordIndex(r *kgo.Record) (int, bool) {
	if len(r.Headers) == 0 || r.Headers[0].Key != "idx" {
		return 0, false
	}
	i, err := strconv.Atoi(string(r.Headers[0].Value))
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

func showHeaders(hs []kgo.RecordHeader) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = h.Key + "=" + showBytes(h.Value)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// recordDiff compares a fetched record's key, value and headers (in order) with the
// one produced; "" when they are byte-exact.
func recordDiff(got, want *kgo.Record) string {
	if !sameBytes(got.Key, want.Key) {
		return fmt.Sprintf("key %s, want %s", showBytes(got.Key), showBytes(want.Key))
	}
	if !sameBytes(got.Value, want.Value) {
		return fmt.Sprintf("value %s (%d bytes), want %s (%d bytes)", showBytes(got.Value), len(got.Value), showBytes(want.Value), len(want.Value))
	}
	same := len(got.Headers) == len(want.Headers)
	for j := 0; same && j < len(got.Headers); j++ {
		same = got.Headers[j].Key == want.Headers[j].Key && sameBytes(got.Headers[j].Value, want.Headers[j].Value)
	}
	if !same {
		return fmt.Sprintf("headers %s, want %s", showHeaders(got.Headers), showHeaders(want.Headers))
	}
	return ""
}

// ---- producing and consuming ----

// newProducer is a producer client with acks=all (franz-go's default, stated anyway)
// plus opts. A batch the broker rejects as out of sequence (franz-go's "data loss
// detected") fails the run: a broker never does that to one producer's in-order batches.
func (d *driver) newProducer(opts ...kgo.Opt) *kgo.Client {
	opts = append(append(baseOpts(d.bootstrap), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerOnDataLossDetected(func(t string, p int32) {
			dfail("broker rejected a batch of the idempotent producer for %s/%d as out of sequence (franz-go: data loss detected)", t, p)
		})), opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		dfail("producer client: %v", err)
	}
	return cl
}

// produceAll sends rs (asynchronously batched, in order) and waits for every ack; kgo
// fills in each record's partition and offset.
func produceAll(cl *kgo.Client, rs []*kgo.Record) {
	ctx, cancel := ctxFor(drvWait)
	defer cancel()
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		dfail("produce: %v", err)
	}
}

// newAssigned is a consumer without a group, assigned to the given partitions of the
// topic at the given offsets (assign + seek).
func (d *driver) newAssigned(at map[int32]kgo.Offset, opts ...kgo.Opt) *kgo.Client {
	cl, err := kgo.NewClient(append(append(baseOpts(d.bootstrap),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{d.topic: at})), opts...)...)
	if err != nil {
		dfail("consumer client: %v", err)
	}
	return cl
}

func allFromStart() map[int32]kgo.Offset {
	at := make(map[int32]kgo.Offset)
	for p := int32(0); p < drvPartitions; p++ {
		at[p] = kgo.NewOffset().AtStart()
	}
	return at
}

// poll returns the next records, failing on any fetch error; nil after wait with none.
func poll(cl *kgo.Client, wait time.Duration) []*kgo.Record {
	ctx, cancel := ctxFor(wait)
	defer cancel()
	fs := cl.PollFetches(ctx)
	fs.EachError(func(t string, p int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) {
			dfail("fetch %s/%d: %v", t, p, err)
		}
	})
	return fs.Records()
}

// pollN reads until n records arrived (more may come with the last fetch), bounded by drvWait.
func pollN(cl *kgo.Client, n int, what string) []*kgo.Record {
	var got []*kgo.Record
	deadline := time.Now().Add(drvWait)
	for len(got) < n {
		left := time.Until(deadline)
		if left <= 0 {
			dfail("%s: read %d of %d records within %s", what, len(got), n, drvWait)
		}
		got = append(got, poll(cl, left)...)
	}
	return got
}

// endOffsets is each partition's high watermark.
func (d *driver) endOffsets(topic string) map[int32]int64 {
	ctx, cancel := ctxFor(drvRequestWait)
	defer cancel()
	listed, err := d.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		dfail("ListOffsets(latest) %s: %v", topic, err)
	}
	ends := make(map[int32]int64)
	listed.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	return ends
}

// readBack reads the whole topic from the beginning of all 6 partitions and checks it
// holds exactly the produced records (acked, so each knows its partition and offset):
// each read once, byte-exact, where its ack said, and within a partition i increasing
// with the offset (= produce order); every non-null key in one partition. It returns
// each key's partition.
func (d *driver) readBack(produced []*kgo.Record) map[string]int32 {
	ends := d.endOffsets(d.topic)
	perPartition := make(map[int32]int64)
	for _, r := range produced {
		perPartition[r.Partition]++
	}
	for p := int32(0); p < drvPartitions; p++ {
		if ends[p] != perPartition[p] {
			dfail("partition %d: end offset %d, but %d records were acked there", p, ends[p], perPartition[p])
		}
	}

	cl := d.newAssigned(allFromStart())
	defer cl.Close()
	got := pollN(cl, len(produced), "read back")
	seen := make([]bool, len(produced))
	lastI := make(map[int32]int)
	keyPartition := make(map[string]int32)
	for _, r := range got {
		i, ok := recordIndex(r)
		if !ok || i < 0 || i >= len(produced) {
			dfail("partition %d offset %d: not a produced record (headers %s)", r.Partition, r.Offset, showHeaders(r.Headers))
		}
		if seen[i] {
			dfail("record %d read twice (again at partition %d offset %d)", i, r.Partition, r.Offset)
		}
		seen[i] = true
		want := produced[i]
		if r.Partition != want.Partition || r.Offset != want.Offset {
			dfail("record %d read at partition %d offset %d, acked at %d/%d", i, r.Partition, r.Offset, want.Partition, want.Offset)
		}
		if diff := recordDiff(r, want); diff != "" {
			dfail("record %d (partition %d offset %d): %s", i, r.Partition, r.Offset, diff)
		}
		if last, ok := lastI[r.Partition]; ok && i <= last {
			dfail("partition %d: record %d at offset %d comes after record %d (want produce order)", r.Partition, i, r.Offset, last)
		}
		lastI[r.Partition] = i
		if r.Key != nil {
			if p, ok := keyPartition[string(r.Key)]; ok && p != r.Partition {
				dfail("key %q in partitions %d and %d", r.Key, p, r.Partition)
			}
			keyPartition[string(r.Key)] = r.Partition
		}
	}
	if len(got) != len(produced) {
		dfail("read %d records, %d were produced", len(got), len(produced))
	}
	dlog("read back %d records from %d partitions: each once, byte-exact, at its acked offset, in produce order; each key in one partition",
		len(got), len(lastI))
	return keyPartition
}

// ---- scenarios ----

func (d *driver) metadata() {
	ctx, cancel := ctxFor(drvRequestWait)
	defer cancel()
	versions, err := d.adm.ApiVersions(ctx)
	if err != nil {
		dfail("ApiVersions: %v", err)
	}
	versions.Each(func(b kadm.BrokerApiVersions) {
		if b.Err != nil {
			dfail("ApiVersions from broker %d: %v", b.NodeID, b.Err)
		}
		for _, key := range []int16{0, 1, 2, 3, 18} { // Produce Fetch ListOffsets Metadata ApiVersions
			if _, _, ok := b.KeyVersions(key); !ok {
				dfail("ApiVersions from broker %d does not list API key %d", b.NodeID, key)
			}
		}
		dlog("ApiVersions: broker %d lists %d API keys", b.NodeID, len(b.Raw().ApiKeys))
	})

	md, err := d.adm.Metadata(ctx, d.topic)
	if err != nil {
		dfail("Metadata: %v", err)
	}
	host, port, _ := net.SplitHostPort(d.bootstrap)
	if len(md.Brokers) != 1 {
		dfail("Metadata lists %d brokers, want 1: %v", len(md.Brokers), md.Brokers)
	}
	b := md.Brokers[0]
	if b.Host != host || strconv.Itoa(int(b.Port)) != port {
		dfail("Metadata broker %d is %s:%d, want the bootstrap %s", b.NodeID, b.Host, b.Port, d.bootstrap)
	}
	dlog("Metadata: one broker, node %d at %s:%d (the bootstrap address)", b.NodeID, b.Host, b.Port)
	td, ok := md.Topics[d.topic]
	if !ok || td.Err != nil {
		dfail("Metadata: topic %s missing (err %v)", d.topic, td.Err)
	}
	if len(td.Partitions) != drvPartitions {
		dfail("Metadata: %s has %d partitions, want %d", d.topic, len(td.Partitions), drvPartitions)
	}
	for p := int32(0); p < drvPartitions; p++ {
		pd, ok := td.Partitions[p]
		if !ok || pd.Err != nil || pd.Leader != b.NodeID {
			dfail("Metadata: %s partition %d: listed %v, err %v, leader %d (want %d)", d.topic, p, ok, pd.Err, pd.Leader, b.NodeID)
		}
	}
	dlog("Metadata: %s has partitions 0..5, each led by node %d", d.topic, b.NodeID)
}

func (d *driver) produceConsume(codecName string) {
	codec, _ := codecFor(codecName)
	// Only this codec: franz-go's default is snappy, falling back to none.
	cl := d.newProducer(kgo.ProducerBatchCompression(codec))
	rs := convRecords(d.topic, 1000)
	produceAll(cl, rs)
	cl.Close()
	dlog("produced records 0..999 with compression %s (default partitioner, acks=all)", codecName)
	d.readBack(rs)
}

func (d *driver) keyPartitioning() {
	rs := convRecords(d.topic, 600)
	for i, r := range rs {
		r.Key = []byte(fmt.Sprintf("k-%d", i%30))
	}
	for n := 0; n < 3; n++ { // three producer instances, one after another
		cl := d.newProducer()
		produceAll(cl, rs[n*200:(n+1)*200])
		cl.Close()
	}
	dlog("produced 600 records with keys k-0..k-29 through 3 producer instances (200 each)")
	keys := d.readBack(rs)
	used := make(map[int32]bool)
	for _, p := range keys {
		used[p] = true
	}
	if len(keys) != 30 || len(used) < 2 {
		dfail("%d distinct keys over %d partitions, want 30 keys over at least 2", len(keys), len(used))
	}
	dlog("30 keys, each in exactly one partition across the 3 producers; %d partitions used", len(used))
}

func (d *driver) largeRecord() {
	// ManualPartitioner: the records go to the Partition set on them. No compression,
	// so the broker sees the value's full size. franz-go's own limit
	// (ProducerBatchMaxBytes, default 1,000,012) is above 250,000 and does not pre-empt
	// the broker.
	cl := d.newProducer(kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	defer cl.Close()
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	big := convRecord(d.topic, 0)
	big.Value = make([]byte, 190_000)
	rng.Read(big.Value)
	produceAll(cl, []*kgo.Record{big})
	if big.Partition != 0 || big.Offset != 0 {
		dfail("190,000-byte record acked at %d/%d, want partition 0 offset 0", big.Partition, big.Offset)
	}
	cons := d.newAssigned(map[int32]kgo.Offset{0: kgo.NewOffset().AtStart()})
	defer cons.Close()
	got := pollN(cons, 1, "190,000-byte record")
	if got[0].Offset != 0 {
		dfail("first record of partition 0 at offset %d", got[0].Offset)
	}
	if diff := recordDiff(got[0], big); diff != "" {
		dfail("190,000-byte record: %s", diff)
	}
	dlog("190,000-byte record produced to partition 0 and read back byte-exact")

	tooBig := convRecord(d.topic, 1)
	tooBig.Value = make([]byte, 250_000)
	rng.Read(tooBig.Value)
	ctx, cancel := ctxFor(drvWait)
	defer cancel()
	err := cl.ProduceSync(ctx, tooBig).FirstErr()
	if !errors.Is(err, kerr.MessageTooLarge) {
		dfail("250,000-byte record on a topic with max.message.bytes=200000: produce error %v, want MESSAGE_TOO_LARGE (10)", err)
	}
	dlog("250,000-byte record refused: %v", err)
	if end := d.endOffsets(d.topic)[0]; end != 1 {
		dfail("partition 0 end offset %d after the refused record, want 1", end)
	}
	// The consumer sits at offset 1: nothing may show up there.
	if rs := poll(cons, 3*time.Second); len(rs) > 0 {
		dfail("read a record at offset %d (%d bytes) after the refused one", rs[0].Offset, len(rs[0].Value))
	}
	dlog("refused record is not readable: partition 0 end offset 1, nothing fetched past offset 0")
}

// produceToPartition0 produces records 0..n-1 to partition 0 and checks record i got offset i.
func (d *driver) produceToPartition0(rs []*kgo.Record) {
	cl := d.newProducer(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produceAll(cl, rs)
	cl.Close()
	for i, r := range rs {
		if r.Partition != 0 || r.Offset != int64(i) {
			dfail("record %d acked at partition %d offset %d, want 0/%d", i, r.Partition, r.Offset, i)
		}
	}
}

func (d *driver) seekOffset() {
	rs := convRecords(d.topic, 100)
	d.produceToPartition0(rs)
	dlog("produced records 0..99 to partition 0 (record i at offset i)")

	cl := d.newAssigned(map[int32]kgo.Offset{0: kgo.NewOffset().At(42)})
	defer cl.Close()
	got := pollN(cl, 58, "from offset 42")
	for k, r := range got {
		want := int64(42 + k)
		if r.Partition != 0 || r.Offset != want {
			dfail("after seek to 42: record %d read is at %d/%d, want 0/%d", k, r.Partition, r.Offset, want)
		}
		if diff := recordDiff(r, rs[want]); diff != "" {
			dfail("offset %d: %s", want, diff)
		}
	}
	if len(got) != 58 {
		dfail("after seek to 42: read %d records, want 58", len(got))
	}
	dlog("assign partition 0 at offset 42: read offsets 42..99 in order, value-42..value-99")

	// kgo's seek to the beginning: re-add the partition at the start offset.
	cl.RemoveConsumePartitions(map[string][]int32{d.topic: {0}})
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{d.topic: {0: kgo.NewOffset().AtStart()}})
	first := pollN(cl, 1, "after seek to beginning")[0]
	if first.Offset != 0 {
		dfail("after seek to beginning: first record at offset %d, want 0", first.Offset)
	}
	if diff := recordDiff(first, rs[0]); diff != "" {
		dfail("offset 0: %s", diff)
	}
	dlog("seek to beginning: first record is offset 0")
}

func (d *driver) seekTimestamp() {
	t0 := time.Now().Add(-time.Hour).UnixMilli()
	rs := convRecords(d.topic, 100)
	for i, r := range rs {
		r.Timestamp = time.UnixMilli(t0 + int64(i)*1000) // kgo keeps a timestamp set by the app
	}
	d.produceToPartition0(rs)
	dlog("produced records 0..99 to partition 0 with CreateTime T0+i*1000 (T0 = %d)", t0)

	lookup := func(ms int64) kadm.ListedOffset {
		ctx, cancel := ctxFor(drvRequestWait)
		defer cancel()
		listed, err := d.adm.ListOffsetsAfterMilli(ctx, ms, d.topic)
		if err == nil {
			err = listed.Error()
		}
		o, ok := listed.Lookup(d.topic, 0)
		if err != nil || !ok {
			dfail("ListOffsets(timestamp %d): %v (partition 0 listed: %v)", ms, err, ok)
		}
		return o
	}
	for _, c := range []struct {
		name string
		ms   int64
		want int64
	}{{"T0+42000", t0 + 42000, 42}, {"T0+41500", t0 + 41500, 42}, {"T0-5000", t0 - 5000, 0}} {
		if o := lookup(c.ms); o.Offset != c.want {
			dfail("offset for time %s = %d, want %d", c.name, o.Offset, c.want)
		}
		dlog("offset for time %s = %d", c.name, c.want)
	}
	// The broker answers -1 for "no record that late"; kadm turns that into the end offset.
	if o := lookup(time.Now().Add(time.Hour).UnixMilli()); o.Offset != -1 && o.Offset != 100 {
		dfail("offset for time now+1h = %d, want none (-1 or the end offset 100)", o.Offset)
	}
	dlog("offset for time now+1h: none (end offset)")

	found := lookup(t0 + 42000)
	cl := d.newAssigned(map[int32]kgo.Offset{0: kgo.NewOffset().At(found.Offset)})
	defer cl.Close()
	first := pollN(cl, 1, "from the offset for T0+42000")[0]
	if diff := recordDiff(first, rs[42]); diff != "" || first.Offset != 42 {
		dfail("first record from offset %d: offset %d, %s (want record 42)", found.Offset, first.Offset, diff)
	}
	if got := first.Timestamp.UnixMilli(); got != t0+42000 {
		dfail("record 42 has timestamp %d, want T0+42000 = %d", got, t0+42000)
	}
	dlog("consume from that offset: first record value-42 with timestamp T0+42000")
}

func (d *driver) admin() {
	name := d.topic + "-admin"
	ctx, cancel := ctxFor(drvWait)
	defer cancel()
	describe := func() kadm.TopicDetail {
		tds, err := d.adm.ListTopics(ctx, name)
		if err == nil {
			err = tds.Error()
		}
		if err != nil {
			dfail("describe %s: %v", name, err)
		}
		return tds[name]
	}
	retention := func() string {
		rcs, err := d.adm.DescribeTopicConfigs(ctx, name)
		var rc kadm.ResourceConfig
		if err == nil {
			rc, err = rcs.On(name, nil)
		}
		if err == nil {
			err = rc.Err
		}
		if err != nil {
			dfail("describe configs of %s: %v", name, err)
		}
		for _, c := range rc.Configs {
			if c.Key == "retention.ms" {
				if c.Source.String() != "DYNAMIC_TOPIC_CONFIG" {
					dfail("retention.ms = %s has source %v, want a topic override (DYNAMIC_TOPIC_CONFIG)", c.MaybeValue(), c.Source)
				}
				return c.MaybeValue()
			}
		}
		dfail("describe configs of %s: no retention.ms", name)
		return ""
	}

	if _, err := d.adm.CreateTopic(ctx, 3, 1, map[string]*string{"retention.ms": kadm.StringPtr("3600000")}, name); err != nil {
		dfail("create %s: %v", name, err)
	}
	dlog("created %s with 3 partitions, retention.ms=3600000", name)
	if _, err := d.adm.CreateTopic(ctx, 3, 1, nil, name); !errors.Is(err, kerr.TopicAlreadyExists) {
		dfail("creating %s again: %v, want TOPIC_ALREADY_EXISTS (36)", name, err)
	}
	dlog("creating it again: TOPIC_ALREADY_EXISTS")
	all, err := d.adm.ListTopics(ctx)
	if err != nil || !all.Has(name) {
		dfail("list topics: %s not listed (err %v)", name, err)
	}
	dlog("list topics: %s listed", name)
	if n := len(describe().Partitions); n != 3 {
		dfail("describe %s: %d partitions, want 3", name, n)
	}
	dlog("describe: 3 partitions")
	if v := retention(); v != "3600000" {
		dfail("retention.ms = %s, want 3600000", v)
	}
	dlog("describe configs: retention.ms = 3600000 (topic override)")

	alter, err := d.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("7200000")}}, name)
	if err == nil {
		_, err = alter.On(name, nil)
	}
	if err != nil {
		dfail("incremental alter retention.ms of %s: %v", name, err)
	}
	if v := retention(); v != "7200000" {
		dfail("after incremental alter: retention.ms = %s, want 7200000", v)
	}
	dlog("incremental alter retention.ms to 7200000: describe says 7200000")

	parts, err := d.adm.UpdatePartitions(ctx, 5, name)
	if err == nil {
		_, err = parts.On(name, nil)
	}
	if err != nil {
		dfail("create partitions (total 5) of %s: %v", name, err)
	}
	if n := len(describe().Partitions); n != 5 {
		dfail("after adding partitions: %d partitions, want 5", n)
	}
	dlog("create partitions to 5: describe says 5")

	if _, err := d.adm.DeleteTopic(ctx, name); err != nil {
		dfail("delete %s: %v", name, err)
	}
	dlog("delete %s: accepted", name)
	// kadm answers from kgo's metadata cache (up to 5 s old); drop the topic from it
	// so the listings below show what the broker says.
	d.cl.PurgeTopicsFromClient(name)
	deadline := time.Now().Add(10 * time.Second)
	for {
		all, err := d.adm.ListTopics(ctx)
		if err == nil && !all.Has(name) {
			break
		}
		if time.Now().After(deadline) {
			dfail("%s still listed 10 s after its deletion (err %v)", name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	dlog("deleted %s: no longer listed", name)
}

// member is a group consumer whose owned partitions follow franz-go's rebalance
// callbacks; it polls in the background as an application would.
type member struct {
	name  string
	cl    *kgo.Client
	mu    sync.Mutex
	owned map[int32]bool
	done  chan struct{}
}

func (d *driver) joinGroup(name, group string) *member {
	m := &member{name: name, owned: make(map[int32]bool), done: make(chan struct{})}
	update := func(ps map[string][]int32, own bool) {
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, p := range ps[d.topic] {
			if own {
				m.owned[p] = true
			} else {
				delete(m.owned, p)
			}
		}
	}
	cl, err := kgo.NewClient(append(baseOpts(d.bootstrap),
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(d.topic), // default balancer: cooperative-sticky
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { update(ps, true) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { update(ps, false) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { update(ps, false) }),
	)...)
	if err != nil {
		dfail("consumer %s: %v", name, err)
	}
	m.cl = cl
	go func() {
		defer close(m.done)
		for {
			fs := cl.PollFetches(context.Background())
			if fs.IsClientClosed() {
				return
			}
			fs.EachError(func(t string, p int32, err error) { dlog("consumer %s: fetch/group error %s/%d: %v", name, t, p, err) })
		}
	}()
	return m
}

func (m *member) partitions() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	ps := make([]int32, 0, len(m.owned))
	for p := range m.owned {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

func (m *member) close() {
	m.cl.Close() // leaves the group
	<-m.done
}

// waitUntil polls cond until it holds or drvGroupWait passes; state describes the
// situation for the failure message.
func waitUntil(what string, cond func() bool, state func() string) {
	deadline := time.Now().Add(drvGroupWait)
	for !cond() {
		if time.Now().After(deadline) {
			dfail("%s: not within %s (%s)", what, drvGroupWait, state())
		}
		time.Sleep(100 * time.Millisecond)
	}
	dlog("%s: %s", what, state())
}

func (d *driver) groupRebalance() {
	group := d.topic + "-g"
	all := []int32{0, 1, 2, 3, 4, 5}
	a := d.joinGroup("A", group)
	defer a.close()
	state := func(ms ...*member) func() string {
		return func() string {
			var s []string
			for _, m := range ms {
				s = append(s, fmt.Sprintf("%s owns %v", m.name, m.partitions()))
			}
			return strings.Join(s, ", ")
		}
	}
	waitUntil("A joined "+group, func() bool { return slices.Equal(a.partitions(), all) }, state(a))

	b := d.joinGroup("B", group)
	waitUntil("B joined", func() bool {
		pa, pb := a.partitions(), b.partitions()
		union := append(slices.Clone(pa), pb...)
		slices.Sort(union)
		return len(pa) > 0 && len(pb) > 0 && slices.Equal(union, all) // equal to all => disjoint
	}, state(a, b))

	b.close()
	waitUntil("B left", func() bool { return slices.Equal(a.partitions(), all) }, state(a))
}

// groupReader is one commit-resume consumer in the group, auto-commit off, starting
// at the earliest offset where the group has no commit.
func (d *driver) groupReader(group string, assigned chan<- struct{}) *kgo.Client {
	cl, err := kgo.NewClient(append(baseOpts(d.bootstrap),
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(d.topic), kgo.DisableAutoCommit(),
		kgo.ConsumeStartOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			select {
			case assigned <- struct{}{}:
			default:
			}
		}),
	)...)
	if err != nil {
		dfail("group consumer: %v", err)
	}
	return cl
}

// commit synchronously commits the offsets after the processed records (kgo's
// CommitRecords: per partition, the highest offset + 1) and fails on any error.
func commit(cl *kgo.Client, who string, processed []*kgo.Record) {
	ctx, cancel := ctxFor(drvRequestWait)
	defer cancel()
	if err := cl.CommitRecords(ctx, processed...); err != nil {
		dfail("%s commit: %v", who, err)
	}
	next := make(map[int32]int64)
	for _, r := range processed {
		next[r.Partition] = max(next[r.Partition], r.Offset+1)
	}
	var offs []string
	for p := int32(0); p < drvPartitions; p++ {
		if o, ok := next[p]; ok {
			offs = append(offs, fmt.Sprintf("%d:%d", p, o))
		}
	}
	dlog("%s committed partition:offset %s", who, strings.Join(offs, " "))
}

func (d *driver) commitResume() {
	group := d.topic + "-c"
	rs := convRecords(d.topic, 100)
	cl := d.newProducer()
	produceAll(cl, rs)
	cl.Close()
	dlog("produced records 0..99 (default partitioner)")

	owner := make(map[int]string) // record i -> the consumer that processed it
	// process verifies a record against its produce ack.
	process := func(who string, r *kgo.Record) {
		i, ok := recordIndex(r)
		if !ok || i < 0 || i >= len(rs) {
			dfail("%s: partition %d offset %d is not a produced record", who, r.Partition, r.Offset)
		}
		if prev, dup := owner[i]; dup {
			dfail("record %d processed by %s and again by %s", i, prev, who)
		}
		if r.Partition != rs[i].Partition || r.Offset != rs[i].Offset {
			dfail("%s: record %d at %d/%d, acked at %d/%d", who, i, r.Partition, r.Offset, rs[i].Partition, rs[i].Offset)
		}
		if diff := recordDiff(r, rs[i]); diff != "" {
			dfail("%s: record %d: %s", who, i, diff)
		}
		owner[i] = who
	}

	// C1 processes exactly 40 records (stopping within a fetch), commits them, closes.
	c1 := d.groupReader(group, make(chan struct{}, 1))
	var done1 []*kgo.Record
	deadline := time.Now().Add(drvWait)
	for len(done1) < 40 {
		if time.Now().After(deadline) {
			dfail("C1 processed %d records within %s, want 40", len(done1), drvWait)
		}
		for _, r := range poll(c1, time.Until(deadline)) {
			if len(done1) == 40 {
				break // the rest of the fetch is not processed: C2's
			}
			process("C1", r)
			done1 = append(done1, r)
		}
	}
	commit(c1, "C1", done1)
	c1.Close()
	dlog("C1 processed %d records and closed", len(done1))

	// C2 reads until no record came for 5 s since it got its partitions.
	assigned := make(chan struct{}, 1)
	c2 := d.groupReader(group, assigned)
	select {
	case <-assigned:
	case <-time.After(drvWait):
		dfail("C2 got no partitions within %s", drvWait)
	}
	dlog("C2 joined %s and got partitions", group)
	var done2 []*kgo.Record
	deadline = time.Now().Add(drvWait)
	idleSince := time.Now()
	for time.Since(idleSince) < 5*time.Second {
		if time.Now().After(deadline) {
			dfail("C2 still reading after %s", drvWait)
		}
		for _, r := range poll(c2, 500*time.Millisecond) {
			process("C2", r)
			done2 = append(done2, r)
			idleSince = time.Now()
		}
	}
	dlog("C2 read its last record at %.2fs", idleSince.Sub(drvStart).Seconds())
	commit(c2, "C2", done2)
	c2.Close()
	dlog("C2 processed %d records, idle 5 s, closed", len(done2))

	if len(owner) != len(rs) {
		dfail("C1 and C2 processed %d distinct records together, want all %d", len(owner), len(rs))
	}
	dlog("C1's and C2's records are disjoint and together are records 0..99")

	ctx, cancel := ctxFor(drvRequestWait)
	defer cancel()
	committed, err := d.adm.FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		dfail("fetch committed offsets of %s: %v", group, err)
	}
	ends := d.endOffsets(d.topic)
	for p := int32(0); p < drvPartitions; p++ {
		c, ok := committed.Lookup(d.topic, p)
		if (ok && c.At != ends[p]) || (!ok && ends[p] != 0) {
			dfail("group %s partition %d: committed %d (found %v), end offset %d", group, p, c.At, ok, ends[p])
		}
	}
	dlog("group's committed offsets (OffsetFetch) equal every partition's end offset %v", ends)
}

func (d *driver) idempotence() {
	// Idempotence is franz-go's default; acks=all and 5 requests in flight per broker
	// are what it uses with it (MaxProduceRequestsInflightPerBroker has no effect then).
	cl := d.newProducer()
	rs := convRecords(d.topic, 2000)
	produceAll(cl, rs)
	cl.Close()
	dlog("idempotent producer (acks=all, up to 5 requests in flight) produced records 0..1999")
	d.readBack(rs)
}
