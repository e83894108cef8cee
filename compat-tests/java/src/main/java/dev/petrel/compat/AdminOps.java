package dev.petrel.compat;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigType;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TopicListing;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicCollection;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;

/**
 * Topic administration with the stock Apache Kafka AdminClient, before and after a broker
 * restart. Used by compat-tests/admin_restart.sh; also runnable by hand.
 *
 * <pre>Usage: AdminOps BOOTSTRAP phase1|phase2 PREFIX STATE_FILE</pre>
 *
 * phase1 creates three topics named PREFIX-*, changes them and checks after every change
 * that listTopics (Metadata, all topics) and describeTopics (by name and by topic id) show
 * it at once:
 * <ul>
 * <li>PREFIX-conf: 3 partitions with retention.ms, max.message.bytes and cleanup.policy set
 *     at creation; incrementalAlterConfigs SET segment.bytes + DELETE max.message.bytes;
 *     createPartitions grows it to 5</li>
 * <li>PREFIX-plain: 2 partitions, no configs: every config must be Kafka's default</li>
 * <li>PREFIX-gone: 4 partitions, deleted by topic id at the end of phase 1</li>
 * </ul>
 * plus the CreateTopics v5+ answer (topic id, partitions, replication factor, configs),
 * validate-only creates and alters that change nothing, and a few refusals Kafka gives. It
 * writes the topic ids to STATE_FILE. phase2 (after the restart) checks the same state and
 * finally creates PREFIX-gone again, which must get a new topic id.
 *
 * <p>Prints "ok"/"FAIL" per check and "WARN" for details where Petrel answers differently
 * from Apache Kafka 4.x without breaking the client (config types, synonyms). Exit 0 if no
 * check failed, 1 otherwise, 2 on bad usage.
 */
public final class AdminOps {
    private static final int TIMEOUT_MS = 15_000;
    private static final long WAIT_MS = TIMEOUT_MS + 5_000;

    /** Apache Kafka 4.x topic-config defaults (https://kafka.apache.org/documentation/#topicconfigs). */
    private static final Map<String, String> KAFKA_DEFAULTS = new LinkedHashMap<>();
    /** Kafka's ConfigDef type of each config (LogConfig). */
    private static final Map<String, ConfigType> KAFKA_TYPES = new LinkedHashMap<>();
    /**
     * The broker config Kafka 4.x names as the DEFAULT_CONFIG synonym of each topic config,
     * with its value: the first of ServerTopicConfigSynonyms' list that has a default.
     */
    private static final Map<String, String[]> KAFKA_DEFAULT_SYNONYM = new LinkedHashMap<>();

    static {
        kafkaConfig("cleanup.policy", "delete", ConfigType.LIST, "log.cleanup.policy", "delete");
        kafkaConfig("compression.type", "producer", ConfigType.STRING, "compression.type", "producer");
        kafkaConfig("max.message.bytes", "1048588", ConfigType.INT, "message.max.bytes", "1048588");
        kafkaConfig("message.timestamp.type", "CreateTime", ConfigType.STRING, "log.message.timestamp.type", "CreateTime");
        kafkaConfig("min.insync.replicas", "1", ConfigType.INT, "min.insync.replicas", "1");
        kafkaConfig("retention.bytes", "-1", ConfigType.LONG, "log.retention.bytes", "-1");
        // log.retention.ms and log.retention.minutes have no default; log.retention.hours does.
        kafkaConfig("retention.ms", "604800000", ConfigType.LONG, "log.retention.hours", "168");
        kafkaConfig("segment.bytes", "1073741824", ConfigType.INT, "log.segment.bytes", "1073741824");
        // log.roll.ms has no default; log.roll.hours does.
        kafkaConfig("segment.ms", "604800000", ConfigType.LONG, "log.roll.hours", "168");
    }

    private static void kafkaConfig(String name, String value, ConfigType type, String synonym, String synonymValue) {
        KAFKA_DEFAULTS.put(name, value);
        KAFKA_TYPES.put(name, type);
        KAFKA_DEFAULT_SYNONYM.put(name, new String[] {synonym, synonymValue});
    }

    /** The overrides each surviving topic must have at the end of phase 1 and after the restart. */
    private static final Map<String, Map<String, String>> FINAL_CONFIGS = Map.of(
            "conf", Map.of("retention.ms", "3600000", "cleanup.policy", "delete", "segment.bytes", "536870912"),
            "plain", Map.of());
    private static final Map<String, Integer> FINAL_PARTITIONS = Map.of("conf", 5, "plain", 2);

    private final Admin admin;
    private final String label;
    private final List<String> failed = new ArrayList<>();
    private final List<String> warned = new ArrayList<>();
    private final Set<String> warnedKinds = new java.util.HashSet<>();
    private int brokerId = -1;

    private AdminOps(Admin admin, String label) {
        this.admin = admin;
        this.label = label;
    }

    @FunctionalInterface
    private interface Step<T> {
        T run() throws Exception;
    }

    // --- reporting ----------------------------------------------------------------------

    private boolean ok(boolean cond, String what, String detail) {
        if (cond) {
            System.out.println("ok   " + label + ": " + what);
        } else {
            String line = label + ": " + what + (detail.isEmpty() ? "" : " -- " + detail);
            System.out.println("FAIL " + line);
            failed.add(line);
        }
        return cond;
    }

    /**
     * A difference from Apache Kafka that does not break the client: reported (once per
     * kind, e.g. "type of cleanup.policy"), not failed.
     */
    private void warn(boolean cond, String kind, String what, String detail) {
        if (cond) {
            System.out.println("ok   " + label + ": " + what);
        } else if (warnedKinds.add(kind)) {
            String line = label + ": " + what + " -- " + detail;
            System.out.println("WARN " + line);
            warned.add(line);
        }
    }

    private <T> T call(String what, Step<T> step) {
        T value;
        try {
            value = step.run();
        } catch (Exception e) {
            ok(false, what, describe(e));
            return null;
        }
        ok(true, what, "");
        return value;
    }

    private static String describe(Throwable t) {
        Throwable cause = t instanceof ExecutionException && t.getCause() != null ? t.getCause() : t;
        return cause.getClass().getSimpleName() + ": " + cause.getMessage();
    }

    private void expectError(String what, Class<? extends Throwable> expected, Step<?> step) {
        String want = what + " fails with " + expected.getSimpleName();
        try {
            step.run();
            ok(false, want, "it succeeded");
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            ok(expected.isInstance(cause), want, describe(e));
        }
    }

    private static <T> T get(KafkaFuture<T> future) throws Exception {
        return future.get(WAIT_MS, TimeUnit.MILLISECONDS);
    }

    // --- Metadata views -----------------------------------------------------------------

    /** listTopics: every expected topic listed with the id describeTopics gave; absent ones not listed. */
    private void checkListed(String step, Map<String, Integer> expected, Map<String, Uuid> ids, Collection<String> absent) {
        Map<String, TopicListing> listings = call(step + ": listTopics",
                () -> get(admin.listTopics(new ListTopicsOptions().listInternal(true).timeoutMs(TIMEOUT_MS)).namesToListings()));
        if (listings == null) {
            return;
        }
        for (String name : expected.keySet()) {
            TopicListing l = listings.get(name);
            if (!ok(l != null, step + ": listTopics shows " + name, "not among " + listings.size() + " topics")) {
                continue;
            }
            if (ids != null && ids.containsKey(name)) {
                ok(ids.get(name).equals(l.topicId()) && !l.isInternal(),
                        step + ": listTopics " + name + " has topic id " + ids.get(name),
                        "listing " + l);
            }
        }
        for (String name : absent) {
            ok(!listings.containsKey(name), step + ": listTopics does not show " + name, "listing " + listings.get(name));
        }
    }

    /** describeTopics by name (Metadata): partitions, leader, replicas, isr, topic id. */
    private Map<String, Uuid> checkDescribed(String step, Map<String, Integer> expected, Map<String, Uuid> ids) {
        Map<String, Uuid> seen = new LinkedHashMap<>();
        Map<String, KafkaFuture<TopicDescription>> futures = admin.describeTopics(
                TopicCollection.ofTopicNames(expected.keySet())).topicNameValues();
        for (Map.Entry<String, Integer> e : expected.entrySet()) {
            String name = e.getKey();
            TopicDescription d = call(step + ": describeTopics " + name, () -> get(futures.get(name)));
            if (d == null) {
                continue;
            }
            seen.put(name, d.topicId());
            ok(d.topicId() != null && !Uuid.ZERO_UUID.equals(d.topicId()),
                    step + ": describeTopics " + name + " has a topic id (" + d.topicId() + ")", "id " + d.topicId());
            if (ids != null && ids.containsKey(name)) {
                ok(ids.get(name).equals(d.topicId()), step + ": " + name + " keeps topic id " + ids.get(name), "now " + d.topicId());
            }
            checkPartitions(step + ": describeTopics " + name, d, e.getValue());
        }
        return seen;
    }

    private void checkPartitions(String what, TopicDescription d, int partitions) {
        List<String> shape = new ArrayList<>();
        List<String> want = new ArrayList<>();
        for (TopicPartitionInfo p : d.partitions()) {
            shape.add(p.partition() + ":" + (p.leader() == null ? "none" : p.leader().id()) + ":" + ids(p.replicas()) + ":" + ids(p.isr()));
        }
        for (int i = 0; i < partitions; i++) {
            want.add(i + ":" + brokerId + ":[" + brokerId + "]:[" + brokerId + "]");
        }
        ok(shape.equals(want) && !d.isInternal(),
                what + ": " + partitions + " partitions, leader/replicas/isr = broker " + brokerId,
                "got partition:leader:replicas:isr " + shape + ", internal " + d.isInternal());
    }

    private static String ids(List<Node> nodes) {
        List<Integer> out = new ArrayList<>();
        for (Node n : nodes) {
            out.add(n.id());
        }
        return out.toString().replace(" ", "");
    }

    /** describeTopics by topic id (Metadata v12+ with topic ids). */
    private void checkDescribedById(String step, Map<String, Uuid> ids, Map<String, Integer> expected) {
        Map<Uuid, KafkaFuture<TopicDescription>> futures = admin.describeTopics(
                TopicCollection.ofTopicIds(ids.values())).topicIdValues();
        for (Map.Entry<String, Uuid> e : ids.entrySet()) {
            TopicDescription d = call(step + ": describeTopics by id " + e.getValue(), () -> get(futures.get(e.getValue())));
            if (d == null) {
                continue;
            }
            ok(e.getKey().equals(d.name()) && e.getValue().equals(d.topicId()),
                    step + ": describeTopics by id " + e.getValue() + " is " + e.getKey(),
                    "got name " + d.name() + " id " + d.topicId());
            checkPartitions(step + ": describeTopics by id " + e.getKey(), d, expected.get(e.getKey()));
        }
    }

    // --- configs ------------------------------------------------------------------------

    private Config describeConfigs(String name) throws Exception {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, name);
        return get(admin.describeConfigs(List.of(r),
                new DescribeConfigsOptions().includeSynonyms(true).includeDocumentation(true).timeoutMs(TIMEOUT_MS)).values().get(r));
    }

    /**
     * Every config in overrides is set with source DYNAMIC_TOPIC_CONFIG; every other config
     * in KAFKA_DEFAULTS has Kafka's default with source DEFAULT_CONFIG. Types and synonyms
     * are compared with Kafka's as warnings.
     */
    private void checkConfigs(String step, String topic, Map<String, String> overrides) {
        Config config = call(step + ": describeConfigs " + topic, () -> describeConfigs(topic));
        if (config == null) {
            return;
        }
        Set<String> keys = new TreeSet<>(KAFKA_DEFAULTS.keySet());
        keys.addAll(overrides.keySet());
        for (String key : keys) {
            ConfigEntry e = config.get(key);
            boolean set = overrides.containsKey(key);
            String value = set ? overrides.get(key) : KAFKA_DEFAULTS.get(key);
            ConfigSource source = set ? ConfigSource.DYNAMIC_TOPIC_CONFIG : ConfigSource.DEFAULT_CONFIG;
            String what = step + ": " + topic + " " + key + "=" + value + " (" + source + ")";
            if (!ok(e != null && value.equals(e.value()) && e.source() == source && e.isDefault() == !set
                            && !e.isReadOnly() && !e.isSensitive(),
                    what, e == null ? "missing" : "got value=" + e.value() + " source=" + e.source() + " default=" + e.isDefault()
                            + " readOnly=" + e.isReadOnly() + " sensitive=" + e.isSensitive())) {
                continue;
            }
            if (KAFKA_TYPES.containsKey(key)) {
                warn(e.type() == KAFKA_TYPES.get(key), "type " + key,
                        step + ": " + topic + " " + key + " has type " + KAFKA_TYPES.get(key),
                        "DescribeConfigs says " + e.type());
            }
            List<String> want = new ArrayList<>();
            if (set) {
                want.add(key + "=" + value + "/" + ConfigSource.DYNAMIC_TOPIC_CONFIG);
            }
            String[] syn = KAFKA_DEFAULT_SYNONYM.get(key);
            if (syn != null) {
                want.add(syn[0] + "=" + syn[1] + "/" + ConfigSource.DEFAULT_CONFIG);
            }
            List<String> got = new ArrayList<>();
            e.synonyms().forEach(s -> got.add(s.name() + "=" + s.value() + "/" + s.source()));
            warn(got.equals(want), "synonyms " + key + (set ? " set" : " default"),
                    step + ": " + topic + " " + key + " synonyms " + want, "DescribeConfigs says " + got);
        }
    }

    private boolean incremental(String step, String topic, boolean validateOnly, AlterConfigOp... ops) {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        List<String> desc = new ArrayList<>();
        for (AlterConfigOp op : ops) {
            desc.add(op.opType() + " " + op.configEntry().name() + (op.opType() == AlterConfigOp.OpType.DELETE ? "" : "=" + op.configEntry().value()));
        }
        return call(step + ": incrementalAlterConfigs" + (validateOnly ? "(validateOnly) " : " ") + topic + ": " + desc, () -> {
            get(admin.incrementalAlterConfigs(Map.of(r, List.of(ops)),
                    new AlterConfigsOptions().validateOnly(validateOnly).timeoutMs(TIMEOUT_MS)).values().get(r));
            return true;
        }) != null;
    }

    private static AlterConfigOp op(String name, String value, AlterConfigOp.OpType type) {
        return new AlterConfigOp(new ConfigEntry(name, value), type);
    }

    // --- the phases ---------------------------------------------------------------------

    private void findBroker() throws Exception {
        Collection<Node> nodes = get(admin.describeCluster().nodes());
        ok(nodes.size() == 1, "describeCluster: one broker " + nodes, "got " + nodes);
        brokerId = nodes.isEmpty() ? -1 : nodes.iterator().next().id();
    }

    private Map<String, Uuid> create(String step, boolean validateOnly, NewTopic... topics) {
        CreateTopicsResult r = admin.createTopics(List.of(topics), new CreateTopicsOptions().validateOnly(validateOnly).timeoutMs(TIMEOUT_MS));
        Map<String, Uuid> ids = new LinkedHashMap<>();
        for (NewTopic t : topics) {
            String what = step + ": createTopics" + (validateOnly ? "(validateOnly) " : " ") + t.name()
                    + " (" + t.numPartitions() + " partitions, configs " + t.configs() + ")";
            try {
                get(r.values().get(t.name()));
                ok(true, what, "");
            } catch (Exception e) {
                ok(false, what, describe(e));
                continue;
            }
            // CreateTopics v5+ answers the partitions, replication factor and configs; v7 the id.
            Integer partitions = call(what + ": numPartitions", () -> get(r.numPartitions(t.name())));
            Integer rf = call(what + ": replicationFactor", () -> get(r.replicationFactor(t.name())));
            ok(partitions != null && partitions == t.numPartitions() && rf != null && rf == 1,
                    what + ": answer has " + t.numPartitions() + " partitions, replication factor 1",
                    "got " + partitions + " partitions, replication factor " + rf);
            Config config = call(what + ": config", () -> get(r.config(t.name())));
            if (config != null) {
                Map<String, String> overrides = t.configs() == null ? Map.of() : t.configs();
                for (String key : KAFKA_DEFAULTS.keySet()) {
                    ConfigEntry e = config.get(key);
                    boolean set = overrides.containsKey(key);
                    String value = set ? overrides.get(key) : KAFKA_DEFAULTS.get(key);
                    ConfigSource source = set ? ConfigSource.DYNAMIC_TOPIC_CONFIG : ConfigSource.DEFAULT_CONFIG;
                    ok(e != null && value.equals(e.value()) && e.source() == source,
                            what + ": answer has " + key + "=" + value + " (" + source + ")",
                            e == null ? "missing" : "got " + e.value() + " (" + e.source() + ")");
                }
            }
            Uuid id = call(what + ": topicId", () -> get(r.topicId(t.name())));
            if (!validateOnly) {
                ok(id != null && !Uuid.ZERO_UUID.equals(id), what + ": answer has a topic id (" + id + ")", "id " + id);
                ids.put(t.name(), id);
            }
        }
        return ids;
    }

    private void phase1(String prefix, Path stateFile) throws Exception {
        String conf = prefix + "-conf", plain = prefix + "-plain", gone = prefix + "-gone";
        findBroker();

        create("create", true, new NewTopic(gone, 4, (short) 1));
        checkListed("after validateOnly create", Map.of(), null, List.of(gone));

        Map<String, String> confConfigs = Map.of("retention.ms", "3600000", "max.message.bytes", "2097152", "cleanup.policy", "delete");
        Map<String, Uuid> created = create("create", false,
                new NewTopic(conf, 3, (short) 1).configs(confConfigs),
                new NewTopic(plain, 2, (short) 1),
                new NewTopic(gone, 4, (short) 1));
        Map<String, Integer> all = new LinkedHashMap<>();
        all.put(conf, 3);
        all.put(plain, 2);
        all.put(gone, 4);
        Map<String, Uuid> ids = checkDescribed("after create", all, created);
        checkListed("after create", all, ids, List.of());
        checkDescribedById("after create", ids, all);
        checkConfigs("after create", conf, confConfigs);
        checkConfigs("after create", plain, Map.of());

        expectError("create existing topic " + plain, org.apache.kafka.common.errors.TopicExistsException.class,
                () -> get(admin.createTopics(List.of(new NewTopic(plain, 1, (short) 1))).all()));
        expectError("create " + prefix + "-bad with max.message.bytes=big",
                org.apache.kafka.common.errors.InvalidConfigurationException.class,
                () -> get(admin.createTopics(List.of(new NewTopic(prefix + "-bad", 1, (short) 1)
                        .configs(Map.of("max.message.bytes", "big")))).all()));
        expectError("create " + prefix + "-rf3 with replication factor 3",
                org.apache.kafka.common.errors.InvalidReplicationFactorException.class,
                () -> get(admin.createTopics(List.of(new NewTopic(prefix + "-rf3", 1, (short) 3))).all()));
        checkListed("after refused creates", Map.of(plain, 2), ids, List.of(prefix + "-bad", prefix + "-rf3"));

        // IncrementalAlterConfigs: validateOnly changes nothing; then SET one and DELETE another.
        incremental("alter", conf, true, op("segment.bytes", "536870912", AlterConfigOp.OpType.SET));
        checkConfigs("after validateOnly incrementalAlterConfigs", conf, confConfigs);
        incremental("alter", conf, false, op("segment.bytes", "536870912", AlterConfigOp.OpType.SET),
                op("max.message.bytes", null, AlterConfigOp.OpType.DELETE));
        checkConfigs("after incrementalAlterConfigs", conf, FINAL_CONFIGS.get("conf"));
        // cleanup.policy is a LIST config in Kafka: APPEND of a value already there changes
        // nothing (KIP-339). Reported, not failed: Petrel has no compaction to append.
        try {
            get(admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, conf),
                    List.of(op("cleanup.policy", "delete", AlterConfigOp.OpType.APPEND)))).all());
            warn(true, "append cleanup.policy", "alter: incrementalAlterConfigs APPEND cleanup.policy=delete on " + conf, "");
        } catch (Exception e) {
            warn(false, "append cleanup.policy", "alter: incrementalAlterConfigs APPEND cleanup.policy=delete on " + conf,
                    "refused: " + describe(e));
        }
        checkConfigs("after APPEND", conf, FINAL_CONFIGS.get("conf"));
        expectError("incrementalAlterConfigs SET segment.bytes=1000 (below Kafka's minimum 1048576) on " + conf,
                org.apache.kafka.common.errors.InvalidConfigurationException.class,
                () -> get(admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, conf),
                        List.of(op("segment.bytes", "1000", AlterConfigOp.OpType.SET)))).all()));
        expectError("incrementalAlterConfigs on missing topic " + prefix + "-missing",
                org.apache.kafka.common.errors.UnknownTopicOrPartitionException.class,
                () -> get(admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.TOPIC, prefix + "-missing"),
                        List.of(op("retention.ms", "1000", AlterConfigOp.OpType.SET)))).all()));

        // CreatePartitions: grow 3 -> 5.
        call("createPartitions " + conf + " 3 -> 5",
                () -> get(admin.createPartitions(Map.of(conf, NewPartitions.increaseTo(5))).all()));
        Map<String, Integer> grown = Map.of(conf, 5);
        checkListed("after createPartitions", grown, ids, List.of());
        checkDescribed("after createPartitions", grown, ids);
        checkDescribedById("after createPartitions", Map.of(conf, ids.getOrDefault(conf, Uuid.ZERO_UUID)), grown);
        expectError("createPartitions " + conf + " 5 -> 4", org.apache.kafka.common.errors.InvalidPartitionsException.class,
                () -> get(admin.createPartitions(Map.of(conf, NewPartitions.increaseTo(4))).all()));

        // DeleteTopics by topic id (DeleteTopics v6).
        Uuid goneId = ids.getOrDefault(gone, Uuid.ZERO_UUID);
        call("deleteTopics by id " + goneId + " (" + gone + ")",
                () -> get(admin.deleteTopics(TopicCollection.ofTopicIds(List.of(goneId))).all()));
        Map<String, Integer> kept = new LinkedHashMap<>();
        kept.put(conf, 5);
        kept.put(plain, 2);
        checkListed("after deleteTopics", kept, ids, List.of(gone));
        expectError("after deleteTopics: describeTopics " + gone, org.apache.kafka.common.errors.UnknownTopicOrPartitionException.class,
                () -> get(admin.describeTopics(TopicCollection.ofTopicNames(List.of(gone))).allTopicNames()));
        expectError("after deleteTopics: describeTopics by id " + goneId, org.apache.kafka.common.errors.UnknownTopicIdException.class,
                () -> get(admin.describeTopics(TopicCollection.ofTopicIds(List.of(goneId))).allTopicIds()));
        expectError("after deleteTopics: describeConfigs " + gone, org.apache.kafka.common.errors.UnknownTopicOrPartitionException.class,
                () -> describeConfigs(gone));
        expectError("after deleteTopics: deleteTopics " + gone + " again", org.apache.kafka.common.errors.UnknownTopicOrPartitionException.class,
                () -> get(admin.deleteTopics(List.of(gone)).all()));

        // The state phase 2 must find.
        Map<String, Uuid> keptIds = new LinkedHashMap<>(ids);
        keptIds.remove(gone);
        checkDescribed("end of phase 1", kept, ids);
        checkDescribedById("end of phase 1", keptIds, kept);
        checkConfigs("end of phase 1", conf, FINAL_CONFIGS.get("conf"));
        checkConfigs("end of phase 1", plain, FINAL_CONFIGS.get("plain"));
        Properties state = new Properties();
        ids.forEach((name, id) -> state.setProperty(name, id.toString()));
        try (OutputStream out = Files.newOutputStream(stateFile)) {
            state.store(out, "topic ids after phase 1");
        }
    }

    private void phase2(String prefix, Path stateFile) throws Exception {
        Properties state = new Properties();
        try (InputStream in = Files.newInputStream(stateFile)) {
            state.load(in);
        }
        Map<String, Uuid> ids = new LinkedHashMap<>();
        state.stringPropertyNames().forEach(name -> ids.put(name, Uuid.fromString(state.getProperty(name))));
        findBroker();
        String gone = prefix + "-gone";
        Map<String, Integer> kept = new LinkedHashMap<>();
        FINAL_PARTITIONS.forEach((suffix, partitions) -> kept.put(prefix + "-" + suffix, partitions));
        Map<String, Uuid> keptIds = new LinkedHashMap<>(ids);
        keptIds.remove(gone);
        checkListed("after restart", kept, ids, List.of(gone));
        checkDescribed("after restart", kept, ids);
        checkDescribedById("after restart", keptIds, kept);
        FINAL_CONFIGS.forEach((suffix, overrides) -> checkConfigs("after restart", prefix + "-" + suffix, overrides));
        expectError("after restart: describeTopics " + gone, org.apache.kafka.common.errors.UnknownTopicOrPartitionException.class,
                () -> get(admin.describeTopics(TopicCollection.ofTopicNames(List.of(gone))).allTopicNames()));
        if (ids.containsKey(gone)) {
            expectError("after restart: describeTopics by id " + ids.get(gone), org.apache.kafka.common.errors.UnknownTopicIdException.class,
                    () -> get(admin.describeTopics(TopicCollection.ofTopicIds(List.of(ids.get(gone)))).allTopicIds()));
        }
        // The deleted topic's name is free again, under a new id.
        Map<String, Uuid> recreated = create("after restart", false, new NewTopic(gone, 1, (short) 1));
        if (recreated.get(gone) != null && ids.containsKey(gone)) {
            ok(!recreated.get(gone).equals(ids.get(gone)), "re-created " + gone + " has a new topic id", "same id " + ids.get(gone));
        }
        checkDescribed("after restart, re-created", Map.of(gone, 1), recreated);
    }

    public static void main(String[] args) {
        if (args.length != 4 || !(args[1].equals("phase1") || args[1].equals("phase2"))) {
            System.err.println("usage: AdminOps BOOTSTRAP phase1|phase2 PREFIX STATE_FILE");
            System.exit(2);
        }
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.CLIENT_ID_CONFIG, "petrel-compat-admin-java");
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
        props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
        String label = "kafka-clients " + args[1];
        int rc;
        try (Admin admin = Admin.create(props)) {
            AdminOps ops = new AdminOps(admin, label);
            try {
                if (args[1].equals("phase1")) {
                    ops.phase1(args[2], Path.of(args[3]));
                } else {
                    ops.phase2(args[2], Path.of(args[3]));
                }
            } catch (Exception | AssertionError e) {
                ops.ok(false, args[1] + " ended early", describe(e));
            }
            if (!ops.warned.isEmpty()) {
                System.out.println(ops.warned.size() + " warning(s): differences from Apache Kafka 4.x that do not fail the check");
            }
            if (!ops.failed.isEmpty()) {
                System.out.println(ops.failed.size() + " check(s) failed");
            }
            rc = ops.failed.isEmpty() ? 0 : 1;
            admin.close(Duration.ofSeconds(2));
        } catch (RuntimeException e) {
            System.out.println("FAIL " + label + ": " + describe(e));
            rc = 1;
        }
        System.exit(rc);
    }
}
