// Command petrel-compat runs franz-go (github.com/twmb/franz-go) client checks
// against a Kafka-protocol broker such as Petrel. Stock client defaults are kept
// unless a check needs otherwise (see README.md).
//
//	petrel-compat produce-consume BOOTSTRAP COUNT [CODECS]
//	petrel-compat group-consume BOOTSTRAP TOPIC GROUP COUNT [--instance-id ID] [--max-group-errors N] [--timeout DURATION]
//	              [--balancer range|roundrobin|sticky|cooperative-sticky] [--session-timeout DURATION] [--record FILE]
//
// Exit status: 0 on success, 1 on a failed check or timeout, 2 on bad usage.
// PETREL_COMPAT_LOG=debug|info|warn|error sends franz-go's own log to stderr.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

const usage = `usage:
  petrel-compat produce-consume BOOTSTRAP COUNT [CODECS]
      CODECS: comma-separated subset of none,gzip,snappy,lz4,zstd (default: all)
  petrel-compat group-consume BOOTSTRAP TOPIC GROUP COUNT [--instance-id ID]
                [--max-group-errors N] [--timeout DURATION]
                [--balancer range|roundrobin|sticky|cooperative-sticky]
                [--session-timeout DURATION] [--record FILE]
      COUNT 0: consume until SIGTERM/SIGINT
env: PETREL_COMPAT_LOG=debug|info|warn|error  franz-go client log on stderr
`

func main() {
	if len(os.Args) < 2 {
		usageExit("missing subcommand")
	}
	switch os.Args[1] {
	case "produce-consume":
		produceConsume(os.Args[2:])
	case "group-consume":
		groupConsume(os.Args[2:])
	case "driver": // compat-tests/run's driver, see driver.go
		runDriver(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		usageExit("unknown subcommand " + os.Args[1])
	}
}

func usageExit(msg string) {
	fmt.Fprintf(os.Stderr, "petrel-compat: %s\n%s", msg, usage)
	os.Exit(2)
}

// fail reports a failed check and exits 1.
func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "petrel-compat: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// baseOpts are the options every client gets: the seed broker and, if asked
// for, franz-go's logger.
func baseOpts(bootstrap string) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(strings.Split(bootstrap, ",")...)}
	var level kgo.LogLevel
	switch strings.ToLower(os.Getenv("PETREL_COMPAT_LOG")) {
	case "":
		return opts
	case "debug":
		level = kgo.LogLevelDebug
	case "info":
		level = kgo.LogLevelInfo
	case "warn":
		level = kgo.LogLevelWarn
	case "error":
		level = kgo.LogLevelError
	default:
		usageExit("PETREL_COMPAT_LOG must be debug, info, warn or error")
	}
	return append(opts, kgo.WithLogger(kgo.BasicLogger(os.Stderr, level, func() string {
		return "[kgo] "
	})))
}

// franzVersion is the franz-go module version this binary was built with.
func franzVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/twmb/franz-go" {
				return dep.Version
			}
		}
	}
	return "(unknown version)"
}
