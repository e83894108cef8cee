// Command sarama-driver is the IBM/sarama (github.com/IBM/sarama) driver of
// compat-tests/run. It implements every scenario of ../SCENARIOS.md (the contract:
// command line, exit codes, record conventions, checks) with sarama's application
// APIs: SyncProducer/AsyncProducer, Consumer, ConsumerGroup, ClusterAdmin and
// OffsetManager.
//
//	sarama-driver --bootstrap HOST:PORT --scenario NAME --topic TOPIC
//
// Exit 0 pass, 1 fail (the reason is the last line on stdout), 2 bad usage.
// SARAMA_LOG=1 sends sarama's own log to stderr.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/debug"
	"time"

	"github.com/IBM/sarama"
)

const (
	numPartitions = 6                // every scenario topic has 6 partitions
	recordWait    = 30 * time.Second // bound on waiting for expected records (SCENARIOS.md)
	groupWait     = 45 * time.Second // bound on each group-rebalance wait (SCENARIOS.md)
	runDeadline   = 85 * time.Second // whole run; the harness kills us at 90 s
)

var scenarios = map[string]func(*driver){
	"metadata":               (*driver).metadata,
	"produce-consume-none":   func(d *driver) { d.produceConsume("none", sarama.CompressionNone) },
	"produce-consume-gzip":   func(d *driver) { d.produceConsume("gzip", sarama.CompressionGZIP) },
	"produce-consume-snappy": func(d *driver) { d.produceConsume("snappy", sarama.CompressionSnappy) },
	"produce-consume-lz4":    func(d *driver) { d.produceConsume("lz4", sarama.CompressionLZ4) },
	"produce-consume-zstd":   func(d *driver) { d.produceConsume("zstd", sarama.CompressionZSTD) },
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
	client           sarama.Client // shared by consumers, offset lookups and the offset manager
}

func main() {
	bootstrap := flag.String("bootstrap", "", "broker HOST:PORT")
	scenario := flag.String("scenario", "", "scenario name (see SCENARIOS.md)")
	topic := flag.String("topic", "", "the scenario's fresh 6-partition topic")
	flag.Parse()
	run, ok := scenarios[*scenario]
	if *bootstrap == "" || *topic == "" || !ok || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: sarama-driver --bootstrap HOST:PORT --scenario NAME --topic TOPIC (a scenario of SCENARIOS.md)")
		os.Exit(2)
	}
	if os.Getenv("SARAMA_LOG") != "" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}
	// Backstop only: every wait has its own, shorter bound.
	time.AfterFunc(runDeadline, func() { fail("scenario did not finish within %s", runDeadline) })

	client, err := sarama.NewClient([]string{*bootstrap}, newConfig())
	if err != nil {
		fail("client: %v", err)
	}
	d := &driver{bootstrap: *bootstrap, topic: *topic, client: client}
	logf("sarama %s (config.Version %s), scenario %s, topic %s", saramaVersion(), newConfig().Version, *scenario, *topic)
	run(d)
	client.Close()
	logf("PASS")
}

// newConfig is the configuration every sarama object of the driver starts from.
func newConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	// Kafka 4.0.0: Petrel's ApiVersions ranges are Kafka 4.0's (the KIP-896 floors,
	// e.g. Fetch >= 4, and 4.0-era maxima), so this is the cluster version an
	// application would declare. sarama picks each request version from it and clamps
	// it to the broker's advertised range. Anything >= 2.1 enables what the scenarios
	// need: record headers and the idempotent producer (>= 0.11), zstd (>= 2.1).
	cfg.Version = sarama.V4_0_0_0
	cfg.ClientID = "petrel-compat-sarama"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true // SyncProducer needs it; AsyncProducer users read offsets from it
	cfg.Consumer.Return.Errors = true    // fetch errors fail the run instead of only being logged
	cfg.Metadata.AllowAutoTopicCreation = false
	return cfg
}

var start = time.Now()

// logf prints one line of the run's log (stdout, kept by the harness), stamped with
// the seconds since the start so slow steps show.
func logf(format string, args ...any) {
	fmt.Printf("%6.2fs "+format+"\n", append([]any{time.Since(start).Seconds()}, args...)...)
}

// fail prints what differed and exits 1.
func fail(format string, args ...any) {
	logf("FAIL: "+format, args...)
	os.Exit(1)
}

// saramaVersion is the sarama module version this binary was built with.
func saramaVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/IBM/sarama" {
				return dep.Version
			}
		}
	}
	return "(unknown version)"
}
