//! Metadata (key 3): the live brokers, the cluster id, the controller, and topics with
//! their partitions (leader, leader epoch, replicas, ISR, offline replicas), all from this
//! node's copy of the metadata image. A partition without a leader is reported with
//! `LEADER_NOT_AVAILABLE`, as Kafka does.
//!
//! Unknown topics asked for by name are created when the request allows it
//! (`allow_auto_topic_creation`, v4+; always before) and `auto.create.topics.enable` is on;
//! otherwise they get `UNKNOWN_TOPIC_OR_PARTITION`. Topics asked for by id (v12+) that do
//! not exist get `UNKNOWN_TOPIC_ID`. Fields are set only in the versions that have them.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::context::BrokerContext;
use crate::topics::{TopicError, TopicMeta};

/// ACL operation codes (Kafka's `AclOperation`) a cluster resource supports; with no
/// authorizer every one of them is allowed, which is what Kafka reports.
pub const CLUSTER_OPERATIONS: [u8; 7] = [
    5,  // CREATE
    7,  // ALTER
    8,  // DESCRIBE
    9,  // CLUSTER_ACTION
    10, // DESCRIBE_CONFIGS
    11, // ALTER_CONFIGS
    12, // IDEMPOTENT_WRITE
];

/// The operations a topic resource supports, all allowed without an authorizer.
const TOPIC_OPERATIONS: [u8; 8] = [
    3,  // READ
    4,  // WRITE
    5,  // CREATE
    6,  // DELETE
    7,  // ALTER
    8,  // DESCRIBE
    10, // DESCRIBE_CONFIGS
    11, // ALTER_CONFIGS
];

pub fn operations_bits(operations: &[u8]) -> i32 {
    operations.iter().fold(0, |bits, op| bits | (1 << op))
}

/// Builds the Metadata response for `version`.
pub async fn handle(
    ctx: &BrokerContext,
    version: i16,
    request: &MetadataRequest,
) -> MetadataResponse {
    let live = ctx.live_brokers();
    let live_ids: Vec<i32> = live.iter().map(|b| b.id).collect();
    let controller_id = ctx.controller_id(&live);
    let brokers = live
        .into_iter()
        .map(|broker| {
            let mut entry = MetadataResponseBroker::default()
                .with_node_id(BrokerId(broker.id))
                .with_host(StrBytes::from_string(broker.endpoint.host))
                .with_port(broker.endpoint.port);
            if version >= 1 {
                entry.rack = broker.rack.map(StrBytes::from_string);
            }
            entry
        })
        .collect();
    let topics = requested_topics(ctx, version, request, &live_ids).await;
    let mut response = MetadataResponse::default()
        .with_brokers(brokers)
        .with_topics(topics);
    if version >= 1 {
        response.controller_id = BrokerId(controller_id);
    }
    if version >= 2 {
        response.cluster_id = Some(StrBytes::from_string(ctx.cluster_id.clone()));
    }
    if (8..=10).contains(&version) && request.include_cluster_authorized_operations {
        response.cluster_authorized_operations = operations_bits(&CLUSTER_OPERATIONS);
    }
    response
}

async fn requested_topics(
    ctx: &BrokerContext,
    version: i16,
    request: &MetadataRequest,
    live: &[i32],
) -> Vec<MetadataResponseTopic> {
    let include_operations = version >= 8 && request.include_topic_authorized_operations;
    let listed = |meta: TopicMeta| describe_topic(version, &meta, include_operations, live);
    let topics = match &request.topics {
        None => return ctx.topics.list().into_iter().map(listed).collect(),
        // Before v1 an empty list meant "all topics".
        Some(topics) if topics.is_empty() && version == 0 => {
            return ctx.topics.list().into_iter().map(listed).collect()
        }
        Some(topics) => topics,
    };
    // Before v12 topics are addressed by name only (Kafka refuses ids there).
    let by_id_unsupported = version < 12
        && topics
            .iter()
            .any(|t| t.name.is_none() || !t.topic_id.is_nil());
    let may_create = version < 4 || request.allow_auto_topic_creation;
    let mut out = Vec::with_capacity(topics.len());
    for topic in topics {
        // A topic id wins over the name: the Java client sends ids with the name "" (not
        // null), and Kafka resolves by id whenever one is given.
        let name = if topic.topic_id.is_nil() {
            &topic.name
        } else {
            &None
        };
        let entry = match (name, by_id_unsupported) {
            (_, true) => error_topic(
                version,
                topic.name.clone(),
                topic.topic_id,
                ResponseError::InvalidRequest.code(),
            ),
            (None, false) => match ctx.topics.get_by_id(topic.topic_id) {
                Some(meta) => describe_topic(version, &meta, include_operations, live),
                None => error_topic(
                    version,
                    None,
                    topic.topic_id,
                    ResponseError::UnknownTopicId.code(),
                ),
            },
            (Some(name), false) => {
                let found = if may_create {
                    ctx.topics.get_or_auto_create(name.0.as_str()).await
                } else {
                    ctx.topics
                        .get(name.0.as_str())
                        .ok_or_else(|| TopicError::Unknown(name.0.to_string()))
                };
                match found {
                    Ok(meta) => describe_topic(version, &meta, include_operations, live),
                    Err(error) => {
                        error_topic(version, Some(name.clone()), topic.topic_id, error.code())
                    }
                }
            }
        };
        out.push(entry);
    }
    out
}

/// `live`: the ids of the live brokers (a replica elsewhere is offline).
fn describe_topic(
    version: i16,
    meta: &TopicMeta,
    include_operations: bool,
    live: &[i32],
) -> MetadataResponseTopic {
    let ids = |list: &[i32]| list.iter().map(|id| BrokerId(*id)).collect::<Vec<_>>();
    let partitions = meta
        .layout
        .iter()
        .zip(0..)
        .map(|(entry, index)| {
            let mut partition = MetadataResponsePartition::default()
                .with_partition_index(index)
                .with_leader_id(BrokerId(entry.leader))
                .with_replica_nodes(ids(&entry.replicas))
                .with_isr_nodes(ids(&entry.isr));
            if entry.leader < 0 {
                partition.error_code = ResponseError::LeaderNotAvailable.code();
            }
            if version >= 5 {
                let offline: Vec<i32> = entry
                    .replicas
                    .iter()
                    .copied()
                    .filter(|replica| !live.contains(replica))
                    .collect();
                partition.offline_replicas = ids(&offline);
            }
            if version >= 7 {
                partition.leader_epoch = entry.leader_epoch;
            }
            partition
        })
        .collect();
    let mut topic = MetadataResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(meta.name.clone()))))
        .with_partitions(partitions);
    if version >= 10 {
        topic.topic_id = meta.id;
    }
    if include_operations {
        topic.topic_authorized_operations = operations_bits(&TOPIC_OPERATIONS);
    }
    topic
}

fn error_topic(
    version: i16,
    name: Option<TopicName>,
    id: uuid::Uuid,
    error_code: i16,
) -> MetadataResponseTopic {
    // The name is non-nullable in the response before v12.
    let name = match (name, version >= 12) {
        (Some(name), _) => Some(name),
        (None, true) => None,
        (None, false) => Some(TopicName(StrBytes::default())),
    };
    let mut entry = MetadataResponseTopic::default()
        .with_error_code(error_code)
        .with_name(name);
    if version >= 10 {
        entry.topic_id = id;
    }
    entry
}
