package dev.petrel.dumplog;

import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.server.util.KafkaScheduler;
import org.apache.kafka.storage.internals.log.LogConfig;
import org.apache.kafka.storage.internals.log.LogDirFailureChannel;
import org.apache.kafka.storage.internals.log.ProducerStateManagerConfig;
import org.apache.kafka.storage.internals.log.UnifiedLog;
import org.apache.kafka.storage.log.metrics.BrokerTopicStats;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Self-test fixture only: writes the same sample partition Petrel's
 * write_sample_log example writes, but with Apache Kafka's own broker log code
 * (UnifiedLog.appendAsLeader, manual rolls), so check.sh can be proven against a
 * log that is correct by definition.
 *
 * usage: WriteKafkaLog DIR   -> DIR/sample-0/, EXPECTED lines on stdout
 * 40 batches x 5 records; key key-B-I, value value-B-I, header h=B;
 * leader epoch 0 for batches 0..19, 3 for 20..39; a roll every 10 batches.
 */
public final class WriteKafkaLog {
    static final int BATCHES = 40;
    static final int PER_BATCH = 5;
    static final int ROLL_EVERY = 10;
    static final long BASE_TS = 1_700_000_000_000L;

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: WriteKafkaLog DIR");
            System.exit(2);
        }
        File dir = new File(args[0], "sample-0");
        if (dir.exists()) {
            System.err.println(dir + " already exists");
            System.exit(1);
        }
        Map<String, Object> props = new HashMap<>();
        // Index every batch after the first 256 bytes so the sparse-index
        // verification has entries to check in every segment.
        props.put(TopicConfig.INDEX_INTERVAL_BYTES_CONFIG, Integer.getInteger("indexIntervalBytes", 256));
        LogConfig config = new LogConfig(props);
        KafkaScheduler scheduler = new KafkaScheduler(1);
        scheduler.startup();
        UnifiedLog log = UnifiedLog.create(dir, config, 0L, 0L, scheduler, new BrokerTopicStats(),
            Time.SYSTEM, 60_000, new ProducerStateManagerConfig(86_400_000, false), 600_000,
            new LogDirFailureChannel(1), true, Optional.empty());
        long offset = 0;
        StringBuilder expected = new StringBuilder();
        for (int b = 0; b < BATCHES; b++) {
            if (b > 0 && b % ROLL_EVERY == 0) {
                log.roll();
            }
            SimpleRecord[] recs = new SimpleRecord[PER_BATCH];
            for (int i = 0; i < PER_BATCH; i++) {
                String k = "key-" + b + "-" + i;
                String v = "value-" + b + "-" + i;
                Header[] headers = {new RecordHeader("h", Integer.toString(b).getBytes(StandardCharsets.UTF_8))};
                recs[i] = new SimpleRecord(BASE_TS + offset, k.getBytes(StandardCharsets.UTF_8),
                    v.getBytes(StandardCharsets.UTF_8), headers);
                expected.append("offset=").append(offset).append(" key=").append(k)
                    .append(" value=").append(v).append('\n');
                offset++;
            }
            int epoch = b < BATCHES / 2 ? 0 : 3;
            log.appendAsLeader(MemoryRecords.withRecords(Compression.NONE, recs), epoch);
        }
        log.flush(false);
        log.close();
        scheduler.shutdown();
        System.out.print(expected);
    }
}
