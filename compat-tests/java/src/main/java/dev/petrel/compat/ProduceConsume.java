package dev.petrel.compat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces records with the Java producer's default settings (idempotence on) with the
 * given compression, then reads them back with assign() + seek and checks every record's
 * key, value, header, partition and offset against what the producer was told.
 * Usage: ProduceConsume BOOTSTRAP TOPIC COUNT COMPRESSION
 */
public final class ProduceConsume {
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1], compression = args[3];
        int count = Integer.parseInt(args[2]);
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("compression.type", compression);
        p.put("delivery.timeout.ms", "30000");
        p.put("request.timeout.ms", "15000");
        Map<String, RecordMetadata> sent = new HashMap<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            List<java.util.concurrent.Future<RecordMetadata>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ProducerRecord<String, String> r = new ProducerRecord<>(topic, "key-" + (i % 37), "value-" + i);
                r.headers().add("i", Integer.toString(i).getBytes());
                futures.add(producer.send(r));
            }
            for (int i = 0; i < count; i++) {
                sent.put("value-" + i, futures.get(i).get());
            }
        }
        Properties c = new Properties();
        c.put("bootstrap.servers", bootstrap);
        c.put("key.deserializer", StringDeserializer.class.getName());
        c.put("value.deserializer", StringDeserializer.class.getName());
        c.put("enable.auto.commit", "false");
        int checked = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic).forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.currentTimeMillis() + 60000;
            while (checked < count && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    RecordMetadata m = sent.get(r.value());
                    if (m == null || m.partition() != r.partition() || m.offset() != r.offset()) {
                        throw new IllegalStateException("record " + r + " does not match " + m);
                    }
                    String i = new String(r.headers().lastHeader("i").value());
                    if (!r.value().equals("value-" + i) || !r.key().equals("key-" + (Integer.parseInt(i) % 37))) {
                        throw new IllegalStateException("key/value/header mismatch at " + r);
                    }
                    checked++;
                }
            }
        }
        if (checked != count) {
            throw new IllegalStateException("read " + checked + " of " + count);
        }
        System.out.println("java " + compression + ": produced and verified " + count + " records");
    }
}
