//! Metadata (key 3): this broker, the cluster id, the controller, and topics.
//!
//! A single node is its own controller. No topics exist until the storage and topic-admin
//! work lands, so a request for all topics gets an empty list and a request for named
//! topics gets `UNKNOWN_TOPIC_OR_PARTITION` for each (what Kafka answers for a missing topic
//! when auto-creation does not apply). Fields are set only in the versions that have them,
//! because the encoder refuses a field the version lacks.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::metadata_response::{MetadataResponseBroker, MetadataResponseTopic};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::context::BrokerContext;

/// ACL operation codes (Kafka's `AclOperation`) a cluster resource supports; with no
/// authorizer every one of them is allowed, which is what Kafka reports.
const CLUSTER_OPERATIONS: [u8; 7] = [
    5,  // CREATE
    7,  // ALTER
    8,  // DESCRIBE
    9,  // CLUSTER_ACTION
    10, // DESCRIBE_CONFIGS
    11, // ALTER_CONFIGS
    12, // IDEMPOTENT_WRITE
];

/// Builds the Metadata response for `version`.
pub fn handle(ctx: &BrokerContext, version: i16, request: &MetadataRequest) -> MetadataResponse {
    let broker = MetadataResponseBroker::default()
        .with_node_id(BrokerId(ctx.node_id))
        .with_host(StrBytes::from_string(ctx.advertised.host.clone()))
        .with_port(ctx.advertised.port);
    let mut response = MetadataResponse::default()
        .with_brokers(vec![broker])
        .with_topics(requested_topics(version, request));
    if version >= 1 {
        response.controller_id = BrokerId(ctx.node_id);
    }
    if version >= 2 {
        response.cluster_id = Some(StrBytes::from_string(ctx.cluster_id.clone()));
    }
    if (8..=10).contains(&version) && request.include_cluster_authorized_operations {
        response.cluster_authorized_operations = CLUSTER_OPERATIONS
            .iter()
            .fold(0, |bits, op| bits | (1 << op));
    }
    response
}

/// One entry per topic the client named; none when it asked for all topics.
fn requested_topics(version: i16, request: &MetadataRequest) -> Vec<MetadataResponseTopic> {
    let Some(topics) = &request.topics else {
        return Vec::new();
    };
    // Before v12 topics are addressed by name only (Kafka refuses ids there).
    let by_id_unsupported = version < 12
        && topics
            .iter()
            .any(|t| t.name.is_none() || !t.topic_id.is_nil());
    topics
        .iter()
        .map(|topic| {
            let error = if by_id_unsupported {
                ResponseError::InvalidRequest
            } else if topic.name.is_none() {
                ResponseError::UnknownTopicId
            } else {
                ResponseError::UnknownTopicOrPartition
            };
            let name = match (&topic.name, version >= 12) {
                (Some(name), _) => Some(name.clone()),
                (None, true) => None,
                // Non-nullable in the response before v12.
                (None, false) => Some(TopicName(StrBytes::default())),
            };
            let mut entry = MetadataResponseTopic::default()
                .with_error_code(error.code())
                .with_name(name);
            if version >= 10 {
                entry.topic_id = topic.topic_id;
            }
            entry
        })
        .collect()
}
