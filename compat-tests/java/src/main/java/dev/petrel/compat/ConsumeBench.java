package dev.petrel.compat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Benchmark consumer (compat-tests/bench/consume_bench.sh): reads all of TOPIC with the stock
 * Java consumer without a group (assign + seekToBeginning) up to the end offsets it sees at
 * start, with large fetches (fetch.max.bytes 64 MiB, max.partition.fetch.bytes 16 MiB,
 * max.poll.records 10000, receive.buffer.bytes -1 = the OS's autotuned default). Checks that
 * each partition's offsets come gap-free and in order from its log start to its end offset.
 * Prints one line:
 * {@code consume: records=N bytes=B seconds=S records_per_s=R mib_per_s=M partitions=P}
 * where bytes are key + value bytes and seconds run from the first poll to the last record.
 * Usage: ConsumeBench BOOTSTRAP TOPIC [TIMEOUT_S (default 600)]
 */
public final class ConsumeBench {
    private ConsumeBench() {}

    public static void main(String[] args) {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: ConsumeBench BOOTSTRAP TOPIC [TIMEOUT_S]");
            System.exit(2);
        }
        String bootstrap = args[0], topic = args[1];
        long timeoutMs = (args.length > 2 ? Long.parseLong(args[2]) : 600) * 1000;
        Properties c = new Properties();
        c.put("bootstrap.servers", bootstrap);
        c.put("key.deserializer", ByteArrayDeserializer.class.getName());
        c.put("value.deserializer", ByteArrayDeserializer.class.getName());
        c.put("enable.auto.commit", "false");
        c.put("fetch.max.bytes", Integer.toString(64 << 20));
        c.put("max.partition.fetch.bytes", Integer.toString(16 << 20));
        c.put("max.poll.records", "10000");
        c.put("receive.buffer.bytes", "-1");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(30))) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, Duration.ofSeconds(30));
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            Map<Integer, Long> next = new HashMap<>();
            long expected = 0;
            int unfinished = 0;
            for (TopicPartition tp : partitions) {
                next.put(tp.partition(), begin.get(tp));
                expected += end.get(tp) - begin.get(tp);
                if (end.get(tp) > begin.get(tp)) {
                    unfinished++;
                }
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long records = 0, bytes = 0;
            long start = System.nanoTime();
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (unfinished > 0) {
                if (System.currentTimeMillis() > deadline) {
                    System.err.println("consume: timed out after " + timeoutMs / 1000 + " s with " + records
                            + " of " + expected + " records; next offsets " + next + ", end offsets " + end);
                    System.exit(1);
                }
                ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<byte[], byte[]> r : batch) {
                    long want = next.get(r.partition());
                    if (r.offset() != want) {
                        System.err.println("consume: partition " + r.partition() + " returned offset " + r.offset()
                                + ", expected " + want);
                        System.exit(1);
                    }
                    next.put(r.partition(), want + 1);
                    if (want + 1 == end.get(new TopicPartition(topic, r.partition()))) {
                        unfinished--;
                    }
                    records++;
                    bytes += (r.key() == null ? 0 : r.key().length) + (r.value() == null ? 0 : r.value().length);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            if (records != expected) {
                System.err.println("consume: read " + records + " records, expected " + expected);
                System.exit(1);
            }
            System.out.printf("consume: records=%d bytes=%d seconds=%.3f records_per_s=%.0f mib_per_s=%.1f partitions=%d%n",
                    records, bytes, seconds, records / seconds, bytes / seconds / (1 << 20), partitions.size());
        }
    }
}
