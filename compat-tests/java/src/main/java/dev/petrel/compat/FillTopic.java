package dev.petrel.compat;

import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Benchmark helper (compat-tests/bench/consume_bench.sh): creates TOPIC with PARTITIONS
 * partitions and fills it with TOTAL_BYTES of values (VALUE_BYTES each, pseudo-random so they
 * do not compress, no key, round-robin over the partitions) as fast as the stock Java producer
 * goes with large batches: acks=1, no idempotence, no compression, linger.ms=20,
 * batch.size=1000000 (under the broker's default max.message.bytes), max.request.size=16 MiB.
 * Prints one line: {@code fill: records=N value_bytes=B seconds=S records_per_s=R mib_per_s=M}.
 * Usage: FillTopic BOOTSTRAP TOPIC PARTITIONS TOTAL_BYTES [VALUE_BYTES (default 1024)]
 */
public final class FillTopic {
    private FillTopic() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 4 || args.length > 5) {
            System.err.println("usage: FillTopic BOOTSTRAP TOPIC PARTITIONS TOTAL_BYTES [VALUE_BYTES]");
            System.exit(2);
        }
        String bootstrap = args[0], topic = args[1];
        int partitions = Integer.parseInt(args[2]);
        long totalBytes = Long.parseLong(args[3]);
        int valueBytes = args.length > 4 ? Integer.parseInt(args[4]) : 1024;
        long records = (totalBytes + valueBytes - 1) / valueBytes;

        Properties a = new Properties();
        a.put("bootstrap.servers", bootstrap);
        try (Admin admin = Admin.create(a)) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }

        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        p.put("acks", "1");
        p.put("enable.idempotence", "false");
        p.put("compression.type", "none");
        p.put("linger.ms", "20");
        p.put("batch.size", "1000000");
        p.put("max.request.size", Integer.toString(16 << 20));
        p.put("buffer.memory", Long.toString(256L << 20));
        p.put("send.buffer.bytes", "-1");
        p.put("delivery.timeout.ms", "120000");
        p.put("request.timeout.ms", "30000");

        // One random pool; each value is a slice of it at a varying offset with its index in
        // the first 8 bytes, so values neither repeat nor compress.
        byte[] pool = new byte[(1 << 20) + valueBytes];
        new SplittableRandom(42).nextBytes(pool);
        AtomicLong failed = new AtomicLong();
        AtomicReference<Exception> firstError = new AtomicReference<>();
        long start = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (long i = 0; i < records; i++) {
                byte[] value = new byte[valueBytes];
                int from = (int) ((i * 7919) & ((1 << 20) - 1));
                System.arraycopy(pool, from, value, 0, valueBytes);
                for (int b = 0; b < 8 && b < valueBytes; b++) {
                    value[b] = (byte) (i >>> (8 * b));
                }
                producer.send(new ProducerRecord<>(topic, (int) (i % partitions), null, value), (m, e) -> {
                    if (e != null) {
                        failed.incrementAndGet();
                        firstError.compareAndSet(null, e);
                    }
                });
            }
            producer.flush();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (failed.get() > 0) {
            System.err.println("fill: " + failed.get() + " records failed, first: " + firstError.get());
            System.exit(1);
        }
        long bytes = records * valueBytes;
        System.out.printf("fill: records=%d value_bytes=%d seconds=%.3f records_per_s=%.0f mib_per_s=%.1f%n",
                records, bytes, seconds, records / seconds, bytes / seconds / (1 << 20));
    }
}
