package dev.petrel.compat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Java (Apache kafka-clients) driver of the compatibility suite: runs one scenario of
 * compat-tests/SCENARIOS.md against a broker with the stock KafkaProducer, KafkaConsumer and
 * Admin, and exits 0 (pass), 1 (fail, with what differed) or 2 (bad usage). The Java client
 * has every feature the scenarios use, so it never exits 77.
 *
 * <pre>Driver --bootstrap HOST:PORT --scenario NAME --topic TOPIC</pre>
 *
 * Record conventions and their byte-exact check live in {@link Records}. Client logs go to
 * stderr at WARN (src/main/resources/simplelogger.properties); stdout is the short log of
 * checks the harness keeps.
 */
public final class Driver {
    /** Bound of every wait for records (the contract's 30 s). */
    private static final Duration RECORD_WAIT = Duration.ofSeconds(30);
    /** Bound of every wait for a group assignment (the contract's 45 s). */
    private static final Duration GROUP_WAIT = Duration.ofSeconds(45);
    /** Bound of one admin call or one produce result. */
    private static final long CALL_TIMEOUT_S = 30;
    /** Stop with a clear message before the harness's 90 s timeout kills the run silently. */
    private static final long WATCHDOG_MS = 80_000;
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration CLOSE = Duration.ofSeconds(10);

    /** A check that did not hold: the run fails with this message. */
    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    private final String bootstrap;
    private final String topic;
    /** What the driver is doing now, for the watchdog's message. */
    private volatile String step = "start";

    private Driver(String bootstrap, String topic) {
        this.bootstrap = bootstrap;
        this.topic = topic;
    }

    public static void main(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i], args[i + 1]);
        }
        String bootstrap = opts.get("--bootstrap"), scenario = opts.get("--scenario"), topic = opts.get("--topic");
        if (args.length != 6 || bootstrap == null || scenario == null || topic == null) {
            System.err.println("usage: Driver --bootstrap HOST:PORT --scenario NAME --topic TOPIC");
            System.exit(2);
        }
        Driver d = new Driver(bootstrap, topic);
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(WATCHDOG_MS);
            } catch (InterruptedException e) {
                return;
            }
            System.out.println("FAIL: still running after " + WATCHDOG_MS / 1000 + " s, during: " + d.step);
            System.out.flush();
            Runtime.getRuntime().halt(1);
        }, "watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
        int status;
        try {
            d.run(scenario);
            System.out.println("PASS: " + scenario);
            status = 0;
        } catch (Failure f) {
            System.out.println("FAIL: " + f.getMessage());
            status = 1;
        } catch (Throwable t) {
            System.out.println("FAIL: unexpected error during " + d.step + ": " + t);
            t.printStackTrace(System.out);
            status = 1;
        }
        System.out.flush();
        // exit() rather than return: a client thread left behind by a failure must not keep the JVM up.
        System.exit(status);
    }

    private void run(String scenario) throws Exception {
        log("java kafka-clients " + clientVersion() + ", scenario "
                + scenario + ", topic " + topic);
        if (scenario.startsWith("produce-consume-")) {
            String codec = scenario.substring("produce-consume-".length());
            if (!List.of("none", "gzip", "snappy", "lz4", "zstd").contains(codec)) {
                throw new Failure("unknown codec " + codec);
            }
            produceConsume(codec);
            return;
        }
        switch (scenario) {
            case "metadata" -> metadata();
            case "key-partitioning" -> keyPartitioning();
            case "large-record" -> largeRecord();
            case "seek-offset" -> seekOffset();
            case "seek-timestamp" -> seekTimestamp();
            case "admin" -> adminScenario();
            case "group-rebalance" -> groupRebalance();
            case "commit-resume" -> commitResume();
            case "idempotence" -> idempotence();
            default -> throw new Failure("unknown scenario " + scenario);
        }
    }

    // ---------------------------------------------------------------- scenarios

    private void metadata() throws Exception {
        int colon = bootstrap.lastIndexOf(':');
        String host = bootstrap.substring(0, colon);
        int port = Integer.parseInt(bootstrap.substring(colon + 1));
        Admin admin = admin();
        try {
            step("describeCluster");
            Collection<Node> nodes = get(admin.describeCluster().nodes(), "describeCluster");
            expect("broker count", nodes.size(), 1);
            Node broker = nodes.iterator().next();
            expect("broker address", broker.host() + ":" + broker.port(), host + ":" + port);
            step("listTopics");
            require(get(admin.listTopics().names(), "listTopics").contains(topic), "listTopics lacks " + topic);
            log("ok: listTopics has " + topic);
            TopicDescription d = describe(admin, topic);
            expect("partition count", d.partitions().size(), 6);
            for (TopicPartitionInfo p : d.partitions()) {
                require(p.leader() != null && p.leader().id() == broker.id(),
                        "partition " + p.partition() + " led by " + p.leader() + ", not broker " + broker.id());
            }
            log("ok: every partition led by broker " + broker.id());
        } finally {
            admin.close(CLOSE);
        }
    }

    private void produceConsume(String codec) throws Exception {
        Properties p = producerConfig();
        p.put("compression.type", codec);
        // Compression alone is under test here (idempotence has its own scenario), so switch the
        // idempotent default off; one request in flight keeps send order without it.
        p.put("enable.idempotence", "false");
        p.put("max.in.flight.requests.per.connection", "1");
        int count = 1000;
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            records.add(Records.record(topic, null, i));
        }
        RecordMetadata[] sent = produce(p, records);
        Placement got = readBack(count, Records::key);
        got.matches(sent);
        keysInOnePartition(got, count, Records::key);
    }

    private void keyPartitioning() throws Exception {
        int count = 600, perProducer = 200;
        IntFunction<byte[]> keyOf = i -> Records.utf8("k-" + (i % 30));
        RecordMetadata[] sent = new RecordMetadata[count];
        for (int first = 0; first < count; first += perProducer) {
            List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
            for (int i = first; i < first + perProducer; i++) {
                records.add(Records.record(topic, null, null, i, keyOf.apply(i), Records.value(i)));
            }
            // A new producer instance each time: the key -> partition mapping must not depend on it.
            RecordMetadata[] part = produce(producerConfig(), records);
            System.arraycopy(part, 0, sent, first, perProducer);
        }
        Placement got = readBack(count, keyOf);
        got.matches(sent);
        Map<String, Integer> keys = keysInOnePartition(got, count, keyOf);
        expect("distinct keys", keys.size(), 30);
        Set<Integer> used = new TreeSet<>(keys.values());
        require(used.size() >= 2, "all 30 keys went to one partition: " + used);
        log("ok: keys spread over partitions " + used);
    }

    private void largeRecord() throws Exception {
        TopicPartition p0 = new TopicPartition(topic, 0);
        Random rnd = new Random(20_000_190L);
        byte[] fits = new byte[190_000], tooBig = new byte[250_000];
        rnd.nextBytes(fits);
        rnd.nextBytes(tooBig);
        Properties pc = producerConfig();
        // Stated explicitly: the client refuses records over max.request.size itself, so it must stay
        // above 250,000 for the refusal to come from the broker's max.message.bytes.
        pc.put("max.request.size", "1048576");
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pc);
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig(null));
        try {
            step("produce 190,000-byte record");
            RecordMetadata m = await(producer.send(Records.record(topic, 0, null, 0, Records.key(0), fits)),
                    "produce of the 190,000-byte record");
            log("ok: 190,000-byte record stored at " + m.partition() + "@" + m.offset());
            consumer.assign(List.of(p0));
            consumer.seekToBeginning(List.of(p0));
            List<ConsumerRecord<byte[], byte[]>> read = pollFor(consumer, 1, "the 190,000-byte record");
            ConsumerRecord<byte[], byte[]> r = read.get(0);
            expect("offset of the large record", r.offset(), m.offset());
            String diff = Records.mismatch(r, 0, Records.key(0), fits);
            require(diff == null, diff);
            log("ok: 190,000-byte record read back byte-exact");

            step("produce 250,000-byte record");
            Future<RecordMetadata> refused = producer.send(Records.record(topic, 0, null, 1, Records.key(1), tooBig));
            try {
                RecordMetadata stored = refused.get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
                throw new Failure("broker accepted the 250,000-byte record (max.message.bytes=200000) at "
                        + stored.partition() + "@" + stored.offset() + "; expected MESSAGE_TOO_LARGE");
            } catch (ExecutionException e) {
                expect("error for the 250,000-byte record", Errors.forException(e.getCause()),
                        Errors.MESSAGE_TOO_LARGE);
            }
            step("check the refused record is not readable");
            expect("end offset of partition 0 after the refusal",
                    consumer.endOffsets(List.of(p0), RECORD_WAIT).get(p0), m.offset() + 1);
            long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (System.nanoTime() < until) {
                for (ConsumerRecord<byte[], byte[]> extra : consumer.poll(POLL)) {
                    throw new Failure("read a record after the large one: " + Records.describe(extra));
                }
            }
            log("ok: nothing readable after the large record (polled 2 s)");
        } finally {
            producer.close(CLOSE);
            consumer.close(CLOSE);
        }
    }

    private void seekOffset() throws Exception {
        TopicPartition p0 = new TopicPartition(topic, 0);
        produceToPartition0(null);
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig(null));
        try {
            consumer.assign(List.of(p0));
            consumer.seek(p0, 42);
            List<ConsumerRecord<byte[], byte[]>> read = pollFor(consumer, 58, "offsets 42..99");
            for (int k = 0; k < read.size(); k++) {
                ConsumerRecord<byte[], byte[]> r = read.get(k);
                expectQuiet("offset of the record read " + k + " after seek(42)", r.offset(), 42L + k);
                Records.verify(r, 42 + k);
            }
            log("ok: after seek(42) read offsets 42..99 in order, each record as produced");
            consumer.seekToBeginning(List.of(p0));
            ConsumerRecord<byte[], byte[]> first = pollFor(consumer, 1, "the first record after seekToBeginning").get(0);
            expect("offset after seekToBeginning", first.offset(), 0L);
            Records.verify(first, 0);
        } finally {
            consumer.close(CLOSE);
        }
    }

    private void seekTimestamp() throws Exception {
        TopicPartition p0 = new TopicPartition(topic, 0);
        long now = System.currentTimeMillis();
        long t0 = now - 3_600_000L;
        produceToPartition0(t0);
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig(null));
        try {
            OffsetAndTimestamp at42 = offsetForTime(consumer, p0, t0 + 42_000, "T0 + 42000");
            require(at42 != null, "offsetsForTimes(T0 + 42000) found no offset");
            expect("offsetsForTimes(T0 + 42000)", at42.offset() + " @ " + at42.timestamp(), "42 @ " + (t0 + 42_000));
            OffsetAndTimestamp between = offsetForTime(consumer, p0, t0 + 41_500, "T0 + 41500");
            expect("offsetsForTimes(T0 + 41500)", between == null ? "none" : String.valueOf(between.offset()), "42");
            OffsetAndTimestamp before = offsetForTime(consumer, p0, t0 - 5_000, "T0 - 5000");
            expect("offsetsForTimes(T0 - 5000)", before == null ? "none" : String.valueOf(before.offset()), "0");
            OffsetAndTimestamp future = offsetForTime(consumer, p0, now + 3_600_000L, "now + 1 h");
            expect("offsetsForTimes(now + 1 h)", future == null ? "none" : String.valueOf(future.offset()), "none");
            consumer.assign(List.of(p0));
            consumer.seek(p0, at42.offset());
            ConsumerRecord<byte[], byte[]> r = pollFor(consumer, 1, "the record at the offset for T0 + 42000").get(0);
            expect("first record after the seek",
                    r.offset() + " " + r.timestampType() + " " + r.timestamp(),
                    "42 " + TimestampType.CREATE_TIME + " " + (t0 + 42_000));
            Records.verify(r, 42);
        } finally {
            consumer.close(CLOSE);
        }
    }

    private void adminScenario() throws Exception {
        String name = topic + "-admin";
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, name);
        Admin admin = admin();
        try {
            step("createTopics");
            NewTopic spec = new NewTopic(name, 3, (short) 1).configs(Map.of("retention.ms", "3600000"));
            get(admin.createTopics(List.of(spec)).all(), "createTopics " + name);
            log("ok: created " + name);
            step("createTopics again");
            expectError(admin.createTopics(List.of(spec)).all(), "second createTopics " + name,
                    Errors.TOPIC_ALREADY_EXISTS);
            step("listTopics");
            require(get(admin.listTopics().names(), "listTopics").contains(name), "listTopics lacks " + name);
            log("ok: listTopics has " + name);
            expect("partitions of " + name, describe(admin, name).partitions().size(), 3);
            expect("retention.ms after create", retention(admin, resource), "3600000 DYNAMIC_TOPIC_CONFIG");
            step("incrementalAlterConfigs");
            AlterConfigOp set = new AlterConfigOp(new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET);
            get(admin.incrementalAlterConfigs(Map.of(resource, List.of(set))).all(), "incrementalAlterConfigs");
            expect("retention.ms after alter", retention(admin, resource), "7200000 DYNAMIC_TOPIC_CONFIG");
            step("createPartitions");
            get(admin.createPartitions(Map.of(name, NewPartitions.increaseTo(5))).all(), "createPartitions to 5");
            expect("partitions of " + name + " after createPartitions", describe(admin, name).partitions().size(), 5);
            step("deleteTopics");
            get(admin.deleteTopics(List.of(name)).all(), "deleteTopics " + name);
            waitUntil("listTopics no longer has " + name, Duration.ofSeconds(10),
                    () -> !get(admin.listTopics().names(), "listTopics").contains(name), 200);
        } finally {
            admin.close(CLOSE);
        }
    }

    private void groupRebalance() {
        Properties config = consumerConfig(topic + "-g");
        // Members learn of a rebalance through heartbeats; the 3 s default only makes the run slower.
        config.put("heartbeat.interval.ms", "500");
        KafkaConsumer<byte[], byte[]> a = new KafkaConsumer<>(config);
        KafkaConsumer<byte[], byte[]> b = new KafkaConsumer<>(config);
        boolean bClosed = false;
        try {
            Set<TopicPartition> all = partitions(a);
            a.subscribe(List.of(topic));
            waitUntil("A owns all 6 partitions", GROUP_WAIT, () -> {
                a.poll(POLL);
                return a.assignment().equals(all);
            }, 0);
            b.subscribe(List.of(topic));
            // Both members must keep polling: a classic-protocol rebalance completes inside poll().
            waitUntil("A and B own disjoint, non-empty sets covering all 6", GROUP_WAIT, () -> {
                a.poll(POLL);
                b.poll(POLL);
                Set<TopicPartition> sa = a.assignment(), sb = b.assignment(), union = new HashSet<>(sa);
                union.addAll(sb);
                return !sa.isEmpty() && !sb.isEmpty() && union.equals(all) && sa.size() + sb.size() == all.size();
            }, 0);
            log("   A owns " + numbers(a.assignment()) + ", B owns " + numbers(b.assignment()));
            step("B leaves the group");
            b.close(CLOSE);
            bClosed = true;
            waitUntil("A owns all 6 partitions again after B left", GROUP_WAIT, () -> {
                a.poll(POLL);
                return a.assignment().equals(all);
            }, 0);
        } finally {
            if (!bClosed) {
                b.close(CLOSE);
            }
            a.close(CLOSE);
        }
    }

    private void commitResume() throws Exception {
        int count = 100;
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            records.add(Records.record(topic, null, i));
        }
        produce(producerConfig(), records);
        String group = topic + "-c";
        Set<Integer> byC1 = new TreeSet<>(), byC2 = new TreeSet<>();

        step("C1 reads 40 records");
        KafkaConsumer<byte[], byte[]> c1 = new KafkaConsumer<>(consumerConfig(group));
        try {
            c1.subscribe(List.of(topic));
            Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
            long deadline = System.nanoTime() + RECORD_WAIT.toNanos();
            // A poll may hand over more than 40 records; only those processed are committed, so
            // the rest must reach C2.
            outer:
            while (byC1.size() < 40 && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c1.poll(POLL)) {
                    if (byC1.size() == 40) {
                        break outer;
                    }
                    process(r, byC1, byC2, "C1", done);
                }
            }
            expect("records C1 processed", byC1.size(), 40);
            c1.commitSync(done, RECORD_WAIT);
            log("ok: C1 committed " + offsets(done));
        } finally {
            c1.close(CLOSE);
        }

        step("C2 reads until idle for 5 s");
        KafkaConsumer<byte[], byte[]> c2 = new KafkaConsumer<>(consumerConfig(group));
        Map<TopicPartition, Long> ends;
        try {
            c2.subscribe(List.of(topic));
            Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
            long deadline = System.nanoTime() + GROUP_WAIT.toNanos();
            long idleSince = -1; // counted from the first assignment: joining the group is not idleness
            while (System.nanoTime() < deadline) {
                var batch = c2.poll(POLL);
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    process(r, byC2, byC1, "C2", done);
                }
                if (!batch.isEmpty() || (idleSince < 0 && !c2.assignment().isEmpty())) {
                    idleSince = System.nanoTime();
                } else if (idleSince >= 0 && System.nanoTime() - idleSince > 5_000_000_000L) {
                    break;
                }
            }
            require(idleSince >= 0, "C2 got no assignment within " + GROUP_WAIT.toSeconds() + " s");
            c2.commitSync(done, RECORD_WAIT);
            log("ok: C2 processed " + byC2.size() + " records, committed " + offsets(done));
            ends = c2.endOffsets(partitions(c2), RECORD_WAIT);
        } finally {
            c2.close(CLOSE);
        }
        Set<Integer> missing = new TreeSet<>();
        for (int i = 0; i < count; i++) {
            if (!byC1.contains(i) && !byC2.contains(i)) {
                missing.add(i);
            }
        }
        require(missing.isEmpty(), "records read by neither C1 nor C2: " + missing);
        log("ok: C1 and C2 read disjoint sets, together all " + count);

        step("fetch committed offsets");
        Admin admin = admin();
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = get(
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata(), "listConsumerGroupOffsets");
            Map<Integer, String> got = new TreeMap<>(), want = new TreeMap<>();
            for (var e : ends.entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                // A partition that got no records has nothing to commit: "none" then stands for 0.
                got.put(e.getKey().partition(), c == null ? "none" : String.valueOf(c.offset()));
                want.put(e.getKey().partition(), e.getValue() == 0 && c == null ? "none" : String.valueOf(e.getValue()));
            }
            expect("committed offsets (partition=offset) vs end offsets", got, want);
        } finally {
            admin.close(CLOSE);
        }
    }

    private void idempotence() throws Exception {
        Properties p = producerConfig();
        p.put("enable.idempotence", "true");
        p.put("max.in.flight.requests.per.connection", "5");
        // Small batches, so that many produce requests are in flight together: the case the
        // producer's sequence numbers must keep in order.
        p.put("batch.size", "2048");
        int count = 2000;
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            records.add(Records.record(topic, null, i));
        }
        RecordMetadata[] sent = produce(p, records);
        Placement got = readBack(count, Records::key);
        got.matches(sent);
    }

    // ---------------------------------------------------------------- shared steps

    /** Produces records 0..99 to partition 0 (timestamps T0 + i*1000 when t0 is given); record i must get offset i. */
    private void produceToPartition0(Long t0) throws Exception {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            records.add(Records.record(topic, 0, t0 == null ? null : t0 + i * 1000L, i, Records.key(i), Records.value(i)));
        }
        RecordMetadata[] sent = produce(producerConfig(), records);
        for (int i = 0; i < sent.length; i++) {
            expectQuiet("offset of record " + i, sent[i].partition() + "@" + sent[i].offset(), "0@" + i);
        }
        log("ok: records 0..99 stored at partition 0, offsets 0..99");
    }

    /** Sends every record with one producer and returns each one's result; fails if any send failed. */
    private RecordMetadata[] produce(Properties config, List<ProducerRecord<byte[], byte[]>> records) throws Exception {
        step("produce " + records.size() + " records");
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config);
        RecordMetadata[] out = new RecordMetadata[records.size()];
        try {
            List<Future<RecordMetadata>> futures = new ArrayList<>();
            for (ProducerRecord<byte[], byte[]> r : records) {
                futures.add(producer.send(r));
            }
            producer.flush(); // returns once every send has its result, bounded by delivery.timeout.ms
            for (int i = 0; i < out.length; i++) {
                out[i] = await(futures.get(i), "produce of record " + i);
            }
        } finally {
            producer.close(CLOSE);
        }
        log("ok: produced " + out.length + " records (" + config.getProperty("compression.type", "none")
                + ", acks=" + config.getProperty("acks") + ")");
        return out;
    }

    /** Where readBack found each record: partition and offset by record number. */
    private final class Placement {
        final int[] partition;
        final long[] offset;

        Placement(int count) {
            partition = new int[count];
            offset = new long[count];
            java.util.Arrays.fill(partition, -1);
        }

        /** Every record was read where the producer was told it was stored. */
        void matches(RecordMetadata[] sent) {
            for (int i = 0; i < sent.length; i++) {
                expectQuiet("partition@offset of record " + i + " (read vs produce result)",
                        partition[i] + "@" + offset[i], sent[i].partition() + "@" + sent[i].offset());
            }
            log("ok: every record read at the partition and offset its produce result named");
        }
    }

    /**
     * Reads the topic from the beginning of all its 6 partitions (assign + seek, no group) until
     * count records are in, within 30 s. Checks: each is record i of the conventions (keys by
     * keyOf), none comes twice, i increases with the offset within a partition, and the
     * partitions hold nothing else (end minus beginning offsets add up to count).
     */
    private Placement readBack(int count, IntFunction<byte[]> keyOf) {
        step("read back " + count + " records");
        Placement got = new Placement(count);
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig(null));
        try {
            List<TopicPartition> tps = new ArrayList<>(partitions(consumer));
            expect("partitions of " + topic, tps.size(), 6);
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            Map<Integer, Integer> lastIndex = new HashMap<>();
            int read = 0;
            long deadline = System.nanoTime() + RECORD_WAIT.toNanos();
            while (read < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
                    int i = Records.index(r);
                    require(i >= 0 && i < count, "record number out of range: " + Records.describe(r));
                    require(got.partition[i] < 0, "record " + i + " read twice: at " + got.partition[i] + "@"
                            + got.offset[i] + " and " + r.partition() + "@" + r.offset());
                    String diff = Records.mismatch(r, i, keyOf.apply(i), Records.value(i));
                    require(diff == null, diff);
                    Integer before = lastIndex.put(r.partition(), i);
                    require(before == null || before < i, "partition " + r.partition() + ": record " + i
                            + " at offset " + r.offset() + " comes after record " + before);
                    got.partition[i] = r.partition();
                    got.offset[i] = r.offset();
                    read++;
                }
            }
            if (read < count) {
                List<Integer> missing = new ArrayList<>();
                for (int i = 0; i < count && missing.size() < 20; i++) {
                    if (got.partition[i] < 0) {
                        missing.add(i);
                    }
                }
                throw new Failure("read " + read + " of " + count + " records within " + RECORD_WAIT.toSeconds()
                        + " s; first missing: " + missing);
            }
            log("ok: read all " + count + " records exactly once, each byte-exact, in produce order per partition");
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(tps, RECORD_WAIT);
            Map<TopicPartition, Long> end = consumer.endOffsets(tps, RECORD_WAIT);
            long stored = 0;
            for (TopicPartition tp : tps) {
                stored += end.get(tp) - begin.get(tp);
            }
            expect("records stored in the topic (sum of end - beginning offsets)", stored, (long) count);
        } finally {
            consumer.close(CLOSE);
        }
        return got;
    }

    /** Every non-null key was read from exactly one partition; returns key -> partition. */
    private Map<String, Integer> keysInOnePartition(Placement got, int count, IntFunction<byte[]> keyOf) {
        Map<String, Integer> where = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            byte[] k = keyOf.apply(i);
            if (k == null) {
                continue;
            }
            String key = new String(k, java.nio.charset.StandardCharsets.UTF_8);
            Integer first = where.putIfAbsent(key, got.partition[i]);
            require(first == null || first == got.partition[i],
                    "key " + key + " is in partitions " + first + " and " + got.partition[i]);
        }
        log("ok: each of " + where.size() + " keys in exactly one partition");
        return where;
    }

    /** commit-resume: verifies a group member's record and notes it as processed (next offset to commit). */
    private static void process(ConsumerRecord<byte[], byte[]> r, Set<Integer> mine, Set<Integer> other, String who,
            Map<TopicPartition, OffsetAndMetadata> done) {
        int i = Records.index(r);
        require(i >= 0 && i < 100, "record number out of range: " + Records.describe(r));
        Records.verify(r, i);
        require(!other.contains(i), who + " read record " + i + " that the other consumer already processed");
        require(mine.add(i), who + " read record " + i + " twice");
        done.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
    }

    private OffsetAndTimestamp offsetForTime(KafkaConsumer<byte[], byte[]> c, TopicPartition tp, long ts, String what) {
        step("offsetsForTimes(" + what + ")");
        return c.offsetsForTimes(Map.of(tp, ts), RECORD_WAIT).get(tp);
    }

    /** Polls until n records are in (within 30 s) and returns exactly the first n. */
    private List<ConsumerRecord<byte[], byte[]>> pollFor(KafkaConsumer<byte[], byte[]> c, int n, String what) {
        step("read " + what);
        List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
        long deadline = System.nanoTime() + RECORD_WAIT.toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            c.poll(POLL).forEach(out::add);
        }
        require(out.size() >= n, "read " + out.size() + " records of " + what + " within " + RECORD_WAIT.toSeconds()
                + " s, expected " + n);
        return out.subList(0, n);
    }

    private Set<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> c) {
        Set<TopicPartition> all = new HashSet<>();
        c.partitionsFor(topic, RECORD_WAIT).forEach(p -> all.add(new TopicPartition(topic, p.partition())));
        return all;
    }

    private TopicDescription describe(Admin admin, String name) {
        step("describeTopics " + name);
        return get(admin.describeTopics(List.of(name)).allTopicNames(), "describeTopics " + name).get(name);
    }

    /** retention.ms of a topic as "VALUE SOURCE" (a topic override has source DYNAMIC_TOPIC_CONFIG). */
    private String retention(Admin admin, ConfigResource resource) {
        step("describeConfigs " + resource.name());
        Config config = get(admin.describeConfigs(List.of(resource)).all(), "describeConfigs").get(resource);
        ConfigEntry e = config == null ? null : config.get("retention.ms");
        return e == null ? "missing" : e.value() + " " + e.source();
    }

    // ---------------------------------------------------------------- client configs

    private Properties producerConfig() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("acks", "all");
        p.put("request.timeout.ms", "15000");
        p.put("delivery.timeout.ms", "30000");
        p.put("max.block.ms", "30000");
        return p;
    }

    /** A consumer in group (or, for null, a group-less one for assign + seek); never auto-commits. */
    private Properties consumerConfig(String group) {
        Properties c = new Properties();
        c.put("bootstrap.servers", bootstrap);
        c.put("key.deserializer", ByteArrayDeserializer.class.getName());
        c.put("value.deserializer", ByteArrayDeserializer.class.getName());
        c.put("enable.auto.commit", "false");
        c.put("auto.offset.reset", "earliest");
        c.put("request.timeout.ms", "15000");
        c.put("default.api.timeout.ms", "30000");
        if (group != null) {
            c.put("group.id", group);
        }
        return c;
    }

    private Admin admin() {
        Properties a = new Properties();
        a.put("bootstrap.servers", bootstrap);
        a.put("request.timeout.ms", "15000");
        a.put("default.api.timeout.ms", "30000");
        return Admin.create(a);
    }

    // ---------------------------------------------------------------- checks and waits

    /** The kafka-clients version, from the properties file its jar ships (AppInfoParser is internal). */
    private static String clientVersion() {
        Properties v = new Properties();
        try (java.io.InputStream in = KafkaProducer.class.getResourceAsStream("/kafka/kafka-version.properties")) {
            if (in != null) {
                v.load(in);
            }
        } catch (java.io.IOException e) {
            // only for the log line
        }
        return v.getProperty("version", "unknown");
    }

    private void step(String what) {
        step = what;
    }

    private static void log(String line) {
        System.out.println(line);
    }

    static void require(boolean ok, String failure) {
        if (!ok) {
            throw new Failure(failure);
        }
    }

    /** Logs "ok" if got equals want, else fails saying both. */
    private static void expect(String what, Object got, Object want) {
        expectQuiet(what, got, want);
        log("ok: " + what + " = " + got);
    }

    /** expect() without the log line, for checks made per record. */
    private static void expectQuiet(String what, Object got, Object want) {
        if (!Objects.equals(got, want)) {
            throw new Failure(what + ": got " + got + ", expected " + want);
        }
    }

    /** Waits (within bound, pausing pauseMs between tries) for the condition, which may itself poll a client. */
    private void waitUntil(String what, Duration bound, BooleanSupplier condition, long pauseMs) {
        step("wait until " + what);
        long start = System.nanoTime(), deadline = start + bound.toNanos();
        while (!condition.getAsBoolean()) {
            require(System.nanoTime() < deadline, "not within " + bound.toSeconds() + " s: " + what);
            if (pauseMs > 0) {
                try {
                    Thread.sleep(pauseMs);
                } catch (InterruptedException e) {
                    throw new Failure("interrupted while waiting until " + what);
                }
            }
        }
        log("ok: " + what + " (after " + (System.nanoTime() - start) / 1_000_000 + " ms)");
    }

    /** The result of an admin call, bounded; a failed call fails the run naming the error. */
    private static <T> T get(KafkaFuture<T> f, String what) {
        try {
            return f.get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new Failure(what + " failed: " + errorName(e.getCause()));
        } catch (TimeoutException e) {
            throw new Failure(what + ": no answer within " + CALL_TIMEOUT_S + " s");
        } catch (InterruptedException e) {
            throw new Failure(what + ": interrupted");
        }
    }

    /** The result of a send, bounded; a failed send fails the run naming the error. */
    private static RecordMetadata await(Future<RecordMetadata> f, String what) throws InterruptedException {
        try {
            return f.get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new Failure(what + " failed: " + errorName(e.getCause()));
        } catch (TimeoutException e) {
            throw new Failure(what + ": no result within " + CALL_TIMEOUT_S + " s");
        }
    }

    /** Fails unless the admin call fails with exactly the expected protocol error. */
    private static void expectError(KafkaFuture<?> f, String what, Errors expected) {
        try {
            f.get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
            throw new Failure(what + " succeeded, expected " + expected + " (" + expected.code() + ")");
        } catch (ExecutionException e) {
            expect(what + " error", Errors.forException(e.getCause()), expected);
        } catch (TimeoutException e) {
            throw new Failure(what + ": no answer within " + CALL_TIMEOUT_S + " s");
        } catch (InterruptedException e) {
            throw new Failure(what + ": interrupted");
        }
    }

    /** A client exception as "PROTOCOL_ERROR (code): message". */
    private static String errorName(Throwable t) {
        Errors e = Errors.forException(t);
        return e + " (" + e.code() + "): " + t;
    }

    private static List<Integer> numbers(Set<TopicPartition> tps) {
        List<Integer> out = new ArrayList<>();
        tps.forEach(tp -> out.add(tp.partition()));
        out.sort(null);
        return out;
    }

    private static String offsets(Map<TopicPartition, OffsetAndMetadata> m) {
        Map<Integer, Long> out = new TreeMap<>();
        m.forEach((tp, o) -> out.put(tp.partition(), o.offset()));
        return out.toString();
    }
}
