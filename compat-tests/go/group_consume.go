package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	commitTimeout = 15 * time.Second
	closeTimeout  = 30 * time.Second
)

// groupConsume consumes TOPIC as a member of GROUP with franz-go's group
// defaults (classic protocol, cooperative-sticky balancer, start at the log
// start when nothing is committed), except that offsets are committed
// synchronously after each polled batch is processed instead of autocommitted.
// It prints "assigned: TOPIC:P,P,..." whenever its assignment changes and
// exits 0 after COUNT records (0: no limit) or on SIGTERM/SIGINT, committing
// first. --balancer replaces the balancer, --session-timeout sets the session
// timeout, --record logs processed records and acknowledged commits (recordLog).
func groupConsume(args []string) {
	var pos []string
	instanceID := ""
	maxGroupErrors := 10
	var timeout time.Duration
	balancerName := "" // franz-go's default: cooperative-sticky
	var sessionTimeout time.Duration
	recordPath := ""
	for i := 0; i < len(args); i++ {
		flagValue := func() string {
			if i+1 >= len(args) {
				usageExit(args[i] + " needs a value")
			}
			i++
			return args[i]
		}
		switch a := args[i]; {
		case a == "--instance-id":
			instanceID = flagValue()
		case strings.HasPrefix(a, "--instance-id="):
			instanceID = strings.TrimPrefix(a, "--instance-id=")
		case a == "--max-group-errors":
			n, err := strconv.Atoi(flagValue())
			if err != nil || n < 0 {
				usageExit("--max-group-errors must be a non-negative integer")
			}
			maxGroupErrors = n
		case a == "--timeout":
			d, err := time.ParseDuration(flagValue())
			if err != nil || d < 0 {
				usageExit("--timeout must be a duration such as 90s")
			}
			timeout = d
		case a == "--balancer":
			balancerName = flagValue()
		case a == "--session-timeout":
			d, err := time.ParseDuration(flagValue())
			if err != nil || d <= 0 {
				usageExit("--session-timeout must be a duration such as 10s")
			}
			sessionTimeout = d
		case a == "--record":
			recordPath = flagValue()
		case strings.HasPrefix(a, "--"):
			usageExit("unknown flag " + a)
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) != 4 {
		usageExit("group-consume takes BOOTSTRAP TOPIC GROUP COUNT [--instance-id ID]")
	}
	var balancer kgo.GroupBalancer
	switch balancerName {
	case "":
	case "range":
		balancer = kgo.RangeBalancer()
	case "roundrobin":
		balancer = kgo.RoundRobinBalancer()
	case "sticky":
		balancer = kgo.StickyBalancer()
	case "cooperative-sticky":
		balancer = kgo.CooperativeStickyBalancer()
	default:
		usageExit("--balancer must be range, roundrobin, sticky or cooperative-sticky")
	}
	var record *recordLog
	if recordPath != "" {
		var err error
		if record, err = openRecordLog(recordPath); err != nil {
			fail("%v", err)
		}
		defer record.close()
	}
	bootstrap, topic, group := pos[0], pos[1], pos[2]
	count, err := strconv.Atoi(pos[3])
	if err != nil || count < 0 {
		usageExit("COUNT must be a non-negative integer (0: until signalled)")
	}

	var (
		mu       sync.Mutex
		assigned = make(map[int32]bool)
		// Consecutive group-management errors since the last successful join.
		groupErrs int
	)
	// update applies an assignment change and prints the new assignment if it changed.
	update := func(m map[string][]int32, add bool) {
		mu.Lock()
		defer mu.Unlock()
		changed := false
		for _, p := range m[topic] {
			if assigned[p] != add {
				changed = true
				if add {
					assigned[p] = true
				} else {
					delete(assigned, p)
				}
			}
		}
		if changed {
			ps := make([]int, 0, len(assigned))
			for p := range assigned {
				ps = append(ps, int(p))
			}
			sort.Ints(ps)
			strs := make([]string, len(ps))
			for i, p := range ps {
				strs[i] = strconv.Itoa(p)
			}
			// os.Stdout is unbuffered in Go: the line is written out now.
			fmt.Fprintf(os.Stdout, "assigned: %s:%s\n", topic, strings.Join(strs, ","))
		}
	}
	commit := func(cl *kgo.Client, why string) {
		ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
		defer cancel()
		// What this commit sends (autocommit is off, so nothing else commits meanwhile).
		pending := cl.UncommittedOffsets()[topic]
		if err := cl.CommitUncommittedOffsets(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "petrel-compat: commit (%s) failed: %v\n", why, err)
			return
		}
		if record != nil {
			for p, eo := range pending {
				record.committed(p, eo.Offset)
			}
			record.flush()
		}
	}

	opts := append(baseOpts(bootstrap),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(),
		// Rebalances (and so revokes) wait until a polled batch is processed and
		// committed: nothing is committed for partitions no longer owned.
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			mu.Lock()
			groupErrs = 0 // called after every successful join, even with nothing new
			mu.Unlock()
			update(m, true)
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, cl *kgo.Client, m map[string][]int32) {
			commit(cl, "partitions revoked") // usually a no-op: batches are committed before rebalances are allowed
			update(m, false)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			update(m, false)
		}),
	)
	if instanceID != "" {
		opts = append(opts, kgo.InstanceID(instanceID))
	}
	if balancer != nil {
		opts = append(opts, kgo.Balancers(balancer))
	}
	if sessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(sessionTimeout))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		fail("group consumer client: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}

	seen := 0
	distinct := make(map[int32]map[int64]bool)
	next := make(map[int32]int64) // next offset after the last record seen, per partition
	exitCode := 0
	why := ""
	for why == "" {
		fs := cl.PollFetches(ctx)
		fs.EachError(func(t string, p int32, err error) {
			var ge *kgo.ErrGroupSession
			switch {
			case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, kgo.ErrClientClosed):
			case errors.As(err, &ge):
				mu.Lock()
				groupErrs++
				n := groupErrs
				mu.Unlock()
				fmt.Fprintf(os.Stderr, "petrel-compat: group error %d: %v\n", n, ge.Err)
				if maxGroupErrors > 0 && n >= maxGroupErrors && why == "" {
					why = fmt.Sprintf("giving up after %d consecutive group errors (last: %v)", n, ge.Err)
					exitCode = 1
				}
			default:
				fmt.Fprintf(os.Stderr, "petrel-compat: fetch error on %s/%d: %v\n", t, p, err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			seen++
			if distinct[r.Partition] == nil {
				distinct[r.Partition] = make(map[int64]bool)
			}
			distinct[r.Partition][r.Offset] = true
			next[r.Partition] = r.Offset + 1
			if record != nil {
				record.consumed(r.Partition, r.Offset, r.Value)
			}
		})
		// Processed = recorded on disk, before the commit below.
		if record != nil {
			record.flush()
		}
		// Commit what this poll returned (now processed), then let any pending
		// rebalance go ahead.
		commit(cl, "after processing")
		cl.AllowRebalance()
		switch {
		case why != "":
		case count > 0 && seen >= count:
			why = fmt.Sprintf("saw %d records", seen)
		case errors.Is(context.Cause(ctx), context.DeadlineExceeded):
			why = fmt.Sprintf("timed out after %s with %d of %d records", timeout, seen, count)
			exitCode = 1
		case ctx.Err() != nil:
			why = "signalled"
		}
	}

	nDistinct := 0
	parts := make([]int, 0, len(next))
	for p, offs := range distinct {
		nDistinct += len(offs)
		parts = append(parts, int(p))
	}
	sort.Ints(parts)
	positions := make([]string, len(parts))
	for i, p := range parts {
		positions[i] = fmt.Sprintf("%d@%d", p, next[int32(p)])
	}
	fmt.Fprintf(os.Stdout, "done: %s; %d records (%d distinct) from %s as %s, next offsets %s:%s\n",
		why, seen, nDistinct, topic, group, topic, strings.Join(positions, ","))

	// Leave the group (static members do not); the final revoke commits again.
	// Offsets are already committed, so leaving is best effort: the leave waits
	// for any rebalance in progress, which can take up to the rebalance timeout.
	// A second SIGTERM/SIGINT now ends the process at once.
	stop()
	closed := make(chan struct{})
	go func() { cl.CloseAllowingRebalance(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(closeTimeout):
		fmt.Fprintf(os.Stderr, "petrel-compat: warning: did not leave the group within %s; exiting without leaving\n", closeTimeout)
	}
	if exitCode != 0 {
		fail("%s", why)
	}
}
