package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	numPartitions  = 6
	numKeys        = 50
	adminTimeout   = 15 * time.Second
	produceTimeout = 60 * time.Second // per codec: producing COUNT records, acks included
	consumeTimeout = 60 * time.Second // per codec: reading COUNT records back
	seekTimeout    = 15 * time.Second
)

var allCodecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

func codecFor(name string) (kgo.CompressionCodec, bool) {
	switch name {
	case "none":
		return kgo.NoCompression(), true
	case "gzip":
		return kgo.GzipCompression(), true
	case "snappy":
		return kgo.SnappyCompression(), true
	case "lz4":
		return kgo.Lz4Compression(), true
	case "zstd":
		return kgo.ZstdCompression(), true
	}
	return kgo.CompressionCodec{}, false
}

// expected is one produced record and where the broker said it went.
type expected struct {
	codec     string
	i         int
	key       []byte
	value     []byte
	headers   []kgo.RecordHeader
	timestamp time.Time
	partition int32
	offset    int64
	acked     bool
	consumed  bool
}

type pos struct {
	partition int32
	offset    int64
}

func produceConsume(args []string) {
	if len(args) < 2 || len(args) > 3 {
		usageExit("produce-consume takes BOOTSTRAP COUNT [CODECS]")
	}
	bootstrap := args[0]
	count, err := strconv.Atoi(args[1])
	if err != nil || count < 1 {
		usageExit("COUNT must be a positive integer")
	}
	codecs := allCodecs
	if len(args) == 3 {
		codecs = strings.Split(args[2], ",")
		for _, c := range codecs {
			if _, ok := codecFor(c); !ok {
				usageExit("unknown codec " + strconv.Quote(c))
			}
		}
	}

	topic := "go-roundtrip-" + randomHex(4)
	createTopic(bootstrap, topic)

	byPos := make(map[pos]*expected) // every record produced so far, all codecs
	prevEnd := make(map[int32]int64) // each partition's end offset before the current codec
	var (
		consumer *kgo.Client
		assigned map[int32]bool
		rejected []string // per codec: batches rejected as out of sequence
	)
	for _, codec := range codecs {
		if consumer != nil {
			consumer.Close()
		}
		recs, produceTook, loss := produce(bootstrap, topic, codec, count)
		checkProduced(bootstrap, topic, codec, recs, prevEnd, byPos)
		var consumeTook time.Duration
		consumer, consumeTook = consume(bootstrap, topic, codec, recs, byPos)
		assigned = partitionsOf(recs)
		note := ""
		if len(loss) > 0 {
			note = "; broker rejected " + fmtLoss(loss)
			rejected = append(rejected, codec+": "+fmtLoss(loss))
		}
		fmt.Printf("franz-go %s %-7s produced %d in %s (%.0f rec/s), consumed %d in %s (%.0f rec/s), %d partitions, verified%s\n",
			franzVersion(), codec+":", count, round(produceTook), rate(count, produceTook),
			count, round(consumeTook), rate(count, consumeTook), len(assigned), note)
	}
	seekMiddle(consumer, topic, assigned, byPos)
	consumer.Close()
	if len(rejected) > 0 {
		// The data checked out (franz-go re-sent under a bumped epoch), but a broker
		// that processes one connection's requests in order never rejects the
		// batches of a single idempotent producer (up to 5 requests in flight).
		fail("broker rejected idempotent batches as out of sequence, which franz-go reports as data loss (%s)",
			strings.Join(rejected, "; "))
	}
	fmt.Printf("franz-go %s: %d records over %d codec(s) into %s (%d partitions), idempotent producer defaults, assign+seek consumer: all verified\n",
		franzVersion(), count*len(codecs), len(codecs), topic, numPartitions)
}

func createTopic(bootstrap, topic string) {
	cl, err := kgo.NewClient(baseOpts(bootstrap)...)
	if err != nil {
		fail("admin client: %v", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	resp, err := adm.CreateTopic(ctx, numPartitions, 1, nil, topic)
	if err != nil {
		fail("CreateTopics %s: %v %s", topic, err, resp.ErrMessage)
	}
	if resp.NumPartitions != numPartitions && resp.NumPartitions != -1 && resp.NumPartitions != 0 {
		fail("CreateTopics %s: response says %d partitions, asked for %d", topic, resp.NumPartitions, numPartitions)
	}
}

// produce sends count records with codec through a producer with franz-go's
// defaults (idempotent, acks=all) and returns them with the partition and
// offset from each produce result, and how many batches the broker rejected as
// out of sequence (franz-go's "data loss detected" signal, raised on
// OUT_OF_ORDER_SEQUENCE_NUMBER/UNKNOWN_PRODUCER_ID; by default it recovers by
// bumping the producer epoch and resending, which the offset checks then cover).
func produce(bootstrap, topic, codec string, count int) ([]*expected, time.Duration, map[int32]int) {
	c, _ := codecFor(codec)
	var (
		lossMu sync.Mutex
		loss   = make(map[int32]int)
	)
	cl, err := kgo.NewClient(append(baseOpts(bootstrap),
		kgo.ProducerBatchCompression(c),
		kgo.RecordDeliveryTimeout(produceTimeout/2),
		kgo.ProducerOnDataLossDetected(func(_ string, p int32) {
			lossMu.Lock()
			loss[p]++
			lossMu.Unlock()
		}),
	)...)
	if err != nil {
		fail("%s: producer client: %v", codec, err)
	}
	defer cl.Close()

	recs := make([]*expected, count)
	for i := range recs {
		// Values vary in length so batches are not all alike and compress to something.
		value := fmt.Sprintf("go-%s-%d-%s", codec, i, strings.Repeat("abcdefgh", i%16))
		recs[i] = &expected{
			codec: codec,
			i:     i,
			key:   []byte(fmt.Sprintf("key-%d", i%numKeys)),
			value: []byte(value),
			headers: []kgo.RecordHeader{
				{Key: "i", Value: []byte(strconv.Itoa(i))},
				{Key: "codec", Value: []byte(codec)},
			},
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), produceTimeout)
	defer cancel()
	var (
		mu       sync.Mutex
		errs     []string
		nErrs    int
		promises sync.WaitGroup
	)
	promises.Add(count)
	start := time.Now()
	for _, e := range recs {
		e := e
		r := &kgo.Record{Topic: topic, Key: e.key, Value: e.value, Headers: e.headers}
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			defer promises.Done()
			if err != nil {
				mu.Lock()
				nErrs++
				if len(errs) < 3 {
					errs = append(errs, fmt.Sprintf("record %d: %v", e.i, err))
				}
				mu.Unlock()
				return
			}
			e.partition, e.offset, e.timestamp, e.acked = r.Partition, r.Offset, r.Timestamp, true
		})
	}
	if err := cl.Flush(ctx); err != nil {
		fail("%s: producer flush did not finish within %s: %v", codec, produceTimeout, err)
	}
	waitGroup(&promises, ctx, func() { fail("%s: not every produce promise was called within %s", codec, produceTimeout) })
	took := time.Since(start)
	if nErrs > 0 {
		fail("%s: %d of %d records failed to produce: %s", codec, nErrs, count, strings.Join(errs, "; "))
	}
	lossMu.Lock()
	defer lossMu.Unlock()
	return recs, took, loss
}

// checkProduced checks the produce results: one partition per key, and per
// partition unique, gap-free offsets in send order that start where the
// partition ended before this codec and end at the partition's high watermark.
func checkProduced(bootstrap, topic, codec string, recs []*expected, prevEnd map[int32]int64, byPos map[pos]*expected) {
	keyPartition := make(map[string]int32)
	byPartition := make(map[int32][]*expected)
	for _, e := range recs {
		if e.partition < 0 || e.partition >= numPartitions {
			fail("%s: record %d acked on partition %d of a %d-partition topic", codec, e.i, e.partition, numPartitions)
		}
		if p, ok := keyPartition[string(e.key)]; ok && p != e.partition {
			fail("%s: key %q acked on partitions %d and %d", codec, e.key, p, e.partition)
		}
		keyPartition[string(e.key)] = e.partition
		byPartition[e.partition] = append(byPartition[e.partition], e)
		at := pos{e.partition, e.offset}
		if prior, dup := byPos[at]; dup {
			fail("%s: records %s/%d and %d both acked at partition %d offset %d", codec, prior.codec, prior.i, e.i, e.partition, e.offset)
		}
		byPos[at] = e
	}
	for p, es := range byPartition { // es is in send order
		if es[0].offset != prevEnd[p] {
			fail("%s: partition %d: first record acked at offset %d, partition ended at %d before", codec, p, es[0].offset, prevEnd[p])
		}
		for j := 1; j < len(es); j++ {
			if es[j].offset != es[j-1].offset+1 {
				fail("%s: partition %d: record %d acked at offset %d right after record %d at offset %d (want consecutive offsets in send order)",
					codec, p, es[j].i, es[j].offset, es[j-1].i, es[j-1].offset)
			}
		}
	}

	cl, err := kgo.NewClient(baseOpts(bootstrap)...)
	if err != nil {
		fail("admin client: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		fail("%s: ListOffsets(latest) %s: %v", codec, topic, err)
	}
	for p := int32(0); p < numPartitions; p++ {
		want := prevEnd[p] + int64(len(byPartition[p]))
		got, ok := ends.Lookup(topic, p)
		if !ok || got.Offset != want {
			fail("%s: partition %d: ListOffsets(latest) = %d (found %v), want %d", codec, p, got.Offset, ok, want)
		}
		prevEnd[p] = want
	}
}

// consume reads this codec's records back without a group: each partition is
// assigned with an explicit start offset (where the codec's records begin) and
// every record is checked against its produce result. The consumer client is
// returned still open for seekMiddle.
func consume(bootstrap, topic, codec string, recs []*expected, byPos map[pos]*expected) (*kgo.Client, time.Duration) {
	starts := make(map[int32]kgo.Offset)
	for _, e := range recs {
		if o, ok := starts[e.partition]; !ok || e.offset < o.EpochOffset().Offset {
			starts[e.partition] = kgo.NewOffset().At(e.offset)
		}
	}
	start := time.Now()
	cl, err := kgo.NewClient(append(baseOpts(bootstrap),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts}),
	)...)
	if err != nil {
		fail("%s: consumer client: %v", codec, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), consumeTimeout)
	defer cancel()
	verified := 0
	for verified < len(recs) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			fail("%s: consumed and verified %d of %d records within %s", codec, verified, len(recs), consumeTimeout)
		}
		fs.EachError(func(t string, p int32, err error) {
			fail("%s: fetch error on %s/%d: %v", codec, t, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			e := byPos[pos{r.Partition, r.Offset}]
			if e == nil || e.codec != codec {
				fail("%s: unexpected record at partition %d offset %d: key %q value %.60q", codec, r.Partition, r.Offset, r.Key, r.Value)
			}
			if e.consumed {
				fail("%s: partition %d offset %d returned twice", codec, r.Partition, r.Offset)
			}
			if msg := mismatch(r, e, topic); msg != "" {
				fail("%s: partition %d offset %d (record %d): %s", codec, r.Partition, r.Offset, e.i, msg)
			}
			e.consumed = true
			verified++
		})
	}
	return cl, time.Since(start)
}

// mismatch compares a fetched record with the one produced at its position.
func mismatch(r *kgo.Record, e *expected, topic string) string {
	switch {
	case r.Topic != topic:
		return fmt.Sprintf("topic %q, want %q", r.Topic, topic)
	case r.Partition != e.partition || r.Offset != e.offset:
		return fmt.Sprintf("position %d/%d, want %d/%d", r.Partition, r.Offset, e.partition, e.offset)
	case !bytes.Equal(r.Key, e.key):
		return fmt.Sprintf("key %q, want %q", r.Key, e.key)
	case !bytes.Equal(r.Value, e.value):
		return fmt.Sprintf("value %.60q, want %.60q", r.Value, e.value)
	case !headersEqual(r.Headers, e.headers):
		return fmt.Sprintf("headers %s, want %s", fmtHeaders(r.Headers), fmtHeaders(e.headers))
	case r.Timestamp.UnixMilli() != e.timestamp.UnixMilli():
		return fmt.Sprintf("timestamp %d ms, want %d ms (CreateTime from the producer)", r.Timestamp.UnixMilli(), e.timestamp.UnixMilli())
	}
	return ""
}

// seekMiddle moves the (still assigned) consumer of the last codec to the
// middle of the fullest partition and checks the first record returned.
func seekMiddle(cl *kgo.Client, topic string, assigned map[int32]bool, byPos map[pos]*expected) {
	ends := make(map[int32]int64)
	for at := range byPos {
		if at.offset+1 > ends[at.partition] {
			ends[at.partition] = at.offset + 1
		}
	}
	// SetOffsets only moves partitions the client consumes: the last codec's.
	var p int32 = -1
	for q := range assigned {
		if p < 0 || ends[q] > ends[p] || (ends[q] == ends[p] && q < p) {
			p = q
		}
	}
	mid := ends[p] / 2
	want := byPos[pos{p, mid}]
	cl.SetOffsets(map[string]map[int32]kgo.EpochOffset{topic: {p: {Epoch: -1, Offset: mid}}})
	ctx, cancel := context.WithTimeout(context.Background(), seekTimeout)
	defer cancel()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			fail("seek to partition %d offset %d: no record within %s", p, mid, seekTimeout)
		}
		fs.EachError(func(t string, q int32, err error) {
			fail("seek to partition %d offset %d: fetch error on %s/%d: %v", p, mid, t, q, err)
		})
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		r := recs[0]
		if r.Partition != p || r.Offset != mid {
			fail("seek to partition %d offset %d: first record returned is partition %d offset %d", p, mid, r.Partition, r.Offset)
		}
		if msg := mismatch(r, want, topic); msg != "" {
			fail("seek to partition %d offset %d: %s", p, mid, msg)
		}
		fmt.Printf("franz-go %s seek: partition %d offset %d of %d -> record %s/%d, verified\n",
			franzVersion(), p, mid, ends[p], want.codec, want.i)
		return
	}
}

// fmtLoss formats per-partition counts of batches rejected as out of sequence.
func fmtLoss(loss map[int32]int) string {
	ps := make([]int, 0, len(loss))
	n := 0
	for p, c := range loss {
		ps = append(ps, int(p))
		n += c
	}
	sort.Ints(ps)
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("p%d x%d", p, loss[int32(p)])
	}
	return fmt.Sprintf("%d batch(es) with OUT_OF_ORDER_SEQUENCE_NUMBER/UNKNOWN_PRODUCER_ID [%s]", n, strings.Join(parts, " "))
}

func partitionsOf(recs []*expected) map[int32]bool {
	ps := make(map[int32]bool)
	for _, e := range recs {
		ps[e.partition] = true
	}
	return ps
}

func headersEqual(a, b []kgo.RecordHeader) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func fmtHeaders(hs []kgo.RecordHeader) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = fmt.Sprintf("%s=%q", h.Key, h.Value)
	}
	sort.Strings(parts)
	return "[" + strings.Join(parts, " ") + "]"
}

// waitGroup waits for wg until ctx is done, calling onTimeout if it is.
func waitGroup(wg *sync.WaitGroup, ctx context.Context, onTimeout func()) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		onTimeout()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
