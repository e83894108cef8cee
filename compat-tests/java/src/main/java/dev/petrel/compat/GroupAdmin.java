package dev.petrel.compat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListConsumerGroupsOptions;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.GroupNotEmptyException;
import org.apache.kafka.common.errors.GroupSubscribedToTopicException;
import org.apache.kafka.common.errors.UnknownMemberIdException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Consumer-group administration with the stock Apache Kafka AdminClient, the calls
 * kafka-consumer-groups.sh makes, for compat-tests/groups_check.sh.
 *
 * <pre>
 * Usage: GroupAdmin BOOTSTRAP describe GROUP...
 *        GroupAdmin BOOTSTRAP offsets GROUP
 *        GroupAdmin BOOTSTRAP active GROUP TOPIC PARTITIONS COMMITTED
 *        GroupAdmin BOOTSTRAP empty GROUP TOPIC PARTITIONS COMMITTED
 *        GroupAdmin BOOTSTRAP delete GROUP TOPIC
 * </pre>
 *
 * describe prints {@code group=G state=... assignor=... members=N} and one
 * {@code member group=G ...} line per member (or {@code group=G error=EXCEPTION}); offsets prints {@code offset TOPIC PARTITION OFFSET} lines. The other three
 * check what Apache Kafka 4.x answers, one "ok"/"FAIL" line per check:
 * <ul>
 * <li>active: GROUP has one live member (classic protocol, range assignor) owning all
 *     PARTITIONS of TOPIC, each committed at COMMITTED. listGroups/listConsumerGroups with
 *     and without state filters, describeConsumerGroups (state, type, assignor, member,
 *     assignment, coordinator), listConsumerGroupOffsets; and the refusals:
 *     alterConsumerGroupOffsets gives UNKNOWN_MEMBER_ID, deleteConsumerGroupOffsets
 *     GROUP_SUBSCRIBED_TO_TOPIC and deleteConsumerGroups NON_EMPTY_GROUP.</li>
 * <li>empty: the member has left. State Empty, no members; alterConsumerGroupOffsets
 *     resets partition 0 to the earliest offset (ListOffsets) and partition 1 to 7 with
 *     metadata, and fails for a partition that does not exist; deleteConsumerGroupOffsets
 *     removes partition 2's offset (PARTITIONS must be 3).</li>
 * <li>delete: deleteConsumerGroups succeeds; afterwards the group is gone from
 *     listGroups, describeConsumerGroups and deleteConsumerGroups give GROUP_ID_NOT_FOUND,
 *     listConsumerGroupOffsets is empty.</li>
 * </ul>
 * Exit 0 if no check failed, 1 otherwise, 2 on bad usage.
 */
public final class GroupAdmin {
    private static final long WAIT_S = 20;

    private final Admin admin;
    private final String bootstrap;
    private final List<String> failed = new ArrayList<>();

    private GroupAdmin(Admin admin, String bootstrap) {
        this.admin = admin;
        this.bootstrap = bootstrap;
    }

    private void ok(boolean cond, String what, Object detail) {
        if (cond) {
            System.out.println("ok   java: " + what);
        } else {
            String line = "java: " + what + " -- " + detail;
            System.out.println("FAIL " + line);
            failed.add(line);
        }
    }

    private static <T> T get(KafkaFuture<T> f) throws Exception {
        try {
            return f.get(WAIT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception) {
                throw (Exception) e.getCause();
            }
            throw e;
        }
    }

    /** Checks that the future fails with the given exception type (Kafka's error code). */
    private void expectError(KafkaFuture<?> f, Class<? extends Throwable> want, String what) {
        try {
            Object v = get(f);
            ok(false, what, "succeeded (" + v + "), Kafka fails it with " + want.getSimpleName());
        } catch (Exception e) {
            ok(want.isInstance(e), what + " fails with " + want.getSimpleName(),
                    "got " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private void expectSuccess(KafkaFuture<?> f, String what) {
        try {
            get(f);
            ok(true, what, "");
        } catch (Exception e) {
            ok(false, what, "failed: " + e);
        }
    }

    private Map<String, GroupListing> listGroups(ListGroupsOptions options) throws Exception {
        return get(admin.listGroups(options).all()).stream()
                .collect(Collectors.toMap(GroupListing::groupId, g -> g));
    }

    /** The pre-KIP-1043 listing (deprecated in 4.x, still what older tools call). */
    @SuppressWarnings("removal")
    private Map<String, ConsumerGroupListing> listConsumerGroups(ListConsumerGroupsOptions options) throws Exception {
        Collection<ConsumerGroupListing> all = get(admin.listConsumerGroups(options).all());
        return all.stream().collect(Collectors.toMap(ConsumerGroupListing::groupId, g -> g));
    }

    private ConsumerGroupDescription describe(String group) throws Exception {
        return get(admin.describeConsumerGroups(List.of(group)).describedGroups().get(group));
    }

    private Map<TopicPartition, OffsetAndMetadata> offsets(String group) throws Exception {
        return get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
    }

    private static String partitions(MemberDescription m) {
        return m.assignment().topicPartitions().stream()
                .map(tp -> tp.topic() + ":" + tp.partition()).sorted().collect(Collectors.joining(","));
    }

    private static String offsetsText(Map<TopicPartition, OffsetAndMetadata> offsets) {
        Map<String, String> sorted = new TreeMap<>();
        offsets.forEach((tp, om) -> sorted.put(tp.toString(), om == null ? "null"
                : om.offset() + (om.metadata().isEmpty() ? "" : "'" + om.metadata() + "'")
                + om.leaderEpoch().map(e -> "(epoch " + e + ")").orElse("")));
        return sorted.toString();
    }

    /** The describe/list checks shared by the active and empty phases. */
    @SuppressWarnings("removal")
    private void checkListed(String group, GroupState want) throws Exception {
        Map<String, GroupListing> all = listGroups(ListGroupsOptions.forConsumerGroups());
        GroupListing g = all.get(group);
        ok(g != null, "listGroups(forConsumerGroups) lists " + group, all.keySet());
        if (g != null) {
            ok(g.groupState().equals(Optional.of(want)), "listGroups: " + group + " is " + want, g);
            ok(g.type().equals(Optional.of(GroupType.CLASSIC)), "listGroups: " + group + " has type Classic", g);
            ok("consumer".equals(g.protocol()), "listGroups: " + group + " has protocol type consumer", g);
            ok(!g.isSimpleConsumerGroup(), "listGroups: " + group + " is not a simple consumer group", g);
        }
        GroupState other = want == GroupState.STABLE ? GroupState.EMPTY : GroupState.STABLE;
        ok(listGroups(new ListGroupsOptions().inGroupStates(Set.of(want))).containsKey(group),
                "listGroups(inGroupStates " + want + ") lists " + group, "missing");
        ok(!listGroups(new ListGroupsOptions().inGroupStates(Set.of(other))).containsKey(group),
                "listGroups(inGroupStates " + other + ") leaves out " + group, "listed");
        Map<String, ConsumerGroupListing> legacy = listConsumerGroups(new ListConsumerGroupsOptions()
                .inGroupStates(Set.of(want)));
        ConsumerGroupListing cg = legacy.get(group);
        ok(cg != null && cg.groupState().equals(Optional.of(want)),
                "listConsumerGroups(inGroupStates " + want + ") lists " + group + " as " + want, legacy);
    }

    private void checkCoordinator(ConsumerGroupDescription d) {
        Node c = d.coordinator();
        ok(c != null && c.id() >= 0 && (c.host() + ":" + c.port()).equals(bootstrap),
                "describeConsumerGroups: coordinator is the broker " + bootstrap, c);
    }

    private void active(String group, String topic, int partitions, long committed) throws Exception {
        checkListed(group, GroupState.STABLE);
        ConsumerGroupDescription d = describe(group);
        ok(d.groupState() == GroupState.STABLE, "describeConsumerGroups: state Stable", d.groupState());
        ok(d.type() == GroupType.CLASSIC, "describeConsumerGroups: type Classic", d.type());
        ok("range".equals(d.partitionAssignor()), "describeConsumerGroups: assignor range", d.partitionAssignor());
        ok(!d.isSimpleConsumerGroup(), "describeConsumerGroups: not a simple consumer group", d);
        checkCoordinator(d);
        ok(d.members().size() == 1, "describeConsumerGroups: one member", d.members());
        if (d.members().size() == 1) {
            MemberDescription m = d.members().iterator().next();
            String want = java.util.stream.IntStream.range(0, partitions).mapToObj(p -> topic + ":" + p)
                    .sorted().collect(Collectors.joining(","));
            ok(partitions(m).equals(want), "describeConsumerGroups: the member owns " + want, partitions(m));
            ok(!m.consumerId().isEmpty() && m.clientId().startsWith("groupconsume-"),
                    "describeConsumerGroups: member id and client id", m);
            ok("/127.0.0.1".equals(m.host()), "describeConsumerGroups: member host /127.0.0.1", m.host());
            ok(m.groupInstanceId().isEmpty(), "describeConsumerGroups: no group instance id", m);
        }
        Map<TopicPartition, OffsetAndMetadata> offs = offsets(group);
        boolean all = offs.size() == partitions;
        for (int p = 0; p < partitions; p++) {
            OffsetAndMetadata om = offs.get(new TopicPartition(topic, p));
            all &= om != null && om.offset() == committed;
        }
        ok(all, "listConsumerGroupOffsets: every partition committed at " + committed, offsetsText(offs));

        TopicPartition tp0 = new TopicPartition(topic, 0);
        expectError(admin.alterConsumerGroupOffsets(group, Map.of(tp0, new OffsetAndMetadata(0))).partitionResult(tp0),
                UnknownMemberIdException.class, "alterConsumerGroupOffsets on an active group");
        expectError(admin.deleteConsumerGroupOffsets(group, Set.of(tp0)).partitionResult(tp0),
                GroupSubscribedToTopicException.class, "deleteConsumerGroupOffsets of a subscribed topic on an active group");
        expectError(admin.deleteConsumerGroups(List.of(group)).deletedGroups().get(group),
                GroupNotEmptyException.class, "deleteConsumerGroups on an active group");
        Map<TopicPartition, OffsetAndMetadata> after = offsets(group);
        ok(after.equals(offs), "listConsumerGroupOffsets: refused changes left the offsets alone", offsetsText(after));
    }

    private void empty(String group, String topic, int partitions, long committed) throws Exception {
        if (partitions != 3) {
            throw new IllegalArgumentException("the empty phase needs a 3-partition topic");
        }
        checkListed(group, GroupState.EMPTY);
        ConsumerGroupDescription d = describe(group);
        ok(d.groupState() == GroupState.EMPTY, "describeConsumerGroups: state Empty", d.groupState());
        ok(d.members().isEmpty(), "describeConsumerGroups: no members", d.members());
        ok("".equals(d.partitionAssignor()), "describeConsumerGroups: no assignor (empty protocol)", d.partitionAssignor());
        ok(!d.isSimpleConsumerGroup(), "describeConsumerGroups: not a simple consumer group (protocol type kept)", d);
        checkCoordinator(d);

        TopicPartition tp0 = new TopicPartition(topic, 0);
        TopicPartition tp1 = new TopicPartition(topic, 1);
        TopicPartition tp2 = new TopicPartition(topic, 2);
        long earliest = get(admin.listOffsets(Map.of(tp0, OffsetSpec.earliest())).partitionResult(tp0)).offset();
        Map<TopicPartition, OffsetAndMetadata> reset = new HashMap<>();
        reset.put(tp0, new OffsetAndMetadata(earliest));
        reset.put(tp1, new OffsetAndMetadata(7, "groups_check reset"));
        expectSuccess(admin.alterConsumerGroupOffsets(group, reset).all(),
                "alterConsumerGroupOffsets on an Empty group: " + tp0 + " to earliest (" + earliest + "), " + tp1 + " to 7");
        Map<TopicPartition, OffsetAndMetadata> offs = offsets(group);
        OffsetAndMetadata o0 = offs.get(tp0), o1 = offs.get(tp1), o2 = offs.get(tp2);
        ok(o0 != null && o0.offset() == earliest && o1 != null && o1.offset() == 7
                && "groups_check reset".equals(o1.metadata()) && o2 != null && o2.offset() == committed,
                "listConsumerGroupOffsets shows the reset (" + earliest + ", 7 with metadata, " + committed + ")",
                offsetsText(offs));
        TopicPartition missing = new TopicPartition(topic, 99);
        expectError(admin.alterConsumerGroupOffsets(group, Map.of(missing, new OffsetAndMetadata(1))).partitionResult(missing),
                UnknownTopicOrPartitionException.class, "alterConsumerGroupOffsets for a partition that does not exist");
        TopicPartition noTopic = new TopicPartition(topic + "-no-such-topic", 0);
        expectError(admin.alterConsumerGroupOffsets(group, Map.of(noTopic, new OffsetAndMetadata(1))).partitionResult(noTopic),
                UnknownTopicOrPartitionException.class, "alterConsumerGroupOffsets for a topic that does not exist");

        expectSuccess(admin.deleteConsumerGroupOffsets(group, Set.of(tp2)).partitionResult(tp2),
                "deleteConsumerGroupOffsets " + tp2 + " on an Empty group");
        offs = offsets(group);
        ok(!offs.containsKey(tp2) && offs.containsKey(tp0) && offs.containsKey(tp1),
                "listConsumerGroupOffsets: " + tp2 + " gone, the others kept", offsetsText(offs));
        Map<TopicPartition, OffsetAndMetadata> asked = get(admin.listConsumerGroupOffsets(
                Map.of(group, new ListConsumerGroupOffsetsSpec().topicPartitions(List.of(tp1, tp2))))
                .partitionsToOffsetAndMetadata(group));
        ok(asked.containsKey(tp2) && asked.get(tp2) == null && asked.get(tp1) != null && asked.get(tp1).offset() == 7,
                "listConsumerGroupOffsets(" + tp1 + ", " + tp2 + "): 7 and no offset", offsetsText(asked));
        ok(describe(group).groupState() == GroupState.EMPTY, "the group is still Empty after the offset changes", "");
    }

    private void delete(String group, String topic) throws Exception {
        expectSuccess(admin.deleteConsumerGroups(List.of(group)).deletedGroups().get(group),
                "deleteConsumerGroups on an Empty group");
        ok(!listGroups(new ListGroupsOptions()).containsKey(group), "listGroups: " + group + " gone after the delete", "");
        expectError(admin.describeConsumerGroups(List.of(group)).describedGroups().get(group),
                GroupIdNotFoundException.class, "describeConsumerGroups of the deleted group");
        Map<TopicPartition, OffsetAndMetadata> offs = offsets(group);
        ok(offs.isEmpty(), "listConsumerGroupOffsets of the deleted group is empty", offsetsText(offs));
        expectError(admin.deleteConsumerGroups(List.of(group)).deletedGroups().get(group),
                GroupIdNotFoundException.class, "deleteConsumerGroups of the deleted group");
        TopicPartition tp0 = new TopicPartition(topic, 0);
        expectError(admin.deleteConsumerGroupOffsets(group, Set.of(tp0)).all(),
                GroupIdNotFoundException.class, "deleteConsumerGroupOffsets of the deleted group");
    }

    private static void usage() {
        System.err.println("usage: GroupAdmin BOOTSTRAP describe GROUP...\n"
                + "       GroupAdmin BOOTSTRAP offsets GROUP\n"
                + "       GroupAdmin BOOTSTRAP active|empty GROUP TOPIC PARTITIONS COMMITTED\n"
                + "       GroupAdmin BOOTSTRAP delete GROUP TOPIC");
        System.exit(2);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            usage();
        }
        String bootstrap = args[0], mode = args[1], group = args[2];
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
        try (Admin admin = Admin.create(p)) {
            GroupAdmin g = new GroupAdmin(admin, bootstrap);
            switch (mode) {
                case "describe": {
                    for (int i = 2; i < args.length; i++) {
                        String grp = args[i];
                        ConsumerGroupDescription d;
                        try {
                            d = g.describe(grp);
                        } catch (Exception e) {
                            System.out.println("group=" + grp + " error=" + e.getClass().getSimpleName());
                            continue;
                        }
                        System.out.println("group=" + grp + " state=" + d.groupState() + " type=" + d.type()
                                + " assignor=" + d.partitionAssignor() + " members=" + d.members().size()
                                + " coordinator=" + d.coordinator());
                        d.members().stream().sorted((a, b) -> a.consumerId().compareTo(b.consumerId())).forEach(m ->
                                System.out.println("member group=" + grp + " id=" + m.consumerId() + " instance="
                                        + m.groupInstanceId().orElse("-") + " client=" + m.clientId() + " host="
                                        + m.host() + " assignment=" + partitions(m)));
                    }
                    return;
                }
                case "offsets": {
                    if (args.length != 3) {
                        usage();
                    }
                    g.offsets(group).forEach((tp, om) -> System.out.println(
                            "offset " + tp.topic() + " " + tp.partition() + " " + (om == null ? -1 : om.offset())));
                    return;
                }
                case "active":
                case "empty":
                    if (args.length != 6) {
                        usage();
                    }
                    if (mode.equals("active")) {
                        g.active(group, args[3], Integer.parseInt(args[4]), Long.parseLong(args[5]));
                    } else {
                        g.empty(group, args[3], Integer.parseInt(args[4]), Long.parseLong(args[5]));
                    }
                    break;
                case "delete":
                    if (args.length != 4) {
                        usage();
                    }
                    g.delete(group, args[3]);
                    break;
                default:
                    usage();
            }
            if (!g.failed.isEmpty()) {
                System.out.println(g.failed.size() + " check(s) failed");
                System.exit(1);
            }
        }
    }
}
