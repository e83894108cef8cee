package dev.petrel.compat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces records with the Java producer's default settings (idempotence on) with the
 * given compression, then reads them back with assign() + seek and checks every record's
 * key, value, header, partition and offset against what the producer was told, that no
 * record comes back twice and that each key stayed in one partition. The produce results must
 * give each partition gap-free offsets in send order (idempotence guarantees order).
 * Usage: ProduceConsume BOOTSTRAP TOPIC COUNT COMPRESSION [TIMEOUT_S [PARTITIONS]]
 * TIMEOUT_S (default 60) bounds the consume; PARTITIONS, if given and above 0, creates the
 * topic with that many partitions with the AdminClient first (otherwise the broker
 * auto-creates it on first use). Produce results are kept in two arrays indexed by record
 * number, so a million records stay within a few tens of MB.
 */
public final class ProduceConsume {
    private static final int KEYS = 37;

    /** The kafka-clients version, from the properties file the client jar ships. */
    private static String clientVersion() {
        Properties v = new Properties();
        try (java.io.InputStream in = KafkaProducer.class.getResourceAsStream("/kafka/kafka-version.properties")) {
            if (in != null) {
                v.load(in);
            }
        } catch (java.io.IOException e) {
            // fall through to "unknown"
        }
        return v.getProperty("version", "unknown");
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1], compression = args[3];
        int count = Integer.parseInt(args[2]);
        long timeoutMs = (args.length > 4 ? Long.parseLong(args[4]) : 60) * 1000;
        int createPartitions = args.length > 5 ? Integer.parseInt(args[5]) : 0;
        if (createPartitions > 0) {
            Properties a = new Properties();
            a.put("bootstrap.servers", bootstrap);
            try (Admin admin = Admin.create(a)) {
                admin.createTopics(List.of(new NewTopic(topic, createPartitions, (short) 1)))
                        .all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("compression.type", compression);
        p.put("delivery.timeout.ms", "30000");
        p.put("request.timeout.ms", "15000");
        // What the producer was told for record i (partition -1 = no result yet).
        int[] sentPartition = new int[count];
        long[] sentOffset = new long[count];
        Arrays.fill(sentPartition, -1);
        AtomicInteger failures = new AtomicInteger();
        AtomicReference<Exception> firstFailure = new AtomicReference<>();
        long produceStart = System.nanoTime();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < count; i++) {
                final int index = i;
                ProducerRecord<String, String> r = new ProducerRecord<>(topic, "key-" + (i % KEYS), "value-" + i);
                r.headers().add("i", Integer.toString(i).getBytes());
                producer.send(r, (m, e) -> {
                    if (e != null) {
                        failures.incrementAndGet();
                        firstFailure.compareAndSet(null, e);
                    } else {
                        sentPartition[index] = m.partition();
                        sentOffset[index] = m.offset();
                    }
                });
            }
            // flush() returns after every send's callback has run.
            producer.flush();
        }
        double produceSeconds = (System.nanoTime() - produceStart) / 1e9;
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " sends failed, first: " + firstFailure.get(),
                    firstFailure.get());
        }
        // Idempotence (on by default) guarantees order: per partition, offsets in send order
        // must run gap-free from the first one.
        java.util.Map<Integer, Long> nextOffset = new java.util.HashMap<>();
        for (int i = 0; i < count; i++) {
            Long want = nextOffset.get(sentPartition[i]);
            if (want != null && sentOffset[i] != want) {
                throw new IllegalStateException("record " + i + " got partition " + sentPartition[i] + " offset "
                        + sentOffset[i] + ", expected " + want + " (the offset after the previous record sent there)");
            }
            nextOffset.put(sentPartition[i], sentOffset[i] + 1);
        }
        int[] keyPartition = new int[KEYS];
        Arrays.fill(keyPartition, -1);
        for (int i = 0; i < count; i++) {
            if (sentPartition[i] < 0) {
                throw new IllegalStateException("no produce result for record " + i);
            }
            int k = i % KEYS;
            if (keyPartition[k] < 0) {
                keyPartition[k] = sentPartition[i];
            } else if (keyPartition[k] != sentPartition[i]) {
                throw new IllegalStateException("key-" + k + " went to partitions " + keyPartition[k] + " and "
                        + sentPartition[i]);
            }
        }
        Properties c = new Properties();
        c.put("bootstrap.servers", bootstrap);
        c.put("key.deserializer", StringDeserializer.class.getName());
        c.put("value.deserializer", StringDeserializer.class.getName());
        c.put("enable.auto.commit", "false");
        int checked = 0;
        int partitionCount;
        BitSet seen = new BitSet(count);
        long consumeStart = System.nanoTime();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic).forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
            partitionCount = partitions.size();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (checked < count && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    Header[] headers = r.headers().toArray();
                    if (headers.length != 1 || !headers[0].key().equals("i")) {
                        throw new IllegalStateException("unexpected headers at " + r);
                    }
                    String iText = new String(headers[0].value());
                    int i = Integer.parseInt(iText);
                    if (i < 0 || i >= count) {
                        throw new IllegalStateException("record number out of range at " + r);
                    }
                    if (sentPartition[i] != r.partition() || sentOffset[i] != r.offset()) {
                        throw new IllegalStateException("record " + r + " does not match produce result partition "
                                + sentPartition[i] + " offset " + sentOffset[i]);
                    }
                    if (!r.value().equals("value-" + iText) || !r.key().equals("key-" + (i % KEYS))) {
                        throw new IllegalStateException("key/value/header mismatch at " + r);
                    }
                    if (seen.get(i)) {
                        throw new IllegalStateException("record " + i + " returned twice, again at " + r);
                    }
                    seen.set(i);
                    checked++;
                }
            }
        }
        double consumeSeconds = (System.nanoTime() - consumeStart) / 1e9;
        if (checked != count) {
            throw new IllegalStateException("read " + checked + " of " + count);
        }
        System.out.printf("java kafka-clients %s %s: produced %d in %.2fs (%.0f rec/s), consumed %d in %.2fs (%.0f rec/s), %d partitions%n",
                clientVersion(), compression, count, produceSeconds, count / produceSeconds,
                count, consumeSeconds, count / consumeSeconds, partitionCount);
        System.out.println("java " + compression + ": produced and verified " + count + " records");
    }
}
