package dev.petrel.compat;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.clients.consumer.StickyAssignor;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A member of a consumer group (classic protocol) with the stock KafkaConsumer, for
 * compat-tests/groups_check.sh.
 *
 * <pre>Usage: GroupConsume BOOTSTRAP TOPIC GROUP [--assignor NAMES] [--instance-id ID]
 *                     [--session-timeout-ms N] [--record FILE] [--count N] [--timeout-s N]</pre>
 *
 * Subscribes to TOPIC in GROUP with auto-commit off and auto.offset.reset=earliest; every
 * other setting is the client's default unless given: --assignor is a comma-separated list
 * of range, roundrobin, sticky, cooperative-sticky (default: the client's own,
 * [range, cooperative-sticky] in 4.x), --instance-id makes it a static member
 * (group.instance.id), --session-timeout-ms sets session.timeout.ms.
 *
 * <p>Each polled batch is processed (appended to the --record file as
 * {@code r MS PARTITION OFFSET VALUE} lines and flushed), then committed synchronously
 * with the offsets after those records; each acknowledged commit adds
 * {@code c MS PARTITION NEXT_OFFSET} lines. A commit the client puts off while it rebalances
 * (RebalanceInProgressException) is sent with the next one; revoked partitions are
 * committed in onPartitionsRevoked, lost ones dropped. Output on stdout, one line per event:
 * {@code joined: generation=G member=ID} after every completed rebalance and
 * {@code assigned: TOPIC:0,1,2} whenever the assignment changes (partitions sorted, empty
 * list when none), and {@code done: ...} at the end.
 *
 * <p>Runs until --count records were processed (0, the default: no limit), --timeout-s
 * passes (exit 1) or SIGTERM/SIGINT; then commits, prints {@code done:} and closes the
 * consumer with its default close: a dynamic member sends LeaveGroup, a static member
 * does not.
 */
public final class GroupConsume {
    private static String topic;
    private static final TreeSet<Integer> owned = new TreeSet<>();
    private static BufferedWriter record;
    private static KafkaConsumer<String, String> consumer;
    /** Offsets processed but not yet committed, per partition (next offset to read). */
    private static final Map<TopicPartition, OffsetAndMetadata> pending = new HashMap<>();
    /** Commits put off because the consumer was rebalancing (RebalanceInProgressException). */
    private static long rebalanceRetries;

    private static void usage(String why) {
        System.err.println("GroupConsume: " + why);
        System.err.println("usage: GroupConsume BOOTSTRAP TOPIC GROUP [--assignor NAMES] [--instance-id ID]"
                + " [--session-timeout-ms N] [--record FILE] [--count N] [--timeout-s N]");
        System.exit(2);
    }

    private static String assignorClass(String name) {
        switch (name) {
            case "range": return RangeAssignor.class.getName();
            case "roundrobin": return RoundRobinAssignor.class.getName();
            case "sticky": return StickyAssignor.class.getName();
            case "cooperative-sticky": return CooperativeStickyAssignor.class.getName();
            default:
                usage("unknown assignor " + name + " (range, roundrobin, sticky, cooperative-sticky)");
                return null;
        }
    }

    private static synchronized void printAssigned() {
        String list = owned.stream().map(String::valueOf).collect(Collectors.joining(","));
        System.out.println("assigned: " + topic + ":" + list);
        System.out.flush();
    }

    private static void recordLine(String line) {
        if (record == null) {
            return;
        }
        try {
            record.write(line);
            record.newLine();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void flushRecord() {
        if (record == null) {
            return;
        }
        try {
            record.flush();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Commits what was processed (all of it, or only the given partitions' share). */
    private static void commitPending(Collection<TopicPartition> only, String why) {
        Map<TopicPartition, OffsetAndMetadata> toCommit = new HashMap<>();
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : pending.entrySet()) {
            if (only == null || only.contains(e.getKey())) {
                toCommit.put(e.getKey(), e.getValue());
            }
        }
        if (toCommit.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(toCommit, Duration.ofSeconds(15));
            long now = System.currentTimeMillis();
            for (Map.Entry<TopicPartition, OffsetAndMetadata> e : toCommit.entrySet()) {
                recordLine("c " + now + " " + e.getKey().partition() + " " + e.getValue().offset());
                pending.remove(e.getKey(), e.getValue());
            }
            flushRecord();
        } catch (WakeupException e) {
            throw e;
        } catch (RebalanceInProgressException e) {
            // The client refuses commits while it rejoins (cooperative rebalances too): keep
            // the offsets, the next commit (after poll, or in onPartitionsRevoked) sends them.
            rebalanceRetries++;
        } catch (KafkaException e) {
            // CommitFailedException (the generation is gone), ...: the records are consumed
            // again by whoever owns the partition next (uncommitted work).
            System.err.println("GroupConsume: commit (" + why + ") failed: " + e);
            for (TopicPartition tp : toCommit.keySet()) {
                pending.remove(tp);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        List<String> pos = new java.util.ArrayList<>();
        String assignors = null, instanceId = null, sessionTimeout = null, recordPath = null;
        long count = 0, timeoutS = 0;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--")) {
                if (i + 1 >= args.length) {
                    usage(a + " needs a value");
                }
                String v = args[++i];
                switch (a) {
                    case "--assignor": assignors = v; break;
                    case "--instance-id": instanceId = v; break;
                    case "--session-timeout-ms": sessionTimeout = v; break;
                    case "--record": recordPath = v; break;
                    case "--count": count = Long.parseLong(v); break;
                    case "--timeout-s": timeoutS = Long.parseLong(v); break;
                    default: usage("unknown flag " + a);
                }
            } else {
                pos.add(a);
            }
        }
        if (pos.size() != 3) {
            usage("needs BOOTSTRAP TOPIC GROUP");
        }
        topic = pos.get(1);
        String group = pos.get(2);
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, pos.get(0));
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "groupconsume-" + (instanceId != null ? instanceId : ProcessHandle.current().pid()));
        if (assignors != null) {
            c.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                    java.util.Arrays.stream(assignors.split(",")).map(GroupConsume::assignorClass)
                            .collect(Collectors.joining(",")));
        }
        if (instanceId != null) {
            c.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        }
        if (sessionTimeout != null) {
            c.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, sessionTimeout);
        }
        if (recordPath != null) {
            record = Files.newBufferedWriter(Path.of(recordPath), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        }

        consumer = new KafkaConsumer<>(c);
        Thread mainThread = Thread.currentThread();
        CountDownLatch finished = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean signalled = new java.util.concurrent.atomic.AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            signalled.set(true);
            try {
                consumer.wakeup();
            } catch (RuntimeException e) {
                // already closed
            }
            try {
                // The main thread commits, prints "done:" and closes (leave) first, unless it
                // has already ended (an uncaught exception).
                if (mainThread.isAlive()) {
                    finished.await(40, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));

        consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                commitPending(partitions, "partitions revoked");
                boolean changed = false;
                for (TopicPartition tp : partitions) {
                    changed |= owned.remove(tp.partition());
                }
                if (changed) {
                    printAssigned();
                }
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                // Called after every completed rebalance, also with nothing new (cooperative).
                System.out.println("joined: generation=" + consumer.groupMetadata().generationId()
                        + " member=" + consumer.groupMetadata().memberId());
                boolean changed = false;
                for (TopicPartition tp : partitions) {
                    changed |= owned.add(tp.partition());
                }
                if (changed) {
                    printAssigned();
                }
                System.out.flush();
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> partitions) {
                boolean changed = false;
                for (TopicPartition tp : partitions) {
                    pending.remove(tp);
                    changed |= owned.remove(tp.partition());
                }
                if (changed) {
                    printAssigned();
                }
            }
        });

        long deadline = timeoutS > 0 ? System.currentTimeMillis() + timeoutS * 1000 : Long.MAX_VALUE;
        long seen = 0;
        Map<Integer, TreeSet<Long>> distinct = new HashMap<>();
        String why = null;
        int exit = 0;
        try {
            while (why == null) {
                ConsumerRecords<String, String> batch = consumer.poll(Duration.ofMillis(200));
                long now = System.currentTimeMillis();
                for (ConsumerRecord<String, String> r : batch) {
                    seen++;
                    distinct.computeIfAbsent(r.partition(), p -> new TreeSet<>()).add(r.offset());
                    recordLine("r " + now + " " + r.partition() + " " + r.offset() + " " + r.value());
                    pending.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                flushRecord();
                commitPending(null, "after processing");
                if (count > 0 && seen >= count) {
                    why = "saw " + seen + " records";
                } else if (System.currentTimeMillis() > deadline) {
                    why = "timed out after " + timeoutS + "s with " + seen + " records";
                    exit = 1;
                }
            }
        } catch (WakeupException e) {
            why = "signalled";
        } catch (KafkaException e) {
            // Fatal for the consumer, e.g. InvalidSessionTimeoutException from JoinGroup.
            System.err.println("GroupConsume: " + e);
            why = "failed: " + e;
            exit = 1;
        }
        try {
            commitPending(null, "final");
        } catch (WakeupException e) {
            commitPending(null, "final");
        } catch (KafkaException e) {
            System.err.println("GroupConsume: final commit: " + e);
        }
        long nDistinct = distinct.values().stream().mapToLong(TreeSet::size).sum();
        String positions = distinct.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + "@" + (e.getValue().last() + 1)).collect(Collectors.joining(","));
        System.out.println("done: " + why + "; " + seen + " records (" + nDistinct + " distinct) from " + topic
                + " as " + group + ", next offsets " + topic + ":" + positions
                + (rebalanceRetries > 0 ? "; " + rebalanceRetries + " commit(s) put off during rebalances" : ""));
        System.out.flush();
        try {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(30)));
        } catch (KafkaException e) {
            System.err.println("GroupConsume: close: " + e);
        }
        if (record != null) {
            record.close();
        }
        finished.countDown();
        if (!signalled.get()) {
            System.exit(exit);
        }
    }
}
