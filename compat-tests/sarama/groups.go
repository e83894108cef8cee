// groups.go: the consumer-group scenarios, group-rebalance and commit-resume
// (ConsumerGroup, and OffsetManager to read the group's commits).
package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// handler is a ConsumerGroupHandler made of optional hooks.
type handler struct {
	setup, cleanup func(sarama.ConsumerGroupSession)
	message        func(sarama.ConsumerGroupSession, *sarama.ConsumerMessage)
}

func (h *handler) Setup(s sarama.ConsumerGroupSession) error {
	if h.setup != nil {
		h.setup(s)
	}
	return nil
}

func (h *handler) Cleanup(s sarama.ConsumerGroupSession) error {
	if h.cleanup != nil {
		h.cleanup(s)
	}
	return nil
}

func (h *handler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for {
		select {
		case m, ok := <-c.Messages():
			if !ok {
				return nil
			}
			if h.message != nil {
				h.message(s, m)
			}
		case <-s.Context().Done():
			return nil
		}
	}
}

// member is one ConsumerGroup running sarama's Consume loop in the background, as an
// application does: Consume runs one session and returns at each rebalance.
type member struct {
	name   string
	group  sarama.ConsumerGroup
	cancel context.CancelFunc
	done   chan struct{}
}

func (d *driver) join(name, groupID string, cfg *sarama.Config, h *handler) *member {
	g, err := sarama.NewConsumerGroup([]string{d.bootstrap}, groupID, cfg)
	if err != nil {
		fail("consumer group %s: %v", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{name: name, group: g, cancel: cancel, done: make(chan struct{})}
	go func() { // Consumer.Return.Errors is on, so the channel must be drained
		for err := range g.Errors() {
			logf("consumer %s: group error: %v", name, err)
		}
	}()
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{d.topic}, h); err != nil {
				if errors.Is(err, sarama.ErrClosedConsumerGroup) {
					return
				}
				logf("consumer %s: Consume: %v", name, err)
				select { // back off before rejoining
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	}()
	return m
}

// leave ends the consume loop and closes the group, which sends LeaveGroup.
func (m *member) leave() {
	m.cancel()
	select {
	case <-m.done:
	case <-time.After(recordWait):
		fail("consumer %s: its Consume loop did not end within %s", m.name, recordWait)
	}
	if err := m.group.Close(); err != nil {
		fail("consumer %s: close: %v", m.name, err)
	}
}

// owned tracks the partitions a member's current session claims. The default
// assignor (range) is eager: a rebalance ends the session (Cleanup) and the next
// one (Setup) claims the new assignment.
type owned struct {
	mu    sync.Mutex
	parts []int32
}

func (o *owned) handler(topic string) *handler {
	return &handler{
		setup: func(s sarama.ConsumerGroupSession) {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.parts = slices.Sorted(slices.Values(s.Claims()[topic]))
		},
		cleanup: func(sarama.ConsumerGroupSession) {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.parts = nil
		},
	}
}

func (o *owned) get() []int32 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.parts)
}

// waitUntil polls cond until it holds or groupWait passes; state describes the
// situation for the log and the failure message.
func waitUntil(what string, cond func() bool, state func() string) {
	deadline := time.Now().Add(groupWait)
	for !cond() {
		if time.Now().After(deadline) {
			fail("%s: not within %s (%s)", what, groupWait, state())
		}
		time.Sleep(100 * time.Millisecond)
	}
	logf("%s: %s", what, state())
}

func (d *driver) groupRebalance() {
	group := d.topic + "-g"
	all := []int32{0, 1, 2, 3, 4, 5}
	var a, b owned
	state := func() string { return fmt.Sprintf("A owns %v, B owns %v", a.get(), b.get()) }

	ma := d.join("A", group, newConfig(), a.handler(d.topic))
	defer ma.leave()
	waitUntil("A joined "+group, func() bool { return slices.Equal(a.get(), all) }, state)

	mb := d.join("B", group, newConfig(), b.handler(d.topic))
	waitUntil("B joined", func() bool {
		pa, pb := a.get(), b.get()
		union := slices.Sorted(slices.Values(append(pa, pb...)))
		return len(pa) > 0 && len(pb) > 0 && slices.Equal(union, all) // equal to all => disjoint
	}, state)

	mb.leave()
	waitUntil("B left", func() bool { return slices.Equal(a.get(), all) }, state)
}

func (d *driver) commitResume() {
	group := d.topic + "-c"
	rs := convRecords(100)
	p := d.newSyncProducer(newConfig())
	d.produceSync(p, rs)
	p.Close()
	logf("produced records 0..99 (SyncProducer, default hash partitioner)")

	cfg := newConfig()
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest

	var mu sync.Mutex             // guards the state below; sarama runs one goroutine per claim
	owner := make(map[int]string) // record i -> the consumer that processed it
	// process verifies a message against its produce ack and marks it for the commit.
	process := func(who string, s sarama.ConsumerGroupSession, m *sarama.ConsumerMessage) {
		i, ok := recordIndex(m)
		if !ok || i < 0 || i >= len(rs) {
			fail("%s: partition %d offset %d is not a produced record", who, m.Partition, m.Offset)
		}
		if prev, dup := owner[i]; dup {
			fail("record %d processed by %s and again by %s", i, prev, who)
		}
		if m.Partition != rs[i].partition || m.Offset != rs[i].offset {
			fail("%s: record %d at %d/%d, acked at %d/%d", who, i, m.Partition, m.Offset, rs[i].partition, rs[i].offset)
		}
		if diff := rs[i].diff(m); diff != "" {
			fail("%s: record %d: %s", who, i, diff)
		}
		owner[i] = who
		s.MarkMessage(m, "")
	}

	// C1 processes exactly 40 records, commits them synchronously, and leaves.
	n1 := 0
	reached := make(chan sarama.ConsumerGroupSession, 1)
	c1 := d.join("C1", group, cfg, &handler{message: func(s sarama.ConsumerGroupSession, m *sarama.ConsumerMessage) {
		mu.Lock()
		defer mu.Unlock()
		if n1 == 40 {
			return // not processed, not marked: C2's
		}
		process("C1", s, m)
		if n1++; n1 == 40 {
			reached <- s
		}
	}})
	select {
	case s := <-reached:
		s.Commit() // synchronous; only marked (= processed) offsets are committed
	case <-time.After(recordWait):
		mu.Lock()
		fail("C1 processed %d records within %s, want 40", n1, recordWait)
	}
	c1.leave()
	logf("C1 processed 40 records, committed them, left the group")

	// C2 reads until no record came for 5 s since it got its partitions.
	var (
		n2       int
		session  sarama.ConsumerGroupSession
		lastSeen time.Time
	)
	c2 := d.join("C2", group, cfg, &handler{
		setup: func(s sarama.ConsumerGroupSession) {
			mu.Lock()
			defer mu.Unlock()
			session, lastSeen = s, time.Now()
		},
		message: func(s sarama.ConsumerGroupSession, m *sarama.ConsumerMessage) {
			mu.Lock()
			defer mu.Unlock()
			process("C2", s, m)
			n2++
			lastSeen = time.Now()
		},
	})
	deadline := time.Now().Add(recordWait)
	for {
		mu.Lock()
		s, idle := session, time.Since(lastSeen)
		mu.Unlock()
		if s != nil && idle >= 5*time.Second {
			break
		}
		if time.Now().After(deadline) {
			fail("C2: not idle for 5 s within %s (joined: %v)", recordWait, s != nil)
		}
		time.Sleep(100 * time.Millisecond)
	}
	session.Commit()
	c2.leave()
	logf("C2 processed %d records, idle 5 s, committed them, left the group", n2)

	if len(owner) != len(rs) {
		fail("C1 and C2 processed %d distinct records together, want all %d", len(owner), len(rs))
	}
	logf("C1's and C2's records are disjoint and together are records 0..99")

	// The group's commits as an OffsetManager sees them; with no commit NextOffset
	// returns the client's Consumer.Offsets.Initial (OffsetNewest, -1).
	om, err := sarama.NewOffsetManagerFromClient(group, d.client)
	if err != nil {
		fail("offset manager: %v", err)
	}
	defer om.Close()
	var got []string
	for p := int32(0); p < numPartitions; p++ {
		pom, err := om.ManagePartition(d.topic, p)
		if err != nil {
			fail("offset manager %s/%d: %v", d.topic, p, err)
		}
		next, _ := pom.NextOffset()
		end := d.endOffset(p)
		if next != end && !(next == sarama.OffsetNewest && end == 0) {
			fail("group %s partition %d: committed offset %d, end offset %d", group, p, next, end)
		}
		got = append(got, fmt.Sprintf("%d:%d", p, next))
	}
	logf("group's committed offsets (OffsetManager) equal every partition's end offset: %s", strings.Join(got, " "))
}
